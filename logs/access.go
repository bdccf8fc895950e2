package logs

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// AccessRecord is what the access log says of one answered request.
type AccessRecord struct {
	// End is when the answer was written: the record's time.
	End           time.Time
	Method, Route string
	Status, Bytes int
	Duration      time.Duration
}

// AccessMessage is the access log's record message.
const AccessMessage = "http request"

// Access writes the access log: one AccessMessage record per answered request, with the method,
// route, status, bytes and duration_us attributes and, as every record of a request, its request
// ID (and trace and span IDs when traced).
//
// A server writes such a record for every request, far more often than anything else it logs, and
// through slog it cost more than the rest of answering a cached request: the record's attributes
// spill to the heap, and the JSON handler walks them generically. When the logger is one New made
// for JSON to a Buffered (how serve logs), the line is appended to the buffer directly instead:
// byte for byte what slog's JSON handler writes for the same record (access_test.go holds them
// equal). Any other logger, and any value the direct line would have to escape, goes through the
// logger's handler.
type Access struct {
	h   slog.Handler
	out *Buffered // set: lines are appended to it directly
}

// NewAccess returns the access log writing to l.
func NewAccess(l *slog.Logger) *Access {
	a := &Access{h: l.Handler()}
	if ch, ok := a.h.(*contextHandler); ok {
		a.out = ch.jsonOut
	}
	return a
}

// Log writes r's record, with the IDs ctx carries, when l logs at info level.
func (a *Access) Log(ctx context.Context, r AccessRecord) {
	if !a.h.Enabled(ctx, slog.LevelInfo) {
		return
	}
	if a.out != nil {
		id := RequestID(ctx)
		sc := trace.SpanContextFromContext(ctx)
		if y := r.End.Year(); y >= 0 && y < 10000 && plain(r.Method) && plain(r.Route) && plain(id) {
			a.out.appendLine(func(b []byte) []byte { return appendAccessJSON(b, r, id, sc) })
			return
		}
	}
	// What slog's LogAttrs would do, without the caller's source (runtime.Callers: no Portside
	// handler writes it) and another reading of the clock.
	rec := slog.NewRecord(r.End, slog.LevelInfo, AccessMessage, 0)
	rec.AddAttrs(
		slog.String("method", r.Method),
		slog.String("route", r.Route),
		slog.Int("status", r.Status),
		slog.Int("bytes", r.Bytes),
		// Microseconds as an integer: slog writes a float through encoding/json, which cost more
		// than the rest of the line.
		slog.Int64("duration_us", r.Duration.Microseconds()),
	)
	_ = a.h.Handle(ctx, rec)
}

// maxPlain bounds a value written without escaping; a longer one (a client's made-up method) takes
// slog's path, so that a line stays well under what appendLine reserves.
const maxPlain = 96

// plain says whether s is written in JSON as it is: printable ASCII without quote or backslash
// (every route, method and valid request ID), and short.
func plain(s string) bool {
	if len(s) > maxPlain {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// maxAccessLine bounds appendAccessJSON's line: the fixed text, three plain values, four numbers,
// a trace and a span ID.
const maxAccessLine = 512

// appendAccessJSON appends r's line as slog's JSON handler writes it: time, level and message,
// the record's attributes in order, then the context's IDs as contextHandler adds them.
func appendAccessJSON(b []byte, r AccessRecord, id string, sc trace.SpanContext) []byte {
	b = append(b, `{"time":"`...)
	b = r.End.Round(0).AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":"INFO","msg":"`+AccessMessage+`","method":"`...)
	b = append(b, r.Method...)
	b = append(b, `","route":"`...)
	b = append(b, r.Route...)
	b = append(b, `","status":`...)
	b = strconv.AppendInt(b, int64(r.Status), 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, int64(r.Bytes), 10)
	b = append(b, `,"duration_us":`...)
	b = strconv.AppendInt(b, r.Duration.Microseconds(), 10)
	if id != "" {
		b = append(b, `,"`+RequestIDKey+`":"`...)
		b = append(b, id...)
		b = append(b, '"')
	}
	if sc.IsValid() {
		tid, sid := sc.TraceID(), sc.SpanID()
		b = append(b, `,"`+TraceIDKey+`":"`...)
		b = appendHex(b, tid[:])
		b = append(b, `","`+SpanIDKey+`":"`...)
		b = appendHex(b, sid[:])
		b = append(b, '"')
	}
	return append(b, "}\n"...)
}

func appendHex(b, src []byte) []byte {
	const digits = "0123456789abcdef"
	for _, c := range src {
		b = append(b, digits[c>>4], digits[c&0xf])
	}
	return b
}

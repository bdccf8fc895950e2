package logs

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// accessCases are records and contexts the access log meets: plain ones, and values the direct
// line must not write as they are.
func accessCases() []struct {
	name string
	ctx  context.Context
	rec  AccessRecord
} {
	end := time.Date(2026, 12, 4, 21, 29, 29, 123456789, time.UTC)
	traced := trace.ContextWithSpanContext(WithRequestID(context.Background(), "req-2"), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
		SpanID:  trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
	}))
	withID := WithRequestID(context.Background(), "OG7VPJXRW5XQRM53SLL7YANVCK")
	return []struct {
		name string
		ctx  context.Context
		rec  AccessRecord
	}{
		{"a cached answer", withID, AccessRecord{End: end, Method: "POST", Route: "/graphql", Status: 200, Bytes: 1987, Duration: 412 * time.Microsecond}},
		{"no request ID", context.Background(), AccessRecord{End: end, Method: "GET", Route: "/", Status: 302, Bytes: 0, Duration: 3 * time.Millisecond}},
		{"nothing written, no route", withID, AccessRecord{End: end, Method: "GET", Route: "", Status: 404, Bytes: -1}},
		{"traced", traced, AccessRecord{End: end, Method: "POST", Route: "/graphql", Status: 500, Bytes: 77, Duration: 2 * time.Second}},
		{"another time zone, whole second", withID, AccessRecord{End: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", -5*3600)), Method: "PUT", Route: "/api/x/:id", Status: 201, Bytes: 12}},
		{"monotonic clock reading", withID, AccessRecord{End: time.Now(), Method: "POST", Route: "/graphql", Status: 200, Bytes: 1, Duration: time.Nanosecond}},
		{"a method with a quote", withID, AccessRecord{End: end, Method: `GE"T`, Route: "/", Status: 400}},
		{"a method with a backslash and a control byte", withID, AccessRecord{End: end, Method: "G\\E\tT", Route: "/", Status: 400}},
		{"a method beyond ASCII", withID, AccessRecord{End: end, Method: "GÉT\u2028", Route: "/", Status: 400}},
		{"a very long method", withID, AccessRecord{End: end, Method: strings.Repeat("X", 4000), Route: "/", Status: 501}},
		{"a year slog refuses", withID, AccessRecord{End: time.Date(10001, 1, 1, 0, 0, 0, 0, time.UTC), Method: "GET", Route: "/", Status: 200}},
	}
}

func TestTheAccessLineIsWhatSlogsJSONHandlerWritesForTheSameRecord(t *testing.T) {
	for _, c := range accessCases() {
		t.Run(c.name, func(t *testing.T) {
			var direct bytes.Buffer
			out := NewBuffered(&direct, time.Hour)
			l, err := New(out, "json", "info")
			if err != nil {
				t.Fatal(err)
			}
			NewAccess(l).Log(c.ctx, c.rec)
			if err := out.Close(); err != nil {
				t.Fatal(err)
			}
			// The same logger over a writer that is not a Buffered: every record through slog.
			var viaSlog bytes.Buffer
			ls, err := New(&viaSlog, "json", "info")
			if err != nil {
				t.Fatal(err)
			}
			a := NewAccess(ls)
			if a.out != nil {
				t.Fatal("a logger over a plain writer takes the direct path")
			}
			a.Log(c.ctx, c.rec)
			if direct.String() != viaSlog.String() {
				t.Errorf("direct line:\n%s\nslog's:\n%s", direct.String(), viaSlog.String())
			}
			if !strings.Contains(direct.String(), `"msg":"http request"`) {
				t.Errorf("no access message in %s", direct.String())
			}
		})
	}
}

func TestTheAccessLineIsAppendedInPlaceWithoutAllocating(t *testing.T) {
	var sink bytes.Buffer
	out := NewBuffered(&sink, time.Hour)
	defer out.Close()
	l, err := New(out, "json", "info")
	if err != nil {
		t.Fatal(err)
	}
	a := NewAccess(l)
	if a.out == nil {
		t.Fatal("a JSON logger over a Buffered does not take the direct path")
	}
	c := accessCases()[0]
	if n := testing.AllocsPerRun(1000, func() { a.Log(c.ctx, c.rec) }); n != 0 {
		t.Errorf("an access line allocates %v times, want 0", n)
	}
}

func TestTheAccessLogFollowsTheLoggersLevelFormatAndAttributes(t *testing.T) {
	c := accessCases()[0]
	var buf bytes.Buffer
	quiet, err := New(NewBuffered(&buf, time.Hour), "json", "warn")
	if err != nil {
		t.Fatal(err)
	}
	NewAccess(quiet).Log(c.ctx, c.rec)
	if buf.Len() != 0 {
		t.Errorf("at level warn the access log wrote %q", buf.String())
	}

	var text bytes.Buffer
	tl, err := New(&text, "text", "info")
	if err != nil {
		t.Fatal(err)
	}
	NewAccess(tl).Log(c.ctx, c.rec)
	if want := `msg="http request" method=POST route=/graphql status=200 bytes=1987 duration_us=412 request_id=OG7VPJXRW5XQRM53SLL7YANVCK`; !strings.Contains(text.String(), want) {
		t.Errorf("text line %q lacks %q", text.String(), want)
	}

	// A logger with attributes of its own writes them on every line: not the direct path.
	var withAttrs bytes.Buffer
	out := NewBuffered(&withAttrs, time.Hour)
	base, err := New(out, "json", "info")
	if err != nil {
		t.Fatal(err)
	}
	NewAccess(base.With("replica", "r1")).Log(c.ctx, c.rec)
	_ = out.Close()
	if lines := decode(t, &withAttrs); len(lines) != 1 || lines[0]["replica"] != "r1" || lines[0]["status"] != float64(200) ||
		lines[0][RequestIDKey] != "OG7VPJXRW5XQRM53SLL7YANVCK" {
		t.Errorf("lines of a logger with attributes: %v", lines)
	}
}

func TestALongRunOfAccessLinesIsWrittenWholeAcrossBufferFlushes(t *testing.T) {
	var sink bytes.Buffer
	out := NewBuffered(&sink, time.Hour)
	l, err := New(out, "json", "info")
	if err != nil {
		t.Fatal(err)
	}
	a := NewAccess(l)
	c := accessCases()[3] // traced: the longest plain line
	const n = 2000        // several times BufferedMax
	for range n {
		a.Log(c.ctx, c.rec)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	if sink.Len() < 2*BufferedMax {
		t.Fatalf("wrote %d bytes, want more than two buffers' worth", sink.Len())
	}
	if lines := decode(t, &sink); len(lines) != n {
		t.Errorf("decoded %d lines, want %d", len(lines), n)
	}
}

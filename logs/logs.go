// Package logs sets up Portside's log/slog logger and carries the request ID in the context, so
// that every record logged while serving a request can be tied to it (and to the "internal error"
// a caller was shown), and to the request's trace when it is traced.
package logs

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"go.opentelemetry.io/otel/trace"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/ctxval"
)

// The attributes under which records carry the request ID, and the trace and span IDs of a
// traced request.
const (
	RequestIDKey = "request_id"
	TraceIDKey   = "trace_id"
	SpanIDKey    = "span_id"
)

// New returns a logger writing to w in the given format ("json" or "text") at the given lowest
// level ("debug", "info", "warn" or "error"). Records logged with a context that carries a request
// ID (see WithRequestID) get a request_id attribute. When w is a *Buffered, records at warn level
// and above are written out at once, with everything logged before them. Errors name the setting
// at fault.
func New(w io.Writer, format, level string) (*slog.Logger, error) {
	// slog spells the levels itself; Portside accepts only their lower-case names (not INFO or
	// warn+2), the values the log-level setting documents.
	var lvl slog.Level
	if !slices.Contains(levels, level) || lvl.UnmarshalText([]byte(level)) != nil {
		return nil, &errs.Error{Code: errs.Invalid, Field: "log-level", Message: fmt.Sprintf(
			"invalid log-level %q: accepted values are %s", level, strings.Join(levels, ", "))}
	}
	opts := &slog.HandlerOptions{Level: lvl}
	var h slog.Handler
	switch format {
	case "json":
		h = slog.NewJSONHandler(w, opts)
	case "text":
		h = slog.NewTextHandler(w, opts)
	default:
		return nil, &errs.Error{Code: errs.Invalid, Field: "log-format",
			Message: fmt.Sprintf("invalid log-format %q: accepted values are json, text", format)}
	}
	ch := &contextHandler{root: h, inner: h}
	if b, ok := w.(*Buffered); ok {
		ch.root, ch.inner = flushAtWarn{h, b}, flushAtWarn{h, b}
		if format == "json" {
			ch.jsonOut = b // Access appends its lines to b itself
		}
	}
	return slog.New(ch), nil
}

// levels are the values of the log-level setting, lowest first.
var levels = []string{"debug", "info", "warn", "error"}

// NewHandler wraps h so that records logged with a context carrying a request ID get a top-level
// request_id attribute, and records logged inside a span get trace_id and span_id, even from
// loggers made with WithGroup.
func NewHandler(h slog.Handler) slog.Handler {
	return &contextHandler{root: h, inner: h}
}

// contextHandler adds the context's request ID, trace ID and span ID to each record.
type contextHandler struct {
	// root is the wrapped handler with the attributes added before any group was opened; inner is
	// root with every later WithAttrs/WithGroup applied, in order, as recorded in since.
	root, inner slog.Handler
	since       []func(slog.Handler) slog.Handler
	// jsonOut is set on the handler New makes for JSON to a Buffered (and on no handler derived
	// from it: those add attributes or groups): Access writes its lines to it directly.
	jsonOut *Buffered
}

func (h *contextHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h *contextHandler) Handle(ctx context.Context, r slog.Record) error {
	// An array, not a slice: a log line of a request allocates nothing more for its IDs.
	attrs, n := contextAttrs(ctx)
	if n == 0 {
		return h.inner.Handle(ctx, r)
	}
	if len(h.since) == 0 {
		r = r.Clone() // the caller may share r's attribute storage with other copies
		r.AddAttrs(attrs[:n]...)
		return h.inner.Handle(ctx, r)
	}
	// Inside a group, a record attribute would land in the group; put the IDs at the top level by
	// adding them before the groups are opened. Groups are rare, so the rebuild is too.
	inner := h.root.WithAttrs(slices.Clone(attrs[:n]))
	for _, op := range h.since {
		inner = op(inner)
	}
	return inner.Handle(ctx, r)
}

// contextAttrs are the attributes ctx gives a record (the first n of the array): its request ID,
// and the trace and span IDs of the span it carries (a traced request's, see package tracing), so
// that a line can be found from its trace and a trace from its lines.
func contextAttrs(ctx context.Context) (attrs [3]slog.Attr, n int) {
	if ctx == nil {
		return attrs, 0
	}
	if id := RequestID(ctx); id != "" {
		attrs[n] = slog.String(RequestIDKey, id)
		n++
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		attrs[n] = slog.String(TraceIDKey, sc.TraceID().String())
		attrs[n+1] = slog.String(SpanIDKey, sc.SpanID().String())
		n += 2
	}
	return attrs, n
}

func (h *contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	if len(h.since) == 0 {
		next := h.root.WithAttrs(attrs)
		return &contextHandler{root: next, inner: next}
	}
	op := func(x slog.Handler) slog.Handler { return x.WithAttrs(attrs) }
	return &contextHandler{root: h.root, inner: h.inner.WithAttrs(attrs), since: append(clip(h.since), op)}
}

func (h *contextHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	op := func(x slog.Handler) slog.Handler { return x.WithGroup(name) }
	return &contextHandler{root: h.root, inner: h.inner.WithGroup(name), since: append(clip(h.since), op)}
}

// clip drops spare capacity so that appends from two derived handlers never share storage.
func clip[T any](s []T) []T { return s[:len(s):len(s)] }

// requestIDKey is the context key of the request ID.
type requestIDKey struct{}

// WithRequestID returns a context carrying the given request ID (every request makes one: in one
// allocation, see ctxval).
func WithRequestID(ctx context.Context, id string) context.Context {
	return ctxval.With[requestIDKey](ctx, id)
}

// RequestID returns the request ID ctx carries, or "".
func RequestID(ctx context.Context) string {
	if ctx == nil {
		return ""
	}
	id, _ := ctxval.From[requestIDKey, string](ctx)
	return id
}

// NewRequestID returns a fresh random request ID: 26 URL-safe characters (128 bits of entropy).
func NewRequestID() string { return rand.Text() }

package logs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/portside-dev/portside/errs"
)

// decode parses the JSON lines a logger wrote.
func decode(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q is not JSON: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func TestRequestIDInJSON(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(&buf, "json", "info")
	if err != nil {
		t.Fatal(err)
	}
	ctx := WithRequestID(context.Background(), "req-123")
	log.InfoContext(ctx, "served", "status", 200)
	log.InfoContext(context.Background(), "no request")
	log.Info("no context")

	recs := decode(t, &buf)
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3:\n%s", len(recs), buf.String())
	}
	if recs[0][RequestIDKey] != "req-123" || recs[0]["msg"] != "served" || recs[0]["status"] != float64(200) {
		t.Errorf("first record %v", recs[0])
	}
	for _, r := range recs[1:] {
		if _, has := r[RequestIDKey]; has {
			t.Errorf("record without a request ID got one: %v", r)
		}
	}
}

func TestRequestIDStaysTopLevelInGroups(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(&buf, "json", "debug")
	if err != nil {
		t.Fatal(err)
	}
	ctx := WithRequestID(context.Background(), "req-9")
	grouped := log.With("component", "catalog").WithGroup("refresh").With("location", "git")
	grouped.DebugContext(ctx, "done", "added", 3)
	grouped.DebugContext(context.Background(), "done", "added", 4)

	recs := decode(t, &buf)
	if len(recs) != 2 {
		t.Fatalf("%d records:\n%s", len(recs), buf.String())
	}
	r := recs[0]
	if r[RequestIDKey] != "req-9" || r["component"] != "catalog" {
		t.Errorf("record %v: want top-level request_id and component", r)
	}
	g, _ := r["refresh"].(map[string]any)
	if g["location"] != "git" || g["added"] != float64(3) {
		t.Errorf("group refresh = %v", r["refresh"])
	}
	if _, has := g[RequestIDKey]; has {
		t.Errorf("request_id landed in the group: %v", g)
	}
	if g, _ := recs[1]["refresh"].(map[string]any); g["added"] != float64(4) || recs[1][RequestIDKey] != nil {
		t.Errorf("second record %v", recs[1])
	}
}

func TestTextFormat(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(&buf, "text", "warn")
	if err != nil {
		t.Fatal(err)
	}
	ctx := WithRequestID(context.Background(), "abc")
	log.InfoContext(ctx, "below the level")
	log.WarnContext(ctx, "careful", "n", 1)
	out := buf.String()
	if strings.Contains(out, "below the level") {
		t.Errorf("info logged at warn level:\n%s", out)
	}
	for _, want := range []string{"level=WARN", "msg=careful", "n=1", "request_id=abc"} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
}

func TestBadSettings(t *testing.T) {
	tests := []struct {
		format, level string
		field, msg    string
	}{
		{"json", "loud", "log-level", `invalid log-level "loud": accepted values are debug, info, warn, error`},
		{"json", "", "log-level", "accepted values are debug, info, warn, error"},
		// slog reads these, but the setting documents only the four lower-case names.
		{"json", "INFO", "log-level", `invalid log-level "INFO": accepted values are debug, info, warn, error`},
		{"json", "warn+2", "log-level", `invalid log-level "warn+2": accepted values are debug, info, warn, error`},
		{"logfmt", "info", "log-format", `invalid log-format "logfmt": accepted values are json, text`},
	}
	for _, tt := range tests {
		_, err := New(&bytes.Buffer{}, tt.format, tt.level)
		var e *errs.Error
		if !errors.As(err, &e) || e.Code != errs.Invalid || e.Field != tt.field || !strings.Contains(e.Error(), tt.msg) {
			t.Errorf("New(%q, %q) = %v; want INVALID on %s with %q", tt.format, tt.level, err, tt.field, tt.msg)
		}
	}
}

// TestLevels checks that each log-level value sets the lowest level logged: enabled at its own
// level, disabled just below it.
func TestLevels(t *testing.T) {
	for name, want := range map[string]slog.Level{"debug": slog.LevelDebug, "info": slog.LevelInfo, "warn": slog.LevelWarn, "error": slog.LevelError} {
		log, err := New(io.Discard, "json", name)
		if err != nil {
			t.Fatalf("New(%q): %v", name, err)
		}
		if ctx := context.Background(); !log.Enabled(ctx, want) || log.Enabled(ctx, want-1) {
			t.Errorf("log-level %s: enabled at %v: %v, at %v: %v, want true, false", name, want, log.Enabled(ctx, want), want-1, log.Enabled(ctx, want-1))
		}
	}
}

func TestRequestIDContext(t *testing.T) {
	if got := RequestID(context.Background()); got != "" {
		t.Errorf("empty context gave %q", got)
	}
	ctx := WithRequestID(context.Background(), "x")
	if got := RequestID(ctx); got != "x" {
		t.Errorf("RequestID = %q", got)
	}
	// A string key of the same spelling must not collide with ours.
	type other string
	ctx = context.WithValue(context.Background(), other("requestIDKey"), "y")
	if got := RequestID(ctx); got != "" {
		t.Errorf("foreign key leaked: %q", got)
	}
}

func TestNewRequestID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := NewRequestID()
		if len(id) < 16 {
			t.Fatalf("id %q is shorter than 16", id)
		}
		if url.PathEscape(id) != id || url.QueryEscape(id) != id {
			t.Fatalf("id %q is not URL-safe", id)
		}
		if seen[id] {
			t.Fatalf("id %q repeated", id)
		}
		seen[id] = true
	}
}

func TestALineInsideASpanCarriesItsTraceAndSpanIDsAtTheTopLevel(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(&buf, "json", "debug")
	if err != nil {
		t.Fatal(err)
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{0x4b, 0xf9}, SpanID: trace.SpanID{0x00, 0xf0},
		TraceFlags: trace.FlagsSampled})
	ctx := trace.ContextWithSpanContext(WithRequestID(context.Background(), "req-7"), sc)
	log.InfoContext(ctx, "plain")
	log.WithGroup("refresh").InfoContext(ctx, "grouped", "added", 1)
	log.InfoContext(trace.ContextWithSpanContext(context.Background(), sc), "no request ID")
	log.InfoContext(context.Background(), "outside")

	recs := decode(t, &buf)
	if len(recs) != 4 {
		t.Fatalf("%d records:\n%s", len(recs), buf.String())
	}
	for _, r := range recs[:3] {
		if r[TraceIDKey] != sc.TraceID().String() || r[SpanIDKey] != sc.SpanID().String() {
			t.Errorf("record %v: want top-level trace_id %s and span_id %s", r, sc.TraceID(), sc.SpanID())
		}
	}
	if recs[0][RequestIDKey] != "req-7" || recs[1][RequestIDKey] != "req-7" {
		t.Errorf("the request ID was lost beside the trace: %v", recs[:2])
	}
	if _, has := recs[3][TraceIDKey]; has {
		t.Errorf("a line outside any span carries a trace ID: %v", recs[3])
	}
}

package tracing_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	collector "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/portside-dev/portside/tracing"
)

// receiver is an OTLP/HTTP trace receiver in the test process: it decodes each export request as
// a collector would.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*collector.ExportTraceServiceRequest
	paths    []string
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil || req.Header.Get("Content-Type") != "application/x-protobuf" {
			http.Error(w, "want application/x-protobuf", http.StatusBadRequest)
			return
		}
		var export collector.ExportTraceServiceRequest
		if err := proto.Unmarshal(body, &export); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.mu.Lock()
		r.requests = append(r.requests, &export)
		r.paths = append(r.paths, req.URL.Path)
		r.mu.Unlock()
		resp, _ := proto.Marshal(&collector.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(resp)
	}))
	t.Cleanup(r.Close)
	return r
}

// receivedSpan is a span as the receiver got it, with its resource's service.name.
type receivedSpan struct {
	Name, Service             string
	TraceID, SpanID, ParentID string
	Attributes                map[string]string
}

func (r *receiver) spans() []receivedSpan {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []receivedSpan
	for _, req := range r.requests {
		for _, rs := range req.ResourceSpans {
			var service string
			for _, kv := range rs.Resource.GetAttributes() {
				if kv.Key == "service.name" {
					service = kv.Value.GetStringValue()
				}
			}
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					attrs := map[string]string{}
					for _, kv := range s.Attributes {
						attrs[kv.Key] = kv.Value.GetStringValue()
					}
					rs := receivedSpan{Name: s.Name, Service: service, Attributes: attrs,
						TraceID: trace.TraceID(s.TraceId).String(), SpanID: trace.SpanID(s.SpanId).String()}
					if len(s.ParentSpanId) == 8 { // a root span has none
						rs.ParentID = trace.SpanID(s.ParentSpanId).String()
					}
					out = append(out, rs)
				}
			}
		}
	}
	return out
}

func TestTheOTLPExporterSendsSpansToTheCollectorAndShutdownFlushesThem(t *testing.T) {
	r := newReceiver(t)
	tr, err := tracing.New(tracing.Options{Endpoint: r.URL, SampleRatio: 1, ServiceName: "portside-test", ServiceVersion: "v9"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, parent := tr.Provider().Tracer("test").Start(context.Background(), "parent")
	_, child := tr.Provider().Tracer("test").Start(ctx, "child")
	child.End()
	parent.End()
	// The batcher holds them; Shutdown sends them before it returns.
	sctx, cancel := context.WithTimeout(context.Background(), tracing.DefaultShutdownTimeout)
	defer cancel()
	if err := tr.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	spans := r.spans()
	if len(spans) != 2 {
		t.Fatalf("the collector got %d spans, want 2: %+v", len(spans), spans)
	}
	byName := map[string]receivedSpan{}
	for _, s := range spans {
		byName[s.Name] = s
		if s.Service != "portside-test" {
			t.Errorf("span %s: service.name %q, want portside-test", s.Name, s.Service)
		}
	}
	if p, c := byName["parent"], byName["child"]; c.TraceID != p.TraceID || c.ParentID != p.SpanID {
		t.Errorf("child %+v is not under parent %+v", c, p)
	}
	if r.paths[0] != "/v1/traces" {
		t.Errorf("spans were posted to %s; a base URL gets OTLP's /v1/traces", r.paths[0])
	}
}

func TestTheEndpointIsABaseURLOrTheTracesURLItself(t *testing.T) {
	for in, want := range map[string]string{
		"http://collector:4318":              "http://collector:4318/v1/traces",
		"http://collector:4318/":             "http://collector:4318/v1/traces",
		"https://otlp.example.com/custom/v1": "https://otlp.example.com/custom/v1",
	} {
		got, err := tracing.EndpointURL(in)
		if err != nil || got != want {
			t.Errorf("EndpointURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"collector:4318", "ftp://collector", "http://collector:4318?x=1"} {
		if _, err := tracing.EndpointURL(bad); err == nil || !strings.Contains(err.Error(), "tracing-endpoint") {
			t.Errorf("EndpointURL(%q) = %v; want an error naming tracing-endpoint", bad, err)
		}
	}
}

func TestOffThereIsNoExporterNoInstrumentationAndNoSpan(t *testing.T) {
	tr, err := tracing.New(tracing.Options{SampleRatio: 1})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Enabled() {
		t.Fatal("tracing is on without an endpoint")
	}
	if tr.Gin() != nil || tr.GraphQL() != nil || tr.Client(time.Second) != nil {
		t.Error("off, the instrumentation must not be installed at all")
	}
	if base := http.DefaultTransport; tr.Transport(base) != base {
		t.Error("off, outbound transports must stay as they are")
	}
	_, span := tr.Provider().Tracer("test").Start(context.Background(), "nothing")
	if span.IsRecording() || span.SpanContext().IsValid() {
		t.Error("off, spans must be the no-op provider's: not recorded, no trace ID")
	}
	span.End()
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	var nilTracing *tracing.Tracing // the commands other than serve have none
	if nilTracing.Enabled() || nilTracing.Gin() != nil {
		t.Error("a nil Tracing is off")
	}
}

func TestASampleRatioOfZeroRecordsNewTracesButNotCallersSampledOnes(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tr, err := tracing.New(tracing.Options{Exporter: exp, SampleRatio: 0})
	if err != nil {
		t.Fatal(err)
	}
	_, span := tr.Provider().Tracer("test").Start(context.Background(), "new trace")
	span.End()
	if len(exp.GetSpans()) != 0 {
		t.Errorf("ratio 0 recorded a new trace")
	}
	remote := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2},
		TraceFlags: trace.FlagsSampled, Remote: true})
	_, span = tr.Provider().Tracer("test").Start(trace.ContextWithRemoteSpanContext(context.Background(), remote), "caller's trace")
	span.End()
	if got := exp.GetSpans(); len(got) != 1 || got[0].Parent.SpanID() != remote.SpanID() {
		t.Errorf("a caller's sampled trace was not followed: %v", got)
	}
}

func TestCheckPostsAnEmptyExportAndSaysWhetherTheCollectorTookIt(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	r := newReceiver(t)
	detail, err := tracing.Check(ctx, r.URL)
	if err != nil {
		t.Fatalf("a working collector: %v", err)
	}
	if !strings.Contains(detail, r.URL+"/v1/traces") {
		t.Errorf("the detail names the URL posted to: %q", detail)
	}
	r.mu.Lock()
	got := len(r.requests)
	r.mu.Unlock()
	if got != 1 {
		t.Errorf("the collector received %d export requests, want 1", got)
	}

	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "missing credentials", http.StatusUnauthorized)
	}))
	defer refusing.Close()
	if _, err := tracing.Check(ctx, refusing.URL); err == nil || !strings.Contains(err.Error(), refusing.URL) || !strings.Contains(err.Error(), "401") {
		t.Errorf("a refusing collector: %v, want an error naming its URL and 401", err)
	}

	refusing.Close() // nothing listens there now
	if _, err := tracing.Check(ctx, refusing.URL); err == nil {
		t.Error("a collector that is not there was reported working")
	}
	if _, err := tracing.Check(ctx, "ftp://collector"); err == nil || !strings.Contains(err.Error(), "tracing-endpoint") {
		t.Errorf("a bad endpoint: %v, want an error naming the setting", err)
	}
}

package connector_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	collector "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/rollouts/connector"
	"github.com/portside-dev/portside/tracing"
)

// childTracing is what portside-argocd's main does with the parent's tracing settings.
func childTracing(ts connector.TraceSettings) (func(context.Context) error, error) {
	t, err := tracing.New(tracing.Options{Endpoint: ts.Endpoint, SampleRatio: ts.SampleRatio,
		ServiceName: ts.ServiceName, ServiceVersion: ts.ServiceVersion})
	if err != nil {
		return nil, err
	}
	t.SetGlobal()
	return t.Shutdown, nil
}

// otlpSpan is a span an OTLP receiver got, with its process's service.name.
type otlpSpan struct {
	name, service, traceID, parentID string
}

// otlpReceiver decodes the OTLP/HTTP export requests it is sent, as a collector would.
func otlpReceiver(t *testing.T) (*httptest.Server, func() []otlpSpan) {
	var mu sync.Mutex
	var spans []otlpSpan
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req collector.ExportTraceServiceRequest
		if err := proto.Unmarshal(body, &req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		for _, rs := range req.ResourceSpans {
			var service string
			for _, kv := range rs.Resource.GetAttributes() {
				if kv.Key == "service.name" {
					service = kv.Value.GetStringValue()
				}
			}
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					sp := otlpSpan{name: s.Name, service: service, traceID: trace.TraceID(s.TraceId).String()}
					if len(s.ParentSpanId) == 8 {
						sp.parentID = trace.SpanID(s.ParentSpanId).String()
					}
					spans = append(spans, sp)
				}
			}
		}
		mu.Unlock()
		out, _ := proto.Marshal(&collector.ExportTraceServiceResponse{})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []otlpSpan {
		mu.Lock()
		defer mu.Unlock()
		return append([]otlpSpan(nil), spans...)
	}
}

// A call to the companion carries its trace across the process boundary: the child, told the
// parent's tracing settings at start, records its span of the call in the caller's trace, under
// the caller's client span, and sends it to the collector itself.
func TestACallToTheCompanionContinuesTheCallersTraceInTheChild(t *testing.T) {
	collectorSrv, received := otlpReceiver(t)
	exp := tracetest.NewInMemoryExporter()
	parent, err := tracing.New(tracing.Options{Exporter: exp, SampleRatio: 1})
	if err != nil {
		t.Fatal(err)
	}
	prevProvider, prevPropagator := otel.GetTracerProvider(), otel.GetTextMapPropagator()
	parent.SetGlobal()
	t.Cleanup(func() { otel.SetTracerProvider(prevProvider); otel.SetTextMapPropagator(prevPropagator) })

	t.Setenv(childEnv, "1")
	p, err := connector.Start(context.Background(), connector.Options{Path: os.Args[0],
		Instances: []connector.Instance{{Name: "prod", Addr: "argocd:443", Token: "t"}},
		Tracing:   &connector.TraceSettings{Endpoint: collectorSrv.URL, SampleRatio: 1, ServiceName: "portside-argocd"}})
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			_ = p.Close()
		}
	})
	ctx, request := parent.Provider().Tracer("test").Start(context.Background(), "request")
	listed(t, p.Sources()[0]) // waits for the child to run (untraced)
	lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	_, err = p.Sources()[0].List(lctx)
	cancel()
	request.End()
	if err != nil {
		t.Fatal(err)
	}
	// Closing the child ends its Serve, which sends the spans it still holds.
	closed = true
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}

	var client tracetest.SpanStub
	for _, s := range exp.GetSpans() {
		if s.Name == "portside-argocd List" && s.Parent.SpanID() == request.SpanContext().SpanID() {
			client = s
		}
	}
	if client.Name == "" || client.SpanKind != trace.SpanKindClient {
		t.Fatalf("the parent recorded no client span of the call under the request: %v", exp.GetSpans().Snapshots())
	}
	var child otlpSpan
	testutil.Eventually(t, 10*time.Second, func() bool {
		for _, s := range received() {
			if s.name == "portside-argocd List" && s.parentID == client.SpanContext.SpanID().String() {
				child = s
				return true
			}
		}
		return false
	}, func() string {
		return fmt.Sprintf("the collector got %+v, want a span under %s", received(), client.SpanContext.SpanID())
	})
	if child.traceID != request.SpanContext().TraceID().String() || child.service != "portside-argocd" {
		t.Errorf("the child's span %+v is not in the request's trace %s as service portside-argocd", child, request.SpanContext().TraceID())
	}
}

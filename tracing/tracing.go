// Package tracing is Portside's OpenTelemetry tracing: the tracer provider with its OTLP exporter
// (off unless an endpoint is configured), and the instrumentation of the layers a request crosses —
// the HTTP server (gin), GraphQL operations and resolvers (gqlgen), database calls (gorm), and the
// outbound HTTP clients (Argo CD's companion is traced through rollouts/connector, which carries the
// trace context across the process boundary).
//
// Off, nothing here is installed: no middleware, no GraphQL extension, no gorm callback, no
// exporter, and the global tracer provider stays OpenTelemetry's no-op one, so tracing costs
// nothing when it is not wanted. Domain packages never import this package.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// scope is the instrumentation scope of every span Portside makes itself.
const scope = "github.com/portside-dev/portside"

// DefaultShutdownTimeout bounds how long Shutdown waits for the last spans to be sent.
const DefaultShutdownTimeout = 5 * time.Second

// Options configure tracing. With neither Endpoint nor Exporter, tracing is off.
type Options struct {
	// Endpoint is the OTLP/HTTP collector URL (the tracing-endpoint setting): a base URL such as
	// http://otel-collector:4318, to which /v1/traces is added, or the full URL of the traces path.
	// http:// sends in plaintext, https:// over TLS. Headers (a collector's credentials) come from
	// OTEL_EXPORTER_OTLP_HEADERS, which the exporter reads itself.
	Endpoint string
	// SampleRatio is the share of traces started here that are recorded, from 0 to 1; a request
	// that arrives inside a sampled trace (a traceparent header) is recorded as its caller decided.
	SampleRatio float64
	// ServiceName and ServiceVersion name this process in the traces.
	ServiceName, ServiceVersion string
	// Exporter, when set, receives the spans instead of an OTLP exporter (tests). Spans then go
	// out as each ends, not in batches.
	Exporter sdktrace.SpanExporter
	// Logger hears about spans that could not be exported; slog.Default() when nil.
	Logger *slog.Logger
}

// Tracing is the tracer provider of a process, or nothing at all when tracing is off.
type Tracing struct {
	sdk *sdktrace.TracerProvider // nil when off
}

// New builds the tracer provider Options describe; with tracing off it returns an off Tracing
// and no error. Errors name the setting at fault.
func New(opts Options) (*Tracing, error) {
	if opts.Endpoint == "" && opts.Exporter == nil {
		return &Tracing{}, nil
	}
	if opts.SampleRatio < 0 || opts.SampleRatio > 1 {
		return nil, fmt.Errorf("tracing-sample-ratio: %v is not from 0 to 1", opts.SampleRatio)
	}
	if opts.ServiceName == "" {
		opts.ServiceName = "portside"
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		semconv.ServiceName(opts.ServiceName), semconv.ServiceVersion(opts.ServiceVersion)))
	if err != nil {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	sampler := sdktrace.ParentBased(sdktrace.TraceIDRatioBased(opts.SampleRatio))
	var export sdktrace.TracerProviderOption
	if opts.Exporter != nil {
		export = sdktrace.WithSyncer(opts.Exporter)
	} else {
		target, err := EndpointURL(opts.Endpoint)
		if err != nil {
			return nil, err
		}
		// New does not connect: a collector that is down only loses spans (and says so, below).
		exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(target))
		if err != nil {
			return nil, fmt.Errorf("tracing-endpoint: %w", err)
		}
		// Batches bound the memory (2048 spans queued at most; beyond, spans are dropped) and the
		// exporter's requests (one per 512 spans or 5 s).
		export = sdktrace.WithBatcher(exp)
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Warn("tracing: spans could not be exported", "error", err)
	}))
	return &Tracing{sdk: sdktrace.NewTracerProvider(export, sdktrace.WithSampler(sampler), sdktrace.WithResource(res))}, nil
}

// EndpointURL is the URL spans are posted to for a tracing-endpoint value: the value itself when
// it names a path, else the value with OTLP's /v1/traces. The error names the setting.
func EndpointURL(endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", errors.New("tracing-endpoint: accepted values are empty (off) or the http:// or https:// URL of an OTLP/HTTP collector, like http://otel-collector:4318")
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/v1/traces"
	}
	return u.String(), nil
}

// Enabled says whether spans are recorded and exported.
func (t *Tracing) Enabled() bool { return t != nil && t.sdk != nil }

// Provider is the tracer provider: the SDK's when on, OpenTelemetry's no-op one when off.
func (t *Tracing) Provider() trace.TracerProvider {
	if !t.Enabled() {
		return noop.NewTracerProvider()
	}
	return t.sdk
}

// Propagator carries trace context in W3C traceparent/tracestate headers (and baggage).
var Propagator propagation.TextMapPropagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// SetGlobal makes this the process's global tracer provider and propagator, which libraries
// (Argo CD's gRPC client in the companion, rollouts/connector) use. Off, it does nothing: the
// global provider stays the no-op one.
func (t *Tracing) SetGlobal() {
	if !t.Enabled() {
		return
	}
	otel.SetTracerProvider(t.sdk)
	otel.SetTextMapPropagator(Propagator)
}

// Shutdown sends the spans still queued and stops the exporter, waiting at most until ctx ends
// (callers bound it, see DefaultShutdownTimeout). Off, it does nothing.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if !t.Enabled() {
		return nil
	}
	if err := t.sdk.Shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: flushing the last spans: %w", err)
	}
	return nil
}

// tracer is Portside's own tracer of t.
func (t *Tracing) tracer() trace.Tracer { return t.sdk.Tracer(scope) }

package tracing

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/portside-dev/portside/logs"
)

// RequestIDKey is the span attribute that ties a request's span to its log lines and to the
// X-Request-ID it was answered with.
const RequestIDKey = attribute.Key("portside.request_id")

// untraced are the routes that get no span: probes and scrapes, which would drown the traces as
// they would the access log.
var untraced = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// Gin is the HTTP server's middleware: a server span per request, named by method and route (not
// the path: paths hold IDs), in the trace of the caller's traceparent header when there is one.
// It goes after the request ID middleware, whose ID it records, and before the access log, whose
// line then carries the trace ID. nil when tracing is off.
//
// Written here rather than taken from contrib's otelgin: otelgin's last release (v0.65.0) is built
// against otel v1.40.0 and contrib no longer releases it beside otel v1.47.0; what Portside needs
// of it is these few lines over otel's own API.
func (t *Tracing) Gin() gin.HandlerFunc {
	if !t.Enabled() {
		return nil
	}
	tracer := t.tracer()
	return func(c *gin.Context) {
		route := c.FullPath()
		if untraced[route] {
			c.Next()
			return
		}
		req := c.Request
		ctx := Propagator.Extract(req.Context(), propagation.HeaderCarrier(req.Header))
		name := req.Method
		if route != "" {
			name += " " + route
		}
		attrs := []attribute.KeyValue{
			semconv.HTTPRequestMethodKey.String(req.Method),
			semconv.URLPath(req.URL.Path),
			semconv.ClientAddress(c.ClientIP()),
			semconv.UserAgentOriginal(req.UserAgent()),
		}
		if route != "" {
			attrs = append(attrs, semconv.HTTPRoute(route))
		}
		if id := logs.RequestID(ctx); id != "" {
			attrs = append(attrs, RequestIDKey.String(id))
		}
		ctx, span := tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
		defer span.End()
		c.Request = req.WithContext(ctx)
		c.Next()
		status := c.Writer.Status()
		span.SetAttributes(semconv.HTTPResponseStatusCode(status))
		if status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(status))
		}
	}
}

// Transport wraps an outbound HTTP transport (nil: http.DefaultTransport) so that each request
// gets a client span and carries the trace context to the server it calls (GitHub, GitLab,
// Slack). Off, it returns base unchanged.
func (t *Tracing) Transport(base http.RoundTripper) http.RoundTripper {
	if !t.Enabled() {
		return base
	}
	if base == nil {
		base = http.DefaultTransport
	}
	return otelhttp.NewTransport(base, otelhttp.WithTracerProvider(t.sdk), otelhttp.WithPropagators(Propagator))
}

// Client is an HTTP client with the given timeout whose requests are traced (see Transport); nil
// when tracing is off, so that callers keep their own default client.
func (t *Tracing) Client(timeout time.Duration) *http.Client {
	if !t.Enabled() {
		return nil
	}
	return &http.Client{Timeout: timeout, Transport: t.Transport(nil)}
}

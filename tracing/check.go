package tracing

import (
	"context"
	"strings"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"

	"github.com/portside-dev/portside/errs"
)

// Check posts an empty export to the collector the tracing-endpoint setting names, as the
// exporter would post spans (same URL, TLS and OTEL_EXPORTER_OTLP_HEADERS), and says whether it
// was accepted. serve never checks: a collector that is down only loses spans. `portside doctor`
// does, so a wrong URL or refused credentials are found before someone looks for a trace.
// Retries are off: the answer is the collector's first one, within ctx.
func Check(ctx context.Context, endpoint string) (string, error) {
	target, err := EndpointURL(endpoint)
	if err != nil {
		return "", errs.InvalidField("tracing-endpoint", "%s", strings.TrimPrefix(err.Error(), "tracing-endpoint: "))
	}
	client := otlptracehttp.NewClient(otlptracehttp.WithEndpointURL(target),
		otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}))
	if err := client.Start(ctx); err != nil {
		return "", errs.Wrap(errs.Unavailable, err, "the trace exporter for %s could not start: %v", target, err)
	}
	defer func() { _ = client.Stop(context.WithoutCancel(ctx)) }()
	if err := client.UploadTraces(ctx, nil); err != nil {
		// The exporter's error says what the collector answered (its status and body) or why
		// nothing answered; it holds no credential (headers are not in it).
		return "", errs.Wrap(errs.Unavailable, err, "the collector at %s did not accept an export: %v", target, err)
	}
	return "the collector at " + target + " accepts exports", nil
}

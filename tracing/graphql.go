package tracing

import (
	"context"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// MaxResolverSpans bounds the resolver spans of one operation. Resolvers run per object: a page
// of 50 entities with a few resolved fields each would make hundreds of spans, which cost more to
// record and send than the resolvers cost to run, and show nothing the first few do not. The
// first ones (the root fields first, as execution goes) get spans; the operation span counts the
// rest in graphql.resolver_spans_dropped.
const MaxResolverSpans = 64

// Attributes of the operation span beyond OpenTelemetry's GraphQL conventions.
const (
	resolverSpansKey = attribute.Key("graphql.resolver_spans")
	droppedSpansKey  = attribute.Key("graphql.resolver_spans_dropped")
	errorCountKey    = attribute.Key("graphql.errors")
)

// GraphQL is the gqlgen extension that traces operations and resolvers: a span per query or
// mutation, named by its type and name ("query ComponentPage"), and under it a span per resolver
// that is not a plain read of a struct field (fields gqlgen resolves with a resolver method: the
// ones that reach the services and the database), at most MaxResolverSpans per operation.
// Subscriptions are not traced: they last as long as their socket, and their events are not
// requests. Register it first, so that its span covers the other extensions (the response cache,
// the time and size budget). nil when tracing is off.
func (t *Tracing) GraphQL() graphql.HandlerExtension {
	if !t.Enabled() {
		return nil
	}
	return graphQL{tracer: t.tracer()}
}

type graphQL struct{ tracer trace.Tracer }

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
	graphql.FieldInterceptor
} = graphQL{}

func (graphQL) ExtensionName() string                   { return "Tracing" }
func (graphQL) Validate(graphql.ExecutableSchema) error { return nil }

// budgetKey is the context key of an operation's spanBudget.
type budgetKey struct{}

// spanBudget counts the resolver spans an operation made and the ones it did not.
type spanBudget struct{ used, dropped atomic.Int32 }

// InterceptResponse traces a query or a mutation: their one response is their whole execution.
func (g graphQL) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation == nil || oc.Operation.Operation == "subscription" {
		return next(ctx)
	}
	typ, name := string(oc.Operation.Operation), oc.OperationName
	if name == "" {
		name = oc.Operation.Name
	}
	spanName := typ
	attrs := []attribute.KeyValue{semconv.GraphQLOperationTypeKey.String(typ)}
	if name != "" {
		spanName += " " + name
		attrs = append(attrs, semconv.GraphQLOperationName(name))
	}
	b := &spanBudget{}
	ctx, span := g.tracer.Start(context.WithValue(ctx, budgetKey{}, b), spanName, trace.WithAttributes(attrs...))
	defer span.End()
	resp := next(ctx)
	span.SetAttributes(resolverSpansKey.Int(int(b.used.Load())), droppedSpansKey.Int(int(b.dropped.Load())))
	if resp != nil && len(resp.Errors) > 0 {
		span.SetAttributes(errorCountKey.Int(len(resp.Errors)))
		span.SetStatus(codes.Error, resp.Errors[0].Message)
	}
	return resp
}

// InterceptField traces the resolvers, within the operation's budget. Plain field reads pass
// straight through: they are nearly every field of an answer and cost nothing worth a span.
func (g graphQL) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !fc.IsResolver {
		return next(ctx)
	}
	b, _ := ctx.Value(budgetKey{}).(*spanBudget)
	if b == nil {
		return next(ctx) // a subscription's field, or one outside a traced operation
	}
	if b.used.Add(1) > MaxResolverSpans {
		b.used.Add(-1)
		b.dropped.Add(1)
		return next(ctx)
	}
	ctx, span := g.tracer.Start(ctx, fc.Object+"."+fc.Field.Name, trace.WithAttributes(
		attribute.String("graphql.field.path", fc.Path().String()),
	))
	defer span.End()
	res, err := next(ctx)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	return res, err
}

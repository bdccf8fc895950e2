package graph

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/sizedlru"
	"github.com/portside-dev/portside/logs"
)

// OperationObserver hears about every GraphQL operation, for metrics; package metrics implements it.
type OperationObserver interface {
	GraphQLOperation(name, opType string, ok bool, d time.Duration)
}

// HandlerOptions configure the GraphQL endpoint.
type HandlerOptions struct {
	// MaxDepth bounds how deeply selections nest.
	MaxDepth int
	// MaxComplexity bounds the estimated cost of an operation (lists count per requested item).
	MaxComplexity int
	// Logger records unavailable dependencies, internal errors and panics; slog.Default() when nil.
	Logger   *slog.Logger
	Observer OperationObserver
	// ResponseCacheSize bounds the answers kept for repeated queries (see responseCache); 0
	// disables that cache (the catalog's read cache may be on or off: its epoch is followed either
	// way). The answers kept also weigh at most responseCacheBytes together.
	ResponseCacheSize int
	// Timeout bounds how long one query or mutation may run (0: DefaultTimeout; negative: none).
	Timeout time.Duration
	// MaxResponseBytes bounds the data of one answer (0: DefaultMaxResponseBytes; negative: none).
	MaxResponseBytes int
	// MaxBodyBytes bounds a POST body (0: MaxBodyBytes).
	MaxBodyBytes int64
	// MaxConcurrentQueries bounds the queries that run at once; the others wait their turn
	// (queryGate). 0: four for each of GOMAXPROCS; negative: no bound.
	MaxConcurrentQueries int
	// Tracing, when set, traces operations and resolvers (package tracing's extension); it runs
	// outside every other extension but the socket's gate, so its spans cover them.
	Tracing graphql.HandlerExtension
}

// NewHandler serves the schema over HTTP (GET and POST, per the GraphQL-over-HTTP spec).
func NewHandler(r *Resolver, opts HandlerOptions) http.Handler {
	if opts.Logger == nil {
		// Errors are logged from request goroutines; a nil logger crashed the process there.
		opts.Logger = slog.Default()
	}
	cfg := Config{Resolvers: r}
	cfg.Directives.Guard = r.guard
	cfg.Directives.Cache = r.cacheDirective
	setComplexity(&cfg.Complexity)
	es := NewExecutableSchema(cfg)
	srv := handler.New(es)
	// Subscriptions: graphql-transport-ws (and the older graphql-ws) over a WebSocket on /graphql,
	// each socket following its credential and refusing mutations (websocket.go).
	srv.AddTransport(websocketTransport(r.Auth))
	srv.Use(socketGate{r.Auth}) // first: everything after it sees the principal of the moment
	if opts.Tracing != nil {
		srv.Use(opts.Tracing)
	}
	// gqlgen's GET and POST, writing the executor's bytes without encoding them again (transport.go).
	vars := &variableTypes{}
	srv.AddTransport(getTransport{vars})
	srv.AddTransport(postTransport{vars})
	// Both caches are bounded by bytes: bounded by count, distinct large documents filled them
	// with hundreds of megabytes that stayed.
	srv.SetQueryCache(documentCache{sizedlru.New[string, *ast.QueryDocument](queryCacheBytes, 0)})
	// Documents reach the parser through conformance's scan, except on the WebSocket; the
	// parser's own token limit holds there too.
	srv.SetParserTokenLimit(maxDocumentTokens)
	srv.Use(extension.Introspection{})
	srv.Use(persistedQueryGate{extension.AutomaticPersistedQuery{Cache: persistedQueries{sizedlru.New[string, string](apqCacheBytes, 0)}}})
	srv.Use(newDocumentGate(opts.MaxComplexity)) // after APQ, which may fill the query in
	srv.Use(vars)                                // before the complexity limit, which reads page sizes from the variables
	srv.Use(newComplexityLimit(opts.MaxComplexity))
	srv.Use(depthLimit{max: opts.MaxDepth})
	srv.Use(nulGate{})
	if opts.Observer != nil {
		srv.Use(observe{opts.Observer})
	}
	// What may be cached is read from the schema's @cache declarations, here, once.
	rules := newCacheRules(es.Schema())
	r.cacheRules.CompareAndSwap(nil, rules) // the rendered-entity cache's too
	var cache *responseCache
	if opts.ResponseCacheSize > 0 {
		var fresh stampCheckers
		if r.RolloutService != nil {
			fresh.rollouts = r.RolloutService.Fresh
		}
		if r.PipelineService != nil {
			fresh.runs = r.PipelineService.Fresh
		}
		cache = newResponseCache(opts.ResponseCacheSize, rules, r.Catalog.CacheEpoch, fresh, opts.Observer)
		// Before (around) the budget: the cache sees the answer the budget lets out, and keeps
		// nothing it refused (a late answer turned into TIMEOUT included).
		srv.Use(cache)
	}
	srv.Use(newBudget(opts.Timeout, opts.MaxResponseBytes))
	// Inside the budget, whose deadline bounds the wait for a turn too.
	queue, _ := opts.Observer.(QueueObserver)
	if gate := newQueryGate(opts.MaxConcurrentQueries, queue); gate != nil {
		srv.Use(gate)
	}
	srv.Use(taskAccessScope{r.TaskService}) // one batch of viewerCanEdit answers per operation
	srv.SetErrorPresenter(presentError(opts.Logger, es.Schema()))
	srv.SetRecoverFunc(func(ctx context.Context, p any) error {
		opts.Logger.ErrorContext(ctx, "panic in resolver", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return errs.E(errs.Internal, "panic: %v", p)
	})
	var h http.Handler = srv
	if cache != nil {
		h = cache.wrap(h)
	}
	return withSocketSlot(conformance(h, opts.MaxBodyBytes, cache))
}

func init() {
	// Operations refused for their size are request errors, like validation failures: 400 under
	// application/graphql-response+json (the spec), 200 under application/json (see conformance).
	errcode.RegisterErrorType("DEPTH_LIMIT_EXCEEDED", errcode.KindProtocol)
	errcode.RegisterErrorType("COMPLEXITY_LIMIT_EXCEEDED", errcode.KindProtocol)
	errcode.RegisterErrorType("DOCUMENT_TOO_LARGE", errcode.KindProtocol)
	errcode.RegisterErrorType("DOCUMENT_TOO_DEEP", errcode.KindProtocol)
	errcode.RegisterErrorType("NUL_CHARACTER", errcode.KindProtocol)
	errcode.RegisterErrorType("PERSISTED_QUERY_INVALID", errcode.KindProtocol)
	errcode.RegisterErrorType("SUBSCRIPTION_OVER_HTTP", errcode.KindProtocol)
}

// pageCost is what a connection's children count for: its page size.
func pageCost(first *int) int {
	if first == nil || *first < 1 {
		return 50
	}
	return *first
}

// presentError gives every error an extensions.code from Portside's code table. Internal errors
// show only a request ID; the full error is logged under that ID. An argument that gqlgen could
// not unmarshal is the request's mistake (see inputError).
func presentError(log *slog.Logger, schema *ast.Schema) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gerr := graphql.DefaultErrorPresenter(ctx, err)
		if gerr.Extensions == nil {
			gerr.Extensions = map[string]any{}
		}
		var coded *errs.Error
		switch {
		case errors.As(err, &coded) && coded.Code != errs.Internal:
			if coded.Code == errs.Unavailable {
				// The caller sees what is down; the operator needs the cause (the database's own words).
				log.WarnContext(ctx, "graphql: unavailable", "error", err, "path", gerr.Path.String())
			}
			gerr.Message = errs.PublicMessage(err)
			gerr.Extensions["code"] = string(coded.Code)
			if coded.Field != "" {
				gerr.Extensions["field"] = coded.Field
			}
		case gerr.Extensions["code"] != nil && !errors.As(err, &coded):
			// gqlgen's own request errors (parse, validation, complexity): INVALID, with its reason.
			gerr.Extensions["reason"] = gerr.Extensions["code"]
			gerr.Extensions["code"] = string(errs.Invalid)
		case coded == nil && inputError(ctx, gerr, schema):
			// An argument gqlgen could not unmarshal: made INVALID, naming the input.
		default:
			id := logs.RequestID(ctx)
			log.ErrorContext(ctx, "graphql: internal error", "error", err, "path", gerr.Path.String())
			gerr.Message = "internal error (request " + id + ")"
			gerr.Extensions = map[string]any{"code": string(errs.Internal), "requestId": id}
		}
		return gerr
	}
}

// inputError makes an error of gqlgen's unmarshalling of a field's arguments INVALID, naming the
// input at fault (extensions.field and the message: "orderBy.field: ..."), and says whether err
// was one. gqlgen puts such an error on the path of the input (entities.orderBy.field), under the
// field's own; its message has no code. gqlparser coerces variables less strictly than the
// generated code unmarshals them (an enum value in the wrong case passes its check: EqualFold),
// so a variable {"field":"name"} for an EntityOrder came this far and was answered INTERNAL.
// Every such error is the request's: unmarshalling reads nothing but the input. The error's path
// becomes the field's, which is a path of the response.
func inputError(ctx context.Context, gerr *gqlerror.Error, schema *ast.Schema) bool {
	var field ast.Path
	if fc := graphql.GetFieldContext(ctx); fc != nil {
		field = fc.Path()
	}
	if len(gerr.Path) <= len(field) {
		return false
	}
	for i := range field {
		if gerr.Path[i] != field[i] {
			return false
		}
	}
	in := gerr.Path[len(field):]
	if _, ok := in[0].(ast.PathName); !ok { // an argument's name comes first
		return false
	}
	name := in.String()
	msg := gerr.Message
	// gqlgen's generated enums say "<value> is not a valid <Enum>": name the values there are.
	if value, typ, ok := strings.Cut(msg, " is not a valid "); ok && schema != nil {
		if def := schema.Types[typ]; def != nil && def.Kind == ast.Enum {
			values := make([]string, len(def.EnumValues))
			for i, v := range def.EnumValues {
				values[i] = v.Name
			}
			msg = fmt.Sprintf("%q is not a valid %s; use one of %s (enum values are case sensitive)", value, typ, strings.Join(values, ", "))
		}
	}
	gerr.Message = name + ": " + msg
	gerr.Path = field
	gerr.Extensions["code"] = string(errs.Invalid)
	gerr.Extensions["field"] = name
	return true
}

// depthLimit refuses operations whose selections nest deeper than max, before any resolver runs.
type depthLimit struct{ max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = depthLimit{}

func (depthLimit) ExtensionName() string                   { return "DepthLimit" }
func (depthLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (d depthLimit) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if d.max <= 0 || oc.Operation == nil {
		return nil
	}
	if depth := selectionDepth(oc.Operation.SelectionSet, oc.Doc.Fragments, 0); depth > d.max {
		e := gqlerror.Errorf("operation is nested %d levels deep; the limit is %d", depth, d.max)
		e.Extensions = map[string]any{"code": "DEPTH_LIMIT_EXCEEDED"}
		return e
	}
	return nil
}

func selectionDepth(set ast.SelectionSet, frags ast.FragmentDefinitionList, seen int) int {
	if seen > 1000 { // fragment cycles are rejected by validation; this only guards the recursion
		return seen
	}
	deepest := 0
	for _, sel := range set {
		var d int
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" {
				continue // introspection nests deep by nature (GraphiQL's query is 13 levels) and costs nothing
			}
			if len(s.SelectionSet) == 0 {
				d = 1
			} else {
				d = 1 + selectionDepth(s.SelectionSet, frags, seen+1)
			}
		case *ast.InlineFragment:
			d = selectionDepth(s.SelectionSet, frags, seen+1)
		case *ast.FragmentSpread:
			if f := frags.ForName(s.Name); f != nil {
				d = selectionDepth(f.SelectionSet, frags, seen+1)
			}
		}
		deepest = max(deepest, d)
	}
	return deepest
}

// observe reports each operation's name, type, outcome and duration.
type observe struct{ o OperationObserver }

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = observe{}

func (observe) ExtensionName() string                   { return "Observe" }
func (observe) Validate(graphql.ExecutableSchema) error { return nil }

func (o observe) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	start := time.Now()
	resp := next(ctx)
	if !graphql.HasOperationContext(ctx) {
		return resp
	}
	name, typ := operationName(graphql.GetOperationContext(ctx))
	ok := resp == nil || len(resp.Errors) == 0
	o.o.GraphQLOperation(name, typ, ok, time.Since(start))
	return resp
}

// operationName is how metrics name an operation: its given name, else the document's, and its type.
func operationName(oc *graphql.OperationContext) (name, typ string) {
	name, typ = oc.OperationName, "query"
	if oc.Operation != nil {
		typ = string(oc.Operation.Operation)
		if name == "" {
			name = oc.Operation.Name
		}
	}
	return name, typ
}

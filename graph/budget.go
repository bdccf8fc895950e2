package graph

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/portside-dev/portside/errs"
)

// Defaults of the per-operation budget (settings graphql-timeout, graphql-max-response-bytes).
const (
	DefaultTimeout          = 10 * time.Second
	DefaultMaxResponseBytes = 16 << 20
)

// minFieldBytes is the least a field adds to a response ("a":1 with its comma): an operation that
// has resolved more than maxResponseBytes/minFieldBytes fields answers more than maxResponseBytes,
// so it is stopped there, before it has built the rest in memory.
const minFieldBytes = 5

// budget gives every query and mutation a time budget and a response-size cap. The complexity
// limit refuses what is known to be too big before anything runs; the budget stops what turns out
// to be (a list longer than its weight assumed, a slow database). An operation past either gets a
// single error instead of its data: UNAVAILABLE with reason TIMEOUT, or INVALID with reason
// RESPONSE_TOO_LARGE, each naming the setting. Subscriptions live long by design and have neither.
type budget struct {
	timeout  time.Duration
	maxBytes int
}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
	graphql.FieldInterceptor
} = budget{}

func newBudget(timeout time.Duration, maxBytes int) budget {
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	if maxBytes == 0 {
		maxBytes = DefaultMaxResponseBytes
	}
	return budget{timeout: timeout, maxBytes: maxBytes}
}

func (budget) ExtensionName() string                   { return "Budget" }
func (budget) Validate(graphql.ExecutableSchema) error { return nil }

// spending is one operation's budget as it runs.
type spending struct {
	fields    atomic.Int64
	maxFields int64
	// tooLarge is set before cancel when the operation resolved more fields than its answer may hold.
	tooLarge atomic.Bool
	cancel   context.CancelFunc
}

type spendingKey struct{}

var errTimedOut = errors.New("graphql: operation ran out of time")

// fieldsCounted, set only by tests, is told how many fields each operation's budget counted.
var fieldsCounted atomic.Pointer[func(int64)]

func (b budget) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	if op := graphql.GetOperationContext(ctx).Operation; op == nil || op.Operation == ast.Subscription {
		return next(ctx)
	}
	// One context for both ends of the budget: its deadline, and cancel when the answer is too
	// large (noted in spending, not as the cause: a second, cancel-with-cause context cost every
	// operation its allocation and its registration with the request's context).
	var cancel context.CancelFunc
	var deadline time.Time
	if b.timeout > 0 {
		deadline = time.Now().Add(b.timeout)
		ctx, cancel = context.WithDeadlineCause(ctx, deadline, errTimedOut)
	} else {
		ctx, cancel = context.WithCancel(ctx)
	}
	defer cancel()
	s := &spending{cancel: cancel}
	if b.maxBytes > 0 {
		s.maxFields = int64(b.maxBytes / minFieldBytes)
	}
	resp := next(context.WithValue(ctx, spendingKey{}, s))
	if f := fieldsCounted.Load(); f != nil {
		(*f)(s.fields.Load())
	}
	// Past the deadline is out of time even if the timer has not fired yet: the answer is late.
	switch {
	case errors.Is(context.Cause(ctx), errTimedOut), !deadline.IsZero() && !time.Now().Before(deadline):
		return b.refusal(fmt.Sprintf("the operation did not finish within %s (setting graphql-timeout): ask for less, or page through it", b.timeout),
			errs.Unavailable, "TIMEOUT")
	case s.tooLarge.Load(), resp != nil && b.maxBytes > 0 && len(resp.Data) > b.maxBytes:
		return b.refusal(fmt.Sprintf("the response would be larger than %d bytes (setting graphql-max-response-bytes): ask for fewer fields or smaller pages", b.maxBytes),
			errs.Invalid, "RESPONSE_TOO_LARGE")
	}
	return resp
}

func (budget) refusal(msg string, code errs.Code, reason string) *graphql.Response {
	return &graphql.Response{Errors: gqlerror.List{{
		Message:    msg,
		Extensions: map[string]any{"code": string(code), "reason": reason},
	}}}
}

// InterceptField counts the fields resolved and stops resolving once the operation is out of time
// or has resolved more fields than its answer may hold; what was resolved is dropped whole.
func (budget) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	s, ok := ctx.Value(spendingKey{}).(*spending)
	if !ok {
		return next(ctx)
	}
	if ctx.Err() != nil {
		return nil, errs.E(errs.Unavailable, "operation stopped")
	}
	if n := s.fields.Add(1); s.maxFields > 0 && n > s.maxFields {
		s.tooLarge.Store(true)
		s.cancel()
		return nil, errs.E(errs.Unavailable, "operation stopped")
	}
	return next(ctx)
}

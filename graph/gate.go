package graph

import (
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"golang.org/x/sync/semaphore"

	"github.com/portside-dev/portside/errs"
)

// QueueObserver hears how many GraphQL queries wait for their turn (HandlerOptions.
// MaxConcurrentQueries); package metrics implements it. An OperationObserver that is also a
// QueueObserver is told.
type QueueObserver interface {
	GraphQLQueriesWaiting(delta int)
}

// queriesPerCPU is how many queries run at once for each CPU the Go runtime uses when
// HandlerOptions.MaxConcurrentQueries is 0. A query spends about as long waiting for the database
// as running here, and the database answers on its own cores: four keep the CPUs busy without
// crowding them. Measured at a million entities with every cache off, server on one CPU, 16
// clients (bench/README.md): the whole catalog's facets at p99 31-48 ms unbounded, 19-32 ms with
// four; an owner's facets 22-31 ms against 11-14 ms, for about the same throughput.
const queriesPerCPU = 4

// queryGate lets at most a fixed number of queries run at once; the others wait for their turn,
// first come first served (semaphore.Weighted queues its waiters in order). Without it every
// client's query ran at once: with more of them than CPUs, the kernel's scheduler, the Go runtime
// and the database's backends shared the CPUs among them all, and the unluckiest query of a
// hundred took ten times the mean. The wait counts against the operation's budget (it runs
// inside it): a query that waits out graphql-timeout is answered UNAVAILABLE with reason TIMEOUT,
// one whose client went away stops waiting. Mutations (which wait on Argo CD, CI engines, git
// remotes) and subscriptions (which live for hours) do not take a turn; answers the response
// cache gives again never reach it.
//
// A turn lasts at most turnLease: a query still running then goes on without one, and the next
// query in line starts. Held to the end, a few slow queries (a text search counting 30,000
// matches with every cache off takes a second) would hold every quick one back for as long as
// they ran, where without turns the quick ones ran beside them.
type queryGate struct {
	turns   *semaphore.Weighted
	size    int
	lease   time.Duration
	waiting func(delta int)
}

// turnLease is how long a query keeps its turn. Catalog queries with every cache off at a million
// entities take 1-15 ms; one past 25 ms is slow for a reason of its own (a large count, a whole
// page of big documents), and the queries behind it should not wait for it.
const turnLease = 25 * time.Millisecond

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = (*queryGate)(nil)

// newQueryGate admits max queries at once: 0 is queriesPerCPU for each of GOMAXPROCS, a negative
// max admits every query (nil).
func newQueryGate(max int, o QueueObserver) *queryGate {
	if max < 0 {
		return nil
	}
	if max == 0 {
		max = queriesPerCPU * runtime.GOMAXPROCS(0)
	}
	g := &queryGate{turns: semaphore.NewWeighted(int64(max)), size: max, lease: turnLease, waiting: func(int) {}}
	if o != nil {
		g.waiting = o.GraphQLQueriesWaiting
	}
	return g
}

func (*queryGate) ExtensionName() string                   { return "QueryGate" }
func (*queryGate) Validate(graphql.ExecutableSchema) error { return nil }

func (g *queryGate) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	if op := graphql.GetOperationContext(ctx).Operation; op == nil || op.Operation != ast.Query {
		return next(ctx)
	}
	if !g.turns.TryAcquire(1) {
		g.waiting(1)
		err := g.turns.Acquire(ctx, 1)
		g.waiting(-1)
		if err != nil {
			// Out of time: the budget around this answers TIMEOUT. Otherwise the client left.
			return refuse(errs.E(errs.Unavailable,
				"the query was stopped while it waited for its turn: %d run at once (setting graphql-max-concurrent-queries)", g.size))(ctx)
		}
	}
	var once sync.Once
	release := func() { once.Do(func() { g.turns.Release(1) }) }
	lease := time.AfterFunc(g.lease, release)
	defer func() {
		lease.Stop()
		release()
	}()
	return next(ctx)
}

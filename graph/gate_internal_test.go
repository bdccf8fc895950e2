package graph

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// waitGauge is a QueueObserver: the queries waiting now, and the most that ever waited.
type waitGauge struct{ now, most atomic.Int64 }

func (g *waitGauge) GraphQLQueriesWaiting(delta int) {
	n := g.now.Add(int64(delta))
	for {
		m := g.most.Load()
		if n <= m || g.most.CompareAndSwap(m, n) {
			return
		}
	}
}

// until polls cond for up to ten seconds.
func until(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

func operation(ctx context.Context, op ast.Operation) context.Context {
	return graphql.WithOperationContext(ctx, &graphql.OperationContext{Operation: &ast.OperationDefinition{Operation: op}})
}

// heldGate is newQueryGate whose turns last as long as their queries run (no lease), so that
// a test can hold one.
func heldGate(max int, o QueueObserver) *queryGate {
	g := newQueryGate(max, o)
	g.lease = time.Hour
	return g
}

// holdTurn runs a query through g that keeps its turn until the returned func is called.
func holdTurn(t *testing.T, g *queryGate) (release func()) {
	t.Helper()
	running, done := make(chan struct{}), make(chan struct{})
	go g.InterceptResponse(operation(context.Background(), ast.Query), func(context.Context) *graphql.Response {
		close(running)
		<-done
		return &graphql.Response{}
	})
	<-running
	return func() { close(done) }
}

// startQuery sends a query through g; the channel is closed once it runs.
func startQuery(g *queryGate) <-chan struct{} {
	ran := make(chan struct{})
	go g.InterceptResponse(operation(context.Background(), ast.Query), func(context.Context) *graphql.Response {
		close(ran)
		return &graphql.Response{}
	})
	return ran
}

func TestQueriesTakeTheirTurnsInTheOrderTheyCame(t *testing.T) {
	var gauge waitGauge
	g := heldGate(1, &gauge)
	release := holdTurn(t, g)

	var mu sync.Mutex
	var order []int
	var wg sync.WaitGroup
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp := g.InterceptResponse(operation(context.Background(), ast.Query), func(context.Context) *graphql.Response {
				mu.Lock()
				order = append(order, i)
				mu.Unlock()
				return &graphql.Response{}
			})
			if len(resp.Errors) > 0 {
				t.Errorf("query %d: %v", i, resp.Errors)
			}
		}()
		// The next one starts once this one waits, so that arrival order is known.
		until(t, "query waits", func() bool { return gauge.now.Load() == int64(i+1) })
	}
	release()
	wg.Wait()
	for i, got := range order {
		if got != i {
			t.Fatalf("queries ran in the order %v, want the order they came (0 to 4)", order)
		}
	}
	if n := gauge.now.Load(); n != 0 {
		t.Errorf("%d queries still counted as waiting after all ran", n)
	}
}

func TestAsManyQueriesAsTheBoundRunAtOnceWithoutWaiting(t *testing.T) {
	var gauge waitGauge
	g := heldGate(3, &gauge)
	r1, r2, r3 := holdTurn(t, g), holdTurn(t, g), holdTurn(t, g)
	if n := gauge.most.Load(); n != 0 {
		t.Fatalf("%d of three queries waited under a bound of three", n)
	}
	ran := startQuery(g)
	until(t, "the fourth query waits", func() bool { return gauge.now.Load() == 1 })
	r2()
	<-ran // the fourth runs once one of the three is done
	r1()
	r3()
}

func TestMutationsAndSubscriptionsNeverWaitForATurn(t *testing.T) {
	var gauge waitGauge
	g := heldGate(1, &gauge)
	defer holdTurn(t, g)()
	for _, op := range []ast.Operation{ast.Mutation, ast.Subscription} {
		ran := false
		g.InterceptResponse(operation(context.Background(), op), func(context.Context) *graphql.Response {
			ran = true
			return &graphql.Response{}
		})
		if !ran {
			t.Errorf("a %s did not run while a query held the only turn", op)
		}
	}
	if n := gauge.most.Load(); n != 0 {
		t.Errorf("%d operations waited; only queries take turns", n)
	}
}

// The wait is inside the operation's budget: a query that waits out graphql-timeout is answered
// as one that ran out of time, naming the setting, and is no longer counted as waiting.
func TestAQueryThatWaitsOutItsBudgetIsAnsweredTimeout(t *testing.T) {
	var gauge waitGauge
	g := heldGate(1, &gauge)
	defer holdTurn(t, g)()
	b := newBudget(50*time.Millisecond, 0)
	ran := false
	resp := b.InterceptResponse(operation(context.Background(), ast.Query), func(ctx context.Context) *graphql.Response {
		return g.InterceptResponse(ctx, func(context.Context) *graphql.Response {
			ran = true
			return &graphql.Response{}
		})
	})
	if ran {
		t.Fatal("the query ran although the only turn was held past its budget")
	}
	if len(resp.Errors) != 1 || resp.Errors[0].Extensions["reason"] != "TIMEOUT" || !strings.Contains(resp.Errors[0].Message, "graphql-timeout") {
		t.Errorf("answer %+v, want one TIMEOUT error naming graphql-timeout", resp.Errors)
	}
	if n := gauge.now.Load(); n != 0 {
		t.Errorf("%d queries still counted as waiting", n)
	}
}

// A client that goes away stops its query's wait; the answer (which nobody reads) names the
// setting.
func TestAQueryWhoseClientLeftStopsWaiting(t *testing.T) {
	var gauge waitGauge
	g := heldGate(2, &gauge)
	defer holdTurn(t, g)()
	defer holdTurn(t, g)()
	ctx, cancel := context.WithCancel(context.Background())
	answered := make(chan *graphql.Response)
	go func() {
		answered <- g.InterceptResponse(operation(ctx, ast.Query), func(context.Context) *graphql.Response {
			t.Error("the query ran although its client left while it waited")
			return &graphql.Response{}
		})
	}()
	until(t, "the query waits", func() bool { return gauge.now.Load() == 1 })
	cancel()
	resp := <-answered
	if len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != "UNAVAILABLE" ||
		!strings.Contains(resp.Errors[0].Message, "2 run at once (setting graphql-max-concurrent-queries)") {
		t.Errorf("answer %+v, want one UNAVAILABLE error naming the bound and its setting", resp.Errors)
	}
	if n := gauge.now.Load(); n != 0 {
		t.Errorf("%d queries still counted as waiting", n)
	}
}

func TestTheDefaultBoundIsFourQueriesForEachCPU(t *testing.T) {
	if g := newQueryGate(0, nil); g.size != queriesPerCPU*runtime.GOMAXPROCS(0) {
		t.Errorf("bound %d, want %d for %d CPUs", g.size, queriesPerCPU*runtime.GOMAXPROCS(0), runtime.GOMAXPROCS(0))
	}
	if g := newQueryGate(-1, nil); g != nil {
		t.Error("a negative bound still gates queries")
	}
}

// A query that outlives its lease goes on without its turn: the next one starts while it still
// runs, and its end gives back nothing more (the semaphore panics on a turn given back twice):
// afterwards the bound holds as before.
func TestASlowQueryGivesUpItsTurnAfterTheLease(t *testing.T) {
	var gauge waitGauge
	g := newQueryGate(1, &gauge)
	g.lease = 20 * time.Millisecond
	endSlow := holdTurn(t, g)
	ran := startQuery(g)
	select {
	case <-ran:
	case <-time.After(10 * time.Second):
		t.Fatal("the next query did not start while the slow one ran past its lease")
	}
	endSlow()

	g.lease = time.Hour
	until(t, "the slow query has ended", func() bool { return g.turns.TryAcquire(1) })
	g.turns.Release(1)
	defer holdTurn(t, g)()
	startQuery(g)
	until(t, "a second query waits under the bound of one", func() bool { return gauge.now.Load() == 1 })
}

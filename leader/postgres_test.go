package leader_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/leader"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// pgStore opens a store on url, closed at cleanup (a schema of the test's own: no tables needed).
func pgStore(t *testing.T, url string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), url, store.Options{MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// holderPID is the backend that holds the leader lock of admin's schema, 0 when none does.
func holderPID(t *testing.T, admin *store.Store) int {
	t.Helper()
	var schema string
	if err := admin.Gorm().Raw("SELECT current_schema()").Scan(&schema).Error; err != nil {
		t.Fatal(err)
	}
	var pids []int
	err := admin.Gorm().Raw(`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2
		AND classid = ?::int4::oid AND objid = ?::int4::oid
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
		leader.LockClass, leader.SchemaKey(schema)).Scan(&pids).Error
	if err != nil {
		t.Fatal(err)
	}
	if len(pids) == 0 {
		return 0
	}
	return pids[0]
}

func TestOnePostgresSessionHoldsTheLeaderLock(t *testing.T) {
	url := storetest.PostgresURL(t)
	ctx := context.Background()
	a, b := leader.Postgres(pgStore(t, url).Dedicated), leader.Postgres(pgStore(t, url).Dedicated)
	defer a.Close()
	defer b.Close()

	held, err := a.TryAcquire(ctx)
	if err != nil || held == nil {
		t.Fatalf("the first TryAcquire = %v, %v; want leadership", held, err)
	}
	if other, err := b.TryAcquire(ctx); err != nil || other != nil {
		t.Fatalf("a second session's TryAcquire = %v, %v while the first holds it; want nil, nil", other, err)
	}
	if err := held.Check(ctx); err != nil {
		t.Fatalf("Check of held leadership: %v", err)
	}
	// Released, it goes to the other at once.
	held.Release()
	other, err := b.TryAcquire(ctx)
	if err != nil || other == nil {
		t.Fatalf("TryAcquire after the holder released = %v, %v; want leadership", other, err)
	}
	if again, err := a.TryAcquire(ctx); err != nil || again != nil {
		t.Fatalf("the first session took it back while the second holds it: %v, %v", again, err)
	}

	// Another schema of the same database is another Portside: it elects its own leader.
	c := leader.Postgres(pgStore(t, storetest.PostgresURL(t)).Dedicated)
	defer c.Close()
	if own, err := c.TryAcquire(ctx); err != nil || own == nil {
		t.Fatalf("a Portside on another schema could not lead: %v, %v", own, err)
	}
}

func TestATerminatedLeaderSessionLosesLeadership(t *testing.T) {
	url := storetest.PostgresURL(t)
	ctx := context.Background()
	admin := pgStore(t, url)
	lock := leader.Postgres(pgStore(t, url).Dedicated)
	defer lock.Close()
	held, err := lock.TryAcquire(ctx)
	if err != nil || held == nil {
		t.Fatalf("TryAcquire = %v, %v; want leadership", held, err)
	}
	pid := holderPID(t, admin)
	if pid == 0 {
		t.Fatal("pg_locks shows no holder of the leader lock")
	}
	if err := admin.Gorm().Exec("SELECT pg_terminate_backend(?)", pid).Error; err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, wait, func() bool { return held.Check(ctx) != nil }, "Check failing after the session was terminated")
	// A later attempt opens a new session and leads again. Not necessarily the first: the client
	// sees its connection end before the ending backend has released its locks (it does so on its
	// way out), so an attempt in between finds the lock still held.
	var again leader.Held
	if !testutil.Await(wait, func() bool {
		again, err = lock.TryAcquire(ctx)
		return err == nil && again != nil
	}) {
		t.Fatalf("TryAcquire after the session ended = %v, %v; want leadership on a new session", again, err)
	}
}

// elector is an Elector over a store of its own on url, with its loop probe and gauge.
type elector struct {
	e      *leader.Elector
	probe  *loopProbe
	gauge  *gauge
	cancel context.CancelFunc
	done   chan struct{}
}

func newPGElector(t *testing.T, url string) *elector {
	t.Helper()
	st := pgStore(t, url)
	el := &elector{probe: &loopProbe{}, gauge: &gauge{}}
	el.e, el.cancel, el.done = startElector(t, leader.Postgres(st.Dedicated), el.gauge, el.probe)
	return el
}

// oneLeader waits until exactly one of els leads and runs its loop, and returns it.
func oneLeader(t *testing.T, els ...*elector) *elector {
	t.Helper()
	var leading *elector
	testutil.Eventually(t, wait, func() bool {
		leading = nil
		n := 0
		for _, el := range els {
			if r, _ := el.probe.state(); r > 0 || el.e.Leading() {
				n++
				leading = el
			}
		}
		return n == 1 && leading.e.Leading()
	}, func() string {
		s := "exactly one leader among the electors:"
		for i, el := range els {
			r, starts := el.probe.state()
			s += fmt.Sprintf(" #%d leading=%v running=%d starts=%d", i, el.e.Leading(), r, starts)
		}
		return s
	})
	return leading
}

func TestTwoElectorsOnOneDatabaseElectOneLeaderAndFailOver(t *testing.T) {
	url := storetest.PostgresURL(t)
	admin := pgStore(t, url)
	a, b := newPGElector(t, url), newPGElector(t, url)
	first := oneLeader(t, a, b)
	other := b
	if first == b {
		other = a
	}
	// The follower keeps trying and keeps failing while the leader lives.
	terms := other.e.Terms()
	testutil.Eventually(t, wait, func() bool { return holderPID(t, admin) != 0 }, "the leader's session in pg_locks")
	if terms != 0 || other.gauge.value() {
		t.Fatalf("the follower has led %d terms, gauge %v", terms, other.gauge.value())
	}

	// The leader's session is killed (its replica's connection broke): it stops its loop at once,
	// and the other takes over.
	if err := admin.Gorm().Exec("SELECT pg_terminate_backend(?)", holderPID(t, admin)).Error; err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, wait, func() bool { return other.e.Terms() == 1 || first.e.Terms() == 2 },
		"someone leading again after the leader's session was terminated")
	// Whoever leads now, exactly one does; the old leader stopped its loop in between (it may
	// have won the lock again on a new session: that is a second term, with a second start).
	now := oneLeader(t, a, b)
	if now == first {
		// A term starts (Leading, Terms) before its loops' goroutines run: the second start may
		// come a moment after. One instance of the loop runs then, not two.
		testutil.Eventually(t, wait, func() bool { _, starts := first.probe.state(); return starts == 2 },
			"the old leader's loop started again for its second term")
		if running, _ := first.probe.state(); running != 1 {
			t.Errorf("the old leader led again without stopping its loop (%d running)", running)
		}
	}

	// The leader stops (its replica shuts down): it releases, and the other leads.
	next := a
	if now == a {
		next = b
	}
	now.cancel()
	<-now.done
	if r, _ := now.probe.state(); r != 0 || now.gauge.value() {
		t.Fatalf("a stopped elector still runs its loop (%d) or shows as leader (%v)", r, now.gauge.value())
	}
	testutil.Eventually(t, wait, func() bool { r, _ := next.probe.state(); return r == 1 && next.e.Leading() && next.gauge.value() },
		"the remaining elector leading after the leader stopped")
}

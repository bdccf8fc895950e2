package pipelines_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/portside-dev/portside/internal/bus/pgbus/pgbustest"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/pipelines"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// A stamp holds until a run changes: at once when this process changes it, and within the check
// interval when another process does (the CLI's trigger, another replica's webhook), on SQLite and
// PostgreSQL.
func TestAStampHoldsUntilARunChangesHereOrInAnotherProcess(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		const interval = 20 * time.Millisecond
		here := newService(t, st, &fakeProvider{}, pipelines.Options{StampCheckInterval: interval})
		elsewhere := newService(t, st, &fakeProvider{}, pipelines.Options{StampCheckInterval: interval})

		stamp := here.Stamp(ctx)
		time.Sleep(2 * interval)
		if !here.Fresh(ctx, stamp) {
			t.Fatal("a stamp went stale with no run changed")
		}

		// This process triggers: stale at once, without waiting for the database check.
		run, err := here.Trigger(bob, release("here"))
		if err != nil {
			t.Fatal(err)
		}
		if here.Fresh(ctx, stamp) {
			t.Error("a stamp holds after this process triggered a run")
		}

		// Another process cancels the run: stale within the interval.
		stamp = here.Stamp(ctx)
		time.Sleep(2 * interval)
		stamp = here.Stamp(ctx) // taken after the database check caught up with the trigger
		if !here.Fresh(ctx, stamp) {
			t.Fatal("a stamp taken after the last change is not fresh")
		}
		if _, err := elsewhere.Cancel(bob, run.ID); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for here.Fresh(ctx, stamp) {
			if time.Now().After(deadline) {
				t.Fatal("another process's change never retired the stamp")
			}
			time.Sleep(interval / 2)
		}

		// A stale poll that changes nothing (errStale) and reads do not retire anything.
		stamp = here.Stamp(ctx)
		time.Sleep(2 * interval)
		stamp = here.Stamp(ctx)
		if _, err := here.Run(bob, run.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := here.PipelineRuns(bob, checkout, "release", pipelines.Filter{}, 5, ""); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * interval)
		if !here.Fresh(ctx, stamp) {
			t.Error("reading runs retired the stamp")
		}
	})
}

// TestAnotherReplicasChangeRetiresStampsAtOnceAndReachesSubscribersOnce: two replicas on one
// PostgreSQL schema, with a database check so rare that only the bus can tell replica B of what
// replica A changed: B's stamp goes stale, and B's subscriber hears each of A's changes once.
func TestAnotherReplicasChangeRetiresStampsAtOnceAndReachesSubscribersOnce(t *testing.T) {
	url := storetest.PostgresURL(t)
	stA, stB := storetest.Open(t, url, true), storetest.Open(t, url, false)
	busA, startA := pgbustest.New(t, stA)
	busB, startB := pgbustest.New(t, stB)
	a := newService(t, stA, &fakeProvider{}, pipelines.Options{StampCheckInterval: time.Hour, Bus: busA})
	b := newService(t, stB, &fakeProvider{}, pipelines.Options{StampCheckInterval: time.Hour, Bus: busB})
	startA()
	startB()
	ctx := context.Background()
	stamp := b.Stamp(ctx)
	onA, err := a.Watch(carol, pipelines.Filter{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	onB, err := b.Watch(carol, pipelines.Filter{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	run, err := a.Trigger(bob, release("k1"))
	if err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, func() bool { return !b.Fresh(ctx, stamp) }, "replica B's stamp held after replica A triggered a run")
	if _, err := a.Cancel(bob, run.ID); err != nil {
		t.Fatal(err)
	}
	n := len(onA.C()) // A delivers its own changes as it makes them
	if n < 2 {
		t.Fatalf("replica A's subscriber heard %d changes of the trigger and the cancel, want at least 2", n)
	}
	var want, got []string
	for range n {
		r := <-onA.C()
		want = append(want, fmt.Sprintf("%d %s", r.ID, r.Status))
	}
	for len(got) < n {
		select {
		case r := <-onB.C():
			got = append(got, fmt.Sprintf("%d %s", r.ID, r.Status))
		case <-time.After(10 * time.Second):
			t.Fatalf("replica B heard %v, then nothing; replica A heard %v", got, want)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || len(onB.C()) != 0 {
		t.Errorf("replica B heard %v (and %d more), want what A heard once each: %v", got, len(onB.C()), want)
	}
}

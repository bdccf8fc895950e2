package pipelines_test

import (
	"context"
	"testing"
	"time"

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

package rollouts

import (
	"context"
	"testing"
	"time"

	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// Every replica records the rollouts it derives from Argo CD onto the same rows: one that hears of
// an operation's running state after another recorded its end (a busy replica, a watch event late)
// does not take the rollout back to RUNNING, so subscribers hear of its end once, not end, running,
// end again (seen with three replicas under load).
func TestALateRunningStateDoesNotReopenAFinishedRollout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		recs := &records{st: st}
		started := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
		finished := started.Add(30 * time.Second)
		running := Rollout{Key: Key{Instance: "prod", Namespace: "argocd", Name: "payments"}, Revision: "c1",
			Phase: OperationRunning, Result: ResultRunning, Message: "waiting for completion", StartedAt: started}
		done := running
		done.Phase, done.Result, done.Message, done.FinishedAt = OperationSucceeded, ResultSucceeded, "successfully synced", &finished

		for i, c := range []struct {
			write   Rollout
			changed bool
		}{
			{running, true},
			{done, true},
			{running, false}, // late: the end stays
			{done, false},
		} {
			got, err := recs.record(ctx, []Rollout{c.write})
			if err != nil {
				t.Fatal(err)
			}
			if (len(got) == 1) != c.changed {
				t.Fatalf("write %d (%s): %d rollouts reported changed, want changed=%v", i, c.write.Phase, len(got), c.changed)
			}
		}
		now, ok, err := recs.latest(ctx, running.Key)
		if err != nil || !ok {
			t.Fatalf("latest: %v %v", ok, err)
		}
		if now.Phase != OperationSucceeded || now.Result != ResultSucceeded || now.FinishedAt == nil || now.Message != "successfully synced" {
			t.Errorf("the rollout reads %s %s %q finished %v, want its end kept", now.Phase, now.Result, now.Message, now.FinishedAt)
		}
	})
}

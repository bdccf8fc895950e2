package deploys_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/deploys"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// recordedRollouts are the rollouts the tracker recorded, by revision (deploys.RolloutLookup); it
// sends no events: the service must find them itself.
type recordedRollouts struct {
	mu sync.Mutex
	by map[string]deploys.RolloutEvent
}

func (r *recordedRollouts) RolloutEvents(ctx context.Context) <-chan deploys.RolloutEvent {
	out := make(chan deploys.RolloutEvent)
	go func() { <-ctx.Done(); close(out) }()
	return out
}

func (r *recordedRollouts) RolloutOf(_ context.Context, revision string) (deploys.RolloutEvent, bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ev, ok := r.by[revision]
	return ev, ok, nil
}

// restarted is the deploys service of a Portside started again on the fixture's database: a
// fresh working clone, and the recorded rollouts.
func restarted(t *testing.T, f *fixture, ro *recordedRollouts) *deploys.Service {
	t.Helper()
	return deploys.NewService(f.st, deploys.Options{Catalog: f.cat, Applier: mustCommitter(t), Rollouts: ro,
		Environments: map[string]deploys.EnvironmentPolicy{"production": {RequireApproval: true, Expiry: 4 * time.Hour}},
		PortalURL:    "https://portal.acme.example/", Audit: audit.New(f.st, nil), Now: f.clk.Now})
}

// strand leaves request id APPLYING, approved by alice, as a process that died mid-apply does.
func strand(t *testing.T, st *store.Store, id int64, at time.Time) {
	t.Helper()
	if err := st.Gorm().Exec("UPDATE deploy_requests SET state = 'APPLYING', approver = 'alice', updated_at = ? WHERE id = ?", at, id).Error; err != nil {
		t.Fatal(err)
	}
}

func commits(t *testing.T, bare string) int {
	t.Helper()
	n := strings.TrimSpace(git(t, bare, "rev-list", "--count", "main"))
	out := 0
	for _, c := range n {
		out = out*10 + int(c-'0')
	}
	return out
}

func TestAnApplyCutShortAfterItsPushMovesToRollingOutWithThatCommit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		q, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: "1.5.0"})
		if err != nil {
			t.Fatal(err)
		}
		// The dead process pushed the commit, then died before recording it.
		q.Approver = "alice"
		targets, err := deploys.Targets(f.cat.annotations[payAPI])
		if err != nil {
			t.Fatal(err)
		}
		pushed, err := mustCommitter(t).Apply(context.Background(), deploys.Change{Request: q, Target: targets["production"], Link: f.s.Link(q.ID)})
		if err != nil || pushed.Found {
			t.Fatalf("the first apply: %+v %v", pushed, err)
		}
		strand(t, st, q.ID, f.clk.Now())
		before := commits(t, f.bare)
		s := restarted(t, f, &recordedRollouts{})
		// An apply may still be under way for StaleApplying: it is left alone until then.
		s.Tick(context.Background())
		if got, _ := s.Get(carol, q.ID); got.State != deploys.Applying {
			t.Fatalf("a request APPLYING for no time was resumed: %+v", got)
		}
		f.clk.Add(s.StaleApplying())
		s.Tick(context.Background())
		got, err := s.Get(carol, q.ID)
		if err != nil || got.State != deploys.RollingOut || got.CommitSHA != pushed.Commit || got.Repo != f.bare {
			t.Fatalf("after the restart: %+v %v; the pushed commit is %s", got, err, pushed.Commit)
		}
		if n := commits(t, f.bare); n != before {
			t.Errorf("main has %d commits, had %d: resuming committed again", n, before)
		}
		if h := history(t, s, q.ID); !strings.HasSuffix(h, "portside SYSTEM APPLYING->ROLLING_OUT: commit "+pushed.Commit[:12]+" found in "+f.bare+" (main): the apply cut short had pushed it") {
			t.Errorf("history:\n%s", h)
		}
	})
}

func TestAnApplyCutShortBeforeItsPushIsAppliedOnceAfterARestart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		q, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: "1.5.0", Reason: "fix rounding"})
		if err != nil {
			t.Fatal(err)
		}
		strand(t, st, q.ID, f.clk.Now())
		before := commits(t, f.bare)
		// Two replicas start again at once: one of them resumes the request, once.
		a, b := restarted(t, f, &recordedRollouts{}), restarted(t, f, &recordedRollouts{})
		f.clk.Add(a.StaleApplying())
		var wg sync.WaitGroup
		for _, s := range []*deploys.Service{a, b} {
			wg.Add(1)
			go func() { defer wg.Done(); s.Tick(context.Background()) }()
		}
		wg.Wait()
		got, err := a.Get(carol, q.ID)
		head := strings.TrimSpace(git(t, f.bare, "rev-parse", "main"))
		if err != nil || got.State != deploys.RollingOut || got.CommitSHA != head {
			t.Fatalf("after the restart: %+v %v; main is %s", got, err, head)
		}
		if n := commits(t, f.bare); n != before+1 {
			t.Fatalf("main has %d commits, want %d (one for the request)", n, before+1)
		}
		if msg := git(t, f.bare, "log", "-1", "--format=%an%n%B", "main"); !strings.Contains(msg, "Bob\n") || !strings.Contains(msg, "Approved-by: alice") ||
			!strings.Contains(msg, "fix rounding") {
			t.Errorf("the commit:\n%s", msg)
		}
		// Applied again (a later pass, yet another replica): still one commit.
		got.State = deploys.Applying
		targets, _ := deploys.Targets(f.cat.annotations[payAPI])
		again, err := mustCommitter(t).Apply(context.Background(), deploys.Change{Request: got, Target: targets["production"], Link: f.s.Link(q.ID)})
		if err != nil || !again.Found || again.Commit != head || commits(t, f.bare) != before+1 {
			t.Errorf("applying the request again: %+v %v, %d commits", again, err, commits(t, f.bare))
		}
		if n := strings.Count(history(t, a, q.ID), "APPLYING->ROLLING_OUT"); n != 1 {
			t.Errorf("%d moves to ROLLING_OUT:\n%s", n, history(t, a, q.ID))
		}
	})
}

func TestARequestLeftRollingOutCatchesUpWithItsRecordedRollout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		q, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: "1.5.0"})
		if err != nil {
			t.Fatal(err)
		}
		if q, err = f.s.Approve(alice, q.ID, ""); err != nil || q.State != deploys.RollingOut {
			t.Fatalf("approved %+v %v", q, err)
		}
		// While Portside was down, the canary moved on and the rollout ended.
		ro := &recordedRollouts{by: map[string]deploys.RolloutEvent{q.CommitSHA: {Revision: q.CommitSHA, Result: deploys.RolloutRunning, Progress: "canary step 2 of 3, weight 50%"}}}
		s := restarted(t, f, ro)
		f.clk.Add(time.Minute)
		s.Tick(context.Background())
		if got, _ := s.Get(carol, q.ID); got.State != deploys.RollingOut || !strings.HasSuffix(history(t, s, q.ID), "ROLLING_OUT->ROLLING_OUT: canary step 2 of 3, weight 50%") {
			t.Fatalf("after catching up with the canary: %+v\n%s", got, history(t, s, q.ID))
		}
		s.Tick(context.Background()) // the same step, seen again, is not recorded twice
		ro.mu.Lock()
		ro.by[q.CommitSHA] = deploys.RolloutEvent{Revision: q.CommitSHA, Result: deploys.RolloutSucceeded, Message: "healthy"}
		ro.mu.Unlock()
		f.clk.Add(time.Minute)
		s.Tick(context.Background())
		got, err := s.Get(carol, q.ID)
		if err != nil || got.State != deploys.Succeeded || got.Outcome != "rolled out: healthy" {
			t.Fatalf("after catching up with the end: %+v %v", got, err)
		}
		if n := strings.Count(history(t, s, q.ID), "canary step 2 of 3"); n != 1 {
			t.Errorf("the step was recorded %d times:\n%s", n, history(t, s, q.ID))
		}
	})
}

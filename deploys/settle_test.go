package deploys_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/deploys"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// fakeApps are the Argo CD applications of each environment as the rollouts tracker would report
// them (deploys.Applications).
type fakeApps struct {
	mu  sync.Mutex
	env map[string][]deploys.AppState
}

func (a *fakeApps) set(env string, apps ...deploys.AppState) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.env[env] = apps
}

func (a *fakeApps) Applications(_ context.Context, _ map[string]string, env string) ([]deploys.AppState, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.env[env], nil
}

// atRest is an application synced at rev, healthy, with nothing under way.
func atRest(rev string) deploys.AppState {
	return deploys.AppState{Name: "payments-api on Argo CD prod", Revision: rev, Synced: true, Healthy: true}
}

// settling is the fixture's service with the applications apps and the rollouts ro, reading the
// manifest repository for lineage as serve does.
func settling(t *testing.T, f *fixture, apps *fakeApps, ro deploys.Rollouts) *deploys.Service {
	t.Helper()
	c := mustCommitter(t)
	return deploys.NewService(f.st, deploys.Options{Catalog: f.cat, Builds: fakeBuilds{}, Applier: c, Lineage: c, Applications: apps, Rollouts: ro,
		Environments: map[string]deploys.EnvironmentPolicy{"production": {RequireApproval: true, Expiry: 4 * time.Hour}},
		PortalURL:    "https://portal.acme.example/", Audit: audit.New(f.st, nil), Now: f.clk.Now, Interval: time.Hour})
}

// Argo CD reconciled the request's commit without a rollout (the commit changed nothing the
// application renders: the application stays Synced, its revision moves on): the request closes
// once the application is at rest at the commit, and not while anything says otherwise.
func TestARequestArgoCDSyncedWithoutARolloutSucceeds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		apps := &fakeApps{env: map[string][]deploys.AppState{}}
		s := settling(t, f, apps, &recordedRollouts{by: map[string]deploys.RolloutEvent{}})
		seed := strings.TrimSpace(git(t, f.bare, "rev-parse", "main"))
		q, err := s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "staging", Version: digest})
		if err != nil || q.State != deploys.RollingOut || q.CommitSHA == "" {
			t.Fatalf("requested %+v, %v", q, err)
		}
		stays := map[string]deploys.AppState{
			"no application":           {},
			"still at the seed commit": atRest(seed),
			"out of sync":              {Name: "a", Revision: q.CommitSHA, Healthy: true},
			"degraded":                 {Name: "a", Revision: q.CommitSHA, Synced: true},
			"syncing":                  {Name: "a", Revision: q.CommitSHA, Synced: true, Healthy: true, Operating: true},
			"last seen long ago":       {Name: "a", Revision: q.CommitSHA, Synced: true, Healthy: true, Stale: true},
			"a sync names the commit":  {Name: "a", Revision: q.CommitSHA, Synced: true, Healthy: true, OperationRevision: q.CommitSHA},
			"at another repository's":  atRest("0123456789abcdef0123456789abcdef01234567"),
		}
		for why, app := range stays {
			if app.Name == "" {
				apps.set("staging")
			} else {
				apps.set("staging", app)
			}
			s.SettlePass(context.Background())
			if got, _ := s.Get(carol, q.ID); got.State != deploys.RollingOut {
				t.Fatalf("%s: the request is %+v", why, got)
			}
		}
		// Of two applications in the environment, both must have reached it.
		apps.set("staging", atRest(q.CommitSHA), atRest(seed))
		s.Tick(context.Background())
		if got, _ := s.Get(carol, q.ID); got.State != deploys.RollingOut {
			t.Fatalf("one application of two reached the commit, and the request is %+v", got)
		}
		apps.set("staging", atRest(q.CommitSHA))
		s.Tick(context.Background())
		got, err := s.Get(carol, q.ID)
		want := "rolled out without a sync of its own (Argo CD found nothing to change, or synced a later commit): payments-api on Argo CD prod is synced at this commit, and healthy"
		if err != nil || got.State != deploys.Succeeded || got.Outcome != want {
			t.Fatalf("at rest at the commit: %+v, %v", got, err)
		}
		if h := history(t, s, q.ID); !strings.HasSuffix(h, "portside SYSTEM ROLLING_OUT->SUCCEEDED: "+want) {
			t.Errorf("history:\n%s", h)
		}
		if n := countAudit(t, st, "deploys.request.succeeded", "ok"); n != 1 {
			t.Errorf("%d audit records of the success, want 1", n)
		}
	})
}

// A commit Argo CD never synced on its own, because a later commit that contains it came first:
// the application at rest at the later commit closes both requests, each saying how.
func TestARequestArgoCDSyncedPastSucceeds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		apps := &fakeApps{env: map[string][]deploys.AppState{}}
		s := settling(t, f, apps, &recordedRollouts{by: map[string]deploys.RolloutEvent{}})
		first, err := s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "staging", Version: digest})
		if err != nil || first.State != deploys.RollingOut {
			t.Fatalf("first %+v, %v", first, err)
		}
		// Someone else's commit on another branch, pushed to the same repository: it does not
		// contain the first request's commit.
		work := filepath.Join(t.TempDir(), "w")
		git(t, filepath.Dir(work), "clone", "--quiet", f.bare, work)
		git(t, work, "checkout", "--quiet", "-b", "elsewhere", first.CommitSHA+"~1")
		if err := os.WriteFile(filepath.Join(work, "README"), []byte("elsewhere\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		git(t, work, "add", "README")
		git(t, work, "commit", "--quiet", "-m", "elsewhere")
		git(t, work, "push", "--quiet", "origin", "elsewhere")
		sibling := strings.TrimSpace(git(t, work, "rev-parse", "HEAD"))
		second, err := s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "staging", Version: digest2})
		if err != nil || second.State != deploys.RollingOut {
			t.Fatalf("second %+v, %v", second, err)
		}
		apps.set("staging", atRest(sibling))
		s.SettlePass(context.Background())
		for _, id := range []int64{first.ID, second.ID} {
			if got, _ := s.Get(carol, id); got.State != deploys.RollingOut {
				t.Fatalf("at a commit of another branch, request %d is %+v", id, got)
			}
		}
		apps.set("staging", atRest(second.CommitSHA))
		s.SettlePass(context.Background())
		got, err := s.Get(carol, first.ID)
		want := "rolled out without a sync of its own (Argo CD found nothing to change, or synced a later commit): payments-api on Argo CD prod is synced at " +
			second.CommitSHA[:12] + ", which contains this commit, and healthy"
		if err != nil || got.State != deploys.Succeeded || got.Outcome != want {
			t.Fatalf("the first request: %+v, %v", got, err)
		}
		if got, _ := s.Get(carol, second.ID); got.State != deploys.Succeeded || !strings.Contains(got.Outcome, "is synced at this commit") {
			t.Fatalf("the second request: %+v", got)
		}
	})
}

// A rollout of the commit decides the request, whatever the application shows meanwhile: a canary
// that Argo CD still reports at rest between two reads does not close it as settled.
func TestARecordedRolloutOfTheCommitDecidesNotTheApplicationsRest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		apps := &fakeApps{env: map[string][]deploys.AppState{}}
		ro := &recordedRollouts{by: map[string]deploys.RolloutEvent{}}
		s := settling(t, f, apps, ro)
		q, err := s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "staging", Version: digest})
		if err != nil || q.State != deploys.RollingOut {
			t.Fatalf("%+v, %v", q, err)
		}
		ro.mu.Lock()
		ro.by[q.CommitSHA] = deploys.RolloutEvent{Revision: q.CommitSHA, Result: deploys.RolloutRunning}
		ro.mu.Unlock()
		apps.set("staging", atRest(q.CommitSHA))
		s.SettlePass(context.Background())
		if got, _ := s.Get(carol, q.ID); got.State != deploys.RollingOut {
			t.Fatalf("a rollout of the commit is under way, and the request is %+v", got)
		}
	})
}

// An application coming to rest, as the follower hears it, closes the request without waiting
// for the background pass.
func TestAnApplicationAtRestClosesTheRequestAsItIsHeard(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		apps := &fakeApps{env: map[string][]deploys.AppState{}}
		ro := &fakeRollouts{ch: make(chan deploys.RolloutEvent)}
		s := settling(t, f, apps, ro)
		q, err := s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "staging", Version: digest})
		if err != nil || q.State != deploys.RollingOut {
			t.Fatalf("%+v, %v", q, err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); s.FollowRollouts(ctx) }()
		apps.set("staging", atRest(q.CommitSHA))
		ro.ch <- deploys.RolloutEvent{Revision: q.CommitSHA, Settled: true}
		testutil.Eventually(t, 10*time.Second, func() bool { now, _ := s.Get(carol, q.ID); return now.State == deploys.Succeeded },
			"the application at rest never closed the request")
		cancel()
		<-done
	})
}

// A request whose commit Argo CD passed over for a later commit that contains it, whose rollout
// then failed (or whose canary was aborted), closes the way that rollout ended, saying it was
// superseded: its commit will not be rolled out on its own any more. Not before that rollout has
// ended, not for a commit that does not contain it, and not for a rollout that did not fail.
func TestARequestSupersededByALaterCommitWhoseRolloutFailedCloses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		for _, c := range []struct {
			result  deploys.RolloutResult
			state   deploys.State
			outcome string
		}{
			{deploys.RolloutFailed, deploys.Failed, "its rollout on payments-api on Argo CD prod failed: one or more objects failed to apply"},
			{deploys.RolloutAborted, deploys.RolledBack, "its canary on payments-api on Argo CD prod was aborted (rolled back): one or more objects failed to apply"},
		} {
			f := newFixture(t, st)
			apps := &fakeApps{env: map[string][]deploys.AppState{}}
			ro := &recordedRollouts{by: map[string]deploys.RolloutEvent{}}
			s := settling(t, f, apps, ro)
			first, err := s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "staging", Version: digest})
			if err != nil || first.State != deploys.RollingOut {
				t.Fatalf("first %+v, %v", first, err)
			}
			// A commit of another branch, which does not contain the first request's.
			work := filepath.Join(t.TempDir(), "w")
			git(t, filepath.Dir(work), "clone", "--quiet", f.bare, work)
			git(t, work, "checkout", "--quiet", "-b", "elsewhere", first.CommitSHA+"~1")
			if err := os.WriteFile(filepath.Join(work, "README"), []byte("elsewhere\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			git(t, work, "add", "README")
			git(t, work, "commit", "--quiet", "-m", "elsewhere")
			git(t, work, "push", "--quiet", "origin", "elsewhere")
			sibling := strings.TrimSpace(git(t, work, "rev-parse", "HEAD"))
			second, err := s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "staging", Version: digest2})
			if err != nil || second.State != deploys.RollingOut {
				t.Fatalf("second %+v, %v", second, err)
			}
			// Argo CD synced the second commit, not the first: the sync failed, Degraded.
			failedAt := func(rev string) deploys.AppState {
				return deploys.AppState{Name: "payments-api on Argo CD prod", Revision: rev, OperationRevision: rev}
			}
			record := func(rev string, r deploys.RolloutResult) {
				ro.mu.Lock()
				defer ro.mu.Unlock()
				ro.by[rev] = deploys.RolloutEvent{Revision: rev, Result: r, Message: "one or more objects failed to apply"}
			}
			stays := []struct {
				why string
				app deploys.AppState
				do  func()
			}{
				{"the later sync still runs", deploys.AppState{Name: "a", Revision: second.CommitSHA, OperationRevision: second.CommitSHA, Operating: true},
					func() { record(second.CommitSHA, deploys.RolloutRunning) }},
				{"the later rollout is still running", failedAt(second.CommitSHA), func() {}},
				{"the later rollout succeeded (and the application is not at rest)", failedAt(second.CommitSHA), func() { record(second.CommitSHA, deploys.RolloutSucceeded) }},
				{"no rollout of the later commit is recorded", failedAt(second.CommitSHA), func() { ro.mu.Lock(); delete(ro.by, second.CommitSHA); ro.mu.Unlock() }},
				{"last seen long ago", deploys.AppState{Name: "a", Revision: second.CommitSHA, OperationRevision: second.CommitSHA, Stale: true},
					func() { record(second.CommitSHA, c.result) }},
				{"the failed commit does not contain the request's", failedAt(sibling), func() { record(sibling, c.result) }},
			}
			for _, tc := range stays {
				tc.do()
				apps.set("staging", tc.app)
				s.SettlePass(context.Background())
				if got, _ := s.Get(carol, first.ID); got.State != deploys.RollingOut {
					t.Fatalf("%s %s: the first request is %+v", c.result, tc.why, got)
				}
			}
			record(second.CommitSHA, c.result)
			apps.set("staging", failedAt(second.CommitSHA))
			s.Tick(context.Background())
			want := "superseded by " + second.CommitSHA[:12] + ", which contains this commit, before this commit ran healthy: " + c.outcome
			got, err := s.Get(carol, first.ID)
			if err != nil || got.State != c.state || got.Outcome != want {
				t.Fatalf("%s: the first request is %+v, %v; want %s: %s", c.result, got, err, c.state, want)
			}
			if h := history(t, s, first.ID); !strings.HasSuffix(h, "portside SYSTEM ROLLING_OUT->"+string(c.state)+": "+want) {
				t.Errorf("%s: history:\n%s", c.result, h)
			}
			// The second request is its rollout's to decide (Observe), not settle's.
			if got, _ := s.Get(carol, second.ID); got.State != deploys.RollingOut {
				t.Errorf("%s: the second request is %+v", c.result, got)
			}
			s.Observe(context.Background(), deploys.RolloutEvent{Revision: second.CommitSHA, Result: c.result})
			if got, _ := s.Get(carol, second.ID); got.State != c.state {
				t.Errorf("%s: after its rollout the second request is %+v", c.result, got)
			}
		}
		// Each closing audited once: the superseded request's and the later one's, per result.
		if n := countAudit(t, st, "deploys.request.failed", "ok"); n != 2 {
			t.Errorf("%d audit records of failures, want 2", n)
		}
		if n := countAudit(t, st, "deploys.request.rolled_back", "ok"); n != 2 {
			t.Errorf("%d audit records of rollbacks, want 2", n)
		}
	})
}

// Argo CD ends the sync of an Argo Rollouts Rollout once it is applied, its canary at its first
// step (issue #16): the rollout of the commit is then running (deploys/bridge says so), and the
// request rolls on, told each step. When the rollout has ended (the canary done, or aborted), the
// application coming to rest at the commit closes the request the way the rollout ended, without
// waiting for a change of the rollout; not before it is at rest.
func TestARolloutWhoseSyncEndedBeforeItsCanaryClosesWhenTheApplicationComesToRest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		for _, c := range []struct {
			result  deploys.RolloutResult
			state   deploys.State
			outcome string
		}{
			{deploys.RolloutSucceeded, deploys.Succeeded, "rolled out: successfully synced"},
			{deploys.RolloutAborted, deploys.RolledBack, "rolled back: the canary was aborted"},
		} {
			f := newFixture(t, st)
			apps := &fakeApps{env: map[string][]deploys.AppState{}}
			ro := &recordedRollouts{by: map[string]deploys.RolloutEvent{}}
			s := settling(t, f, apps, ro)
			q, err := s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "staging", Version: digest})
			if err != nil || q.State != deploys.RollingOut {
				t.Fatalf("%+v, %v", q, err)
			}
			record := func(ev deploys.RolloutEvent) {
				ro.mu.Lock()
				defer ro.mu.Unlock()
				ro.by[q.CommitSHA] = ev
			}
			// Synced, the canary at its first step: running, its progress told.
			step := deploys.RolloutEvent{Revision: q.CommitSHA, Result: deploys.RolloutRunning, Progress: "canary step 1 of 3, weight 20%, paused until promoted"}
			record(step)
			s.Observe(context.Background(), step)
			under := deploys.AppState{Name: "payments-api on Argo CD prod", Revision: q.CommitSHA, OperationRevision: q.CommitSHA, Synced: true, Operating: true}
			apps.set("staging", under)
			s.SettlePass(context.Background())
			if got, _ := s.Get(carol, q.ID); got.State != deploys.RollingOut {
				t.Fatalf("%s: with the canary at its first step the request is %+v", c.result, got)
			}
			// The rollout ended, but the application is not yet at rest at the commit: it waits.
			ended := deploys.RolloutEvent{Revision: q.CommitSHA, Result: c.result}
			if c.result == deploys.RolloutSucceeded {
				ended.Message = "successfully synced"
			}
			record(ended)
			for _, app := range []deploys.AppState{under, {Name: under.Name, Revision: q.CommitSHA, OperationRevision: q.CommitSHA, Synced: true},
				{Name: under.Name, Revision: q.CommitSHA, OperationRevision: q.CommitSHA, Synced: true, Healthy: true, Stale: true}} {
				apps.set("staging", app)
				s.SettlePass(context.Background())
				if got, _ := s.Get(carol, q.ID); got.State != deploys.RollingOut {
					t.Fatalf("%s: with the application %+v the request is %+v", c.result, app, got)
				}
			}
			// At rest at the commit: closed as the rollout ended.
			rest := atRest(q.CommitSHA)
			rest.OperationRevision = q.CommitSHA
			apps.set("staging", rest)
			s.SettlePass(context.Background())
			got, err := s.Get(carol, q.ID)
			if err != nil || got.State != c.state || got.Outcome != c.outcome {
				t.Fatalf("%s: at rest the request is %+v, %v; want %s: %s", c.result, got, err, c.state, c.outcome)
			}
			want := "portside SYSTEM ROLLING_OUT->ROLLING_OUT: canary step 1 of 3, weight 20%, paused until promoted\nportside SYSTEM ROLLING_OUT->" + string(c.state) + ": " + c.outcome
			if h := history(t, s, q.ID); !strings.HasSuffix(h, want) {
				t.Errorf("%s: history:\n%s\nwant it to end with:\n%s", c.result, h, want)
			}
		}
	})
}

// A commit whose canary was still under way when Argo CD synced a later commit that contains it
// (Argo Rollouts replaces the canary with the newer one) never sees its own rollout end: once
// every application is at rest at that later commit, the request closes SUCCEEDED, superseded;
// not before, and not at a later commit of another branch.
func TestARequestWhoseCanaryALaterCommitReplacedSucceedsSuperseded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		apps := &fakeApps{env: map[string][]deploys.AppState{}}
		ro := &recordedRollouts{by: map[string]deploys.RolloutEvent{}}
		s := settling(t, f, apps, ro)
		first, err := s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "staging", Version: digest})
		if err != nil || first.State != deploys.RollingOut {
			t.Fatalf("first %+v, %v", first, err)
		}
		ro.mu.Lock()
		ro.by[first.CommitSHA] = deploys.RolloutEvent{Revision: first.CommitSHA, Result: deploys.RolloutRunning, Progress: "canary step 2 of 5, weight 20%, paused until promoted"}
		ro.mu.Unlock()
		second, err := s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "staging", Version: digest2})
		if err != nil || second.State != deploys.RollingOut {
			t.Fatalf("second %+v, %v", second, err)
		}
		moving := atRest(second.CommitSHA)
		moving.Healthy = false // the later commit's canary runs
		for _, a := range []deploys.AppState{atRest(first.CommitSHA), moving} {
			apps.set("staging", a)
			s.SettlePass(context.Background())
			if got, _ := s.Get(carol, first.ID); got.State != deploys.RollingOut {
				t.Fatalf("with the application %+v, the first request is %+v", a, got)
			}
		}
		apps.set("staging", atRest(second.CommitSHA))
		s.SettlePass(context.Background())
		got, err := s.Get(carol, first.ID)
		want := "superseded before its own rollout ended (a later commit that contains it was synced over its canary): payments-api on Argo CD prod is synced at " +
			second.CommitSHA[:12] + ", which contains this commit, and healthy"
		if err != nil || got.State != deploys.Succeeded || got.Outcome != want {
			t.Fatalf("the first request: %+v, %v", got, err)
		}
	})
}

// The same canary step heard by several followers at once (replicas, an event beside a settle
// pass) is one transition: each read a different last note before any wrote, and the store tells
// the step once all the same.
func TestTheSameStepHeardAtOnceByManyFollowersIsToldOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		q, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "staging", Version: digest})
		if err != nil || q.State != deploys.RollingOut {
			t.Fatalf("%+v, %v", q, err)
		}
		ev := deploys.RolloutEvent{Revision: q.CommitSHA, Result: deploys.RolloutRunning, Progress: "canary step 2 of 5, weight 5%, paused until promoted"}
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() { f.s.Observe(context.Background(), ev) })
		}
		wg.Wait()
		ts, err := f.s.Transitions(carol, q.ID)
		if err != nil {
			t.Fatal(err)
		}
		told := 0
		for _, tr := range ts {
			if tr.Note == ev.Progress {
				told++
			}
		}
		if told != 1 {
			t.Fatalf("the step was told %d times: %s", told, history(t, f.s, q.ID))
		}
	})
}

func TestAStepHeardAgainAfterALaterOneIsNotToldAgain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		q, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "staging", Version: digest})
		if err != nil || q.State != deploys.RollingOut {
			t.Fatalf("%+v, %v", q, err)
		}
		step := func(progress string) {
			f.s.Observe(context.Background(), deploys.RolloutEvent{Revision: q.CommitSHA, Result: deploys.RolloutRunning, Progress: progress})
		}
		// A replica that lags tells step 1 again after another told step 2.
		step("canary step 1 of 5, weight 5%")
		step("canary step 2 of 5, weight 5%, paused until promoted")
		step("canary step 1 of 5, weight 5%")
		step("canary step 4 of 5, weight 25%, paused for 10s")
		ts, err := f.s.Transitions(carol, q.ID)
		if err != nil {
			t.Fatal(err)
		}
		var told []string
		for _, tr := range ts {
			if strings.HasPrefix(tr.Note, "canary step") {
				told = append(told, tr.Note)
			}
		}
		want := []string{"canary step 1 of 5, weight 5%", "canary step 2 of 5, weight 5%, paused until promoted", "canary step 4 of 5, weight 25%, paused for 10s"}
		if !slices.Equal(told, want) {
			t.Fatalf("told %q, want %q: %s", told, want, history(t, f.s, q.ID))
		}
	})
}

package deploys_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/deploys"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/testutil"
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
		// An apply that started less than ApplyGrace ago is left alone (its applier may not lock).
		s.Tick(context.Background())
		if got, _ := s.Get(carol, q.ID); got.State != deploys.Applying {
			t.Fatalf("a request APPLYING for no time was resumed: %+v", got)
		}
		// Then nobody holds its apply lock: its process died, and the next pass resumes it.
		f.clk.Add(deploys.ApplyGrace)
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
		f.clk.Add(deploys.ApplyGrace)
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

// blockingApplier is an Applier whose first apply waits, once begun, until the test releases it
// (or its context ends), and then applies for real: an apply caught mid-push. Later applies go
// straight through.
type blockingApplier struct {
	inner   deploys.Applier
	entered chan struct{} // receives when the first apply has begun
	release chan struct{} // closed to let it go on
	calls   atomic.Int32
}

func newBlockingApplier(t *testing.T) *blockingApplier {
	return &blockingApplier{inner: mustCommitter(t), entered: make(chan struct{}, 1), release: make(chan struct{})}
}

func (b *blockingApplier) Apply(ctx context.Context, c deploys.Change) (deploys.Applied, error) {
	if b.calls.Add(1) > 1 {
		return b.inner.Apply(ctx, c)
	}
	b.entered <- struct{}{}
	select {
	case <-b.release:
	case <-ctx.Done():
		return deploys.Applied{}, ctx.Err()
	}
	return b.inner.Apply(ctx, c)
}

// approving has alice approve request id on s in the background (its apply blocks in a), and
// returns once the apply has begun; the channel gives Approve's answer when it returns.
func approving(t *testing.T, s *deploys.Service, a *blockingApplier, id int64) <-chan deploys.Request {
	t.Helper()
	done := make(chan deploys.Request, 1)
	go func() {
		got, err := s.Approve(alice, id, "")
		if err != nil {
			t.Errorf("approve: %v", err)
		}
		done <- got
	}()
	select {
	case <-a.entered:
	case got := <-done:
		t.Fatalf("the approval returned before its apply began: %+v", got)
	}
	return done
}

// replica is another Portside on the fixture's database whose applies go through applier.
func replica(t *testing.T, f *fixture, applier deploys.Applier) *deploys.Service {
	t.Helper()
	return deploys.NewService(f.st, deploys.Options{Catalog: f.cat, Applier: applier, Rollouts: &recordedRollouts{},
		Environments: map[string]deploys.EnvironmentPolicy{"production": {RequireApproval: true, Expiry: 4 * time.Hour}},
		PortalURL:    "https://portal.acme.example/", Audit: audit.New(f.st, nil), Now: f.clk.Now})
}

// commitsOf counts the commits on main that carry request id's trailer.
func commitsOf(t *testing.T, bare string, id int64) int {
	t.Helper()
	out := strings.TrimSpace(git(t, bare, "log", "--format=%H", "--grep=^Deploy-Request: "+strconv.FormatInt(id, 10)+"$", "main"))
	if out == "" {
		return 0
	}
	return len(strings.Split(out, "\n"))
}

// endApplySession ends the PostgreSQL session that holds request id's apply lock, as the server
// ends a SIGKILLed process's, and waits until it is gone.
func endApplySession(t *testing.T, st *store.Store, id int64) {
	t.Helper()
	var schema string
	if err := st.Gorm().Raw("SELECT current_schema()").Scan(&schema).Error; err != nil {
		t.Fatal(err)
	}
	var ended int
	err := st.Gorm().Raw(`SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 10000)) FROM pg_locks WHERE locktype = 'advisory'
		AND granted AND objsubid = 2 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND classid = ?::int4::oid AND objid = ?::int4::oid`, deploys.ApplyLockClass, store.LockKey(schema, id)).Scan(&ended).Error
	if err != nil || ended != 1 {
		t.Fatalf("ended %d sessions holding the apply lock of %d: %v", ended, id, err)
	}
}

// stateOf is request id's state, read by carol.
func stateOf(t *testing.T, s *deploys.Service, id int64) deploys.Request {
	t.Helper()
	q, err := s.Get(carol, id)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestAnApplyUnderWayInALiveReplicaIsLeftAloneUntilItsSessionEnds(t *testing.T) {
	st := storetest.Postgres(t)
	f := newFixture(t, st)
	q, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: "1.5.0"})
	if err != nil {
		t.Fatal(err)
	}
	// Replica A approves the request; its apply is mid-push, holding the request's apply lock.
	blocked := newBlockingApplier(t)
	a := replica(t, f, blocked)
	applied := approving(t, a, blocked, q.ID)
	// The leader, B, passes well after the grace: A is alive, so the request is A's.
	b := restarted(t, f, &recordedRollouts{})
	f.clk.Add(deploys.ApplyGrace + time.Minute)
	if f.clk.Now().Sub(stateOf(t, b, q.ID).UpdatedAt) >= b.StaleApplying() {
		t.Fatal("the test's clock went past StaleApplying")
	}
	b.Tick(context.Background())
	if got := stateOf(t, b, q.ID); got.State != deploys.Applying || commitsOf(t, f.bare, q.ID) != 0 {
		t.Fatalf("a live replica's apply was taken: %+v, %d commits", got, commitsOf(t, f.bare, q.ID))
	}
	// A is killed: the server ends its session, and B's next pass resumes the request.
	endApplySession(t, st, q.ID)
	b.Tick(context.Background())
	got := stateOf(t, b, q.ID)
	if got.State != deploys.RollingOut || commitsOf(t, f.bare, q.ID) != 1 {
		t.Fatalf("after A's session ended: %+v, %d commits", got, commitsOf(t, f.bare, q.ID))
	}
	if h := history(t, b, q.ID); !strings.Contains(h, "portside SYSTEM APPLYING->ROLLING_OUT: commit "+got.CommitSHA[:12]+" pushed to "+f.bare+" (main), resuming an apply cut short") {
		t.Errorf("history:\n%s", h)
	}
	// Had A lived on without its session (a broken connection), its push finds B's commit: still one.
	close(blocked.release)
	<-applied
	if again := stateOf(t, b, q.ID); again.State != deploys.RollingOut || again.CommitSHA != got.CommitSHA || commitsOf(t, f.bare, q.ID) != 1 {
		t.Fatalf("after A went on: %+v, %d commits", again, commitsOf(t, f.bare, q.ID))
	}
	if n := strings.Count(history(t, b, q.ID), "APPLYING->ROLLING_OUT"); n != 1 {
		t.Errorf("%d moves to ROLLING_OUT:\n%s", n, history(t, b, q.ID))
	}
}

func TestAnApplyUnderWayIsNotTakenByItsOwnProcessesPass(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		q, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: "1.5.0"})
		if err != nil {
			t.Fatal(err)
		}
		blocked := newBlockingApplier(t)
		s := replica(t, f, blocked)
		applied := approving(t, s, blocked, q.ID)
		f.clk.Add(deploys.ApplyGrace + time.Minute)
		s.Tick(context.Background())
		if got := stateOf(t, s, q.ID); got.State != deploys.Applying || blocked.calls.Load() != 1 {
			t.Fatalf("the leader's own apply was taken by its pass: %+v, %d applies", got, blocked.calls.Load())
		}
		close(blocked.release)
		if got := <-applied; got.State != deploys.RollingOut || commitsOf(t, f.bare, q.ID) != 1 {
			t.Fatalf("the apply: %+v, %d commits", got, commitsOf(t, f.bare, q.ID))
		}
	})
}

func TestOnSQLiteARequestApplyingButNotInTheProcessesSetIsResumedAtTheNextPass(t *testing.T) {
	st := storetest.SQLite(t)
	f := newFixture(t, st)
	q, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: "1.5.0"})
	if err != nil {
		t.Fatal(err)
	}
	// serve applies the request and is killed mid-push (its goroutine stands for the dead process).
	blocked := newBlockingApplier(t)
	applied := approving(t, replica(t, f, blocked), blocked, q.ID)
	// serve starts again: the request is APPLYING, and not among the applies of this process.
	s := restarted(t, f, &recordedRollouts{})
	s.Tick(context.Background())
	if got := stateOf(t, s, q.ID); got.State != deploys.Applying {
		t.Fatalf("a request APPLYING for less than the grace was resumed: %+v", got)
	}
	f.clk.Add(deploys.ApplyGrace)
	if deploys.ApplyGrace >= s.StaleApplying() {
		t.Fatalf("the grace %s is not shorter than StaleApplying %s", deploys.ApplyGrace, s.StaleApplying())
	}
	s.Tick(context.Background())
	if got := stateOf(t, s, q.ID); got.State != deploys.RollingOut || commitsOf(t, f.bare, q.ID) != 1 {
		t.Fatalf("after the grace: %+v, %d commits", got, commitsOf(t, f.bare, q.ID))
	}
	close(blocked.release)
	<-applied
	if n := commitsOf(t, f.bare, q.ID); n != 1 {
		t.Fatalf("%d commits", n)
	}
}

func TestWithoutItsApplyLockARequestWaitsAndIsResumedOnlyAfterStaleApplying(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		s := restarted(t, f, &recordedRollouts{})
		deploys.BreakApplyLocks(s, errs.E(errs.Unavailable, "connect to database: connection refused"))
		// Applied unlocked, it would look cut short to every pass: the approved request waits.
		q, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: "1.5.0"})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.Approve(alice, q.ID, ""); err != nil || got.State != deploys.Approved ||
			got.Waiting != "cannot apply now (connect to database: connection refused); Portside tries again" || commitsOf(t, f.bare, q.ID) != 0 {
			t.Fatalf("approved without a lock: %+v %v", got, err)
		}
		// A request a dead process left APPLYING: whether its applier lives cannot be told, so
		// today's rule holds: it is resumed once StaleApplying has passed.
		left, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: digest})
		if err != nil {
			t.Fatal(err)
		}
		strand(t, st, left.ID, f.clk.Now())
		f.clk.Add(deploys.ApplyGrace + time.Minute)
		s.Tick(context.Background())
		if got := stateOf(t, s, left.ID); got.State != deploys.Applying || commitsOf(t, f.bare, left.ID) != 0 {
			t.Fatalf("resumed before StaleApplying without its lock: %+v", got)
		}
		f.clk.Add(s.StaleApplying() - deploys.ApplyGrace - time.Minute)
		s.Tick(context.Background())
		if got := stateOf(t, s, left.ID); got.State != deploys.RollingOut || commitsOf(t, f.bare, left.ID) != 1 {
			t.Fatalf("after StaleApplying: %+v, %d commits", got, commitsOf(t, f.bare, left.ID))
		}
	})
}

func TestANewLeaderResumesTheApplyItsKilledPredecessorJustStartedOnceTheGraceIsOver(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		q, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: "1.5.0"})
		if err != nil {
			t.Fatal(err)
		}
		// The leader was killed right after the request became APPLYING; a new leader starts its
		// passes, an hour apart, at once.
		strand(t, st, q.ID, f.clk.Now())
		passed := make(chan struct{})
		var once sync.Once
		s := deploys.NewService(st, deploys.Options{Catalog: f.cat, Applier: mustCommitter(t), Interval: time.Hour,
			Environments: map[string]deploys.EnvironmentPolicy{"production": {RequireApproval: true, Expiry: 4 * time.Hour}},
			Now:          func() time.Time { once.Do(func() { close(passed) }); return f.clk.Now() }})
		ctx, cancel := context.WithCancel(context.Background())
		ran := make(chan struct{})
		go func() { defer close(ran); s.RunTicks(ctx) }()
		defer func() { cancel(); <-ran }()
		// Its first pass reads the clock before the grace is over, and leaves the request alone...
		<-passed
		f.clk.Add(deploys.ApplyGrace)
		// ...and one more pass, once the grace is over, not an hour later, resumes it.
		testutil.Eventually(t, time.Minute, func() bool { return stateOf(t, s, q.ID).State == deploys.RollingOut }, "the request was not resumed")
		if n := commitsOf(t, f.bare, q.ID); n != 1 {
			t.Fatalf("%d commits", n)
		}
	})
}

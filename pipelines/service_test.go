package pipelines_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/pipelines"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// fakeCatalog knows components by ref, and who owns them by username.
type fakeCatalog struct {
	annotations map[string]map[string]string
	owners      map[string][]string
}

func (c *fakeCatalog) ComponentAnnotations(_ context.Context, field, ref string) (string, map[string]string, error) {
	if ann, ok := c.annotations[ref]; ok {
		return ref, ann, nil
	}
	if ann, ok := c.annotations["component:default/"+ref]; ok {
		return "component:default/" + ref, ann, nil
	}
	return "", nil, errs.E(errs.NotFound, "%s: no component %s", field, ref)
}

func (c *fakeCatalog) Owns(_ context.Context, p *principal.Principal, ref string) (bool, error) {
	for _, o := range c.owners[ref] {
		if p != nil && o == p.Username {
			return true, nil
		}
	}
	return false, nil
}

// fakeProvider records its calls; its answers are its function fields.
type fakeProvider struct {
	triggers, cancels, retries atomic.Int64
	trigger                    func(pipelines.TriggerRequest) (pipelines.Update, error)
	cancelErr                  error // what Cancel answers, when set
	mu                         sync.Mutex
	status                     map[string]pipelines.Update // by provider run ID
	// asked are the declarations Status, Cancel and Retry were last given.
	asked struct{ status, cancel, retry pipelines.Declaration }
}

func (f *fakeProvider) Name() string { return "github" }

func (f *fakeProvider) Trigger(_ context.Context, req pipelines.TriggerRequest) (pipelines.Update, error) {
	f.triggers.Add(1)
	if f.trigger != nil {
		return f.trigger(req)
	}
	return pipelines.Update{ProviderRunID: "gh-" + strconv.FormatInt(req.RunID, 10), URL: "https://github.example/run", Status: pipelines.Queued}, nil
}

func (f *fakeProvider) set(id string, u pipelines.Update) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.status == nil {
		f.status = map[string]pipelines.Update{}
	}
	f.status[id] = u
}

func (f *fakeProvider) Status(_ context.Context, run pipelines.Run, decl pipelines.Declaration) (pipelines.Update, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked.status = decl
	u, ok := f.status[run.ProviderRunID]
	if !ok {
		return pipelines.Update{}, nil
	}
	return u, nil
}

func (f *fakeProvider) Cancel(_ context.Context, run pipelines.Run, decl pipelines.Declaration) error {
	f.cancels.Add(1)
	f.mu.Lock()
	f.asked.cancel = decl
	f.mu.Unlock()
	if f.cancelErr != nil {
		return f.cancelErr
	}
	f.set(run.ProviderRunID, pipelines.Update{Status: pipelines.Cancelled})
	return nil
}

func (f *fakeProvider) Retry(_ context.Context, run pipelines.Run, req pipelines.TriggerRequest) (pipelines.Update, error) {
	f.retries.Add(1)
	f.mu.Lock()
	f.asked.retry = req.Pipeline
	f.mu.Unlock()
	f.set(run.ProviderRunID, pipelines.Update{Status: pipelines.Queued, Attempt: run.Attempt + 1})
	return pipelines.Update{Status: pipelines.Queued, Attempt: run.Attempt + 1}, nil
}

const checkout = "component:default/checkout"

var (
	bob   = principal.With(context.Background(), &principal.Principal{Username: "bob", Kind: principal.KindToken, Client: principal.ClientAPI})
	carol = principal.With(context.Background(), &principal.Principal{Username: "carol", Kind: principal.KindSession, Client: principal.ClientWeb})
	admin = principal.With(context.Background(), &principal.Principal{Username: "alice", Admin: true, Kind: principal.KindSession, Client: principal.ClientWeb})
)

func newService(t *testing.T, st *store.Store, prov pipelines.Provider, opts pipelines.Options) *pipelines.Service {
	t.Helper()
	if opts.Catalog == nil {
		opts.Catalog = newFakeCatalog()
	}
	opts.Providers = []pipelines.Provider{prov}
	s := pipelines.NewService(st, opts)
	t.Cleanup(s.Stop)
	return s
}

// newFakeCatalog holds checkout, owned by bob, declaring goodDeclaration on acme/checkout.
func newFakeCatalog() *fakeCatalog {
	return &fakeCatalog{
		annotations: map[string]map[string]string{checkout: {pipelines.AnnotationGitHubSlug: "acme/checkout", pipelines.AnnotationPipelines: goodDeclaration}},
		owners:      map[string][]string{checkout: {"bob"}},
	}
}

func release(key string) pipelines.TriggerInput {
	return pipelines.TriggerInput{Component: "checkout", Pipeline: "release", Parameters: map[string]string{"version": "1.0.0"}, IdempotencyKey: key}
}

func TestAnOwnerTriggersARunThatRecordsWhoHowAndWhat(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		prov := &fakeProvider{}
		s := newService(t, st, prov, pipelines.Options{})
		run, err := s.Trigger(bob, release("k1"))
		if err != nil {
			t.Fatal(err)
		}
		if run.Component != checkout || run.Pipeline != "release" || run.Provider != "github" || run.Ref != "main" ||
			run.TriggeredBy != "bob" || run.Client != "api" || run.IdempotencyKey != "k1" || run.ProviderRunID == "" || run.Status != pipelines.Queued {
			t.Errorf("run = %+v", run)
		}
		if run.Parameters["environment"] != "staging" || run.Parameters["version"] != "1.0.0" || run.Parameters["dryRun"] != "false" {
			t.Errorf("parameters = %v", run.Parameters)
		}
		if len(run.Stages) != 3 || run.Stages[0].Name != "Build" || run.Stages[0].Status != pipelines.Queued {
			t.Errorf("stages = %+v", run.Stages)
		}
		got, err := s.Run(bob, run.ID)
		if err != nil || got.ProviderRunID != run.ProviderRunID || got.Parameters["version"] != "1.0.0" {
			t.Errorf("read back %+v, %v", got, err)
		}
	})
}

// A ref git would not resolve as one name is refused before anything starts, naming the field.
func TestARefGitRefusesIsInvalid(t *testing.T) {
	st := storetest.SQLite(t)
	prov := &fakeProvider{}
	s := newService(t, st, prov, pipelines.Options{})
	for _, ref := range []string{"main..x", "main@{1}", "release.lock", "-x", "a b"} {
		in := release("")
		in.Ref = ref
		if _, err := s.Trigger(bob, in); !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != "ref" {
			t.Errorf("Trigger(ref %q) = %v, want INVALID naming ref", ref, err)
		}
	}
	if n := prov.triggers.Load(); n != 0 {
		t.Errorf("%d runs started", n)
	}
	// A branch named in another script is a branch git allows.
	in := release("")
	in.Ref = "feature/ünïcode"
	if run, err := s.Trigger(bob, in); err != nil || run.Ref != "feature/ünïcode" {
		t.Errorf("Trigger(ref feature/ünïcode) = %+v, %v", run, err)
	}
}

// A pipeline the component does not declare is NOT_FOUND naming pipeline, saying which it does.
func TestAnUndeclaredPipelineIsNotFoundNamingIt(t *testing.T) {
	s := newService(t, storetest.SQLite(t), &fakeProvider{}, pipelines.Options{})
	in := release("")
	in.Pipeline = "deploy"
	_, err := s.Trigger(bob, in)
	if !errs.Is(err, errs.NotFound) || errs.FieldOf(err) != "pipeline" || !strings.Contains(errs.PublicMessage(err), `it declares "release", "dev"`) {
		t.Errorf("an undeclared pipeline: %v (field %q), want NOT_FOUND naming pipeline", err, errs.FieldOf(err))
	}
}

// A bound said in characters counts characters, not bytes: an idempotency key or a ref of as many
// characters as its bound allows, each of two bytes, is not refused for its length (such a ref is
// no git ref, which is another error), and one character more is refused with its count of
// characters.
func TestTriggerBoundsInCharactersCountCharacters(t *testing.T) {
	s := newService(t, storetest.SQLite(t), &fakeProvider{}, pipelines.Options{})
	for _, tc := range []struct {
		field string
		max   int
		input func(v string) pipelines.TriggerInput
	}{
		{"idempotencyKey", pipelines.MaxIdempotencyKey, func(v string) pipelines.TriggerInput { return release(v) }},
		{"ref", pipelines.MaxRef, func(v string) pipelines.TriggerInput {
			in := release("")
			in.Ref = v
			return in
		}},
	} {
		t.Run(tc.field, func(t *testing.T) {
			testutil.CharacterBound(t, tc.field, tc.max, func(v string) error {
				_, err := s.Trigger(bob, tc.input(v))
				return err
			})
		})
	}
}

func TestOnlyTheComponentsOwnersAndAdminsTrigger(t *testing.T) {
	st := storetest.SQLite(t)
	prov := &fakeProvider{}
	s := newService(t, st, prov, pipelines.Options{Audit: audit.New(st, nil)})
	if _, err := s.Trigger(carol, release("")); !errs.Is(err, errs.Forbidden) {
		t.Errorf("carol (not an owner): %v, want FORBIDDEN", err)
	}
	if _, err := s.Trigger(context.Background(), release("")); !errs.Is(err, errs.Unauthenticated) {
		t.Errorf("anonymous: %v, want UNAUTHENTICATED", err)
	}
	run, err := s.Trigger(admin, release(""))
	if err != nil {
		t.Errorf("admin: %v", err)
	}
	if n := prov.triggers.Load(); n != 1 {
		t.Errorf("the provider was asked %d times, want once (for the admin)", n)
	}
	recs, err := audit.New(st, nil).Query(admin, audit.Filter{Action: "pipelines.run.trigger"}, 10, "")
	if err != nil {
		t.Fatal(err)
	}
	outcomes := map[audit.Outcome]int{}
	for _, r := range recs.Records {
		if r.Action == "pipelines.run.trigger" {
			outcomes[r.Outcome]++
		}
		// The record of the trigger that started a run names it.
		if r.Outcome == audit.OK && !strings.Contains(string(r.Arguments), `"run":`+strconv.FormatInt(run.ID, 10)) {
			t.Errorf("the trigger's record does not name run %d: %s", run.ID, r.Arguments)
		}
	}
	if outcomes[audit.Denied] != 2 || outcomes[audit.OK] != 1 {
		t.Errorf("audit outcomes = %v, want 2 denied, 1 ok", outcomes)
	}
}

func TestFiftyConcurrentTriggersWithOneKeyStartOneRun(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		prov := &fakeProvider{}
		s := newService(t, st, prov, pipelines.Options{})
		const n = 50
		ids := make([]int64, n)
		errors := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				run, err := s.Trigger(bob, release("deploy-42"))
				ids[i], errors[i] = run.ID, err
			}()
		}
		close(start)
		wg.Wait()
		for i := range n {
			if errors[i] != nil {
				t.Fatalf("trigger %d: %v", i, errors[i])
			}
			if ids[i] != ids[0] {
				t.Fatalf("trigger %d got run %d, trigger 0 run %d", i, ids[i], ids[0])
			}
		}
		if c := prov.triggers.Load(); c != 1 {
			t.Errorf("the provider was asked to start %d runs, want 1", c)
		}
		page, err := s.Runs(bob, pipelines.Filter{Component: "checkout"}, 10, "")
		if err != nil || page.TotalCount != 1 {
			t.Errorf("runs recorded: %v, %v; want 1", page, err)
		}
		// The key with other inputs is another request, which the key must not silently answer.
		other := release("deploy-42")
		other.Parameters["environment"] = "production"
		if _, err := s.Trigger(bob, other); !errs.Is(err, errs.Conflict) {
			t.Errorf("same key, other parameters: %v, want CONFLICT", err)
		}
	})
}

func TestAFailedStageFailsTheRunAndSkipsTheRest(t *testing.T) {
	st := storetest.SQLite(t)
	prov := &fakeProvider{}
	s := newService(t, st, prov, pipelines.Options{})
	run, err := s.Trigger(bob, release(""))
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	t1, t2 := t0.Add(time.Minute), t0.Add(3*time.Minute)
	// The engine still says running: the failed stage alone fails the run.
	prov.set(run.ProviderRunID, pipelines.Update{Status: pipelines.Running, CommitSHA: "abc123", Stages: []pipelines.Stage{
		{Name: "Build", Status: pipelines.Succeeded, StartedAt: &t0, FinishedAt: &t1, LogURL: "https://github.example/log/1"},
		{Name: "Test", Status: pipelines.Failed, StartedAt: &t1, FinishedAt: &t2},
	}})
	if _, err := s.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Run(bob, run.ID)
	if got.Status != pipelines.Failed || got.CommitSHA != "abc123" || got.FinishedAt == nil {
		t.Fatalf("run = %+v", got)
	}
	want := []pipelines.Status{pipelines.Succeeded, pipelines.Failed, pipelines.Skipped}
	for i, st := range want {
		if got.Stages[i].Status != st {
			t.Errorf("stage %s = %s, want %s", got.Stages[i].Name, got.Stages[i].Status, st)
		}
	}
	if d := got.Stages[0].Duration(); d != time.Minute || got.Stages[0].LogURL == "" {
		t.Errorf("Build took %v, log %q", d, got.Stages[0].LogURL)
	}
	// History is immutable: the engine saying otherwise later does not revive it.
	prov.set(run.ProviderRunID, pipelines.Update{Status: pipelines.Running})
	_, _ = s.Poll(context.Background())
	if again, _ := s.Run(bob, run.ID); again.Status != pipelines.Failed {
		t.Errorf("a finished run went back to %s", again.Status)
	}
}

func TestCancelAndRetry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		prov := &fakeProvider{}
		s := newService(t, st, prov, pipelines.Options{})
		run, err := s.Trigger(bob, release(""))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Cancel(carol, run.ID); !errs.Is(err, errs.Forbidden) {
			t.Errorf("carol cancels: %v, want FORBIDDEN", err)
		}
		if _, err := s.Retry(bob, run.ID); !errs.Is(err, errs.Conflict) {
			t.Errorf("retry of a queued run: %v, want CONFLICT", err)
		}
		cancelled, err := s.Cancel(bob, run.ID)
		if err != nil || cancelled.Status != pipelines.Cancelled {
			t.Fatalf("cancel: %+v, %v", cancelled, err)
		}
		for _, st := range cancelled.Stages {
			if st.Status != pipelines.Skipped {
				t.Errorf("stage %s of a cancelled run is %s", st.Name, st.Status)
			}
		}
		if _, err := s.Cancel(bob, run.ID); !errs.Is(err, errs.Conflict) {
			t.Errorf("cancel twice: %v, want CONFLICT", err)
		}
		retry, err := s.Retry(bob, run.ID)
		if err != nil {
			t.Fatal(err)
		}
		if retry.ID == run.ID || retry.RetryOf == nil || *retry.RetryOf != run.ID || retry.Attempt != 1 || retry.ProviderRunID != run.ProviderRunID {
			t.Errorf("retry = %+v", retry)
		}
		again, err := s.Retry(bob, run.ID)
		if err != nil || again.ID != retry.ID || prov.retries.Load() != 1 {
			t.Errorf("retrying the same run again gave run %d (%v), %d provider retries; want run %d, 1", again.ID, err, prov.retries.Load(), retry.ID)
		}
		if old, _ := s.Run(bob, run.ID); old.Status != pipelines.Cancelled {
			t.Errorf("the retried run became %s; history is immutable", old.Status)
		}
		page, err := s.PipelineRuns(bob, checkout, "release", pipelines.Filter{}, 1, "")
		if err != nil || len(page.Runs) != 1 || page.Runs[0].ID != retry.ID || !page.HasNextPage || page.TotalCount != 2 {
			t.Fatalf("first page: %+v, %v", page, err)
		}
		next, err := s.PipelineRuns(bob, checkout, "release", pipelines.Filter{}, 1, page.EndCursor)
		if err != nil || len(next.Runs) != 1 || next.Runs[0].ID != run.ID || next.HasNextPage {
			t.Errorf("second page: %+v, %v", next, err)
		}
	})
}

func TestAProviderThatRefusesLeavesAFailedRunAndSaysWhy(t *testing.T) {
	st := storetest.SQLite(t)
	prov := &fakeProvider{trigger: func(pipelines.TriggerRequest) (pipelines.Update, error) {
		return pipelines.Update{}, errs.E(errs.Unavailable, "GitHub is down")
	}}
	s := newService(t, st, prov, pipelines.Options{})
	if _, err := s.Trigger(bob, release("k")); !errs.Is(err, errs.Unavailable) {
		t.Fatalf("trigger: %v, want UNAVAILABLE", err)
	}
	page, _ := s.Runs(bob, pipelines.Filter{}, 10, "")
	if len(page.Runs) != 1 || page.Runs[0].Status != pipelines.Failed || page.Runs[0].Message == "" {
		t.Errorf("runs = %+v", page.Runs)
	}
	// GitHub unreachable may have started the run all the same (an answer lost on the way): the
	// key keeps the attempt, and the same request answers it, starting nothing.
	prov.trigger = nil
	if again, err := s.Trigger(bob, release("k")); err != nil || again.ID != page.Runs[0].ID || prov.triggers.Load() != 1 {
		t.Fatalf("the same request after an unknown outcome: run %d, %v (%d triggers), want run %d and nothing started",
			again.ID, err, prov.triggers.Load(), page.Runs[0].ID)
	}
	// A refusal for certain (the workflow is not there) frees the key with the failure: the same
	// request, once the workflow is, starts the run, and the failed attempt stays in history.
	prov.trigger = func(pipelines.TriggerRequest) (pipelines.Update, error) {
		return pipelines.Update{}, errs.E(errs.NotFound, "GitHub: acme/checkout has no workflow release.yaml")
	}
	if _, err := s.Trigger(bob, release("k2")); !errs.Is(err, errs.NotFound) {
		t.Fatalf("trigger: %v, want NOT_FOUND", err)
	}
	prov.trigger = nil
	run, err := s.Trigger(bob, release("k2"))
	if err != nil || run.Status != pipelines.Queued || run.IdempotencyKey != "k2" || prov.triggers.Load() != 3 {
		t.Fatalf("the same request again: %+v, %v (%d triggers), want a new queued run", run, err, prov.triggers.Load())
	}
	if again, err := s.Trigger(bob, release("k2")); err != nil || again.ID != run.ID || prov.triggers.Load() != 3 {
		t.Errorf("and once more: run %d, %v, want run %d and nothing started", again.ID, err, run.ID)
	}
	refused, _ := s.Runs(bob, pipelines.Filter{Statuses: []pipelines.Status{pipelines.Failed}}, 10, "")
	if len(refused.Runs) != 2 || refused.Runs[0].IdempotencyKey != "" || refused.Runs[1].IdempotencyKey != "k" {
		t.Errorf("the failed attempts: %+v; want the refused one without its key, the unknown one with it", refused.Runs)
	}
}

// A run follows, cancels and retries as it was declared when it started: the catalog's later
// changes (a repository moved, a stage renamed, the declaration removed) are for later runs.
func TestARunKeepsTheDeclarationItStartedWith(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		prov := &fakeProvider{}
		cat := newFakeCatalog()
		s := newService(t, st, prov, pipelines.Options{Catalog: cat})
		run, err := s.Trigger(bob, release(""))
		if err != nil {
			t.Fatal(err)
		}
		if run.Declaration == nil || run.Declaration.Repository != "acme/checkout" {
			t.Fatalf("the run keeps %+v, want the declaration on acme/checkout", run.Declaration)
		}
		moved := strings.Replace(goodDeclaration, "stages: [Build, Test, Release]", "stages: [Compile, Test, Release]", 1)
		cat.annotations[checkout] = map[string]string{pipelines.AnnotationGitHubSlug: "acme/moved", pipelines.AnnotationPipelines: moved}
		prov.set(run.ProviderRunID, pipelines.Update{Status: pipelines.Running, Stages: []pipelines.Stage{{Name: "Build", Status: pipelines.Running}}})
		if _, err := s.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
		got, _ := s.Run(bob, run.ID)
		if prov.asked.status.Repository != "acme/checkout" || got.Status != pipelines.Running {
			t.Errorf("the follower read the run on %q (run %s), want acme/checkout", prov.asked.status.Repository, got.Status)
		}
		if names := stageNames(got.Stages); names != "Build Test Release" {
			t.Errorf("stages %s, want the ones it started with: Build Test Release", names)
		}
		// The declaration gone from the catalog: the run is still cancelled, where it runs.
		delete(cat.annotations[checkout], pipelines.AnnotationPipelines)
		cancelled, err := s.Cancel(bob, run.ID)
		if err != nil || cancelled.Status != pipelines.Cancelled || prov.asked.cancel.Repository != "acme/checkout" {
			t.Fatalf("cancel: %s, %v (on %q)", cancelled.Status, err, prov.asked.cancel.Repository)
		}
		retry, err := s.Retry(bob, run.ID)
		if err != nil || prov.asked.retry.Repository != "acme/checkout" || retry.Declaration == nil || stageNames(retry.Stages) != "Build Test Release" {
			t.Fatalf("retry: %+v, %v (on %q), want what the run ran", retry, err, prov.asked.retry.Repository)
		}
	})
}

// A retry is its run's one retry by the run it retries, not by an idempotency key a client could
// have taken first.
func TestARetryIsNotAnIdempotencyKeyAClientCanTake(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		prov := &fakeProvider{}
		s := newService(t, st, prov, pipelines.Options{})
		run, err := s.Trigger(bob, release(""))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Cancel(bob, run.ID); err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{"retry-of-" + strconv.FormatInt(run.ID, 10), "retry-of-" + strconv.FormatInt(run.ID+1, 10)} {
			if _, err := s.Trigger(bob, release(key)); err != nil {
				t.Fatalf("a trigger with key %q: %v", key, err)
			}
		}
		retry, err := s.Retry(bob, run.ID)
		if err != nil || retry.RetryOf == nil || *retry.RetryOf != run.ID || retry.IdempotencyKey != "" {
			t.Fatalf("retry: %+v, %v", retry, err)
		}
		again, err := s.Retry(bob, run.ID)
		if err != nil || again.ID != retry.ID || prov.retries.Load() != 1 {
			t.Errorf("retrying again: run %d, %v (%d provider retries), want run %d", again.ID, err, prov.retries.Load(), retry.ID)
		}
	})
}

func stageNames(stages []pipelines.Stage) string {
	names := make([]string, len(stages))
	for i, st := range stages {
		names[i] = st.Name
	}
	return strings.Join(names, " ")
}

func TestTheFollowerPublishesChangesAndStops(t *testing.T) {
	st := storetest.SQLite(t)
	prov := &fakeProvider{}
	s := newService(t, st, prov, pipelines.Options{Follower: pipelines.FollowerOptions{Interval: 10 * time.Millisecond}})
	run, err := s.Trigger(bob, release(""))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub, err := s.Watch(ctx, pipelines.Filter{Component: "checkout"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	s.Start(context.Background())
	prov.set(run.ProviderRunID, pipelines.Update{Status: pipelines.Succeeded})
	for r := range sub.C() {
		if r.ID == run.ID && r.Status == pipelines.Succeeded {
			break
		}
	}
	s.Stop()
	testutil.Eventually(t, 5*time.Second, func() bool {
		select {
		case _, open := <-sub.C():
			return !open
		default:
			return false
		}
	}, "Stop closes the subscriptions")
}

// A poll that read a run before it was cancelled must not put it back to RUNNING when it saves.
func TestAStalePollNeverUndoesANewerState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		prov := &fakeProvider{}
		s := newService(t, st, prov, pipelines.Options{})
		run, err := s.Trigger(bob, release(""))
		if err != nil {
			t.Fatal(err)
		}
		// The provider answers slowly: while it does, the run is cancelled.
		prov.set(run.ProviderRunID, pipelines.Update{Status: pipelines.Running})
		slow := &blockingProvider{fakeProvider: prov, reading: make(chan struct{}), release: make(chan struct{})}
		s2 := newService(t, st, slow, pipelines.Options{})
		polled := make(chan error, 1)
		go func() { _, err := s2.Poll(context.Background()); polled <- err }()
		<-slow.reading
		if _, err := s.Cancel(bob, run.ID); err != nil {
			t.Fatal(err)
		}
		close(slow.release)
		if err := <-polled; err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Run(bob, run.ID); got.Status != pipelines.Cancelled {
			t.Errorf("after a stale poll the run is %s, want CANCELLED", got.Status)
		}
	})
}

// blockingProvider answers Status with what the provider said before it was asked, once the test
// lets it: a slow engine.
type blockingProvider struct {
	*fakeProvider
	reading, release chan struct{}
	once             sync.Once
}

func (b *blockingProvider) Status(ctx context.Context, run pipelines.Run, d pipelines.Declaration) (pipelines.Update, error) {
	u, err := b.fakeProvider.Status(ctx, run, d)
	b.once.Do(func() { close(b.reading) })
	<-b.release
	return u, err
}

// DORA's lead time from pipeline runs: a run whose Deploy stage succeeded is deployed at that
// stage's end, and its lead time runs from the commit's time (as the provider reports it); a run
// whose Deploy stage failed deployed nothing.
func TestADeployStagesSuccessGivesTheRunsLeadTime(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		prov := &fakeProvider{}
		s := newService(t, st, prov, pipelines.Options{})
		committed := time.Date(2026, 1, 2, 1, 0, 0, 0, time.UTC)
		t0 := committed.Add(2 * time.Hour)
		stages := func(deploy pipelines.Status) []pipelines.Stage {
			t1, t2, t3 := t0.Add(time.Minute), t0.Add(2*time.Minute), t0.Add(3*time.Minute)
			return []pipelines.Stage{
				{Name: "Build", Status: pipelines.Succeeded, StartedAt: &t0, FinishedAt: &t1},
				{Name: "Test", Status: pipelines.Succeeded, StartedAt: &t1, FinishedAt: &t2},
				{Name: "Release", Status: pipelines.Succeeded, StartedAt: &t2, FinishedAt: &t2},
				{Name: "deploy", Status: deploy, StartedAt: &t2, FinishedAt: &t3},
			}
		}
		deployed, err := s.Trigger(bob, release("deployed"))
		if err != nil {
			t.Fatal(err)
		}
		failed, err := s.Trigger(bob, release("failed"))
		if err != nil {
			t.Fatal(err)
		}
		prov.set(deployed.ProviderRunID, pipelines.Update{Status: pipelines.Succeeded, CommittedAt: &committed, Stages: stages(pipelines.Succeeded)})
		prov.set(failed.ProviderRunID, pipelines.Update{Status: pipelines.Failed, CommittedAt: &committed, Stages: stages(pipelines.Failed)})
		if _, err := s.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
		got, _ := s.Run(bob, deployed.ID)
		if want := t0.Add(3 * time.Minute); got.DeployedAt == nil || !got.DeployedAt.Equal(want) || got.CommittedAt == nil || !got.CommittedAt.Equal(committed) {
			t.Fatalf("deployed run: committed %v, deployed %v; want %v, %v", got.CommittedAt, got.DeployedAt, committed, want)
		}
		if f, _ := s.Run(bob, failed.ID); f.DeployedAt != nil {
			t.Errorf("a run whose Deploy stage failed is deployed at %v", f.DeployedAt)
		}
		want := 2*time.Hour + 3*time.Minute
		for _, components := range [][]string{{checkout}, nil} {
			lt, err := s.LeadTimes(context.Background(), components, t0.Add(-time.Hour), t0.Add(time.Hour))
			if err != nil || len(lt) != 1 || len(lt[checkout]) != 1 || lt[checkout][0] != want {
				t.Errorf("lead times of %v: %v, %v; want %s: [%v]", components, lt, err, checkout, want)
			}
		}
		if lt, err := s.LeadTimes(context.Background(), []string{checkout}, t0.Add(time.Hour), t0.Add(2*time.Hour)); err != nil || len(lt) != 0 {
			t.Errorf("a window after the deploy: %v, %v; want none", lt, err)
		}
		if lt, err := s.LeadTimes(context.Background(), []string{"component:default/other"}, t0.Add(-time.Hour), t0.Add(time.Hour)); err != nil || len(lt) != 0 {
			t.Errorf("another component: %v, %v; want none", lt, err)
		}
	})
}

// A run still being started (no provider ID yet) is not known to its provider yet: that is no
// end, and a cancel the provider answers NOT_FOUND is refused with that answer, the run left as it
// was. (A run the provider had named and forgot ends: pipelines/local's tests.)
func TestCancellingARunItsProviderDoesNotKnowYet(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		unknown := errs.E(errs.NotFound, "no such run")
		starting := &fakeProvider{cancelErr: unknown, trigger: func(pipelines.TriggerRequest) (pipelines.Update, error) {
			return pipelines.Update{Status: pipelines.Queued}, nil // not named yet
		}}
		s2 := newService(t, st, starting, pipelines.Options{})
		run, err := s2.Trigger(bob, release("starting"))
		if err != nil || run.ProviderRunID != "" {
			t.Fatalf("trigger: %+v, %v", run, err)
		}
		if _, err := s2.Cancel(bob, run.ID); !errs.Is(err, errs.NotFound) {
			t.Errorf("cancel of a run being started, unknown to its provider: %v; want its NOT_FOUND", err)
		}
		if got, _ := s2.Run(bob, run.ID); !got.Active() {
			t.Errorf("the run being started was ended by a refused cancel: %s %q", got.Status, got.Message)
		}
	})
}

// A run recorded before runs kept their declaration (migration 00037: an empty one) reads the
// catalog's, as every run did before.
func TestARunWithoutAKeptDeclarationReadsTheCatalogs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		prov := &fakeProvider{}
		cat := newFakeCatalog()
		s := newService(t, st, prov, pipelines.Options{Catalog: cat})
		run, err := s.Trigger(bob, release(""))
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Gorm().Exec("UPDATE pipeline_runs SET declaration = '' WHERE id = ?", run.ID).Error; err != nil {
			t.Fatal(err)
		}
		if old, _ := s.Run(bob, run.ID); old.Declaration != nil {
			t.Fatalf("a run without a kept declaration reads as keeping %+v", old.Declaration)
		}
		cat.annotations[checkout] = map[string]string{pipelines.AnnotationGitHubSlug: "acme/moved", pipelines.AnnotationPipelines: goodDeclaration}
		if _, err := s.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
		if prov.asked.status.Repository != "acme/moved" {
			t.Errorf("the follower read the old run on %q, want the catalog's acme/moved", prov.asked.status.Repository)
		}
		if _, err := s.Cancel(bob, run.ID); err != nil || prov.asked.cancel.Repository != "acme/moved" {
			t.Errorf("cancel: %v (on %q), want it on the catalog's acme/moved", err, prov.asked.cancel.Repository)
		}
	})
}

package github_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/pipelines"
	"github.com/portside-dev/portside/pipelines/github"
	"github.com/portside-dev/portside/store/storetest"
)

// fakeGitHub speaks the REST endpoints the provider uses, as GitHub documents them, under
// /api/v3/ (GitHub Enterprise Server's root). Runs move when the test scripts them.
type fakeGitHub struct {
	t          *testing.T
	mu         sync.Mutex
	runs       []*fakeRun
	nextID     int64
	dispatches []map[string]any
	requests   map[string]int // "METHOD path" → count
	notMod     int
	// limit, when set, answers the next request instead of the API.
	limit func(w http.ResponseWriter) bool
	auth  string
	// hideRuns answers that many run lists empty (GitHub shows a dispatched run after a while).
	hideRuns int
}

type fakeRun struct {
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	DisplayTitle string `json:"display_title"`
	HeadSHA      string `json:"head_sha"`
	HeadCommit   struct {
		Timestamp string `json:"timestamp"`
	} `json:"head_commit"`
	Status               string `json:"status"`
	Conclusion           string `json:"conclusion,omitempty"`
	RunAttempt           int    `json:"run_attempt"`
	HTMLURL              string `json:"html_url"`
	RunStartedAt         string `json:"run_started_at"`
	UpdatedAt            string `json:"updated_at"`
	Event                string `json:"event"`
	jobs                 []fakeJob
	cancelled, rerunFail int
}

type fakeJob struct {
	Name        string `json:"name"`
	Status      string `json:"status"`
	Conclusion  string `json:"conclusion,omitempty"`
	StartedAt   string `json:"started_at,omitempty"`
	CompletedAt string `json:"completed_at,omitempty"`
	HTMLURL     string `json:"html_url"`
	RunID       int64  `json:"run_id"`
}

const stamp = "2026-01-02T03:04:05Z"

func newFakeGitHub(t *testing.T) (*fakeGitHub, *httptest.Server) {
	f := &fakeGitHub{t: t, nextID: 1000, requests: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v3/repos/acme/checkout/actions/workflows/release.yaml/dispatches", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Ref    string         `json:"ref"`
			Inputs map[string]any `json:"inputs"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.dispatches = append(f.dispatches, body.Inputs)
		f.nextID++
		// The workflow's run-name shows the dispatch input, as the README asks workflows to.
		f.runs = append(f.runs, &fakeRun{ID: f.nextID, Name: "Release", DisplayTitle: fmt.Sprintf("Release [%v]", body.Inputs["portside_dispatch_id"]),
			HeadSHA: "0123456789abcdef0123456789abcdef01234567", Status: "queued", RunAttempt: 1, Event: "workflow_dispatch",
			HTMLURL: "https://github.example/acme/checkout/actions/runs/" + strconv.FormatInt(f.nextID, 10), RunStartedAt: stamp, UpdatedAt: stamp})
		f.runs[len(f.runs)-1].HeadCommit.Timestamp = "2026-01-02T02:04:05Z"
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /api/v3/repos/acme/checkout/actions/workflows/release.yaml/runs", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		list := []*fakeRun{}
		if f.hideRuns > 0 {
			f.hideRuns--
			f.write(w, r, map[string]any{"total_count": 0, "workflow_runs": list})
			return
		}
		for i := len(f.runs) - 1; i >= 0; i-- { // newest first, as GitHub lists them
			list = append(list, f.runs[i])
		}
		f.write(w, r, map[string]any{"total_count": len(list), "workflow_runs": list})
	})
	mux.HandleFunc("GET /api/v3/repos/acme/checkout/actions/runs/{id}", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if run := f.run(r); run != nil {
			f.write(w, r, run)
			return
		}
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
	})
	mux.HandleFunc("GET /api/v3/repos/acme/checkout/actions/runs/{id}/jobs", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		run := f.run(r)
		if r.URL.Query().Get("filter") != "latest" {
			f.t.Errorf("jobs listed with filter %q, want latest", r.URL.Query().Get("filter"))
		}
		jobs := append([]fakeJob{}, run.jobs...)
		f.write(w, r, map[string]any{"total_count": len(jobs), "jobs": jobs})
	})
	mux.HandleFunc("POST /api/v3/repos/acme/checkout/actions/runs/{id}/cancel", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.run(r).cancelled++
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte("{}"))
	})
	mux.HandleFunc("POST /api/v3/repos/acme/checkout/actions/runs/{id}/rerun-failed-jobs", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.run(r).rerunFail++
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte("{}"))
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests[r.Method+" "+r.URL.Path]++
		f.auth = r.Header.Get("Authorization")
		limit := f.limit
		f.limit = nil
		f.mu.Unlock()
		if limit != nil && limit(w) {
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeGitHub) run(r *http.Request) *fakeRun {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	for _, run := range f.runs {
		if run.ID == id {
			return run
		}
	}
	return nil
}

// write answers JSON with an ETag of the body; a matching If-None-Match gets 304, as GitHub does.
func (f *fakeGitHub) write(w http.ResponseWriter, r *http.Request, v any) {
	body, _ := json.Marshal(v)
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		f.notMod++
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

func (f *fakeGitHub) script(id int64, fn func(r *fakeRun)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.runs {
		if r.ID == id {
			fn(r)
		}
	}
}

func (f *fakeGitHub) count(req string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[req]
}

const declaration = `- name: release
  provider: github
  workflow: release.yaml
  parameters:
    - {name: environment, type: choice, options: [staging, production], default: staging}
  stages: [Build, Test, Deploy]
`

type catalog struct{}

func (catalog) ComponentAnnotations(context.Context, string, string) (string, map[string]string, error) {
	return "component:default/checkout", map[string]string{pipelines.AnnotationGitHubSlug: "acme/checkout", pipelines.AnnotationPipelines: declaration}, nil
}

func (catalog) Owns(context.Context, *principal.Principal, string) (bool, error) { return true, nil }

var owner = principal.With(context.Background(), &principal.Principal{Username: "bob", Kind: principal.KindToken, Client: principal.ClientAPI})

func setup(t *testing.T) (*fakeGitHub, *github.Provider, *pipelines.Service, *testutil.Clock) {
	f, srv := newFakeGitHub(t)
	clock := testutil.NewClock(time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC))
	prov, err := github.New(github.Options{BaseURL: srv.URL + "/api/v3/", Token: "ghs_secret", Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	s := pipelines.NewService(storetest.SQLite(t), pipelines.Options{Catalog: catalog{}, Providers: []pipelines.Provider{prov},
		Follower: pipelines.FollowerOptions{Interval: 20 * time.Millisecond}})
	t.Cleanup(s.Stop)
	return f, prov, s, clock
}

func stages(r pipelines.Run) string {
	var out []string
	for _, s := range r.Stages {
		out = append(out, s.Name+"="+string(s.Status))
	}
	return strings.Join(out, " ")
}

func poll(t *testing.T, s *pipelines.Service, id int64) pipelines.Run {
	t.Helper()
	if _, err := s.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	r, err := s.Run(owner, id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestARunIsDispatchedFoundByItsDispatchIDAndFollowedJobByJob(t *testing.T) {
	f, prov, s, _ := setup(t)
	// Someone else's dispatch of the same workflow, newer than ours once ours is made: matching
	// by time would pick it.
	run, err := s.Trigger(owner, pipelines.TriggerInput{Component: "checkout", Pipeline: "release", Ref: "v1.2.0",
		Parameters: map[string]string{"environment": "production"}})
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.nextID++
	f.runs = append(f.runs, &fakeRun{ID: f.nextID, Name: "Release", DisplayTitle: "Release [someone-else]", Status: "queued", RunAttempt: 1})
	inputs := f.dispatches[0]
	auth := f.auth
	f.mu.Unlock()
	if inputs["environment"] != "production" || inputs["portside_dispatch_id"] == "" || inputs["portside_dispatch_id"] != run.DispatchID {
		t.Errorf("dispatch inputs = %v (dispatch ID %s)", inputs, run.DispatchID)
	}
	if auth != "Bearer ghs_secret" {
		t.Errorf("Authorization = %q", auth)
	}
	if run.ProviderRunID != "1001" || run.CommitSHA == "" || !strings.HasSuffix(run.URL, "/runs/1001") {
		t.Fatalf("run = %+v", run)
	}
	// The commit's time comes with the run (head_commit.timestamp), for DORA's lead time.
	if want := time.Date(2026, 1, 2, 2, 4, 5, 0, time.UTC); run.CommittedAt == nil || !run.CommittedAt.Equal(want) {
		t.Errorf("the run's commit time = %v, want %v (its head_commit's timestamp)", run.CommittedAt, want)
	}
	f.script(1001, func(r *fakeRun) {
		r.Status = "in_progress"
		r.jobs = []fakeJob{{Name: "Build", Status: "completed", Conclusion: "success", StartedAt: stamp, CompletedAt: "2026-01-02T03:06:05Z", HTMLURL: "https://github.example/job/1"},
			{Name: "Test", Status: "in_progress", StartedAt: "2026-01-02T03:06:05Z", HTMLURL: "https://github.example/job/2"}}
	})
	got := poll(t, s, run.ID)
	if got.Status != pipelines.Running || stages(got) != "Build=SUCCEEDED Test=RUNNING Deploy=QUEUED" || got.Stages[0].Duration() != 2*time.Minute {
		t.Errorf("running: %s %s (Build took %v)", got.Status, stages(got), got.Stages[0].Duration())
	}
	// Nothing changed: the polls are conditional and GitHub answers 304.
	before := prov.ConditionalHits()
	poll(t, s, run.ID)
	if prov.ConditionalHits() < before+2 {
		t.Errorf("an unchanged run was read without If-None-Match: %d → %d 304s", before, prov.ConditionalHits())
	}
	f.script(1001, func(r *fakeRun) {
		r.Status, r.Conclusion = "completed", "failure"
		r.jobs[1].Status, r.jobs[1].Conclusion, r.jobs[1].CompletedAt = "completed", "failure", "2026-01-02T03:08:05Z"
	})
	got = poll(t, s, run.ID)
	if got.Status != pipelines.Failed || stages(got) != "Build=SUCCEEDED Test=FAILED Deploy=SKIPPED" {
		t.Errorf("failed: %s %s", got.Status, stages(got))
	}
	// Re-run the failed jobs: a new run, linked, following the run's second attempt.
	retry, err := s.Retry(owner, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if f.count("POST /api/v3/repos/acme/checkout/actions/runs/1001/rerun-failed-jobs") != 1 || retry.Attempt != 2 || *retry.RetryOf != run.ID {
		t.Errorf("retry = %+v", retry)
	}
	// GitHub still shows attempt 1 until the re-run starts: the retry stays queued, not failed.
	if got := poll(t, s, retry.ID); got.Status != pipelines.Queued {
		t.Errorf("retry before GitHub starts it: %s", got.Status)
	}
	f.script(1001, func(r *fakeRun) {
		r.RunAttempt, r.Status, r.Conclusion = 2, "in_progress", ""
		r.jobs[1] = fakeJob{Name: "Test", Status: "in_progress", StartedAt: "2026-01-02T03:10:00Z"}
	})
	if got := poll(t, s, retry.ID); got.Status != pipelines.Running {
		t.Errorf("retry once started: %s %s", got.Status, stages(got))
	}
	if _, err := s.Cancel(owner, retry.ID); err != nil {
		t.Fatal(err)
	}
	if f.count("POST /api/v3/repos/acme/checkout/actions/runs/1001/cancel") != 1 {
		t.Error("cancel did not reach GitHub")
	}
	if old, _ := s.Run(owner, run.ID); old.Status != pipelines.Failed || old.Attempt != 1 {
		t.Errorf("the first run changed: %s attempt %d", old.Status, old.Attempt)
	}
}

func TestARunGitHubShowsLateIsFoundByTheFollower(t *testing.T) {
	f, _, s, _ := setup(t)
	f.mu.Lock()
	f.hideRuns = 1 // GitHub's list does not show the run yet when Portside first looks
	f.mu.Unlock()
	run, err := s.Trigger(owner, pipelines.TriggerInput{Component: "checkout", Pipeline: "release"})
	if err != nil {
		t.Fatal(err)
	}
	if run.ProviderRunID != "" || run.Status != pipelines.Queued {
		t.Fatalf("the run was found while hidden: %+v", run)
	}
	if got := poll(t, s, run.ID); got.ProviderRunID != "1001" {
		t.Fatalf("the follower did not find the run: %+v", got)
	}
}

func TestRateLimitsAreObeyed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		limit func(w http.ResponseWriter, now time.Time) bool
		wait  time.Duration
	}{
		{"403 with X-RateLimit-Reset", func(w http.ResponseWriter, now time.Time) bool {
			w.Header().Set("X-RateLimit-Limit", "5000")
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(now.Add(10*time.Minute).Unix(), 10))
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"message":"API rate limit exceeded"}`))
			return true
		}, 10 * time.Minute},
		{"429 with Retry-After", func(w http.ResponseWriter, _ time.Time) bool {
			w.Header().Set("Retry-After", "120")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"message":"Too many requests"}`))
			return true
		}, 2 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, _, s, clock := setup(t)
			run, err := s.Trigger(owner, pipelines.TriggerInput{Component: "checkout", Pipeline: "release"})
			if err != nil {
				t.Fatal(err)
			}
			f.mu.Lock()
			// The real clock decides X-RateLimit-Reset for go-github; the test clock, Portside's wait.
			f.limit = func(w http.ResponseWriter) bool { return tc.limit(w, clock.Now()) }
			f.mu.Unlock()
			poll(t, s, run.ID)
			path := "GET /api/v3/repos/acme/checkout/actions/runs/1001"
			n := f.count(path)
			clock.Add(tc.wait - time.Second)
			poll(t, s, run.ID)
			if f.count(path) != n {
				t.Errorf("Portside asked GitHub again %v before the limit reset", time.Second)
			}
			if _, err := s.Trigger(owner, pipelines.TriggerInput{Component: "checkout", Pipeline: "release"}); !errs.Is(err, errs.Unavailable) || !strings.Contains(err.Error(), "rate limit") {
				t.Errorf("trigger while limited: %v, want UNAVAILABLE about the rate limit", err)
			}
			clock.Add(2 * time.Second)
			poll(t, s, run.ID)
			if f.count(path) == n {
				t.Error("Portside did not ask GitHub again once the limit reset")
			}
		})
	}
}

func sign(secret, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func TestWebhookSignatures(t *testing.T) {
	body := `{"action":"completed","workflow_job":{"run_id":1001}}`
	if err := github.VerifySignature([]byte("s3cret"), []byte(body), sign("s3cret", body)); err != nil {
		t.Errorf("a correctly signed webhook: %v", err)
	}
	for name, sig := range map[string]string{
		"forged":        sign("guess", body),
		"missing":       "",
		"sha1":          "sha1=0123",
		"not hex":       "sha256=zz",
		"other payload": sign("s3cret", body+" "),
	} {
		err := github.VerifySignature([]byte("s3cret"), []byte(body), sig)
		if !errs.Is(err, errs.Unauthenticated) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s signature: %v", name, err)
		}
	}
	if err := github.VerifySignature(nil, []byte(body), sign("", body)); !errs.Is(err, errs.Unauthenticated) {
		t.Errorf("no secret configured: %v", err)
	}
	if id, err := github.RunOf("workflow_job", []byte(body)); id != "1001" || err != nil {
		t.Errorf("RunOf(workflow_job) = %q, %v", id, err)
	}
	if id, err := github.RunOf("workflow_run", []byte(`{"workflow_run":{"id":7}}`)); id != "7" || err != nil {
		t.Errorf("RunOf(workflow_run) = %q, %v", id, err)
	}
	if id, err := github.RunOf("push", []byte(`{}`)); id != "" || err != nil {
		t.Errorf("RunOf(push) = %q, %v", id, err)
	}
	// Valid JSON of the wrong shape is said to be so, naming the field.
	if _, err := github.RunOf("workflow_run", []byte(`{"workflow_run":{"id":"7"}}`)); !errs.Is(err, errs.Invalid) ||
		!strings.Contains(err.Error(), "workflow_run.id is a string, not a whole number") {
		t.Errorf("RunOf(workflow_run with a string id) = %v", err)
	}
}

func TestALostWebhookIsCoveredByTheFollower(t *testing.T) {
	f, _, s, _ := setup(t)
	run, err := s.Trigger(owner, pipelines.TriggerInput{Component: "checkout", Pipeline: "release"})
	if err != nil {
		t.Fatal(err)
	}
	f.script(1001, func(r *fakeRun) {
		r.Status, r.Conclusion = "completed", "success"
		r.jobs = []fakeJob{{Name: "Build", Status: "completed", Conclusion: "success"}, {Name: "Test", Status: "completed", Conclusion: "success"},
			{Name: "Deploy", Status: "completed", Conclusion: "success"}}
	})
	// No webhook arrives; the follower's loop polls and sees it.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub, err := s.Watch(ctx, pipelines.Filter{}, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	s.Start(ctx)
	for r := range sub.C() {
		if r.Status == pipelines.Succeeded {
			if stages(r) != "Build=SUCCEEDED Test=SUCCEEDED Deploy=SUCCEEDED" {
				t.Errorf("stages %s", stages(r))
			}
			return
		}
	}
	t.Fatalf("the subscription ended before the run finished: %v", sub.Err())
}

func TestAWebhookMakesPortsideReadTheRunAtOnce(t *testing.T) {
	f, _, s, _ := setup(t)
	run, err := s.Trigger(owner, pipelines.TriggerInput{Component: "checkout", Pipeline: "release"})
	if err != nil {
		t.Fatal(err)
	}
	f.script(1001, func(r *fakeRun) {
		r.Status = "in_progress"
		r.jobs = []fakeJob{{Name: "Build", Status: "in_progress", StartedAt: stamp}}
	})
	// What the webhook handler does once the delivery's signature holds.
	if err := s.Nudge(context.Background(), "github", "1001"); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Run(owner, run.ID)
	if got.Status != pipelines.Running || stages(got) != "Build=RUNNING Test=QUEUED Deploy=QUEUED" {
		t.Errorf("after the webhook: %s %s", got.Status, stages(got))
	}
	if err := s.Nudge(context.Background(), "github", "999999"); err != nil {
		t.Errorf("a webhook about a run Portside did not start: %v", err)
	}
}

func TestReadsStayWithinTheHourlyRequestBudget(t *testing.T) {
	f, srv := newFakeGitHub(t)
	clock := testutil.NewClock(time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC))
	// The trigger spends 3: the dispatch, the list that finds the run, and its jobs.
	prov, err := github.New(github.Options{BaseURL: srv.URL + "/api/v3/", RequestsPerHour: 3, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	s := pipelines.NewService(storetest.SQLite(t), pipelines.Options{Catalog: catalog{}, Providers: []pipelines.Provider{prov}})
	t.Cleanup(s.Stop)
	run, err := s.Trigger(owner, pipelines.TriggerInput{Component: "checkout", Pipeline: "release"})
	if err != nil || run.ProviderRunID != "1001" {
		t.Fatalf("trigger: %+v, %v", run, err)
	}
	path := "GET /api/v3/repos/acme/checkout/actions/runs/1001"
	poll(t, s, run.ID)
	if n := f.count(path); n != 0 {
		t.Errorf("the run was read %d times with the hour's budget spent", n)
	}
	// A person's action is never held back by the budget; its reads are.
	if _, err := s.Trigger(owner, pipelines.TriggerInput{Component: "checkout", Pipeline: "release"}); err != nil {
		t.Errorf("a trigger with the reads' budget spent: %v", err)
	}
	if f.count("POST /api/v3/repos/acme/checkout/actions/workflows/release.yaml/dispatches") != 2 {
		t.Error("the second dispatch was not sent")
	}
	clock.Add(time.Hour)
	poll(t, s, run.ID)
	if f.count(path) != 1 {
		t.Error("the run was not read once the next hour's budget began")
	}
}

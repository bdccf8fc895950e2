package gitlab_test

import (
	"context"
	"encoding/json"
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
	"github.com/portside-dev/portside/pipelines/gitlab"
	"github.com/portside-dev/portside/store/storetest"
)

// prefix is where the fake self-managed GitLab lives: under a path, as behind a shared proxy.
const prefix = "/gitlab"

// escapedProject is the test project's path as GitLab's API takes it (one URL-encoded segment).
const escapedProject = "acme%2Fdata%2Floader"

// fakeGitLab speaks the REST endpoints the provider uses, as GitLab documents them
// (https://docs.gitlab.com/api/pipelines/, https://docs.gitlab.com/api/jobs/), under
// /gitlab/api/v4/. Pipelines move when the test scripts them.
type fakeGitLab struct {
	t         *testing.T
	mu        sync.Mutex
	pipelines map[int64]*fakePipeline
	nextID    int64
	nextJob   int64
	created   []createBody
	requests  map[string]int // "METHOD escaped path" → count
	token     string
	// limit, when set, answers the next request instead of the API.
	limit func(w http.ResponseWriter) bool
	// retryLags makes a retry answer the pipeline as it was (GitLab moving it a moment later).
	retryLags bool
}

type createBody struct {
	Ref       string `json:"ref"`
	Variables []struct {
		Key          string `json:"key"`
		Value        string `json:"value"`
		VariableType string `json:"variable_type"`
	} `json:"variables"`
}

type fakePipeline struct {
	ID         int64   `json:"id"`
	IID        int64   `json:"iid"`
	ProjectID  int64   `json:"project_id"`
	Status     string  `json:"status"`
	Ref        string  `json:"ref"`
	SHA        string  `json:"sha"`
	WebURL     string  `json:"web_url"`
	CreatedAt  string  `json:"created_at"`
	StartedAt  *string `json:"started_at"`
	FinishedAt *string `json:"finished_at"`
	jobs       []*fakeJob
	cancelled  int
	retried    int
}

type fakeJob struct {
	ID            int64   `json:"id"`
	Name          string  `json:"name"`
	Stage         string  `json:"stage"`
	Status        string  `json:"status"`
	AllowFailure  bool    `json:"allow_failure"`
	FailureReason string  `json:"failure_reason,omitempty"`
	StartedAt     *string `json:"started_at"`
	FinishedAt    *string `json:"finished_at"`
	WebURL        string  `json:"web_url"`
	// ArtifactsFile is the archive a job kept (artifacts:paths); files is what is in it.
	ArtifactsFile *struct {
		Filename string `json:"filename"`
		Size     int    `json:"size"`
	} `json:"artifacts_file,omitempty"`
	files map[string]string
}

// keep gives the job an artifacts archive holding files, as artifacts:paths would.
func (j *fakeJob) keep(files map[string]string) {
	j.files = files
	j.ArtifactsFile = &struct {
		Filename string `json:"filename"`
		Size     int    `json:"size"`
	}{"artifacts.zip", 1024}
}

func at(s string) *string { return &s }

const image = "registry.gitlab.example/acme/data/loader@sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"

const (
	t0 = "2026-01-02T03:00:00Z"
	t1 = "2026-01-02T03:02:00Z"
	t2 = "2026-01-02T03:05:00Z"
	t3 = "2026-01-02T03:09:00Z"
	// commitDate is when the commit every fake pipeline builds was made.
	commitDate = "2026-01-02T01:00:00Z"
)

func newFakeGitLab(t *testing.T) (*fakeGitLab, *httptest.Server) {
	f := &fakeGitLab{t: t, nextID: 500, nextJob: 9000, pipelines: map[int64]*fakePipeline{}, requests: map[string]int{}}
	api := prefix + "/api/v4/projects/" + escapedProject + "/"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := r.URL.EscapedPath()
		f.mu.Lock()
		defer f.mu.Unlock()
		f.requests[r.Method+" "+path]++
		f.token = r.Header.Get("PRIVATE-TOKEN")
		if limit := f.limit; limit != nil {
			f.limit = nil
			if limit(w) {
				return
			}
		}
		rest, ok := strings.CutPrefix(path, api)
		if !ok {
			f.t.Errorf("a request outside the project's API: %s %s", r.Method, path)
			http.Error(w, `{"message":"404 Not Found"}`, http.StatusNotFound)
			return
		}
		parts := strings.Split(rest, "/")
		switch {
		case r.Method == "POST" && rest == "pipeline":
			var body createBody
			_ = json.NewDecoder(r.Body).Decode(&body)
			f.created = append(f.created, body)
			f.nextID++
			p := &fakePipeline{ID: f.nextID, IID: f.nextID - 500, ProjectID: 42, Status: "created", Ref: body.Ref,
				SHA: "89abcdef0123456789abcdef0123456789abcdef", CreatedAt: t0,
				WebURL: "https://gitlab.example/acme/data/loader/-/pipelines/" + strconv.FormatInt(f.nextID, 10)}
			for _, j := range [][2]string{{"compile", "build"}, {"lint", "build"}, {"unit", "test"}, {"deploy", "deploy"}, {"pages", "deploy"}} {
				p.jobs = append(p.jobs, f.job(j[0], j[1], "created"))
			}
			p.jobs[1].AllowFailure = true
			f.pipelines[p.ID] = p
			f.write(w, http.StatusCreated, p)
		case r.Method == "GET" && len(parts) == 3 && parts[0] == "repository" && parts[1] == "commits":
			// The commit a pipeline built, with when it was made (GitLab's Commits API).
			f.write(w, http.StatusOK, map[string]any{"id": parts[2], "title": "Release", "committed_date": commitDate,
				"authored_date": commitDate})
		case r.Method == "GET" && len(parts) == 4 && parts[0] == "jobs" && parts[2] == "artifacts":
			// One file of a job's artifacts archive (GitLab's Jobs API), 404 when it is not in it.
			for _, p := range f.pipelines {
				for _, j := range p.jobs {
					if strconv.FormatInt(j.ID, 10) == parts[1] {
						if content, ok := j.files[parts[3]]; ok {
							w.Header().Set("Content-Type", "application/octet-stream")
							_, _ = w.Write([]byte(content))
							return
						}
					}
				}
			}
			http.Error(w, `{"message":"404 Not Found"}`, http.StatusNotFound)
		case len(parts) >= 2 && parts[0] == "pipelines":
			id, _ := strconv.ParseInt(parts[1], 10, 64)
			p := f.pipelines[id]
			if p == nil {
				http.Error(w, `{"message":"404 Not found"}`, http.StatusNotFound)
				return
			}
			switch {
			case r.Method == "GET" && len(parts) == 2:
				f.write(w, http.StatusOK, p)
			case r.Method == "GET" && len(parts) == 3 && parts[2] == "jobs":
				if r.URL.Query().Get("include_retried") == "true" {
					f.t.Error("jobs listed with the retried ones")
				}
				// GitLab lists a pipeline's jobs newest first.
				list := []*fakeJob{}
				for i := len(p.jobs) - 1; i >= 0; i-- {
					list = append(list, p.jobs[i])
				}
				f.write(w, http.StatusOK, list)
			case r.Method == "POST" && len(parts) == 3 && parts[2] == "cancel":
				p.cancelled++
				f.write(w, http.StatusOK, p)
			case r.Method == "POST" && len(parts) == 3 && parts[2] == "retry":
				p.retried++
				if f.retryLags {
					f.write(w, http.StatusCreated, p)
					return
				}
				f.retry(p)
				f.write(w, http.StatusCreated, p)
			default:
				http.Error(w, `{"message":"404 Not Found"}`, http.StatusNotFound)
			}
		default:
			http.Error(w, `{"message":"404 Not Found"}`, http.StatusNotFound)
		}
	}))
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeGitLab) job(name, stage, status string) *fakeJob {
	f.nextJob++
	return &fakeJob{ID: f.nextJob, Name: name, Stage: stage, Status: status,
		WebURL: "https://gitlab.example/acme/data/loader/-/jobs/" + strconv.FormatInt(f.nextJob, 10)}
}

// retry does what GitLab's retry does: failed and cancelled jobs are replaced by new ones (the old
// ones become retried and leave the list), skipped ones wait again, and the pipeline runs.
func (f *fakeGitLab) retry(p *fakePipeline) {
	for i, j := range p.jobs {
		switch j.Status {
		case "failed", "canceled":
			p.jobs[i] = f.job(j.Name, j.Stage, "pending")
		case "skipped":
			j.Status = "created"
		}
	}
	p.Status = "running"
}

func (f *fakeGitLab) write(w http.ResponseWriter, code int, v any) {
	body, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

func (f *fakeGitLab) script(id int64, fn func(p *fakePipeline, job func(name string) *fakeJob)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.pipelines[id]
	fn(p, func(name string) *fakeJob {
		for _, j := range p.jobs {
			if j.Name == name {
				return j
			}
		}
		f.t.Fatalf("no job %s", name)
		return nil
	})
}

func (f *fakeGitLab) count(method, rest string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[method+" "+prefix+"/api/v4/projects/"+escapedProject+"/"+rest]
}

// The declared stages are GitLab stages (build, test) and a job (deploy); the deploy stage's
// other job, pages, is shown after them.
const declaration = `- name: ci
  provider: gitlab
  parameters:
    - {name: DEPLOY_ENV, type: choice, options: [staging, production], default: staging}
  stages: [build, test, deploy]
`

type catalog struct{}

func (catalog) ComponentAnnotations(context.Context, string, string) (string, map[string]string, error) {
	return "component:default/loader", map[string]string{pipelines.AnnotationGitLabSlug: "acme/data/loader", pipelines.AnnotationPipelines: declaration}, nil
}

func (catalog) Owns(context.Context, *principal.Principal, string) (bool, error) { return true, nil }

var owner = principal.With(context.Background(), &principal.Principal{Username: "bob", Kind: principal.KindToken, Client: principal.ClientAPI})

const token = "glpat-secret-token"

func setup(t *testing.T) (*fakeGitLab, *pipelines.Service, *testutil.Clock) {
	f, srv := newFakeGitLab(t)
	clock := testutil.NewClock(time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC))
	// A self-managed instance under a path: the client adds /api/v4/.
	prov, err := gitlab.New(gitlab.Options{BaseURL: srv.URL + prefix + "/", Token: token, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	s := pipelines.NewService(storetest.SQLite(t), pipelines.Options{Catalog: catalog{}, Providers: []pipelines.Provider{prov},
		Follower: pipelines.FollowerOptions{Interval: 20 * time.Millisecond}})
	t.Cleanup(s.Stop)
	return f, s, clock
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

func stage(r pipelines.Run, name string) pipelines.Stage {
	for _, s := range r.Stages {
		if s.Name == name {
			return s
		}
	}
	return pipelines.Stage{}
}

func TestAPipelineIsCreatedWithVariablesAndFollowedStageByStage(t *testing.T) {
	f, s, _ := setup(t)
	run, err := s.Trigger(owner, pipelines.TriggerInput{Component: "loader", Pipeline: "ci", Ref: "release-1.2",
		Parameters: map[string]string{"DEPLOY_ENV": "production"}})
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	created, tok := f.created, f.token
	f.mu.Unlock()
	if len(created) != 1 || created[0].Ref != "release-1.2" || len(created[0].Variables) != 1 ||
		created[0].Variables[0].Key != "DEPLOY_ENV" || created[0].Variables[0].Value != "production" || created[0].Variables[0].VariableType != "env_var" {
		t.Errorf("pipelines created: %+v", created)
	}
	if tok != token {
		t.Errorf("PRIVATE-TOKEN = %q", tok)
	}
	if run.ProviderRunID != "501" || run.CommitSHA == "" || !strings.HasSuffix(run.URL, "/-/pipelines/501") || run.Status != pipelines.Queued {
		t.Fatalf("run = %+v", run)
	}
	if stages(run) != "build=QUEUED test=QUEUED deploy=QUEUED pages=QUEUED" {
		t.Errorf("created: %s", stages(run))
	}

	f.script(501, func(p *fakePipeline, job func(string) *fakeJob) {
		p.Status, p.StartedAt = "running", at(t0)
		job("compile").Status, job("compile").StartedAt = "running", at(t0)
		job("lint").Status = "pending"
	})
	got := poll(t, s, run.ID)
	if got.Status != pipelines.Running || stages(got) != "build=RUNNING test=QUEUED deploy=QUEUED pages=QUEUED" {
		t.Errorf("compiling: %s %s", got.Status, stages(got))
	}
	if log := stage(got, "build").LogURL; !strings.HasSuffix(log, "/-/jobs/9001") {
		t.Errorf("the running build stage links %q, want compile's log", log)
	}

	// lint fails but is allowed to: GitLab's "passed with warnings" does not fail the run.
	f.script(501, func(p *fakePipeline, job func(string) *fakeJob) {
		job("compile").Status, job("compile").FinishedAt = "success", at(t1)
		l := job("lint")
		l.Status, l.StartedAt, l.FinishedAt = "failed", at(t0), at(t1)
		job("unit").Status, job("unit").StartedAt = "running", at(t1)
	})
	got = poll(t, s, run.ID)
	if got.Status != pipelines.Running || stages(got) != "build=SUCCEEDED test=RUNNING deploy=QUEUED pages=QUEUED" {
		t.Errorf("testing: %s %s", got.Status, stages(got))
	}
	if d := stage(got, "build").Duration(); d != 2*time.Minute {
		t.Errorf("build took %v, want 2m (its first job's start to its last job's end)", d)
	}

	f.script(501, func(p *fakePipeline, job func(string) *fakeJob) {
		job("unit").Status, job("unit").FinishedAt = "success", at(t2)
		for _, n := range []string{"deploy", "pages"} {
			job(n).Status, job(n).StartedAt, job(n).FinishedAt = "success", at(t2), at(t3)
		}
		// compile wrote the image it pushed to portside-output and kept it; pages kept a site.
		job("compile").keep(map[string]string{"portside-output": "image=" + image + "\nversion=1.2.0\n"})
		job("pages").keep(map[string]string{"public/index.html": "<h1>docs</h1>"})
		p.Status, p.FinishedAt = "success", at(t3)
	})
	got = poll(t, s, run.ID)
	if want := (pipelines.Artifact{Name: "image", Image: image, Version: "1.2.0"}); len(got.Artifacts) != 1 || got.Artifacts[0] != want {
		t.Errorf("artifacts = %+v, want %+v (read from compile's portside-output)", got.Artifacts, want)
	}
	if got.Status != pipelines.Succeeded || stages(got) != "build=SUCCEEDED test=SUCCEEDED deploy=SUCCEEDED pages=SUCCEEDED" {
		t.Errorf("done: %s %s", got.Status, stages(got))
	}
	if got.FinishedAt == nil || !got.FinishedAt.Equal(time.Date(2026, 1, 2, 3, 9, 0, 0, time.UTC)) {
		t.Errorf("finished at %v, want GitLab's finished_at", got.FinishedAt)
	}
	// Deployed: the commit's time is read once (a pipeline does not carry it), for DORA's lead
	// time, which runs to the deploy stage's end.
	commit := "GET " + prefix + "/api/v4/projects/" + escapedProject + "/repository/commits/89abcdef0123456789abcdef0123456789abcdef"
	if want := time.Date(2026, 1, 2, 1, 0, 0, 0, time.UTC); got.CommittedAt == nil || !got.CommittedAt.Equal(want) {
		t.Errorf("the run's commit time = %v, want %v", got.CommittedAt, want)
	}
	if got.DeployedAt == nil || !got.DeployedAt.Equal(time.Date(2026, 1, 2, 3, 9, 0, 0, time.UTC)) {
		t.Errorf("deployed at %v, want the deploy stage's end", got.DeployedAt)
	}
	f.mu.Lock()
	reads := f.requests[commit]
	f.mu.Unlock()
	if reads != 1 {
		t.Errorf("the commit was read %d times before and at the deploy; want once, when it deployed", reads)
	}
}

func TestAFailedJobSkipsTheLaterStagesAndARetryFollowsTheSamePipeline(t *testing.T) {
	f, s, _ := setup(t)
	run, err := s.Trigger(owner, pipelines.TriggerInput{Component: "loader", Pipeline: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	if f.created[0].Variables[0].Value != "staging" {
		t.Errorf("the default was not passed: %+v", f.created[0].Variables)
	}
	f.script(501, func(p *fakePipeline, job func(string) *fakeJob) {
		p.Status, p.StartedAt, p.FinishedAt = "failed", at(t0), at(t2)
		job("compile").Status, job("lint").Status = "success", "success"
		u := job("unit")
		u.Status, u.StartedAt, u.FinishedAt = "failed", at(t1), at(t2)
		job("deploy").Status, job("pages").Status = "skipped", "skipped"
	})
	got := poll(t, s, run.ID)
	if got.Status != pipelines.Failed || stages(got) != "build=SUCCEEDED test=FAILED deploy=SKIPPED pages=SKIPPED" {
		t.Errorf("failed: %s %s", got.Status, stages(got))
	}
	if log := stage(got, "test").LogURL; !strings.HasSuffix(log, "/-/jobs/9003") {
		t.Errorf("the failed stage links %q, want unit's log", log)
	}

	// GitLab answers the retry before it moves the pipeline: the retry waits, it is not failed.
	f.mu.Lock()
	f.retryLags = true
	f.mu.Unlock()
	retry, err := s.Retry(owner, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if f.count("POST", "pipelines/501/retry") != 1 || retry.ProviderRunID != "501" || retry.Attempt != 2 || retry.RetryOf == nil || *retry.RetryOf != run.ID {
		t.Errorf("retry = %+v", retry)
	}
	if got := poll(t, s, retry.ID); got.Status != pipelines.Queued {
		t.Errorf("retry before GitLab moved the pipeline: %s %s", got.Status, stages(got))
	}
	f.script(501, func(p *fakePipeline, _ func(string) *fakeJob) { f.retry(p) })
	got = poll(t, s, retry.ID)
	// The retried job waits for a runner again; the jobs that passed keep their result.
	if got.Status != pipelines.Running || stages(got) != "build=SUCCEEDED test=QUEUED deploy=QUEUED pages=QUEUED" {
		t.Errorf("retry once GitLab runs it: %s %s", got.Status, stages(got))
	}
	if _, err := s.Cancel(owner, retry.ID); err != nil {
		t.Fatal(err)
	}
	if f.count("POST", "pipelines/501/cancel") != 1 {
		t.Error("cancel did not reach GitLab")
	}
	if old, _ := s.Run(owner, run.ID); old.Status != pipelines.Failed || stages(old) != "build=SUCCEEDED test=FAILED deploy=SKIPPED pages=SKIPPED" {
		t.Errorf("the first run changed: %s %s", old.Status, stages(old))
	}
}

func TestRateLimitsAreObeyed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		limit func(w http.ResponseWriter, now time.Time) bool
		wait  time.Duration
	}{
		{"429 with Retry-After", func(w http.ResponseWriter, _ time.Time) bool {
			w.Header().Set("Retry-After", "120")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`{"message":"Retry later"}`))
			return true
		}, 2 * time.Minute},
		{"429 with RateLimit-Reset", func(w http.ResponseWriter, now time.Time) bool {
			w.Header().Set("RateLimit-Limit", "600")
			w.Header().Set("RateLimit-Remaining", "0")
			w.Header().Set("RateLimit-Reset", strconv.FormatInt(now.Add(10*time.Minute).Unix(), 10))
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = w.Write([]byte(`Retry later`))
			return true
		}, 10 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, s, clock := setup(t)
			run, err := s.Trigger(owner, pipelines.TriggerInput{Component: "loader", Pipeline: "ci"})
			if err != nil {
				t.Fatal(err)
			}
			f.mu.Lock()
			f.limit = func(w http.ResponseWriter) bool { return tc.limit(w, clock.Now()) }
			f.mu.Unlock()
			poll(t, s, run.ID)
			n := f.count("GET", "pipelines/501")
			if n != 1 {
				t.Fatalf("the limited read was sent %d times; client-go's own retries must be off", n)
			}
			clock.Add(tc.wait - time.Second)
			poll(t, s, run.ID)
			if f.count("GET", "pipelines/501") != n {
				t.Errorf("Portside asked GitLab again %v before the limit reset", time.Second)
			}
			if _, err := s.Trigger(owner, pipelines.TriggerInput{Component: "loader", Pipeline: "ci"}); !errs.Is(err, errs.Unavailable) || !strings.Contains(err.Error(), "rate limit") {
				t.Errorf("trigger while limited: %v, want UNAVAILABLE about the rate limit", err)
			}
			if f.count("POST", "pipeline") != 1 {
				t.Error("a pipeline was created while the limit was spent")
			}
			clock.Add(2 * time.Second)
			poll(t, s, run.ID)
			if f.count("GET", "pipelines/501") == n {
				t.Error("Portside did not ask GitLab again once the limit reset")
			}
		})
	}
}

func TestARefusedTokenIsNamedButNeverShown(t *testing.T) {
	f, s, _ := setup(t)
	f.mu.Lock()
	f.limit = func(w http.ResponseWriter) bool {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"message":"401 Unauthorized"}`))
		return true
	}
	f.mu.Unlock()
	_, err := s.Trigger(owner, pipelines.TriggerInput{Component: "loader", Pipeline: "ci"})
	if !errs.Is(err, errs.Unavailable) || !strings.Contains(err.Error(), "gitlab-token") || strings.Contains(err.Error(), token) {
		t.Errorf("trigger with a refused token: %v", err)
	}
}

func TestALostWebhookIsCoveredByTheFollower(t *testing.T) {
	f, s, _ := setup(t)
	run, err := s.Trigger(owner, pipelines.TriggerInput{Component: "loader", Pipeline: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	f.script(501, func(p *fakePipeline, job func(string) *fakeJob) {
		p.Status, p.StartedAt, p.FinishedAt = "success", at(t0), at(t3)
		for _, j := range p.jobs {
			j.Status, j.StartedAt, j.FinishedAt = "success", at(t0), at(t3)
		}
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
			if stages(r) != "build=SUCCEEDED test=SUCCEEDED deploy=SUCCEEDED pages=SUCCEEDED" {
				t.Errorf("stages %s", stages(r))
			}
			return
		}
	}
	t.Fatalf("the subscription ended before the run finished: %v", sub.Err())
}

func TestAWebhookMakesPortsideReadThePipelineAtOnce(t *testing.T) {
	f, s, _ := setup(t)
	run, err := s.Trigger(owner, pipelines.TriggerInput{Component: "loader", Pipeline: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	f.script(501, func(p *fakePipeline, job func(string) *fakeJob) {
		p.Status = "running"
		job("compile").Status, job("compile").StartedAt = "running", at(t0)
	})
	// What the webhook handler does once the delivery's token holds: a Job Hook names the pipeline.
	id, err := gitlab.PipelineOf("Job Hook", []byte(`{"object_kind":"build","build_id":9001,"pipeline_id":501,"build_status":"running"}`))
	if err != nil || id != "501" {
		t.Fatalf("PipelineOf(Job Hook) = %q, %v", id, err)
	}
	if err := s.Nudge(context.Background(), pipelines.ProviderGitLab, id); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Run(owner, run.ID)
	if got.Status != pipelines.Running || stages(got) != "build=RUNNING test=QUEUED deploy=QUEUED pages=QUEUED" {
		t.Errorf("after the webhook: %s %s", got.Status, stages(got))
	}
	if err := s.Nudge(context.Background(), pipelines.ProviderGitLab, "999999"); err != nil {
		t.Errorf("a webhook about a pipeline Portside did not start: %v", err)
	}
}

func TestWebhookTokens(t *testing.T) {
	if err := gitlab.VerifyToken([]byte("s3cret"), "s3cret"); err != nil {
		t.Errorf("the configured token: %v", err)
	}
	for name, tok := range map[string]string{"forged": "guess", "missing": "", "prefix": "s3cre", "longer": "s3cret "} {
		err := gitlab.VerifyToken([]byte("s3cret"), tok)
		if !errs.Is(err, errs.Unauthenticated) || strings.Contains(err.Error(), "s3cret") || (tok != "" && strings.Contains(err.Error(), tok)) {
			t.Errorf("%s token: %v", name, err)
		}
	}
	if err := gitlab.VerifyToken(nil, ""); !errs.Is(err, errs.Unauthenticated) {
		t.Errorf("no secret configured: %v", err)
	}
	for _, tc := range []struct {
		event, body, want string
		invalid           bool
	}{
		{"Pipeline Hook", `{"object_kind":"pipeline","object_attributes":{"id":501,"status":"running"}}`, "501", false},
		{"Job Hook", `{"object_kind":"build","pipeline_id":502}`, "502", false},
		{"System Hook", `{"object_kind":"pipeline","object_attributes":{"id":503}}`, "503", false},
		{"System Hook", `{"event_name":"project_create"}`, "", false},
		{"Push Hook", `{"object_kind":"push"}`, "", false},
		{"Pipeline Hook", `{"object_kind":"pipeline"}`, "", true},
		{"Job Hook", `not json`, "", true},
	} {
		got, err := gitlab.PipelineOf(tc.event, []byte(tc.body))
		if got != tc.want || (err != nil) != tc.invalid || (err != nil && !errs.Is(err, errs.Invalid)) {
			t.Errorf("PipelineOf(%s, %s) = %q, %v", tc.event, tc.body, got, err)
		}
	}
}

func TestAnOversizedOutputIsNotRead(t *testing.T) {
	f, s, _ := setup(t)
	run, err := s.Trigger(owner, pipelines.TriggerInput{Component: "loader", Pipeline: "ci", Ref: "main"})
	if err != nil {
		t.Fatal(err)
	}
	f.script(501, func(p *fakePipeline, job func(string) *fakeJob) {
		for _, j := range p.jobs {
			j.Status = "success"
		}
		// A build log written to portside-output by mistake: the version line at its end is never read.
		job("compile").keep(map[string]string{"portside-output": strings.Repeat("log line\n", 4000) + "version=6.6.6\n"})
		p.Status = "success"
	})
	got := poll(t, s, run.ID)
	if got.Status != pipelines.Succeeded || len(got.Artifacts) != 0 {
		t.Errorf("run %s with artifacts %+v: a portside-output over %d bytes must give none and leave the run readable",
			got.Status, got.Artifacts, pipelines.MaxOutputBytes)
	}
}

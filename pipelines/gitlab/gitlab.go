// Package gitlab runs pipelines on GitLab CI through GitLab's client-go: a new pipeline on the ref
// with the declared parameters as variables (GitLab answers with the pipeline, so no correlation
// is needed), its jobs as stages in stage order, cancel, and retry of the failed jobs. gitlab.com
// and self-managed instances (under a path prefix too) work alike. Once GitLab answers 429, no
// request at all is sent until its Retry-After / RateLimit-Reset has passed: the client's own
// retries and limiter are off, because they would wait inside a request Portside bounds.
//
// Stages: a declared stage is a GitLab job of that name (parallel jobs "name 1/3" or
// "name: [matrix]" count as that job), or else a GitLab stage of that name, which then gathers
// every job of it not claimed by name. Jobs no declared stage claims are shown after the declared
// stages, each as a stage of its own, in GitLab's stage order then job order. A job allowed to fail
// (allow_failure) that failed counts as succeeded, as GitLab's "passed with warnings" does, so it
// never fails the run.
package gitlab

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/pipelines"
)

// Options configure the provider.
type Options struct {
	// BaseURL is the instance's root: "" for https://gitlab.com/, https://HOST/ or
	// https://HOST/PREFIX/ for a self-managed instance (/api/v4/ is added when missing).
	BaseURL string
	// Token authenticates Portside (a project, group or personal access token with the api
	// scope). It is sent only in the PRIVATE-TOKEN header, never logged.
	Token string
	// HTTPClient carries the requests; nil is a client with a 30 s timeout.
	HTTPClient *http.Client
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
}

// Provider is the GitLab CI provider.
type Provider struct {
	client *gl.Client
	now    func() time.Time

	mu        sync.Mutex
	notBefore time.Time // GitLab said to wait until then
}

// noLimiter turns off client-go's own limiter, which would block inside a request; Portside
// refuses requests while GitLab's limit is spent instead (see wait).
type noLimiter struct{}

func (noLimiter) Wait(context.Context) error { return nil }

// New returns the provider.
func New(opts Options) (*Provider, error) {
	hc := opts.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	base := opts.BaseURL
	if base == "" {
		base = "https://gitlab.com/"
	}
	client, err := gl.NewClient(opts.Token, gl.WithBaseURL(base), gl.WithHTTPClient(hc), gl.WithoutRetries(),
		gl.WithCustomLimiter(noLimiter{}), gl.WithUserAgent("portside"))
	if err != nil {
		return nil, errs.InvalidField("gitlab-url", "%v", err)
	}
	return &Provider{client: client, now: now}, nil
}

// Name is the provider's name in declarations.
func (p *Provider) Name() string { return pipelines.ProviderGitLab }

// wait refuses a request while GitLab's rate limit is spent.
func (p *Provider) wait() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if now := p.now(); now.Before(p.notBefore) {
		return errs.E(errs.Unavailable, "GitLab's API rate limit is spent until %s; Portside waits for it", p.notBefore.UTC().Format(time.RFC3339))
	}
	return nil
}

// Call runs fn with the provider's client — its token and instance — unless GitLab's rate limit is
// spent, and codes fn's error as the provider codes its own (what names the call in messages; an
// error fn already coded is kept). It is for the other GitLab calls Portside makes: deploy
// requests' merge requests (deploys/pullrequests).
func (p *Provider) Call(what string, fn func(*gl.Client) error) error {
	if err := p.wait(); err != nil {
		return err
	}
	err := fn(p.client)
	var coded *errs.Error
	if errors.As(err, &coded) {
		return err
	}
	return p.check(err, what)
}

// check turns client-go's error into a coded one, noting how long GitLab asked to wait. The
// messages name what Portside tried, never the token (it travels in a header).
func (p *Provider) check(err error, what string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, gl.ErrNotFound) {
		return errs.E(errs.NotFound, "GitLab: %s: not found (or Portside's token may not see it)", what)
	}
	var er *gl.ErrorResponse
	if !errors.As(err, &er) {
		return errs.Wrap(errs.Unavailable, err, "GitLab could not be reached to %s; try again later", what)
	}
	switch code := er.StatusCode; {
	case code == http.StatusTooManyRequests:
		until := p.retryAt(er.Response)
		p.mu.Lock()
		if until.After(p.notBefore) {
			p.notBefore = until
		}
		p.mu.Unlock()
		return errs.E(errs.Unavailable, "GitLab's API rate limit is spent until %s; Portside waits for it", until.UTC().Format(time.RFC3339))
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return errs.E(errs.Unavailable, "GitLab refused Portside's credential to %s (HTTP %d): check gitlab-token", what, code)
	case code == http.StatusBadRequest || code == http.StatusUnprocessableEntity:
		return errs.E(errs.Invalid, "GitLab refused to %s: %s", what, clip(er.Message))
	default:
		return errs.E(errs.Unavailable, "GitLab could not %s (HTTP %d); try again later", what, code)
	}
}

// retryAt reads when a 429 says requests may go again: the later of Retry-After (seconds or an
// HTTP date) and RateLimit-Reset (Unix seconds); a minute when it says neither.
func (p *Provider) retryAt(resp *http.Response) time.Time {
	now := p.now()
	var until time.Time
	if resp != nil {
		if v := resp.Header.Get("Retry-After"); v != "" {
			if s, err := strconv.Atoi(v); err == nil && s >= 0 {
				until = now.Add(time.Duration(s) * time.Second)
			} else if t, err := http.ParseTime(v); err == nil {
				until = t
			}
		}
		if v := resp.Header.Get("RateLimit-Reset"); v != "" {
			if s, err := strconv.ParseInt(v, 10, 64); err == nil && s > 0 {
				if t := time.Unix(s, 0); t.After(until) {
					until = t
				}
			}
		}
	}
	if !until.After(now) {
		until = now.Add(time.Minute)
	}
	return until
}

// clip keeps GitLab's message short enough for an error a person reads.
func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// project is the project as client-go takes it: its path or its numeric ID.
func project(decl pipelines.Declaration) any {
	if id, err := strconv.ParseInt(decl.Repository, 10, 64); err == nil {
		return id
	}
	return decl.Repository
}

func pipelineID(run pipelines.Run) (int64, error) {
	id, err := strconv.ParseInt(run.ProviderRunID, 10, 64)
	if err != nil {
		return 0, errs.E(errs.Internal, "gitlab: run %d has provider run ID %q", run.ID, run.ProviderRunID)
	}
	return id, nil
}

// Trigger creates a pipeline on the ref with the parameters as variables. GitLab answers with the
// pipeline, so the run is known at once; its jobs are read on a best-effort basis (the pipeline
// exists whatever that read says, and the follower reads them later).
func (p *Provider) Trigger(ctx context.Context, req pipelines.TriggerRequest) (pipelines.Update, error) {
	if err := p.wait(); err != nil {
		return pipelines.Update{}, err
	}
	keys := make([]string, 0, len(req.Parameters))
	for k := range req.Parameters {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	vars := make([]*gl.PipelineVariableOptions, 0, len(keys))
	for _, k := range keys {
		vars = append(vars, &gl.PipelineVariableOptions{Key: gl.Ptr(k), Value: gl.Ptr(req.Parameters[k]), VariableType: gl.Ptr(gl.EnvVariableType)})
	}
	pl, _, err := p.client.Pipelines.CreatePipeline(project(req.Pipeline), &gl.CreatePipelineOptions{Ref: gl.Ptr(req.Ref), Variables: &vars}, gl.WithContext(ctx))
	if err := p.check(err, "create a pipeline of "+req.Pipeline.Repository+" on "+req.Ref); err != nil {
		return pipelines.Update{}, err
	}
	u := fromPipeline(pl)
	if stages, err := p.stages(ctx, req.Pipeline, pl.ID); err == nil {
		u.Stages = stages
	}
	return u, nil
}

// Status reads the pipeline and its jobs (the latest of each: retried jobs are left out).
func (p *Provider) Status(ctx context.Context, run pipelines.Run, decl pipelines.Declaration) (pipelines.Update, error) {
	if decl.Repository == "" {
		return pipelines.Update{}, errs.E(errs.Unavailable, "the declaration of %s is gone: Portside cannot tell where its run is", run.Pipeline)
	}
	if run.ProviderRunID == "" {
		return pipelines.Update{}, nil // its trigger has not recorded GitLab's answer yet
	}
	if err := p.wait(); err != nil {
		return pipelines.Update{}, err
	}
	id, err := pipelineID(run)
	if err != nil {
		return pipelines.Update{}, err
	}
	pl, _, err := p.client.Pipelines.GetPipeline(project(decl), id, gl.WithContext(ctx))
	if err := p.check(err, "read pipeline "+run.ProviderRunID); err != nil {
		return pipelines.Update{}, err
	}
	u := fromPipeline(pl)
	if run.RetryOf != nil && u.Status.Done() && pl.FinishedAt != nil && pl.FinishedAt.Before(run.CreatedAt) {
		// A retry follows the same pipeline: one that last finished before the retry was asked
		// for still shows the attempt retried, not this one.
		return pipelines.Update{Status: pipelines.Queued}, nil
	}
	jobs, err := p.jobs(ctx, decl, id)
	if err != nil {
		return pipelines.Update{}, err
	}
	u.Stages = stagesOf(decl, jobs)
	if u.Status == pipelines.Succeeded {
		if u.Artifacts, err = p.output(ctx, decl, jobs); err != nil {
			return pipelines.Update{}, err
		}
	}
	if run.CommittedAt == nil && u.CommitSHA != "" && deployed(u.Stages) {
		u.CommittedAt = p.commitTime(ctx, decl, u.CommitSHA)
	}
	return u, nil
}

// deployed reports whether the run's Deploy stage succeeded: from then on its lead time counts.
func deployed(stages []pipelines.Stage) bool {
	for _, s := range stages {
		if pipelines.IsDeployStage(s.Name) && s.Status == pipelines.Succeeded {
			return true
		}
	}
	return false
}

// commitTime reads when the commit a pipeline built was made, for DORA's lead time: a pipeline
// does not say. It is read once a run has deployed (one request a deploy; once recorded it is not
// asked again), and a failure only leaves it unknown until the next read.
func (p *Provider) commitTime(ctx context.Context, decl pipelines.Declaration, sha string) *time.Time {
	if p.wait() != nil {
		return nil
	}
	c, _, err := p.client.Commits.GetCommit(project(decl), sha, nil, gl.WithContext(ctx))
	if p.check(err, "read commit "+sha) != nil || c == nil || c.CommittedDate == nil {
		return nil
	}
	t := c.CommittedDate.UTC()
	return &t
}

// maxJobPages bounds the job pages read for one pipeline (100 jobs a page).
const maxJobPages = 10

// stages lists the pipeline's jobs and lays them out as stages.
func (p *Provider) stages(ctx context.Context, decl pipelines.Declaration, id int64) ([]pipelines.Stage, error) {
	jobs, err := p.jobs(ctx, decl, id)
	if err != nil {
		return nil, err
	}
	return stagesOf(decl, jobs), nil
}

// jobs lists the pipeline's latest jobs (retried ones left out), at most maxJobPages pages.
func (p *Provider) jobs(ctx context.Context, decl pipelines.Declaration, id int64) ([]*gl.Job, error) {
	var jobs []*gl.Job
	opts := &gl.ListJobsOptions{ListOptions: gl.ListOptions{PerPage: 100, Page: 1}}
	for page := 0; page < maxJobPages; page++ {
		if err := p.wait(); err != nil {
			return nil, err
		}
		got, resp, err := p.client.Jobs.ListPipelineJobs(project(decl), id, opts, gl.WithContext(ctx))
		if err := p.check(err, "list the jobs of pipeline "+strconv.FormatInt(id, 10)); err != nil {
			return nil, err
		}
		jobs = append(jobs, got...)
		if resp == nil || resp.NextPage == 0 {
			break
		}
		opts.Page = resp.NextPage
	}
	return jobs, nil
}

// fromPipeline is what the pipeline itself says (its jobs aside).
func fromPipeline(pl *gl.Pipeline) pipelines.Update {
	u := pipelines.Update{ProviderRunID: strconv.FormatInt(pl.ID, 10), URL: pl.WebURL, CommitSHA: pl.SHA, Status: pipelineStatus(pl.Status)}
	switch {
	case pl.Status == "skipped":
		u.Message = "GitLab skipped the pipeline: none of its jobs ran"
	case pl.Status == "failed" && pl.YamlErrors != "":
		u.Message = "GitLab could not run .gitlab-ci.yml: " + clip(pl.YamlErrors)
	}
	if pl.StartedAt != nil && u.Status != pipelines.Queued {
		t := pl.StartedAt.UTC()
		u.StartedAt = &t
	}
	if pl.FinishedAt != nil && u.Status.Done() {
		t := pl.FinishedAt.UTC()
		u.FinishedAt = &t
	}
	return u
}

// pipelineStatus maps a pipeline's status. A pipeline waiting for someone to play a manual job
// has started and is not finished: RUNNING. A skipped pipeline ran nothing: CANCELLED (with a
// message), never SUCCEEDED, so it counts for no lead time.
func pipelineStatus(s string) pipelines.Status {
	switch s {
	case "running", "canceling", "manual":
		return pipelines.Running
	case "success":
		return pipelines.Succeeded
	case "failed":
		return pipelines.Failed
	case "canceled", "skipped":
		return pipelines.Cancelled
	default: // created, waiting_for_resource, preparing, pending, scheduled
		return pipelines.Queued
	}
}

// jobStatus maps a job's status. A manual job waits for someone to play it (QUEUED; a pipeline
// that ends without it shows it SKIPPED).
func jobStatus(j *gl.Job) pipelines.Status {
	switch j.Status {
	case "success":
		return pipelines.Succeeded
	case "failed":
		switch {
		case j.AllowFailure:
			return pipelines.Succeeded // "passed with warnings"
		case j.FailureReason == "job_execution_timeout":
			return pipelines.TimedOut
		}
		return pipelines.Failed
	case "canceled":
		return pipelines.Cancelled
	case "skipped":
		return pipelines.Skipped
	case "running", "canceling":
		return pipelines.Running
	default: // created, pending, preparing, waiting_for_resource, scheduled, manual
		return pipelines.Queued
	}
}

// parallelSuffix is what GitLab appends to the name of a parallel job: " 1/3" or ": [a, b]".
var parallelSuffix = regexp.MustCompile(`( [0-9]+/[0-9]+|: \[.*\])$`)

// jobNamed reports whether a job is the declared stage's job (or one of its parallel copies).
func jobNamed(job, stage string) bool {
	return job == stage || parallelSuffix.ReplaceAllString(job, "") == stage
}

// stagesOf lays jobs out as stages (see the package's comment).
func stagesOf(decl pipelines.Declaration, jobs []*gl.Job) []pipelines.Stage {
	jobs = slices.Clone(jobs)
	// GitLab creates a pipeline's jobs stage by stage, so a stage's first job ID gives the stage
	// order (a retried job gets a later ID, hence the minimum over the stage).
	first := map[string]int64{}
	for _, j := range jobs {
		if f, ok := first[j.Stage]; !ok || j.ID < f {
			first[j.Stage] = j.ID
		}
	}
	sort.SliceStable(jobs, func(a, b int) bool {
		if fa, fb := first[jobs[a].Stage], first[jobs[b].Stage]; fa != fb {
			return fa < fb
		}
		return jobs[a].ID < jobs[b].ID
	})
	taken := make([]bool, len(jobs))
	groups := map[string][]*gl.Job{}
	names := decl.StageNames()
	for _, name := range names {
		for i, j := range jobs {
			if !taken[i] && jobNamed(j.Name, name) {
				groups[name], taken[i] = append(groups[name], j), true
			}
		}
	}
	for _, name := range names {
		if len(groups[name]) > 0 {
			continue
		}
		for i, j := range jobs {
			if !taken[i] && j.Stage == name {
				groups[name], taken[i] = append(groups[name], j), true
			}
		}
	}
	out := []pipelines.Stage{}
	for _, name := range names {
		if len(groups[name]) > 0 {
			out = append(out, gather(name, groups[name]))
		}
	}
	for i, j := range jobs {
		if !taken[i] && !slices.Contains(names, j.Name) {
			out = append(out, gather(j.Name, []*gl.Job{j}))
		}
	}
	return out
}

// gather makes one stage of jobs: it failed when one failed (fail fast, as GitLab shows it), runs
// while any runs or some have finished and others wait, and otherwise ended as its jobs did. Its
// log is the failed job's, else the running one's, else the first's.
func gather(name string, jobs []*gl.Job) pipelines.Stage {
	s := pipelines.Stage{Name: name}
	count := map[pipelines.Status]int{}
	var logFrom *gl.Job
	rank := func(st pipelines.Status) int {
		switch st {
		case pipelines.Failed, pipelines.TimedOut:
			return 3
		case pipelines.Running:
			return 2
		}
		return 1
	}
	best := 0
	for _, j := range jobs {
		st := jobStatus(j)
		count[st]++
		if r := rank(st); r > best && j.WebURL != "" {
			best, logFrom = r, j
		}
		if j.StartedAt != nil && st != pipelines.Queued && (s.StartedAt == nil || j.StartedAt.Before(*s.StartedAt)) {
			t := j.StartedAt.UTC()
			s.StartedAt = &t
		}
		if j.FinishedAt != nil && st.Done() && (s.FinishedAt == nil || j.FinishedAt.After(*s.FinishedAt)) {
			t := j.FinishedAt.UTC()
			s.FinishedAt = &t
		}
	}
	done := len(jobs) - count[pipelines.Queued] - count[pipelines.Running]
	switch {
	case count[pipelines.Failed] > 0:
		s.Status = pipelines.Failed
	case count[pipelines.TimedOut] > 0:
		s.Status = pipelines.TimedOut
	case count[pipelines.Running] > 0 || (done > 0 && count[pipelines.Queued] > 0):
		s.Status = pipelines.Running
	case count[pipelines.Queued] > 0:
		s.Status = pipelines.Queued
	case count[pipelines.Cancelled] > 0:
		s.Status = pipelines.Cancelled
	case count[pipelines.Succeeded] > 0:
		s.Status = pipelines.Succeeded
	default:
		s.Status = pipelines.Skipped
	}
	if !s.Status.Done() {
		s.FinishedAt = nil
	}
	if logFrom != nil {
		s.LogURL = logFrom.WebURL
	}
	return s
}

// Cancel asks GitLab to cancel the pipeline.
func (p *Provider) Cancel(ctx context.Context, run pipelines.Run, decl pipelines.Declaration) error {
	if run.ProviderRunID == "" {
		return errs.E(errs.Conflict, "GitLab has not shown run %d yet; cancel it once it appears", run.ID)
	}
	if err := p.wait(); err != nil {
		return err
	}
	id, err := pipelineID(run)
	if err != nil {
		return err
	}
	_, _, err = p.client.Pipelines.CancelPipelineBuild(project(decl), id, gl.WithContext(ctx))
	return p.check(err, "cancel pipeline "+run.ProviderRunID)
}

// Retry retries the pipeline's failed and cancelled jobs, in the same pipeline (GitLab's retry):
// the new Portside run follows that pipeline from here on, as its next attempt.
func (p *Provider) Retry(ctx context.Context, run pipelines.Run, req pipelines.TriggerRequest) (pipelines.Update, error) {
	if run.ProviderRunID == "" {
		return pipelines.Update{}, errs.E(errs.Conflict, "run %d never started on GitLab: trigger the pipeline again instead", run.ID)
	}
	if err := p.wait(); err != nil {
		return pipelines.Update{}, err
	}
	id, err := pipelineID(run)
	if err != nil {
		return pipelines.Update{}, err
	}
	pl, _, err := p.client.Pipelines.RetryPipelineBuild(project(req.Pipeline), id, gl.WithContext(ctx))
	if err := p.check(err, "retry pipeline "+run.ProviderRunID); err != nil {
		return pipelines.Update{}, err
	}
	u := pipelines.Update{ProviderRunID: run.ProviderRunID, URL: pl.WebURL, Attempt: max(run.Attempt, 1) + 1, Status: pipelineStatus(pl.Status)}
	if u.Status.Done() {
		u.Status = pipelines.Queued // GitLab answered before it moved the pipeline: the follower reads on
	}
	return u, nil
}

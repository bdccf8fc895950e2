// Package github runs pipelines on GitHub Actions through go-github: a workflow_dispatch with the
// declared inputs plus portside_dispatch_id, by which the run it created is found (GitHub's
// dispatch answers no run ID; matching by time would pick a neighbour's run); jobs as stages;
// cancel; re-run of failed jobs. Polling is frugal: conditional requests (a 304 costs no rate
// limit) and, once GitHub says the limit is spent (403 with X-RateLimit-Reset, 429 or a secondary
// limit with Retry-After), no request at all until it resets.
package github

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	gh "github.com/google/go-github/v75/github"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/pipelines"
)

// Options configure the provider.
type Options struct {
	// BaseURL is the REST API's root: "" for github.com, https://HOST/api/v3/ for GitHub
	// Enterprise Server.
	BaseURL string
	// Token authenticates Portside (a fine-grained token or an App installation token with
	// actions:write). It is sent only in the Authorization header, never logged.
	Token string
	// HTTPClient carries the requests; nil is a client with a 30 s timeout.
	HTTPClient *http.Client
	// RequestsPerHour caps the requests GitHub counts (all but 304s) per hour; reads beyond it
	// wait for the next hour. 0 is 4,000, under the 5,000 an hour a token gets.
	RequestsPerHour int
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
}

// Provider is the GitHub Actions provider.
type Provider struct {
	client *gh.Client
	blobs  *http.Client // fetches artifact archives from the signed URLs GitHub redirects to
	now    func() time.Time
	cache  *etagCache

	mu        sync.Mutex
	notBefore time.Time // GitHub said to wait until then
}

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
	if opts.RequestsPerHour <= 0 {
		opts.RequestsPerHour = 4000
	}
	b := &budget{perHour: opts.RequestsPerHour, now: now, start: now()}
	cache := newETagCache(hc.Transport, 4096, b)
	client := gh.NewClient(&http.Client{Transport: cache, Timeout: hc.Timeout, CheckRedirect: hc.CheckRedirect})
	if opts.Token != "" {
		client = client.WithAuthToken(opts.Token)
	}
	if opts.BaseURL != "" {
		var err error
		if client, err = client.WithEnterpriseURLs(opts.BaseURL, opts.BaseURL); err != nil {
			return nil, errs.InvalidField("github-api-url", "%v", err)
		}
	}
	// The archive's URL is signed: it must go without Portside's token, and not be followed further.
	blobs := &http.Client{Transport: hc.Transport, Timeout: hc.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &Provider{client: client, blobs: blobs, now: now, cache: cache}, nil
}

// Name is the provider's name in declarations.
func (p *Provider) Name() string { return pipelines.ProviderGitHub }

// ConditionalHits counts the polls GitHub answered 304 Not Modified (free of rate limit).
func (p *Provider) ConditionalHits() int64 { return p.cache.hits.Load() }

func split(repo string) (string, string) {
	owner, name, _ := strings.Cut(repo, "/")
	return owner, name
}

// wait refuses a request while GitHub's rate limit is spent.
func (p *Provider) wait() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if now := p.now(); now.Before(p.notBefore) {
		return errs.E(errs.Unavailable, "GitHub's API rate limit is spent until %s; Portside waits for it", p.notBefore.UTC().Format(time.RFC3339))
	}
	return nil
}

// Call runs fn with the provider's client — its token, API root, conditional requests and budget
// of requests — unless GitHub's rate limit is spent, and codes fn's error as the provider codes its
// own (what names the call in messages; an error fn already coded is kept). It is for the other
// GitHub calls Portside makes: deploy requests' pull requests (deploys/pullrequests).
func (p *Provider) Call(what string, fn func(*gh.Client) error) error {
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

// check turns go-github's error into a coded one, noting how long GitHub asked to wait. A 202
// Accepted (cancel, re-run) is success.
func (p *Provider) check(err error, what string) error {
	if err == nil {
		return nil
	}
	var accepted *gh.AcceptedError
	if errors.As(err, &accepted) {
		return nil
	}
	if errors.Is(err, errBudget) {
		return errs.E(errs.Unavailable, "Portside's budget of GitHub requests for this hour is spent; runs are read again from %s",
			p.cache.budget.resets().UTC().Format(time.RFC3339))
	}
	var until time.Time
	var rl *gh.RateLimitError
	var abuse *gh.AbuseRateLimitError
	var er *gh.ErrorResponse
	switch {
	case errors.As(err, &rl):
		until = rl.Rate.Reset.Time
	case errors.As(err, &abuse):
		until = p.now().Add(time.Minute)
		if abuse.RetryAfter != nil {
			until = p.now().Add(*abuse.RetryAfter)
		}
	case errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusTooManyRequests:
		until = p.now().Add(time.Minute)
		if s, perr := strconv.Atoi(er.Response.Header.Get("Retry-After")); perr == nil {
			until = p.now().Add(time.Duration(s) * time.Second)
		}
	case errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusNotFound:
		return errs.E(errs.NotFound, "GitHub: %s: not found (or Portside's token may not see it)", what)
	case errors.As(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusUnprocessableEntity:
		return errs.E(errs.Invalid, "GitHub refused to %s: %s", what, er.Message)
	case errors.As(err, &er) && er.Response != nil && (er.Response.StatusCode == http.StatusUnauthorized || er.Response.StatusCode == http.StatusForbidden):
		return errs.E(errs.Unavailable, "GitHub refused Portside's credential to %s (HTTP %d): check github-token", what, er.Response.StatusCode)
	default:
		// The cause may hold the URL but never the token (it travels in a header).
		return errs.Wrap(errs.Unavailable, err, "GitHub could not be reached to %s; try again later", what)
	}
	p.mu.Lock()
	if until.After(p.notBefore) {
		p.notBefore = until
	}
	p.mu.Unlock()
	return errs.E(errs.Unavailable, "GitHub's API rate limit is spent until %s; Portside waits for it", until.UTC().Format(time.RFC3339))
}

// Trigger dispatches the workflow with the parameters and Portside's dispatch ID as inputs, then
// looks once for the run it created (the follower goes on looking when GitHub is slower).
func (p *Provider) Trigger(ctx context.Context, req pipelines.TriggerRequest) (pipelines.Update, error) {
	if err := p.wait(); err != nil {
		return pipelines.Update{}, err
	}
	owner, repo := split(req.Pipeline.Repository)
	inputs := map[string]any{pipelines.DispatchInput: req.DispatchID}
	for k, v := range req.Parameters {
		inputs[k] = v
	}
	_, err := p.client.Actions.CreateWorkflowDispatchEventByFileName(ctx, owner, repo, req.Pipeline.Workflow,
		gh.CreateWorkflowDispatchEventRequest{Ref: req.Ref, Inputs: inputs})
	if err := p.check(err, "dispatch "+req.Pipeline.Workflow+" of "+req.Pipeline.Repository); err != nil {
		return pipelines.Update{}, err
	}
	u, err := p.find(ctx, req.Pipeline, req.DispatchID)
	if err != nil {
		return pipelines.Update{Status: pipelines.Queued}, nil // dispatched; finding it is the follower's
	}
	return u, nil
}

// find looks for the run a dispatch created among the workflow's recent dispatched runs: its
// display title carries the dispatch ID (the workflow's run-name shows
// ${{ inputs.portside_dispatch_id }}).
func (p *Provider) find(ctx context.Context, decl pipelines.Declaration, dispatchID string) (pipelines.Update, error) {
	if err := p.wait(); err != nil {
		return pipelines.Update{}, err
	}
	owner, repo := split(decl.Repository)
	runs, _, err := p.client.Actions.ListWorkflowRunsByFileName(ctx, owner, repo, decl.Workflow,
		&gh.ListWorkflowRunsOptions{Event: "workflow_dispatch", ListOptions: gh.ListOptions{PerPage: 50}})
	if err := p.check(err, "list the runs of "+decl.Workflow); err != nil {
		return pipelines.Update{}, err
	}
	for _, r := range runs.WorkflowRuns {
		if strings.Contains(r.GetDisplayTitle(), dispatchID) || strings.Contains(r.GetName(), dispatchID) {
			return p.read(ctx, decl, r, 0)
		}
	}
	return pipelines.Update{}, nil // not there yet
}

// Status reads the run and its jobs (of the latest attempt).
func (p *Provider) Status(ctx context.Context, run pipelines.Run, decl pipelines.Declaration) (pipelines.Update, error) {
	if decl.Repository == "" {
		return pipelines.Update{}, errs.E(errs.Unavailable, "the declaration of %s is gone: Portside cannot tell where its run is", run.Pipeline)
	}
	if run.ProviderRunID == "" {
		return p.find(ctx, decl, run.DispatchID)
	}
	if err := p.wait(); err != nil {
		return pipelines.Update{}, err
	}
	id, err := strconv.ParseInt(run.ProviderRunID, 10, 64)
	if err != nil {
		return pipelines.Update{}, errs.E(errs.Internal, "github: run %d has provider run ID %q", run.ID, run.ProviderRunID)
	}
	owner, repo := split(decl.Repository)
	wr, _, err := p.client.Actions.GetWorkflowRunByID(ctx, owner, repo, id)
	if err := p.check(err, "read run "+run.ProviderRunID); err != nil {
		return pipelines.Update{}, err
	}
	return p.read(ctx, decl, wr, run.Attempt)
}

// read turns a workflow run and its jobs into an update. A run still showing an attempt before
// the one expected (a re-run GitHub has not started yet) is QUEUED.
func (p *Provider) read(ctx context.Context, decl pipelines.Declaration, wr *gh.WorkflowRun, attempt int) (pipelines.Update, error) {
	u := pipelines.Update{ProviderRunID: strconv.FormatInt(wr.GetID(), 10), URL: wr.GetHTMLURL(), CommitSHA: wr.GetHeadSHA(),
		Attempt: wr.GetRunAttempt(), Status: runStatus(wr.GetStatus(), wr.GetConclusion())}
	if t := wr.GetHeadCommit().GetTimestamp(); !t.IsZero() {
		c := t.Time.UTC() // the commit's time, for DORA's lead time
		u.CommittedAt = &c
	}
	if attempt > 0 && wr.GetRunAttempt() < attempt {
		return pipelines.Update{Status: pipelines.Queued}, nil
	}
	if t := wr.RunStartedAt; t != nil && u.Status != pipelines.Queued {
		st := t.Time.UTC()
		u.StartedAt = &st
	}
	if u.Status.Done() && wr.UpdatedAt != nil {
		f := wr.UpdatedAt.Time.UTC()
		u.FinishedAt = &f
	}
	owner, repo := split(decl.Repository)
	jobs, _, err := p.client.Actions.ListWorkflowJobs(ctx, owner, repo, wr.GetID(), &gh.ListWorkflowJobsOptions{Filter: "latest", ListOptions: gh.ListOptions{PerPage: 100}})
	if err := p.check(err, "list the jobs of run "+u.ProviderRunID); err != nil {
		return pipelines.Update{}, err
	}
	u.Stages = []pipelines.Stage{}
	for _, j := range jobs.Jobs {
		s := pipelines.Stage{Name: j.GetName(), Status: runStatus(j.GetStatus(), j.GetConclusion()), LogURL: j.GetHTMLURL()}
		if j.StartedAt != nil && s.Status != pipelines.Queued {
			t := j.StartedAt.Time.UTC()
			s.StartedAt = &t
		}
		if j.CompletedAt != nil && s.Status.Done() {
			t := j.CompletedAt.Time.UTC()
			s.FinishedAt = &t
		}
		u.Stages = append(u.Stages, s)
	}
	if u.Status == pipelines.Succeeded {
		if u.Artifacts, err = p.output(ctx, owner, repo, wr.GetID()); err != nil {
			return pipelines.Update{}, err
		}
	}
	return u, nil
}

// runStatus maps GitHub's status and conclusion (of a run or a job).
func runStatus(status, conclusion string) pipelines.Status {
	switch status {
	case "completed":
		switch conclusion {
		case "success", "neutral":
			return pipelines.Succeeded
		case "cancelled":
			return pipelines.Cancelled
		case "timed_out":
			return pipelines.TimedOut
		case "skipped":
			return pipelines.Skipped
		default: // failure, action_required, stale, startup_failure
			return pipelines.Failed
		}
	case "in_progress":
		return pipelines.Running
	default: // queued, requested, waiting, pending
		return pipelines.Queued
	}
}

// Cancel asks GitHub to cancel the run.
func (p *Provider) Cancel(ctx context.Context, run pipelines.Run, decl pipelines.Declaration) error {
	if run.ProviderRunID == "" {
		return errs.E(errs.Conflict, "GitHub has not shown run %d yet; cancel it once it appears", run.ID)
	}
	if err := p.wait(); err != nil {
		return err
	}
	id, _ := strconv.ParseInt(run.ProviderRunID, 10, 64)
	owner, repo := split(decl.Repository)
	_, err := p.client.Actions.CancelWorkflowRunByID(ctx, owner, repo, id)
	return p.check(err, "cancel run "+run.ProviderRunID)
}

// Retry re-runs the failed jobs of the run, as its next attempt: the new Portside run follows
// that attempt.
func (p *Provider) Retry(ctx context.Context, run pipelines.Run, req pipelines.TriggerRequest) (pipelines.Update, error) {
	if run.ProviderRunID == "" {
		return pipelines.Update{}, errs.E(errs.Conflict, "run %d never started on GitHub: trigger the pipeline again instead", run.ID)
	}
	if err := p.wait(); err != nil {
		return pipelines.Update{}, err
	}
	id, _ := strconv.ParseInt(run.ProviderRunID, 10, 64)
	owner, repo := split(req.Pipeline.Repository)
	_, err := p.client.Actions.RerunFailedJobsByID(ctx, owner, repo, id)
	if err := p.check(err, "re-run the failed jobs of run "+run.ProviderRunID); err != nil {
		return pipelines.Update{}, err
	}
	return pipelines.Update{Status: pipelines.Queued, Attempt: max(run.Attempt, 1) + 1}, nil
}

// Package pipelines is the pipeline domain: a component's pipelines as its catalog entry declares
// them, and their runs, triggered by the component's owners and followed stage by stage on a CI
// engine (a Provider: GitHub Actions, GitLab CI, Kubernetes Jobs, the local development runner).
// Runs are immutable history: a retry is a new run linked to the one it retries. The domain knows
// no transport and no vendor SDK; providers live in subpackages and import this one.
package pipelines

import (
	"context"
	"strings"
	"time"
)

// Status is where a run or a stage is.
type Status string

// The statuses. SKIPPED is for stages only: a stage after a failed one never runs (fail fast).
const (
	Queued    Status = "QUEUED"
	Running   Status = "RUNNING"
	Succeeded Status = "SUCCEEDED"
	Failed    Status = "FAILED"
	Cancelled Status = "CANCELLED"
	TimedOut  Status = "TIMED_OUT"
	Skipped   Status = "SKIPPED"
)

// Done reports whether the status is final.
func (s Status) Done() bool {
	return s == Succeeded || s == Failed || s == Cancelled || s == TimedOut || s == Skipped
}

// Pipeline is one declared pipeline of a component.
type Pipeline struct {
	// Component is the component's canonical ref.
	Component string
	Declaration
}

// Stage is one stage of a run.
type Stage struct {
	Name       string
	Status     Status
	StartedAt  *time.Time
	FinishedAt *time.Time
	// LogURL links to the stage's log on the provider ("" when it has none yet).
	LogURL string
}

// Duration is how long the stage ran, or 0 when it has not finished.
func (s Stage) Duration() time.Duration {
	if s.StartedAt == nil || s.FinishedAt == nil {
		return 0
	}
	return s.FinishedAt.Sub(*s.StartedAt)
}

// Artifact is something a run produced: a container image (reference with digest) and the
// version it was released as.
type Artifact struct {
	Name    string `json:"name"`
	Image   string `json:"image,omitempty"`   // e.g. ghcr.io/acme/checkout@sha256:…
	Version string `json:"version,omitempty"` // e.g. 1.4.2
}

// Run is one run of a pipeline.
type Run struct {
	ID        int64
	Component string
	Pipeline  string
	Provider  string
	// ProviderRunID and URL identify the run on the provider; "" until the provider has it.
	ProviderRunID string
	URL           string
	// Attempt is the provider's attempt number of ProviderRunID (GitHub re-runs a run in place).
	Attempt int
	// DispatchID is the unique token the provider finds the run by before it knows its ID.
	DispatchID string
	Ref        string
	// CommitSHA is the commit the provider resolved Ref to; CommittedAt is when that commit was
	// made, when the provider says (GitHub does), for DORA's lead time.
	CommitSHA   string
	CommittedAt *time.Time
	Parameters  map[string]string
	// TriggeredBy is the actor who asked; Client is how (web, api, slack, cli).
	TriggeredBy    string
	Client         string
	IdempotencyKey string
	Status         Status
	// Message says why a run failed to start or was given up on ("" otherwise).
	Message   string
	Stages    []Stage
	Artifacts []Artifact
	RetryOf   *int64
	// Declaration is the pipeline as its component declared it when the run started: what
	// following, cancelling and retrying the run read, whatever the catalog declares since. Nil
	// on runs recorded before runs kept theirs (migration 00037), which read the catalog's.
	Declaration *Declaration
	CreatedAt   time.Time
	StartedAt   *time.Time
	FinishedAt  *time.Time
	// DeployedAt is when the run's Deploy stage (see IsDeployStage) succeeded; nil until then.
	DeployedAt *time.Time
	UpdatedAt  time.Time
	// version is the stored row's version this run was read at (see records.save).
	version int
}

// Active reports whether a provider still moves the run.
func (r Run) Active() bool { return !r.Status.Done() }

// Update is what a provider says about a run: fields left empty are unknown and keep their value.
type Update struct {
	ProviderRunID string
	URL           string
	Attempt       int
	CommitSHA     string
	CommittedAt   *time.Time
	// Status is the run's status on the provider; "" while the provider has not found the run.
	Status    Status
	Message   string
	Stages    []Stage
	Artifacts []Artifact
	StartedAt *time.Time
	// FinishedAt is when the provider says the run ended.
	FinishedAt *time.Time
}

// TriggerRequest is what a provider is asked to start.
type TriggerRequest struct {
	// RunID is Portside's run, and DispatchID the unique token the provider can find the run it
	// started by (GitHub passes it as the portside_dispatch_id input).
	RunID      int64
	DispatchID string
	Component  string
	Pipeline   Declaration
	Ref        string
	Parameters map[string]string
}

// Provider runs pipelines on one CI engine. Calls are bounded by ctx; an engine that cannot be
// reached answers UNAVAILABLE, which makes the run stale rather than failing it.
type Provider interface {
	// Name is the provider a declaration names ("github", "gitlab", "kubernetes", "local").
	Name() string
	// Trigger starts a run. The Update may lack ProviderRunID when the engine does not say at
	// once which run it created; Status then keeps looking for it (by DispatchID).
	Trigger(ctx context.Context, req TriggerRequest) (Update, error)
	// Status reads a run's state now.
	Status(ctx context.Context, run Run, decl Declaration) (Update, error)
	// Cancel asks the engine to stop the run.
	Cancel(ctx context.Context, run Run, decl Declaration) error
	// Retry runs a finished run again: its failed parts (GitHub re-runs failed jobs, as the same
	// run's next attempt) or the whole of it. req is the new run's.
	Retry(ctx context.Context, run Run, req TriggerRequest) (Update, error)
}

// applyUpdate merges a provider's update into a run, orders its stages as declared and makes
// fail fast visible: after a failed (cancelled, timed-out) stage, the stages that never started
// are SKIPPED, and a failed stage fails the run. It reports whether anything changed.
func applyUpdate(r *Run, u Update, decl *Declaration, now time.Time) bool {
	before := snapshot(r)
	if u.ProviderRunID != "" {
		r.ProviderRunID = u.ProviderRunID
	}
	if u.URL != "" {
		r.URL = u.URL
	}
	if u.Attempt != 0 {
		r.Attempt = u.Attempt
	}
	if u.CommitSHA != "" {
		r.CommitSHA = u.CommitSHA
	}
	if u.CommittedAt != nil {
		t := u.CommittedAt.UTC()
		r.CommittedAt = &t
	}
	if u.Message != "" {
		r.Message = u.Message
	}
	if u.Artifacts != nil {
		r.Artifacts = u.Artifacts
	}
	if u.StartedAt != nil && r.StartedAt == nil {
		r.StartedAt = u.StartedAt
	}
	if u.Stages != nil || r.Stages == nil {
		r.Stages = orderStages(decl, u.Stages, r.Stages)
	}
	status := u.Status
	if status == "" {
		status = r.Status
	}
	// A failed stage fails the run even while the engine still winds it down.
	for _, s := range r.Stages {
		if s.Status == Failed && !status.Done() {
			status = Failed
		}
	}
	if r.Status.Done() && !status.Done() {
		status = r.Status // history is immutable: a finished run never runs again
	}
	r.Status = status
	if r.Status == Running && r.StartedAt == nil {
		t := now
		r.StartedAt = &t
	}
	if r.Status.Done() {
		if r.FinishedAt == nil {
			t := now
			if u.FinishedAt != nil {
				t = *u.FinishedAt
			}
			r.FinishedAt = &t
		}
		failFast(r)
	}
	r.DeployedAt = nil
	for _, st := range r.Stages {
		if IsDeployStage(st.Name) && st.Status == Succeeded && st.FinishedAt != nil {
			t := st.FinishedAt.UTC()
			r.DeployedAt = &t
		}
	}
	return snapshot(r) != before
}

// IsDeployStage reports whether a stage is the one that deploys: the stage named Deploy (in any
// case), as in Build → Test → … → Release → Deploy. Its success is the change reaching production
// for DORA's lead time.
func IsDeployStage(name string) bool { return strings.EqualFold(strings.TrimSpace(name), "deploy") }

// orderStages lays the provider's stages over the declared ones: declared stages first, in
// order, then any stage the engine ran that the declaration does not name.
func orderStages(decl *Declaration, got, had []Stage) []Stage {
	byName := map[string]Stage{}
	for _, s := range had {
		byName[s.Name] = s
	}
	for _, s := range got {
		byName[s.Name] = s
	}
	var out []Stage
	seen := map[string]bool{}
	if decl != nil {
		for _, sd := range decl.Stages {
			s, ok := byName[sd.Name]
			if !ok {
				s = Stage{Name: sd.Name, Status: Queued}
			}
			out = append(out, s)
			seen[sd.Name] = true
		}
	}
	for _, list := range [][]Stage{had, got} {
		for _, s := range list {
			if !seen[s.Name] {
				out = append(out, byName[s.Name])
				seen[s.Name] = true
			}
		}
	}
	if out == nil {
		out = []Stage{}
	}
	return out
}

// failFast marks the stages of a finished run that never finished: SKIPPED after a failure (and
// in a cancelled or timed-out run), and so the run's picture never shows a stage still running.
func failFast(r *Run) {
	for i := range r.Stages {
		s := &r.Stages[i]
		if s.Status.Done() {
			continue
		}
		if s.Status == Running {
			// The engine stopped it with the run: it did not fail on its own.
			s.Status = Cancelled
			if r.Status == Succeeded {
				s.Status = Succeeded
			}
			if s.FinishedAt == nil {
				s.FinishedAt = r.FinishedAt
			}
			continue
		}
		s.Status = Skipped
	}
}

// snapshot is a comparable digest of the parts of a run an update may change.
func snapshot(r *Run) string {
	b, _ := jsonOf(struct {
		P, U, S, C, M string
		A             int
		St            []Stage
		Ar            []Artifact
		Sa, F, Ca, D  *time.Time
	}{r.ProviderRunID, r.URL, string(r.Status), r.CommitSHA, r.Message, r.Attempt, r.Stages, r.Artifacts, r.StartedAt, r.FinishedAt,
		r.CommittedAt, r.DeployedAt})
	return b
}

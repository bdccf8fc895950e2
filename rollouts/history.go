package rollouts

import (
	"slices"
	"time"
	"unicode/utf8"
)

// Result is how a rollout ended, or that it has not yet.
type Result string

// The rollout results.
const (
	ResultRunning   Result = "RUNNING"
	ResultSucceeded Result = "SUCCEEDED"
	ResultFailed    Result = "FAILED"
	// ResultAborted is a sync whose canary was aborted: the stable version runs again.
	ResultAborted Result = "ABORTED"
)

// Results lists every result, for validating filters.
var Results = []Result{ResultRunning, ResultSucceeded, ResultFailed, ResultAborted}

// resultOf is the result of an operation phase.
func resultOf(p OperationPhase) Result {
	switch p {
	case OperationSucceeded:
		return ResultSucceeded
	case OperationFailed, OperationError:
		return ResultFailed
	default:
		return ResultRunning
	}
}

// Rollout is one sync operation of an application, as Portside keeps it: Argo CD forgets all but
// the last few, Portside keeps them all. An application's rollouts are told apart by when they
// started.
type Rollout struct {
	ID int64
	Key
	Environment string
	Project     string
	Revision    string
	Phase       OperationPhase
	Result      Result
	Message     string
	StartedAt   time.Time
	FinishedAt  *time.Time
	// InitiatedBy is the user who started the sync, "" when Argo CD started it (Automated).
	InitiatedBy string
	Automated   bool
	// RequestedBy is the person who asked Portside for the sync, "" when it did not come through
	// Portside.
	RequestedBy string
	// HistoryID is Argo CD's history ID once the sync succeeded (they start at 0); nil before.
	HistoryID *int64
	Images    []string
	// Commit is the revision's author, message and date, once the source was asked.
	Commit Commit
	// Canary is how the Argo Rollouts canary the sync started went, step by step; nil without one.
	Canary *CanaryProgress
}

// MaxRevision is the longest revision a rollout records, in bytes: a commit SHA, a chart version
// or an image digest is far shorter, but Argo CD takes what an Application's operation names, and
// revisions are indexed (rollouts_revision; a PostgreSQL B-tree entry holds at most 2,704 bytes:
// one 3,000-byte revision kept every rollout of its application from being recorded). A longer
// one is recorded cut to its first MaxRevision bytes (whole characters): the rollout is kept, and
// the cut revision matches no commit.
const MaxRevision = 255

// boundedRevision is revision cut to MaxRevision bytes, at a character's start.
func boundedRevision(revision string) string {
	if len(revision) <= MaxRevision {
		return revision
	}
	cut := MaxRevision
	for cut > 0 && !utf8.RuneStart(revision[cut]) {
		cut--
	}
	return revision[:cut]
}

// RolloutsOf derives the rollouts an application's state shows: its current or last operation and
// every entry of its history, merged where they are the same sync. Deriving them again from a later
// state (after a reconnect, from a list) gives the same rollouts, so recording them is idempotent.
func RolloutsOf(app *Application) []Rollout {
	d := &app.Deployment
	base := Rollout{Key: d.Key(), Environment: d.Environment, Project: d.Project}
	var out []Rollout
	at := func(started time.Time) *Rollout {
		for i := range out {
			if out[i].StartedAt.Equal(started) {
				return &out[i]
			}
		}
		return nil
	}
	if op := d.Operation; op != nil && !op.StartedAt.IsZero() {
		r := base
		r.Revision, r.Phase, r.Result, r.Message = boundedRevision(op.Revision), op.Phase, resultOf(op.Phase), op.Message
		r.StartedAt, r.FinishedAt, r.InitiatedBy, r.Automated = op.StartedAt, op.FinishedAt, op.InitiatedBy, op.Automated
		r.RequestedBy = op.RequestedBy
		if r.Result == ResultSucceeded {
			// The images a finished sync left running; while it runs, the old ones still are.
			r.Images = slices.Clone(d.Images)
		}
		out = append(out, r)
	}
	for _, h := range app.History {
		started := h.DeployedAt
		if h.StartedAt != nil {
			started = *h.StartedAt
		}
		if r := at(started); r != nil {
			id := h.ID
			r.HistoryID = &id
			continue
		}
		r := base
		deployed := h.DeployedAt
		id := h.ID
		r.Revision, r.Phase, r.Result, r.HistoryID = boundedRevision(h.Revision), OperationSucceeded, ResultSucceeded, &id
		r.StartedAt, r.FinishedAt, r.InitiatedBy, r.Automated = started, &deployed, h.InitiatedBy, h.Automated
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Rollout) int { return a.StartedAt.Compare(b.StartedAt) })
	return out
}

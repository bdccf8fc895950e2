// Package bridge adapts the pipelines and rollouts services to what the deploys service asks of
// them: the runs that prove a version, Argo CD's sync windows, and the rollouts that close a
// request. It is wiring, kept out of cmd so that tests wire the service the way serve does.
package bridge

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/portside-dev/portside/deploys"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/pubsub"
	"github.com/portside-dev/portside/pipelines"
	"github.com/portside-dev/portside/rollouts"
)

// PipelineBuilds proves deploy versions with the component's successful pipeline runs.
type PipelineBuilds struct{ Pipelines *pipelines.Service }

// SucceededBuilds lists the component's latest successful runs with what they built.
func (b PipelineBuilds) SucceededBuilds(ctx context.Context, component string, limit int) ([]deploys.Build, error) {
	page, err := b.Pipelines.Runs(ctx, pipelines.Filter{Component: component, Statuses: []pipelines.Status{pipelines.Succeeded}}, min(limit, pipelines.MaxPage), "")
	if err != nil {
		return nil, err
	}
	out := make([]deploys.Build, len(page.Runs))
	for i, r := range page.Runs {
		out[i] = deploys.Build{RunID: r.ID, CommitSHA: r.CommitSHA}
		for _, art := range r.Artifacts {
			if art.Image != "" {
				out[i].Images = append(out[i].Images, art.Image)
			}
			if art.Version != "" {
				out[i].Versions = append(out[i].Versions, art.Version)
			}
		}
	}
	return out, nil
}

// SyncWindows asks Argo CD whether the component's application in the environment may sync now.
type SyncWindows struct{ Rollouts *rollouts.Service }

// Blocked says why the component's application in env may not sync now, "" when it may.
func (w SyncWindows) Blocked(ctx context.Context, _ string, annotations map[string]string, env string) (string, error) {
	ds, err := w.Rollouts.Deployments(ctx, annotations)
	if err != nil {
		return "", err
	}
	for _, d := range ds {
		if d.Environment != env {
			continue
		}
		sw, err := w.Rollouts.SyncWindows(ctx, d)
		if errs.Is(err, errs.NotFound) {
			continue
		}
		if err != nil {
			return "", err
		}
		if !sw.CanSync {
			var active []string
			for _, a := range sw.Active {
				active = append(active, fmt.Sprintf("%s %q for %s", a.Kind, a.Schedule, a.Duration))
			}
			return fmt.Sprintf("Argo CD's sync windows forbid syncing %s now (%s)", d.Application, strings.Join(active, ", ")), nil
		}
	}
	return "", nil
}

// RolloutEvents turns the rollouts tracker's recorded rollouts into the events deploy requests
// follow, and an application coming to rest into a Settled event. A subscription cut off for
// falling behind is opened again.
type RolloutEvents struct{ Rollouts *rollouts.Service }

// RolloutEvents delivers the rollouts the tracker records, and the applications that come to rest
// (synced, healthy, nothing under way; once per application and revision), until ctx ends.
func (r RolloutEvents) RolloutEvents(ctx context.Context) <-chan deploys.RolloutEvent {
	out := make(chan deploys.RolloutEvent)
	go func() {
		defer close(out)
		// rested is the revision each application last came to rest at: Argo CD updates an
		// application every few minutes with nothing new, and those say nothing to requests.
		rested := map[rollouts.Key]string{}
		for ctx.Err() == nil {
			// This replica's own rollouts only: each replica moves the requests of the rollouts it
			// recorded, so each move is made once (an application coming to rest is heard by every
			// replica: moves are conditional, so the first settles the request and the rest find it moved).
			sub := r.Rollouts.Tracker().Subscribe(pubsub.Own(ctx), func(c rollouts.Change) bool { return c.Rollout != nil || c.Deployment != nil })
			for c := range sub.C() {
				var ev deploys.RolloutEvent
				switch {
				case c.Rollout != nil:
					// As the row is now, not as this change saw it: a change heard late (a busy
					// replica) would otherwise tell a step the canary has left.
					ro := c.Rollout
					if now, err := r.Rollouts.Rollout(ctx, ro.ID); err == nil {
						ro = &now
					}
					ev = r.event(ro)
				case c.Removed:
					delete(rested, c.Deployment.Key())
					continue
				default:
					k, st := c.Deployment.Key(), State(c.Deployment)
					switch {
					case st.Stale: // an old state: says nothing new
						continue
					case !st.Synced || !st.Healthy || st.Operating:
						delete(rested, k) // moving again: its next rest is news
						continue
					case rested[k] == st.Revision:
						continue
					}
					rested[k] = st.Revision
					ev = deploys.RolloutEvent{Revision: st.Revision, Settled: true}
				}
				select {
				case out <- ev:
				case <-ctx.Done():
					sub.Close()
					return
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(time.Second): // the tracker stopped or cut us off: open again, gently
			}
		}
	}()
	return out
}

// Applications reads the applications that deploy a component's environment from the rollouts
// tracker (deploys.Applications).
type Applications struct{ Rollouts *rollouts.Service }

// Applications lists the state of the component's applications whose environment is env.
func (a Applications) Applications(ctx context.Context, annotations map[string]string, env string) ([]deploys.AppState, error) {
	ds, err := a.Rollouts.Deployments(ctx, annotations)
	if err != nil {
		return nil, err
	}
	var out []deploys.AppState
	for i := range ds {
		if ds[i].Environment == env {
			out = append(out, State(&ds[i]))
		}
	}
	return out, nil
}

// State is what a deployment's state says to a request rolling out to it. A canary under way (or
// aborted) counts as an operation under way: the application is not at rest.
func State(d *rollouts.Deployment) deploys.AppState {
	st := deploys.AppState{Name: d.Application + " on Argo CD " + d.Instance, Revision: d.Revision, Stale: d.Stale,
		Synced: d.Sync == rollouts.Synced, Healthy: d.Health == rollouts.Healthy}
	if op := d.Operation; op != nil {
		st.OperationRevision = op.Revision
		st.Operating = op.Phase == rollouts.OperationRunning || op.Phase == rollouts.OperationTerminating
	}
	if d.Canary != nil && !d.Canary.Done() {
		st.Operating = true
	}
	return st
}

// RolloutOf is the recorded rollout of a revision, as an event; ok is false when none was recorded.
func (r RolloutEvents) RolloutOf(ctx context.Context, revision string) (deploys.RolloutEvent, bool, error) {
	ro, ok, err := r.Rollouts.RolloutOfRevision(ctx, revision)
	if err != nil || !ok {
		return deploys.RolloutEvent{}, false, err
	}
	return r.event(&ro), true, nil
}

// event is what a recorded rollout says to the requests of its revision, given its application as
// the tracker sees it now (EventAt).
func (r RolloutEvents) event(ro *rollouts.Rollout) deploys.RolloutEvent {
	d, ok := r.Rollouts.Tracker().Deployment(ro.Key)
	if !ok {
		return EventAt(ro, nil)
	}
	return EventAt(ro, &d)
}

// EventAt is what a recorded rollout says to the requests of its revision, given its application
// d as last seen (nil when not seen). Argo CD's sync of an Argo Rollouts Rollout succeeds as soon as
// the Rollout is applied, its canary often at its first step (issue #16): so a succeeded sync is a
// succeeded rollout only once its canary is done and the application is healthy and at rest at
// that revision; until then it is a rollout running, with its progress. An aborted canary is a
// rollout aborted, and an application gone Degraded at the revision a rollout failed. An
// application that moved on to another revision says nothing about this one: the record alone
// decides.
func EventAt(ro *rollouts.Rollout, d *rollouts.Deployment) deploys.RolloutEvent {
	ev := Event(ro)
	if ev.Result == deploys.RolloutAborted || (ev.Result == deploys.RolloutSucceeded && ro.Canary != nil && ro.Canary.Aborted) {
		// The record's message is its sync's ("successfully synced"); the canary's says why.
		ev.Result, ev.Message = deploys.RolloutAborted, ""
		if d != nil && d.Revision == ro.Revision && d.Canary != nil && d.Canary.Aborted {
			ev.Message = d.Canary.Message
		}
		return ev
	}
	if ev.Result != deploys.RolloutSucceeded {
		return ev
	}
	if d != nil && d.Revision != ro.Revision && (d.Operation == nil || d.Operation.Revision != ro.Revision) {
		// Moved on to a later sync: how this revision ran is no longer to be seen; its own canary
		// still has to have been done.
		if ro.Canary != nil && !ro.Canary.Done() {
			ev.Result = deploys.RolloutRunning
		}
		return ev
	}
	switch {
	case d == nil || d.Stale:
		// Not seen, or only an old state while its instance is away: wait for a fresh one.
		ev.Result = deploys.RolloutRunning
	case d.Canary != nil && d.Canary.Aborted:
		ev.Result, ev.Message = deploys.RolloutAborted, d.Canary.Message
	case d.Health == rollouts.Degraded && d.Revision == ro.Revision:
		ev.Result, ev.Message = deploys.RolloutFailed, fmt.Sprintf("Argo CD assesses %s Degraded", d.Application)
	case ro.Canary != nil && !ro.Canary.Done():
		ev.Result = deploys.RolloutRunning
	default:
		if st := State(d); st.Synced && st.Healthy && !st.Operating && st.Revision == ro.Revision {
			return ev // done: the canary (if any) ran every step and the application is healthy
		}
		// Not yet healthy, or a canary under way that the record has not caught: the application
		// coming to rest (a Settled event) ends it.
		ev.Result = deploys.RolloutRunning
	}
	return ev
}

// Event is what a recorded rollout says about its revision.
func Event(ro *rollouts.Rollout) deploys.RolloutEvent {
	ev := deploys.RolloutEvent{Revision: ro.Revision, Message: ro.Message}
	switch ro.Result {
	case rollouts.ResultSucceeded:
		ev.Result = deploys.RolloutSucceeded
	case rollouts.ResultFailed:
		ev.Result = deploys.RolloutFailed
	case rollouts.ResultAborted:
		ev.Result = deploys.RolloutAborted
	default:
		ev.Result = deploys.RolloutRunning
	}
	if c := ro.Canary; c != nil && len(c.Reached) > 0 {
		last := c.Reached[len(c.Reached)-1]
		ev.Progress = fmt.Sprintf("canary step %d of %d, weight %d%%", last.Step+1, len(c.Steps), last.Weight)
		if last.Step < len(c.Steps) && c.Steps[last.Step].Kind == "pause" {
			// Where the canary waits: for a while, or until someone promotes it.
			if d := c.Steps[last.Step].Pause; d != "" {
				ev.Progress += ", paused for " + d
			} else {
				ev.Progress += ", paused until promoted"
			}
		}
		if last.Step >= len(c.Steps) {
			ev.Progress = fmt.Sprintf("canary steps done, weight %d%%", last.Weight)
		}
	}
	return ev
}

// Refresher asks Argo CD, through the rollouts service, for a hard refresh of the applications
// that deploy a component's environment (deploys.Refresher).
type Refresher struct{ Rollouts *rollouts.Service }

// Refresh refreshes each application of the component whose environment is env; the audit
// record of each names cause. The first refusal is returned after every application was asked.
func (r Refresher) Refresh(ctx context.Context, component string, annotations map[string]string, env, cause string) error {
	ds, err := r.Rollouts.Deployments(ctx, annotations)
	if err != nil {
		return err
	}
	var first error
	for i := range ds {
		if ds[i].Environment != env {
			continue
		}
		t := rollouts.Target{Component: component, Instance: ds[i].Instance, AppNamespace: ds[i].AppNamespace, Application: ds[i].Application, Cause: cause}
		if _, err := r.Rollouts.Refresh(ctx, t, true); err != nil && first == nil {
			first = err
		}
	}
	return first
}

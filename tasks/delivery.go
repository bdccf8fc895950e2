package tasks

import (
	"context"
	"strconv"

	"github.com/portside-dev/portside/internal/pubsub"
	"github.com/portside-dev/portside/pipelines"
	"github.com/portside-dev/portside/rollouts"
)

// RolloutHub is where rollouts are published as they are recorded and updated;
// rollouts.Tracker implements it.
type RolloutHub interface {
	Subscribe(ctx context.Context, filter func(rollouts.Change) bool) *rollouts.Subscription
}

// RolloutFeed is the delivery feed of rollouts: every rollout that ended (succeeded, failed,
// aborted) is an event for the tasks linked to it.
type RolloutFeed struct{ Hub RolloutHub }

// Events subscribes to the hub; the channel closes when the hub cuts the subscription off (it
// fell behind) or ctx ends, and FollowDelivery subscribes again.
func (f RolloutFeed) Events(ctx context.Context) (<-chan DeliveryEvent, error) {
	// This replica's own rollouts only: each replica suggests for what it recorded, so once.
	sub := f.Hub.Subscribe(pubsub.Own(ctx), func(c rollouts.Change) bool {
		return c.Rollout != nil && c.Rollout.ID != 0 && c.Rollout.Result != rollouts.ResultRunning
	})
	out := make(chan DeliveryEvent)
	go func() {
		defer close(out)
		defer sub.Close()
		for c := range sub.C() {
			ev, ok := RolloutEvent(*c.Rollout)
			if !ok {
				continue
			}
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// RolloutEvent is what a rollout's end means for the tasks linked to it; ok is false while it runs.
func RolloutEvent(r rollouts.Rollout) (DeliveryEvent, bool) {
	ev := DeliveryEvent{Kind: LinkRollout, Target: strconv.FormatInt(r.ID, 10), Reason: r.Message}
	switch r.Result {
	case rollouts.ResultSucceeded:
		ev.Outcome = Succeeded
	case rollouts.ResultFailed:
		ev.Outcome = Failed
	case rollouts.ResultAborted:
		ev.Outcome = Aborted
		if r.Canary != nil && ev.Reason == "" {
			ev.Reason = "the canary was aborted"
		}
	default:
		return ev, false
	}
	return ev, true
}

// RunWatcher is where pipeline runs are published as they change; pipelines.Service implements it.
type RunWatcher interface {
	Watch(ctx context.Context, f pipelines.Filter, runID int64) (*pipelines.Subscription, error)
}

// PipelineRunFeed is the delivery feed of pipeline runs: every run that ended (succeeded, failed,
// timed out, cancelled) is an event for the tasks linked to it.
type PipelineRunFeed struct{ Runs RunWatcher }

// Events subscribes to every run's changes; the channel closes when the subscription is cut off
// (it fell behind) or ctx ends, and FollowDelivery subscribes again.
func (f PipelineRunFeed) Events(ctx context.Context) (<-chan DeliveryEvent, error) {
	sub, err := f.Runs.Watch(pubsub.Own(ctx), pipelines.Filter{}, 0) // this replica's own changes: once

	if err != nil {
		return nil, err
	}
	out := make(chan DeliveryEvent)
	go func() {
		defer close(out)
		defer sub.Close()
		for run := range sub.C() {
			ev, ok := PipelineRunEvent(run)
			if !ok {
				continue
			}
			select {
			case out <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// PipelineRunEvent is what a run's end means for the tasks linked to it; ok is false while it is
// queued or running. The reason of a failure names the stage that failed, as fail fast shows it.
func PipelineRunEvent(r pipelines.Run) (DeliveryEvent, bool) {
	ev := DeliveryEvent{Kind: LinkPipelineRun, Target: strconv.FormatInt(r.ID, 10), Reason: r.Message}
	switch r.Status {
	case pipelines.Succeeded:
		ev.Outcome, ev.Reason = Succeeded, ""
	case pipelines.Failed, pipelines.TimedOut:
		ev.Outcome = Failed
		for _, st := range r.Stages {
			if st.Status == pipelines.Failed || st.Status == pipelines.TimedOut {
				stage := "stage " + st.Name + " failed"
				if st.Status == pipelines.TimedOut {
					stage = "stage " + st.Name + " timed out"
				}
				if ev.Reason == "" {
					ev.Reason = stage
				} else {
					ev.Reason = stage + ": " + ev.Reason
				}
				break
			}
		}
	case pipelines.Cancelled:
		ev.Outcome = Aborted
		if ev.Reason == "" {
			ev.Reason = "the run was cancelled"
		}
	default:
		return ev, false
	}
	return ev, true
}

package tasks

import (
	"context"
	"strconv"

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
	sub := f.Hub.Subscribe(ctx, func(c rollouts.Change) bool {
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

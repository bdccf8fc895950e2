package bridge_test

import (
	"testing"
	"time"

	"github.com/portside-dev/portside/deploys"
	"github.com/portside-dev/portside/deploys/bridge"
	"github.com/portside-dev/portside/rollouts"
)

func TestARecordedRolloutIsAnEventOfItsRevision(t *testing.T) {
	w := func(n int) *int { return &n }
	steps := []rollouts.CanaryStep{{Kind: "setWeight", Weight: w(20)}, {Kind: "pause"}, {Kind: "setWeight", Weight: w(100)}}
	timed := []rollouts.CanaryStep{{Kind: "setWeight", Weight: w(20)}, {Kind: "pause", Pause: "30s"}, {Kind: "setWeight", Weight: w(100)}}
	at := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		ro   rollouts.Rollout
		want deploys.RolloutEvent
	}{
		{"running, no canary", rollouts.Rollout{Revision: "abc", Result: rollouts.ResultRunning},
			deploys.RolloutEvent{Revision: "abc", Result: deploys.RolloutRunning}},
		{"a canary step reached", rollouts.Rollout{Revision: "abc", Result: rollouts.ResultRunning,
			Canary: &rollouts.CanaryProgress{Steps: steps, Reached: []rollouts.StepReached{{Step: 0, Weight: 20, At: at}}}},
			deploys.RolloutEvent{Revision: "abc", Result: deploys.RolloutRunning, Progress: "canary step 1 of 3, weight 20%"}},
		{"a pause until promoted", rollouts.Rollout{Revision: "abc", Result: rollouts.ResultRunning,
			Canary: &rollouts.CanaryProgress{Steps: steps, Reached: []rollouts.StepReached{{Step: 0, Weight: 20, At: at}, {Step: 1, Weight: 20, At: at}}}},
			deploys.RolloutEvent{Revision: "abc", Result: deploys.RolloutRunning, Progress: "canary step 2 of 3, weight 20%, paused until promoted"}},
		{"a timed pause", rollouts.Rollout{Revision: "abc", Result: rollouts.ResultRunning,
			Canary: &rollouts.CanaryProgress{Steps: timed, Reached: []rollouts.StepReached{{Step: 1, Weight: 20, At: at}}}},
			deploys.RolloutEvent{Revision: "abc", Result: deploys.RolloutRunning, Progress: "canary step 2 of 3, weight 20%, paused for 30s"}},
		{"the canary's steps done", rollouts.Rollout{Revision: "abc", Result: rollouts.ResultRunning,
			Canary: &rollouts.CanaryProgress{Steps: steps, Reached: []rollouts.StepReached{{Step: 3, Weight: 100, At: at}}}},
			deploys.RolloutEvent{Revision: "abc", Result: deploys.RolloutRunning, Progress: "canary steps done, weight 100%"}},
		{"succeeded", rollouts.Rollout{Revision: "abc", Result: rollouts.ResultSucceeded, Message: "successfully synced"},
			deploys.RolloutEvent{Revision: "abc", Result: deploys.RolloutSucceeded, Message: "successfully synced"}},
		{"failed", rollouts.Rollout{Revision: "abc", Result: rollouts.ResultFailed, Message: "boom"},
			deploys.RolloutEvent{Revision: "abc", Result: deploys.RolloutFailed, Message: "boom"}},
		{"aborted", rollouts.Rollout{Revision: "abc", Result: rollouts.ResultAborted},
			deploys.RolloutEvent{Revision: "abc", Result: deploys.RolloutAborted}},
	} {
		if got := bridge.Event(&c.ro); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

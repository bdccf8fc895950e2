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

// A succeeded sync is a rollout ended only once its canary is done and its application healthy and
// at rest at the revision (issue #16): Argo CD ends the sync of an Argo Rollouts Rollout as soon as
// it is applied, the canary at its first step. Until then the rollout is running, with its
// progress; an aborted canary is a rollout aborted, an application gone Degraded a rollout failed.
func TestASucceededSyncEndsTheRolloutOnlyOnceItsCanaryIsDoneAndTheApplicationHealthy(t *testing.T) {
	w := func(n int) *int { return &n }
	steps := []rollouts.CanaryStep{{Kind: "setWeight", Weight: w(20)}, {Kind: "pause"}, {Kind: "setWeight", Weight: w(100)}}
	at := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	synced := func(canary *rollouts.CanaryProgress) *rollouts.Rollout {
		return &rollouts.Rollout{Revision: "abc", Result: rollouts.ResultSucceeded, Message: "successfully synced", Canary: canary}
	}
	atStep := &rollouts.CanaryProgress{Steps: steps, Reached: []rollouts.StepReached{{Step: 1, Weight: 20, At: at}}}
	done := &rollouts.CanaryProgress{Steps: steps, Reached: []rollouts.StepReached{{Step: 1, Weight: 20, At: at}, {Step: 3, Weight: 100, At: at}}, Completed: &at}
	aborted := &rollouts.CanaryProgress{Steps: steps, Reached: []rollouts.StepReached{{Step: 1, Weight: 20, At: at}}, Aborted: true}
	app := func(health rollouts.Health, c *rollouts.Canary, change ...func(*rollouts.Deployment)) *rollouts.Deployment {
		d := &rollouts.Deployment{Application: "payments-api", Instance: "prod", Revision: "abc", Sync: rollouts.Synced, Health: health, Canary: c,
			Operation: &rollouts.Operation{Revision: "abc", Phase: rollouts.OperationSucceeded}}
		for _, f := range change {
			f(d)
		}
		return d
	}
	paused := &rollouts.Canary{Strategy: "canary", Steps: steps, CurrentStep: 1, Phase: "Paused", StableRevision: "h1", CanaryRevision: "h2"}
	finished := &rollouts.Canary{Strategy: "canary", Steps: steps, CurrentStep: 3, Phase: "Healthy", StableRevision: "h2", CanaryRevision: "h2"}
	abortedLive := &rollouts.Canary{Strategy: "canary", Steps: steps, Phase: "Degraded", Aborted: true, Message: "metric error-rate failed", StableRevision: "h1", CanaryRevision: "h2"}
	progress := "canary step 2 of 3, weight 20%, paused until promoted"
	for _, c := range []struct {
		name string
		ro   *rollouts.Rollout
		d    *rollouts.Deployment
		want deploys.RolloutEvent
	}{
		{"synced, the canary at its first step", synced(atStep), app(rollouts.Suspended, paused),
			deploys.RolloutEvent{Revision: "abc", Result: deploys.RolloutRunning, Message: "successfully synced", Progress: progress}},
		{"synced, the canary at its first step, Argo CD already calling it healthy", synced(atStep), app(rollouts.Healthy, paused),
			deploys.RolloutEvent{Revision: "abc", Result: deploys.RolloutRunning, Message: "successfully synced", Progress: progress}},
		{"synced before any canary status was read, the application Progressing", synced(nil), app(rollouts.Progressing, nil),
			deploys.RolloutEvent{Revision: "abc", Result: deploys.RolloutRunning, Message: "successfully synced"}},
		{"synced before the record caught the canary under way", synced(nil), app(rollouts.Healthy, paused),
			deploys.RolloutEvent{Revision: "abc", Result: deploys.RolloutRunning, Message: "successfully synced"}},
		{"synced, the application not seen", synced(nil), nil,
			deploys.RolloutEvent{Revision: "abc", Result: deploys.RolloutRunning, Message: "successfully synced"}},
		{"synced, the application last seen long ago", synced(done), app(rollouts.Healthy, finished, func(d *rollouts.Deployment) { d.Stale = true }),
			deploys.RolloutEvent{Revision: "abc", Result: deploys.RolloutRunning, Message: "successfully synced", Progress: "canary steps done, weight 100%"}},
		{"the canary done, the application still Progressing", synced(done), app(rollouts.Progressing, finished),
			deploys.RolloutEvent{Revision: "abc", Result: deploys.RolloutRunning, Message: "successfully synced", Progress: "canary steps done, weight 100%"}},
		{"the canary done, the application healthy at the revision", synced(done), app(rollouts.Healthy, finished),
			deploys.RolloutEvent{Revision: "abc", Result: deploys.RolloutSucceeded, Message: "successfully synced", Progress: "canary steps done, weight 100%"}},
		{"no canary, the application healthy at the revision", synced(nil), app(rollouts.Healthy, nil),
			deploys.RolloutEvent{Revision: "abc", Result: deploys.RolloutSucceeded, Message: "successfully synced"}},
		{"the canary done, the application healthy but not yet at the revision", synced(done), app(rollouts.Healthy, finished, func(d *rollouts.Deployment) { d.Revision = "old" }),
			deploys.RolloutEvent{Revision: "abc", Result: deploys.RolloutRunning, Message: "successfully synced", Progress: "canary steps done, weight 100%"}},
		{"the canary aborted on the record", synced(aborted), app(rollouts.Degraded, abortedLive),
			deploys.RolloutEvent{Revision: "abc", Result: deploys.RolloutAborted, Message: "metric error-rate failed", Progress: progress}},
		{"recorded ABORTED, the application not seen", &rollouts.Rollout{Revision: "abc", Result: rollouts.ResultAborted, Message: "successfully synced", Canary: aborted}, nil,
			deploys.RolloutEvent{Revision: "abc", Result: deploys.RolloutAborted, Progress: progress}},
		{"the canary aborted, not yet on the record", synced(atStep), app(rollouts.Degraded, abortedLive),
			deploys.RolloutEvent{Revision: "abc", Result: deploys.RolloutAborted, Message: "metric error-rate failed", Progress: progress}},
		{"the application gone Degraded", synced(nil), app(rollouts.Degraded, nil),
			deploys.RolloutEvent{Revision: "abc", Result: deploys.RolloutFailed, Message: "Argo CD assesses payments-api Degraded"}},
		{"the application moved on to a later sync, this canary done", synced(done), app(rollouts.Progressing, paused, func(d *rollouts.Deployment) {
			d.Revision, d.Operation.Revision = "def", "def"
		}), deploys.RolloutEvent{Revision: "abc", Result: deploys.RolloutSucceeded, Message: "successfully synced", Progress: "canary steps done, weight 100%"}},
		{"the application moved on to a later sync, this canary not done", synced(atStep), app(rollouts.Progressing, paused, func(d *rollouts.Deployment) {
			d.Revision, d.Operation.Revision = "def", "def"
		}), deploys.RolloutEvent{Revision: "abc", Result: deploys.RolloutRunning, Message: "successfully synced", Progress: progress}},
		{"the sync failed", &rollouts.Rollout{Revision: "abc", Result: rollouts.ResultFailed, Message: "boom"}, app(rollouts.Healthy, nil),
			deploys.RolloutEvent{Revision: "abc", Result: deploys.RolloutFailed, Message: "boom"}},
	} {
		if got := bridge.EventAt(c.ro, c.d); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

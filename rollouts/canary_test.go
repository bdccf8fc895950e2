package rollouts_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/rollouts"
	"github.com/portside-dev/portside/rollouts/argocd/argocdtest"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// liveRollout is the JSON of the canary-demo Rollout as Argo Rollouts reports it: 20 replicas,
// steps setWeight 5 → pause → setWeight 25 → pause 10s → setWeight 100 (the rig's canary app).
func liveRollout(step int, phase, paused, stable, current string, updated int, aborted bool) string {
	pause := "[]"
	if paused != "" {
		pause = fmt.Sprintf(`[{"reason": %q, "startTime": "2026-11-30T10:00:00Z"}]`, paused)
	}
	return fmt.Sprintf(`{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
		"metadata": {"name": "canary-demo", "namespace": "default"},
		"spec": {"replicas": 20, "strategy": {"canary": {"steps": [
			{"setWeight": 5}, {"pause": {}}, {"setWeight": 25}, {"pause": {"duration": "10s"}}, {"setWeight": 100}]}}},
		"status": {"currentStepIndex": %d, "phase": %q, "pauseConditions": %s, "stableRS": %q, "currentPodHash": %q,
			"replicas": 20, "updatedReplicas": %d, "abort": %v, "message": ""}}`,
		step, phase, pause, stable, current, updated, aborted)
}

func canaryApp() v1alpha1.Application {
	a := deployedOnce()
	a.Status.Resources = []v1alpha1.ResourceStatus{
		{Group: "", Version: "v1", Kind: "Service", Namespace: "default", Name: "canary-demo"},
		{Group: "argoproj.io", Version: "v1alpha1", Kind: "Rollout", Namespace: "default", Name: "canary-demo"},
	}
	return a
}

func describeCanary(c *rollouts.Canary) string {
	if c == nil {
		return "no canary"
	}
	actual := "-"
	if c.ActualWeight != nil {
		actual = fmt.Sprint(*c.ActualWeight)
	}
	return fmt.Sprintf("step %d/%d weight %d actual %s %s paused=%q aborted=%v", c.CurrentStep, len(c.Steps), c.SetWeight, actual,
		c.Phase, c.PausedReason, c.Aborted)
}

// canaryIs waits for the deployment's canary to be as described.
func canaryIs(t *testing.T, sub *rollouts.Subscription, want string) {
	t.Helper()
	var last string
	waitFor(t, sub, "canary "+want, func(c rollouts.Change) bool {
		if c.Deployment == nil {
			return false
		}
		last = describeCanary(c.Deployment.Canary)
		return last == want
	})
}

func TestACanaryIsFollowedStepByStepPromotedAndASecondOneAborted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newRig(t, st, canaryApp())
		commits(r.argo)
		live := func(step int, phase, paused, stable, current string, updated int, aborted bool) {
			r.argo.SetLive("argocd", "payments-prod", "Rollout", "canary-demo", liveRollout(step, phase, paused, stable, current, updated, aborted))
		}
		live(5, "Healthy", "", "h1", "h1", 20, false) // a1's canary, long done
		deploys := r.watch(rollouts.WatchDeployments)
		r.start()
		canaryIs(t, deploys, `step 5/5 weight 100 actual 100 Healthy paused="" aborted=false`)
		target := rollouts.Target{Component: "payments"}
		if _, err := r.svc.Promote(bob(), target, false); !errs.Is(err, errs.Conflict) || !strings.Contains(err.Error(), "not paused") {
			t.Errorf("promoting a finished canary: %v, want CONFLICT saying it is not paused", err)
		}

		// b2: synced, then the canary walks 5% → pause → promoted → 25% → pause 10s → 100%.
		ros := r.watch(rollouts.WatchRollouts)
		if _, err := r.svc.Sync(bob(), target, rollouts.SyncRequest{Revision: "b2"}); err != nil {
			t.Fatal(err)
		}
		r.argo.Update("argocd", "payments-prod", func(a *v1alpha1.Application) {
			argocdtest.Succeed(a, "b2")
			a.Status.Health.Status = "Suspended"
		})
		live(1, "Paused", "CanaryPauseStep", "h1", "h2", 1, false)
		canaryIs(t, deploys, `step 1/5 weight 5 actual 5 Paused paused="CanaryPauseStep" aborted=false`)
		r.argo.OnAction(func(app, action string) {
			if action == "resume" {
				live(3, "Paused", "CanaryPauseStep", "h1", "h2", 5, false)
			}
		})
		if _, err := r.svc.Promote(bob(), target, false); err != nil {
			t.Fatal(err)
		}
		canaryIs(t, deploys, `step 3/5 weight 25 actual 25 Paused paused="CanaryPauseStep" aborted=false`)
		live(5, "Healthy", "", "h2", "h2", 20, false) // the 10 s pause ran out; 100%
		canaryIs(t, deploys, `step 5/5 weight 100 actual 100 Healthy paused="" aborted=false`)
		// The canary's end is a change of b2's rollout, as each step was: its sync ended long
		// before, and a deploy request of b2 closes on this change (issue #16).
		waitFor(t, ros, "b2's rollout with its canary done", func(c rollouts.Change) bool {
			return c.Rollout != nil && c.Rollout.Revision == "b2" && c.Rollout.Canary.Done()
		})

		// c3: its canary is aborted at 5%. (Portside refuses a sync while it still sees b2's running.)
		r.opIs("Succeeded")
		if _, err := r.svc.Sync(bob(), target, rollouts.SyncRequest{Revision: "c3"}); err != nil {
			t.Fatal(err)
		}
		r.argo.Update("argocd", "payments-prod", func(a *v1alpha1.Application) { argocdtest.Succeed(a, "c3") })
		live(1, "Paused", "CanaryPauseStep", "h2", "h3", 1, false)
		canaryIs(t, deploys, `step 1/5 weight 5 actual 5 Paused paused="CanaryPauseStep" aborted=false`)
		r.argo.OnAction(func(app, action string) {
			if action == "abort" {
				live(0, "Degraded", "", "h2", "h3", 0, true)
			}
		})
		if _, err := r.svc.Abort(bob(), target); err != nil {
			t.Fatal(err)
		}
		canaryIs(t, deploys, `step 0/5 weight 0 actual 0 Degraded paused="" aborted=true`)

		// The records: each step as it was reached, and the abort. The canary is read apart from the
		// application's watch, so c3 can be ABORTED before the watch has brought its sync's end:
		// wait for both rollouts to be final (finished, b2's canary completed), as DORA reads them.
		var got []rollouts.Rollout
		testutil.Eventually(t, 10*time.Second, func() bool {
			got = r.records()
			return len(got) == 3 && got[0].Result == rollouts.ResultAborted && got[0].FinishedAt != nil &&
				got[1].FinishedAt != nil && got[1].Canary != nil && got[1].Canary.Completed != nil
		}, "c3 aborted and finished, b2 finished with its canary completed; records: %s", lazy(func() string { return describeRecords(got) }))
		steps := []rollouts.CanaryStep{{Kind: "setWeight", Weight: ptr(5)}, {Kind: "pause"}, {Kind: "setWeight", Weight: ptr(25)},
			{Kind: "pause", Pause: "10s"}, {Kind: "setWeight", Weight: ptr(100)}}
		ignoreTimes := cmpopts.IgnoreFields(rollouts.StepReached{}, "At")
		wantC3 := &rollouts.CanaryProgress{Strategy: "canary", Steps: steps, Aborted: true, Reached: []rollouts.StepReached{{Step: 1, Weight: 5}}}
		wantB2 := &rollouts.CanaryProgress{Strategy: "canary", Steps: steps,
			Reached: []rollouts.StepReached{{Step: 1, Weight: 5}, {Step: 3, Weight: 25}, {Step: 5, Weight: 100}}}
		if len(got) != 3 || got[0].Revision != "c3" || got[0].Result != rollouts.ResultAborted || got[1].Revision != "b2" ||
			got[1].Result != rollouts.ResultSucceeded || got[2].Canary != nil {
			t.Fatalf("records = %+v", got)
		}
		if diff := cmp.Diff(wantC3, got[0].Canary, ignoreTimes, cmpopts.IgnoreFields(rollouts.CanaryProgress{}, "Completed")); diff != "" {
			t.Errorf("c3's canary (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(wantB2, got[1].Canary, ignoreTimes, cmpopts.IgnoreFields(rollouts.CanaryProgress{}, "Completed")); diff != "" || got[1].Canary.Completed == nil {
			t.Errorf("b2's canary (-want +got):\n%s (completed %v)", diff, got[1].Canary.Completed)
		}
		var methods []string
		for _, c := range r.argo.Calls() {
			if c.Method == "RunResourceAction" {
				methods = append(methods, c.Action+" "+c.Resource)
			}
		}
		if want := "resume argoproj.io/Rollout/default/canary-demo abort argoproj.io/Rollout/default/canary-demo"; strings.Join(methods, " ") != want {
			t.Errorf("resource actions = %v, want %s", methods, want)
		}
		// An aborted canary is a failed change.
		since := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
		until := since.Add(24 * time.Hour)
		m, err := r.svc.ComponentDORA(context.Background(), "component:default/payments", map[string]string{"argocd/app-name": "payments-prod"}, &since, &until)
		if err != nil || m.Changes != 2 || m.FailedChanges != 1 || m.Deployments != 1 {
			t.Errorf("DORA after the abort: %+v, %v; want 2 changes, 1 failed (c3), 1 deployment (b2); records now: %s", m, err, describeRecords(r.records()))
		}
		if _, err := r.svc.Retry(bob(), target); err != nil {
			t.Errorf("retrying the aborted canary: %v", err)
		}
		if _, err := r.svc.Abort(bob(), target); !errs.Is(err, errs.Conflict) {
			t.Errorf("aborting an aborted canary: %v, want CONFLICT", err)
		}
	})
}

func ptr[T any](v T) *T { return &v }

// lazy is a failure message worked out when it is printed (a Stringer), so it shows the state
// last seen rather than the state when the wait began.
type lazy func() string

func (l lazy) String() string { return l() }

// opIs waits until the tracker sees payments-prod's operation in phase.
func (r *rig) opIs(phase rollouts.OperationPhase) {
	r.t.Helper()
	key := rollouts.Key{Instance: "prod", Namespace: "argocd", Name: "payments-prod"}
	testutil.Eventually(r.t, 10*time.Second, func() bool {
		d, _ := r.svc.Tracker().Deployment(key)
		return d.Operation != nil && d.Operation.Phase == phase
	}, "payments-prod's operation never reached %s", phase)
}

// A canary whose analysis fails is aborted by Argo Rollouts itself; Portside records the verdict
// and the abort.
// After a restart the tracker learns a canary's state from its first list of the instance, not at
// its next poll: a page that reconnects sees where Argo Rollouts moved meanwhile at once.
func TestACanaryIsReadAsSoonAsItsInstanceIsListedNotAtTheNextPoll(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newRigPolling(t, st, nil, time.Hour, canaryApp())
		r.argo.SetLive("argocd", "payments-prod", "Rollout", "canary-demo", liveRollout(1, "Paused", "CanaryPauseStep", "h1", "h2", 1, false))
		deploys := r.watch(rollouts.WatchDeployments)
		r.start()
		canaryIs(t, deploys, `step 1/5 weight 5 actual 5 Paused paused="CanaryPauseStep" aborted=false`)
	})
}

func TestAFailedAnalysisAbortsTheCanaryAndTheRolloutIsRecordedSo(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newRig(t, st, canaryApp())
		commits(r.argo)
		set := func(manifest string) {
			r.argo.SetLive("argocd", "payments-prod", "Rollout", "canary-demo", manifest)
		}
		analysis := func(manifest, phase string) string {
			return strings.Replace(manifest, `"message": ""}}`, fmt.Sprintf(`"message": "", "canary": {
				"currentStepAnalysisRunStatus": {"name": "canary-demo-7d9c-2", "status": %q, "message": "error rate 0.12 > 0.05"}}}}`, phase), 1)
		}
		set(liveRollout(5, "Healthy", "", "h1", "h1", 20, false))
		deploys := r.watch(rollouts.WatchDeployments)
		r.start()
		canaryIs(t, deploys, `step 5/5 weight 100 actual 100 Healthy paused="" aborted=false`)
		if _, err := r.svc.Sync(bob(), rollouts.Target{Component: "payments"}, rollouts.SyncRequest{Revision: "b2"}); err != nil {
			t.Fatal(err)
		}
		r.argo.Update("argocd", "payments-prod", func(a *v1alpha1.Application) { argocdtest.Succeed(a, "b2") })
		set(analysis(liveRollout(1, "Progressing", "", "h1", "h2", 1, false), "Running"))
		canaryIs(t, deploys, `step 1/5 weight 5 actual 5 Progressing paused="" aborted=false`)
		set(analysis(liveRollout(0, "Degraded", "", "h1", "h2", 0, true), "Failed"))
		var final *rollouts.Canary
		waitFor(t, deploys, "the canary aborted by its analysis", func(c rollouts.Change) bool {
			if c.Deployment != nil && c.Deployment.Canary != nil && c.Deployment.Canary.Aborted {
				final = c.Deployment.Canary
				return true
			}
			return false
		})
		if want := []rollouts.AnalysisVerdict{{Name: "canary-demo-7d9c-2", Phase: "Failed", Message: "error rate 0.12 > 0.05"}}; !cmp.Equal(final.Analysis, want) {
			t.Errorf("analysis = %+v, want %+v", final.Analysis, want)
		}
		var got []rollouts.Rollout
		testutil.Eventually(t, 10*time.Second, func() bool {
			got = r.records()
			return len(got) > 0 && got[0].Result == rollouts.ResultAborted
		}, "b2 recorded ABORTED; records: %s", lazy(func() string { return describeRecords(got) }))
		p := got[0].Canary
		if got[0].Revision != "b2" || got[0].Result != rollouts.ResultAborted || p == nil || !p.Aborted ||
			len(p.Analysis) != 1 || p.Analysis[0].Phase != "Failed" {
			t.Errorf("b2's record = %+v (canary %+v), want ABORTED with the failed analysis", got[0], p)
		}
	})
}

// liveBlueGreen is a blue-green Rollout: the preview (current) waits for promotion while the
// active (stable) version serves.
func liveBlueGreen(paused bool, active, current string) string {
	pause, phase := "[]", "Healthy"
	if paused {
		pause, phase = `[{"reason": "BlueGreenPause"}]`, "Paused"
	}
	return fmt.Sprintf(`{"spec": {"replicas": 4, "strategy": {"blueGreen": {"activeService": "web-active",
		"previewService": "web-preview", "autoPromotionEnabled": false}}},
		"status": {"phase": %q, "pauseConditions": %s, "stableRS": %q, "currentPodHash": %q, "replicas": 8,
			"updatedReplicas": 4, "blueGreen": {"activeSelector": %q, "previewSelector": %q}}}`, phase, pause, active, current, active, current)
}

func TestABlueGreenRolloutWaitsForPromotionAndIsRecorded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newRig(t, st, canaryApp())
		commits(r.argo)
		set := func(m string) { r.argo.SetLive("argocd", "payments-prod", "Rollout", "canary-demo", m) }
		set(liveBlueGreen(false, "h1", "h1"))
		deploys := r.watch(rollouts.WatchDeployments)
		r.start()
		canaryIs(t, deploys, `step 0/0 weight 100 actual 50 Healthy paused="" aborted=false`)
		if _, err := r.svc.Sync(bob(), rollouts.Target{Component: "payments"}, rollouts.SyncRequest{Revision: "b2"}); err != nil {
			t.Fatal(err)
		}
		r.argo.Update("argocd", "payments-prod", func(a *v1alpha1.Application) { argocdtest.Succeed(a, "b2") })
		set(liveBlueGreen(true, "h1", "h2"))
		canaryIs(t, deploys, `step 0/0 weight 0 actual 50 Paused paused="BlueGreenPause" aborted=false`)
		d, _ := r.svc.Tracker().Deployment(rollouts.Key{Instance: "prod", Namespace: "argocd", Name: "payments-prod"})
		if bg := d.Canary.BlueGreen; d.Canary.Strategy != "blueGreen" || bg == nil || bg.ActiveService != "web-active" ||
			bg.PreviewService != "web-preview" || bg.AutoPromotion {
			t.Fatalf("blue-green state = %+v (%+v)", d.Canary, d.Canary.BlueGreen)
		}
		r.argo.OnAction(func(app, action string) {
			if action == "resume" {
				set(liveBlueGreen(false, "h2", "h2"))
			}
		})
		if _, err := r.svc.Promote(bob(), rollouts.Target{Component: "payments"}, false); err != nil {
			t.Fatal(err)
		}
		canaryIs(t, deploys, `step 0/0 weight 100 actual 50 Healthy paused="" aborted=false`)
		var got []rollouts.Rollout
		testutil.Eventually(t, 10*time.Second, func() bool {
			got = r.records()
			return len(got) > 0 && got[0].Canary != nil && got[0].Canary.Completed != nil
		}, "b2's blue-green promotion completed; records: %s", lazy(func() string { return describeRecords(got) }))
		p := got[0].Canary
		if got[0].Revision != "b2" || p == nil || p.Strategy != "blueGreen" || p.Completed == nil ||
			!cmp.Equal(p.Reached, []rollouts.StepReached{{Step: 0, Weight: 0}, {Step: 0, Weight: 100}}, cmpopts.IgnoreFields(rollouts.StepReached{}, "At")) {
			t.Errorf("b2's record: %+v (canary %+v), want the preview (0%%) then its promotion (100%%)", got[0], p)
		}
	})
}

// describeRecords shows what DORA reads of each record, for a failure message.
func describeRecords(list []rollouts.Rollout) string {
	var b strings.Builder
	for _, r := range list {
		fmt.Fprintf(&b, "[%s %s started %s finished %v] ", r.Revision, r.Result, r.StartedAt.Format(time.RFC3339), r.FinishedAt)
	}
	return b.String()
}

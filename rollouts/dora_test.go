package rollouts_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	"github.com/argoproj/gitops-engine/pkg/health"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/rollouts"
	"github.com/portside-dev/portside/rollouts/argocd/argocdtest"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// waitFor reads a subscription until a change satisfies ok.
func waitFor(t *testing.T, sub *rollouts.Subscription, what string, ok func(rollouts.Change) bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		select {
		case c, open := <-sub.C():
			if !open {
				t.Fatalf("subscription ended waiting for %s", what)
			}
			if ok(c) {
				return
			}
		case <-time.After(time.Until(deadline)):
		}
	}
	t.Fatalf("no %s within 10 s", what)
}

func committed(rev string) func(rollouts.Change) bool {
	return func(c rollouts.Change) bool {
		return c.Rollout != nil && c.Rollout.Revision == rev && c.Rollout.Commit.Date != nil && c.Rollout.Result != rollouts.ResultRunning
	}
}

// One day of payments-prod: a sync of b2 that degrades the application and is rolled back to a1,
// then a sync of c3 that fails.
func TestDORAMetricsOfADayWithARollbackAndAFailure(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		app := deployedOnce()
		healthySince := metav1.NewTime(day1End)
		app.Status.Health.LastTransitionTime = &healthySince
		r := newRig(t, st, app)
		commits(r.argo) // a1 committed Nov 28 08:00, b2 Nov 30 08:00
		r.argo.SetCommit("c3", v1alpha1.RevisionMetadata{Author: "Dana", Date: metav1.NewTime(time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC))})
		sub := r.watch(rollouts.WatchRollouts)
		r.start()
		target := rollouts.Target{Component: "payments"}
		at := func(hhmmss string) metav1.Time {
			tm, _ := time.Parse("2006-01-02 15:04:05", "2026-11-30 "+hhmmss)
			return metav1.NewTime(tm)
		}
		setHealth := func(status string, when metav1.Time) {
			r.argo.Update("argocd", "payments-prod", func(a *v1alpha1.Application) {
				a.Status.Health = v1alpha1.HealthStatus{Status: health.HealthStatusCode(status), LastTransitionTime: &when}
			})
		}

		if _, err := r.svc.Sync(bob(), target, rollouts.SyncRequest{Revision: "b2"}); err != nil { // starts 10:01:00
			t.Fatal(err)
		}
		r.argo.Update("argocd", "payments-prod", func(a *v1alpha1.Application) { argocdtest.Succeed(a, "b2") }) // 10:01:30
		waitFor(t, sub, "b2 finished with its commit", committed("b2"))
		setHealth("Degraded", at("10:01:40"))
		if _, err := r.svc.Rollback(bob(), target, rollouts.RollbackRequest{HistoryID: 1}); err != nil { // 10:02:00
			t.Fatal(err)
		}
		r.argo.Update("argocd", "payments-prod", func(a *v1alpha1.Application) { argocdtest.Succeed(a, "a1") }) // 10:02:30
		setHealth("Healthy", at("10:02:40"))
		waitFor(t, sub, "the rollback finished with its commit", func(c rollouts.Change) bool {
			return committed("a1")(c) && c.Rollout.HistoryID != nil && *c.Rollout.HistoryID == 3
		})
		if _, err := r.svc.Sync(bob(), target, rollouts.SyncRequest{Revision: "c3"}); err != nil { // 10:03:00
			t.Fatal(err)
		}
		r.argo.Update("argocd", "payments-prod", func(a *v1alpha1.Application) { argocdtest.Fail(a, "one or more objects failed to apply") }) // 10:03:20
		waitFor(t, sub, "c3 failed with its commit", committed("c3"))

		since, until := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
		m, err := r.svc.ComponentDORA(context.Background(), "component:default/payments", map[string]string{"argocd/app-name": "payments-prod"}, &since, &until)
		if err != nil {
			t.Fatal(err)
		}
		// b2: 10:01:30 − 08:00 = 2h01m30s; the rollback to a1: 10:02:30 − Nov 29 08:00 = 26h02m30s.
		wantLead := (2*time.Hour + 90*time.Second + 26*time.Hour + 150*time.Second) / 2
		if m.Deployments != 2 || m.DeploymentsPerDay() != 2 || m.LeadTimeSamples != 2 || m.LeadTime == nil || *m.LeadTime != wantLead {
			t.Errorf("deployments %d (%.1f/day), lead time %v over %d, want 2 (2/day), %v over 2", m.Deployments, m.DeploymentsPerDay(), m.LeadTime, m.LeadTimeSamples, wantLead)
		}
		if cfr := m.ChangeFailureRate(); m.Changes != 3 || m.FailedChanges != 2 || cfr == nil || *cfr != 2.0/3 {
			t.Errorf("changes %d, failed %d, rate %v; want 3, 2 (b2 rolled back, c3 failed), 2/3", m.Changes, m.FailedChanges, cfr)
		}
		if m.Restores != 1 || m.TimeToRestore == nil || *m.TimeToRestore != time.Minute {
			t.Errorf("restores %d, time to restore %v; want 1, 1m (Degraded 10:01:40, Healthy 10:02:40)", m.Restores, m.TimeToRestore)
		}

		// bob's team (its group, in the fake catalog) and the whole catalog see the same; the day
		// before saw only a1's first deployment.
		team, err := r.svc.ScopeDORA(context.Background(), "group:default/bob", &since, &until)
		if err != nil || team.Deployments != 2 || team.FailedChanges != 2 || team.Restores != 1 {
			t.Errorf("bob's team: %+v, %v", team, err)
		}
		all, err := r.svc.CatalogDORA(context.Background(), &since, &until)
		if err != nil || all.Deployments != 2 || all.FailedChanges != 2 {
			t.Errorf("catalog-wide: %+v, %v", all, err)
		}
		before := since.Add(-24 * time.Hour)
		prev, err := r.svc.ComponentDORA(context.Background(), "component:default/payments", map[string]string{"argocd/app-name": "payments-prod"}, &before, &since)
		if err != nil || prev.Deployments != 1 || prev.Changes != 1 || prev.FailedChanges != 0 || prev.Restores != 0 {
			t.Errorf("the day before (a1's first deployment only): %+v, %v", prev, err)
		}

		// Once the component deploys through its pipelines, their runs give its lead time
		// (commit to a successful Deploy stage) in place of its rollouts', at every level; the
		// other figures stay the rollouts'.
		pipe := leadTimesFake{"component:default/payments": {30 * time.Minute, 50 * time.Minute, 70 * time.Minute}}
		r.svc.UseLeadTimes(pipe)
		for name, get := range map[string]func() (rollouts.Metrics, error){
			"component": func() (rollouts.Metrics, error) {
				return r.svc.ComponentDORA(context.Background(), "component:default/payments", map[string]string{"argocd/app-name": "payments-prod"}, &since, &until)
			},
			"bob's team": func() (rollouts.Metrics, error) {
				return r.svc.ScopeDORA(context.Background(), "group:default/bob", &since, &until)
			},
			"catalog": func() (rollouts.Metrics, error) { return r.svc.CatalogDORA(context.Background(), &since, &until) },
		} {
			m, err := get()
			if err != nil || m.LeadTime == nil || *m.LeadTime != 50*time.Minute || m.LeadTimeSamples != 3 || m.LeadTimePipelineSamples != 3 || m.Deployments != 2 {
				t.Errorf("%s with pipeline deploys: lead time %v over %d (%d from pipelines), %d deployments, %v; want 50m over the 3 pipeline runs, 2 deployments",
					name, m.LeadTime, m.LeadTimeSamples, m.LeadTimePipelineSamples, m.Deployments, err)
			}
		}
		// A component without pipeline deploys in the window keeps its rollouts' lead time.
		r.svc.UseLeadTimes(leadTimesFake{"component:default/other": {time.Minute}})
		if m, err := r.svc.ComponentDORA(context.Background(), "component:default/payments", map[string]string{"argocd/app-name": "payments-prod"}, &since, &until); err != nil ||
			m.LeadTime == nil || *m.LeadTime != wantLead || m.LeadTimePipelineSamples != 0 {
			t.Errorf("without pipeline deploys: lead time %v (%d from pipelines), %v; want the rollouts' %v", m.LeadTime, m.LeadTimePipelineSamples, err, wantLead)
		}
		r.svc.UseLeadTimes(nil)
	})
}

func TestDORAWindowsAreCheckedByName(t *testing.T) {
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	w, err := rollouts.WindowOf(nil, nil, now)
	if err != nil || !w.Until.Equal(now) || !w.Since.Equal(now.Add(-30*24*time.Hour)) {
		t.Errorf("default window = %+v, %v; want the 30 days up to now", w, err)
	}
	later := now.Add(time.Hour)
	if _, err := rollouts.WindowOf(&later, &now, now); errs.FieldOf(err) != "since" {
		t.Errorf("since after until: %v", err)
	}
	longAgo := now.Add(-400 * 24 * time.Hour)
	if _, err := rollouts.WindowOf(&longAgo, nil, now); errs.FieldOf(err) != "since" {
		t.Errorf("a 400-day window: %v", err)
	}
}

// leadTimesFake is the pipelines' lead times, by component ref.
type leadTimesFake map[string][]time.Duration

func (leadTimesFake) Annotation() string { return "portside.dev/pipelines" }

func (f leadTimesFake) LeadTimes(_ context.Context, components []string, _, _ time.Time) (map[string][]time.Duration, error) {
	out := map[string][]time.Duration{}
	for ref, d := range f {
		if components == nil || slices.Contains(components, ref) {
			out[ref] = slices.Clone(d)
		}
	}
	return out, nil
}

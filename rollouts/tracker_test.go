package rollouts_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	"github.com/argoproj/gitops-engine/pkg/sync/common"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/bus"
	"github.com/portside-dev/portside/internal/bus/pgbus/pgbustest"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/rollouts"
	"github.com/portside-dev/portside/rollouts/argocd"
	"github.com/portside-dev/portside/rollouts/argocd/argocdtest"
	"github.com/portside-dev/portside/rollouts/connector/connectortest"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// These scenarios drive Portside's real Argo CD client over real gRPC against a scripted Argo CD
// (argocdtest), through the connector protocol as portside serve does, and check the exact rollout records and subscription events, on both dialects.

// catalogFake is the catalog as the rollouts domain sees it: components with annotations and an
// owner each.
type catalogFake struct {
	annotations map[string]map[string]string // by component ref
	owner       map[string]string            // component ref → owning username
}

func (c catalogFake) ComponentAnnotations(_ context.Context, field, ref string) (string, map[string]string, error) {
	if !strings.Contains(ref, ":") {
		ref = "component:default/" + ref
	}
	a, ok := c.annotations[ref]
	if !ok {
		return "", nil, errs.E(errs.NotFound, "entity %s not found", ref)
	}
	return ref, a, nil
}

func (c catalogFake) ComponentsIn(_ context.Context, field, ref string, _ []string) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	for comp, a := range c.annotations {
		if ref == "group:default/"+c.owner[comp] { // in the fake, each owner has a group of their name
			out[comp] = a
		}
	}
	return out, nil
}

func (c catalogFake) Owns(_ context.Context, p *principal.Principal, ref string) (bool, error) {
	return p != nil && c.owner[ref] == p.Username, nil
}

// rig is one Argo CD instance ("prod") followed by a rollouts service on a fresh database.
type rig struct {
	t     *testing.T
	argo  *argocdtest.Server
	svc   *rollouts.Service
	st    *store.Store
	audit *audit.Log
}

const payments = "component:default/payments"

func newRig(t *testing.T, st *store.Store, apps ...v1alpha1.Application) *rig {
	t.Helper()
	return newRigOn(t, st, nil, apps...)
}

// newRigOn is newRig for one of several replicas: b carries rollouts between them.
func newRigOn(t *testing.T, st *store.Store, b bus.Bus, apps ...v1alpha1.Application) *rig {
	t.Helper()
	return newRigPolling(t, st, b, 10*time.Millisecond, apps...)
}

// newRigPolling is newRigOn whose tracker polls canaries every canaryInterval.
func newRigPolling(t *testing.T, st *store.Store, b bus.Bus, canaryInterval time.Duration, apps ...v1alpha1.Application) *rig {
	t.Helper()
	argo := argocdtest.Start(t)
	for _, a := range apps {
		argo.Put(a)
	}
	client, err := argocd.New(argocd.Options{Name: "prod", Addr: argo.Addr(), Token: argo.Token, PlainText: true, ConnectTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	log := audit.New(st, nil)
	cat := catalogFake{
		annotations: map[string]map[string]string{payments: {"argocd/app-name": "payments-prod"}},
		owner:       map[string]string{payments: "bob"},
	}
	// Through the connector protocol, as portside serve reaches Argo CD (portside-argocd's socket).
	svc := rollouts.NewService(st, connectortest.Relay(t, client), rollouts.Options{Catalog: cat, Audit: log, Bus: b,
		Tracker: rollouts.TrackerOptions{MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, CanaryInterval: canaryInterval}})
	return &rig{t: t, argo: argo, svc: svc, st: st, audit: log}
}

// start follows the instance until the test ends and waits for the first full list.
func (r *rig) start() {
	r.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r.svc.Start(ctx)
	r.t.Cleanup(func() { cancel(); r.svc.Stop() })
	r.waitConnected(true)
}

// waitConnected waits until the tracker's link to the instance is up (or down).
func (r *rig) waitConnected(up bool) {
	r.t.Helper()
	var st rollouts.InstanceStatus
	testutil.Eventually(r.t, 10*time.Second, func() bool { st = r.svc.Instances()[0]; return st.Connected == up },
		"instance connected = %v; last status %s", up, lazy(func() string { return fmt.Sprintf("%+v", st) }))
}

func (r *rig) watch(what rollouts.Watched) *rollouts.Subscription {
	r.t.Helper()
	sub, err := r.svc.Watch(context.Background(), payments, what)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(sub.Close)
	return sub
}

// next returns the next change a subscription delivers.
func next(t *testing.T, sub *rollouts.Subscription) rollouts.Change {
	t.Helper()
	select {
	case c, ok := <-sub.C():
		if !ok {
			t.Fatalf("subscription ended: %v", sub.Err())
		}
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("no change arrived within 10 s")
		return rollouts.Change{}
	}
}

// describe summarises a change for comparison.
func describe(c rollouts.Change) string {
	if r := c.Rollout; r != nil {
		history := "-"
		if r.HistoryID != nil {
			history = fmt.Sprint(*r.HistoryID)
		}
		return fmt.Sprintf("rollout %s %s/%s history=%s by=%q requested=%q commit=%q", r.Revision, r.Phase, r.Result,
			history, r.InitiatedBy, r.RequestedBy, r.Commit.Author)
	}
	d := c.Deployment
	op := "-"
	if d.Operation != nil {
		op = string(d.Operation.Phase) + "@" + d.Operation.Revision
	}
	return fmt.Sprintf("deployment %s %s/%s rev=%s op=%s stale=%v removed=%v", d.Application, d.Sync, d.Health, d.Revision, op, d.Stale, c.Removed)
}

func expect(t *testing.T, sub *rollouts.Subscription, want ...string) {
	t.Helper()
	for i, w := range want {
		if got := describe(next(t, sub)); got != w {
			var more []string
			for len(sub.C()) > 0 {
				more = append(more, describe(<-sub.C()))
			}
			t.Fatalf("change %d = %s\n            want %s\nthen: %s", i+1, got, w, strings.Join(more, "\n      "))
		}
	}
}

// records returns every rollout Portside keeps, newest first.
func (r *rig) records() []rollouts.Rollout {
	r.t.Helper()
	page, err := r.svc.Rollouts(context.Background(), nil, rollouts.Filter{}, 100, "")
	if err != nil {
		r.t.Fatal(err)
	}
	return page.Rollouts
}

var (
	day1    = time.Date(2026, 11, 29, 9, 0, 0, 0, time.UTC)
	day1End = day1.Add(40 * time.Second)
)

// deployedOnce is payments-prod as Argo CD shows it after one automated sync of revision a1.
func deployedOnce() v1alpha1.Application {
	return argocdtest.App("payments-prod", func(a *v1alpha1.Application) {
		a.Labels = map[string]string{"environment": "production"}
		a.Status.Sync = v1alpha1.SyncStatus{Status: v1alpha1.SyncStatusCodeSynced, Revision: "a1"}
		a.Status.Summary.Images = []string{"registry.example.com/payments:1.0.0"}
		start, end := metav1.NewTime(day1), metav1.NewTime(day1End)
		a.Status.History = v1alpha1.RevisionHistories{{ID: 1, Revision: "a1", DeployStartedAt: &start, DeployedAt: end,
			InitiatedBy: v1alpha1.OperationInitiator{Automated: true}}}
	})
}

func commits(argo *argocdtest.Server) {
	argo.SetCommit("a1", v1alpha1.RevisionMetadata{Author: "Dana <dana@example.com>", Message: "payments 1.0.0", Date: metav1.NewTime(day1.Add(-time.Hour))})
	argo.SetCommit("b2", v1alpha1.RevisionMetadata{Author: "Erin <erin@example.com>", Message: "payments 1.1.0", Date: metav1.NewTime(day1.Add(23 * time.Hour))})
}

func bob() context.Context {
	return principal.With(context.Background(), &principal.Principal{Username: "bob", Kind: principal.KindSession, Client: principal.ClientWeb})
}

func TestASyncIsRecordedFromStartToHealthyExactlyOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newRig(t, st, deployedOnce())
		commits(r.argo)
		rolloutsSub := r.watch(rollouts.WatchRollouts)
		r.start()
		expect(t, rolloutsSub,
			`rollout a1 Succeeded/SUCCEEDED history=1 by="" requested="" commit=""`,
			`rollout a1 Succeeded/SUCCEEDED history=1 by="" requested="" commit="Dana <dana@example.com>"`)
		deploys := r.watch(rollouts.WatchDeployments)

		// bob syncs to b2 through Portside: Argo CD starts the operation, the app goes
		// OutOfSync/Progressing, then the operation succeeds and the app is Healthy.
		d, err := r.svc.Sync(bob(), rollouts.Target{Component: "payments"}, rollouts.SyncRequest{Revision: "b2"})
		if err != nil {
			t.Fatal(err)
		}
		if d.Operation == nil || d.Operation.Phase != rollouts.OperationRunning || d.Operation.RequestedBy != "bob" {
			t.Fatalf("the sync's answer = %+v, want the running operation requested by bob", d.Operation)
		}
		expect(t, deploys, `deployment payments-prod Synced/Healthy rev=a1 op=Running@b2 stale=false removed=false`)
		expect(t, rolloutsSub,
			`rollout b2 Running/RUNNING history=- by="portside" requested="bob" commit=""`,
			`rollout b2 Running/RUNNING history=- by="portside" requested="bob" commit="Erin <erin@example.com>"`)
		r.argo.Update("argocd", "payments-prod", func(a *v1alpha1.Application) {
			a.Status.Sync.Status, a.Status.Health.Status = v1alpha1.SyncStatusCodeOutOfSync, "Progressing"
		})
		expect(t, deploys, `deployment payments-prod OutOfSync/Progressing rev=a1 op=Running@b2 stale=false removed=false`)
		r.argo.Update("argocd", "payments-prod", func(a *v1alpha1.Application) {
			argocdtest.Succeed(a, "b2", "registry.example.com/payments:1.1.0")
			a.Status.Health.Status = "Healthy"
		})
		expect(t, deploys, `deployment payments-prod Synced/Healthy rev=b2 op=Succeeded@b2 stale=false removed=false`)
		expect(t, rolloutsSub, `rollout b2 Succeeded/SUCCEEDED history=2 by="portside" requested="bob" commit="Erin <erin@example.com>"`)

		started := time.Date(2026, 11, 30, 10, 1, 0, 0, time.UTC) // the scripted server's clock
		finished := started.Add(30 * time.Second)
		erinDate, danaDate := day1.Add(23*time.Hour), day1.Add(-time.Hour)
		want := []rollouts.Rollout{
			{Key: rollouts.Key{Instance: "prod", Namespace: "argocd", Name: "payments-prod"}, Environment: "production",
				Project: "default", Revision: "b2", Phase: rollouts.OperationSucceeded, Result: rollouts.ResultSucceeded,
				Message: "successfully synced (all tasks run)", StartedAt: started, FinishedAt: &finished,
				InitiatedBy: "portside", RequestedBy: "bob", HistoryID: ptr[int64](2), Images: []string{"registry.example.com/payments:1.1.0"},
				Commit: rollouts.Commit{Author: "Erin <erin@example.com>", Message: "payments 1.1.0", Date: &erinDate}},
			{Key: rollouts.Key{Instance: "prod", Namespace: "argocd", Name: "payments-prod"}, Environment: "production",
				Project: "default", Revision: "a1", Phase: rollouts.OperationSucceeded, Result: rollouts.ResultSucceeded,
				StartedAt: day1, FinishedAt: &day1End, Automated: true, HistoryID: ptr[int64](1), Images: []string{},
				Commit: rollouts.Commit{Author: "Dana <dana@example.com>", Message: "payments 1.0.0", Date: &danaDate}},
		}
		// IDs are the database's to give (an upsert that finds its row still spends one).
		if diff := cmp.Diff(want, r.records(), cmpopts.IgnoreFields(rollouts.Rollout{}, "ID")); diff != "" {
			t.Errorf("rollout records (-want +got):\n%s", diff)
		}
		calls := r.argo.Calls()
		if len(calls) != 1 || calls[0].Method != "Sync" || calls[0].Revision != "b2" || calls[0].Infos[argocd.RequestedByInfo] != "bob" {
			t.Errorf("calls to Argo CD = %+v, want one sync to b2 naming bob", calls)
		}
	})
}

// A revision longer than any commit SHA, chart version or digest (Argo CD records what an
// operation names) is recorded cut to rollouts.MaxRevision bytes, with its rollout and the
// application's others: one of 3,000 bytes, more than a PostgreSQL index entry holds, kept every
// rollout of its application from being recorded.
func TestARolloutOfARevisionNoIndexHoldsIsRecordedWithItCut(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		long := testutil.RandomText(3000)
		app := deployedOnce()
		start2, end2 := metav1.NewTime(day1.Add(24*time.Hour)), metav1.NewTime(day1.Add(24*time.Hour+time.Minute))
		app.Status.History = append(app.Status.History, v1alpha1.RevisionHistory{ID: 2, Revision: long,
			DeployStartedAt: &start2, DeployedAt: end2, InitiatedBy: v1alpha1.OperationInitiator{Username: "erin"}})
		r := newRig(t, st, app)
		r.start()
		testutil.Eventually(t, 10*time.Second, func() bool { return len(r.records()) == 2 }, "both rollouts recorded")
		got := r.records()
		revisions := map[string]bool{got[0].Revision: true, got[1].Revision: true}
		if !revisions["a1"] || !revisions[long[:rollouts.MaxRevision]] {
			t.Errorf("recorded revisions of %d and %d bytes, want a1 and the first %d bytes of the long one",
				len(got[0].Revision), len(got[1].Revision), rollouts.MaxRevision)
		}
	})
}

func TestARollbackIsRecordedAsANewRolloutOfTheOldRevision(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		twice := deployedOnce()
		start2, end2 := metav1.NewTime(day1.Add(24*time.Hour)), metav1.NewTime(day1.Add(24*time.Hour+time.Minute))
		twice.Status.Sync.Revision = "b2"
		twice.Status.History = append(twice.Status.History, v1alpha1.RevisionHistory{ID: 2, Revision: "b2",
			DeployStartedAt: &start2, DeployedAt: end2, InitiatedBy: v1alpha1.OperationInitiator{Username: "erin"}})
		r := newRig(t, st, twice)
		commits(r.argo)
		sub := r.watch(rollouts.WatchRollouts)
		r.start()
		// What Argo CD's history shows is recorded at the first list, then the commits are looked up,
		// newest first.
		expect(t, sub,
			`rollout a1 Succeeded/SUCCEEDED history=1 by="" requested="" commit=""`,
			`rollout b2 Succeeded/SUCCEEDED history=2 by="erin" requested="" commit=""`,
			`rollout b2 Succeeded/SUCCEEDED history=2 by="erin" requested="" commit="Erin <erin@example.com>"`,
			`rollout a1 Succeeded/SUCCEEDED history=1 by="" requested="" commit="Dana <dana@example.com>"`)

		if _, err := r.svc.Rollback(bob(), rollouts.Target{Component: "payments", Application: "payments-prod"}, rollouts.RollbackRequest{HistoryID: 1}); err != nil {
			t.Fatal(err)
		}
		expect(t, sub,
			`rollout a1 Running/RUNNING history=- by="portside" requested="bob" commit=""`,
			`rollout a1 Running/RUNNING history=- by="portside" requested="bob" commit="Dana <dana@example.com>"`)
		r.argo.Update("argocd", "payments-prod", func(a *v1alpha1.Application) {
			argocdtest.Succeed(a, "a1", "registry.example.com/payments:1.0.0")
		})
		// Argo CD's watch no longer says who asked; the record keeps it.
		expect(t, sub, `rollout a1 Succeeded/SUCCEEDED history=3 by="portside" requested="bob" commit="Dana <dana@example.com>"`)
		got := r.records()
		if len(got) != 3 || got[0].Revision != "a1" || got[0].HistoryID == nil || *got[0].HistoryID != 3 || got[1].Revision != "b2" || got[1].InitiatedBy != "erin" {
			t.Errorf("records after the rollback = %+v", got)
		}

		// A history ID Argo CD does not have is refused by name.
		_, err := r.svc.Rollback(bob(), rollouts.Target{Component: "payments"}, rollouts.RollbackRequest{HistoryID: 42})
		if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "42") {
			t.Errorf("rollback to history 42: %v, want INVALID naming it", err)
		}
	})
}

func TestAWatchCutMidRolloutResumesWithoutLosingOrRepeatingAnything(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newRig(t, st, deployedOnce())
		commits(r.argo)
		sub := r.watch(rollouts.WatchRollouts)
		r.start()
		expect(t, sub,
			`rollout a1 Succeeded/SUCCEEDED history=1 by="" requested="" commit=""`,
			`rollout a1 Succeeded/SUCCEEDED history=1 by="" requested="" commit="Dana <dana@example.com>"`)
		if _, err := r.svc.Sync(bob(), rollouts.Target{Component: "payments"}, rollouts.SyncRequest{Revision: "b2"}); err != nil {
			t.Fatal(err)
		}
		expect(t, sub,
			`rollout b2 Running/RUNNING history=- by="portside" requested="bob" commit=""`,
			`rollout b2 Running/RUNNING history=- by="portside" requested="bob" commit="Erin <erin@example.com>"`)

		// The stream is cut; the operation finishes while Portside is not listening, and Argo CD
		// replays every application when the watch is opened again.
		watches := r.argo.Watches()
		r.argo.Stop()
		r.waitConnected(false)
		r.argo.Update("argocd", "payments-prod", func(a *v1alpha1.Application) {
			argocdtest.Succeed(a, "b2", "registry.example.com/payments:1.1.0")
		})
		r.argo.Restart()
		r.waitConnected(true)
		expect(t, sub, `rollout b2 Succeeded/SUCCEEDED history=2 by="portside" requested="bob" commit="Erin <erin@example.com>"`)
		// Connected means listed; the watch, opened beside the list, may follow a moment later.
		testutil.Eventually(t, 10*time.Second, func() bool { return r.argo.Watches() > watches }, "the watch to be opened again")

		// A cut without downtime: the replayed snapshot changes nothing and says nothing.
		r.argo.CutWatches()
		testutil.Eventually(t, 10*time.Second, func() bool { return r.argo.Watches() > watches+1 }, "the watch to be opened after the cut")
		at := metav1.NewTime(r.argo.Tick())
		r.argo.Update("argocd", "payments-prod", func(a *v1alpha1.Application) {
			a.Operation = &v1alpha1.Operation{Sync: &v1alpha1.SyncOperation{Revision: "c3"}}
			a.Status.OperationState = &v1alpha1.OperationState{Operation: *a.Operation, Phase: common.OperationRunning, StartedAt: at}
		})
		// The next rollout is the very next change: nothing in between was repeated.
		expect(t, sub, `rollout c3 Running/RUNNING history=- by="" requested="" commit=""`)
		if n := len(r.records()); n != 3 {
			t.Errorf("%d rollout records, want 3", n)
		}
	})
}

func TestWhileArgoCDIsDownDeploymentsAreServedStaleAndActionsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newRig(t, st, deployedOnce())
		r.start()
		deploys := r.watch(rollouts.WatchDeployments)
		r.argo.Stop()
		expect(t, deploys, `deployment payments-prod Synced/Healthy rev=a1 op=- stale=true removed=false`)
		list, err := r.svc.Deployments(context.Background(), map[string]string{"argocd/app-name": "payments-prod"})
		if err != nil || len(list) != 1 || !list[0].Stale || list[0].LastSeenAt.IsZero() {
			t.Fatalf("deployments while Argo CD is down: %+v, %v; want the last state, stale, with when it was seen", list, err)
		}
		if st := r.svc.Instances()[0]; st.Connected || st.Error == "" {
			t.Errorf("instance status while down = %+v, want disconnected with the reason", st)
		}
		_, err = r.svc.Sync(bob(), rollouts.Target{Component: "payments"}, rollouts.SyncRequest{})
		if !errs.Is(err, errs.Unavailable) || !strings.Contains(err.Error(), `"prod"`) {
			t.Errorf("sync while Argo CD is down: %v, want UNAVAILABLE naming the instance", err)
		}
		if _, err := r.svc.SyncWindows(context.Background(), list[0]); !errs.Is(err, errs.Unavailable) {
			t.Errorf("sync windows while Argo CD is down: %v, want UNAVAILABLE", err)
		}
		watches := r.argo.Watches()
		r.argo.Restart()
		expect(t, deploys, `deployment payments-prod Synced/Healthy rev=a1 op=- stale=false removed=false`)
		// Once the watch is back, a deletion reaches Portside at once. (One made before the watch
		// is registered is caught by the list that follows each connection.)
		testutil.Eventually(t, 10*time.Second, func() bool { return r.argo.Watches() > watches }, "the watch to be opened again")
		r.argo.Delete("argocd", "payments-prod")
		expect(t, deploys, `deployment payments-prod Synced/Healthy rev=a1 op=- stale=false removed=true`)
	})
}

func TestActionsAreForOwnersAuditedAndIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newRig(t, st, deployedOnce())
		r.start()
		count := func() (n int) {
			r.st.Gorm().Raw("SELECT count(*) FROM audit_records").Scan(&n)
			return n
		}
		carol := principal.With(context.Background(), &principal.Principal{Username: "carol", Kind: principal.KindSession, Client: principal.ClientWeb})
		target := rollouts.Target{Component: "payments"}
		for name, act := range map[string]func(context.Context) error{
			"sync": func(ctx context.Context) error { _, err := r.svc.Sync(ctx, target, rollouts.SyncRequest{}); return err },
			"rollback": func(ctx context.Context) error {
				_, err := r.svc.Rollback(ctx, target, rollouts.RollbackRequest{HistoryID: 1})
				return err
			},
			"terminate": func(ctx context.Context) error { _, err := r.svc.Terminate(ctx, target); return err },
			"refresh":   func(ctx context.Context) error { _, err := r.svc.Refresh(ctx, target, true); return err },
		} {
			before := count()
			if err := act(carol); !errs.Is(err, errs.Forbidden) {
				t.Errorf("carol may %s bob's component: %v", name, err)
			}
			if count()-before != 1 {
				t.Errorf("carol's %s wrote %d audit records, want 1", name, count()-before)
			}
		}
		if calls := r.argo.Calls(); len(calls) != 0 {
			t.Fatalf("refused actions reached Argo CD: %+v", calls)
		}

		before := count()
		if _, err := r.svc.Sync(bob(), target, rollouts.SyncRequest{Revision: "b2"}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.svc.Sync(bob(), target, rollouts.SyncRequest{Revision: "b2"}); err != nil {
			t.Fatalf("the same sync again: %v", err)
		}
		if n := len(r.argo.Calls()); n != 1 {
			t.Errorf("two requests for the same sync made %d calls to Argo CD, want 1", n)
		}
		_, err := r.svc.Sync(bob(), target, rollouts.SyncRequest{Revision: "c3"})
		if !errs.Is(err, errs.Conflict) || !strings.Contains(err.Error(), "b2") || !strings.Contains(err.Error(), "bob") {
			t.Errorf("another sync while b2 runs: %v, want CONFLICT naming the running sync and who asked", err)
		}
		if _, err := r.svc.Terminate(bob(), target); err != nil {
			t.Fatal(err)
		}
		r.argo.Update("argocd", "payments-prod", func(a *v1alpha1.Application) { argocdtest.Fail(a, "terminated") })
		if _, err := r.svc.Terminate(bob(), target); err != nil {
			t.Errorf("terminating with nothing running: %v, want no error", err)
		}
		if _, err := r.svc.Refresh(bob(), target, true); err != nil {
			t.Fatal(err)
		}
		r.argo.BlockSyncs("argocd", "payments-prod", true)
		d, _ := r.svc.Tracker().Deployment(rollouts.Key{Instance: "prod", Namespace: "argocd", Name: "payments-prod"})
		if w, err := r.svc.SyncWindows(context.Background(), d); err != nil || w.CanSync || len(w.Active) != 1 || w.Active[0].Kind != "deny" {
			t.Errorf("sync windows inside a deny window: %+v, %v", w, err)
		}
		_, err = r.svc.Sync(bob(), target, rollouts.SyncRequest{})
		if !errs.Is(err, errs.Conflict) || !strings.Contains(err.Error(), "sync window") {
			t.Errorf("sync inside a deny window: %v, want CONFLICT naming the sync window", err)
		}
		if n := count() - before; n != 7 {
			t.Errorf("bob's 7 actions wrote %d audit records, want 7", n)
		}
		var methods []string
		for _, c := range r.argo.Calls() {
			methods = append(methods, c.Method)
		}
		if want := "Sync TerminateOperation TerminateOperation Refresh Sync"; strings.Join(methods, " ") != want {
			t.Errorf("calls = %v, want %s", methods, want)
		}

		// Naming what is not there.
		if _, err := r.svc.Sync(bob(), rollouts.Target{Component: "payments", Application: "nope"}, rollouts.SyncRequest{}); !errs.Is(err, errs.NotFound) || !strings.Contains(err.Error(), "nope") {
			t.Errorf("sync of an application the component does not have: %v", err)
		}
		if _, err := r.svc.Sync(bob(), rollouts.Target{Component: "ledger"}, rollouts.SyncRequest{}); !errs.Is(err, errs.NotFound) {
			t.Errorf("sync of an unknown component: %v", err)
		}
	})
}

// A stamp of a component's applications goes stale with any change to one of them, and with an
// application that starts to match its label selector (it was no part of the stamp before).
func TestAStampGoesStaleWhenItsApplicationsChangeOrAnotherJoinsItsSelector(t *testing.T) {
	r := newRig(t, storetest.SQLite(t), deployedOnce(), argocdtest.App("billing-prod", nil))
	r.start()
	byLabel := map[string]string{"argocd/app-selector": "environment=production"}
	deployments := func() int {
		list, err := r.svc.Deployments(context.Background(), byLabel)
		if err != nil {
			t.Fatal(err)
		}
		return len(list)
	}
	until := func(what string, cond func() bool) {
		t.Helper()
		testutil.Eventually(t, 10*time.Second, cond, "never: %s", what)
	}
	stamp := r.svc.Stamp(byLabel)
	if !r.svc.Fresh(stamp) || deployments() != 1 {
		t.Fatalf("a new stamp is stale, or the selector matches %d applications, want 1", deployments())
	}
	r.argo.Update("argocd", "billing-prod", func(a *v1alpha1.Application) { a.Labels = map[string]string{"environment": "production"} })
	until("billing-prod to match the selector", func() bool { return deployments() == 2 })
	if r.svc.Fresh(stamp) {
		t.Errorf("the stamp is still fresh after billing-prod joined its selector")
	}
	stamp = r.svc.Stamp(byLabel)
	r.argo.Update("argocd", "payments-prod", func(a *v1alpha1.Application) { a.Status.Sync.Revision = "a2" })
	until("the new revision", func() bool {
		d, _ := r.svc.Tracker().Deployment(rollouts.Key{Instance: "prod", Namespace: "argocd", Name: "payments-prod"})
		return d.Revision == "a2"
	})
	if r.svc.Fresh(stamp) {
		t.Errorf("the stamp is still fresh after payments-prod changed")
	}
	if none := r.svc.Stamp(nil); !r.svc.Fresh(none) {
		t.Errorf("the stamp of a component without Argo CD annotations is stale")
	}
}

// TestAReplicaHearsOfTheRolloutsAnotherRecordedOnceAndRetiresItsStamps: two replicas on one
// PostgreSQL schema. Replica B follows an Argo CD of its own that never changes (the same instance
// name), so what it learns of the rollouts A records, it learns from the bus alone: its subscriber
// hears each once, and its stamps (the cached component pages) go stale. (Without the bus, B's
// subscriber hears nothing and its stamp stays fresh: a rollout another replica recorded never
// retired B's cached component page.)
func TestAReplicaHearsOfTheRolloutsAnotherRecordedOnceAndRetiresItsStamps(t *testing.T) {
	url := storetest.PostgresURL(t)
	stA, stB := storetest.Open(t, url, true), storetest.Open(t, url, false)
	busA, startA := pgbustest.New(t, stA)
	busB, startB := pgbustest.New(t, stB)
	a, b := newRigOn(t, stA, busA, deployedOnce()), newRigOn(t, stB, busB, deployedOnce())
	commits(a.argo)
	commits(b.argo)
	startA()
	startB()
	subA, subB := a.watch(rollouts.WatchRollouts), b.watch(rollouts.WatchRollouts)
	first := []string{
		`rollout a1 Succeeded/SUCCEEDED history=1 by="" requested="" commit=""`,
		`rollout a1 Succeeded/SUCCEEDED history=1 by="" requested="" commit="Dana <dana@example.com>"`,
	}
	a.start()
	expect(t, subA, first...)
	expect(t, subB, first...)
	b.start() // B lists a1 too: recorded already, so nothing new to tell anyone

	annotations := map[string]string{"argocd/app-name": "payments-prod"}
	stamp := b.svc.Stamp(annotations)
	if _, err := a.svc.Sync(bob(), rollouts.Target{Component: "payments"}, rollouts.SyncRequest{Revision: "b2"}); err != nil {
		t.Fatal(err)
	}
	running := []string{
		`rollout b2 Running/RUNNING history=- by="portside" requested="bob" commit=""`,
		`rollout b2 Running/RUNNING history=- by="portside" requested="bob" commit="Erin <erin@example.com>"`,
	}
	expect(t, subA, running...)
	expect(t, subB, running...)
	if b.svc.Fresh(stamp) {
		t.Error("replica B's stamp of payments is still fresh after replica A recorded a rollout of it")
	}
	a.argo.Update("argocd", "payments-prod", func(app *v1alpha1.Application) {
		argocdtest.Succeed(app, "b2", "registry.example.com/payments:1.1.0")
		app.Status.Health.Status = "Healthy"
	})
	done := `rollout b2 Succeeded/SUCCEEDED history=2 by="portside" requested="bob" commit="Erin <erin@example.com>"`
	expect(t, subA, done)
	expect(t, subB, done)
	if n := len(subB.C()); n != 0 {
		t.Errorf("replica B's subscriber holds %d more changes, want none (each rollout change once)", n)
	}
}

// A replica that records rollouts and dies the moment each record commits still tells the others
// of each, once: the record and its message commit together. A's bus never runs here (whatever
// waited to be sent after a commit would never go), and B does not follow Argo CD, so all that
// B's subscriber hears comes from A's transactions.
func TestRolloutsReachTheOtherReplicasEvenWhenTheirReplicaDiesRightAfterEachCommit(t *testing.T) {
	url := storetest.PostgresURL(t)
	stA, stB := storetest.Open(t, url, true), storetest.Open(t, url, false)
	busA, _ := pgbustest.New(t, stA) // never started
	busB, startB := pgbustest.New(t, stB)
	a, b := newRigOn(t, stA, busA, deployedOnce()), newRigOn(t, stB, busB, deployedOnce())
	commits(a.argo)
	startB()
	subA, subB := a.watch(rollouts.WatchRollouts), b.watch(rollouts.WatchRollouts)
	want := []string{
		`rollout a1 Succeeded/SUCCEEDED history=1 by="" requested="" commit=""`,
		`rollout a1 Succeeded/SUCCEEDED history=1 by="" requested="" commit="Dana <dana@example.com>"`,
		`rollout b2 Running/RUNNING history=- by="portside" requested="bob" commit=""`,
		`rollout b2 Running/RUNNING history=- by="portside" requested="bob" commit="Erin <erin@example.com>"`,
		`rollout b2 Succeeded/SUCCEEDED history=2 by="portside" requested="bob" commit="Erin <erin@example.com>"`,
	}
	a.start()
	expect(t, subA, want[:2]...)
	if _, err := a.svc.Sync(bob(), rollouts.Target{Component: "payments"}, rollouts.SyncRequest{Revision: "b2"}); err != nil {
		t.Fatal(err)
	}
	expect(t, subA, want[2:4]...)
	a.argo.Update("argocd", "payments-prod", func(app *v1alpha1.Application) {
		argocdtest.Succeed(app, "b2", "registry.example.com/payments:1.1.0")
		app.Status.Health.Status = "Healthy"
	})
	expect(t, subA, want[4])
	// In commit order, each once: a repeat of any would come before the last.
	expect(t, subB, want...)
}

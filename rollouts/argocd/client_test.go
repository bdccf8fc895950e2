package argocd_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	"github.com/argoproj/gitops-engine/pkg/sync/common"
	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/rollouts"
	"github.com/portside-dev/portside/rollouts/argocd"
	"github.com/portside-dev/portside/rollouts/argocd/argocdtest"
)

func app(name string, mod func(*v1alpha1.Application)) v1alpha1.Application {
	a := v1alpha1.Application{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "argocd"},
		Spec: v1alpha1.ApplicationSpec{Project: "payments",
			Destination: v1alpha1.ApplicationDestination{Server: "https://kubernetes.default.svc", Namespace: "payments"}}}
	if mod != nil {
		mod(&a)
	}
	return a
}

func startArgo(t *testing.T, apps ...v1alpha1.Application) (*argocdtest.Server, string) {
	t.Helper()
	srv := argocdtest.Start(t)
	for _, a := range apps {
		srv.Put(a)
	}
	return srv, srv.Addr()
}

func newClient(t *testing.T, addr, token string) *argocd.Client {
	t.Helper()
	c, err := argocd.New(argocd.Options{Name: "prod", Addr: addr, Token: token, PlainText: true, ConnectTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestApplicationsComeFromArgoCDsListOverGRPC(t *testing.T) {
	started := metav1.NewTime(time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC))
	finished := metav1.NewTime(started.Add(42 * time.Second))
	earlier := metav1.NewTime(started.Add(-24 * time.Hour))
	srv, addr := startArgo(t,
		app("payments-prod", func(a *v1alpha1.Application) {
			a.Labels = map[string]string{"environment": "production", "team": "payments"}
			a.Status.Sync = v1alpha1.SyncStatus{Status: v1alpha1.SyncStatusCodeSynced, Revision: "4f2a9c1"}
			a.Status.Health.Status = "Healthy"
			a.Status.Summary.Images = []string{"registry.acme.example/payments:1.8.0", "registry.acme.example/envoy:1.30"}
			a.Status.OperationState = &v1alpha1.OperationState{Phase: common.OperationSucceeded, Message: "successfully synced",
				StartedAt: started, FinishedAt: &finished,
				Operation:  v1alpha1.Operation{InitiatedBy: v1alpha1.OperationInitiator{Username: "bob"}},
				SyncResult: &v1alpha1.SyncOperationResult{Revision: "4f2a9c1"}}
			a.Status.History = v1alpha1.RevisionHistories{
				{ID: 6, Revision: "19be0d2", DeployStartedAt: &earlier, DeployedAt: earlier, InitiatedBy: v1alpha1.OperationInitiator{Automated: true}},
				{ID: 7, Revision: "4f2a9c1", DeployStartedAt: &started, DeployedAt: finished, InitiatedBy: v1alpha1.OperationInitiator{Username: "bob"}},
			}
		}),
		app("payments-staging", func(a *v1alpha1.Application) {
			a.Spec.Destination = v1alpha1.ApplicationDestination{Name: "staging", Namespace: "payments"}
			a.Status.Sync.Status = v1alpha1.SyncStatusCodeOutOfSync
			a.Status.Health.Status = "Progressing"
			a.Status.Conditions = []v1alpha1.ApplicationCondition{{Type: "ComparisonError",
				Message: "Failed to load target state: repository not accessible", LastTransitionTime: &earlier}}
		}),
	)
	c := newClient(t, addr, srv.Token)
	got, err := c.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []rollouts.Application{
		{Deployment: rollouts.Deployment{Instance: "prod", Application: "payments-prod", AppNamespace: "argocd", Project: "payments",
			Environment: "production", Cluster: "https://kubernetes.default.svc", Namespace: "payments", Sync: rollouts.Synced,
			Health: rollouts.Healthy, Revision: "4f2a9c1",
			Images:       []string{"registry.acme.example/envoy:1.30", "registry.acme.example/payments:1.8.0"},
			LastSyncedAt: &finished.Time, ResourceVersion: "101",
			Operation: &rollouts.Operation{Phase: rollouts.OperationSucceeded, Message: "successfully synced", Revision: "4f2a9c1",
				StartedAt: started.Time, FinishedAt: &finished.Time, InitiatedBy: "bob"}},
			Labels: map[string]string{"environment": "production", "team": "payments"},
			History: []rollouts.HistoryEntry{
				{ID: 6, Revision: "19be0d2", StartedAt: &earlier.Time, DeployedAt: earlier.Time, Automated: true},
				{ID: 7, Revision: "4f2a9c1", StartedAt: &started.Time, DeployedAt: finished.Time, InitiatedBy: "bob"},
			}},
		{Deployment: rollouts.Deployment{Instance: "prod", Application: "payments-staging", AppNamespace: "argocd", Project: "payments",
			Environment: "staging", Cluster: "staging", Namespace: "payments", Sync: rollouts.OutOfSync, Health: rollouts.Progressing,
			ResourceVersion: "102", Conditions: []rollouts.Condition{{Type: "ComparisonError",
				Message: "Failed to load target state: repository not accessible", Since: &earlier.Time}}}},
	}
	if !cmp.Equal(got, want) {
		t.Errorf("applications differ (-want +got):\n%s", cmp.Diff(want, got))
	}
	if q := srv.ListQueries(); len(q) != 1 || q[0].GetAppNamespace() != "" || q[0].Selector != nil {
		t.Errorf("queries sent to Argo CD = %v, want one for all applications", q)
	}
}

func TestABadTokenOrAnInstanceThatIsDownIsUnavailableByName(t *testing.T) {
	srv, addr := startArgo(t)
	_, err := newClient(t, addr, "wrong-token").List(context.Background())
	if !errs.Is(err, errs.Unavailable) || !containsAll(err.Error(), `"prod"`, "API token") {
		t.Errorf("wrong token: %v", err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	down := ln.Addr().String()
	ln.Close()
	_, err = newClient(t, down, srv.Token).List(context.Background())
	if !errs.Is(err, errs.Unavailable) || !containsAll(err.Error(), `"prod"`, down) {
		t.Errorf("instance down: %v", err)
	}
}

func TestOptionsAreCheckedByName(t *testing.T) {
	for field, o := range map[string]argocd.Options{
		"name":  {Addr: "a:1", Token: "t"},
		"addr":  {Name: "prod", Token: "t"},
		"token": {Name: "prod", Addr: "a:1"},
	} {
		if _, err := argocd.New(o); errs.FieldOf(err) != field {
			t.Errorf("New(%+v) = %v, want an error naming %s", o, err, field)
		}
	}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

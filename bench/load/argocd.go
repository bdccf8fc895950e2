package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	"github.com/argoproj/gitops-engine/pkg/sync/common"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portside-dev/portside/bench/benchcat"
	"github.com/portside-dev/portside/rollouts/argocd/argocdtest"
)

// historyPerApp is how many past syncs each scripted application has: the component page asks
// for the last 10 rollouts, and every one of them is there.
const historyPerApp = 10

// argoCD is the scripted Argo CD the servers follow, so that the component page has deployments
// and rollouts to show: one application per deployed component of queries.json, each synced
// historyPerApp times, over real gRPC. It runs in the driver, idle while the load runs.
type argoCD struct {
	srv      *argocdtest.Server
	apps     int
	cleanups []func()
}

// harness is what argocdtest needs of a test, outside one: a failure panics and startArgoCD
// turns the panic back into an error.
type harness struct{ cleanups *[]func() }

type harnessFailure string

func (harness) Helper()           {}
func (harness) Fatal(args ...any) { panic(harnessFailure(fmt.Sprint(args...))) }
func (harness) Fatalf(format string, args ...any) {
	panic(harnessFailure(fmt.Sprintf(format, args...)))
}
func (h harness) Cleanup(fn func()) { *h.cleanups = append(*h.cleanups, fn) }

func startArgoCD(q *benchcat.Queries) (a *argoCD, err error) {
	a = &argoCD{apps: len(q.Deployed)}
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(harnessFailure)
			if !ok {
				panic(r)
			}
			a.stop()
			a, err = nil, fmt.Errorf("scripted Argo CD: %s", f)
		}
	}()
	a.srv = argocdtest.Start(harness{&a.cleanups})
	base := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	for n, ref := range q.Deployed {
		name := ref[strings.LastIndexByte(ref, '/')+1:]
		a.srv.Put(argocdtest.App(name, func(app *v1alpha1.Application) {
			app.Labels = map[string]string{"environment": "production"}
			var last string
			for i := range historyPerApp {
				started := metav1.NewTime(base.Add(time.Duration(n)*time.Minute + time.Duration(i)*24*time.Hour))
				deployed := metav1.NewTime(started.Add(90 * time.Second))
				rev := fmt.Sprintf("%040x", n*historyPerApp+i+1)
				app.Status.History = append(app.Status.History, v1alpha1.RevisionHistory{ID: int64(i), Revision: rev,
					DeployStartedAt: &started, DeployedAt: deployed, InitiatedBy: v1alpha1.OperationInitiator{Username: "alice"}})
				a.srv.SetCommit(rev, v1alpha1.RevisionMetadata{Author: "Alice <alice@example.com>", Message: name + ": change " + fmt.Sprint(i+1),
					Date: metav1.NewTime(started.Add(-time.Hour))})
				last = rev
			}
			h := app.Status.History[historyPerApp-1]
			app.Status.OperationState = &v1alpha1.OperationState{Phase: common.OperationSucceeded, Message: "successfully synced (all tasks run)",
				StartedAt: *h.DeployStartedAt, FinishedAt: &h.DeployedAt, SyncResult: &v1alpha1.SyncOperationResult{Revision: last},
				Operation: v1alpha1.Operation{InitiatedBy: h.InitiatedBy, Sync: &v1alpha1.SyncOperation{Revision: last}}}
			app.Status.Sync.Revision = last
			app.Status.Summary.Images = []string{"registry.example.com/" + name + ":1." + fmt.Sprint(historyPerApp)}
		}))
	}
	return a, nil
}

// serveArgs are the settings that point a server at the scripted Argo CD.
func (a *argoCD) serveArgs() (args, env []string) {
	return []string{"--argocd-instances", "bench=http://" + a.srv.Addr()}, []string{"PORTSIDE_ARGOCD_TOKENS=bench=" + a.srv.Token}
}

func (a *argoCD) stop() {
	for i := len(a.cleanups) - 1; i >= 0; i-- {
		a.cleanups[i]()
	}
	a.cleanups = nil
}

// awaitTracking waits until the server follows every application and has recorded every
// rollout, so that the component page is measured on a settled server.
func (d *driver) awaitTracking(ctx context.Context, s *server) error {
	u := "http://" + s.addr + "/graphql"
	body, _ := json.Marshal(map[string]string{"query": `{ argoCDInstances { connected applications error } rollouts(first: 1) { totalCount } }`})
	want := d.argo.apps * historyPerApp
	var last string
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); {
		status, resp, err := d.post(ctx, u, body)
		if err != nil {
			return err
		}
		var out struct {
			Data struct {
				ArgoCDInstances []struct {
					Connected    bool
					Applications int
				}
				Rollouts struct{ TotalCount int }
			}
		}
		if status == http.StatusOK && json.Unmarshal(resp, &out) == nil && len(out.Data.ArgoCDInstances) == 1 {
			inst := out.Data.ArgoCDInstances[0]
			if inst.Connected && inst.Applications == d.argo.apps && out.Data.Rollouts.TotalCount == want {
				return nil
			}
		}
		last = truncate(resp, 300)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("the server did not follow %d applications with %d rollouts within 2 minutes; last answer: %s", d.argo.apps, want, last)
}

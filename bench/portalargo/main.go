// Command portalargo is the scripted Argo CD of the portal's browser benchmark
// (frontend/bench/run.mjs) and end-to-end run (frontend/e2e/run.mjs): it serves
// rollouts/argocd/argocdtest on loopback with one application per component named on the command
// line (each annotated in its catalog with an `argocd/app-name` like its name), prints one JSON
// line {"addr","token"} for `portside serve --argocd-instances`, and then answers one line on
// stdout for each line read on stdin:
//
//   - "APP MESSAGE" updates that application's running operation to carry MESSAGE and prints the
//     wall-clock time just before the update in Unix microseconds: the start of a rollout event
//     whose arrival on screen the benchmark times.
//   - "/step APP N" (with -canary) puts APP's Argo Rollouts canary at step index N of its five
//     steps (setWeight 20, pause, setWeight 50, pause, setWeight 100) as Argo Rollouts would
//     report it: paused on a pause step, progressing on a weight step, healthy past the last
//     one. It prints "ok".
//   - "/calls" prints the resource actions (resume, promote-full, abort, retry) asked of the
//     server so far, as one JSON array of "ACTION GROUP/KIND/NAMESPACE/NAME on APP".
//   - "/received" prints every action asked of the server so far, in order, as one JSON array of
//     "sync REVISION on APP" (REVISION empty: the target revision), "rollback HISTORY-ID on APP",
//     "terminate on APP", "refresh normal|hard on APP" and the resource actions as /calls has them.
//   - "/deployed APP REVISION" records a sync of APP to REVISION that started and succeeded at
//     once, as Argo CD's automated sync would (a new history entry). It prints "ok".
//   - "/succeed APP REVISION" ends APP's running operation successfully at REVISION, as Argo CD's
//     controller does (a new history entry). It prints "ok".
//   - "/block APP on|off" makes a sync window forbid syncing APP (Argo CD refuses the sync), or
//     lifts it. It prints "ok".
//
// A line starting with "/" is a command: application names never contain one.
//
// With -canary every application has an Argo Rollouts Rollout, first at step 0, and behaves as
// Argo Rollouts does when Portside asks: resume moves a paused canary to the next step,
// promote-full to the end, abort back to the stable version.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	"github.com/argoproj/gitops-engine/pkg/sync/common"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portside-dev/portside/rollouts/argocd/argocdtest"
)

// harness is what argocdtest needs of a test, outside one: a failure ends the process.
type harness struct{ cleanups *[]func() }

func (harness) Helper()           {}
func (harness) Fatal(args ...any) { fmt.Fprintln(os.Stderr, args...); os.Exit(1) }
func (harness) Fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}
func (h harness) Cleanup(fn func()) { *h.cleanups = append(*h.cleanups, fn) }

// canarySteps is the strategy of every scripted Rollout; the indexes /step names.
const canarySteps = `[{"setWeight": 20}, {"pause": {}}, {"setWeight": 50}, {"pause": {}}, {"setWeight": 100}]`

// stepCount is how many steps canarySteps has.
const stepCount = 5

// rolloutManifest is the live JSON of app's Rollout at step index step (stepCount: done), or
// aborted, as Argo Rollouts reports it for 10 replicas.
func rolloutManifest(app string, step int, aborted bool) string {
	weights := []int{20, 20, 50, 50, 100}
	phase, pause, updated, stable := "Progressing", "[]", 0, "stable"
	switch {
	case aborted:
		phase, step = "Degraded", 0
	case step >= stepCount:
		phase, step, updated, stable = "Healthy", stepCount, 10, "canary"
	default:
		updated = weights[step] / 10
		if step%2 == 1 { // the pause steps
			phase, pause = "Paused", `[{"reason": "CanaryPauseStep", "startTime": "2026-11-30T10:00:00Z"}]`
		}
	}
	return fmt.Sprintf(`{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
		"metadata": {"name": %q, "namespace": %q},
		"spec": {"replicas": 10, "strategy": {"canary": {"steps": %s}}},
		"status": {"currentStepIndex": %d, "phase": %q, "pauseConditions": %s, "stableRS": %q, "currentPodHash": "canary",
			"replicas": 10, "updatedReplicas": %d, "abort": %v, "message": ""}}`,
		app, app, canarySteps, step, phase, pause, stable, updated, aborted)
}

func main() {
	canary := flag.Bool("canary", false, "give every application an Argo Rollouts canary that /step moves and actions drive")
	flag.Parse()
	var cleanups []func()
	defer func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}()
	srv := argocdtest.Start(harness{&cleanups})
	started := metav1.NewTime(time.Now().Add(-time.Minute))
	var mu sync.Mutex
	steps := map[string]int{} // each canary's step index
	setStep := func(name string, step int, aborted bool) {
		mu.Lock()
		defer mu.Unlock()
		steps[name] = step
		srv.SetLive("argocd", name, "Rollout", name, rolloutManifest(name, step, aborted))
	}
	known := map[string]bool{}
	for _, name := range flag.Args() {
		known[name] = true
		srv.Put(argocdtest.App(name, func(app *v1alpha1.Application) {
			app.Labels = map[string]string{"environment": "production"}
			if *canary {
				app.Status.Resources = []v1alpha1.ResourceStatus{{Group: "argoproj.io", Version: "v1alpha1", Kind: "Rollout", Namespace: name, Name: name}}
				return
			}
			app.Status.OperationState = &v1alpha1.OperationState{Phase: common.OperationRunning, Message: "waiting",
				StartedAt: started, Operation: v1alpha1.Operation{Sync: &v1alpha1.SyncOperation{Revision: "HEAD"}}}
		}))
		if *canary {
			setStep(name, 0, false)
		}
	}
	if *canary {
		// What Argo Rollouts does with the actions Argo CD runs on a Rollout (the server has
		// recorded the call before this runs).
		srv.OnAction(func(key, action string) {
			_, name, _ := strings.Cut(key, "/")
			mu.Lock()
			step := steps[name]
			mu.Unlock()
			switch action {
			case "resume":
				setStep(name, step+1, false)
			case "promote-full":
				setStep(name, stepCount, false)
			case "abort":
				setStep(name, 0, true)
			case "retry":
				setStep(name, 0, false)
			}
		})
	}
	out, _ := json.Marshal(map[string]string{"addr": srv.Addr(), "token": srv.Token})
	fmt.Println(string(out))
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		line := in.Text()
		if cmd, ok := strings.CutPrefix(line, "/"); ok {
			fmt.Println(command(srv, cmd, known, setStep))
			continue
		}
		name, msg, _ := strings.Cut(line, " ")
		at := time.Now()
		srv.Update("argocd", name, func(app *v1alpha1.Application) {
			if app.Status.OperationState != nil {
				app.Status.OperationState.Message = msg
			}
		})
		fmt.Println(at.UnixMicro())
	}
}

// command runs one "/" command and returns its one-line answer.
func command(srv *argocdtest.Server, cmd string, known map[string]bool, setStep func(string, int, bool)) string {
	fields := strings.Fields(cmd)
	// The scripted server ends the process on an application it does not have: refuse it here.
	if len(fields) > 1 && !known[fields[1]] {
		return fmt.Sprintf("error: no application %q", fields[1])
	}
	switch {
	case len(fields) == 3 && fields[0] == "step":
		n, err := strconv.Atoi(fields[2])
		if err != nil || n < 0 || n > stepCount {
			return fmt.Sprintf("error: step %q is not 0..%d", fields[2], stepCount)
		}
		setStep(fields[1], n, false)
		// The application changes too, as its health follows the Rollout: Portside reads a
		// canary again at once when its application changes.
		srv.Update("argocd", fields[1], func(app *v1alpha1.Application) {
			app.Status.Health.Status = "Progressing"
			if n%2 == 1 {
				app.Status.Health.Status = "Suspended"
			} else if n >= stepCount {
				app.Status.Health.Status = "Healthy"
			}
		})
		return "ok"
	case len(fields) == 1 && fields[0] == "calls":
		calls := []string{}
		for _, c := range srv.Calls() {
			if c.Method == "RunResourceAction" {
				calls = append(calls, c.Action+" "+c.Resource+" on "+c.App)
			}
		}
		b, _ := json.Marshal(calls)
		return string(b)
	case len(fields) == 1 && fields[0] == "received":
		b, _ := json.Marshal(received(srv.Calls()))
		return string(b)
	case len(fields) == 3 && fields[0] == "deployed":
		started := metav1.NewTime(srv.Tick())
		srv.Update("argocd", fields[1], func(app *v1alpha1.Application) {
			op := v1alpha1.Operation{Sync: &v1alpha1.SyncOperation{Revision: fields[2]}, InitiatedBy: v1alpha1.OperationInitiator{Automated: true}}
			app.Status.OperationState = &v1alpha1.OperationState{Operation: op, Phase: common.OperationRunning, StartedAt: started}
			argocdtest.Succeed(app, fields[2])
		})
		return "ok"
	case len(fields) == 3 && fields[0] == "succeed":
		msg := "ok"
		srv.Update("argocd", fields[1], func(app *v1alpha1.Application) {
			if app.Status.OperationState == nil || app.Status.OperationState.Phase != common.OperationRunning {
				msg = "error: no operation is running"
				return
			}
			argocdtest.Succeed(app, fields[2])
		})
		return msg
	case len(fields) == 3 && fields[0] == "block" && (fields[2] == "on" || fields[2] == "off"):
		srv.BlockSyncs("argocd", fields[1], fields[2] == "on")
		return "ok"
	}
	return fmt.Sprintf("error: unknown command %q", cmd)
}

// received describes every action asked of the server, in order, in the words "/received" prints.
func received(calls []argocdtest.Call) []string {
	out := []string{}
	for _, c := range calls {
		switch c.Method {
		case "Sync":
			out = append(out, "sync "+c.Revision+" on "+c.App)
		case "Rollback":
			out = append(out, "rollback "+strconv.FormatInt(c.HistoryID, 10)+" on "+c.App)
		case "TerminateOperation":
			out = append(out, "terminate on "+c.App)
		case "Refresh":
			out = append(out, "refresh "+c.Refresh+" on "+c.App)
		case "RunResourceAction":
			out = append(out, c.Action+" "+c.Resource+" on "+c.App)
		}
	}
	return out
}

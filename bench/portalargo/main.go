// Command portalargo is the scripted Argo CD of the portal benchmark (frontend/bench/run.mjs): it
// serves rollouts/argocd/argocdtest on loopback with one application per component named on the
// command line (each annotated in the bench catalog with an `argocd/app-name` like its name),
// prints one JSON line {"addr","token"} for `portside serve --argocd-instances`, and then, for each
// line "APP MESSAGE" read on stdin, updates that application's running operation to carry MESSAGE
// and prints the wall-clock time just before the update in Unix microseconds: the start of a rollout event
// whose arrival on screen the benchmark times.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
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

func main() {
	var cleanups []func()
	defer func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}()
	srv := argocdtest.Start(harness{&cleanups})
	started := metav1.NewTime(time.Now().Add(-time.Minute))
	for _, name := range os.Args[1:] {
		srv.Put(argocdtest.App(name, func(app *v1alpha1.Application) {
			app.Labels = map[string]string{"environment": "production"}
			app.Status.OperationState = &v1alpha1.OperationState{Phase: common.OperationRunning, Message: "waiting",
				StartedAt: started, Operation: v1alpha1.Operation{Sync: &v1alpha1.SyncOperation{Revision: "HEAD"}}}
		}))
	}
	out, _ := json.Marshal(map[string]string{"addr": srv.Addr(), "token": srv.Token})
	fmt.Println(string(out))
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		name, msg, _ := strings.Cut(in.Text(), " ")
		at := time.Now()
		srv.Update("argocd", name, func(app *v1alpha1.Application) { app.Status.OperationState.Message = msg })
		fmt.Println(at.UnixMicro())
	}
}

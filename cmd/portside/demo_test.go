package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/deploys"
	"github.com/portside-dev/portside/runbooks"
	"github.com/portside-dev/portside/tasks"
)

// serve --demo seeds what the portal's tasks and runbook pages show: the table in a
// project bob may change, a meeting a week ago with changes since, and a runbook in two versions.
func TestServeDemoSeedsAProjectAndARunbook(t *testing.T) {
	w, _ := serveWiring(t)
	ctx := principal.With(context.Background(), principal.System("test", principal.ClientCLI))
	proj, err := w.tasks.Project(ctx, demoProject)
	if err != nil {
		t.Fatal(err)
	}
	if proj.Owner != "group:default/team-platform" || !slices.Equal(proj.Members, []string{"user:default/bob"}) {
		t.Errorf("project owner %q, members %v; want team-platform and bob", proj.Owner, proj.Members)
	}
	page, err := w.tasks.Tasks(ctx, tasks.Filter{Project: demoProject}, 100, "")
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, tk := range page.Tasks {
		rows = append(rows, fmt.Sprintf("%s|%s|%s|%s", tk.Title, tk.Priority, tk.Assignee, tk.Status))
	}
	want := []string{
		"Define k8s deployment specs|HIGH|user:default/alice|BLOCKED",
		"CI to CD handoff automation|MEDIUM|user:default/alice|NOT_STARTED",
		"Helm chart templating|LOW|user:default/alice|NOT_STARTED",
		"Canary and blue/green rollout|HIGH|user:default/alice|NOT_STARTED",
		"Review the payments-api runbook|MEDIUM|user:default/bob|IN_PROGRESS",
	}
	if !slices.Equal(rows, want) {
		t.Errorf("the demo project's tasks:\n%v\nwant\n%v", rows, want)
	}
	changes, err := w.tasks.ChangesSinceLastMeeting(ctx, demoProject)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, c := range changes {
		kinds = append(kinds, string(c.Kind)+" "+c.Title)
	}
	for _, k := range []string{"BLOCKER Define k8s deployment specs", "NEW Review the payments-api runbook"} {
		if !slices.Contains(kinds, k) {
			t.Errorf("changes since the last meeting %v lack %q", kinds, k)
		}
	}
	rbs, err := w.runbooks.Runbooks(ctx, runbooks.Filter{Entity: "component:default/payments-api"}, 10, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(rbs.Runbooks) != 1 || rbs.Runbooks[0].Title != demoRunbookTitle || rbs.Runbooks[0].Version != 2 {
		t.Fatalf("payments-api's runbooks: %+v; want the demo runbook at version 2", rbs.Runbooks)
	}

	// A second start on the same database leaves what is there alone.
	if err := seedDemoWork(ctx, w.tasks, w.runbooks, time.Now()); err != nil {
		t.Fatal(err)
	}
	again, err := w.tasks.Tasks(ctx, tasks.Filter{Project: demoProject}, 100, "")
	if err != nil {
		t.Fatal(err)
	}
	rbs2, err := w.runbooks.Runbooks(ctx, runbooks.Filter{}, 10, "")
	if err != nil {
		t.Fatal(err)
	}
	if again.TotalCount != 5 || rbs2.TotalCount != 1 {
		t.Errorf("after a second seeding: %d tasks, %d runbooks; want 5 and 1", again.TotalCount, rbs2.TotalCount)
	}
}

// serve --demo deploys payments-api for real: its deploy annotation names a bare manifest
// repository created at start, so bob's request approved by alice ends as a commit in it.
func TestServeDemoDeploysPaymentsAPIToItsManifestRepository(t *testing.T) {
	w, _ := serveWiring(t)
	bob := principal.With(context.Background(), &principal.Principal{Username: "bob", Email: "bob@acme.example", Groups: []string{"team-payments"},
		EntityRef: "user:default/bob", Kind: principal.KindSession, Client: principal.ClientWeb})
	alice := principal.With(context.Background(), &principal.Principal{Username: "alice", Admin: true, Kind: principal.KindSession, Client: principal.ClientWeb})
	const digest = "sha256:4f2b0c6a9d1e8b7f3a5c2e9d0b1f4a6c8e7d5b3a1f9c0e2d4b6a8c7e5f3d1b0a"
	ctx, cancel := context.WithTimeout(bob, time.Minute)
	defer cancel()
	moves, err := w.deploys.Watch(ctx, "payments-api", 0)
	if err != nil {
		t.Fatal(err)
	}
	q, err := w.deploys.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: digest, Reason: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	if q.State != deploys.Requested {
		t.Fatalf("production waits for an approval; the request is %s", q.State)
	}
	if q, err = w.deploys.Approve(alice, q.ID, ""); err != nil {
		t.Fatalf("approve: %v", err)
	}
	// Approve applies the request itself unless serve's background pass took it first (then it
	// answers APPLYING): either way the request ends rolling out, with its commit.
	for q.State != deploys.RollingOut {
		if q.State != deploys.Approved && q.State != deploys.Applying {
			t.Fatalf("approved, the request moved to %s: %+v", q.State, q)
		}
		select {
		case e, ok := <-moves.C():
			if !ok {
				t.Fatalf("the request's moves ended (%v) with the request %s", moves.Err(), q.State)
			}
			if e.Request.ID == q.ID {
				q = e.Request
			}
		case <-ctx.Done():
			t.Fatalf("the approved request is still %s after a minute", q.State)
		}
	}
	out, err := exec.Command("git", "--git-dir", q.Repo, "show", q.CommitSHA+":apps/payments-api/overlays/production/kustomization.yaml").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "digest: "+digest) {
		t.Fatalf("the commit %s in %s: %v\n%s", q.CommitSHA, q.Repo, err, out)
	}
	if !strings.HasPrefix(q.Repo, os.TempDir()) || !strings.HasSuffix(q.Repo, "manifests.git") {
		t.Errorf("the demo repository %q is not the one serve --demo made in a temp dir", q.Repo)
	}
}

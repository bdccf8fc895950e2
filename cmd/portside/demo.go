package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/runbooks"
	"github.com/portside-dev/portside/tasks"
)

// The demo's status-meeting project: the table issue #15 names, as a team would paste it.
const (
	demoProject = "deployment-roadmap"
	demoTable   = `| Task | Priority | Assignee | Status | Comments / Issues |
|---|---|---|---|---|
| Define k8s deployment specs | High | Alice | In Progress | Waiting on service account permissions |
| CI to CD handoff automation | Medium | Alice | Not Started | Evaluate GitLab release job |
| Helm chart templating | Low | Alice | Not Started | Research community charts |
| Canary and blue/green rollout | High | Alice | Not Started | Drafting rollback procedures |
`
	demoRunbookTitle = "Payments API: card payments failing"
	demoRunbookV1    = `# Card payments failing

When the payments-api error rate alert fires:

1. Check the **Payments API** dashboard for the failing provider.
2. Look at the latest rollout of payments-api: abort a canary that is under way.
`
	demoRunbookV2 = `# Card payments failing

When the payments-api error rate alert fires:

1. Check the **Payments API** dashboard for the failing provider.
2. Look at the latest rollout of payments-api: abort a canary that is under way.
3. If one provider fails, switch its traffic to the other with ` + "`payments-ctl route`" + `.

Escalate to team-payments on call after 15 minutes.
`
)

// seedDemoWork gives serve --demo a small status-meeting project (with a meeting a week ago and
// changes since) and a versioned runbook for payments-api, so that the portal's tasks and
// runbook pages have something to show. It runs as Portside itself (system, admin) and only
// once per database: a second start finds the project and leaves everything as people left it.
func seedDemoWork(ctx context.Context, ts *tasks.Service, rs *runbooks.Service, now time.Time) error {
	if _, err := ts.Project(ctx, demoProject); err == nil {
		return nil
	} else if !errs.Is(err, errs.NotFound) {
		return err
	}
	rb, err := rs.Create(ctx, runbooks.CreateInput{Title: demoRunbookTitle, Kind: runbooks.Markdown, Markdown: demoRunbookV1,
		Links: []string{"component:default/payments-api"}, Message: "First steps"})
	if err != nil {
		return fmt.Errorf("demo runbook: %w", err)
	}
	v2 := demoRunbookV2
	if rb, err = rs.Update(ctx, runbooks.UpdateInput{ID: rb.ID, BaseVersion: rb.Version, Markdown: &v2, Message: "Provider failover and escalation"}); err != nil {
		return fmt.Errorf("demo runbook: %w", err)
	}
	// team-platform (alice's) owns the roadmap; bob, a member, may change it; carol only reads it.
	if _, err := ts.CreateProject(ctx, tasks.ProjectInput{Name: demoProject, Title: "Deployment stage roadmap", Owner: "team-platform",
		Members: []string{"bob"}}); err != nil {
		return fmt.Errorf("demo project: %w", err)
	}
	imported, err := ts.Import(ctx, demoProject, tasks.Markdown, demoTable)
	if err != nil {
		return fmt.Errorf("demo tasks: %w", err)
	}
	if _, err := ts.CreateMeeting(ctx, demoProject, "Walk through the deployment stage; agree on the canary steps.", now.Add(-7*24*time.Hour)); err != nil {
		return fmt.Errorf("demo meeting: %w", err)
	}
	// Since that meeting: the specs are blocked, and a new task ties the roadmap to payments-api.
	specs := imported.Tasks[0]
	blocked := tasks.Blocked
	if _, err := ts.UpdateTask(ctx, specs.ID, tasks.TaskPatch{Version: specs.Version, Status: &blocked}); err != nil {
		return fmt.Errorf("demo task: %w", err)
	}
	t, err := ts.CreateTask(ctx, tasks.TaskInput{Project: demoProject, Title: "Review the payments-api runbook", Priority: tasks.Medium,
		Assignee: "bob", Status: tasks.InProgress, Comment: "Failover step added",
		Links: []tasks.Link{{Kind: tasks.LinkComponent, Target: "payments-api"}, {Kind: tasks.LinkRunbook, Target: strconv.FormatInt(rb.ID, 10)}}})
	if err != nil {
		return fmt.Errorf("demo task: %w", err)
	}
	if _, err := ts.AddComment(ctx, t.ID, "Version 2 adds the provider failover; please check the escalation time."); err != nil {
		return fmt.Errorf("demo comment: %w", err)
	}
	return nil
}

// demoOverlay is the Kustomize overlay of one payments-api environment in the demo's manifest
// repository; a deploy request bumps its images: entry.
const demoOverlay = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../base
images:
  - name: registry.acme.example/payments-api
    newTag: "1.4.1"
`

// newDemoManifests creates, under dir, the bare manifest repository the demo catalog's
// portside.dev/deploy annotations name (payments-api's production and staging overlays on main),
// so that a deploy request in the demo goes all the way to a commit, and returns its path. It is
// made with the git CLI, as the GitOps committer that pushes to it is.
func newDemoManifests(ctx context.Context, dir string) (string, error) {
	seed := filepath.Join(dir, "seed")
	bare := filepath.Join(dir, "manifests.git")
	for _, env := range []string{"production", "staging"} {
		d := filepath.Join(seed, "apps", "payments-api", "overlays", env)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", fmt.Errorf("demo manifest repository: %w", err)
		}
		if err := os.WriteFile(filepath.Join(d, "kustomization.yaml"), []byte(demoOverlay), 0o644); err != nil {
			return "", fmt.Errorf("demo manifest repository: %w", err)
		}
	}
	for _, args := range [][]string{
		{"-C", seed, "init", "--quiet", "-b", "main"},
		{"-C", seed, "add", "."},
		{"-C", seed, "-c", "user.name=Portside demo", "-c", "user.email=portside@localhost", "-c", "commit.gpgsign=false",
			"commit", "--quiet", "-m", "payments-api: production and staging overlays"},
		{"clone", "--quiet", "--bare", seed, bare},
	} {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("demo manifest repository: git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
	}
	if err := os.RemoveAll(seed); err != nil {
		return "", fmt.Errorf("demo manifest repository: %w", err)
	}
	return bare, nil
}

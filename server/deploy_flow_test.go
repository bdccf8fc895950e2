package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	"github.com/argoproj/gitops-engine/pkg/health"
	"github.com/argoproj/gitops-engine/pkg/sync/common"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portside-dev/portside/deploys"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/rollouts"
	"github.com/portside-dev/portside/rollouts/argocd/argocdtest"
	"github.com/portside-dev/portside/slack"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// flowRollout is the live Argo Rollouts Rollout of the flow's application: steps setWeight 25 →
// pause 30s → setWeight 50 → pause (until promoted) → setWeight 100, at step index step, on the
// pod template hash current while stable runs.
func flowRollout(name string, step int, phase, paused, stable, current string) string {
	pause := "[]"
	if paused != "" {
		pause = fmt.Sprintf(`[{"reason": %q}]`, paused)
	}
	return fmt.Sprintf(`{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": %q, "namespace": %q},
		"spec": {"replicas": 20, "strategy": {"canary": {"steps": [{"setWeight": 25}, {"pause": {"duration": "30s"}}, {"setWeight": 50}, {"pause": {}}, {"setWeight": 100}]}}},
		"status": {"currentStepIndex": %d, "phase": %q, "pauseConditions": %s, "stableRS": %q, "currentPodHash": %q, "replicas": 20, "abort": false}}`,
		name, name, step, phase, pause, stable, current)
}

// The whole way of a deploy request, from Slack to the end of its canary, with every piece real
// but Slack's Web API (slacktest, recording) and Argo CD (the scripted server, over real gRPC
// through the connector): Bob types /deploy (signed as Slack signs it); the request is posted to
// the component's channel with Approve and Reject; Bob's own Approve click is refused; Carol,
// another owner, approves; exactly one commit lands in the manifest repository (a bare repository
// in a temp dir) with the bumped image, authored as Bob, naming the approver and the request;
// Argo CD syncs that commit and its canary walks its steps to Healthy; the request ends SUCCEEDED.
// Along the way the Slack message is updated in place at every move, the thread gets one reply a
// move, in order, none repeated, and the history and the audit log record each move with its
// client.
//
// Argo CD's sync ends as soon as the Rollout is applied, with the canary at its first step (as
// real Argo CD does; the application is then Suspended while the canary pauses, Progressing while
// it moves): the request stays ROLLING_OUT, told each step, until the canary is done and the
// application healthy (issue #16).
func TestADeployFromSlackToTheEndOfItsCanary(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newSlackRig(t, st)
		n := deployComponents.Add(1)
		name, app, group := fmt.Sprintf("shop-%d", n), fmt.Sprintf("shop-flow-%d", n), fmt.Sprintf("shop-%d-owners", n)
		// Bob and Carol both own the component (through a team of theirs); Alice is an admin.
		_, bare := r.deployComponentOwned(t, name, group, "", "    argocd/app-name: "+app+"\n    portside.dev/slack-channel: C0FLOW\n",
			fmt.Sprintf("---\napiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: %s\nspec:\n  type: team\n  children: []\n  members: [bob, carol]\n", group))
		seed := strings.TrimSpace(runGit(t, bare, "rev-parse", "main"))
		// The application, at rest at the seed commit, its canary long done on pod hash h1.
		r.argo.Put(argocdtest.App(app, func(a *v1alpha1.Application) {
			a.Labels = map[string]string{"environment": "production"}
			a.Status.Sync.Revision = seed
			a.Status.Resources = []v1alpha1.ResourceStatus{{Group: "argoproj.io", Version: "v1alpha1", Kind: "Rollout", Namespace: app, Name: app}}
		}))
		r.argo.SetLive("argocd", app, "Rollout", app, flowRollout(app, 5, "Healthy", "", "h1", "h1"))

		// Bob asks in Slack.
		code, ack := r.slash(t, "/deploy", "U0BOB", name+" "+deployDigest+" to production the refund rounding fix", "FLOW1", nil)
		if code != http.StatusOK || ack.ResponseType != "ephemeral" || !strings.Contains(ack.Text, "Asking for "+name) {
			t.Fatalf("ack = %d %+v", code, ack)
		}
		if told := r.reply(t, "FLOW1", 1); told.ResponseType != "in_channel" || !strings.Contains(told.Text, "is REQUESTED") {
			t.Fatalf("the command answered %+v", told)
		}
		page, err := r.requests.List(operator(), deploys.Filter{Component: name}, 10, "")
		if err != nil || len(page.Requests) != 1 {
			t.Fatalf("requests %+v, %v", page, err)
		}
		q := page.Requests[0]
		if q.Requester != "bob" || q.Client != deploys.ClientSlack || q.Reason != "the refund rounding fix" || q.State != deploys.Requested {
			t.Fatalf("the request %+v", q)
		}
		// Posted to the component's channel, with the buttons.
		m := r.posted(t, "C0FLOW", 1)
		blocks := blockText(t, m)
		for _, want := range []string{fmt.Sprintf("Request %d is *REQUESTED*", q.ID), `"action_id":"deploy_approve"`, `"action_id":"deploy_reject"`,
			fmt.Sprintf("https://portside.example/deploys/%d", q.ID), "the refund rounding fix"} {
			if !strings.Contains(blocks, want) {
				t.Errorf("the message lacks %s: %s", want, blocks)
			}
		}
		recorded(t, st, q.ID, m.Timestamp)

		// Bob may not approve his own request: told so, only him.
		r.click(t, "U0BOB", slack.ActionApprove, q.ID, "FLOW2", nil)
		if got := r.reply(t, "FLOW2", 1); got.ResponseType != "ephemeral" || !strings.Contains(got.Text, "may not decide it") || !strings.Contains(got.Text, "four eyes") {
			t.Fatalf("bob's own approval answered %+v", got)
		}
		if now, _ := r.requests.Get(operator(), q.ID); now.State != deploys.Requested {
			t.Fatalf("after bob's click the request is %s", now.State)
		}
		// Carol, who owns it too, approves: the commit is pushed before she is answered.
		r.click(t, "U0CAROL", slack.ActionApprove, q.ID, "FLOW3", nil)
		if got := r.reply(t, "FLOW3", 1); !strings.Contains(got.Text, fmt.Sprintf("You approved deploy request %d", q.ID)) {
			t.Fatalf("carol's approval answered %+v", got)
		}
		q, err = r.requests.Get(operator(), q.ID)
		if err != nil || q.State != deploys.RollingOut || q.Approver != "carol" || q.CommitSHA == "" {
			t.Fatalf("after carol's approval: %+v, %v", q, err)
		}
		sha := q.CommitSHA
		// Exactly one commit, on top of the seed: the image bumped, authored as Bob, naming Carol
		// and the request.
		if got := strings.Fields(runGit(t, bare, "rev-list", seed+"..main")); len(got) != 1 || got[0] != sha {
			t.Fatalf("main has %v past the seed, want the request's commit %s alone", got, sha)
		}
		if who := strings.TrimSpace(runGit(t, bare, "log", "-1", "--format=%an <%ae>", sha)); who != "Bob <bob@acme.example>" {
			t.Errorf("the commit is authored by %s, want Bob <bob@acme.example>", who)
		}
		msg := runGit(t, bare, "log", "-1", "--format=%B", sha)
		for _, want := range []string{"Approved-by: carol", "Requested-by: bob", fmt.Sprintf("Deploy-Request-URL: %s/deploys/%d", r.portal.base, q.ID), "the refund rounding fix"} {
			if !strings.Contains(msg, want) {
				t.Errorf("the commit message lacks %q:\n%s", want, msg)
			}
		}
		if file := runGit(t, bare, "show", sha+":production/kustomization.yaml"); !strings.Contains(file, deployDigest) {
			t.Errorf("the commit's kustomization does not name %s:\n%s", deployDigest, file)
		}
		if diff := runGit(t, bare, "diff", "--name-only", seed, sha); strings.TrimSpace(diff) != "production/kustomization.yaml" {
			t.Errorf("the commit changes %q, want production/kustomization.yaml alone", diff)
		}

		// Argo CD syncs the commit; the sync ends once the Rollout is applied, its canary at its
		// first step.
		thread := func(n int) []string { return r.waitThread(t, m.Timestamp, n) }
		started := metav1.NewTime(r.argo.Tick())
		sync := v1alpha1.Operation{Sync: &v1alpha1.SyncOperation{Revision: sha}}
		r.argo.Update("argocd", app, func(a *v1alpha1.Application) {
			a.Status.Sync = v1alpha1.SyncStatus{Status: v1alpha1.SyncStatusCodeSynced, Revision: sha}
			a.Status.Health.Status = "Progressing"
			a.Status.OperationState = &v1alpha1.OperationState{Phase: common.OperationRunning, Message: "waiting for healthy state of argoproj.io/Rollout/" + app,
				StartedAt: started, Operation: sync, SyncResult: &v1alpha1.SyncOperationResult{Revision: sha}}
		})
		live := func(step int, phase, paused, stable, current string) {
			r.argo.SetLive("argocd", app, "Rollout", app, flowRollout(app, step, phase, paused, stable, current))
		}
		steps := []struct {
			step            int
			phase, paused   string
			stable, current string
			reply           string
		}{
			{1, "Paused", "CanaryPauseStep", "h1", "h2", "Rolling out: canary step 2 of 5, weight 25%, paused for 30s"},
			{3, "Paused", "CanaryPauseStep", "h1", "h2", "Rolling out: canary step 4 of 5, weight 50%, paused until promoted"},
			{5, "Healthy", "", "h2", "h2", "Rolling out: canary steps done, weight 100%"},
		}
		key := rollouts.Key{Instance: "prod", Namespace: "argocd", Name: app}
		for i, s := range steps {
			live(s.step, s.phase, s.paused, s.stable, s.current)
			state := "Suspended" // paused
			if s.paused == "" {
				state = "Progressing" // the canary is done; its pods not yet all healthy
			}
			r.argo.Update("argocd", app, func(a *v1alpha1.Application) {
				if i == 0 {
					argocdtest.Succeed(a, sha)
				}
				a.Status.Health.Status = health.HealthStatusCode(state)
			})
			testutil.Eventually(t, 10*time.Second, func() bool {
				d, _ := r.deploys.Tracker().Deployment(key)
				return d.Operation != nil && d.Operation.Phase == rollouts.OperationSucceeded && string(d.Health) == state
			}, "Portside never saw %s's sync succeeded and %s", app, state)
			// Each step is told before the canary moves on (2 + i: the commit's reply first).
			if got := thread(2 + i); got[1+i] != s.reply {
				t.Fatalf("reply %d is %q, want %q", 2+i, got[1+i], s.reply)
			}
		}
		if now, err := r.requests.Get(operator(), q.ID); err != nil || now.State != deploys.RollingOut {
			t.Fatalf("with the canary done and the application still Progressing, the request is %+v, %v", now, err)
		}
		// The application comes to rest, Healthy.
		r.argo.Update("argocd", app, func(a *v1alpha1.Application) { a.Status.Health.Status = "Healthy" })
		want := []string{
			fmt.Sprintf("Applied: commit %s pushed to %s (main). Rolling out…", sha[:12], bare),
			steps[0].reply, steps[1].reply, steps[2].reply,
			fmt.Sprintf("Request %d is *SUCCEEDED*: rolled out: successfully synced (all tasks run)", q.ID),
		}
		got := thread(len(want))
		for deadline := time.Now().Add(20 * time.Second); r.updatesOf(m.Timestamp, "*SUCCEEDED*") == 0; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the message was never updated to SUCCEEDED")
			}
		}
		if q, err = r.requests.Get(operator(), q.ID); err != nil || q.State != deploys.Succeeded || q.Outcome != "rolled out: successfully synced (all tasks run)" {
			t.Fatalf("at the end the request is %+v, %v", q, err)
		}
		got = r.thread(m.Timestamp) // nothing more came after the last reply
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("the thread:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if n := r.countIn("C0FLOW"); n != 1 {
			t.Errorf("%d messages in C0FLOW besides the thread, want 1", n)
		}

		// The message was updated in place at each move, in order, and lost its buttons.
		var states []string
		r.mu.Lock()
		for _, u := range r.updates {
			if u.Get("channel") != "C0FLOW" || u.Get("ts") != m.Timestamp {
				t.Errorf("an update of another message: %v", u)
				continue
			}
			if strings.Contains(u.Get("blocks"), slack.ActionApprove) {
				t.Errorf("an update still offers Approve: %s", u.Get("blocks"))
			}
			for _, s := range deploys.States {
				if strings.Contains(u.Get("blocks"), fmt.Sprintf("Request %d is *%s*", q.ID, s)) {
					states = append(states, string(s))
				}
			}
		}
		r.mu.Unlock()
		if got, want := strings.Join(states, " "), "APPROVED APPLYING ROLLING_OUT ROLLING_OUT ROLLING_OUT ROLLING_OUT SUCCEEDED"; got != want {
			t.Errorf("the message was updated to %s, want %s", got, want)
		}

		// The history: each move with who and through which client.
		ts, err := r.requests.Transitions(operator(), q.ID)
		if err != nil {
			t.Fatal(err)
		}
		var history []string
		for _, tr := range ts {
			history = append(history, fmt.Sprintf("%s %s %s->%s", tr.Actor, tr.Client, tr.From, tr.To))
		}
		wantHistory := []string{"bob SLACK ->REQUESTED", "carol SLACK REQUESTED->APPROVED", "portside SYSTEM APPROVED->APPLYING",
			"portside SYSTEM APPLYING->ROLLING_OUT", "portside SYSTEM ROLLING_OUT->ROLLING_OUT", "portside SYSTEM ROLLING_OUT->ROLLING_OUT",
			"portside SYSTEM ROLLING_OUT->ROLLING_OUT", "portside SYSTEM ROLLING_OUT->SUCCEEDED"}
		if strings.Join(history, "\n") != strings.Join(wantHistory, "\n") {
			t.Errorf("history:\n%s\nwant:\n%s", strings.Join(history, "\n"), strings.Join(wantHistory, "\n"))
		}
		// The audit log: Bob's request and Carol's approval through Slack, Bob's refused click,
		// and Portside's own moves.
		audited := func(action, resource, actor, client, outcome string) int {
			n := 0
			for _, rec := range r.auditRecords(t, action) {
				if rec.Resource == resource && rec.Actor == actor && rec.Client == client && string(rec.Outcome) == outcome {
					n++
				}
			}
			return n
		}
		request := fmt.Sprintf("deploy request %d", q.ID)
		for _, c := range []struct {
			action, resource, actor, client, outcome string
			n                                        int
		}{
			{"deploys.request.create", "component " + name, "bob", "slack", "ok", 1},
			{"deploys.request.approve", request, "bob", "slack", "denied", 1},
			{"deploys.request.approve", request, "carol", "slack", "ok", 1},
			{"deploys.request.applying", request, "portside", "auto", "ok", 1},
			{"deploys.request.rolling_out", request, "portside", "auto", "ok", 4},
			{"deploys.request.succeeded", request, "portside", "auto", "ok", 1},
		} {
			if got := audited(c.action, c.resource, c.actor, c.client, c.outcome); got != c.n {
				t.Errorf("%d audit records of %s of %s by %s through %s (%s), want %d: %+v", got, c.action, c.resource, c.actor, c.client, c.outcome, c.n, r.auditRecords(t, c.action))
			}
		}
	})
}

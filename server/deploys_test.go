package server_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	"github.com/argoproj/gitops-engine/pkg/sync/common"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/deploys"
	"github.com/portside-dev/portside/deploys/bridge"
	"github.com/portside-dev/portside/graph/model"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/pipelines/github/githubtest"
	"github.com/portside-dev/portside/rollouts"
	"github.com/portside-dev/portside/rollouts/argocd/argocdtest"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

const deployDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// deployComponents counts the components the tests made, for unique names.
var deployComponents atomic.Int64

// runGit runs git in dir and fails the test on an error.
func runGit(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=Tester", "GIT_AUTHOR_EMAIL=t@acme.example", "GIT_COMMITTER_NAME=Tester",
		"GIT_COMMITTER_EMAIL=t@acme.example", "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// deployComponent registers a component of bob's team (team-payments) whose production and
// staging overlays live in a new bare repository, and returns its name and the repository.
func (p *portal) deployComponent(t *testing.T) (string, string) {
	t.Helper()
	return p.deployComponentAnnotated(t, "")
}

// deployComponentAnnotated is deployComponent with more annotation lines (indented as they are).
func (p *portal) deployComponentAnnotated(t *testing.T, annotations string) (string, string) {
	t.Helper()
	return p.deployComponentTargeted(t, "", annotations)
}

// deployComponentTargeted is deployComponentAnnotated with more keys of the production target
// (", apply: pull-request, …").
func (p *portal) deployComponentTargeted(t *testing.T, production, annotations string) (string, string) {
	t.Helper()
	return p.deployComponentOwned(t, fmt.Sprintf("shop-%d", deployComponents.Add(1)), "team-payments", production, annotations, "")
}

// deployComponentOwned is deployComponentTargeted for the component name owned by owner, with more
// catalog documents (a Group, "---" first) in its file.
func (p *portal) deployComponentOwned(t *testing.T, name, owner, production, annotations, more string) (string, string) {
	t.Helper()
	root := t.TempDir()
	bare := filepath.Join(root, "manifests.git")
	runGit(t, root, "init", "--quiet", "--bare", "-b", "main", bare)
	work := filepath.Join(root, "seed")
	runGit(t, root, "clone", "--quiet", bare, work)
	runGit(t, work, "checkout", "--quiet", "-b", "main")
	for _, env := range []string{"production", "staging"} {
		if err := os.MkdirAll(filepath.Join(work, env), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(work, env, "kustomization.yaml"), []byte("images:\n  - name: ghcr.io/acme/shop\n    newTag: \"1\"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	runGit(t, work, "add", ".")
	runGit(t, work, "commit", "--quiet", "-m", "seed")
	runGit(t, work, "push", "--quiet", "origin", "main")
	doc := fmt.Sprintf(`apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: %s
  annotations:
    portside.dev/deploy: |
      production: {repo: %q, path: production/kustomization.yaml, image: ghcr.io/acme/shop%s}
      staging: {repo: %q, path: staging/kustomization.yaml, image: ghcr.io/acme/shop}
%sspec:
  type: service
  lifecycle: production
  owner: %s
%s`, name, bare, production, bare, annotations, owner, more)
	path := filepath.Join(t.TempDir(), "catalog-info.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := p.cat.RegisterLocation(operator(), catalog.LocationSpec{Type: catalog.LocationFile, Target: path}); err != nil {
		t.Fatal(err)
	}
	return name, bare
}

// deployRequest makes a production request of a new component of bob's team, as the operator,
// and returns its ID.
func (p *portal) deployRequest(t *testing.T) string {
	t.Helper()
	name, _ := p.deployComponent(t)
	q, err := p.requests.Request(operator(), deploys.RequestInput{Component: name, Environment: "production", Version: deployDigest})
	if err != nil {
		t.Fatal(err)
	}
	return model.EncodeNumericID("DeployRequest", q.ID)
}

// deployMutations are a sample of each deploy-request mutation on a fresh component of bob's
// team; the operator made the requests, so every owner may decide them.
func (p *portal) deployMutations() map[string]taskMutation {
	return map[string]taskMutation{
		"requestDeploy": {"deploys.request.create", func(t *testing.T) string {
			name, _ := p.deployComponent(t)
			return fmt.Sprintf(`mutation { requestDeploy(input: {component: %q, environment: "production", version: %q, reason: "fix"}) { request { id state } } }`, name, deployDigest)
		}},
		"approveDeployRequest": {"deploys.request.approve", func(t *testing.T) string {
			return fmt.Sprintf(`mutation { approveDeployRequest(input: {id: %q, note: "ok"}) { request { state commitSha } } }`, p.deployRequest(t))
		}},
		"rejectDeployRequest": {"deploys.request.reject", func(t *testing.T) string {
			return fmt.Sprintf(`mutation { rejectDeployRequest(input: {id: %q, note: "not now"}) { request { state } } }`, p.deployRequest(t))
		}},
		"cancelDeployRequest": {"deploys.request.cancel", func(t *testing.T) string {
			return fmt.Sprintf(`mutation { cancelDeployRequest(input: {id: %q}) { request { state } } }`, p.deployRequest(t))
		}},
	}
}

// A production target applied by pull request: alice's approval opens it on GitHub, and the request
// shows it (pullRequestUrl) while it waits, APPLYING, for the merge.
func TestADeployRequestAppliedByPullRequestShowsItThroughGraphQL(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := newPortal(t, st)
		bob, alice := p.session("bob"), p.session("alice")
		name, bare := p.deployComponentTargeted(t, ", apply: pull-request, provider: github, project: acme/shop", "")
		res := p.as(bob, fmt.Sprintf(`mutation { requestDeploy(input: {component: %q, environment: "production", version: %q}) { request { id pullRequestUrl } } }`, name, deployDigest))
		if len(res.Errors) > 0 {
			t.Fatalf("requestDeploy: %+v", res.Errors)
		}
		q := res.Data["requestDeploy"].(map[string]any)["request"].(map[string]any)
		if q["pullRequestUrl"] != nil {
			t.Fatalf("a request not yet approved has a pull request: %+v", q)
		}
		main := strings.TrimSpace(runGit(t, bare, "rev-parse", "main"))
		res = p.as(alice, fmt.Sprintf(`mutation { approveDeployRequest(input: {id: %q}) { request { number state waiting pullRequestUrl commitSha } } }`, q["id"]))
		if len(res.Errors) > 0 {
			t.Fatalf("approveDeployRequest: %+v", res.Errors)
		}
		got := res.Data["approveDeployRequest"].(map[string]any)["request"].(map[string]any)
		pulls := p.codeHost.Pulls("acme/shop")
		if len(pulls) != 1 || got["state"] != "APPLYING" || got["pullRequestUrl"] != pulls[0].HTMLURL || got["commitSha"] != nil ||
			got["waiting"] != "waiting for the pull request to merge: "+pulls[0].HTMLURL {
			t.Fatalf("approved %+v; pull requests %+v", got, pulls)
		}
		if pulls[0].Head.Ref != fmt.Sprintf("portside/deploy-%v", got["number"]) || !strings.Contains(pulls[0].Body, "Approved by: alice") {
			t.Errorf("the pull request: %+v", pulls[0])
		}
		if now := strings.TrimSpace(runGit(t, bare, "rev-parse", "main")); now != main {
			t.Errorf("main moved before the merge")
		}
	})
}

// Through GraphQL: bob asks, bob may not approve his own request, alice approves and the commit
// lands; the request, its transitions and the component's list say so.
func TestADeployRequestThroughGraphQL(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := newPortal(t, st)
		bob, alice, carol := p.session("bob"), p.session("alice"), p.session("carol")
		name, bare := p.deployComponent(t)
		// carol follows the component's requests live.
		sub, _, err := p.subscribe(t, carol, p.base, fmt.Sprintf(`subscription { deployRequestChanged(component: %q) { request { number state } transition { actor from to } } }`, name))
		if err != nil {
			t.Fatal(err)
		}
		testutil.Eventually(t, 10*time.Second, func() bool { return p.requests.Subscribers() >= 1 }, "the subscription was never registered")
		res := p.as(bob, fmt.Sprintf(`mutation { requestDeploy(input: {component: %q, environment: "production", version: %q, reason: "fix rounding"}) { request { id number state requester client expiresAt } } }`, name, deployDigest))
		if len(res.Errors) > 0 {
			t.Fatalf("requestDeploy: %+v", res.Errors)
		}
		q := res.Data["requestDeploy"].(map[string]any)["request"].(map[string]any)
		if q["state"] != "REQUESTED" || q["requester"] != "bob" || q["client"] != "PORTAL" || q["expiresAt"] == nil {
			t.Fatalf("requested %+v", q)
		}
		id := q["id"].(string)
		if res := p.as(bob, fmt.Sprintf(`mutation { approveDeployRequest(input: {id: %q}) { request { state } } }`, id)); res.code() != "FORBIDDEN" {
			t.Fatalf("bob approving his own request: %+v", res)
		}
		res = p.as(alice, fmt.Sprintf(`mutation { approveDeployRequest(input: {id: %q, note: "go"}) { request { state approver commitSha repo } } }`, id))
		if len(res.Errors) > 0 {
			t.Fatalf("approveDeployRequest: %+v", res.Errors)
		}
		got := res.Data["approveDeployRequest"].(map[string]any)["request"].(map[string]any)
		head := strings.TrimSpace(runGit(t, bare, "rev-parse", "main"))
		if got["state"] != "ROLLING_OUT" || got["approver"] != "alice" || got["commitSha"] != head {
			t.Fatalf("approved %+v; main is %s", got, head)
		}
		// Every move reached the subscriber, in order.
		for _, want := range []string{"bob ->REQUESTED", "alice REQUESTED->APPROVED", "portside APPROVED->APPLYING", "portside APPLYING->ROLLING_OUT"} {
			ev := nextData(t, sub)["deployRequestChanged"].(map[string]any)
			tr := ev["transition"].(map[string]any)
			from, _ := tr["from"].(string)
			if got := fmt.Sprintf("%s %s->%s", tr["actor"], from, tr["to"]); got != want {
				t.Fatalf("deployRequestChanged = %v, want %s", ev, want)
			}
		}
		res = p.as(carol, fmt.Sprintf(`{ node(id: %q) { ... on DeployRequest { transitions { actor client from to note } } }
			entity(ref: "component:default/%s") { ... on Component { deployRequests(filter: {states: [ROLLING_OUT]}) { totalCount nodes { id } } } } }`, id, name))
		if len(res.Errors) > 0 {
			t.Fatalf("reading: %+v", res.Errors)
		}
		ts := res.Data["node"].(map[string]any)["transitions"].([]any)
		if len(ts) != 4 || ts[0].(map[string]any)["from"] != nil || ts[1].(map[string]any)["actor"] != "alice" || ts[3].(map[string]any)["to"] != "ROLLING_OUT" {
			t.Fatalf("transitions %+v", ts)
		}
		list := res.Data["entity"].(map[string]any)["deployRequests"].(map[string]any)
		if list["totalCount"] != float64(1) || list["nodes"].([]any)[0].(map[string]any)["id"] != id {
			t.Fatalf("the component's requests: %+v", list)
		}
		mine := p.as(bob, `{ deployRequests(filter: {mine: true}) { totalCount } waiting: deployRequests(filter: {awaitingMyApproval: true}) { totalCount } }`)
		if len(mine.Errors) > 0 || mine.Data["deployRequests"].(map[string]any)["totalCount"] != float64(1) {
			t.Fatalf("bob's requests: %+v", mine)
		}
	})
}

// Inputs are bounded: an overlong reason, a page too large, too many states.
func TestDeployRequestInputsAreBounded(t *testing.T) {
	st := storetest.SQLite(t)
	p := newPortal(t, st)
	bob := p.session("bob")
	name, _ := p.deployComponent(t)
	for query, field := range map[string]string{
		fmt.Sprintf(`mutation { requestDeploy(input: {component: %q, environment: "production", version: %q, reason: %q}) { request { id } } }`,
			name, deployDigest, strings.Repeat("x", deploys.MaxReason+1)): "reason",
		fmt.Sprintf(`mutation { requestDeploy(input: {component: %q, environment: "production", version: "latest"}) { request { id } } }`, name): "version",
		`{ deployRequests(first: 101) { totalCount } }`:                                                    "first",
		`{ deployRequests(filter: {states: [` + strings.Repeat("REQUESTED,", 201) + `]}) { totalCount } }`: "states",
	} {
		res := p.as(bob, query)
		if res.Status != http.StatusOK || res.code() != "INVALID" || !strings.Contains(res.Errors[0].Message, field) {
			t.Errorf("%.80s…: %d %+v, want INVALID naming %s", query, res.Status, res.Errors, field)
		}
	}
}

// A request follows Argo CD's rollout of its commit to the end (issue #16): a failed sync fails
// it; a succeeded sync does not close it while payments-api's canary is still paused at its first
// step (Argo CD ends the sync once the Rollout is applied), and once the canary walks its last
// steps and is done, the application healthy and synced at the commit, it is SUCCEEDED.
func TestArgoCDsRolloutOfTheCommitClosesTheRequest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := newPortal(t, st)
		alice := p.session("alice")
		for _, c := range []struct {
			phase   common.OperationPhase
			state   deploys.State
			outcome string
		}{
			{common.OperationSucceeded, deploys.Succeeded, "rolled out: successfully synced"},
			{common.OperationFailed, deploys.Failed, "rollout failed: one or more objects failed to apply"},
		} {
			p.canaryAt(false) // paused at its first step, as the previous case may have left it done
			id := p.deployRequest(t)
			res := p.as(alice, fmt.Sprintf(`mutation { approveDeployRequest(input: {id: %q}) { request { number state commitSha } } }`, id))
			if len(res.Errors) > 0 {
				t.Fatalf("approve: %+v", res.Errors)
			}
			q := res.Data["approveDeployRequest"].(map[string]any)["request"].(map[string]any)
			sha, _ := q["commitSha"].(string)
			if q["state"] != "ROLLING_OUT" || sha == "" {
				t.Fatalf("approved %+v", q)
			}
			started := metav1.NewTime(p.argo.Tick())
			p.argo.Update("argocd", "payments-api", func(a *v1alpha1.Application) {
				a.Status.OperationState = &v1alpha1.OperationState{Phase: common.OperationRunning, Message: "waiting for completion", StartedAt: started,
					Operation: v1alpha1.Operation{Sync: &v1alpha1.SyncOperation{Revision: sha}}, SyncResult: &v1alpha1.SyncOperationResult{Revision: sha}}
			})
			finished := metav1.NewTime(p.argo.Tick())
			message := map[common.OperationPhase]string{common.OperationSucceeded: "successfully synced", common.OperationFailed: "one or more objects failed to apply"}[c.phase]
			p.argo.Update("argocd", "payments-api", func(a *v1alpha1.Application) {
				a.Status.OperationState = &v1alpha1.OperationState{Phase: c.phase, Message: message, StartedAt: started, FinishedAt: &finished,
					Operation: v1alpha1.Operation{Sync: &v1alpha1.SyncOperation{Revision: sha}}, SyncResult: &v1alpha1.SyncOperationResult{Revision: sha}}
				if c.phase == common.OperationSucceeded {
					a.Status.Sync = v1alpha1.SyncStatus{Status: v1alpha1.SyncStatusCodeSynced, Revision: sha}
				}
			})
			n := int64(q["number"].(float64))
			if c.phase == common.OperationSucceeded {
				// The sync succeeded with the canary paused at its first step: the request rolls on.
				testutil.Eventually(t, 10*time.Second, func() bool {
					ro, ok, err := p.deploys.RolloutOfRevision(context.Background(), sha)
					return err == nil && ok && ro.Result == rollouts.ResultSucceeded
				}, "the rollout of %s was never recorded as synced", sha)
				ev, found, err := bridge.RolloutEvents{Rollouts: p.deploys}.RolloutOf(context.Background(), sha)
				if err != nil || !found || ev.Result != deploys.RolloutRunning {
					t.Fatalf("the synced rollout with its canary paused is %+v (%v, %v), want RUNNING", ev, found, err)
				}
				p.requests.Observe(context.Background(), ev) // what following the rollouts hears of it
				if now, err := p.requests.Get(operator(), n); err != nil || now.State != deploys.RollingOut {
					t.Fatalf("synced with the canary paused, the request is %+v, %v; want ROLLING_OUT", now, err)
				}
				// Promoted: the canary walks to its last step, then is done.
				p.argo.SetLive("argocd", "payments-api", "Rollout", "payments-api", `{"spec": {"strategy": {"canary": {"steps": [{"setWeight": 5}, {"pause": {}}, {"setWeight": 100}]}}},
					"status": {"currentStepIndex": 2, "phase": "Progressing", "stableRS": "h1", "currentPodHash": "h2", "replicas": 20, "updatedReplicas": 20}}`)
				testutil.Eventually(t, 10*time.Second, func() bool {
					return strings.Contains(requestHistory(t, p, n), "canary step 3 of 3, weight 100%")
				}, func() string { return "the canary's last step was never told:\n" + requestHistory(t, p, n) })
				if now, err := p.requests.Get(operator(), n); err != nil || now.State != deploys.RollingOut {
					t.Fatalf("at the canary's last step the request is %+v, %v; want ROLLING_OUT", now, err)
				}
				p.argo.SetLive("argocd", "payments-api", "Rollout", "payments-api", `{"spec": {"strategy": {"canary": {"steps": [{"setWeight": 5}, {"pause": {}}, {"setWeight": 100}]}}},
					"status": {"currentStepIndex": 3, "phase": "Healthy", "stableRS": "h2", "currentPodHash": "h2", "replicas": 20, "updatedReplicas": 20}}`)
			}
			testutil.Eventually(t, 10*time.Second, func() bool {
				now, err := p.requests.Get(operator(), n)
				return err == nil && now.State == c.state && now.Outcome == c.outcome
			}, func() string {
				now, err := p.requests.Get(operator(), n)
				return fmt.Sprintf("request %d is %+v, %v", n, now, err)
			})
			if h := requestHistory(t, p, n); c.phase == common.OperationSucceeded && !strings.HasSuffix(h, "canary step 3 of 3, weight 100%\nportside SYSTEM ROLLING_OUT->SUCCEEDED: rolled out: successfully synced") {
				t.Errorf("history:\n%s", h)
			}
		}
	})
}

// A canary aborted after its sync succeeded rolls the request back (issue #16): the sync ended
// with payments-api's canary paused at its first step, the request rolled on, and the abort (the
// stable version runs again) closes it ROLLED_BACK, not SUCCEEDED.
func TestACanaryAbortedAfterItsSyncSucceededRollsTheRequestBack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := newPortal(t, st)
		p.canaryAt(false)
		q, err := p.requests.Request(operator(), deploys.RequestInput{Component: func() string { n, _ := p.deployComponent(t); return n }(), Environment: "staging", Version: deployDigest})
		if err != nil || q.State != deploys.RollingOut || q.CommitSHA == "" {
			t.Fatalf("%+v, %v", q, err)
		}
		sha := q.CommitSHA
		started := metav1.NewTime(p.argo.Tick())
		p.argo.Update("argocd", "payments-api", func(a *v1alpha1.Application) {
			a.Status.OperationState = &v1alpha1.OperationState{Phase: common.OperationRunning, StartedAt: started,
				Operation: v1alpha1.Operation{Sync: &v1alpha1.SyncOperation{Revision: sha}}, SyncResult: &v1alpha1.SyncOperationResult{Revision: sha}}
		})
		p.argo.Update("argocd", "payments-api", func(a *v1alpha1.Application) {
			argocdtest.Succeed(a, sha)
			a.Status.Health.Status = "Suspended"
		})
		testutil.Eventually(t, 10*time.Second, func() bool {
			ro, ok, err := p.deploys.RolloutOfRevision(context.Background(), sha)
			return err == nil && ok && ro.Result == rollouts.ResultSucceeded
		}, "the rollout of %s was never recorded as synced", sha)
		ev, _, err := bridge.RolloutEvents{Rollouts: p.deploys}.RolloutOf(context.Background(), sha)
		if err != nil || ev.Result != deploys.RolloutRunning {
			t.Fatalf("the synced rollout with its canary paused is %+v, %v; want RUNNING", ev, err)
		}
		p.requests.Observe(context.Background(), ev)
		if now, err := p.requests.Get(operator(), q.ID); err != nil || now.State != deploys.RollingOut {
			t.Fatalf("synced with the canary paused, the request is %+v, %v; want ROLLING_OUT", now, err)
		}
		p.canaryAt(true)
		testutil.Eventually(t, 10*time.Second, func() bool {
			now, err := p.requests.Get(operator(), q.ID)
			return err == nil && now.State == deploys.RolledBack && now.Outcome == "rolled back: the canary was aborted"
		}, func() string { return requestHistory(t, p, q.ID) })
	})
}

// requestHistory is a request's transitions as "actor CLIENT FROM->TO: note" lines.
func requestHistory(t *testing.T, p *portal, id int64) string {
	t.Helper()
	ts, err := p.requests.Transitions(operator(), id)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, x := range ts {
		lines = append(lines, fmt.Sprintf("%s %s %s->%s: %s", x.Actor, x.Client, x.From, x.To, x.Note))
	}
	return strings.Join(lines, "\n")
}

// What the portal offers: each viewer's viewerCan* are what the mutations would let them do, the
// component's environments come from its annotation, and "awaiting my approval" is what the
// caller could approve.
func TestTheViewerIsOfferedWhatTheDeployRulesAllow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := newPortal(t, st)
		bob, alice, carol := p.session("bob"), p.session("alice"), p.session("carol")
		name, _ := p.deployComponent(t)
		res := p.as(bob, fmt.Sprintf(`mutation { requestDeploy(input: {component: %q, environment: "production", version: %q}) { request { id viewerCanApprove viewerCanReject viewerCanCancel } } }`, name, deployDigest))
		if len(res.Errors) > 0 {
			t.Fatalf("requestDeploy: %+v", res.Errors)
		}
		q := res.Data["requestDeploy"].(map[string]any)["request"].(map[string]any)
		if q["viewerCanApprove"] != false || q["viewerCanReject"] != false || q["viewerCanCancel"] != true {
			t.Fatalf("the requester is offered %+v; want cancel only (four eyes)", q)
		}
		id := q["id"].(string)
		read := fmt.Sprintf(`{ deployRequest(id: %q) { viewerCanApprove viewerCanReject viewerCanCancel }
			entity(ref: "component:default/%s") { ... on Component { deployEnvironments { name requiresApproval } } }
			deployRequests(filter: {awaitingMyApproval: true}) { totalCount } }`, id, name)
		for _, c := range []struct {
			who, want string
			as        signedIn
		}{
			{"alice, an admin", "map[viewerCanApprove:true viewerCanCancel:true viewerCanReject:true] awaiting 1", alice},
			{"carol, a viewer", "map[viewerCanApprove:false viewerCanCancel:false viewerCanReject:false] awaiting 0", carol},
		} {
			res := p.as(c.as, read)
			if len(res.Errors) > 0 {
				t.Fatalf("%s reading: %+v", c.who, res.Errors)
			}
			got := fmt.Sprintf("%v awaiting %v", res.Data["deployRequest"], res.Data["deployRequests"].(map[string]any)["totalCount"])
			if got != c.want {
				t.Errorf("%s: %s, want %s", c.who, got, c.want)
			}
			envs := fmt.Sprint(res.Data["entity"].(map[string]any)["deployEnvironments"])
			if envs != "[map[name:production requiresApproval:true] map[name:staging requiresApproval:false]]" {
				t.Errorf("%s reads the environments %s", c.who, envs)
			}
		}
		// Once approved, nobody is offered a decision or a cancel.
		res = p.as(alice, fmt.Sprintf(`mutation { approveDeployRequest(input: {id: %q}) { request { state viewerCanApprove viewerCanReject viewerCanCancel } } }`, id))
		if got := fmt.Sprint(res.Data["approveDeployRequest"]); got != "map[request:map[state:ROLLING_OUT viewerCanApprove:false viewerCanCancel:false viewerCanReject:false]]" || len(res.Errors) > 0 {
			t.Fatalf("approved: %s %+v", got, res.Errors)
		}
	})
}

// A request whose commit Argo CD reconciles without a rollout of it closes too: the scripted Argo
// CD (over real gRPC, through the connector) moves the application's sync revision to the request's
// commit (a commit that changes nothing the application renders) or to a later commit that
// contains it (Argo CD synced the later one), Synced and Healthy, with no sync naming the commit.
func TestArgoCDReachingTheCommitWithoutARolloutClosesTheRequest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := newPortal(t, st)
		alice := p.session("alice")
		for _, past := range []bool{false, true} {
			app := fmt.Sprintf("shop-app-%d", deployComponents.Load()+1)
			name, bare := p.deployComponentAnnotated(t, "    argocd/app-name: "+app+"\n")
			seed := strings.TrimSpace(runGit(t, bare, "rev-parse", "main"))
			p.argo.Put(argocdtest.App(app, func(a *v1alpha1.Application) {
				a.Labels = map[string]string{"environment": "production"}
				a.Status.Sync.Revision = seed
			}))
			q, err := p.requests.Request(operator(), deploys.RequestInput{Component: name, Environment: "production", Version: deployDigest})
			if err != nil {
				t.Fatal(err)
			}
			res := p.as(alice, fmt.Sprintf(`mutation { approveDeployRequest(input: {id: %q}) { request { state commitSha } } }`,
				model.EncodeNumericID("DeployRequest", q.ID)))
			if len(res.Errors) > 0 {
				t.Fatalf("approve: %+v", res.Errors)
			}
			sha, _ := res.Data["approveDeployRequest"].(map[string]any)["request"].(map[string]any)["commitSha"].(string)
			revision, how := sha, app+" on Argo CD prod is synced at this commit"
			if past {
				// Someone's commit lands on top before Argo CD looks: it syncs that one.
				work := filepath.Join(t.TempDir(), "w")
				runGit(t, filepath.Dir(work), "clone", "--quiet", bare, work)
				if err := os.WriteFile(filepath.Join(work, "README"), []byte("later\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				runGit(t, work, "add", "README")
				runGit(t, work, "commit", "--quiet", "-m", "later")
				runGit(t, work, "push", "--quiet", "origin", "HEAD:main")
				revision = strings.TrimSpace(runGit(t, work, "rev-parse", "HEAD"))
				how = app + " on Argo CD prod is synced at " + revision[:12] + ", which contains this commit"
			}
			// Out of sync first (Argo CD noticed the commit), then at rest there with no sync.
			p.argo.Update("argocd", app, func(a *v1alpha1.Application) {
				a.Status.Sync.Revision, a.Status.Sync.Status = revision, v1alpha1.SyncStatusCodeOutOfSync
			})
			p.argo.Update("argocd", app, func(a *v1alpha1.Application) { a.Status.Sync.Status = v1alpha1.SyncStatusCodeSynced })
			want := "rolled out without a sync of its own (Argo CD found nothing to change, or synced a later commit): " + how + ", and healthy"
			testutil.Eventually(t, 10*time.Second, func() bool {
				now, err := p.requests.Get(operator(), q.ID)
				return err == nil && now.State == deploys.Succeeded && now.Outcome == want
			}, func() string {
				now, err := p.requests.Get(operator(), q.ID)
				return fmt.Sprintf("request %d is %+v, %v; want SUCCEEDED: %s", q.ID, now, err, want)
			})
		}
	})
}

// deliverPullRequestEvent POSTs a code host's pull request event about branch of acme/shop to its
// webhook, signed (GitHub) or with the secret token (GitLab) unless forged, and returns the status.
func (p *portal) deliverPullRequestEvent(t *testing.T, provider, branch string, merged, forged bool) int {
	t.Helper()
	var req *http.Request
	switch provider {
	case "github":
		body := fmt.Sprintf(`{"action":"closed","number":1,"pull_request":{"merged":%t,"head":{"ref":%q}},"repository":{"full_name":"acme/shop"}}`, merged, branch)
		req, _ = http.NewRequest("POST", p.base+"/webhooks/github", strings.NewReader(body))
		req.Header.Set("X-GitHub-Event", "pull_request")
		req.Header.Set("X-GitHub-Delivery", "d-"+branch)
		secret := webhookSecret
		if forged {
			secret = "guessed"
		}
		req.Header.Set("X-Hub-Signature-256", githubtest.Sign([]byte(secret), []byte(body)))
	default:
		action := map[bool]string{true: "merge", false: "close"}[merged]
		body := fmt.Sprintf(`{"object_kind":"merge_request","project":{"path_with_namespace":"acme/shop"},"object_attributes":{"action":%q,"source_branch":%q}}`, action, branch)
		req, _ = http.NewRequest("POST", p.base+"/webhooks/gitlab", strings.NewReader(body))
		req.Header.Set("X-Gitlab-Event", "Merge Request Hook")
		req.Header.Set("X-Gitlab-Event-UUID", "e-"+branch)
		token := gitlabWebhookSecret
		if forged {
			token = "guessed"
		}
		req.Header.Set("X-Gitlab-Token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// The code host's webhook moves a request applied by pull request as soon as the pull request is
// merged (ROLLING_OUT on the merge commit) or closed (FAILED), on GitHub and on GitLab, without
// waiting for the background pass: the request has moved when the delivery is answered. A forged
// delivery moves nothing.
func TestAPullRequestsWebhookMovesTheRequestAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := newPortal(t, st)
		alice := p.session("alice")
		for _, provider := range []string{"github", "gitlab"} {
			for _, merged := range []bool{true, false} {
				name, bare := p.deployComponentTargeted(t, ", apply: pull-request, provider: "+provider+", project: acme/shop", "")
				q, err := p.requests.Request(operator(), deploys.RequestInput{Component: name, Environment: "production", Version: deployDigest})
				if err != nil {
					t.Fatal(err)
				}
				res := p.as(alice, fmt.Sprintf(`mutation { approveDeployRequest(input: {id: %q}) { request { state pullRequestUrl } } }`, model.EncodeNumericID("DeployRequest", q.ID)))
				if len(res.Errors) > 0 {
					t.Fatalf("approve: %+v", res.Errors)
				}
				if got := res.Data["approveDeployRequest"].(map[string]any)["request"].(map[string]any); got["state"] != "APPLYING" || got["pullRequestUrl"] == nil {
					t.Fatalf("%s: approved %+v", provider, got)
				}
				branch := deploys.BranchOf(q.ID)
				// The host merges (the branch's commit lands on main) or closes it.
				sha := strings.TrimSpace(runGit(t, bare, "rev-parse", "refs/heads/"+branch))
				switch {
				case provider == "github" && merged:
					runGit(t, bare, "update-ref", "refs/heads/main", sha)
					p.codeHost.MergePull("acme/shop", len(p.codeHost.Pulls("acme/shop")), sha)
				case provider == "github":
					p.codeHost.ClosePull("acme/shop", len(p.codeHost.Pulls("acme/shop")))
				case merged:
					runGit(t, bare, "update-ref", "refs/heads/main", sha)
					p.codeLab.Merge("acme/shop", int64(len(p.codeLab.MergeRequests("acme/shop"))), sha)
				default:
					p.codeLab.Close("acme/shop", int64(len(p.codeLab.MergeRequests("acme/shop"))))
				}
				if code := p.deliverPullRequestEvent(t, provider, branch, merged, true); code != http.StatusUnauthorized {
					t.Fatalf("%s: a forged delivery = %d, want 401", provider, code)
				}
				if now, _ := p.requests.Get(operator(), q.ID); now.State != deploys.Applying {
					t.Fatalf("%s: a forged delivery moved the request: %+v", provider, now)
				}
				if code := p.deliverPullRequestEvent(t, provider, branch, merged, false); code != http.StatusNoContent {
					t.Fatalf("%s: the delivery = %d, want 204", provider, code)
				}
				now, err := p.requests.Get(operator(), q.ID)
				if merged && (err != nil || now.State != deploys.RollingOut || now.CommitSHA != sha) {
					t.Fatalf("%s: after the merge's delivery the request is %+v, %v; the merge commit is %s", provider, now, err, sha)
				}
				if !merged && (err != nil || now.State != deploys.Failed || !strings.Contains(now.Outcome, "closed without being merged")) {
					t.Fatalf("%s: after the close's delivery the request is %+v, %v", provider, now, err)
				}
			}
		}
		// A delivery about a branch that is no request's, or a request of another project, is
		// acknowledged and changes nothing.
		if code := p.deliverPullRequestEvent(t, "github", "feature/x", true, false); code != http.StatusNoContent {
			t.Errorf("a delivery about another branch = %d, want 204", code)
		}
	})
}

// A request's commit is pushed, and Argo CD is told at once: a hard refresh of the applications
// of the component's environment (its cache of the branch's head skipped), audited as Portside's
// own action with the request as its cause, rather than a wait for Argo CD's next poll.
func TestAPushedRequestAsksArgoCDToRefreshAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := newPortal(t, st)
		alice := p.session("alice")
		app := fmt.Sprintf("shop-app-%d", deployComponents.Load()+1)
		name, _ := p.deployComponentAnnotated(t, "    argocd/app-name: "+app+"\n")
		p.argo.Put(argocdtest.App(app, func(a *v1alpha1.Application) { a.Labels = map[string]string{"environment": "production"} }))
		testutil.Eventually(t, 10*time.Second, func() bool {
			res := p.as(alice, fmt.Sprintf(`{ entity(ref: "component:%s") { ... on Component { deployments { application } } } }`, name))
			ds, _ := res.Data["entity"].(map[string]any)["deployments"].([]any)
			return len(ds) == 1
		}, "Portside never saw the application %s", app)
		r, err := p.requests.Request(operator(), deploys.RequestInput{Component: name, Environment: "production", Version: deployDigest})
		if err != nil {
			t.Fatal(err)
		}
		id := model.EncodeNumericID("DeployRequest", r.ID)
		before := len(p.argo.Calls())
		res := p.as(alice, fmt.Sprintf(`mutation { approveDeployRequest(input: {id: %q}) { request { number state } } }`, id))
		if len(res.Errors) > 0 {
			t.Fatalf("approve: %+v", res.Errors)
		}
		q := res.Data["approveDeployRequest"].(map[string]any)["request"].(map[string]any)
		if q["state"] != "ROLLING_OUT" {
			t.Fatalf("approved %+v", q)
		}
		var refreshes []argocdtest.Call
		for _, c := range p.argo.Calls()[before:] {
			if c.Method == "Refresh" {
				refreshes = append(refreshes, c)
			}
		}
		if len(refreshes) != 1 || refreshes[0].App != "argocd/"+app || refreshes[0].Refresh != "hard" {
			t.Fatalf("Argo CD was asked for %+v, want one hard refresh of argocd/%s", refreshes, app)
		}
		n := int64(q["number"].(float64))
		found := false
		for _, r := range p.auditRecords(t, "rollouts.deployment.refresh") {
			if r.Actor == "portside" && r.Outcome == audit.OK && strings.Contains(string(r.Arguments), fmt.Sprintf(`"cause":"deploy request %d pushed commit `, n)) {
				found = true
			}
		}
		if !found {
			t.Errorf("no audit record of Portside's refresh for request %d: %+v", n, p.auditRecords(t, "rollouts.deployment.refresh"))
		}
	})
}

//go:build argocdrig

// A deploy request end to end on the Argo CD rig: two owners drive it through GraphQL on a real
// portside serve, Portside commits the image bump to the rig's git repository, the rig's real Argo
// CD auto-syncs that commit into its real kube-apiserver, and Portside closes the request from the
// rollout it follows. Nothing here syncs, refreshes or pushes for Portside: the test only sets the
// scene (the chart, the Application) and then looks.
package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apiclient/application"
	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	synccommon "github.com/argoproj/gitops-engine/pkg/sync/common"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portside-dev/portside/internal/testutil"
)

const (
	shopApp       = "shop-rig"                       // the Application
	shopChart     = "shop"                           // the chart's directory in the rig's repository
	shopValues    = "shop/values-production.yaml"    // the file production's deploy requests bump
	shopImage     = "registry.rig.invalid/shop"      // kwok never pulls it
	shopWorkload  = "shop-web"                       // the Deployment the chart renders
	shopComponent = "component:default/shop-web"     // the catalog component
	shopRepoRel   = "data/git/demo.git"              // the rig's bare repository, under its home
	shopRigRepo   = "git://127.0.0.1:19418/demo.git" // as Argo CD reads it
	deployFlowMax = 8 * time.Minute                  // the whole flow: without the refresh Argo CD noticed a commit in 3.5 min
)

// shopValuesFile is production's values as the scene starts: a tag, no digest. Portside's bump
// sets image.digest (the annotation's digestKey), which the template prefers over the tag.
const shopValuesFile = `# The shop's production values. Portside's deploy requests set image.digest.
image:
  repository: ` + shopImage + `
  tag: "1.0.0"
replicas: 2
`

// The chart: one Deployment whose Pods kwok makes Ready within 200 ms each stage.
const shopChartYAML = `apiVersion: v2
name: shop
version: 0.1.0
`

const shopTemplate = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ` + shopWorkload + `
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels: {app: ` + shopWorkload + `}
  template:
    metadata:
      labels: {app: ` + shopWorkload + `}
      annotations:
        pod-create.stage.kwok.x-k8s.io/jitter-delay: 200ms
        pod-ready.stage.kwok.x-k8s.io/jitter-delay: 200ms
    spec:
      containers:
      - name: web
        image: {{ with .Values.image }}{{ .repository }}{{ if .digest }}@{{ .digest }}{{ else }}:{{ .tag }}{{ end }}{{ end }}
`

// workGit runs git in the rig's work clone (the one the rig tests push through).
func (r rig) workGit(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=e2e", "-c", "user.email=e2e@localhost"}, args...)...)
	cmd.Dir = filepath.Join(r.home, "data", "work")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// remoteGit runs git on the rig's bare repository: the remote Portside pushes to and Argo CD reads.
func (r rig) remoteGit(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"--git-dir", filepath.Join(r.home, shopRepoRel)}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("git %v on the rig's repository: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// catchUp brings the work clone to the remote's main: Portside pushes there without it.
func (r rig) catchUp(t *testing.T) {
	t.Helper()
	r.workGit(t, "fetch", "-q", "origin")
	r.workGit(t, "reset", "-q", "--hard", "origin/main")
}

// pushShopChart writes the chart and production's values into the rig's repository, commits and
// pushes; it returns the new revision (an empty commit when a run before left the same files).
func (r rig) pushShopChart(t *testing.T) string {
	t.Helper()
	r.catchUp(t)
	work := filepath.Join(r.home, "data", "work")
	writeFile(t, filepath.Join(work, shopChart, "Chart.yaml"), shopChartYAML)
	writeFile(t, filepath.Join(work, shopChart, "templates", "deployment.yaml"), shopTemplate)
	writeFile(t, filepath.Join(work, shopValues), shopValuesFile)
	r.workGit(t, "add", "-A", shopChart)
	r.workGit(t, "commit", "-q", "--allow-empty", "-m", "shop: chart, production at 1.0.0")
	r.workGit(t, "push", "-q", "origin", "HEAD:main")
	return r.workGit(t, "rev-parse", "HEAD")
}

// ensureShopApp creates (or resets) the shop's Application: the chart with production's values,
// synced by Argo CD itself whenever main moves (automated sync), labelled with its environment.
func (r rig) ensureShopApp(t *testing.T, apps application.ApplicationServiceClient) {
	t.Helper()
	upsert := true
	app := &v1alpha1.Application{
		ObjectMeta: metav1.ObjectMeta{Name: shopApp, Namespace: "argocd", Labels: map[string]string{"environment": "production"}},
		Spec: v1alpha1.ApplicationSpec{Project: "default",
			Source: &v1alpha1.ApplicationSource{RepoURL: shopRigRepo, Path: shopChart, TargetRevision: "main",
				Helm: &v1alpha1.ApplicationSourceHelm{ValueFiles: []string{"values-production.yaml"}}},
			Destination: v1alpha1.ApplicationDestination{Server: "https://kubernetes.default.svc", Namespace: "default"},
			SyncPolicy:  &v1alpha1.SyncPolicy{Automated: &v1alpha1.SyncPolicyAutomated{}}}}
	if _, err := apps.Create(context.Background(), &application.ApplicationCreateRequest{Application: app, Upsert: &upsert}); err != nil {
		t.Fatalf("create application %s: %v", shopApp, err)
	}
}

// shopAt reports whether the Application is synced at rev, healthy and not syncing (and, with
// synced, whether its last sync operation was a successful one of rev), and says where it stands.
func shopAt(t *testing.T, apps application.ApplicationServiceClient, rev string, synced bool) (bool, string) {
	t.Helper()
	name := shopApp
	a, err := apps.Get(context.Background(), &application.ApplicationQuery{Name: &name})
	if err != nil {
		return false, err.Error() // a moment's outage of the API is not the answer
	}
	op := a.Status.OperationState
	state := fmt.Sprintf("sync %s at %s, health %s", a.Status.Sync.Status, a.Status.Sync.Revision, a.Status.Health.Status)
	if op != nil {
		state += fmt.Sprintf(", last operation %s (%s)", op.Phase, op.Message)
	}
	ok := a.Status.Sync.Status == v1alpha1.SyncStatusCodeSynced && a.Status.Sync.Revision == rev &&
		a.Status.Health.Status == "Healthy" && (op == nil || op.Phase.Completed())
	if synced {
		ok = ok && op != nil && op.Phase == synccommon.OperationSucceeded && op.SyncResult != nil && op.SyncResult.Revision == rev
	}
	return ok, state
}

// await waits until cond holds, failing the test after bound with what was awaited and the last
// state cond described.
func await(t *testing.T, bound time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	var last string
	testutil.Eventually(t, bound, func() bool {
		var ok bool
		ok, last = cond()
		return ok
	}, func() string { return what + "; last seen: " + last })
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// gqlError is one error of a GraphQL answer.
type gqlError struct {
	Message    string
	Extensions map[string]any
}

// graphqlAs posts a query with a token and returns its data and errors: for asserting refusals.
func (s *portsideServer) graphqlAs(t *testing.T, token string, out any, query string, vars map[string]any) []gqlError {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequest(http.MethodPost, "http://"+s.addr+"/graphql", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /graphql: %v", err)
	}
	defer resp.Body.Close()
	var r struct {
		Data   json.RawMessage
		Errors []gqlError
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("POST /graphql (%d): %v", resp.StatusCode, err)
	}
	if len(r.Data) > 0 && string(r.Data) != "null" && out != nil {
		if err := json.Unmarshal(r.Data, out); err != nil {
			t.Fatalf("decode data %s: %v", r.Data, err)
		}
	}
	return r.Errors
}

// mustGraphQLAs is graphqlAs for a query that must succeed.
func (s *portsideServer) mustGraphQLAs(t *testing.T, token string, out any, query string, vars map[string]any) {
	t.Helper()
	if errs := s.graphqlAs(t, token, out, query, vars); len(errs) > 0 {
		t.Fatalf("GraphQL errors %+v\nquery: %s", errs, query)
	}
}

// deployEvent is one event of deployRequestChanged.
type deployEvent struct {
	Request struct {
		ID, State string
		CommitSha *string
	}
	Transition struct {
		Actor, Client, To, Note string
		From                    *string
	}
}

// prepend is events with first delivered before the rest.
func prepend(first map[string]any, events <-chan map[string]any) <-chan map[string]any {
	out := make(chan map[string]any, 1024)
	out <- first
	go func() {
		defer close(out)
		for e := range events {
			out <- e
		}
	}()
	return out
}

type deployReq struct {
	ID, State, Requester, Component, Environment, Version string
	Number                                                int
	Approver, CommitSha, Repo, Outcome                    *string
	Transitions                                           []struct {
		Actor, Client, To, Note string
		From                    *string
		At                      time.Time
	}
}

const deployReqFields = `id number state requester component environment version approver commitSha repo outcome
	transitions { actor client from to note at }`

// userToken makes an API token for a catalog user who is not an admin.
func userToken(t *testing.T, env []string, db, user string) string {
	t.Helper()
	out := mustRun(t, env, portsideBin, "token", "create", "--database", db, "--user", user)
	lines := strings.Split(strings.TrimSpace(out.stdout), "\n")
	return lines[len(lines)-1]
}

// randomDigest is a digest no run before used, so that every run's bump changes the file.
func randomDigest(t *testing.T) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func TestADeployRequestIsCommittedAndReconciledByArgoCD(t *testing.T) {
	r := openRig(t)
	apps := r.apps(t)
	kc := r.kube(t)
	// Leave the work clone at the remote's main whatever happens: the other rig tests push
	// through it, and Portside's commit is not in it.
	t.Cleanup(func() { r.catchUp(t) })

	// The scene: the chart at 1.0.0 on main, the Application synced there by Argo CD itself.
	base := r.pushShopChart(t)
	r.ensureShopApp(t, apps)
	// (A run before may have left the same files: then main moves without a sync.)
	await(t, 3*time.Minute, "the shop's Application synced and healthy at "+base, func() (bool, string) {
		return shopAt(t, apps, base, false)
	})
	t.Logf("the scene: main at %s, synced by Argo CD", base)

	// Owners alice and bob (team-shop); the component deploys production from the rig's bare
	// repository (Portside pushes to it as to any remote; Argo CD reads it over git://).
	remote := "file://" + filepath.Join(r.home, shopRepoRel)
	dir := t.TempDir()
	db := filepath.Join(dir, "portside.db")
	writeFile(t, filepath.Join(dir, "catalog", "catalog-info.yaml"), `apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-shop}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: alice}
spec: {memberOf: [team-shop]}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: bob}
spec: {memberOf: [team-shop]}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: shop-web
  annotations:
    argocd/app-name: `+shopApp+`
    portside.dev/deploy: |
      production:
        repo: `+remote+`
        branch: main
        path: `+shopValues+`
        kind: helm
        image: `+shopImage+`
        valuesKey: image.tag
        digestKey: image.digest
spec: {type: service, lifecycle: production, owner: team-shop}
`)
	env := cleanEnv(t)
	mustRun(t, env, portsideBin, "catalog", "import", "--database", db, filepath.Join(dir, "catalog"))
	ops := mustRun(t, env, portsideBin, "token", "create", "--database", db, "--user", "ops", "--admin")
	alice, bob := userToken(t, env, db, "alice"), userToken(t, env, db, "bob")
	s := startServeWith(t, append(env, "PORTSIDE_ARGOCD_TOKENS=rig="+r.token),
		"--database", db, "--dev-login", "false", "--argocd-instances", "rig=http://"+rigAddr,
		"--deploy-git-dir", filepath.Join(dir, "gitops"), "--deploy-approval-environments", "production")
	opsLines := strings.Split(strings.TrimSpace(ops.stdout), "\n")
	s.token = opsLines[len(opsLines)-1]

	var envs struct {
		Entity struct {
			DeployEnvironments []struct {
				Name             string
				RequiresApproval bool
			}
		}
	}
	s.mustGraphQLAs(t, alice, &envs, `{ entity(ref: "`+shopComponent+`") { ... on Component { deployEnvironments { name requiresApproval } } } }`, nil)
	if got := envs.Entity.DeployEnvironments; len(got) != 1 || got[0].Name != "production" || !got[0].RequiresApproval {
		t.Fatalf("shop-web's deploy environments = %+v, want production, needing approval", got)
	}

	// Every move of the component's requests, from before the first. graphql-transport-ws does
	// not acknowledge a subscribe, so the subscription is proved live first: alice asks for a
	// version and withdraws it (again, should that pass before the server subscribed) until its
	// moves come through.
	ctx, cancel := context.WithTimeout(t.Context(), deployFlowMax)
	defer cancel()
	events := s.subscribe(t, `subscription { deployRequestChanged(component: "`+shopComponent+`") {
		request { id state commitSha } transition { actor client from to note } } }`)
	next := func(what func() string) deployEvent {
		t.Helper()
		select {
		case data, ok := <-events:
			if !ok {
				t.Fatalf("the subscription ended while waiting for %s", what())
			}
			var ev struct{ DeployRequestChanged deployEvent }
			b, _ := json.Marshal(data)
			if err := json.Unmarshal(b, &ev); err != nil {
				t.Fatalf("event %s: %v", b, err)
			}
			return ev.DeployRequestChanged
		case <-ctx.Done():
			t.Fatalf("no event within %s while waiting for %s", deployFlowMax, what())
		}
		panic("unreachable")
	}
	var probe string
	for live := false; !live; {
		var p struct{ RequestDeploy struct{ Request deployReq } }
		s.mustGraphQLAs(t, alice, &p, `mutation($v: String!) { requestDeploy(input: {component: "shop-web", environment: "production",
			version: $v, reason: "probe"}) { request { id } } }`, map[string]any{"v": randomDigest(t)})
		probe = p.RequestDeploy.Request.ID
		s.mustGraphQLAs(t, alice, nil, `mutation($id: ID!) { cancelDeployRequest(input: {id: $id}) { request { id } } }`, map[string]any{"id": probe})
		select {
		case data, ok := <-events:
			if !ok {
				t.Fatal("the subscription ended before its first event")
			}
			events = prepend(data, events)
			live = true
		case <-time.After(2 * time.Second): // not subscribed yet: ask again
		case <-ctx.Done():
			t.Fatalf("the subscription saw none of alice's probes within %s", deployFlowMax)
		}
	}
	for {
		if e := next(func() string { return "the probe's cancel" }); e.Request.ID == probe && e.Transition.To == "CANCELLED" {
			break
		}
	}

	// alice asks for an immutable version.
	digest := randomDigest(t)
	const requestQ = `mutation($v: String!) { requestDeploy(input: {component: "shop-web", environment: "production", version: $v,
		reason: "the rig's deploy"}) { request { ` + deployReqFields + ` } } }`
	var asked struct{ RequestDeploy struct{ Request deployReq } }
	s.mustGraphQLAs(t, alice, &asked, requestQ, map[string]any{"v": digest})
	q := asked.RequestDeploy.Request
	if q.State != "REQUESTED" || q.Requester != "alice" || q.Component != shopComponent || q.Version != digest {
		t.Fatalf("requestDeploy = %+v, want alice's REQUESTED request of %s", q, digest)
	}
	// Asking again while it is open is the same request.
	var again struct{ RequestDeploy struct{ Request deployReq } }
	s.mustGraphQLAs(t, bob, &again, requestQ, map[string]any{"v": digest})
	if again.RequestDeploy.Request.ID != q.ID {
		t.Fatalf("a second request for the same version and environment is %s, want the open one %s", again.RequestDeploy.Request.ID, q.ID)
	}

	// Four eyes: alice may not approve her own request; nothing is committed.
	const approveQ = `mutation($id: ID!, $note: String) { approveDeployRequest(input: {id: $id, note: $note}) { request { ` + deployReqFields + ` } } }`
	errs := s.graphqlAs(t, alice, nil, approveQ, map[string]any{"id": q.ID, "note": "mine"})
	if len(errs) != 1 || errs[0].Extensions["code"] != "FORBIDDEN" || !strings.Contains(errs[0].Message, "four eyes") {
		t.Fatalf("alice approving her own request: errors %+v, want one FORBIDDEN naming four eyes", errs)
	}
	if head := r.remoteGit(t, "rev-parse", "main"); head != base {
		t.Fatalf("the refused approval moved main to %s (was %s)", head, base)
	}

	// bob approves: Portside commits and pushes; Argo CD takes it from there.
	var approved struct{ ApproveDeployRequest struct{ Request deployReq } }
	s.mustGraphQLAs(t, bob, &approved, approveQ, map[string]any{"id": q.ID, "note": "looks good"})
	if a := approved.ApproveDeployRequest.Request; a.Approver == nil || *a.Approver != "bob" {
		t.Fatalf("approveDeployRequest = %+v, want approved by bob", a)
	}
	approvedAt := time.Now()

	// The request walks to SUCCEEDED; the subscription tells every move, in order.
	var walk []string
	var commit string
	for !slices.Contains(walk, "SUCCEEDED") {
		e := next(func() string {
			_, argo := shopAt(t, apps, commit, true)
			return fmt.Sprintf("the request's moves after %v (commit %q; Argo CD: %s)", walk, commit, argo)
		})
		if e.Request.ID != q.ID {
			t.Fatalf("an event of request %s, want only %s's", e.Request.ID, q.ID)
		}
		if e.Request.CommitSha != nil {
			commit = *e.Request.CommitSha
		}
		if len(walk) == 0 || walk[len(walk)-1] != e.Transition.To {
			walk = append(walk, e.Transition.To)
			t.Logf("read %s after the approval: %s → %s by %s (%s): %s", time.Since(approvedAt).Round(time.Millisecond),
				deref(e.Transition.From), e.Transition.To, e.Transition.Actor, e.Transition.Client, e.Transition.Note)
		}
		if slices.Contains([]string{"FAILED", "ROLLED_BACK", "CANCELLED", "EXPIRED", "REJECTED"}, e.Transition.To) {
			t.Fatalf("the request ended %s (%s) after %v", e.Transition.To, e.Transition.Note, walk)
		}
	}
	// The subscription was live before the request: it saw REQUESTED and APPROVED too.
	if want := []string{"REQUESTED", "APPROVED", "APPLYING", "ROLLING_OUT", "SUCCEEDED"}; !slices.Equal(walk, want) {
		t.Errorf("the subscription saw the request walk %v, want %v", walk, want)
	}

	// Exactly one commit landed, Portside's, authored as alice, naming bob and the request.
	var got struct{ DeployRequest deployReq }
	s.mustGraphQLAs(t, alice, &got, `query($id: ID!) { deployRequest(id: $id) { `+deployReqFields+` } }`, map[string]any{"id": q.ID})
	q = got.DeployRequest
	if q.State != "SUCCEEDED" || q.CommitSha == nil || *q.CommitSha != commit || q.Repo == nil || *q.Repo != remote {
		t.Fatalf("the request = %+v, want SUCCEEDED with commit %s in %s", q, commit, remote)
	}
	if q.Outcome == nil || !strings.HasPrefix(*q.Outcome, "rolled out") || strings.Contains(*q.Outcome, "without a sync") {
		t.Errorf("the request's outcome = %q, want rolled out by Argo CD's sync of its commit", deref(q.Outcome))
	}
	landed := strings.Fields(r.remoteGit(t, "rev-list", base+"..main"))
	if len(landed) != 1 || landed[0] != commit {
		t.Fatalf("commits on main since %s: %v, want exactly the request's %s", base, landed, commit)
	}
	author := r.remoteGit(t, "log", "-1", "--format=%an <%ae>|%cn <%ce>", commit)
	if author != "alice <alice@users.portside>|Portside <portside@localhost>" {
		t.Errorf("the commit's author|committer = %q, want alice as the author, committed by Portside", author)
	}
	msg := r.remoteGit(t, "log", "-1", "--format=%B", commit)
	link := "http://" + s.addr + "/deploys/" + strconv.Itoa(q.Number)
	for _, want := range []string{
		"Deploy " + shopComponent + " " + digest + " to production",
		"the rig's deploy",
		"Deploy-Request: " + strconv.Itoa(q.Number),
		"Deploy-Request-URL: " + link,
		"Requested-by: alice",
		"Approved-by: bob",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("the commit's message has no %q:\n%s", want, msg)
		}
	}
	if files := r.remoteGit(t, "diff-tree", "--no-commit-id", "--name-only", "-r", commit); files != shopValues {
		t.Errorf("the commit changed %q, want only %s", files, shopValues)
	}
	values := r.remoteGit(t, "show", commit+":"+shopValues)
	if !strings.Contains(values, "digest: "+digest) || !strings.Contains(values, "# The shop's production values") ||
		!strings.Contains(values, "replicas: 2") {
		t.Errorf("production's values after the bump keep the file and set image.digest to %s:\n%s", digest, values)
	}

	// Argo CD really synced that commit, and the cluster runs the new image.
	await(t, deployFlowMax, "Argo CD's sync of the request's commit "+commit+", healthy", func() (bool, string) {
		return shopAt(t, apps, commit, true)
	})
	wantImage := shopImage + "@" + digest
	await(t, deployFlowMax, "the Deployment "+shopWorkload+" rolled out with "+wantImage, func() (bool, string) {
		d, err := kc.AppsV1().Deployments("default").Get(context.Background(), shopWorkload, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		c := d.Spec.Template.Spec.Containers
		return len(c) == 1 && c[0].Image == wantImage && d.Status.ObservedGeneration >= d.Generation &&
				d.Status.UpdatedReplicas == *d.Spec.Replicas && d.Status.AvailableReplicas == *d.Spec.Replicas,
			fmt.Sprintf("%s: %d of %d updated, %d available", c[0].Image, d.Status.UpdatedReplicas, *d.Spec.Replicas, d.Status.AvailableReplicas)
	})

	// The history: who, when, through which client, from → to.
	type step struct{ actor, client, from, to string }
	var hist []step
	var last time.Time
	for _, tr := range q.Transitions {
		from := ""
		if tr.From != nil {
			from = *tr.From
		}
		hist = append(hist, step{tr.Actor, tr.Client, from, tr.To})
		if tr.At.IsZero() || tr.At.Before(last) {
			t.Errorf("transition %s → %s at %v, after one at %v", from, tr.To, tr.At, last)
		}
		last = tr.At
	}
	wantHist := []step{{"alice", "API", "", "REQUESTED"}, {"bob", "API", "REQUESTED", "APPROVED"},
		{"portside", "SYSTEM", "APPROVED", "APPLYING"}, {"portside", "SYSTEM", "APPLYING", "ROLLING_OUT"},
		{"portside", "SYSTEM", "ROLLING_OUT", "SUCCEEDED"}}
	if !slices.Equal(hist, wantHist) {
		t.Errorf("the request's history = %+v, want %+v", hist, wantHist)
	}
	if n := q.Transitions; len(n) == len(wantHist) && (n[1].Note != "looks good" || !strings.Contains(n[3].Note, commit[:12])) {
		t.Errorf("the approval's note is %q and the push's %q; want bob's note and the commit", n[1].Note, n[3].Note)
	}

	// The audit log has the request, the refused and the accepted approval, and each move.
	type rec struct{ Actor, Action, Outcome string }
	auditOf := func(filter string) []rec {
		var out struct {
			AuditRecords struct{ Nodes []rec }
		}
		s.mustGraphQLAs(t, s.token, &out, `{ auditRecords(filter: {`+filter+`}, first: 100) { nodes { actor action outcome } } }`, nil)
		return out.AuditRecords.Nodes
	}
	seen := append(auditOf(`action: "deploys.request.create", resource: "component shop-web"`),
		auditOf(fmt.Sprintf(`resource: "deploy request %d"`, q.Number))...)
	// Portside told Argo CD of the commit at once (a hard refresh), rather than wait for its poll.
	seen = append(seen, auditOf(`action: "rollouts.deployment.refresh", actor: "portside"`)...)
	for _, want := range []rec{
		{"alice", "deploys.request.create", "OK"},
		{"alice", "deploys.request.approve", "DENIED"},
		{"bob", "deploys.request.approve", "OK"},
		{"portside", "deploys.request.applying", "OK"},
		{"portside", "deploys.request.rolling_out", "OK"},
		{"portside", "deploys.request.succeeded", "OK"},
		{"portside", "rollouts.deployment.refresh", "OK"},
	} {
		if !slices.Contains(seen, want) {
			t.Errorf("the audit log has no %+v; its records of the request: %+v", want, seen)
		}
	}
}

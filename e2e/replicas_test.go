package e2e

// Issue #17: three replicas of the real binary on one PostgreSQL schema, the leader SIGKILLed
// mid-rollout and mid-deploy-request. See README "Several replicas".

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	"github.com/argoproj/gitops-engine/pkg/sync/common"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portside-dev/portside/graph/gqlws"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/rollouts/argocd/argocdtest"
	"github.com/portside-dev/portside/store/storetest"
)

// deployDigest is an immutable version a request may ask for without a pipeline run behind it.
const deployDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// leaderGauge reads portside_leader from a replica's /metrics: 1 or 0, or -1 when it does not answer.
func (s *portsideServer) leaderGauge() int {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + s.addr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		switch sc.Text() {
		case "portside_leader 1":
			return 1
		case "portside_leader 0":
			return 0
		}
	}
	return -1
}

// oneLeader returns the one replica of procs showing portside_leader 1 while every other shows 0,
// or nil.
func oneLeader(procs []*portsideServer) *portsideServer {
	var leader *portsideServer
	for _, p := range procs {
		switch p.leaderGauge() {
		case 1:
			if leader != nil {
				return nil
			}
			leader = p
		case 0:
		default:
			return nil
		}
	}
	return leader
}

// kill SIGKILLs the replica and waits for it to be gone.
func (s *portsideServer) kill(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("the replica did not die of SIGKILL within 30s")
	}
}

// failover SIGKILLs the leader and waits for one of the rest to lead; it returns the new leader
// and the time from the signal to its portside_leader 1.
func failover(t *testing.T, leader *portsideServer, rest []*portsideServer) (*portsideServer, time.Duration) {
	t.Helper()
	killed := time.Now()
	leader.kill(t)
	var next *portsideServer
	poll(t, 60*time.Second, "another replica to lead", func() bool { next = oneLeader(rest); return next != nil })
	return next, time.Since(killed)
}

// ask posts a GraphQL operation with token and returns its data, or an error for a failed
// request or any GraphQL error.
func ask(addr, token, query string, vars map[string]any) (json.RawMessage, error) {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, err := http.NewRequest(http.MethodPost, "http://"+addr+"/graphql", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var r struct {
		Data   json.RawMessage
		Errors []struct{ Message string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, fmt.Errorf("status %d: %w", resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK || len(r.Errors) > 0 {
		return nil, fmt.Errorf("status %d: %+v", resp.StatusCode, r.Errors)
	}
	return r.Data, nil
}

// follower is one subscription on one replica, keeping every event it receives.
type follower struct {
	replica *portsideServer
	sub     *gqlws.Subscription
	mu      sync.Mutex
	events  []string
	err     error
}

func subscribe(t *testing.T, s *portsideServer, token, query string, key func(map[string]any) string) *follower {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sub, _, err := gqlws.Subscribe(ctx, "ws://"+s.addr+"/graphql", http.Header{"Authorization": {"Bearer " + token}}, query)
	if err != nil {
		t.Fatalf("subscribe on %s: %v", s.addr, err)
	}
	f := &follower{replica: s, sub: sub}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			data, err := sub.Next(context.Background())
			f.mu.Lock()
			if err != nil {
				f.err = err
				f.mu.Unlock()
				return
			}
			f.events = append(f.events, key(data))
			f.mu.Unlock()
		}
	}()
	t.Cleanup(func() { _ = sub.Close(); <-done })
	return f
}

// seen returns the events received so far that contain part.
func (f *follower) seen(part string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, e := range f.events {
		if strings.Contains(e, part) {
			out = append(out, e)
		}
	}
	return out
}

// rolloutKey is how a rollout event is compared: the revision, phase, result and canary progress.
func rolloutKey(data map[string]any) string {
	r, _ := data["rolloutChanged"].(map[string]any)
	var reached []string
	completed := false
	if c, ok := r["canary"].(map[string]any); ok && c != nil {
		for _, s := range c["reached"].([]any) {
			st := s.(map[string]any)
			reached = append(reached, fmt.Sprintf("%v@%v", st["step"], st["weight"]))
		}
		completed = c["completedAt"] != nil
	}
	full, _ := json.Marshal(r)
	return fmt.Sprintf("%v %v %v canary=%v completed=%v | %s", r["revision"], r["phase"], r["result"], reached, completed, full)
}

// short leaves out the full JSON of rollout events.
func short(events []string) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i], _, _ = strings.Cut(e, " | ")
	}
	return out
}

// requestKey is how a deploy-request event is compared: the request's number and its transition.
func requestKey(data map[string]any) string {
	e, _ := data["deployRequestChanged"].(map[string]any)
	q, _ := e["request"].(map[string]any)
	tr, _ := e["transition"].(map[string]any)
	return fmt.Sprintf("#%v %v->%v %v", q["number"], tr["from"], tr["to"], tr["note"])
}

// poller asks one replica a GraphQL query every 50 ms until stopped, and keeps the longest run of
// failed answers.
type poller struct {
	stopped chan struct{}
	done    chan struct{}
	mu      sync.Mutex
	asked   int
	streak  time.Duration // the longest time from a first failure to the next success
	failed  int
	lastErr error
}

func startPoller(s *portsideServer, token string) *poller {
	p := &poller{stopped: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		var since time.Time
		for {
			start := time.Now()
			_, err := ask(s.addr, token, `{ entity(ref: "component:payments") { name } deployRequests(first: 5) { totalCount nodes { state } } }`, nil)
			p.mu.Lock()
			p.asked++
			switch {
			case err != nil:
				p.failed++
				p.lastErr = err
				if since.IsZero() {
					since = start
				}
				p.streak = max(p.streak, time.Since(since))
			default:
				since = time.Time{}
			}
			p.mu.Unlock()
			select {
			case <-p.stopped:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	return p
}

func (p *poller) stop() {
	close(p.stopped)
	<-p.done
}

// manifestRepo is a bare repository with payments' production kustomization, as deploy requests
// commit to it.
func manifestRepo(t *testing.T) string {
	t.Helper()
	seed := newGitRepo(t)
	seed.write(t, "production/kustomization.yaml", "images:\n  - name: ghcr.io/acme/payments\n    newTag: \"1\"\n")
	seed.commit(t, "seed")
	bare := filepath.Join(t.TempDir(), "manifests.git")
	mustRun(t, seed.env, "git", "clone", "--quiet", "--bare", seed.dir, bare)
	return bare
}

// requestCommits counts the commits of the repository's main branch that apply request n.
func requestCommits(t *testing.T, bare string, n int) int {
	t.Helper()
	r := mustRun(t, cleanEnv(t), "git", "-C", bare, "log", "--format=%H", fmt.Sprintf("--grep=^Deploy-Request: %d$", n), "main")
	return len(strings.Fields(r.stdout))
}

// liveCanary is payments' Argo Rollouts Rollout: steps setWeight 5 → pause → setWeight 25 →
// pause 10s → setWeight 100, at step (currentStepIndex).
func liveCanary(step int, phase, paused, stable, current string, updated int) string {
	pause := "[]"
	if paused != "" {
		pause = fmt.Sprintf(`[{"reason": %q, "startTime": "2026-11-30T10:00:00Z"}]`, paused)
	}
	return fmt.Sprintf(`{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
		"metadata": {"name": "payments", "namespace": "payments"},
		"spec": {"replicas": 20, "strategy": {"canary": {"steps": [
			{"setWeight": 5}, {"pause": {}}, {"setWeight": 25}, {"pause": {"duration": "10s"}}, {"setWeight": 100}]}}},
		"status": {"currentStepIndex": %d, "phase": %q, "pauseConditions": %s, "stableRS": %q, "currentPodHash": %q,
			"replicas": 20, "updatedReplicas": %d, "abort": false, "message": ""}}`, step, phase, pause, stable, current, updated)
}

// replicaRig is three replicas of portside serve on one fresh PostgreSQL schema, following one
// scripted Argo CD through their companions, with payments deployed from a bare manifest repository.
type replicaRig struct {
	argo     *argocdtest.Server
	bare     string
	procs    []*portsideServer
	ops, rel string // two admins' API tokens: ops requests, rel approves
}

func newReplicaRig(t *testing.T) *replicaRig {
	t.Helper()
	dsn := storetest.PostgresURL(t)
	r := &replicaRig{argo: argocdtest.Start(t), bare: manifestRepo(t)}
	r.argo.Put(argocdtest.App("payments", func(a *v1alpha1.Application) {
		a.Status.Sync.Revision = "seed"
		a.Status.Resources = []v1alpha1.ResourceStatus{
			{Group: "argoproj.io", Version: "v1alpha1", Kind: "Rollout", Namespace: "payments", Name: "payments"}}
	}))
	r.argo.SetLive("argocd", "payments", "Rollout", "payments", liveCanary(5, "Healthy", "", "h0", "h0", 20))

	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "catalog", "catalog-info.yaml"), fmt.Sprintf(`apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments
  annotations:
    argocd/app-name: payments
    portside.dev/deploy: |
      production: {repo: %q, path: production/kustomization.yaml, image: ghcr.io/acme/payments}
spec: {type: service, lifecycle: production, owner: team-payments}
`, r.bare))
	env := append(cleanEnv(t), "PORTSIDE_DATABASE_URL="+dsn)
	mustRun(t, env, portsideBin, "migrate", "up")
	mustRun(t, env, portsideBin, "catalog", "import", filepath.Join(dir, "catalog"))
	token := func(user string) string {
		out := mustRun(t, env, portsideBin, "token", "create", "--user", user, "--admin")
		lines := strings.Split(strings.TrimSpace(out.stdout), "\n")
		return lines[len(lines)-1]
	}
	r.ops, r.rel = token("ops"), token("rel")
	for range 3 {
		s := startServeWith(t, append(cleanEnv(t), "PORTSIDE_DATABASE_URL="+dsn, "PORTSIDE_ARGOCD_TOKENS=prod="+r.argo.Token),
			"--dev-login", "false", "--refresh-interval", "0", "--argocd-instances", "prod=http://"+r.argo.Addr())
		s.token = r.ops
		r.procs = append(r.procs, s)
	}
	return r
}

// request asks for payments' production deploy as ops and returns its ID and number.
func (r *replicaRig) request(t *testing.T, s *portsideServer, reason string) (string, int) {
	t.Helper()
	var out struct {
		RequestDeploy struct {
			Request struct {
				ID, State string
				Number    int
			}
		}
	}
	s.graphql(t, &out, `mutation($v: String!, $r: String!) { requestDeploy(input: {component: "payments", environment: "production", version: $v, reason: $r}) { request { id number state } } }`,
		map[string]any{"v": deployDigest, "r": reason})
	if out.RequestDeploy.Request.State != "REQUESTED" {
		t.Fatalf("requested: %+v", out.RequestDeploy)
	}
	return out.RequestDeploy.Request.ID, out.RequestDeploy.Request.Number
}

// approve approves the request as rel through s and returns its commit, once it is ROLLING_OUT.
func (r *replicaRig) approve(t *testing.T, s *portsideServer, id string) string {
	t.Helper()
	data, err := ask(s.addr, r.rel, `mutation($id: ID!) { approveDeployRequest(input: {id: $id, note: "go"}) { request { state commitSha } } }`, map[string]any{"id": id})
	if err != nil {
		t.Fatalf("approve through %s: %v", s.addr, err)
	}
	var out struct {
		ApproveDeployRequest struct {
			Request struct{ State, CommitSha string }
		}
	}
	_ = json.Unmarshal(data, &out)
	if q := out.ApproveDeployRequest.Request; q.State != "ROLLING_OUT" || q.CommitSha == "" {
		t.Fatalf("approved: %+v", q)
	}
	return out.ApproveDeployRequest.Request.CommitSha
}

// state reads the request's state through s.
func (r *replicaRig) state(t *testing.T, s *portsideServer, id string) string {
	t.Helper()
	var out struct{ Node struct{ State string } }
	s.graphql(t, &out, `query($id: ID!) { node(id: $id) { ... on DeployRequest { state } } }`, map[string]any{"id": id})
	return out.Node.State
}

// rolloutStep is one step of the scripted Argo CD's rollout of a commit, and the event every
// subscriber is then to receive (a regular expression matched against rolloutKey).
type rolloutStep struct {
	do   func()
	want string
}

// rolloutOf scripts Argo CD's rollout of sha: a sync runs (the Rollout's new ReplicaSet starts
// its canary), succeeds with the canary paused at 5%, is promoted to 25% (a 10 s pause) and
// reaches 100%. want is what the event of each step shows (see rolloutKey).
func (r *replicaRig) rolloutOf(sha, stable, current string) []rolloutStep {
	started := metav1.NewTime(r.argo.Tick())
	// Argo CD knows the commit (a revision it cannot describe is recorded as such, an update
	// subscribers could not tell from the one before).
	date := metav1.NewTime(started.Add(-time.Minute))
	r.argo.SetCommit(sha, v1alpha1.RevisionMetadata{Author: "Portside <portside@example.com>", Date: date, Message: "Deploy payments"})
	update := func(change func(a *v1alpha1.Application)) { r.argo.Update("argocd", "payments", change) }
	live := func(step int, phase, paused string, updated int) {
		r.argo.SetLive("argocd", "payments", "Rollout", "payments", liveCanary(step, phase, paused, stable, current, updated))
	}
	return []rolloutStep{
		{func() {
			live(0, "Progressing", "", 0)
			update(func(a *v1alpha1.Application) {
				op := v1alpha1.Operation{Sync: &v1alpha1.SyncOperation{Revision: sha}, InitiatedBy: v1alpha1.OperationInitiator{Automated: true}}
				a.Operation = &op
				a.Status.OperationState = &v1alpha1.OperationState{Phase: common.OperationRunning, Message: "waiting for completion", StartedAt: started, Operation: op}
				a.Status.Sync.Status = v1alpha1.SyncStatusCodeOutOfSync
				a.Status.Health.Status = "Progressing"
			})
		}, sha + ` RUNNING RUNNING canary=\[\] `},
		{func() {
			live(1, "Paused", "CanaryPauseStep", 1)
			update(func(a *v1alpha1.Application) {
				argocdtest.Succeed(a, sha)
				a.Status.Health.Status = "Suspended"
			})
		}, sha + ` SUCCEEDED SUCCEEDED canary=\[(0@5 )?1@5\] `},
		{func() { live(3, "Paused", "CanaryPauseStep", 5) }, sha + ` SUCCEEDED SUCCEEDED canary=\[(0@5 )?1@5( \d@25)+\] completed=false`},
		{func() {
			live(5, "Healthy", "", 20)
			update(func(a *v1alpha1.Application) { a.Status.Health.Status = "Healthy" })
		}, sha + ` SUCCEEDED SUCCEEDED canary=\[(0@5 )?1@5( \d@25)+ \d@100\] completed=true`},
	}
}

// TestThreeReplicasLoseNothingWhenTheLeaderIsKilledMidRolloutAndMidDeployRequest: three replicas
// of the real binary on one PostgreSQL schema, one scripted Argo CD followed by each through its
// companion, a real manifest repository. The leader approves a deploy request and is SIGKILLed
// while Argo CD's sync of its commit runs; the next leader approves a second one and is
// SIGKILLed between the commit and its rollout. Every surviving subscriber sees every rollout and
// request event once, in order; each request has one commit and ends SUCCEEDED; a client polling a
// survivor is never refused for longer than the failover, which takes under 5 s.
func TestThreeReplicasLoseNothingWhenTheLeaderIsKilledMidRolloutAndMidDeployRequest(t *testing.T) {
	r := newReplicaRig(t)
	var leader *portsideServer
	poll(t, 60*time.Second, "one leader among the replicas", func() bool { leader = oneLeader(r.procs); return leader != nil })

	var rollouts, requests []*follower
	for _, s := range r.procs {
		rollouts = append(rollouts, subscribe(t, s, r.ops, `subscription { rolloutChanged(component: "payments") { id instance application environment project initiatedBy automated requestedBy revision phase result message startedAt finishedAt historyId images commit { message } canary { reached { step weight at } aborted completedAt } } }`, rolloutKey))
		requests = append(requests, subscribe(t, s, r.ops, `subscription { deployRequestChanged(component: "payments") { request { number } transition { from to note } } }`, requestKey))
	}
	// A subscription is registered a moment after its acknowledgement: a request made and
	// cancelled until every subscriber has seen one whole (the events before are left out).
	warm := 0
	poll(t, 60*time.Second, "every subscriber registered", func() bool {
		id, n := r.request(t, leader, "warm-up")
		var out map[string]any
		leader.graphql(t, &out, `mutation($id: ID!) { cancelDeployRequest(input: {id: $id}) { request { state } } }`, map[string]any{"id": id})
		warm = n
		return testutil.Await(5*time.Second, func() bool {
			for _, f := range requests {
				if len(f.seen(fmt.Sprintf("#%d <nil>->REQUESTED", n))) == 0 || len(f.seen(fmt.Sprintf("#%d REQUESTED->CANCELLED", n))) == 0 {
					return false
				}
			}
			return true
		})
	})
	// The rollout subscriptions were opened with the request ones: by now they are registered too.

	pollers := map[*portsideServer]*poller{}
	for _, s := range r.procs {
		pollers[s] = startPoller(s, r.ops)
	}
	alive := slices.Clone(r.procs)
	killLeader := func() time.Duration {
		pollers[leader].stop()
		alive = slices.DeleteFunc(alive, func(s *portsideServer) bool { return s == leader })
		next, took := failover(t, leader, alive)
		leader = next
		return took
	}
	// step runs one scripted step and waits until every subscriber on a live replica has the
	// events it should.
	steps := 0
	step := func(s rolloutStep) {
		t.Helper()
		steps++
		s.do()
		testutil.Eventually(t, 60*time.Second, func() bool {
			for _, f := range rollouts {
				if slices.Contains(alive, f.replica) && !slices.ContainsFunc(f.seen(""), regexp.MustCompile(s.want).MatchString) {
					return false
				}
			}
			return true
		}, func() string {
			msg := fmt.Sprintf("rollout step %d: not every live subscriber saw %q", steps, s.want)
			for _, f := range rollouts {
				msg += fmt.Sprintf("\n--- %s (alive %v):\n  %s", f.replica.addr, slices.Contains(alive, f.replica), strings.Join(short(f.seen("")), "\n  "))
			}
			return msg
		})
	}

	// 1. The leader approves; Argo CD's sync of its commit runs (the request ROLLING_OUT, the
	// canary starting); the leader dies. The sync ends and the canary walks on the survivors.
	id1, n1 := r.request(t, leader, "first")
	sha1 := r.approve(t, leader, id1)
	plan1 := r.rolloutOf(sha1, "h0", "h1")
	step(plan1[0])
	took1 := killLeader()
	for _, s := range plan1[1:] {
		step(s)
	}
	poll(t, 60*time.Second, "request 1 to succeed", func() bool { return r.state(t, alive[0], id1) == "SUCCEEDED" })

	// 2. The next leader approves; it dies between its commit and the rollout of it, as the
	// approval returns, without waiting for anyone to hear of it: each move's message commits with
	// the move (see README "Several replicas"), so the survivors' subscribers hear of them all
	// the same (the survivor's checked below). The kill usually lands too late to catch the old
	// window between a commit and its NOTIFY; deploys' DiesRightAfterTheCommit test catches it.
	id2, n2 := r.request(t, leader, "second")
	sha2 := r.approve(t, leader, id2)
	took2 := killLeader()
	plan2 := r.rolloutOf(sha2, "h1", "h2")
	for _, s := range plan2 {
		step(s)
	}
	poll(t, 60*time.Second, "request 2 to succeed", func() bool { return r.state(t, alive[0], id2) == "SUCCEEDED" })
	for _, p := range pollers {
		select {
		case <-p.done:
		default:
			p.stop()
		}
	}

	// Takeover within 5 s.
	t.Logf("failover (SIGKILL to another replica's portside_leader 1): %s mid-rollout, %s mid-request",
		took1.Round(time.Millisecond), took2.Round(time.Millisecond))
	for _, took := range []time.Duration{took1, took2} {
		if took > 5*time.Second {
			t.Errorf("a replica took %s to lead after the leader's SIGKILL, want at most 5s", took)
		}
	}
	// No deploy applied twice: one commit per request, the one it records.
	for n, sha := range map[int]string{n1: sha1, n2: sha2} {
		if c := requestCommits(t, r.bare, n); c != 1 {
			t.Errorf("request %d has %d commits in the manifest repository, want 1", n, c)
		}
		if head := mustRun(t, cleanEnv(t), "git", "-C", r.bare, "log", "--format=%H", fmt.Sprintf("--grep=^Deploy-Request: %d$", n), "main").stdout; strings.TrimSpace(head) != sha {
			t.Errorf("request %d's commit is %s, want %s", n, strings.TrimSpace(head), sha)
		}
	}
	if c := requestCommits(t, r.bare, warm); c != 0 {
		t.Errorf("the cancelled request %d has %d commits", warm, c)
	}
	// Every event once and in order: the survivor's subscriber saw every event any subscriber saw
	// (the killed replicas' up to their death), none twice, the scripted steps in their order.
	last := alive[0]
	ofRequests := func(f *follower) []string {
		return append(f.seen(fmt.Sprintf("#%d ", n1)), f.seen(fmt.Sprintf("#%d ", n2))...)
	}
	var wants []string
	for _, st := range append(plan1, plan2...) {
		wants = append(wants, st.want)
	}
	for i, f := range rollouts {
		who := "the survivor's"
		if f.replica != last {
			who = "a killed replica's"
		}
		got := append(f.seen(sha1+" "), f.seen(sha2+" ")...)
		gotReq := ofRequests(requests[i])
		t.Logf("%s subscribers (%s):\n  %s\n  %s", who, f.replica.addr, strings.Join(short(got), "\n  "), strings.Join(gotReq, "\n  "))
		for _, list := range [][]string{got, gotReq} {
			for j, e := range list {
				if slices.Contains(list[j+1:], e) {
					t.Errorf("%s subscriber received an event twice: %s", who, e)
				}
			}
		}
		// The scripted steps in order (those before its replica died).
		next := 0
		for _, want := range wants {
			k := slices.IndexFunc(got, regexp.MustCompile(want).MatchString)
			if k < 0 {
				if f.replica == last {
					t.Errorf("%s subscriber never saw %s", who, want)
				}
				continue
			}
			if k < next {
				t.Errorf("%s subscriber saw %s before the step scripted before it", who, want)
			}
			next = k
		}
		if f.replica == last {
			continue
		}
		survivor := slices.IndexFunc(rollouts, func(g *follower) bool { return g.replica == last })
		for _, e := range got {
			if !slices.Contains(rollouts[survivor].seen(""), e) {
				t.Errorf("the rollout event %s reached a killed replica's subscriber, never the survivor's", e)
			}
		}
		for _, e := range gotReq {
			if !slices.Contains(requests[survivor].seen(""), e) {
				t.Errorf("the request event %s reached a killed replica's subscriber, never the survivor's", e)
			}
		}
	}
	survivor := slices.IndexFunc(requests, func(g *follower) bool { return g.replica == last })
	refReq := ofRequests(requests[survivor])
	var order []string
	for _, n := range []int{n1, n2} {
		for _, tr := range []string{"<nil>->REQUESTED", "REQUESTED->APPROVED", "APPROVED->APPLYING", "APPLYING->ROLLING_OUT", "ROLLING_OUT->SUCCEEDED"} {
			order = append(order, fmt.Sprintf("#%d %s", n, tr))
		}
	}
	var states []string
	for _, e := range refReq {
		if f := strings.Fields(e); len(f) >= 2 && f[1] != "ROLLING_OUT->ROLLING_OUT" {
			states = append(states, f[0]+" "+f[1])
		}
	}
	if !slices.Equal(states, order) {
		t.Errorf("the survivor's subscriber saw the requests move\n  %s\nwant\n  %s", strings.Join(states, "\n  "), strings.Join(order, "\n  "))
	}
	// No request refused for longer than the failover.
	var streak time.Duration
	for s, p := range pollers {
		t.Logf("poller of %s: %d asked, %d failed, longest failing streak %s (last error %v)", s.addr, p.asked, p.failed, p.streak, p.lastErr)
		streak = max(streak, p.streak)
	}
	t.Logf("longest failing streak of a client polling a live replica: %s", streak)
	if streak > min(took1, took2) {
		t.Errorf("a client polling a live replica failed for %s in a row, longer than the failover (%s, %s)", streak, took1, took2)
	}
}

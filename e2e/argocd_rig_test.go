//go:build argocdrig

// The Argo CD tier: portside serve against a real Argo CD v2.14.21 (with a real kube-apiserver,
// kwok nodes and Argo Rollouts v1.8.5) started by ../shared/argocd-rig. `make e2e-argocd` installs
// and starts the rig, then runs this file (build tag argocdrig).
package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apiclient"
	"github.com/argoproj/argo-cd/v2/pkg/apiclient/application"
	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portside-dev/portside/graph/gqlws"
)

// rig is the running Argo CD rig.
type rig struct {
	home, token string
}

const rigAddr = "127.0.0.1:18080"

func openRig(t *testing.T) rig {
	t.Helper()
	home := os.Getenv("ARGOCD_RIG_HOME")
	if home == "" {
		h, _ := os.UserHomeDir()
		home = filepath.Join(h, ".cache", "argocd-rig")
	}
	tok, err := os.ReadFile(filepath.Join(home, "run", "portal.token"))
	if err != nil {
		t.Fatalf("the Argo CD rig is not up (make e2e-argocd starts it): %v", err)
	}
	return rig{home: home, token: strings.TrimSpace(string(tok))}
}

// apps is Argo CD's own client, for setting the scene the way an operator would.
func (r rig) apps(t *testing.T) application.ApplicationServiceClient {
	t.Helper()
	cl, err := apiclient.NewClient(&apiclient.ClientOptions{ServerAddr: rigAddr, PlainText: true, AuthToken: r.token,
		ConfigPath: filepath.Join(t.TempDir(), "none")})
	if err != nil {
		t.Fatal(err)
	}
	conn, apps, err := cl.NewApplicationClient()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return apps
}

// ensureApp creates (or resets) an application of the rig's git repository, with manual syncs.
func (r rig) ensureApp(t *testing.T, apps application.ApplicationServiceClient, name, path string) {
	t.Helper()
	upsert := true
	app := &v1alpha1.Application{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "argocd"},
		Spec: v1alpha1.ApplicationSpec{Project: "default",
			Source:      &v1alpha1.ApplicationSource{RepoURL: "git://127.0.0.1:19418/demo.git", Path: path, TargetRevision: "main"},
			Destination: v1alpha1.ApplicationDestination{Server: "https://kubernetes.default.svc", Namespace: "default"}}}
	if _, err := apps.Create(context.Background(), &application.ApplicationCreateRequest{Application: app, Upsert: &upsert}); err != nil {
		t.Fatalf("create application %s: %v", name, err)
	}
}

// commit changes a file of the rig's git repository and pushes it; it returns the new revision.
func (r rig) commit(t *testing.T, file, old, new, msg string) string {
	t.Helper()
	work := filepath.Join(r.home, "data", "work")
	path := filepath.Join(work, file)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s has no %q", file, old)
	}
	writeFile(t, path, strings.Replace(string(b), old, new, 1))
	git := func(args ...string) string {
		cmd := exec.Command("git", append([]string{"-c", "user.name=e2e", "-c", "user.email=e2e@localhost"}, args...)...)
		cmd.Dir = work
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("commit", "-qam", msg)
	git("push", "-q", "origin", "HEAD:main")
	return git("rev-parse", "HEAD")
}

// currentValue reads the value after prefix on the line of file that has it.
func (r rig) currentValue(t *testing.T, file, prefix string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(r.home, "data", "work", file))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if i := strings.Index(line, prefix); i >= 0 {
			return strings.TrimSpace(line[i+len(prefix):])
		}
	}
	t.Fatalf("%s has no line with %q", file, prefix)
	return ""
}

// restartServer stops argocd-server and starts it again with the same command and environment.
func (r rig) restartServer(t *testing.T, whileDown func()) {
	t.Helper()
	pids, err := os.ReadFile(filepath.Join(r.home, "run", "pids"))
	if err != nil {
		t.Fatal(err)
	}
	pid := 0
	for _, line := range strings.Split(string(pids), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[1] == "argocd-server" {
			pid, _ = strconv.Atoi(f[0])
		}
	}
	cmdline, err1 := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	environ, err2 := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if pid == 0 || err1 != nil || err2 != nil {
		t.Fatalf("argocd-server (pid %d) is not running: %v %v", pid, err1, err2)
	}
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	_ = syscall.Kill(pid, syscall.SIGTERM)
	poll(t, 30*time.Second, "argocd-server to stop", func() bool { return syscall.Kill(pid, 0) != nil })
	whileDown()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = strings.Split(strings.TrimRight(string(environ), "\x00"), "\x00")
	logf, _ := os.OpenFile(filepath.Join(r.home, "logs", "argocd-server.log"), os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // it outlives the test, as up.sh's did
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// down.sh stops what run/pids names: record the new process in place of the old one.
	updated := strings.Replace(string(pids), fmt.Sprintf("%d argocd-server", pid), fmt.Sprintf("%d argocd-server", cmd.Process.Pid), 1)
	if err := os.WriteFile(filepath.Join(r.home, "run", "pids"), []byte(updated), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Process.Release()
}

type deployment struct {
	Application, SyncStatus, Health string
	Revision                        *string
	Stale                           bool
	Operation                       *struct{ Phase string }
	Canary                          *struct {
		CurrentStep, SetWeight int
		Phase                  string
		PausedReason           *string
		Aborted                bool
		Steps                  []struct{ Kind string }
	}
}

type rolloutRec struct {
	StartedAt time.Time
	Revision  *string
	Result    string
	HistoryID *int
	Canary    *struct {
		Aborted bool
		Reached []struct{ Step, Weight int }
	}
}

const deploymentFields = `application syncStatus health revision stale operation { phase }
	canary { currentStep setWeight phase pausedReason aborted steps { kind } }`

func (s *portsideServer) component(t *testing.T, ref string) (deployment, []rolloutRec) {
	t.Helper()
	var out struct {
		Entity struct {
			Deployments []deployment
			Rollouts    struct{ Nodes []rolloutRec }
		}
	}
	s.graphql(t, &out, `query($ref: String!) { entity(ref: $ref) { ... on Component {
		deployments { `+deploymentFields+` }
		rollouts(first: 10) { nodes { startedAt revision result historyId canary { aborted reached { step weight } } } } } } }`,
		map[string]any{"ref": ref})
	if len(out.Entity.Deployments) != 1 {
		t.Fatalf("%s has %d deployments", ref, len(out.Entity.Deployments))
	}
	return out.Entity.Deployments[0], out.Entity.Rollouts.Nodes
}

// subscribe opens a graphql-transport-ws subscription with the server's API token and delivers
// each event's data until the test ends or the subscription fails.
func (s *portsideServer) subscribe(t *testing.T, query string) <-chan map[string]any {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sub, _, err := gqlws.Subscribe(ctx, "ws://"+s.addr+"/graphql", http.Header{"Authorization": {"Bearer " + s.token}}, query)
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	out := make(chan map[string]any, 1024)
	go func() {
		defer close(out)
		defer sub.Close()
		for {
			data, err := sub.Next(ctx)
			if err != nil {
				return
			}
			out <- data
		}
	}()
	return out
}

func (s *portsideServer) act(t *testing.T, mutation, input string) {
	t.Helper()
	var out map[string]any
	s.graphql(t, &out, `mutation { `+mutation+`(input: {`+input+`}) { deployment { application } } }`, nil)
}

func TestPortsideFollowsAndDrivesARealArgoCD(t *testing.T) {
	r := openRig(t)
	apps := r.apps(t)
	r.ensureApp(t, apps, "guestbook", "guestbook")
	r.ensureApp(t, apps, "canary-demo", "canary")

	dir := t.TempDir()
	db := filepath.Join(dir, "portside.db")
	writeFile(t, filepath.Join(dir, "catalog", "catalog-info.yaml"), `apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-web}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: guestbook
  annotations: {argocd/app-name: guestbook}
spec: {type: service, lifecycle: production, owner: team-web}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: canary-web
  annotations: {argocd/app-name: canary-demo, argocd/instance-name: rig}
spec: {type: service, lifecycle: production, owner: team-web}
`)
	env := cleanEnv(t)
	mustRun(t, env, portsideBin, "catalog", "import", "--database", db, filepath.Join(dir, "catalog"))
	// The doctor reaches the real Argo CD as serve will, and sees its applications.
	doc := run(t, append(env, "PORTSIDE_ARGOCD_TOKENS=rig="+r.token), portsideBin, "doctor", "--database", db,
		"--argocd-instances", "rig=http://"+rigAddr)
	if doc.code != 0 || !regexp.MustCompile(`(?m)^ok\s+argocd/rig\s+.*applications? visible`).MatchString(doc.stdout) {
		t.Errorf("portside doctor against the rig's Argo CD: want exit 0 and the rig's applications listed\n%s", doc)
	}
	tok := mustRun(t, env, portsideBin, "token", "create", "--database", db, "--user", "ops", "--admin")
	lines := strings.Split(strings.TrimSpace(tok.stdout), "\n")
	s := startServeWith(t, append(env, "PORTSIDE_ARGOCD_TOKENS=rig="+r.token),
		"--database", db, "--dev-login", "false", "--argocd-instances", "rig=http://"+rigAddr)
	s.token = lines[len(lines)-1]

	// Live status through the watcher, then a sync.
	// An action on a stale deployment (its instance not reachable right now, as a freshly started
	// Argo CD can be for a moment) is refused UNAVAILABLE by design: wait for a live one.
	poll(t, 60*time.Second, "guestbook's deployment, live", func() bool {
		var out struct {
			Entity struct{ Deployments []deployment }
		}
		s.graphql(t, &out, `{ entity(ref: "component:guestbook") { ... on Component { deployments { application stale } } } }`, nil)
		return len(out.Entity.Deployments) == 1 && !out.Entity.Deployments[0].Stale
	})
	s.act(t, "syncDeployment", `component: "guestbook"`)
	poll(t, 120*time.Second, "guestbook synced and healthy", func() bool {
		d, rs := s.component(t, "component:guestbook")
		return d.SyncStatus == "SYNCED" && d.Health == "HEALTHY" && len(rs) > 0 && rs[0].Result == "SUCCEEDED"
	})

	// Argo CD keeps operation start times to the second, and Portside tells rollouts apart by
	// them: the next sync must start in a later second (a person is never that quick).
	notSameSecond := func(ref string) {
		_, rs := s.component(t, ref)
		poll(t, 5*time.Second, "the next second", func() bool { return time.Since(rs[0].StartedAt) > time.Second })
	}
	notSameSecond("component:guestbook")

	// A new commit: OutOfSync once Argo CD compares again, then a new rollout when synced.
	replicas := r.currentValue(t, "guestbook/deployment.yaml", "replicas:")
	n, _ := strconv.Atoi(replicas)
	rev := r.commit(t, "guestbook/deployment.yaml", "replicas: "+replicas, "replicas: "+strconv.Itoa(n%3+1), "guestbook: scale")
	s.act(t, "refreshDeployment", `component: "guestbook"`)
	poll(t, 120*time.Second, "guestbook OutOfSync after the commit", func() bool {
		d, _ := s.component(t, "component:guestbook")
		return d.SyncStatus == "OUT_OF_SYNC"
	})
	s.act(t, "syncDeployment", `component: "guestbook"`)
	poll(t, 120*time.Second, "a new rollout of "+rev, func() bool {
		_, rs := s.component(t, "component:guestbook")
		return rs[0].Revision != nil && *rs[0].Revision == rev && rs[0].Result == "SUCCEEDED"
	})

	// A rollback to the rollout before.
	notSameSecond("component:guestbook")
	_, rs := s.component(t, "component:guestbook")
	if rs[1].HistoryID == nil {
		t.Fatalf("the previous rollout has no history ID: %+v", rs[1])
	}
	s.act(t, "rollbackDeployment", fmt.Sprintf(`component: "guestbook", historyId: %d`, *rs[1].HistoryID))
	poll(t, 120*time.Second, "the rollback's rollout", func() bool {
		_, now := s.component(t, "component:guestbook")
		return now[0].Result == "SUCCEEDED" && now[0].Revision != nil && *now[0].Revision == *rs[1].Revision
	})

	// The canary: first deployed (no steps for a first version), then a new image walks
	// 5% → pause → (promoted) 25% → pause 10 s → 100%.
	s.act(t, "syncDeployment", `component: "canary-web"`)
	poll(t, 120*time.Second, "canary-demo deployed", func() bool {
		d, _ := s.component(t, "component:canary-web")
		return d.SyncStatus == "SYNCED" && d.Canary != nil && d.Canary.Phase == "Healthy"
	})
	notSameSecond("component:canary-web")
	image := r.currentValue(t, "canary/rollout.yaml", "image:")
	next := map[string]string{"nginx:1.25": "nginx:1.26", "nginx:1.26": "nginx:1.27", "nginx:1.27": "nginx:1.25"}
	r.commit(t, "canary/rollout.yaml", "image: "+image, "image: "+next[image], "canary: "+next[image])
	s.act(t, "refreshDeployment", `component: "canary-web"`)
	poll(t, 60*time.Second, "canary-demo OutOfSync", func() bool {
		d, _ := s.component(t, "component:canary-web")
		return d.SyncStatus == "OUT_OF_SYNC"
	})
	events := s.subscribe(t, `subscription { deploymentChanged(component: "canary-web") { canary { setWeight aborted } } }`)
	s.act(t, "syncDeployment", `component: "canary-web"`)
	poll(t, 120*time.Second, "the canary paused at 5%", func() bool {
		d, _ := s.component(t, "component:canary-web")
		return d.Canary != nil && d.Canary.SetWeight == 5 && d.Canary.PausedReason != nil
	})
	s.act(t, "promoteDeployment", `component: "canary-web"`)
	poll(t, 120*time.Second, "the canary at 25%", func() bool {
		d, _ := s.component(t, "component:canary-web")
		return d.Canary != nil && d.Canary.SetWeight == 25
	})
	poll(t, 120*time.Second, "the canary done at 100%", func() bool {
		d, rs := s.component(t, "component:canary-web")
		return d.Canary != nil && d.Canary.SetWeight == 100 && d.Canary.CurrentStep == len(d.Canary.Steps) &&
			rs[0].Canary != nil && len(rs[0].Canary.Reached) >= 3
	})
	// The subscription saw each step: the weights it delivered, in order.
	var seen []int
	for !(slices.Contains(seen, 5) && seen[len(seen)-1] == 100) {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("the subscription ended; weights seen: %v", seen)
			}
			c, _ := ev["deploymentChanged"].(map[string]any)["canary"].(map[string]any)
			if c == nil {
				continue
			}
			if w := int(c["setWeight"].(float64)); len(seen) == 0 || seen[len(seen)-1] != w {
				seen = append(seen, w)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("the subscription saw weights %v and then nothing for 30 s", seen)
		}
	}
	if i := slices.Index(seen, 5); i < 0 || !slices.Equal(seen[i:], []int{5, 25, 100}) {
		t.Errorf("the subscription saw weights %v, want the walk 5 → 25 → 100", seen)
	}
	_, rs = s.component(t, "component:canary-web")
	// Each step may be seen more than once (a setWeight step, then the pause after it, keep the
	// weight); the weights, in the order reached, are the walk.
	var weights []int
	for _, st := range rs[0].Canary.Reached {
		if len(weights) == 0 || weights[len(weights)-1] != st.Weight {
			weights = append(weights, st.Weight)
		}
	}
	if fmt.Sprint(weights) != "[5 25 100]" {
		t.Errorf("the canary's recorded walk is %v (%+v), want [5 25 100]", weights, rs[0].Canary.Reached)
	}

	// A second canary, aborted: a failed change.
	notSameSecond("component:canary-web")
	image = r.currentValue(t, "canary/rollout.yaml", "image:")
	r.commit(t, "canary/rollout.yaml", "image: "+image, "image: "+next[image], "canary: "+next[image])
	s.act(t, "refreshDeployment", `component: "canary-web"`)
	poll(t, 60*time.Second, "canary-demo OutOfSync again", func() bool {
		d, _ := s.component(t, "component:canary-web")
		return d.SyncStatus == "OUT_OF_SYNC"
	})
	s.act(t, "syncDeployment", `component: "canary-web"`)
	poll(t, 120*time.Second, "the second canary paused at 5%", func() bool {
		d, _ := s.component(t, "component:canary-web")
		return d.Canary != nil && d.Canary.SetWeight == 5 && d.Canary.PausedReason != nil
	})
	s.act(t, "abortDeployment", `component: "canary-web"`)
	poll(t, 120*time.Second, "the second canary aborted and recorded so", func() bool {
		d, rs := s.component(t, "component:canary-web")
		return d.Canary != nil && d.Canary.Aborted && rs[0].Result == "ABORTED"
	})

	// argocd-server stopped and started again: deployments go stale, then fresh.
	r.restartServer(t, func() {
		poll(t, 60*time.Second, "deployments served stale while Argo CD is down", func() bool {
			d, _ := s.component(t, "component:guestbook")
			return d.Stale
		})
	})
	poll(t, 120*time.Second, "deployments fresh again", func() bool {
		d, _ := s.component(t, "component:guestbook")
		return !d.Stale
	})
}

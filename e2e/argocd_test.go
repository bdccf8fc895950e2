package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"

	"github.com/portside-dev/portside/rollouts/argocd"
	"github.com/portside-dev/portside/rollouts/argocd/argocdtest"
)

// children returns the process IDs of pid's children (Linux /proc).
func children(t *testing.T, pid int) []int {
	t.Helper()
	tasks, err := filepath.Glob(filepath.Join("/proc", strconv.Itoa(pid), "task", "*", "children"))
	if err != nil || len(tasks) == 0 {
		t.Skipf("no /proc task list here: %v", err)
	}
	var out []int
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, field := range strings.Fields(string(b)) {
			n, _ := strconv.Atoi(field)
			out = append(out, n)
		}
	}
	return out
}

// companion waits for portside serve's one child, portside-argocd, and returns its PID.
func (s *portsideServer) companion(t *testing.T, not int) int {
	t.Helper()
	var pid int
	poll(t, 30*time.Second, "portside serve's portside-argocd child", func() bool {
		kids := children(t, s.cmd.Process.Pid)
		if len(kids) == 1 && kids[0] != not {
			exe, _ := os.Readlink(filepath.Join("/proc", strconv.Itoa(kids[0]), "exe"))
			if filepath.Base(exe) == "portside-argocd" {
				pid = kids[0]
				return true
			}
		}
		return false
	})
	return pid
}

// revision reads payments' deployment: its revision and whether it is stale.
func (s *portsideServer) revision(t *testing.T) (string, bool) {
	t.Helper()
	var out struct {
		Entity struct {
			Deployments []struct {
				Revision string
				Stale    bool
			}
		}
	}
	s.graphql(t, &out, `{ entity(ref: "component:payments") { ... on Component { deployments { revision stale } } } }`, nil)
	if len(out.Entity.Deployments) != 1 {
		return "", false
	}
	return out.Entity.Deployments[0].Revision, out.Entity.Deployments[0].Stale
}

// The production path to Argo CD: portside serve starts portside-argocd, which speaks to Argo CD
// (here a scripted one over real gRPC) with Argo CD's client; a companion that dies is started
// again and nothing is lost; SIGTERM to portside ends both.
func TestServeFollowsArgoCDThroughItsCompanionProcess(t *testing.T) {
	argo := argocdtest.Start(t)
	argo.Put(argocdtest.App("payments", func(a *v1alpha1.Application) { a.Status.Sync.Revision = "r1" }))

	dir := t.TempDir()
	db := filepath.Join(dir, "portside.db")
	writeFile(t, filepath.Join(dir, "catalog", "catalog-info.yaml"), `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments
  annotations: {argocd/app-name: payments}
spec: {type: service, lifecycle: production, owner: team-payments}
`)
	env := cleanEnv(t)
	mustRun(t, env, portsideBin, "catalog", "import", "--database", db, filepath.Join(dir, "catalog"))
	tok := mustRun(t, env, portsideBin, "token", "create", "--database", db, "--user", "ops", "--admin")
	lines := strings.Split(strings.TrimSpace(tok.stdout), "\n")
	s := startServeWith(t, append(env, "PORTSIDE_ARGOCD_TOKENS=prod="+argo.Token),
		"--database", db, "--dev-login", "false", "--argocd-instances", "prod=http://"+argo.Addr())
	s.token = lines[len(lines)-1]

	first := s.companion(t, 0)
	if cmdline, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(first), "cmdline")); strings.Contains(string(cmdline), argo.Token) {
		t.Errorf("the Argo CD token is on portside-argocd's command line")
	}
	poll(t, 30*time.Second, "payments deployed at r1", func() bool { rev, _ := s.revision(t); return rev == "r1" })
	argo.Update("argocd", "payments", func(a *v1alpha1.Application) { a.Status.Sync.Revision = "r2" })
	poll(t, 30*time.Second, "the watch to bring r2", func() bool { rev, _ := s.revision(t); return rev == "r2" })

	// The companion dies; portside starts another, which follows on: a change made meanwhile arrives.
	if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	argo.Update("argocd", "payments", func(a *v1alpha1.Application) { a.Status.Sync.Revision = "r3" })
	second := s.companion(t, first)
	poll(t, 60*time.Second, "r3 through the new companion", func() bool {
		rev, stale := s.revision(t)
		return rev == "r3" && !stale
	})

	// An action goes through it too, and Argo CD records who asked.
	var out map[string]any
	s.graphql(t, &out, `mutation { syncDeployment(input: {component: "payments"}) { deployment { application } } }`, nil)
	calls := argo.Calls()
	if len(calls) == 0 || calls[len(calls)-1].Method != "Sync" || calls[len(calls)-1].Infos[argocd.RequestedByInfo] != "ops" {
		t.Fatalf("Argo CD saw %+v, want a Sync last, requested by ops", calls)
	}

	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("portside serve did not exit after SIGTERM\n%s", s.stderr)
	}
	poll(t, 10*time.Second, "portside-argocd to end with portside", func() bool {
		return syscall.Kill(second, 0) == syscall.ESRCH
	})
	if strings.Contains(s.stderr.String(), argo.Token) {
		t.Errorf("the Argo CD token appears in the logs")
	}
}

// Argo CD instances without the companion: the start fails, naming the setting that finds it.
func TestServeWithArgoCDButNoCompanionSaysWhichSettingFindsIt(t *testing.T) {
	dir := t.TempDir()
	alone := filepath.Join(dir, "portside") // no portside-argocd beside it
	data, err := os.ReadFile(portsideBin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(alone, data, 0o755); err != nil {
		t.Fatal(err)
	}
	env := append(cleanEnv(t), "PATH="+dir, "PORTSIDE_ARGOCD_TOKENS=prod=secret")
	r := run(t, env, alone, "serve", "--addr", "127.0.0.1:0", "--database", filepath.Join(dir, "p.db"), "--dev-login", "false",
		"--argocd-instances", "prod=http://127.0.0.1:1")
	if r.code == 0 || !strings.Contains(r.stderr, "argocd-connector") || !strings.Contains(r.stderr, "portside-argocd") {
		t.Errorf("serve without its companion: want a failed start naming argocd-connector and portside-argocd\n%s", r)
	}
}

// portside doctor reaches every configured Argo CD instance as serve would, through its
// companion, and lists its applications with the instance's token: a refused token and an
// instance that does not answer are failures that say what to check.
func TestDoctorListsEachArgoCDInstancesApplications(t *testing.T) {
	argo := argocdtest.Start(t)
	argo.Put(argocdtest.App("payments", nil))
	argo.Put(argocdtest.App("checkout", nil))
	db := filepath.Join(t.TempDir(), "portside.db")
	env := cleanEnv(t)
	mustRun(t, env, portsideBin, "migrate", "up", "--database", db)

	r := run(t, append(env, "PORTSIDE_ARGOCD_TOKENS=prod="+argo.Token), portsideBin, "doctor", "--database", db,
		"--argocd-instances", "prod=http://"+argo.Addr())
	if r.code != 0 || !regexp.MustCompile(`(?m)^ok\s+argocd/prod\s+.*2 applications visible`).MatchString(r.stdout) {
		t.Fatalf("doctor with one good instance: want exit 0 and prod's 2 applications\n%s", r)
	}

	r = run(t, append(env, "PORTSIDE_ARGOCD_TOKENS=prod="+argo.Token+",stage=not-the-token"), portsideBin, "doctor", "--database", db,
		"--timeout", "10s", "--argocd-instances", "prod=http://"+argo.Addr()+",stage=http://"+argo.Addr())
	if r.code != 1 || !regexp.MustCompile(`(?m)^ok\s+argocd/prod\s`).MatchString(r.stdout) ||
		!regexp.MustCompile(`(?m)^FAIL\s+argocd/stage\s`).MatchString(r.stdout) || !strings.Contains(r.stdout, "token") {
		t.Errorf("doctor with a refused token on stage: want exit 1, prod ok and stage failed naming the token\n%s", r)
	}
	if strings.Contains(r.stdout+r.stderr, "not-the-token") || strings.Contains(r.stdout+r.stderr, argo.Token) {
		t.Errorf("the doctor's report shows a token\n%s", r)
	}
}

// portside doctor starts the Kubernetes Jobs provider as serve does, in the companion: a
// kubeconfig it cannot read is named, one it can is fine (the cluster is reached by each run).
func TestDoctorChecksTheKubernetesJobsProvider(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "portside.db")
	env := cleanEnv(t)
	mustRun(t, env, portsideBin, "migrate", "up", "--database", db)

	missing := filepath.Join(dir, "no-such-kubeconfig")
	r := run(t, env, portsideBin, "doctor", "--database", db, "--kubernetes-jobs-kubeconfig", missing)
	if r.code != 1 || !regexp.MustCompile(`(?m)^FAIL\s+kubernetes-jobs\s+.*`+regexp.QuoteMeta(missing)).MatchString(r.stdout) {
		t.Errorf("doctor with a kubeconfig that is not there: want exit 1 and kubernetes-jobs failed naming it\n%s", r)
	}

	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`), 0o600); err != nil {
		t.Fatal(err)
	}
	r = run(t, env, portsideBin, "doctor", "--database", db, "--kubernetes-jobs-kubeconfig", kubeconfig, "--kubernetes-jobs-namespace", "ci")
	if r.code != 0 || !regexp.MustCompile(`(?m)^ok\s+kubernetes-jobs\s+.*namespace ci`).MatchString(r.stdout) {
		t.Errorf("doctor with a readable kubeconfig: want exit 0 and kubernetes-jobs ok\n%s", r)
	}
}

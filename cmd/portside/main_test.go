package main

// These tests build the real portside binary once and run it as a subprocess, the way people and
// the Kubernetes migration Job run it: flags, environment, exit codes, stdout and stderr.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/store/storetest"
)

// testVersion is stamped into the binary under test.
const testVersion = "v9.8.7-clitest"

// binary is the path of the portside binary built by TestMain.
var binary string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "portside-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	defer func() {
		for _, c := range cleanups {
			c()
		}
	}()
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	binary = filepath.Join(dir, "portside")
	// Built as deploy/Dockerfile builds it (CGO off, -trimpath), sharing the compiled packages
	// with the e2e tiers and deploy's test of the Dockerfile.
	build := exec.Command("go", "build", "-trimpath", "-ldflags", "-X main.version="+testVersion, "-o", binary, "./cmd/portside")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build ./cmd/portside: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// moduleRoot finds the directory of go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside a module")
	}
	return filepath.Dir(gomod), nil
}

// cliResult is what one run of the binary produced.
type cliResult struct {
	stdout, stderr string
	code           int
}

func (r cliResult) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.code, r.stdout, r.stderr)
}

// baseEnv is the test process's environment without any PORTSIDE_* setting, so that a
// developer's own configuration never leaks into the runs.
func baseEnv(t *testing.T) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PORTSIDE_") {
			env = append(env, kv)
		}
	}
	// Keep caches (git clones) inside the test's temp dir, and temporary directories in one the
	// test removes: a serve killed outright leaves its own behind.
	return append(env, "XDG_CACHE_HOME="+t.TempDir(), "TMPDIR="+testutil.ChildTempDir(t))
}

// envValue is the value a child with this environment sees for key (the last setting wins, as
// with os/exec), or "".
func envValue(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}

// portside runs the binary with the given extra environment ("KEY=value") and arguments and
// waits for it to exit. A run that does not end within a minute is killed and fails the test.
func portside(t *testing.T, env []string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(baseEnv(t), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := cliResult{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("portside %s did not exit within a minute\n%s", strings.Join(args, " "), res)
	case errors.As(err, &exit):
		res.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("run portside %s: %v", strings.Join(args, " "), err)
	}
	return res
}

// wantExit fails the test unless the run exited with code.
func wantExit(t *testing.T, r cliResult, code int, what string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("%s: exit %d, want %d\n%s", what, r.code, code, r)
	}
}

func TestVersionPrintsTheBuildVersion(t *testing.T) {
	r := portside(t, nil, "version")
	wantExit(t, r, 0, "portside version")
	if got, want := strings.TrimSpace(r.stdout), "portside "+testVersion; got != want {
		t.Errorf("stdout = %q, want %q", got, want)
	}
}

func TestBadSettingsFailAtStartNamingTheSetting(t *testing.T) {
	dir := t.TempDir()
	unknownKey := filepath.Join(dir, "unknown-key.yaml")
	badValue := filepath.Join(dir, "bad-value.yaml")
	missing := filepath.Join(dir, "missing.yaml")
	mustWrite(t, unknownKey, "addr: 127.0.0.1:0\nlisten_port: 8080\n")
	mustWrite(t, badValue, "# comment\nlog-level: loud\n")
	db := filepath.Join(dir, "portside.db")

	tests := []struct {
		name string
		env  []string
		args []string
		want []string // every one must appear in stderr
	}{
		{
			name: "log level flag",
			args: []string{"--log-level", "loud", "--addr", "127.0.0.1:0"},
			want: []string{"log-level", `"loud"`, "--log-level", "accepted values are debug, info, warn, error"},
		},
		{
			name: "addr from the environment",
			env:  []string{"PORTSIDE_ADDR=nonsense"},
			want: []string{"addr", `"nonsense"`, "PORTSIDE_ADDR", "accepted values are host:port"},
		},
		{
			name: "unsupported database scheme",
			args: []string{"--database", "mysql://x", "--addr", "127.0.0.1:0"},
			want: []string{"database", "mysql", "--database", "accepted values are a SQLite file path or a postgres:// URL"},
		},
		{
			name: "unknown key in the config file",
			args: []string{"--config", unknownKey},
			want: []string{`unknown key "listen_port"`, unknownKey, "line 2"},
		},
		{
			name: "bad value in the config file",
			args: []string{"--config", badValue},
			want: []string{"log-level", `"loud"`, badValue + " line 2", "accepted values are debug, info, warn, error"},
		},
		{
			name: "unreadable kubeconfig of the Kubernetes Jobs provider",
			env:  []string{"PORTSIDE_KUBERNETES_JOBS_KUBECONFIG=" + filepath.Join(dir, "no-kubeconfig")},
			args: []string{"--addr", "127.0.0.1:0"},
			want: []string{"kubernetes-jobs-kubeconfig", "cannot read", "no-kubeconfig"},
		},
		{
			name: "bad namespace of the Kubernetes Jobs provider",
			args: []string{"--kubernetes-jobs-namespace", "CI_Jobs", "--addr", "127.0.0.1:0"},
			want: []string{"kubernetes-jobs-namespace", `"CI_Jobs"`, "accepted values are Kubernetes namespace names"},
		},
		{
			name: "in-cluster outside a cluster",
			args: []string{"--kubernetes-jobs-in-cluster", "--addr", "127.0.0.1:0"},
			want: []string{"kubernetes-jobs-in-cluster", "not running in a Kubernetes pod"},
		},
		{
			name: "missing config file",
			env:  []string{"PORTSIDE_CONFIG=" + missing},
			args: []string{"--addr", "127.0.0.1:0"},
			want: []string{missing, "does not exist", "PORTSIDE_CONFIG"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := append([]string{"PORTSIDE_DATABASE_URL=" + db}, tt.env...)
			r := portside(t, env, append([]string{"serve"}, tt.args...)...)
			wantExit(t, r, 1, "serve with a bad setting")
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr does not contain %q\n%s", w, r)
				}
			}
			if strings.Contains(r.stderr, "listening") {
				t.Errorf("serve started despite the bad setting\n%s", r)
			}
		})
	}
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

var (
	pendingFirst = regexp.MustCompile(`(?m)^\s+pending\s+00001_catalog\.sql$`)
	appliedFirst = regexp.MustCompile(`(?m)^\s+applied\s+00001_catalog\.sql$`)
)

func TestMigrateStatusAndUp(t *testing.T) {
	dialects := []struct {
		name string
		// database returns the flags and environment that select a fresh, empty database.
		database func(t *testing.T) (args, env []string)
	}{
		{"sqlite", func(t *testing.T) ([]string, []string) {
			return []string{"--database", filepath.Join(t.TempDir(), "fresh.db")}, nil
		}},
		{"postgres", func(t *testing.T) ([]string, []string) {
			return nil, []string{"PORTSIDE_DATABASE_URL=" + storetest.PostgresURL(t)}
		}},
	}
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			args, env := d.database(t)
			run := func(sub string) cliResult {
				return portside(t, env, append(append([]string{}, args...), "migrate", sub)...)
			}

			r := run("status")
			wantExit(t, r, 3, "migrate status on a fresh database")
			if !pendingFirst.MatchString(r.stdout) {
				t.Errorf("status does not list 00001_catalog.sql as pending\n%s", r)
			}
			if !strings.Contains(r.stderr, "portside migrate up") {
				t.Errorf("status does not say how to migrate\n%s", r)
			}

			r = run("up")
			wantExit(t, r, 0, "migrate up")
			if !strings.Contains(r.stdout, "applied 00001_catalog.sql") {
				t.Errorf("up does not report the migration it applied\n%s", r)
			}

			r = run("status")
			wantExit(t, r, 0, "migrate status after up")
			if !appliedFirst.MatchString(r.stdout) || strings.Contains(r.stdout, "pending") {
				t.Errorf("status after up does not show every migration applied\n%s", r)
			}

			r = run("up")
			wantExit(t, r, 0, "migrate up a second time")
			if strings.Contains(r.stdout, "applied 00001") || !strings.Contains(r.stdout, "0 migrations applied now") {
				t.Errorf("a second up applied something\n%s", r)
			}
		})
	}
}

// Issue #17: N's migrate on the schema N+1 expanded: status exits 3 saying it is newer but
// compatible, up succeeds applying nothing (N's migration Job in a rollback); once a contract
// migration raised the floor above N, status says incompatible and up is refused.
func TestMigrateOnANewerSchema(t *testing.T) {
	for _, d := range []struct {
		name string
		url  func(testing.TB) string
	}{{"sqlite", storetest.SQLiteURL}, {"postgres", storetest.PostgresURL}} {
		t.Run(d.name, func(t *testing.T) {
			url := d.url(t)
			s := storetest.Open(t, url, true)
			st, err := s.SchemaStatus(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			future := st.Latest + 1
			if err := s.Gorm().Exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, ?)", future, true).Error; err != nil {
				t.Fatal(err)
			}
			env := []string{"PORTSIDE_DATABASE_URL=" + url}

			r := portside(t, env, "migrate", "status")
			wantExit(t, r, 3, "migrate status on a newer, compatible schema")
			if !strings.Contains(r.stdout, fmt.Sprintf("schema version: %d (this Portside knows up to %d): newer, compatible", future, st.Latest)) ||
				!strings.Contains(r.stderr, "serves on it") {
				t.Errorf("status does not say the schema is newer and compatible\n%s", r)
			}
			r = portside(t, env, "migrate", "up")
			wantExit(t, r, 0, "migrate up on a newer, compatible schema")
			if !strings.Contains(r.stdout, fmt.Sprintf("at schema version %d (0 migrations applied now)", future)) {
				t.Errorf("up on a newer schema did not report applying nothing\n%s", r)
			}

			if err := s.Gorm().Exec("UPDATE schema_floor SET oldest_reader = ?", future).Error; err != nil {
				t.Fatal(err)
			}
			r = portside(t, env, "migrate", "status")
			wantExit(t, r, 3, "migrate status above the floor")
			if !strings.Contains(r.stdout, fmt.Sprintf("newer, incompatible (floor %d)", future)) {
				t.Errorf("status does not say the schema is incompatible\n%s", r)
			}
			r = portside(t, env, "migrate", "up")
			if r.code == 0 || !strings.Contains(r.stderr, "incompatible") || !strings.Contains(r.stderr, fmt.Sprintf("at least %d", future)) {
				t.Errorf("up above the floor: want a refusal naming the floor\n%s", r)
			}
		})
	}
}

// The portside binary must not link Argo CD's client: it brings Kubernetes' API machinery,
// kubectl and Helm, and every portside command would carry them resident (the catalog import's
// 200 MB budget among them). portside-argocd holds it; see package rollouts/connector.
func TestThePortsideBinaryDoesNotLinkArgoCD(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, banned := range []string{"github.com/argoproj/", "k8s.io/client-go/", "k8s.io/kubectl/", "k8s.io/kubernetes/",
			"github.com/portside-dev/portside/rollouts/argocd"} {
			if strings.HasPrefix(pkg, banned) {
				t.Errorf("portside links %s (from %s); only portside-argocd may", pkg, banned)
			}
		}
	}
}

// A group of commands runs nothing by itself: without a subcommand, or with one it does not
// have, it fails (a migration Job running "migrate upp" must not succeed having done nothing).
func TestAGroupOfCommandsFailsWithoutAKnownSubcommand(t *testing.T) {
	for _, args := range [][]string{{"migrate", "upp"}, {"migrate"}, {"deploy", "aprove", "1"}, {"tasks", "project"}, {"tasks", "project", "craete"}, {"token", "lst"}} {
		root := newRoot()
		root.SetArgs(args)
		root.SetOut(io.Discard)
		root.SetErr(io.Discard)
		err := root.Execute()
		if err == nil || !(strings.Contains(err.Error(), "unknown command") || strings.Contains(err.Error(), "needs a subcommand")) {
			t.Errorf("portside %s: %v, want an error naming the unknown or missing subcommand", strings.Join(args, " "), err)
		}
	}
	// A near miss is named, and the group's commands listed.
	root := newRoot()
	root.SetArgs([]string{"migrate", "upp"})
	root.SetOut(io.Discard)
	root.SetErr(io.Discard)
	if err := root.Execute(); err == nil || !strings.Contains(err.Error(), "did you mean up?") || !strings.Contains(err.Error(), "its commands: status, up") {
		t.Errorf("portside migrate upp: %v, want the near miss and the commands", err)
	}
}

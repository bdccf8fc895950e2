package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/store/storetest"
)

// serveProc is a running `portside serve`.
type serveProc struct {
	cmd    *exec.Cmd
	stderr *testutil.Buffer
	exited chan error // receives Wait's result once
	addr   string
}

// startServe starts `portside serve` on a free port and waits until it logs where it listens.
func startServe(t *testing.T, env []string, args ...string) *serveProc {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"serve", "--addr", "127.0.0.1:0", "--refresh-interval", "0"}, args...)...)
	cmd.Env = append(baseEnv(t), env...)
	s := &serveProc{cmd: cmd, stderr: &testutil.Buffer{}, exited: make(chan error, 1)}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-s.exited
		// Killed outright, serve leaves behind the GitOps working directory it made at start
		// (no deploy-git-dir given): it must be in the TMPDIR baseEnv gave it, which the test
		// removes, not in the host's temp directory, where every test run left more.
		ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
		if ws.Signaled() && ws.Signal() == syscall.SIGKILL && s.addr != "" && !t.Failed() && !ownGitDir(cmd) {
			tmp := envValue(cmd.Env, "TMPDIR")
			if made, _ := filepath.Glob(filepath.Join(tmp, "portside-gitops-*")); tmp == "" || len(made) != 1 {
				t.Errorf("a serve killed outright left %v in its TMPDIR %q; want its one GitOps working directory there", made, tmp)
			}
		}
	})
	testutil.Eventually(t, 30*time.Second, func() bool {
		for _, line := range strings.Split(s.stderr.String(), "\n") {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "portside listening" {
				s.addr = rec.Addr
			}
		}
		select {
		case err := <-s.exited:
			s.exited <- err
			t.Fatalf("portside serve exited before listening: %v\n%s", err, s.stderr)
		default:
		}
		return s.addr != ""
	}, func() string { return "portside serve did not report its address within 30s\n" + s.stderr.String() })
	return s
}

// ownGitDir reports whether the serve was told where to keep its GitOps clones (then it makes no
// temporary directory for them).
func ownGitDir(cmd *exec.Cmd) bool {
	return envValue(cmd.Env, "PORTSIDE_DEPLOY_GIT_DIR") != "" || slices.ContainsFunc(cmd.Args, func(a string) bool {
		return strings.HasPrefix(a, "--deploy-git-dir") || strings.HasPrefix(a, "--config")
	}) || envValue(cmd.Env, "PORTSIDE_CONFIG") != ""
}

// waitReady polls /readyz until it answers 200.
func (s *serveProc) waitReady(t *testing.T) {
	t.Helper()
	var resp *http.Response
	var err error
	testutil.Eventually(t, 30*time.Second, func() bool {
		resp, err = http.Get("http://" + s.addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, func() string {
		return fmt.Sprintf("/readyz did not answer 200 within 30s (last: %v %v)\n%s", resp, err, s.stderr)
	})
}

// stop sends SIGTERM and returns the exit code once the process ends. A serve that stopped cleanly
// must have removed the temporary directories it made (its GitOps working directory, the
// companion's socket directory): the test fails when its TMPDIR holds any but local pipeline
// runs' logs, which outlive serve on purpose.
func (s *serveProc) stop(t *testing.T) int {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.exited:
		s.exited <- err
		if code := s.cmd.ProcessState.ExitCode(); code != 0 {
			return code
		}
		tmp := envValue(s.cmd.Env, "TMPDIR")
		entries, err := os.ReadDir(tmp)
		if tmp == "" || err != nil {
			t.Errorf("read serve's TMPDIR %q: %v", tmp, err)
		}
		for _, e := range entries {
			if ok, _ := filepath.Match("portside-run-*-logs", e.Name()); !ok {
				t.Errorf("serve stopped cleanly and left %s in its TMPDIR", e.Name())
			}
		}
		return 0
	case <-time.After(30 * time.Second):
		t.Fatalf("portside serve did not exit within 30s of SIGTERM\n%s", s.stderr)
		return -1
	}
}

// Told not to migrate, serve refuses a SQLite path with no database there, creating nothing
// (it left an empty file, then refused it as not migrated).
func TestServeWithoutMigratingRefusesAMissingSQLiteDatabase(t *testing.T) {
	db := filepath.Join(t.TempDir(), "typo.db")
	r := portside(t, nil, "--database", db, "serve", "--migrate=false", "--addr", "127.0.0.1:0")
	wantExit(t, r, 1, "serve --migrate=false on a missing database")
	if !strings.Contains(r.stderr, "no SQLite database at "+db) || !strings.Contains(r.stderr, "migrate true") {
		t.Errorf("the refusal does not say what is missing and how to fix it\n%s", r)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("serve created %s (stat: %v)", db, err)
	}
}

func TestServeRefusesAnUnmigratedPostgresDatabaseUntilMigrated(t *testing.T) {
	env := []string{"PORTSIDE_DATABASE_URL=" + storetest.PostgresURL(t)}

	r := portside(t, env, "serve", "--addr", "127.0.0.1:0")
	if r.code == 0 {
		t.Fatalf("serve on an unmigrated PostgreSQL database exited 0\n%s", r)
	}
	for _, want := range []string{"not migrated", "portside migrate up", "--migrate"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the refusal does not say %q\n%s", want, r)
		}
	}
	if strings.Contains(r.stderr, "listening") {
		t.Errorf("serve listened on an unmigrated database\n%s", r)
	}

	wantExit(t, portside(t, env, "migrate", "up"), 0, "migrate up")

	s := startServe(t, env)
	s.waitReady(t)
	resp, err := http.Get("http://" + s.addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var health struct{ Version string }
	err = json.NewDecoder(resp.Body).Decode(&health)
	resp.Body.Close()
	if err != nil || health.Version != testVersion {
		t.Errorf("/healthz version = %q (%v), want %q", health.Version, err, testVersion)
	}
	if code := s.stop(t); code != 0 {
		t.Errorf("serve exited %d after SIGTERM, want 0\n%s", code, s.stderr)
	}
}

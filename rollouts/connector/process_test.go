package connector_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/rollouts"
	"github.com/portside-dev/portside/rollouts/connector"
)

// childEnv makes the test binary act as portside-argocd: Start runs it as the child, with
// sources that answer List with one application carrying what the child was told (the token
// proves that the configuration crossed the pipe).
const childEnv = "CONNECTOR_TEST_CHILD" // not PORTSIDE_*: those the child does not get

// parentEnv makes the test binary a parent that starts a child, prints the child's PID, and waits
// to be killed.
const parentEnv = "CONNECTOR_TEST_PARENT"

func TestMain(m *testing.M) {
	if os.Getenv(parentEnv) == "1" {
		_ = os.Unsetenv(parentEnv)
		_ = os.Setenv(childEnv, "1")
		p, err := connector.Start(context.Background(), connector.Options{Path: os.Args[0],
			Instances: []connector.Instance{{Name: "prod", Addr: "argocd:443", Token: "t"}}})
		if err != nil {
			os.Exit(1)
		}
		if _, err := p.Sources()[0].List(context.Background()); err != nil {
			os.Exit(1)
		}
		fmt.Println(p.PID())
		select {}
	}
	if os.Getenv(childEnv) == "1" {
		err := connector.Serve(slog.New(slog.DiscardHandler),
			func(inst connector.Instance) (rollouts.Source, error) {
				if inst.Token == "" {
					return nil, errs.InvalidField("token", "Argo CD instance %q has no API token", inst.Name)
				}
				return &fakeSource{name: inst.Name, list: func() ([]rollouts.Application, error) {
					app := rollouts.Application{Labels: map[string]string{"token": inst.Token, "addr": inst.Addr, "pid": itoa(os.Getpid()),
						"secret-env": os.Getenv("PORTSIDE_AUTH_CLIENT_SECRET")}}
					app.Instance, app.Application = inst.Name, "payments"
					return []rollouts.Application{app}, nil
				}}, nil
			}, nil, childTracing)
		if err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func itoa(n int) string { return strconv.Itoa(n) }

func startChild(t *testing.T, instances ...connector.Instance) *connector.Process {
	t.Helper()
	t.Setenv(childEnv, "1")
	p, err := connector.Start(context.Background(), connector.Options{Path: os.Args[0], Instances: instances,
		MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// listed lists the instance, waiting for a child that is starting (a child that exited: the next
// one starts after a backoff, and calls meanwhile are UNAVAILABLE).
func listed(t *testing.T, src rollouts.Source) rollouts.Application {
	t.Helper()
	var apps []rollouts.Application
	var err error
	testutil.Eventually(t, 30*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		apps, err = src.List(ctx)
		if err != nil && !errs.Is(err, errs.Unavailable) {
			t.Fatalf("List: %v", err)
		}
		return err == nil
	}, "the child to answer List")
	if len(apps) != 1 {
		t.Fatalf("List = %+v, want one application", apps)
	}
	return apps[0]
}

func TestTheChildGetsItsInstancesAndTokensOverThePipeAndServesThem(t *testing.T) {
	t.Setenv("PORTSIDE_AUTH_CLIENT_SECRET", "not-for-the-child")
	p := startChild(t, connector.Instance{Name: "prod", Addr: "argocd.example.com:443", Token: "secret-prod"},
		connector.Instance{Name: "staging", Addr: "argocd-staging.example.com:443", Token: "secret-staging"})
	srcs := p.Sources()
	if len(srcs) != 2 || srcs[0].Name() != "prod" || srcs[1].Name() != "staging" {
		t.Fatalf("sources = %v, want prod and staging", srcs)
	}
	for i, want := range []map[string]string{{"token": "secret-prod", "addr": "argocd.example.com:443"},
		{"token": "secret-staging", "addr": "argocd-staging.example.com:443"}} {
		app := listed(t, srcs[i])
		if app.Labels["token"] != want["token"] || app.Labels["addr"] != want["addr"] || app.Instance != srcs[i].Name() {
			t.Errorf("%s: the child answered %+v, want its own instance's token and address %v", srcs[i].Name(), app, want)
		}
		if app.Labels["secret-env"] != "" {
			t.Errorf("the child's environment holds Portside's settings (PORTSIDE_AUTH_CLIENT_SECRET=%s)", app.Labels["secret-env"])
		}
		if app.Labels["pid"] != itoa(p.PID()) {
			t.Errorf("%s was answered by process %s, want the child %d", srcs[i].Name(), app.Labels["pid"], p.PID())
		}
	}
	if strings.Contains(strings.Join(childArgs(t, p.PID()), " "), "secret") {
		t.Errorf("a token is on the child's command line")
	}
}

func childArgs(t *testing.T, pid int) []string {
	b, err := os.ReadFile(filepath.Join("/proc", itoa(pid), "cmdline"))
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	return strings.Split(string(b), "\x00")
}

func TestAChildThatDiesIsStartedAgainAndCallsWaitForIt(t *testing.T) {
	p := startChild(t, connector.Instance{Name: "prod", Addr: "argocd:443", Token: "t"})
	src := p.Sources()[0]
	first := listed(t, src).Labels["pid"]
	if err := syscall.Kill(p.PID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	second := listed(t, src).Labels["pid"]
	if second == first {
		t.Fatalf("still answered by process %s after it was killed", first)
	}
}

func TestAChildThatCannotStartSaysWhyToEveryCall(t *testing.T) {
	p := startChild(t, connector.Instance{Name: "prod", Addr: "argocd:443"}) // no token
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := p.Sources()[0].List(ctx) // waits for the first try to fail
	if errs.CodeOf(err) != errs.Unavailable || !strings.Contains(err.Error(), `Argo CD instance "prod" has no API token`) {
		t.Errorf("List = %v (%s), want UNAVAILABLE with the child's reason", err, errs.CodeOf(err))
	}
}

func TestCloseStopsTheChild(t *testing.T) {
	p := startChild(t, connector.Instance{Name: "prod", Addr: "argocd:443", Token: "t"})
	listed(t, p.Sources()[0])
	pid := p.PID()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("child %d still exists after Close (kill 0: %v)", pid, err)
	}
	if _, err := p.Sources()[0].List(context.Background()); errs.CodeOf(err) != errs.Unavailable {
		t.Errorf("List after Close = %v, want UNAVAILABLE", err)
	}
}

func TestLocateNamesTheSettingWhenTheCompanionIsMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if _, err := connector.Locate(""); errs.FieldOf(err) != "argocd-connector" || !strings.Contains(err.Error(), "portside-argocd") {
		t.Errorf("Locate with nothing to find = %v, want an error naming argocd-connector and portside-argocd", err)
	}
	notExec := filepath.Join(t.TempDir(), "portside-argocd")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := connector.Locate(notExec); errs.FieldOf(err) != "argocd-connector" || !strings.Contains(err.Error(), notExec) {
		t.Errorf("Locate(%s) = %v, want an error naming the setting and the path", notExec, err)
	}
	onPath := filepath.Join(t.TempDir(), "portside-argocd")
	if err := os.WriteFile(onPath, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", filepath.Dir(onPath))
	if got, err := connector.Locate(""); err != nil || got != onPath {
		t.Errorf("Locate found %q, %v; want %s from PATH", got, err, onPath)
	}
}

func TestAChildEndsWhenItsParentIsKilledOutright(t *testing.T) {
	// A parent killed outright leaves its socket directory behind: make it here, and remove it.
	// (Not t.TempDir: a socket path must stay under about 100 bytes.)
	tmp, err := os.MkdirTemp("", "connector-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(tmp) })
	parent := exec.Command(os.Args[0], "-test.run=^$")
	parent.Env = append(os.Environ(), parentEnv+"=1", "TMPDIR="+tmp)
	out, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = parent.Process.Kill(); _ = parent.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	child, convErr := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || convErr != nil || child == 0 {
		t.Fatalf("the parent printed %q (%v), want its child's PID", line, err)
	}
	if err := parent.Process.Kill(); err != nil { // SIGKILL: no chance to stop its child
		t.Fatal(err)
	}
	_ = parent.Wait()
	testutil.Eventually(t, 30*time.Second, func() bool { return gone(child) }, "child %d to end after its parent was killed", child)
}

// gone reports whether a process has ended: it no longer exists, or is a zombie nobody reaped
// yet (an orphan's new parent may be slow to, or never, as PID 1 in some containers).
func gone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	b, err := os.ReadFile(filepath.Join("/proc", itoa(pid), "stat"))
	if err != nil {
		return true
	}
	// The state follows the command name in parentheses: "pid (comm) S ...".
	rest := string(b[strings.LastIndexByte(string(b), ')')+1:])
	return strings.HasPrefix(strings.TrimSpace(rest), "Z")
}

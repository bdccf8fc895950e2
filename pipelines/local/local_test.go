package local_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/pipelines"
	"github.com/portside-dev/portside/pipelines/local"
	"github.com/portside-dev/portside/store/storetest"
)

type catalog struct{ decl string }

func (c catalog) ComponentAnnotations(context.Context, string, string) (string, map[string]string, error) {
	return "component:default/demo", map[string]string{pipelines.AnnotationPipelines: c.decl}, nil
}

func (catalog) Owns(context.Context, *principal.Principal, string) (bool, error) { return true, nil }

var owner = principal.With(context.Background(), &principal.Principal{Username: "bob", Kind: principal.KindToken, Client: principal.ClientCLI})

// service runs the real domain service on SQLite with the local provider.
func service(t *testing.T, decl string, enabled bool) (*pipelines.Service, *local.Provider) {
	t.Helper()
	prov := local.New(local.Options{Enabled: enabled, WorkRoot: t.TempDir()})
	t.Cleanup(func() { _ = prov.Close() })
	s := pipelines.NewService(storetest.SQLite(t), pipelines.Options{Catalog: catalog{decl}, Providers: []pipelines.Provider{prov}})
	t.Cleanup(s.Stop)
	return s, prov
}

// finish polls the run until it is done and returns it.
func finish(t *testing.T, s *pipelines.Service, id int64) pipelines.Run {
	t.Helper()
	var run pipelines.Run
	testutil.Eventually(t, 60*time.Second, func() bool {
		if _, err := s.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
		run, _ = s.Run(owner, id)
		return !run.Active()
	}, "run %d finishes", id)
	return run
}

func statuses(r pipelines.Run) string {
	var out []string
	for _, s := range r.Stages {
		out = append(out, s.Name+"="+string(s.Status))
	}
	return strings.Join(out, " ")
}

const threeStages = `- name: ci
  provider: local
  parameters:
    - {name: failAt, type: choice, options: [none, Test], default: none}
  stages:
    - {name: Build, run: "echo built > artifact.txt; test \"$PORTSIDE_PARAM_failAt\" != Build"}
    - {name: Test, run: "test -f artifact.txt && test \"$PORTSIDE_PARAM_failAt\" != Test"}
    - {name: Release, run: "echo image=registry.example/demo@sha256:abc >> \"$PORTSIDE_OUTPUT\"; echo version=1.2.3 >> \"$PORTSIDE_OUTPUT\""}
`

func TestTheLocalProviderIsRefusedUnlessEnabled(t *testing.T) {
	s, _ := service(t, threeStages, false)
	_, err := s.Trigger(owner, pipelines.TriggerInput{Component: "demo", Pipeline: "ci"})
	if !errs.Is(err, errs.Unavailable) || !strings.Contains(err.Error(), "for development only") || !strings.Contains(err.Error(), "pipelines-local") {
		t.Errorf("trigger with the provider off: %v", err)
	}
}

func TestStagesRunInOrderInOneWorkDirAndReportArtifacts(t *testing.T) {
	s, _ := service(t, threeStages, true)
	run, err := s.Trigger(owner, pipelines.TriggerInput{Component: "demo", Pipeline: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	run = finish(t, s, run.ID)
	if run.Status != pipelines.Succeeded || statuses(run) != "Build=SUCCEEDED Test=SUCCEEDED Release=SUCCEEDED" {
		t.Fatalf("run %s: %s (%s)", run.Status, statuses(run), run.Message)
	}
	if len(run.Artifacts) != 1 || run.Artifacts[0].Image != "registry.example/demo@sha256:abc" || run.Artifacts[0].Version != "1.2.3" {
		t.Errorf("artifacts = %+v", run.Artifacts)
	}
	for _, st := range run.Stages {
		if st.StartedAt == nil || st.FinishedAt == nil || !strings.HasPrefix(st.LogURL, "file://") {
			t.Errorf("stage %+v lacks its times or log", st)
		}
	}
}

func TestAFailingStageFailsFast(t *testing.T) {
	s, _ := service(t, threeStages, true)
	run, err := s.Trigger(owner, pipelines.TriggerInput{Component: "demo", Pipeline: "ci", Parameters: map[string]string{"failAt": "Test"}})
	if err != nil {
		t.Fatal(err)
	}
	run = finish(t, s, run.ID)
	if run.Status != pipelines.Failed || statuses(run) != "Build=SUCCEEDED Test=FAILED Release=SKIPPED" {
		t.Errorf("run %s: %s", run.Status, statuses(run))
	}
	if len(run.Artifacts) != 0 {
		t.Errorf("a run that never released has artifacts %+v", run.Artifacts)
	}
}

func TestCancelKillsTheStagesWholeProcessGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "child.pid")
	decl := `- name: slow
  provider: local
  stages:
    - {name: Wait, run: "sleep 300 & echo $! > ` + pidFile + `; wait"}
    - {name: Never, run: "true"}
`
	s, _ := service(t, decl, true)
	run, err := s.Trigger(owner, pipelines.TriggerInput{Component: "demo", Pipeline: "slow"})
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	testutil.Eventually(t, 30*time.Second, func() bool {
		b, err := os.ReadFile(pidFile)
		if err != nil || !strings.HasSuffix(string(b), "\n") {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil
	}, "the stage starts its child")
	got, err := s.Cancel(owner, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	run = finish(t, s, got.ID)
	if run.Status != pipelines.Cancelled || statuses(run) != "Wait=CANCELLED Never=SKIPPED" {
		t.Errorf("run %s: %s", run.Status, statuses(run))
	}
	testutil.Eventually(t, 30*time.Second, func() bool { return gone(pid) }, "the stage's child (pid %d) is killed with its group", pid)
}

// gone reports whether a process has ended (a zombie waiting for a reaper has ended too).
func gone(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return true
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	fields := strings.Fields(string(b))
	return len(fields) > 2 && fields[2] == "Z"
}

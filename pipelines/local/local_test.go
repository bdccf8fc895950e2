package local_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/proc"
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

// A local run lives in the process that started it, and its ID names that process: another
// process sharing the database leaves a run alone while its process runs (serve's poll failed
// every run a `pipeline trigger` beside it was following, and two triggers each other's), and
// refuses to cancel it, naming the process; another host's run, whose process no one here can
// see, until it has outlived the longest run the provider allows. A run whose process is gone,
// or whose ID names no process (written before IDs did), is no one's: NotFound, which records
// it as ended.
func TestAnotherProcesssLocalRunIsLeftToItWhileItRuns(t *testing.T) {
	prov := local.New(local.Options{Enabled: true, WorkRoot: t.TempDir(), StageTimeout: time.Minute})
	t.Cleanup(func() { _ = prov.Close() })
	self := proc.Self()
	dead := exec.Command(os.Args[0], "-test.run=^$")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	decl := pipelines.Declaration{Name: "ci", Provider: pipelines.ProviderLocal, Stages: []pipelines.StageDecl{{Name: "A"}, {Name: "B"}}}
	now := time.Now()
	runOf := func(owner proc.Identity, started time.Time) pipelines.Run {
		return pipelines.Run{ID: 7, Provider: pipelines.ProviderLocal, ProviderRunID: "local-d1@" + owner.String(), CreatedAt: started, StartedAt: &started}
	}
	elsewhere := proc.Identity{Host: "elsewhere", PID: 1, Start: "1"} // another host's (or a restarted container's): no one here can tell
	for _, c := range []struct {
		name string
		run  pipelines.Run
	}{
		{"another process on this host", runOf(proc.Of(os.Getppid()), now.Add(-time.Hour))},
		{"another host's, within the longest run (2 stages of a minute, and a minute)", runOf(elsewhere, now.Add(-2*time.Minute))},
	} {
		u, err := prov.Status(context.Background(), c.run, decl)
		if err != nil || u.Status != "" || u.ProviderRunID != "" {
			t.Errorf("%s: Status = %+v, %v; want no update", c.name, u, err)
		}
		err = prov.Cancel(context.Background(), c.run, decl)
		if !errs.Is(err, errs.Conflict) || !strings.Contains(errs.PublicMessage(err), "runs in process") {
			t.Errorf("%s: Cancel = %v; want CONFLICT naming the process", c.name, err)
		}
	}
	for _, c := range []struct {
		name string
		run  pipelines.Run
	}{
		{"a process that ended", runOf(proc.Identity{Host: self.Host, PID: dead.Process.Pid, Start: "1"}, now)},
		{"a process whose PID another has now", runOf(proc.Identity{Host: self.Host, PID: os.Getppid(), Start: "1"}, now)},
		{"an earlier process with this one's PID", runOf(proc.Identity{Host: self.Host, PID: self.PID, Start: "1"}, now)},
		{"this process, which forgot it (or never had it)", runOf(self, now)},
		{"another host's, past the longest run", runOf(elsewhere, now.Add(-4*time.Minute))},
	} {
		if c.name == "an earlier process with this one's PID" && (self.Start == "" || self.Start == "1") {
			continue // no start time on this system: this process's PID is taken for this process
		}
		if _, err := prov.Status(context.Background(), c.run, decl); !errs.Is(err, errs.NotFound) {
			t.Errorf("%s: Status: %v; want NOT_FOUND", c.name, err)
		}
		if err := prov.Cancel(context.Background(), c.run, decl); !errs.Is(err, errs.NotFound) {
			t.Errorf("%s: Cancel: %v; want NOT_FOUND", c.name, err)
		}
	}
	old := pipelines.Run{ID: 8, Provider: pipelines.ProviderLocal, ProviderRunID: "local-d2"}
	if _, err := prov.Status(context.Background(), old, decl); !errs.Is(err, errs.NotFound) {
		t.Errorf("Status of a run named the old way: %v; want NOT_FOUND", err)
	}

	// This process's own runs are named after it, and followed to their end.
	s, _ := service(t, threeStages, true)
	run, err := s.Trigger(owner, pipelines.TriggerInput{Component: "demo", Pipeline: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(run.ProviderRunID, "@"+self.String()) {
		t.Errorf("provider run ID %q does not name this process (%s)", run.ProviderRunID, self)
	}
	if got := finish(t, s, run.ID); got.Status != pipelines.Succeeded {
		t.Errorf("run ended %s: %s", got.Status, got.Message)
	}
}

// Cancelling a run its provider no longer knows (a local run whose process ended) records it as
// ended, with why, instead of failing and leaving it running.
func TestCancellingARunTheProviderForgotEndsIt(t *testing.T) {
	st := storetest.SQLite(t)
	prov := local.New(local.Options{Enabled: true, WorkRoot: t.TempDir()})
	t.Cleanup(func() { _ = prov.Close() })
	s := pipelines.NewService(st, pipelines.Options{Catalog: catalog{`- {name: slow, provider: local, stages: [{name: Wait, run: "sleep 30"}]}`},
		Providers: []pipelines.Provider{prov}})
	t.Cleanup(s.Stop)
	run, err := s.Trigger(owner, pipelines.TriggerInput{Component: "demo", Pipeline: "slow"})
	if err != nil {
		t.Fatal(err)
	}
	// As if another process had started it and ended since.
	dead := exec.Command(os.Args[0], "-test.run=^$")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	gone := proc.Identity{Host: proc.Self().Host, PID: dead.Process.Pid, Start: "1"}
	if err := st.Gorm().Exec("UPDATE pipeline_runs SET provider_run_id = ? WHERE id = ?", "local-x@"+gone.String(), run.ID).Error; err != nil {
		t.Fatal(err)
	}
	got, err := s.Cancel(owner, run.ID)
	if err != nil {
		t.Fatalf("cancel: %v", err)
	}
	if got.Active() || !strings.Contains(got.Message, "no longer knows") {
		t.Errorf("after cancel: %s %q; want ended, saying the provider no longer knows it", got.Status, got.Message)
	}
}

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portside-dev/portside/internal/testutil"
)

const validCatalog = `apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-a
spec:
  type: team
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: svc-a
spec:
  type: service
  lifecycle: production
  owner: team-a
`

// invalidCatalog has one valid document and two invalid ones: document 2 lacks spec.owner (its
// spec block's contents start on line 15) and document 3 has a bad metadata.name on line 21.
const invalidCatalog = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: svc-ok
spec:
  type: service
  lifecycle: production
  owner: team-a
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: svc-no-owner
spec:
  type: service
  lifecycle: production
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: Bad Name!
spec:
  type: service
  lifecycle: production
  owner: team-a
`

// catalogDir writes catalog-info.yaml files (path relative to the dir -> content) into a new dir.
func catalogDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		mustWrite(t, filepath.Join(dir, name), content)
	}
	return dir
}

func TestCatalogValidateListsEveryErrorWithFileDocumentLineAndField(t *testing.T) {
	dir := catalogDir(t, map[string]string{
		"good/catalog-info.yaml": validCatalog,
		"bad/catalog-info.yaml":  invalidCatalog,
	})
	bad := filepath.Join(dir, "bad", "catalog-info.yaml")

	r := portside(t, nil, "catalog", "validate", dir)
	wantExit(t, r, 1, "validate with an invalid file")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	wantPrefixes := []string{
		bad + ": document 2, line 15: spec.owner: ",
		bad + ": document 3, line 21: metadata.name: ",
	}
	if len(lines) != len(wantPrefixes) {
		t.Fatalf("stdout has %d lines, want one per error (%d)\n%s", len(lines), len(wantPrefixes), r)
	}
	for i, want := range wantPrefixes {
		if !strings.HasPrefix(lines[i], want) || len(lines[i]) == len(want) {
			t.Errorf("error line %d = %q, want %q followed by a message", i+1, lines[i], want)
		}
	}
	if !strings.Contains(r.stderr, "2 errors") {
		t.Errorf("stderr does not sum up the errors\n%s", r)
	}
}

func TestCatalogValidateChecksPipelineDeclarationsOffline(t *testing.T) {
	dir := catalogDir(t, map[string]string{"svc/catalog-info.yaml": `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: svc-a
  annotations:
    portside.dev/pipelines: |
      - name: release
        provider: local
        parameters:
          - {name: environment, type: choice, options: [staging, production], default: qa}
        stages:
          - {name: Build, run: make}
spec:
  type: service
  lifecycle: production
  owner: team-a
`})
	file := filepath.Join(dir, "svc", "catalog-info.yaml")
	r := portside(t, nil, "catalog", "validate", dir)
	wantExit(t, r, 1, "validate a component with an invalid pipeline declaration")
	want := file + ": document 1, line 10: metadata.annotations[portside.dev/pipelines][0].parameters[0].default: " +
		`"qa" is not one of the allowed values "staging", "production"`
	if got := strings.TrimSpace(r.stdout); got != want {
		t.Errorf("stdout = %q\nwant     %q", got, want)
	}
}

func TestCatalogValidateOnValidFilesSumsUp(t *testing.T) {
	dir := catalogDir(t, map[string]string{
		"a/catalog-info.yaml": validCatalog,
		"b/catalog-info.yaml": strings.NewReplacer("svc-a", "svc-b", "team-a", "team-b").Replace(validCatalog),
	})
	r := portside(t, nil, "catalog", "validate", dir)
	wantExit(t, r, 0, "validate valid files")
	if got, want := strings.TrimSpace(r.stdout), "2 files, 4 entities valid, 0 errors"; got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
}

func TestCatalogValidateAcceptsTheDemoCatalog(t *testing.T) {
	r := portside(t, nil, "catalog", "validate", filepath.Join("..", "..", "catalog", "demo"))
	wantExit(t, r, 0, "validate catalog/demo")
	if !regexp.MustCompile(`^\d+ files?, \d+ entities valid, 0 errors$`).MatchString(strings.TrimSpace(r.stdout)) {
		t.Errorf("summary = %q, want N files, M entities valid, 0 errors", r.stdout)
	}
}

// location is one row of `portside catalog locations`.
type location struct {
	id, typ, target, status string
	entities, errors        int
}

func listLocations(t *testing.T, db string) []location {
	t.Helper()
	r := portside(t, nil, "--database", db, "catalog", "locations")
	wantExit(t, r, 0, "catalog locations")
	lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "ID") {
		t.Fatalf("catalog locations prints no header\n%s", r)
	}
	var out []location
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) < 7 {
			t.Fatalf("catalog locations: malformed row %q", line)
		}
		var l location
		l.id, l.typ, l.target, l.status = f[0], f[1], f[2], f[3]
		if _, err := fmt.Sscan(f[4]+" "+f[5], &l.entities, &l.errors); err != nil {
			t.Fatalf("catalog locations: row %q: %v", line, err)
		}
		out = append(out, l)
	}
	return out
}

func TestCatalogImportLifecycle(t *testing.T) {
	db := filepath.Join(t.TempDir(), "portside.db") // fresh: import migrates it
	good := catalogDir(t, map[string]string{"catalog-info.yaml": validCatalog})
	bad := catalogDir(t, map[string]string{"catalog-info.yaml": invalidCatalog})
	cli := func(args ...string) cliResult {
		return portside(t, nil, append([]string{"--database", db}, args...)...)
	}

	r := cli("catalog", "import", good)
	wantExit(t, r, 0, "first import")
	for _, want := range []string{"location 1 (file " + good + "): ok, 2 entities", "added 2, updated 0, removed 0"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("first import: stdout lacks %q\n%s", want, r)
		}
	}

	r = cli("catalog", "import", good)
	wantExit(t, r, 0, "second import")
	if !strings.Contains(r.stdout, "unchanged") || strings.Contains(r.stdout, "added") {
		t.Errorf("importing the same location again should change nothing\n%s", r)
	}

	r = cli("catalog", "import", bad)
	wantExit(t, r, 2, "import with invalid documents")
	for _, want := range []string{
		filepath.Join(bad, "catalog-info.yaml") + ": document 2, line 15: spec.owner: ",
		filepath.Join(bad, "catalog-info.yaml") + ": document 3, line 21: metadata.name: ",
		"added 1, updated 0, removed 0",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("import of invalid documents: stdout lacks %q\n%s", want, r)
		}
	}
	if !strings.Contains(r.stderr, "2 errors") {
		t.Errorf("import of invalid documents: stderr does not count the errors\n%s", r)
	}

	got := listLocations(t, db)
	want := []location{
		{id: "1", typ: "file", target: good, status: "ok", entities: 2},
		{id: "2", typ: "file", target: bad, status: "invalid", entities: 1, errors: 2},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("locations = %+v\nwant        %+v", got, want)
	}

	// A new entity appears on refresh.
	mustWrite(t, filepath.Join(good, "more", "catalog-info.yaml"), strings.ReplaceAll(
		validCatalog[strings.Index(validCatalog, "---\n")+4:], "svc-a", "svc-new"))
	r = cli("catalog", "refresh", "1")
	wantExit(t, r, 0, "refresh")
	if !strings.Contains(r.stdout, "added 1, updated 0, removed 0") || !strings.Contains(r.stdout, "3 entities") {
		t.Errorf("refresh after adding a file\n%s", r)
	}

	r = cli("catalog", "unregister", "1")
	wantExit(t, r, 0, "unregister")
	if !strings.Contains(r.stdout, "removed 3 entities") {
		t.Errorf("unregister does not report the removed entities\n%s", r)
	}
	if got := listLocations(t, db); len(got) != 1 || got[0].id != "2" {
		t.Errorf("after unregister, locations = %+v, want only location 2", got)
	}
	// Its entities are gone too: registering the files again adds every one of them afresh.
	r = cli("catalog", "import", good)
	wantExit(t, r, 0, "import after unregister")
	if !strings.Contains(r.stdout, "added 3, updated 0, removed 0") {
		t.Errorf("import after unregister should add all 3 entities again\n%s", r)
	}
}

func TestCatalogImportOfAMissingPathRegistersNothing(t *testing.T) {
	db := filepath.Join(t.TempDir(), "portside.db")
	missing := filepath.Join(t.TempDir(), "no-such-dir")
	r := portside(t, nil, "--database", db, "catalog", "import", missing)
	wantExit(t, r, 1, "import of a missing path")
	if !strings.Contains(r.stderr, missing) || !strings.Contains(r.stderr, "does not exist") {
		t.Errorf("stderr does not say the path is missing\n%s", r)
	}
	// The database the command created for it is gone with it; one that was there keeps
	// everything but the location.
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("the refused import left %s behind (stat: %v)", db, err)
	}
	wantExit(t, portside(t, nil, "--database", db, "migrate", "up"), 0, "migrate up")
	wantExit(t, portside(t, nil, "--database", db, "catalog", "import", missing), 1, "import of a missing path")
	if got := listLocations(t, db); len(got) != 0 {
		t.Errorf("locations = %+v, want none", got)
	}
}

// A command that creates its SQLite database (import, token create: the first setup) and is then
// refused leaves no database behind: a mistyped --database with a bad flag left a migrated one.
func TestARefusedCommandLeavesNoDatabaseItCreated(t *testing.T) {
	dir := t.TempDir()
	for i, args := range [][]string{
		{"catalog", "import", dir, "--type", "bogus"},
		{"catalog", "import", "--ref", "main", dir},
		{"token", "create", "--user", "a", "--ttl", "1h", "--never-expires"},
		{"token", "create", "--user", "a", "--scopes", "admin"},
	} {
		db := filepath.Join(dir, fmt.Sprintf("typo-%d.db", i))
		r := portside(t, nil, append([]string{"--database", db}, args...)...)
		wantExit(t, r, 1, strings.Join(args, " "))
		if !strings.Contains(r.stderr, "removed "+db) {
			t.Errorf("%s: stderr does not say the database was removed\n%s", args, r)
		}
		for _, f := range []string{db, db + "-wal", db + "-shm"} {
			if _, err := os.Stat(f); !os.IsNotExist(err) {
				t.Errorf("%s left %s behind (stat: %v)", args, f, err)
			}
		}
	}
	// Accepted, the database stays.
	db := filepath.Join(dir, "kept.db")
	wantExit(t, portside(t, nil, "--database", db, "token", "create", "--user", "a"), 0, "token create")
	if _, err := os.Stat(db); err != nil {
		t.Errorf("the database of an accepted command: %v", err)
	}
}

func TestPipelineTriggerRunsAndCancelOnTheCLI(t *testing.T) {
	db := filepath.Join(t.TempDir(), "portside.db")
	dir := catalogDir(t, map[string]string{"catalog-info.yaml": `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: svc-a
  annotations:
    portside.dev/pipelines: |
      - name: build
        provider: local
        parameters: [{name: fail, type: boolean, default: false}]
        stages:
          - {name: Build, run: "echo version=2.0.1 >> \"$PORTSIDE_OUTPUT\""}
          - {name: Test, run: "test \"$PORTSIDE_PARAM_fail\" = false"}
          - {name: Release, run: "true"}
spec:
  type: service
  lifecycle: production
  owner: team-a
`})
	cli := func(args ...string) cliResult {
		return portside(t, nil, append([]string{"--database", db}, args...)...)
	}
	wantExit(t, cli("catalog", "import", dir), 0, "import")

	r := cli("pipeline", "trigger", "svc-a", "build")
	wantExit(t, r, 1, "a local pipeline without pipelines-local")
	if !strings.Contains(r.stderr, "for development only") {
		t.Errorf("the refusal does not say why\n%s", r)
	}

	r = cli("--pipelines-local", "pipeline", "trigger", "svc-a", "build")
	wantExit(t, r, 0, "a local pipeline, followed to the end")
	for _, want := range []string{"Build                SUCCEEDED", "Release              SUCCEEDED", ": SUCCEEDED", "2.0.1"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("trigger: stdout lacks %q\n%s", want, r)
		}
	}
	r = cli("--pipelines-local", "pipeline", "trigger", "svc-a", "build", "--param", "fail=true")
	wantExit(t, r, 2, "a failing run")
	if !strings.Contains(r.stdout, "Test                 FAILED") || !strings.Contains(r.stdout, "Release              SKIPPED") {
		t.Errorf("fail fast is not visible\n%s", r)
	}

	r = cli("--pipelines-local", "pipeline", "trigger", "svc-a", "build", "--param", "fail=false", "--param", "fail=true")
	wantExit(t, r, 1, "a parameter given twice")
	if !strings.Contains(r.stderr, "--param: fail is given twice") {
		t.Errorf("a parameter given twice: the refusal does not name it\n%s", r)
	}

	r = cli("pipeline", "runs", "svc-a")
	wantExit(t, r, 0, "runs")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	// The refused trigger is recorded too: history keeps the attempt and why it failed.
	if len(lines) != 4 || !strings.Contains(lines[1], "FAILED") || !strings.Contains(lines[2], "SUCCEEDED") {
		t.Errorf("runs, newest first:\n%s", r)
	}
	r = cli("pipeline", "runs", "svc-a", "--status", "failed")
	wantExit(t, r, 0, "runs --status failed")
	if failed := strings.Split(strings.TrimSpace(r.stdout), "\n")[1:]; len(failed) == 0 || len(failed) >= len(lines)-1 ||
		slices.ContainsFunc(failed, func(l string) bool { return !strings.Contains(l, "FAILED") }) {
		t.Errorf("runs --status failed lists other runs, or none:\n%s", r)
	}
	r = cli("pipeline", "runs", "svc-a", "--status", "bogus")
	if r.code == 0 || !strings.Contains(r.stderr, `"bogus" is not a run's status`) {
		t.Errorf("runs --status bogus: want a refusal naming the status\n%s", r)
	}
	r = cli("pipeline", "cancel", "2")
	wantExit(t, r, 1, "cancel a finished run")
	if !strings.Contains(r.stderr, "already finished (SUCCEEDED)") {
		t.Errorf("cancel of a finished run\n%s", r)
	}
}

// A local run lives in the `pipeline trigger` that started it. Another process following
// pipelines beside it (a second trigger; serve) leaves it to that one: each polled every active
// run, and failed the other's as unknown to it. Interrupted, a trigger cancels its local run and
// says so (it stayed RUNNING, and `pipeline cancel` could not end it).
func TestLocalRunsOfTwoTriggersEachEndAsTheirOwnAndAnInterruptCancels(t *testing.T) {
	db := filepath.Join(t.TempDir(), "portside.db")
	dir := catalogDir(t, map[string]string{"catalog-info.yaml": `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: svc-b
  annotations:
    portside.dev/pipelines: |
      - {name: slow, provider: local, stages: [{name: Wait, run: "sleep 4"}]}
      - {name: quick, provider: local, stages: [{name: Go, run: "true"}]}
      - {name: long, provider: local, stages: [{name: Wait, run: "sleep 60"}]}
spec:
  type: service
  lifecycle: production
  owner: team-a
`})
	wantExit(t, portside(t, nil, "--database", db, "catalog", "import", dir), 0, "import")
	start := func(pipeline string) (*exec.Cmd, *testutil.Buffer) {
		cmd := exec.Command(binary, "--database", db, "--pipelines-local", "pipeline", "trigger", "svc-b", pipeline)
		cmd.Env = baseEnv(t)
		out := &testutil.Buffer{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		return cmd, out
	}
	slow, slowOut := start("slow")
	time.Sleep(time.Second) // the slow run is recorded and running
	for range 3 {           // each quick trigger follows every active run while the slow one sleeps
		wantExit(t, portside(t, nil, "--database", db, "--pipelines-local", "pipeline", "trigger", "svc-b", "quick"), 0, "a quick run beside a slow one")
	}
	if err := slow.Wait(); err != nil {
		t.Fatalf("the slow trigger: %v\n%s", err, slowOut)
	}
	if !strings.Contains(slowOut.String(), ": SUCCEEDED") {
		t.Errorf("the slow run did not succeed beside the quick ones:\n%s", slowOut)
	}

	long, longOut := start("long")
	testutil.Eventually(t, 30*time.Second, func() bool { return strings.Contains(longOut.String(), "RUNNING") },
		func() string { return "the long run never showed RUNNING:\n" + longOut.String() })
	if err := long.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := long.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(longOut.String(), "CANCELLED (interrupted)") {
		t.Errorf("interrupted: %v, want exit 2 saying the run was cancelled\n%s", err, longOut.String())
	}
	r := portside(t, nil, "--database", db, "pipeline", "runs", "svc-b", "--status", "running")
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); len(lines) != 1 {
		t.Errorf("runs left running:\n%s", r.stdout)
	}
}

// A command given the wrong number of arguments names those it takes, as its usage line writes
// them (cobra's own refusal said only "accepts 2 arg(s), received 1").
func TestAWrongNumberOfArgumentsNamesThoseTheCommandTakes(t *testing.T) {
	db := filepath.Join(t.TempDir(), "portside.db")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"pipeline", "trigger", "svc-a"}, "portside pipeline trigger takes COMPONENT PIPELINE; got 1 argument"},
		{[]string{"tasks", "import", "--project", "p"}, "portside tasks import takes FILE; got 0 arguments"},
		{[]string{"deploy", "request", "a", "b", "c", "--env", "prod"}, "portside deploy request takes COMPONENT VERSION; got 3 arguments"},
		{[]string{"deploy", "approve"}, "portside deploy approve takes NUMBER; got 0 arguments"},
	} {
		r := portside(t, nil, append([]string{"--database", db}, c.args...)...)
		wantExit(t, r, 1, strings.Join(c.args, " "))
		if !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: stderr lacks %q\n%s", c.args, c.want, r)
		}
	}
}

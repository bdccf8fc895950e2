package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The status-meeting table goes in and comes out of the CLI unchanged; a bad one is refused with
// every problem by row and column, and nothing imported.
func TestTasksImportAndExportOnTheCLI(t *testing.T) {
	db := filepath.Join(t.TempDir(), "portside.db")
	dir := catalogDir(t, map[string]string{"catalog-info.yaml": `apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-a
spec:
  type: team
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata:
  name: asmith
  title: Alice
spec:
  profile:
    email: alice@acme.example
  memberOf: [team-a]
`})
	cli := func(args ...string) cliResult {
		return portside(t, nil, append([]string{"--database", db}, args...)...)
	}
	wantExit(t, cli("catalog", "import", dir), 0, "catalog import")
	wantExit(t, cli("tasks", "project", "create", "roadmap", "--owner", "team-a", "--title", "Deployment stage roadmap"), 0, "project create")
	table := `| Task | Priority | Assignee | Status | Comments / Issues |
|---|---|---|---|---|
| Define k8s deployment specs | High | Alice | In Progress | Waiting on service account permissions |
| CI to CD handoff automation | Medium | Alice | Not Started | Evaluate GitLab release job |
`
	file := filepath.Join(t.TempDir(), "meeting.md")
	mustWrite(t, file, table)
	r := cli("tasks", "import", "--project", "roadmap", file)
	wantExit(t, r, 0, "import")
	if !strings.Contains(r.stdout, "2 created, 0 updated, 0 unchanged") {
		t.Errorf("import says\n%s", r)
	}
	r = cli("tasks", "export", "--project", "roadmap")
	wantExit(t, r, 0, "export")
	if r.stdout != table {
		t.Errorf("export:\n%s\nwant:\n%s", r.stdout, table)
	}
	out := filepath.Join(t.TempDir(), "meeting.csv")
	wantExit(t, cli("tasks", "export", "--project", "roadmap", "--output", out), 0, "export to CSV")
	csvText, err := os.ReadFile(out)
	if err != nil || !strings.HasPrefix(string(csvText), "Task,Priority,Assignee,Status,Comments / Issues\n") {
		t.Fatalf("CSV export: %q %v", csvText, err)
	}
	r = cli("tasks", "import", "--project", "roadmap", out)
	wantExit(t, r, 0, "re-import of the CSV")
	if !strings.Contains(r.stdout, "0 created, 0 updated, 2 unchanged") {
		t.Errorf("re-import says\n%s", r)
	}
	bad := filepath.Join(t.TempDir(), "bad.md")
	mustWrite(t, bad, "| Task | Priority | Assignee | Status |\n|---|---|---|---|\n| New | Urgent | Bob | Done |\n")
	r = cli("tasks", "import", "--project", "roadmap", bad)
	wantExit(t, r, 1, "a bad table")
	for _, want := range []string{"row 1 (line 3), column Priority:", "row 1 (line 3), column Assignee:", "row 1 (line 3), column Status:"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the refusal lacks %q\n%s", want, r)
		}
	}
	if r = cli("tasks", "export", "--project", "roadmap"); strings.Contains(r.stdout, "New") {
		t.Errorf("a refused table was imported\n%s", r)
	}
}

package tasks_test

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
	"github.com/portside-dev/portside/tasks"
)

// issueTable is the table of issue 15, which must import exactly.
const issueTable = `| Task | Priority | Assignee | Status | Comments / Issues |
|---|---|---|---|---|
| Define k8s deployment specs | High | Alice | In Progress | Waiting on service account permissions |
| CI to CD handoff automation | Medium | Alice | Not Started | Evaluate GitLab release job |
| Helm chart templating | Low | Alice | Not Started | Research community charts |
| Canary and blue/green rollout | High | Alice | Not Started | Drafting rollback procedures |
`

func summary(list []tasks.Task) string {
	var out []string
	for _, t := range list {
		out = append(out, strings.Join([]string{t.Title, string(t.Priority), t.Assignee, string(t.Status), t.Comment}, " | "))
	}
	return strings.Join(out, "\n")
}

func TestTheIssuesTableImportsExactlyAndRoundTrips(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s, _ := newService(t, st)
		res, err := s.Import(bob, "roadmap", tasks.Markdown, issueTable)
		if err != nil {
			t.Fatal(err)
		}
		want := strings.Join([]string{
			"Define k8s deployment specs | HIGH | user:default/alice-smith | IN_PROGRESS | Waiting on service account permissions",
			"CI to CD handoff automation | MEDIUM | user:default/alice-smith | NOT_STARTED | Evaluate GitLab release job",
			"Helm chart templating | LOW | user:default/alice-smith | NOT_STARTED | Research community charts",
			"Canary and blue/green rollout | HIGH | user:default/alice-smith | NOT_STARTED | Drafting rollback procedures",
		}, "\n")
		if res.Created != 4 || res.Updated != 0 || summary(res.Tasks) != want {
			t.Fatalf("import: %+v\n%s\nwant\n%s", res, summary(res.Tasks), want)
		}
		page, err := s.Tasks(carol, tasks.Filter{Project: "roadmap"}, 10, "")
		if err != nil || summary(page.Tasks) != want {
			t.Fatalf("stored:\n%s (%v)", summary(page.Tasks), err)
		}
		// The export is the table itself (Alice is the title that finds alice-smith again).
		md, err := s.Export(carol, "roadmap", tasks.Markdown)
		if err != nil {
			t.Fatal(err)
		}
		if md != issueTable {
			t.Fatalf("export:\n%s\nwant:\n%s", md, issueTable)
		}
		// Importing the export again (Markdown or CSV) changes nothing.
		again, err := s.Import(bob, "roadmap", tasks.Markdown, md)
		if err != nil || again.Unchanged != 4 || again.Created+again.Updated != 0 {
			t.Fatalf("re-import of the export: %+v, %v", again, err)
		}
		csvText, err := s.Export(carol, "roadmap", tasks.CSV)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(csvText, "Task,Priority,Assignee,Status,Comments / Issues\nDefine k8s deployment specs,High,Alice,In Progress,") {
			t.Fatalf("CSV export:\n%s", csvText)
		}
		again, err = s.Import(bob, "roadmap", tasks.CSV, csvText)
		if err != nil || again.Unchanged != 4 {
			t.Fatalf("re-import of the CSV export: %+v, %v", again, err)
		}
	})
}

// A row whose title the project has updates that task (matched whatever the case and spacing),
// keeping history; without the Comments column comments stay as they are.
func TestImportUpdatesTasksByTitle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s, _ := newService(t, st)
		if _, err := s.Import(bob, "roadmap", tasks.Markdown, issueTable); err != nil {
			t.Fatal(err)
		}
		// Other column order, case and spacing, no Comments column, no outer pipes.
		res, err := s.Import(erin, "roadmap", tasks.Markdown, "Notes from Monday:\n\n status|TASK|assignee|priority\n:--|---|---|--:\nCompleted | define K8S  deployment specs | bob | high\nblocked|New task|| low\n\nAfter the table.\n")
		if err != nil {
			t.Fatal(err)
		}
		if res.Updated != 1 || res.Created != 1 {
			t.Fatalf("%+v", res)
		}
		got := summary(res.Tasks)
		want := "define K8S  deployment specs | HIGH | user:default/bob | COMPLETED | Waiting on service account permissions\nNew task | LOW |  | BLOCKED | "
		if got != want {
			t.Fatalf("got\n%s\nwant\n%s", got, want)
		}
		hist, err := s.History(carol, res.Tasks[0].ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		var fields []string
		for _, c := range hist {
			fields = append(fields, c.Actor+":"+c.Field)
		}
		if strings.Join(fields, " ") != "bob:created erin:title erin:assignee erin:status" {
			t.Errorf("history %v", fields)
		}
	})
}

// Imports of one table into one project at the same time all succeed, one after another: the
// first creates the tasks, the others find them as they are.
func TestConcurrentImportsOfATableTakeTurns(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s, _ := newService(t, st)
		const n = 8
		results := make([]tasks.ImportResult, n)
		failures := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i], failures[i] = s.Import(bob, "roadmap", tasks.Markdown, issueTable)
			}()
		}
		wg.Wait()
		created := 0
		for i := range n {
			if failures[i] != nil {
				t.Fatalf("import %d of %d at once: %v", i+1, n, failures[i])
			}
			created += results[i].Created
		}
		rows := len(results[0].Tasks)
		if created != rows {
			t.Errorf("%d tasks created by %d imports of a %d-row table, want %d", created, n, rows, rows)
		}
		if p, _ := s.Tasks(carol, tasks.Filter{Project: "roadmap"}, 100, ""); p.TotalCount != int64(rows) {
			t.Errorf("the project has %d tasks, want %d", p.TotalCount, rows)
		}
	})
}

// The summary counts the problems in words a person reads: "1 problem", "2 problems".
func TestTheImportSummaryCountsProblemsInWords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s, _ := newService(t, st)
		header := "| Task | Priority | Assignee | Status | Comments / Issues |\n|---|---|---|---|---|\n"
		for rows, want := range map[string]string{
			"| | High | | Not Started | |\n":                                  "the table has 1 problem; nothing was imported",
			"| | High | | Not Started | |\n| Fine | Urgent | | Blocked | |\n": "the table has 2 problems; nothing was imported",
		} {
			_, err := s.Import(bob, "roadmap", tasks.Markdown, header+rows)
			if msg := errs.PublicMessage(err); msg != want {
				t.Errorf("Import(%q) = %q, want %q", rows, msg, want)
			}
		}
	})
}

// Every problem of every row is reported, by row and column, and nothing is imported.
func TestBadRowsAreAllReportedByRowAndColumnAndNothingIsImported(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s, _ := newService(t, st)
		table := "| Task | Priority | Assignee | Status | Comments / Issues |\n|---|---|---|---|---|\n" +
			"| Fine row | High | Alice | In Progress | ok |\n" + // row 1: fine, yet not imported
			"| | Urgent | mallory | Done | |\n" + // row 2: empty title, bad priority, unknown assignee, bad status
			"| Fine row | Low | Dana Lee | | |\n" + // row 3: repeated title, ambiguous assignee, empty status
			"| Short | High |\n" + // row 4: too few cells
			"| " + strings.Repeat("t", tasks.MaxTitle+1) + " | | bob | Blocked | " + strings.Repeat("c", tasks.MaxComment+1) + " |\n" // row 5
		_, err := s.Import(bob, "roadmap", tasks.Markdown, table)
		var ie *tasks.ImportErrors
		if !errors.As(err, &ie) || !errs.Is(err, errs.Invalid) {
			t.Fatalf("Import = %v, want ImportErrors (INVALID)", err)
		}
		var got []string
		for _, e := range ie.Errors {
			got = append(got, e.String())
		}
		want := []string{
			"row 2 (line 4), column Task: is empty",
			"row 2 (line 4), column Priority: \"Urgent\" is not a priority; use High, Medium or Low",
			`row 2 (line 4), column Assignee: no catalog User has the name, title or e-mail "mallory"`,
			"row 2 (line 4), column Status: \"Done\" is not a status; use Not Started, In Progress, Blocked or Completed",
			"row 3 (line 5), column Task: repeats the task of row 1",
			"row 3 (line 5), column Assignee: \"Dana Lee\" matches 2 catalog Users: user:default/dan (Dana Lee), user:default/dana (Dana Lee); write one's name or e-mail",
			"row 3 (line 5), column Status: is empty; use Not Started, In Progress, Blocked or Completed",
			"row 4 (line 6): has 2 cells; the header has 5",
			"row 5 (line 7), column Task: has 201 characters; at most 200",
			"row 5 (line 7), column Priority: is empty; use High, Medium or Low",
			"row 5 (line 7), column Comments / Issues: has 1001 characters; at most 1000",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if p, _ := s.Tasks(carol, tasks.Filter{Project: "roadmap"}, 10, ""); p.TotalCount != 0 {
			t.Fatalf("%d tasks imported from a table with errors", p.TotalCount)
		}
		if n := countAudit(t, st, "tasks.task.import", "failed"); n != 1 {
			t.Errorf("%d failed import records, want 1", n)
		}
	})
}

func TestTableHeadersAndShapesAreChecked(t *testing.T) {
	for _, tc := range []struct {
		name   string
		format tasks.Format
		text   string
		want   []string
	}{
		{"no table", tasks.Markdown, "just words\n", []string{"header: there is no table"}},
		{"no delimiter row", tasks.Markdown, "| Task | Priority | Assignee | Status |\n| a | High | | Blocked |\n", []string{"header (line 2): the header must be followed by a delimiter row"}},
		{"unknown, repeated and missing columns", tasks.Markdown, "| Task | Owner | Task | Status |\n|---|---|---|---|\n", []string{
			`header (line 1), column Owner: unknown column "Owner"`, "header (line 1), column Task: the column appears twice",
			"header (line 1), column Priority: the column is missing", "header (line 1), column Assignee: the column is missing"}},
		{"bad CSV", tasks.CSV, "Task,Priority,Assignee,Status\n\"a,High,,Blocked\n", []string{"not CSV"}},
		{"a CSV row with too many cells", tasks.CSV, "Task,Priority,Assignee,Status\na,High,,Blocked,extra\n", []string{"row 1 (line 2): has 5 cells; the header has 4"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, problems := tasks.ParseTable(tc.format, tc.text)
			if len(problems) != len(tc.want) {
				t.Fatalf("problems %v, want %d", problems, len(tc.want))
			}
			for i, p := range problems {
				if !strings.Contains(p.String(), tc.want[i]) {
					t.Errorf("problem %d = %q, want it to contain %q", i, p.String(), tc.want[i])
				}
			}
		})
	}
}

// Text with pipes, quotes and commas survives both formats.
func TestAwkwardTextRoundTrips(t *testing.T) {
	list := []tasks.Task{{Title: `Fix a|b, "quoted"`, Priority: tasks.Medium, Status: tasks.Blocked, Comment: `path C:\x\|y, more`}}
	for _, f := range []tasks.Format{tasks.Markdown, tasks.CSV} {
		text, err := tasks.RenderTable(f, list, map[string]string{"": ""})
		if err != nil {
			t.Fatal(err)
		}
		rows, problems := tasks.ParseTable(f, text)
		if len(problems) > 0 || len(rows) != 1 || rows[0].Task != list[0].Title || rows[0].Comments != list[0].Comment ||
			rows[0].Priority != "Medium" || rows[0].Status != "Blocked" || rows[0].Assignee != "" {
			t.Errorf("%s: %q read back as %+v %v", f, text, rows, problems)
		}
	}
}

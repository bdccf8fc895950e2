package tasks_test

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
	"github.com/portside-dev/portside/tasks"
)

// An import reads the project's tasks by title, then updates those it found and creates the
// others. A task created while it does so takes turns with it (the project's lock, as imports
// take it): the import never fails on the title's unique key, and the task either is created
// first (the import then updates it) or comes after and is the CONFLICT of a title the project
// has. (Without the lock, on PostgreSQL, the two deadlocked: the task's foreign key waited for the
// import's lock on the project, the import's insert for the task's title.) Several rounds, each
// with titles of its own, give the two many chances to meet.
func TestATaskCreatedDuringAnImportTakesTurnsWithIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s, _ := newService(t, st)
		const rounds, rows = 10, 100
		warmPool(t, st, 2)
		for round := range rounds {
			var table strings.Builder
			table.WriteString("| Task | Priority | Assignee | Status | Comments / Issues |\n|---|---|---|---|---|\n")
			for i := range rows {
				fmt.Fprintf(&table, "| Round %d task %d | Low | | Not Started | |\n", round, i)
			}
			last := fmt.Sprintf("Round %d task %d", round, rows-1) // the import's last insert
			var imported tasks.ImportResult
			var importErr, createErr error
			testutil.AtOnce(
				func() { imported, importErr = s.Import(bob, "roadmap", tasks.Markdown, table.String()) },
				func() {
					_, createErr = s.CreateTask(bob, tasks.TaskInput{Project: "roadmap", Title: last, Priority: tasks.High})
				},
			)
			if importErr != nil {
				t.Fatalf("round %d: the import beside a creation of its last title: %v", round, importErr)
			}
			switch {
			case createErr == nil && (imported.Created != rows-1 || imported.Updated != 1):
				t.Fatalf("round %d: the task was created first, yet the import created %d and updated %d; want %d and 1", round, imported.Created, imported.Updated, rows-1)
			case createErr != nil && (!errs.Is(createErr, errs.Conflict) || imported.Created != rows):
				t.Fatalf("round %d: the creation after the import: %v (the import created %d); want CONFLICT after %d", round, createErr, imported.Created, rows)
			}
		}
	})
}

// A task renamed while an import runs takes turns with it as well (the project's lock, which
// every writer of the project's tasks takes first): the import inserts the new title X, then
// updates the existing task A, while the rename of A to X, run beside it, either comes first (the
// import then finds X, the renamed A, and updates it, and creates a task A anew) or after, when A
// has changed since the rename read it (a CONFLICT). (Without the lock, on PostgreSQL, the two
// deadlocked: the rename held A's row and waited for the import's X in the title's unique key,
// the import's update of A waited for A's row; or, the rename done between the import's read of
// the titles and its insert of X, the import failed on the unique key.) Several rounds, each with
// titles of its own, give the two many chances to meet.
func TestATaskRenamedDuringAnImportTakesTurnsWithIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s, _ := newService(t, st)
		const rounds, rows = 10, 100
		warmPool(t, st, 2)
		for round := range rounds {
			old, renamed := fmt.Sprintf("Round %d task A", round), fmt.Sprintf("Round %d task X", round)
			task, err := s.CreateTask(bob, tasks.TaskInput{Project: "roadmap", Title: old})
			if err != nil {
				t.Fatal(err)
			}
			// X first (a new task), A last (an update: its priority changes), others between.
			var table strings.Builder
			table.WriteString("| Task | Priority | Assignee | Status | Comments / Issues |\n|---|---|---|---|---|\n")
			fmt.Fprintf(&table, "| %s | Low | | Not Started | |\n", renamed)
			for i := range rows - 2 {
				fmt.Fprintf(&table, "| Round %d task %d | Low | | Not Started | |\n", round, i)
			}
			fmt.Fprintf(&table, "| %s | High | | Not Started | |\n", old)
			var imported tasks.ImportResult
			var importErr, renameErr error
			testutil.AtOnce(
				func() { imported, importErr = s.Import(bob, "roadmap", tasks.Markdown, table.String()) },
				func() {
					_, renameErr = s.UpdateTask(bob, task.ID, tasks.TaskPatch{Version: task.Version, Title: &renamed})
				},
			)
			if importErr != nil {
				t.Fatalf("round %d: the import beside a rename to its first title: %v", round, importErr)
			}
			if renameErr != nil && !errs.Is(renameErr, errs.Conflict) {
				t.Fatalf("round %d: the rename beside an import: %v; want it done or a CONFLICT", round, renameErr)
			}
			// Either way the import created all but one of its rows and updated one: A, or X (A renamed).
			if imported.Created != rows-1 || imported.Updated != 1 {
				t.Fatalf("round %d: the import (the rename: %v) created %d and updated %d; want %d and 1",
					round, renameErr, imported.Created, imported.Updated, rows-1)
			}
		}
	})
}

// Each meeting records what changed since the one before it. Meetings recorded at once take
// turns (the project's lock): the one recorded first after a new task lists it as new, and the
// others, which find the same table as the meeting before them, list nothing. Several rounds,
// each with a new task of its own, give the meetings many chances to meet.
func TestMeetingsRecordedAtOnceEachCompareWithTheOneBefore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s, clk := newService(t, st)
		// A table of some size, so that recording a meeting (its snapshot) takes a while.
		var table strings.Builder
		table.WriteString("| Task | Priority | Assignee | Status | Comments / Issues |\n|---|---|---|---|---|\n")
		for i := range tasks.MaxImportRows {
			fmt.Fprintf(&table, "| Task %d | Low | | Not Started | |\n", i)
		}
		if _, err := s.Import(bob, "roadmap", tasks.Markdown, table.String()); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateMeeting(bob, "roadmap", "kick-off", time.Time{}); err != nil {
			t.Fatal(err)
		}
		const rounds, n = 3, 8
		for round := range rounds {
			clk.Add(time.Hour)
			title := fmt.Sprintf("Round %d rollback runbook", round)
			if _, err := s.CreateTask(bob, tasks.TaskInput{Project: "roadmap", Title: title}); err != nil {
				t.Fatal(err)
			}
			warmPool(t, st, n)
			failures := make([]error, n)
			meetings := make([]func(), n)
			for i := range n {
				meetings[i] = func() {
					_, failures[i] = s.CreateMeeting(bob, "roadmap", fmt.Sprintf("round %d meeting %d", round, i), time.Time{})
				}
			}
			testutil.AtOnce(meetings...)
			for i, err := range failures {
				if err != nil {
					t.Fatalf("round %d: meeting %d of %d at once: %v", round, i+1, n, err)
				}
			}
			list, err := s.Meetings(carol, "roadmap", n)
			if err != nil || len(list) != n {
				t.Fatalf("round %d: meetings %d, %v; want %d", round, len(list), err, n)
			}
			var lines []string
			for i := len(list) - 1; i >= 0; i-- { // the latest first: this round's, oldest first
				changes, err := s.MeetingChanges(carol, list[i].ID)
				if err != nil {
					t.Fatal(err)
				}
				lines = append(lines, fmt.Sprintf("%s: %s", list[i].Notes, strings.ReplaceAll(changeLines(changes), "\n", "; ")))
			}
			news := strings.Count(strings.Join(lines, "\n"), title+" NEW")
			if news != 1 || !strings.Contains(lines[0], title+" NEW") {
				t.Fatalf("round %d: the meetings after the new task record, in order:\n%s\nwant the new task in the first only",
					round, strings.Join(lines, "\n"))
			}
		}
	})
}

// warmPool opens n connections to PostgreSQL and leaves them idle in the pool, so that n
// goroutines starting together begin their transactions together, rather than one after another
// as each waits for a new connection. It holds each connection it takes until it has all n (so
// that the pool opens a new one for each), then returns them all (the pool keeps idle
// connections up to its limit).
func warmPool(t *testing.T, st *store.Store, n int) {
	t.Helper()
	if st.Dialect() != store.Postgres {
		return
	}
	db, err := st.Gorm().DB()
	if err != nil {
		t.Fatal(err)
	}
	conns := make([]*sql.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			if err := c.Close(); err != nil {
				t.Error(err)
			}
		}
	}()
	for range n {
		c, err := db.Conn(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
}

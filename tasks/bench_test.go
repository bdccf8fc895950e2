package tasks_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
	"github.com/portside-dev/portside/tasks"
)

// boardProject fills a project with n tasks through imports (as a team would) and returns the
// service.
func boardProject(b *testing.B, st *store.Store, n int) *tasks.Service {
	b.Helper()
	s, _ := newService(b, st)
	assignees := []string{"Alice", "bob", "carol", "erin", ""}
	statuses := []string{"Not Started", "In Progress", "Blocked", "Completed"}
	for start := 0; start < n; start += tasks.MaxImportRows {
		var t strings.Builder
		t.WriteString("| Task | Priority | Assignee | Status | Comments / Issues |\n|---|---|---|---|---|\n")
		for i := start; i < min(n, start+tasks.MaxImportRows); i++ {
			fmt.Fprintf(&t, "| Task %d of the board | %s | %s | %s | Comment on task %d |\n", i, tasks.Priorities[i%3].Label(),
				assignees[i%len(assignees)], statuses[i%len(statuses)], i)
		}
		if _, err := s.Import(bob, "roadmap", tasks.Markdown, t.String()); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// BenchmarkBoard is the board query of a project with 2,000 tasks: its first page of 100 tasks
// with the total count (what the board shows first), and the whole board (2,000 tasks, in pages
// of 500). The target is p99 ≤ 10 ms for the board query; p50/p99 are reported per op.
func BenchmarkBoard(b *testing.B) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			var st *store.Store
			if dialect == "sqlite" {
				st = storetest.SQLite(b)
			} else {
				st = storetest.Postgres(b)
			}
			s := boardProject(b, st, 2000)
			for _, tc := range []struct {
				name  string
				first int
				all   bool
			}{{"first100", 100, false}, {"all2000", tasks.MaxPage, true}} {
				b.Run(tc.name, func(b *testing.B) {
					var lat []time.Duration
					b.ResetTimer()
					for b.Loop() {
						start := time.Now()
						after := ""
						for {
							p, err := s.Tasks(carol, tasks.Filter{Project: "roadmap"}, tc.first, after)
							if err != nil || p.TotalCount != 2000 {
								b.Fatalf("%v %d", err, p.TotalCount)
							}
							if !tc.all || !p.HasNextPage {
								break
							}
							after = p.EndCursor
						}
						lat = append(lat, time.Since(start))
					}
					slices.Sort(lat)
					b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
					b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
				})
			}
		})
	}
}

// BenchmarkMeetingDiff is "what changed since the last meeting" of a project with 2,000 tasks and
// meetings (the target: ≤ 20 ms): the latest meeting's changes against the one before,
// and the live changes since the latest.
func BenchmarkMeetingDiff(b *testing.B) {
	st := storetest.SQLite(b)
	s := boardProject(b, st, 2000)
	var last tasks.Meeting
	for i := range meetingsInBench {
		// Between meetings a few tasks move.
		page, err := s.Tasks(carol, tasks.Filter{Project: "roadmap"}, 5, "")
		if err != nil {
			b.Fatal(err)
		}
		for _, t := range page.Tasks {
			if _, err := s.UpdateTask(bob, t.ID, tasks.TaskPatch{Version: t.Version, Status: ptr(tasks.Statuses[i%4])}); err != nil {
				b.Fatal(err)
			}
		}
		if last, err = s.CreateMeeting(bob, "roadmap", fmt.Sprintf("meeting %d", i), time.Time{}); err != nil {
			b.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		diff func() ([]tasks.MeetingChange, error)
	}{
		{"meeting.changes", func() ([]tasks.MeetingChange, error) { return s.MeetingChanges(carol, last.ID) }},
		{"changesSinceLastMeeting", func() ([]tasks.MeetingChange, error) { return s.ChangesSinceLastMeeting(carol, "roadmap") }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var lat []time.Duration
			for b.Loop() {
				start := time.Now()
				if _, err := tc.diff(); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}

// meetingsInBench is how many meetings the benchmark's project has had (the shape: 50).
const meetingsInBench = 50

package tasks_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/pipelines"
	"github.com/portside-dev/portside/rollouts"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
	"github.com/portside-dev/portside/tasks"
)

// figures answers fixed delivery figures and records what it was asked.
type figures struct {
	owner        string
	since, until time.Time
}

func (f *figures) Figures(_ context.Context, owner string, since, until time.Time) (tasks.Figures, error) {
	f.owner, f.since, f.until = owner, since, until
	lead, restore, median := 3*time.Hour, 40*time.Minute, 12*time.Minute
	return tasks.Figures{
		DORA: rollouts.Metrics{Window: rollouts.Window{Since: since, Until: until}, Deployments: 14, LeadTime: &lead, LeadTimeSamples: 14,
			Changes: 16, FailedChanges: 2, TimeToRestore: &restore, Restores: 1},
		Pipelines: &pipelines.RunStats{Runs: 20, Succeeded: 18, MedianDuration: &median},
	}, nil
}

func TestTheMeetingReportSaysWhatHappenedSinceTheLastMeeting(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := &figures{}
		clk := testutil.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
		s := tasks.NewService(st, tasks.Options{Catalog: newFakeCatalog(), Audit: audit.New(st, nil), Now: clk.Now, Figures: f})
		if _, err := s.CreateProject(admin, tasks.ProjectInput{Name: "roadmap", Title: "Deployment stage roadmap", Owner: "team-delivery"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Import(bob, "roadmap", tasks.Markdown, issueTable); err != nil {
			t.Fatal(err)
		}
		met, err := s.CreateMeeting(bob, "roadmap", "", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		clk.Add(7 * 24 * time.Hour)
		table := "| Task | Priority | Assignee | Status | Comments / Issues |\n|---|---|---|---|---|\n" +
			"| Define k8s deployment specs | High | Alice | Completed | Done |\n" +
			"| CI to CD handoff automation | High | bob | Blocked | Waiting on runner tokens |\n" +
			"| Helm chart templating | Low | Alice | Not Started | Research community charts |\n" +
			"| Canary and blue/green rollout | High | Alice | Not Started | Drafting rollback procedures |\n" +
			"| <script>alert(1)</script> [x](javascript:alert(1)) | Medium | carol | In Progress | *not* a list |\n"
		if _, err := s.Import(bob, "roadmap", tasks.Markdown, table); err != nil {
			t.Fatal(err)
		}
		md, err := s.RenderReport(carol, "roadmap", tasks.ReportMarkdown)
		if err != nil {
			t.Fatal(err)
		}
		// The period runs from the last meeting to now; the figures are the owning group's.
		if f.owner != "group:default/team-delivery" || !f.since.Equal(met.HeldAt) || !f.until.Equal(clk.Now()) {
			t.Errorf("figures asked for %s from %v to %v; want the owning group from the meeting (%v) to now", f.owner, f.since, f.until, met.HeldAt)
		}
		for _, want := range []string{
			"# Deployment stage roadmap: status report",
			"Period: 2026-12-01 to 2026-12-08, since the meeting of 2026-12-01 09:00 UTC.",
			"| Deploys | 14 (2.00 a day) |",
			"| Change failure rate | 12.5% (2 of 16) |",
			"| Lead time for changes (median) | 3h0m0s |",
			"| Time to restore (median) | 40m0s |",
			"| Pipeline success rate | 90% (18 of 20 runs) |",
			"| Pipeline duration (median, successful runs) | 12m0s |",
			// Changes since the meeting in bold, with what they were.
			"| Define k8s deployment specs | High | Alice | **Completed** (was In Progress) | Done |",
			"| CI to CD handoff automation | **High** (was Medium) | **Bob Owner** (was Alice) | **Blocked** (was Not Started) | **Waiting on runner tokens** |",
			"| Helm chart templating | Low | Alice | Not Started | Research community charts |",
			"## Blockers\n\n- **CI to CD handoff automation** (Bob Owner): Waiting on runner tokens\n",
			// Next steps: open tasks, High first.
			"## Next steps\n\n- High: Canary and blue/green rollout (Alice, Not Started)\n- Medium: ",
		} {
			if !strings.Contains(md, want) {
				t.Errorf("the report lacks %q:\n%s", want, md)
			}
		}
		page, err := s.RenderReport(carol, "roadmap", tasks.ReportHTML)
		if err != nil {
			t.Fatal(err)
		}
		// A task's text is shown as written, never as markup.
		for _, bad := range []string{"<script", "<a ", "href=", "<em>"} {
			if strings.Contains(page, bad) {
				t.Errorf("the HTML report holds %q:\n%s", bad, page)
			}
		}
		for _, want := range []string{"<title>Deployment stage roadmap: status report</title>", "<table>", "<strong>Completed</strong> (was In Progress)",
			"&lt;script&gt;alert(1)&lt;/script&gt;"} {
			if !strings.Contains(page, want) {
				t.Errorf("the HTML report lacks %q:\n%s", want, page)
			}
		}
		// A meeting recorded a little ahead (as may be) leaves an empty period, not a failed report.
		ahead, err := s.CreateMeeting(bob, "roadmap", "", clk.Now().Add(2*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.RenderReport(carol, "roadmap", tasks.ReportMarkdown); err != nil || !f.since.Equal(clk.Now()) || !f.until.Equal(clk.Now()) {
			t.Errorf("the report after a meeting at %v: %v, figures from %v to %v; want the empty period now", ahead.HeldAt, err, f.since, f.until)
		}
	})
}

func TestAReportBeforeTheFirstMeetingCoversTwoWeeksAndNeedsASignIn(t *testing.T) {
	st := storetest.SQLite(t)
	s, clk := newService(t, st)
	md, err := s.RenderReport(carol, "roadmap", tasks.ReportMarkdown)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Period: " + clk.Now().Add(-14*24*time.Hour).Format("2006-01-02") + " to " + clk.Now().Format("2006-01-02") +
		", since the last 14 days (no meeting yet)."; !strings.Contains(md, want) || !strings.Contains(md, "Delivery figures are not available") ||
		!strings.Contains(md, "No tasks.") {
		t.Errorf("report:\n%s\nwant %q", md, want)
	}
	if _, err := s.RenderReport(context.Background(), "roadmap", tasks.ReportMarkdown); err == nil {
		t.Error("an anonymous caller got a report")
	}
	if _, err := s.RenderReport(carol, "nope", tasks.ReportMarkdown); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("an unknown project: %v", err)
	}
	if _, err := tasks.ParseReportFormat("--format", "pdf"); err == nil || !strings.Contains(err.Error(), "--format") {
		t.Errorf("pdf: %v", err)
	}
}

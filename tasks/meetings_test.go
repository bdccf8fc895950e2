package tasks_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
	"github.com/portside-dev/portside/tasks"
)

func changeLines(list []tasks.MeetingChange) string {
	var out []string
	for _, c := range list {
		out = append(out, c.Title+" "+string(c.Kind)+": "+c.Old+" -> "+c.New)
	}
	return strings.Join(out, "\n")
}

// A meeting snapshots the table; the next one lists what changed since: new and closed tasks,
// status, priority and assignee changes, and blockers (blocked, blocker changed, unblocked).
func TestMeetingsListWhatChangedSinceTheLastOne(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s, clk := newService(t, st)
		if _, err := s.Import(bob, "roadmap", tasks.Markdown, issueTable); err != nil {
			t.Fatal(err)
		}
		first, err := s.CreateMeeting(bob, "roadmap", "Agenda: k8s specs, canary", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		changes, err := s.MeetingChanges(carol, first.ID)
		if err != nil || len(changes) != 4 || changes[0].Kind != tasks.ChangeNew {
			t.Fatalf("the first meeting's changes: %v %v, want every task new", changes, err)
		}
		clk.Add(7 * 24 * time.Hour)
		// A week of work.
		table := "| Task | Priority | Assignee | Status | Comments / Issues |\n|---|---|---|---|---|\n" +
			"| Define k8s deployment specs | High | Alice | Completed | Done |\n" +
			"| CI to CD handoff automation | High | bob | Blocked | Waiting on runner tokens |\n" +
			"| Helm chart templating | Low | Alice | Blocked | Research community charts |\n" +
			"| Rollback runbook | Medium | carol | Not Started | |\n"
		if _, err := s.Import(bob, "roadmap", tasks.Markdown, table); err != nil {
			t.Fatal(err)
		}
		canary, err := s.Tasks(carol, tasks.Filter{Project: "roadmap"}, 10, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range canary.Tasks {
			if strings.HasPrefix(task.Title, "Canary") {
				if err := s.DeleteTask(bob, task.ID, task.Version); err != nil {
					t.Fatal(err)
				}
			}
		}
		want := strings.Join([]string{
			"Define k8s deployment specs CLOSED: In Progress -> Completed",
			"CI to CD handoff automation STATUS: Not Started -> Blocked",
			"CI to CD handoff automation PRIORITY: Medium -> High",
			"CI to CD handoff automation ASSIGNEE: user:default/alice-smith -> user:default/bob",
			"CI to CD handoff automation BLOCKER:  -> Waiting on runner tokens",
			"Helm chart templating STATUS: Not Started -> Blocked",
			"Helm chart templating BLOCKER:  -> Research community charts",
			"Rollback runbook NEW:  -> Not Started",
			"Canary and blue/green rollout REMOVED: Not Started -> ",
		}, "\n")
		since, err := s.ChangesSinceLastMeeting(carol, "roadmap")
		if err != nil || changeLines(since) != want {
			t.Fatalf("since the last meeting:\n%s (%v)\nwant:\n%s", changeLines(since), err, want)
		}
		second, err := s.CreateMeeting(erin, "roadmap", "", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.MeetingChanges(carol, second.ID); err != nil || changeLines(got) != want {
			t.Fatalf("the second meeting's changes:\n%s (%v)", changeLines(got), err)
		}
		// Unblocking is a blocker change too.
		clk.Add(time.Hour)
		list, _ := s.Tasks(carol, tasks.Filter{Project: "roadmap", Statuses: []tasks.Status{tasks.Blocked}}, 10, "")
		if _, err := s.UpdateTask(bob, list.Tasks[1].ID, tasks.TaskPatch{Version: list.Tasks[1].Version, Status: ptr(tasks.InProgress)}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.ChangesSinceLastMeeting(carol, "roadmap"); changeLines(got) != "Helm chart templating STATUS: Blocked -> In Progress\nHelm chart templating BLOCKER: Research community charts -> " {
			t.Fatalf("after unblocking:\n%s", changeLines(got))
		}
		meetings, err := s.Meetings(carol, "roadmap", 10)
		if err != nil || len(meetings) != 2 || meetings[0].ID != second.ID || meetings[1].Notes != "Agenda: k8s specs, canary" || meetings[0].CreatedBy != "erin" {
			t.Fatalf("meetings: %+v %v", meetings, err)
		}
		// Recording a meeting takes the right to change the project, and is audited.
		if _, err := s.CreateMeeting(carol, "roadmap", "", time.Time{}); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("carol recording a meeting: %v", err)
		}
		if _, err := s.CreateMeeting(bob, "roadmap", strings.Repeat("n", tasks.MaxMeetingNotes+1), time.Time{}); errs.FieldOf(err) != "notes" {
			t.Fatalf("long notes: %v", err)
		}
		if _, err := s.CreateMeeting(bob, "roadmap", "", first.HeldAt); errs.FieldOf(err) != "heldAt" {
			t.Fatalf("a meeting dated before the latest: %v", err)
		}
		// One dated far ahead would refuse every meeting until then: a day ahead is the most.
		if _, err := s.CreateMeeting(bob, "roadmap", "", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)); errs.FieldOf(err) != "heldAt" ||
			!strings.Contains(err.Error(), "more than a day ahead") {
			t.Fatalf("a meeting dated in 9999: %v", err)
		}
		if _, err := s.CreateMeeting(bob, "roadmap", "", clk.Now().Add(25*time.Hour)); errs.FieldOf(err) != "heldAt" {
			t.Fatalf("a meeting dated 25 hours ahead: %v", err)
		}
		if _, err := s.Meetings(carol, "roadmap", tasks.MaxMeetings+1); errs.FieldOf(err) != "first" {
			t.Fatalf("too many meetings asked for: %v", err)
		}
		if n := countAudit(t, st, "tasks.meeting.create", "ok"); n != 2 {
			t.Errorf("%d meetings audited, want 2", n)
		}
	})
}

// What changed since the last meeting is read from the rows that differ only; over a table of
// many tasks and every kind of change (status, priority, assignee, a blocker's comment, a new
// task, a deleted one, an untouched one), it lists exactly what recording a meeting then stores.
func TestChangesSinceTheLastMeetingAreWhatTheNextMeetingRecords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s, clk := newService(t, st)
		assignees := []string{"Alice", "bob", "carol", ""}
		var table strings.Builder
		table.WriteString("| Task | Priority | Assignee | Status | Comments / Issues |\n|---|---|---|---|---|\n")
		for i := range 60 {
			fmt.Fprintf(&table, "| Task %02d | %s | %s | %s | note %d |\n", i, tasks.Priorities[i%3].Label(), assignees[i%4], tasks.Statuses[i%4].Label(), i)
		}
		if _, err := s.Import(bob, "roadmap", tasks.Markdown, table.String()); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateMeeting(bob, "roadmap", "", time.Time{}); err != nil {
			t.Fatal(err)
		}
		clk.Add(time.Hour)
		page, err := s.Tasks(carol, tasks.Filter{Project: "roadmap"}, 100, "")
		if err != nil || len(page.Tasks) != 60 {
			t.Fatalf("tasks: %d, %v", len(page.Tasks), err)
		}
		for i, task := range page.Tasks {
			patch := tasks.TaskPatch{Version: task.Version}
			switch i % 6 {
			case 0:
				patch.Status = ptr(tasks.Statuses[(i/6+1)%4])
			case 1:
				patch.Priority = ptr(tasks.Priorities[(i+1)%3])
			case 2:
				patch.Assignee = ptr("erin")
			case 3:
				patch.Comment = ptr("changed " + task.Comment) // a blocker's comment shows, others not
			case 4:
				if err := s.DeleteTask(bob, task.ID, task.Version); err != nil {
					t.Fatal(err)
				}
				continue
			case 5:
				continue // untouched
			}
			if _, err := s.UpdateTask(bob, task.ID, patch); err != nil {
				t.Fatalf("task %d: %v", i, err)
			}
		}
		if _, err := s.CreateTask(bob, tasks.TaskInput{Project: "roadmap", Title: "A new one", Priority: tasks.Priorities[0], Status: tasks.Statuses[0]}); err != nil {
			t.Fatal(err)
		}
		since, err := s.ChangesSinceLastMeeting(carol, "roadmap")
		if err != nil {
			t.Fatal(err)
		}
		next, err := s.CreateMeeting(bob, "roadmap", "", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		recorded, err := s.MeetingChanges(carol, next.ID)
		if err != nil {
			t.Fatal(err)
		}
		if changeLines(since) != changeLines(recorded) {
			t.Fatalf("since the last meeting (%d):\n%s\nrecorded (%d):\n%s", len(since), changeLines(since), len(recorded), changeLines(recorded))
		}
		kinds := map[tasks.ChangeKind]int{}
		for _, c := range since {
			kinds[c.Kind]++
		}
		for _, k := range []tasks.ChangeKind{tasks.ChangeNew, tasks.ChangeClosed, tasks.ChangeStatus, tasks.ChangePriority, tasks.ChangeAssignee,
			tasks.ChangeBlocker, tasks.ChangeRemoved} {
			if kinds[k] == 0 {
				t.Errorf("no %s change among %d: the table does not exercise it", k, len(since))
			}
		}
	})
}

package tasks_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/bus/pgbus/pgbustest"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
	"github.com/portside-dev/portside/tasks"
)

func ptr[T any](v T) *T { return &v }

func TestEveryChangeIsKeptAsHistoryWithWhoWhenOldAndNew(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s, clk := newService(t, st)
		task, err := s.CreateTask(bob, tasks.TaskInput{Project: "roadmap", Title: "Define k8s deployment specs", Priority: tasks.High,
			Assignee: "Alice", Comment: "Waiting on service account permissions", Due: "2026-12-15", Labels: []string{"k8s"},
			Links: []tasks.Link{{Kind: tasks.LinkComponent, Target: "payments-api"}, {Kind: tasks.LinkPipelineRun, Target: "42"}}})
		if err != nil {
			t.Fatal(err)
		}
		if task.Assignee != "user:default/alice-smith" || task.Status != tasks.NotStarted || task.Version != 0 || task.CreatedBy != "bob" {
			t.Fatalf("created %+v", task)
		}
		if len(task.Links) != 2 || task.Links[0] != (tasks.Link{Kind: tasks.LinkComponent, Target: "component:default/payments-api"}) {
			t.Fatalf("links %+v, want the component's canonical ref first", task.Links)
		}
		clk.Add(time.Hour)
		updated, err := s.UpdateTask(erin, task.ID, tasks.TaskPatch{Version: 0, Status: ptr(tasks.Blocked), Assignee: ptr("bob@acme.example"),
			Comment: ptr("Blocked on the cluster quota")})
		if err != nil {
			t.Fatal(err)
		}
		if updated.Version != 1 || updated.Status != tasks.Blocked || updated.Assignee != "user:default/bob" || updated.UpdatedBy != "erin" {
			t.Fatalf("updated %+v", updated)
		}
		hist, err := s.History(carol, task.ID, 100)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range hist {
			got = append(got, c.Actor+" "+c.At.Format("15:04")+" "+c.Field+": "+c.Old+" -> "+c.New)
		}
		want := []string{
			"bob 09:00 created:  -> Define k8s deployment specs",
			"erin 10:00 assignee: user:default/alice-smith -> user:default/bob",
			"erin 10:00 status: NOT_STARTED -> BLOCKED",
			"erin 10:00 comment: Waiting on service account permissions -> Blocked on the cluster quota",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("history:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		// An update that changes nothing records nothing and keeps the version.
		same, err := s.UpdateTask(erin, task.ID, tasks.TaskPatch{Version: 1, Status: ptr(tasks.Blocked)})
		if err != nil || same.Version != 1 {
			t.Fatalf("a no-op update: %+v, %v", same, err)
		}
		if hist, _ := s.History(carol, task.ID, 100); len(hist) != 4 {
			t.Fatalf("a no-op update recorded history: %d changes", len(hist))
		}
		// Comments are a dated thread.
		clk.Add(time.Minute)
		if _, err := s.AddComment(bob, task.ID, "  Asked the platform team  "); err != nil {
			t.Fatal(err)
		}
		thread, err := s.Comments(carol, task.ID, 10)
		if err != nil || len(thread) != 1 || thread[0].Body != "Asked the platform team" || thread[0].Author != "bob" || !thread[0].At.Equal(clk.Now().UTC()) {
			t.Fatalf("thread %+v, %v", thread, err)
		}
		// Each change was audited.
		for action, n := range map[string]int{"tasks.task.create": 1, "tasks.task.update": 2, "tasks.task.comment": 1} {
			if got := countAudit(t, st, action, "ok"); got != n {
				t.Errorf("%s: %d audit records, want %d", action, got, n)
			}
		}
		// Deleting at a stale version is refused; at the current one it goes, with its history.
		if err := s.DeleteTask(bob, task.ID, 0); !errs.Is(err, errs.Conflict) {
			t.Fatalf("a stale delete: %v, want CONFLICT", err)
		}
		if err := s.DeleteTask(bob, task.ID, 1); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Task(carol, task.ID); !errs.Is(err, errs.NotFound) {
			t.Fatalf("a deleted task: %v", err)
		}
	})
}

// Two people edit the same version: the second is told the task changed, and nothing of the
// second edit is stored.
// A version no task has (they count from 0) is the input's mistake, named, not a CONFLICT as if
// the task had changed since; refused and audited, with nothing changed.
func TestANegativeVersionIsInvalid(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s, _ := newService(t, st)
		task, err := s.CreateTask(bob, tasks.TaskInput{Project: "roadmap", Title: "Versions count from zero"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.UpdateTask(bob, task.ID, tasks.TaskPatch{Version: -1, Priority: ptr(tasks.Low)})
		if !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != "version" || !strings.Contains(errs.PublicMessage(err), "got -1") {
			t.Errorf("update at version -1: %v, want INVALID naming version", err)
		}
		if err := s.DeleteTask(bob, task.ID, -3); !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != "version" {
			t.Errorf("delete at version -3: %v, want INVALID naming version", err)
		}
		if now, err := s.Task(carol, task.ID); err != nil || now.Version != task.Version || now.Priority != task.Priority {
			t.Errorf("after the refusals: %+v, %v", now, err)
		}
		if n := countAudit(t, st, "tasks.task.update", "failed") + countAudit(t, st, "tasks.task.delete", "failed"); n != 2 {
			t.Errorf("the refusals wrote %d failed audit records, want 2", n)
		}
	})
}

func TestAStaleUpdateIsAConflictAndChangesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s, _ := newService(t, st)
		task, err := s.CreateTask(bob, tasks.TaskInput{Project: "roadmap", Title: "Helm chart templating"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateTask(bob, task.ID, tasks.TaskPatch{Version: task.Version, Priority: ptr(tasks.Low)}); err != nil {
			t.Fatal(err)
		}
		_, err = s.UpdateTask(erin, task.ID, tasks.TaskPatch{Version: task.Version, Priority: ptr(tasks.High), Title: ptr("Helm charts")})
		if !errs.Is(err, errs.Conflict) || errs.PublicMessage(err) != fmt.Sprintf("task %d changed since version 0 (it is at version 1); read it again and reapply your change", task.ID) {
			t.Fatalf("a stale update: %v, want CONFLICT naming both versions", err)
		}
		now, _ := s.Task(carol, task.ID)
		if now.Priority != tasks.Low || now.Title != "Helm chart templating" || now.Version != 1 {
			t.Fatalf("after the stale update: %+v", now)
		}
		if n := countAudit(t, st, "tasks.task.update", "failed"); n != 1 {
			t.Errorf("the refused update wrote %d failed audit records, want 1", n)
		}
		// A version not written yet is no stale read: INVALID naming version, for updates and deletes.
		_, err = s.UpdateTask(bob, task.ID, tasks.TaskPatch{Version: 99, Priority: ptr(tasks.High)})
		if !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != "version" || !strings.Contains(errs.PublicMessage(err), "is at version 1; it has no version 99") {
			t.Fatalf("an update on a future version: %v, want INVALID naming version", err)
		}
		if err := s.DeleteTask(bob, task.ID, 2); !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != "version" {
			t.Fatalf("a delete on a future version: %v, want INVALID naming version", err)
		}
		// A title is one task per project, whatever its case and spacing: the table finds tasks by it.
		if _, err := s.CreateTask(erin, tasks.TaskInput{Project: "roadmap", Title: "helm  CHART templating"}); !errs.Is(err, errs.Conflict) {
			t.Fatalf("a second task with the same title: %v, want CONFLICT", err)
		}
	})
}

// Project members, members of the owning group and of groups above it, and admins change tasks;
// everyone signed in reads them; a read-only token changes nothing.
func TestWhoMayChangeAProjectsTasks(t *testing.T) {
	st := storetest.SQLite(t)
	s, _ := newService(t, st)
	for _, tc := range []struct {
		name string
		ctx  context.Context
		want errs.Code
	}{
		{"the owning group's member", bob, ""},
		{"a member of the group above", dana, ""},
		{"a project member", erin, ""},
		{"an admin", admin, ""},
		{"someone else", carol, errs.Forbidden},
		{"a read-only token of an owner", reader, errs.Forbidden},
		{"nobody", context.Background(), errs.Unauthenticated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.CreateTask(tc.ctx, tasks.TaskInput{Project: "roadmap", Title: "Task by " + tc.name})
			if tc.want == "" && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if tc.want != "" && !errs.Is(err, tc.want) {
				t.Fatalf("CreateTask = %v, want %s", err, tc.want)
			}
			_, err = s.Import(tc.ctx, "roadmap", tasks.Markdown, "| Task | Priority | Assignee | Status |\n|---|---|---|---|\n| Imported by "+tc.name+" | Low | | Blocked |\n")
			if tc.want == "" && err != nil {
				t.Fatalf("import refused: %v", err)
			}
			if tc.want != "" && !errs.Is(err, tc.want) {
				t.Fatalf("Import = %v, want %s", err, tc.want)
			}
			// viewerCanEdit asks the same rule: it says yes exactly to those whose changes pass.
			proj, err := s.Project(admin, "roadmap")
			if err != nil {
				t.Fatal(err)
			}
			if can, err := s.CanEdit(tc.ctx, proj); err != nil || can != (tc.want == "") {
				t.Errorf("CanEdit = %v, %v; want %v", can, err, tc.want == "")
			}
		})
	}
	if n := countAudit(t, st, "tasks.task.create", "denied"); n != 3 {
		t.Errorf("%d denied creations audited, want 3 (asking CanEdit audits nothing)", n)
	}
	if _, err := s.Tasks(carol, tasks.Filter{Project: "roadmap"}, 10, ""); err != nil {
		t.Errorf("a viewer cannot read: %v", err)
	}
	if _, err := s.Tasks(context.Background(), tasks.Filter{Project: "roadmap"}, 10, ""); !errs.Is(err, errs.Unauthenticated) {
		t.Errorf("nobody reads: %v", err)
	}
	// Creating a project takes membership of the group that is to own it.
	if _, err := s.CreateProject(carol, tasks.ProjectInput{Name: "carols", Owner: "team-delivery"}); !errs.Is(err, errs.Forbidden) {
		t.Errorf("carol creating team-delivery's project: %v", err)
	}
	if _, err := s.CreateProject(carol, tasks.ProjectInput{Name: "carols", Owner: "team-delivery", Members: []string{"carol"}}); !errs.Is(err, errs.Forbidden) {
		t.Errorf("carol creating team-delivery's project with herself as member: %v", err)
	}
	if _, err := s.CreateProject(bob, tasks.ProjectInput{Name: "bobs", Owner: "team-delivery"}); err != nil {
		t.Errorf("bob creating his team's project: %v", err)
	}
}

// Every text and list is bounded, and the error names the field.
func TestInputsAreBoundedAndErrorsNameTheField(t *testing.T) {
	st := storetest.SQLite(t)
	s, _ := newService(t, st)
	long := func(n int) string { return strings.Repeat("x", n) }
	many := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = "l" + strings.Repeat("x", i)
		}
		return out
	}
	links := make([]tasks.Link, tasks.MaxLinks+1)
	for i := range links {
		links[i] = tasks.Link{Kind: tasks.LinkRollout, Target: "1"}
	}
	for _, tc := range []struct {
		name  string
		in    tasks.TaskInput
		field string
	}{
		{"empty title", tasks.TaskInput{Title: "  "}, "title"},
		{"long title", tasks.TaskInput{Title: long(tasks.MaxTitle + 1)}, "title"},
		{"two-line title", tasks.TaskInput{Title: "a\nb"}, "title"},
		{"a title reversed by a bidirectional control", tasks.TaskInput{Title: "Fix \u202etropmi"}, "title"},
		{"a title of invisible characters", tasks.TaskInput{Title: "\u200b\u200b"}, "title"},
		{"long comment", tasks.TaskInput{Title: "t", Comment: long(tasks.MaxComment + 1)}, "comment"},
		{"bad priority", tasks.TaskInput{Title: "t", Priority: "URGENT"}, "priority"},
		{"bad status", tasks.TaskInput{Title: "t", Status: "DONE"}, "status"},
		{"bad due date", tasks.TaskInput{Title: "t", Due: "15/12/2026"}, "due"},
		{"too many labels", tasks.TaskInput{Title: "t", Labels: many(tasks.MaxLabels + 1)}, "labels"},
		{"long label", tasks.TaskInput{Title: "t", Labels: []string{long(tasks.MaxLabel + 1)}}, "labels[0]"},
		{"an empty label", tasks.TaskInput{Title: "t", Labels: []string{"ops", " "}}, "labels[1]"},
		{"a label twice", tasks.TaskInput{Title: "t", Labels: []string{"ops", "ops"}}, "labels[1]"},
		{"too many links", tasks.TaskInput{Title: "t", Links: links}, "links"},
		{"a long link target", tasks.TaskInput{Title: "t", Links: []tasks.Link{{Kind: tasks.LinkRunbook, Target: long(tasks.MaxLinkTarget + 1)}}}, "links[0].target"},
		{"a rollout that is no number", tasks.TaskInput{Title: "t", Links: []tasks.Link{{Kind: tasks.LinkRollout, Target: "abc"}}}, "links[0].target"},
		{"an unknown link kind", tasks.TaskInput{Title: "t", Links: []tasks.Link{{Kind: "WIKI", Target: "x"}}}, "links[0].kind"},
		{"an unknown assignee", tasks.TaskInput{Title: "t", Assignee: "mallory"}, "assignee"},
		{"an ambiguous assignee", tasks.TaskInput{Title: "t", Assignee: "dana lee"}, "assignee"},
		{"a long assignee", tasks.TaskInput{Title: "t", Assignee: long(tasks.MaxRef + 1)}, "assignee"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Project = "roadmap"
			_, err := s.CreateTask(bob, tc.in)
			if !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != tc.field {
				t.Fatalf("CreateTask = %v (field %q), want INVALID naming %s", err, errs.FieldOf(err), tc.field)
			}
		})
	}
	task, err := s.CreateTask(bob, tasks.TaskInput{Project: "roadmap", Title: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddComment(bob, task.ID, long(tasks.MaxCommentBody+1)); errs.FieldOf(err) != "body" {
		t.Errorf("a long comment: %v", err)
	}
	if _, err := s.UpdateTask(bob, task.ID, tasks.TaskPatch{Title: ptr(long(tasks.MaxTitle + 1))}); errs.FieldOf(err) != "title" {
		t.Errorf("a long title update: %v", err)
	}
	if _, err := s.Import(bob, "roadmap", tasks.Markdown, long(tasks.MaxImportBytes+1)); errs.FieldOf(err) != "text" {
		t.Errorf("a huge import: %v", err)
	}
	var b strings.Builder
	b.WriteString("| Task | Priority | Assignee | Status |\n|---|---|---|---|\n")
	for i := range tasks.MaxImportRows + 1 {
		b.WriteString("| T" + strings.Repeat("x", i%5) + string(rune('a'+i%26)) + " | Low | | Blocked |\n")
	}
	if _, err := s.Import(bob, "roadmap", tasks.Markdown, b.String()); errs.FieldOf(err) != "text" {
		t.Errorf("an import of too many rows: %v", err)
	}
	if _, err := s.CreateProject(admin, tasks.ProjectInput{Name: "Bad Name", Owner: "team-delivery"}); errs.FieldOf(err) != "name" {
		t.Errorf("a bad project name: %v", err)
	}
	if _, err := s.CreateProject(admin, tasks.ProjectInput{Name: "p", Owner: "team-delivery", Members: many(tasks.MaxMembers + 1)}); errs.FieldOf(err) != "members" {
		t.Errorf("too many members: %v", err)
	}
	if _, err := s.CreateProject(admin, tasks.ProjectInput{Name: "p", Owner: "team-delivery", Title: long(tasks.MaxTitle + 1)}); errs.FieldOf(err) != "title" {
		t.Errorf("a long project title: %v", err)
	}
	if _, err := s.Tasks(bob, tasks.Filter{}, tasks.MaxPage+1, ""); errs.FieldOf(err) != "first" {
		t.Errorf("a page too large: %v", err)
	}
	if _, err := s.History(bob, task.ID, tasks.MaxThread+1); errs.FieldOf(err) != "first" {
		t.Errorf("a history too long: %v", err)
	}
}

// A bound said in characters counts characters, not bytes: a reference or a link target of as
// many characters as its bound allows, each of two bytes, is not refused for its length (it names
// nothing here, which is another error), and one character more is refused with its count of
// characters.
func TestBoundsInCharactersCountCharacters(t *testing.T) {
	st := storetest.SQLite(t)
	s, _ := newService(t, st)
	for _, tc := range []struct {
		field string
		max   int
		call  func(v string) error
	}{
		{"owner", tasks.MaxRef, func(v string) error {
			_, err := s.CreateProject(admin, tasks.ProjectInput{Name: "p", Owner: v})
			return err
		}},
		{"members[0]", tasks.MaxRef, func(v string) error {
			_, err := s.CreateProject(admin, tasks.ProjectInput{Name: "p", Owner: "team-delivery", Members: []string{v}})
			return err
		}},
		{"links[0].target", tasks.MaxLinkTarget, func(v string) error {
			_, err := s.CreateTask(bob, tasks.TaskInput{Project: "roadmap", Title: "t", Links: []tasks.Link{{Kind: tasks.LinkComponent, Target: v}}})
			return err
		}},
		{"assignee", tasks.MaxRef, func(v string) error {
			_, err := s.CreateTask(bob, tasks.TaskInput{Project: "roadmap", Title: "t", Assignee: v})
			return err
		}},
		{"filter.component", tasks.MaxRef, func(v string) error {
			_, err := s.Tasks(bob, tasks.Filter{Component: v}, 10, "")
			return err
		}},
	} {
		t.Run(tc.field, func(t *testing.T) {
			testutil.CharacterBound(t, tc.field, tc.max, tc.call)
		})
	}
}

func TestTasksFilterAndPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s, _ := newService(t, st)
		for i, in := range []tasks.TaskInput{
			{Title: "a", Priority: tasks.High, Assignee: "bob", Status: tasks.Blocked},
			{Title: "b", Priority: tasks.Low, Assignee: "carol", Links: []tasks.Link{{Kind: tasks.LinkComponent, Target: "payments-api"}}},
			{Title: "c", Priority: tasks.High, Assignee: "bob", Status: tasks.Completed},
		} {
			in.Project = "roadmap"
			if _, err := s.CreateTask(bob, in); err != nil {
				t.Fatalf("task %d: %v", i, err)
			}
		}
		titles := func(p *tasks.Page) string {
			var out []string
			for _, t := range p.Tasks {
				out = append(out, t.Title)
			}
			return strings.Join(out, ",")
		}
		for _, tc := range []struct {
			f    tasks.Filter
			want string
		}{
			{tasks.Filter{Project: "roadmap"}, "a,b,c"},
			{tasks.Filter{Assignee: "Bob Owner"}, "a,c"},
			{tasks.Filter{Statuses: []tasks.Status{tasks.Blocked, tasks.NotStarted}}, "a,b"},
			{tasks.Filter{Priorities: []tasks.Priority{tasks.High}, Statuses: []tasks.Status{tasks.Completed}}, "c"},
			{tasks.Filter{Component: "component:payments-api"}, "b"},
		} {
			p, err := s.Tasks(carol, tc.f, 10, "")
			if err != nil || titles(p) != tc.want || p.TotalCount != int64(len(strings.Split(tc.want, ","))) {
				t.Errorf("%+v: %q (%v), want %q", tc.f, titles(p), err, tc.want)
			}
		}
		p1, err := s.Tasks(carol, tasks.Filter{Project: "roadmap"}, 2, "")
		if err != nil || titles(p1) != "a,b" || !p1.HasNextPage || p1.TotalCount != 3 {
			t.Fatalf("page 1: %q %+v %v", titles(p1), p1, err)
		}
		p2, err := s.Tasks(carol, tasks.Filter{Project: "roadmap"}, 2, p1.EndCursor)
		if err != nil || titles(p2) != "c" || p2.HasNextPage {
			t.Fatalf("page 2: %q %v", titles(p2), err)
		}
	})
}

func TestSubscribersHearOfTheirProjectsChanges(t *testing.T) {
	st := storetest.SQLite(t)
	s, _ := newService(t, st)
	if _, err := s.CreateProject(admin, tasks.ProjectInput{Name: "other", Owner: "team-delivery"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(carol)
	defer cancel()
	sub, err := s.Watch(ctx, "roadmap")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateTask(bob, tasks.TaskInput{Project: "other", Title: "elsewhere"}); err != nil {
		t.Fatal(err)
	}
	task, err := s.CreateTask(bob, tasks.TaskInput{Project: "roadmap", Title: "here"})
	if err != nil {
		t.Fatal(err)
	}
	if e := <-sub.C(); e.Task.Title != "here" || e.Deleted {
		t.Fatalf("first event %+v, want the roadmap's task", e)
	}
	if err := s.DeleteTask(bob, task.ID, task.Version); err != nil {
		t.Fatal(err)
	}
	if e := <-sub.C(); e.Task.ID != task.ID || !e.Deleted {
		t.Fatalf("second event %+v, want the deletion", e)
	}
}

// TestASubscriberOnAnotherReplicaHearsOfEveryChangeOnce: two replicas on one PostgreSQL schema;
// what replica A changes reaches a subscriber on replica B once each, in order, whole (a task too
// large for a message is read again by B).
func TestASubscriberOnAnotherReplicaHearsOfEveryChangeOnce(t *testing.T) {
	url := storetest.PostgresURL(t)
	stA, stB := storetest.Open(t, url, true), storetest.Open(t, url, false)
	busA, startA := pgbustest.New(t, stA)
	busB, startB := pgbustest.New(t, stB)
	clk := testutil.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	a := tasks.NewService(stA, tasks.Options{Catalog: newFakeCatalog(), Now: clk.Now, Bus: busA})
	b := tasks.NewService(stB, tasks.Options{Catalog: newFakeCatalog(), Now: clk.Now, Bus: busB})
	startA()
	startB()
	if _, err := a.CreateProject(admin, tasks.ProjectInput{Name: "roadmap", Owner: "team-delivery"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(carol)
	defer cancel()
	onA, err := a.Watch(ctx, "roadmap")
	if err != nil {
		t.Fatal(err)
	}
	onB, err := b.Watch(ctx, "roadmap")
	if err != nil {
		t.Fatal(err)
	}
	small, err := a.CreateTask(bob, tasks.TaskInput{Project: "roadmap", Title: "here"})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("Blocked on the cluster quota. ", tasks.MaxComment/30)
	large, err := a.CreateTask(bob, tasks.TaskInput{Project: "roadmap", Title: "long", Comment: long})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.DeleteTask(bob, small.ID, small.Version); err != nil {
		t.Fatal(err)
	}
	want := []string{
		fmt.Sprintf("%d here deleted=false", small.ID),
		fmt.Sprintf("%d long deleted=false comment=%d", large.ID, len(strings.TrimSpace(long))),
		fmt.Sprintf("%d here deleted=true", small.ID),
	}
	for name, sub := range map[string]*tasks.Subscription{"A": onA, "B": onB} {
		for i, w := range want {
			var e tasks.Event
			select {
			case e = <-sub.C():
			case <-time.After(10 * time.Second):
				t.Fatalf("replica %s: event %d never arrived", name, i+1)
			}
			got := fmt.Sprintf("%d %s deleted=%v", e.Task.ID, e.Task.Title, e.Deleted)
			if e.Task.Comment != "" {
				got += fmt.Sprintf(" comment=%d", len(e.Task.Comment))
			}
			if got != w {
				t.Errorf("replica %s: event %d = %s, want %s", name, i+1, got, w)
			}
		}
		if n := len(sub.C()); n != 0 {
			t.Errorf("replica %s holds %d more events, want each change once", name, n)
		}
	}
}

// Concurrent updates on one version: one wins, and every other is a CONFLICT saying the version
// the task is at, whether the service's check or the conditional write refused it.
func TestConcurrentUpdatesOfOneVersionLeaveOneWinner(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s, _ := newService(t, st)
		task, err := s.CreateTask(bob, tasks.TaskInput{Project: "roadmap", Title: "Release notes"})
		if err != nil {
			t.Fatal(err)
		}
		const n = 6
		results := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				_, results[i] = s.UpdateTask(bob, task.ID, tasks.TaskPatch{Version: task.Version, Title: ptr(fmt.Sprintf("Release notes %d", i))})
			})
		}
		wg.Wait()
		won := 0
		for i, err := range results {
			switch {
			case err == nil:
				won++
			case !errs.Is(err, errs.Conflict) || !strings.Contains(errs.PublicMessage(err), "(it is at version 1)"):
				t.Errorf("update %d: %v, want CONFLICT saying the task is at version 1", i, err)
			}
		}
		if won != 1 {
			t.Errorf("%d updates won, want 1", won)
		}
	})
}

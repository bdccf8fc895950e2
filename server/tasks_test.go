package server_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portside-dev/portside/graph/model"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/logs"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
	"github.com/portside-dev/portside/tasks"
)

// projects counts the projects the tests made, for unique names.
var projects atomic.Int64

// taskProject creates a project owned by team-payments (bob's team) with one task, as the
// operator, and returns the project's name and the task.
func (p *portal) taskProject(t *testing.T) (string, tasks.Task) {
	t.Helper()
	name := fmt.Sprintf("roadmap-%d", projects.Add(1))
	if _, err := p.tasks.CreateProject(operator(), tasks.ProjectInput{Name: name, Title: "Deployment stage roadmap", Owner: "team-payments"}); err != nil {
		t.Fatal(err)
	}
	task, err := p.tasks.CreateTask(operator(), tasks.TaskInput{Project: name, Title: "Define k8s deployment specs", Assignee: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	return name, task
}

// taskMutations are a sample of each tasks mutation on a fresh project of bob's team.
// Each is keyed by the mutation's name and says its audit action.
func (p *portal) taskMutations() map[string]taskMutation {
	return map[string]taskMutation{
		"createProject": {"tasks.project.create", func(t *testing.T) string {
			return fmt.Sprintf(`mutation { createProject(input: {name: "p-%d", owner: "team-payments", members: ["carol"]}) { project { id owner members } } }`, projects.Add(1))
		}},
		"createTask": {"tasks.task.create", func(t *testing.T) string {
			name, _ := p.taskProject(t)
			return fmt.Sprintf(`mutation { createTask(input: {project: %q, title: "Helm chart templating", priority: LOW, assignee: "Bob Owner",
				links: [{kind: COMPONENT, target: "payments-api"}]}) { task { id assignee } } }`, name)
		}},
		"updateTask": {"tasks.task.update", func(t *testing.T) string {
			_, task := p.taskProject(t)
			return fmt.Sprintf(`mutation { updateTask(input: {id: %q, version: 0, status: BLOCKED}) { task { version status } } }`,
				model.EncodeNumericID("Task", task.ID))
		}},
		"addTaskComment": {"tasks.task.comment", func(t *testing.T) string {
			_, task := p.taskProject(t)
			return fmt.Sprintf(`mutation { addTaskComment(input: {id: %q, body: "Asked the platform team"}) { comment { id } } }`,
				model.EncodeNumericID("Task", task.ID))
		}},
		"deleteTask": {"tasks.task.delete", func(t *testing.T) string {
			_, task := p.taskProject(t)
			return fmt.Sprintf(`mutation { deleteTask(input: {id: %q, version: 0}) { id } }`, model.EncodeNumericID("Task", task.ID))
		}},
		"acceptTaskSuggestion": {"tasks.suggestion.accept", func(t *testing.T) string {
			return fmt.Sprintf(`mutation { acceptTaskSuggestion(input: {id: %q}) { task { status comment } } }`, p.taskSuggestion(t))
		}},
		"dismissTaskSuggestion": {"tasks.suggestion.dismiss", func(t *testing.T) string {
			return fmt.Sprintf(`mutation { dismissTaskSuggestion(input: {id: %q}) { suggestion { state decidedBy } } }`, p.taskSuggestion(t))
		}},
		"createMeeting": {"tasks.meeting.create", func(t *testing.T) string {
			name, _ := p.taskProject(t)
			return fmt.Sprintf(`mutation { createMeeting(input: {project: %q, notes: "Agenda"}) { meeting { id changes { kind } } } }`, name)
		}},
		"importTasks": {"tasks.task.import", func(t *testing.T) string {
			name, _ := p.taskProject(t)
			return fmt.Sprintf(`mutation { importTasks(input: {project: %q, text: "| Task | Priority | Assignee | Status |\n|---|---|---|---|\n| New | High | bob | Blocked |\n"}) { created errors { row column message } } }`, name)
		}},
	}
}

// taskMutation is a sample of one tasks mutation and the action its audit record names.
type taskMutation struct {
	action string
	query  func(t *testing.T) string
}

// The status-meeting table goes in and out over GraphQL, its problems come back by row and
// column, and the board, a task's history and the filters read it back.
func TestTasksOverGraphQL(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := newPortal(t, st)
		bob, carol := p.session("bob"), p.session("carol")
		name, _ := p.taskProject(t)
		// carol follows the project's table live.
		sub, _, err := p.subscribe(t, carol, p.base, fmt.Sprintf(`subscription { taskChanged(project: %q) { project taskId deleted task { title status version } } }`, name))
		if err != nil {
			t.Fatal(err)
		}
		testutil.Eventually(t, 10*time.Second, func() bool { return p.tasks.Subscribers() >= 1 }, "the subscription was never registered")
		table := `| Task | Priority | Assignee | Status | Comments / Issues |\n|---|---|---|---|---|\n` +
			`| Define k8s deployment specs | High | Bob Owner | In Progress | Waiting on service account permissions |\n` +
			`| Canary and blue/green rollout | High | carol@acme.example | Not Started | Drafting rollback procedures |\n`
		res := p.as(bob, fmt.Sprintf(`mutation { importTasks(input: {project: %q, text: "%s"}) { created updated unchanged errors { row } tasks { title assignee } } }`, name, table))
		if len(res.Errors) > 0 {
			t.Fatalf("import: %+v", res.Errors)
		}
		got := res.Data["importTasks"].(map[string]any)
		if got["created"] != 1.0 || got["updated"] != 1.0 || len(got["errors"].([]any)) != 0 {
			t.Fatalf("import: %+v", got)
		}
		// The import's two changes reach the subscriber, in the table's order.
		for _, want := range []string{"Define k8s deployment specs", "Canary and blue/green rollout"} {
			ev := nextData(t, sub)["taskChanged"].(map[string]any)
			if ev["project"] != name || ev["deleted"] != false || ev["task"].(map[string]any)["title"] != want {
				t.Fatalf("taskChanged = %v, want %q", ev, want)
			}
		}
		bad := p.as(bob, fmt.Sprintf(`mutation { importTasks(input: {project: %q, text: "| Task | Priority | Assignee | Status |\n|---|---|---|---|\n| X | Urgent | nobody-here | Done |\n"}) { created errors { row line column message } } }`, name))
		errsGot := bad.Data["importTasks"].(map[string]any)["errors"].([]any)
		if len(bad.Errors) > 0 || len(errsGot) != 3 || errsGot[0].(map[string]any)["column"] != "Priority" || errsGot[0].(map[string]any)["row"] != 1.0 {
			t.Fatalf("a bad import: %+v %+v", bad.Errors, errsGot)
		}
		if denied := p.as(carol, fmt.Sprintf(`mutation { importTasks(input: {project: %q, text: "x"}) { created } }`, name)); denied.code() != "FORBIDDEN" {
			t.Fatalf("carol importing: %+v", denied)
		}
		board := p.as(carol, fmt.Sprintf(`{ project(name: %q) { owner tasks(first: 10) { totalCount nodes { id title priority status assignee comment version
			history(first: 10) { actor field oldValue newValue } } } } }`, name))
		if len(board.Errors) > 0 {
			t.Fatalf("board: %+v", board.Errors)
		}
		conn := board.Data["project"].(map[string]any)["tasks"].(map[string]any)
		nodes := conn["nodes"].([]any)
		first := nodes[0].(map[string]any)
		if conn["totalCount"] != 2.0 || first["status"] != "IN_PROGRESS" || first["version"] != 1.0 || first["assignee"] != "user:default/bob" {
			t.Fatalf("board: %+v", conn)
		}
		hist := first["history"].([]any)
		if len(hist) != 4 || hist[2].(map[string]any)["field"] != "status" || hist[2].(map[string]any)["actor"] != "bob" {
			t.Fatalf("history: %+v", hist)
		}
		filtered := p.as(carol, `{ tasks(filter: {assignee: "carol", status: NOT_STARTED}) { totalCount nodes { title } } }`)
		if len(filtered.Errors) > 0 || filtered.Data["tasks"].(map[string]any)["totalCount"] != 1.0 {
			t.Fatalf("filtered: %+v", filtered)
		}
		// A stale update is a CONFLICT.
		id := first["id"].(string)
		if stale := p.as(bob, fmt.Sprintf(`mutation { updateTask(input: {id: %q, version: 0, status: COMPLETED}) { task { id } } }`, id)); stale.code() != "CONFLICT" {
			t.Fatalf("a stale update: %+v", stale)
		}
		node := p.as(carol, fmt.Sprintf(`{ node(id: %q) { ... on Task { title } } }`, id))
		if len(node.Errors) > 0 || node.Data["node"].(map[string]any)["title"] != "Define k8s deployment specs" {
			t.Fatalf("node: %+v", node)
		}
		// A meeting snapshots the table; what changed since is live.
		meeting := p.as(bob, fmt.Sprintf(`mutation { createMeeting(input: {project: %q, notes: "Weekly"}) { meeting { id notes changes { kind title } } } }`, name))
		if len(meeting.Errors) > 0 || len(meeting.Data["createMeeting"].(map[string]any)["meeting"].(map[string]any)["changes"].([]any)) != 2 {
			t.Fatalf("createMeeting: %+v", meeting)
		}
		if res := p.as(bob, fmt.Sprintf(`mutation { updateTask(input: {id: %q, version: 1, status: COMPLETED}) { task { version } } }`, id)); len(res.Errors) > 0 {
			t.Fatalf("update: %+v", res.Errors)
		}
		since := p.as(carol, fmt.Sprintf(`{ project(name: %q) { meetings { notes } changesSinceLastMeeting { kind title oldValue newValue } } }`, name))
		changes := since.Data["project"].(map[string]any)["changesSinceLastMeeting"].([]any)
		if len(since.Errors) > 0 || len(changes) != 1 || changes[0].(map[string]any)["kind"] != "CLOSED" {
			t.Fatalf("changes since the last meeting: %+v", since)
		}
		export := p.as(carol, fmt.Sprintf(`{ exportTasks(project: %q) }`, name))
		if len(export.Errors) > 0 || !strings.Contains(export.Data["exportTasks"].(string), "| Define k8s deployment specs | High | Bob Owner | Completed | Waiting on service account permissions |") {
			t.Fatalf("export: %+v", export)
		}
	})
}

// viewerCanEdit answers by the rule every change is checked with: yes to the owning team, no to
// others, on the project and on each task; and a change the portal would not offer is refused.
func TestViewerCanEditFollowsTheRuleChangesAreCheckedWith(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := newPortal(t, st)
		bob, carol := p.session("bob"), p.session("carol")
		name, task := p.taskProject(t)
		id := model.EncodeNumericID("Task", task.ID)
		q := fmt.Sprintf(`{ project(name: %q) { viewerCanEdit tasks(first: 5) { nodes { viewerCanEdit } } } task(id: %q) { viewerCanEdit } }`, name, id)
		for _, tc := range []struct {
			who  string
			as   signedIn
			want bool
		}{{"bob, of the owning team", bob, true}, {"carol, of no team of it", carol, false}} {
			res := p.as(tc.as, q)
			if len(res.Errors) > 0 {
				t.Fatalf("%s: %+v", tc.who, res.Errors)
			}
			proj := res.Data["project"].(map[string]any)
			onTask := proj["tasks"].(map[string]any)["nodes"].([]any)[0].(map[string]any)["viewerCanEdit"]
			if proj["viewerCanEdit"] != tc.want || onTask != tc.want || res.Data["task"].(map[string]any)["viewerCanEdit"] != tc.want {
				t.Errorf("%s: viewerCanEdit %v, want %v everywhere", tc.who, res.Data, tc.want)
			}
		}
		// carol forces the change the portal does not offer her: refused.
		forced := p.as(carol, fmt.Sprintf(`mutation { updateTask(input: {id: %q, version: 0, status: BLOCKED}) { task { status } } }`, id))
		if forced.code() != "FORBIDDEN" {
			t.Errorf("carol's forced change: %+v, want FORBIDDEN", forced)
		}
	})
}

// boardProject creates a project of team-payments holding n tasks assigned to assignee, imported
// as one table.
func (p *portal) boardProject(t *testing.T, n int, assignee string) string {
	t.Helper()
	name := fmt.Sprintf("board-%d", projects.Add(1))
	if _, err := p.tasks.CreateProject(operator(), tasks.ProjectInput{Name: name, Owner: "team-payments"}); err != nil {
		t.Fatal(err)
	}
	var table strings.Builder
	table.WriteString("| Task | Priority | Assignee | Status |\n|---|---|---|---|\n")
	for i := range n {
		fmt.Fprintf(&table, "| Task %03d | Medium | %s | Not Started |\n", i, assignee)
	}
	if _, err := p.tasks.Import(operator(), name, tasks.Markdown, table.String()); err != nil {
		t.Fatal(err)
	}
	return name
}

// viewerCanEdit on every task of a page is decided once for the whole page: the statements a page
// costs do not grow with its tasks (a board of 3 tasks and a page of 100 of 150 cost the same) nor
// with the projects its tasks belong to (the tasks query across one project or four), for a viewer
// who may change the tasks and for one who may not.
func TestViewerCanEditOnABoardCostsTheSameStatementsWhateverItsSize(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := newPortal(t, st)
		bob, carol := p.session("bob"), p.session("carol")
		small, large := p.boardProject(t, 3, "bob"), p.boardProject(t, 150, "bob")
		p.boardProject(t, 2, "alice")
		// Only the statements of the request asked (by its request ID): the server's own work
		// (trackers, leases) runs beside it on the same database.
		var asking atomic.Value
		asking.Store("")
		counter := storetest.CountStatementsOf(st.Gorm(), func(ctx context.Context) bool {
			id := logs.RequestID(ctx)
			return id != "" && id == asking.Load().(string)
		})
		viewers := []struct {
			who  string
			as   signedIn
			want bool
		}{{"bob, of the owning team", bob, true}, {"carol, of no team of it", carol, false}}
		// ask runs query as a viewer and returns the statements it ran and the viewerCanEdit
		// answers it holds, with the number of tasks answered. The least of three runs: the first
		// use of a session or of a cache costs statements of its own.
		asked := 0
		ask := func(v signedIn, query string, tasksOf func(map[string]any) []any) (int64, []any, int) {
			t.Helper()
			var res gqlResult
			n := int64(-1)
			for range 3 {
				asked++
				id := fmt.Sprintf("board-statements-%d", asked)
				asking.Store(id)
				counter.Reset()
				header := p.fromPortal()
				header.Set("X-Request-ID", id)
				res = p.gql(v.b.Client, header, query, nil)
				if c := counter.Reset(); n < 0 || c < n {
					n = c
				}
				if len(res.Errors) > 0 {
					t.Fatalf("%s: %+v", query, res.Errors)
				}
			}
			var answers []any
			nodes := tasksOf(res.Data)
			for _, node := range nodes {
				answers = append(answers, node.(map[string]any)["viewerCanEdit"])
			}
			return n, answers, len(nodes)
		}
		const board = `{ project(name: %q) { viewerCanEdit tasks(first: 100) { totalCount nodes { id viewerCanEdit } } } }`
		boardTasks := func(d map[string]any) []any {
			proj := d["project"].(map[string]any)
			return append(proj["tasks"].(map[string]any)["nodes"].([]any), map[string]any{"viewerCanEdit": proj["viewerCanEdit"]})
		}
		const across = `{ tasks(filter: {assignee: "alice"}, first: 100) { nodes { id project viewerCanEdit } } }`
		acrossTasks := func(d map[string]any) []any { return d["tasks"].(map[string]any)["nodes"].([]any) }
		check := func(who, what string, answers []any, n, wantTasks int, want bool) {
			t.Helper()
			if n != wantTasks {
				t.Fatalf("%s, %s: %d tasks answered, want %d", who, what, n, wantTasks)
			}
			for _, a := range answers {
				if a != want {
					t.Fatalf("%s, %s: viewerCanEdit %v, want %v everywhere", who, what, answers, want)
				}
			}
		}
		oneProject := map[string]int64{}
		for _, v := range viewers {
			nSmall, answers, n := ask(v.as, fmt.Sprintf(board, small), boardTasks)
			check(v.who, "a board of 3", answers, n, 3+1, v.want)
			nLarge, answers, n := ask(v.as, fmt.Sprintf(board, large), boardTasks)
			check(v.who, "a page of 100 of 150", answers, n, 100+1, v.want)
			if nSmall != nLarge {
				t.Errorf("%s: a board of 3 tasks ran %d statements, a page of 100 tasks %d: viewerCanEdit grows with the tasks", v.who, nSmall, nLarge)
			}
			var answersAcross []any
			oneProject[v.who], answersAcross, n = ask(v.as, across, acrossTasks)
			check(v.who, "alice's tasks in one project", answersAcross, n, 2, v.want)
		}
		for range 3 {
			p.boardProject(t, 2, "alice")
		}
		for _, v := range viewers {
			nFour, answers, n := ask(v.as, across, acrossTasks)
			check(v.who, "alice's tasks in four projects", answers, n, 8, v.want)
			if nFour != oneProject[v.who] {
				t.Errorf("%s: the tasks of one project ran %d statements, of four projects %d: viewerCanEdit grows with the projects", v.who, oneProject[v.who], nFour)
			}
		}
	})
}

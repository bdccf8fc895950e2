package graph_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/client"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/demo"
	"github.com/portside-dev/portside/catalog/sources"
	"github.com/portside-dev/portside/config"
	"github.com/portside-dev/portside/graph"
	"github.com/portside-dev/portside/graph/model"
	"github.com/portside-dev/portside/pipelines"
	"github.com/portside-dev/portside/rollouts"
	"github.com/portside-dev/portside/runbooks"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
	"github.com/portside-dev/portside/tasks"
)

// newTasksAPI is the GraphQL endpoint over the tasks and the rollouts, pipeline runs and
// runbooks they link to, wired as serve wires them, on the demo catalog, with a project
// "roadmap" of team-payments.
func newTasksAPI(t *testing.T, st *store.Store) (*api, *runbooks.Service) {
	t.Helper()
	discard := slog.New(slog.DiscardHandler)
	cat := catalog.NewService(st, catalog.Options{
		Readers: map[catalog.LocationType]catalog.Reader{catalog.LocationEmbedded: sources.Embedded{FS: map[string]fs.FS{"demo": demo.FS()}}},
		Logger:  discard,
	})
	rs := rollouts.NewService(st, nil, rollouts.Options{Catalog: cat})
	ps := pipelines.NewService(st, pipelines.Options{Catalog: cat})
	books := runbooks.NewService(st, runbooks.Options{Catalog: cat})
	t.Cleanup(books.Stop)
	ts := tasks.NewService(st, tasks.Options{Catalog: cat, Rollouts: rs, PipelineRuns: ps, Runbooks: books, Logger: discard})
	h := graph.NewHandler(&graph.Resolver{Catalog: cat, RolloutService: rs, PipelineService: ps, RunbookService: books, TaskService: ts},
		graph.HandlerOptions{MaxDepth: 12, MaxComplexity: 100000, Logger: discard})
	a := (&api{t: t, st: st, svc: cat, c: client.New(signedIn(h)), h: signedIn(h)}).withDemo()
	if _, err := ts.CreateProject(operator, tasks.ProjectInput{Name: "roadmap", Owner: "team-payments"}); err != nil {
		t.Fatal(err)
	}
	return a, books
}

// recordRollout stores a rollout of payments-api as the tracker records one it saw Argo CD
// finish (no Argo CD here), and returns its number.
func recordRollout(t *testing.T, st *store.Store) int64 {
	t.Helper()
	now := time.Now().UTC()
	if err := st.Gorm().Exec(`INSERT INTO rollouts (instance, application, phase, result, started_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
		"argocd", "payments-api", "Succeeded", string(rollouts.ResultSucceeded), now, now).Error; err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := st.Gorm().Raw(`SELECT max(id) FROM rollouts`).Scan(&id).Error; err != nil || id == 0 {
		t.Fatalf("the rollout's number: %d, %v", id, err)
	}
	return id
}

type taskLinks struct {
	Task struct {
		ID      string
		Version int
		Links   []struct{ Kind, Target string }
	}
}

const createLinked = `mutation($kind: TaskLinkKind!, $target: String!) {
  createTask(input: {project: "roadmap", title: "Canary and blue/green rollout", links: [{kind: $kind, target: $target}]}) {
    task { id version links { kind target } } } }`

// A client names a rollout by the ID the API gave it (or by its number); the task keeps and
// answers the number, which the delivery suggestions match.
func TestATaskLinksARolloutByItsID(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		a, _ := newTasksAPI(t, st)
		n := recordRollout(t, st)
		var node struct {
			Node struct{ ID, Application string }
		}
		a.query(&node, `query($id: ID!) { node(id: $id) { id ... on Rollout { application } } }`, client.Var("id", model.EncodeNumericID("Rollout", n)))
		if node.Node.Application != "payments-api" {
			t.Fatalf("the rollout's node: %+v", node.Node)
		}
		var created struct{ CreateTask taskLinks }
		a.query(&created, createLinked, client.Var("kind", "ROLLOUT"), client.Var("target", node.Node.ID))
		want := strconv.FormatInt(n, 10)
		if l := created.CreateTask.Task.Links; len(l) != 1 || l[0].Kind != "ROLLOUT" || l[0].Target != want {
			t.Fatalf("links %+v, want ROLLOUT %s", l, want)
		}
		var read taskLinks
		a.query(&read, `query($id: ID!) { task(id: $id) { id version links { kind target } } }`, client.Var("id", created.CreateTask.Task.ID))
		if l := read.Task.Links; len(l) != 1 || l[0].Target != want {
			t.Fatalf("read back %+v, want ROLLOUT %s", l, want)
		}
		// The ID again, or the number, is the same link: nothing changes.
		for _, target := range []string{node.Node.ID, want} {
			var updated struct{ UpdateTask taskLinks }
			a.query(&updated, `mutation($id: ID!, $target: String!) { updateTask(input: {id: $id, version: 0, links: [{kind: ROLLOUT, target: $target}]}) {
				task { id version links { kind target } } } }`, client.Var("id", created.CreateTask.Task.ID), client.Var("target", target))
			if u := updated.UpdateTask.Task; u.Version != 0 || len(u.Links) != 1 || u.Links[0].Target != want {
				t.Fatalf("updated with %s: %+v, want the task unchanged", target, u)
			}
		}
		// The ID of a rollout Portside never recorded is NOT_FOUND naming the field.
		gone := model.EncodeNumericID("Rollout", n+1)
		list := a.errorsOf(createLinked, client.Var("kind", "ROLLOUT"), client.Var("target", gone))
		if e := list[0]; e.Extensions["code"] != "NOT_FOUND" || e.Extensions["field"] != "links[0].target" || e.Message != "links[0].target: no rollout "+strconv.FormatInt(n+1, 10) {
			t.Fatalf("a missing rollout's ID: %+v", list)
		}
	})
}

// The ID of something else than the link's kind names is INVALID naming the field and saying
// what the ID is; so is what is neither a number nor an ID.
func TestALinkTargetOfTheWrongTypeIsInvalid(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		a, _ := newTasksAPI(t, st)
		n := recordRollout(t, st)
		run, rollout, alert := model.EncodeNumericID("PipelineRun", n), model.EncodeNumericID("Rollout", n), model.EncodeNumericID("Alert", n)
		for _, tc := range []struct{ kind, target, message string }{
			{"ROLLOUT", run, `links[0].target: "` + run + `" is the ID of a PipelineRun, not of a Rollout`},
			{"PIPELINE_RUN", rollout, `links[0].target: "` + rollout + `" is the ID of a Rollout, not of a PipelineRun`},
			{"RUNBOOK", rollout, `links[0].target: "` + rollout + `" is the ID of a Rollout, not of a Runbook`},
			{"ROLLOUT", alert, `links[0].target: "` + alert + `" is the ID of an Alert, not of a Rollout`},
			{"ROLLOUT", "latest", `links[0].target: "latest" is neither the number of a rollout nor the ID of a Rollout`},
			{"ROLLOUT", model.EncodeID("Rollout", "0"+strconv.FormatInt(n, 10)), `links[0].target: "` + model.EncodeID("Rollout", "0"+strconv.FormatInt(n, 10)) + `" is not the ID of a Rollout`},
		} {
			list := a.errorsOf(createLinked, client.Var("kind", tc.kind), client.Var("target", tc.target))
			if e := list[0]; e.Extensions["code"] != "INVALID" || e.Extensions["field"] != "links[0].target" || e.Message != tc.message {
				t.Errorf("%s %s: %+v, want INVALID %q", tc.kind, tc.target, list, tc.message)
			}
		}
		var page struct{ Tasks struct{ TotalCount int } }
		a.query(&page, `{ tasks(filter: {project: "roadmap"}) { totalCount } }`)
		if page.Tasks.TotalCount != 0 {
			t.Fatalf("refused links made %d tasks", page.Tasks.TotalCount)
		}
	})
}

// A runbook link names a runbook that exists, by its number or its ID, and keeps its number.
func TestATaskLinksOnlyARunbookThatExists(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		a, books := newTasksAPI(t, st)
		rb, err := books.Create(operator, runbooks.CreateInput{Title: "Payments failover", Kind: runbooks.Link,
			URL: "https://wiki.example/payments", Links: []string{"payments-api"}, Message: "first"})
		if err != nil {
			t.Fatal(err)
		}
		missing := strconv.FormatInt(rb.ID+1, 10)
		for _, target := range []string{missing, model.EncodeNumericID("Runbook", rb.ID+1)} {
			list := a.errorsOf(createLinked, client.Var("kind", "RUNBOOK"), client.Var("target", target))
			if e := list[0]; e.Extensions["code"] != "NOT_FOUND" || e.Extensions["field"] != "links[0].target" || e.Message != "links[0].target: no runbook "+missing {
				t.Errorf("a missing runbook (%s): %+v", target, list)
			}
		}
		list := a.errorsOf(createLinked, client.Var("kind", "RUNBOOK"), client.Var("target", "https://wiki.example/payments"))
		if e := list[0]; e.Extensions["code"] != "INVALID" || e.Extensions["field"] != "links[0].target" || !strings.Contains(e.Message, "is not the number of a runbook") {
			t.Errorf("a runbook's URL: %+v", list)
		}
		var rbID struct{ Runbook struct{ ID string } }
		a.query(&rbID, `query($id: ID!) { runbook(id: $id) { id } }`, client.Var("id", model.EncodeNumericID("Runbook", rb.ID)))
		var created struct{ CreateTask taskLinks }
		a.query(&created, createLinked, client.Var("kind", "RUNBOOK"), client.Var("target", rbID.Runbook.ID))
		if l := created.CreateTask.Task.Links; len(l) != 1 || l[0].Kind != "RUNBOOK" || l[0].Target != strconv.FormatInt(rb.ID, 10) {
			t.Fatalf("links %+v, want RUNBOOK %d", l, rb.ID)
		}
	})
}

// A task import's table as large as the API takes (tasks.MaxImportBytes) reaches the import over
// GraphQL under the default body bound, however its client escapes it in JSON: here the meeting
// note before the table is all control characters, which every JSON encoder writes as six-byte
// \u escapes, the worst case. One byte more is refused by the import, naming its bound, and not
// by the body's (413). The default bound is the one serve runs with.
func TestATaskImportOfTheLargestTableFitsAGraphQLRequestHoweverEscaped(t *testing.T) {
	if got := config.Defaults().GraphQLMaxBodyBytes; got != graph.MaxBodyBytes {
		t.Fatalf("graphql-max-body-bytes defaults to %d; want graph.MaxBodyBytes (%d)", got, graph.MaxBodyBytes)
	}
	a, _ := newTasksAPI(t, storetest.SQLite(t))
	const table = "| Task | Priority | Assignee | Status |\n|---|---|---|---|\n| Import the largest table | High | | Not Started |\n"
	document := func(size int) string {
		return strings.Repeat("\x01", size-len(table)-1) + "\n" + table
	}
	importing := func(doc string) *httptest.ResponseRecorder {
		t.Helper()
		body, err := json.Marshal(map[string]any{
			"query":     `mutation($text: String!) { importTasks(input: {project: "roadmap", text: $text}) { created errors { row column message } } }`,
			"variables": map[string]any{"text": doc},
		})
		if err != nil {
			t.Fatal(err)
		}
		if escaped := jsonEscapeMax * strings.Count(doc, "\x01"); len(body) < escaped {
			t.Fatalf("the request has %d bytes, less than its note's %d control characters escaped (%d)", len(body), escaped/jsonEscapeMax, escaped)
		}
		return postBody(a.h, bytes.NewReader(body), int64(len(body)), mediaGraphQLResponse)
	}

	rec := importing(document(tasks.MaxImportBytes))
	if rec.Code != http.StatusOK {
		t.Fatalf("a table of %d bytes: status %d, want 200; %.300s", tasks.MaxImportBytes, rec.Code, rec.Body)
	}
	var got struct {
		ImportTasks struct {
			Created int
			Errors  []struct{ Message string }
		}
	}
	decodeHTTP(t, rec).data(t, &got)
	if got.ImportTasks.Created != 1 || len(got.ImportTasks.Errors) != 0 {
		t.Fatalf("a table of %d bytes: %+v; want its one task created", tasks.MaxImportBytes, got.ImportTasks)
	}

	rec = importing(document(tasks.MaxImportBytes + 1))
	e := decodeHTTP(t, rec).onlyError(t)
	if rec.Code == http.StatusRequestEntityTooLarge || e.Extensions["code"] != "INVALID" || e.Extensions["field"] != "text" ||
		e.Message != fmt.Sprintf("text: has %d bytes; at most %d", tasks.MaxImportBytes+1, tasks.MaxImportBytes) {
		t.Errorf("a table of %d bytes: status %d, %+v; want the import's INVALID naming text and its bound", tasks.MaxImportBytes+1, rec.Code, e)
	}
}

// jsonEscapeMax is the most bytes JSON writes one byte of a string as (\u0001).
const jsonEscapeMax = len(`\u0001`)

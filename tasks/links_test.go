package tasks_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/pipelines"
	"github.com/portside-dev/portside/rollouts"
	"github.com/portside-dev/portside/runbooks"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
	"github.com/portside-dev/portside/tasks"
)

// records fakes the rollouts, pipeline runs and runbooks tasks link to: find answers for the
// record of a kind ("rollout", "pipeline run", "runbook") with a number, as the domains do (nil
// when it exists, NOT_FOUND when not).
type records struct {
	find func(kind string, id int64) error
}

func (r records) Rollout(_ context.Context, id int64) (rollouts.Rollout, error) {
	return rollouts.Rollout{ID: id}, r.find("rollout", id)
}

func (r records) Run(_ context.Context, id int64) (pipelines.Run, error) {
	return pipelines.Run{ID: id}, r.find("pipeline run", id)
}

func (r records) Runbook(_ context.Context, id int64) (runbooks.Runbook, error) {
	return runbooks.Runbook{ID: id}, r.find("runbook", id)
}

// existing is records that knows the records in have ("rollout 7", "runbook 3") and appends
// every lookup to asked.
func existing(have map[string]bool, asked *[]string) records {
	return records{find: func(kind string, id int64) error {
		what := fmt.Sprintf("%s %d", kind, id)
		*asked = append(*asked, what)
		if !have[what] {
			return errs.E(errs.NotFound, "%s not found", what)
		}
		return nil
	}}
}

// finders wires r as every finder of what tasks link to.
func finders(r records) tasks.Options {
	return tasks.Options{Rollouts: r, PipelineRuns: r, Runbooks: r}
}

func TestALinkedRolloutPipelineRunOrRunbookMustExist(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		var asked []string
		have := map[string]bool{"rollout 7": true, "pipeline run 7": true, "runbook 7": true}
		s, _ := newServiceWith(t, st, finders(existing(have, &asked)))
		for _, tc := range []struct {
			kind tasks.LinkKind
			noun string
		}{{tasks.LinkRollout, "rollout"}, {tasks.LinkPipelineRun, "pipeline run"}, {tasks.LinkRunbook, "runbook"}} {
			t.Run(string(tc.kind), func(t *testing.T) {
				// A missing one is NOT_FOUND naming the field and the number; nothing is created.
				_, err := s.CreateTask(bob, tasks.TaskInput{Project: "roadmap", Title: "Missing " + tc.noun,
					Links: []tasks.Link{{Kind: tasks.LinkComponent, Target: "payments-api"}, {Kind: tc.kind, Target: "99"}}})
				want := "links[1].target: no " + tc.noun + " 99"
				if !errs.Is(err, errs.NotFound) || errs.FieldOf(err) != "links[1].target" || errs.PublicMessage(err) != want {
					t.Fatalf("CreateTask = %v (field %q), want NOT_FOUND %q", err, errs.FieldOf(err), want)
				}
				if p, err := s.Tasks(carol, tasks.Filter{Project: "roadmap"}, 10, ""); err != nil || p.TotalCount != 0 {
					t.Fatalf("a refused task was kept: %+v, %v", p, err)
				}
				// An existing one is stored as its number, however it was written.
				task, err := s.CreateTask(bob, tasks.TaskInput{Project: "roadmap", Title: "Linked " + tc.noun,
					Links: []tasks.Link{{Kind: tc.kind, Target: " 007 "}}})
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(task.Links, []tasks.Link{{Kind: tc.kind, Target: "7"}}) {
					t.Fatalf("links %+v, want %s 7", task.Links, tc.kind)
				}
				if read, err := s.Task(carol, task.ID); err != nil || !slices.Equal(read.Links, task.Links) {
					t.Fatalf("read back %+v, %v", read.Links, err)
				}
				// An update that links a missing one is refused the same way, and changes nothing.
				_, err = s.UpdateTask(bob, task.ID, tasks.TaskPatch{Version: task.Version, SetLinks: true,
					Links: []tasks.Link{{Kind: tc.kind, Target: "7"}, {Kind: tc.kind, Target: "98"}}})
				if !errs.Is(err, errs.NotFound) || errs.FieldOf(err) != "links[1].target" || errs.PublicMessage(err) != "links[1].target: no "+tc.noun+" 98" {
					t.Fatalf("UpdateTask = %v (field %q), want NOT_FOUND naming links[1].target", err, errs.FieldOf(err))
				}
				if read, _ := s.Task(carol, task.ID); read.Version != task.Version || !slices.Equal(read.Links, task.Links) {
					t.Fatalf("a refused update changed the task: %+v", read)
				}
				if err := s.DeleteTask(bob, task.ID, task.Version); err != nil {
					t.Fatal(err)
				}
			})
		}
		// What is no number is INVALID before anything is looked up.
		asked = nil
		for _, kind := range []tasks.LinkKind{tasks.LinkRollout, tasks.LinkPipelineRun, tasks.LinkRunbook} {
			_, err := s.CreateTask(bob, tasks.TaskInput{Project: "roadmap", Title: "t", Links: []tasks.Link{{Kind: kind, Target: "https://wiki.example/x"}}})
			if !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != "links[0].target" {
				t.Errorf("%s https://wiki.example/x: %v (field %q), want INVALID naming links[0].target", kind, err, errs.FieldOf(err))
			}
		}
		if len(asked) != 0 {
			t.Errorf("targets that are no number were looked up: %q", asked)
		}
	})
}

// A link is looked up when it is made, once, and not again: a task whose rollout is gone (or
// whose runbook link was made before runbooks were checked) stays editable.
func TestALinkIsCheckedWhenItIsMadeOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		var asked []string
		have := map[string]bool{"rollout 7": true, "pipeline run 42": true, "runbook 3": true}
		s, _ := newServiceWith(t, st, finders(existing(have, &asked)))
		task, err := s.CreateTask(bob, tasks.TaskInput{Project: "roadmap", Title: "Canary and blue/green rollout",
			Links: []tasks.Link{{Kind: tasks.LinkRollout, Target: "7"}, {Kind: tasks.LinkRollout, Target: "07"}, {Kind: tasks.LinkPipelineRun, Target: "42"}}})
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"rollout 7", "pipeline run 42"}; !slices.Equal(asked, want) {
			t.Fatalf("looked up %q, want %q (a repeat once)", asked, want)
		}
		if want := []tasks.Link{{Kind: tasks.LinkPipelineRun, Target: "42"}, {Kind: tasks.LinkRollout, Target: "7"}}; !slices.Equal(task.Links, want) {
			t.Fatalf("links %+v, want %+v", task.Links, want)
		}
		// The rollout goes; the task's other fields still change, and its links stay.
		delete(have, "rollout 7")
		asked = nil
		task, err = s.UpdateTask(bob, task.ID, tasks.TaskPatch{Version: task.Version, Status: ptr(tasks.InProgress)})
		if err != nil || len(task.Links) != 2 {
			t.Fatalf("an update of the status: %+v, %v", task, err)
		}
		// Links given again are kept as they are; only the new one is looked up.
		task, err = s.UpdateTask(bob, task.ID, tasks.TaskPatch{Version: task.Version, SetLinks: true,
			Links: append(slices.Clone(task.Links), tasks.Link{Kind: tasks.LinkRunbook, Target: "3"})})
		if err != nil || len(task.Links) != 3 {
			t.Fatalf("an update adding a runbook: %+v, %v", task, err)
		}
		if want := []string{"runbook 3"}; !slices.Equal(asked, want) {
			t.Fatalf("looked up %q, want %q", asked, want)
		}
		// Linked again once dropped, the gone rollout is looked up, and refused.
		task, err = s.UpdateTask(bob, task.ID, tasks.TaskPatch{Version: task.Version, SetLinks: true, Links: []tasks.Link{}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.UpdateTask(bob, task.ID, tasks.TaskPatch{Version: task.Version, SetLinks: true, Links: []tasks.Link{{Kind: tasks.LinkRollout, Target: "7"}}})
		if !errs.Is(err, errs.NotFound) || errs.FieldOf(err) != "links[0].target" {
			t.Fatalf("relinking a gone rollout: %v, want NOT_FOUND naming links[0].target", err)
		}

		// A runbook link of any text, made when runbooks were not checked, stays through updates;
		// a new one must be a runbook's number.
		unchecked := tasks.NewService(st, tasks.Options{Catalog: newFakeCatalog()})
		old, err := unchecked.CreateTask(bob, tasks.TaskInput{Project: "roadmap", Title: "Review the payments runbook",
			Links: []tasks.Link{{Kind: tasks.LinkRunbook, Target: "https://wiki.example/payments"}}})
		if err != nil {
			t.Fatal(err)
		}
		old, err = s.UpdateTask(bob, old.ID, tasks.TaskPatch{Version: old.Version, Status: ptr(tasks.Blocked), SetLinks: true, Links: old.Links})
		if err != nil || !slices.Equal(old.Links, []tasks.Link{{Kind: tasks.LinkRunbook, Target: "https://wiki.example/payments"}}) {
			t.Fatalf("an update of a task with a runbook link of text: %+v, %v", old, err)
		}
		_, err = s.UpdateTask(bob, old.ID, tasks.TaskPatch{Version: old.Version, SetLinks: true,
			Links: append(slices.Clone(old.Links), tasks.Link{Kind: tasks.LinkRunbook, Target: "https://wiki.example/checkout"})})
		want := `links[1].target: "https://wiki.example/checkout" is not the number of a runbook`
		if !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != "links[1].target" || errs.PublicMessage(err) != want {
			t.Fatalf("a new runbook link of text: %v, want INVALID %q", err, want)
		}
	})
}

// A lookup that fails for another reason than a missing record fails the change as it failed,
// not as NOT_FOUND: the caller may retry.
func TestALinkThatCannotBeLookedUpIsNotCalledMissing(t *testing.T) {
	st := storetest.SQLite(t)
	down := records{find: func(string, int64) error { return errs.E(errs.Unavailable, "the database is unreachable") }}
	s, _ := newServiceWith(t, st, finders(down))
	_, err := s.CreateTask(bob, tasks.TaskInput{Project: "roadmap", Title: "t", Links: []tasks.Link{{Kind: tasks.LinkPipelineRun, Target: "42"}}})
	if !errs.Is(err, errs.Unavailable) {
		t.Fatalf("CreateTask = %v, want UNAVAILABLE", err)
	}
}

// A task linked to a component that then leaves the catalog stays editable, its links sent back
// as they were read included; linking a component the catalog does not have is still refused.
func TestACatalogLinkOutlivesItsEntity(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		cat := newFakeCatalog()
		clk := testutil.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
		s := tasks.NewService(st, tasks.Options{Catalog: cat, Audit: audit.New(st, nil), Now: clk.Now})
		if _, err := s.CreateProject(admin, tasks.ProjectInput{Name: "roadmap", Owner: "team-delivery"}); err != nil {
			t.Fatal(err)
		}
		task, err := s.CreateTask(bob, tasks.TaskInput{Project: "roadmap", Title: "Retire payments-api",
			Links: []tasks.Link{{Kind: tasks.LinkComponent, Target: "payments-api"}, {Kind: tasks.LinkSystem, Target: "payments"}}})
		if err != nil {
			t.Fatal(err)
		}
		delete(cat.entities, "component:default/payments-api")
		delete(cat.entities, "system:default/payments")
		task, err = s.UpdateTask(bob, task.ID, tasks.TaskPatch{Version: task.Version, Status: ptr(tasks.Completed)})
		if err != nil || task.Status != tasks.Completed || len(task.Links) != 2 {
			t.Fatalf("completing a task whose component left the catalog: %+v, %v", task, err)
		}
		task, err = s.UpdateTask(bob, task.ID, tasks.TaskPatch{Version: task.Version, SetLinks: true, Links: slices.Clone(task.Links)})
		if err != nil || len(task.Links) != 2 {
			t.Fatalf("sending its links back as read: %+v, %v", task, err)
		}
		_, err = s.UpdateTask(bob, task.ID, tasks.TaskPatch{Version: task.Version, SetLinks: true,
			Links: append(slices.Clone(task.Links), tasks.Link{Kind: tasks.LinkComponent, Target: "checkout"})})
		if !errs.Is(err, errs.NotFound) || !strings.HasPrefix(errs.PublicMessage(err), "links[2].target: ") {
			t.Fatalf("linking a component the catalog does not have: %v, want NOT_FOUND naming links[2].target", err)
		}
	})
}

// A title stored before today's rules (a tab, a bidirectional control) does not keep its task
// from being updated otherwise; a new title is held to them.
func TestATitleKeptAsItWasIsNotCheckedAgain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s, _ := newService(t, st)
		task, err := s.CreateTask(bob, tasks.TaskInput{Project: "roadmap", Title: "Old title"})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Gorm().Exec("UPDATE tasks SET title = ? WHERE id = ?", "Old\ttitle \u202e", task.ID).Error; err != nil {
			t.Fatal(err)
		}
		task, err = s.UpdateTask(bob, task.ID, tasks.TaskPatch{Version: task.Version, Status: ptr(tasks.Completed)})
		if err != nil || task.Status != tasks.Completed {
			t.Fatalf("completing a task with an old title: %+v, %v", task, err)
		}
		_, err = s.UpdateTask(bob, task.ID, tasks.TaskPatch{Version: task.Version, Title: ptr("New\ttitle")})
		if !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != "title" {
			t.Fatalf("a new title with a tab: %v, want INVALID naming title", err)
		}
	})
}

// A catalog entity that is not there is NOT_FOUND naming the input in the error's field, as a
// missing rollout is (what GraphQL answers as extensions.field): a link's target, a project's
// owner or member, a filter's component.
func TestAMissingCatalogEntityIsNotFoundNamingTheField(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s, _ := newService(t, st)
		check := func(what, field string, err error) {
			t.Helper()
			if !errs.Is(err, errs.NotFound) || errs.FieldOf(err) != field || !strings.HasPrefix(errs.PublicMessage(err), field+": ") {
				t.Errorf("%s: %v (field %q), want NOT_FOUND with field %s", what, err, errs.FieldOf(err), field)
			}
		}
		_, err := s.CreateTask(bob, tasks.TaskInput{Project: "roadmap", Title: "t",
			Links: []tasks.Link{{Kind: tasks.LinkComponent, Target: "payments-api"}, {Kind: tasks.LinkSystem, Target: "nope"}}})
		check("a link to a missing system", "links[1].target", err)
		_, err = s.CreateTask(bob, tasks.TaskInput{Project: "roadmap", Title: "t", Links: []tasks.Link{{Kind: tasks.LinkComponent, Target: "nope"}}})
		check("a link to a missing component", "links[0].target", err)
		_, err = s.CreateProject(admin, tasks.ProjectInput{Name: "p", Owner: "no-such-team"})
		check("a missing owner", "owner", err)
		_, err = s.CreateProject(admin, tasks.ProjectInput{Name: "p", Owner: "team-delivery", Members: []string{"erin", "ghost"}})
		check("a missing member", "members[1]", err)
		_, err = s.Tasks(bob, tasks.Filter{Component: "nope"}, 10, "")
		check("a filter on a missing component", "filter.component", err)
	})
}

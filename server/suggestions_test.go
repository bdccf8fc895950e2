package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"

	"github.com/portside-dev/portside/graph/model"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/pipelines"
	"github.com/portside-dev/portside/rollouts"
	"github.com/portside-dev/portside/rollouts/argocd/argocdtest"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
	"github.com/portside-dev/portside/tasks"
)

var rolloutTargets atomic.Int64

// taskSuggestion makes an open suggestion (Blocked) for a task of a fresh project of bob's team
// and returns its GraphQL ID.
func (p *portal) taskSuggestion(t *testing.T) string {
	t.Helper()
	name, _ := p.taskProject(t)
	target := strconv.FormatInt(900000+rolloutTargets.Add(1), 10)
	task, err := p.tasks.CreateTask(operator(), tasks.TaskInput{Project: name, Title: "Canary and blue/green rollout",
		Links: []tasks.Link{{Kind: tasks.LinkRollout, Target: target}}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.tasks.Suggest(context.Background(), tasks.DeliveryEvent{Kind: tasks.LinkRollout, Target: target, Outcome: tasks.Failed, Reason: "sync failed"})
	if err != nil || len(got) != 1 || got[0].TaskID != task.ID {
		t.Fatalf("suggestion: %+v, %v", got, err)
	}
	return model.EncodeNumericID("TaskSuggestion", got[0].ID)
}

// A task linked to a rollout gets a suggestion when the rollout ends on the scripted Argo CD (a
// sync through Portside that succeeds suggests COMPLETED), shown on the task over GraphQL; the task
// is unchanged until bob accepts it, and then it changes with history.
func TestARolloutThatSucceedsSuggestsCompletedForItsTasks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := newPortal(t, st)
		ctx, cancel := context.WithCancel(context.Background())
		followed := make(chan struct{})
		go func() {
			p.tasks.FollowDelivery(ctx, tasks.RolloutFeed{Hub: p.deploys.Tracker()}, time.Second)
			close(followed)
		}()
		t.Cleanup(func() { cancel(); <-followed })
		bob := p.session("bob")
		p.settle()
		if res := p.as(bob, `mutation { syncDeployment(input: {component: "payments-api", revision: "b2"}) { deployment { application } } }`); len(res.Errors) > 0 {
			t.Fatalf("sync: %+v", res.Errors)
		}
		var running rollouts.Rollout
		testutil.Eventually(t, 10*time.Second, func() bool {
			page, err := p.deploys.Rollouts(operator(), []string{"payments-api"}, rollouts.Filter{}, 1, "")
			if err != nil || len(page.Rollouts) == 0 {
				return false
			}
			running = page.Rollouts[0]
			return running.Result == rollouts.ResultRunning && running.Revision == "b2"
		}, "Portside never recorded the sync to b2 as running")
		name, _ := p.taskProject(t)
		task, err := p.tasks.CreateTask(operator(), tasks.TaskInput{Project: name, Title: "Roll out b2", Status: tasks.InProgress,
			Links: []tasks.Link{{Kind: tasks.LinkRollout, Target: strconv.FormatInt(running.ID, 10)}}})
		if err != nil {
			t.Fatal(err)
		}
		p.argo.Update("argocd", "payments-api", func(a *v1alpha1.Application) { argocdtest.Succeed(a, "b2") })
		testutil.Eventually(t, 10*time.Second, func() bool {
			l, _ := p.tasks.Suggestions(operator(), task.ID)
			return len(l) == 1
		}, "no suggestion after the rollout succeeded")
		q := fmt.Sprintf(`{ task(id: %q) { status suggestions { id status reason state source { kind target } } } }`, model.EncodeNumericID("Task", task.ID))
		res := p.as(bob, q)
		got, _ := json.Marshal(res.Data)
		want := fmt.Sprintf(`"reason":"rollout %d succeeded","source":{"kind":"ROLLOUT","target":"%d"},"state":"OPEN","status":"COMPLETED"`, running.ID, running.ID)
		if len(res.Errors) > 0 || !strings.Contains(string(got), want) || !strings.Contains(string(got), `"status":"IN_PROGRESS"`) {
			t.Fatalf("task: %s %+v\nwant %s", got, res.Errors, want)
		}
		sug := res.Data["task"].(map[string]any)["suggestions"].([]any)[0].(map[string]any)["id"].(string)
		res = p.as(bob, fmt.Sprintf(`mutation { acceptTaskSuggestion(input: {id: %q}) { task { status history { field oldValue newValue actor } } } }`, sug))
		if got, _ := json.Marshal(res.Data); len(res.Errors) > 0 || !strings.Contains(string(got), `{"actor":"bob","field":"status","newValue":"COMPLETED","oldValue":"IN_PROGRESS"}`) {
			t.Fatalf("accept: %s %+v", got, res.Errors)
		}
	})
}

// A task linked to a pipeline run gets a suggestion when the run ends: the demo's ci pipeline run
// for real by the local provider, failing at its Test stage, suggests BLOCKED with the stage that
// failed; the task is unchanged until someone decides.
func TestAPipelineRunThatFailsSuggestsBlockedForItsTasks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := newPortal(t, st)
		ctx, cancel := context.WithCancel(context.Background())
		followed := make(chan struct{})
		go func() {
			p.tasks.FollowDelivery(ctx, tasks.PipelineRunFeed{Runs: p.pipes}, time.Second)
			close(followed)
		}()
		t.Cleanup(func() { cancel(); <-followed })
		testutil.Eventually(t, 10*time.Second, func() bool { return p.pipes.Subscribers() >= 1 }, "the feed never subscribed to the runs")

		// The run is triggered first and linked at once: it takes the local provider longer to
		// fail than to create the task.
		run, err := p.pipes.Trigger(operator(), pipelines.TriggerInput{Component: "payments-api", Pipeline: "ci",
			Parameters: map[string]string{"failAt": "Test"}, IdempotencyKey: "suggest-1"})
		if err != nil {
			t.Fatal(err)
		}
		name, _ := p.taskProject(t)
		target := strconv.FormatInt(run.ID, 10)
		task, err := p.tasks.CreateTask(operator(), tasks.TaskInput{Project: name, Title: "CI to CD handoff automation", Status: tasks.InProgress,
			Links: []tasks.Link{{Kind: tasks.LinkPipelineRun, Target: target}}})
		if err != nil {
			t.Fatal(err)
		}
		var got []tasks.Suggestion
		testutil.Eventually(t, 30*time.Second, func() bool {
			got, _ = p.tasks.Suggestions(operator(), task.ID)
			return len(got) == 1
		}, "no suggestion after the run failed")
		want := "pipeline run " + target + " failed: stage Test failed"
		if got[0].Status != tasks.Blocked || !strings.HasPrefix(got[0].Reason, want) || got[0].State != tasks.SuggestionOpen {
			t.Errorf("suggestion = %+v, want BLOCKED, open, %q", got[0], want)
		}
		if now, _ := p.tasks.Task(operator(), task.ID); now.Status != tasks.InProgress {
			t.Errorf("the task became %s without anyone deciding", now.Status)
		}
	})
}

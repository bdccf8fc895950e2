package tasks_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/pipelines"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
	"github.com/portside-dev/portside/tasks"
)

// feed is a delivery feed fed by the test: each Events call is one subscription.
type feed struct {
	subs chan chan tasks.DeliveryEvent
}

func (f *feed) Events(ctx context.Context) (<-chan tasks.DeliveryEvent, error) {
	ch := make(chan tasks.DeliveryEvent)
	select {
	case f.subs <- ch:
	case <-ctx.Done():
		close(ch)
	}
	return ch, nil
}

// The suggestion rules: a linked rollout that succeeded suggests Completed; one that failed or was
// aborted suggests Blocked with the reason; nothing changes until a person accepts (the task
// changes, with history) or dismisses; the same end reported again suggests nothing new.
func TestDeliverySuggestsAStatusAndAPersonDecides(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s, _ := newService(t, st)
		mk := func(title string, links ...tasks.Link) tasks.Task {
			task, err := s.CreateTask(bob, tasks.TaskInput{Project: "roadmap", Title: title, Status: tasks.InProgress, Links: links})
			if err != nil {
				t.Fatal(err)
			}
			return task
		}
		canary := mk("Canary and blue/green rollout", tasks.Link{Kind: tasks.LinkRollout, Target: "7"})
		helm := mk("Helm chart templating", tasks.Link{Kind: tasks.LinkRollout, Target: "8"})
		ci := mk("CI to CD handoff automation", tasks.Link{Kind: tasks.LinkPipelineRun, Target: "42"})
		mk("Unlinked")

		got, err := s.Suggest(context.Background(), tasks.DeliveryEvent{Kind: tasks.LinkRollout, Target: "7", Outcome: tasks.Aborted, Reason: "analysis error-rate failed"})
		if err != nil || len(got) != 1 || got[0].TaskID != canary.ID || got[0].Status != tasks.Blocked ||
			got[0].Reason != "rollout 7 was aborted: analysis error-rate failed" || got[0].State != tasks.SuggestionOpen {
			t.Fatalf("aborted rollout: %+v, %v", got, err)
		}
		if again, _ := s.Suggest(context.Background(), tasks.DeliveryEvent{Kind: tasks.LinkRollout, Target: "7", Outcome: tasks.Aborted}); len(again) != 0 {
			t.Errorf("the same end suggested again: %+v", again)
		}
		if got, _ := s.Suggest(context.Background(), tasks.DeliveryEvent{Kind: tasks.LinkRollout, Target: "8", Outcome: tasks.Succeeded}); len(got) != 1 || got[0].Status != tasks.Completed {
			t.Errorf("succeeded rollout: %+v", got)
		}
		if got, _ := s.Suggest(context.Background(), tasks.DeliveryEvent{Kind: tasks.LinkPipelineRun, Target: "42", Outcome: tasks.Failed, Reason: "Test stage failed"}); len(got) != 1 || got[0].TaskID != ci.ID || got[0].Status != tasks.Blocked {
			t.Errorf("failed pipeline run: %+v", got)
		}
		// Nothing was applied.
		for _, task := range []tasks.Task{canary, helm, ci} {
			if now, _ := s.Task(bob, task.ID); now.Status != tasks.InProgress || now.Version != task.Version {
				t.Errorf("%s changed without a person: %+v", task.Title, now)
			}
		}
		list, err := s.Suggestions(bob, canary.ID)
		if err != nil || len(list) != 1 {
			t.Fatalf("suggestions: %+v, %v", list, err)
		}
		if _, err := s.AcceptSuggestion(carol, list[0].ID); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("carol accepting: %v", err)
		}
		before := countAudit(t, st, "tasks.suggestion.accept", "ok")
		accepted, err := s.AcceptSuggestion(erin, list[0].ID)
		if err != nil || accepted.Status != tasks.Blocked || accepted.Comment != "rollout 7 was aborted: analysis error-rate failed" {
			t.Fatalf("accepted: %+v, %v", accepted, err)
		}
		if countAudit(t, st, "tasks.suggestion.accept", "ok") != before+1 {
			t.Error("the acceptance was not audited")
		}
		hist, _ := s.History(bob, canary.ID, 20)
		if last := hist[len(hist)-1]; last.Actor != "erin" || !(last.Field == "status" || last.Field == "comment") {
			t.Errorf("history: %+v", hist)
		}
		if _, err := s.AcceptSuggestion(erin, list[0].ID); errs.CodeOf(err) != errs.Conflict {
			t.Errorf("accepting twice: %v", err)
		}
		helmSug, _ := s.Suggestions(bob, helm.ID)
		dismissed, err := s.DismissSuggestion(bob, helmSug[0].ID)
		if err != nil || dismissed.State != tasks.SuggestionDismissed || dismissed.DecidedBy != "bob" || dismissed.DecidedAt == nil {
			t.Fatalf("dismissed: %+v, %v", dismissed, err)
		}
		if now, _ := s.Task(bob, helm.ID); now.Status != tasks.InProgress {
			t.Errorf("dismissing changed the task: %+v", now)
		}
		// A task already in the suggested status gets no suggestion.
		if got, _ := s.Suggest(context.Background(), tasks.DeliveryEvent{Kind: tasks.LinkRollout, Target: "7", Outcome: tasks.Failed}); len(got) != 0 {
			t.Errorf("a blocked task was told to block: %+v", got)
		}
	})
}

// FollowDelivery makes suggestions from what the feed delivers, subscribes again when the feed
// cuts it off, and stops with its context.
func TestFollowDeliverySubscribesAgainAndStops(t *testing.T) {
	st := storetest.SQLite(t)
	s, _ := newService(t, st)
	task, err := s.CreateTask(bob, tasks.TaskInput{Project: "roadmap", Title: "Canary", Links: []tasks.Link{{Kind: tasks.LinkRollout, Target: "9"}}})
	if err != nil {
		t.Fatal(err)
	}
	f := &feed{subs: make(chan chan tasks.DeliveryEvent)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.FollowDelivery(ctx, f, time.Second); close(done) }()
	first := <-f.subs
	close(first) // cut off
	second := <-f.subs
	second <- tasks.DeliveryEvent{Kind: tasks.LinkRollout, Target: "9", Outcome: tasks.Succeeded}
	testutil.Eventually(t, 5*time.Second, func() bool {
		l, _ := s.Suggestions(bob, task.ID)
		return len(l) == 1 && strings.Contains(l[0].Reason, "rollout 9 succeeded")
	}, "no suggestion from the second subscription")
	cancel()
	close(second)
	<-done
}

// A pipeline run's end is an event for its tasks: succeeded, failed or timed out (naming the stage
// that failed, as fail fast shows it), cancelled; a queued or running run is none.
func TestAPipelineRunsEndIsADeliveryEvent(t *testing.T) {
	stages := func(failed pipelines.Status) []pipelines.Stage {
		return []pipelines.Stage{{Name: "Build", Status: pipelines.Succeeded}, {Name: "Test", Status: failed}, {Name: "Deploy", Status: pipelines.Skipped}}
	}
	for _, tc := range []struct {
		run  pipelines.Run
		want tasks.DeliveryEvent
		ok   bool
	}{
		{pipelines.Run{ID: 1, Status: pipelines.Succeeded, Message: "ignored"}, tasks.DeliveryEvent{Kind: tasks.LinkPipelineRun, Target: "1", Outcome: tasks.Succeeded}, true},
		{pipelines.Run{ID: 2, Status: pipelines.Failed, Stages: stages(pipelines.Failed)},
			tasks.DeliveryEvent{Kind: tasks.LinkPipelineRun, Target: "2", Outcome: tasks.Failed, Reason: "stage Test failed"}, true},
		{pipelines.Run{ID: 3, Status: pipelines.TimedOut, Stages: stages(pipelines.TimedOut), Message: "deadline exceeded"},
			tasks.DeliveryEvent{Kind: tasks.LinkPipelineRun, Target: "3", Outcome: tasks.Failed, Reason: "stage Test timed out: deadline exceeded"}, true},
		{pipelines.Run{ID: 4, Status: pipelines.Failed, Message: "the provider refused the trigger"},
			tasks.DeliveryEvent{Kind: tasks.LinkPipelineRun, Target: "4", Outcome: tasks.Failed, Reason: "the provider refused the trigger"}, true},
		{pipelines.Run{ID: 5, Status: pipelines.Cancelled}, tasks.DeliveryEvent{Kind: tasks.LinkPipelineRun, Target: "5", Outcome: tasks.Aborted, Reason: "the run was cancelled"}, true},
		{pipelines.Run{ID: 6, Status: pipelines.Running}, tasks.DeliveryEvent{}, false},
		{pipelines.Run{ID: 7, Status: pipelines.Queued}, tasks.DeliveryEvent{}, false},
	} {
		got, ok := tasks.PipelineRunEvent(tc.run)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("run %d (%s): %+v, %v; want %+v, %v", tc.run.ID, tc.run.Status, got, ok, tc.want, tc.ok)
		}
	}
}

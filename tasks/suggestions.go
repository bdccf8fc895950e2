package tasks

import (
	"context"
	"errors"
	"strconv"
	"time"

	"gorm.io/gorm/clause"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth/policy"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/store"
)

// Outcome is how a linked rollout or pipeline run ended.
type Outcome string

// The outcomes delivery reports.
const (
	Succeeded Outcome = "SUCCEEDED"
	Failed    Outcome = "FAILED"
	Aborted   Outcome = "ABORTED"
)

// DeliveryEvent says a rollout or pipeline run some tasks may link to ended.
type DeliveryEvent struct {
	// Kind is LinkRollout or LinkPipelineRun; Target its ID as tasks link it.
	Kind    LinkKind
	Target  string
	Outcome Outcome
	// Reason is what delivery said of a failure or abort ("canary aborted by analysis").
	Reason string
}

// SuggestionState says whether a person has decided on a suggestion.
type SuggestionState string

// The suggestion states.
const (
	SuggestionOpen      SuggestionState = "OPEN"
	SuggestionAccepted  SuggestionState = "ACCEPTED"
	SuggestionDismissed SuggestionState = "DISMISSED"
)

// Suggestion is a status change delivery suggests for a task; a person accepts or dismisses it.
type Suggestion struct {
	ID     int64
	TaskID int64
	// Source is the rollout or pipeline run that moved.
	Source Link
	Status Status
	Reason string
	State  SuggestionState
	// CreatedAt is when delivery moved; DecidedBy and DecidedAt who decided, and when.
	CreatedAt time.Time
	DecidedBy string
	DecidedAt *time.Time
}

// suggestionRow is one suggestion, as stored in task_suggestions.
type suggestionRow struct {
	ID           int64 `gorm:"primaryKey"`
	TaskID       int64
	SourceKind   string
	SourceTarget string
	Status       string
	Reason       string
	State        string
	CreatedAt    time.Time
	DecidedBy    string
	DecidedAt    *time.Time
}

func (suggestionRow) TableName() string { return "task_suggestions" }

func (r *suggestionRow) toSuggestion() Suggestion {
	out := Suggestion{ID: r.ID, TaskID: r.TaskID, Source: Link{Kind: LinkKind(r.SourceKind), Target: r.SourceTarget}, Status: Status(r.Status),
		Reason: r.Reason, State: SuggestionState(r.State), CreatedAt: r.CreatedAt.UTC(), DecidedBy: r.DecidedBy}
	if r.DecidedAt != nil {
		t := r.DecidedAt.UTC()
		out.DecidedAt = &t
	}
	return out
}

// suggested is the status an outcome suggests: a rollout that succeeded finishes its task; one
// that failed or was aborted blocks it.
func suggested(o Outcome) (Status, bool) {
	switch o {
	case Succeeded:
		return Completed, true
	case Failed, Aborted:
		return Blocked, true
	}
	return "", false
}

func sourceName(kind LinkKind) string {
	if kind == LinkPipelineRun {
		return "pipeline run"
	}
	return "rollout"
}

// MaxSuggestedTasks bounds the tasks one delivery event makes suggestions for.
const MaxSuggestedTasks = 200

// Suggest records, for every task linked to the event's rollout or pipeline run and not already in
// the status it suggests, an open suggestion. The same event reported again suggests nothing new.
// It is Portside's own background work: nothing changes on a task until a person accepts.
func (s *Service) Suggest(ctx context.Context, ev DeliveryEvent) ([]Suggestion, error) {
	status, ok := suggested(ev.Outcome)
	if !ok || (ev.Kind != LinkRollout && ev.Kind != LinkPipelineRun) || ev.Target == "" {
		return nil, nil
	}
	reason := sourceName(ev.Kind) + " " + ev.Target + " " + map[Outcome]string{Succeeded: "succeeded", Failed: "failed", Aborted: "was aborted"}[ev.Outcome]
	if ev.Reason != "" && status == Blocked {
		reason += ": " + ev.Reason
	}
	if r := []rune(reason); len(r) > MaxComment {
		reason = string(r[:MaxComment-1]) + "…"
	}
	var ids []int64
	db := s.recs.st.DB(ctx)
	err := db.Model(&taskRow{}).Where("status <> ? AND EXISTS (SELECT 1 FROM task_links l WHERE l.task_id = tasks.id AND l.kind = ? AND l.target = ?)",
		string(status), string(ev.Kind), ev.Target).Order("id").Limit(MaxSuggestedTasks).Pluck("id", &ids).Error
	if err != nil {
		return nil, store.Translate(err, "tasks linked to "+sourceName(ev.Kind)+" "+ev.Target)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	now := s.now().UTC()
	var out []Suggestion
	// One row at a time (at most MaxSuggestedTasks): which ones were new must be known exactly, and
	// a batch's RETURNING says nothing of the rows DO NOTHING skipped.
	for _, id := range ids {
		row := suggestionRow{TaskID: id, SourceKind: string(ev.Kind), SourceTarget: ev.Target, Status: string(status), Reason: reason,
			State: string(SuggestionOpen), CreatedAt: now}
		res := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
		if res.Error != nil {
			return out, store.Translate(res.Error, "suggestions")
		}
		if res.RowsAffected == 1 {
			out = append(out, row.toSuggestion())
		}
	}
	return out, nil
}

// Suggestions returns a task's suggestions, open ones first, then newest first (at most MaxThread).
func (s *Service) Suggestions(ctx context.Context, taskID int64) ([]Suggestion, error) {
	if err := signedIn(ctx); err != nil {
		return nil, err
	}
	var rows []suggestionRow
	err := s.recs.st.DB(ctx).Where("task_id = ?", taskID).
		Order(clause.Expr{SQL: "CASE WHEN state = ? THEN 0 ELSE 1 END, created_at DESC, id DESC", Vars: []any{string(SuggestionOpen)}}).
		Limit(MaxThread).Find(&rows).Error
	if err != nil {
		return nil, store.Translate(err, "suggestions of task "+strconv.FormatInt(taskID, 10))
	}
	out := make([]Suggestion, len(rows))
	for i := range rows {
		out[i] = rows[i].toSuggestion()
	}
	return out, nil
}

// openSuggestion loads an open suggestion and its task, checking the caller may change the task.
func (s *Service) openSuggestion(ctx context.Context, action policy.Action, id int64) (suggestionRow, Task, Project, error) {
	if err := policy.Gate(principal.From(ctx), action); err != nil {
		return suggestionRow{}, Task{}, Project{}, err
	}
	var row suggestionRow
	if err := s.recs.st.DB(ctx).Take(&row, id).Error; err != nil {
		return row, Task{}, Project{}, store.Translate(err, "suggestion "+strconv.FormatInt(id, 10))
	}
	t, proj, err := s.taskAction(ctx, action, row.TaskID)
	if err != nil {
		return row, Task{}, Project{}, err
	}
	if row.State != string(SuggestionOpen) {
		return row, Task{}, Project{}, errs.E(errs.Conflict, "suggestion %d was %s by %s already", id, map[string]string{
			string(SuggestionAccepted): "accepted", string(SuggestionDismissed): "dismissed"}[row.State], row.DecidedBy)
	}
	return row, t, proj, nil
}

// decide marks an open suggestion decided; a concurrent decision makes it a CONFLICT.
func (s *Service) decide(ctx context.Context, id int64, state SuggestionState, now time.Time) error {
	res := s.recs.st.DB(ctx).Model(&suggestionRow{}).Where("id = ? AND state = ?", id, string(SuggestionOpen)).
		Updates(map[string]any{"state": string(state), "decided_by": principal.From(ctx).Actor(), "decided_at": now})
	if res.Error != nil {
		return store.Translate(res.Error, "suggestion "+strconv.FormatInt(id, 10))
	}
	if res.RowsAffected == 0 {
		return errs.E(errs.Conflict, "suggestion %d was decided on meanwhile", id)
	}
	return nil
}

// AcceptSuggestion applies a suggestion to its task (the status; for Blocked, the reason becomes
// the comments / issues line), kept as the task's history like any change, for those who may change
// the task; audited.
func (s *Service) AcceptSuggestion(ctx context.Context, id int64) (Task, error) {
	var out Task
	err := s.audited(ctx, audit.Entry{Action: string(policy.TaskSuggestionAccept), Resource: "suggestion " + strconv.FormatInt(id, 10),
		Args: map[string]any{"id": id}}, func(ctx context.Context) error {
		row, t, proj, err := s.openSuggestion(ctx, policy.TaskSuggestionAccept, id)
		if err != nil {
			return err
		}
		next := t
		next.Status = Status(row.Status)
		if next.Status == Blocked && row.Reason != "" {
			next.Comment = row.Reason
		}
		return s.recs.st.InTx(ctx, func(ctx context.Context) error {
			// The project's lock first, as every writer of its tasks takes it (CreateTask's note),
			// before the suggestion's row and the task's (save takes it again, in this transaction).
			if err := s.recs.lockProject(ctx, proj.ID, proj.Name); err != nil {
				return err
			}
			if err := s.decide(ctx, id, SuggestionAccepted, s.now().UTC()); err != nil {
				return err
			}
			saved, err := s.save(ctx, proj, t, next)
			if err != nil {
				return err
			}
			out = saved
			return audit.Flush(ctx) // when the task was in that status already, save changed nothing
		})
	})
	return out, err
}

// DismissSuggestion sets a suggestion aside without changing its task, for those who may change
// the task; audited.
func (s *Service) DismissSuggestion(ctx context.Context, id int64) (Suggestion, error) {
	var out Suggestion
	err := s.audited(ctx, audit.Entry{Action: string(policy.TaskSuggestionDismiss), Resource: "suggestion " + strconv.FormatInt(id, 10),
		Args: map[string]any{"id": id}}, func(ctx context.Context) error {
		if _, _, _, err := s.openSuggestion(ctx, policy.TaskSuggestionDismiss, id); err != nil {
			return err
		}
		return s.recs.st.InTx(ctx, func(ctx context.Context) error {
			now := s.now().UTC()
			if err := s.decide(ctx, id, SuggestionDismissed, now); err != nil {
				return err
			}
			var row suggestionRow
			if err := s.recs.st.DB(ctx).Take(&row, id).Error; err != nil {
				return store.Translate(err, "suggestion")
			}
			out = row.toSuggestion()
			return audit.Flush(ctx)
		})
	})
	return out, err
}

// DeliveryFeed delivers the ends of rollouts and pipeline runs; cmd/portside adapts the rollouts'
// hub to it. The channel closes when the feed cut the subscriber off (it fell behind) or ctx ended.
type DeliveryFeed interface {
	Events(ctx context.Context) (<-chan DeliveryEvent, error)
}

// FollowDelivery makes suggestions from feed's events until ctx ends, subscribing again (after
// retry, at most once a second) when the feed cuts it off. It runs as Portside itself.
func (s *Service) FollowDelivery(ctx context.Context, feed DeliveryFeed, retry time.Duration) {
	if retry < time.Second {
		retry = time.Second
	}
	ctx = principal.With(ctx, principal.System("portside", principal.ClientAuto))
	for ctx.Err() == nil {
		ch, err := feed.Events(ctx)
		if err == nil {
			for ev := range ch {
				if _, err := s.Suggest(ctx, ev); err != nil && !errors.Is(err, context.Canceled) {
					s.log.WarnContext(ctx, "tasks: suggestion from delivery", "source", ev.Kind, "id", ev.Target, "error", err)
				}
			}
		} else {
			s.log.WarnContext(ctx, "tasks: follow delivery", "error", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(retry):
		}
	}
}

package model

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/tasks"
)

// NewProject converts a project.
func NewProject(p tasks.Project) *Project {
	members := p.Members
	if members == nil {
		members = []string{}
	}
	return &Project{ID: EncodeNumericID("Project", p.ID), Name: p.Name, Title: p.Title, Owner: p.Owner, Members: members,
		CreatedBy: p.CreatedBy, CreatedAt: p.CreatedAt}
}

// NewTask converts a task.
func NewTask(t tasks.Task) *Task {
	out := &Task{ID: EncodeNumericID("Task", t.ID), Project: t.Project, Title: t.Title, Priority: TaskPriority(t.Priority),
		Assignee: optional(t.Assignee), Status: TaskStatus(t.Status), Comment: t.Comment, Due: optional(t.Due),
		Labels: nonNil(t.Labels), Links: []*TaskLink{}, Version: t.Version, CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt,
		UpdatedBy: t.UpdatedBy, UpdatedAt: t.UpdatedAt}
	for _, l := range t.Links {
		out.Links = append(out.Links, &TaskLink{Kind: TaskLinkKind(l.Kind), Target: l.Target})
	}
	return out
}

// NewTaskConnection converts a page of tasks.
func NewTaskConnection(p *tasks.Page) *TaskConnection {
	c := &TaskConnection{Nodes: []*Task{}, Edges: []*TaskEdge{}, TotalCount: int(p.TotalCount), PageInfo: pageInfo(p.Cursors, p.HasNextPage)}
	for i, t := range p.Tasks {
		n := NewTask(t)
		c.Nodes = append(c.Nodes, n)
		c.Edges = append(c.Edges, &TaskEdge{Cursor: p.Cursors[i], Node: n})
	}
	return c
}

// NewTaskComment converts a comment of a task's thread.
func NewTaskComment(c tasks.Comment) *TaskComment {
	return &TaskComment{ID: EncodeNumericID("TaskComment", c.ID), Author: c.Author, Body: c.Body, CreatedAt: c.At}
}

// NewTaskFieldChange converts one change of a task's history.
func NewTaskFieldChange(c tasks.Change) *TaskFieldChange {
	return &TaskFieldChange{Actor: c.Actor, At: c.At, Field: c.Field, OldValue: c.Old, NewValue: c.New}
}

// NewTaskEvent converts a change of a project's tasks.
func NewTaskEvent(e tasks.Event) *TaskEvent {
	return &TaskEvent{Project: e.Project, TaskID: EncodeNumericID("Task", e.Task.ID), Deleted: e.Deleted, Task: NewTask(e.Task)}
}

// NewImportTasksPayload converts what an import did, or the problems it found.
func NewImportTasksPayload(res tasks.ImportResult, problems []tasks.CellError) *ImportTasksPayload {
	out := &ImportTasksPayload{Created: res.Created, Updated: res.Updated, Unchanged: res.Unchanged, Tasks: []*Task{}, Errors: []*TaskImportError{}}
	for _, t := range res.Tasks {
		out.Tasks = append(out.Tasks, NewTask(t))
	}
	for _, p := range problems {
		e := &TaskImportError{Row: p.Row, Column: optional(p.Column), Message: p.Message}
		if p.Line > 0 {
			line := p.Line
			e.Line = &line
		}
		out.Errors = append(out.Errors, e)
	}
	return out
}

// linkTypes are the types whose ID names the target of a link of a kind, in place of the
// number tasks keep.
var linkTypes = map[TaskLinkKind]string{TaskLinkKindRollout: "Rollout", TaskLinkKindPipelineRun: "PipelineRun", TaskLinkKindRunbook: "Runbook"}

// typeName is what the type part of a global ID is: a GraphQL type's name.
var typeName = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)

// links converts a task's links; the input names a rollout, pipeline run or runbook by its number
// or by its ID (see linkTarget).
func links(in []*TaskLinkInput) ([]tasks.Link, error) {
	out := make([]tasks.Link, len(in))
	for i, l := range in {
		target, err := linkTarget("links["+strconv.Itoa(i)+"].target", l.Kind, l.Target)
		if err != nil {
			return nil, err
		}
		out[i] = tasks.Link{Kind: tasks.LinkKind(l.Kind), Target: target}
	}
	return out, nil
}

// linkTarget reads the target of a ROLLOUT, PIPELINE_RUN or RUNBOOK link as tasks keep it: its
// number, which is given as is or as the ID the API hands out (a Rollout's for a ROLLOUT link).
// The ID of another type is INVALID naming field, as is what is neither a number nor an ID for a
// rollout or a pipeline run. Any other target goes to the tasks domain as given: it checks
// catalog refs, bounds, and that the number is a runbook's (or that the task had the link before).
func linkTarget(field string, kind TaskLinkKind, target string) (string, error) {
	want := linkTypes[kind]
	id := strings.TrimSpace(target)
	if want == "" || id == "" || len(id) > tasks.MaxLinkTarget || strings.Trim(id, "0123456789") == "" {
		return target, nil
	}
	typ, _, err := DecodeID(id)
	switch {
	case err == nil && typ == want:
		n, err := NumericID(field, want, id)
		if err != nil {
			return "", err
		}
		return strconv.FormatInt(n, 10), nil
	case err == nil && typeName.MatchString(typ):
		return "", errs.InvalidField(field, "%q is the ID of %s, not of %s", id, WithArticle(typ), WithArticle(want))
	case kind == TaskLinkKindRunbook:
		return target, nil
	}
	noun := strings.ReplaceAll(strings.ToLower(string(kind)), "_", " ")
	return "", errs.InvalidField(field, "%q is neither the number of %s nor the ID of %s", id, WithArticle(noun), WithArticle(want))
}

func priorities(in []TaskPriority) []tasks.Priority {
	out := make([]tasks.Priority, len(in))
	for i, p := range in {
		out[i] = tasks.Priority(p)
	}
	return out
}

func statuses(in []TaskStatus) []tasks.Status {
	out := make([]tasks.Status, len(in))
	for i, s := range in {
		out[i] = tasks.Status(s)
	}
	return out
}

// Filter converts the tasks filter.
func (f *TaskFilter) Filter() tasks.Filter {
	if f == nil {
		return tasks.Filter{}
	}
	return tasks.Filter{Project: orEmpty(f.Project), Assignee: orEmpty(f.Assignee), Statuses: statuses(f.Status),
		Priorities: priorities(f.Priority), Component: orEmpty(f.Component)}
}

// Filter converts a project's tasks filter.
func (f *ProjectTaskFilter) Filter(project string) tasks.Filter {
	if f == nil {
		return tasks.Filter{Project: project}
	}
	return tasks.Filter{Project: project, Assignee: orEmpty(f.Assignee), Statuses: statuses(f.Status),
		Priorities: priorities(f.Priority), Component: orEmpty(f.Component)}
}

// Input converts the createTask input; a link naming its target by an ID of the wrong type is
// INVALID.
func (in CreateTaskInput) Input() (tasks.TaskInput, error) {
	ls, err := links(in.Links)
	if err != nil {
		return tasks.TaskInput{}, err
	}
	out := tasks.TaskInput{Project: in.Project, Title: in.Title, Assignee: orEmpty(in.Assignee), Comment: orEmpty(in.Comment),
		Due: orEmpty(in.Due), Labels: in.Labels, Links: ls}
	if in.Priority != nil {
		out.Priority = tasks.Priority(*in.Priority)
	}
	if in.Status != nil {
		out.Status = tasks.Status(*in.Status)
	}
	return out, nil
}

// Patch converts the updateTask input (without its ID); a link naming its target by an ID of the
// wrong type is INVALID.
func (in UpdateTaskInput) Patch() (tasks.TaskPatch, error) {
	ls, err := links(in.Links)
	if err != nil {
		return tasks.TaskPatch{}, err
	}
	out := tasks.TaskPatch{Version: in.Version, Title: in.Title, Assignee: in.Assignee, Comment: in.Comment, Due: in.Due,
		Labels: in.Labels, SetLabels: in.Labels != nil, Links: ls, SetLinks: in.Links != nil}
	if in.Priority != nil {
		p := tasks.Priority(*in.Priority)
		out.Priority = &p
	}
	if in.Status != nil {
		s := tasks.Status(*in.Status)
		out.Status = &s
	}
	return out, nil
}

// Input converts the createProject input.
func (in CreateProjectInput) Input() tasks.ProjectInput {
	return tasks.ProjectInput{Name: in.Name, Title: orEmpty(in.Title), Owner: in.Owner, Members: in.Members}
}

// NewMeeting converts a meeting.
func NewMeeting(m tasks.Meeting) *Meeting {
	return &Meeting{ID: EncodeNumericID("Meeting", m.ID), Project: m.Project, HeldAt: m.HeldAt, Notes: m.Notes, CreatedBy: m.CreatedBy, CreatedAt: m.CreatedAt}
}

// NewMeetingChanges converts what changed between two snapshots.
func NewMeetingChanges(list []tasks.MeetingChange) []*MeetingChange {
	out := make([]*MeetingChange, len(list))
	for i, c := range list {
		out[i] = &MeetingChange{TaskID: EncodeNumericID("Task", c.TaskID), Title: c.Title, Kind: MeetingChangeKind(c.Kind), OldValue: c.Old, NewValue: c.New}
	}
	return out
}

// HeldAtOrNow is the meeting's time as given (zero: now, the service decides).
func (in CreateMeetingInput) HeldAtOrNow() time.Time {
	if in.HeldAt == nil {
		return time.Time{}
	}
	return *in.HeldAt
}

// NewTaskSuggestion converts a suggestion.
func NewTaskSuggestion(s tasks.Suggestion) *TaskSuggestion {
	return &TaskSuggestion{ID: EncodeNumericID("TaskSuggestion", s.ID), Source: &TaskLink{Kind: TaskLinkKind(s.Source.Kind), Target: s.Source.Target},
		Status: TaskStatus(s.Status), Reason: s.Reason, State: TaskSuggestionState(s.State), CreatedAt: s.CreatedAt,
		DecidedBy: optional(s.DecidedBy), DecidedAt: s.DecidedAt}
}

// Package tasks is the status-meeting domain: projects (owned by a catalog Group, with member
// Users) and their tasks, each with a priority, an assignee (a catalog User), a status, the
// current "comments / issues" line, a thread of dated comments and links to catalog entities,
// rollouts, pipeline runs and runbooks. Every change of a task is kept as history in the same
// transaction as the change. Tasks are imported from and exported to the Markdown (and CSV)
// table a status meeting walks through (table.go). The domain knows no transport.
package tasks

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/text"
)

// Priority is how urgent a task is.
type Priority string

// The priorities, as GraphQL and the database spell them.
const (
	High   Priority = "HIGH"
	Medium Priority = "MEDIUM"
	Low    Priority = "LOW"
)

// Priorities lists the priorities, most urgent first.
var Priorities = []Priority{High, Medium, Low}

// Label is how the status-meeting table writes the priority ("High").
func (p Priority) Label() string {
	switch p {
	case High:
		return "High"
	case Medium:
		return "Medium"
	case Low:
		return "Low"
	}
	return string(p)
}

// Status is where a task stands.
type Status string

// The statuses, as GraphQL and the database spell them.
const (
	NotStarted Status = "NOT_STARTED"
	InProgress Status = "IN_PROGRESS"
	Blocked    Status = "BLOCKED"
	Completed  Status = "COMPLETED"
)

// Statuses lists the statuses in the order a task usually moves through them.
var Statuses = []Status{NotStarted, InProgress, Blocked, Completed}

// Label is how the status-meeting table writes the status ("Not Started").
func (s Status) Label() string {
	switch s {
	case NotStarted:
		return "Not Started"
	case InProgress:
		return "In Progress"
	case Blocked:
		return "Blocked"
	case Completed:
		return "Completed"
	}
	return string(s)
}

// squash reduces a label to its letters, lower case: "Not Started", "not_started", "NOT-STARTED"
// and " not  started " all read the same.
func squash(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r != ' ' && r != '_' && r != '-' && r != '\t' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// ParsePriority reads a priority as a person or a client writes it ("High", "high", "HIGH").
func ParsePriority(field, s string) (Priority, error) {
	for _, p := range Priorities {
		if squash(s) == squash(string(p)) {
			return p, nil
		}
	}
	return "", errs.InvalidField(field, "%q is not a priority; use High, Medium or Low", clip(s))
}

// ParseStatus reads a status as a person or a client writes it ("In Progress", "in_progress").
func ParseStatus(field, s string) (Status, error) {
	for _, st := range Statuses {
		if squash(s) == squash(string(st)) {
			return st, nil
		}
	}
	return "", errs.InvalidField(field, "%q is not a status; use Not Started, In Progress, Blocked or Completed", clip(s))
}

// LinkKind says what a task's link points at.
type LinkKind string

// The link kinds. Components and systems are catalog refs; rollouts, pipeline runs and runbooks
// are their numbers (Portside's IDs of them, what the rollouts, pipelines and runbooks domains
// find them by). Each is checked to exist when a task is linked to it (see Options).
const (
	LinkComponent   LinkKind = "COMPONENT"
	LinkSystem      LinkKind = "SYSTEM"
	LinkRollout     LinkKind = "ROLLOUT"
	LinkPipelineRun LinkKind = "PIPELINE_RUN"
	LinkRunbook     LinkKind = "RUNBOOK"
)

// noun is what a person calls a link's target in a message ("pipeline run").
func (k LinkKind) noun() string {
	return strings.ReplaceAll(strings.ToLower(string(k)), "_", " ")
}

// Link ties a task to something it is about.
type Link struct {
	Kind   LinkKind
	Target string
}

// Project groups the tasks a team walks through in its status meeting.
type Project struct {
	ID int64
	// Name identifies the project in URLs, the CLI and the API ("deployment-roadmap").
	Name  string
	Title string
	// Owner is the catalog Group that owns the project (canonical ref); its members, and the
	// members of the groups above it, may change the project's tasks.
	Owner string
	// Members are catalog User refs who may change the tasks besides the owning group.
	Members   []string
	CreatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
	Version   int
}

// Task is one row of a project's status-meeting table, and more.
type Task struct {
	ID        int64
	ProjectID int64
	Project   string
	Title     string
	Priority  Priority
	// Assignee is a catalog User ref, or "" for nobody.
	Assignee string
	Status   Status
	// Comment is the current "comments / issues" line ("Waiting on service account permissions").
	Comment string
	// Due is the due date as YYYY-MM-DD, or "".
	Due       string
	Labels    []string
	Links     []Link
	CreatedBy string
	CreatedAt time.Time
	UpdatedBy string
	UpdatedAt time.Time
	// Version counts the task's changes; an update must name the version it was made against.
	Version int
}

// Comment is one dated comment of a task's thread.
type Comment struct {
	ID     int64
	TaskID int64
	Author string
	Body   string
	At     time.Time
}

// Change is one field of a task changed: who, when, old → new. A task's creation is one change
// of the field "created" whose new value is the title.
type Change struct {
	ID     int64
	TaskID int64
	Actor  string
	At     time.Time
	Field  string
	Old    string
	New    string
}

// Bounds on what one call may store. Each has a test; an input past one is INVALID naming the field.
const (
	MaxProjectName  = 63
	MaxTitle        = 200
	MaxComment      = 1000 // the current comments / issues line
	MaxCommentBody  = 4000 // a comment of the thread
	MaxLabels       = 20
	MaxLabel        = 50
	MaxLinks        = 50
	MaxLinkTarget   = 255
	MaxMembers      = 200
	MaxRef          = 255
	MaxImportRows   = 500
	MaxImportBytes  = 1 << 20
	MaxTasksPerProj = 10000
)

// checkLabels bounds a task's labels and refuses empty and repeated ones.
func checkLabels(labels []string) error {
	if len(labels) > MaxLabels {
		return errs.InvalidField("labels", "has %d labels; at most %d", len(labels), MaxLabels)
	}
	seen := map[string]bool{}
	for i, l := range labels {
		field := "labels[" + strconv.Itoa(i) + "]" // which label, as links[i] names a link
		if err := text.Check(field, l, MaxLabel, true); err != nil {
			return err
		}
		if strings.TrimSpace(l) == "" {
			return errs.InvalidField(field, "is empty")
		}
		if seen[l] {
			return errs.InvalidField(field, "%q is an earlier label's too", l)
		}
		seen[l] = true
	}
	return nil
}

// checkDue reads a due date (YYYY-MM-DD), "" for none.
func checkDue(s string) error {
	if s == "" {
		return nil
	}
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		return errs.InvalidField("due", "%q is not a date as YYYY-MM-DD", clip(s))
	}
	return nil
}

// checkTitle refuses an empty or overlong task title.
func checkTitle(field, s string) error {
	if strings.TrimSpace(s) == "" {
		return errs.InvalidField(field, "is empty")
	}
	return text.Name(field, s, MaxTitle)
}

// titleKey is what makes two titles the same task: case and surrounding space do not count.
func titleKey(title string) string { return strings.ToLower(strings.Join(strings.Fields(title), " ")) }

// clip shortens a value quoted back in an error message.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= 60 {
		return s
	}
	r := []rune(s)
	return string(r[:60]) + "…"
}

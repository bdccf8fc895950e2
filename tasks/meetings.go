package tasks

import (
	"context"
	"strings"
	"time"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth/policy"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/text"
)

// Meeting is a dated snapshot of a project's task table, with the meeting's agenda notes.
type Meeting struct {
	ID        int64
	ProjectID int64
	Project   string
	HeldAt    time.Time
	Notes     string
	CreatedBy string
	CreatedAt time.Time
}

// MeetingRow is one task as the meeting's snapshot recorded it.
type MeetingRow struct {
	TaskID   int64
	Title    string
	Priority Priority
	Assignee string
	Status   Status
	Comment  string
}

// ChangeKind says what changed about a task between two meetings.
type ChangeKind string

// The kinds of change a meeting reviews.
const (
	ChangeNew      ChangeKind = "NEW"      // the task appeared
	ChangeClosed   ChangeKind = "CLOSED"   // the task became Completed
	ChangeStatus   ChangeKind = "STATUS"   // another status change (reopened, started, ...)
	ChangePriority ChangeKind = "PRIORITY" // its priority changed
	ChangeAssignee ChangeKind = "ASSIGNEE" // it was reassigned
	ChangeBlocker  ChangeKind = "BLOCKER"  // it became blocked, its blocker changed, or it was unblocked
	ChangeRemoved  ChangeKind = "REMOVED"  // the task was deleted
)

// MeetingChange is one change between two snapshots of a project's table.
type MeetingChange struct {
	TaskID int64
	Title  string
	Kind   ChangeKind
	Old    string
	New    string
}

// Bounds of meetings.
const (
	MaxMeetingNotes = 10000
	MaxMeetings     = 1000 // per project
)

// diffSnapshots lists what changed from prev to cur, in cur's order, the removed tasks last:
// new and closed tasks, status, priority and assignee changes, and blockers (a task blocked,
// its blocker (the comments / issues line) changed while blocked, or unblocked).
func diffSnapshots(prev, cur []MeetingRow) []MeetingChange {
	before := make(map[int64]MeetingRow, len(prev))
	for _, r := range prev {
		before[r.TaskID] = r
	}
	seen := make(map[int64]bool, len(cur))
	out := []MeetingChange{}
	add := func(r MeetingRow, kind ChangeKind, old, new string) {
		out = append(out, MeetingChange{TaskID: r.TaskID, Title: r.Title, Kind: kind, Old: old, New: new})
	}
	for _, c := range cur {
		seen[c.TaskID] = true
		p, ok := before[c.TaskID]
		if !ok {
			add(c, ChangeNew, "", c.Status.Label())
			continue
		}
		switch {
		case p.Status != Completed && c.Status == Completed:
			add(c, ChangeClosed, p.Status.Label(), c.Status.Label())
		case p.Status != c.Status:
			add(c, ChangeStatus, p.Status.Label(), c.Status.Label())
		}
		if p.Priority != c.Priority {
			add(c, ChangePriority, p.Priority.Label(), c.Priority.Label())
		}
		if p.Assignee != c.Assignee {
			add(c, ChangeAssignee, p.Assignee, c.Assignee)
		}
		switch {
		case c.Status == Blocked && (p.Status != Blocked || p.Comment != c.Comment):
			old := ""
			if p.Status == Blocked {
				old = p.Comment
			}
			add(c, ChangeBlocker, old, c.Comment)
		case p.Status == Blocked && c.Status != Blocked:
			add(c, ChangeBlocker, p.Comment, "")
		}
	}
	for _, p := range prev {
		if !seen[p.TaskID] {
			add(p, ChangeRemoved, p.Status.Label(), "")
		}
	}
	return out
}

// CreateMeeting records a meeting of a project: a snapshot of its task table now, with agenda
// notes, held at heldAt (now when zero); for those who may change the project; audited.
func (s *Service) CreateMeeting(ctx context.Context, project, notes string, heldAt time.Time) (Meeting, error) {
	var out Meeting
	err := s.audited(ctx, audit.Entry{Action: string(policy.TaskMeetingCreate), Resource: "project " + project,
		Args: map[string]any{"project": project, "notes": clip(notes), "heldAt": heldAt}}, func(ctx context.Context) error {
		if err := policy.Gate(principal.From(ctx), policy.TaskMeetingCreate); err != nil {
			return err
		}
		if err := text.Check("notes", notes, MaxMeetingNotes, false); err != nil {
			return err
		}
		proj, err := s.recs.projectByName(ctx, project)
		if err != nil {
			return err
		}
		if err := s.authorize(ctx, policy.TaskMeetingCreate, proj); err != nil {
			return err
		}
		now := s.now().UTC()
		if heldAt.IsZero() {
			heldAt = now
		}
		// Meetings are recorded in order, so one recorded far ahead would refuse every meeting
		// until then; a day ahead covers clocks and a meeting written down before it starts.
		if heldAt.After(now.Add(maxMeetingAhead)) {
			return errs.InvalidField("heldAt", "is %s, more than a day ahead of now (%s); record a meeting when it is held",
				heldAt.UTC().Format(time.RFC3339), now.Format(time.RFC3339))
		}
		m := Meeting{ProjectID: proj.ID, Project: proj.Name, HeldAt: heldAt.UTC(), Notes: strings.TrimSpace(notes),
			CreatedBy: principal.From(ctx).Actor(), CreatedAt: now}
		return s.recs.st.InTx(ctx, func(ctx context.Context) error {
			// Meetings of a project are recorded one at a time (the project's lock, as imports
			// take it): each reads the latest meeting before it and records what changed since,
			// so two recorded at once would both compare with the same one, and both be "in
			// order" after it whatever their times; the bound on meetings is counted under it too.
			if err := s.recs.lockProject(ctx, proj.ID, proj.Name); err != nil {
				return err
			}
			n, err := s.recs.countMeetings(ctx, proj.ID)
			if err != nil {
				return err
			}
			if n >= MaxMeetings {
				return errs.E(errs.Invalid, "project %s has %d meetings, the most a project keeps", proj.Name, n)
			}
			// What changed is fixed when the meeting is recorded (the meeting reviewed it), so
			// reading a meeting's changes later reads a few rows, not two snapshots.
			var prev []MeetingRow
			last, err := s.recs.meetings(ctx, proj, 1)
			if err != nil {
				return err
			}
			if len(last) == 1 {
				if m.HeldAt.Before(last[0].HeldAt) {
					return errs.InvalidField("heldAt", "is before the project's latest meeting (%s); meetings are recorded in order",
						last[0].HeldAt.Format(time.RFC3339))
				}
				if prev, err = s.recs.meetingRows(ctx, last[0].ID); err != nil {
					return err
				}
			}
			cur, err := s.recs.currentRows(ctx, proj.ID)
			if err != nil {
				return err
			}
			if err := s.recs.insertMeeting(ctx, &m, cur, diffSnapshots(prev, cur)); err != nil {
				return err
			}
			out = m
			return audit.Flush(ctx)
		})
	})
	return out, err
}

// maxMeetingAhead is how far ahead of now a meeting may be recorded as held.
const maxMeetingAhead = 24 * time.Hour

// Meetings returns a project's meetings, the latest first, at most first of them.
func (s *Service) Meetings(ctx context.Context, project string, first int) ([]Meeting, error) {
	if err := signedIn(ctx); err != nil {
		return nil, err
	}
	if first < 1 || first > MaxMeetings {
		return nil, errs.InvalidField("first", "must be between 1 and %d, got %d", MaxMeetings, first)
	}
	proj, err := s.recs.projectByName(ctx, project)
	if err != nil {
		return nil, err
	}
	return s.recs.meetings(ctx, proj, first)
}

// Meeting returns one meeting, for anyone signed in.
func (s *Service) Meeting(ctx context.Context, id int64) (Meeting, error) {
	if err := signedIn(ctx); err != nil {
		return Meeting{}, err
	}
	return s.recs.meetingByID(ctx, id)
}

// MeetingChanges lists what changed between the meeting before this one (none: every task is
// new) and this one, as it was found when the meeting was recorded.
func (s *Service) MeetingChanges(ctx context.Context, meetingID int64) ([]MeetingChange, error) {
	if err := signedIn(ctx); err != nil {
		return nil, err
	}
	return s.recs.meetingChanges(ctx, meetingID)
}

// ChangesSinceLastMeeting lists what changed in a project's tasks since its latest meeting (every
// task is new when it has had none).
func (s *Service) ChangesSinceLastMeeting(ctx context.Context, project string) ([]MeetingChange, error) {
	if err := signedIn(ctx); err != nil {
		return nil, err
	}
	proj, err := s.recs.projectByName(ctx, project)
	if err != nil {
		return nil, err
	}
	last, err := s.recs.meetings(ctx, proj, 1)
	if err != nil {
		return nil, err
	}
	if len(last) == 0 {
		cur, err := s.recs.currentRows(ctx, proj.ID)
		if err != nil {
			return nil, err
		}
		return diffSnapshots(nil, cur), nil
	}
	// Only the rows that differ: the diff of those is the diff of the whole tables, since a task
	// the same in both changes nothing.
	prev, cur, err := s.recs.changedSince(ctx, proj.ID, last[0].ID)
	if err != nil {
		return nil, err
	}
	return diffSnapshots(prev, cur), nil
}

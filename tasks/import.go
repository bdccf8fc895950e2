package tasks

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth/policy"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/text"
)

// ImportResult says what an import did.
type ImportResult struct {
	Created, Updated, Unchanged int
	// Tasks are the table's tasks as they now are, in the table's order.
	Tasks []Task
}

// columnOrder sorts a row's problems as the table shows its columns.
func columnOrder(c string) int {
	if i := slices.Index(Columns, c); i >= 0 {
		return i
	}
	return -1
}

// Import reads a status-meeting table into a project, for those who may change it; audited. A
// row whose task title the project has (whatever the case and spacing) updates that task's
// priority, assignee, status and, when the table has that column, its comments / issues line;
// any other row creates a task. Every problem of every row is reported at once (row and column),
// as *ImportErrors, and then nothing is imported: the whole table goes in one transaction.
func (s *Service) Import(ctx context.Context, project string, format Format, text string) (ImportResult, error) {
	var out ImportResult
	err := s.audited(ctx, audit.Entry{Action: string(policy.TaskImport), Resource: "project " + project,
		Args: map[string]any{"project": project, "format": format, "bytes": len(text)}}, func(ctx context.Context) error {
		if err := policy.Gate(principal.From(ctx), policy.TaskImport); err != nil {
			return err
		}
		if len(text) > MaxImportBytes {
			return errs.InvalidField("text", "has %d bytes; at most %d", len(text), MaxImportBytes)
		}
		proj, err := s.recs.projectByName(ctx, project)
		if err != nil {
			return err
		}
		if err := s.authorize(ctx, policy.TaskImport, proj); err != nil {
			return err
		}
		rows, problems := ParseTable(format, text)
		if len(rows) > MaxImportRows {
			return errs.InvalidField("text", "has %d rows; at most %d are imported at once", len(rows), MaxImportRows)
		}
		tasks, more, err := s.readRows(ctx, proj, rows)
		if err != nil {
			return err
		}
		problems = append(problems, more...)
		if len(problems) > 0 {
			slices.SortStableFunc(problems, func(a, b CellError) int {
				return cmp.Or(cmp.Compare(a.Row, b.Row), cmp.Compare(columnOrder(a.Column), columnOrder(b.Column)))
			})
			return &ImportErrors{Errors: problems}
		}
		out, err = s.apply(ctx, proj, tasks)
		return err
	})
	return out, err
}

// importRow is a row read into a task.
type importRow struct {
	Row
	task Task
}

// readRows checks every row and finds its assignee, collecting every problem.
func (s *Service) readRows(ctx context.Context, proj Project, rows []Row) ([]importRow, []CellError, error) {
	var out []importRow
	var problems []CellError
	bad := func(r Row, col, format string, args ...any) {
		problems = append(problems, CellError{Row: r.Row, Line: r.Line, Column: col, Message: fmt.Sprintf(format, args...)})
	}
	seen := map[string]int{}
	users := map[string]string{} // assignee text (lower case) → ref
	for _, r := range rows {
		t := Task{ProjectID: proj.ID, Project: proj.Name, Title: r.Task, Comment: r.Comments, Labels: []string{}, Links: []Link{}}
		ok := true
		if err := checkTitle(ColTask, r.Task); err != nil {
			bad(r, ColTask, "%s", strings.TrimPrefix(errs.PublicMessage(err), ColTask+": "))
			ok = false
		} else if first, dup := seen[titleKey(r.Task)]; dup {
			bad(r, ColTask, "repeats the task of row %d", first)
			ok = false
		} else {
			seen[titleKey(r.Task)] = r.Row
		}
		if r.Priority == "" {
			bad(r, ColPriority, "is empty; use High, Medium or Low")
			ok = false
		} else if p, err := ParsePriority(ColPriority, r.Priority); err != nil {
			bad(r, ColPriority, "%s", strings.TrimPrefix(errs.PublicMessage(err), ColPriority+": "))
			ok = false
		} else {
			t.Priority = p
		}
		if r.Status == "" {
			bad(r, ColStatus, "is empty; use Not Started, In Progress, Blocked or Completed")
			ok = false
		} else if st, err := ParseStatus(ColStatus, r.Status); err != nil {
			bad(r, ColStatus, "%s", strings.TrimPrefix(errs.PublicMessage(err), ColStatus+": "))
			ok = false
		} else {
			t.Status = st
		}
		if err := text.Check(ColComments, r.Comments, MaxComment, true); err != nil {
			bad(r, ColComments, "%s", strings.TrimPrefix(errs.PublicMessage(err), ColComments+": "))
			ok = false
		}
		if r.Assignee != "" {
			key := strings.ToLower(r.Assignee)
			ref, known := users[key]
			if !known {
				var err error
				ref, err = s.resolveAssignee(ctx, ColAssignee, r.Assignee)
				if err != nil && !errs.Is(err, errs.Invalid) {
					return nil, nil, err
				}
				if err != nil {
					bad(r, ColAssignee, "%s", strings.TrimPrefix(errs.PublicMessage(err), ColAssignee+": "))
					ok = false
				} else {
					users[key] = ref
				}
			}
			t.Assignee = ref
		}
		if ok {
			out = append(out, importRow{Row: r, task: t})
		}
	}
	return out, problems, nil
}

// apply writes the read rows in one transaction: updates of the tasks the project has by title,
// new tasks for the others.
func (s *Service) apply(ctx context.Context, proj Project, rows []importRow) (ImportResult, error) {
	res := ImportResult{Tasks: []Task{}}
	actor := principal.From(ctx).Actor()
	err := s.recs.st.InTx(ctx, func(ctx context.Context) error {
		// Imports into one project take turns: two reading the tasks at once would both create
		// a new row's task (one failing on the title's unique key) or update the same version.
		if err := s.recs.lockProject(ctx, proj.ID, proj.Name); err != nil {
			return err
		}
		existing, err := s.recs.tasksOfProject(ctx, proj.ID)
		if err != nil {
			return err
		}
		byKey := make(map[string]Task, len(existing))
		for _, t := range existing {
			byKey[titleKey(t.Title)] = t
		}
		added := 0
		for _, r := range rows {
			if _, ok := byKey[titleKey(r.task.Title)]; !ok {
				added++
			}
		}
		if len(existing)+added > MaxTasksPerProj {
			return errs.E(errs.Invalid, "project %s would have %d tasks; at most %d", proj.Name, len(existing)+added, MaxTasksPerProj)
		}
		now := s.now().UTC()
		for _, r := range rows {
			old, ok := byKey[titleKey(r.task.Title)]
			if !ok {
				t := r.task
				t.CreatedBy, t.CreatedAt, t.UpdatedBy, t.UpdatedAt = actor, now, actor, now
				if err := s.recs.insertTask(ctx, &t); err != nil {
					return err
				}
				res.Created++
				res.Tasks = append(res.Tasks, t)
				s.publish(ctx, Event{Project: proj.Name, Task: t})
				continue
			}
			next := old
			next.Title, next.Priority, next.Assignee, next.Status = r.task.Title, r.task.Priority, r.task.Assignee, r.task.Status
			if r.HasComments {
				next.Comment = r.task.Comment
			}
			changes := diff(old, next)
			if len(changes) == 0 {
				res.Unchanged++
				res.Tasks = append(res.Tasks, old)
				continue
			}
			for i := range changes {
				changes[i].TaskID, changes[i].Actor, changes[i].At = old.ID, actor, now
			}
			next.UpdatedBy, next.UpdatedAt = actor, now
			if err := s.recs.saveTask(ctx, &next, old.Version, changes, false); err != nil {
				return err
			}
			res.Updated++
			res.Tasks = append(res.Tasks, next)
			s.publish(ctx, Event{Project: proj.Name, Task: next})
		}
		return audit.Flush(ctx)
	})
	if err != nil {
		return ImportResult{}, err
	}
	return res, nil
}

// Export writes a project's tasks as a status-meeting table, for anyone signed in. An assignee is
// written as the User's title when that finds exactly this User again on import, else by name
// (or ref, outside the default namespace), so that importing the export changes nothing.
func (s *Service) Export(ctx context.Context, project string, format Format) (string, error) {
	if err := signedIn(ctx); err != nil {
		return "", err
	}
	proj, err := s.recs.projectByName(ctx, project)
	if err != nil {
		return "", err
	}
	list, err := s.recs.tasksOfProject(ctx, proj.ID)
	if err != nil {
		return "", err
	}
	labels := map[string]string{"": ""}
	for _, t := range list {
		if _, done := labels[t.Assignee]; done {
			continue
		}
		if labels[t.Assignee], err = s.assigneeLabel(ctx, t.Assignee); err != nil {
			return "", err
		}
	}
	return RenderTable(format, list, labels)
}

// assigneeLabel is how the table names a User so that the import finds it again.
func (s *Service) assigneeLabel(ctx context.Context, ref string) (string, error) {
	found, err := s.catalog.MatchUsers(ctx, ref, 1)
	if err != nil || len(found) == 0 {
		return ref, err // a User gone from the catalog keeps its ref
	}
	e := found[0]
	candidates := []string{userTitle(e)}
	if e.Ref.Namespace == backstage.DefaultNamespace {
		candidates = append(candidates, e.Ref.Name)
	}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		got, _, err := s.matchUser(ctx, c)
		if err != nil {
			return "", err
		}
		if got == ref {
			return c, nil
		}
	}
	return ref, nil
}

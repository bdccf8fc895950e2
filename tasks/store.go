package tasks

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/idcursor"
	"github.com/portside-dev/portside/store"
)

// projectRow is a project as stored in task_projects.
type projectRow struct {
	ID        int64 `gorm:"primaryKey"`
	Name      string
	Title     string
	OwnerRef  string
	Members   string // JSON list of User refs
	CreatedBy string
	CreatedAt time.Time
	UpdatedAt time.Time
	Version   int
}

func (projectRow) TableName() string { return "task_projects" }

// taskRow is a task as stored in tasks.
type taskRow struct {
	ID          int64 `gorm:"primaryKey"`
	ProjectID   int64
	Title       string
	TitleKey    string
	Priority    string
	AssigneeRef string
	Status      string
	Comment     string
	DueOn       string
	Labels      string // JSON list
	CreatedBy   string
	CreatedAt   time.Time
	UpdatedBy   string
	UpdatedAt   time.Time
	Version     int
}

func (taskRow) TableName() string { return "tasks" }

// linkRow is one link of a task.
type linkRow struct {
	TaskID int64  `gorm:"primaryKey;autoIncrement:false"`
	Kind   string `gorm:"primaryKey"`
	Target string `gorm:"primaryKey"`
}

func (linkRow) TableName() string { return "task_links" }

// commentRow is one comment of a task's thread.
type commentRow struct {
	ID        int64 `gorm:"primaryKey"`
	TaskID    int64
	Author    string
	Body      string
	CreatedAt time.Time
}

func (commentRow) TableName() string { return "task_comments" }

// changeRow is one field of a task changed.
type changeRow struct {
	ID       int64 `gorm:"primaryKey"`
	TaskID   int64
	Actor    string
	At       time.Time
	Field    string
	OldValue string
	NewValue string
}

func (changeRow) TableName() string { return "task_changes" }

// Models lists the gorm row types of the tasks domain, for the schema conformance test.
func Models() []any {
	return []any{&projectRow{}, &taskRow{}, &linkRow{}, &commentRow{}, &changeRow{}, &meetingRow{}, &snapshotRow{}, &meetingChangeRow{}, &suggestionRow{}}
}

func (r *projectRow) toProject() Project {
	p := Project{ID: r.ID, Name: r.Name, Title: r.Title, Owner: r.OwnerRef, CreatedBy: r.CreatedBy,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), Version: r.Version}
	_ = json.Unmarshal([]byte(r.Members), &p.Members)
	if p.Members == nil {
		p.Members = []string{}
	}
	return p
}

func (r *taskRow) toTask(project string, links []Link) Task {
	t := Task{ID: r.ID, ProjectID: r.ProjectID, Project: project, Title: r.Title, Priority: Priority(r.Priority),
		Assignee: r.AssigneeRef, Status: Status(r.Status), Comment: r.Comment, Due: r.DueOn, CreatedBy: r.CreatedBy,
		CreatedAt: r.CreatedAt.UTC(), UpdatedBy: r.UpdatedBy, UpdatedAt: r.UpdatedAt.UTC(), Version: r.Version, Links: links}
	_ = json.Unmarshal([]byte(r.Labels), &t.Labels)
	if t.Labels == nil {
		t.Labels = []string{}
	}
	if t.Links == nil {
		t.Links = []Link{}
	}
	return t
}

func jsonList(list []string) string {
	if list == nil {
		list = []string{}
	}
	b, _ := json.Marshal(list) // a list of strings always marshals
	return string(b)
}

// records keeps projects and tasks in the database.
type records struct {
	st *store.Store
}

func (s *records) insertProject(ctx context.Context, p *Project) error {
	row := projectRow{Name: p.Name, Title: p.Title, OwnerRef: p.Owner, Members: jsonList(p.Members), CreatedBy: p.CreatedBy,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
	if err := s.st.DB(ctx).Create(&row).Error; err != nil {
		return store.Translate(err, "project "+strconv.Quote(p.Name))
	}
	p.ID = row.ID
	return nil
}

func (s *records) projectByName(ctx context.Context, name string) (Project, error) {
	var row projectRow
	if err := s.st.DB(ctx).Where("name = ?", name).Take(&row).Error; err != nil {
		return Project{}, store.Translate(err, "project "+strconv.Quote(name))
	}
	return row.toProject(), nil
}

func (s *records) projectsByName(ctx context.Context, names []string) ([]Project, error) {
	if len(names) == 0 {
		return []Project{}, nil
	}
	var rows []projectRow
	if err := s.st.DB(ctx).Where("name IN ?", names).Find(&rows).Error; err != nil {
		return nil, store.Translate(err, "projects")
	}
	out := make([]Project, len(rows))
	for i := range rows {
		out[i] = rows[i].toProject()
	}
	return out, nil
}

func (s *records) projectByID(ctx context.Context, id int64) (Project, error) {
	var row projectRow
	if err := s.st.DB(ctx).Take(&row, id).Error; err != nil {
		return Project{}, store.Translate(err, "project "+strconv.FormatInt(id, 10))
	}
	return row.toProject(), nil
}

// MaxProjects bounds the projects one list returns.
const MaxProjects = 500

func (s *records) projects(ctx context.Context) ([]Project, error) {
	var rows []projectRow
	if err := s.st.DB(ctx).Order("name").Limit(MaxProjects).Find(&rows).Error; err != nil {
		return nil, store.Translate(err, "projects")
	}
	out := make([]Project, len(rows))
	for i := range rows {
		out[i] = rows[i].toProject()
	}
	return out, nil
}

// projectNames maps project IDs to names.
func (s *records) projectNames(ctx context.Context, ids []int64) (map[int64]string, error) {
	var rows []projectRow
	if err := s.st.DB(ctx).Select("id", "name").Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, store.Translate(err, "projects")
	}
	out := make(map[int64]string, len(rows))
	for _, r := range rows {
		out[r.ID] = r.Name
	}
	return out, nil
}

func (s *records) countTasks(ctx context.Context, projectID int64) (int64, error) {
	var n int64
	if err := s.st.DB(ctx).Model(&taskRow{}).Where("project_id = ?", projectID).Count(&n).Error; err != nil {
		return 0, store.Translate(err, "tasks")
	}
	return n, nil
}

func newTaskRow(t *Task) taskRow {
	return taskRow{ID: t.ID, ProjectID: t.ProjectID, Title: t.Title, TitleKey: titleKey(t.Title), Priority: string(t.Priority),
		AssigneeRef: t.Assignee, Status: string(t.Status), Comment: t.Comment, DueOn: t.Due, Labels: jsonList(t.Labels),
		CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt, UpdatedBy: t.UpdatedBy, UpdatedAt: t.UpdatedAt, Version: t.Version}
}

// lockProject holds project id's (name's) row until the transaction ends, so that writers of its
// tasks that read before they write take turns. SQLite's transactions already do (IMMEDIATE).
func (s *records) lockProject(ctx context.Context, id int64, name string) error {
	if s.st.Dialect() != store.Postgres {
		return nil
	}
	var got []int64
	err := s.st.DB(ctx).Raw("SELECT id FROM task_projects WHERE id = ? FOR UPDATE", id).Scan(&got).Error
	if err != nil {
		return store.Translate(err, "project")
	}
	if len(got) == 0 {
		return errs.E(errs.NotFound, "project %s was deleted", name)
	}
	return nil
}

// insertTask records a new task, its links and the change that created it. A title the project
// already has is a CONFLICT.
func (s *records) insertTask(ctx context.Context, t *Task) error {
	row := newTaskRow(t)
	row.ID = 0
	if err := s.st.DB(ctx).Create(&row).Error; err != nil {
		return store.Translate(err, "task "+strconv.Quote(t.Title)+" in project "+strconv.Quote(t.Project))
	}
	t.ID = row.ID
	if err := s.insertLinks(ctx, t.ID, t.Links); err != nil {
		return err
	}
	return s.insertChanges(ctx, []Change{{TaskID: t.ID, Actor: t.CreatedBy, At: t.CreatedAt, Field: "created", New: t.Title}})
}

func (s *records) insertLinks(ctx context.Context, taskID int64, links []Link) error {
	if len(links) == 0 {
		return nil
	}
	rows := make([]linkRow, len(links))
	for i, l := range links {
		rows[i] = linkRow{TaskID: taskID, Kind: string(l.Kind), Target: l.Target}
	}
	if err := s.st.DB(ctx).CreateInBatches(rows, s.st.BatchSize(3)).Error; err != nil {
		return store.Translate(err, "task links")
	}
	return nil
}

func (s *records) insertChanges(ctx context.Context, list []Change) error {
	if len(list) == 0 {
		return nil
	}
	rows := make([]changeRow, len(list))
	for i, c := range list {
		rows[i] = changeRow{TaskID: c.TaskID, Actor: c.Actor, At: c.At, Field: c.Field, OldValue: c.Old, NewValue: c.New}
	}
	if err := s.st.DB(ctx).CreateInBatches(rows, s.st.BatchSize(6)).Error; err != nil {
		return store.Translate(err, "task history")
	}
	return nil
}

// versionMismatch is the refusal of a change made on version given of task id, which is at
// version have: a version not written yet is INVALID naming version (no edit was made on it), an
// older one a CONFLICT saying where the task is now.
func versionMismatch(id int64, have, given int) error {
	if given > have {
		return errs.InvalidField("version", "task %d is at version %d; it has no version %d", id, have, given)
	}
	return errs.E(errs.Conflict, "task %d changed since version %d (it is at version %d); read it again and reapply your change", id, given, have)
}

// stale is the refusal of a write made on version had of task id that found another: the
// version it is at now (versionMismatch), or NOT_FOUND when it was deleted meanwhile.
func (s *records) stale(ctx context.Context, id int64, had int) error {
	var versions []int
	if err := s.st.DB(ctx).Model(&taskRow{}).Where("id = ?", id).Pluck("version", &versions).Error; err != nil {
		return store.Translate(err, "task "+strconv.FormatInt(id, 10))
	}
	if len(versions) == 0 {
		return errs.E(errs.NotFound, "task %d was deleted meanwhile", id)
	}
	return versionMismatch(id, versions[0], had)
}

// saveTask writes t's fields over the stored task if that is still at version had, with its
// changes as history; linksChanged replaces its links too. A stale version is a CONFLICT.
func (s *records) saveTask(ctx context.Context, t *Task, had int, changes []Change, linksChanged bool) error {
	res := s.st.DB(ctx).Model(&taskRow{}).Where("id = ? AND version = ?", t.ID, had).Updates(map[string]any{
		"title": t.Title, "title_key": titleKey(t.Title), "priority": string(t.Priority), "assignee_ref": t.Assignee,
		"status": string(t.Status), "comment": t.Comment, "due_on": t.Due, "labels": jsonList(t.Labels),
		"updated_by": t.UpdatedBy, "updated_at": t.UpdatedAt, "version": had + 1,
	})
	if res.Error != nil {
		return store.Translate(res.Error, "task "+strconv.Quote(t.Title)+" in project "+strconv.Quote(t.Project))
	}
	if res.RowsAffected == 0 {
		return s.stale(ctx, t.ID, had)
	}
	t.Version = had + 1
	if linksChanged {
		if err := s.st.DB(ctx).Where("task_id = ?", t.ID).Delete(&linkRow{}).Error; err != nil {
			return store.Translate(err, "task links")
		}
		if err := s.insertLinks(ctx, t.ID, t.Links); err != nil {
			return err
		}
	}
	return s.insertChanges(ctx, changes)
}

// deleteTask removes a task at version had, with its links, comments and history (the audit
// record of the deletion stays).
func (s *records) deleteTask(ctx context.Context, id int64, had int) error {
	db := s.st.DB(ctx)
	for _, m := range []any{&linkRow{}, &commentRow{}, &changeRow{}, &suggestionRow{}} {
		if err := db.Where("task_id = ?", id).Delete(m).Error; err != nil {
			return store.Translate(err, "task "+strconv.FormatInt(id, 10))
		}
	}
	res := db.Where("id = ? AND version = ?", id, had).Delete(&taskRow{})
	if res.Error != nil {
		return store.Translate(res.Error, "task "+strconv.FormatInt(id, 10))
	}
	if res.RowsAffected == 0 {
		return s.stale(ctx, id, had)
	}
	return nil
}

func (s *records) taskByID(ctx context.Context, id int64) (Task, error) {
	var row taskRow
	if err := s.st.DB(ctx).Take(&row, id).Error; err != nil {
		return Task{}, store.Translate(err, "task "+strconv.FormatInt(id, 10))
	}
	list, err := s.complete(ctx, []taskRow{row}, nil)
	if err != nil {
		return Task{}, err
	}
	return list[0], nil
}

// tasksOfProject returns every task of a project, in board order (oldest first).
func (s *records) tasksOfProject(ctx context.Context, projectID int64) ([]Task, error) {
	var rows []taskRow
	if err := s.st.DB(ctx).Where("project_id = ?", projectID).Order("id").Limit(MaxTasksPerProj + 1).Find(&rows).Error; err != nil {
		return nil, store.Translate(err, "tasks")
	}
	return s.complete(ctx, rows, nil)
}

// complete turns rows into tasks with their links and project names, in two queries (one when
// the names are known: a project's board).
func (s *records) complete(ctx context.Context, rows []taskRow, known map[int64]string) ([]Task, error) {
	out := make([]Task, 0, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	ids := make([]int64, len(rows))
	var projectIDs []int64
	for i, r := range rows {
		ids[i] = r.ID
		if !slices.Contains(projectIDs, r.ProjectID) {
			projectIDs = append(projectIDs, r.ProjectID)
		}
	}
	links := map[int64][]Link{}
	for part := range slices.Chunk(ids, 500) {
		var lrows []linkRow
		if err := s.st.DB(ctx).Where("task_id IN ?", part).Order("task_id, kind, target").Find(&lrows).Error; err != nil {
			return nil, store.Translate(err, "task links")
		}
		for _, l := range lrows {
			links[l.TaskID] = append(links[l.TaskID], Link{Kind: LinkKind(l.Kind), Target: l.Target})
		}
	}
	names := known
	if len(projectIDs) > 1 || known[projectIDs[0]] == "" {
		var err error
		if names, err = s.projectNames(ctx, projectIDs); err != nil {
			return nil, err
		}
	}
	for i := range rows {
		out = append(out, rows[i].toTask(names[rows[i].ProjectID], links[rows[i].ID]))
	}
	return out, nil
}

func (s *records) insertComment(ctx context.Context, c *Comment) error {
	row := commentRow{TaskID: c.TaskID, Author: c.Author, Body: c.Body, CreatedAt: c.At}
	if err := s.st.DB(ctx).Create(&row).Error; err != nil {
		return store.Translate(err, "task comment")
	}
	c.ID = row.ID
	return nil
}

// comments returns the first comments of a task, oldest first.
func (s *records) comments(ctx context.Context, taskID int64, first int) ([]Comment, error) {
	var rows []commentRow
	if err := s.st.DB(ctx).Where("task_id = ?", taskID).Order("id").Limit(first).Find(&rows).Error; err != nil {
		return nil, store.Translate(err, "task comments")
	}
	out := make([]Comment, len(rows))
	for i, r := range rows {
		out[i] = Comment{ID: r.ID, TaskID: r.TaskID, Author: r.Author, Body: r.Body, At: r.CreatedAt.UTC()}
	}
	return out, nil
}

// changes returns the first changes of a task, oldest first.
func (s *records) changes(ctx context.Context, taskID int64, first int) ([]Change, error) {
	var rows []changeRow
	if err := s.st.DB(ctx).Where("task_id = ?", taskID).Order("id").Limit(first).Find(&rows).Error; err != nil {
		return nil, store.Translate(err, "task history")
	}
	out := make([]Change, len(rows))
	for i, r := range rows {
		out[i] = Change{ID: r.ID, TaskID: r.TaskID, Actor: r.Actor, At: r.At.UTC(), Field: r.Field, Old: r.OldValue, New: r.NewValue}
	}
	return out, nil
}

// Filter narrows a list of tasks.
type Filter struct {
	// Project is a project's name.
	Project string
	// Assignee is a catalog User ref (canonical).
	Assignee   string
	Statuses   []Status
	Priorities []Priority
	// Component is a component ref (canonical) the tasks link to.
	Component string

	projectID int64
}

// Page is a page of tasks in board order (oldest first).
type Page struct {
	Tasks       []Task
	Cursors     []string
	TotalCount  int64
	HasNextPage bool
	EndCursor   string
}

// MaxPage bounds a page of tasks.
const MaxPage = 500

// list returns a page of tasks, in board order.
func (s *records) list(ctx context.Context, f Filter, first int, after string) (*Page, error) {
	if first < 0 || first > MaxPage {
		return nil, errs.InvalidField("first", "must be between 0 and %d, got %d", MaxPage, first)
	}
	db := s.st.DB(ctx).Model(&taskRow{})
	if f.projectID != 0 {
		db = db.Where("project_id = ?", f.projectID)
	}
	if f.Assignee != "" {
		db = db.Where("assignee_ref = ?", f.Assignee)
	}
	if len(f.Statuses) > 0 {
		db = db.Where("status IN ?", strs(f.Statuses))
	}
	if len(f.Priorities) > 0 {
		db = db.Where("priority IN ?", strs(f.Priorities))
	}
	if f.Component != "" {
		db = db.Where("EXISTS (SELECT 1 FROM task_links l WHERE l.task_id = tasks.id AND l.kind = ? AND l.target = ?)", string(LinkComponent), f.Component)
	}
	page := &Page{Tasks: []Task{}}
	if err := db.Session(&gorm.Session{}).Count(&page.TotalCount).Error; err != nil {
		return nil, store.Translate(err, "tasks")
	}
	if after != "" {
		id, err := idcursor.Decode("task", after)
		if err != nil {
			return nil, err
		}
		db = db.Where("id > ?", id)
	}
	var rows []taskRow
	if err := db.Order("id").Limit(first + 1).Find(&rows).Error; err != nil {
		return nil, store.Translate(err, "tasks")
	}
	if len(rows) > first {
		page.HasNextPage, rows = true, rows[:first]
	}
	var known map[int64]string
	if f.projectID != 0 {
		known = map[int64]string{f.projectID: f.Project}
	}
	list, err := s.complete(ctx, rows, known)
	if err != nil {
		return nil, err
	}
	page.Tasks = list
	for _, r := range rows {
		page.Cursors = append(page.Cursors, idcursor.Encode("task", r.ID))
	}
	if len(rows) > 0 {
		page.EndCursor = idcursor.Encode("task", rows[len(rows)-1].ID)
	}
	return page, nil
}

func strs[T ~string](list []T) []string {
	out := make([]string, len(list))
	for i, x := range list {
		out[i] = string(x)
	}
	return out
}

// meetingRow is a meeting as stored in task_meetings.
type meetingRow struct {
	ID        int64 `gorm:"primaryKey"`
	ProjectID int64
	HeldAt    time.Time
	Notes     string
	CreatedBy string
	CreatedAt time.Time
}

func (meetingRow) TableName() string { return "task_meetings" }

// snapshotRow is one task of a meeting's snapshot.
type snapshotRow struct {
	MeetingID   int64 `gorm:"primaryKey;autoIncrement:false"`
	TaskID      int64 `gorm:"primaryKey;autoIncrement:false"`
	Position    int
	Title       string
	Priority    string
	AssigneeRef string
	Status      string
	Comment     string
}

func (snapshotRow) TableName() string { return "task_meeting_rows" }

func (r *snapshotRow) toMeetingRow() MeetingRow {
	return MeetingRow{TaskID: r.TaskID, Title: r.Title, Priority: Priority(r.Priority), Assignee: r.AssigneeRef, Status: Status(r.Status), Comment: r.Comment}
}

func (r *meetingRow) toMeeting(project string) Meeting {
	return Meeting{ID: r.ID, ProjectID: r.ProjectID, Project: project, HeldAt: r.HeldAt.UTC(), Notes: r.Notes, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC()}
}

func (s *records) countMeetings(ctx context.Context, projectID int64) (int64, error) {
	var n int64
	if err := s.st.DB(ctx).Model(&meetingRow{}).Where("project_id = ?", projectID).Count(&n).Error; err != nil {
		return 0, store.Translate(err, "meetings")
	}
	return n, nil
}

// meetingChangeRow is one change a meeting found since the meeting before it.
type meetingChangeRow struct {
	MeetingID int64 `gorm:"primaryKey;autoIncrement:false"`
	Position  int   `gorm:"primaryKey;autoIncrement:false"`
	TaskID    int64
	Title     string
	Kind      string
	OldValue  string
	NewValue  string
}

func (meetingChangeRow) TableName() string { return "task_meeting_changes" }

// insertMeeting records a meeting with its snapshot and what changed since the meeting before.
func (s *records) insertMeeting(ctx context.Context, m *Meeting, rows []MeetingRow, changes []MeetingChange) error {
	row := meetingRow{ProjectID: m.ProjectID, HeldAt: m.HeldAt, Notes: m.Notes, CreatedBy: m.CreatedBy, CreatedAt: m.CreatedAt}
	if err := s.st.DB(ctx).Create(&row).Error; err != nil {
		return store.Translate(err, "meeting of project "+strconv.Quote(m.Project))
	}
	m.ID = row.ID
	if len(rows) == 0 {
		return nil
	}
	snap := make([]snapshotRow, len(rows))
	for i, r := range rows {
		snap[i] = snapshotRow{MeetingID: m.ID, TaskID: r.TaskID, Position: i, Title: r.Title, Priority: string(r.Priority),
			AssigneeRef: r.Assignee, Status: string(r.Status), Comment: r.Comment}
	}
	if err := s.st.DB(ctx).CreateInBatches(snap, s.st.BatchSize(8)).Error; err != nil {
		return store.Translate(err, "meeting snapshot")
	}
	if len(changes) == 0 {
		return nil
	}
	crows := make([]meetingChangeRow, len(changes))
	for i, c := range changes {
		crows[i] = meetingChangeRow{MeetingID: m.ID, Position: i, TaskID: c.TaskID, Title: c.Title, Kind: string(c.Kind), OldValue: c.Old, NewValue: c.New}
	}
	if err := s.st.DB(ctx).CreateInBatches(crows, s.st.BatchSize(7)).Error; err != nil {
		return store.Translate(err, "meeting changes")
	}
	return nil
}

// meetingChanges reads what a meeting found changed, in its order.
func (s *records) meetingChanges(ctx context.Context, meetingID int64) ([]MeetingChange, error) {
	var rows []meetingChangeRow
	if err := s.st.DB(ctx).Where("meeting_id = ?", meetingID).Order("position").Find(&rows).Error; err != nil {
		return nil, store.Translate(err, "meeting changes")
	}
	out := make([]MeetingChange, len(rows))
	for i, r := range rows {
		out[i] = MeetingChange{TaskID: r.TaskID, Title: r.Title, Kind: ChangeKind(r.Kind), Old: r.OldValue, New: r.NewValue}
	}
	return out, nil
}

// currentRows reads a project's tasks as a meeting snapshots them: only the table's columns, in
// board order (cheaper than whole tasks with their links).
func (s *records) currentRows(ctx context.Context, projectID int64) ([]MeetingRow, error) {
	var rows []taskRow
	err := s.st.DB(ctx).Select("id", "title", "priority", "assignee_ref", "status", "comment").
		Where("project_id = ?", projectID).Order("id").Limit(MaxTasksPerProj + 1).Find(&rows).Error
	if err != nil {
		return nil, store.Translate(err, "tasks")
	}
	out := make([]MeetingRow, len(rows))
	for i, r := range rows {
		out[i] = MeetingRow{TaskID: r.ID, Title: r.Title, Priority: Priority(r.Priority), Assignee: r.AssigneeRef, Status: Status(r.Status), Comment: r.Comment}
	}
	return out, nil
}

// changedSince returns, of a project's tasks and a meeting's snapshot of them, only the rows that
// can make a change between the two: current tasks the snapshot lacks or whose status, priority,
// assignee or comment differ (cur, in task order, each with its snapshot row in prev when it has
// one), and snapshot rows whose task is gone (prev, after those, in snapshot order). The database
// compares the rows, so a project of 2,000 tasks with a few changes sends a few rows, not 4,000.
func (s *records) changedSince(ctx context.Context, projectID, meetingID int64) (prev, cur []MeetingRow, err error) {
	rows, err := s.st.DB(ctx).Raw(`SELECT t.id, t.title, t.priority, t.assignee_ref, t.status, t.comment,
		       m.task_id, m.title, m.priority, m.assignee_ref, m.status, m.comment
		  FROM tasks t LEFT JOIN task_meeting_rows m ON m.meeting_id = ? AND m.task_id = t.id
		 WHERE t.project_id = ? AND (m.task_id IS NULL OR t.status <> m.status OR t.priority <> m.priority
		       OR t.assignee_ref <> m.assignee_ref OR t.comment <> m.comment)
		 ORDER BY t.id`, meetingID, projectID).Rows()
	if err != nil {
		return nil, nil, store.Translate(err, "tasks")
	}
	for rows.Next() {
		var c MeetingRow
		var pid sql.NullInt64
		var pt, pp, pa, ps, pc sql.NullString
		if err := rows.Scan(&c.TaskID, &c.Title, &c.Priority, &c.Assignee, &c.Status, &c.Comment, &pid, &pt, &pp, &pa, &ps, &pc); err != nil {
			rows.Close()
			return nil, nil, store.Translate(err, "tasks")
		}
		cur = append(cur, c)
		if pid.Valid {
			prev = append(prev, MeetingRow{TaskID: pid.Int64, Title: pt.String, Priority: Priority(pp.String), Assignee: pa.String,
				Status: Status(ps.String), Comment: pc.String})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, store.Translate(err, "tasks")
	}
	var gone []snapshotRow
	err = s.st.DB(ctx).Where("meeting_id = ? AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = task_meeting_rows.task_id AND t.project_id = ?)",
		meetingID, projectID).Order("position").Find(&gone).Error
	if err != nil {
		return nil, nil, store.Translate(err, "meeting snapshot")
	}
	for _, r := range gone {
		prev = append(prev, r.toMeetingRow())
	}
	return prev, cur, nil
}

func (s *records) meetingByID(ctx context.Context, id int64) (Meeting, error) {
	var row meetingRow
	if err := s.st.DB(ctx).Take(&row, id).Error; err != nil {
		return Meeting{}, store.Translate(err, "meeting "+strconv.FormatInt(id, 10))
	}
	names, err := s.projectNames(ctx, []int64{row.ProjectID})
	if err != nil {
		return Meeting{}, err
	}
	return row.toMeeting(names[row.ProjectID]), nil
}

// meetings returns a project's latest meetings, the latest first.
func (s *records) meetings(ctx context.Context, proj Project, first int) ([]Meeting, error) {
	var rows []meetingRow
	if err := s.st.DB(ctx).Where("project_id = ?", proj.ID).Order("held_at DESC, id DESC").Limit(first).Find(&rows).Error; err != nil {
		return nil, store.Translate(err, "meetings")
	}
	out := make([]Meeting, len(rows))
	for i := range rows {
		out[i] = rows[i].toMeeting(proj.Name)
	}
	return out, nil
}

// meetingRows reads a meeting's snapshot in table order.
func (s *records) meetingRows(ctx context.Context, meetingID int64) ([]MeetingRow, error) {
	var rows []snapshotRow
	if err := s.st.DB(ctx).Where("meeting_id = ?", meetingID).Order("position").Find(&rows).Error; err != nil {
		return nil, store.Translate(err, "meeting snapshot")
	}
	out := make([]MeetingRow, len(rows))
	for i, r := range rows {
		out[i] = r.toMeetingRow()
	}
	return out, nil
}

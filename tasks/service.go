package tasks

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth/policy"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/bus"
	"github.com/portside-dev/portside/internal/pubsub"
	"github.com/portside-dev/portside/internal/text"
	"github.com/portside-dev/portside/pipelines"
	"github.com/portside-dev/portside/rollouts"
	"github.com/portside-dev/portside/runbooks"
	"github.com/portside-dev/portside/store"
)

// Catalog is what the tasks domain reads from the catalog; catalog.Service implements it.
type Catalog interface {
	// InGroup reports whether p belongs to group (canonical ref) or to a group above it.
	InGroup(ctx context.Context, p *principal.Principal, group string) (bool, error)
	// InGroups is InGroup for several groups, with a key for each, in a fixed number of reads.
	InGroups(ctx context.Context, p *principal.Principal, groups []string) (map[string]bool, error)
	// EntityRef finds an existing entity of kind by a reference a client typed (field names the
	// input in errors: one the catalog lacks is NOT_FOUND naming it) and returns its canonical ref.
	EntityRef(ctx context.Context, field, ref, kind string) (string, error)
	// MatchUsers returns the catalog Users whose ref, name, title or e-mail text is,
	// case-insensitively, at most limit of them.
	MatchUsers(ctx context.Context, text string, limit int) ([]*backstage.Entity, error)
}

// Rollouts finds the rollouts tasks link to; rollouts.Service implements it.
type Rollouts interface {
	// Rollout returns the rollout Portside recorded with the number id: NOT_FOUND when none.
	Rollout(ctx context.Context, id int64) (rollouts.Rollout, error)
}

// PipelineRuns finds the pipeline runs tasks link to; pipelines.Service implements it.
type PipelineRuns interface {
	// Run returns the pipeline run with the number id: NOT_FOUND when none.
	Run(ctx context.Context, id int64) (pipelines.Run, error)
}

// Runbooks finds the runbooks tasks link to; runbooks.Service implements it.
type Runbooks interface {
	// Runbook returns the runbook with the number id: NOT_FOUND when none.
	Runbook(ctx context.Context, id int64) (runbooks.Runbook, error)
}

// Options wire the service.
type Options struct {
	Catalog Catalog
	// Rollouts, PipelineRuns and Runbooks find what ROLLOUT, PIPELINE_RUN and RUNBOOK links name
	// when a task is linked to it, so that a link names something that exists. A nil one leaves
	// its kind unchecked (tests of the domain alone): a rollout or pipeline run is then any
	// number, a runbook any one-line text.
	Rollouts     Rollouts
	PipelineRuns PipelineRuns
	Runbooks     Runbooks
	// Figures gives the delivery figures of meeting reports; nil leaves them out.
	Figures DeliveryFigures
	// Audit records every change; nil records nothing (tests of the domain alone).
	Audit  *audit.Log
	Logger *slog.Logger
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
	// Bus carries the tasks' changes to the other replicas and theirs here, for subscribers on
	// every replica; nil is a process alone.
	Bus bus.Bus
}

// Service keeps projects and their tasks for the people who run status meetings.
type Service struct {
	recs    *records
	catalog Catalog
	audit   *audit.Log
	log     *slog.Logger
	now     func() time.Time
	hub     *pubsub.Hub[Event]
	topic   *bus.Topic[Event]
	figures DeliveryFigures
	// rollouts, runs and runbooks find what links name (see Options); nil: unchecked.
	rollouts Rollouts
	runs     PipelineRuns
	runbooks Runbooks
}

// NewService keeps tasks in st.
func NewService(st *store.Store, opts Options) *Service {
	s := &Service{recs: &records{st: st}, catalog: opts.Catalog, audit: opts.Audit, log: opts.Logger, now: opts.Now, hub: pubsub.NewHub[Event](64),
		figures: opts.Figures, rollouts: opts.Rollouts, runs: opts.PipelineRuns, runbooks: opts.Runbooks}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.topic = bus.NewTopic(opts.Bus, "tasks", bus.TopicOptions[Event]{
		Deliver: s.hub.Deliver,
		// A task with long comments is read again; a deleted one is gone, and its ID is what counts.
		Shrink: func(e Event) Event { return Event{Project: e.Project, Task: Task{ID: e.Task.ID}, Deleted: e.Deleted} },
		Reload: func(ctx context.Context, e Event) (Event, error) {
			if e.Deleted {
				return e, nil
			}
			t, err := s.recs.taskByID(ctx, e.Task.ID)
			return Event{Project: e.Project, Task: t}, err
		},
		Logger: s.log,
	})
	return s
}

// publish tells the other replicas of a task's change with the transaction that records it
// (ctx's), and this replica's subscribers once it commits: call it inside that transaction.
func (s *Service) publish(ctx context.Context, e Event) {
	s.topic.Publish(ctx, e)
	store.AfterCommit(ctx, func() { s.hub.Publish(e) })
}

// audited runs fn as an audited action (or just runs it without an audit log).
func (s *Service) audited(ctx context.Context, e audit.Entry, fn func(ctx context.Context) error) error {
	if s.audit == nil {
		return fn(ctx)
	}
	return s.audit.Do(ctx, e, fn)
}

// signedIn refuses anonymous readers: tasks are for everyone signed in, not the world.
func signedIn(ctx context.Context) error {
	if principal.From(ctx) == nil {
		return errs.E(errs.Unauthenticated, "sign in to read status-meeting tasks")
	}
	return nil
}

// authorize checks that the caller may change the project's tasks: its members, the members of
// its owning group (or of a group above it) and admins may.
func (s *Service) authorize(ctx context.Context, action policy.Action, proj Project) error {
	p := principal.From(ctx)
	if err := policy.Gate(p, action); err != nil {
		return err
	}
	ok := memberOrAdmin(p, proj)
	if !ok {
		var err error
		if ok, err = s.catalog.InGroup(ctx, p, proj.Owner); err != nil {
			return err
		}
	}
	return policy.Can(p, action, policy.Resource{Name: "project " + proj.Name, OwnedByCaller: ok})
}

// memberOrAdmin is the part of authorize's rule that needs no catalog read.
func memberOrAdmin(p *principal.Principal, proj Project) bool {
	return p.Admin || (p.EntityRef != "" && slices.Contains(proj.Members, p.EntityRef))
}

// CanEdit reports whether the caller may change the project's tasks, by authorize's rule (the
// one every change goes through), asked without acting: what the portal needs to offer its
// forms only to those whose change would be accepted. A change is still checked when it comes.
func (s *Service) CanEdit(ctx context.Context, proj Project) (bool, error) {
	can, err := s.CanEditProjects(ctx, []Project{proj})
	return can[proj.Name], err
}

// CanEditProjects is CanEdit for many projects at once, keyed by project name: authorize's rule
// (memberOrAdmin, then the owning group, then the policy) with the memberships read once for all
// of them (a page of tasks across projects costs two
// catalog statements, not two a task).
func (s *Service) CanEditProjects(ctx context.Context, projs []Project) (map[string]bool, error) {
	out := make(map[string]bool, len(projs))
	p := principal.From(ctx)
	if p == nil || len(projs) == 0 {
		return out, nil
	}
	if err := policy.Gate(p, policy.TaskUpdate); err != nil {
		if errs.Is(err, errs.Forbidden) || errs.Is(err, errs.Unauthenticated) {
			for _, proj := range projs {
				out[proj.Name] = false
			}
			return out, nil
		}
		return nil, err
	}
	var owners []string
	for _, proj := range projs {
		if !memberOrAdmin(p, proj) && !slices.Contains(owners, proj.Owner) {
			owners = append(owners, proj.Owner)
		}
	}
	inGroup := map[string]bool{}
	if len(owners) > 0 {
		var err error
		if inGroup, err = s.catalog.InGroups(ctx, p, owners); err != nil {
			return nil, err
		}
	}
	for _, proj := range projs {
		switch err := policy.Can(p, policy.TaskUpdate, policy.Resource{Name: "project " + proj.Name, OwnedByCaller: memberOrAdmin(p, proj) || inGroup[proj.Owner]}); {
		case err == nil:
			out[proj.Name] = true
		case errs.Is(err, errs.Forbidden), errs.Is(err, errs.Unauthenticated):
			out[proj.Name] = false
		default:
			return nil, err
		}
	}
	return out, nil
}

var projectNameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// ProjectInput is a new project.
type ProjectInput struct {
	Name  string
	Title string
	// Owner is a Group ref as a client typed it ("team-platform", "group:default/team-platform").
	Owner string
	// Members are User refs as a client typed them.
	Members []string
}

// CreateProject creates a project, for admins and the members of the group that is to own it;
// audited.
func (s *Service) CreateProject(ctx context.Context, in ProjectInput) (Project, error) {
	var out Project
	err := s.audited(ctx, audit.Entry{Action: string(policy.TaskProjectCreate), Resource: "project " + in.Name,
		Args: map[string]any{"name": in.Name, "title": in.Title, "owner": in.Owner, "members": in.Members}}, func(ctx context.Context) error {
		p := principal.From(ctx)
		if err := policy.Gate(p, policy.TaskProjectCreate); err != nil {
			return err
		}
		switch {
		case len(in.Name) > MaxProjectName || !projectNameRE.MatchString(in.Name):
			return errs.InvalidField("name", "%q is not a project name: lower-case letters, digits and dashes, at most %d", clip(in.Name), MaxProjectName)
		case len(in.Members) > MaxMembers:
			return errs.InvalidField("members", "has %d members; at most %d", len(in.Members), MaxMembers)
		}
		if err := text.Length("owner", in.Owner, MaxRef); err != nil {
			return err
		}
		if err := text.Check("title", in.Title, MaxTitle, true); err != nil {
			return err
		}
		if strings.TrimSpace(in.Title) != "" { // a title is optional; one given is read where it is listed
			if err := text.Name("title", in.Title, MaxTitle); err != nil {
				return err
			}
		}
		owner, err := s.catalog.EntityRef(ctx, "owner", in.Owner, "group")
		if err != nil {
			return err
		}
		proj := Project{Name: in.Name, Title: strings.TrimSpace(in.Title), Owner: owner, Members: []string{}, CreatedBy: p.Actor()}
		for i, m := range in.Members {
			field := "members[" + strconv.Itoa(i) + "]"
			if err := text.Length(field, m, MaxRef); err != nil {
				return err
			}
			ref, err := s.catalog.EntityRef(ctx, field, m, "user")
			if err != nil {
				return err
			}
			if !slices.Contains(proj.Members, ref) {
				proj.Members = append(proj.Members, ref)
			}
		}
		// The members a project is given grant nothing yet: creating it takes the owning group.
		if err := s.authorize(ctx, policy.TaskProjectCreate, Project{Name: proj.Name, Owner: proj.Owner}); err != nil {
			return err
		}
		proj.CreatedAt = s.now().UTC()
		proj.UpdatedAt = proj.CreatedAt
		return s.recs.st.InTx(ctx, func(ctx context.Context) error {
			if err := s.recs.insertProject(ctx, &proj); err != nil {
				return err
			}
			out = proj
			return audit.Flush(ctx)
		})
	})
	return out, err
}

// Project returns a project by name, for anyone signed in.
func (s *Service) Project(ctx context.Context, name string) (Project, error) {
	if err := signedIn(ctx); err != nil {
		return Project{}, err
	}
	return s.recs.projectByName(ctx, name)
}

// ProjectsByName returns the projects of names that exist (in one statement), for anyone signed
// in; at most MaxProjects names are asked at once.
func (s *Service) ProjectsByName(ctx context.Context, names []string) ([]Project, error) {
	if err := signedIn(ctx); err != nil {
		return nil, err
	}
	if len(names) > MaxProjects {
		return nil, errs.InvalidField("names", "has %d project names; at most %d", len(names), MaxProjects)
	}
	return s.recs.projectsByName(ctx, names)
}

// ProjectByID returns a project by ID, for anyone signed in.
func (s *Service) ProjectByID(ctx context.Context, id int64) (Project, error) {
	if err := signedIn(ctx); err != nil {
		return Project{}, err
	}
	return s.recs.projectByID(ctx, id)
}

// Projects lists the projects by name (at most MaxProjects), for anyone signed in.
func (s *Service) Projects(ctx context.Context) ([]Project, error) {
	if err := signedIn(ctx); err != nil {
		return nil, err
	}
	return s.recs.projects(ctx)
}

// TaskInput is a new task. Empty Priority is Medium, empty Status Not Started.
type TaskInput struct {
	Project  string
	Title    string
	Priority Priority
	// Assignee names a catalog User as the table does (name, title, e-mail or ref); "" is nobody.
	Assignee string
	Status   Status
	Comment  string
	Due      string
	Labels   []string
	Links    []Link
}

// CreateTask adds a task to a project, for those who may change it; audited, and recorded as the
// task's first change.
func (s *Service) CreateTask(ctx context.Context, in TaskInput) (Task, error) {
	var out Task
	err := s.audited(ctx, audit.Entry{Action: string(policy.TaskCreate), Resource: "project " + in.Project,
		Args: map[string]any{"project": in.Project, "title": in.Title, "priority": in.Priority, "assignee": in.Assignee,
			"status": in.Status, "comment": in.Comment, "due": in.Due, "labels": in.Labels, "links": len(in.Links)}}, func(ctx context.Context) error {
		if err := policy.Gate(principal.From(ctx), policy.TaskCreate); err != nil {
			return err
		}
		proj, err := s.recs.projectByName(ctx, in.Project)
		if err != nil {
			return err
		}
		if err := s.authorize(ctx, policy.TaskCreate, proj); err != nil {
			return err
		}
		t := Task{ProjectID: proj.ID, Project: proj.Name, Title: strings.TrimSpace(in.Title), Priority: in.Priority, Status: in.Status,
			Comment: strings.TrimSpace(in.Comment), Due: in.Due, Labels: in.Labels, Links: in.Links}
		if t.Priority == "" {
			t.Priority = Medium
		}
		if t.Status == "" {
			t.Status = NotStarted
		}
		if t.Labels == nil {
			t.Labels = []string{}
		}
		if err := s.checkTask(ctx, &t, nil); err != nil {
			return err
		}
		if in.Assignee != "" {
			if t.Assignee, err = s.resolveAssignee(ctx, "assignee", in.Assignee); err != nil {
				return err
			}
		}
		now := s.now().UTC()
		t.CreatedBy, t.CreatedAt, t.UpdatedBy, t.UpdatedAt = principal.From(ctx).Actor(), now, principal.From(ctx).Actor(), now
		err = s.recs.st.InTx(ctx, func(ctx context.Context) error {
			// Writers of a project's tasks that read before they write take turns: each of them
			// (this one, imports, save's updates, DeleteTask, AcceptSuggestion, CreateMeeting)
			// takes the project's lock first in its transaction, so locks are taken in one order,
			// the project's row, then the tasks'. Counted and inserted under the lock, two
			// creations cannot both take the project's last place, and an import's read of the
			// tasks by title stays what the project has until it has written. Without it, a task
			// created with a title an import is about to create deadlocks with the import on
			// PostgreSQL (the task's foreign key waits for the import's lock, the import's insert
			// for the task's title).
			if err := s.recs.lockProject(ctx, proj.ID, proj.Name); err != nil {
				return err
			}
			n, err := s.recs.countTasks(ctx, proj.ID)
			if err != nil {
				return err
			}
			if n >= MaxTasksPerProj {
				return errs.E(errs.Invalid, "project %s has %d tasks, the most a project may have", proj.Name, n)
			}
			if err := s.recs.insertTask(ctx, &t); err != nil {
				return err
			}
			s.publish(ctx, Event{Project: proj.Name, Task: t})
			return audit.Flush(ctx)
		})
		if err != nil {
			return err
		}
		out = t
		return nil
	})
	return out, err
}

// checkTask checks a task's fields against the bounds and canonicalizes its links; before is the
// task an update changes (nil for a new one), whose title and links are not checked again.
func (s *Service) checkTask(ctx context.Context, t *Task, before *Task) error {
	var kept []Link
	if before != nil {
		kept = before.Links
	}
	// A title kept as it was is not checked again: one stored before a rule (a tab, U+202E) must
	// not keep the task from being updated otherwise.
	if before == nil || t.Title != before.Title {
		if err := checkTitle("title", t.Title); err != nil {
			return err
		}
	}
	if _, err := ParsePriority("priority", string(t.Priority)); err != nil {
		return err
	}
	if _, err := ParseStatus("status", string(t.Status)); err != nil {
		return err
	}
	if err := text.Check("comment", t.Comment, MaxComment, true); err != nil {
		return err
	}
	if err := checkDue(t.Due); err != nil {
		return err
	}
	if err := checkLabels(t.Labels); err != nil {
		return err
	}
	links, err := s.checkLinks(ctx, t.Links, kept)
	if err != nil {
		return err
	}
	t.Links = links
	return nil
}

// checkLinks bounds a task's links, finds what they name (catalog entities, rollouts, pipeline
// runs, runbooks) in its canonical form, and drops repeats. A link in kept (the task's links
// before an update, as stored) is kept without looking it up again: what it names may be gone
// since (a component removed from the catalog), and the task must stay editable. Each target is looked up once, so a
// call costs at most MaxLinks lookups.
func (s *Service) checkLinks(ctx context.Context, in, kept []Link) ([]Link, error) {
	if len(in) > MaxLinks {
		return nil, errs.InvalidField("links", "has %d links; at most %d", len(in), MaxLinks)
	}
	out := make([]Link, 0, len(in))
	known := func(l Link) bool { return slices.Contains(kept, l) || slices.Contains(out, l) }
	for i, l := range in {
		field := "links[" + strconv.Itoa(i) + "].target"
		if err := text.Length(field, l.Target, MaxLinkTarget); err != nil {
			return nil, err
		}
		target := strings.TrimSpace(l.Target)
		var err error
		switch l.Kind {
		case LinkComponent, LinkSystem:
			if known(Link{Kind: l.Kind, Target: target}) {
				break // as stored: the entity may have left the catalog since, and the task stays editable
			}
			target, err = s.catalog.EntityRef(ctx, field, target, strings.ToLower(string(l.Kind)))
		case LinkRollout, LinkPipelineRun, LinkRunbook:
			target, err = s.findRecord(ctx, field, l.Kind, target, known)
		default:
			err = errs.InvalidField("links["+strconv.Itoa(i)+"].kind", "%q is not a link kind", clip(string(l.Kind)))
		}
		if err != nil {
			return nil, err
		}
		link := Link{Kind: l.Kind, Target: target}
		if !slices.Contains(out, link) {
			out = append(out, link)
		}
	}
	slices.SortFunc(out, func(a, b Link) int { return strings.Compare(string(a.Kind)+" "+a.Target, string(b.Kind)+" "+b.Target) })
	return out, nil
}

// findRecord reads the target of a ROLLOUT, PIPELINE_RUN or RUNBOOK link as the record's number
// (its canonical form: "42", not "042") and checks that the record exists: INVALID naming field
// when the target is no number, NOT_FOUND naming it when no such record exists. A link known
// (kept from before, or already found in this call) is not looked up. Without the kind's finder
// (Options) the form alone is checked, as it was before links were looked up.
func (s *Service) findRecord(ctx context.Context, field string, kind LinkKind, target string, known func(Link) bool) (string, error) {
	if known(Link{Kind: kind, Target: target}) {
		return target, nil // as stored, even a runbook's text from before runbooks were looked up
	}
	var find func(ctx context.Context, id int64) error
	switch kind {
	case LinkRollout:
		if s.rollouts != nil {
			find = func(ctx context.Context, id int64) error { _, err := s.rollouts.Rollout(ctx, id); return err }
		}
	case LinkPipelineRun:
		if s.runs != nil {
			find = func(ctx context.Context, id int64) error { _, err := s.runs.Run(ctx, id); return err }
		}
	case LinkRunbook:
		if s.runbooks == nil {
			if err := text.Check(field, target, MaxLinkTarget, true); err != nil {
				return "", err
			}
			if target == "" {
				return "", errs.InvalidField(field, "is empty")
			}
			return target, nil
		}
		find = func(ctx context.Context, id int64) error { _, err := s.runbooks.Runbook(ctx, id); return err }
	}
	n, err := strconv.ParseInt(target, 10, 64)
	if err != nil || n <= 0 {
		return "", errs.InvalidField(field, "%q is not the number of a %s", clip(target), kind.noun())
	}
	target = strconv.FormatInt(n, 10)
	if find == nil || known(Link{Kind: kind, Target: target}) {
		return target, nil
	}
	if err := find(ctx, n); errs.Is(err, errs.NotFound) {
		return "", &errs.Error{Code: errs.NotFound, Field: field, Message: fmt.Sprintf("%s: no %s %d", field, kind.noun(), n), Err: err}
	} else if err != nil {
		return "", err
	}
	return target, nil
}

// userTitle is what a person calls a User: metadata.title, else spec.profile.displayName.
func userTitle(e *backstage.Entity) string {
	if e.Metadata.Title != "" {
		return e.Metadata.Title
	}
	return profileField(e, "displayName")
}

func profileField(e *backstage.Entity, key string) string {
	if p, ok := e.Spec["profile"].(map[string]any); ok {
		if v, ok := p[key].(string); ok {
			return v
		}
	}
	return ""
}

// matchUser finds the one catalog User text names (by ref, name, title or e-mail, whatever the
// case). A name in the default namespace is an identifier and wins over titles and e-mails that
// happen to equal it; otherwise several matches are ambiguous. It returns the ref, or the
// candidates when there is not exactly one.
func (s *Service) matchUser(ctx context.Context, text string) (string, []*backstage.Entity, error) {
	found, err := s.catalog.MatchUsers(ctx, text, 10)
	if err != nil {
		return "", nil, err
	}
	if len(found) == 1 {
		return found[0].Ref.String(), found, nil
	}
	byName := "user:" + backstage.DefaultNamespace + "/" + strings.ToLower(strings.TrimSpace(text))
	for _, e := range found {
		if strings.EqualFold(e.Ref.String(), byName) {
			return e.Ref.String(), found, nil
		}
	}
	return "", found, nil
}

// describeCandidates lists ambiguous users for an error message.
func describeCandidates(list []*backstage.Entity) string {
	parts := make([]string, len(list))
	for i, e := range list {
		parts[i] = e.Ref.String()
		if t := userTitle(e); t != "" {
			parts[i] += " (" + t + ")"
		}
	}
	return strings.Join(parts, ", ")
}

// resolveAssignee finds the catalog User an assignee names, or an INVALID error naming field
// that says why not (no such user; several, listed).
func (s *Service) resolveAssignee(ctx context.Context, field, name string) (string, error) {
	if err := text.Length(field, name, MaxRef); err != nil {
		return "", err
	}
	ref, found, err := s.matchUser(ctx, name)
	switch {
	case err != nil:
		return "", err
	case ref != "":
		return ref, nil
	case len(found) == 0:
		return "", errs.InvalidField(field, "no catalog User has the name, title or e-mail %q", clip(name))
	default:
		return "", errs.InvalidField(field, "%q matches %d catalog Users: %s; write one's name or e-mail", clip(name), len(found), describeCandidates(found))
	}
}

// TaskPatch changes some fields of a task; nil fields keep their value. Version is the version the
// change was made against: if the task changed since, the update is a CONFLICT.
type TaskPatch struct {
	Version  int
	Title    *string
	Priority *Priority
	// Assignee names a catalog User as the table does; "" unassigns.
	Assignee *string
	Status   *Status
	Comment  *string
	Due      *string
	Labels   []string
	// SetLabels and SetLinks say Labels and Links are given (nil slices cannot say so).
	SetLabels bool
	Links     []Link
	SetLinks  bool
}

// UpdateTask changes a task, for those who may change its project; every changed field is kept
// as history (who, when, old → new) in the same transaction; audited.
func (s *Service) UpdateTask(ctx context.Context, id int64, patch TaskPatch) (Task, error) {
	var out Task
	args := map[string]any{"id": id, "version": patch.Version}
	for k, v := range map[string]any{"title": patch.Title, "priority": patch.Priority, "assignee": patch.Assignee, "status": patch.Status,
		"comment": patch.Comment, "due": patch.Due} {
		if !isNilPtr(v) {
			args[k] = v
		}
	}
	if patch.SetLabels {
		args["labels"] = patch.Labels
	}
	if patch.SetLinks {
		args["links"] = len(patch.Links)
	}
	err := s.audited(ctx, audit.Entry{Action: string(policy.TaskUpdate), Resource: "task " + strconv.FormatInt(id, 10), Args: args},
		func(ctx context.Context) error {
			if err := checkVersion(patch.Version); err != nil {
				return err
			}
			t, proj, err := s.taskAction(ctx, policy.TaskUpdate, id)
			if err != nil {
				return err
			}
			if t.Version != patch.Version {
				return versionMismatch(id, t.Version, patch.Version)
			}
			next := t
			if patch.Title != nil {
				next.Title = strings.TrimSpace(*patch.Title)
			}
			if patch.Priority != nil {
				next.Priority = *patch.Priority
			}
			if patch.Status != nil {
				next.Status = *patch.Status
			}
			if patch.Comment != nil {
				next.Comment = strings.TrimSpace(*patch.Comment)
			}
			if patch.Due != nil {
				next.Due = *patch.Due
			}
			if patch.SetLabels {
				next.Labels = patch.Labels
				if next.Labels == nil {
					next.Labels = []string{}
				}
			}
			if patch.SetLinks {
				next.Links = patch.Links
			}
			if err := s.checkTask(ctx, &next, &t); err != nil {
				return err
			}
			if patch.Assignee != nil {
				next.Assignee = ""
				if *patch.Assignee != "" {
					if next.Assignee, err = s.resolveAssignee(ctx, "assignee", *patch.Assignee); err != nil {
						return err
					}
				}
			}
			out, err = s.save(ctx, proj, t, next)
			return err
		})
	return out, err
}

func isNilPtr(v any) bool {
	switch p := v.(type) {
	case *string:
		return p == nil
	case *Priority:
		return p == nil
	case *Status:
		return p == nil
	}
	return v == nil
}

// save records next over old (at old's version) with the changed fields as history, and
// publishes it; a task with nothing changed is left alone.
func (s *Service) save(ctx context.Context, proj Project, old, next Task) (Task, error) {
	now := s.now().UTC()
	actor := principal.From(ctx).Actor()
	changes := diff(old, next)
	if len(changes) == 0 {
		return old, nil
	}
	for i := range changes {
		changes[i].TaskID, changes[i].Actor, changes[i].At = old.ID, actor, now
	}
	next.UpdatedBy, next.UpdatedAt = actor, now
	linksChanged := !slices.Equal(old.Links, next.Links)
	err := s.recs.st.InTx(ctx, func(ctx context.Context) error {
		// The project's lock first, as every writer of its tasks takes it (CreateTask's note): a
		// rename to a title an import is inserting, of a task the import then updates, would
		// otherwise deadlock with the import on PostgreSQL (this holds the task's row and waits
		// for the import's title in the unique key, the import waits for the task's row).
		if err := s.recs.lockProject(ctx, proj.ID, proj.Name); err != nil {
			return err
		}
		if err := s.recs.saveTask(ctx, &next, old.Version, changes, linksChanged); err != nil {
			return err
		}
		s.publish(ctx, Event{Project: proj.Name, Task: next})
		return audit.Flush(ctx)
	})
	if err != nil {
		return Task{}, err
	}
	return next, nil
}

// diff lists the fields that differ between two versions of a task, old → new.
func diff(a, b Task) []Change {
	var out []Change
	add := func(field, old, new string) {
		if old != new {
			out = append(out, Change{Field: field, Old: old, New: new})
		}
	}
	add("title", a.Title, b.Title)
	add("priority", string(a.Priority), string(b.Priority))
	add("assignee", a.Assignee, b.Assignee)
	add("status", string(a.Status), string(b.Status))
	add("comment", a.Comment, b.Comment)
	add("due", a.Due, b.Due)
	add("labels", strings.Join(a.Labels, ", "), strings.Join(b.Labels, ", "))
	add("links", linksText(a.Links), linksText(b.Links))
	return out
}

func linksText(list []Link) string {
	parts := make([]string, len(list))
	for i, l := range list {
		parts[i] = strings.ToLower(string(l.Kind)) + " " + l.Target
	}
	return strings.Join(parts, ", ")
}

// taskAction loads a task and its project and checks the caller may take action on it.
func (s *Service) taskAction(ctx context.Context, action policy.Action, id int64) (Task, Project, error) {
	if err := policy.Gate(principal.From(ctx), action); err != nil {
		return Task{}, Project{}, err
	}
	t, err := s.recs.taskByID(ctx, id)
	if err != nil {
		return Task{}, Project{}, err
	}
	proj, err := s.recs.projectByID(ctx, t.ProjectID)
	if err != nil {
		return Task{}, Project{}, err
	}
	if err := s.authorize(ctx, action, proj); err != nil {
		return Task{}, Project{}, err
	}
	return t, proj, nil
}

// AddComment adds a dated comment to a task's thread, for those who may change its project; audited.
func (s *Service) AddComment(ctx context.Context, id int64, body string) (Comment, error) {
	var out Comment
	err := s.audited(ctx, audit.Entry{Action: string(policy.TaskComment), Resource: "task " + strconv.FormatInt(id, 10),
		Args: map[string]any{"id": id, "body": clip(body)}}, func(ctx context.Context) error {
		body = strings.TrimSpace(body)
		if body == "" {
			return errs.InvalidField("body", "is empty")
		}
		if err := text.Check("body", body, MaxCommentBody, false); err != nil {
			return err
		}
		t, proj, err := s.taskAction(ctx, policy.TaskComment, id)
		if err != nil {
			return err
		}
		c := Comment{TaskID: id, Author: principal.From(ctx).Actor(), Body: body, At: s.now().UTC()}
		err = s.recs.st.InTx(ctx, func(ctx context.Context) error {
			if err := s.recs.insertComment(ctx, &c); err != nil {
				return err
			}
			s.publish(ctx, Event{Project: proj.Name, Task: t})
			return audit.Flush(ctx)
		})
		if err != nil {
			return err
		}
		out = c
		return nil
	})
	return out, err
}

// checkVersion refuses a version no task has (they count from 0) as the input's mistake, as a
// runbook's baseVersion is: it was answered CONFLICT, as if the task had changed since.
func checkVersion(version int) error {
	if version < 0 {
		return errs.InvalidField("version", "must name the version the change was made against (0 or more), got %d", version)
	}
	return nil
}

// DeleteTask removes a task at the version the caller saw, for those who may change its project;
// audited (the audit record is what remains of it).
func (s *Service) DeleteTask(ctx context.Context, id int64, version int) error {
	return s.audited(ctx, audit.Entry{Action: string(policy.TaskDelete), Resource: "task " + strconv.FormatInt(id, 10),
		Args: map[string]any{"id": id, "version": version}}, func(ctx context.Context) error {
		if err := checkVersion(version); err != nil {
			return err
		}
		t, proj, err := s.taskAction(ctx, policy.TaskDelete, id)
		if err != nil {
			return err
		}
		if t.Version != version {
			return versionMismatch(id, t.Version, version)
		}
		return s.recs.st.InTx(ctx, func(ctx context.Context) error {
			// The project's lock first, as every writer of its tasks takes it (CreateTask's note).
			if err := s.recs.lockProject(ctx, proj.ID, proj.Name); err != nil {
				return err
			}
			if err := s.recs.deleteTask(ctx, id, version); err != nil {
				return err
			}
			s.publish(ctx, Event{Project: proj.Name, Task: t, Deleted: true})
			return audit.Flush(ctx)
		})
	})
}

// Task returns one task, for anyone signed in.
func (s *Service) Task(ctx context.Context, id int64) (Task, error) {
	if err := signedIn(ctx); err != nil {
		return Task{}, err
	}
	return s.recs.taskByID(ctx, id)
}

// Tasks returns a page of tasks in board order, for anyone signed in. Filter.Project is a
// project name; Filter.Assignee names a User as the table does; Filter.Component is a component
// ref as a client typed it.
func (s *Service) Tasks(ctx context.Context, f Filter, first int, after string) (*Page, error) {
	if err := signedIn(ctx); err != nil {
		return nil, err
	}
	if f.Project != "" {
		proj, err := s.recs.projectByName(ctx, f.Project)
		if err != nil {
			return nil, err
		}
		f.projectID = proj.ID
	}
	if f.Assignee != "" {
		ref, err := s.resolveAssignee(ctx, "filter.assignee", f.Assignee)
		if err != nil {
			return nil, err
		}
		f.Assignee = ref
	}
	if f.Component != "" {
		if err := text.Length("filter.component", f.Component, MaxRef); err != nil {
			return nil, err
		}
		ref, err := s.catalog.EntityRef(ctx, "filter.component", f.Component, "component")
		if err != nil {
			return nil, err
		}
		f.Component = ref
	}
	if len(f.Statuses) > len(Statuses) || len(f.Priorities) > len(Priorities) {
		return nil, errs.InvalidField("filter", "names more statuses or priorities than there are")
	}
	return s.recs.list(ctx, f, first, after)
}

// MaxThread bounds the comments or changes one call returns.
const MaxThread = 1000

// Comments returns the first comments of a task's thread, oldest first.
func (s *Service) Comments(ctx context.Context, id int64, first int) ([]Comment, error) {
	if err := signedIn(ctx); err != nil {
		return nil, err
	}
	if first < 1 || first > MaxThread {
		return nil, errs.InvalidField("first", "must be between 1 and %d, got %d", MaxThread, first)
	}
	return s.recs.comments(ctx, id, first)
}

// History returns the first changes of a task, oldest first.
func (s *Service) History(ctx context.Context, id int64, first int) ([]Change, error) {
	if err := signedIn(ctx); err != nil {
		return nil, err
	}
	if first < 1 || first > MaxThread {
		return nil, errs.InvalidField("first", "must be between 1 and %d, got %d", MaxThread, first)
	}
	return s.recs.changes(ctx, id, first)
}

// Event is a change of a task, for subscribers.
type Event struct {
	Project string
	Task    Task
	// Deleted says the task is gone; Task is what it was.
	Deleted bool
}

// Watch delivers every change of a project's tasks (or of every project's, for "") until ctx
// ends or the subscriber falls behind, for anyone signed in.
func (s *Service) Watch(ctx context.Context, project string) (*Subscription, error) {
	if err := signedIn(ctx); err != nil {
		return nil, err
	}
	if project != "" {
		if _, err := s.recs.projectByName(ctx, project); err != nil {
			return nil, err
		}
	}
	return s.hub.Subscribe(ctx, func(e Event) bool { return project == "" || e.Project == project }), nil
}

// Subscribers counts the open subscriptions (tests wait for a subscription to be registered).
func (s *Service) Subscribers() int {
	return s.hub.Len()
}

// Subscription receives task events until it is closed.
type Subscription = pubsub.Subscription[Event]

// String describes a cell error as the CLI prints it.
func (e CellError) String() string {
	where := fmt.Sprintf("row %d", e.Row)
	if e.Row == 0 {
		where = "header"
	}
	if e.Line > 0 {
		where += fmt.Sprintf(" (line %d)", e.Line)
	}
	if e.Column != "" {
		where += ", column " + e.Column
	}
	return where + ": " + e.Message
}

package rollouts

import (
	"context"
	"strconv"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/portside-dev/portside/errs"
)

// Source is one Argo CD instance as the tracker follows it; rollouts/argocd implements it.
type Source interface {
	// Name is the instance's configured name.
	Name() string
	// List returns every application the instance shows Portside.
	List(ctx context.Context) ([]Application, error)
	// Watch follows the instance's applications, calling fn for each change in order, until the
	// stream fails or ctx ends; it returns what ended it. The stream may begin by repeating the
	// current state of every application.
	Watch(ctx context.Context, fn func(Event)) error
	// Commit describes a revision of an application (author, message, date).
	Commit(ctx context.Context, app Key, revision string) (Commit, error)

	// Sync starts a sync operation and returns the application as the instance then shows it.
	// A sync window that forbids it is a CONFLICT naming the window; another operation in
	// progress is a CONFLICT too.
	Sync(ctx context.Context, app Key, req SyncRequest) (Application, error)
	// Rollback starts a sync to the revision of a history entry.
	Rollback(ctx context.Context, app Key, req RollbackRequest) (Application, error)
	// Terminate stops the running operation; ok is false when none was running.
	Terminate(ctx context.Context, app Key) (ok bool, err error)
	// Refresh makes the instance compare the application with git again (hard: also with its
	// manifest cache dropped) and returns it.
	Refresh(ctx context.Context, app Key, hard bool) (Application, error)
	// Canary reads the live state of an application's Argo Rollouts Rollout.
	Canary(ctx context.Context, app Key, res Resource) (*Canary, error)
	// RolloutAction runs an Argo Rollouts action (resume, promote-full, abort, retry) on it.
	RolloutAction(ctx context.Context, app Key, res Resource, action string) error
	// SyncWindows asks the instance which sync windows apply to the application now.
	SyncWindows(ctx context.Context, app Key) (SyncWindows, error)
}

// SyncRequest is a sync as a person asks for it.
type SyncRequest struct {
	// Revision to sync to; "" means the application's target revision.
	Revision string
	// Prune deletes resources git no longer has; DryRun only shows what would change.
	Prune, DryRun bool
	// RequestedBy is who asked, recorded with the operation (Argo CD itself sees Portside's
	// account).
	RequestedBy string
}

// RollbackRequest is a rollback as a person asks for it.
type RollbackRequest struct {
	// HistoryID is the Argo CD history entry to return to (IDs start at 0).
	HistoryID     int64
	Prune, DryRun bool
}

// Event is one change a watch reports.
type Event struct {
	// Deleted says the application is gone; otherwise App is its new state.
	Deleted bool
	App     Application
}

// newer reports whether resource version a is later than b. Kubernetes calls resource versions
// opaque, but Argo CD itself compares them as integers (they are etcd revisions); a version that
// is not a number is taken as newer whenever it differs.
func newer(a, b string) bool {
	if b == "" {
		return true
	}
	x, err1 := strconv.ParseUint(a, 10, 64)
	y, err2 := strconv.ParseUint(b, 10, 64)
	if err1 != nil || err2 != nil {
		return a != b
	}
	return x > y
}

// Matcher is a compiled selector: it tells whether an application belongs to a component.
type Matcher struct {
	sel    Selector
	labels labels.Selector
}

// Compile checks the selector's label expression (Kubernetes label-selector syntax, as
// argocd/app-selector takes it) and returns its matcher.
func (s Selector) Compile() (Matcher, error) {
	m := Matcher{sel: s}
	if s.Labels != "" {
		ls, err := labels.Parse(s.Labels)
		if err != nil {
			return Matcher{}, errs.InvalidField(AnnotationAppSelector, "is not a label selector: %v", err)
		}
		m.labels = ls
	}
	return m, nil
}

// Matches reports whether the application is one of the selector's.
func (m Matcher) Matches(app *Application) bool {
	if !m.sel.OnInstance(app.Instance) || (m.sel.AppNamespace != "" && m.sel.AppNamespace != app.AppNamespace) {
		return false
	}
	if m.labels != nil {
		return m.labels.Matches(labels.Set(app.Labels))
	}
	for _, n := range m.sel.Names {
		if n == app.Application {
			return true
		}
	}
	return false
}

// MatchesKey reports whether a rollout of the application key is one of the selector's when the
// application itself is no longer known: by name only (a label selector needs the labels).
func (m Matcher) MatchesKey(k Key) bool {
	if m.labels != nil || !m.sel.OnInstance(k.Instance) || (m.sel.AppNamespace != "" && m.sel.AppNamespace != k.Namespace) {
		return false
	}
	for _, n := range m.sel.Names {
		if n == k.Name {
			return true
		}
	}
	return false
}

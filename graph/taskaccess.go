package graph

import (
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/portside-dev/portside/tasks"
)

// Task.viewerCanEdit is asked of every task of a board (100 a page): answered task by task it read
// the task's project and the viewer's memberships each time. taskAccess answers it for one
// operation instead: the resolvers that produce tasks or projects name them to it, and the first
// viewerCanEdit asked decides every project named so far in one batch (one read of the projects
// not already in hand, and the memberships once: tasks.Service.CanEditProjects). The statements a
// board costs thus do not grow with its tasks.
type taskAccess struct {
	svc *tasks.Service

	mu      sync.Mutex
	known   map[string]tasks.Project // projects in hand, by name
	pending []string                 // named, not decided yet
	decided map[string]bool
}

type taskAccessKey struct{}

// taskAccessScope gives each query and mutation its taskAccess. A subscription gets none: its
// events come over minutes, and a viewer's rights may change between them; each event's task is
// answered on its own.
type taskAccessScope struct{ svc *tasks.Service }

var (
	_ graphql.HandlerExtension    = taskAccessScope{}
	_ graphql.ResponseInterceptor = taskAccessScope{}
)

func (taskAccessScope) ExtensionName() string                   { return "TaskAccess" }
func (taskAccessScope) Validate(graphql.ExecutableSchema) error { return nil }

func (s taskAccessScope) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if s.svc == nil || !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	if op := graphql.GetOperationContext(ctx).Operation; op == nil || op.Operation == ast.Subscription {
		return next(ctx)
	}
	return next(context.WithValue(ctx, taskAccessKey{}, &taskAccess{svc: s.svc, known: map[string]tasks.Project{}, decided: map[string]bool{}}))
}

// accessOf is the operation's taskAccess, or nil (a subscription, or an executor without the scope).
func accessOf(ctx context.Context) *taskAccess {
	a, _ := ctx.Value(taskAccessKey{}).(*taskAccess)
	return a
}

// name adds projects to the next batch by name (a page of tasks names its tasks' projects).
func (a *taskAccess) name(names ...string) {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, n := range names {
		a.addLocked(n)
	}
}

// hand adds projects already read to the next batch (they are not read again).
func (a *taskAccess) hand(projs ...tasks.Project) {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, p := range projs {
		if _, ok := a.known[p.Name]; !ok {
			a.known[p.Name] = p
		}
		a.addLocked(p.Name)
	}
}

func (a *taskAccess) addLocked(name string) {
	if _, done := a.decided[name]; done {
		return
	}
	for _, n := range a.pending {
		if n == name {
			return
		}
	}
	a.pending = append(a.pending, name)
}

// canEdit says whether the viewer may change the tasks of the project named, deciding every
// project named so far with it.
func (a *taskAccess) canEdit(ctx context.Context, name string) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if v, ok := a.decided[name]; ok {
		return v, nil
	}
	a.addLocked(name)
	var unread []string
	for _, n := range a.pending {
		if _, ok := a.known[n]; !ok {
			unread = append(unread, n)
		}
	}
	// Names come from pages of at most 500 tasks; a batch larger than a read may hold is split.
	for len(unread) > 0 {
		chunk := unread[:min(len(unread), tasks.MaxProjects)]
		unread = unread[len(chunk):]
		read, err := a.svc.ProjectsByName(ctx, chunk)
		if err != nil {
			return false, err
		}
		for _, p := range read {
			a.known[p.Name] = p
		}
	}
	projs := make([]tasks.Project, 0, len(a.pending))
	for _, n := range a.pending {
		if p, ok := a.known[n]; ok {
			projs = append(projs, p)
		}
	}
	can, err := a.svc.CanEditProjects(ctx, projs)
	if err != nil {
		return false, err
	}
	for _, n := range a.pending {
		a.decided[n] = can[n] // a project gone since its task was read: nobody may change it
	}
	a.pending = a.pending[:0]
	return a.decided[name], nil
}

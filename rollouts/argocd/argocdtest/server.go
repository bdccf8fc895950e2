// Package argocdtest is a scripted Argo CD API server for tests: it implements Argo CD's own
// generated gRPC interfaces (ApplicationService, VersionService) from the argo-cd module and serves
// them over real gRPC on loopback, so Portside's real client talks to it exactly as to Argo CD.
// Tests put applications into it, move them through their lifecycles, cut its watch streams and
// stop and restart it; it answers actions (sync, rollback, terminate, refresh) the way Argo CD's
// server does, errors included.
package argocdtest

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	argocommon "github.com/argoproj/argo-cd/v2/common"
	"github.com/argoproj/argo-cd/v2/pkg/apiclient"
	"github.com/argoproj/argo-cd/v2/pkg/apiclient/application"
	"github.com/argoproj/argo-cd/v2/pkg/apiclient/version"
	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	"github.com/argoproj/gitops-engine/pkg/sync/common"
	"github.com/golang/protobuf/ptypes/empty"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// Account is the Argo CD account the server's token belongs to: what Argo CD records as the
// initiator of operations started with it.
const Account = "portside"

// Call is one action the server was asked to perform.
type Call struct {
	Method    string // Sync, Rollback, TerminateOperation, Refresh
	App       string // namespace/name
	Revision  string // Sync: the revision asked for
	HistoryID int64  // Rollback
	Prune     bool
	DryRun    bool
	Infos     map[string]string // Sync: the operation's info items
	Refresh   string            // Refresh: "normal" or "hard"
	Action    string            // RunResourceAction: the action's name
	Resource  string            // RunResourceAction: group/kind/namespace/name
}

// Server is one scripted Argo CD instance.
type Server struct {
	Token string

	t    TB
	addr string

	mu       sync.Mutex
	g        *grpc.Server
	apps     map[string]*v1alpha1.Application
	rv       int
	watchers map[chan *v1alpha1.ApplicationWatchEvent]struct{}
	commits  map[string]v1alpha1.RevisionMetadata
	blocked  map[string]bool // applications a sync window keeps from syncing
	calls    []Call
	lists    []*application.ApplicationQuery
	live     map[string]string // live manifests (JSON) by namespace/app/kind/name
	onAction func(app, action string)
	watches  int       // watch streams opened so far
	now      time.Time // the server's clock: each operation starts a minute after the last
}

// TB is what the server needs of a test: testing.TB has it, and so can a benchmark driver that
// stands in a scripted Argo CD outside a test (bench/load).
type TB interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// Start serves a new instance on a free loopback port until the test ends.
func Start(t TB) *Server {
	t.Helper()
	s := &Server{Token: "argocd-test-token", t: t, apps: map[string]*v1alpha1.Application{},
		watchers: map[chan *v1alpha1.ApplicationWatchEvent]struct{}{}, commits: map[string]v1alpha1.RevisionMetadata{},
		blocked: map[string]bool{}, live: map[string]string{}, rv: 100,
		now: time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	s.serve(ln)
	t.Cleanup(s.Stop)
	return s
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.addr }

func (s *Server) serve(ln net.Listener) {
	// Argo CD's own keepalive policy: its client pings every 2x this minimum, which a server with
	// gRPC's default policy (5 minutes) answers with GOAWAY too_many_pings after a minute or so.
	g := grpc.NewServer(grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: argocommon.GetGRPCKeepAliveEnforcementMinimum()}))
	application.RegisterApplicationServiceServer(g, &appService{s: s})
	version.RegisterVersionServiceServer(g, &versionService{})
	s.mu.Lock()
	s.g = g
	s.mu.Unlock()
	go func() { _ = g.Serve(ln) }()
}

// Stop takes the instance down: connections and watches end, new ones are refused.
func (s *Server) Stop() {
	s.mu.Lock()
	g := s.g
	s.g = nil
	s.mu.Unlock()
	if g != nil {
		g.Stop()
	}
}

// Restart brings a stopped instance back on the same address, with the applications it had.
func (s *Server) Restart() {
	s.t.Helper()
	var ln net.Listener
	var err error
	// The port was just ours; the kernel may take a moment to let it go.
	for deadline := time.Now().Add(10 * time.Second); ; {
		if ln, err = net.Listen("tcp", s.addr); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("argocdtest: listen again on %s: %v", s.addr, err)
	}
	s.serve(ln)
}

// CutWatches ends every open watch stream with an error, as a proxy dropping the connection would.
func (s *Server) CutWatches() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for ch := range s.watchers {
		close(ch)
		delete(s.watchers, ch)
	}
}

// Watches is how many watch streams were opened so far.
func (s *Server) Watches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.watches
}

// Put creates or replaces an application; its watchers see it.
func (s *Server) Put(app v1alpha1.Application) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := app.DeepCopy()
	key := a.Namespace + "/" + a.Name
	typ := watch.Modified
	if s.apps[key] == nil {
		typ = watch.Added
	}
	s.storeLocked(key, a, typ)
}

// Update changes an application in place; its watchers see the new state.
func (s *Server) Update(namespace, name string, change func(*v1alpha1.Application)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := namespace + "/" + name
	a := s.apps[key]
	if a == nil {
		s.t.Fatalf("argocdtest: no application %s", key)
	}
	a = a.DeepCopy()
	change(a)
	s.storeLocked(key, a, watch.Modified)
}

// Delete removes an application; its watchers see it go.
func (s *Server) Delete(namespace, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := namespace + "/" + name
	a := s.apps[key]
	if a == nil {
		return
	}
	delete(s.apps, key)
	s.broadcastLocked(&v1alpha1.ApplicationWatchEvent{Type: watch.Deleted, Application: *a.DeepCopy()})
}

// App returns a copy of an application's current state.
func (s *Server) App(namespace, name string) v1alpha1.Application {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.apps[namespace+"/"+name]
	if a == nil {
		s.t.Fatalf("argocdtest: no application %s/%s", namespace, name)
	}
	return *a.DeepCopy()
}

// SetCommit says what RevisionMetadata answers for a revision.
func (s *Server) SetCommit(revision string, md v1alpha1.RevisionMetadata) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commits[revision] = md
}

// BlockSyncs makes a sync window forbid syncing an application (or allow it again). Every
// application has one deny window assigned ("0 22 * * *" for 8h); blocked, it is active.
func (s *Server) BlockSyncs(namespace, name string, blocked bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blocked[namespace+"/"+name] = blocked
}

// SetLive sets the live manifest (JSON) GetResource answers for one resource of an application.
func (s *Server) SetLive(namespace, app, kind, name, manifest string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.live[namespace+"/"+app+"/"+kind+"/"+name] = manifest
}

// OnAction makes RunResourceAction call fn (outside the server's lock) after recording the call,
// so a test can script what the action does.
func (s *Server) OnAction(fn func(app, action string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onAction = fn
}

// ListQueries returns the queries of the List calls so far.
func (s *Server) ListQueries() []*application.ApplicationQuery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.lists)
}

// Calls returns the actions asked of the server so far.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

func (s *Server) storeLocked(key string, a *v1alpha1.Application, typ watch.EventType) {
	s.rv++
	a.ResourceVersion = strconv.Itoa(s.rv)
	s.apps[key] = a
	s.broadcastLocked(&v1alpha1.ApplicationWatchEvent{Type: typ, Application: *a.DeepCopy()})
}

func (s *Server) broadcastLocked(ev *v1alpha1.ApplicationWatchEvent) {
	for ch := range s.watchers {
		select {
		case ch <- ev:
		default:
			// A watcher this far behind is dropped, as Argo CD's broadcaster drops slow subscribers.
			close(ch)
			delete(s.watchers, ch)
		}
	}
}

// startOperation sets a running sync operation on an application, as Argo CD's server does when
// asked to sync or roll back.
func (s *Server) startOperationLocked(key string, op v1alpha1.Operation) (*v1alpha1.Application, error) {
	a := s.apps[key]
	if a == nil {
		return nil, status.Errorf(codes.NotFound, "applications.argoproj.io %q not found", key)
	}
	if a.Status.OperationState != nil && a.Status.OperationState.Phase == common.OperationRunning {
		return nil, status.Errorf(codes.FailedPrecondition, "another operation is already in progress")
	}
	a = a.DeepCopy()
	op.InitiatedBy = v1alpha1.OperationInitiator{Username: Account}
	a.Operation = &op
	a.Status.OperationState = &v1alpha1.OperationState{Operation: op, Phase: common.OperationRunning,
		Message: "waiting for completion", StartedAt: metav1.NewTime(s.tickLocked())}
	s.storeLocked(key, a, watch.Modified)
	return a.DeepCopy(), nil
}

// tickLocked advances the server's clock by a minute and returns it: operation times are exact and
// never collide, whatever the test's pace.
func (s *Server) tickLocked() time.Time {
	s.now = s.now.Add(time.Minute)
	return s.now
}

// Tick advances the server's clock by a minute and returns it, for operations a test scripts.
func (s *Server) Tick() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tickLocked()
}

// appService is Argo CD's ApplicationService over the server's applications.
type appService struct {
	application.UnimplementedApplicationServiceServer
	s *Server
}

// authorized accepts the token where Argo CD's server looks for it: the client's "token"
// metadata or an Authorization header.
func (a *appService) authorized(ctx context.Context) error {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range append(md.Get(apiclient.MetaDataTokenKey), md.Get("authorization")...) {
		if v == a.s.Token || v == "Bearer "+a.s.Token {
			return nil
		}
	}
	return status.Error(codes.Unauthenticated, "invalid session: token is not valid")
}

func keyOf(namespace *string, name *string) string {
	ns := "argocd"
	if namespace != nil && *namespace != "" {
		ns = *namespace
	}
	n := ""
	if name != nil {
		n = *name
	}
	return ns + "/" + n
}

func (a *appService) List(ctx context.Context, q *application.ApplicationQuery) (*v1alpha1.ApplicationList, error) {
	if err := a.authorized(ctx); err != nil {
		return nil, err
	}
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	a.s.lists = append(a.s.lists, q)
	list := &v1alpha1.ApplicationList{ListMeta: metav1.ListMeta{ResourceVersion: strconv.Itoa(a.s.rv)}}
	for _, k := range sortedKeys(a.s.apps) {
		list.Items = append(list.Items, *a.s.apps[k].DeepCopy())
	}
	return list, nil
}

func sortedKeys(m map[string]*v1alpha1.Application) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Watch sends the current state of every application, then every change, as Argo CD does for a
// watch without a resource version.
func (a *appService) Watch(q *application.ApplicationQuery, stream application.ApplicationService_WatchServer) error {
	if err := a.authorized(stream.Context()); err != nil {
		return err
	}
	ch := make(chan *v1alpha1.ApplicationWatchEvent, 256)
	a.s.mu.Lock()
	a.s.watches++
	var initial []*v1alpha1.ApplicationWatchEvent
	for _, k := range sortedKeys(a.s.apps) {
		initial = append(initial, &v1alpha1.ApplicationWatchEvent{Type: watch.Added, Application: *a.s.apps[k].DeepCopy()})
	}
	a.s.watchers[ch] = struct{}{}
	a.s.mu.Unlock()
	defer func() {
		a.s.mu.Lock()
		if _, ok := a.s.watchers[ch]; ok {
			delete(a.s.watchers, ch)
		}
		a.s.mu.Unlock()
	}()
	for _, ev := range initial {
		if err := stream.Send(ev); err != nil {
			return err
		}
	}
	for {
		select {
		case <-stream.Context().Done():
			return stream.Context().Err()
		case ev, ok := <-ch:
			if !ok {
				return status.Error(codes.Unavailable, "watch stream cut")
			}
			if err := stream.Send(ev); err != nil {
				return err
			}
		}
	}
}

func (a *appService) Get(ctx context.Context, q *application.ApplicationQuery) (*v1alpha1.Application, error) {
	if err := a.authorized(ctx); err != nil {
		return nil, err
	}
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	key := keyOf(q.AppNamespace, q.Name)
	app := a.s.apps[key]
	if app == nil {
		return nil, status.Errorf(codes.NotFound, "applications.argoproj.io %q not found", q.GetName())
	}
	if q.Refresh != nil {
		a.s.calls = append(a.s.calls, Call{Method: "Refresh", App: key, Refresh: *q.Refresh})
	}
	return app.DeepCopy(), nil
}

func (a *appService) RevisionMetadata(ctx context.Context, q *application.RevisionMetadataQuery) (*v1alpha1.RevisionMetadata, error) {
	if err := a.authorized(ctx); err != nil {
		return nil, err
	}
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	md, ok := a.s.commits[q.GetRevision()]
	if !ok {
		// What Argo CD's repo server answers for a revision the repository does not have.
		return nil, status.Errorf(codes.Unknown, "rpc error: unable to resolve %q to a commit SHA", q.GetRevision())
	}
	return &md, nil
}

func (a *appService) Sync(ctx context.Context, req *application.ApplicationSyncRequest) (*v1alpha1.Application, error) {
	if err := a.authorized(ctx); err != nil {
		return nil, err
	}
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	key := keyOf(req.AppNamespace, req.Name)
	infos := map[string]string{}
	for _, i := range req.Infos {
		infos[i.Name] = i.Value
	}
	a.s.calls = append(a.s.calls, Call{Method: "Sync", App: key, Revision: req.GetRevision(), Prune: req.GetPrune(),
		DryRun: req.GetDryRun(), Infos: infos})
	if a.s.blocked[key] {
		return nil, status.Errorf(codes.PermissionDenied, "cannot sync: blocked by sync window")
	}
	app := a.s.apps[key]
	if app == nil {
		return nil, status.Errorf(codes.NotFound, "applications.argoproj.io %q not found", req.GetName())
	}
	rev := req.GetRevision()
	if rev == "" {
		rev = app.Spec.GetSource().TargetRevision
	}
	op := v1alpha1.Operation{Sync: &v1alpha1.SyncOperation{Revision: rev, Prune: req.GetPrune(), DryRun: req.GetDryRun()}}
	for _, i := range req.Infos {
		op.Info = append(op.Info, &v1alpha1.Info{Name: i.Name, Value: i.Value})
	}
	return a.s.startOperationLocked(key, op)
}

func (a *appService) Rollback(ctx context.Context, req *application.ApplicationRollbackRequest) (*v1alpha1.Application, error) {
	if err := a.authorized(ctx); err != nil {
		return nil, err
	}
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	key := keyOf(req.AppNamespace, req.Name)
	a.s.calls = append(a.s.calls, Call{Method: "Rollback", App: key, HistoryID: req.GetId(), Prune: req.GetPrune(), DryRun: req.GetDryRun()})
	app := a.s.apps[key]
	if app == nil {
		return nil, status.Errorf(codes.NotFound, "applications.argoproj.io %q not found", req.GetName())
	}
	if app.Spec.SyncPolicy != nil && app.Spec.SyncPolicy.Automated != nil && !req.GetDryRun() {
		return nil, status.Errorf(codes.FailedPrecondition, "rollback cannot be initiated when auto-sync is enabled")
	}
	var entry *v1alpha1.RevisionHistory
	for i := range app.Status.History {
		if app.Status.History[i].ID == req.GetId() {
			entry = &app.Status.History[i]
		}
	}
	if entry == nil {
		return nil, status.Errorf(codes.InvalidArgument, "application %s does not have deployment with id %v", app.QualifiedName(), req.GetId())
	}
	return a.s.startOperationLocked(key, v1alpha1.Operation{Sync: &v1alpha1.SyncOperation{Revision: entry.Revision,
		Prune: req.GetPrune(), DryRun: req.GetDryRun()}})
}

func (a *appService) TerminateOperation(ctx context.Context, req *application.OperationTerminateRequest) (*application.OperationTerminateResponse, error) {
	if err := a.authorized(ctx); err != nil {
		return nil, err
	}
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	key := keyOf(req.AppNamespace, req.Name)
	a.s.calls = append(a.s.calls, Call{Method: "TerminateOperation", App: key})
	app := a.s.apps[key]
	if app == nil {
		return nil, status.Errorf(codes.NotFound, "applications.argoproj.io %q not found", req.GetName())
	}
	if app.Status.OperationState == nil || app.Status.OperationState.Phase != common.OperationRunning {
		return nil, status.Errorf(codes.InvalidArgument, "Unable to terminate operation. No operation is in progress")
	}
	app = app.DeepCopy()
	app.Status.OperationState.Phase = common.OperationTerminating
	s := a.s
	s.storeLocked(key, app, watch.Modified)
	return &application.OperationTerminateResponse{}, nil
}

func (a *appService) GetResource(ctx context.Context, q *application.ApplicationResourceRequest) (*application.ApplicationResourceResponse, error) {
	if err := a.authorized(ctx); err != nil {
		return nil, err
	}
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	m, ok := a.s.live[keyOf(q.AppNamespace, q.Name)+"/"+q.GetKind()+"/"+q.GetResourceName()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "%s %s not found as part of application %s", q.GetKind(), q.GetResourceName(), q.GetName())
	}
	return &application.ApplicationResourceResponse{Manifest: &m}, nil
}

func (a *appService) RunResourceAction(ctx context.Context, q *application.ResourceActionRunRequest) (*application.ApplicationResponse, error) {
	if err := a.authorized(ctx); err != nil {
		return nil, err
	}
	a.s.mu.Lock()
	key := keyOf(q.AppNamespace, q.Name)
	a.s.calls = append(a.s.calls, Call{Method: "RunResourceAction", App: key, Action: q.GetAction(),
		Resource: q.GetGroup() + "/" + q.GetKind() + "/" + q.GetNamespace() + "/" + q.GetResourceName()})
	_, known := a.s.live[key+"/"+q.GetKind()+"/"+q.GetResourceName()]
	fn := a.s.onAction
	a.s.mu.Unlock()
	if !known {
		return nil, status.Errorf(codes.NotFound, "%s %s not found as part of application %s", q.GetKind(), q.GetResourceName(), q.GetName())
	}
	if fn != nil {
		fn(key, q.GetAction())
	}
	return &application.ApplicationResponse{}, nil
}

func (a *appService) GetApplicationSyncWindows(ctx context.Context, q *application.ApplicationSyncWindowsQuery) (*application.ApplicationSyncWindowsResponse, error) {
	if err := a.authorized(ctx); err != nil {
		return nil, err
	}
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	key := keyOf(q.AppNamespace, q.Name)
	if a.s.apps[key] == nil {
		return nil, status.Errorf(codes.NotFound, "applications.argoproj.io %q not found", q.GetName())
	}
	window := func() *application.ApplicationSyncWindow {
		kind, sched, dur, manual := "deny", "0 22 * * *", "8h", false
		return &application.ApplicationSyncWindow{Kind: &kind, Schedule: &sched, Duration: &dur, ManualSync: &manual}
	}
	blocked := a.s.blocked[key]
	canSync := !blocked
	r := &application.ApplicationSyncWindowsResponse{CanSync: &canSync, AssignedWindows: []*application.ApplicationSyncWindow{window()}}
	if blocked {
		r.ActiveWindows = []*application.ApplicationSyncWindow{window()}
	}
	return r, nil
}

type versionService struct {
	version.UnimplementedVersionServiceServer
}

func (versionService) Version(context.Context, *empty.Empty) (*version.VersionMessage, error) {
	return &version.VersionMessage{Version: "v2.14.21+argocdtest"}, nil
}

// App builds an application in namespace argocd of project "default", deployed in-cluster to a
// namespace of its name; change adjusts it.
func App(name string, change func(*v1alpha1.Application)) v1alpha1.Application {
	a := v1alpha1.Application{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "argocd"},
		Spec: v1alpha1.ApplicationSpec{Project: "default",
			Source:      &v1alpha1.ApplicationSource{RepoURL: "https://git.example.com/deploy.git", Path: name, TargetRevision: "HEAD"},
			Destination: v1alpha1.ApplicationDestination{Server: "https://kubernetes.default.svc", Namespace: name}}}
	a.Status.Sync.Status = v1alpha1.SyncStatusCodeSynced
	a.Status.Health.Status = "Healthy"
	if change != nil {
		change(&a)
	}
	return a
}

// Succeed ends an application's running operation successfully at revision rev with images
// running, adding it to the history as Argo CD's controller does.
func Succeed(a *v1alpha1.Application, rev string, images ...string) {
	op := a.Status.OperationState
	if op == nil {
		panic(fmt.Sprintf("argocdtest: %s has no operation to finish", a.Name))
	}
	now := metav1.NewTime(op.StartedAt.Add(30 * time.Second))
	op.Phase, op.Message, op.FinishedAt = common.OperationSucceeded, "successfully synced (all tasks run)", &now
	op.SyncResult = &v1alpha1.SyncOperationResult{Revision: rev}
	a.Operation = nil
	a.Status.Sync = v1alpha1.SyncStatus{Status: v1alpha1.SyncStatusCodeSynced, Revision: rev}
	a.Status.Summary.Images = images
	next := int64(0) // Argo CD numbers history entries from 0
	if n := len(a.Status.History); n > 0 {
		next = a.Status.History[n-1].ID + 1
	}
	started := op.StartedAt
	a.Status.History = append(a.Status.History, v1alpha1.RevisionHistory{ID: next, Revision: rev,
		DeployStartedAt: &started, DeployedAt: now, InitiatedBy: op.Operation.InitiatedBy})
}

// Fail ends an application's running operation with a failure.
func Fail(a *v1alpha1.Application, message string) {
	op := a.Status.OperationState
	if op == nil {
		panic(fmt.Sprintf("argocdtest: %s has no operation to fail", a.Name))
	}
	now := metav1.NewTime(op.StartedAt.Add(20 * time.Second))
	op.Phase, op.Message, op.FinishedAt = common.OperationFailed, message, &now
	a.Operation = nil
}

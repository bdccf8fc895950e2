package rollouts

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/portside-dev/portside/errs"
)

// TrackerOptions tune how the tracker follows its instances.
type TrackerOptions struct {
	// ResyncInterval is how often each instance is listed in full besides its watch, to catch what
	// a watch cannot report (Argo CD's watch drops changes made between its snapshot and its
	// subscription). Default 3 minutes.
	ResyncInterval time.Duration
	// MinBackoff and MaxBackoff bound the wait before reconnecting to an instance that failed; the
	// wait doubles with each failure in a row. Defaults 1 s and 1 minute.
	MinBackoff, MaxBackoff time.Duration
	// Buffer is how many changes a subscriber may fall behind before it is cut off. Default 1024.
	Buffer int
	// CanaryInterval is how often the Argo Rollouts Rollout of an application is read while its
	// canary is under way (a step changes the Rollout, not the application). Default 2 s.
	CanaryInterval time.Duration
	Logger         *slog.Logger
}

// Change is what subscribers receive: a deployment's new state, or a rollout recorded or updated.
type Change struct {
	Deployment *Deployment
	// Removed says the deployment's application is gone from its instance.
	Removed bool
	Rollout *Rollout
	// Labels are the application's labels, for matching label selectors.
	Labels map[string]string
}

// InstanceStatus says how Portside's link to an Argo CD instance is.
type InstanceStatus struct {
	Name      string
	Connected bool
	// LastSeenAt is when the instance last answered; zero if never.
	LastSeenAt time.Time
	// Error is why the instance cannot be reached, while it cannot.
	Error        string
	Applications int
}

// Tracker follows every configured Argo CD instance: it keeps the current state of their
// applications in memory, records each sync operation as a Rollout, and tells subscribers.
type Tracker struct {
	sources []Source
	recs    *records
	opts    TrackerOptions
	log     *slog.Logger

	mu        sync.RWMutex
	apps      map[Key]*tracked
	requests  map[Key]*request
	instances map[string]*instanceState
	seq       uint64
	subs      map[*Subscription]struct{}
	// versions change with every change published about an application (by instance and name:
	// see versionKey), and membership whenever an application arrives or leaves: together they
	// tell whether an answer about some applications may be served again (Stamp).
	versions   map[Key]uint64
	membership uint64
	version    uint64

	wg     sync.WaitGroup
	cancel context.CancelFunc
}

// tracked is one application as the tracker knows it.
type tracked struct {
	app Application
	// seq orders updates, so a full list does not delete what a watch added while it ran.
	seq uint64
	// recorded is what RolloutsOf gave when it was last written, so an update that changes no
	// rollout costs no database write.
	recorded []Rollout
	// canary is the live state of the application's Argo Rollouts Rollout, when it has one;
	// progress what the newest rollout record keeps of it (of rollout progressOf).
	canary     *Canary
	progress   *CanaryProgress
	progressOf int64
	// canaryStale asks for one more read of a resting canary (its application changed).
	canaryStale bool
}

type instanceState struct {
	// applying keeps an instance's changes one at a time (its watch and its lists both apply), so
	// the rollouts of an application are written in the order they happened.
	applying  sync.Mutex
	connected bool
	lastSeen  time.Time
	err       string
	commits   chan struct{}
	canaries  chan struct{}
}

// NewTracker returns a tracker over sources that records rollouts in the store.
func newTracker(recs *records, sources []Source, opts TrackerOptions) *Tracker {
	if opts.ResyncInterval <= 0 {
		opts.ResyncInterval = 3 * time.Minute
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = time.Second
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = max(time.Minute, opts.MinBackoff)
	}
	if opts.Buffer <= 0 {
		opts.Buffer = 1024
	}
	if opts.CanaryInterval <= 0 {
		opts.CanaryInterval = 2 * time.Second
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	t := &Tracker{sources: sources, recs: recs, opts: opts, log: opts.Logger,
		apps: map[Key]*tracked{}, requests: map[Key]*request{}, instances: map[string]*instanceState{}, subs: map[*Subscription]struct{}{},
		versions: map[Key]uint64{}}
	for _, s := range sources {
		t.instances[s.Name()] = &instanceState{err: "not connected yet", commits: make(chan struct{}, 1), canaries: make(chan struct{}, 1)}
	}
	return t
}

// Start follows every instance until Stop.
func (t *Tracker) Start(ctx context.Context) {
	ctx, t.cancel = context.WithCancel(ctx)
	for _, s := range t.sources {
		t.wg.Add(3)
		go func() { defer t.wg.Done(); t.follow(ctx, s) }()
		go func() { defer t.wg.Done(); t.fetchCommits(ctx, s) }()
		go func() { defer t.wg.Done(); t.followCanaries(ctx, s) }()
	}
}

// Stop ends following and waits for it; subscriptions are closed.
func (t *Tracker) Stop() {
	if t.cancel != nil {
		t.cancel()
	}
	t.wg.Wait()
	for _, src := range t.sources {
		if c, ok := src.(io.Closer); ok {
			_ = c.Close()
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for s := range t.subs {
		s.close(nil)
		delete(t.subs, s)
	}
}

// listTimeout bounds one full list of an instance.
const listTimeout = 2 * time.Minute

// stableSession is how long a connection must have lasted for its end to reset the backoff.
const stableSession = 10 * time.Second

// settleDelay is when a new connection lists its instance a second time.
const settleDelay = 5 * time.Second

// follow keeps one instance's state current: a watch plus a full list at start and every
// ResyncInterval, reconnecting with backoff after failures.
func (t *Tracker) follow(ctx context.Context, src Source) {
	backoff := t.opts.MinBackoff
	for ctx.Err() == nil {
		began := time.Now()
		connected, err := t.session(ctx, src)
		if ctx.Err() != nil {
			return
		}
		// A watch that ends (a proxy's idle timeout, a restarted server behind a load balancer)
		// is not an outage: the state stays fresh until a reconnection fails to list.
		if !connected {
			t.disconnected(src.Name(), err)
		}
		if connected && time.Since(began) > stableSession {
			backoff = t.opts.MinBackoff // a watch that keeps failing at once still backs off
		}
		// Full jitter keeps many Portside replicas from reconnecting in step.
		wait := backoff/2 + rand.N(backoff/2+1)
		t.log.WarnContext(ctx, "argo cd watch ended", "instance", src.Name(), "error", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		backoff = min(2*backoff, t.opts.MaxBackoff)
	}
}

// session runs one connection to an instance until it fails; connected says whether it got as
// far as a full list.
func (t *Tracker) session(ctx context.Context, src Source) (connected bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	name := src.Name()
	ended := make(chan error, 1)
	go func() {
		err := src.Watch(ctx, func(ev Event) {
			ev.App.Instance = name
			t.apply(ctx, ev)
		})
		if err == nil {
			err = errs.E(errs.Unavailable, "Argo CD %q ended the watch", name)
		}
		ended <- err
	}()
	resync := func() error {
		// A server that stopped answering must not hold the instance's state fresh forever.
		lctx, cancelList := context.WithTimeout(ctx, listTimeout)
		defer cancelList()
		apps, err := src.List(lctx)
		if err != nil {
			return err
		}
		t.reconcile(ctx, name, apps)
		return nil
	}
	if err := resync(); err != nil {
		cancel()
		<-ended
		return false, err
	}
	ticker := time.NewTicker(t.opts.ResyncInterval)
	defer ticker.Stop()
	// An application deleted after the list but before Argo CD registered the watch is in neither
	// the list's answer nor the watch's opening snapshot, and the watch never says it went; one
	// more list soon after connecting closes that window to seconds instead of a resync interval.
	settle := time.NewTimer(min(settleDelay, t.opts.ResyncInterval))
	defer settle.Stop()
	for {
		select {
		case err := <-ended:
			return true, err
		case <-settle.C:
			if err := resync(); err != nil {
				cancel()
				<-ended
				return true, err
			}
		case <-ticker.C:
			if err := resync(); err != nil {
				cancel()
				<-ended
				return true, err
			}
		}
	}
}

// apply takes one change of an application.
func (t *Tracker) apply(ctx context.Context, ev Event) {
	key := ev.App.Key()
	inst := t.instances[key.Instance] // the map never changes after newTracker
	inst.applying.Lock()
	defer inst.applying.Unlock()
	t.mu.Lock()
	t.seen(key.Instance)
	cur := t.apps[key]
	if ev.Deleted {
		if cur == nil {
			t.mu.Unlock()
			return
		}
		delete(t.apps, key)
		t.membership++
		d := cur.app.Deployment
		t.publishLocked(Change{Deployment: &d, Removed: true, Labels: cur.app.Labels})
		t.mu.Unlock()
		return
	}
	if cur != nil && !newer(ev.App.ResourceVersion, cur.app.ResourceVersion) {
		// A repeat (a watch's opening snapshot after a reconnect, a list) or an older state.
		cur.seq = t.nextSeq()
		t.mu.Unlock()
		return
	}
	t.attributeLocked(key, &ev.App)
	healthChanged := cur == nil || cur.app.Health != ev.App.Health
	if cur == nil {
		cur = &tracked{}
		t.apps[key] = cur
		t.membership++
	} else if !maps.Equal(cur.app.Labels, ev.App.Labels) {
		t.membership++ // it may join or leave a label selector: stamps that did not cover it too
	}
	cur.app, cur.seq = ev.App, t.nextSeq()
	if len(cur.app.Rollouts) > 0 {
		cur.canaryStale = true
		wake(inst.canaries)
	}
	d := t.deploymentLocked(cur)
	t.publishLocked(Change{Deployment: &d, Labels: cur.app.Labels})
	derived := RolloutsOf(&cur.app)
	health, since := cur.app.Health, cur.app.HealthSince
	unchanged := reflect.DeepEqual(derived, cur.recorded)
	t.mu.Unlock()
	if healthChanged {
		at := time.Now()
		if since != nil {
			at = *since
		}
		if err := t.recs.recordHealth(ctx, key, health, at); err != nil {
			t.log.ErrorContext(ctx, "recording health failed", "application", key.String(), "error", err)
		}
	}
	if unchanged {
		return
	}

	changed, err := t.recs.record(ctx, derived)
	t.mu.Lock()
	defer t.mu.Unlock()
	if err != nil {
		// Left unrecorded, the next change or resync of the application tries again.
		t.log.ErrorContext(ctx, "recording rollouts failed", "application", key.String(), "error", err)
		return
	}
	if now := t.apps[key]; now == cur {
		cur.recorded = derived
	}
	for i := range changed {
		t.publishLocked(Change{Rollout: &changed[i], Labels: cur.app.Labels})
	}
	if len(changed) > 0 {
		wake(inst.commits)
		if len(cur.app.Rollouts) > 0 {
			wake(inst.canaries) // a new sync: its canary begins
		}
	}
}

// wake signals a worker without waiting: one pending signal is enough.
func wake(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// reconcile takes a full list of an instance: every application in it is applied, and every one
// missing from it that no watch event touched since the list began is gone.
func (t *Tracker) reconcile(ctx context.Context, instance string, apps []Application) {
	t.mu.Lock()
	start := t.seq
	t.mu.Unlock()
	listed := make(map[Key]bool, len(apps))
	for i := range apps {
		apps[i].Instance = instance
		listed[apps[i].Key()] = true
		t.apply(ctx, Event{App: apps[i]})
	}
	t.mu.Lock()
	var gone []Key
	for k, a := range t.apps {
		if k.Instance == instance && !listed[k] && a.seq <= start {
			gone = append(gone, k)
		}
	}
	t.connectedLocked(instance)
	t.mu.Unlock()
	for _, k := range gone {
		t.apply(ctx, Event{Deleted: true, App: Application{Deployment: Deployment{Instance: k.Instance, AppNamespace: k.Namespace, Application: k.Name}}})
	}
}

// request is an operation a person asked Portside for, whose start Argo CD has not shown yet (or
// has: started). Argo CD records Portside's account as its initiator; this is how the rollout
// learns the person, whichever arrives first, the action's answer or the watch.
type request struct {
	by string
	// before is the start of the operation the application showed when the request was made
	// (zero if none): a later start is the requested one.
	before, started time.Time
}

// expectRequest notes that by is about to start an operation on an application.
func (t *Tracker) expectRequest(k Key, by string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	rq := &request{by: by}
	if a := t.apps[k]; a != nil && a.app.Operation != nil {
		rq.before = a.app.Operation.StartedAt
	}
	t.requests[k] = rq
}

// dropRequest forgets a request whose action failed.
func (t *Tracker) dropRequest(k Key) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.requests, k)
}

// attributeLocked names the requester on the operation a request started.
func (t *Tracker) attributeLocked(k Key, app *Application) {
	op, rq := app.Operation, t.requests[k]
	if op == nil || rq == nil || op.RequestedBy != "" || op.Automated {
		return
	}
	if rq.started.IsZero() && op.StartedAt.After(rq.before) {
		rq.started = op.StartedAt
	}
	if op.StartedAt.Equal(rq.started) {
		op.RequestedBy = rq.by
	}
}

func (t *Tracker) nextSeq() uint64 { t.seq++; return t.seq }

// seen notes that an instance answered.
func (t *Tracker) seen(instance string) {
	if st := t.instances[instance]; st != nil {
		st.lastSeen = time.Now().UTC()
	}
}

// connectedLocked marks an instance reachable; if it was not, its deployments stop being stale.
func (t *Tracker) connectedLocked(instance string) {
	st := t.instances[instance]
	st.lastSeen = time.Now().UTC()
	if st.connected {
		return
	}
	st.connected, st.err = true, ""
	t.publishInstanceLocked(instance)
}

// disconnected marks an instance unreachable: its deployments are served as last seen, stale.
func (t *Tracker) disconnected(instance string, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.instances[instance]
	msg := "unreachable"
	if err != nil {
		msg = err.Error()
	}
	was := st.connected
	st.connected, st.err = false, msg
	if was {
		t.publishInstanceLocked(instance)
	}
}

// publishInstanceLocked tells subscribers the new state of every deployment of an instance (its
// stale flag changed).
func (t *Tracker) publishInstanceLocked(instance string) {
	for _, a := range t.apps {
		if a.app.Instance == instance {
			d := t.deploymentLocked(a)
			t.publishLocked(Change{Deployment: &d, Labels: a.app.Labels})
		}
	}
}

// deploymentLocked is an application's deployment as served: stale while its instance is away.
func (t *Tracker) deploymentLocked(a *tracked) Deployment {
	d := a.app.Deployment
	d.Images = slices.Clone(d.Images)
	if a.canary != nil {
		c := *a.canary
		d.Canary = &c
	}
	st := t.instances[d.Instance]
	d.Stale = !st.connected
	if d.Stale {
		// While connected the instance is seen all the time; the time matters once it is not.
		d.LastSeenAt = st.lastSeen
	}
	return d
}

// Deployment returns one application's deployment as tracked.
func (t *Tracker) Deployment(k Key) (Deployment, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	a := t.apps[k]
	if a == nil {
		return Deployment{}, false
	}
	return t.deploymentLocked(a), true
}

// Deployments returns the deployments a matcher selects, sorted by instance and application.
func (t *Tracker) Deployments(m Matcher) []Deployment {
	t.mu.RLock()
	defer t.mu.RUnlock()
	var out []Deployment
	for _, a := range t.apps {
		if m.Matches(&a.app) {
			out = append(out, t.deploymentLocked(a))
		}
	}
	slices.SortFunc(out, func(a, b Deployment) int {
		return strings.Compare(a.Key().String(), b.Key().String())
	})
	return out
}

// Keys returns the applications whose rollouts belong to a matcher: the known applications it
// selects, and for application names, the names on every instance it looks at (their rollouts
// outlive them).
func (t *Tracker) Keys(m Matcher) []Key {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.keysLocked(m)
}

// Stamp is a version of what the tracker and the rollout records say about some applications:
// while Fresh holds, a component's deployments and rollouts read again would be the same. It is
// taken before reading them, so a change that lands meanwhile makes the stamp stale, never the
// answer wrong.
type Stamp struct {
	constant   bool // covers no application
	membership uint64
	keys       []Key
	versions   []uint64
}

// versionKey is how versions are kept: by instance and name, as a key with an empty namespace
// stands for the name in any namespace (two namespaces sharing a name share a version: that only
// retires answers early).
func versionKey(k Key) Key { return Key{Instance: k.Instance, Name: k.Name} }

// stamp versions the applications a matcher selects.
func (t *Tracker) stamp(m Matcher) Stamp {
	t.mu.RLock()
	defer t.mu.RUnlock()
	keys := t.keysLocked(m)
	s := Stamp{membership: t.membership, keys: keys, versions: make([]uint64, len(keys))}
	for i, k := range keys {
		s.versions[i] = t.versions[versionKey(k)]
	}
	return s
}

// fresh reports whether nothing the stamp covers has changed since it was taken.
func (t *Tracker) fresh(s Stamp) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if s.membership != t.membership {
		return false
	}
	for i, k := range s.keys {
		if t.versions[versionKey(k)] != s.versions[i] {
			return false
		}
	}
	return true
}

func (t *Tracker) keysLocked(m Matcher) []Key {
	keys := []Key{}
	for k, a := range t.apps {
		if m.Matches(&a.app) {
			keys = append(keys, k)
		}
	}
	if m.labels == nil {
		for name := range t.instances {
			if m.sel.OnInstance(name) {
				for _, n := range m.sel.Names {
					keys = append(keys, Key{Instance: name, Namespace: m.sel.AppNamespace, Name: n})
				}
			}
		}
	}
	return keys
}

// Instances reports the link to each instance, sorted by name.
func (t *Tracker) Instances() []InstanceStatus {
	t.mu.RLock()
	defer t.mu.RUnlock()
	counts := map[string]int{}
	for k := range t.apps {
		counts[k.Instance]++
	}
	out := make([]InstanceStatus, 0, len(t.instances))
	for name, st := range t.instances {
		out = append(out, InstanceStatus{Name: name, Connected: st.connected, LastSeenAt: st.lastSeen, Error: st.err, Applications: counts[name]})
	}
	slices.SortFunc(out, func(a, b InstanceStatus) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// fetchCommits asks an instance about the revisions of new rollouts (author, message, date for
// lead time), whenever rollouts were recorded and after reconnecting.
func (t *Tracker) fetchCommits(ctx context.Context, src Source) {
	t.mu.RLock()
	wake := t.instances[src.Name()].commits
	t.mu.RUnlock()
	for {
		for {
			pending, err := t.recs.pendingCommits(ctx, src.Name(), 50)
			if err != nil || len(pending) == 0 {
				break
			}
			progress := false
			for _, r := range pending {
				c, err := src.Commit(ctx, r.Key, r.Revision)
				if err != nil && (errs.Is(err, errs.Unavailable) || errors.Is(err, context.Canceled) || ctx.Err() != nil) {
					// The instance is away: try again when rollouts are next recorded.
					break
				}
				// Any other answer (a revision the repository no longer has) is final.
				updated, err := t.recs.setCommit(ctx, r.ID, c)
				if err != nil {
					break
				}
				progress = true
				t.mu.Lock()
				var labels map[string]string
				if a := t.apps[r.Key]; a != nil {
					labels = a.app.Labels
				}
				t.publishLocked(Change{Rollout: &updated, Labels: labels})
				t.mu.Unlock()
			}
			if !progress {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-wake:
		}
	}
}

// followCanaries reads the Argo Rollouts Rollouts of an instance's applications: at once when an
// application changes, and every CanaryInterval while a canary is under way, since its steps
// change the Rollout but not always the application. A canary at rest is not read again until its
// application changes.
func (t *Tracker) followCanaries(ctx context.Context, src Source) {
	name := src.Name()
	t.mu.RLock()
	wakeUp := t.instances[name].canaries
	t.mu.RUnlock()
	ticker := time.NewTicker(t.opts.CanaryInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wakeUp:
		case <-ticker.C:
		}
		for _, k := range t.canaryApps(name) {
			t.readCanary(ctx, src, k)
		}
	}
}

// rereadCanary asks for an application's Rollout to be read again now (an action changed it).
func (t *Tracker) rereadCanary(k Key) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if a := t.apps[k]; a != nil {
		a.canaryStale = true
		wake(t.instances[k.Instance].canaries)
	}
}

// canaryApps are the applications of an instance whose Rollout is worth reading now.
func (t *Tracker) canaryApps(instance string) []Key {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.instances[instance].connected {
		return nil
	}
	var out []Key
	for k, a := range t.apps {
		if k.Instance != instance || len(a.app.Rollouts) == 0 {
			continue
		}
		op := a.app.Operation
		resting := a.canary != nil && (a.canary.Done() || a.canary.Aborted) && a.app.Health == Healthy &&
			(op == nil || op.Phase != OperationRunning) && a.progressOf != 0
		if !resting || a.canaryStale {
			out = append(out, k)
		}
		a.canaryStale = false
	}
	return out
}

// readCanary reads one application's Rollout and, when it changed, tells subscribers and records
// the progress on the application's newest rollout.
func (t *Tracker) readCanary(ctx context.Context, src Source, k Key) {
	t.mu.RLock()
	a := t.apps[k]
	if a == nil {
		t.mu.RUnlock()
		return
	}
	res := a.app.Rollouts[0]
	t.mu.RUnlock()
	c, err := src.Canary(ctx, k, res)
	if err != nil {
		if ctx.Err() == nil {
			t.log.WarnContext(ctx, "reading a canary failed", "application", k.String(), "error", err)
		}
		return
	}
	t.mu.RLock()
	unchanged := reflect.DeepEqual(c, a.canary) && a.progressOf != 0
	t.mu.RUnlock()
	if unchanged {
		return // polled while nothing moved: no progress to record, no need to read the database
	}
	latest, ok, err := t.recs.latest(ctx, k)
	if err != nil {
		t.log.ErrorContext(ctx, "reading the newest rollout failed", "application", k.String(), "error", err)
		return
	}
	t.mu.Lock()
	if a = t.apps[k]; a == nil {
		t.mu.Unlock()
		return
	}
	if !reflect.DeepEqual(c, a.canary) {
		a.canary = c
		d := t.deploymentLocked(a)
		t.publishLocked(Change{Deployment: &d, Labels: a.app.Labels})
	}
	if !ok {
		t.mu.Unlock()
		return
	}
	if a.progressOf != latest.ID {
		a.progressOf, a.progress = latest.ID, latest.Canary
		if a.progress == nil {
			a.progress = &CanaryProgress{}
		}
	}
	if !a.progress.advance(c, time.Now().UTC()) {
		t.mu.Unlock()
		return
	}
	progress := *a.progress
	t.mu.Unlock()
	// Only this goroutine writes an instance's canary progress, so the write can go unlocked.
	updated, err := t.recs.setCanary(ctx, latest.ID, &progress)
	t.mu.Lock()
	defer t.mu.Unlock()
	if err != nil {
		t.log.ErrorContext(ctx, "recording canary progress failed", "application", k.String(), "error", err)
		if a := t.apps[k]; a != nil {
			a.progressOf = 0 // read it again next time
		}
		return
	}
	var labels map[string]string
	if a := t.apps[k]; a != nil {
		labels = a.app.Labels
	}
	t.publishLocked(Change{Rollout: &updated, Labels: labels})
}

// Subscription receives changes until it is closed.
type Subscription struct {
	t      *Tracker
	filter func(Change) bool
	ch     chan Change
	once   sync.Once
	err    error
}

// C delivers the changes; it is closed when the subscription ends.
func (s *Subscription) C() <-chan Change { return s.ch }

// Err says why the subscription ended: nil when its owner or the tracker closed it.
func (s *Subscription) Err() error { return s.err }

func (s *Subscription) close(err error) {
	s.once.Do(func() { s.err = err; close(s.ch) })
}

// Close ends the subscription.
func (s *Subscription) Close() {
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	delete(s.t.subs, s)
	s.close(nil)
}

// Subscribe delivers every change filter accepts until ctx ends or Close. A subscriber that falls
// Buffer changes behind is cut off (Err says so) rather than silently missing some.
func (t *Tracker) Subscribe(ctx context.Context, filter func(Change) bool) *Subscription {
	s := &Subscription{t: t, filter: filter, ch: make(chan Change, t.opts.Buffer)}
	t.mu.Lock()
	t.subs[s] = struct{}{}
	t.mu.Unlock()
	context.AfterFunc(ctx, s.Close)
	return s
}

// Subscribers is how many subscriptions are open.
func (t *Tracker) Subscribers() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.subs)
}

func (t *Tracker) publishLocked(c Change) {
	var k Key
	switch {
	case c.Deployment != nil:
		k = c.Deployment.Key()
	case c.Rollout != nil:
		k = c.Rollout.Key
	}
	t.version++
	t.versions[versionKey(k)] = t.version
	for s := range t.subs {
		if s.filter != nil && !s.filter(c) {
			continue
		}
		select {
		case s.ch <- c:
		default:
			delete(t.subs, s)
			s.close(errs.E(errs.Unavailable, "the subscriber fell %d changes behind and was cut off; subscribe again", t.opts.Buffer))
		}
	}
}

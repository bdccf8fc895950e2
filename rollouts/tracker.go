package rollouts

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/portside-dev/portside/internal/bus"
)

// TrackerOptions tune how the tracker follows its instances.
type TrackerOptions struct {
	// ResyncInterval is how often each instance is listed in full besides its watch, to catch what
	// a watch cannot report (Argo CD's watch drops changes made between its snapshot and its
	// subscription). Default 3 minutes.
	ResyncInterval time.Duration
	// MinBackoff and MaxBackoff bound the wait before reconnecting to an instance that failed; the
	// wait doubles with each failure in a row, drawn at random around that (±50%) and never
	// beyond MaxBackoff. Defaults 1 s and 1 minute.
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
//
// Per instance, three goroutines feed it: a follower (follower.go: list, watch, resync, reconnect)
// whose changes the tracker applies here (state, health, rollout records), a canaryPoller
// (canaries.go: the Argo Rollouts Rollouts) and a commitFetcher (commits.go: authors and messages
// of new rollouts). Its hub (hub.go) publishes every change to subscribers and versions them for
// stamps; attribution.go names the person behind an operation Portside started.
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
	hub       hub
	// topic carries the rollouts this replica records to the others (see send); nil without a bus.
	topic *bus.Topic[Change]

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
		apps: map[Key]*tracked{}, requests: map[Key]*request{}, instances: map[string]*instanceState{}, hub: newHub(opts.Buffer)}
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
		go func() { defer t.wg.Done(); follower{t, s}.run(ctx) }()
		go func() { defer t.wg.Done(); commitFetcher{t, s}.run(ctx) }()
		go func() { defer t.wg.Done(); canaryPoller{t, s}.run(ctx) }()
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
	t.hub.closeAll()
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
		t.hub.membership++
		d := cur.app.Deployment
		t.hub.publish(Change{Deployment: &d, Removed: true, Labels: cur.app.Labels})
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
		t.hub.membership++
	} else if !maps.Equal(cur.app.Labels, ev.App.Labels) {
		t.hub.membership++ // it may join or leave a label selector: stamps that did not cover it too
	}
	cur.app, cur.seq = ev.App, t.nextSeq()
	if len(cur.app.Rollouts) > 0 {
		cur.canaryStale = true
		wake(inst.canaries)
	}
	d := t.deploymentLocked(cur)
	t.hub.publish(Change{Deployment: &d, Labels: cur.app.Labels})
	derived := RolloutsOf(&cur.app)
	health, since, labels := cur.app.Health, cur.app.HealthSince, cur.app.Labels
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

	var changed []Rollout
	err := t.recs.st.InTx(ctx, func(ctx context.Context) error {
		var err error
		changed, err = t.recs.record(ctx, derived)
		t.send(ctx, labels, changed...)
		return err
	})
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
		t.hub.publish(Change{Rollout: &changed[i], Labels: cur.app.Labels})
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
	// The canary poller reads nothing while the instance is away, and the applications the list
	// just applied woke it before this: wake it again, so their canaries are read now rather
	// than at the next poll (after a restart, a page would wait that long for where they are).
	wake(st.canaries)
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
			t.hub.publish(Change{Deployment: &d, Labels: a.app.Labels})
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

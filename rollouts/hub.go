package rollouts

import (
	"context"
	"sync"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/bus"
	"github.com/portside-dev/portside/internal/pubsub"
)

// hub is the tracker's publishing side: it hands every change to the subscriptions that want it,
// and versions what it published, per application, for stamps. Its fields are guarded by the
// Tracker's mu: a change is published in the critical section that makes it, so a stamp taken
// under that lock never misses one.
type hub struct {
	// buffer is how many changes a subscriber may fall behind before it is cut off.
	buffer int
	subs   map[*Subscription]struct{}
	// versions change with every change published about an application (by instance and name:
	// see versionKey), and membership whenever an application arrives or leaves: together they
	// tell whether an answer about some applications may be served again (Stamp).
	versions   map[Key]uint64
	membership uint64
	version    uint64
}

func newHub(buffer int) hub {
	return hub{buffer: buffer, subs: map[*Subscription]struct{}{}, versions: map[Key]uint64{}}
}

// publish versions a change this replica made and hands it to its subscribers; the caller holds
// Tracker.mu. A rollout has been sent to the other replicas already, with the transaction that
// recorded it (Tracker.send).
func (h *hub) publish(c Change) {
	h.deliver(c, false)
}

// deliver versions a change and hands it to its subscribers (remote: another replica made it, so
// not to those that want only this replica's own); the caller holds Tracker.mu.
func (h *hub) deliver(c Change, remote bool) {
	var k Key
	switch {
	case c.Deployment != nil:
		k = c.Deployment.Key()
	case c.Rollout != nil:
		k = c.Rollout.Key
	}
	h.version++
	h.versions[versionKey(k)] = h.version
	for s := range h.subs {
		if (remote && s.own) || (s.filter != nil && !s.filter(c)) {
			continue
		}
		select {
		case s.ch <- c:
		default:
			delete(h.subs, s)
			s.close(errs.E(errs.Unavailable, "the subscriber fell %d changes behind and was cut off; subscribe again", h.buffer))
		}
	}
}

// closeAll ends every subscription (the tracker stopped); the caller holds Tracker.mu.
func (h *hub) closeAll() {
	for s := range h.subs {
		s.close(nil)
		delete(h.subs, s)
	}
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
	s := Stamp{membership: t.hub.membership, keys: keys, versions: make([]uint64, len(keys))}
	for i, k := range keys {
		s.versions[i] = t.hub.versions[versionKey(k)]
	}
	return s
}

// fresh reports whether nothing the stamp covers has changed since it was taken.
func (t *Tracker) fresh(s Stamp) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if s.membership != t.hub.membership {
		return false
	}
	for i, k := range s.keys {
		if t.hub.versions[versionKey(k)] != s.versions[i] {
			return false
		}
	}
	return true
}

// Subscription receives changes until it is closed.
type Subscription struct {
	t      *Tracker
	filter func(Change) bool
	own    bool // only this replica's own changes (pubsub.Own)
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
	delete(s.t.hub.subs, s)
	s.close(nil)
}

// Subscribe delivers every change filter accepts until ctx ends or Close (with a ctx marked by
// pubsub.Own, only the rollouts this replica recorded, not those other replicas did). A subscriber
// that falls Buffer changes behind is cut off (Err says so) rather than silently missing some.
func (t *Tracker) Subscribe(ctx context.Context, filter func(Change) bool) *Subscription {
	s := &Subscription{t: t, filter: filter, ch: make(chan Change, t.hub.buffer), own: pubsub.IsOwn(ctx)}
	t.mu.Lock()
	t.hub.subs[s] = struct{}{}
	t.mu.Unlock()
	context.AfterFunc(ctx, s.Close)
	return s
}

// Subscribers is how many subscriptions are open.
func (t *Tracker) Subscribers() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.hub.subs)
}

// rolloutsTopic carries the rollouts one replica records to the others.
const rolloutsTopic = "rollouts"

// useBus sends the rollouts this tracker records to the other replicas and delivers theirs here:
// every replica follows Argo CD, but only the one whose write changed a rollout's row publishes it
// (records.record), so each rollout change is published once, wherever it was recorded. Each
// replica follows Argo CD itself, so deployments' states are not sent.
func (t *Tracker) useBus(b bus.Bus) {
	t.topic = bus.NewTopic(b, rolloutsTopic, bus.TopicOptions[Change]{
		Deliver: t.deliverRemote,
		Shrink: func(c Change) Change {
			return Change{Rollout: &Rollout{ID: c.Rollout.ID, Key: c.Rollout.Key}, Labels: c.Labels}
		},
		Reload: func(ctx context.Context, c Change) (Change, error) {
			r, err := t.recs.byID(ctx, c.Rollout.ID)
			return Change{Rollout: &r, Labels: c.Labels}, err
		},
		Logger: t.log,
	})
	// A message lost while the bus was away may have been a rollout of any application: every
	// stamp is retired.
	b.HandleGap(func() {
		t.mu.Lock()
		t.hub.membership++
		t.mu.Unlock()
	})
}

// send tells the other replicas of rollouts this replica recorded with the transaction that
// records them (ctx's): they hear of a change if, and only if, it committed, even when this
// process dies right after. This replica's subscribers hear of it once it committed (hub.publish).
func (t *Tracker) send(ctx context.Context, labels map[string]string, rs ...Rollout) {
	if t.topic == nil {
		return // no bus
	}
	for i := range rs {
		t.topic.Publish(ctx, Change{Rollout: &rs[i], Labels: labels})
	}
}

// deliverRemote hands a rollout another replica recorded to this replica's subscribers, and
// retires this replica's stamps of its application.
func (t *Tracker) deliverRemote(c Change) {
	if c.Rollout == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if a := t.apps[c.Rollout.Key]; a != nil {
		c.Labels = a.app.Labels // as this replica knows them, as its own changes carry
	}
	t.hub.deliver(c, true)
}

package leader_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/leader"
)

// wait bounds every wait in these tests; the elector's own pace is a second per attempt.
const wait = 20 * time.Second

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// fakeLock is a Lock a test hands out and takes back.
type fakeLock struct {
	mu       sync.Mutex
	free     bool  // TryAcquire succeeds
	lost     bool  // the current Held's Check fails
	err      error // TryAcquire fails with it
	held     bool
	attempts int
	releases int
	closed   bool
}

func (l *fakeLock) TryAcquire(context.Context) (leader.Held, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.attempts++
	if l.err != nil {
		return nil, l.err
	}
	if !l.free || l.held {
		return nil, nil
	}
	l.held, l.lost = true, false
	return fakeHeld{l}, nil
}

func (l *fakeLock) Close() { l.mu.Lock(); l.closed = true; l.mu.Unlock() }

func (l *fakeLock) set(f func(l *fakeLock)) { l.mu.Lock(); f(l); l.mu.Unlock() }

func (l *fakeLock) get(f func(l *fakeLock) bool) bool { l.mu.Lock(); defer l.mu.Unlock(); return f(l) }

type fakeHeld struct{ l *fakeLock }

func (h fakeHeld) Check(context.Context) error {
	h.l.mu.Lock()
	defer h.l.mu.Unlock()
	if h.l.lost {
		return errors.New("connection broken")
	}
	return nil
}

func (h fakeHeld) Release() { h.l.mu.Lock(); h.l.held = false; h.l.releases++; h.l.mu.Unlock() }

// loopProbe is a registered loop that tells how many times it runs and whether it runs now.
type loopProbe struct {
	mu      sync.Mutex
	running int
	starts  int
}

func (p *loopProbe) run(ctx context.Context) {
	p.mu.Lock()
	p.running++
	p.starts++
	p.mu.Unlock()
	<-ctx.Done()
	p.mu.Lock()
	p.running--
	p.mu.Unlock()
}

func (p *loopProbe) state() (running, starts int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.running, p.starts
}

// gauge records OnChange as the portside_leader gauge would show it.
type gauge struct {
	mu      sync.Mutex
	v       bool
	changes []bool
}

func (g *gauge) set(v bool)  { g.mu.Lock(); g.v = v; g.changes = append(g.changes, v); g.mu.Unlock() }
func (g *gauge) value() bool { g.mu.Lock(); defer g.mu.Unlock(); return g.v }

func startElector(t *testing.T, lock leader.Lock, g *gauge, loops ...*loopProbe) (*leader.Elector, context.CancelFunc, chan struct{}) {
	t.Helper()
	opts := leader.Options{Retry: 10 * time.Millisecond, Check: 10 * time.Millisecond, Logger: quiet}
	if g != nil {
		opts.OnChange = g.set
	}
	e := leader.New(lock, opts)
	for i, p := range loops {
		e.Register("probe-"+string(rune('a'+i)), p.run)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return e, cancel, done
}

func TestTheLoopsRunOnlyWhileTheLockIsHeld(t *testing.T) {
	lock := &fakeLock{}
	a, b := &loopProbe{}, &loopProbe{}
	g := &gauge{}
	e, _, _ := startElector(t, lock, g, a, b)
	if got := e.Loops(); len(got) != 2 || got[0] != "probe-a" || got[1] != "probe-b" {
		t.Errorf("Loops() = %v, want [probe-a probe-b]", got)
	}

	// Someone else holds it: the elector keeps trying and runs nothing.
	testutil.Eventually(t, wait, func() bool { return lock.get(func(l *fakeLock) bool { return l.attempts >= 3 }) },
		"the elector trying again while the lock is held elsewhere")
	if e.Leading() || g.value() {
		t.Fatal("the elector leads while the lock is held elsewhere")
	}
	if _, starts := a.state(); starts != 0 {
		t.Fatalf("a loop ran %d times without the lock", starts)
	}

	// The lock comes free: it is taken and every loop runs, once.
	lock.set(func(l *fakeLock) { l.free = true })
	testutil.Eventually(t, wait, func() bool {
		ra, _ := a.state()
		rb, _ := b.state()
		return ra == 1 && rb == 1
	}, "both loops running once the lock is free")
	if !e.Leading() || !g.value() || e.Terms() != 1 {
		t.Errorf("leading %v, gauge %v, terms %d; want true, true, 1", e.Leading(), g.value(), e.Terms())
	}

	// The connection breaks: the loops' context ends, the gauge drops, and the elector takes the
	// lock again when it can (a second term, the loops started once more).
	lock.set(func(l *fakeLock) { l.lost, l.free = true, false })
	testutil.Eventually(t, wait, func() bool {
		ra, _ := a.state()
		rb, _ := b.state()
		return ra == 0 && rb == 0 && !e.Leading() && !g.value()
	}, "the loops stopped after the lock was lost")
	if _, starts := a.state(); starts != 1 {
		t.Errorf("loop a started %d times, want 1", starts)
	}
	lock.set(func(l *fakeLock) { l.free = true })
	testutil.Eventually(t, wait, func() bool { ra, _ := a.state(); return ra == 1 && e.Terms() == 2 },
		func() string { return "the elector did not lead again after the lock came free" })
}

func TestStoppingTheElectorStopsTheLoopsBeforeReleasing(t *testing.T) {
	lock := &fakeLock{free: true}
	var mu sync.Mutex
	releasedWhileRunning := false
	p := &loopProbe{}
	stopped := make(chan struct{})
	e := leader.New(lock, leader.Options{Retry: 10 * time.Millisecond, Check: 10 * time.Millisecond, Logger: quiet})
	e.Register("slow", func(ctx context.Context) {
		p.run(ctx)
		// The lock must still be held while a loop winds down.
		mu.Lock()
		releasedWhileRunning = lock.get(func(l *fakeLock) bool { return !l.held })
		mu.Unlock()
		close(stopped)
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.Run(ctx) }()
	testutil.Eventually(t, wait, func() bool { r, _ := p.state(); return r == 1 }, "the loop running")
	cancel()
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatal("Run did not return after its context ended")
	}
	select {
	case <-stopped:
	default:
		t.Fatal("Run returned before its loop stopped")
	}
	mu.Lock()
	defer mu.Unlock()
	if releasedWhileRunning {
		t.Error("leadership was released while a loop was still running")
	}
	if !lock.get(func(l *fakeLock) bool { return l.releases == 1 && l.closed }) {
		t.Error("leadership was not released, or the lock not closed, when Run returned")
	}
	if e.Leading() {
		t.Error("Leading() after Run returned")
	}
}

func TestAnElectorThatCannotReachTheLockKeepsTrying(t *testing.T) {
	lock := &fakeLock{err: errors.New("database away")}
	p := &loopProbe{}
	e, _, _ := startElector(t, lock, nil, p)
	testutil.Eventually(t, wait, func() bool { return lock.get(func(l *fakeLock) bool { return l.attempts >= 3 }) },
		"the elector trying again after failed attempts")
	lock.set(func(l *fakeLock) { l.err, l.free = nil, true })
	testutil.Eventually(t, wait, func() bool { r, _ := p.state(); return r == 1 && e.Leading() },
		"leading once the lock could be reached again")
}

func TestAlwaysLeads(t *testing.T) {
	p := &loopProbe{}
	e, _, _ := startElector(t, leader.Always{}, nil, p)
	testutil.Eventually(t, wait, func() bool { r, _ := p.state(); return r == 1 && e.Leading() }, "SQLite's process leading")
}

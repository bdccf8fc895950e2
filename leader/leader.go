// Package leader runs Portside's singleton background work on one process at a time. Several
// `portside serve` replicas may share one PostgreSQL database; the background loops that act on
// shared data on a timer (location refreshes, pipeline polling, deploy-request expiry, link checks)
// should run once, not once per replica. An Elector takes leadership through a Lock (a PostgreSQL
// session advisory lock, see Postgres; SQLite's single process always leads, see Always), runs the
// registered loops while it holds it, and stops them at once when it loses it. The other replicas
// keep trying, so one of them takes over within about a second of the leader's session ending.
package leader

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Lock is how an Elector takes leadership.
type Lock interface {
	// TryAcquire tries once, without waiting for the holder. It returns a nil Held (and no
	// error) while another process holds leadership.
	TryAcquire(ctx context.Context) (Held, error)
	// Close releases what the Lock keeps between attempts (a connection).
	Close()
}

// Held is leadership once taken.
type Held interface {
	// Check tells whether leadership still holds; an error means it was lost (the connection
	// that held it broke, or cannot be reached within ctx).
	Check(ctx context.Context) error
	// Release gives leadership up, so another process may take it at once.
	Release()
}

// Options tune an Elector. The zero value is the default.
type Options struct {
	// Retry is how often a process that does not lead tries again. Default 1 s.
	Retry time.Duration
	// Check is how often the leader makes sure it still leads. Default 1 s.
	Check time.Duration
	// Timeout bounds one attempt or one check. Default 5 s: a check that cannot be answered
	// within it counts as leadership lost.
	Timeout time.Duration
	// OnChange is told whenever this process starts or stops leading (the portside_leader
	// gauge). It is called from the Elector's goroutine.
	OnChange func(leading bool)
	// Logger receives the transitions; nil is slog.Default().
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Retry <= 0 {
		o.Retry = time.Second
	}
	if o.Check <= 0 {
		o.Check = time.Second
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Loop is a piece of singleton background work: Run works until its ctx ends and then returns
// (promptly: the next leader may start while it winds down otherwise).
type Loop struct {
	Name string
	Run  func(ctx context.Context)
}

// Elector runs its loops while this process leads.
type Elector struct {
	lock    Lock
	opts    Options
	mu      sync.Mutex
	loops   []Loop
	running bool
	leading atomic.Bool
	terms   atomic.Int64
}

// New returns an Elector over lock. Register its loops, then Run it.
func New(lock Lock, opts Options) *Elector {
	return &Elector{lock: lock, opts: opts.withDefaults()}
}

// Register adds a loop to run while this process leads. It must be called before Run.
func (e *Elector) Register(name string, run func(ctx context.Context)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.running {
		panic("leader: Register after Run")
	}
	e.loops = append(e.loops, Loop{Name: name, Run: run})
}

// Loops names the registered loops, in order (for logs and tests).
func (e *Elector) Loops() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	names := make([]string, len(e.loops))
	for i, l := range e.loops {
		names[i] = l.Name
	}
	return names
}

// Leading tells whether this process leads now.
func (e *Elector) Leading() bool { return e.leading.Load() }

// Terms counts the times this process took leadership (tests wait on it).
func (e *Elector) Terms() int64 { return e.terms.Load() }

// Run tries to lead until ctx ends, running the loops while it does. It returns once the loops
// have stopped and leadership is released (and the Lock closed).
func (e *Elector) Run(ctx context.Context) {
	e.mu.Lock()
	e.running = true
	loops := append([]Loop(nil), e.loops...)
	e.mu.Unlock()
	defer e.lock.Close()
	log := e.opts.Logger
	lastErr := ""
	for ctx.Err() == nil {
		actx, cancel := context.WithTimeout(ctx, e.opts.Timeout)
		held, err := e.lock.TryAcquire(actx)
		cancel()
		switch {
		case err != nil && ctx.Err() == nil:
			// Said once per kind of failure, not every second while the database is away.
			if err.Error() != lastErr {
				log.WarnContext(ctx, "leader: cannot try for leadership; trying again", "error", err)
				lastErr = err.Error()
			}
		case held != nil:
			lastErr = ""
			e.lead(ctx, held, loops)
			continue // try again at once: a lost connection may be back
		default:
			lastErr = ""
		}
		select {
		case <-ctx.Done():
		case <-time.After(e.opts.Retry):
		}
	}
}

// lead runs the loops until leadership is lost or ctx ends; the loops have stopped, and leadership
// is released, when it returns.
func (e *Elector) lead(ctx context.Context, held Held, loops []Loop) {
	log := e.opts.Logger
	term := e.terms.Add(1)
	e.setLeading(true)
	log.InfoContext(ctx, "leader: this process leads; background work starts", "term", term, "loops", len(loops))
	lctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, l := range loops {
		wg.Go(func() { l.Run(lctx) })
	}
	t := time.NewTicker(e.opts.Check)
	lost := false
	for !lost && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-t.C:
			cctx, cancel := context.WithTimeout(ctx, e.opts.Timeout)
			err := held.Check(cctx)
			cancel()
			if err != nil && ctx.Err() == nil {
				// Another process may lead already: stop at once, before anything else.
				stop()
				e.setLeading(false)
				log.WarnContext(ctx, "leader: leadership lost; background work stops", "term", term, "error", err)
				lost = true
			}
		}
	}
	t.Stop()
	stop()
	wg.Wait()
	// Released only once the loops have stopped, so the next leader never overlaps this one's
	// shutdown (a lost lock has nothing left to release).
	held.Release()
	if !lost {
		e.setLeading(false)
		log.InfoContext(context.WithoutCancel(ctx), "leader: leadership released; background work stopped", "term", term)
	}
}

func (e *Elector) setLeading(v bool) {
	if e.leading.Swap(v) == v {
		return
	}
	if e.opts.OnChange != nil {
		e.opts.OnChange(v)
	}
}

// Always is the Lock of a process that is alone by construction (SQLite: the file is locked to one
// `portside serve`, see LockFile): it always leads.
type Always struct{}

// TryAcquire always succeeds.
func (Always) TryAcquire(context.Context) (Held, error) { return always{}, nil }

// Close does nothing.
func (Always) Close() {}

type always struct{}

func (always) Check(context.Context) error { return nil }
func (always) Release()                    {}

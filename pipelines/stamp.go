package pipelines

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Stamp versions everything known about runs at one moment, for callers that keep what they
// read of runs (the GraphQL response cache keeps component pages with their pipelines' runs): an
// answer read after a stamp was taken may be given again while Fresh says the stamp still holds.
// It covers every run, not one component's: a change anywhere retires every kept answer, which
// costs misses while runs move and never serves a stale one.
type Stamp struct {
	generation int64 // the database's counter, as last read
	local      int64 // this process's changes
}

// StampCheckInterval is how often a stamp's freshness compares the database's change counter:
// another process's change (the CLI's trigger, another replica's webhook) retires kept answers
// within it; this process's own changes retire them at once.
const StampCheckInterval = time.Second

// generations follows the runs' change counter in the database, reading it at most once per
// interval, and counts this process's own changes.
type generations struct {
	interval time.Duration
	load     func(context.Context) (int64, error)
	local    atomic.Int64

	mu        sync.Mutex
	known     int64
	checkedAt time.Time // zero until the first read: the first call reads
}

// current returns the counter as known now, reading the database when the last read is older
// than the interval. A failed read keeps what was known: the next call tries again.
func (g *generations) current(ctx context.Context) int64 {
	g.mu.Lock()
	due := time.Since(g.checkedAt) >= g.interval
	if due {
		g.checkedAt = time.Now() // claim the read, so concurrent callers do not all query
	}
	known := g.known
	g.mu.Unlock()
	if !due {
		return known
	}
	gen, err := g.load(ctx)
	g.mu.Lock()
	defer g.mu.Unlock()
	if err == nil && gen > g.known { // the counter only grows; a slow read never takes it back
		g.known = gen
	}
	return g.known
}

// Stamp versions what is known about runs now. Take it before reading the runs an answer shows.
func (s *Service) Stamp(ctx context.Context) Stamp {
	// local first: a change of this process that lands between the two reads then shows in the
	// generation too, and only retires the answer early.
	local := s.gens.local.Load()
	return Stamp{generation: s.gens.current(ctx), local: local}
}

// Fresh reports whether no run changed since st was taken: none here, and none in the database
// as of its last read (at most StampCheckInterval ago).
func (s *Service) Fresh(ctx context.Context, st Stamp) bool {
	return s.gens.local.Load() == st.local && s.gens.current(ctx) == st.generation
}

// changed notes that this process changed a run (after the change is committed).
func (s *Service) changed() { s.gens.local.Add(1) }

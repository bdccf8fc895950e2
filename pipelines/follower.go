package pipelines

import (
	"context"
	"sync"
	"time"

	"github.com/portside-dev/portside/errs"
)

// FollowerOptions bound the loop that polls providers for the runs still under way. Webhooks
// (where a provider sends them) make it look at once; polling is what catches what they miss.
type FollowerOptions struct {
	// Interval is the pause between two polls of the active runs.
	Interval time.Duration
	// Batch is how many active runs one poll reads, the least recently polled first: with many
	// runs under way, each is read every ceil(runs/Batch) intervals, which is what budgets a
	// provider's API requests.
	Batch int
	// Concurrency is how many provider calls a poll makes at once.
	Concurrency int
	// CallTimeout bounds one provider call.
	CallTimeout time.Duration
	// FindTimeout is how long a provider may take to show a run it was asked to start before the
	// run is given up as TIMED_OUT.
	FindTimeout time.Duration
}

func (o FollowerOptions) withDefaults() FollowerOptions {
	if o.Interval <= 0 {
		o.Interval = 15 * time.Second
	}
	if o.Batch <= 0 {
		o.Batch = 100
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = 20 * time.Second
	}
	if o.FindTimeout <= 0 {
		o.FindTimeout = 10 * time.Minute
	}
	return o
}

// Start follows the active runs until Stop (or ctx ends).
func (s *Service) Start(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return
	}
	s.started = true
	ctx, s.cancel = context.WithCancel(ctx)
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		s.Follow(ctx)
	}()
}

// Stop ends following, waits for the poll under way, and closes every subscription.
func (s *Service) Stop() {
	s.mu.Lock()
	cancel, done := s.cancel, s.done
	s.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	s.hub.CloseAll()
}

// poke asks the follower for a poll now (a run started, a webhook arrived); pokes while one is
// pending are one poke.
func (s *Service) poke() {
	select {
	case s.nudge <- struct{}{}:
	default:
	}
}

// Follow polls the active runs every interval (and when poked) until ctx ends, and returns then.
// Start runs it in the background; serve runs it on the leader only (package leader), as every
// replica polling the same runs would only ask the providers N times.
func (s *Service) Follow(ctx context.Context) {
	ticker := time.NewTicker(s.follow.Interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		case <-s.nudge:
		}
		if _, err := s.Poll(ctx); err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "pipelines: poll the active runs", "error", err)
		}
	}
}

// Poll reads one batch of active runs from their providers and records what changed; it returns
// how many runs it read. The follower calls it every interval; tests call it to step.
func (s *Service) Poll(ctx context.Context) (int, error) {
	runs, _, err := s.recs.active(ctx, s.follow.Batch)
	if err != nil || len(runs) == 0 {
		return 0, err
	}
	ids := make([]int64, len(runs))
	for i, r := range runs {
		ids[i] = r.ID
	}
	if err := s.recs.polled(ctx, ids, s.now().UTC()); err != nil {
		return 0, err
	}
	sem := make(chan struct{}, s.follow.Concurrency)
	var wg sync.WaitGroup
	for _, run := range runs {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return 0, ctx.Err()
		}
		wg.Add(1)
		go func(run Run) {
			defer func() { <-sem; wg.Done() }()
			cctx, cancel := context.WithTimeout(ctx, s.follow.CallTimeout)
			defer cancel()
			decl, err := s.declarationOf(cctx, run)
			if err != nil {
				// A run recorded before runs kept their declaration, whose component or
				// declaration went away: the run is still the provider's to finish, but
				// Portside can no longer lay out its stages. Read it without.
				decl = Declaration{Name: run.Pipeline, Provider: run.Provider}
			}
			if _, err := s.refresh(cctx, run, decl, false); err != nil && ctx.Err() == nil {
				if s.obs != nil {
					s.obs.PipelineProviderError(run.Provider)
				}
				level := s.log.WarnContext
				if errs.Is(err, errs.Unavailable) {
					level = s.log.InfoContext // the provider is down or rate limited: the run is stale, not broken
				}
				level(ctx, "pipelines: read a run from its provider", "run", run.ID, "provider", run.Provider, "error", err)
			}
		}(run)
	}
	wg.Wait()
	return len(runs), nil
}

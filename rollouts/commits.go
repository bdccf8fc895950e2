package rollouts

import (
	"context"
	"errors"

	"github.com/portside-dev/portside/errs"
)

// commitFetcher asks one instance about the revisions of new rollouts (author, message, date for
// lead time), whenever rollouts were recorded and after reconnecting, and tells subscribers of
// each rollout it completes.
type commitFetcher struct {
	t   *Tracker
	src Source
}

// run fetches until ctx ends.
func (f commitFetcher) run(ctx context.Context) {
	t, src := f.t, f.src
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
				labels := t.labelsOf(r.Key)
				var updated Rollout
				var changed bool
				err = t.recs.st.InTx(ctx, func(ctx context.Context) error {
					var err error
					if updated, changed, err = t.recs.setCommit(ctx, r.ID, c); changed {
						t.send(ctx, labels, updated)
					}
					return err
				})
				if err != nil {
					break
				}
				progress = true
				if !changed {
					continue // another replica recorded it (and told subscribers)
				}
				t.mu.Lock()
				t.hub.publish(Change{Rollout: &updated, Labels: labels})
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

// labelsOf returns the labels of an application, nil when it is not tracked.
func (t *Tracker) labelsOf(k Key) map[string]string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if a := t.apps[k]; a != nil {
		return a.app.Labels
	}
	return nil
}

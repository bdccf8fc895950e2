package rollouts

import (
	"context"
	"time"

	"github.com/cenkalti/backoff/v5"

	"github.com/portside-dev/portside/errs"
)

// listTimeout bounds one full list of an instance.
const listTimeout = 2 * time.Minute

// stableSession is how long a connection must have lasted for its end to reset the backoff.
const stableSession = 10 * time.Second

// settleDelay is when a new connection lists its instance a second time.
const settleDelay = 5 * time.Second

// follower keeps one instance's applications current in the tracker: a watch, plus a full list
// when it connects, soon after, and every ResyncInterval; it reconnects with backoff after
// failures. What it lists and watches, the tracker applies.
type follower struct {
	t   *Tracker
	src Source
}

// retryPolicy is the wait before reconnecting to an instance after failures in a row: it doubles
// from MinBackoff, never beyond MaxBackoff, each wait drawn at random around it (±50%) so that many
// Portside replicas do not reconnect in step.
func (t *Tracker) retryPolicy() *backoff.ExponentialBackOff {
	b := &backoff.ExponentialBackOff{InitialInterval: t.opts.MinBackoff, MaxInterval: t.opts.MaxBackoff,
		Multiplier: 2, RandomizationFactor: 0.5}
	b.Reset()
	return b
}

// run follows the instance until ctx ends.
func (f follower) run(ctx context.Context) {
	t, name := f.t, f.src.Name()
	retry := t.retryPolicy()
	for ctx.Err() == nil {
		began := time.Now()
		connected, err := f.session(ctx)
		if ctx.Err() != nil {
			return
		}
		// A watch that ends (a proxy's idle timeout, a restarted server behind a load balancer)
		// is not an outage: the state stays fresh until a reconnection fails to list.
		if !connected {
			t.disconnected(name, err)
		}
		if connected && time.Since(began) > stableSession {
			retry.Reset() // a watch that keeps failing at once still backs off
		}
		wait := min(retry.NextBackOff(), t.opts.MaxBackoff)
		t.log.WarnContext(ctx, "argo cd watch ended", "instance", name, "error", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

// session runs one connection to the instance until it fails; connected says whether it got as
// far as a full list.
func (f follower) session(ctx context.Context) (connected bool, err error) {
	t, src, name := f.t, f.src, f.src.Name()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
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

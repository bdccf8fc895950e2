package rollouts

import (
	"context"
	"reflect"
	"time"
)

// canaryPoller reads the Argo Rollouts Rollouts of one instance's applications: at once when an
// application changes, and every CanaryInterval while a canary is under way, since its steps
// change the Rollout but not always the application. A canary at rest is not read again until its
// application changes. It tells subscribers of each change and records the progress on the
// application's newest rollout.
type canaryPoller struct {
	t   *Tracker
	src Source
}

// run polls until ctx ends.
func (p canaryPoller) run(ctx context.Context) {
	t, name := p.t, p.src.Name()
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
			p.read(ctx, k)
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

// read reads one application's Rollout and, when it changed, tells subscribers and records the
// progress on the application's newest rollout.
func (p canaryPoller) read(ctx context.Context, k Key) {
	t, src := p.t, p.src
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
		t.hub.publish(Change{Deployment: &d, Labels: a.app.Labels})
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
	now := time.Now().UTC()
	if !a.progress.advance(c, now) {
		t.mu.Unlock()
		return
	}
	labels := a.app.Labels
	t.mu.Unlock()
	// Advanced on the record itself: another replica may have recorded this step already.
	var updated Rollout
	var changed bool
	err = t.recs.st.InTx(ctx, func(ctx context.Context) error {
		var err error
		if updated, changed, err = t.recs.advanceCanary(ctx, latest.ID, c, now); changed {
			t.send(ctx, labels, updated)
		}
		return err
	})
	t.mu.Lock()
	defer t.mu.Unlock()
	if err != nil {
		t.log.ErrorContext(ctx, "recording canary progress failed", "application", k.String(), "error", err)
		if a := t.apps[k]; a != nil {
			a.progressOf = 0 // read it again next time
		}
		return
	}
	if a := t.apps[k]; a != nil {
		labels = a.app.Labels
		if a.progressOf == updated.ID && updated.Canary != nil {
			a.progress = updated.Canary // what is recorded, whoever recorded it
		}
	}
	if changed {
		t.hub.publish(Change{Rollout: &updated, Labels: labels})
	}
}

package rollouts

import "time"

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

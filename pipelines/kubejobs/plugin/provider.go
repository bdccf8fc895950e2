package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/rpc"
	"sync"
	"time"

	goplugin "github.com/hashicorp/go-plugin"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/pipelines"
	"github.com/portside-dev/portside/rollouts/connector"
)

// remote is the parent's end of one running companion's plugin.
type remote struct {
	rpc    *rpc.Client
	broker *goplugin.MuxBroker
}

// call runs one method with args (as JSON) and decodes its value into out (when not nil). A caller
// that gives up is answered at once; the companion's call ends within callTimeout.
func (r *remote) call(ctx context.Context, method string, args any, out any) error {
	b, err := json.Marshal(args)
	if err != nil {
		return errs.Wrap(errs.Internal, err, "kubejobs: %s", method)
	}
	var rep connector.Reply
	c := r.rpc.Go("Plugin."+method, b, &rep, make(chan *rpc.Call, 1))
	select {
	case <-c.Done:
	case <-ctx.Done():
		return errs.Wrap(errs.Unavailable, ctx.Err(), "Kubernetes Jobs: %s did not answer %s in time", connector.BinaryName, method)
	}
	if c.Error != nil {
		return errs.Wrap(errs.Unavailable, c.Error, "Kubernetes Jobs: %s cannot be reached", connector.BinaryName)
	}
	if rep.Err != nil {
		return rep.Err.Err()
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(rep.Value, out); err != nil {
		return errs.Wrap(errs.Internal, err, "Kubernetes Jobs: %s's answer to %s is not what it should be", connector.BinaryName, method)
	}
	return nil
}

// Provider is the Kubernetes Jobs pipeline provider as portside sees it: a pipelines.Provider whose
// calls go to the companion, and a connector.Extension the companion's Process attaches to each
// child it starts. Calls made while no child runs wait for one (bounded by their context), or
// fail UNAVAILABLE at once after a child failed, which leaves the run stale, not failed.
type Provider struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	live     *remote
	err      error
	changed  chan struct{}
	notify   func(providerRunID string)
	stopFeed context.CancelFunc
}

// New is the provider for cfg; Process attaches it to the companion.
func New(cfg Config, log *slog.Logger) *Provider {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Provider{cfg: cfg, log: log, changed: make(chan struct{})}
}

// OnChange sets what the provider calls when one of a run's Jobs or Pods changed, with the run's
// provider ID (portside wires the pipelines service's Nudge).
func (p *Provider) OnChange(fn func(providerRunID string)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.notify = fn
}

// Name is the provider a declaration names.
func (p *Provider) Name() string { return pipelines.ProviderKubernetes }

// PluginName is the companion's plugin this provider talks to.
func (p *Provider) PluginName() string { return Name }

// Plugin is the parent's end of the go-plugin plugin.
func (p *Provider) Plugin() goplugin.Plugin { return &kubePlugin{} }

// Attach configures the engine of a child that started and follows its change notices.
func (p *Provider) Attach(ctx context.Context, dispensed any) error {
	r, ok := dispensed.(*remote)
	if !ok {
		return errs.E(errs.Internal, "kubejobs: the companion's plugin is a %T", dispensed)
	}
	if err := r.call(ctx, "Configure", p.cfg, nil); err != nil {
		p.mu.Lock()
		p.live, p.err = nil, err
		close(p.changed)
		p.changed = make(chan struct{})
		p.mu.Unlock()
		return err
	}
	feedCtx, stop := context.WithCancel(context.Background())
	p.mu.Lock()
	if p.stopFeed != nil {
		p.stopFeed()
	}
	p.live, p.err, p.stopFeed = r, nil, stop
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
	go p.feed(feedCtx, r, p.notice)
	return nil
}

// notice hands a run's provider ID to what OnChange set (read each time: the companion may
// start before the pipelines service that listens exists).
func (p *Provider) notice(providerRunID string) {
	p.mu.Lock()
	fn := p.notify
	p.mu.Unlock()
	if fn != nil {
		fn(providerRunID)
	}
}

// Started waits (bounded by ctx) for the first companion to take the provider's configuration
// and returns why it did not: serve fails its start on an INVALID one (a bad setting, named).
func (p *Provider) Started(ctx context.Context) error {
	_, err := p.current(ctx)
	var e *errs.Error
	if errors.As(err, &e) && e.Err != nil && errs.Is(e.Err, errs.Invalid) {
		return e.Err
	}
	return err
}

// Detach says the child is gone: calls fail at once until the next one is attached.
func (p *Provider) Detach(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopFeed != nil {
		p.stopFeed()
		p.stopFeed = nil
	}
	p.live, p.err = nil, err
	close(p.changed)
	p.changed = make(chan struct{})
}

// current waits for a running child; while none runs after a failure it says why at once.
func (p *Provider) current(ctx context.Context) (*remote, error) {
	for {
		p.mu.Lock()
		live, err, changed := p.live, p.err, p.changed
		p.mu.Unlock()
		switch {
		case live != nil:
			return live, nil
		case err != nil:
			return nil, errs.Wrap(errs.Unavailable, err, "Kubernetes Jobs: %s is not running", connector.BinaryName)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, errs.Wrap(errs.Unavailable, ctx.Err(), "Kubernetes Jobs: %s has not started yet", connector.BinaryName)
		}
	}
}

func (p *Provider) do(ctx context.Context, method string, run RunSpec, out any) error {
	r, err := p.current(ctx)
	if err != nil {
		return err
	}
	return r.call(ctx, method, run, out)
}

// specOf is a run as the engine needs it.
func specOf(runID int64, dispatch, component string, decl pipelines.Declaration, ref string, params map[string]string) RunSpec {
	return RunSpec{RunID: runID, DispatchID: dispatch, Component: component, Pipeline: decl.Name, Ref: ref,
		Parameters: params, Stages: decl.Stages}
}

// Trigger creates the run's first Job; its dispatch ID is its provider run ID.
func (p *Provider) Trigger(ctx context.Context, req pipelines.TriggerRequest) (pipelines.Update, error) {
	var u pipelines.Update
	err := p.do(ctx, "Trigger", specOf(req.RunID, req.DispatchID, req.Component, req.Pipeline, req.Ref, req.Parameters), &u)
	return u, err
}

// Status reads the run from its Jobs, moving it on to its next stage when one completed.
func (p *Provider) Status(ctx context.Context, run pipelines.Run, decl pipelines.Declaration) (pipelines.Update, error) {
	if run.ProviderRunID == "" {
		// Recorded but its trigger has not returned yet: its first Job may not exist, and a run
		// without Jobs reads as one whose Jobs were deleted. The service waits for the trigger.
		return pipelines.Update{}, errs.E(errs.NotFound, "run %d is being started", run.ID)
	}
	var u pipelines.Update
	err := p.do(ctx, "Status", specOf(run.ID, run.DispatchID, run.Component, decl, run.Ref, run.Parameters), &u)
	return u, err
}

// Cancel deletes the run's Jobs.
func (p *Provider) Cancel(ctx context.Context, run pipelines.Run, decl pipelines.Declaration) error {
	return p.do(ctx, "Cancel", specOf(run.ID, run.DispatchID, run.Component, decl, run.Ref, run.Parameters), nil)
}

// Retry runs the whole pipeline again as the new run: Jobs are not re-run in place, and a stage
// that succeeded may depend on what the failed one would have left.
func (p *Provider) Retry(ctx context.Context, _ pipelines.Run, req pipelines.TriggerRequest) (pipelines.Update, error) {
	return p.Trigger(ctx, req)
}

// retryFeed is the pause before a broken changes stream is opened again.
const retryFeed = time.Second

// feed follows one child's change notices until it is detached, opening the stream again when
// it ends early (the engine restarted its informers).
func (p *Provider) feed(ctx context.Context, r *remote, notify func(string)) {
	for ctx.Err() == nil {
		err := p.follow(ctx, r, notify)
		if ctx.Err() != nil {
			return
		}
		p.log.InfoContext(ctx, "kubejobs: the change notices broke off; opening them again", "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(retryFeed):
		}
	}
}

// follow reads one changes stream until it ends.
func (p *Provider) follow(ctx context.Context, r *remote, notify func(string)) error {
	id := r.broker.NextId()
	stream := make(chan accepted, 1)
	go func() {
		conn, err := r.broker.Accept(id)
		stream <- accepted{conn, err}
	}()
	var rep connector.Reply
	call := r.rpc.Go("Plugin.Changes", id, &rep, make(chan *rpc.Call, 1))
	var conn net.Conn
	select {
	case a := <-stream:
		if a.err != nil {
			return a.err
		}
		conn = a.conn
	case <-call.Done:
		// The companion answers before it opens the stream only when it cannot follow.
		go closeWhenAccepted(stream)
		if call.Error != nil {
			return call.Error
		}
		if rep.Err != nil {
			return rep.Err.Err()
		}
		return errors.New("the changes stream did not open")
	case <-ctx.Done():
		go closeWhenAccepted(stream)
		return ctx.Err()
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	q := newNoticeQueue(notify)
	defer q.close()
	dec := json.NewDecoder(conn)
	for {
		var dispatch string
		if err := dec.Decode(&dispatch); err != nil {
			if errors.Is(err, io.EOF) {
				return errors.New("the stream ended")
			}
			return err
		}
		if dispatch != "" {
			q.add(dispatch)
		}
	}
}

type accepted struct {
	conn net.Conn
	err  error
}

// closeWhenAccepted closes a stream nobody reads any more, once it arrives (or fails to).
func closeWhenAccepted(ch <-chan accepted) {
	if a := <-ch; a.conn != nil {
		_ = a.conn.Close()
	}
}

// maxPendingNotices bounds the runs waiting to be looked at; beyond it notices are dropped, and
// the follower's polling reads those runs.
const maxPendingNotices = 10000

// noticeQueue hands notices to notify one at a time, in a goroutine of its own, so that a slow
// look at one run never holds up the stream; notices for a run already waiting are one notice.
type noticeQueue struct {
	notify  func(string)
	mu      sync.Mutex
	pending map[string]struct{}
	order   []string
	wake    chan struct{}
	done    chan struct{}
}

func newNoticeQueue(notify func(string)) *noticeQueue {
	q := &noticeQueue{notify: notify, pending: map[string]struct{}{}, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go q.run()
	return q
}

func (q *noticeQueue) add(id string) {
	q.mu.Lock()
	if _, ok := q.pending[id]; !ok && len(q.pending) < maxPendingNotices {
		q.pending[id] = struct{}{}
		q.order = append(q.order, id)
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *noticeQueue) run() {
	for {
		select {
		case <-q.done:
			return
		case <-q.wake:
		}
		for {
			q.mu.Lock()
			if len(q.order) == 0 {
				q.mu.Unlock()
				break
			}
			id := q.order[0]
			q.order = q.order[1:]
			delete(q.pending, id)
			q.mu.Unlock()
			q.notify(id)
		}
	}
}

func (q *noticeQueue) close() { close(q.done) }

package connector

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/rpc"
	"sync/atomic"

	"github.com/hashicorp/go-plugin"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/rollouts"
)

// remote is the parent's end of one running companion.
type remote struct {
	rpc    *rpc.Client
	broker *plugin.MuxBroker
	ids    atomic.Uint64
}

// call runs one method of the Server and decodes its value into out. A caller that gives up
// (ctx) is answered at once, and the child's call is cancelled too.
func (r *remote) call(ctx context.Context, instance, method string, args *Call, out any) error {
	args.ID = r.ids.Add(1)
	var reply Reply
	c := r.rpc.Go("Plugin."+method, args, &reply, make(chan *rpc.Call, 1))
	select {
	case <-c.Done:
	case <-ctx.Done():
		r.rpc.Go("Plugin.Cancel", args.ID, new(struct{}), make(chan *rpc.Call, 1))
		return ctx.Err()
	}
	if c.Error != nil {
		return errs.Wrap(errs.Unavailable, c.Error, "Argo CD %q: portside-argocd cannot be reached", instance)
	}
	if reply.Err != nil {
		return reply.Err.Err()
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(reply.Value, out); err != nil {
		return errs.Wrap(errs.Internal, err, "Argo CD %q: portside-argocd's answer to %s is not what it should be", instance, method)
	}
	return nil
}

// configure hands the child its instances and the lifeline stream's ID, and waits for it to
// have built its sources (at most until ctx ends).
func (r *remote) configure(ctx context.Context, instances []Instance, lifeline uint32, tracing *TraceSettings) error {
	var reply Reply
	c := r.rpc.Go("Plugin.Configure", &ConfigureArgs{Instances: instances, Lifeline: lifeline, Tracing: tracing}, &reply, make(chan *rpc.Call, 1))
	select {
	case <-c.Done:
	case <-ctx.Done():
		return errs.Wrap(errs.Unavailable, ctx.Err(), "%s did not take its instances in time", BinaryName)
	}
	if c.Error != nil {
		return errs.Wrap(errs.Unavailable, c.Error, "%s: handing over the instances", BinaryName)
	}
	if reply.Err != nil {
		return reply.Err.Err()
	}
	return nil
}

// accept waits for the child to open the broker stream id; the stream is closed if the caller
// stopped waiting.
func (r *remote) accept(id uint32) <-chan accepted {
	ch := make(chan accepted, 1)
	go func() {
		conn, err := r.broker.Accept(id)
		ch <- accepted{conn, err}
	}()
	return ch
}

type accepted struct {
	conn net.Conn
	err  error
}

// closeWhenAccepted closes a stream the caller no longer waits for, once it arrives.
func closeWhenAccepted(ch <-chan accepted) {
	go func() {
		if a := <-ch; a.conn != nil {
			_ = a.conn.Close()
		}
	}()
}

// source is one Argo CD instance behind the companion: a rollouts.Source.
type source struct {
	name string
	// remote returns the running companion, waiting for one that is starting.
	remote func(context.Context) (*remote, error)
}

// Name is the instance's name.
func (s *source) Name() string { return s.name }

// do runs one call of the instance in the child. A call made inside a trace (a request's) gets
// a client span, and carries the trace context to the child, whose span of the call (and Argo
// CD's gRPC spans under it) join the trace; the background's calls (the tracker's lists) start
// no trace of their own. With tracing off the context holds no span and nothing is done.
func (s *source) do(ctx context.Context, method string, args Call, out any) (err error) {
	if trace.SpanContextFromContext(ctx).IsValid() {
		var span trace.Span
		ctx, span = otel.Tracer(traceScope).Start(ctx, BinaryName+" "+method, trace.WithSpanKind(trace.SpanKindClient),
			trace.WithAttributes(attribute.String("argocd.instance", s.name)))
		defer func() {
			if err != nil {
				span.RecordError(err)
				span.SetStatus(codes.Error, err.Error())
			}
			span.End()
		}()
		if span.IsRecording() && args.App.Name != "" {
			span.SetAttributes(attribute.String("argocd.application", args.App.Namespace+"/"+args.App.Name))
		}
		args.Trace = map[string]string{}
		otel.GetTextMapPropagator().Inject(ctx, propagation.MapCarrier(args.Trace))
	}
	r, err := s.remote(ctx)
	if err != nil {
		return err
	}
	args.Instance = s.name
	return r.call(ctx, s.name, method, &args, out)
}

// List returns every application the instance shows Portside.
func (s *source) List(ctx context.Context) ([]rollouts.Application, error) {
	var apps []rollouts.Application
	return apps, s.do(ctx, "List", Call{}, &apps)
}

// Commit describes a revision of an application.
func (s *source) Commit(ctx context.Context, app rollouts.Key, revision string) (rollouts.Commit, error) {
	var c rollouts.Commit
	return c, s.do(ctx, "Commit", Call{App: app, Revision: revision}, &c)
}

// Sync starts a sync operation.
func (s *source) Sync(ctx context.Context, app rollouts.Key, req rollouts.SyncRequest) (rollouts.Application, error) {
	var a rollouts.Application
	return a, s.do(ctx, "Sync", Call{App: app, Sync: req}, &a)
}

// Rollback starts a sync to the revision of a history entry.
func (s *source) Rollback(ctx context.Context, app rollouts.Key, req rollouts.RollbackRequest) (rollouts.Application, error) {
	var a rollouts.Application
	return a, s.do(ctx, "Rollback", Call{App: app, Rollback: req}, &a)
}

// Terminate stops the running operation.
func (s *source) Terminate(ctx context.Context, app rollouts.Key) (bool, error) {
	var ok bool
	return ok, s.do(ctx, "Terminate", Call{App: app}, &ok)
}

// Refresh makes the instance compare the application with git again.
func (s *source) Refresh(ctx context.Context, app rollouts.Key, hard bool) (rollouts.Application, error) {
	var a rollouts.Application
	return a, s.do(ctx, "Refresh", Call{App: app, Hard: hard}, &a)
}

// Canary reads the live state of an application's Argo Rollouts Rollout.
func (s *source) Canary(ctx context.Context, app rollouts.Key, res rollouts.Resource) (*rollouts.Canary, error) {
	var c *rollouts.Canary
	return c, s.do(ctx, "Canary", Call{App: app, Resource: res}, &c)
}

// RolloutAction runs an Argo Rollouts action on the Rollout.
func (s *source) RolloutAction(ctx context.Context, app rollouts.Key, res rollouts.Resource, action string) error {
	return s.do(ctx, "RolloutAction", Call{App: app, Resource: res, Action: action}, nil)
}

// SyncWindows asks which sync windows apply to the application now.
func (s *source) SyncWindows(ctx context.Context, app rollouts.Key) (rollouts.SyncWindows, error) {
	var sw rollouts.SyncWindows
	return sw, s.do(ctx, "SyncWindows", Call{App: app}, &sw)
}

// Watch follows the instance's applications through the stream the child opens for the watch.
func (s *source) Watch(ctx context.Context, fn func(rollouts.Event)) error {
	r, err := s.remote(ctx)
	if err != nil {
		return err
	}
	id := r.broker.NextId()
	var reply Reply
	call := r.rpc.Go("Plugin.Watch", &Call{Instance: s.name, Stream: id}, &reply, make(chan *rpc.Call, 1))
	stream, answered := r.accept(id), call.Done
	var conn net.Conn
	for conn == nil {
		select {
		case a := <-stream:
			if a.err != nil {
				return errs.Wrap(errs.Unavailable, a.err, "Argo CD %q: the watch through portside-argocd did not open", s.name)
			}
			conn = a.conn
		case <-answered:
			// The child answers before it opens the stream only when it cannot watch.
			switch {
			case call.Error != nil:
				closeWhenAccepted(stream)
				return errs.Wrap(errs.Unavailable, call.Error, "Argo CD %q: portside-argocd cannot be reached", s.name)
			case reply.Err != nil:
				closeWhenAccepted(stream)
				return reply.Err.Err()
			}
			answered = nil // it answered after writing its stream: read the stream
		case <-ctx.Done():
			closeWhenAccepted(stream)
			return ctx.Err()
		}
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() }) // the child's watch ends with the stream
	defer stop()
	dec := json.NewDecoder(conn)
	for {
		var item watchItem
		err := dec.Decode(&item)
		if ctx.Err() != nil {
			return ctx.Err() // what the stream still held is no longer wanted
		}
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				err = errors.New("the stream ended")
			}
			return errs.Wrap(errs.Unavailable, err, "Argo CD %q: the watch through portside-argocd broke off", s.name)
		}
		switch {
		case item.End != nil:
			return item.End.Err()
		case item.Event != nil:
			fn(*item.Event)
		}
	}
}

// Dial connects to sources served by ServeConn on a Unix socket and returns the named ones, with
// the connection's closer.
func Dial(socket string, names []string) ([]rollouts.Source, io.Closer, error) {
	conn, err := net.Dial("unix", socket)
	if err != nil {
		return nil, nil, errs.Wrap(errs.Unavailable, err, "connector: dialing %s", socket)
	}
	client, err := plugin.NewRPCClient(conn, plugin.PluginSet{pluginName: &companion{}})
	if err != nil {
		_ = conn.Close()
		return nil, nil, errs.Wrap(errs.Unavailable, err, "connector: connecting over %s", socket)
	}
	raw, err := client.Dispense(pluginName)
	if err != nil {
		_ = client.Close()
		return nil, nil, errs.Wrap(errs.Unavailable, err, "connector: %s", socket)
	}
	r := raw.(*remote)
	out := make([]rollouts.Source, len(names))
	for i, n := range names {
		out[i] = &source{name: n, remote: func(context.Context) (*remote, error) { return r, nil }}
	}
	return out, client, nil
}

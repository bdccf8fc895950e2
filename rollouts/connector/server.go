package connector

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
	"net/rpc"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/rollouts"
)

// companion is the go-plugin plugin: Server runs in portside-argocd, Client in portside.
type companion struct {
	// newSource builds an instance's source (the child only); sources are built ones to serve as
	// they are (a relay in a test).
	newSource func(Instance) (rollouts.Source, error)
	sources   []rollouts.Source
	// parentGone is called in the child once the parent's connection has ended.
	parentGone func()
	// tracing starts the child's tracing when the parent asks for it (nil: never); stopTracing
	// is what it returned, for Serve to flush at the end.
	tracing     StartTracing
	stopTracing func(context.Context) error
	log         *slog.Logger // the child's (nil in a test's relay)
	flushOnce   sync.Once

	mu      sync.Mutex
	servers []*Server // what Server made, for Serve to close
}

// Server returns what the child serves over net/rpc.
func (c *companion) Server(b *plugin.MuxBroker) (any, error) {
	s := &Server{broker: b, newSource: c.newSource, parentGone: c.parentGone, companion: c,
		sent: map[string]*delivered{}, calls: map[uint64]context.CancelFunc{}, early: map[uint64]time.Time{}}
	s.serve(c.sources)
	c.mu.Lock()
	c.servers = append(c.servers, s)
	c.mu.Unlock()
	return s, nil
}

// Client returns the parent's end of it.
func (c *companion) Client(b *plugin.MuxBroker, rc *rpc.Client) (any, error) {
	return &remote{rpc: rc, broker: b}, nil
}

// Serve is portside-argocd's main loop: go-plugin's handshake on standard output, then the Server
// on a Unix socket for the parent. newSource builds a source per instance once the parent has
// sent them; more are the other plugins served beside Argo CD's (the Kubernetes Jobs provider),
// which the parent dispenses as its Extensions. It returns when the parent has asked it to stop;
// it ends the process when the parent's connection ends otherwise (the parent was killed). Run by
// hand, it says who starts it.
func Serve(log *slog.Logger, newSource func(Instance) (rollouts.Source, error), more plugin.PluginSet, tracing StartTracing) error {
	if os.Getenv(Handshake.MagicCookieKey) != Handshake.MagicCookieValue {
		return fmt.Errorf("%s is started by portside serve when argocd-instances or the Kubernetes Jobs provider is set, not by hand", BinaryName)
	}
	c := &companion{newSource: newSource, tracing: tracing, log: log}
	c.parentGone = func() {
		log.Info(BinaryName + ": portside is gone; ending")
		c.flushTracing(log)
		os.Exit(0)
	}
	// go-plugin's server reports through the standard logger (a connection closed on stop):
	// debug lines in Portside's format rather than bare text among them.
	stdlog.SetFlags(0)
	stdlog.SetOutput(slog.NewLogLogger(log.Handler(), slog.LevelDebug).Writer())
	plugins := plugin.PluginSet{pluginName: c}
	for name, p := range more {
		plugins[name] = p
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         plugins,
		Logger:          hclog.NewNullLogger(),
	})
	c.mu.Lock()
	servers := c.servers
	c.mu.Unlock()
	for _, s := range servers {
		s.close()
	}
	c.flushTracing(log)
	return nil
}

// flushTimeout bounds how long the child waits for its last spans to be sent when it ends.
const flushTimeout = 5 * time.Second

// startTracing starts the child's tracing once, as the parent's settings ask.
func (c *companion) startTracing(settings TraceSettings) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tracing == nil || c.stopTracing != nil {
		return nil
	}
	stop, err := c.tracing(settings)
	if err != nil {
		return err
	}
	c.stopTracing = stop
	if c.log != nil {
		c.log.Info(BinaryName+": tracing on", "endpoint", settings.Endpoint, "service", settings.ServiceName)
	}
	return nil
}

// flushTracing sends the spans still queued, within flushTimeout. The parent's end and Serve's
// may both call it, at once: each returns once the one flush is done, so that neither exits the
// process under the other's export.
func (c *companion) flushTracing(log *slog.Logger) {
	c.flushOnce.Do(func() {
		c.mu.Lock()
		stop := c.stopTracing
		c.mu.Unlock()
		if stop == nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
		defer cancel()
		if err := stop(ctx); err != nil {
			log.Warn(BinaryName+": the last spans were not sent", "error", err)
		}
	})
}

// ServeConn serves built sources on one connection as portside-argocd serves its own, until the
// connection ends; Dial is its other end. Tests relay sources through it.
func ServeConn(conn io.ReadWriteCloser, sources []rollouts.Source) {
	empty := func() io.Reader { return eofReader{} }
	srv := &plugin.RPCServer{Plugins: plugin.PluginSet{pluginName: &companion{sources: sources}}, Stdout: empty(), Stderr: empty()}
	srv.ServeConn(conn)
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

// Server is what portside-argocd serves: each exported method is one call of the protocol.
type Server struct {
	companion  *companion
	broker     *plugin.MuxBroker
	newSource  func(Instance) (rollouts.Source, error)
	parentGone func()

	mu      sync.Mutex
	sources map[string]rollouts.Source
	sent    map[string]*delivered
	// calls can be cancelled by ID while they run; early are cancellations that arrived before
	// their call (net/rpc runs each request in a goroutine of its own).
	calls map[uint64]context.CancelFunc
	early map[uint64]time.Time
}

func (s *Server) serve(sources []rollouts.Source) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sources = make(map[string]rollouts.Source, len(sources))
	for _, src := range sources {
		s.sources[src.Name()] = src
		s.sent[src.Name()] = &delivered{versions: map[rollouts.Key]string{}}
	}
}

func (s *Server) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, src := range s.sources {
		if c, ok := src.(io.Closer); ok {
			_ = c.Close()
		}
	}
}

// Configure builds a source per instance, and holds the parent's lifeline: a stream the parent
// never writes to, whose end means the parent is gone (a parent killed outright cannot ask the
// child to stop, and go-plugin's net/rpc server would otherwise outlive it).
func (s *Server) Configure(args *ConfigureArgs, reply *Reply) error {
	if args.Lifeline != 0 && s.parentGone != nil {
		conn, err := s.broker.Dial(args.Lifeline)
		if err != nil {
			reply.Err = ToWire(errs.Wrap(errs.Unavailable, err, "%s: opening the lifeline", BinaryName))
			return nil
		}
		go func() {
			_, _ = io.Copy(io.Discard, conn)
			s.close()
			s.parentGone()
		}()
	}
	if args.Tracing != nil && s.companion != nil {
		if err := s.companion.startTracing(*args.Tracing); err != nil {
			reply.Err = ToWire(errs.Wrap(errs.Invalid, err, "%s: starting tracing", BinaryName))
			return nil
		}
	}
	if s.newSource == nil {
		return nil // serving built sources
	}
	sources := make([]rollouts.Source, 0, len(args.Instances))
	for _, inst := range args.Instances {
		src, err := s.newSource(inst)
		if err != nil {
			reply.Err = ToWire(err)
			return nil
		}
		sources = append(sources, src)
	}
	s.serve(sources)
	return nil
}

// Cancel ends the context of a call that is still running (its caller gave up).
func (s *Server) Cancel(id uint64, _ *struct{}) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cancel := s.calls[id]; cancel != nil {
		cancel()
		return nil
	}
	now := time.Now()
	for k, at := range s.early { // those whose call had finished already
		if now.Sub(at) > time.Minute {
			delete(s.early, k)
		}
	}
	s.early[id] = now
	return nil
}

// begin gives a call its context, cancelled by Cancel; end releases it.
func (s *Server) begin(id uint64) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.early[id]; ok {
		delete(s.early, id)
		cancel()
	}
	s.calls[id] = cancel
	return ctx, func() {
		s.mu.Lock()
		delete(s.calls, id)
		s.mu.Unlock()
		cancel()
	}
}

func (s *Server) source(name string) (rollouts.Source, *delivered, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	src, ok := s.sources[name]
	if !ok {
		return nil, nil, errs.E(errs.NotFound, "portside-argocd has no Argo CD instance %q", name)
	}
	return src, s.sent[name], nil
}

// answer runs one call against its instance's source and puts its value or error in the reply.
// A call that carries a trace context gets a server span in the caller's trace, under which the
// Argo CD client's gRPC spans fall (its interceptors use the global provider).
func (s *Server) answer(method string, args *Call, reply *Reply, fn func(context.Context, rollouts.Source) (any, error)) error {
	src, _, err := s.source(args.Instance)
	if err == nil {
		ctx, end := s.begin(args.ID)
		var span trace.Span
		if len(args.Trace) > 0 {
			ctx = otel.GetTextMapPropagator().Extract(ctx, propagation.MapCarrier(args.Trace))
			ctx, span = otel.Tracer(traceScope).Start(ctx, BinaryName+" "+method, trace.WithSpanKind(trace.SpanKindServer),
				trace.WithAttributes(attribute.String("argocd.instance", args.Instance)))
		}
		var v any
		v, err = fn(ctx, src)
		if span != nil {
			if err != nil {
				span.RecordError(err)
				span.SetStatus(codes.Error, err.Error())
			}
			span.End()
		}
		end()
		if err == nil {
			reply.Value, err = json.Marshal(v)
		}
	}
	if err != nil {
		reply.Err = ToWire(err)
	}
	return nil
}

// List returns every application the instance shows Portside.
func (s *Server) List(args *Call, reply *Reply) error {
	return s.answer("List", args, reply, func(ctx context.Context, src rollouts.Source) (any, error) { return src.List(ctx) })
}

// Commit describes a revision of an application.
func (s *Server) Commit(args *Call, reply *Reply) error {
	return s.answer("Commit", args, reply, func(ctx context.Context, src rollouts.Source) (any, error) {
		return src.Commit(ctx, args.App, args.Revision)
	})
}

// Sync starts a sync operation.
func (s *Server) Sync(args *Call, reply *Reply) error {
	return s.answer("Sync", args, reply, func(ctx context.Context, src rollouts.Source) (any, error) {
		return src.Sync(ctx, args.App, args.Sync)
	})
}

// Rollback starts a sync to the revision of a history entry.
func (s *Server) Rollback(args *Call, reply *Reply) error {
	return s.answer("Rollback", args, reply, func(ctx context.Context, src rollouts.Source) (any, error) {
		return src.Rollback(ctx, args.App, args.Rollback)
	})
}

// Terminate stops the running operation.
func (s *Server) Terminate(args *Call, reply *Reply) error {
	return s.answer("Terminate", args, reply, func(ctx context.Context, src rollouts.Source) (any, error) {
		return src.Terminate(ctx, args.App)
	})
}

// Refresh makes the instance compare the application with git again.
func (s *Server) Refresh(args *Call, reply *Reply) error {
	return s.answer("Refresh", args, reply, func(ctx context.Context, src rollouts.Source) (any, error) {
		return src.Refresh(ctx, args.App, args.Hard)
	})
}

// Canary reads the live state of an application's Argo Rollouts Rollout.
func (s *Server) Canary(args *Call, reply *Reply) error {
	return s.answer("Canary", args, reply, func(ctx context.Context, src rollouts.Source) (any, error) {
		return src.Canary(ctx, args.App, args.Resource)
	})
}

// RolloutAction runs an Argo Rollouts action on the Rollout.
func (s *Server) RolloutAction(args *Call, reply *Reply) error {
	return s.answer("RolloutAction", args, reply, func(ctx context.Context, src rollouts.Source) (any, error) {
		return struct{}{}, src.RolloutAction(ctx, args.App, args.Resource, args.Action)
	})
}

// SyncWindows asks which sync windows apply to the application now.
func (s *Server) SyncWindows(args *Call, reply *Reply) error {
	return s.answer("SyncWindows", args, reply, func(ctx context.Context, src rollouts.Source) (any, error) {
		return src.SyncWindows(ctx, args.App)
	})
}

// Watch follows the instance's applications: each event goes to the broker stream args.Stream
// as a JSON value, and at the end the error that ended the watch; the watch ends when the parent
// closes the stream. An event goes out at once when it is the only one waiting (an update's
// latency is the point); a burst (the state of every application a watch opens with) goes out in
// large writes, flushed when it is through.
func (s *Server) Watch(args *Call, reply *Reply) error {
	src, sent, err := s.source(args.Instance)
	if err != nil {
		reply.Err = ToWire(err)
		return nil
	}
	conn, err := s.broker.Dial(args.Stream)
	if err != nil {
		reply.Err = ToWire(errs.Wrap(errs.Unavailable, err, "%s: opening the watch stream of %q", BinaryName, args.Instance))
		return nil
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		_, _ = io.Copy(io.Discard, conn) // returns once the parent closes the stream
		cancel()
	}()
	w := bufio.NewWriterSize(conn, 64<<10)
	enc := json.NewEncoder(w)
	events := make(chan rollouts.Event, 1024)
	var werr error
	go func() {
		werr = src.Watch(ctx, func(ev rollouts.Event) {
			if !sent.news(ev) {
				return
			}
			select {
			case events <- ev:
			case <-ctx.Done():
			}
		})
		close(events) // after werr is set: it is read once the channel is drained
	}()
	for ev := range events {
		_ = enc.Encode(watchItem{Event: &ev}) // a parent gone cancels ctx, which ends the watch
		if len(events) == 0 {
			_ = w.Flush()
		}
	}
	if werr == nil {
		werr = errs.E(errs.Unavailable, "Argo CD %q ended the watch", src.Name())
	}
	_ = enc.Encode(watchItem{End: ToWire(werr)})
	_ = w.Flush()
	return nil
}

// delivered remembers the resource version of every application a watch of one source delivered,
// so that the next watch (after a cut) leaves out the opening repeats of applications that have not
// changed: Argo CD opens every watch with the state of all of them, which would otherwise cross
// to the parent again in full, ahead of the changes behind it. The parent has them already, and
// what a cut watch wrote but the parent never read, the list the parent makes with every new
// watch brings (the Source contract: a watch may, not must, repeat the current state).
type delivered struct {
	mu       sync.Mutex
	versions map[rollouts.Key]string
}

// news records an event and reports whether it is worth sending.
func (d *delivered) news(ev rollouts.Event) bool {
	k := ev.App.Key()
	d.mu.Lock()
	defer d.mu.Unlock()
	if ev.Deleted {
		delete(d.versions, k)
		return true
	}
	if v, ok := d.versions[k]; ok && v == ev.App.ResourceVersion && v != "" {
		return false
	}
	d.versions[k] = ev.App.ResourceVersion
	return true
}

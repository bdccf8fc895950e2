package connector

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/rollouts"
)

// BinaryName is the companion binary's name.
const BinaryName = "portside-argocd"

// Locate finds the companion binary: path when it is set (the argocd-connector setting), else
// portside-argocd beside the running executable, else on PATH.
func Locate(path string) (string, error) {
	if path != "" {
		p, err := exec.LookPath(path)
		if err != nil {
			return "", errs.InvalidField("argocd-connector", "%s is not an executable: %v", path, err)
		}
		return p, nil
	}
	if self, err := os.Executable(); err == nil {
		beside := filepath.Join(filepath.Dir(self), BinaryName)
		if st, err := os.Stat(beside); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return beside, nil
		}
	}
	if p, err := exec.LookPath(BinaryName); err == nil {
		return p, nil
	}
	return "", errs.InvalidField("argocd-connector",
		"Argo CD instances or the Kubernetes Jobs provider are configured but %s, which talks to them, is neither beside the portside binary nor on PATH: build it (make build) or set argocd-connector to its path", BinaryName)
}

// Options say which companion binary to run and what it connects to.
type Options struct {
	// Path is the portside-argocd binary (see Locate).
	Path      string
	Instances []Instance
	Logger    *slog.Logger
	// Stderr receives the child's logs, JSON lines like Portside's own; default os.Stderr.
	Stderr io.Writer
	// MinBackoff and MaxBackoff bound the wait before a child that exited is started again;
	// defaults 1 s and 30 s.
	MinBackoff, MaxBackoff time.Duration
	// StartTimeout bounds how long a child may take to listen, and then to take its instances;
	// default 30 s.
	StartTimeout time.Duration
	// Extensions are the companion's other plugins the parent uses (the Kubernetes Jobs provider).
	Extensions []Extension
	// Tracing, when set, is the tracing the child does (the parent's settings, with the child's
	// service name); nil: the child traces nothing.
	Tracing *TraceSettings
}

// Extension is another plugin of the companion, beside Argo CD's (the Kubernetes Jobs pipeline
// provider, which needs client-go too): Process dispenses it from every child it starts, hands
// it the connection, and says when that child is gone. Its calls are its own business.
type Extension interface {
	// PluginName is its name in the companion's plugin set.
	PluginName() string
	// Plugin is the parent's end of it (go-plugin calls its Client).
	Plugin() plugin.Plugin
	// Attach hands it the dispensed plugin of a child that started; an error ends that child,
	// which is started again like one that failed to take its Argo CD instances.
	Attach(ctx context.Context, dispensed any) error
	// Detach says that child is gone, and why.
	Detach(err error)
}

// Process runs and supervises the companion: go-plugin starts it, checks its handshake and
// connects to it; Process starts it again when it exits and stops it on Close. Its sources wait
// for a running child rather than fail while one starts.
type Process struct {
	opts    Options
	dir     string
	sources []rollouts.Source

	mu      sync.Mutex
	live    *remote       // the running child's connection; nil while none runs
	pid     int           // its process ID
	err     error         // why no child runs, once a start failed or a child exited
	changed chan struct{} // closed and replaced when live or err change

	cancel context.CancelFunc
	done   chan struct{}
}

// Start starts the companion and returns at once; the sources wait for it to listen.
func Start(ctx context.Context, opts Options) (*Process, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = time.Second
	}
	if opts.MaxBackoff < opts.MinBackoff {
		opts.MaxBackoff = max(30*time.Second, opts.MinBackoff)
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 30 * time.Second
	}
	// A private directory for the child's socket: only this user can reach it, and so the instances.
	dir, err := os.MkdirTemp("", "portside-argocd-")
	if err != nil {
		return nil, fmt.Errorf("connector: %w", err)
	}
	p := &Process{opts: opts, dir: dir, changed: make(chan struct{}), done: make(chan struct{})}
	for _, inst := range opts.Instances {
		p.sources = append(p.sources, &source{name: inst.Name, remote: p.remote})
	}
	ctx, p.cancel = context.WithCancel(context.WithoutCancel(ctx))
	go p.supervise(ctx)
	return p, nil
}

// Sources are the configured instances, in order, as rollouts sources.
func (p *Process) Sources() []rollouts.Source { return p.sources }

// Close stops the child and waits for it.
func (p *Process) Close() error {
	p.cancel()
	<-p.done
	return os.RemoveAll(p.dir)
}

// PID is the running child's process ID; 0 while none runs.
func (p *Process) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pid
}

func (p *Process) set(live *remote, pid int, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.live, p.pid, p.err = live, pid, err
	close(p.changed)
	p.changed = make(chan struct{})
}

// remote waits until a child runs; while none runs after a failure it says why at once.
func (p *Process) remote(ctx context.Context) (*remote, error) {
	for {
		p.mu.Lock()
		live, err, changed := p.live, p.err, p.changed
		p.mu.Unlock()
		switch {
		case live != nil:
			return live, nil
		case err != nil:
			return nil, errs.Wrap(errs.Unavailable, err, "%s is not running", BinaryName)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// stableRun is how long a child must have run for its end to reset the backoff.
const stableRun = time.Minute

// supervise runs children one after another until ctx ends, waiting longer after each that
// failed soon.
func (p *Process) supervise(ctx context.Context) {
	defer close(p.done)
	wait := &backoff.ExponentialBackOff{InitialInterval: p.opts.MinBackoff, MaxInterval: p.opts.MaxBackoff,
		Multiplier: 2, RandomizationFactor: 0}
	wait.Reset()
	stopped := errs.E(errs.Unavailable, "%s was stopped", BinaryName)
	for {
		began := time.Now()
		err := p.run(ctx)
		if ctx.Err() != nil {
			p.set(nil, 0, stopped)
			return
		}
		p.set(nil, 0, err)
		if time.Since(began) > stableRun {
			wait.Reset()
		}
		retry := wait.NextBackOff()
		p.opts.Logger.ErrorContext(ctx, BinaryName+" exited; starting it again", "error", err, "retry_in", retry)
		select {
		case <-ctx.Done():
			p.set(nil, 0, stopped)
			return
		case <-time.After(retry):
		}
		p.set(nil, 0, nil) // starting: callers wait for it
	}
}

// childEnv is the child's environment: Portside's, without its settings. The child needs none of
// them (its instances arrive over the connection) and some are secrets; proxies, certificate
// paths and the temp directory pass.
func childEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		if !strings.HasPrefix(kv, "PORTSIDE_") {
			out = append(out, kv)
		}
	}
	return out
}

// run starts one child, hands it its instances, and waits for it to end (or ctx to, then stops it).
func (p *Process) run(ctx context.Context) error {
	cmd := exec.Command(p.opts.Path)
	// go-plugin's own variables (the handshake cookie, the socket directory) are added to these;
	// SkipHostEnv keeps it from adding the whole of ours back.
	cmd.Env = append(childEnv(os.Environ()), "PLUGIN_UNIX_SOCKET_DIR="+p.dir)
	plugins := plugin.PluginSet{pluginName: &companion{}}
	for _, ext := range p.opts.Extensions {
		plugins[ext.PluginName()] = ext.Plugin()
	}
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  Handshake,
		Plugins:          plugins,
		Cmd:              cmd,
		SkipHostEnv:      true,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolNetRPC},
		StartTimeout:     p.opts.StartTimeout,
		Stderr:           p.opts.Stderr, // the child's log lines, as they are
		SyncStderr:       p.opts.Stderr,
		Logger:           hclog.NewNullLogger(), // what matters is logged here, with slog
	})
	defer client.Kill() // asks the child to quit, and kills it if it does not within 2 s
	conn, err := client.Client()
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "starting %s", p.opts.Path)
	}
	raw, err := conn.Dispense(pluginName)
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "%s", BinaryName)
	}
	r := raw.(*remote)
	id := r.broker.NextId()
	lifeline := r.accept(id)
	cctx, cancel := context.WithTimeout(ctx, p.opts.StartTimeout)
	err = r.configure(cctx, p.opts.Instances, id, p.opts.Tracing)
	cancel()
	if err != nil {
		closeWhenAccepted(lifeline)
		return err
	}
	a := <-lifeline
	if a.err != nil {
		return errs.Wrap(errs.Unavailable, a.err, "%s did not open its lifeline", BinaryName)
	}
	// The lifeline carries nothing: its end is the child's (or the connection's).
	ended := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, a.conn)
		close(ended)
	}()
	pid := cmd.Process.Pid
	var attached []Extension
	defer func() {
		for _, ext := range attached {
			ext.Detach(fmt.Errorf("%s (pid %d) is gone", BinaryName, pid))
		}
	}()
	for _, ext := range p.opts.Extensions {
		raw, err := conn.Dispense(ext.PluginName())
		if err != nil {
			_ = a.conn.Close()
			return errs.Wrap(errs.Unavailable, err, "%s: plugin %s", BinaryName, ext.PluginName())
		}
		cctx, cancel := context.WithTimeout(ctx, p.opts.StartTimeout)
		err = ext.Attach(cctx, raw)
		cancel()
		if err != nil {
			_ = a.conn.Close()
			return err
		}
		attached = append(attached, ext)
	}
	p.set(r, pid, nil)
	p.opts.Logger.InfoContext(ctx, BinaryName+" started", "pid", pid, "instances", len(p.opts.Instances), "extensions", len(attached))
	select {
	case <-ended:
		err := fmt.Errorf("%s (pid %d) exited or was killed: its connection ended", BinaryName, pid)
		p.set(nil, 0, err) // calls fail at once rather than on a dead connection
		return err
	case <-ctx.Done():
		_ = a.conn.Close()
		return ctx.Err()
	}
}

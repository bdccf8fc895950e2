package connector

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

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
		"Argo CD instances are configured but %s, which talks to them, is neither beside the portside binary nor on PATH: build it (make build) or set argocd-connector to its path", BinaryName)
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
	// StartTimeout bounds how long a child may take to listen; default 30 s.
	StartTimeout time.Duration
}

// Process runs and supervises the companion: it starts it, restarts it when it exits, and stops
// it on Close. Its sources wait for a running child rather than fail while one starts.
type Process struct {
	opts    Options
	dir     string
	sources []rollouts.Source

	mu      sync.Mutex
	pid     int
	up      bool
	err     error         // why no child runs, once a start failed or a child exited
	changed chan struct{} // closed and replaced when up or err change

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
	// A private directory: only this user can reach the socket, and so the instances.
	dir, err := os.MkdirTemp("", "portside-argocd-")
	if err != nil {
		return nil, fmt.Errorf("connector: %w", err)
	}
	p := &Process{opts: opts, dir: dir, changed: make(chan struct{}), done: make(chan struct{})}
	t := newTransport(p.socket(), p.ready)
	for _, inst := range opts.Instances {
		p.sources = append(p.sources, &source{name: inst.Name, t: t})
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

func (p *Process) socket() string { return filepath.Join(p.dir, "connector.sock") }

func (p *Process) set(up bool, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.up, p.err = up, err
	close(p.changed)
	p.changed = make(chan struct{})
}

// ready waits until a child listens; while none runs after a failure it says why at once.
func (p *Process) ready(ctx context.Context) error {
	for {
		p.mu.Lock()
		up, err, changed := p.up, p.err, p.changed
		p.mu.Unlock()
		switch {
		case up:
			return nil
		case err != nil:
			return errs.Wrap(errs.Unavailable, err, "%s is not running", BinaryName)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// supervise runs children one after another until ctx ends, waiting longer after each that
// failed soon.
func (p *Process) supervise(ctx context.Context) {
	defer close(p.done)
	backoff := p.opts.MinBackoff
	for {
		began := time.Now()
		err := p.run(ctx)
		if ctx.Err() != nil {
			p.set(false, errs.E(errs.Unavailable, "%s was stopped", BinaryName))
			return
		}
		p.set(false, err)
		if time.Since(began) > time.Minute {
			backoff = p.opts.MinBackoff
		}
		p.opts.Logger.ErrorContext(ctx, BinaryName+" exited; starting it again", "error", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			p.set(false, errs.E(errs.Unavailable, "%s was stopped", BinaryName))
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, p.opts.MaxBackoff)
		p.set(false, nil) // starting: callers wait for it
	}
}

// childEnv is the child's environment: Portside's, without its settings. The child needs none of
// them (its instances arrive on its standard input) and some are secrets; proxies, certificate
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

// run starts one child, hands it its configuration, waits for it to listen and then to exit.
func (p *Process) run(ctx context.Context) error {
	cmd := exec.Command(p.opts.Path)
	cmd.Stderr = p.opts.Stderr
	cmd.Env = childEnv(os.Environ())
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return errs.Wrap(errs.Unavailable, err, "starting %s", p.opts.Path)
	}
	p.mu.Lock()
	p.pid = cmd.Process.Pid
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.pid = 0
		p.mu.Unlock()
	}()
	exited := make(chan error, 1)
	shaken := make(chan error, 1)
	go func() {
		defer func() { exited <- cmd.Wait() }() // after the reads, as Wait closes the pipe
		cfg, _ := json.Marshal(childConfig{Socket: p.socket(), Instances: p.opts.Instances})
		if _, err := stdin.Write(append(cfg, '\n')); err != nil {
			shaken <- fmt.Errorf("%s exited before it read its configuration", BinaryName)
			return
		}
		line, err := bufio.NewReader(stdout).ReadBytes('\n')
		var hs handshake
		switch {
		case err != nil:
			shaken <- fmt.Errorf("%s exited before it listened", BinaryName)
		case json.Unmarshal(line, &hs) != nil:
			shaken <- fmt.Errorf("%s said %.200q instead of its handshake", BinaryName, line)
		case hs.Error != nil:
			shaken <- hs.Error.err()
		default:
			shaken <- nil
		}
	}()
	stop := func() error {
		_ = stdin.Close() // the child ends when its standard input does
		select {
		case err := <-exited:
			return err
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			return <-exited
		}
	}
	timer := time.NewTimer(p.opts.StartTimeout)
	defer timer.Stop()
	select {
	case err := <-shaken:
		if err != nil {
			_ = cmd.Process.Kill()
			<-exited
			return err
		}
	case <-timer.C:
		_ = cmd.Process.Kill()
		<-shaken
		<-exited
		return fmt.Errorf("%s did not listen within %s", BinaryName, p.opts.StartTimeout)
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-shaken
		<-exited
		return ctx.Err()
	}
	p.set(true, nil)
	p.opts.Logger.InfoContext(ctx, BinaryName+" started", "pid", cmd.Process.Pid, "instances", len(p.opts.Instances))
	select {
	case err := <-exited:
		if err == nil {
			err = errors.New("it exited by itself")
		}
		return fmt.Errorf("%s: %w", BinaryName, err)
	case <-ctx.Done():
		return stop()
	}
}

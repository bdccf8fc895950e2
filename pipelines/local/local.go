// Package local is the development pipeline provider: it runs a pipeline's declared stage commands
// as processes on the Portside host, stage by stage in a temporary work directory, failing fast.
// It exists for the demo and for development (serve --demo enables it); anywhere else it is off
// and refuses, because a catalog entry must never be able to run commands on the portal's host.
package local

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/proc"
	"github.com/portside-dev/portside/pipelines"
)

// Options configure the provider.
type Options struct {
	// Enabled lets the provider run commands; off, every trigger is refused.
	Enabled bool
	// WorkRoot holds the runs' work directories and logs; "" is the system temp directory.
	WorkRoot string
	// StageTimeout bounds one stage's command.
	StageTimeout time.Duration
	// MaxRuns bounds how many runs the provider remembers; the oldest finished ones are forgotten.
	MaxRuns int
	Logger  *slog.Logger
}

// Provider runs local pipelines.
type Provider struct {
	opts Options
	mu   sync.Mutex
	runs map[string]*run
	seq  []string // run IDs in start order, for forgetting the oldest
	wg   sync.WaitGroup
	ctx  context.Context
	stop context.CancelFunc
}

// New returns the provider. Close stops its runs.
func New(opts Options) *Provider {
	if opts.StageTimeout <= 0 {
		opts.StageTimeout = 30 * time.Minute
	}
	if opts.MaxRuns <= 0 {
		opts.MaxRuns = 500
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	ctx, stop := context.WithCancel(context.Background())
	return &Provider{opts: opts, runs: map[string]*run{}, ctx: ctx, stop: stop}
}

// Name is the provider's name in declarations.
func (p *Provider) Name() string { return pipelines.ProviderLocal }

// Close kills every running command and waits for the runs to end.
func (p *Provider) Close() error {
	p.stop()
	p.mu.Lock()
	for _, r := range p.runs {
		r.kill()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return nil
}

// run is one run's state; its fields are guarded by mu.
type run struct {
	mu        sync.Mutex
	id        string
	status    pipelines.Status
	message   string
	stages    []pipelines.Stage
	artifacts []pipelines.Artifact
	started   time.Time
	finished  *time.Time
	cancelled bool
	cmd       *exec.Cmd
}

func (r *run) kill() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cancelled = true
	if r.cmd != nil && r.cmd.Process != nil {
		killGroup(r.cmd)
	}
}

func (r *run) update() pipelines.Update {
	r.mu.Lock()
	defer r.mu.Unlock()
	started := r.started
	return pipelines.Update{ProviderRunID: r.id, Status: r.status, Message: r.message, StartedAt: &started, FinishedAt: r.finished,
		Stages: append([]pipelines.Stage(nil), r.stages...), Artifacts: append([]pipelines.Artifact{}, r.artifacts...)}
}

// ErrDisabled is why a trigger is refused when the provider is off.
var ErrDisabled = errs.E(errs.Unavailable, "the local pipeline provider runs commands on the Portside host and is for development only; "+
	"it is off here (enable it with the pipelines-local setting, or run serve --demo)")

// Trigger starts the pipeline's stages in a new work directory and returns at once.
func (p *Provider) Trigger(_ context.Context, req pipelines.TriggerRequest) (pipelines.Update, error) {
	if !p.opts.Enabled {
		return pipelines.Update{}, ErrDisabled
	}
	if p.ctx.Err() != nil {
		return pipelines.Update{}, errs.E(errs.Unavailable, "the local pipeline provider is shutting down")
	}
	root := p.opts.WorkRoot
	if root == "" {
		root = os.TempDir()
	}
	dir, err := os.MkdirTemp(root, "portside-run-"+strconv.FormatInt(req.RunID, 10)+"-")
	if err != nil {
		return pipelines.Update{}, errs.Wrap(errs.Unavailable, err, "local pipelines: make a work directory")
	}
	r := &run{id: "local-" + req.DispatchID + "@" + proc.Self().String(), status: pipelines.Running, started: time.Now().UTC()}
	for _, s := range req.Pipeline.Stages {
		r.stages = append(r.stages, pipelines.Stage{Name: s.Name, Status: pipelines.Queued})
	}
	p.remember(r)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.execute(r, dir, req)
	}()
	return r.update(), nil
}

// remember keeps r, forgetting the oldest finished runs beyond MaxRuns.
func (p *Provider) remember(r *run) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.runs[r.id] = r
	p.seq = append(p.seq, r.id)
	for i := 0; len(p.runs) > p.opts.MaxRuns && i < len(p.seq); {
		old := p.runs[p.seq[i]]
		old.mu.Lock()
		done := old.finished != nil
		old.mu.Unlock()
		if !done {
			i++
			continue
		}
		delete(p.runs, p.seq[i])
		p.seq = append(p.seq[:i], p.seq[i+1:]...)
	}
}

// execute runs the stages in order, failing fast, then removes the work directory (the logs
// stay, beside it, until the host's temp cleaning).
func (p *Provider) execute(r *run, dir string, req pipelines.TriggerRequest) {
	logs := dir + "-logs"
	defer os.RemoveAll(dir)
	_ = os.MkdirAll(logs, 0o700)
	output := filepath.Join(logs, "output")
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "PORTSIDE_RUN_ID=" + strconv.FormatInt(req.RunID, 10),
		"PORTSIDE_COMPONENT=" + req.Component, "PORTSIDE_PIPELINE=" + req.Pipeline.Name, "PORTSIDE_REF=" + req.Ref,
		"PORTSIDE_OUTPUT=" + output}
	for k, v := range req.Parameters {
		env = append(env, "PORTSIDE_PARAM_"+k+"="+v)
	}
	final := pipelines.Succeeded
	for i, s := range req.Pipeline.Stages {
		status := p.stage(r, i, s, dir, logs, env)
		if status != pipelines.Succeeded {
			final = status
			break
		}
	}
	now := time.Now().UTC()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cancelled {
		final = pipelines.Cancelled
	}
	r.status, r.finished = final, &now
	r.artifacts = readArtifacts(output)
}

// stage runs one stage's command in its own process group (so cancel reaches whatever it starts).
func (p *Provider) stage(r *run, i int, s pipelines.StageDecl, dir, logs string, env []string) pipelines.Status {
	logPath := filepath.Join(logs, fmt.Sprintf("%02d.log", i+1))
	logFile, err := os.Create(logPath)
	if err != nil {
		return p.finishStage(r, i, pipelines.Failed)
	}
	defer logFile.Close()
	ctx, cancel := context.WithTimeout(p.ctx, p.opts.StageTimeout)
	defer cancel()
	cmd := exec.Command("/bin/sh", "-c", s.Run)
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = dir, env, logFile, logFile
	setGroup(cmd)
	r.mu.Lock()
	if r.cancelled {
		r.mu.Unlock()
		return pipelines.Cancelled
	}
	now := time.Now().UTC()
	r.stages[i].Status, r.stages[i].StartedAt, r.stages[i].LogURL = pipelines.Running, &now, "file://"+logPath
	err = cmd.Start()
	if err == nil {
		r.cmd = cmd
	}
	r.mu.Unlock()
	if err != nil {
		fmt.Fprintf(logFile, "portside: could not start the command: %v\n", err)
		return p.finishStage(r, i, pipelines.Failed)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	timedOut := false
	select {
	case err = <-waited:
	case <-ctx.Done():
		timedOut = p.ctx.Err() == nil
		killGroup(cmd)
		err = <-waited
	}
	r.mu.Lock()
	r.cmd = nil
	cancelled := r.cancelled
	r.mu.Unlock()
	switch {
	case cancelled:
		return p.finishStage(r, i, pipelines.Cancelled)
	case timedOut:
		fmt.Fprintf(logFile, "portside: the stage ran longer than %s and was stopped\n", p.opts.StageTimeout)
		return p.finishStage(r, i, pipelines.TimedOut)
	case p.ctx.Err() != nil:
		return p.finishStage(r, i, pipelines.Cancelled)
	case err != nil:
		return p.finishStage(r, i, pipelines.Failed)
	}
	return p.finishStage(r, i, pipelines.Succeeded)
}

func (p *Provider) finishStage(r *run, i int, st pipelines.Status) pipelines.Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now().UTC()
	if r.stages[i].StartedAt == nil {
		r.stages[i].StartedAt = &now
	}
	r.stages[i].Status, r.stages[i].FinishedAt = st, &now
	return st
}

// readArtifacts reads what the stages wrote to $PORTSIDE_OUTPUT (see pipelines.OutputName).
func readArtifacts(path string) []pipelines.Artifact {
	f, err := os.Open(path)
	if err != nil {
		return []pipelines.Artifact{}
	}
	defer f.Close()
	return pipelines.ParseOutput(f)
}

// A local run lives in the process that started it: its ID names that process after an "@"
// (proc.Identity: host, PID, start time), since every process sharing the database follows
// every active run (serve's poll, a `pipeline trigger` following its own). A run of another
// process that still runs is that process's to report; one whose process is gone (it died, or
// Portside restarted) is no one's, and NotFound says so.

// runningElsewhere says whether rn is another process's run that still runs: on this host, its
// process runs; on another host (or in another PID namespace: a restarted container's), which no
// process here can see, it has not outlived the longest run this provider allows, a stage
// timeout for each of its stages (longest).
func (p *Provider) runningElsewhere(rn pipelines.Run, decl pipelines.Declaration) (proc.Identity, bool) {
	id := rn.ProviderRunID
	i := strings.LastIndexByte(id, '@')
	if i < 0 {
		return proc.Identity{}, false // an ID from before runs named their process
	}
	owner, ok := proc.Parse(id[i+1:])
	if !ok || owner == proc.Self() {
		return owner, false
	}
	if owner.Host == proc.Self().Host {
		return owner, !owner.Gone()
	}
	started := rn.CreatedAt
	if rn.StartedAt != nil {
		started = *rn.StartedAt
	}
	return owner, time.Since(started) < p.longest(decl)
}

// longest is the longest a run of decl can last here: each stage its timeout, and a minute more.
func (p *Provider) longest(decl pipelines.Declaration) time.Duration {
	return time.Duration(max(len(decl.Stages), 1))*p.opts.StageTimeout + time.Minute
}

func (p *Provider) lookup(id string) (*run, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := p.runs[id]
	if r == nil {
		return nil, errs.E(errs.NotFound, "the local provider has no run %s (it keeps runs in memory, in the process that started them: that process has ended since)", id)
	}
	return r, nil
}

// Status reads a run's state. Another live process's run is left as recorded: that process
// reports it (runningElsewhere).
func (p *Provider) Status(_ context.Context, rn pipelines.Run, decl pipelines.Declaration) (pipelines.Update, error) {
	r, err := p.lookup(rn.ProviderRunID)
	if err != nil {
		if _, elsewhere := p.runningElsewhere(rn, decl); elsewhere {
			return pipelines.Update{}, nil
		}
		return pipelines.Update{}, err
	}
	return r.update(), nil
}

// Cancel kills the running stage's process group; the stages after it never start. Another live
// process's run is refused, naming that process: only it can stop its commands.
func (p *Provider) Cancel(_ context.Context, rn pipelines.Run, decl pipelines.Declaration) error {
	r, err := p.lookup(rn.ProviderRunID)
	if err != nil {
		if owner, elsewhere := p.runningElsewhere(rn, decl); elsewhere {
			return errs.E(errs.Conflict, "pipeline run %d runs in process %d on %s, a local run that only that process can stop: "+
				"interrupt that `pipeline trigger`, or stop that Portside", rn.ID, owner.PID, owner.Host)
		}
		return err
	}
	r.kill()
	return nil
}

// Retry runs the whole pipeline again: local runs keep nothing to resume from.
func (p *Provider) Retry(ctx context.Context, _ pipelines.Run, req pipelines.TriggerRequest) (pipelines.Update, error) {
	return p.Trigger(ctx, req)
}

package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/deploys"
	"github.com/portside-dev/portside/deploys/gitops"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/pipelines"
	"github.com/portside-dev/portside/rollouts"
)

// deploys builds the deploy-request service: requests proved by the pipeline runs, applied by the
// GitOps committer, held by Argo CD's sync windows and closed by the rollouts of their commits.
func (a *app) deploys(cat *catalog.Service, ps *pipelines.Service, rs *rollouts.Service) (*deploys.Service, error) {
	committer, err := gitops.New(gitops.Options{Dir: a.cfg.DeployGitDir})
	if err != nil {
		return nil, err
	}
	envs := map[string]deploys.EnvironmentPolicy{}
	for _, e := range a.cfg.DeployApprovalEnvs {
		envs[e] = deploys.EnvironmentPolicy{RequireApproval: true, Expiry: a.cfg.DeployRequestExpiry}
	}
	// An environment not listed needs no approval (its requests never wait, so never expire).
	for _, e := range []string{"production", "prod"} {
		if _, ok := envs[e]; !ok {
			envs[e] = deploys.EnvironmentPolicy{RequireApproval: false}
		}
	}
	return deploys.NewService(a.store, deploys.Options{
		Catalog:      cat,
		Builds:       pipelineBuilds{ps},
		Applier:      committer,
		SyncWindows:  syncWindows{rs},
		Rollouts:     rolloutEvents{rs},
		Environments: envs,
		PortalURL:    a.cfg.PublicURL,
		Audit:        a.auditLog(),
		Logger:       a.log,
	}), nil
}

// pipelineBuilds proves deploy versions with the component's successful pipeline runs.
type pipelineBuilds struct{ ps *pipelines.Service }

func (b pipelineBuilds) SucceededBuilds(ctx context.Context, component string, limit int) ([]deploys.Build, error) {
	page, err := b.ps.Runs(ctx, pipelines.Filter{Component: component, Statuses: []pipelines.Status{pipelines.Succeeded}}, min(limit, pipelines.MaxPage), "")
	if err != nil {
		return nil, err
	}
	out := make([]deploys.Build, len(page.Runs))
	for i, r := range page.Runs {
		out[i] = deploys.Build{RunID: r.ID, CommitSHA: r.CommitSHA}
		for _, art := range r.Artifacts {
			if art.Image != "" {
				out[i].Images = append(out[i].Images, art.Image)
			}
			if art.Version != "" {
				out[i].Versions = append(out[i].Versions, art.Version)
			}
		}
	}
	return out, nil
}

// syncWindows asks Argo CD whether the component's application in the environment may sync now.
type syncWindows struct{ rs *rollouts.Service }

func (w syncWindows) Blocked(ctx context.Context, _ string, annotations map[string]string, env string) (string, error) {
	ds, err := w.rs.Deployments(ctx, annotations)
	if err != nil {
		return "", err
	}
	for _, d := range ds {
		if d.Environment != env {
			continue
		}
		sw, err := w.rs.SyncWindows(ctx, d)
		if errs.Is(err, errs.NotFound) {
			continue
		}
		if err != nil {
			return "", err
		}
		if !sw.CanSync {
			var active []string
			for _, a := range sw.Active {
				active = append(active, fmt.Sprintf("%s %q for %s", a.Kind, a.Schedule, a.Duration))
			}
			return fmt.Sprintf("Argo CD's sync windows forbid syncing %s now (%s)", d.Application, strings.Join(active, ", ")), nil
		}
	}
	return "", nil
}

// rolloutEvents turns the rollouts tracker's recorded rollouts into the events deploy requests
// follow. A subscription cut off for falling behind is opened again.
type rolloutEvents struct{ rs *rollouts.Service }

func (r rolloutEvents) RolloutEvents(ctx context.Context) <-chan deploys.RolloutEvent {
	out := make(chan deploys.RolloutEvent)
	go func() {
		defer close(out)
		for ctx.Err() == nil {
			sub := r.rs.Tracker().Subscribe(ctx, func(c rollouts.Change) bool { return c.Rollout != nil })
			for c := range sub.C() {
				select {
				case out <- rolloutEvent(c.Rollout):
				case <-ctx.Done():
					sub.Close()
					return
				}
			}
			select {
			case <-ctx.Done():
			case <-time.After(time.Second): // the tracker stopped or cut us off: open again, gently
			}
		}
	}()
	return out
}

// rolloutEvent is what a recorded rollout says about its revision.
func rolloutEvent(ro *rollouts.Rollout) deploys.RolloutEvent {
	ev := deploys.RolloutEvent{Revision: ro.Revision, Message: ro.Message}
	switch ro.Result {
	case rollouts.ResultSucceeded:
		ev.Result = deploys.RolloutSucceeded
	case rollouts.ResultFailed:
		ev.Result = deploys.RolloutFailed
	case rollouts.ResultAborted:
		ev.Result = deploys.RolloutAborted
	default:
		ev.Result = deploys.RolloutRunning
	}
	if c := ro.Canary; c != nil && len(c.Reached) > 0 {
		last := c.Reached[len(c.Reached)-1]
		ev.Progress = fmt.Sprintf("canary step %d of %d, weight %d%%", last.Step+1, len(c.Steps), last.Weight)
		if last.Step >= len(c.Steps) {
			ev.Progress = fmt.Sprintf("canary steps done, weight %d%%", last.Weight)
		}
	}
	return ev
}

package main

import (
	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/deploys"
	"github.com/portside-dev/portside/deploys/bridge"
	"github.com/portside-dev/portside/deploys/gitops"
	"github.com/portside-dev/portside/pipelines"
	"github.com/portside-dev/portside/rollouts"
)

// deploys builds the deploy-request service: requests proved by the pipeline runs, applied by the
// GitOps committer (pushed, or proposed in a pull request opened through the pipeline providers'
// clients: call a.pipelines first), held by Argo CD's sync windows and closed by the rollouts of
// their commits (or, when no rollout names a commit, by its applications synced at or past it).
func (a *app) deploys(cat *catalog.Service, ps *pipelines.Service, rs *rollouts.Service) (*deploys.Service, error) {
	opts, err := a.deployOptions(cat, ps)
	if err != nil {
		return nil, err
	}
	opts.SyncWindows = bridge.SyncWindows{Rollouts: rs}
	opts.Rollouts = bridge.RolloutEvents{Rollouts: rs}
	opts.Bus = a.bus
	opts.Applications = bridge.Applications{Rollouts: rs}
	opts.Refresher = bridge.Refresher{Rollouts: rs}
	return deploys.NewService(a.store, opts), nil
}

// deployOptions are the deploy-request service's options but for Argo CD's (sync windows, rollouts).
func (a *app) deployOptions(cat *catalog.Service, ps *pipelines.Service) (deploys.Options, error) {
	committer, err := gitops.New(gitops.Options{Dir: a.cfg.DeployGitDir})
	if err != nil {
		return deploys.Options{}, err
	}
	a.closers = append(a.closers, func() {
		if err := committer.Close(); err != nil {
			a.log.Warn("deploys: remove the temporary GitOps working directory", "error", err)
		}
	})
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
	opts := deploys.Options{
		Catalog:      cat,
		Builds:       bridge.PipelineBuilds{Pipelines: ps},
		Applier:      committer,
		Proposer:     committer,
		Lineage:      committer,
		PullRequests: a.codeHosts,
		Environments: envs,
		PortalURL:    a.cfg.PublicURL,
		Audit:        a.auditLog(),
		Logger:       a.log,
	}
	if a.metrics != nil { // serve's; the CLI commands keep none
		opts.Observer = a.metrics
	}
	return opts, nil
}

// bridgeSyncWindows asks Argo CD's sync windows through the rollouts service, as serve does.
func bridgeSyncWindows(rs *rollouts.Service) deploys.SyncWindows {
	return bridge.SyncWindows{Rollouts: rs}
}

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
		Builds:       bridge.PipelineBuilds{Pipelines: ps},
		Applier:      committer,
		SyncWindows:  bridge.SyncWindows{Rollouts: rs},
		Rollouts:     bridge.RolloutEvents{Rollouts: rs},
		Environments: envs,
		PortalURL:    a.cfg.PublicURL,
		Audit:        a.auditLog(),
		Logger:       a.log,
	}), nil
}

package main

import (
	"sync"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/pipelines"
	ghp "github.com/portside-dev/portside/pipelines/github"
	glp "github.com/portside-dev/portside/pipelines/gitlab"
	"github.com/portside-dev/portside/pipelines/local"
	"github.com/portside-dev/portside/runbooks"
	"github.com/portside-dev/portside/server"
)

var registerOnce sync.Once

// registerCatalogChecks makes catalog validation (catalog validate, ingestion) check the
// declarations other domains keep in annotations: pipelines' portside.dev/pipelines, runbooks'
// portside.dev/runbooks and portside.dev/dashboards. The catalog does not import the domains;
// they meet here.
func registerCatalogChecks() {
	registerOnce.Do(func() {
		backstage.RegisterAnnotationCheck(pipelines.AnnotationPipelines, pipelines.CheckAnnotation)
		backstage.RegisterAnnotationCheck(runbooks.AnnotationRunbooks, runbooks.CheckAnnotation)
		backstage.RegisterAnnotationCheck(runbooks.AnnotationDashboards, runbooks.CheckAnnotation)
	})
}

// webhooks are the CI engines' webhook receivers serve mounts.
type webhooks struct {
	github *server.GitHubWebhook
	gitlab *server.GitLabWebhook
}

// pipelines builds the pipelines service over the configured providers: GitHub Actions and GitLab
// CI always (a pipeline without a token answers the engine's refusal), local only where enabled
// (it refuses otherwise). The closer stops the local provider's runs.
func (a *app) pipelines(cat *catalog.Service) (*pipelines.Service, webhooks, func(), error) {
	token, secret, err := a.cfg.GitHubCredentials()
	if err != nil {
		return nil, webhooks{}, nil, err
	}
	gh, err := ghp.New(ghp.Options{BaseURL: a.cfg.GitHubAPIURL, Token: token, RequestsPerHour: a.cfg.GitHubRequestsPerHour})
	if err != nil {
		return nil, webhooks{}, nil, err
	}
	glToken, glSecret, err := a.cfg.GitLabCredentials()
	if err != nil {
		return nil, webhooks{}, nil, err
	}
	gl, err := glp.New(glp.Options{BaseURL: a.cfg.GitLabURL, Token: glToken})
	if err != nil {
		return nil, webhooks{}, nil, err
	}
	loc := local.New(local.Options{Enabled: a.cfg.PipelinesLocal || a.cfg.Demo, Logger: a.log})
	if a.cfg.PipelinesLocal || a.cfg.Demo {
		a.log.Warn("the local pipeline provider is on: catalog entries can run commands on this host; for development only")
	}
	svc := pipelines.NewService(a.store, pipelines.Options{Catalog: cat, Audit: a.auditLog(), Logger: a.log,
		Providers: []pipelines.Provider{gh, gl, loc},
		Follower: pipelines.FollowerOptions{Interval: a.cfg.PipelinesPollInterval, Batch: a.cfg.PipelinesPollBatch,
			Concurrency: a.cfg.PipelinesPollConcurrency}})
	hooks := webhooks{github: &server.GitHubWebhook{Secret: []byte(secret), Runs: svc, Audit: a.auditLog()},
		gitlab: &server.GitLabWebhook{Secret: []byte(glSecret), Runs: svc, Audit: a.auditLog()}}
	return svc, hooks, func() { _ = loc.Close() }, nil
}

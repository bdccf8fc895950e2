package main

import (
	"sync"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/pipelines"
	ghp "github.com/portside-dev/portside/pipelines/github"
	"github.com/portside-dev/portside/pipelines/local"
	"github.com/portside-dev/portside/server"
)

var registerOnce sync.Once

// registerCatalogChecks makes catalog validation (catalog validate, ingestion) check the
// declarations other domains keep in annotations: pipelines' portside.dev/pipelines. The catalog
// does not import the domains; they meet here.
func registerCatalogChecks() {
	registerOnce.Do(func() {
		backstage.RegisterAnnotationCheck(pipelines.AnnotationPipelines, pipelines.CheckAnnotation)
	})
}

// pipelines builds the pipelines service over the configured providers: GitHub Actions always
// (a GitHub pipeline without a token answers GitHub's refusal), local only where enabled (it
// refuses otherwise). The closer stops the local provider's runs.
func (a *app) pipelines(cat *catalog.Service) (*pipelines.Service, *server.GitHubWebhook, func(), error) {
	token, secret, err := a.cfg.GitHubCredentials()
	if err != nil {
		return nil, nil, nil, err
	}
	gh, err := ghp.New(ghp.Options{BaseURL: a.cfg.GitHubAPIURL, Token: token, RequestsPerHour: a.cfg.GitHubRequestsPerHour})
	if err != nil {
		return nil, nil, nil, err
	}
	loc := local.New(local.Options{Enabled: a.cfg.PipelinesLocal || a.cfg.Demo, Logger: a.log})
	if a.cfg.PipelinesLocal || a.cfg.Demo {
		a.log.Warn("the local pipeline provider is on: catalog entries can run commands on this host; for development only")
	}
	svc := pipelines.NewService(a.store, pipelines.Options{Catalog: cat, Audit: a.auditLog(), Logger: a.log,
		Providers: []pipelines.Provider{gh, loc},
		Follower: pipelines.FollowerOptions{Interval: a.cfg.PipelinesPollInterval, Batch: a.cfg.PipelinesPollBatch,
			Concurrency: a.cfg.PipelinesPollConcurrency}})
	hook := &server.GitHubWebhook{Secret: []byte(secret), Runs: svc, Audit: a.auditLog()}
	return svc, hook, func() { _ = loc.Close() }, nil
}

package main

import (
	"context"
	"sync"
	"time"

	"github.com/portside-dev/portside/alerts"
	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/deploys/pullrequests"
	"github.com/portside-dev/portside/pipelines"
	ghp "github.com/portside-dev/portside/pipelines/github"
	glp "github.com/portside-dev/portside/pipelines/gitlab"
	kjplugin "github.com/portside-dev/portside/pipelines/kubejobs/plugin"
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
		// Portside's own remediation annotation is checked; Grafana's alert-label-selector is not,
		// so that Backstage catalogs import unchanged (a selector Portside cannot read maps nothing).
		backstage.RegisterAnnotationCheck(alerts.AnnotationRemediation, alerts.CheckRemediationAnnotation)
	})
}

// webhooks are the CI engines' webhook receivers serve mounts.
type webhooks struct {
	github *server.GitHubWebhook
	gitlab *server.GitLabWebhook
}

// kubeJobs is the Kubernetes Jobs provider when it is configured (nil otherwise): its engine runs
// in the companion, which serve starts with it as an extension. A bad setting stops the start
// with a message that names it.
func (a *app) kubeJobs() (*kjplugin.Provider, error) {
	on, err := a.cfg.KubernetesJobs()
	if err != nil || !on {
		return nil, err
	}
	return kjplugin.New(kjplugin.Config{Kubeconfig: a.cfg.KubernetesJobsKubeconfig, InCluster: a.cfg.KubernetesJobsInCluster,
		Namespace: a.cfg.KubernetesJobsNamespace}, a.log), nil
}

// nudgeTimeout bounds the look at a run that a Kubernetes change notice asks for.
const nudgeTimeout = 20 * time.Second

// pipelines builds the pipelines service over the configured providers: GitHub Actions and GitLab
// CI always (a pipeline without a token answers the engine's refusal), Kubernetes Jobs when kj is
// configured, local only where enabled (it refuses otherwise). The closer stops the local
// provider's runs.
func (a *app) pipelines(cat *catalog.Service, kj *kjplugin.Provider) (*pipelines.Service, webhooks, func(), error) {
	token, secret, err := a.cfg.GitHubCredentials()
	if err != nil {
		return nil, webhooks{}, nil, err
	}
	gh, err := ghp.New(ghp.Options{BaseURL: a.cfg.GitHubAPIURL, Token: token, RequestsPerHour: a.cfg.GitHubRequestsPerHour,
		HTTPClient: a.tracing.Client(30 * time.Second)}) // nil when tracing is off: the provider's own
	if err != nil {
		return nil, webhooks{}, nil, err
	}
	glToken, glSecret, err := a.cfg.GitLabCredentials()
	if err != nil {
		return nil, webhooks{}, nil, err
	}
	gl, err := glp.New(glp.Options{BaseURL: a.cfg.GitLabURL, Token: glToken, HTTPClient: a.tracing.Client(30 * time.Second)})
	if err != nil {
		return nil, webhooks{}, nil, err
	}
	// Deploy requests open their pull requests with the same clients: one token, one budget per host.
	a.codeHosts = pullrequests.Hosts{GitHub: gh, GitLab: gl}
	loc := local.New(local.Options{Enabled: a.cfg.PipelinesLocal || a.cfg.Demo, Logger: a.log})
	if a.cfg.PipelinesLocal || a.cfg.Demo {
		a.log.Warn("the local pipeline provider is on: catalog entries can run commands on this host; for development only")
	}
	providers := []pipelines.Provider{gh, gl, loc}
	if kj != nil {
		providers = append(providers, kj)
	}
	popts := pipelines.Options{Catalog: cat, Audit: a.auditLog(), Logger: a.log,
		Providers: providers, Bus: a.bus,
		Follower: pipelines.FollowerOptions{Interval: a.cfg.PipelinesPollInterval, Batch: a.cfg.PipelinesPollBatch,
			Concurrency: a.cfg.PipelinesPollConcurrency}}
	if a.metrics != nil { // serve's; the CLI commands keep none
		popts.Observer = a.metrics
		for _, p := range providers {
			a.metrics.PipelineProviders(p.Name())
		}
	}
	svc := pipelines.NewService(a.store, popts)
	if kj != nil {
		// A Job or Pod of a run changed (the companion's informer saw it): look at the run now,
		// as a GitHub webhook makes Portside do; the follower's polling is the fallback.
		kj.OnChange(func(providerRunID string) {
			ctx, cancel := context.WithTimeout(context.Background(), nudgeTimeout)
			defer cancel()
			if err := svc.Nudge(ctx, pipelines.ProviderKubernetes, providerRunID); err != nil {
				a.log.InfoContext(ctx, "kubejobs: read the run later", "run", providerRunID, "error", err)
			}
		})
	}
	hooks := webhooks{github: &server.GitHubWebhook{Secret: []byte(secret), Runs: svc, Audit: a.auditLog()},
		gitlab: &server.GitLabWebhook{Secret: []byte(glSecret), Runs: svc, Audit: a.auditLog()}}
	return svc, hooks, func() { _ = loc.Close() }, nil
}

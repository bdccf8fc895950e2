// Package graph is Portside's GraphQL API: the schema (schema/*.graphqls), gqlgen's generated
// executor, thin resolvers over the domain services, and the HTTP handler with its limits and
// error presentation.
package graph

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/portside-dev/portside/alerts"
	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth"
	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/deploys"
	"github.com/portside-dev/portside/pipelines"
	"github.com/portside-dev/portside/rollouts"
	"github.com/portside-dev/portside/runbooks"
	"github.com/portside-dev/portside/tasks"
)

// Resolver holds the services resolvers call. It is shared by all requests.
type Resolver struct {
	Catalog        *catalog.Service
	Auth           *auth.Service
	Audit          *audit.Log
	RolloutService *rollouts.Service
	// PipelineService runs and follows pipelines.
	PipelineService *pipelines.Service
	// TaskService keeps status-meeting projects and tasks.
	TaskService *tasks.Service
	// RunbookService keeps runbooks and reads the catalog's runbook and dashboard links.
	RunbookService *runbooks.Service
	// DeployService keeps deploy requests and moves them through their states.
	DeployService *deploys.Service
	// AlertService keeps Alertmanager's alerts and answers what they mean for their components.
	AlertService *alerts.Service
	// SlackProfiles reads what Slack shows of a Slack user (slack.Bot has it), for the link
	// preview; nil when Slack is not set up (the preview then names the IDs alone).
	SlackProfiles SlackProfiles

	fragmentsOnce sync.Once
	fragmentCache *fragmentCache // see fragments.go
	// cacheRules are the schema's @cache rules, read by NewHandler (see cacherules.go).
	cacheRules atomic.Pointer[cacheRules]
}

// SlackProfiles reads a Slack user's profile (users.info).
type SlackProfiles interface {
	SlackProfile(ctx context.Context, team, user string) (auth.SlackProfile, error)
}

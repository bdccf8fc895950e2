package graph

import (
	"math"
	"time"

	"github.com/portside-dev/portside/graph/model"
)

// What the complexity limit assumes of lists that take no first argument. Their length is
// bounded by something other than the query: the entity's own document (tags, labels, links),
// what Argo CD reports of one application, the caller's own credentials. Each is weighed as this
// many items, so that nesting multiplies (TestEveryListFieldIsWeighed keeps every list field in
// this table or weighed by its first argument).
const (
	entityListFanout     = 10  // labels, annotations, tags, links, targets of one entity
	locationErrFanout    = 100 // problems of one location's last refresh
	deploymentsFanout    = 10  // applications mapped to one component
	argoListFanout       = 10  // images, conditions, sync windows, Argo CD instances
	canaryListFanout     = 20  // canary steps and analysis runs
	identityListFanout   = 20  // a caller's groups, scopes, sessions, API tokens
	facetValuesFanout    = 100 // Facet.values at the default limit; Query.facets scales for others
	pipelinesFanout      = 10  // pipelines of one component (a declaration allows 20; a few is usual)
	pipelineListFanout   = 10  // parameters, options, stages, artifacts of one pipeline or run (typical, below the declaration's bounds)
	taskListFanout       = 20  // labels, links of one task, members of one project (bounded by tasks.MaxLabels, MaxLinks, MaxMembers)
	projectsFanout       = 50  // projects (tasks.MaxProjects bounds them; a few dozen is usual)
	importFanout         = 500 // the tasks one import answers with (tasks.MaxImportRows)
	meetingChangesFanout = 100 // changes between two meetings (a few per task that moved)
	transitionsFanout    = 20  // transitions of one deploy request (about 6; canary steps add a few; deploys.MaxTransitions bounds them)
	runbooksFanout       = 10  // runbooks, runbook links and dashboards of one entity; the entities one runbook is linked to
	alertRulesFanout     = 200 // alert rules in the report (alerts.MaxRules bounds them at 1000; a few hundred is usual)
	alertsFanout         = 100 // alerts on one rollout (alerts.MaxPage)
	gapsFanout           = 3   // what an alert rule can lack: owner, runbook, remediation time
	renderCost           = 50  // rendering a runbook's Markdown (cached by version) or diffing two versions
	// tableCost is reading and writing a project's whole task table (up to tasks.MaxTasksPerProj
	// rows, megabytes of text): a meeting report or an export. Weighed by what it costs rather
	// than as one field, so that aliases of it cannot build hundreds of megabytes in one request
	// (at the default limit, ten at most).
	tableCost = 2000
)

// setComplexity weighs every list by the items it can hold times what each item selects, so that
// nested lists multiply: connections by their page size, relation lists by their first argument
// (at most RelationListMax), the other lists by the fan-outs above. Without it a relation list
// cost what one item did, and members > memberOf > members ... eight deep ran for minutes.
func setComplexity(c *ComplexityRoot) {
	page := func(child int, first *int) int { return weigh(pageCost(first), child) }
	c.Query.Entities = func(child int, _ *model.EntityFilter, _ *model.EntityOrder, first *int, _ *string) int {
		return page(child, first)
	}
	c.Query.Locations = func(child int, first *int, _ *string) int { return page(child, first) }
	c.Group.OwnedEntities = func(child int, _ *bool, _ *model.EntityFilter, _ *model.EntityOrder, first *int, _ *string) int {
		return page(child, first)
	}
	c.User.OwnedEntities = func(child int, _ *model.EntityFilter, _ *model.EntityOrder, first *int, _ *string) int {
		return page(child, first)
	}
	c.Location.Entities = func(child int, first *int, _ *string) int { return page(child, first) }
	c.Query.Rollouts = func(child int, _ *model.RolloutFilter, first *int, _ *string) int { return page(child, first) }
	c.Component.Rollouts = func(child int, _ *model.ComponentRolloutFilter, first *int, _ *string) int {
		return page(child, first)
	}
	c.Query.AuditRecords = func(child int, _ *model.AuditFilter, first *int, _ *string) int { return page(child, first) }
	c.Query.PipelineRuns = func(child int, _ *model.PipelineRunFilter, first *int, _ *string) int { return page(child, first) }
	c.Pipeline.Runs = func(child int, _ *model.PipelineRunsFilter, first *int, _ *string) int { return page(child, first) }
	c.Query.Tasks = func(child int, _ *model.TaskFilter, first *int, _ *string) int { return page(child, first) }
	c.Project.Tasks = func(child int, _ *model.ProjectTaskFilter, first *int, _ *string) int { return page(child, first) }
	c.Query.DeployRequests = func(child int, _ *model.DeployRequestFilter, first *int, _ *string) int { return page(child, first) }
	c.Component.DeployRequests = func(child int, _ *model.ComponentDeployRequestFilter, first *int, _ *string) int {
		return page(child, first)
	}

	// A connection's edges and nodes are its page, which the connection field has weighed.
	perPage := func(child int) int { return 1 + child }
	c.EntityConnection.Edges, c.EntityConnection.Nodes = perPage, perPage
	c.LocationConnection.Edges, c.LocationConnection.Nodes = perPage, perPage
	c.RolloutConnection.Edges, c.RolloutConnection.Nodes = perPage, perPage
	c.AuditRecordConnection.Nodes = perPage
	c.PipelineRunConnection.Edges, c.PipelineRunConnection.Nodes = perPage, perPage
	c.TaskConnection.Edges, c.TaskConnection.Nodes = perPage, perPage
	c.DeployRequestConnection.Edges, c.DeployRequestConnection.Nodes = perPage, perPage

	// Relation lists: first items, RelationListDefault when not given.
	rel := func(child int, first *int) int {
		n := RelationListDefault
		if first != nil && *first > 0 {
			n = *first
		}
		return weigh(n, child)
	}
	relations := func(child int, _ *string, first *int) int { return rel(child, first) }
	c.API.Relations, c.Component.Relations, c.Domain.Relations, c.Group.Relations = relations, relations, relations, relations
	c.LocationEntity.Relations, c.Resource.Relations, c.System.Relations, c.User.Relations = relations, relations, relations, relations
	c.API.Providers, c.API.Consumers = rel, rel
	c.Component.Subcomponents, c.Component.DependsOn, c.Component.Dependents = rel, rel, rel
	c.Component.ProvidesApis, c.Component.ConsumesApis = rel, rel
	c.System.Components, c.System.Apis, c.System.Resources = rel, rel, rel
	c.Domain.Subdomains, c.Domain.Systems = rel, rel
	c.Resource.DependsOn, c.Resource.Dependents = rel, rel
	c.Group.Children, c.Group.Members = rel, rel
	c.User.MemberOf = rel

	// An entity's own lists.
	own := fanout(entityListFanout)
	c.API.Labels, c.API.Annotations, c.API.Tags, c.API.Links = own, own, own, own
	c.Component.Labels, c.Component.Annotations, c.Component.Tags, c.Component.Links = own, own, own, own
	c.Domain.Labels, c.Domain.Annotations, c.Domain.Tags, c.Domain.Links = own, own, own, own
	c.Group.Labels, c.Group.Annotations, c.Group.Tags, c.Group.Links = own, own, own, own
	c.LocationEntity.Labels, c.LocationEntity.Annotations, c.LocationEntity.Tags, c.LocationEntity.Links = own, own, own, own
	c.LocationEntity.Targets = own
	c.Resource.Labels, c.Resource.Annotations, c.Resource.Tags, c.Resource.Links = own, own, own, own
	c.System.Labels, c.System.Annotations, c.System.Tags, c.System.Links = own, own, own, own
	c.User.Labels, c.User.Annotations, c.User.Tags, c.User.Links = own, own, own, own

	// A location's errors are a page: without a weight, aliases of a large error list answered
	// hundreds of megabytes to one viewer's query.
	c.Location.Errors = func(child int, first *int) int { return page(child, first) }
	c.RefreshLocationPayload.Errors = fanout(locationErrFanout)
	c.Facet.Values = fanout(facetValuesFanout)
	c.Query.Facets = func(child int, _ *model.EntityFilter, fields []model.FacetField, limit *int) int {
		// Facet.values weighed facetValuesFanout values; a larger limit scales it.
		scale := 1
		if limit != nil && *limit > facetValuesFanout {
			scale = (*limit + facetValuesFanout - 1) / facetValuesFanout
		}
		return weigh(max(len(fields), 1)*scale, child)
	}

	// Rollouts.
	c.Component.Deployments = fanout(deploymentsFanout)
	argo := fanout(argoListFanout)
	c.Deployment.Images, c.Deployment.Conditions, c.Rollout.Images = argo, argo, argo
	c.SyncWindows.Active, c.SyncWindows.Assigned, c.Query.ArgoCDInstances = argo, argo, argo
	canary := fanout(canaryListFanout)
	c.Canary.Steps, c.Canary.Analysis = canary, canary
	c.CanaryProgress.Steps, c.CanaryProgress.Reached, c.CanaryProgress.Analysis = canary, canary, canary
	// DORA metrics read a window of history: in a list of 50 components they weigh like 50 pages.
	dora := func(child int, _ *time.Time, _ *time.Time) int { return doraCost + child }
	c.Component.Dora, c.System.Dora, c.Group.Dora, c.Query.Dora = dora, dora, dora, dora
	// Sync windows are asked of Argo CD, one call per deployment.
	c.Deployment.SyncWindows = func(child int) int { return syncWindowsCost + child }

	// Pipelines: a component's declarations and what each run records, bounded by the
	// declaration's limits.
	c.Component.Pipelines = fanout(pipelinesFanout)
	pl := fanout(pipelineListFanout)
	c.Pipeline.Parameters, c.Pipeline.Stages, c.PipelineParameter.Options = pl, pl, pl
	c.PipelineRun.Parameters, c.PipelineRun.Stages, c.PipelineRun.Artifacts = pl, pl, pl

	// Tasks: a task's own lists are bounded by the domain; its thread and history by first.
	tl := fanout(taskListFanout)
	c.Task.Labels, c.Task.Links, c.Project.Members = tl, tl, tl
	c.Task.Comments, c.Task.History = rel, rel
	c.Query.Projects = fanout(projectsFanout)
	// Meetings: a page of them by first; what changed is bounded by the project's tasks (a
	// meeting diff reads two snapshots, weighed like a page of tasks).
	c.Project.Meetings = func(child int, first *int) int { return page(child, first) }
	c.Project.ChangesSinceLastMeeting = fanout(meetingChangesFanout)
	c.Meeting.Changes = fanout(meetingChangesFanout)
	// An import's answer is its table: at most tasks.MaxImportRows tasks, and as many problems.
	c.ImportTasksPayload.Tasks = fanout(importFanout)
	c.ImportTasksPayload.Errors = fanout(locationErrFanout)
	// Deploy requests: a request's history; a component's environments (a few, like its targets).
	c.DeployRequest.Transitions = fanout(transitionsFanout)
	c.Component.DeployEnvironments = fanout(entityListFanout)
	// Runbooks: a page of them, an entity's few, and the costly fields (rendering, diffs) at a
	// price, so that aliases cannot ask for thousands of renderings at once.
	c.Query.Runbooks = func(child int, _ *model.RunbookFilter, first *int, _ *string) int { return page(child, first) }
	c.SearchResults.Entities = func(child int, first *int) int { return page(child, first) }
	c.SearchResults.Runbooks = func(child int, first *int) int { return page(child, first) }
	c.RunbookConnection.Edges, c.RunbookConnection.Nodes = perPage, perPage
	rb := fanout(runbooksFanout)
	c.Component.Runbooks, c.Component.RunbookLinks, c.System.Runbooks, c.System.RunbookLinks = rb, rb, rb, rb
	c.Component.Dashboards = func(child int, _ *string) int { return weigh(runbooksFanout, child) }
	c.Runbook.LinkedRefs, c.Runbook.LinkedEntities, c.CatalogLink.Missing = rb, rb, rb
	c.Runbook.Versions = func(child int, first *int) int { return page(child, first) }
	c.Runbook.HTML = func(child int) int { return renderCost + child }
	c.Query.MeetingReport = func(child int, _ string, _ *model.MeetingReportFormat) int { return tableCost + child }
	c.Query.ExportTasks = func(child int, _ string, _ *model.TaskTableFormat) int { return tableCost + child }
	c.Runbook.Diff = func(child int, _ int, _ int) int { return renderCost + child }

	// Alerts: a component's page by first, a rollout's at most a page, an alert's labels like an
	// entity's, its rule's runbooks like an entity's; the rules report at its usual size.
	c.Component.Alerts = func(child int, _ *model.AlertStatus, first *int) int { return page(child, first) }
	c.Rollout.Alerts = fanout(alertsFanout)
	c.Alert.Labels, c.Alert.Annotations = own, own
	c.AlertGuidance.Runbooks, c.AlertGuidance.Missing = rb, fanout(gapsFanout)
	c.Query.AlertRules = func(child int, _ *bool) int { return weigh(alertRulesFanout, child) }
	c.Task.Suggestions = tl

	// The caller's own identity.
	id := fanout(identityListFanout)
	c.Viewer.Groups, c.Viewer.Scopes, c.Viewer.Sessions, c.ApiToken.Scopes = id, id, id, id
	c.Viewer.SlackLinks = id // at most auth.MaxSlackLinks (20)
	c.Query.APITokens = func(child int, _ *bool) int { return weigh(identityListFanout, child) }
}

// fanout weighs a list as n items.
func fanout(n int) func(child int) int {
	return func(child int) int { return weigh(n, child) }
}

// weigh is the cost of a list of n items that each cost child: 1 + n*child, saturating rather
// than overflowing (nesting multiplies, and an overflow would make a huge query look cheap).
func weigh(n, child int) int {
	child = max(child, 1)
	if n > 0 && child > (math.MaxInt-1)/n {
		return math.MaxInt
	}
	return 1 + n*child
}

package model

import (
	"strings"

	"github.com/portside-dev/portside/rollouts"
)

// upperSnake turns Argo CD's CamelCase status names into GraphQL enum values (OutOfSync → OUT_OF_SYNC).
func upperSnake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && r >= 'A' && r <= 'Z' {
			b.WriteByte('_')
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}

// NewDeployment converts a deployment.
func NewDeployment(d rollouts.Deployment) *Deployment {
	out := &Deployment{Instance: d.Instance, Application: d.Application, AppNamespace: d.AppNamespace, Project: d.Project,
		Environment: d.Environment, Cluster: d.Cluster, Namespace: d.Namespace,
		SyncStatus: SyncStatus(upperSnake(string(d.Sync))), Health: HealthStatus(upperSnake(string(d.Health))),
		Revision: optional(d.Revision), Images: nonNil(d.Images), LastSyncedAt: d.LastSyncedAt, Stale: d.Stale}
	if !out.SyncStatus.IsValid() {
		out.SyncStatus = SyncStatusUnknown
	}
	if !out.Health.IsValid() {
		out.Health = HealthStatusUnknown
	}
	if !d.LastSeenAt.IsZero() {
		t := d.LastSeenAt
		out.LastSeenAt = &t
	}
	out.Conditions = make([]*DeploymentCondition, len(d.Conditions))
	for i, c := range d.Conditions {
		out.Conditions[i] = &DeploymentCondition{Type: c.Type, Message: c.Message, Since: c.Since}
	}
	if c := d.Canary; c != nil {
		out.Canary = &Canary{Resource: c.Resource.Namespace + "/" + c.Resource.Name, Strategy: c.Strategy,
			Steps: canarySteps(c.Steps), CurrentStep: c.CurrentStep, SetWeight: c.SetWeight, ActualWeight: c.ActualWeight,
			Phase: c.Phase, PausedReason: optional(c.PausedReason), Aborted: c.Aborted, Message: c.Message,
			Analysis: verdicts(c.Analysis), StableRevision: c.StableRevision, CanaryRevision: c.CanaryRevision}
		if bg := c.BlueGreen; bg != nil {
			out.Canary.BlueGreen = &BlueGreen{ActiveService: bg.ActiveService, PreviewService: bg.PreviewService, AutoPromotion: bg.AutoPromotion}
		}
	}
	if op := d.Operation; op != nil {
		out.Operation = &SyncOperation{Phase: OperationPhase(upperSnake(string(op.Phase))), Message: op.Message,
			Revision: optional(op.Revision), StartedAt: op.StartedAt, FinishedAt: op.FinishedAt,
			InitiatedBy: optional(op.InitiatedBy), Automated: op.Automated, RequestedBy: optional(op.RequestedBy)}
	}
	return out
}

// NewDeploymentChange converts a deployment change of a subscription.
func NewDeploymentChange(c rollouts.Change) *Deployment {
	d := NewDeployment(*c.Deployment)
	d.Removed = c.Removed
	return d
}

// NewRollout converts a rollout.
func NewRollout(r rollouts.Rollout) *Rollout {
	out := &Rollout{ID: EncodeNumericID("Rollout", r.ID), Instance: r.Instance, Application: r.Name, AppNamespace: r.Namespace,
		Environment: r.Environment, Project: r.Project, Revision: optional(r.Revision),
		Phase: OperationPhase(upperSnake(string(r.Phase))), Result: RolloutResult(r.Result), Message: r.Message,
		StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, InitiatedBy: optional(r.InitiatedBy), Automated: r.Automated,
		RequestedBy: optional(r.RequestedBy), Images: nonNil(r.Images)}
	if r.HistoryID != nil {
		id := int(*r.HistoryID)
		out.HistoryID = &id
	}
	if p := r.Canary; p != nil {
		out.Canary = &CanaryProgress{Strategy: p.Strategy, Steps: canarySteps(p.Steps), Aborted: p.Aborted,
			Analysis: verdicts(p.Analysis), CompletedAt: p.Completed, Reached: []*CanaryStepReached{}}
		for _, s := range p.Reached {
			out.Canary.Reached = append(out.Canary.Reached, &CanaryStepReached{Step: s.Step, Weight: s.Weight, At: s.At})
		}
	}
	if c := r.Commit; c.Author != "" || c.Message != "" || c.Date != nil {
		out.Commit = &Commit{Author: c.Author, Message: c.Message, Date: c.Date}
	}
	return out
}

// NewRolloutConnection converts a page of rollouts.
func NewRolloutConnection(p *rollouts.Page) *RolloutConnection {
	c := &RolloutConnection{Nodes: []*Rollout{}, Edges: []*RolloutEdge{}, TotalCount: p.TotalCount,
		PageInfo: pageInfo(p.Cursors, p.HasNextPage)}
	for i, r := range p.Rollouts {
		n := NewRollout(r)
		c.Nodes = append(c.Nodes, n)
		c.Edges = append(c.Edges, &RolloutEdge{Cursor: p.Cursors[i], Node: n})
	}
	return c
}

// NewArgoCDInstance converts an instance's status.
func NewArgoCDInstance(s rollouts.InstanceStatus) *ArgoCDInstance {
	out := &ArgoCDInstance{Name: s.Name, Connected: s.Connected, Error: optional(s.Error), Applications: s.Applications}
	if !s.LastSeenAt.IsZero() {
		t := s.LastSeenAt
		out.LastSeenAt = &t
	}
	return out
}

func results(in []RolloutResult) []rollouts.Result {
	out := make([]rollouts.Result, len(in))
	for i, r := range in {
		out[i] = rollouts.Result(r)
	}
	return out
}

// Filter converts the component rollout filter.
func (f *ComponentRolloutFilter) Filter() rollouts.Filter {
	if f == nil {
		return rollouts.Filter{}
	}
	return rollouts.Filter{Environments: f.Environments, Results: results(f.Results), Since: f.Since, Until: f.Until}
}

// Filter converts the rollout filter; components are returned apart (nil when not given).
func (f *RolloutFilter) Filter() (rollouts.Filter, []string) {
	if f == nil {
		return rollouts.Filter{}, nil
	}
	out := rollouts.Filter{Environments: f.Environments, Results: results(f.Results), Since: f.Since, Until: f.Until}
	if f.Instance != nil {
		out.Instance = *f.Instance
	}
	return out, f.Components
}

func target(component string, instance, appNamespace, application *string) rollouts.Target {
	return rollouts.Target{Component: component, Instance: orZero(instance), AppNamespace: orZero(appNamespace),
		Application: orZero(application)}
}

func orZero[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// Target is the deployment the input names.
func (in DeploymentInput) Target() rollouts.Target {
	return target(in.Component, in.Instance, in.AppNamespace, in.Application)
}

// Target is the deployment the input names; Request what to do.
func (in SyncDeploymentInput) Target() rollouts.Target {
	return target(in.Component, in.Instance, in.AppNamespace, in.Application)
}

// Request is the sync the input asks for.
func (in SyncDeploymentInput) Request() rollouts.SyncRequest {
	return rollouts.SyncRequest{Revision: orZero(in.Revision), Prune: orZero(in.Prune), DryRun: orZero(in.DryRun)}
}

// Target is the deployment the input names.
func (in RollbackDeploymentInput) Target() rollouts.Target {
	return target(in.Component, in.Instance, in.AppNamespace, in.Application)
}

// Request is the rollback the input asks for.
func (in RollbackDeploymentInput) Request() rollouts.RollbackRequest {
	return rollouts.RollbackRequest{HistoryID: int64(in.HistoryID), Prune: orZero(in.Prune), DryRun: orZero(in.DryRun)}
}

// Target is the deployment the input names.
func (in RefreshDeploymentInput) Target() rollouts.Target {
	return target(in.Component, in.Instance, in.AppNamespace, in.Application)
}

// NewDoraMetrics converts DORA metrics.
func NewDoraMetrics(m rollouts.Metrics) *DoraMetrics {
	out := &DoraMetrics{Since: m.Since, Until: m.Until, Deployments: m.Deployments, DeploymentsPerDay: m.DeploymentsPerDay(),
		LeadTimeSamples: m.LeadTimeSamples, LeadTimePipelineSamples: m.LeadTimePipelineSamples, Changes: m.Changes, FailedChanges: m.FailedChanges,
		ChangeFailureRate: m.ChangeFailureRate(), Restores: m.Restores}
	if m.LeadTime != nil {
		s := m.LeadTime.Seconds()
		out.LeadTimeSeconds = &s
	}
	if m.TimeToRestore != nil {
		s := m.TimeToRestore.Seconds()
		out.TimeToRestoreSeconds = &s
	}
	return out
}

func canarySteps(in []rollouts.CanaryStep) []*CanaryStep {
	out := make([]*CanaryStep, len(in))
	for i, s := range in {
		out[i] = &CanaryStep{Kind: s.Kind, Weight: s.Weight, Pause: optional(s.Pause)}
	}
	return out
}

func verdicts(in []rollouts.AnalysisVerdict) []*AnalysisVerdict {
	out := make([]*AnalysisVerdict, len(in))
	for i, a := range in {
		out[i] = &AnalysisVerdict{Name: a.Name, Phase: a.Phase, Message: a.Message}
	}
	return out
}

// Target is the deployment the input names.
func (in PromoteDeploymentInput) Target() rollouts.Target {
	return target(in.Component, in.Instance, in.AppNamespace, in.Application)
}

// Ref is the deployment as the rollouts service knows it again (its application and whether its
// instance is away).
func (d *Deployment) Ref() rollouts.Deployment {
	return rollouts.Deployment{Instance: d.Instance, AppNamespace: d.AppNamespace, Application: d.Application, Stale: d.Stale}
}

// NewSyncWindows converts sync windows.
func NewSyncWindows(w rollouts.SyncWindows) *SyncWindows {
	conv := func(in []rollouts.SyncWindow) []*SyncWindow {
		out := make([]*SyncWindow, len(in))
		for i, x := range in {
			out[i] = &SyncWindow{Kind: x.Kind, Schedule: x.Schedule, Duration: x.Duration, ManualSync: x.ManualSync}
		}
		return out
	}
	return &SyncWindows{CanSync: w.CanSync, Active: conv(w.Active), Assigned: conv(w.Assigned)}
}

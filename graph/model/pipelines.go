package model

import (
	"maps"
	"slices"

	"github.com/portside-dev/portside/pipelines"
)

// NewPipeline converts a declared pipeline.
func NewPipeline(p pipelines.Pipeline) *Pipeline {
	out := &Pipeline{Component: p.Component, Name: p.Name, Provider: p.Provider, Repository: optional(p.Repository),
		Workflow: optional(p.Workflow), DefaultRef: p.Ref, Stages: nonNil(p.StageNames()), Parameters: []*PipelineParameter{}}
	for _, prm := range p.Parameters {
		mp := &PipelineParameter{Name: prm.Name, Type: PipelineParameterType(upperSnake(string(prm.Type))), Description: optional(prm.Description),
			Options: nonNil(prm.Options), Required: prm.Required && !prm.HasDefault}
		if prm.HasDefault {
			d := prm.Default
			mp.Default = &d
		}
		out.Parameters = append(out.Parameters, mp)
	}
	return out
}

// NewPipelineRun converts a run.
func NewPipelineRun(r pipelines.Run) *PipelineRun {
	out := &PipelineRun{ID: EncodeNumericID("PipelineRun", r.ID), Component: r.Component, Pipeline: r.Pipeline, Provider: r.Provider,
		ProviderRunID: optional(r.ProviderRunID), URL: optional(r.URL), Attempt: r.Attempt, Ref: r.Ref, CommitSha: optional(r.CommitSHA),
		TriggeredBy: r.TriggeredBy, Client: r.Client, IdempotencyKey: optional(r.IdempotencyKey), Status: PipelineRunStatus(r.Status),
		Message: optional(r.Message), CreatedAt: r.CreatedAt, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, UpdatedAt: r.UpdatedAt,
		Parameters: []*PipelineParameterValue{}, Stages: []*PipelineStage{}, Artifacts: []*PipelineArtifact{}}
	if r.RetryOf != nil {
		id := EncodeNumericID("PipelineRun", *r.RetryOf)
		out.RetryOfID = &id
	}
	for _, k := range slices.Sorted(maps.Keys(r.Parameters)) {
		out.Parameters = append(out.Parameters, &PipelineParameterValue{Name: k, Value: r.Parameters[k]})
	}
	for _, s := range r.Stages {
		st := &PipelineStage{Name: s.Name, Status: PipelineStageStatus(s.Status), StartedAt: s.StartedAt, FinishedAt: s.FinishedAt, LogURL: optional(s.LogURL)}
		if s.StartedAt != nil && s.FinishedAt != nil {
			d := s.Duration().Seconds()
			st.DurationSeconds = &d
		}
		out.Stages = append(out.Stages, st)
	}
	for _, a := range r.Artifacts {
		out.Artifacts = append(out.Artifacts, &PipelineArtifact{Name: a.Name, Image: optional(a.Image), Version: optional(a.Version)})
	}
	return out
}

// NewPipelineRunConnection converts a page of runs.
func NewPipelineRunConnection(p *pipelines.Page) *PipelineRunConnection {
	c := &PipelineRunConnection{Nodes: []*PipelineRun{}, Edges: []*PipelineRunEdge{}, TotalCount: int(p.TotalCount),
		PageInfo: pageInfo(p.Cursors, p.HasNextPage)}
	for i, r := range p.Runs {
		n := NewPipelineRun(r)
		c.Nodes = append(c.Nodes, n)
		c.Edges = append(c.Edges, &PipelineRunEdge{Cursor: p.Cursors[i], Node: n})
	}
	return c
}

func runStatuses(in []PipelineRunStatus) []pipelines.Status {
	out := make([]pipelines.Status, len(in))
	for i, s := range in {
		out[i] = pipelines.Status(s)
	}
	return out
}

// Filter converts the catalog-wide run filter.
func (f *PipelineRunFilter) Filter() pipelines.Filter {
	if f == nil {
		return pipelines.Filter{}
	}
	return pipelines.Filter{Component: orEmpty(f.Component), Pipeline: orEmpty(f.Pipeline), Statuses: runStatuses(f.Statuses),
		Ref: orEmpty(f.Ref), TriggeredBy: orEmpty(f.TriggeredBy)}
}

// Filter converts a pipeline's run filter.
func (f *PipelineRunsFilter) Filter() pipelines.Filter {
	if f == nil {
		return pipelines.Filter{}
	}
	return pipelines.Filter{Statuses: runStatuses(f.Statuses), Ref: orEmpty(f.Ref), TriggeredBy: orEmpty(f.TriggeredBy)}
}

func orEmpty(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

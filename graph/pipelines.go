package graph

// Helpers of the pipelines resolvers: trigger input, payloads, the run subscription.

import (
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/graph/model"
	"github.com/portside-dev/portside/pipelines"
)

// triggerInput converts the mutation's input, refusing more parameters than a declaration may
// have and a parameter given twice (which a map would silently merge).
func triggerInput(in model.TriggerPipelineInput) (pipelines.TriggerInput, error) {
	if len(in.Parameters) > pipelines.MaxParameters {
		return pipelines.TriggerInput{}, errs.InvalidField("parameters", "gives %d parameters; at most %d", len(in.Parameters), pipelines.MaxParameters)
	}
	params := make(map[string]string, len(in.Parameters))
	for _, p := range in.Parameters {
		if _, dup := params[p.Name]; dup {
			return pipelines.TriggerInput{}, errs.InvalidField("parameters."+p.Name, "is given twice")
		}
		params[p.Name] = p.Value
	}
	return pipelines.TriggerInput{Component: in.Component, Pipeline: in.Pipeline, Ref: deref(in.Ref, ""), Parameters: params,
		IdempotencyKey: deref(in.IdempotencyKey, "")}, nil
}

// runPayload answers a run action.
func runPayload(run pipelines.Run, err error) (*model.PipelineRunPayload, error) {
	if err != nil {
		return nil, err
	}
	return &model.PipelineRunPayload{Run: model.NewPipelineRun(run)}, nil
}

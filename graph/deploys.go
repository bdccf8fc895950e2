package graph

// Helpers of the deploy-request resolvers.

import (
	"context"

	"github.com/portside-dev/portside/deploys"
	"github.com/portside-dev/portside/graph/model"
)

// deployPayload answers a deploy-request mutation.
func deployPayload(q deploys.Request, err error) (*model.DeployRequestPayload, error) {
	if err != nil {
		return nil, err
	}
	return &model.DeployRequestPayload{Request: model.NewDeployRequest(q)}, nil
}

// deployEnvironments answers Component.deployEnvironments.
func deployEnvironments(list []deploys.Environment, err error) ([]*model.DeployEnvironment, error) {
	if err != nil {
		return nil, err
	}
	return model.NewDeployEnvironments(list), nil
}

// abilities is what the viewer may do with a request, asked of the deploys service once per
// request object (the viewerCan* fields share it).
func (r *deployRequestResolver) abilities(ctx context.Context, obj *model.DeployRequest) (deploys.Abilities, error) {
	return obj.Abilities(func() (deploys.Abilities, error) { return r.DeployService.Abilities(ctx, obj.Request) })
}

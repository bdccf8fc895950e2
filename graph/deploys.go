package graph

// Helpers of the deploy-request resolvers.

import (
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

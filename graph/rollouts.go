package graph

// Helpers of the rollouts resolvers: subscriptions, action payloads, DORA metrics.

import (
	"context"

	"github.com/portside-dev/portside/graph/model"
	"github.com/portside-dev/portside/rollouts"
)

// subscription is a domain's subscription (rollouts', pipelines'): its changes until it ends.
type subscription[E any] interface {
	C() <-chan E
	Close()
}

// relay turns a domain subscription into the channel gqlgen sends from, converting each change;
// the GraphQL subscription ends when the domain's does (a subscriber that fell too far behind is
// cut off and must subscribe again) or when the client goes.
func relay[E, T any](ctx context.Context, sub subscription[E], convert func(E) T) <-chan T {
	return relayAfter(ctx, nil, sub, convert)
}

// relayAfter is relay that sends first before the subscription's changes.
func relayAfter[E, T any](ctx context.Context, first []T, sub subscription[E], convert func(E) T) <-chan T {
	out := make(chan T)
	go func() {
		defer close(out)
		defer sub.Close()
		for _, v := range first {
			select {
			case out <- v:
			case <-ctx.Done():
				return
			}
		}
		for {
			select {
			case <-ctx.Done():
				return
			case c, ok := <-sub.C():
				if !ok {
					return
				}
				select {
				case out <- convert(c):
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}

// deploymentPayload answers a deployment action.
func deploymentPayload(d rollouts.Deployment, err error) (*model.DeploymentActionPayload, error) {
	if err != nil {
		return nil, err
	}
	return &model.DeploymentActionPayload{Deployment: model.NewDeployment(d)}, nil
}

// doraMetrics answers a DORA field.
func doraMetrics(m rollouts.Metrics, err error) (*model.DoraMetrics, error) {
	if err != nil {
		return nil, err
	}
	return model.NewDoraMetrics(m), nil
}

package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth/policy"
	"github.com/portside-dev/portside/auth/principal"
)

// guard implements @guard, every mutation's first gate: policy.Gate refuses callers that can never
// make the change (not signed in, a read-only token) before the resolver runs, and the refusal is
// audited under the mutation's action, as the service would have recorded it. Ownership and admin
// checks stay with the services, which alone know the resource, and so do their records; a
// resolver that fails before its service records anything (an ID that names nothing of the kind
// asked) is recorded here, as failed under the mutation's action (audit.Log.Ensure).
func (r *Resolver) guard(ctx context.Context, _ any, next graphql.Resolver, action string) (any, error) {
	if err := policy.Gate(principal.From(ctx), policy.Action(action)); err != nil {
		if r.Audit == nil {
			return nil, err
		}
		return nil, r.Audit.Do(ctx, audit.Entry{Action: action, Args: fieldArguments(ctx)}, func(context.Context) error { return err })
	}
	if r.Audit == nil {
		return next(ctx)
	}
	var res any
	err := r.Audit.Ensure(ctx, audit.Entry{Action: action, Args: fieldArguments(ctx)}, func(ctx context.Context) error {
		var err error
		res, err = next(ctx)
		return err
	})
	return res, err
}

// fieldArguments are the arguments of the field being resolved as plain maps and values (not the
// bound Go types), so the audit record's redaction sees every key.
func fieldArguments(ctx context.Context) map[string]any {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !graphql.HasOperationContext(ctx) {
		return nil
	}
	return fc.Field.ArgumentMap(graphql.GetOperationContext(ctx).Variables)
}

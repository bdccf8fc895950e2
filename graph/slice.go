package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// marshalSlice marshals list elements one after the other, where gqlgen's generated code starts a
// goroutine per element (graphql.MarshalSliceConcurrently). Portside's resolvers batch by cohort
// (graph/model.Cohort): the first element of a list loads what all of them need, and the others
// find it in memory, so a goroutine per element only adds cost: a list of 25 relations cost more
// than the rest of an entity query. `go generate ./graph` points the generated code here (see
// generate.go); the element functions, panic recovery and field contexts are gqlgen's own.
func marshalSlice(ctx context.Context, length int, marshalElement func(ctx context.Context, i int) graphql.Marshaler) graphql.Array {
	ret := make(graphql.Array, length)
	for i := range length {
		index := i
		childCtx := graphql.WithFieldContext(ctx, &graphql.FieldContext{Index: &index})
		failed := false
		func() {
			defer func() {
				if r := recover(); r != nil {
					graphql.AddError(childCtx, graphql.Recover(childCtx, r))
					failed = true
				}
			}()
			ret[i] = marshalElement(childCtx, i)
		}()
		if failed {
			return nil
		}
	}
	return ret
}

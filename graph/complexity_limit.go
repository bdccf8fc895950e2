package graph

import (
	"context"
	"crypto/sha256"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// complexityLimit is gqlgen's fixed complexity limit (extension.FixedComplexityLimit) with each
// operation's cost remembered. Working the cost out walks the whole operation, which a repeated
// component page paid on every request: a third of what answering it from the response cache
// took. The cost depends on nothing but the document and the variables, which key it.
type complexityLimit struct {
	limit int
	es    graphql.ExecutableSchema
	costs *lru.Cache[[sha256.Size]byte, int]
}

var _ interface {
	graphql.OperationContextMutator
	graphql.HandlerExtension
} = (*complexityLimit)(nil)

func newComplexityLimit(limit int) *complexityLimit {
	costs, _ := lru.New[[sha256.Size]byte, int](4096)
	return &complexityLimit{limit: limit, costs: costs}
}

func (*complexityLimit) ExtensionName() string { return "ComplexityLimit" }

func (c *complexityLimit) Validate(es graphql.ExecutableSchema) error {
	c.es = es
	return nil
}

func (c *complexityLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	key, keyed := responseKey(oc)
	cost, known := 0, false
	if keyed {
		cost, known = c.costs.Get(key)
	}
	if !known {
		cost = complexity.Calculate(ctx, c.es, oc.Doc.Operations.ForName(oc.OperationName), oc.Variables)
		if keyed {
			c.costs.Add(key, cost)
		}
	}
	if cost > c.limit {
		// What gqlgen's own limit says, with its code, so clients see no difference.
		err := gqlerror.Errorf("operation has complexity %d, which exceeds the limit of %d", cost, c.limit)
		errcode.Set(err, "COMPLEXITY_LIMIT_EXCEEDED")
		return err
	}
	return nil
}

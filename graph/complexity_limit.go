package graph

import (
	"context"
	"crypto/sha256"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/ast"
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
		op := oc.Doc.Operations.ForName(oc.OperationName)
		// gqlgen's walk spreads every fragment wherever it is used: fragments that spread the
		// next one twice, twenty deep, took it seconds (thirty, hours). Every field costs at
		// least 1, so an operation whose fields, spread out, outnumber the limit is over it;
		// counting them, with each fragment counted once, is linear in the document.
		if n := expandedFields(op.SelectionSet, map[string]int{}, c.limit); n > c.limit {
			err := gqlerror.Errorf("operation selects more than %d fields once its fragments are spread, which exceeds the complexity limit of %d", c.limit, c.limit)
			errcode.Set(err, "COMPLEXITY_LIMIT_EXCEEDED")
			return err
		}
		cost = complexity.Calculate(ctx, c.es, op, oc.Variables)
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

// expandedFields counts the fields a selection set has once its fragments are spread, stopping
// past limit. memo holds each fragment's count, so each is walked once.
func expandedFields(set ast.SelectionSet, memo map[string]int, limit int) int {
	n := 0
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			n += 1 + expandedFields(s.SelectionSet, memo, limit)
		case *ast.InlineFragment:
			n += expandedFields(s.SelectionSet, memo, limit)
		case *ast.FragmentSpread:
			count, done := memo[s.Name]
			if !done {
				memo[s.Name] = 0 // a cycle (refused by validation before this) counts nothing
				if s.Definition != nil {
					count = expandedFields(s.Definition.SelectionSet, memo, limit)
				}
				memo[s.Name] = count
			}
			n += count
		}
		if n > limit {
			return limit + 1
		}
	}
	return n
}

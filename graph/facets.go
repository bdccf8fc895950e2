package graph

import (
	"context"
	"io"
	"strconv"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/portside-dev/portside/graph/model"
)

// gqlgenFacets is true only in tests that compare the direct rendering of facets against
// gqlgen's.
var gqlgenFacets atomic.Bool

// _Facet renders a facet in one pass (gqlgen's generated _Facet, renamed _facetUncached by
// graph/internal/genpatch, does it otherwise). gqlgen resolves every field of every facet value
// on its own (a field context, the middleware chain, a field set and its map of written aliases:
// about 2,600 allocations and a quarter of a millisecond for an owner's four facets, 1.9 kB).
// A facet's fields are plain data of the model (no resolvers, no arguments, no errors), so
// writing them straight from the selection gqlgen collected (aliases, __typename, fragments,
// @include/@skip applied by graphql.CollectFields exactly as the generated code applies them)
// gives the same bytes. Anything it does not know (a deferred field, a field the schema gained,
// a nil value) goes to gqlgen's code, as does an operation whose field budget (budget.go) the
// fields would exceed, so the budget refuses it as before; otherwise the fields written are
// counted in the budget as gqlgen would have counted them.
func (ec *executionContext) _Facet(ctx context.Context, sel ast.SelectionSet, obj *model.Facet) graphql.Marshaler {
	if obj == nil || gqlgenFacets.Load() {
		return ec._facetUncached(ctx, sel, obj)
	}
	fields := graphql.CollectFields(ec.OperationContext, sel, facetImplementors)
	sub := make([][]graphql.CollectedField, len(fields)) // FacetValue's fields, for each values field
	resolved := int64(0)                                 // the fields gqlgen would resolve through the middleware
	for i, f := range fields {
		if len(f.Deferrables) > 0 {
			return ec._facetUncached(ctx, sel, obj)
		}
		switch f.Name {
		case "__typename":
		case "field":
			resolved++
		case "values":
			resolved++
			sub[i] = graphql.CollectFields(ec.OperationContext, f.Selections, facetValueImplementors)
			per := int64(0)
			for _, v := range sub[i] {
				if len(v.Deferrables) > 0 {
					return ec._facetUncached(ctx, sel, obj)
				}
				switch v.Name {
				case "__typename":
				case "value", "count":
					per++
				default:
					return ec._facetUncached(ctx, sel, obj)
				}
			}
			for _, v := range obj.Values {
				if v == nil {
					return ec._facetUncached(ctx, sel, obj)
				}
			}
			resolved += per * int64(len(obj.Values))
		default:
			return ec._facetUncached(ctx, sel, obj)
		}
	}
	if !spendFields(ctx, resolved) {
		return ec._facetUncached(ctx, sel, obj)
	}
	return graphql.WriterFunc(func(w io.Writer) {
		writeFields(w, fields, func(w io.Writer, i int) {
			switch fields[i].Name {
			case "__typename":
				_, _ = io.WriteString(w, `"Facet"`)
			case "field":
				obj.Field.MarshalGQL(w)
			case "values":
				writeFacetValues(w, sub[i], obj.Values)
			}
		})
	})
}

// spendFields counts n fields in the operation's budget (budget.go's InterceptField counts them
// one by one); false when the operation is stopped or n would exceed what its answer may hold,
// counting nothing: gqlgen's rendering then meets the limit and the budget refuses as before.
func spendFields(ctx context.Context, n int64) bool {
	s, ok := ctx.Value(spendingKey{}).(*spending)
	if !ok {
		return true
	}
	if ctx.Err() != nil {
		return false
	}
	if total := s.fields.Add(n); s.maxFields > 0 && total > s.maxFields {
		s.fields.Add(-n)
		return false
	}
	return true
}

// writeFacetValues writes values as gqlgen writes a [FacetValue!]! for the collected fields.
func writeFacetValues(w io.Writer, fields []graphql.CollectedField, values []*model.FacetValue) {
	_, _ = io.WriteString(w, "[")
	var num [20]byte
	for i, v := range values {
		if i > 0 {
			_, _ = io.WriteString(w, ",")
		}
		writeFields(w, fields, func(w io.Writer, j int) {
			switch fields[j].Name {
			case "__typename":
				_, _ = io.WriteString(w, `"FacetValue"`)
			case "value":
				graphql.MarshalString(v.Value).MarshalGQL(w)
			case "count":
				_, _ = w.Write(strconv.AppendInt(num[:0], int64(v.Count), 10))
			}
		})
	}
	_, _ = io.WriteString(w, "]")
}

// writeFields writes an object of the collected fields as graphql.FieldSet does: each alias once,
// the first time it occurs, in order.
func writeFields(w io.Writer, fields []graphql.CollectedField, value func(w io.Writer, i int)) {
	_, _ = io.WriteString(w, "{")
	for i := range fields {
		f := &fields[i]
		dup := false
		for j := range i {
			if fields[j].Alias == f.Alias {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		if i > 0 {
			_, _ = io.WriteString(w, ",")
		}
		graphql.MarshalString(f.Alias).MarshalGQL(w)
		_, _ = io.WriteString(w, ":")
		value(w, i)
	}
	_, _ = io.WriteString(w, "}")
}

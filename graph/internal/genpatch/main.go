// Command genpatch makes these changes to gqlgen's generated executor files, after gqlgen in
// `go generate ./graph`:
//
//   - lists are marshalled one element after the other (graph.marshalSlice) instead of with a
//     goroutine per element (see marshalSlice for why);
//   - the generated _Entity becomes _entityUncached: graph/fragments.go's _Entity renders entities
//     through the rendered-entity cache and calls it on a miss;
//   - the generated _Facet and _Relation become _facetUncached and _relationUncached: graph/facets.go
//     and graph/plain.go render facets and relations of plain fields in one pass and call them for
//     anything else;
//   - a query's data is rendered by graph.marshalData (a reused buffer, lent by the HTTP transport
//     or copied out once) instead of into a new bytes.Buffer that doubled its way up to the
//     response's size;
//   - the map of input unmarshalers gqlgen builds for every operation (by reflection, a dozen
//     method values and a map: 1.1 kB and 2 µs a request) is not built: it serves only
//     graphql.UnmarshalInputFromContext, for hand-written unmarshalers of input types, and Portside
//     has none (TestNothingReadsTheInputUnmarshalerMap keeps it so).
//
// It fails when the code it rewrites is not found, so a gqlgen upgrade that changes it cannot pass
// unnoticed.
package main

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
)

const (
	concurrent      = "graphql.MarshalSliceConcurrently(ctx, len(v), 0, false, func(ctx context.Context, i int) graphql.Marshaler {"
	sequential      = "marshalSlice(ctx, len(v), func(ctx context.Context, i int) graphql.Marshaler {"
	entityFunc      = "func (ec *executionContext) _Entity(ctx context.Context, sel ast.SelectionSet, obj model.Entity) graphql.Marshaler {"
	entityRenamed   = "func (ec *executionContext) _entityUncached(ctx context.Context, sel ast.SelectionSet, obj model.Entity) graphql.Marshaler {"
	facetFunc       = "func (ec *executionContext) _Facet(ctx context.Context, sel ast.SelectionSet, obj *model.Facet) graphql.Marshaler {"
	facetRenamed    = "func (ec *executionContext) _facetUncached(ctx context.Context, sel ast.SelectionSet, obj *model.Facet) graphql.Marshaler {"
	relationFunc    = "func (ec *executionContext) _Relation(ctx context.Context, sel ast.SelectionSet, obj *model.Relation) graphql.Marshaler {"
	relationRenamed = "func (ec *executionContext) _relationUncached(ctx context.Context, sel ast.SelectionSet, obj *model.Relation) graphql.Marshaler {"
	queryData       = "\t\t\tvar buf bytes.Buffer\n\t\t\tdata.MarshalGQL(&buf)\n\t\t\tresponse.Data = buf.Bytes()\n"
	queryDataOld    = "\t\t\tresponse.Data = marshalData(data)\n"
	queryDataNew    = "\t\t\tresponse.Data = marshalData(ctx, data)\n"
)

var (
	// unmarshalerMap is gqlgen's per-operation build of the map, and withUnmarshalerMap each
	// handing of it to an operation's context.
	unmarshalerMap     = regexp.MustCompile(`\n\tinputUnmarshalMap := graphql\.BuildUnmarshalerMap\(\n(?:\t\t[^\n]*\n)*\t\)\n`)
	withUnmarshalerMap = regexp.MustCompile(`\n\t+ctx = graphql\.WithUnmarshalerMap\(ctx, inputUnmarshalMap\)\n`)
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: genpatch FILE...")
		os.Exit(2)
	}
	lists, entities, facets, relations, data, unmarshalers := false, 0, 0, 0, 0, 0
	for _, file := range os.Args[1:] {
		src, err := os.ReadFile(file)
		if err != nil {
			fail("%v", err)
		}
		lists = lists || bytes.Contains(src, []byte(concurrent)) || bytes.Contains(src, []byte(sequential))
		out := bytes.ReplaceAll(src, []byte(concurrent), []byte(sequential))
		if bytes.Contains(out, []byte("graphql.MarshalSliceConcurrently(")) {
			fail("%s still calls graphql.MarshalSliceConcurrently in a form genpatch does not know", file)
		}
		entities += bytes.Count(out, []byte(entityFunc)) + bytes.Count(out, []byte(entityRenamed))
		out = bytes.Replace(out, []byte(entityFunc), []byte(entityRenamed), 1)
		facets += bytes.Count(out, []byte(facetFunc)) + bytes.Count(out, []byte(facetRenamed))
		out = bytes.Replace(out, []byte(facetFunc), []byte(facetRenamed), 1)
		relations += bytes.Count(out, []byte(relationFunc)) + bytes.Count(out, []byte(relationRenamed))
		out = bytes.Replace(out, []byte(relationFunc), []byte(relationRenamed), 1)
		unmarshalers += len(unmarshalerMap.FindAll(out, -1))
		out = unmarshalerMap.ReplaceAll(out, []byte("\n"))
		out = withUnmarshalerMap.ReplaceAll(out, []byte("\n"))
		if bytes.Contains(out, []byte("inputUnmarshalMap")) {
			fail("%s uses the input unmarshaler map in a form genpatch does not know", file)
		}
		out = bytes.Replace(out, []byte(queryDataOld), []byte(queryDataNew), 1)
		data += bytes.Count(out, []byte(queryData)) + bytes.Count(out, []byte(queryDataNew))
		out = bytes.Replace(out, []byte(queryData), []byte(queryDataNew), 1)
		if !bytes.Equal(out, src) {
			if err := os.WriteFile(file, out, 0o644); err != nil {
				fail("%v", err)
			}
		}
	}
	if !lists {
		fail("%v have no list marshalling of the expected form; gqlgen changed, update graph/internal/genpatch", os.Args[1:])
	}
	if data != 1 {
		fail("%v have %d query data renderings of the expected form, want 1; gqlgen changed, update graph/internal/genpatch and graph/transport.go", os.Args[1:], data)
	}
	if unmarshalers > 1 {
		fail("%v build the input unmarshaler map %d times, want at most 1; gqlgen changed, update graph/internal/genpatch", os.Args[1:], unmarshalers)
	}
	if entities != 1 {
		fail("%v have %d _Entity functions of the expected form, want 1; gqlgen changed, update graph/internal/genpatch and graph/fragments.go", os.Args[1:], entities)
	}
	if facets != 1 {
		fail("%v have %d _Facet functions of the expected form, want 1; gqlgen changed, update graph/internal/genpatch and graph/facets.go", os.Args[1:], facets)
	}
	if relations != 1 {
		fail("%v have %d _Relation functions of the expected form, want 1; gqlgen changed, update graph/internal/genpatch and graph/plain.go", os.Args[1:], relations)
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "genpatch: "+format+"\n", args...)
	os.Exit(1)
}

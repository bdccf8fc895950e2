// Command seqlists rewrites gqlgen's generated executor so that lists are marshalled one element
// after the other (graph.marshalSlice) instead of with a goroutine per element, and renames the
// generated _Entity to _entityUncached (graph/fragments.go wraps it in the fragment cache). It runs after
// gqlgen in `go generate ./graph` and fails when the code it rewrites is not found, so a gqlgen
// upgrade that changes it cannot pass unnoticed.
package main

import (
	"bytes"
	"fmt"
	"os"
)

const (
	concurrent = "graphql.MarshalSliceConcurrently(ctx, len(v), 0, false, func(ctx context.Context, i int) graphql.Marshaler {"
	sequential = "marshalSlice(ctx, len(v), func(ctx context.Context, i int) graphql.Marshaler {"
	// The generated _Entity becomes _entityUncached: graph/fragments.go's _Entity renders entities
	// through the fragment cache and calls it on a miss.
	entityFunc    = "func (ec *executionContext) _Entity(ctx context.Context, sel ast.SelectionSet, obj model.Entity) graphql.Marshaler {"
	entityRenamed = "func (ec *executionContext) _entityUncached(ctx context.Context, sel ast.SelectionSet, obj model.Entity) graphql.Marshaler {"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: seqlists FILE")
		os.Exit(2)
	}
	file := os.Args[1]
	src, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, "seqlists:", err)
		os.Exit(1)
	}
	n := bytes.Count(src, []byte(concurrent))
	if n == 0 && !bytes.Contains(src, []byte(sequential)) {
		fmt.Fprintf(os.Stderr, "seqlists: %s has no list marshalling of the expected form; gqlgen changed, update graph/internal/seqlists\n", file)
		os.Exit(1)
	}
	out := bytes.ReplaceAll(src, []byte(concurrent), []byte(sequential))
	if bytes.Contains(out, []byte("graphql.MarshalSliceConcurrently(")) {
		fmt.Fprintf(os.Stderr, "seqlists: %s still calls graphql.MarshalSliceConcurrently in a form seqlists does not know\n", file)
		os.Exit(1)
	}
	if bytes.Count(out, []byte(entityFunc)) != 1 && !bytes.Contains(out, []byte(entityRenamed)) {
		fmt.Fprintf(os.Stderr, "seqlists: %s has no _Entity of the expected form; gqlgen changed, update graph/internal/seqlists and graph/fragments.go\n", file)
		os.Exit(1)
	}
	out = bytes.Replace(out, []byte(entityFunc), []byte(entityRenamed), 1)
	if err := os.WriteFile(file, out, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "seqlists:", err)
		os.Exit(1)
	}
}

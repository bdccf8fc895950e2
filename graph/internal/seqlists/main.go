// Command seqlists rewrites gqlgen's generated executor files so that lists are marshalled one element
// after the other (graph.marshalSlice) instead of with a goroutine per element. It runs after
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
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: seqlists FILE...")
		os.Exit(2)
	}
	found := false
	for _, file := range os.Args[1:] {
		found = rewrite(file) || found
	}
	if !found {
		fmt.Fprintf(os.Stderr, "seqlists: %v have no list marshalling of the expected form; gqlgen changed, update graph/internal/seqlists\n", os.Args[1:])
		os.Exit(1)
	}
}

// rewrite makes file's list marshalling sequential and reports whether it has any.
func rewrite(file string) bool {
	src, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, "seqlists:", err)
		os.Exit(1)
	}
	found := bytes.Contains(src, []byte(concurrent)) || bytes.Contains(src, []byte(sequential))
	out := bytes.ReplaceAll(src, []byte(concurrent), []byte(sequential))
	if bytes.Contains(out, []byte("graphql.MarshalSliceConcurrently(")) {
		fmt.Fprintf(os.Stderr, "seqlists: %s still calls graphql.MarshalSliceConcurrently in a form seqlists does not know\n", file)
		os.Exit(1)
	}
	if err := os.WriteFile(file, out, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "seqlists:", err)
		os.Exit(1)
	}
	return found
}

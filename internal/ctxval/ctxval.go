// Package ctxval carries one value in a context in a single allocation, for the values every
// request adds (its request ID, its credentials): context.WithValue makes two, the context and
// the value boxed as an interface.
package ctxval

import "context"

// carrier is a context carrying a V under the key type K.
type carrier[K comparable, V any] struct {
	context.Context
	v V
}

// Value answers K's zero value with the carrier itself (a pointer: nothing boxed), and every other
// key as the parent does.
func (c *carrier[K, V]) Value(key any) any {
	if k, ok := key.(K); ok && k == *new(K) {
		return c
	}
	return c.Context.Value(key)
}

// With returns ctx carrying v under K (an unexported empty struct type of the caller's).
func With[K comparable, V any](ctx context.Context, v V) context.Context {
	return &carrier[K, V]{Context: ctx, v: v}
}

// From returns the V ctx carries under K, and whether it carries one.
func From[K comparable, V any](ctx context.Context) (V, bool) {
	if c, ok := ctx.Value(*new(K)).(*carrier[K, V]); ok {
		return c.v, true
	}
	var zero V
	return zero, false
}

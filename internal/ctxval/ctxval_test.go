package ctxval_test

import (
	"context"
	"testing"

	"github.com/portside-dev/portside/internal/ctxval"
)

type idKey struct{}
type otherKey struct{}

func TestAValueIsFoundUnderItsKeyAndOtherKeysReachTheParent(t *testing.T) {
	parent := context.WithValue(context.Background(), otherKey{}, "parent's")
	ctx := ctxval.With[idKey](parent, "req-1")
	if v, ok := ctxval.From[idKey, string](ctx); !ok || v != "req-1" {
		t.Errorf("From = %q, %v; want req-1, true", v, ok)
	}
	if v := ctx.Value(otherKey{}); v != "parent's" {
		t.Errorf("another key gave %v, want the parent's value", v)
	}
	if v, ok := ctxval.From[otherKey, string](ctx); ok {
		t.Errorf("From under a key never set = %q, true; want nothing", v)
	}
	if v, ok := ctxval.From[idKey, string](context.Background()); ok || v != "" {
		t.Errorf("From of a bare context = %q, %v; want nothing", v, ok)
	}
	// The innermost value wins, as with context.WithValue.
	if v, _ := ctxval.From[idKey, string](ctxval.With[idKey](ctx, "req-2")); v != "req-2" {
		t.Errorf("From = %q after a second With, want req-2", v)
	}
}

var sink context.Context

func TestCarryingAValueAllocatesOnce(t *testing.T) {
	ctx := context.Background()
	id := "req-1"
	if n := testing.AllocsPerRun(100, func() { sink = ctxval.With[idKey](ctx, id) }); n != 1 {
		t.Errorf("With allocated %v times, want 1", n)
	}
}

package graph

import (
	"testing"

	"github.com/portside-dev/portside/auth/policy"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/errs"
)

// Every mutation passes the first gate, under an action the policy knows: a mutation without
// @guard, or with an action auth has no rule for, fails here.
func TestEveryMutationHasAGuardWithAKnownAction(t *testing.T) {
	schema := NewExecutableSchema(Config{}).Schema()
	admin := &principal.Principal{Username: "root", Admin: true, Kind: principal.KindToken}
	readOnly := &principal.Principal{Username: "reader", Admin: true, Kind: principal.KindToken, Scopes: []string{"read"}}
	fields := schema.Mutation.Fields
	if len(fields) == 0 {
		t.Fatal("no mutations in the schema")
	}
	for _, f := range fields {
		if f.Name == "__typename" {
			continue
		}
		d := f.Directives.ForName("guard")
		if d == nil {
			t.Errorf("mutation %s has no @guard", f.Name)
			continue
		}
		action := policy.Action(d.Arguments.ForName("action").Value.Raw)
		if err := policy.Gate(admin, action); err != nil {
			t.Errorf("mutation %s: @guard(action: %q): %v", f.Name, action, err)
		}
		if err := policy.Gate(readOnly, action); !errs.Is(err, errs.Forbidden) {
			t.Errorf("mutation %s: a read-only token passes the gate (%v)", f.Name, err)
		}
		if err := policy.Gate(nil, action); !errs.Is(err, errs.Unauthenticated) {
			t.Errorf("mutation %s: nobody passes the gate (%v)", f.Name, err)
		}
	}
}

package deploys_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/portside-dev/portside/deploys"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// What the portal offers a person on a request is what Approve, Reject and Cancel would let them
// do: the same rules, asked without acting.
func TestAbilitiesAreTheRulesOfTheDecisions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		q, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: digest})
		if err != nil {
			t.Fatal(err)
		}
		callers := []struct {
			name string
			ctx  context.Context
			want deploys.Abilities
		}{
			{"bob, the requester", bob, deploys.Abilities{Cancel: true}},
			{"alice, another owner", alice, deploys.Abilities{Approve: true, Reject: true, Cancel: true}},
			{"root, an admin", root, deploys.Abilities{Approve: true, Reject: true, Cancel: true}},
			{"carol, who owns nothing", carol, deploys.Abilities{}},
			{"alice with a read-only token", aliceRead, deploys.Abilities{}},
			{"nobody", context.Background(), deploys.Abilities{}},
		}
		for _, c := range callers {
			if got, err := f.s.Abilities(c.ctx, q); err != nil || got != c.want {
				t.Errorf("%s on a REQUESTED request: %+v, %v; want %+v", c.name, got, err, c.want)
			}
		}
		// What is offered is what the decision then does: bob cannot approve, alice can.
		if _, err := f.s.Approve(bob, q.ID, ""); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("bob approving his own request: %v, want FORBIDDEN", err)
		}
		if q, err = f.s.Approve(alice, q.ID, "go"); err != nil || q.State != deploys.RollingOut {
			t.Fatalf("alice approving: %+v, %v", q, err)
		}
		// Applied, nobody may decide or cancel it any more.
		for _, c := range callers {
			if got, err := f.s.Abilities(c.ctx, q); err != nil || got != (deploys.Abilities{}) {
				t.Errorf("%s on a request rolling out: %+v, %v; want nothing", c.name, got, err)
			}
		}
		// An approved request held by a sync window may still be cancelled, not decided.
		f.windows.set("production", "freeze")
		held, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: digest2})
		if err != nil {
			t.Fatal(err)
		}
		if held, err = f.s.Approve(alice, held.ID, ""); err != nil || held.State != deploys.Approved {
			t.Fatalf("held: %+v, %v", held, err)
		}
		if got, err := f.s.Abilities(alice, held); err != nil || got != (deploys.Abilities{Cancel: true}) {
			t.Errorf("alice on an approved request a window holds: %+v, %v; want Cancel only", got, err)
		}
		// A catalog that cannot say who owns the component is an error, not a silent "no".
		f.cat.ownsErr = errs.E(errs.Unavailable, "catalog down")
		if _, err := f.s.Abilities(alice, held); !errs.Is(err, errs.Unavailable) {
			t.Errorf("abilities while the catalog cannot answer: %v, want UNAVAILABLE", err)
		}
	})
}

// "Awaiting my approval" lists the requests the caller could approve: REQUESTED, asked for by
// someone else, of a component they own (any component for an admin).
func TestAwaitingMyApprovalListsWhatICouldApprove(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.cat.annotations["component:default/ledger"] = f.cat.annotations[payAPI]
		f.cat.owners["component:default/ledger"] = []string{"bob", "root"}
		ask := func(ctx context.Context, component, version string) deploys.Request {
			t.Helper()
			q, err := f.s.Request(ctx, deploys.RequestInput{Component: component, Environment: "production", Version: version})
			if err != nil {
				t.Fatal(err)
			}
			return q
		}
		ask(bob, "payments-api", digest)
		ask(bob, "ledger", digest)
		ask(alice, "payments-api", digest2)
		decided := ask(bob, "payments-api", "1.5.0")
		if _, err := f.s.Reject(alice, decided.ID, "no"); err != nil {
			t.Fatal(err)
		}
		awaiting := func(ctx context.Context, filter deploys.Filter) string {
			t.Helper()
			filter.AwaitingMyApproval = true
			page, err := f.s.List(ctx, filter, 10, "")
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, q := range page.Requests {
				out = append(out, fmt.Sprintf("%s by %s", q.Component[len("component:default/"):], q.Requester))
			}
			return fmt.Sprintf("%d %v", page.TotalCount, out)
		}
		for _, c := range []struct {
			name   string
			ctx    context.Context
			filter deploys.Filter
			want   string
		}{
			{"alice owns payments-api, not the ledger", alice, deploys.Filter{}, "1 [payments-api by bob]"},
			{"bob owns both; his own are not his to approve", bob, deploys.Filter{}, "1 [payments-api by alice]"},
			{"root, an admin, approves anything", root, deploys.Filter{}, "3 [payments-api by alice ledger by bob payments-api by bob]"},
			{"carol owns nothing", carol, deploys.Filter{}, "0 []"},
			{"a read-only token approves nothing", aliceRead, deploys.Filter{}, "0 []"},
			{"narrowed to a component", root, deploys.Filter{Component: "ledger"}, "1 [ledger by bob]"},
		} {
			if got := awaiting(c.ctx, c.filter); got != c.want {
				t.Errorf("%s: %s, want %s", c.name, got, c.want)
			}
		}
		f.cat.ownsErr = errs.E(errs.Unavailable, "catalog down")
		if _, err := f.s.List(alice, deploys.Filter{AwaitingMyApproval: true}, 10, ""); !errs.Is(err, errs.Unavailable) {
			t.Errorf("awaiting while the catalog cannot answer: %v, want UNAVAILABLE", err)
		}
	})
}

// The environments a request may name are those of the component's annotation, each with whether
// it needs approval.
func TestEnvironmentsAreTheAnnotations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		envs, err := f.s.Environments(carol, f.cat.annotations[payAPI])
		if err != nil || fmt.Sprint(envs) != "[{production true} {staging false}]" {
			t.Fatalf("payments-api's environments: %v, %v", envs, err)
		}
		if envs, err := f.s.Environments(carol, map[string]string{}); err != nil || len(envs) != 0 {
			t.Fatalf("a component without the annotation: %v, %v", envs, err)
		}
		if _, err := f.s.Environments(carol, map[string]string{deploys.AnnotationDeploy: "production: [1"}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("a malformed annotation: %v, want INVALID", err)
		}
		if _, err := f.s.Environments(context.Background(), f.cat.annotations[payAPI]); !errs.Is(err, errs.Unauthenticated) {
			t.Fatalf("nobody: %v, want UNAUTHENTICATED", err)
		}
	})
}

// "Awaiting my approval" checks the ownership of at most MaxAwaitingComponents components; past
// that it asks to be narrowed to one, and narrowed it answers.
func TestAwaitingMyApprovalIsBounded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		for i := 0; i <= deploys.MaxAwaitingComponents; i++ {
			ref := fmt.Sprintf("component:default/svc-%03d", i)
			f.cat.annotations[ref] = f.cat.annotations[payAPI]
			f.cat.owners[ref] = []string{"bob", "alice"}
			if _, err := f.s.Request(bob, deploys.RequestInput{Component: ref, Environment: "production", Version: digest}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.s.List(alice, deploys.Filter{AwaitingMyApproval: true}, 10, ""); !errs.Is(err, errs.Invalid) || !strings.Contains(errs.PublicMessage(err), "filter.component") {
			t.Fatalf("awaiting across %d components: %v, want INVALID asking for filter.component", deploys.MaxAwaitingComponents+1, err)
		}
		page, err := f.s.List(alice, deploys.Filter{AwaitingMyApproval: true, Component: "svc-007"}, 10, "")
		if err != nil || page.TotalCount != 1 || page.Requests[0].Component != "component:default/svc-007" {
			t.Fatalf("narrowed to one component: %+v, %v", page, err)
		}
		// An admin's list checks no ownership, so it has no such bound.
		if page, err := f.s.List(root, deploys.Filter{AwaitingMyApproval: true}, 10, ""); err != nil || page.TotalCount != int64(deploys.MaxAwaitingComponents+1) {
			t.Fatalf("an admin's: %+v, %v", page, err)
		}
	})
}

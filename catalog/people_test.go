package catalog_test

import (
	"slices"
	"testing"

	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

const people = `
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: platform}
spec: {type: department, children: [delivery]}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: delivery}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: asmith, title: Alice}
spec: {profile: {email: alice@acme.example}, memberOf: [delivery]}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: dana}
spec: {profile: {displayName: Dana Lee, email: Dana@Acme.example}, memberOf: [platform]}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: dan}
spec: {profile: {displayName: dana lee, email: dan@acme.example}, memberOf: []}
`

// Other domains (tasks) find people as a status-meeting table names them, and ask who belongs
// to a group, through the group hierarchy.
func TestUsersAreMatchedByNameTitleOrEmailAndGroupsByHierarchy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.register(f.write("people.yaml", people))
		refs := func(text string) []string {
			list, err := f.svc.MatchUsers(operator, text, 10)
			if err != nil {
				t.Fatal(err)
			}
			out := []string{}
			for _, e := range list {
				out = append(out, e.Ref.String())
			}
			return out
		}
		for _, tc := range []struct {
			text string
			want []string
		}{
			{"alice", []string{"user:default/asmith"}}, // the title, whatever the case
			{"asmith", []string{"user:default/asmith"}},
			{"alice@ACME.example", []string{"user:default/asmith"}},
			{"dana@acme.example", []string{"user:default/dana"}},
			{"Dana Lee", []string{"user:default/dan", "user:default/dana"}},
			{"user:default/dan", []string{"user:default/dan"}},
			{"group:default/dan", []string{}},
			{"nobody", []string{}},
		} {
			if got := refs(tc.text); !slices.Equal(got, tc.want) {
				t.Errorf("MatchUsers(%q) = %v, want %v", tc.text, got, tc.want)
			}
		}
		for _, tc := range []struct {
			who   *principal.Principal
			group string
			want  bool
		}{
			{&principal.Principal{Username: "asmith", EntityRef: "user:default/asmith"}, "group:default/delivery", true},
			{&principal.Principal{Username: "dana", EntityRef: "user:default/dana"}, "group:default/delivery", true}, // the group above
			{&principal.Principal{Username: "asmith", EntityRef: "user:default/asmith"}, "group:default/platform", false},
			{&principal.Principal{Username: "x", Groups: []string{"group:default/platform"}}, "group:default/delivery", true},
			{&principal.Principal{Username: "dan", EntityRef: "user:default/dan"}, "group:default/delivery", false},
			{nil, "group:default/delivery", false},
		} {
			got, err := f.svc.InGroup(operator, tc.who, tc.group)
			if err != nil || got != tc.want {
				t.Errorf("InGroup(%v, %s) = %v, %v; want %v", tc.who, tc.group, got, err, tc.want)
			}
			// InGroups answers the same for the group asked among others, in one batch.
			many, err := f.svc.InGroups(operator, tc.who, []string{"group:default/nothing", tc.group})
			if err != nil || many[tc.group] != tc.want || len(many) != 2 || many["group:default/nothing"] {
				t.Errorf("InGroups(%v, [nothing %s]) = %v, %v; want %s %v", tc.who, tc.group, many, err, tc.group, tc.want)
			}
		}
		if ref, err := f.svc.EntityRef(operator, "owner", "Delivery", "group"); err != nil || ref != "group:default/delivery" {
			t.Errorf("EntityRef(Delivery) = %q, %v", ref, err)
		}
		if _, err := f.svc.EntityRef(operator, "owner", "user:asmith", "group"); errs.FieldOf(err) != "owner" {
			t.Errorf("EntityRef of a user as a group: %v", err)
		}
		if _, err := f.svc.EntityRef(operator, "owner", "nobody", "group"); !errs.Is(err, errs.NotFound) {
			t.Errorf("EntityRef of nothing: %v", err)
		}
	})
}

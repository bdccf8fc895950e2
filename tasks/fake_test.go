package tasks_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/tasks"
)

// fakeCatalog knows users, groups (with their members' usernames, a group above counting for
// the groups below it) and other entities by ref.
type fakeCatalog struct {
	users    []*backstage.Entity
	groups   map[string][]string // group ref → usernames
	parents  map[string]string   // group ref → parent group ref
	entities map[string]bool     // refs of components and systems
}

func user(name, title, displayName, email string) *backstage.Entity {
	return &backstage.Entity{Kind: "User", Ref: backstage.MakeRef("user", "default", name),
		Metadata: backstage.Metadata{Name: name, Namespace: "default", Title: title},
		Spec:     map[string]any{"profile": map[string]any{"displayName": displayName, "email": email}}}
}

func newFakeCatalog() *fakeCatalog {
	return &fakeCatalog{
		users: []*backstage.Entity{
			user("alice-smith", "Alice", "Alice Smith", "alice@acme.example"),
			user("bob", "", "Bob Owner", "bob@acme.example"),
			user("carol", "", "Carol Viewer", "carol@acme.example"),
			user("dana", "", "Dana Lee", "dana@acme.example"),
			user("dan", "", "Dana Lee", "dan@acme.example"), // the same display name as dana's
			user("erin", "", "Erin Member", "erin@acme.example"),
		},
		groups:   map[string][]string{"group:default/team-delivery": {"bob"}, "group:default/platform": {"dana"}},
		parents:  map[string]string{"group:default/team-delivery": "group:default/platform"},
		entities: map[string]bool{"component:default/payments-api": true, "system:default/payments": true},
	}
}

func (c *fakeCatalog) InGroup(_ context.Context, p *principal.Principal, group string) (bool, error) {
	for g := group; g != ""; g = c.parents[g] {
		if p != nil && slices.Contains(c.groups[g], p.Username) {
			return true, nil
		}
	}
	return false, nil
}

func (c *fakeCatalog) InGroups(ctx context.Context, p *principal.Principal, groups []string) (map[string]bool, error) {
	out := map[string]bool{}
	for _, g := range groups {
		out[g], _ = c.InGroup(ctx, p, g)
	}
	return out, nil
}

func (c *fakeCatalog) EntityRef(_ context.Context, field, ref, kind string) (string, error) {
	r, err := backstage.ParseRef(ref, kind, "default")
	if err != nil {
		return "", errs.InvalidField(field, "%v", err)
	}
	if r.Kind != kind {
		return "", errs.InvalidField(field, "%s is not a %s", r, kind)
	}
	if _, ok := c.groups[r.String()]; ok || c.entities[r.String()] {
		return r.String(), nil
	}
	for _, u := range c.users {
		if u.Ref == r {
			return r.String(), nil
		}
	}
	return "", errs.NotFoundField(field, "no %s %s in the catalog", kind, r) // as the catalog answers
}

func (c *fakeCatalog) MatchUsers(_ context.Context, text string, limit int) ([]*backstage.Entity, error) {
	var out []*backstage.Entity
	for _, u := range c.users {
		p := u.Spec["profile"].(map[string]any)
		match := false
		if strings.ContainsAny(text, ":/") {
			r, err := backstage.ParseRef(text, "user", "default")
			match = err == nil && r == u.Ref
		} else {
			for _, v := range []string{u.Metadata.Name, u.Metadata.Title, p["displayName"].(string), p["email"].(string)} {
				match = match || (v != "" && strings.EqualFold(v, strings.TrimSpace(text)))
			}
		}
		if match {
			out = append(out, u)
		}
	}
	slices.SortFunc(out, func(a, b *backstage.Entity) int { return strings.Compare(a.Ref.String(), b.Ref.String()) })
	return out[:min(len(out), limit)], nil
}

var (
	// bob is in team-delivery, which owns the test project.
	bob = principal.With(context.Background(), &principal.Principal{Username: "bob", EntityRef: "user:default/bob", Kind: principal.KindSession, Client: principal.ClientWeb})
	// dana is in platform, the group above team-delivery.
	dana = principal.With(context.Background(), &principal.Principal{Username: "dana", EntityRef: "user:default/dana", Kind: principal.KindSession, Client: principal.ClientWeb})
	// erin is a member of the project.
	erin = principal.With(context.Background(), &principal.Principal{Username: "erin", EntityRef: "user:default/erin", Kind: principal.KindSession, Client: principal.ClientWeb})
	// carol is signed in, nothing more.
	carol  = principal.With(context.Background(), &principal.Principal{Username: "carol", EntityRef: "user:default/carol", Kind: principal.KindSession, Client: principal.ClientWeb})
	admin  = principal.With(context.Background(), &principal.Principal{Username: "root", Admin: true, Kind: principal.KindSession, Client: principal.ClientWeb})
	reader = principal.With(context.Background(), &principal.Principal{Username: "bob", EntityRef: "user:default/bob", Kind: principal.KindToken, Client: principal.ClientAPI, Scopes: []string{"read"}})
)

// newService returns the service on st with the fake catalog, an audit log and a clock, and
// a project "roadmap" owned by team-delivery with erin as member.
func newService(t testing.TB, st *store.Store) (*tasks.Service, *testutil.Clock) {
	t.Helper()
	return newServiceWith(t, st, tasks.Options{})
}

// newServiceWith is newService with opts besides (the finders of what tasks link to).
func newServiceWith(t testing.TB, st *store.Store, opts tasks.Options) (*tasks.Service, *testutil.Clock) {
	t.Helper()
	clk := testutil.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	opts.Catalog, opts.Audit, opts.Now = newFakeCatalog(), audit.New(st, nil), clk.Now
	s := tasks.NewService(st, opts)
	if _, err := s.CreateProject(admin, tasks.ProjectInput{Name: "roadmap", Title: "Deployment stage roadmap", Owner: "team-delivery",
		Members: []string{"erin"}}); err != nil {
		t.Fatal(err)
	}
	return s, clk
}

func countAudit(t testing.TB, st *store.Store, action, outcome string) int {
	t.Helper()
	var n int
	if err := st.Gorm().Raw("SELECT count(*) FROM audit_records WHERE action = ? AND outcome = ?", action, outcome).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

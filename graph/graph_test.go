package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/client"

	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/demo"
	"github.com/portside-dev/portside/catalog/sources"
	"github.com/portside-dev/portside/graph"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// api is the GraphQL endpoint over real services on a real database.
type api struct {
	t   *testing.T
	st  *store.Store
	svc *catalog.Service
	c   *client.Client
	// h is the endpoint itself, for requests the client does not make (newTasksAPI sets it).
	h http.Handler
}

// operator acts with the CLI's authority, for setting up the scene through the services.
var operator = principal.With(context.Background(), principal.System("test", principal.ClientCLI))

// signedIn serves h to an admin API client, as the server's authentication would: these tests are
// about the schema; who may do what is tested in package server.
func signedIn(h http.Handler) http.Handler {
	admin := &principal.Principal{Username: "admin", Kind: principal.KindToken, Client: principal.ClientAPI, Admin: true}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(principal.With(r.Context(), admin)))
	})
}

func newAPI(t *testing.T, st *store.Store, cacheSize int) *api {
	return newAPIWith(t, st, cacheSize, 0)
}

func newAPIWith(t *testing.T, st *store.Store, cacheSize, responseCacheSize int) *api {
	svc := catalog.NewService(st, catalog.Options{
		Readers: map[catalog.LocationType]catalog.Reader{
			catalog.LocationFile:     &sources.Files{},
			catalog.LocationEmbedded: sources.Embedded{FS: map[string]fs.FS{"demo": demo.FS()}},
		},
		CacheSize:        cacheSize,
		Logger:           slog.New(slog.DiscardHandler),
		APILocationTypes: []catalog.LocationType{catalog.LocationFile, catalog.LocationURL, catalog.LocationGit},
	})
	h := graph.NewHandler(&graph.Resolver{Catalog: svc}, graph.HandlerOptions{
		MaxDepth: 12, MaxComplexity: 100000, Logger: slog.New(slog.DiscardHandler), ResponseCacheSize: responseCacheSize,
	})
	return &api{t: t, st: st, svc: svc, c: client.New(signedIn(h))}
}

// withDemo registers the embedded demo catalog.
func (a *api) withDemo() *api {
	a.t.Helper()
	if _, err := a.svc.RegisterLocation(operator, catalog.LocationSpec{Type: catalog.LocationEmbedded, Target: "demo"}); err != nil {
		a.t.Fatal(err)
	}
	return a
}

// register writes catalog (YAML documents) into a directory of its own and registers it.
func (a *api) register(catalogYAML string) {
	a.t.Helper()
	dir := a.t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "catalog-info.yaml"), []byte(catalogYAML), 0o644); err != nil {
		a.t.Fatal(err)
	}
	if _, err := a.svc.RegisterLocation(operator, catalog.LocationSpec{Type: catalog.LocationFile, Target: dir}); err != nil {
		a.t.Fatal(err)
	}
}

// query runs a query that must succeed and decodes its data into out.
func (a *api) query(out any, q string, opts ...client.Option) {
	a.t.Helper()
	if err := a.c.Post(q, out, opts...); err != nil {
		a.t.Fatalf("query failed: %v\n%s", err, q)
	}
}

// errorsOf runs a query that must fail and returns its errors.
func (a *api) errorsOf(q string, opts ...client.Option) []gqlError {
	a.t.Helper()
	resp, err := a.c.RawPost(q, opts...)
	if err != nil {
		a.t.Fatal(err)
	}
	var list []gqlError
	if err := json.Unmarshal(resp.Errors, &list); err != nil || len(list) == 0 {
		a.t.Fatalf("want errors, got %s (%v)", resp.Errors, err)
	}
	return list
}

type gqlError struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

type named struct{ Name string }

func namesOf(list []named) []string {
	var out []string
	for _, n := range list {
		out = append(out, n.Name)
	}
	return out
}

func TestComponentShowsItsTypedRelations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		a := newAPI(t, st, 1000).withDemo()
		var resp struct {
			Entity struct {
				Typename      string `json:"__typename"`
				Ref, Kind     string
				Lifecycle     string
				Owner         named
				System        named
				DependsOn     []named
				Dependents    []named
				ProvidesApis  []named
				ConsumesApis  []named
				Subcomponents []named
				Annotation    *string
				Location      struct{ Type, Target string }
			}
		}
		a.query(&resp, `{ entity(ref: "component:payments-api") { __typename ref kind
			... on Component { lifecycle owner { name } system { name } dependsOn { name } dependents { name }
			  providesApis { name } consumesApis { name } subcomponents { name } annotation(key: "argocd/app-name")
			  location { type target } } } }`)
		e := resp.Entity
		if e.Typename != "Component" || e.Ref != "component:default/payments-api" || e.Owner.Name != "team-payments" || e.System.Name != "payments" {
			t.Errorf("component: %+v", e)
		}
		if got := namesOf(e.DependsOn); !slices.Equal(got, []string{"fraud-check", "ledger", "payment-events-topic", "payments-db"}) {
			t.Errorf("dependsOn: %q", got)
		}
		if got := namesOf(e.ProvidesApis); !slices.Equal(got, []string{"payment-events", "payments-rest-api"}) {
			t.Errorf("providesApis: %q", got)
		}
		if got := namesOf(e.Subcomponents); !slices.Equal(got, []string{"refund-worker"}) {
			t.Errorf("subcomponents: %q", got)
		}
		if e.Annotation == nil || *e.Annotation != "payments-api" || e.Location.Type != "EMBEDDED" || e.Location.Target != "demo" {
			t.Errorf("annotation %v, location %+v", e.Annotation, e.Location)
		}
	})
}

func TestOtherKindsShowTheirRelations(t *testing.T) {
	a := newAPI(t, storetest.SQLite(t), 1000).withDemo()
	var resp struct {
		API struct {
			Definition string
			Providers  []named
			Consumers  []named
		}
		System struct {
			Domain     named
			Components []named
			Apis       []named
			Resources  []named
		}
		Group struct {
			Parent   named
			Children []named
			Members  []named
		}
		User   struct{ MemberOf []named }
		Domain struct{ Systems []named }
	}
	a.query(&resp, `{
		api: entity(ref: "api:payments-rest-api") { ... on API { definition providers { name } consumers { name } } }
		system: entity(ref: "system:payments") { ... on System { domain { name } components { name } apis { name } resources { name } } }
		group: entity(ref: "group:commerce") { ... on Group { parent { name } children { name } members { name } } }
		user: entity(ref: "user:bob") { ... on User { memberOf { name } } }
		domain: entity(ref: "domain:commerce") { ... on Domain { systems { name } } }
	}`)
	if !strings.HasPrefix(resp.API.Definition, "openapi: 3") || !slices.Contains(namesOf(resp.API.Providers), "payments-api") || len(resp.API.Consumers) == 0 {
		t.Errorf("api: providers %q consumers %q definition %.30q", namesOf(resp.API.Providers), namesOf(resp.API.Consumers), resp.API.Definition)
	}
	if resp.System.Domain.Name != "commerce" || !slices.Contains(namesOf(resp.System.Components), "payments-api") ||
		!slices.Contains(namesOf(resp.System.Apis), "payments-rest-api") || !slices.Contains(namesOf(resp.System.Resources), "payments-db") {
		t.Errorf("system: %+v", resp.System)
	}
	if resp.Group.Parent.Name != "engineering" || !slices.Contains(namesOf(resp.Group.Children), "team-payments") {
		t.Errorf("group: %+v", resp.Group)
	}
	if !slices.Contains(namesOf(resp.User.MemberOf), "team-payments") {
		t.Errorf("user: %+v", resp.User)
	}
	if !slices.Contains(namesOf(resp.Domain.Systems), "payments") {
		t.Errorf("domain: %+v", resp.Domain)
	}
}

// A group's parent is the one its own spec.parent names, even when another group claims it in
// its spec.children (Backstage keeps both childOf relations); without spec.parent, the claimant.
func TestAGroupsParentIsTheOneItNames(t *testing.T) {
	a := newAPI(t, storetest.SQLite(t), 100)
	a.register(`apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: kid}
spec: {type: team, parent: zeta-parent, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: zeta-parent}
spec: {type: department, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: alpha-adopter}
spec: {type: department, children: [kid, orphan]}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: orphan}
spec: {type: team, children: []}
`)
	var resp struct {
		Kid, Orphan struct{ Parent struct{ Ref string } }
	}
	a.query(&resp, `{
		kid: entity(ref: "group:kid") { ... on Group { parent { ref } } }
		orphan: entity(ref: "group:orphan") { ... on Group { parent { ref } } }
	}`)
	if resp.Kid.Parent.Ref != "group:default/zeta-parent" {
		t.Errorf("kid's parent is %q, want the group its spec.parent names, group:default/zeta-parent", resp.Kid.Parent.Ref)
	}
	if resp.Orphan.Parent.Ref != "group:default/alpha-adopter" {
		t.Errorf("orphan's parent is %q, want the group listing it, group:default/alpha-adopter", resp.Orphan.Parent.Ref)
	}
}

func TestGroupOwnedEntitiesFollowTheHierarchyOnRequest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		a := newAPI(t, st, 1000).withDemo()
		var resp struct {
			Entity struct {
				Direct struct{ TotalCount int }
				All    struct {
					TotalCount int
					Nodes      []struct{ OwnerRef string }
				}
			}
		}
		a.query(&resp, `{ entity(ref: "group:commerce") { ... on Group {
			direct: ownedEntities { totalCount }
			all: ownedEntities(includeDescendantGroups: true, first: 500) { totalCount nodes { ... on Component { ownerRef } } } } } }`)
		e := resp.Entity
		if e.All.TotalCount <= e.Direct.TotalCount || len(e.All.Nodes) != e.All.TotalCount {
			t.Fatalf("direct %d, with descendants %d (%d nodes)", e.Direct.TotalCount, e.All.TotalCount, len(e.All.Nodes))
		}
		owners := map[string]bool{}
		for _, n := range e.All.Nodes {
			owners[n.OwnerRef] = true
		}
		if !owners["group:default/team-payments"] || !owners["group:default/team-storefront"] {
			t.Errorf("descendant teams missing among owners: %v", owners)
		}
	})
}

func TestEntitiesConnectionPagesWithCursorsAndCounts(t *testing.T) {
	a := newAPI(t, storetest.SQLite(t), 1000).withDemo()
	type page struct {
		Entities struct {
			TotalCount int
			Edges      []struct {
				Cursor string
				Node   struct{ Ref string }
			}
			PageInfo struct {
				HasNextPage bool
				EndCursor   *string
			}
		}
	}
	q := `query($after: String) { entities(filter: {kinds: ["Component"]}, first: 7, after: $after) {
		totalCount edges { cursor node { ref } } pageInfo { hasNextPage endCursor } } }`
	var refs []string
	var after *string
	for {
		var p page
		a.query(&p, q, client.Var("after", after))
		for _, e := range p.Entities.Edges {
			refs = append(refs, e.Node.Ref)
		}
		if p.Entities.TotalCount != 30 {
			t.Fatalf("totalCount %d", p.Entities.TotalCount)
		}
		if !p.Entities.PageInfo.HasNextPage {
			break
		}
		after = p.Entities.PageInfo.EndCursor
	}
	unique := slices.Compact(slices.Sorted(slices.Values(refs)))
	if len(refs) != 30 || len(unique) != 30 {
		t.Errorf("walked %d refs: %q", len(refs), refs)
	}
}

func TestFacetsQuery(t *testing.T) {
	a := newAPI(t, storetest.SQLite(t), 1000).withDemo()
	var resp struct {
		Facets []struct {
			Field  string
			Values []struct {
				Value string
				Count int
			}
		}
	}
	a.query(&resp, `{ facets(filter: {owners: ["team-payments"]}, fields: [KIND, LIFECYCLE]) { field values { value count } } }`)
	if len(resp.Facets) != 2 || resp.Facets[0].Field != "KIND" || resp.Facets[1].Field != "LIFECYCLE" {
		t.Fatalf("facets: %+v", resp.Facets)
	}
	total := 0
	for _, v := range resp.Facets[0].Values {
		total += v.Count
	}
	if total != 14 {
		t.Errorf("kind facet counts %d entities, team-payments owns 14", total)
	}
}

func TestNodeResolvesEveryGlobalID(t *testing.T) {
	a := newAPI(t, storetest.SQLite(t), 1000).withDemo()
	var first struct {
		Entity    struct{ ID string }
		Locations struct{ Nodes []struct{ ID string } }
	}
	a.query(&first, `{ entity(ref: "api:payments-rest-api") { id } locations { nodes { id } } }`)
	var resp struct {
		E struct {
			Typename string `json:"__typename"`
			Ref      string
		}
		L struct {
			Typename string `json:"__typename"`
			Target   string
		}
	}
	a.query(&resp, `query($e: ID!, $l: ID!) { e: node(id: $e) { __typename ... on Entity { ref } } l: node(id: $l) { __typename ... on Location { target } } }`,
		client.Var("e", first.Entity.ID), client.Var("l", first.Locations.Nodes[0].ID))
	if resp.E.Typename != "API" || resp.E.Ref != "api:default/payments-rest-api" || resp.L.Typename != "Location" || resp.L.Target != "demo" {
		t.Errorf("node: %+v", resp)
	}
	errs := a.errorsOf(`{ node(id: "garbage") { id } }`)
	if errs[0].Extensions["code"] != "INVALID" {
		t.Errorf("bad id: %+v", errs)
	}
}

func TestLocationMutations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		a := newAPI(t, st, 1000)
		dir := t.TempDir()
		file := filepath.Join(dir, "catalog-info.yaml")
		write := func(s string) {
			if err := os.WriteFile(file, []byte(s), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write("apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: team-x}\nspec: {type: team, children: []}\n---\n" +
			"apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: svc}\nspec: {type: service, lifecycle: production, owner: 42}\n")
		var reg struct {
			RegisterLocation struct {
				Location struct {
					ID, Status string
					ErrorCount int
					Errors     []struct {
						Source, Message string
						Document, Line  int
						Field           string
					}
				}
				Added int
			}
		}
		a.query(&reg, `mutation($t: String!) { registerLocation(input: {type: FILE, target: $t}) {
			location { id status errorCount errors { source document line field message } } added } }`, client.Var("t", dir))
		l := reg.RegisterLocation.Location
		if reg.RegisterLocation.Added != 1 || l.Status != "INVALID" || l.ErrorCount != 1 {
			t.Fatalf("register: %+v", reg)
		}
		if e := l.Errors[0]; e.Source != file || e.Document != 2 || e.Line != 9 || e.Field != "spec.owner" {
			t.Errorf("error: %+v", e)
		}
		write("apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: team-x}\nspec: {type: team, children: []}\n")
		var ref struct {
			RefreshLocation struct {
				Location struct{ Status string }
				Removed  int
				Errors   []struct{ Message string }
			}
		}
		a.query(&ref, `mutation($id: ID!) { refreshLocation(id: $id) { location { status } removed errors { message } } }`, client.Var("id", l.ID))
		if ref.RefreshLocation.Location.Status != "OK" || len(ref.RefreshLocation.Errors) != 0 {
			t.Errorf("refresh: %+v", ref)
		}
		var unreg struct {
			UnregisterLocation struct{ RemovedEntities int }
		}
		a.query(&unreg, `mutation($id: ID!) { unregisterLocation(id: $id) { removedEntities } }`, client.Var("id", l.ID))
		if unreg.UnregisterLocation.RemovedEntities != 1 {
			t.Errorf("unregister: %+v", unreg)
		}
		var gone struct{ Location *struct{ ID string } }
		a.query(&gone, `query($id: ID!) { location(id: $id) { id } }`, client.Var("id", l.ID))
		if gone.Location != nil {
			t.Errorf("location still there: %+v", gone)
		}
		errs := a.errorsOf(`mutation { registerLocation(input: {type: FILE, target: "/nonexistent/dir"}) { added } }`)
		if errs[0].Extensions["code"] != "INVALID" || !strings.Contains(errs[0].Message, "/nonexistent/dir") {
			t.Errorf("unreadable: %+v", errs)
		}
	})
}

// TestRelationFieldsCostAConstantNumberOfQueries is the N+1 check: a page of components with
// owner, system, dependsOn and providesApis costs the same number of SQL statements whatever the
// page size. The read cache is off, so every entity comes from the database.
func TestRelationFieldsCostAConstantNumberOfQueries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		a := newAPI(t, st, 0)
		dir := t.TempDir()
		writeCatalog(t, dir, 60)
		if _, err := a.svc.RegisterLocation(operator, catalog.LocationSpec{Type: catalog.LocationFile, Target: dir}); err != nil {
			t.Fatal(err)
		}
		counter := storetest.CountStatements(st.Gorm())
		statements := func(first int) int64 {
			counter.Reset()
			var resp struct {
				Entities struct {
					Nodes []struct {
						Owner        *named
						System       *named
						DependsOn    []named
						ProvidesApis []named
					}
				}
			}
			a.query(&resp, `query($first: Int) { entities(filter: {kinds: ["Component"]}, first: $first) { nodes {
				... on Component { owner { name } system { name } dependsOn { name } providesApis { name } } } } }`,
				client.Var("first", first))
			if len(resp.Entities.Nodes) != first {
				t.Fatalf("got %d nodes, want %d", len(resp.Entities.Nodes), first)
			}
			for _, n := range resp.Entities.Nodes {
				if n.Owner == nil || n.System == nil || len(n.DependsOn) != 2 || len(n.ProvidesApis) != 1 {
					t.Fatalf("relations not resolved: %+v", n)
				}
			}
			return counter.Count()
		}
		small, large := statements(5), statements(50)
		t.Logf("%d statements for 5 components, %d for 50", small, large)
		if small != large {
			t.Errorf("statements grow with the page: %d for 5 components, %d for 50", small, large)
		}
		// page keys, page entities + relations, owners + relations, systems + relations,
		// dependsOn targets + relations, APIs + relations, and the cache's generation check.
		if large > 12 {
			t.Errorf("%d statements for one page; expected a small constant", large)
		}
	})
}

// A system of more APIs than a relation list holds still lists its components and resources,
// which come after the APIs in relation order, and every relation it lists has its target.
func TestASystemOfManyListsTheFirstOfEachKind(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		a := newAPI(t, st, 0)
		var b strings.Builder
		b.WriteString("apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: team}\nspec: {type: team, children: []}\n")
		b.WriteString("---\napiVersion: backstage.io/v1alpha1\nkind: System\nmetadata: {name: big}\nspec: {owner: team}\n")
		for i := range graph.RelationListMax + 2 {
			fmt.Fprintf(&b, "---\napiVersion: backstage.io/v1alpha1\nkind: API\nmetadata: {name: api-%04d}\n"+
				"spec: {type: openapi, lifecycle: production, owner: team, system: big, definition: x}\n", i)
		}
		for i := range 3 {
			fmt.Fprintf(&b, "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: svc-%d}\n"+
				"spec: {type: service, lifecycle: production, owner: team, system: big}\n", i)
		}
		for i := range 2 {
			fmt.Fprintf(&b, "---\napiVersion: backstage.io/v1alpha1\nkind: Resource\nmetadata: {name: db-%d}\n"+
				"spec: {type: database, owner: team, system: big}\n", i)
		}
		a.register(b.String())
		var resp struct {
			Entity struct {
				Components, Apis, Resources []named
				Relations                   []struct {
					TargetRef string
					Target    *named
				}
			}
		}
		a.query(&resp, `{ entity(ref: "system:big") { ... on System { components { name } apis(first: 1000) { name } resources { name } }
			relations(type: "hasPart", first: 1000) { targetRef target { name } } } }`)
		e := resp.Entity
		if got := namesOf(e.Components); !slices.Equal(got, []string{"svc-0", "svc-1", "svc-2"}) {
			t.Errorf("components %q", got)
		}
		if got := namesOf(e.Resources); !slices.Equal(got, []string{"db-0", "db-1"}) {
			t.Errorf("resources %q", got)
		}
		if len(e.Apis) != graph.RelationListMax || e.Apis[0].Name != "api-0000" || e.Apis[len(e.Apis)-1].Name != fmt.Sprintf("api-%04d", graph.RelationListMax-1) {
			t.Errorf("%d APIs, want the first %d", len(e.Apis), graph.RelationListMax)
		}
		if len(e.Relations) != graph.RelationListMax {
			t.Errorf("%d hasPart relations, want %d", len(e.Relations), graph.RelationListMax)
		}
		for _, r := range e.Relations {
			if r.Target == nil || "api:default/"+r.Target.Name != r.TargetRef {
				t.Fatalf("relation to %s has target %+v", r.TargetRef, r.Target)
			}
		}
	})
}

// A group's own list of members may name users who are gone: members(first: 1000) skips them
// and still holds 1000 of those there.
func TestAMembersListSkipsMembersThatAreGone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		a := newAPI(t, st, 0)
		var b strings.Builder
		b.WriteString("apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: team}\nspec:\n  type: team\n  children: []\n  members:\n")
		for i := range graph.RelationListMax + 1 {
			fmt.Fprintf(&b, "    - u-%04d\n", i)
		}
		for i := 1; i <= graph.RelationListMax; i++ { // u-0000 is gone
			fmt.Fprintf(&b, "---\napiVersion: backstage.io/v1alpha1\nkind: User\nmetadata: {name: u-%04d}\nspec: {memberOf: []}\n", i)
		}
		a.register(b.String())
		var resp struct{ Entity struct{ Members []named } }
		a.query(&resp, `{ entity(ref: "group:team") { ... on Group { members(first: 1000) { name } } } }`)
		if m := resp.Entity.Members; len(m) != graph.RelationListMax || m[0].Name != "u-0001" || m[len(m)-1].Name != fmt.Sprintf("u-%04d", graph.RelationListMax) {
			t.Errorf("%d members, want the %d there", len(m), graph.RelationListMax)
		}
	})
}

// writeCatalog writes n components, each with an owner, a system, two dependencies and an API.
func writeCatalog(t *testing.T, dir string, n int) {
	var b strings.Builder
	b.WriteString("apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: team}\nspec: {type: team, children: []}\n")
	b.WriteString("---\napiVersion: backstage.io/v1alpha1\nkind: System\nmetadata: {name: sys}\nspec: {owner: team}\n")
	b.WriteString("---\napiVersion: backstage.io/v1alpha1\nkind: Resource\nmetadata: {name: db}\nspec: {type: database, owner: team}\n")
	for i := range n {
		fmt.Fprintf(&b, "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: svc-%03d}\n"+
			"spec: {type: service, lifecycle: production, owner: team, system: sys, dependsOn: [resource:db, component:svc-%03d], providesApis: [api-%03d]}\n",
			i, (i+1)%n, i)
		fmt.Fprintf(&b, "---\napiVersion: backstage.io/v1alpha1\nkind: API\nmetadata: {name: api-%03d}\n"+
			"spec: {type: openapi, lifecycle: production, owner: team, definition: x}\n", i)
	}
	if err := os.WriteFile(filepath.Join(dir, "catalog-info.yaml"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Through the API, locations that read the server's own disk are refused unless configured.
func TestAPIRefusesLocationTypesTheServerDoesNotAllow(t *testing.T) {
	st := storetest.SQLite(t)
	svc := catalog.NewService(st, catalog.Options{
		Readers:          map[catalog.LocationType]catalog.Reader{catalog.LocationFile: &sources.Files{}, catalog.LocationGit: &sources.Git{CacheDir: t.TempDir()}},
		APILocationTypes: []catalog.LocationType{catalog.LocationURL, catalog.LocationGit},
		Logger:           slog.New(slog.DiscardHandler),
	})
	a := &api{t: t, st: st, svc: svc, c: client.New(signedIn(graph.NewHandler(&graph.Resolver{Catalog: svc},
		graph.HandlerOptions{MaxDepth: 12, MaxComplexity: 5000, Logger: slog.New(slog.DiscardHandler)})))}
	dir := t.TempDir()
	for _, q := range []string{
		`mutation($t: String!) { registerLocation(input: {type: FILE, target: $t}) { added } }`,
		`mutation($t: String!) { registerLocation(input: {type: GIT, target: $t}) { added } }`,
	} {
		target := dir
		if strings.Contains(q, "GIT") {
			target = "file://" + dir
		}
		errs := a.errorsOf(q, client.Var("t", target))
		if errs[0].Extensions["code"] != "FORBIDDEN" || errs[0].Extensions["field"] != "type" {
			t.Errorf("%s: %+v", q, errs)
		}
	}
	if locs, _ := svc.Locations(operator); len(locs) != 0 {
		t.Errorf("refused locations were registered: %+v", locs)
	}
	// The operator's CLI is not the API: the same location registers.
	if err := os.WriteFile(filepath.Join(dir, "catalog-info.yaml"), []byte("apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: g}\nspec: {type: team, children: []}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.RegisterLocation(operator, catalog.LocationSpec{Type: catalog.LocationFile, Target: dir}); err != nil {
		t.Errorf("outside the API: %v", err)
	}
}

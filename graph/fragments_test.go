package graph_test

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/client"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/sources"
	"github.com/portside-dev/portside/graph"
	"github.com/portside-dev/portside/store/storetest"
)

// fragmentAPI is the GraphQL API with the entity cache on and the response cache off, over a
// directory of catalog files, with the resolver at hand for its fragment counters.
func fragmentAPI(t *testing.T, cacheSize int) (*client.Client, *graph.Resolver, *catalog.Service, string) {
	t.Helper()
	svc := catalog.NewService(storetest.SQLite(t), catalog.Options{
		Readers:   map[catalog.LocationType]catalog.Reader{catalog.LocationFile: &sources.Files{}},
		CacheSize: cacheSize,
		Logger:    slog.New(slog.DiscardHandler),
	})
	r := &graph.Resolver{Catalog: svc}
	h := graph.NewHandler(r, graph.HandlerOptions{MaxDepth: 12, MaxComplexity: 100000, Logger: slog.New(slog.DiscardHandler)})
	return client.New(signedIn(h)), r, svc, t.TempDir()
}

const fragmentDocs = `apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: a, description: DESC, tags: [go]}
spec: {type: service, lifecycle: production, owner: team, dependsOn: [component:b]}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: b}
spec: {type: service, lifecycle: production, owner: team}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: c}
spec: {type: service, lifecycle: production, owner: team}
`

func writeFragmentDocs(t *testing.T, dir, description string) {
	t.Helper()
	doc := []byte(strings.Replace(fragmentDocs, "DESC", description, 1))
	if err := os.WriteFile(filepath.Join(dir, "catalog-info.yaml"), doc, 0o644); err != nil {
		t.Fatal(err)
	}
}

const wholePage = `query($n: Int) { entities(filter: {kinds: ["Component"]}, first: $n) { nodes {
	ref name description tags spec relations { type targetRef } } } }`

type wholeNode = map[string]any

func page(t *testing.T, c *client.Client, n int) []wholeNode {
	t.Helper()
	var resp struct{ Entities struct{ Nodes []wholeNode } }
	c.MustPost(wholePage, &resp, client.Var("n", n))
	return resp.Entities.Nodes
}

func TestEntitiesRenderedOnceAreReusedByOtherRequests(t *testing.T) {
	c, r, svc, dir := fragmentAPI(t, 1000)
	writeFragmentDocs(t, dir, "first")
	if _, err := svc.RegisterLocation(operator, catalog.LocationSpec{Type: catalog.LocationFile, Target: dir}); err != nil {
		t.Fatal(err)
	}
	two := page(t, c, 2)
	if graph.FragmentHits(r) != 0 {
		t.Fatalf("hits before anything was rendered: %d", graph.FragmentHits(r))
	}
	three := page(t, c, 3) // another request (other variables) sharing two entities and the selection
	if got := graph.FragmentHits(r); got != 2 {
		t.Errorf("the second page reused %d rendered entities, want the 2 the first page rendered", got)
	}
	if len(two) != 2 || len(three) != 3 {
		t.Fatalf("pages of %d and %d entities", len(two), len(three))
	}
	for i := range two {
		a, _ := json.Marshal(two[i])
		b, _ := json.Marshal(three[i])
		if string(a) != string(b) {
			t.Errorf("entity %d rendered differently from the cache:\n%s\n%s", i, a, b)
		}
	}
	if three[0]["description"] != "first" || len(three[0]["relations"].([]any)) != 2 {
		t.Errorf("first entity: %v", three[0])
	}
}

func TestRenderedEntitiesFollowCatalogChanges(t *testing.T) {
	c, _, svc, dir := fragmentAPI(t, 1000)
	writeFragmentDocs(t, dir, "first")
	res, err := svc.RegisterLocation(operator, catalog.LocationSpec{Type: catalog.LocationFile, Target: dir})
	if err != nil {
		t.Fatal(err)
	}
	if got := page(t, c, 3)[0]["description"]; got != "first" {
		t.Fatalf("description %v", got)
	}
	writeFragmentDocs(t, dir, "second")
	if _, err := svc.Refresh(operator, res.Location.ID); err != nil {
		t.Fatal(err)
	}
	if got := page(t, c, 3)[0]["description"]; got != "second" {
		t.Errorf("after a refresh the page shows description %v, want the new one", got)
	}
}

func TestRenderedEntitiesKeyOnTheVariablesTheirSelectionUses(t *testing.T) {
	c, _, svc, dir := fragmentAPI(t, 1000)
	writeFragmentDocs(t, dir, "first")
	if _, err := svc.RegisterLocation(operator, catalog.LocationSpec{Type: catalog.LocationFile, Target: dir}); err != nil {
		t.Fatal(err)
	}
	const q = `query($t: String) { entity(ref: "component:a") { relations(type: $t) { type targetRef } } }`
	for _, tc := range []struct {
		typ  string
		want string
	}{
		{"ownedBy", "group:default/team"},
		{"dependsOn", "component:default/b"},
		{"ownedBy", "group:default/team"},
	} {
		var resp struct {
			Entity struct {
				Relations []struct{ Type, TargetRef string }
			}
		}
		c.MustPost(q, &resp, client.Var("t", tc.typ))
		if len(resp.Entity.Relations) != 1 || resp.Entity.Relations[0].TargetRef != tc.want {
			t.Errorf("relations(type: %s) = %+v, want one to %s", tc.typ, resp.Entity.Relations, tc.want)
		}
	}
}

func TestNoRenderedEntitiesWithTheCatalogCacheOff(t *testing.T) {
	c, r, svc, dir := fragmentAPI(t, 0)
	writeFragmentDocs(t, dir, "first")
	if _, err := svc.RegisterLocation(operator, catalog.LocationSpec{Type: catalog.LocationFile, Target: dir}); err != nil {
		t.Fatal(err)
	}
	page(t, c, 3)
	page(t, c, 3)
	if got := graph.FragmentHits(r); got != 0 {
		t.Errorf("catalog-cache-size 0 served %d entities from rendered fragments", got)
	}
}

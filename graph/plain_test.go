package graph_test

import (
	"bytes"
	"io/fs"
	"log/slog"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/demo"
	"github.com/portside-dev/portside/catalog/sources"
	"github.com/portside-dev/portside/graph"
	"github.com/portside-dev/portside/store/storetest"
)

// oddCatalog has entities whose text needs escaping, every optional field empty, and tags.
var oddCatalog = fstest.MapFS{"catalog-info.yaml": {Data: []byte(`apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: odd-one
  title: "Quote \" back\\slash <b>&amp;</b> \u00e9\u2028\t tab"
  description: "line one\nline two \u0001 \U0001F600"
  tags: [zeta, alpha]
spec:
  type: service
  lifecycle: experimental
  owner: group:default/team-payments
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: bare-one
spec:
  type: library
  lifecycle: production
  owner: team-payments
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata:
  name: bare-system
spec:
  owner: team-payments
`)}}

// plainHandler is the GraphQL API over the demo catalog and oddCatalog, answering raw bytes;
// cacheSize 0 turns the catalog's caches (the rendered-entity cache with them) off.
func plainHandler(t *testing.T, cacheSize, maxResponseBytes int) func(query string, vars map[string]any) []byte {
	t.Helper()
	svc := catalog.NewService(storetest.SQLite(t), catalog.Options{
		Readers: map[catalog.LocationType]catalog.Reader{catalog.LocationEmbedded: sources.Embedded{FS: map[string]fs.FS{
			"demo": demo.FS(), "odd": oddCatalog,
		}}},
		CacheSize: cacheSize,
		Logger:    slog.New(slog.DiscardHandler),
	})
	for _, target := range []string{"demo", "odd"} {
		if _, err := svc.RegisterLocation(operator, catalog.LocationSpec{Type: catalog.LocationEmbedded, Target: target}); err != nil {
			t.Fatal(err)
		}
	}
	return rawHandler(t, svc, maxResponseBytes)
}

// everyPlainField selects every plain field of every entity type (graph/plain.go's plainTypes).
const everyPlainField = `__typename id ref apiVersion kind namespace name title description tags source createdAt updatedAt
	... on Component { type lifecycle ownerRef systemRef }
	... on API { type lifecycle ownerRef systemRef }
	... on System { sysType: type ownerRef }
	... on Domain { domType: type ownerRef }
	... on Resource { type ownerRef systemRef }
	... on Group { type }
	... on LocationEntity { locType: type }`

// TestPlainEntitiesRenderTheBytesGqlgenRenders compares plain.go's one-pass rendering of entities
// with gqlgen's generated code, selection by selection, with the catalog's caches on and off and
// with a response bound the field budget meets.
func TestPlainEntitiesRenderTheBytesGqlgenRenders(t *testing.T) {
	t.Cleanup(func() { graph.RenderEntitiesWithGqlgen(false) })
	page := func(sel string) string { return `{ entities(first: 200) { totalCount nodes { ` + sel + ` } } }` }
	cases := []struct {
		name, query string
		vars        map[string]any
		plain       bool // the answer is rendered by plain.go (with the caches off)
	}{
		{"every plain field of every type", page(everyPlainField), nil, true},
		{"an owner's page", `{ entities(filter: {owners: ["team-payments"], kinds: ["Component"]}, first: 50) { totalCount nodes { ref name title } } }`, nil, true},
		{"the portal's row", `query { entities(first: 100) { nodes { ...Row } } }
			fragment Row on Entity { id ref kind namespace name title description tags updatedAt
				... on Component { type lifecycle ownerRef } ... on API { type lifecycle ownerRef } ... on System { ownerRef }
				... on Domain { ownerRef } ... on Resource { type ownerRef } ... on Group { type } }`, nil, true},
		{"aliases and repeats", page(`r: ref n: name ref r: ref t: title t2: title __typename tn: __typename`), nil, true},
		{"the odd entities", `{ entities(filter: {text: "one"}, first: 10) { nodes { ` + everyPlainField + ` } } }`, nil, true},
		{"include and skip", `query($yes: Boolean!, $no: Boolean!) { entities(first: 60) { nodes {
			ref @include(if: $yes) name @skip(if: $yes) title @include(if: $no) ... on Component @skip(if: $no) { type } } } }`,
			map[string]any{"yes": true, "no": false}, true},
		{"include and skip, flipped", `query($yes: Boolean!, $no: Boolean!) { entities(first: 60) { nodes {
			ref @include(if: $yes) name @skip(if: $yes) title @include(if: $no) ... on Component @skip(if: $no) { type } } } }`,
			map[string]any{"yes": false, "no": true}, true},
		{"nothing selected but skipped fields", `query($no: Boolean!) { entities(first: 3) { nodes { ref @include(if: $no) } } }`,
			map[string]any{"no": false}, true},
		{"one entity", `{ entity(ref: "component:default/odd-one") { ` + everyPlainField + ` } }`, nil, true},
		{"a relation on components beside plain fields", page(`ref name ... on Component { owner { ref name } }`), nil, true}, // the others are plain
		{"relations and their targets", `{ entities(first: 20) { nodes { ref relations(first: 5) { type target { ref labels { key } } } } } }`, nil, false},
		{"relations beside plain fields", page(`ref name relations { type targetRef t: type __typename }`), nil, true},
		{"relations of an entity, some with their targets", `{ entity(ref: "component:default/payments-api") { ref
			a: relations(first: 3) { targetRef type } b: relations(type: "ownedBy") { target { ref } } } }`, nil, true},
		{"relations and fragments", `query($no: Boolean!) { entity(ref: "system:default/payments") { relations { ...R targetRef @skip(if: $no) } } }
			fragment R on Relation { type __typename }`, map[string]any{"no": true}, true},
		{"an annotation (arguments)", page(`ref annotation(key: "backstage.io/techdocs-ref")`), nil, false},
		{"labels (objects)", page(`ref labels { key value }`), nil, false},
		{"deferred", `query { entities(first: 5) { nodes { ref ... @defer { name } } } }`, nil, false},
	}
	for _, cacheSize := range []int{0, 1000} {
		for _, max := range []int{0, 2000} { // 2,000 bytes: the field budget refuses the larger answers
			serve := plainHandler(t, cacheSize, max)
			for _, c := range cases {
				graph.RenderEntitiesWithGqlgen(true)
				want := serve(c.query, c.vars)
				graph.RenderEntitiesWithGqlgen(false)
				before := graph.PlainEntitiesRendered()
				got := serve(c.query, c.vars)
				rendered := graph.PlainEntitiesRendered() - before
				if !bytes.Equal(got, want) {
					t.Errorf("%s (cache %d, max response bytes %d):\n got %s\nwant %s", c.name, cacheSize, max, got, want)
				}
				if cacheSize == 0 && max == 0 {
					if c.plain && rendered == 0 {
						t.Errorf("%s: no entity was rendered by plain.go", c.name)
					}
					if !c.plain && rendered != 0 {
						t.Errorf("%s: %d entities were rendered by plain.go, want none", c.name, rendered)
					}
					if bytes.Contains(got, []byte(`"errors"`)) {
						t.Errorf("%s: %s", c.name, got)
					}
				}
			}
		}
	}
	// The cases cover what they claim: the odd entity's escapes, nulls, an empty tag list.
	got := string(plainHandler(t, 0, 0)(`{ entities(filter: {text: "one"}, first: 10) { nodes { `+everyPlainField+` } } }`, nil))
	for _, want := range []string{`\"`, `\\slash`, `\u0001`, `"title":null`, `"tags":[]`, `"tags":["zeta","alpha"]`, `"systemRef":null`} {
		if !strings.Contains(got, want) {
			t.Errorf("the odd entities' answer has no %s: %s", want, got)
		}
	}
}

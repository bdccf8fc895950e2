package graph_test

import (
	"bytes"
	"encoding/json"
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

// oddCatalog has entities whose text needs escaping, every optional field empty, and tags;
// plainHandler changes odd-one's description after registering it, so that its updatedAt is not
// its createdAt.
const oddCatalog = `apiVersion: backstage.io/v1alpha1
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
`

// plainHandlers are two GraphQL APIs over one database holding the demo catalog and
// oddCatalog, each with its own catalog service (and so its own caches), answering raw bytes;
// cacheSize 0 turns the catalog's caches (the rendered-entity cache with them) off.
func plainHandlers(t *testing.T, cacheSize, maxResponseBytes int) (a, b func(query string, vars map[string]any) []byte) {
	t.Helper()
	st := storetest.SQLite(t)
	odd := fstest.MapFS{"catalog-info.yaml": {Data: []byte(oddCatalog)}}
	service := func() *catalog.Service {
		return catalog.NewService(st, catalog.Options{
			Readers: map[catalog.LocationType]catalog.Reader{catalog.LocationEmbedded: sources.Embedded{FS: map[string]fs.FS{
				"demo": demo.FS(), "odd": odd,
			}}},
			CacheSize: cacheSize,
			Logger:    slog.New(slog.DiscardHandler),
		})
	}
	svc := service()
	if _, err := svc.RegisterLocation(operator, catalog.LocationSpec{Type: catalog.LocationEmbedded, Target: "demo"}); err != nil {
		t.Fatal(err)
	}
	res, err := svc.RegisterLocation(operator, catalog.LocationSpec{Type: catalog.LocationEmbedded, Target: "odd"})
	if err != nil {
		t.Fatal(err)
	}
	odd["catalog-info.yaml"].Data = []byte(strings.Replace(oddCatalog, "line one", "line 1", 1))
	if res, err = svc.Refresh(operator, res.Location.ID); err != nil || res.Updated != 1 {
		t.Fatalf("refresh of odd = %+v, %v; want odd-one updated", res, err)
	}
	return rawHandler(t, svc, maxResponseBytes), rawHandler(t, service(), maxResponseBytes)
}

// everyPlainField selects every field plain.go renders itself of every entity type, each type's
// own under an alias of its own (their types differ: a System's type is nullable).
func everyPlainField() string {
	var b strings.Builder
	b.WriteString("__typename")
	for typ, fields := range graph.PlainFields() {
		b.WriteString(" ... on " + typ + " {")
		for _, f := range fields {
			b.WriteString(" " + typ + "_" + f + ": " + f)
		}
		b.WriteString(" }")
	}
	return b.String()
}

// TestPlainEntitiesRenderTheBytesGqlgenRenders compares plain.go's one-pass rendering of entities
// and relations with gqlgen's generated code, selection by selection, with the catalog's caches
// (the rendered-entity cache among them) on and off and with a response bound that refuses the
// larger answers: the same bytes, and the same number of fields counted by the operation's
// budget.
func TestPlainEntitiesRenderTheBytesGqlgenRenders(t *testing.T) {
	t.Cleanup(func() {
		graph.RenderEntitiesWithGqlgen(false)
		graph.OnPlainRendered(nil)
		graph.OnFieldsCounted(nil)
	})
	var counted int64
	graph.OnFieldsCounted(func(n int64) { counted = n })
	rendered := map[string]int{}
	graph.OnPlainRendered(func(what string) { rendered[what]++ })
	every := everyPlainField()
	page := func(sel string) string { return `{ entities(first: 200) { totalCount nodes { ` + sel + ` } } }` }
	cases := []struct {
		name, query string
		vars        map[string]any
		entities    bool // some entity is rendered by plain.go (with the caches off)
		relations   bool // some relation is
	}{
		{"every plain field of every type", page(every), nil, true, false},
		{"an owner's page", `{ entities(filter: {owners: ["team-payments"], kinds: ["Component"]}, first: 50) { totalCount nodes { ref name title } } }`, nil, true, false},
		{"the portal's row", `query { entities(first: 100) { nodes { ...Row } } }
			fragment Row on Entity { id ref kind namespace name title description tags updatedAt
				... on Component { type lifecycle ownerRef } ... on API { type lifecycle ownerRef } ... on System { ownerRef }
				... on Domain { ownerRef } ... on Resource { type ownerRef } ... on Group { type } }`, nil, true, false},
		{"aliases and repeats", page(`r: ref n: name ref r: ref t: title t2: title __typename tn: __typename`), nil, true, false},
		{"one field through three fragments", `query { entities(first: 30) { nodes { ... on Entity { title } ... on Node { ... on Component { title } } ...C } } }
			fragment C on Component { title ref }`, nil, true, false},
		{"the odd entities", `{ entities(filter: {text: "one"}, first: 10) { nodes { ` + every + ` } } }`, nil, true, false},
		{"include and skip", `query($yes: Boolean!, $no: Boolean!) { entities(first: 60) { nodes {
			ref @include(if: $yes) name @skip(if: $yes) title @include(if: $no) ... on Component @skip(if: $no) { type } } } }`,
			map[string]any{"yes": true, "no": false}, true, false},
		{"include and skip, flipped", `query($yes: Boolean!, $no: Boolean!) { entities(first: 60) { nodes {
			ref @include(if: $yes) name @skip(if: $yes) title @include(if: $no) ... on Component @skip(if: $no) { type } } } }`,
			map[string]any{"yes": false, "no": true}, true, false},
		{"nothing selected but skipped fields", `query($no: Boolean!) { entities(first: 3) { nodes { ref @include(if: $no) } } }`,
			map[string]any{"no": false}, true, false},
		{"one entity", `{ entity(ref: "component:default/odd-one") { ` + every + ` } }`, nil, true, false},
		{"a relation on components beside plain fields", page(`ref name ... on Component { owner { ref name } }`), nil, true, false}, // the others, and the owners, are plain
		{"an annotation (arguments)", page(`ref annotation(key: "backstage.io/techdocs-ref")`), nil, false, false},
		{"labels (objects)", page(`ref labels { key value }`), nil, false, false},
		{"deferred", `query { entities(first: 5) { nodes { ref ... @defer { name } } } }`, nil, false, false},
		{"relations and their targets", `{ entities(first: 20) { nodes { ref relations(first: 5) { type target { ref labels { key } } } } } }`, nil, false, false},
		{"relations beside plain fields", page(`ref name relations { type targetRef t: type __typename }`), nil, false, true},
		{"relations of an entity, some with their targets", `{ entity(ref: "component:default/payments-api") { ref
			a: relations(first: 3) { targetRef type } b: relations(type: "ownedBy") { target { ref } } } }`, nil, true, true},
		{"relations and fragments", `query($no: Boolean!) { entity(ref: "system:default/payments") { relations { ...R targetRef @skip(if: $no) } } }
			fragment R on Relation { type __typename }`, map[string]any{"no": true}, false, true},
	}
	for _, cacheSize := range []int{0, 1000} {
		for _, max := range []int{0, 2000} { // 2,000 bytes: the larger answers are refused
			// A handler for each way of rendering: with the caches on, one would answer the
			// other's entities from its rendered-entity cache.
			gqlgen, plain := plainHandlers(t, cacheSize, max)
			for _, c := range cases {
				graph.RenderEntitiesWithGqlgen(true)
				want := gqlgen(c.query, c.vars)
				wantCounted := counted
				graph.RenderEntitiesWithGqlgen(false)
				clear(rendered)
				got := plain(c.query, c.vars)
				if !bytes.Equal(got, want) {
					t.Errorf("%s (cache %d, max response bytes %d):\n got %s\nwant %s", c.name, cacheSize, max, got, want)
				}
				if counted != wantCounted {
					t.Errorf("%s (cache %d, max response bytes %d): the budget counted %d fields, gqlgen's rendering %d", c.name, cacheSize, max, counted, wantCounted)
				}
				if max == 0 {
					if (rendered["entity"] > 0) != c.entities || (rendered["relation"] > 0) != c.relations {
						t.Errorf("%s (cache %d): plain.go rendered %d entities and %d relations; want some entities %v, some relations %v",
							c.name, cacheSize, rendered["entity"], rendered["relation"], c.entities, c.relations)
					}
					if bytes.Contains(got, []byte(`"errors"`)) {
						t.Errorf("%s: %s", c.name, got)
					}
				}
			}
		}
	}
	// The cases cover what they claim: the odd entity's escapes, nulls, an empty tag list, an
	// update time that is not the creation time.
	serve, _ := plainHandlers(t, 0, 0)
	got := string(serve(`{ entity(ref: "component:default/odd-one") { createdAt updatedAt } `+
		`entities(filter: {text: "one"}, first: 10) { nodes { `+every+` } } }`, nil))
	for _, want := range []string{`\"`, `\\slash`, `\u0001`, `_title":null`, `_tags":[]`, `_tags":["zeta","alpha"]`, `_systemRef":null`} {
		if !strings.Contains(got, want) {
			t.Errorf("the odd entities' answer has no %s: %s", want, got)
		}
	}
	var odd struct {
		Data struct {
			Entity struct{ CreatedAt, UpdatedAt string }
		}
	}
	if err := json.Unmarshal([]byte(got), &odd); err != nil || odd.Data.Entity.CreatedAt == odd.Data.Entity.UpdatedAt {
		t.Errorf("odd-one's createdAt and updatedAt = %+v (%v); want them to differ", odd.Data.Entity, err)
	}
}

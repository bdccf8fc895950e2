package graph_test

import (
	"bytes"
	"io/fs"
	"log/slog"
	"testing"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/demo"
	"github.com/portside-dev/portside/catalog/sources"
	"github.com/portside-dev/portside/graph"
	"github.com/portside-dev/portside/store/storetest"
)

// facetsHandler is the GraphQL API over the demo catalog, answering raw bytes.
func facetsHandler(t *testing.T, maxResponseBytes int) func(query string, vars map[string]any) []byte {
	t.Helper()
	svc := catalog.NewService(storetest.SQLite(t), catalog.Options{
		Readers:   map[catalog.LocationType]catalog.Reader{catalog.LocationEmbedded: sources.Embedded{FS: map[string]fs.FS{"demo": demo.FS()}}},
		CacheSize: 1000,
		Logger:    slog.New(slog.DiscardHandler),
	})
	if _, err := svc.RegisterLocation(operator, catalog.LocationSpec{Type: catalog.LocationEmbedded, Target: "demo"}); err != nil {
		t.Fatal(err)
	}
	return rawHandler(t, svc, maxResponseBytes)
}

// TestFacetsRenderTheBytesGqlgenRenders compares facets.go's one-pass rendering of facets with
// gqlgen's generated code, selection by selection.
func TestFacetsRenderTheBytesGqlgenRenders(t *testing.T) {
	t.Cleanup(func() { graph.RenderFacetsWithGqlgen(false) })
	const owner = `filter: {owners: ["team-payments"]}`
	cases := []struct {
		name, query string
		vars        map[string]any
	}{
		{"value and count", `{ facets(` + owner + `, fields: [KIND, TYPE, LIFECYCLE, TAG]) { field values { value count } } }`, nil},
		{"count first", `{ facets(` + owner + `, fields: [TAG, KIND]) { values { count value } field } }`, nil},
		{"aliases", `{ f: facets(` + owner + `, fields: [KIND]) { k: field v: values { n: count name: value c2: count } } }`, nil},
		{"typenames", `{ facets(fields: [OWNER, SYSTEM, NAMESPACE]) { __typename field values { __typename value t: __typename count } } }`, nil},
		{"only field", `{ facets(fields: [KIND, KIND]) { field } }`, nil},
		{"only values", `{ facets(fields: [LIFECYCLE], limit: 2) { values { value } } }`, nil},
		{"empty values", `{ facets(filter: {owners: ["nobody"]}, fields: [KIND, TAG]) { field values { value count } } }`, nil},
		{"repeated field merged", `{ facets(fields: [KIND]) { values { value } values { count } field field } }`, nil},
		{"two aliases of values", `{ facets(fields: [KIND]) { a: values { value } b: values { count __typename } } }`, nil},
		{"fragments", `query { facets(fields: [KIND, TYPE]) { ...F values { ... on FacetValue { count } ...V } } }
			fragment F on Facet { field } fragment V on FacetValue { value }`, nil},
		{"include and skip", `query($yes: Boolean!, $no: Boolean!) { facets(fields: [KIND, TAG]) {
			field @include(if: $no) values { value @skip(if: $yes) count @include(if: $yes) __typename @skip(if: $no) } } }`,
			map[string]any{"yes": true, "no": false}},
		{"include and skip, flipped", `query($yes: Boolean!, $no: Boolean!) { facets(fields: [KIND, TAG]) {
			field @include(if: $no) values { value @skip(if: $yes) count @include(if: $yes) __typename @skip(if: $no) } } }`,
			map[string]any{"yes": false, "no": true}},
		{"whole object skipped", `query($no: Boolean!) { facets(fields: [KIND]) { field @skip(if: $no) values @skip(if: $no) { value } } }`,
			map[string]any{"no": true}},
		{"variables", `query($o: String!, $f: [FacetField!]!, $n: Int) { facets(filter: {owners: [$o]}, fields: $f, limit: $n) { field values { value count } } }`,
			map[string]any{"o": "team-payments", "f": []string{"TAG", "LIFECYCLE"}, "n": 3}},
		{"beside other fields", `{ entity(ref: "api:payments-rest-api") { ref } facets(fields: [KIND]) { field values { value count } } }`, nil},
		{"an error", `{ facets(fields: [KIND], limit: 5000) { field values { value count } } }`, nil},
		{"a bad owner", `{ facets(filter: {owners: ["a:b:c:d"]}, fields: [KIND]) { field values { value count } } }`, nil},
	}
	for _, max := range []int{0, 300} { // 300 bytes: the field budget refuses the larger answers
		serve := facetsHandler(t, max)
		for _, c := range cases {
			graph.RenderFacetsWithGqlgen(true)
			want := serve(c.query, c.vars)
			graph.RenderFacetsWithGqlgen(false)
			got := serve(c.query, c.vars)
			if !bytes.Equal(got, want) {
				t.Errorf("%s (max response bytes %d):\n got %s\nwant %s", c.name, max, got, want)
			}
			if max == 0 && c.name == "value and count" && !bytes.Contains(got, []byte(`"values":[{"value":`)) {
				t.Errorf("%s: %s has no facet values", c.name, got)
			}
		}
	}
}

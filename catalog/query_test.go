package catalog_test

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gorm.io/gorm"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// queryCatalog is a small organisation: platform → {payments, web}; entities spread over owners,
// kinds, types, lifecycles, tags and annotations so each filter selects a known set.
const queryCatalog = `
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: platform}
spec: {type: department, children: [payments, web]}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: payments}
spec: {type: team, parent: platform, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: web}
spec: {type: team, parent: platform, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata: {name: checkout, title: Checkout}
spec: {owner: payments}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments-api
  title: Payments API
  description: Charges cards and wallets
  tags: [java, pci]
  annotations: {argocd/app-name: payments-api, github.com/project-slug: acme/payments}
spec: {type: service, lifecycle: production, owner: payments, system: checkout}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ledger
  description: Double-entry bookkeeping for payments
  tags: [go, pci]
  annotations: {argocd/app-name: ledger}
spec: {type: service, lifecycle: production, owner: payments, system: checkout}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: storefront
  title: Web storefront
  tags: [typescript]
spec: {type: website, lifecycle: production, owner: web}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout-experiment
  description: Trying one-click checkout
  tags: [typescript]
spec: {type: website, lifecycle: experimental, owner: web, system: checkout}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: portal
  namespace: tools
  tags: [go]
spec: {type: service, lifecycle: production, owner: group:default/platform}
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: payments-rest, description: REST API for payments}
spec: {type: openapi, lifecycle: production, owner: payments, system: checkout, definition: "openapi: 3.0.0"}
---
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata: {name: payments-db, tags: [postgres]}
spec: {type: database, owner: payments, system: checkout}
`

func queryFixture(t *testing.T, st *store.Store) *fixture {
	f := newFixture(t, st)
	f.write("catalog-info.yaml", queryCatalog)
	if res := f.register(f.dir); len(res.Errors) != 0 || res.Added != 11 {
		t.Fatalf("fixture: %+v", res)
	}
	return f
}

func names(page catalog.Page) []string {
	var out []string
	for _, e := range page.Entities {
		out = append(out, e.Metadata.Name)
	}
	return out
}

func TestFiltersSelectExactlyTheMatchingEntities(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := queryFixture(t, st)
		value := func(s string) *string { return &s }
		for _, tc := range []struct {
			name   string
			filter catalog.Filter
			want   []string
		}{
			{"kind, in any case", catalog.Filter{Kinds: []string{"component"}}, []string{"checkout-experiment", "ledger", "payments-api", "portal", "storefront"}},
			{"several kinds are alternatives", catalog.Filter{Kinds: []string{"API", "Resource"}}, []string{"payments-db", "payments-rest"}},
			{"namespace", catalog.Filter{Namespaces: []string{"tools"}}, []string{"portal"}},
			{"type", catalog.Filter{Types: []string{"website"}}, []string{"checkout-experiment", "storefront"}},
			{"lifecycle", catalog.Filter{Lifecycles: []string{"experimental"}}, []string{"checkout-experiment"}},
			{"owner by short ref", catalog.Filter{Owners: []string{"payments"}, Kinds: []string{"Component"}}, []string{"ledger", "payments-api"}},
			{"owner by full ref", catalog.Filter{Owners: []string{"group:default/web"}}, []string{"checkout-experiment", "storefront"}},
			{"owner without descendants", catalog.Filter{Owners: []string{"platform"}}, []string{"portal"}},
			{"owner with descendant groups", catalog.Filter{Owners: []string{"platform"}, IncludeDescendants: true},
				[]string{"checkout", "checkout-experiment", "ledger", "payments-api", "payments-db", "payments-rest", "portal", "storefront"}},
			{"system", catalog.Filter{Systems: []string{"checkout"}, Kinds: []string{"Component"}}, []string{"checkout-experiment", "ledger", "payments-api"}},
			{"any of the tags", catalog.Filter{Tags: []string{"pci", "postgres"}}, []string{"ledger", "payments-api", "payments-db"}},
			{"annotation present", catalog.Filter{Annotations: []catalog.AnnotationFilter{{Key: "argocd/app-name"}}}, []string{"ledger", "payments-api"}},
			{"annotation with value", catalog.Filter{Annotations: []catalog.AnnotationFilter{{Key: "argocd/app-name", Value: value("ledger")}}}, []string{"ledger"}},
			{"fields combine", catalog.Filter{Tags: []string{"go"}, Owners: []string{"payments"}}, []string{"ledger"}},
			{"text: word prefix in name", catalog.Filter{Text: "pay"}, []string{"ledger", "payments", "payments-api", "payments-db", "payments-rest"}},
			{"text: every word must match", catalog.Filter{Text: "payments rest"}, []string{"payments-rest"}},
			{"text: title", catalog.Filter{Text: "storefront web"}, []string{"storefront"}},
			{"text: description", catalog.Filter{Text: "one-click"}, []string{"checkout-experiment"}},
			{"text: tags", catalog.Filter{Text: "typescript"}, []string{"checkout-experiment", "storefront"}},
			{"text: no partial match inside a word", catalog.Filter{Text: "ments"}, nil},
			{"text: case and punctuation do not matter", catalog.Filter{Text: "  PAYMENTS-API, charges!! "}, []string{"payments-api"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				page, err := f.svc.Find(context.Background(), catalog.Query{Filter: tc.filter, First: 100})
				if err != nil {
					t.Fatal(err)
				}
				if got := names(page); !slices.Equal(got, tc.want) {
					t.Errorf("got  %q\nwant %q", got, tc.want)
				}
				n, err := f.svc.Count(context.Background(), tc.filter)
				if err != nil || n != len(tc.want) {
					t.Errorf("count %d (%v), want %d", n, err, len(tc.want))
				}
			})
		}
	})
}

// Types and lifecycles are kept as written, and matched whatever their case, as Backstage
// matches filter values: "service" finds a Service too, in pages, counts and facets, and a
// spelling no entity has finds nothing more.
func TestTypesAndLifecyclesMatchWhateverTheirCase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		doc := func(name, typ, lifecycle string) string {
			return "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: " + name + "}\n" +
				"spec: {type: " + typ + ", lifecycle: " + lifecycle + ", owner: team-a}\n---\n"
		}
		f.write("catalog-info.yaml", doc("lower", "service", "production")+doc("upper", "Service", "Production")+
			doc("shout", "SERVICE", "experimental")+doc("site", "website", "production"))
		if res := f.register(f.dir); len(res.Errors) != 0 || res.Added != 4 {
			t.Fatalf("fixture: %+v", res)
		}
		ctx := context.Background()
		for _, tc := range []struct {
			name   string
			filter catalog.Filter
			want   []string
		}{
			{"type in lower case", catalog.Filter{Types: []string{"service"}}, []string{"lower", "shout", "upper"}},
			{"type as another entity wrote it", catalog.Filter{Types: []string{"Service"}}, []string{"lower", "shout", "upper"}},
			{"lifecycle in any case", catalog.Filter{Lifecycles: []string{"PRODUCTION"}}, []string{"lower", "site", "upper"}},
			{"both", catalog.Filter{Types: []string{"sErViCe"}, Lifecycles: []string{"production"}, Kinds: []string{"Component"}}, []string{"lower", "upper"}},
			{"a spelling of nothing", catalog.Filter{Types: []string{"services"}}, nil},
		} {
			page, err := f.svc.Find(ctx, catalog.Query{Filter: tc.filter, First: 100, Count: true})
			if err != nil {
				t.Fatal(err)
			}
			if got := names(page); !slices.Equal(got, tc.want) {
				t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
			}
			if n, err := f.svc.Count(ctx, tc.filter); err != nil || n != len(tc.want) {
				t.Errorf("%s: count %d (%v), want %d", tc.name, n, err, len(tc.want))
			}
			facets, err := f.svc.Facets(ctx, tc.filter, []catalog.FacetField{catalog.FacetKind}, catalog.MaxFacetValues)
			if err != nil {
				t.Fatal(err)
			}
			total := 0
			for _, v := range facets[catalog.FacetKind] {
				total += v.Count
			}
			if total != len(tc.want) {
				t.Errorf("%s: the kind facet counts %d, want %d", tc.name, total, len(tc.want))
			}
		}
	})
}

func TestPagesWalkTheWholeResultInOrderWithoutRepeats(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := queryFixture(t, st)
		for _, order := range []catalog.Order{
			{Field: catalog.OrderByName}, {Field: catalog.OrderByName, Descending: true},
			{Field: catalog.OrderByKind}, {Field: catalog.OrderByUpdatedAt, Descending: true},
		} {
			t.Run(fmt.Sprintf("%s desc=%v", order.Field, order.Descending), func(t *testing.T) {
				all, err := f.svc.Find(context.Background(), catalog.Query{Order: order, First: 100})
				if err != nil || len(all.Entities) != 11 || all.HasNextPage {
					t.Fatalf("one page of all: %d entities, next %v, %v", len(all.Entities), all.HasNextPage, err)
				}
				var walked []string
				after := ""
				for range 10 {
					page, err := f.svc.Find(context.Background(), catalog.Query{Order: order, First: 3, After: after})
					if err != nil {
						t.Fatal(err)
					}
					for _, e := range page.Entities {
						walked = append(walked, e.Ref.String())
					}
					if !page.HasNextPage {
						break
					}
					after = page.Cursor(len(page.Entities) - 1)
				}
				var want []string
				for _, e := range all.Entities {
					want = append(want, e.Ref.String())
				}
				if !slices.Equal(walked, want) {
					t.Errorf("paged  %q\nat once %q", walked, want)
				}
			})
		}
	})
}

func TestNameOrderIsByNameThenRef(t *testing.T) {
	st := storetest.SQLite(t)
	f := queryFixture(t, st)
	page, err := f.svc.Find(context.Background(), catalog.Query{Filter: catalog.Filter{Text: "checkout"}})
	if err != nil {
		t.Fatal(err)
	}
	// "checkout" names both a System and (as prefix) a Component; the shorter name sorts first.
	if got := names(page); !slices.Equal(got, []string{"checkout", "checkout-experiment"}) {
		t.Errorf("got %q", got)
	}
}

func TestFacetsCountTheCurrentFilter(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := queryFixture(t, st)
		got, err := f.svc.Facets(context.Background(), catalog.Filter{Owners: []string{"payments"}},
			[]catalog.FacetField{catalog.FacetKind, catalog.FacetTag, catalog.FacetLifecycle, catalog.FacetSystem}, catalog.MaxFacetValues)
		if err != nil {
			t.Fatal(err)
		}
		want := map[catalog.FacetField][]catalog.FacetValue{
			catalog.FacetKind:      {{Value: "Component", Count: 2}, {Value: "API", Count: 1}, {Value: "Resource", Count: 1}, {Value: "System", Count: 1}},
			catalog.FacetTag:       {{Value: "pci", Count: 2}, {Value: "go", Count: 1}, {Value: "java", Count: 1}, {Value: "postgres", Count: 1}},
			catalog.FacetLifecycle: {{Value: "production", Count: 3}},
			catalog.FacetSystem:    {{Value: "system:default/checkout", Count: 4}},
		}
		for field, values := range want {
			if !slices.Equal(got[field], values) {
				t.Errorf("%s: got %+v\nwant %+v", field, got[field], values)
			}
		}
		limited, err := f.svc.Facets(context.Background(), catalog.Filter{}, []catalog.FacetField{catalog.FacetOwner}, 2)
		if err != nil || len(limited[catalog.FacetOwner]) != 2 || limited[catalog.FacetOwner][0] != (catalog.FacetValue{Value: "group:default/payments", Count: 5}) {
			t.Errorf("limited owner facet: %+v %v", limited, err)
		}
	})
}

func TestBadQueryInputIsRefusedNamingTheField(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) { badQueryInputIsRefused(t, st) })
}

// badQueryInputIsRefused is TestBadQueryInputIsRefusedNamingTheField on one database: with a
// count too, which on PostgreSQL chooses its statement from the kept counts first.
func badQueryInputIsRefused(t *testing.T, st *store.Store) {
	f := queryFixture(t, st)
	for _, tc := range []struct {
		q     catalog.Query
		field string
	}{
		{catalog.Query{First: -1}, "first"},
		{catalog.Query{First: catalog.MaxPageSize + 1}, "first"},
		{catalog.Query{After: "not-a-cursor"}, "after"},
		{catalog.Query{Order: catalog.Order{Field: catalog.OrderByKind}, After: mustCursor(t, f, catalog.Order{})}, "after"},
		// A cursor whose values would fit another order's columns (two strings, or an update time
		// read as a name), or the same order's in the other direction.
		{catalog.Query{Order: catalog.Order{Field: catalog.OrderByName}, After: mustCursor(t, f, catalog.Order{Field: catalog.OrderByUpdatedAt})}, "after"},
		{catalog.Query{Order: catalog.Order{Field: catalog.OrderByUpdatedAt}, After: mustCursor(t, f, catalog.Order{})}, "after"},
		{catalog.Query{Order: catalog.Order{Field: catalog.OrderByUpdatedAt, Descending: true}, After: mustCursor(t, f, catalog.Order{Field: catalog.OrderByUpdatedAt})}, "after"},
		{catalog.Query{After: mustCursor(t, f, catalog.Order{Descending: true})}, "after"},
		{catalog.Query{Order: catalog.Order{Field: catalog.OrderByKind, Descending: true}, After: mustCursor(t, f, catalog.Order{Field: catalog.OrderByKind})}, "after"},
		{catalog.Query{Filter: catalog.Filter{Kinds: []string{"Template"}}}, "kinds"},
		{catalog.Query{Filter: catalog.Filter{Owners: []string{"group:"}}}, "owners"},
		{catalog.Query{Filter: catalog.Filter{Text: "!!!"}}, "text"},
		{catalog.Query{Filter: catalog.Filter{Text: "!!!"}, Count: true}, "text"},
		{catalog.Query{Filter: catalog.Filter{Text: "--", Lifecycles: []string{"production"}}, Count: true}, "text"},
		{catalog.Query{Filter: catalog.Filter{Text: "pay", Kinds: []string{"Template"}, Lifecycles: []string{"production"}}, Count: true}, "kinds"},
		{catalog.Query{Filter: catalog.Filter{Annotations: []catalog.AnnotationFilter{{Key: ""}}}}, "annotations"},
	} {
		_, err := f.svc.Find(context.Background(), tc.q)
		if !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != tc.field {
			t.Errorf("%+v: want INVALID on %s, got %v", tc.q, tc.field, err)
		}
	}
}

// mustCursor returns a cursor of order o, which every other order must refuse.
func mustCursor(t *testing.T, f *fixture, o catalog.Order) string {
	page, err := f.svc.Find(context.Background(), catalog.Query{First: 1, Order: o})
	if err != nil || len(page.Entities) != 1 {
		t.Fatalf("cursor: %v", err)
	}
	return page.Cursor(0)
}

func TestEntityByInputAcceptsEveryReferenceForm(t *testing.T) {
	st := storetest.SQLite(t)
	f := queryFixture(t, st)
	for _, tc := range []struct{ ref, kind, want string }{
		{"component:default/payments-api", "", "component:default/payments-api"},
		{"Component:Payments-API", "", "component:default/payments-api"},
		{"payments-api", "component", "component:default/payments-api"},
		{"tools/portal", "component", "component:tools/portal"},
		{"payments", "group", "group:default/payments"},
	} {
		e, err := f.svc.EntityByInput(context.Background(), tc.ref, tc.kind)
		if err != nil || e == nil || e.Ref.String() != tc.want {
			t.Errorf("%q (kind %q): got %v, %v; want %s", tc.ref, tc.kind, e, err, tc.want)
		}
	}
	if e, err := f.svc.EntityByInput(context.Background(), "component:nope", ""); e != nil || err != nil {
		t.Errorf("missing entity: got %v, %v; want nil, nil", e, err)
	}
	if _, err := f.svc.EntityByInput(context.Background(), "payments-api", ""); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "kind") {
		t.Errorf("ref without kind: want INVALID about the kind, got %v", err)
	}
}

func TestCachedQueryResultsFollowCatalogChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := queryFixture(t, st) // the fixture's service caches
		filter := catalog.Filter{Owners: []string{"payments"}, Kinds: []string{"Component"}}
		read := func() (int, int, []catalog.FacetValue) {
			page, err := f.svc.Find(context.Background(), catalog.Query{Filter: filter})
			if err != nil {
				t.Fatal(err)
			}
			n, err := f.svc.Count(context.Background(), filter)
			if err != nil {
				t.Fatal(err)
			}
			facets, err := f.svc.Facets(context.Background(), filter, []catalog.FacetField{catalog.FacetLifecycle}, catalog.MaxFacetValues)
			if err != nil {
				t.Fatal(err)
			}
			return len(page.Entities), n, facets[catalog.FacetLifecycle]
		}
		if p, n, _ := read(); p != 2 || n != 2 {
			t.Fatalf("before: page %d, count %d", p, n)
		}
		f.write("catalog-info.yaml", queryCatalog+`---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: refunds}
spec: {type: service, lifecycle: experimental, owner: payments}
`)
		locs, err := f.svc.Locations(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		f.refresh(locs[0].ID)
		p, n, lifecycles := read()
		if p != 3 || n != 3 || len(lifecycles) != 2 {
			t.Errorf("after the refresh: page %d, count %d, lifecycles %+v; the cache served old results", p, n, lifecycles)
		}
	})
}

// Both databases index the words Portside normalises: case and accents do not matter, and letters
// beyond ASCII are letters.
func TestTextSearchFindsWordsWithAccentsOnBothDatabases(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.write("catalog-info.yaml", `
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: ueberweisung, title: Überweisung Zürich, description: Paiements à Genève}
spec: {type: service, lifecycle: production, owner: team}
`)
		f.register(f.dir)
		for _, q := range []string{"zürich", "ZURICH", "uberweisung", "überw", "genève", "geneve", "paiements a"} {
			n, err := f.svc.Count(context.Background(), catalog.Filter{Text: q})
			if err != nil || n != 1 {
				t.Errorf("search %q: %d matches (%v), want 1", q, n, err)
			}
		}
		if n, _ := f.svc.Count(context.Background(), catalog.Filter{Text: "rich"}); n != 0 {
			t.Errorf(`search "rich" matched %d: only word starts match`, n)
		}
	})
}

// Every list of a filter is bounded: past MaxFilterValues (MaxAnnotationFilters for annotations,
// which each add a subquery) the query is INVALID naming the field,
// where 100,000 values failed inside the database ("too many SQL variables") as an internal
// error. At the bound it runs, on both databases.
func TestFilterListsOverTheirBoundAreInvalidNamingTheField(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := queryFixture(t, st)
		values := func(n int, format string) []string {
			out := make([]string, n)
			for i := range out {
				out[i] = fmt.Sprintf(format, i)
			}
			return out
		}
		annotations := func(n int) []catalog.AnnotationFilter {
			out := make([]catalog.AnnotationFilter, n)
			for i := range out {
				out[i] = catalog.AnnotationFilter{Key: fmt.Sprintf("acme.com/a%d", i)}
			}
			return out
		}
		for _, tc := range []struct {
			field  string
			bound  int
			filter func(n int) catalog.Filter
		}{
			{"kinds", catalog.MaxFilterValues, func(n int) catalog.Filter { return catalog.Filter{Kinds: slices.Repeat([]string{"Component"}, n)} }},
			{"namespaces", catalog.MaxFilterValues, func(n int) catalog.Filter { return catalog.Filter{Namespaces: values(n, "ns-%d")} }},
			{"types", catalog.MaxFilterValues, func(n int) catalog.Filter { return catalog.Filter{Types: values(n, "type-%d")} }},
			{"lifecycles", catalog.MaxFilterValues, func(n int) catalog.Filter { return catalog.Filter{Lifecycles: values(n, "stage-%d")} }},
			{"owners", catalog.MaxFilterValues, func(n int) catalog.Filter { return catalog.Filter{Owners: values(n, "team-%d")} }},
			{"systems", catalog.MaxFilterValues, func(n int) catalog.Filter { return catalog.Filter{Systems: values(n, "system-%d")} }},
			{"tags", catalog.MaxFilterValues, func(n int) catalog.Filter { return catalog.Filter{Tags: values(n, "tag-%d")} }},
			{"annotations", catalog.MaxAnnotationFilters, func(n int) catalog.Filter { return catalog.Filter{Annotations: annotations(n)} }},
		} {
			t.Run(tc.field, func(t *testing.T) {
				for _, n := range []int{tc.bound + 1, 100_000} {
					_, err := f.svc.Find(context.Background(), catalog.Query{Filter: tc.filter(n)})
					if !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != tc.field {
						t.Errorf("%d %s: want INVALID on %s, got %v", n, tc.field, tc.field, err)
					}
					_, err = f.svc.Facets(context.Background(), tc.filter(n), []catalog.FacetField{catalog.FacetKind}, 10)
					if !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != tc.field {
						t.Errorf("facets, %d %s: want INVALID on %s, got %v", n, tc.field, tc.field, err)
					}
				}
				if _, err := f.svc.Find(context.Background(), catalog.Query{Filter: tc.filter(tc.bound)}); err != nil {
					t.Errorf("%d %s (the bound): %v", tc.bound, tc.field, err)
				}
			})
		}
	})
}

// A text search that matches a thousand entities or more (a one-letter search as someone starts
// typing) reads its pages ordered by name along the name index on SQLite; every page, cursor and
// count is what the plain plan gives, ascending and descending, with and without another filter,
// and a rarer word (a few hundred matches) keeps the plain plan. On both databases. On
// PostgreSQL the pages are read along entities_name_search, which holds the entities with at
// most 512 bytes of search text (CoveredSearchBytes, the index's own bound): some matches have
// more and are merged in by name, and the entities at 512 and 513 bytes, of the words that make
// the largest tsvector for their length (two letters), are written (an index entry is bounded)
// and found in their place.
func TestLargeTextMatchesPageByNameLikeSmallOnes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		var doc strings.Builder
		words := []string{"zeta", "alpha", "mango", "delta", "kilo", "omega", "bravo"}
		want := map[string][]string{} // search word → matching refs
		for i := range 1300 {
			// Names interleave matches and others all along the name order; 1,100 say "frequent",
			// 150 of those "rarely" too.
			name := fmt.Sprintf("%s-svc-%04d", words[i%len(words)], (i*7919)%10000)
			desc := "plain"
			if i%13 != 0 {
				desc = "frequent service"
				want["frequent"] = append(want["frequent"], "component:default/"+name)
				if i%8 == 0 {
					desc += " rarely"
					want["rarely"] = append(want["rarely"], "component:default/"+name)
				}
			}
			if i%50 == 1 {
				desc += strings.Repeat(" with a long description", 30) // 720 bytes of search text
			}
			fmt.Fprintf(&doc, "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: %s\n  description: %s\nspec: {type: service, lifecycle: production, owner: team-a}\n", name, desc)
		}
		// At the bound and past it: a 63-character name (Backstage's longest), "frequent", then
		// distinct words of the most tsvector for their bytes (one-letter words, ASCII then
		// Cyrillic and Greek letters, then two-letter words) up to 512 and 513 bytes of search
		// text (words joined by spaces, as search.go writes them).
		var letters []string
		for _, r := range []struct{ from, to rune }{{'a', 'z'}, {'0', '9'}, {'а', 'и'}, {'к', 'я'}, {'α', 'ω'}} {
			for c := r.from; c <= r.to; c++ {
				letters = append(letters, string(c))
			}
		}
		for j := range 26 * 26 {
			letters = append(letters, string(rune('a'+j/26))+string(rune('a'+j%26)))
		}
		bounds := map[string]int{}
		for _, size := range []int{catalog.CoveredSearchBytes, catalog.CoveredSearchBytes + 1} {
			name := fmt.Sprintf("mango-%d-%s", size, strings.Repeat("x", 53))
			text := name[:5] + " " + name[6:9] + " " + name[10:] + " frequent"
			var desc strings.Builder
			desc.WriteString("frequent")
			for _, w := range letters {
				if len(text)+1+len(w) > size {
					break
				}
				text += " " + w
				desc.WriteString(" " + w)
			}
			switch size - len(text) { // 0, 1 or 2 bytes short: a letter or a word of one more
			case 1:
				text += "q"
				desc.WriteString("q")
			case 2:
				text += " q"
				desc.WriteString(" q")
			}
			bounds[name] = size
			want["frequent"] = append(want["frequent"], "component:default/"+name)
			fmt.Fprintf(&doc, "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: %s\n  description: %s\nspec: {type: service, lifecycle: production, owner: team-a}\n", name, desc.String())
		}
		if res := f.register(f.write("many.yaml", doc.String())); len(res.Errors) > 0 {
			t.Fatalf("ingest: %v", res.Errors[0])
		}
		if len(want["frequent"]) < 1000 || len(want["rarely"]) >= 1000 {
			t.Fatalf("the fixture has %d frequent and %d rare matches", len(want["frequent"]), len(want["rarely"]))
		}
		if st.Dialect() == store.Postgres {
			for name, size := range bounds {
				var n int
				if err := st.Gorm().Raw("SELECT octet_length(search_text) FROM entities WHERE name = ?", name).Scan(&n).Error; err != nil || n != size {
					t.Fatalf("%s has %d bytes of search text (%v), want %d", name, n, err, size)
				}
			}
			var long int
			err := st.Gorm().Raw("SELECT count(*) FROM entities WHERE octet_length(search_text) > ?", catalog.CoveredSearchBytes).Scan(&long).Error
			if err != nil || long < 20 {
				t.Fatalf("%d entities have more than %d bytes of search text (%v), want 20 or more", long, catalog.CoveredSearchBytes, err)
			}
			var index string
			if err := st.Gorm().Raw("SELECT pg_get_indexdef('entities_name_search'::regclass)").Scan(&index).Error; err != nil {
				t.Fatal(err)
			}
			if bound := fmt.Sprintf("WHERE (octet_length(search_text) <= %d)", catalog.CoveredSearchBytes); !strings.HasSuffix(index, bound) {
				t.Fatalf("entities_name_search is %q: its predicate is not %q, the bound the pages state", index, bound)
			}
		}
		byName := func(refs []string, desc bool) []string {
			out := slices.Clone(refs)
			slices.SortFunc(out, func(a, b string) int {
				c := strings.Compare(strings.TrimPrefix(a, "component:default/"), strings.TrimPrefix(b, "component:default/"))
				if desc {
					return -c
				}
				return c
			})
			return out
		}
		for _, tc := range []struct {
			text    string
			kinds   []string
			desc    bool
			matches string // the word of want whose entities match
		}{{"frequent", nil, false, "frequent"}, {"frequent", nil, true, "frequent"}, {"freq", []string{"Component"}, false, "frequent"},
			{"rarely", nil, false, "rarely"}, {"rarely frequent", nil, true, "rarely"}} {
			filter := catalog.Filter{Text: tc.text, Kinds: tc.kinds}
			expected := byName(want[tc.matches], tc.desc)
			n, err := f.svc.Count(operator, filter)
			if err != nil || n != len(expected) {
				t.Errorf("%+v: count %d, %v; want %d", tc, n, err, len(expected))
			}
			var got []string
			after := ""
			for pages := 0; pages < 100; pages++ {
				page, err := f.svc.Find(operator, catalog.Query{Filter: filter, Order: catalog.Order{Field: catalog.OrderByName, Descending: tc.desc}, First: 97, After: after})
				if err != nil {
					t.Fatalf("%+v: %v", tc, err)
				}
				for _, e := range page.Entities {
					got = append(got, e.Ref.String())
				}
				if !page.HasNextPage {
					break
				}
				after = page.Cursor(len(page.Entities) - 1)
			}
			if !slices.Equal(got, expected) {
				t.Errorf("%+v: %d refs paged, want %d; first difference at %d", tc, len(got), len(expected), firstDifference(got, expected))
			}
		}
	})
}

func firstDifference(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

type countedKey struct{}

// counted marks ctx: statementsOf counts the statements run with it.
func counted(ctx context.Context) context.Context { return context.WithValue(ctx, countedKey{}, true) }

// statementsOf counts the statements st runs with a context marked by counted.
func statementsOf(st *store.Store) *storetest.Counter {
	return storetest.CountStatementsOf(st.Gorm(), func(ctx context.Context) bool { return ctx.Value(countedKey{}) != nil })
}

// TestAPageCountsItsMatchesInItsOwnStatement pages through filters of every way of counting
// (kinds alone from the kept counts, a text alone from SQLite's full-text index, one word alone
// or with kinds from PostgreSQL's kept prefix counts, on PostgreSQL any other text search from
// its matches gathered once, any other filter, nothing matching) with Query.Count: every page
// carries the total Count gives, read by the page's own statement (one statement for a page of
// summaries; on SQLite a text search looks at the full-text index first), the pages hold as many
// entities as that total, ascending and descending, and a page past the last match, which has no
// row to carry it, says it did not count.
func TestAPageCountsItsMatchesInItsOwnStatement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := queryFixture(t, st)
		svc := f.service(catalog.Options{CacheSize: 0})
		statements := statementsOf(st)
		ctx := counted(context.Background())
		ledger := "ledger"
		for _, c := range []struct {
			filter catalog.Filter
			order  catalog.Order
			// gathered: on PostgreSQL the page gathers the matches (a text search the kept
			// prefix counts do not count), after reading those counts to bound them.
			gathered bool
			// dense: on SQLite the page reads the kept counts of its one field first, to choose
			// the index it walks (denseField).
			dense bool
			// below: the page first lists the groups below its owners (withDescendants).
			below bool
		}{
			{filter: catalog.Filter{}},
			{filter: catalog.Filter{Kinds: []string{"Component", "API"}}},
			{filter: catalog.Filter{Text: "pay"}},
			{filter: catalog.Filter{Text: "Pay", Kinds: []string{"Component", "api"}}},
			{filter: catalog.Filter{Text: "pay api"}, gathered: true},
			{filter: catalog.Filter{Text: "pay api"}, order: catalog.Order{Field: catalog.OrderByName, Descending: true}, gathered: true},
			{filter: catalog.Filter{Text: "pay", Owners: []string{"payments"}}, gathered: true},
			{filter: catalog.Filter{Text: "pay", Lifecycles: []string{"production"}}, order: catalog.Order{Field: catalog.OrderByUpdatedAt}, gathered: true},
			{filter: catalog.Filter{Text: "p", Tags: []string{"pci", "go"}}, order: catalog.Order{Field: catalog.OrderByKind, Descending: true}, gathered: true},
			{filter: catalog.Filter{Owners: []string{"platform"}, IncludeDescendants: true}, below: true},
			{filter: catalog.Filter{Kinds: []string{"Component"}, Tags: []string{"pci", "go"}}},
			{filter: catalog.Filter{Text: "nothing-has-this-word"}, gathered: true},
			{filter: catalog.Filter{Text: "nothing"}},
			// One field besides kinds: counted from the kept counts (countedField), or, for
			// several tags and empty values, from the matches.
			{filter: catalog.Filter{Owners: []string{"payments"}}},
			{filter: catalog.Filter{Owners: []string{"payments", "group:default/platform"}, Kinds: []string{"Component"}}},
			{filter: catalog.Filter{Owners: []string{"payments"}}, order: catalog.Order{Field: catalog.OrderByUpdatedAt, Descending: true}, dense: true},
			{filter: catalog.Filter{Owners: []string{"nobody"}}},
			{filter: catalog.Filter{Systems: []string{"checkout"}, Kinds: []string{"component", "API"}}, dense: true},
			{filter: catalog.Filter{Tags: []string{"PCI", "pci"}}, dense: true},
			{filter: catalog.Filter{Tags: []string{"pci"}}, order: catalog.Order{Field: catalog.OrderByKind, Descending: true}, dense: true},
			{filter: catalog.Filter{Tags: []string{"pci", "go"}}},
			{filter: catalog.Filter{Namespaces: []string{"Tools", "default"}}, order: catalog.Order{Field: catalog.OrderByKind}, dense: true},
			{filter: catalog.Filter{Types: []string{"service", "website"}}, order: catalog.Order{Field: catalog.OrderByName, Descending: true}, dense: true},
			{filter: catalog.Filter{Types: []string{""}}},
			{filter: catalog.Filter{Lifecycles: []string{"production"}, Kinds: []string{"Component"}}, order: catalog.Order{Field: catalog.OrderByUpdatedAt}, dense: true},
			{filter: catalog.Filter{Types: []string{"service"}, Lifecycles: []string{"production"}}},
			{filter: catalog.Filter{Types: []string{"service", ""}, Lifecycles: []string{"production", ""}, Kinds: []string{"Component", "Group"}}},
			{filter: catalog.Filter{Tags: []string{"PCI"}, Namespaces: []string{"default"}}},
			{filter: catalog.Filter{Annotations: []catalog.AnnotationFilter{{Key: "argocd/app-name"}}}},
			{filter: catalog.Filter{Annotations: []catalog.AnnotationFilter{{Key: "argocd/app-name", Value: &ledger}}}},
			{filter: catalog.Filter{Annotations: []catalog.AnnotationFilter{{Key: "argocd/app-name"}}, Kinds: []string{"API"}}},
		} {
			filter := c.filter
			want, err := svc.Count(context.Background(), filter)
			if err != nil {
				t.Fatal(err)
			}
			q := catalog.Query{Filter: filter, Order: c.order, First: 2, Count: true, Summaries: true}
			var seen []string
			for {
				statements.Reset()
				page, err := svc.Find(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				wantStatements := int64(1)
				if c.below {
					wantStatements++ // withDescendants' walk down the groups, before the page
				}
				if len(filter.Types) > 0 || len(filter.Lifecycles) > 0 {
					wantStatements++ // withSpellings' look at the kept types and lifecycles, which match whatever their case
				}
				switch {
				case st.Dialect() == store.SQLite && searchLooksAtItsMatches(filter, c.order):
					wantStatements++ // denseText's look at the full-text index, to choose the index the page walks
				case st.Dialect() == store.Postgres && c.gathered:
					wantStatements++ // fewMatches' look at the prefix counts, to bound the matches
				case st.Dialect() == store.SQLite && c.dense:
					wantStatements++ // denseField's look at the kept counts, to choose the index it walks
				}
				if n := statements.Count(); n != wantStatements {
					t.Errorf("%+v: a page of summaries with its count took %d statements, want %d", filter, n, wantStatements)
				}
				if !page.Counted || page.Total != want {
					t.Errorf("%+v after %q: total %d (counted %v), want %d", filter, q.After, page.Total, page.Counted, want)
				}
				for _, e := range page.Entities {
					seen = append(seen, e.Ref.String())
				}
				if !page.HasNextPage {
					if len(page.Entities) > 0 {
						q.After = page.Cursor(len(page.Entities) - 1)
					}
					break
				}
				q.After = page.Cursor(len(page.Entities) - 1)
			}
			if len(seen) != want {
				t.Errorf("%+v: the pages held %d entities, Count says %d", filter, len(seen), want)
			}
			if plain := pageAll(t, svc, catalog.Query{Filter: filter, Order: c.order, First: 3}); !slices.Equal(seen, plain) {
				t.Errorf("%+v: the counted pages gave %q, the pages without a count %q", filter, seen, plain)
			}
			if want == 0 {
				continue
			}
			past, err := svc.Find(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if len(past.Entities) != 0 || past.Counted {
				t.Errorf("%+v: the page past the last match has %d entities and counted %v (total %d)", filter, len(past.Entities), past.Counted, past.Total)
			}
		}
	})
}

// On SQLite a page of a filter by one field that at least an eighth of all entities match walks
// the index of its order (denseField; the index holds every kind); a rarer value, an owner's entities by
// name (entities_owner_name holds them in order), any other filter and PostgreSQL (which chooses
// from its own statistics) keep the planner's way.
func TestSQLiteWalksTheOrdersIndexForACommonValue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := queryFixture(t, st) // 11 entities, 5 of them components
		svc := f.service(catalog.Options{CacheSize: 0})
		byUpdate, byKind := catalog.Order{Field: catalog.OrderByUpdatedAt, Descending: true}, catalog.Order{Field: catalog.OrderByKind}
		for _, c := range []struct {
			filter catalog.Filter
			order  catalog.Order
			want   string
		}{
			{catalog.Filter{Tags: []string{"typescript"}}, catalog.Order{}, "entities_name_cover"}, // 2 of 11
			{catalog.Filter{Tags: []string{"java"}}, catalog.Order{}, ""},                          // 1 of 11
			{catalog.Filter{Owners: []string{"payments"}}, byUpdate, "entities_updated"},
			{catalog.Filter{Owners: []string{"payments"}}, catalog.Order{}, ""},
			{catalog.Filter{Types: []string{"website"}, Kinds: []string{"component"}}, byKind, "entities_kind_name"},
			{catalog.Filter{Lifecycles: []string{"experimental"}, Kinds: []string{"Component"}}, catalog.Order{}, ""}, // 1 of 11: the index holds every kind
			{catalog.Filter{Lifecycles: []string{"experimental"}}, catalog.Order{}, ""},                               // 1 of 11
			{catalog.Filter{Types: []string{"service"}, Lifecycles: []string{"production"}}, catalog.Order{}, ""},
			{catalog.Filter{Text: "pay", Systems: []string{"checkout"}}, catalog.Order{}, ""},
		} {
			want := c.want
			if st.Dialect() == store.Postgres {
				want = ""
			}
			if got := catalog.DenseField(context.Background(), svc, c.filter, c.order); got != want {
				t.Errorf("%+v by %+v: walks %q, want %q", c.filter, c.order, got, want)
			}
		}
	})
}

// Other domains look entities up by what a client typed, naming the input: one the catalog does
// not have is NOT_FOUND with that field (GraphQL's extensions.field), a malformed reference or one
// of another kind INVALID with it, and a catalog that cannot be read is not a missing entity.
func TestLookupsByAClientsReferenceNameTheInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := queryFixture(t, st)
		svc := f.service(catalog.Options{CacheSize: 0}) // every lookup reads the database
		for _, c := range []struct {
			what  string
			err   error
			code  errs.Code
			field string
		}{
			{"a missing component", func() error { _, err := svc.EntityRef(operator, "links[1].target", "nope", "component"); return err }(), errs.NotFound, "links[1].target"},
			{"a group of another kind", func() error { _, err := svc.EntityRef(operator, "owner", "api:payments-rest", "group"); return err }(), errs.Invalid, "owner"},
			{"a missing component's annotations", func() error {
				_, _, err := svc.ComponentAnnotations(operator, "filter.component", "nope")
				return err
			}(), errs.NotFound, "filter.component"},
		} {
			if !errs.Is(c.err, c.code) || errs.FieldOf(c.err) != c.field || !strings.HasPrefix(errs.PublicMessage(c.err), c.field+": ") {
				t.Errorf("%s: %v (field %q), want %s naming %s", c.what, c.err, errs.FieldOf(c.err), c.code, c.field)
			}
		}
		if ref, err := svc.EntityRef(operator, "owner", "payments", "group"); err != nil || ref != "group:default/payments" {
			t.Errorf("an existing group: %q, %v", ref, err)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.EntityRef(operator, "owner", "payments", "group"); err == nil || errs.Is(err, errs.NotFound) {
			t.Errorf("a catalog that cannot be read: %v, want an error that is not NOT_FOUND", err)
		}
	})
}

// searchLooksAtItsMatches says whether a page of f in order o is a text search restricted by
// nothing else the order's index does not hold (kinds, in the name and kind orders) but one field
// the kept counts count (countedField): one whose full-text matches denseText counts, on SQLite,
// to choose whether the page walks the order's index.
func searchLooksAtItsMatches(f catalog.Filter, o catalog.Order) bool {
	if f.Text == "" {
		return false
	}
	rest := f
	rest.Text = ""
	if o.Field == "" || o.Field == catalog.OrderByName || o.Field == catalog.OrderByKind {
		rest.Kinds = nil
	}
	if reflect.DeepEqual(rest, catalog.Filter{}) {
		return true
	}
	fields := 0
	for _, values := range [][]string{f.Namespaces, f.Types, f.Lifecycles, f.Owners, f.Systems, f.Tags} {
		if len(values) > 0 {
			fields++
		}
		if slices.Contains(values, "") {
			return false
		}
	}
	tags := slices.Compact(slices.Sorted(slices.Values(lowered(f.Tags))))
	return fields == 1 && len(tags) <= 1 && len(f.Annotations) == 0 && f.LocationID == 0 && !f.IncludeDescendants
}

func lowered(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = strings.ToLower(s)
	}
	return out
}

// On SQLite a page of a text search matching many entities (denseTextMatches; 2 here) walks the
// index of its order when nothing else restricts it but what that index holds (kinds, by name
// and by kind) or one field at least an eighth of the entities have (denseField): a one-letter
// search by update time read and sorted every match (150 ms at 100,000 entities). With a rarer
// condition (an owner's few entities) the planner's way stays: the name index walked past every
// entity to read each one's owner (330 ms). A rare word, and PostgreSQL (searchIndexPage), keep
// their own ways. Whichever way, the pages are the same.
func TestSQLiteWalksTheOrdersIndexForACommonWord(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := queryFixture(t, st)
		svc := f.service(catalog.Options{CacheSize: 0})
		catalog.SetDenseTextMatches(svc, 2)
		byUpdate, byKind := catalog.Order{Field: catalog.OrderByUpdatedAt}, catalog.Order{Field: catalog.OrderByKind, Descending: true}
		for _, c := range []struct {
			filter catalog.Filter
			order  catalog.Order
			want   string
		}{
			{catalog.Filter{Text: "pay"}, catalog.Order{}, "entities_name_cover"},
			{catalog.Filter{Text: "pay"}, byUpdate, "entities_updated"},
			{catalog.Filter{Text: "pay"}, byKind, "entities_kind_name"},
			{catalog.Filter{Text: "pay", Kinds: []string{"component"}}, catalog.Order{}, "entities_name_cover"},
			{catalog.Filter{Text: "pay", Kinds: []string{"component"}}, byKind, "entities_kind_name"},
			{catalog.Filter{Text: "pay", Kinds: []string{"component"}}, byUpdate, ""},                 // the index has no kind
			{catalog.Filter{Text: "pay", Owners: []string{"payments"}}, catalog.Order{}, ""},          // entities_owner_name holds them by name
			{catalog.Filter{Text: "pay", Owners: []string{"payments"}}, byUpdate, "entities_updated"}, // 4 of 11: common
			{catalog.Filter{Text: "pay", Lifecycles: []string{"production"}}, catalog.Order{}, "entities_name_cover"},
			{catalog.Filter{Text: "pay", Lifecycles: []string{"experimental"}}, catalog.Order{}, ""},                             // 1 of 11: rare
			{catalog.Filter{Text: "pay", Lifecycles: []string{"production"}, Owners: []string{"payments"}}, catalog.Order{}, ""}, // two fields
			{catalog.Filter{Text: "one-click"}, catalog.Order{}, ""},                                                             // one match
		} {
			want := c.want
			if st.Dialect() == store.Postgres {
				want = ""
			}
			if got := catalog.DenseText(context.Background(), svc, c.filter, c.order); got != want {
				t.Errorf("%+v by %+v: walks %q, want %q", c.filter, c.order, got, want)
			}
			plain := f.service(catalog.Options{CacheSize: 0}) // the threshold as shipped: the fixture's words are all rare
			want2 := pageAll(t, plain, catalog.Query{Filter: c.filter, Order: c.order, First: 1})
			if got := pageAll(t, svc, catalog.Query{Filter: c.filter, Order: c.order, First: 1}); !slices.Equal(got, want2) {
				t.Errorf("%+v by %+v: paged %q walking, %q otherwise", c.filter, c.order, got, want2)
			}
		}
	})
}

// On PostgreSQL a text search whose words the kept prefix counts say may match more entities
// than a page gathers (SetGatheredMatchesMax) is paged along the name index and counted apart,
// its pages the same; one within the bound is counted with its page.
func TestATextSearchWithManyMatchesIsCountedApartFromItsPage(t *testing.T) {
	st := storetest.Postgres(t)
	f := queryFixture(t, st)
	svc := f.service(catalog.Options{CacheSize: 0})
	filter := catalog.Filter{Text: "pay", Lifecycles: []string{"production"}}
	want, err := svc.Count(context.Background(), filter)
	if err != nil || want < 2 {
		t.Fatalf("the fixture has %d matches (%v), want 2 or more", want, err)
	}
	// The bound is the word's matches of every kind and lifecycle: what the prefix counts know.
	bound, err := svc.Count(context.Background(), catalog.Filter{Text: filter.Text})
	if err != nil || bound <= want {
		t.Fatalf("%q alone matches %d entities (%v), want more than %d", filter.Text, bound, err, want)
	}
	plain := pageAll(t, svc, catalog.Query{Filter: filter, First: 1})
	for _, c := range []struct {
		max     int
		counted bool
	}{{bound, true}, {bound - 1, false}} {
		catalog.SetGatheredMatchesMax(svc, c.max)
		page, err := svc.Find(context.Background(), catalog.Query{Filter: filter, First: 1, Count: true})
		if err != nil {
			t.Fatal(err)
		}
		if page.Counted != c.counted || (c.counted && page.Total != want) {
			t.Errorf("at most %d gathered: counted %v, total %d; want counted %v, total %d", c.max, page.Counted, page.Total, c.counted, want)
		}
		if got := pageAll(t, svc, catalog.Query{Filter: filter, First: 1, Count: true}); !slices.Equal(got, plain) {
			t.Errorf("at most %d gathered: paged %q, want %q", c.max, got, plain)
		}
	}
}

// pageAll pages through q from its start and returns the refs of every page, in order.
func pageAll(t *testing.T, svc *catalog.Service, q catalog.Query) []string {
	t.Helper()
	var refs []string
	for range 1000 {
		page, err := svc.Find(context.Background(), q)
		if err != nil {
			t.Fatalf("%+v: %v", q, err)
		}
		for _, e := range page.Entities {
			refs = append(refs, e.Ref.String())
		}
		if !page.HasNextPage {
			return refs
		}
		q.After = page.Cursor(len(page.Entities) - 1)
	}
	t.Fatalf("%+v: more than 1,000 pages", q)
	return nil
}

// An entity named by more than RelationsOfTypeMax others is read with the first
// RelationsOfTypeMax of each type by the declaring entity's ref, every type there, in two
// statements (the cut is noticed in the first), and of each kind of declaring entity; one named
// by exactly that many is read whole in one. Here a group has 1,003 members (memberOf, read
// first: its type sorts first), owns an API, 1,005 components and two resources (after the
// components in ref order), and has one child group; another owns exactly RelationsOfTypeMax
// components.
func TestAnEntityNamedByManyIsReadWithTheFirstOfEachType(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		max := catalog.RelationsOfTypeMax
		var b strings.Builder
		doc := func(format string, args ...any) { fmt.Fprintf(&b, "---\n"+format, args...) }
		doc("apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: big}\nspec: {type: team, children: []}\n")
		doc("apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: small}\nspec: {type: team, children: []}\n")
		doc("apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: child}\nspec: {type: team, parent: big, children: []}\n")
		// Written in an order unlike their refs' (the rows' order in the tables), so a walk that
		// took the first rows written instead of the first refs would read other ones.
		for i := range max + 3 {
			doc("apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata: {name: u-%04d}\nspec: {memberOf: [big]}\n", (i*7)%(max+3))
		}
		for i := max + 4; i >= 0; i-- {
			doc("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: c-%04d}\nspec: {type: service, lifecycle: production, owner: big}\n", i)
		}
		for i := max - 1; i >= 0; i-- {
			doc("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: s-%04d}\nspec: {type: service, lifecycle: production, owner: small}\n", i)
		}
		doc("apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata: {name: a}\nspec: {type: openapi, lifecycle: production, owner: big, definition: x}\n")
		for i := range 2 {
			doc("apiVersion: backstage.io/v1alpha1\nkind: Resource\nmetadata: {name: r-%d}\nspec: {type: database, owner: big}\n", i)
		}
		f.write("catalog-info.yaml", b.String())
		if res := f.register(f.dir); len(res.Errors) != 0 || res.Added != 3+(max+3)+(max+5)+max+3 {
			t.Fatalf("fixture: added %d, errors %v", res.Added, res.Errors)
		}
		var wantBig, wantSmall []string
		for i := range max {
			wantBig = append(wantBig, fmt.Sprintf("hasMember user:default/u-%04d", i))
			wantSmall = append(wantSmall, fmt.Sprintf("ownerOf component:default/s-%04d", i))
		}
		wantBig = append(wantBig, "ownerOf api:default/a")
		for i := range max {
			wantBig = append(wantBig, fmt.Sprintf("ownerOf component:default/c-%04d", i))
		}
		wantBig = append(wantBig, "ownerOf resource:default/r-0", "ownerOf resource:default/r-1", "parentOf group:default/child")

		svc := f.service(catalog.Options{CacheSize: 0})
		statements := statementsOf(st)
		for _, c := range []struct {
			ref        string
			want       []string
			statements int64
		}{
			{"group:default/big", wantBig, 2},
			{"group:default/small", wantSmall, 1},
		} {
			statements.Reset()
			got, err := svc.EntitiesByRef(counted(context.Background()), []backstage.Ref{backstage.MustParseRef(c.ref)})
			if err != nil {
				t.Fatal(err)
			}
			rels := relationsOf(got[backstage.MustParseRef(c.ref)])
			if !slices.Equal(rels, c.want) {
				i := firstDifference(rels, c.want)
				t.Errorf("%s: %d relations, want %d; first difference at %d: %q", c.ref, len(rels), len(c.want), i, rels[i:min(i+3, len(rels))])
			}
			if n := statements.Count(); n != c.statements {
				t.Errorf("%s: read in %d statements, want %d", c.ref, n, c.statements)
			}
		}
		// Read together, each still has its own.
		got, err := svc.EntitiesByRef(context.Background(), []backstage.Ref{backstage.MustParseRef("group:default/small"), backstage.MustParseRef("group:default/big")})
		if err != nil {
			t.Fatal(err)
		}
		if rels := relationsOf(got[backstage.MustParseRef("group:default/big")]); !slices.Equal(rels, wantBig) {
			t.Errorf("group:default/big read with another: %d relations, want %d", len(rels), len(wantBig))
		}
		if rels := relationsOf(got[backstage.MustParseRef("group:default/small")]); !slices.Equal(rels, wantSmall) {
			t.Errorf("group:default/small read with another: %d relations, want %d", len(rels), len(wantSmall))
		}
	})
}

// Relations written without their declaring entity's ref, by a release older than migration
// 00027, before it (backfilled by the migration) or after it on the migrated schema (filled by
// its trigger), are read like those this release writes.
func TestRelationsAnOlderReleaseWroteAreReadInOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := queryFixture(t, st)
		svc := f.service(catalog.Options{CacheSize: 0})
		payments := backstage.MustParseRef("group:default/payments")
		want := relationsOf(f.entity(payments.String()))
		rewrite := func(name string) {
			t.Helper()
			// What an older release's apply writes for the component: its relations, without source_ref.
			if err := execEach(st.Gorm(),
				"DELETE FROM relations WHERE entity_id = (SELECT id FROM entities WHERE name = '"+name+"')",
				"INSERT INTO relations (entity_id, type, target_ref) SELECT id, 'ownedBy', 'group:default/payments' FROM entities WHERE name = '"+name+"'",
			); err != nil {
				t.Fatal(err)
			}
		}
		migrateTo(t, st, 26)
		rewrite("ledger")
		migrateTo(t, st, math.MaxInt64)
		rewrite("payments-api")

		var wrong int64
		err := st.Gorm().Raw("SELECT count(*) FROM relations r WHERE r.source_ref IS NULL OR r.source_ref <> (SELECT ref FROM entities WHERE id = r.entity_id)").Scan(&wrong).Error
		if err != nil {
			t.Fatal(err)
		}
		if wrong != 0 {
			t.Errorf("%d relations do not name their declaring entity in source_ref", wrong)
		}
		got, err := svc.EntitiesByRef(context.Background(), []backstage.Ref{payments})
		if err != nil {
			t.Fatal(err)
		}
		if rels := relationsOf(got[payments]); !slices.Equal(rels, want) {
			t.Errorf("relations of %s\n %q\nwant\n %q", payments, rels, want)
		}
	})
}

// Migration 00027 drops this schema's relations_target_source where a stopped build left it
// invalid, and only this schema's: another schema of the database (another Portside, a test run
// beside this one) with an invalid index of that name, as its own build under way shows it, is
// left alone, and this schema's migration goes on. It looked the name up in every schema, and
// then failed to drop an index its own schema did not have.
func TestTheRelationsMigrationLeavesAnotherSchemasIndexAlone(t *testing.T) {
	st := storetest.Postgres(t)
	queryFixture(t, st)
	migrateTo(t, st, 26)
	other := fmt.Sprintf("test_other_%d", time.Now().UnixNano())
	t.Cleanup(func() { st.Gorm().Exec("DROP SCHEMA IF EXISTS " + other + " CASCADE") })
	err := execEach(st.Gorm(),
		"CREATE SCHEMA "+other,
		"CREATE TABLE "+other+".relations (target_ref text)",
		"INSERT INTO "+other+".relations VALUES ('x'), ('x')",
	)
	if err != nil {
		t.Fatal(err)
	}
	// A unique build over duplicates fails, and CONCURRENTLY leaves its index behind, invalid.
	if err := st.Gorm().Exec("CREATE UNIQUE INDEX CONCURRENTLY relations_target_source ON " + other + ".relations (target_ref)").Error; err == nil {
		t.Fatal("the unique build over duplicates succeeded")
	}
	migrateTo(t, st, math.MaxInt64)
	var invalid int64
	err = st.Gorm().Raw("SELECT count(*) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_namespace n ON n.oid = i.relnamespace "+
		"WHERE i.relname = 'relations_target_source' AND n.nspname = ? AND NOT x.indisvalid", other).Scan(&invalid).Error
	if err != nil {
		t.Fatal(err)
	}
	if invalid != 1 {
		t.Errorf("the other schema's invalid index: %d left, want 1 (not this migration's to drop)", invalid)
	}
}

// Migration 00027 on a catalog an older release is writing (PostgreSQL, where it runs outside a
// transaction): while the release's apply holds relations with an uncommitted insert, the
// migration waits for the table a second at a time, so a reader of relations is never queued
// behind it for longer (a reader that waits 5 s gives up here); once the apply commits, the
// migration finishes and the apply's relations have their source.
func TestTheRelationsMigrationLetsReadersThroughWhileAnApplyWrites(t *testing.T) {
	st := storetest.Postgres(t)
	queryFixture(t, st)
	migrateTo(t, st, 26)
	apply := st.Gorm().Begin()
	defer apply.Rollback()
	err := apply.Exec("INSERT INTO relations (entity_id, type, target_ref) SELECT id, 'dependsOn', 'resource:default/payments-db' FROM entities WHERE name = 'portal'").Error
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- migrateToVersion(st, math.MaxInt64) }()

	read := func() error {
		return st.Gorm().Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec("SET LOCAL lock_timeout = '5s'").Error; err != nil {
				return err
			}
			var n int64
			return tx.Raw("SELECT count(*) FROM relations WHERE target_ref = 'group:default/payments'").Scan(&n).Error
		})
	}
	waiting := 0
	for range 200 {
		var n int64
		if err := st.Gorm().Raw("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'relations'::regclass").Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		waiting++ // the migration waits for the table: a reader arriving now queues behind it
		if err := read(); err != nil {
			t.Fatalf("a reader of relations while the migration waited for the apply: %v", err)
		}
		if waiting == 3 {
			break
		}
	}
	if waiting == 0 {
		t.Fatal("the migration never waited for the table while the apply held it")
	}
	select {
	case err := <-done:
		t.Fatalf("the migration finished while the apply held the table: %v", err)
	default:
	}
	if err := apply.Commit().Error; err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var missing int64
	if err := st.Gorm().Raw("SELECT count(*) FROM relations WHERE source_ref IS NULL").Scan(&missing).Error; err != nil {
		t.Fatal(err)
	}
	if missing != 0 {
		t.Errorf("%d relations without their source after the migration", missing)
	}
}

// TestEntitiesAreReadWithTheirRelationsOfBothDirectionsInOneStatement reads entities that relate
// to each other and to others, together and apart, with the read cache off: each has the
// relations it declares and the inverse of those declared naming it, whether or not their
// other end was read with it, in one statement per batch.
func TestEntitiesAreReadWithTheirRelationsOfBothDirectionsInOneStatement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := queryFixture(t, st)
		svc := f.service(catalog.Options{CacheSize: 0})
		statements := statementsOf(st)
		want := map[string][]string{
			"group:default/payments": {"childOf group:default/platform", "ownerOf api:default/payments-rest",
				"ownerOf component:default/ledger", "ownerOf component:default/payments-api",
				"ownerOf resource:default/payments-db", "ownerOf system:default/checkout"},
			"component:default/payments-api": {"ownedBy group:default/payments", "partOf system:default/checkout"},
			"system:default/checkout": {"hasPart api:default/payments-rest", "hasPart component:default/checkout-experiment",
				"hasPart component:default/ledger", "hasPart component:default/payments-api",
				"hasPart resource:default/payments-db", "ownedBy group:default/payments"},
			"component:tools/portal": {"ownedBy group:default/platform"},
		}
		var all []backstage.Ref
		for ref := range want {
			all = append(all, backstage.MustParseRef(ref))
		}
		for _, batch := range append([][]backstage.Ref{all}, slices.Collect(slices.Chunk(all, 1))...) {
			statements.Reset()
			got, err := svc.EntitiesByRef(counted(context.Background()), append(batch, backstage.MustParseRef("component:default/missing")))
			if err != nil {
				t.Fatal(err)
			}
			if n := statements.Count(); n != 1 {
				t.Errorf("%v: %d statements, want 1", batch, n)
			}
			if len(got) != len(batch) {
				t.Errorf("%v: read %d entities, want %d", batch, len(got), len(batch))
			}
			for _, r := range batch {
				if rels := relationsOf(got[r]); !slices.Equal(rels, want[r.String()]) {
					t.Errorf("%s read with %d others: relations\n %q\nwant\n %q", r, len(batch)-1, rels, want[r.String()])
				}
			}
		}
	})
}

// An owner with the groups below it (includeDescendantGroups) selects, counts and facets what
// the same owners listed do, whether the groups below are few (listed as owners before the
// query runs) or more than a filter lists (MaxFilterValues: the hierarchy is walked inside the
// query), groups named by their parents or naming them, in a chain or side by side.
func TestAnOwnerWithTheGroupsBelowItIsItsGroupsListed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.svc = f.service(catalog.Options{CacheSize: 0})
		group := func(name, extra string) string {
			return fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: %s}\nspec: {type: team, children: []%s}\n", name, extra)
		}
		component := func(name, owner, lifecycle string) string {
			return fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: %s, tags: [go]}\nspec: {type: service, lifecycle: %s, owner: %s}\n", name, lifecycle, owner)
		}
		// small: a chain small > mid (named by its parent) > leaf (naming its parent); wide: a
		// root with MaxFilterValues+5 groups below, each owning a component.
		docs := []string{group("small", ""), group("mid", ""), group("leaf", ", parent: mid"),
			component("small-own", "small", "production"), component("mid-own", "mid", "experimental"), component("leaf-own", "leaf", "production"),
			component("elsewhere", "other", "production")}
		docs[0] = strings.Replace(docs[0], "children: []", "children: [mid]", 1)
		wide := catalog.MaxFilterValues + 5
		var children []string
		for i := range wide {
			children = append(children, fmt.Sprintf("w-%03d", i))
			docs = append(docs, group(fmt.Sprintf("w-%03d", i), ""), component(fmt.Sprintf("w-own-%03d", i), fmt.Sprintf("w-%03d", i), "production"))
		}
		docs = append(docs, strings.Replace(group("wide", ""), "children: []", "children: ["+strings.Join(children, ", ")+"]", 1))
		f.write("catalog-info.yaml", strings.Join(docs, "---\n"))
		if res := f.register(f.dir); len(res.Errors) != 0 {
			t.Fatalf("fixture: %+v", res.Errors)
		}
		for _, c := range []struct {
			name   string
			below  catalog.Filter
			listed catalog.Filter
			want   int
		}{
			{"a chain", catalog.Filter{Owners: []string{"small"}, IncludeDescendants: true}, catalog.Filter{Owners: []string{"small", "mid", "leaf"}}, 3},
			{"the middle of a chain, of a lifecycle", catalog.Filter{Owners: []string{"group:default/mid"}, IncludeDescendants: true, Lifecycles: []string{"production"}},
				catalog.Filter{Owners: []string{"mid", "leaf"}, Lifecycles: []string{"production"}}, 1},
			{"a group without groups below", catalog.Filter{Owners: []string{"leaf"}, IncludeDescendants: true}, catalog.Filter{Owners: []string{"leaf"}}, 1},
			{"more groups below than a filter lists", catalog.Filter{Owners: []string{"wide"}, IncludeDescendants: true, Kinds: []string{"Component"}}, catalog.Filter{}, wide},
		} {
			n, err := f.svc.Count(context.Background(), c.below)
			if err != nil || n != c.want {
				t.Errorf("%s: count %d (%v), want %d", c.name, n, err, c.want)
			}
			below := pageAll(t, f.svc, catalog.Query{Filter: c.below, First: 7})
			if len(below) != c.want {
				t.Errorf("%s: the pages hold %d entities, want %d", c.name, len(below), c.want)
			}
			facets, err := f.svc.Facets(context.Background(), c.below, facetFields, 100)
			if err != nil {
				t.Fatal(err)
			}
			kinds := 0
			for _, v := range facets[catalog.FacetKind] {
				kinds += v.Count
			}
			if kinds != c.want {
				t.Errorf("%s: the kind facet counts %d entities, want %d", c.name, kinds, c.want)
			}
			if c.want > catalog.MaxFilterValues {
				continue // more owners than a filter may list: compared by number alone
			}
			if want := pageAll(t, f.svc, catalog.Query{Filter: c.listed, First: 7}); !slices.Equal(below, want) {
				t.Errorf("%s: the pages hold %q, the owners listed %q", c.name, below, want)
			}
			want, err := f.svc.Facets(context.Background(), c.listed, facetFields, 100)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, facets); d != "" {
				t.Errorf("%s: facets (-owners listed +groups below):\n%s", c.name, d)
			}
		}
	})
}

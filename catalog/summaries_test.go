package catalog_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// summaryView is what a summary (Query.Summaries) holds of an entity.
type summaryView struct {
	Kind, Ref, Namespace, Name, Title, Description string
	Tags                                           []string
	Type, Lifecycle, Owner, System, Source         string
	CreatedAt, UpdatedAt                           time.Time
}

func viewOf(e *backstage.Entity) summaryView {
	return summaryView{
		Kind: e.Kind, Ref: e.Ref.String(), Namespace: e.Metadata.Namespace, Name: e.Metadata.Name,
		Title: e.Metadata.Title, Description: e.Metadata.Description, Tags: e.Metadata.Tags,
		Type: e.Type, Lifecycle: e.Lifecycle, Owner: e.Owner.String(), System: e.System.String(), Source: e.Source,
		CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt,
	}
}

// TestSummariesHoldWhatTheWholeEntitiesShow pages through the catalog in every order, filtered
// and not, with summaries and whole, and compares: the same entities, cursors and pages, each
// summary equal to its whole entity in what summaries hold. With the read cache off, summaries
// have no relations and no spec: neither was read.
func TestSummariesHoldWhatTheWholeEntitiesShow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := queryFixture(t, st)
		queries := []catalog.Query{
			{First: 4},
			{First: 3, Order: catalog.Order{Field: catalog.OrderByKind, Descending: true}},
			{First: 5, Order: catalog.Order{Field: catalog.OrderByUpdatedAt}},
			{First: 2, Filter: catalog.Filter{Owners: []string{"platform"}, IncludeDescendants: true}},
			{First: 2, Filter: catalog.Filter{Text: "pay"}},
			{First: 10, Filter: catalog.Filter{Kinds: []string{"Component", "API"}, Tags: []string{"pci"}}},
		}
		for _, cacheSize := range []int{0, 1000} {
			svc := f.service(catalog.Options{CacheSize: cacheSize})
			for _, q := range queries {
				whole, summaries := q, q
				summaries.Summaries = true
				pages := 0
				for {
					wp, err := svc.Find(context.Background(), whole)
					if err != nil {
						t.Fatal(err)
					}
					sp, err := svc.Find(context.Background(), summaries)
					if err != nil {
						t.Fatal(err)
					}
					if !sp.Summaries || wp.Summaries {
						t.Errorf("%+v: Page.Summaries %v for summaries, %v whole", q, sp.Summaries, wp.Summaries)
					}
					if !slices.Equal(sp.Cursors, wp.Cursors) || sp.HasNextPage != wp.HasNextPage || len(sp.Entities) != len(wp.Entities) {
						t.Fatalf("%+v (cache %d): summaries %v %v, whole %v %v", q, cacheSize, names(sp), sp.HasNextPage, names(wp), wp.HasNextPage)
					}
					for i, s := range sp.Entities {
						w := wp.Entities[i]
						if got, want := viewOf(s), viewOf(w); !equalViews(got, want) {
							t.Errorf("%+v (cache %d): summary\n %+v\nwhole\n %+v", q, cacheSize, got, want)
						}
						if cacheSize == 0 && (s.Relations != nil || s.Spec != nil || s.APIVersion != "") {
							t.Errorf("%s: the summary has relations %v, spec %v, apiVersion %q", s.Ref, s.Relations, s.Spec, s.APIVersion)
						}
					}
					pages++
					if !wp.HasNextPage {
						break
					}
					whole.After, summaries.After = wp.Cursors[len(wp.Cursors)-1], sp.Cursors[len(sp.Cursors)-1]
				}
				if pages < 2 && q.Filter.Kinds == nil {
					t.Errorf("%+v: %d page(s); the query should page", q, pages)
				}
			}
		}
	})
}

func equalViews(a, b summaryView) bool {
	return slices.Equal(a.Tags, b.Tags) && a.CreatedAt.Equal(b.CreatedAt) && a.UpdatedAt.Equal(b.UpdatedAt) &&
		a.CreatedAt.Location() == b.CreatedAt.Location() && a.UpdatedAt.Location() == b.UpdatedAt.Location() &&
		a.Kind == b.Kind && a.Ref == b.Ref && a.Namespace == b.Namespace && a.Name == b.Name && a.Title == b.Title &&
		a.Description == b.Description && a.Type == b.Type && a.Lifecycle == b.Lifecycle && a.Owner == b.Owner &&
		a.System == b.System && a.Source == b.Source
}

// TestSummariesStayOutOfTheEntityCache reads a page of summaries with the read cache on, then
// the entities one by one: each comes whole, with its relations, not the summary. A page of
// summaries read after that answers the cached whole entities.
func TestSummariesStayOutOfTheEntityCache(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := queryFixture(t, st)
		svc := f.service(catalog.Options{CacheSize: 1000})
		q := catalog.Query{Filter: catalog.Filter{Kinds: []string{"Component"}}, Summaries: true}
		page, err := svc.Find(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Entities) < 2 {
			t.Fatalf("page: %v", names(page))
		}
		for _, s := range page.Entities {
			if s.Relations != nil || s.Spec != nil {
				t.Fatalf("%s: a summary with relations or a spec on a cold cache", s.Ref)
			}
			e, err := svc.Entity(context.Background(), s.Ref)
			if err != nil {
				t.Fatal(err)
			}
			if len(e.Relations) == 0 || e.Spec == nil || e.APIVersion == "" {
				t.Errorf("%s: Entity answered a summary (relations %v, spec %v): the page's summary entered the cache", s.Ref, e.Relations, e.Spec)
			}
		}
		q.First = 49 // another page than the one the query cache holds
		again, err := svc.Find(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range again.Entities {
			if len(e.Relations) == 0 {
				t.Errorf("%s: the cache holds it whole, the page answered a summary", e.Ref)
			}
		}
	})
}

// TestSummariesByRefHoldWhatEntitiesByRefShow reads every entity of the catalog, a missing ref
// and a zero ref by ref, whole and as summaries: the same refs found, each summary equal to its
// whole entity in what summaries hold, and with the read cache off no relations or spec read.
func TestSummariesByRefHoldWhatEntitiesByRefShow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := queryFixture(t, st)
		for _, cacheSize := range []int{0, 1000} {
			svc := f.service(catalog.Options{CacheSize: cacheSize})
			all, err := svc.Find(context.Background(), catalog.Query{First: catalog.MaxPageSize})
			if err != nil {
				t.Fatal(err)
			}
			refs := []backstage.Ref{{}, {Kind: "component", Namespace: "default", Name: "no-such-thing"}}
			for _, e := range all.Entities {
				refs = append(refs, e.Ref, e.Ref) // twice: found once
			}
			whole, err := svc.EntitiesByRef(context.Background(), refs)
			if err != nil {
				t.Fatal(err)
			}
			summaries, err := svc.SummariesByRef(context.Background(), refs)
			if err != nil {
				t.Fatal(err)
			}
			if len(summaries) != len(all.Entities) || len(whole) != len(all.Entities) {
				t.Fatalf("cache %d: %d summaries and %d whole entities for %d entities", cacheSize, len(summaries), len(whole), len(all.Entities))
			}
			for ref, w := range whole {
				s, ok := summaries[ref]
				if !ok {
					t.Errorf("cache %d: no summary of %s", cacheSize, ref)
					continue
				}
				if got, want := viewOf(s), viewOf(w); !equalViews(got, want) {
					t.Errorf("cache %d: summary\n %+v\nwhole\n %+v", cacheSize, got, want)
				}
				if cacheSize == 0 && (s.Relations != nil || s.Spec != nil || s.APIVersion != "") {
					t.Errorf("%s: the summary has relations %v, spec %v, apiVersion %q", s.Ref, s.Relations, s.Spec, s.APIVersion)
				}
			}
		}
	})
}

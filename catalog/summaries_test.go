package catalog_test

import (
	"context"
	"fmt"
	"maps"
	"reflect"
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
					if !slices.Equal(sp.Cursors(), wp.Cursors()) || sp.HasNextPage != wp.HasNextPage || len(sp.Entities) != len(wp.Entities) {
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
					whole.After, summaries.After = wp.Cursor(len(wp.Entities)-1), sp.Cursor(len(sp.Entities)-1)
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

// TestAnEntityIsReadWithItsTargetsSummariesInOneStatement reads every entity of the catalog by
// ref with the summaries of its owner and what it is part of (EntityByInputWithTargets): the
// entity as EntityByInput reads it, and the targets as SummariesByRef reads them, every target of
// those types its relations name, in one statement. A target the catalog does not hold is
// absent. A relation of those types that another entity declares is not followed by the
// statement: no targets then, nor for an entity the read cache answers.
func TestAnEntityIsReadWithItsTargetsSummariesInOneStatement(t *testing.T) {
	types := []string{backstage.RelOwnedBy, backstage.RelPartOf}
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := queryFixture(t, st)
		svc := f.service(catalog.Options{CacheSize: 0})
		check := func(ref string) map[backstage.Ref]*backstage.Entity {
			t.Helper()
			counter := storetest.CountStatements(st.Gorm())
			e, targets, err := svc.EntityByInputWithTargets(ctx, ref, "", types, false)
			if err != nil {
				t.Fatal(err)
			}
			if n := counter.Count(); n != 1 {
				t.Errorf("%s: %d statements, want 1", ref, n)
			}
			want, err := svc.EntityByInput(ctx, ref, "")
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(e, want) {
				t.Errorf("%s: read with its targets\n %+v\nalone\n %+v", ref, e, want)
			}
			var refs []backstage.Ref
			for _, typ := range types {
				refs = append(refs, e.RelationsOfType(typ)...)
			}
			wantTargets, err := svc.SummariesByRef(ctx, refs)
			if err != nil {
				t.Fatal(err)
			}
			if targets != nil && len(targets) != len(wantTargets) {
				t.Errorf("%s: targets %v, want %v", ref, slices.Collect(maps.Keys(targets)), slices.Collect(maps.Keys(wantTargets)))
			}
			for r, w := range wantTargets {
				if got, ok := targets[r]; targets != nil && (!ok || !equalViews(viewOf(got), viewOf(w))) {
					t.Errorf("%s: target %s\n %+v\nwant\n %+v", ref, r, got, viewOf(w))
				}
			}
			return targets
		}
		all, err := svc.Find(ctx, catalog.Query{First: catalog.MaxPageSize})
		if err != nil {
			t.Fatal(err)
		}
		read := 0
		for _, e := range all.Entities {
			targets := check(e.Ref.String())
			if targets == nil {
				t.Errorf("%s: no targets read", e.Ref)
			}
			read += len(targets)
		}
		if read != 13 { // the owners of 8 entities (a system, 5 components, an API, a resource) and 5 systems
			t.Errorf("%d targets read in all, want 13", read)
		}

		// An owner the catalog does not hold: known to be missing, not unread.
		if err := execEach(st.Gorm(), "UPDATE relations SET target_ref = 'group:default/nobody' WHERE type = 'ownedBy' AND "+
			"entity_id = (SELECT id FROM entities WHERE ref = 'component:default/storefront')"); err != nil {
			t.Fatal(err)
		}
		if targets := check("component:storefront"); targets == nil || len(targets) != 0 {
			t.Errorf("storefront, owned by a group the catalog does not hold: targets %v, want none", targets)
		}

		// An owner another entity declares (web declares ownerOf ledger).
		if err := execEach(st.Gorm(), "INSERT INTO relations (entity_id, type, target_ref) "+
			"SELECT id, 'ownerOf', 'component:default/ledger' FROM entities WHERE ref = 'group:default/web'"); err != nil {
			t.Fatal(err)
		}
		if targets := check("component:ledger"); targets != nil {
			t.Errorf("ledger, owned by web as web declares: targets %v, want none read", slices.Collect(maps.Keys(targets)))
		}

		// More targets than an entity's spec declares (targetsMax): read apart.
		var more []string
		for i := range 17 {
			more = append(more, fmt.Sprintf("INSERT INTO relations (entity_id, type, target_ref) "+
				"SELECT id, 'partOf', 'system:default/extra-%02d' FROM entities WHERE ref = 'component:tools/portal'", i))
		}
		if err := execEach(st.Gorm(), more...); err != nil {
			t.Fatal(err)
		}
		if targets := check("component:tools/portal"); targets != nil {
			t.Errorf("portal, part of 17 systems: targets %v, want none read", slices.Collect(maps.Keys(targets)))
		}

		cached := f.service(catalog.Options{CacheSize: 1000})
		for i, want := range []bool{true, false} {
			_, targets, err := cached.EntityByInputWithTargets(ctx, "component:payments-api", "", types, false)
			if err != nil {
				t.Fatal(err)
			}
			if got := targets != nil; got != want {
				t.Errorf("read %d with the read cache on: targets read %v, want %v", i+1, got, want)
			}
		}
	})
}

// TestAnEntityShownAsItsSummaryIsReadWithoutItsDocument reads every entity of the catalog by ref
// as a caller that shows only its summary and its relations does (EntityByInputWithTargets with
// summary), with its targets and without: with the read cache off, one statement, the entity's
// summary equal to the whole entity's and its relations the same, but no document read (no
// apiVersion, spec, labels, annotations or links); the targets as the whole read finds them.
// With the cache on, the entity is read whole and kept: the next read is answered by the cache.
func TestAnEntityShownAsItsSummaryIsReadWithoutItsDocument(t *testing.T) {
	types := []string{backstage.RelOwnedBy, backstage.RelPartOf}
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := queryFixture(t, st)
		svc := f.service(catalog.Options{CacheSize: 0})
		all, err := svc.Find(ctx, catalog.Query{First: catalog.MaxPageSize})
		if err != nil {
			t.Fatal(err)
		}
		specs := 0
		for _, whole := range all.Entities {
			ref := whole.Ref.String()
			whole, wantTargets, err := svc.EntityByInputWithTargets(ctx, ref, "", types, false)
			if err != nil {
				t.Fatal(err)
			}
			if whole.Spec != nil {
				specs++
			}
			for _, targetTypes := range [][]string{types, nil} {
				counter := storetest.CountStatements(st.Gorm())
				e, targets, err := svc.EntityByInputWithTargets(ctx, ref, "", targetTypes, true)
				if err != nil {
					t.Fatal(err)
				}
				if n := counter.Count(); n != 1 {
					t.Errorf("%s (targets %v): %d statements, want 1", ref, targetTypes, n)
				}
				if !equalViews(viewOf(e), viewOf(whole)) || !reflect.DeepEqual(e.Relations, whole.Relations) {
					t.Errorf("%s (targets %v): as a summary\n %+v %v\nwhole\n %+v %v", ref, targetTypes, viewOf(e), e.Relations, viewOf(whole), whole.Relations)
				}
				if e.APIVersion != "" || e.Spec != nil || e.Metadata.Labels != nil || e.Metadata.Annotations != nil || e.Metadata.Links != nil {
					t.Errorf("%s (targets %v): a summary with its document: %+v", ref, targetTypes, e)
				}
				if targetTypes == nil && targets != nil {
					t.Errorf("%s: targets %v read, none asked", ref, slices.Collect(maps.Keys(targets)))
				}
				if targetTypes != nil && !reflect.DeepEqual(targets, wantTargets) {
					t.Errorf("%s: targets\n %v\nwant\n %v", ref, targets, wantTargets)
				}
			}
		}
		if specs == 0 {
			t.Fatal("no entity has a spec: the summaries' lack of one proves nothing")
		}

		cached := f.service(catalog.Options{CacheSize: 1000})
		for i, fromCache := range []bool{false, true} {
			e, targets, err := cached.EntityByInputWithTargets(ctx, "component:payments-api", "", types, true)
			if err != nil {
				t.Fatal(err)
			}
			if e.Spec == nil || e.APIVersion == "" || len(e.Relations) == 0 {
				t.Errorf("read %d with the read cache on: not whole: %+v", i+1, e)
			}
			if got := targets == nil; got != fromCache {
				t.Errorf("read %d with the read cache on: answered by the cache %v, want %v", i+1, got, fromCache)
			}
		}
	})
}

package catalog_test

import (
	"strings"
	"testing"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// A file of a hundred thousand empty documents (700 KB) used to store 300,000 error rows and
// answer them all; a location now keeps the first errors and counts the rest.
func TestLocationKeepsTheFirstErrorsAndCountsTheRest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		const docs = 100_000
		f.write("catalog-info.yaml", strings.Repeat("---\n{}\n", docs)+"---"+teamA)
		res := f.register(f.dir)
		if res.Added != 1 {
			t.Errorf("the valid document after the empty ones: added %d, want 1", res.Added)
		}
		if want := 3 * docs; res.ErrorCount != want || res.Location.ErrorCount != want {
			t.Errorf("error count = %d (location %d), want %d: every error is counted", res.ErrorCount, res.Location.ErrorCount, want)
		}
		if len(res.Errors) != catalog.DefaultMaxLocationErrors {
			t.Errorf("refresh returned %d errors, want the first %d", len(res.Errors), catalog.DefaultMaxLocationErrors)
		}
		if first := res.Errors[0]; first.Document != 1 {
			t.Errorf("first error kept: %+v, want document 1's", first)
		}
		var rows int64
		if err := st.Gorm().Table("location_errors").Count(&rows).Error; err != nil {
			t.Fatal(err)
		}
		if rows != catalog.DefaultMaxLocationErrors {
			t.Errorf("stored %d error rows, want %d", rows, catalog.DefaultMaxLocationErrors)
		}
		// Unchanged: the count stays, the kept errors are read back.
		again := f.refresh(res.Location.ID)
		if again.ErrorCount != 3*docs || len(again.Errors) != catalog.DefaultMaxLocationErrors {
			t.Errorf("refresh again: count %d, %d errors", again.ErrorCount, len(again.Errors))
		}
	})
}

func TestMaxLocationErrorsBoundsWhatIsKept(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.svc = f.service(catalog.Options{MaxLocationErrors: 4})
		f.write("a/catalog-info.yaml", strings.Repeat("---\nkind: Component\n", 3)) // three errors each: apiVersion, metadata.name, spec
		f.write("b/catalog-info.yaml", strings.Repeat("---\n[]\n", 5))              // one error each
		res := f.register(f.dir)
		if res.ErrorCount != 14 || res.Location.ErrorCount != 14 || len(res.Errors) != 4 {
			t.Fatalf("count %d (location %d), kept %d; want 14 counted, 4 kept", res.ErrorCount, res.Location.ErrorCount, len(res.Errors))
		}
		for _, e := range res.Errors {
			if !strings.HasSuffix(e.Source, "a/catalog-info.yaml") || e.Document > 2 {
				t.Errorf("kept %+v; want the first errors found (documents 1 and 2 of a/)", e)
			}
		}
		got, err := f.svc.LocationErrors(operator, res.Location.ID, 2)
		if err != nil || len(got) != 2 || got[0] != res.Errors[0] {
			t.Errorf("LocationErrors(first 2) = %+v, %v", got, err)
		}
	})
}

// An apply widens its connection's SQLite page cache for the import and gives the connection
// back to the pool with the cache it had: serving connections keep SQLite's default.
func TestAnApplyLeavesTheConnectionsPageCacheAsItWas(t *testing.T) {
	st := storetest.SQLite(t)
	pool, err := st.Gorm().DB()
	if err != nil {
		t.Fatal(err)
	}
	pool.SetMaxOpenConns(1) // the apply's connection is the one asked afterwards
	f := newFixture(t, st)
	f.write("catalog-info.yaml", `
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: svc}
spec: {type: service, lifecycle: production, owner: team}
`)
	var before, after int64
	if err := st.Gorm().Raw("PRAGMA cache_size").Scan(&before).Error; err != nil {
		t.Fatal(err)
	}
	if res := f.register(f.dir); res.Added != 1 {
		t.Fatalf("added %d entities, errors %v", res.Added, res.Errors)
	}
	if err := st.Gorm().Raw("PRAGMA cache_size").Scan(&after).Error; err != nil {
		t.Fatal(err)
	}
	if after != before {
		t.Errorf("after an apply the connection's cache_size is %d; it was %d", after, before)
	}
}

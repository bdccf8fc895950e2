package catalog_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// randomCatalog writes files of components, APIs, resources and groups with owners, systems,
// types, lifecycles, namespaces and tags drawn from small sets (a tag may be listed twice), so
// that values are shared between entities and kinds.
func randomCatalog(f *fixture, dir string, rng *rand.Rand, files int) {
	pick := func(list ...string) string { return list[rng.IntN(len(list))] }
	for i := range files {
		var docs []string
		for j := range 1 + rng.IntN(6) {
			name := fmt.Sprintf("%s-%d-%d", dir, i, j)
			tags := []string{pick("java", "go", "payments", "edge"), pick("java", "go", "pci", "")}
			tagList := strings.Join(strings.Fields(strings.Join(tags, " ")), ", ")
			ns := pick("default", "default", "ops")
			switch rng.IntN(4) {
			case 0, 1:
				docs = append(docs, fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: %s, namespace: %s, tags: [%s]}\n"+
					"spec: {type: %s, lifecycle: %s, owner: %s%s}\n", name, ns, tagList, pick("service", "website", "library"),
					pick("production", "experimental"), pick("team-a", "team-b", "user:alice"), pick("", ", system: payments", ", system: search")))
			case 2:
				docs = append(docs, fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata: {name: %s, tags: [%s]}\n"+
					"spec: {type: %s, lifecycle: production, owner: %s, definition: x}\n", name, tagList, pick("openapi", "grpc"), pick("team-a", "team-c")))
			default:
				docs = append(docs, fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: Resource\nmetadata: {name: %s}\n"+
					"spec: {type: database, owner: %s}\n", name, pick("team-b", "team-c")))
			}
		}
		f.write(filepath.Join(dir, fmt.Sprintf("%03d.yaml", i)), strings.Join(docs, "---\n"))
	}
}

// backfill is the statement of migration 00019 that counts the entities already there.
func backfill(t *testing.T, st *store.Store) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "migrations", string(st.Dialect()), "00019_entity_counts.sql"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start := strings.LastIndex(text, "INSERT INTO entity_counts")
	end := strings.Index(text, "-- +goose Down")
	if start < 0 || end < start {
		t.Fatal("migration 00019 has no backfill before its Down section")
	}
	return text[start:end]
}

// Facets and counts over kinds alone are read from counts the database keeps as entities are
// written and removed; whatever happens to the catalog, they are what grouping the entities
// gives.
func TestKeptCountsAreTheGroupedCounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		rng := rand.New(rand.NewPCG(7, 17))
		check := func(step string) {
			t.Helper()
			for _, kinds := range [][]string{nil, {"Component"}, {"component", "API"}, {"Resource", "Group"}} {
				filter := catalog.Filter{Kinds: kinds}
				for _, field := range []catalog.FacetField{catalog.FacetKind, catalog.FacetType, catalog.FacetLifecycle,
					catalog.FacetOwner, catalog.FacetNamespace, catalog.FacetSystem, catalog.FacetTag} {
					for _, limit := range []int{2, 100} {
						kept, err := f.svc.Facets(operator, filter, []catalog.FacetField{field}, limit)
						if err != nil {
							t.Fatalf("%s: facets %s %v: %v", step, field, kinds, err)
						}
						grouped, err := catalog.GroupedFacet(operator, f.svc, filter, field, limit)
						if err != nil {
							t.Fatal(err)
						}
						if d := cmp.Diff(grouped, kept[field]); d != "" {
							t.Errorf("%s: facet %s of kinds %v, limit %d (-grouped +kept):\n%s", step, field, kinds, limit, d)
						}
					}
				}
				kept, err := f.svc.Count(operator, filter)
				if err != nil {
					t.Fatal(err)
				}
				grouped, err := catalog.GroupedCount(operator, f.svc, filter)
				if err != nil {
					t.Fatal(err)
				}
				if kept != grouped {
					t.Errorf("%s: total count of kinds %v: %d kept, %d grouped", step, kinds, kept, grouped)
				}
			}
		}
		f.svc = f.service(catalog.Options{CacheSize: 0})
		randomCatalog(f, "one", rng, 12)
		one := f.register(filepath.Join(f.dir, "one", "*.yaml")).Location.ID
		check("first import")
		randomCatalog(f, "one", rng, 9) // rewrites nine files (changed entities, fewer in some), keeps three
		f.write("one/000.yaml", "")     // an emptied file: its entities go
		f.refresh(one)
		check("refresh with changes")
		randomCatalog(f, "two", rng, 8)
		two := f.register(filepath.Join(f.dir, "two", "*.yaml")).Location.ID
		check("second location")
		// A database migrated to 00019 with a catalog in it gets its counts from the migration.
		if err := st.Gorm().Exec("DELETE FROM entity_counts").Error; err != nil {
			t.Fatal(err)
		}
		if err := st.Gorm().Exec(backfill(t, st)).Error; err != nil {
			t.Fatal(err)
		}
		check("counted again by the migration")
		if _, err := f.svc.UnregisterLocation(operator, one); err != nil {
			t.Fatal(err)
		}
		check("first location unregistered")
		if _, err := f.svc.UnregisterLocation(operator, two); err != nil {
			t.Fatal(err)
		}
		check("empty catalog")
		var rows int64
		st.Gorm().Raw("SELECT count(*) FROM entity_counts WHERE entities <> 0").Scan(&rows)
		if rows != 0 {
			t.Errorf("the empty catalog keeps %d non-zero counts", rows)
		}
	})
}

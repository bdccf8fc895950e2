package catalog_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// hasStatistics reports whether the database holds planner statistics for the entities table.
func hasStatistics(t *testing.T, st *store.Store) bool {
	t.Helper()
	var n int64
	q := "SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'entities'"
	if st.Dialect() == store.Postgres {
		q = "SELECT count(*) FROM pg_stats WHERE schemaname = current_schema() AND tablename = 'entities'"
	}
	if st.Dialect() == store.SQLite {
		var tables int64
		if err := st.DB(operator).Raw("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").Scan(&tables).Error; err != nil {
			t.Fatal(err)
		}
		if tables == 0 {
			return false
		}
	}
	if err := st.DB(operator).Raw(q).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// components writes n components named prefix-NNN into one file.
func components(prefix string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: %s-%03d\n"+
			"spec:\n  type: service\n  lifecycle: production\n  owner: team-%d\n", prefix, i, i%7)
	}
	return b.String()
}

func TestBulkImportGathersPlannerStatistics(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.write("small/catalog-info.yaml", components("small", 5))
		f.register(f.dir + "/small")
		if hasStatistics(t, st) {
			t.Fatal("a refresh of 5 entities gathered statistics; only bulk changes should pay for it")
		}
		f.write("big/catalog-info.yaml", components("big", 150))
		res := f.register(f.dir + "/big")
		if res.Added != 150 {
			t.Fatalf("added %d, want 150", res.Added)
		}
		if !hasStatistics(t, st) {
			t.Fatal("no planner statistics for entities after importing 150 entities: plans are guessed")
		}
	})
}

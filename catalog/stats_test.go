package catalog_test

import (
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gorm.io/gorm"

	"github.com/portside-dev/portside/bench/benchcat"
	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/catalog/sources"
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
		vacuumed := func() map[string]int64 {
			counts := map[string]int64{}
			if st.Dialect() != store.Postgres {
				return counts
			}
			var rows []struct {
				Relname     string
				VacuumCount int64
			}
			// This schema's tables only: the view lists every schema's (a benchmark's, another test's).
			if err := st.Gorm().Raw("SELECT relname, vacuum_count FROM pg_stat_user_tables WHERE schemaname = current_schema()").Scan(&rows).Error; err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				counts[r.Relname] = r.VacuumCount
			}
			return counts
		}
		before := vacuumed()
		f.write("big/catalog-info.yaml", components("big", 150))
		res := f.register(f.dir + "/big")
		if res.Added != 150 {
			t.Fatalf("added %d, want 150", res.Added)
		}
		if !hasStatistics(t, st) {
			t.Fatal("no planner statistics for entities after importing 150 entities: plans are guessed")
		}
		if st.Dialect() == store.Postgres {
			// The kept counts (every table of them) and their totals were vacuumed too: the import's versions of their
			// rows are gone. So were the entities, their relations, tags and annotations, whose
			// reads walk indexes without the heap only where the visibility map marks the rows
			// visible to all.
			after := vacuumed()
			for _, table := range []string{"entity_counts", "entity_totals", "entity_shape_counts", "entity_tag_counts", "entity_shape_refs",
				"entity_shape_ref_rollups", "entity_prefix_counts", "entities", "relations", "entity_tags", "entity_annotations"} {
				if after[table] <= before[table] {
					t.Errorf("%s was not vacuumed after the bulk import (vacuumed %d times before it, %d after)", table, before[table], after[table])
				}
			}
		}
	})
}

// The import's statistics of SQLite come from a sample of each index (PRAGMA analysis_limit),
// which costs a fraction of reading every row. The statistics are there for the plans of the
// reads the API serves most: an entity by ref, an owner's page of components with its count, a
// text search with its count. Each of the statements those reads send is planned, after the
// import, exactly as it is once full statistics are gathered.
func TestSampledStatisticsChooseThePlansFullOnesDo(t *testing.T) {
	st := storetest.SQLite(t) // analysis_limit is SQLite's; PostgreSQL's ANALYZE samples its own way, as before
	dir := benchcat.Generate(t, 0.2)
	q, err := benchcat.ReadQueries(dir)
	if err != nil {
		t.Fatal(err)
	}
	svc := catalog.NewService(st, catalog.Options{ // no read cache: every read goes to the database
		Readers: map[catalog.LocationType]catalog.Reader{catalog.LocationFile: &sources.Files{}},
		Logger:  slog.New(slog.DiscardHandler),
	})
	res, err := svc.RegisterLocation(operator, catalog.LocationSpec{Type: catalog.LocationFile, Target: dir})
	if err != nil || res.Added < 3000 || res.ErrorCount > 0 {
		t.Fatalf("import: %v, added %d, errors %v", err, res.Added, res.Errors)
	}
	sampled := statistics(t, st)

	// The statements the reads send, as sent.
	type statement struct {
		sql  string
		vars []any
	}
	var sent []statement
	capture := func(db *gorm.DB) {
		sent = append(sent, statement{db.Statement.SQL.String(), slices.Clone(db.Statement.Vars)})
	}
	if err := st.Gorm().Callback().Query().After("gorm:query").Register("test:capture", capture); err != nil {
		t.Fatal(err)
	}
	if err := st.Gorm().Callback().Row().After("gorm:row").Register("test:capture", capture); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := svc.Entity(operator, backstage.MustParseRef(q.Components[i*7])); err != nil {
			t.Fatal(err)
		}
		for _, f := range []catalog.Filter{
			{Owners: []string{q.Owners[i*5]}, Kinds: []string{"Component"}},
			{Text: q.SearchWords[i*5], Kinds: []string{"Component"}},
			{Text: q.SearchWords[i*5+1]},
		} {
			if _, err := svc.Find(operator, catalog.Query{Filter: f, First: 50}); err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Count(operator, f); err != nil {
				t.Fatal(err)
			}
		}
	}
	_ = st.Gorm().Callback().Query().Remove("test:capture")
	_ = st.Gorm().Callback().Row().Remove("test:capture")
	if len(sent) < 20 {
		t.Fatalf("captured %d statements; the reads send more", len(sent))
	}

	planOf := func(s statement) string {
		var rows []struct{ Detail string }
		if err := st.Gorm().Raw("EXPLAIN QUERY PLAN "+s.sql, s.vars...).Scan(&rows).Error; err != nil {
			t.Fatalf("explain %s: %v", s.sql, err)
		}
		var details []string
		for _, r := range rows {
			details = append(details, r.Detail)
		}
		return strings.Join(details, "\n")
	}
	plans := make([]string, len(sent))
	for i, s := range sent {
		plans[i] = planOf(s)
	}

	for _, table := range []string{"entities", "relations", "entity_tags", "entity_annotations"} {
		if err := st.Gorm().Exec("ANALYZE " + table).Error; err != nil { // every row of every index
			t.Fatal(err)
		}
	}
	if full := statistics(t, st); full == sampled {
		t.Fatal("full statistics are those of the import: the import read every row, or the catalog is too small to tell")
	}
	for i, s := range sent {
		if full := planOf(s); full != plans[i] {
			t.Errorf("%s\nplanned after the import as\n%s\nand with full statistics as\n%s", s.sql, plans[i], full)
		}
	}
}

// On SQLite an entity's row holds its whole document, so a filter by type and lifecycle and the
// facets of a tag's entities read the few columns they need from indexes that hold them
// (migration 00030), never from the rows: a page of services in production walks its lifecycle's
// and type's entries in name order (no sort of every match; its total is summed from the shape
// counts, 00031), and the owners and systems of a tag's services are read by id from
// entities_facet_rows. At 100,000 entities those read 25,000 and 19,000 rows before: 250, 300 and
// 200 ms. The facets of services in production and of a tag over every kind read no entity at
// all: the shape counts, and the shape refs (00033) or the tag counts (00032).
func TestSQLiteReadsTheColumnsOfAFiltersMatchesFromIndexes(t *testing.T) {
	st := storetest.SQLite(t) // PostgreSQL keeps these counts and facets (00028, 00029)
	dir := benchcat.Generate(t, 0.05)
	svc := catalog.NewService(st, catalog.Options{
		Readers: map[catalog.LocationType]catalog.Reader{catalog.LocationFile: &sources.Files{}},
		Logger:  slog.New(slog.DiscardHandler),
	})
	res, err := svc.RegisterLocation(operator, catalog.LocationSpec{Type: catalog.LocationFile, Target: dir})
	if err != nil || res.Added < 500 || res.ErrorCount > 0 {
		t.Fatalf("import: %v, added %d, errors %v", err, res.Added, res.Errors)
	}
	var sent []string
	var vars [][]any
	capture := func(db *gorm.DB) {
		sent, vars = append(sent, db.Statement.SQL.String()), append(vars, slices.Clone(db.Statement.Vars))
	}
	if err := st.Gorm().Callback().Row().After("gorm:row").Register("test:capture", capture); err != nil {
		t.Fatal(err)
	}
	planOf := func(i int) string {
		var rows []struct{ Detail string }
		if err := st.Gorm().Raw("EXPLAIN QUERY PLAN "+sent[i], vars[i]...).Scan(&rows).Error; err != nil {
			t.Fatalf("explain %s: %v", sent[i], err)
		}
		var details []string
		for _, r := range rows {
			details = append(details, r.Detail)
		}
		return strings.Join(details, "\n")
	}
	last := func(read func() error) (string, string) {
		t.Helper()
		sent, vars = nil, nil
		if err := read(); err != nil {
			t.Fatal(err)
		}
		if len(sent) == 0 {
			t.Fatal("no statement captured")
		}
		return sent[len(sent)-1], planOf(len(sent) - 1)
	}
	defer func() { _ = st.Gorm().Callback().Row().Remove("test:capture") }()
	fields := []catalog.FacetField{catalog.FacetKind, catalog.FacetType, catalog.FacetLifecycle, catalog.FacetOwner,
		catalog.FacetTag, catalog.FacetSystem, catalog.FacetNamespace}
	inProduction := catalog.Filter{Types: []string{"service"}, Lifecycles: []string{"production"}}

	sql, plan := last(func() error {
		page, err := svc.Find(operator, catalog.Query{Filter: inProduction, Count: true, Summaries: true})
		if err == nil && (page.Total < 50 || len(page.Entities) != 50) {
			t.Fatalf("services in production: %d of %d; the catalog is too small to tell", len(page.Entities), page.Total)
		}
		return err
	})
	if !regexp.MustCompile(`(?m)^SEARCH e USING INDEX entities_(lifecycle|type)_cover \(\w+=\? AND \w+=\?\)$`).MatchString(plan) ||
		strings.Contains(plan, "TEMP B-TREE") || strings.Count(plan, " e USING ") != 1 || !strings.Contains(plan, "entity_shape_counts") {
		t.Errorf("a page of services in production with its total, %s\nplanned as\n%s\nwant the page's entries walked in name order and the total summed from the shape counts", sql, plan)
	}
	sql, plan = last(func() error {
		_, err := svc.Facets(operator, catalog.Filter{Tags: []string{"java"}, Types: []string{"service"}}, fields, 20)
		return err
	})
	if !strings.Contains(plan, "USING COVERING INDEX entities_") || regexp.MustCompile(`(?m)^\s*(SCAN e|SEARCH e USING (INTEGER PRIMARY KEY|INDEX))\b`).MatchString(plan) {
		t.Errorf("facets of tag java's services, %s\nplanned as\n%s\nwant the matches' columns read from an index that holds them", sql, plan)
	}
	for name, c := range map[string]struct {
		filter catalog.Filter
		kept   string
	}{
		"tag java":               {catalog.Filter{Tags: []string{"java"}}, "SEARCH entity_tag_counts USING PRIMARY KEY (tag=? AND field=? AND kind=?)"},
		"services in production": {inProduction, "SEARCH entity_shape_refs USING PRIMARY KEY (field=? AND spec_type=? AND lifecycle=? AND kind=?)"},
	} {
		sql, plan := last(func() error { _, err := svc.Facets(operator, c.filter, fields, 20); return err })
		if !strings.Contains(plan, c.kept) || regexp.MustCompile(`(?m)\b(SCAN|SEARCH) (e|entities)\b`).MatchString(plan) {
			t.Errorf("facets of %s, %s\nplanned as\n%s\nwant the owners and systems read from the kept counts, no entity read", name, sql, plan)
		}
	}
}

// statistics returns SQLite's statistics of the tables the catalog's reads plan over, as text.
func statistics(t *testing.T, st *store.Store) string {
	t.Helper()
	var rows []struct{ Tbl, Idx, Stat string }
	if err := st.Gorm().Raw("SELECT tbl, idx, stat FROM sqlite_stat1 WHERE tbl IN ('entities', 'relations', 'entity_tags', 'entity_annotations') ORDER BY tbl, idx").Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(rows)
}

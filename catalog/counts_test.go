package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/pressly/goose/v3"
	"gorm.io/gorm"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/migrations"
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
			description := descriptions[(i*7+j)%len(descriptions)]
			tags := []string{pick("java", "go", "payments", "edge"), pick("java", "go", "pci", "")}
			tagList := strings.Join(strings.Fields(strings.Join(tags, " ")), ", ")
			ns := pick("default", "default", "ops")
			switch rng.IntN(4) {
			case 0, 1:
				docs = append(docs, fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: %s, namespace: %s, description: %q, tags: [%s]}\n"+
					"spec: {type: %s, lifecycle: %s, owner: %s%s}\n", name, ns, description, tagList, pick("service", "website", "library"),
					pick("production", "experimental"), pick("team-a", "team-b", "user:alice"), pick("", ", system: payments", ", system: search")))
			case 2:
				docs = append(docs, fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata: {name: %s, description: %q, tags: [%s]}\n"+
					"spec: {type: %s, lifecycle: production, owner: %s, definition: x}\n", name, description, tagList, pick("openapi", "grpc"), pick("team-a", "team-c")))
			default:
				docs = append(docs, fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: Resource\nmetadata: {name: %s, description: %q}\n"+
					"spec: {type: database, owner: %s}\n", name, description, pick("team-b", "team-c")))
			}
		}
		f.write(filepath.Join(dir, fmt.Sprintf("%03d.yaml", i)), strings.Join(docs, "---\n"))
	}
}

// registerRandom registers a location of randomCatalog's files of rng in the directory "one" and
// returns its ID.
func registerRandom(f *fixture, rng *rand.Rand, files int) int64 {
	f.t.Helper()
	randomCatalog(f, "one", rng, files)
	return f.register(filepath.Join(f.dir, "one", "*.yaml")).Location.ID
}

// descriptions are the entities' descriptions in randomCatalog: words sharing prefixes within
// one entity and across entities, a word repeated, accents and other scripts, a word longer than
// the prefixes counted, one too long for PostgreSQL to index, none, numbers (a search of four
// digits or more is counted on its matches) beside words of letters and digits.
var descriptions = []string{
	"Pays payments via PayPal",
	"Zürich café 日本語 テスト",
	"",
	"go go gopher pays",
	"a supercalifragilisticexpialidociousnessextra word",
	strings.Repeat("x", 2100) + " tail",
	"payments ledger",
	"order 12345 on port 8080 in 123 v2 2024rc1 000042 12399",
}

// backfill is the statement of a migration (its file) that counts the entities already there
// into table: its last INSERT INTO table before its Down section, with the WITH before it, up to
// its end.
func backfill(t *testing.T, st *store.Store, migration, table string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "migrations", string(st.Dialect()), migration))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	end := strings.Index(text, "-- +goose Down")
	start := strings.LastIndex(text[:max(end, 0)], "INSERT INTO "+table+" ")
	if start < 0 || end < start {
		t.Fatalf("migration %s has no backfill of %s before its Down section", migration, table)
	}
	// A backfill may begin with the WITH clause its INSERT reads from (SQLite's 00032), and
	// statements may follow it (an index built after it).
	prev := strings.LastIndex(text[:start], ";") + 1
	if with := strings.Index(text[prev:start], "\nWITH "); with >= 0 {
		start = prev + with + 1
	}
	if stop := strings.Index(text[start:end], ";\n"); stop >= 0 {
		end = start + stop + 1
	}
	return text[start:end]
}

// facetFields are every facet field, in the portal's order.
var facetFields = []catalog.FacetField{catalog.FacetKind, catalog.FacetType, catalog.FacetLifecycle,
	catalog.FacetOwner, catalog.FacetTag, catalog.FacetSystem, catalog.FacetNamespace}

// sameAsGrouped compares every kept facet and count over kinds alone with what grouping the
// stored entities gives, one field at a time and all of them in one call (as the portal asks,
// one field twice), and the kept totals over kinds (entity_totals) with the stored entities.
func sameAsGrouped(t *testing.T, f *fixture, step string) {
	t.Helper()
	for _, kinds := range [][]string{nil, {"Component"}, {"component", "Component"}, {"component", "API"}, {"Resource", "Group"}, {"Location"}} {
		filter := catalog.Filter{Kinds: kinds}
		for _, limit := range []int{1, 2, 100} {
			all, err := f.svc.Facets(operator, filter, append(slices.Clone(facetFields), catalog.FacetOwner), limit)
			if err != nil {
				t.Fatalf("%s: facets %v: %v", step, kinds, err)
			}
			if len(all) != len(facetFields) {
				t.Errorf("%s: facets of kinds %v answered %d fields, want %d", step, kinds, len(all), len(facetFields))
			}
			for _, field := range facetFields {
				kept, err := f.svc.Facets(operator, filter, []catalog.FacetField{field}, limit)
				if err != nil {
					t.Fatalf("%s: facets %s %v: %v", step, field, kinds, err)
				}
				grouped, err := catalog.GroupedFacet(operator, f.svc, filter, field, limit)
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(grouped, kept[field], cmpopts.EquateEmpty()); d != "" {
					t.Errorf("%s: facet %s of kinds %v, limit %d (-grouped +kept):\n%s", step, field, kinds, limit, d)
				}
				if d := cmp.Diff(grouped, all[field], cmpopts.EquateEmpty()); d != "" {
					t.Errorf("%s: facet %s of kinds %v, limit %d, asked with every field (-grouped +kept):\n%s", step, field, kinds, limit, d)
				}
				if kept[field] == nil || all[field] == nil {
					t.Errorf("%s: facet %s of kinds %v is null, not a list", step, field, kinds)
				}
			}
		}
		sameCount(t, f, step, filter)
	}
	if d := cmp.Diff(groupedTotals(t, f.st), keptTotals(t, f.st), cmpopts.EquateEmpty()); d != "" {
		t.Errorf("%s: the kept totals over kinds (-grouped entities +entity_totals):\n%s", step, d)
	}
	noNegativeCounts(t, f.st, "entity_totals", step)
	samePrefixCounts(t, f, step)
	sameShapeCounts(t, f, step)
}

// shapeFilters are filters by kinds, namespaces, types, lifecycles and one tag, which
// entity_shape_counts counts (migrations 00028 on PostgreSQL, 00031 on SQLite): randomCatalog's
// values, empty ones, a tag in another case and listed twice, values no entity has; the last two
// are not counted by shape.
var shapeFilters = map[string]catalog.Filter{
	"type and lifecycle":                  {Types: []string{"service"}, Lifecycles: []string{"production"}},
	"a type of a kind in a lifecycle":     {Types: []string{"service"}, Lifecycles: []string{"experimental"}, Kinds: []string{"component"}},
	"a type in every lifecycle":           {Types: []string{"website"}},
	"a type of a namespace":               {Types: []string{"service"}, Namespaces: []string{"ops"}},
	"types of two kinds":                  {Types: []string{"service", "openapi", "database"}, Kinds: []string{"Component", "api"}},
	"a namespace's lifecycles":            {Namespaces: []string{"OPS"}, Lifecycles: []string{"experimental", "production"}},
	"no lifecycle":                        {Lifecycles: []string{""}},
	"a lifecycle alone":                   {Lifecycles: []string{"production"}},
	"lifecycles of a kind":                {Lifecycles: []string{"production", "experimental"}, Kinds: []string{"component"}},
	"a type of a kind, every lifecycle":   {Types: []string{"service"}, Kinds: []string{"Component"}},
	"types of two kinds, every lifecycle": {Types: []string{"service", "openapi"}, Kinds: []string{"Component", "api"}},
	"a tag":                               {Tags: []string{"pci"}},
	"a tag of two kinds":                  {Tags: []string{"java"}, Kinds: []string{"component", "API", "Component"}},
	"a tag of one kind":                   {Tags: []string{"GO"}, Kinds: []string{"API"}},
	"a tag no entity lists":               {Tags: []string{"cobol"}},
	"a tag listed twice, upper case":      {Tags: []string{"Java", "java"}, Types: []string{"service", "website"}},
	"a tag of a kind in a namespace":      {Tags: []string{"go"}, Kinds: []string{"Component"}, Namespaces: []string{"default"}},
	"a type no entity has":                {Types: []string{"nothing"}, Lifecycles: []string{"production"}},
	"an empty tag":                        {Tags: []string{""}},
	"two tags (not counted by shape)":     {Tags: []string{"go", "java"}, Lifecycles: []string{"production"}},
}

// sameShapeCounts checks that the counts and facets of shapeFilters are what grouping their
// matches gives, and that entity_shape_counts is the grouped count of the entities by shape and
// by shape and tag.
func sameShapeCounts(t *testing.T, f *fixture, step string) {
	t.Helper()
	for name, filter := range shapeFilters {
		if counted := catalog.ShapeCounted(f.svc, filter); counted == (name == "an empty tag" || name == "two tags (not counted by shape)") {
			t.Errorf("%s: %s: counted by shape %v", step, name, counted)
		}
		byRef := name == "type and lifecycle" || name == "types of two kinds" || name == "a type no entity has" ||
			name == "a type of a kind in a lifecycle" || name == "a type in every lifecycle" || name == "no lifecycle" ||
			name == "a lifecycle alone" || name == "lifecycles of a kind" || name == "a type of a kind, every lifecycle" ||
			name == "types of two kinds, every lifecycle"
		for _, field := range []catalog.FacetField{catalog.FacetOwner, catalog.FacetSystem} {
			if kept := catalog.RefKept(f.svc, filter, field); kept != byRef {
				t.Errorf("%s: %s: facet %s read from the shape refs %v, want %v", step, name, field, kept, byRef)
			}
		}
		byTag := name == "a tag" || name == "a tag of two kinds" || name == "a tag of one kind" || name == "a tag no entity lists"
		for _, field := range []catalog.FacetField{catalog.FacetOwner, catalog.FacetSystem, catalog.FacetTag} {
			if kept := catalog.TagKept(f.svc, filter, field); kept != byTag {
				t.Errorf("%s: %s: facet %s read from the tag counts %v, want %v", step, name, field, kept, byTag)
			}
		}
		sameCount(t, f, step+": "+name, filter)
		for _, limit := range []int{1, 100} {
			all, err := f.svc.Facets(operator, filter, facetFields, limit)
			if err != nil {
				t.Fatalf("%s: %s: facets: %v", step, name, err)
			}
			for _, field := range facetFields {
				grouped, err := catalog.GroupedFacet(operator, f.svc, filter, field, limit)
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(grouped, all[field], cmpopts.EquateEmpty()); d != "" {
					t.Errorf("%s: %s: facet %s, limit %d (-grouped +answered):\n%s", step, name, field, limit, d)
				}
			}
			shaped := []catalog.FacetField{catalog.FacetKind, catalog.FacetType, catalog.FacetLifecycle, catalog.FacetNamespace, catalog.FacetTag}
			some, err := f.svc.Facets(operator, filter, shaped, limit)
			if err != nil {
				t.Fatalf("%s: %s: facets: %v", step, name, err)
			}
			for _, field := range shaped {
				if d := cmp.Diff(all[field], some[field], cmpopts.EquateEmpty()); d != "" {
					t.Errorf("%s: %s: facet %s, limit %d, asked with the shape's fields alone (-with every field +alone):\n%s", step, name, field, limit, d)
				}
			}
		}
	}
	type shapeRow struct {
		Kind, Namespace, SpecType, Lifecycle, Tag string
		Entities                                  int64
	}
	var kept, grouped []shapeRow
	if err := f.st.Gorm().Raw(`SELECT kind, namespace, spec_type, lifecycle, tag, entities FROM entity_shape_counts WHERE entities <> 0
		ORDER BY kind, namespace, spec_type, lifecycle, tag`).Scan(&kept).Error; err != nil {
		t.Fatal(err)
	}
	err := f.st.Gorm().Raw(`SELECT kind, namespace, spec_type, lifecycle, tag, count(*) AS entities FROM (
		SELECT kind, namespace, spec_type, lifecycle, '' AS tag FROM entities
		UNION ALL SELECT e.kind, e.namespace, e.spec_type, e.lifecycle, t.tag FROM entities e JOIN entity_tags t ON t.entity_id = e.id
	) AS s GROUP BY 1, 2, 3, 4, 5 ORDER BY ` + bytewise(f.st, "kind", "namespace", "spec_type", "lifecycle", "tag")).Scan(&grouped).Error
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(grouped, kept, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("%s: the kept shape counts (-grouped entities +entity_shape_counts):\n%s", step, d)
	}
	noNegativeCounts(t, f.st, "entity_shape_counts", step)
	sameTagCounts(t, f, step)
	sameShapeRefs(t, f, step)
	sameRollups(t, f, step)
}

// sameRollups checks that entity_shape_ref_rollups is the grouped count of the entities of each
// type and of each lifecycle, of each kind and of every kind, by owner and by system (migration
// 00034).
func sameRollups(t *testing.T, f *fixture, step string) {
	t.Helper()
	type rollupRow struct {
		Field, Axis, AxisValue, Kind, Value string
		Entities                            int64
	}
	// Each entity under its kind and under '' (every kind), by its type and by its lifecycle.
	sameKept[rollupRow](t, f, step, "rollups", "entity_shape_ref_rollups", []string{"field", "axis", "axis_value", "kind", "value"},
		`WITH k AS (SELECT id, kind FROM entities UNION ALL SELECT id, '' FROM entities),
	a AS (SELECT id, 'type' AS axis, spec_type AS axis_value FROM entities UNION ALL SELECT id, 'lifecycle', lifecycle FROM entities)
	SELECT field, axis, axis_value, kind, value, count(*) AS entities FROM (
		SELECT 'owner' AS field, a.axis, a.axis_value, k.kind, e.owner_ref AS value FROM entities e JOIN k ON k.id = e.id JOIN a ON a.id = e.id WHERE e.owner_ref <> ''
		UNION ALL SELECT 'system', a.axis, a.axis_value, k.kind, e.system_ref FROM entities e JOIN k ON k.id = e.id JOIN a ON a.id = e.id WHERE e.system_ref <> ''
	) AS s GROUP BY 1, 2, 3, 4, 5`)
}

// sameShapeRefs checks that entity_shape_refs is the grouped count of the entities of each type,
// lifecycle and kind, and of every kind, by owner and by system (migration 00033).
func sameShapeRefs(t *testing.T, f *fixture, step string) {
	t.Helper()
	type refRow struct {
		Field, SpecType, Lifecycle, Kind, Value string
		Entities                                int64
	}
	// Each entity under its kind and under '' (every kind).
	sameKept[refRow](t, f, step, "shape refs", "entity_shape_refs", []string{"field", "spec_type", "lifecycle", "kind", "value"},
		`WITH k AS (SELECT id, kind FROM entities UNION ALL SELECT id, '' FROM entities)
	SELECT field, spec_type, lifecycle, kind, value, count(*) AS entities FROM (
		SELECT 'owner' AS field, e.spec_type, e.lifecycle, k.kind, e.owner_ref AS value FROM entities e JOIN k ON k.id = e.id WHERE e.owner_ref <> ''
		UNION ALL SELECT 'system', e.spec_type, e.lifecycle, k.kind, e.system_ref FROM entities e JOIN k ON k.id = e.id WHERE e.system_ref <> ''
	) AS s GROUP BY 1, 2, 3, 4, 5`)
}

// sameKept checks that table's rows of non-zero counts, read by its key columns (keys) and
// entities in key order, are the rows grouped (a statement over the entities selecting the same
// columns, ordered here), that none is negative, and returns how many rows grouped has. R holds
// a row, the keys then Entities.
func sameKept[R any](t *testing.T, f *fixture, step, what, table string, keys []string, grouped string) int {
	t.Helper()
	var kept, want []R
	cols := strings.Join(keys, ", ")
	if err := f.st.Gorm().Raw("SELECT " + cols + ", entities FROM " + table + " WHERE entities <> 0 ORDER BY " + cols).Scan(&kept).Error; err != nil {
		t.Fatal(err)
	}
	if err := f.st.Gorm().Raw(grouped + " ORDER BY " + bytewise(f.st, keys...)).Scan(&want).Error; err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, kept, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("%s: the kept %s (-grouped entities +%s):\n%s", step, what, table, d)
	}
	noNegativeCounts(t, f.st, table, step)
	return len(want)
}

// sameTagCounts checks that entity_tag_counts is the grouped count of the entities of each kind,
// and of every kind, listing each tag by owner, by system and by each tag they list (migration
// 00032).
func sameTagCounts(t *testing.T, f *fixture, step string) {
	t.Helper()
	type tagRow struct {
		Tag, Field, Kind, Value string
		Entities                int64
	}
	// Each entity under its kind and under '' (every kind).
	grouped := sameKept[tagRow](t, f, step, "tag counts", "entity_tag_counts", []string{"tag", "field", "kind", "value"},
		`WITH k AS (SELECT id, kind FROM entities UNION ALL SELECT id, '' FROM entities)
	SELECT tag, field, kind, value, count(*) AS entities FROM (
		SELECT t.tag, 'owner' AS field, k.kind, e.owner_ref AS value FROM entities e JOIN entity_tags t ON t.entity_id = e.id JOIN k ON k.id = e.id WHERE e.owner_ref <> ''
		UNION ALL SELECT t.tag, 'system', k.kind, e.system_ref FROM entities e JOIN entity_tags t ON t.entity_id = e.id JOIN k ON k.id = e.id WHERE e.system_ref <> ''
		UNION ALL SELECT t.tag, 'tag', k.kind, o.tag FROM entities e JOIN entity_tags t ON t.entity_id = e.id JOIN entity_tags o ON o.entity_id = e.id JOIN k ON k.id = e.id
	) AS s GROUP BY 1, 2, 3, 4`)
	var tagged int64
	if err := f.st.Gorm().Raw("SELECT count(*) FROM entity_tags").Scan(&tagged).Error; err != nil {
		t.Fatal(err)
	}
	if tagged > 0 && grouped == 0 {
		t.Fatalf("%s: entities list tags and the grouping counts none: the check checks nothing", step)
	}
}

// bytewise is an ORDER BY list of columns compared as bytes, as the kept tables' keys are.
func bytewise(st *store.Store, columns ...string) string {
	if st.Dialect() == store.Postgres {
		for i, c := range columns {
			columns[i] = c + ` COLLATE "C"`
		}
	}
	return strings.Join(columns, ", ")
}

// sameCount compares the count Count gives for filter with the matching entities counted.
func sameCount(t *testing.T, f *fixture, step string, filter catalog.Filter) {
	t.Helper()
	kept, err := f.svc.Count(operator, filter)
	if err != nil {
		t.Fatal(err)
	}
	grouped, err := catalog.GroupedCount(operator, f.svc, filter)
	if err != nil {
		t.Fatal(err)
	}
	if kept != grouped {
		t.Errorf("%s: count of text %q in kinds %v: %d, %d entities match", step, filter.Text, filter.Kinds, kept, grouped)
	}
}

// noNegativeCounts checks that no count of a kept table (entities column) fell below 0.
func noNegativeCounts(t *testing.T, st *store.Store, table, step string) {
	t.Helper()
	var negative int64
	if err := st.Gorm().Raw("SELECT count(*) FROM " + table + " WHERE entities < 0").Scan(&negative).Error; err != nil {
		t.Fatal(err)
	}
	if negative > 0 {
		t.Errorf("%s: %d counts of %s are negative", step, negative, table)
	}
}

// prefixRow is one count of entity_prefix_counts.
type prefixRow struct {
	Prefix, Kind string
	Entities     int64
}

// samePrefixCounts compares, on PostgreSQL, the kept prefix counts (entity_prefix_counts) with
// the entities the search column matches, for every prefix of up to 32 characters of every word
// it holds but those of four digits or more alone, by kind; and a text search's count of one word, with kinds and without, with the
// same search counted on the entities, for words the counts answer and words they do not (longer
// ones, numbers of four digits and more).
func samePrefixCounts(t *testing.T, f *fixture, step string) {
	t.Helper()
	for _, text := range []string{"pay", "PAY", "payments", "zur", "Zürich", "日本", "テスト", "go", "x", "tail",
		"supercalifragilisticexpialidocio", "supercalifragilisticexpialidociou", "supercalifragilisticexpialidociousnessextra", "nothing", "2", "one",
		"1", "12", "123", "1234", "12345", "123456", "8080", "0", "00004", "000042", "2024", "2024rc", "v2"} {
		for _, kinds := range [][]string{nil, {"Component"}, {"api", "Resource"}} {
			sameCount(t, f, step, catalog.Filter{Text: text, Kinds: kinds})
		}
	}
	if f.st.Dialect() != store.Postgres {
		return
	}
	var kept, matched []prefixRow
	if err := f.st.Gorm().Raw("SELECT prefix, kind, entities FROM entity_prefix_counts WHERE entities <> 0 ORDER BY prefix, kind").
		Scan(&kept).Error; err != nil {
		t.Fatal(err)
	}
	err := f.st.Gorm().Raw(`WITH prefixes AS (
		SELECT DISTINCT left(w, n) AS prefix FROM (SELECT unnest(tsvector_to_array(search)) AS w FROM entities) AS words,
			generate_series(1, least(length(w), 32)) AS n
		WHERE n <= 3 OR left(w, n) ~ '[^0-9]')
	SELECT p.prefix, e.kind, count(*) AS entities FROM prefixes p JOIN entities e ON e.search @@ to_tsquery('simple', p.prefix || ':*')
	GROUP BY p.prefix, e.kind ORDER BY p.prefix COLLATE "C", e.kind COLLATE "C"`).Scan(&matched).Error
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(matched, kept, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("%s: the kept prefix counts (-entities the search column matches +entity_prefix_counts):\n%s", step, d)
	}
	noNegativeCounts(t, f.st, "entity_prefix_counts", step)
}

// totalRow is one kept total over kinds.
type totalRow struct {
	Field, Value string
	Entities     int64
}

// keptTotals reads the kept totals over kinds that are not 0, in key order.
func keptTotals(t *testing.T, st *store.Store) []totalRow {
	t.Helper()
	var rows []totalRow
	if err := st.Gorm().Raw("SELECT field, value, entities FROM entity_totals WHERE entities <> 0 ORDER BY field, value").
		Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	return rows
}

// groupedTotals counts the stored entities by every facet field, whatever their kind: what the
// kept totals must be (a tag once per entity, as entity_tags holds it; empty values not counted).
func groupedTotals(t *testing.T, st *store.Store) []totalRow {
	t.Helper()
	var rows []totalRow
	err := st.Gorm().Raw(`SELECT field, value, count(*) AS entities FROM (
		SELECT 'kind' AS field, kind AS value FROM entities
		UNION ALL SELECT 'type', spec_type FROM entities
		UNION ALL SELECT 'lifecycle', lifecycle FROM entities
		UNION ALL SELECT 'owner', owner_ref FROM entities
		UNION ALL SELECT 'namespace', namespace FROM entities
		UNION ALL SELECT 'system', system_ref FROM entities
		UNION ALL SELECT 'tag', tag FROM entity_tags
	) AS f WHERE value <> '' GROUP BY field, value ORDER BY field, value`).Scan(&rows).Error
	if err != nil {
		t.Fatal(err)
	}
	return rows
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
			sameAsGrouped(t, f, step)
		}
		f.svc = f.service(catalog.Options{CacheSize: 0})
		one := registerRandom(f, rng, 12)
		check("first import")
		randomCatalog(f, "one", rng, 9) // rewrites nine files (changed entities, fewer in some), keeps three
		f.write("one/000.yaml", "")     // an emptied file: its entities go
		f.refresh(one)
		check("refresh with changes")
		randomCatalog(f, "two", rng, 8)
		two := f.register(filepath.Join(f.dir, "two", "*.yaml")).Location.ID
		check("second location")
		// A database migrated to 00019 (and on PostgreSQL 00025) with a catalog in it gets its
		// counts from the migrations.
		if err := st.Gorm().Exec("DELETE FROM entity_counts").Error; err != nil {
			t.Fatal(err)
		}
		if err := st.Gorm().Exec(backfill(t, st, "00019_entity_counts.sql", "entity_counts")).Error; err != nil {
			t.Fatal(err)
		}
		if st.Dialect() == store.Postgres { // and the prefix counts from 00025
			if err := st.Gorm().Exec("DELETE FROM entity_prefix_counts").Error; err != nil {
				t.Fatal(err)
			}
			if err := st.Gorm().Exec(backfill(t, st, "00025_entity_prefix_counts.sql", "entity_prefix_counts")).Error; err != nil {
				t.Fatal(err)
			}
		}
		// And the tag counts from 00032 and the shape refs from 00033, in both databases, and
		// their rollups from 00034 (on SQLite a view of the shape refs).
		if err := st.Gorm().Exec("DELETE FROM entity_tag_counts").Error; err != nil {
			t.Fatal(err)
		}
		if err := st.Gorm().Exec(backfill(t, st, "00032_entity_tag_counts.sql", "entity_tag_counts")).Error; err != nil {
			t.Fatal(err)
		}
		if err := st.Gorm().Exec("DELETE FROM entity_shape_refs").Error; err != nil {
			t.Fatal(err)
		}
		if err := st.Gorm().Exec(backfill(t, st, "00033_entity_shape_refs.sql", "entity_shape_refs")).Error; err != nil {
			t.Fatal(err)
		}
		if st.Dialect() == store.Postgres {
			if err := st.Gorm().Exec("DELETE FROM entity_shape_ref_rollups").Error; err != nil {
				t.Fatal(err)
			}
			if err := st.Gorm().Exec(backfill(t, st, "00034_entity_shape_ref_rollups.sql", "entity_shape_ref_rollups")).Error; err != nil {
				t.Fatal(err)
			}
		}
		check("counted again by the migrations")
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

// countRow is one kept count.
type countRow struct {
	Kind, Field, Value string
	Entities           int64
}

// keptCounts reads the kept counts that are not 0, in key order.
func keptCounts(t *testing.T, st *store.Store) []countRow {
	t.Helper()
	var rows []countRow
	if err := st.Gorm().Raw("SELECT kind, field, value, entities FROM entity_counts WHERE entities <> 0 ORDER BY field, kind, value").
		Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	return rows
}

// countWrites records, on PostgreSQL, every statement that writes entities or entity_counts, with
// its transaction; statements returns what the last transaction that wrote entities did, by
// table and operation ("entities DELETE": 2). An INSERT ... ON CONFLICT DO UPDATE is one INSERT
// and one UPDATE: both statement triggers fire for it.
func countWrites(t *testing.T, st *store.Store) (statements func() map[string]int) {
	t.Helper()
	for _, q := range []string{
		`CREATE TABLE count_writes (seq serial, tx bigint, tbl text, op text)`,
		`CREATE FUNCTION count_writes() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
			INSERT INTO count_writes (tx, tbl, op) VALUES (txid_current(), TG_TABLE_NAME, TG_OP); RETURN NULL; END $$`,
		`CREATE TRIGGER count_writes AFTER INSERT OR UPDATE OR DELETE ON entities FOR EACH STATEMENT EXECUTE FUNCTION count_writes()`,
		`CREATE TRIGGER count_writes AFTER INSERT OR UPDATE OR DELETE ON entity_counts FOR EACH STATEMENT EXECUTE FUNCTION count_writes()`,
	} {
		if err := st.Gorm().Exec(q).Error; err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, q := range []string{`DROP TRIGGER count_writes ON entity_counts`, `DROP TRIGGER count_writes ON entities`,
			`DROP FUNCTION count_writes()`, `DROP TABLE count_writes`} {
			if err := st.Gorm().Exec(q).Error; err != nil {
				t.Error(err)
			}
		}
	})
	return func() map[string]int {
		t.Helper()
		var rows []struct {
			Tbl, Op string
			N       int
		}
		err := st.Gorm().Raw(`SELECT tbl, op, count(*) AS n FROM count_writes
			WHERE tx = (SELECT tx FROM count_writes WHERE tbl = 'entities' ORDER BY seq DESC LIMIT 1) GROUP BY tbl, op`).Scan(&rows).Error
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]int{}
		for _, r := range rows {
			m[r.Tbl+" "+r.Op] = r.N
		}
		return m
	}
}

// poison makes the database refuse to store an entity named poison, so that an apply writing it
// fails where it stands, after the entities written before it.
func poison(t *testing.T, st *store.Store) (cure func()) {
	t.Helper()
	add, drop := "ALTER TABLE entities ADD CONSTRAINT poison CHECK (name <> 'poison') NOT VALID", "ALTER TABLE entities DROP CONSTRAINT poison"
	if st.Dialect() == store.SQLite {
		add = "CREATE TRIGGER poison BEFORE INSERT ON entities WHEN new.name = 'poison' BEGIN SELECT RAISE(ABORT, 'poison'); END"
		drop = "DROP TRIGGER poison"
	}
	if err := st.Gorm().Exec(add).Error; err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := st.Gorm().Exec(drop).Error; err != nil {
			t.Fatal(err)
		}
	}
}

// An apply on PostgreSQL counts the entities it writes itself, with the trigger standing aside,
// and adds the differences to the kept counts in one upsert before it commits, however many
// statements wrote its entities: after an import, after a refresh that changes and removes
// entities, and after an apply that failed midway, which leaves the counts of the state before
// it, the counts are those grouping gives. On SQLite the row triggers count.
func TestAnApplyCountsWhatItWritesInOneStatement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.svc = f.service(catalog.Options{CacheSize: 0})
		rng := rand.New(rand.NewPCG(17, 7))
		statements := func() map[string]int { return nil }
		if st.Dialect() == store.Postgres {
			statements = countWrites(t, st)
		}
		// oneUpsert checks, on PostgreSQL, that the apply's count rows were written by one
		// statement while its entities took at least entityWrites.
		oneUpsert := func(step string, entityWrites int) {
			t.Helper()
			if st.Dialect() != store.Postgres {
				return
			}
			got := statements()
			if n := got["entities INSERT"] + got["entities DELETE"]; n < entityWrites {
				t.Fatalf("%s: the apply wrote entities in %d statements, want at least %d for the check to mean something: %v", step, n, entityWrites, got)
			}
			if got["entity_counts INSERT"] != 1 || got["entity_counts UPDATE"] > 1 || got["entity_counts DELETE"] != 0 {
				t.Errorf("%s: the apply wrote the kept counts in %v; want one upsert", step, got)
			}
		}

		randomCatalog(f, "small", rng, 4)
		small := f.register(filepath.Join(f.dir, "small", "*.yaml")).Location.ID
		sameAsGrouped(t, f, "small import")

		randomCatalog(f, "bulk", rng, 60)
		bulk := f.register(filepath.Join(f.dir, "bulk", "*.yaml")).Location.ID
		oneUpsert("bulk import", 1)
		sameAsGrouped(t, f, "bulk import")

		randomCatalog(f, "bulk", rng, 45) // rewrites 45 of the 60 files: changed entities, fewer or more in some
		f.write("bulk/059.yaml", "")      // an emptied file: its entities go
		res := f.refresh(bulk)
		if res.Updated == 0 || res.Removed == 0 {
			t.Fatalf("the refresh changed %d and removed %d entities; want both", res.Updated, res.Removed)
		}
		oneUpsert("refresh with changes and removals", 3) // changed rows deleted, inserted; removed ones deleted
		sameAsGrouped(t, f, "refresh with changes and removals")

		// Every file rewritten, and the last one brings an entity the database refuses: the apply
		// has written (and counted) the others when it fails.
		before := keptCounts(t, st)
		cure := poison(t, st)
		randomCatalog(f, "bulk", rng, 60)
		f.write("bulk/059.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: poison}\n"+
			"spec: {type: service, lifecycle: production, owner: team-a}\n")
		if _, err := f.svc.Refresh(operator, bulk); err == nil {
			t.Fatal("the refresh with the refused entity succeeded")
		}
		if d := cmp.Diff(before, keptCounts(t, st)); d != "" {
			t.Errorf("a failed apply changed the kept counts (-before +after):\n%s", d)
		}
		sameAsGrouped(t, f, "failed apply")
		cure()
		f.refresh(bulk)
		sameAsGrouped(t, f, "the same apply, once it can be written")

		if _, err := f.svc.UnregisterLocation(operator, bulk); err != nil {
			t.Fatal(err)
		}
		sameAsGrouped(t, f, "bulk location unregistered")
		if _, err := f.svc.UnregisterLocation(operator, small); err != nil {
			t.Fatal(err)
		}
		if rows := keptCounts(t, st); len(rows) != 0 {
			t.Errorf("the empty catalog keeps %d non-zero counts: %v", len(rows), rows)
		}
	})
}

// copyEntities writes a copy of every entity (ref and name prefixed with copy-) and of its tags
// with plain SQL on db, as a release that knows nothing of portside.entity_counts writes them;
// uncopy removes the copies.
const (
	copyEntities = `INSERT INTO entities (ref, kind, namespace, name, title, description, spec_type, lifecycle,
		owner_ref, system_ref, tags, search_text, body, hash, location_id, source, created_at, updated_at)
	SELECT replace(ref, '/', '/copy-'), kind, namespace, 'copy-' || name, title, description, spec_type, lifecycle,
		owner_ref, system_ref, tags, search_text, body, hash, location_id, source, created_at, updated_at
	FROM entities WHERE name NOT LIKE 'copy-%'`
	copyTags = `INSERT INTO entity_tags (entity_id, tag)
	SELECT c.id, t.tag FROM entities o JOIN entity_tags t ON t.entity_id = o.id JOIN entities c ON c.ref = replace(o.ref, '/', '/copy-')
	WHERE o.name NOT LIKE 'copy-%'`
	uncopy = `DELETE FROM entities WHERE name LIKE 'copy-%'`
)

// A writer that never sets portside.entity_counts (a release older than migration 00020, during
// a rolling upgrade) is counted by the trigger, inserts and deletes alike. On PostgreSQL a
// transaction that sets it to 'recount' is not counted, and the setting ends with that
// transaction: the next one on the same connection is counted again.
func TestTheTriggerCountsWritersThatNeverSetTheSetting(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.svc = f.service(catalog.Options{CacheSize: 0})
		rng := rand.New(rand.NewPCG(3, 5))
		registerRandom(f, rng, 10)
		sameAsGrouped(t, f, "import")
		original := keptCounts(t, st)

		ctx := context.Background()
		conn, err := st.SQL().Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		inTx := func(setting string, stmts ...string) (counts []countRow) {
			t.Helper()
			tx, err := conn.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = tx.Rollback() }()
			if setting != "" {
				if _, err := tx.ExecContext(ctx, "SET LOCAL portside.entity_counts = '"+setting+"'"); err != nil {
					t.Fatal(err)
				}
			}
			for _, stmt := range stmts {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					t.Fatalf("%s: %v", stmt, err)
				}
			}
			if setting == "recount" { // what the transaction's own writes did to the counts, then undone
				rows, err := tx.QueryContext(ctx, "SELECT kind, field, value, entities FROM entity_counts WHERE entities <> 0 ORDER BY field, kind, value")
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				for rows.Next() {
					var r countRow
					if err := rows.Scan(&r.Kind, &r.Field, &r.Value, &r.Entities); err != nil {
						t.Fatal(err)
					}
					counts = append(counts, r)
				}
				return counts
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			return nil
		}

		if st.Dialect() == store.Postgres {
			counts := inTx("recount", copyEntities, copyTags)
			if d := cmp.Diff(original, counts); d != "" {
				t.Errorf("the trigger counted the writes of a transaction set to recount (-before +in the transaction):\n%s", d)
			}
		}
		inTx("", copyEntities, copyTags)
		sameAsGrouped(t, f, "copies inserted by a writer that never sets the setting")
		if got := keptCounts(t, st); len(got) == 0 || cmp.Equal(got, original) {
			t.Errorf("the copies left the counts as they were: %v", got)
		}
		// The same writer changes the copies in place: kind, owner, type and tags (an UPDATE of
		// entities, which no apply sends), then removes them.
		inTx("", `UPDATE entities SET kind = 'Resource', owner_ref = 'group:default/team-z', spec_type = 'database',
			tags = trim(tags || ' moved') WHERE name LIKE 'copy-%'`,
			`INSERT INTO entity_tags (entity_id, tag) SELECT id, 'moved' FROM entities WHERE name LIKE 'copy-%'`)
		sameAsGrouped(t, f, "copies updated in place by a writer that never sets the setting")
		if rows := keptTotals(t, st); !slices.ContainsFunc(rows, func(r totalRow) bool {
			return r.Field == "owner" && r.Value == "group:default/team-z" && r.Entities > 0
		}) {
			t.Errorf("the update's new owner has no total: %v", rows)
		}
		inTx("", uncopy)
		sameAsGrouped(t, f, "copies deleted by a writer that never sets the setting")
		if d := cmp.Diff(original, keptCounts(t, st)); d != "" {
			t.Errorf("inserting and deleting the copies changed the counts (-before +after):\n%s", d)
		}
		if st.Dialect() == store.Postgres {
			inTx("something-else", copyEntities, copyTags)
			sameAsGrouped(t, f, "copies inserted with another value of the setting")
			inTx("", uncopy)
			sameAsGrouped(t, f, "copies deleted again")
		}
	})
}

// migrateTo moves the database's schema to version, down or up, with its migrations.
func migrateTo(t *testing.T, st *store.Store, version int64) {
	t.Helper()
	if err := migrateToVersion(st, version); err != nil {
		t.Fatal(err)
	}
}

// migrateToVersion is migrateTo returning its error, for a migration run beside the test.
func migrateToVersion(st *store.Store, version int64) error {
	fsys, err := migrations.For(string(st.Dialect()))
	if err != nil {
		return err
	}
	dialect := goose.DialectSQLite3
	if st.Dialect() == store.Postgres {
		dialect = goose.DialectPostgres
	}
	p, err := goose.NewProvider(dialect, st.SQL(), fsys, goose.WithTableName("goose_db_version"))
	if err != nil {
		return err
	}
	ctx := context.Background()
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		return err
	}
	if version < current {
		_, err = p.DownTo(ctx, version)
	} else {
		_, err = p.UpTo(ctx, version)
	}
	if err != nil {
		return fmt.Errorf("migrate from %d to %d: %w", current, version, err)
	}
	return nil
}

// A database at migration 00020 with a catalog in it, which a release that knows nothing of
// entity_totals went on writing (entities inserted, changed and counted again by its recount),
// gets its totals from migration 00021 (and on PostgreSQL its prefix counts from 00025), and
// they follow every writer from there on.
func TestTheTotalsMigrationCountsTheCatalogAlreadyThere(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.svc = f.service(catalog.Options{CacheSize: 0})
		rng := rand.New(rand.NewPCG(11, 13))
		one := registerRandom(f, rng, 10)
		sameAsGrouped(t, f, "import")

		migrateTo(t, st, 20)
		var tables int64
		if err := st.Gorm().Raw("SELECT count(*) FROM entity_totals").Scan(&tables).Error; err == nil {
			t.Fatal("entity_totals is still there at version 20")
		}
		// The release of 00020 writes on: copies of every entity, one changed in place, then its
		// recount (what a bulk apply of that release ends with).
		if err := execEach(st.Gorm(), copyEntities, copyTags,
			`UPDATE entities SET owner_ref = 'group:default/team-z', tags = trim(tags || ' moved') WHERE name LIKE 'copy-%'`,
			`INSERT INTO entity_tags (entity_id, tag) SELECT id, 'moved' FROM entities WHERE name LIKE 'copy-%'`,
			"DELETE FROM entity_counts", backfill(t, st, "00019_entity_counts.sql", "entity_counts")); err != nil {
			t.Fatal(err)
		}

		migrateTo(t, st, 21)
		if len(keptTotals(t, st)) == 0 {
			t.Fatal("the migration kept no totals")
		}
		migrateTo(t, st, math.MaxInt64) // and on to this release's schema: 00025 counts the prefixes there
		sameAsGrouped(t, f, "migrated with a catalog there")
		if err := st.Gorm().Exec(uncopy).Error; err != nil {
			t.Fatal(err)
		}
		sameAsGrouped(t, f, "copies deleted after the migration")
		randomCatalog(f, "one", rng, 10)
		f.refresh(one)
		sameAsGrouped(t, f, "refresh after the migration")
		if _, err := f.svc.UnregisterLocation(operator, one); err != nil {
			t.Fatal(err)
		}
		if rows := keptTotals(t, st); len(rows) != 0 {
			t.Errorf("the empty catalog keeps %d non-zero totals: %v", len(rows), rows)
		}
	})
}

// Facets under any other filter group the matching entities, every field asked in one statement:
// each field answers what grouping the matches by that field alone does (GroupedFacet, one
// statement per field), whichever fields come with it and however often.
func TestFacetsOfEveryFilterAreTheGroupedOnes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.svc = f.service(catalog.Options{CacheSize: 0})
		id := registerRandom(f, rand.New(rand.NewPCG(11, 23)), 12)
		top, err := f.svc.Facets(operator, catalog.Filter{}, []catalog.FacetField{catalog.FacetOwner, catalog.FacetType, catalog.FacetTag, catalog.FacetSystem}, 3)
		if err != nil {
			t.Fatal(err)
		}
		values := func(field catalog.FacetField) []string {
			var out []string
			for _, v := range top[field] {
				out = append(out, v.Value)
			}
			if len(out) == 0 {
				t.Fatalf("the catalog has no %s values to filter by", field)
			}
			return out
		}
		filters := map[string]catalog.Filter{
			"one owner":              {Owners: values(catalog.FacetOwner)[:1]},
			"owners and a kind":      {Owners: values(catalog.FacetOwner), Kinds: []string{"Component"}},
			"owners and descendants": {Owners: values(catalog.FacetOwner)[:1], IncludeDescendants: true},
			"types":                  {Types: values(catalog.FacetType)[:2]},
			"a tag":                  {Tags: values(catalog.FacetTag)[:1]},
			"a system":               {Systems: values(catalog.FacetSystem)[:1]},
			"text":                   {Text: "a"},
			"a location":             {LocationID: id},
			"nothing matches":        {Owners: []string{"group:default/nobody-at-all"}},
		}
		// Filters matching most of their kinds' entities count the rest and take them from the
		// kept counts (restFacets): they must answer the same.
		most := map[string]catalog.Filter{
			"the common namespace":               {Namespaces: []string{"default"}},
			"the common namespace, upper case":   {Namespaces: []string{"DEFAULT"}},
			"the common namespace of components": {Namespaces: []string{"default"}, Kinds: []string{"component"}},
			"every owner":                        {Owners: values(catalog.FacetOwner)},
			"four owners of five of components":  {Owners: []string{"team-b", "group:default/team-a", "user:alice", "user:ops/alice"}, Kinds: []string{"Component"}},
			"production of two kinds":            {Lifecycles: []string{"production", "experimental", "production"}, Kinds: []string{"Component", "API"}},
			"every type but one":                 {Types: []string{"service", "website", "library", "openapi", "grpc"}},
		}
		for name, filter := range most {
			if !catalog.MostMatched(operator, f.svc, filter) {
				t.Errorf("%s: the filter does not match most of the catalog's entities of its kinds, as the test means it to", name)
			}
			filters[name] = filter
		}
		for name, filter := range filters {
			for _, limit := range []int{1, 2, 100} {
				all, err := f.svc.Facets(operator, filter, append(slices.Clone(facetFields), catalog.FacetTag), limit)
				if err != nil {
					t.Fatalf("%s: facets: %v", name, err)
				}
				if len(all) != len(facetFields) {
					t.Errorf("%s: %d fields answered, want %d", name, len(all), len(facetFields))
				}
				for _, field := range facetFields {
					grouped, err := catalog.GroupedFacet(operator, f.svc, filter, field, limit)
					if err != nil {
						t.Fatal(err)
					}
					if d := cmp.Diff(grouped, all[field], cmpopts.EquateEmpty()); d != "" {
						t.Errorf("%s: facet %s, limit %d (-one statement per field +all in one):\n%s", name, field, limit, d)
					}
					if all[field] == nil {
						t.Errorf("%s: facet %s is null, not a list", name, field)
					}
				}
			}
		}
		if _, err := f.svc.Facets(operator, catalog.Filter{Types: []string{"service"}}, []catalog.FacetField{"COLOUR"}, 5); !errs.Is(err, errs.Invalid) {
			t.Errorf("an unknown facet field: want INVALID, got %v", err)
		}
	})
}

// Facets of a filter matching most of its kinds' entities are their kinds' kept counts less the
// rest's: the same as grouping the matches, for a tag some entities list twice, an owner and a
// system, over every kind or some, before and after entities move out of and into the filter.
func TestFacetsOfAFilterMatchingMostAreTheGroupedOnes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.svc = f.service(catalog.Options{CacheSize: 0})
		write := func(moved int) {
			var docs []string
			for i := range 12 {
				tags, owner, system := "java", "team-a", "payments"
				switch {
				case i < moved:
					tags, owner, system = "go", "team-b", "search"
				case i%3 == 0:
					tags = "java, pci, java"
				}
				kind, extra := "Component", "type: service, lifecycle: production"
				if i%4 == 3 {
					kind, extra = "API", "type: openapi, lifecycle: experimental, definition: x"
				}
				docs = append(docs, fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: %s\nmetadata: {name: most-%d, tags: [%s]}\n"+
					"spec: {%s, owner: %s, system: %s}\n", kind, i, tags, extra, owner, system))
			}
			docs = append(docs, "apiVersion: backstage.io/v1alpha1\nkind: Resource\nmetadata: {name: db}\nspec: {type: database, owner: team-c}\n")
			f.write(filepath.Join("most", "all.yaml"), strings.Join(docs, "---\n"))
		}
		write(2)
		id := f.register(filepath.Join(f.dir, "most", "*.yaml")).Location.ID
		filters := map[string]catalog.Filter{
			"a tag":                       {Tags: []string{"JAVA"}},
			"a tag twice":                 {Tags: []string{"java", "java"}},
			"a tag of components":         {Tags: []string{"java"}, Kinds: []string{"Component"}},
			"an owner":                    {Owners: []string{"team-a"}},
			"an owner of two kinds":       {Owners: []string{"team-a"}, Kinds: []string{"API", "component"}},
			"a system":                    {Systems: []string{"payments"}},
			"a lifecycle of two kinds":    {Lifecycles: []string{"production"}, Kinds: []string{"Component", "Resource"}},
			"two owners, one of no kinds": {Owners: []string{"team-a", "team-z"}},
			// restRangesMax ranges (8 distinct values, one of them listed twice) are read a
			// statement each on PostgreSQL, more (9 distinct values) in one statement.
			"a lifecycle among seven of no entities": {Lifecycles: []string{"production", "a", "b", "c", "d", "e", "zx", "zy", "zy"},
				Kinds: []string{"Component", "Resource"}},
			"a lifecycle among eight of no entities": {Lifecycles: []string{"production", "a", "b", "c", "d", "e", "zx", "zy", "zz"},
				Kinds: []string{"Component", "Resource"}},
		}
		check := func(step string) {
			t.Helper()
			for name, filter := range filters {
				if !catalog.MostMatched(operator, f.svc, filter) {
					t.Errorf("%s: %s does not match most of its kinds' entities, as the test means it to", step, name)
				}
				for _, limit := range []int{1, 2, 100} {
					all, err := f.svc.Facets(operator, filter, facetFields, limit)
					if err != nil {
						t.Fatalf("%s: %s: facets: %v", step, name, err)
					}
					for _, field := range facetFields {
						grouped, err := catalog.GroupedFacet(operator, f.svc, filter, field, limit)
						if err != nil {
							t.Fatal(err)
						}
						if d := cmp.Diff(grouped, all[field], cmpopts.EquateEmpty()); d != "" {
							t.Errorf("%s: %s: facet %s, limit %d (-grouped +kept less the rest):\n%s", step, name, field, limit, d)
						}
						if all[field] == nil {
							t.Errorf("%s: %s: facet %s is null, not a list", step, name, field)
						}
					}
				}
			}
		}
		check("import")
		write(4)
		f.refresh(id)
		check("two more moved to another tag, owner and system")
		write(0)
		f.refresh(id)
		check("every one back")
	})
}

// Migration 00029 rebuilds the indexes of type and lifecycle to hold the columns facets read. A
// catalog written before references and types were bounded could hold an entity whose type,
// lifecycle, owner and system together pass what an entry holds: the migration stops naming it
// rather than let the build fail on it, and indexes longer values that fit (a 600-byte type). An
// index left INVALID by a build stopped halfway is built again. Once the value is fixed, the
// migration applies, and facets answer what grouping does.
func TestTheCoveringIndexMigrationNamesWhatNoIndexHolds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		if st.Dialect() != store.Postgres {
			t.Skip("SQLite's 00029 changes nothing")
		}
		f := newFixture(t, st)
		f.svc = f.service(catalog.Options{CacheSize: 0})
		registerRandom(f, rand.New(rand.NewPCG(3, 17)), 10)
		migrateTo(t, st, 28)
		var refs []string
		if err := st.Gorm().Raw("SELECT ref FROM entities WHERE kind = 'Component' ORDER BY ref LIMIT 2").Scan(&refs).Error; err != nil || len(refs) != 2 {
			t.Fatalf("no two components to lengthen (%v)", err)
		}
		long := testutil.RandomText // no compression brings it under an entry's bound
		// Each fits its own index of version 28; together they pass 2,600 bytes.
		if err := st.Gorm().Exec("UPDATE entities SET owner_ref = ?, system_ref = ? WHERE ref = ?", "group:default/"+long(1400), "system:default/"+long(1400), refs[0]).Error; err != nil {
			t.Fatal(err)
		}
		if err := st.Gorm().Exec("UPDATE entities SET spec_type = ? WHERE ref = ?", long(600), refs[1]).Error; err != nil {
			t.Fatal(err)
		}
		err := migrateToVersion(st, 29)
		if err == nil || !strings.Contains(err.Error(), refs[0]) || strings.Contains(err.Error(), refs[1]) || !strings.Contains(err.Error(), "1 entities") {
			t.Fatalf("migrate to 29 with an owner and system of 2,800 bytes: want an error naming %s alone, got %v", refs[0], err)
		}
		if err := st.Gorm().Exec("UPDATE entities SET owner_ref = 'group:default/team-a', system_ref = '' WHERE ref = ?", refs[0]).Error; err != nil {
			t.Fatal(err)
		}
		// A build stopped halfway: its index is there, INVALID (and here not even the right one).
		if err := execEach(st.Gorm(), "CREATE INDEX entities_type_cover ON entities (spec_type)",
			"UPDATE pg_index SET indisvalid = false WHERE indexrelid = to_regclass('entities_type_cover')"); err != nil {
			t.Fatal(err)
		}
		migrateTo(t, st, math.MaxInt64)
		var covering int64
		if err := st.Gorm().Raw(`SELECT count(*) FROM pg_indexes i JOIN pg_index x ON x.indexrelid = to_regclass(i.indexname)
			WHERE i.tablename = 'entities' AND i.schemaname = current_schema() AND x.indisvalid
			AND i.indexname IN ('entities_lifecycle_cover', 'entities_type_cover') AND i.indexdef LIKE '%INCLUDE (kind, namespace, %owner_ref, system_ref, id)'`).Scan(&covering).Error; err != nil || covering != 2 {
			t.Fatalf("valid covering indexes after the migration: %d (%v), want 2", covering, err)
		}
		sameAsGrouped(t, f, "migrated to the covering indexes")
	})
}

// On PostgreSQL the shape counts (migration 00028), the tag counts (00032) and the shape refs
// (00033) and their rollups (00034) have a setting of their own each: an apply of an older release sets
// portside.entity_counts and recounts the entity counts itself, knowing nothing of the others, so their triggers count its writes; a
// transaction that sets portside.entity_shape_counts, portside.entity_tag_counts and
// portside.entity_shape_refs and portside.entity_shape_ref_rollups to 'counted', as this release's
// applies do, is not counted by them.
// Filters by shape are counted and faceted from those rows (ShapeCounted, TagKept, RefKept) and
// answer what grouping their matches does throughout.
func TestTheShapeTriggerCountsAnOlderReleasesApply(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		if st.Dialect() != store.Postgres {
			t.Skip("SQLite's row triggers count every writer (sameShapeCounts after each write of the other tests)")
		}
		f := newFixture(t, st)
		f.svc = f.service(catalog.Options{CacheSize: 0})
		registerRandom(f, rand.New(rand.NewPCG(5, 7)), 10)
		sameShapeCounts(t, f, "import")

		shapes := func(db *gorm.DB) (kept int64) {
			t.Helper()
			if err := db.Raw("SELECT COALESCE(SUM(entities), 0) FROM entity_shape_counts WHERE tag = ''").Scan(&kept).Error; err != nil {
				t.Fatal(err)
			}
			return kept
		}
		before := shapes(st.Gorm())
		if before == 0 {
			t.Fatal("no entity counted by shape")
		}
		err := st.Gorm().Transaction(func(tx *gorm.DB) error {
			return execEach(tx, "SELECT set_config('portside.entity_counts', 'recount', true)",
				copyEntities, copyTags, "DELETE FROM entity_counts", backfill(t, st, "00019_entity_counts.sql", "entity_counts"))
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := shapes(st.Gorm()); got != 2*before {
			t.Fatalf("after an older release's apply copied every entity, %d are counted by shape, want %d", got, 2*before)
		}
		sameShapeCounts(t, f, "copies written by an older release's apply")
		tagged := func(db *gorm.DB) (kept int64) {
			t.Helper()
			if err := db.Raw("SELECT COALESCE(SUM(entities), 0) FROM entity_tag_counts").Scan(&kept).Error; err != nil {
				t.Fatal(err)
			}
			return kept
		}
		taggedBefore := tagged(st.Gorm())
		refs := func(db *gorm.DB) (kept int64) {
			t.Helper()
			if err := db.Raw("SELECT COALESCE(SUM(entities), 0) FROM entity_shape_refs").Scan(&kept).Error; err != nil {
				t.Fatal(err)
			}
			return kept
		}
		refsBefore := refs(st.Gorm())
		rollups := func(db *gorm.DB) (kept int64) {
			t.Helper()
			if err := db.Raw("SELECT COALESCE(SUM(entities), 0) FROM entity_shape_ref_rollups").Scan(&kept).Error; err != nil {
				t.Fatal(err)
			}
			return kept
		}
		rollupsBefore := rollups(st.Gorm())
		if rollupsBefore == 0 {
			t.Fatal("no entity counted in the rollups")
		}
		err = st.Gorm().Transaction(func(tx *gorm.DB) error {
			if err := execEach(tx, "SELECT set_config('portside.entity_shape_counts', 'counted', true)",
				"SELECT set_config('portside.entity_tag_counts', 'counted', true)", "SELECT set_config('portside.entity_shape_refs', 'counted', true)",
				"SELECT set_config('portside.entity_shape_ref_rollups', 'counted', true)", uncopy); err != nil {
				return err
			}
			if got := shapes(tx); got != 2*before {
				t.Errorf("a transaction set to count its own writes had them counted by the trigger: %d by shape, want %d", got, 2*before)
			}
			if got := tagged(tx); got != taggedBefore {
				t.Errorf("a transaction set to count its own writes had them counted by the tag trigger: %d, want %d", got, taggedBefore)
			}
			if got := refs(tx); got != refsBefore {
				t.Errorf("a transaction set to count its own writes had them counted by the refs trigger: %d, want %d", got, refsBefore)
			}
			if got := rollups(tx); got != rollupsBefore {
				t.Errorf("a transaction set to count its own writes had them counted by the rollups trigger: %d, want %d", got, rollupsBefore)
			}
			return errRolledBack
		})
		if !errors.Is(err, errRolledBack) {
			t.Fatal(err)
		}
		if got := shapes(st.Gorm()); got != 2*before {
			t.Fatalf("after the rolled back delete, %d are counted by shape, want %d", got, 2*before)
		}
		// A writer that sets nothing changes the copies' shapes and tags in place (the trigger's
		// UPDATE: old rows taken away, new ones added), then deletes them.
		if err := execEach(st.Gorm(),
			`UPDATE entities SET lifecycle = 'moved', namespace = 'elsewhere', tags = trim(tags || ' moved-here') WHERE name LIKE 'copy-%'`,
			`INSERT INTO entity_tags (entity_id, tag) SELECT id, 'moved-here' FROM entities WHERE name LIKE 'copy-%'`,
		); err != nil {
			t.Fatal(err)
		}
		if got := shapes(st.Gorm()); got != 2*before {
			t.Fatalf("after the copies were changed in place, %d are counted by shape, want %d", got, 2*before)
		}
		sameShapeCounts(t, f, "copies changed in place by a writer that sets nothing")
		if err := st.Gorm().Exec(uncopy).Error; err != nil {
			t.Fatal(err)
		}
		if got := shapes(st.Gorm()); got != before {
			t.Fatalf("after the copies were deleted by a writer that sets nothing, %d are counted by shape, want %d", got, before)
		}
		sameShapeCounts(t, f, "copies deleted")
	})
}

// execEach runs statements on db in order, stopping at the first that fails, which it names.
func execEach(db *gorm.DB, stmts ...string) error {
	for _, stmt := range stmts {
		if err := db.Exec(stmt).Error; err != nil {
			return fmt.Errorf("%s: %w", stmt, err)
		}
	}
	return nil
}

// errRolledBack ends a transaction a test looks into and undoes.
var errRolledBack = errors.New("rolled back")

// On PostgreSQL the prefix counts have a setting of their own: an apply of a release older than
// migration 00025 (during a rolling upgrade) sets portside.entity_counts and counts the entity
// counts itself, knowing nothing of the prefix counts, so the trigger counts its writes; a
// transaction that sets portside.entity_prefix_counts = 'counted', as this release's applies
// do, is not counted by it.
func TestThePrefixTriggerCountsAnOlderReleasesApply(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		if st.Dialect() != store.Postgres {
			t.Skip("SQLite counts a search's matches in its full-text index")
		}
		f := newFixture(t, st)
		f.svc = f.service(catalog.Options{CacheSize: 0})
		registerRandom(f, rand.New(rand.NewPCG(5, 3)), 10)
		samePrefixCounts(t, f, "import")

		// Every entity is named one-…, and its copy has its words (search_text is copied).
		ones := func(db *gorm.DB) (kept int64) {
			t.Helper()
			if err := db.Raw("SELECT COALESCE(SUM(entities), 0) FROM entity_prefix_counts WHERE prefix = 'one'").Scan(&kept).Error; err != nil {
				t.Fatal(err)
			}
			return kept
		}
		before := ones(st.Gorm())
		if before == 0 {
			t.Fatal("no entity counted under one")
		}
		err := st.Gorm().Transaction(func(tx *gorm.DB) error {
			return execEach(tx, "SELECT set_config('portside.entity_counts', 'recount', true)", copyEntities)
		})
		if err != nil {
			t.Fatal(err)
		}
		samePrefixCounts(t, f, "copies written by an older release's apply")
		if got := ones(st.Gorm()); got != 2*before {
			t.Fatalf("after an older release's apply copied every entity, %d are counted under one, want %d", got, 2*before)
		}

		err = st.Gorm().Transaction(func(tx *gorm.DB) error {
			if err := execEach(tx, "SELECT set_config('portside.entity_prefix_counts', 'counted', true)", uncopy); err != nil {
				return err
			}
			if got := ones(tx); got != 2*before {
				t.Errorf("a transaction set to count its own writes had them counted by the trigger: %d under one, want %d", got, 2*before)
			}
			return errRolledBack
		})
		if !errors.Is(err, errRolledBack) {
			t.Fatal(err)
		}
		samePrefixCounts(t, f, "after the rolled back delete")
	})
}

// On PostgreSQL the prefix counts keep no prefix of four digits or more alone (migration 00036),
// whoever writes one: an apply of release 00035, during a rolling upgrade or after a rollback,
// still adds its differences for them, and the table drops them as they come, in a copy as in an
// upsert, so that no row is left whose count no later write corrects.
func TestThePrefixCountsKeepNoPrefixOfFourDigitsOrMore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		if st.Dialect() != store.Postgres {
			t.Skip("SQLite counts a search's matches in its full-text index")
		}
		f := newFixture(t, st)
		f.svc = f.service(catalog.Options{CacheSize: 0})
		f.write("one/a.yaml", `
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: order-12345, title: port 8080 in 2024rc1}
spec: {type: service, lifecycle: production, owner: team-a}
`)
		f.register(filepath.Join(f.dir, "one", "*.yaml"))
		samePrefixCounts(t, f, "import")

		// What an apply of release 00035 adds for an entity of 12345 in 2024r written and one of
		// 9999 removed: copied into a table that held none of them, added to one that did.
		copied := []prefixRow{{"1234", "Component", 1}, {"0x42", "Component", 1}, {"80801", "Component", 1}}
		added := []prefixRow{{"12345", "Component", 1}, {"9999", "Component", -1}, {"123", "Component", 1}, {"2024r", "Component", 1}}
		ctx := context.Background()
		err := st.InTx(ctx, func(ctx context.Context) error {
			if !st.Copies(ctx) {
				t.Fatal("a PostgreSQL transaction does not copy")
			}
			if err := st.DB(ctx).Exec("SELECT set_config('portside.entity_prefix_counts', 'counted', true)").Error; err != nil {
				return err
			}
			if err := st.CopyRows(ctx, "entity_prefix_counts", []string{"prefix", "kind", "entities"}, len(copied), func(i int, args []any) []any {
				return append(args, copied[i].Prefix, copied[i].Kind, copied[i].Entities)
			}); err != nil {
				return err
			}
			var prefixes, kinds []string
			var by []int64
			for _, r := range added {
				prefixes, kinds, by = append(prefixes, r.Prefix), append(kinds, r.Kind), append(by, r.Entities)
			}
			if err := st.DB(ctx).Exec(catalog.AddPrefixCountsSQL, prefixes, kinds, by).Error; err != nil {
				return err
			}
			var got []prefixRow
			if err := st.DB(ctx).Raw("SELECT prefix, kind, entities FROM entity_prefix_counts WHERE prefix IN ('1234', '12345', '9999', '80801', '0x42', '123', '2024r') ORDER BY prefix").
				Scan(&got).Error; err != nil {
				return err
			}
			want := []prefixRow{{"0x42", "Component", 1}, {"123", "Component", 2}, {"2024r", "Component", 2}}
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("the prefix counts after an apply of release 00035 (-want +got):\n%s", d)
			}
			return errRolledBack
		})
		if !errors.Is(err, errRolledBack) {
			t.Fatal(err)
		}

		// Migrated down to 00035, whose releases keep them again, the table counts them from the
		// entities; up again, it drops them.
		migrateTo(t, st, 35)
		var numbers []prefixRow
		if err := st.Gorm().Raw("SELECT prefix, kind, entities FROM entity_prefix_counts WHERE length(prefix) > 3 AND prefix !~ '[^0-9]' ORDER BY prefix").
			Scan(&numbers).Error; err != nil {
			t.Fatal(err)
		}
		want := []prefixRow{{"1234", "Component", 1}, {"12345", "Component", 1}, {"2024", "Component", 1}, {"8080", "Component", 1}}
		if d := cmp.Diff(want, numbers); d != "" {
			t.Errorf("the prefixes of four digits or more at 00035 (-want +got):\n%s", d)
		}
		floor := func() int64 {
			t.Helper()
			status, err := st.SchemaStatus(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return status.Floor
		}
		if got := floor(); got != 0 {
			t.Errorf("at 00035 the schema's floor is %d, want 0", got)
		}
		migrateTo(t, st, math.MaxInt64)
		samePrefixCounts(t, f, "migrated down to 00035 and up again")
		if got := floor(); got != 35 {
			t.Errorf("migrated up again, the schema's floor is %d, want 35", got)
		}
	})
}

// On PostgreSQL the facets of several kinds are read from each kind's first values in count order
// where those settle them (summedFacets), and summed over every value where they do not: reading
// as few as one to three values a kind, every answer is what grouping the matches gives, and
// some fields are settled by the values read, some not.
func TestTheFacetsOfSeveralKindsAreSettledByTheirFirstValues(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		if st.Dialect() != store.Postgres {
			t.Skip("SQLite sums every value's counts over the kinds")
		}
		f := newFixture(t, st)
		f.svc = f.service(catalog.Options{CacheSize: 0})
		// Owners whose entities of each kind are drawn at random, 0 to 5 of a kind each, so that a
		// value's place by its sum is seldom its place in any kind, and sums tie.
		rng := rand.New(rand.NewPCG(17, 19))
		var docs []string
		for o := range 12 {
			for _, kind := range []string{"Component", "API", "Resource"} {
				for i := range rng.IntN(6) {
					spec := "{type: service, lifecycle: production, owner: owner-" + strconv.Itoa(o) + "}"
					if kind == "API" {
						spec = "{type: openapi, lifecycle: production, owner: owner-" + strconv.Itoa(o) + ", definition: x}"
					} else if kind == "Resource" {
						spec = "{type: database, owner: owner-" + strconv.Itoa(o) + "}"
					}
					docs = append(docs, fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: %s\nmetadata: {name: drawn-%d-%d}\nspec: %s\n", kind, o, i, spec))
				}
			}
		}
		f.write(filepath.Join("drawn", "all.yaml"), strings.Join(docs, "---\n"))
		f.register(filepath.Join(f.dir, "drawn", "*.yaml"))
		settled, summed := 0, 0
		for _, read := range []int{1, 2, 3, 100} {
			catalog.SetSummedRead(f.svc, read)
			for _, kinds := range [][]string{{"Component", "API"}, {"component", "Resource"}, {"API", "Resource", "Component"}} {
				for _, limit := range []int{1, 2, 3} {
					first, open, err := catalog.SummedFacets(operator, f.svc, facetFields, kinds, limit)
					if err != nil {
						t.Fatal(err)
					}
					summed += len(open)
					all, err := f.svc.Facets(operator, catalog.Filter{Kinds: kinds}, facetFields, limit)
					if err != nil {
						t.Fatal(err)
					}
					for _, field := range facetFields {
						grouped, err := catalog.GroupedFacet(operator, f.svc, catalog.Filter{Kinds: kinds}, field, limit)
						if err != nil {
							t.Fatal(err)
						}
						if d := cmp.Diff(grouped, all[field], cmpopts.EquateEmpty()); d != "" {
							t.Errorf("facet %s of kinds %v, limit %d, %d read a kind (-grouped +answered):\n%s", field, kinds, limit, read, d)
						}
						if slices.Contains(open, field) {
							continue
						}
						settled++
						if d := cmp.Diff(grouped, first[field], cmpopts.EquateEmpty()); d != "" {
							t.Errorf("facet %s of kinds %v, limit %d, settled by %d read a kind (-grouped +settled):\n%s", field, kinds, limit, read, d)
						}
					}
				}
			}
		}
		if settled == 0 || summed == 0 {
			t.Errorf("%d facets settled by their kinds' first values and %d summed apart: want some of each", settled, summed)
		}
		// A thousand values asked of two kinds would read 4,000 of each: summed over every value
		// instead.
		catalog.SetSummedRead(f.svc, 0)
		_, open, err := catalog.SummedFacets(operator, f.svc, facetFields, []string{"Component", "API"}, catalog.MaxFacetValues)
		if err != nil {
			t.Fatal(err)
		}
		if len(open) != len(facetFields) {
			t.Errorf("%d of %d facets of a thousand values over two kinds were left to be summed, want every one", len(open), len(facetFields))
		}
	})
}

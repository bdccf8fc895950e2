package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/words"
	"github.com/portside-dev/portside/store"
)

// This file holds the SQL of catalog queries (query.go): filters, pages and counts. The
// statements PostgreSQL and SQLite each get for a text search are in store_search.go, facets in
// store_facets.go.

// pageKey is the sort key of one entity of a page, and with summaries (Query.Summaries) the
// columns of its row that a summary holds.
type pageKey struct {
	Ref       string
	Name      string
	Kind      string
	UpdatedAt time.Time

	// Read with summaries only (summaryColumns).
	Namespace   string
	Title       string
	Description string
	SpecType    string
	Lifecycle   string
	OwnerRef    string
	SystemRef   string
	Tags        string
	Source      string
	CreatedAt   time.Time
}

// keyColumns are the columns of a page's sort keys; summaryColumns are those a summary adds.
const (
	keyColumns     = "e.ref, e.name, e.kind, e.updated_at"
	summaryColumns = ", e.namespace, e.title, e.description, e.spec_type, e.lifecycle, e.owner_ref, e.system_ref, e.tags, e.source, e.created_at"
)

// summary is the entity as its row's columns show it, without decoding its body or reading its
// relations: what toEntity sets from the columns, and the metadata the columns repeat (name,
// namespace, title, description, tags). Everything else (apiVersion, spec, labels,
// annotations, links, relations) is left empty: see Query.Summaries.
func (k *pageKey) summary() *backstage.Entity {
	e := &backstage.Entity{
		Kind: k.Kind,
		Metadata: backstage.Metadata{
			Name: k.Name, Namespace: k.Namespace, Title: k.Title, Description: k.Description,
		},
		Ref:       refOrZero(k.Ref),
		Type:      k.SpecType,
		Lifecycle: k.Lifecycle,
		Owner:     refOrZero(k.OwnerRef),
		System:    refOrZero(k.SystemRef),
		Source:    k.Source,
		CreatedAt: k.CreatedAt.UTC(),
		UpdatedAt: k.UpdatedAt.UTC(),
	}
	if k.Tags != "" { // newEntityRow joins them with spaces; tags cannot contain any
		e.Metadata.Tags = strings.Split(k.Tags, " ")
	}
	return e
}

// findKeys returns the sort keys of at most limit entities matching f, in order, after the sort
// key values of a cursor (none for the first page); with summaries, each with the columns of its
// summary (pageKey.summary), read by the same statement. With count it also returns how many
// entities match f (every match, not only those after the cursor), read by that statement; -1
// when it did not count (not asked; a text search fewMatches leaves to be counted apart; an
// empty page after a cursor, which has no row to carry the count).
func (s *Service) findKeys(ctx context.Context, f Filter, o Order, after []string, limit int, summaries, count bool) ([]pageKey, int, error) {
	cols, err := orderColumns(o.Field)
	if err != nil {
		return nil, 0, err
	}
	dir := "ASC"
	if o.Descending {
		dir = "DESC"
	}
	order := make([]string, len(cols))
	for i, c := range cols {
		order[i] = c + " " + dir
	}
	sel := keyColumns
	if summaries {
		sel += summaryColumns
	}
	var rows *sql.Rows
	switch {
	case !count || !s.countsFromMatches(f):
		rows, err = s.pageStatement(ctx, f, o, cols, dir, order, after, limit, sel, count)
	case s.fewMatches(ctx, f):
		rows, err = s.matchesPage(ctx, f, o, cols, order, after, limit, sel)
	default:
		count = false // counted apart (Find's caller asks Count): see fewMatches
		rows, err = s.pageStatement(ctx, f, o, cols, dir, order, after, limit, sel, false)
	}
	if err != nil {
		return nil, 0, err
	}
	total := -1
	var totalp *int
	if count {
		totalp = &total
	}
	keys, err := scanKeys(rows, summaries, min(limit, MaxPageSize+1), totalp)
	if err != nil {
		return nil, 0, err
	}
	if count && len(keys) == 0 && len(after) == 0 {
		total = 0 // no row to carry the count: nothing matches
	}
	return keys, total, nil
}

// pageStatement runs findKeys' statement for a page of f in order o (its columns cols, direction
// dir, ORDER BY terms order) selecting sel, with the count of every match when count says so.
func (s *Service) pageStatement(ctx context.Context, f Filter, o Order, cols []string, dir string, order []string, after []string, limit int, sel string, count bool) (*sql.Rows, error) {
	var db *gorm.DB
	var err error
	if s.walksSearchIndex(f, o) {
		db, err = s.searchIndexPage(ctx, f, o, dir, after, limit)
	} else {
		from := "entities AS e"
		if index := s.denseText(ctx, f, o); index != "" {
			from = "entities AS e INDEXED BY " + index
		} else if index := s.denseField(ctx, f, o); index != "" {
			from = "entities AS e INDEXED BY " + index
		}
		db, err = s.filteredFrom(ctx, f, from)
		if err == nil {
			db, err = afterCursor(db, cols, o, after)
		}
	}
	if err != nil {
		return nil, err
	}
	if count {
		// An uncorrelated subquery: evaluated once, when the first row is produced, and in the
		// page's snapshot. The count's own statement was a round trip as costly to the server
		// as the page's (an owner's page, every cache off).
		counted, err := s.countStatement(ctx, f)
		if err != nil {
			return nil, err
		}
		db = db.Select(sel+", (?) AS total", counted)
	} else {
		db = db.Select(sel)
	}
	// The rows are scanned by hand, as loadEntities scans relations: gorm's reflective Scan of a
	// page of summaries cost more CPU than the statement.
	rows, err := db.Order(strings.Join(order, ", ")).Limit(limit).Rows()
	if err != nil {
		return nil, store.Translate(err, "entities")
	}
	return rows, nil
}

// afterCursor restricts db to the entities after a cursor's sort key values (cols, in o's
// direction); none for a first page.
func afterCursor(db *gorm.DB, cols []string, o Order, after []string) (*gorm.DB, error) {
	cond, args, err := cursorCondition(cols, o, after)
	if err != nil || cond == "" {
		return db, err
	}
	return db.Where(cond, args...), nil
}

// cursorCondition is the condition, and its arguments, that keeps what comes after a cursor's
// sort key values (cols, in o's direction); empty for a first page.
func cursorCondition(cols []string, o Order, after []string) (string, []any, error) {
	if len(after) == 0 {
		return "", nil, nil
	}
	cmp := ">"
	if o.Descending {
		cmp = "<"
	}
	args := make([]any, len(after))
	for i, v := range after {
		args[i] = v
		if strings.HasSuffix(cols[i], ".updated_at") {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return "", nil, errs.InvalidField("after", "is not a cursor of this ordering")
			}
			args[i] = t
		}
	}
	return fmt.Sprintf("(%s) %s (%s)", strings.Join(cols, ", "), cmp, placeholders(len(cols))), args, nil
}

// scanKeys reads rows of keyColumns, and with summaries of summaryColumns after them, then with
// total the count findKeys adds, and closes rows; size is how many are expected.
func scanKeys(rows *sql.Rows, summaries bool, size int, total *int) ([]pageKey, error) {
	defer rows.Close()
	keys := make([]pageKey, 0, size)
	// One row's destinations for every row, copied out after each Scan: built per row, they
	// were a slice grown twice and fourteen boxed pointers for each of a page's entities.
	var k pageKey
	dest := make([]any, 0, 15)
	dest = append(dest, &k.Ref, &k.Name, &k.Kind, &k.UpdatedAt)
	if summaries {
		dest = append(dest, &k.Namespace, &k.Title, &k.Description, &k.SpecType, &k.Lifecycle, &k.OwnerRef,
			&k.SystemRef, &k.Tags, &k.Source, &k.CreatedAt)
	}
	if total != nil {
		dest = append(dest, total)
	}
	for rows.Next() {
		k = pageKey{}
		if err := rows.Scan(dest...); err != nil {
			return nil, store.Translate(err, "entities")
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, store.Translate(err, "entities")
	}
	return keys, nil
}

// loadSummaries reads the summaries (pageKey.summary) of the entities among refs that exist.
func (s *Service) loadSummaries(ctx context.Context, refs []string) ([]pageKey, error) {
	rows, err := s.st.DB(ctx).Raw("SELECT "+keyColumns+summaryColumns+" FROM entities e WHERE e.ref IN ?", refs).Rows()
	if err != nil {
		return nil, store.Translate(err, "entities")
	}
	return scanKeys(rows, true, len(refs), nil)
}

// countMatching counts the entities matching f.
func (s *Service) countMatching(ctx context.Context, f Filter) (int, error) {
	db, err := s.countStatement(ctx, f)
	if err != nil {
		return 0, err
	}
	var n int64
	if err := db.Row().Scan(&n); err != nil {
		return 0, store.Translate(err, "entities")
	}
	return int(n), nil
}

// countStatement is the statement, not run, that counts the entities matching f: one row of one
// integer, to run alone (countMatching) or as a page's subquery (findKeys).
func (s *Service) countStatement(ctx context.Context, f Filter) (*gorm.DB, error) {
	if match, ok := words.FTS5Match(f.Text); ok && s.st.Dialect() == store.SQLite && f.onlyText() {
		// The full-text index has one row per entity (triggers keep it so): count there, without
		// reading thousands of entity rows for a short word.
		return s.st.DB(ctx).Table("entities_fts").Where("entities_fts MATCH ?", match).Select("count(*)"), nil
	}
	if f.onlyKinds() {
		return s.countByKinds(ctx, f)
	}
	if field, values, err := f.countedField(); err != nil {
		return nil, err
	} else if field != "" {
		return s.countByField(ctx, f, field, values)
	}
	if sf, ok, err := s.shapeFiltered(f); err != nil {
		return nil, err
	} else if ok {
		return s.countByShape(ctx, sf), nil
	}
	if f.oneAnnotation() {
		return s.countByAnnotation(ctx, f.Annotations[0])
	}
	if word, ok := s.prefixCounted(f); ok {
		return s.countByPrefix(ctx, word, f.Kinds)
	}
	db, err := s.filtered(ctx, f)
	if err != nil {
		return nil, err
	}
	return db.Select("count(*)"), nil
}

// countByKinds is countStatement for a filter by kinds alone (or none), from entity_counts.
func (s *Service) countByKinds(ctx context.Context, f Filter) (*gorm.DB, error) {
	if err := f.checkSizes(); err != nil {
		return nil, err
	}
	db := s.st.DB(ctx).Table("entity_counts").Where("field = 'kind'")
	if len(f.Kinds) > 0 {
		canonical, err := canonicalKinds(f.Kinds)
		if err != nil {
			return nil, err
		}
		// Literals, as countedFacets writes them: planned once per connection.
		db = db.Where("kind IN (" + sqlLiterals(canonical) + ")")
	}
	return db.Select("CAST(COALESCE(SUM(entities), 0) AS BIGINT)"), nil
}

// countByField is countStatement for a filter by one field besides kinds (countedField): the sum
// of the kept counts of its values, over the kinds asked for (entity_counts) or all of them
// (entity_totals). An owner's page at a million entities counted the owner's entities, a heap
// row each: 240 ms for an owner of 200,000.
func (s *Service) countByField(ctx context.Context, f Filter, field string, values []string) (*gorm.DB, error) {
	db := s.st.DB(ctx).Table("entity_totals").Where("field = ? AND value IN ?", field, values)
	if len(f.Kinds) > 0 {
		kinds, err := canonicalKinds(f.Kinds)
		if err != nil {
			return nil, err
		}
		db = s.st.DB(ctx).Table("entity_counts").Where("field = ? AND kind IN ? AND value IN ?", field, kinds, values)
	}
	return db.Select("CAST(COALESCE(SUM(entities), 0) AS BIGINT)"), nil
}

// countByAnnotation is countStatement for a filter by one annotation alone: its rows in
// entity_annotations, one for each entity with the key (the table's key is the entity's and the
// annotation's), read from entity_annotations_key_value without the entities. A key on 200,000
// of 241,004 entities was counted by joining them: 170 ms, now 27.
func (s *Service) countByAnnotation(ctx context.Context, a AnnotationFilter) (*gorm.DB, error) {
	if a.Key == "" {
		return nil, errs.InvalidField("annotations", "key is empty")
	}
	db := s.st.DB(ctx).Table("entity_annotations AS a").Where("a.key = ?", a.Key)
	if a.Value != nil {
		db = db.Where("substr(a.value, 1, 200) = substr(?, 1, 200) AND a.value = ?", *a.Value, *a.Value)
	}
	return db.Select("count(*)"), nil
}

// orderIndexes are SQLite's indexes of the entities in each order (orderColumns).
var orderIndexes = map[OrderField]string{
	"": "entities_name_cover", OrderByName: "entities_name_cover", OrderByKind: "entities_kind_name", OrderByUpdatedAt: "entities_updated",
}

// denseFieldShare is the share of the entities of its kinds (1 in denseFieldShare) a filter by
// one field must match for SQLite to read its pages along the order's index.
const denseFieldShare = 8

// denseField names the index a page of f in order o is read along on SQLite, or "": a filter by
// one field besides kinds (countedField) that at least one in denseFieldShare of all entities
// match, in an order no index of that field serves (all but an owner's entities by name,
// entities_owner_name). SQLite's planner, which knows a field's values by their average, reads
// every match through the field's index and sorts them all (a system of 200,000 components of
// 241,000 entities: 0.5 s a page; an owner's by update time 1.4 s), where walking the order's
// index stops after the page's rows, a few hundred rows walked when the matches are spread (as
// PostgreSQL does from its statistics of common values). The order's indexes hold every kind,
// so the share is of all entities: wherever the matches lie in the order, a walk passes at most
// every entity, denseFieldShare for each match. The counts are the kept ones, one statement.
func (s *Service) denseField(ctx context.Context, f Filter, o Order) string {
	if s.st.Dialect() != store.SQLite || (len(f.Owners) > 0 && (o.Field == "" || o.Field == OrderByName)) {
		return ""
	}
	field, values, err := f.countedField()
	if err != nil || field == "" {
		return ""
	}
	kinds := backstage.Kinds
	if len(f.Kinds) > 0 {
		if kinds, err = canonicalKinds(f.Kinds); err != nil {
			return ""
		}
	}
	var counts struct{ Matches, Entities int64 }
	err = s.st.DB(ctx).Raw(`SELECT
		(SELECT COALESCE(SUM(entities), 0) FROM entity_counts WHERE field = ? AND kind IN ? AND value IN ?) AS matches,
		(SELECT COALESCE(SUM(entities), 0) FROM entity_counts WHERE field = 'kind') AS entities`,
		field, kinds, values).Scan(&counts).Error
	if err != nil || counts.Matches == 0 || counts.Matches*denseFieldShare < counts.Entities {
		return ""
	}
	return orderIndexes[o.Field]
}

// filtered returns a query over "entities e" restricted by f.
func (s *Service) filtered(ctx context.Context, f Filter) (*gorm.DB, error) {
	return s.filteredFrom(ctx, f, "entities AS e")
}

// filteredFrom is filtered over from, "entities AS e" with an index hint (see denseText).
func (s *Service) filteredFrom(ctx context.Context, f Filter, from string) (*gorm.DB, error) {
	if err := f.checkSizes(); err != nil {
		return nil, err
	}
	db := s.st.DB(ctx).Table(from)
	if f.Text != "" {
		query, ok := words.TSQuery(f.Text)
		if !ok {
			return nil, errs.InvalidField("text", "has no letters or digits to search for")
		}
		if s.st.Dialect() == store.Postgres {
			db = db.Where("e.search @@ to_tsquery('simple', ?)", query)
		} else {
			match, _ := words.FTS5Match(f.Text)
			db = db.Where("e.id IN (SELECT rowid FROM entities_fts WHERE entities_fts MATCH ?)", match)
		}
	}
	if len(f.Kinds) > 0 {
		kinds, err := canonicalKinds(f.Kinds)
		if err != nil {
			return nil, err
		}
		db = db.Where("e.kind IN ?", kinds)
	}
	if len(f.Namespaces) > 0 {
		db = db.Where("e.namespace IN ?", lower(f.Namespaces))
	}
	if len(f.Types) > 0 {
		db = db.Where("e.spec_type IN ?", f.Types)
	}
	if len(f.Lifecycles) > 0 {
		db = db.Where("e.lifecycle IN ?", f.Lifecycles)
	}
	if len(f.Owners) > 0 {
		owners, err := parseRefs("owners", f.Owners, "group")
		if err != nil {
			return nil, err
		}
		if f.IncludeDescendants {
			below, args := s.descendants(owners)
			db = db.Where("e.owner_ref IN ("+below+")", args...)
		} else {
			db = db.Where("e.owner_ref IN ?", owners)
		}
	}
	if len(f.Systems) > 0 {
		systems, err := parseRefs("systems", f.Systems, "system")
		if err != nil {
			return nil, err
		}
		db = db.Where("e.system_ref IN ?", systems)
	}
	if len(f.Tags) > 0 {
		db = db.Where("e.id IN (SELECT entity_id FROM entity_tags WHERE tag IN ?)", lower(f.Tags))
	}
	for _, a := range f.Annotations {
		if a.Key == "" {
			return nil, errs.InvalidField("annotations", "key is empty")
		}
		if a.Value == nil {
			db = db.Where("EXISTS (SELECT 1 FROM entity_annotations a WHERE a.entity_id = e.id AND a.key = ?)", a.Key)
		} else {
			db = db.Where("EXISTS (SELECT 1 FROM entity_annotations a WHERE a.entity_id = e.id AND a.key = ? "+
				"AND substr(a.value, 1, 200) = substr(?, 1, 200) AND a.value = ?)", a.Key, *a.Value, *a.Value)
		}
	}
	if f.LocationID != 0 {
		db = db.Where("e.location_id = ?", f.LocationID)
	}
	return db, nil
}

// withDescendants returns f with its owners' descendant groups listed among its owners, when it
// asks for them (IncludeDescendants) and they are at most MaxFilterValues: a filter by owners,
// which the kept counts count (countedField) and the planner plans knowing its values. Given
// the groups as a recursive subquery, PostgreSQL guessed 201 of them, and for a group with no
// group below it walked a million entities in name order for the page of its four (3.3-4.4 s);
// listed, it reads the four from entities_owner_name (2 ms). Past the bound the subquery stays.
func (s *Service) withDescendants(ctx context.Context, f Filter) (Filter, error) {
	f, err := s.withSpellings(ctx, f)
	if err != nil || !f.IncludeDescendants || len(f.Owners) == 0 {
		return f, err
	}
	if err := f.checkSizes(); err != nil {
		return Filter{}, err
	}
	owners, err := parseRefs("owners", f.Owners, "group")
	if err != nil {
		return Filter{}, err
	}
	below, args := s.descendants(owners)
	var refs []string
	err = s.st.DB(ctx).Raw("SELECT ref FROM ("+below+") AS d LIMIT ?", append(args, MaxFilterValues+1)...).Scan(&refs).Error
	if err != nil {
		return Filter{}, store.Translate(err, "groups")
	}
	if len(refs) > MaxFilterValues {
		return f, nil
	}
	slices.Sort(refs)
	f.Owners, f.IncludeDescendants = refs, false
	return f, nil
}

// maxSpellings bounds the kept values a filter's type or lifecycle is compared with: a catalog
// with more distinct types than that is no catalog people wrote by hand, and its filters match
// values as written.
const maxSpellings = 10_000

// withSpellings widens f's types and lifecycles to every value the catalog keeps that differs
// from one asked for in case only ("Service" beside "service"): Backstage matches filter values
// whatever their case (EntityFilterQuery), as Portside matches kinds, namespaces, owners, systems
// and tags, which are kept in lower case; types and lifecycles are kept as written. The values
// come from the kept counts (entity_counts: a row per value and kind, tens in a real catalog), in
// one statement for both fields.
func (s *Service) withSpellings(ctx context.Context, f Filter) (Filter, error) {
	if len(f.Types) == 0 && len(f.Lifecycles) == 0 {
		return f, nil
	}
	if err := f.checkSizes(); err != nil {
		return Filter{}, err
	}
	var kept []struct{ Field, Value string }
	err := s.st.DB(ctx).Raw("SELECT DISTINCT field, value FROM entity_counts WHERE field IN ('type', 'lifecycle') AND entities > 0 LIMIT ?",
		maxSpellings+1).Scan(&kept).Error
	if err != nil {
		return Filter{}, store.Translate(err, "types and lifecycles")
	}
	if len(kept) > maxSpellings {
		return f, nil
	}
	f.Types, f.Lifecycles = spellings(f.Types, "type", kept), spellings(f.Lifecycles, "lifecycle", kept)
	return f, nil
}

// spellings is values with every kept value of field equal to one of them but for case.
func spellings(values []string, field string, kept []struct{ Field, Value string }) []string {
	out := slices.Clone(values)
	for _, v := range values {
		for _, k := range kept {
			if k.Field == field && k.Value != v && strings.EqualFold(k.Value, v) && !slices.Contains(out, k.Value) {
				out = append(out, k.Value)
			}
		}
	}
	if len(out) == len(values) || len(out) > MaxFilterValues {
		return values // nothing to add, or more than a filter holds: as written
	}
	slices.Sort(out)
	return out
}

// descendants is the statement, with its arguments, selecting the refs of groups and every group
// below them (groups must not be empty). A group's children are the groups it lists in
// spec.children (its parentOf relations) and the groups that name it in spec.parent (their
// childOf relations), so each step of the recursion follows both.
func (s *Service) descendants(groups []string) (string, []any) {
	seeds := strings.TrimSuffix(strings.Repeat("SELECT ? UNION ", len(groups)), " UNION ")
	args := make([]any, len(groups))
	for i, g := range groups {
		args[i] = g
	}
	const children = "SELECT r.target_ref FROM entities g JOIN relations r ON r.entity_id = g.id WHERE g.ref = tree.ref AND r.type = 'parentOf'"
	const claimed = "SELECT g.ref FROM relations r JOIN entities g ON g.id = r.entity_id WHERE r.target_ref = tree.ref AND r.type = 'childOf'"
	if s.st.Dialect() == store.Postgres {
		// PostgreSQL allows one recursive reference: both steps go in one LATERAL subquery. The
		// seeds take the "C" collation of the columns, or the recursion is refused.
		seeds = strings.ReplaceAll(seeds, "SELECT ?", `SELECT CAST(? AS TEXT) COLLATE "C"`)
		return "WITH RECURSIVE tree(ref) AS (" + seeds + " UNION SELECT step.ref FROM tree, LATERAL (" +
			children + " UNION ALL " + claimed + ") AS step(ref)) SELECT ref FROM tree", args
	}
	return "WITH RECURSIVE tree(ref) AS (" + seeds + " UNION " + strings.Replace(children, "WHERE", ", tree WHERE", 1) +
		" UNION " + strings.Replace(claimed, "WHERE", ", tree WHERE", 1) + ") SELECT ref FROM tree", args
}

// canonicalKinds spells kinds as entities store them, or says which is unknown.
func canonicalKinds(in []string) ([]string, error) {
	kinds := make([]string, len(in))
	for i, k := range in {
		if kinds[i] = backstage.CanonicalKind(k); kinds[i] == "" {
			return nil, errs.InvalidField("kinds", "unknown kind %q; known kinds are %s", k, strings.Join(backstage.Kinds, ", "))
		}
	}
	return kinds, nil
}

func orderColumns(f OrderField) ([]string, error) {
	switch f {
	case "", OrderByName:
		return []string{"e.name", "e.ref"}, nil
	case OrderByKind:
		return []string{"e.kind", "e.name", "e.ref"}, nil
	case OrderByUpdatedAt:
		return []string{"e.updated_at", "e.ref"}, nil
	}
	return nil, errs.InvalidField("orderBy", "unknown field %q", f)
}

// sqlLiteral quotes s as an SQL string literal (both dialects double a quote inside one). Only for
// values the code chose (field names, canonical kinds); a request's values go as parameters.
func sqlLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

func sqlLiterals(list []string) string {
	quoted := make([]string, len(list))
	for i, s := range list {
		quoted[i] = sqlLiteral(s)
	}
	return strings.Join(quoted, ", ")
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

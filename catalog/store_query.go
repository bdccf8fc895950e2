package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/store"
)

// This file holds the SQL of catalog queries (query.go): filters, pages, counts and facets.

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
		if s.denseText(ctx, f, o) {
			from = "entities AS e INDEXED BY entities_name_cover"
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

// countsFromMatches says whether findKeys reads a counted page of f from its matches gathered
// once (matchesPage): on PostgreSQL, a text search that the kept prefix counts do not count (a
// word with other filters than kinds, several words, a word over 32 characters). Its count visits
// every match; the page must not then be the name-index walk with the count beside it: the
// statements are prepared, and once one has run five times PostgreSQL plans it for any word
// with a guessed number of matches when that plan is estimated no dearer than the plans for each
// word were; a count that makes every plan dear let the guessed plan win (a word in 27,000 of a
// million entities: 380 ms where the page alone took 14). matchesPage's plan is the same for
// every word by construction. Gathering costs as many matches as there are: fewMatches bounds
// them first.
func (s *Service) countsFromMatches(f Filter) bool {
	if s.st.Dialect() != store.Postgres || len(searchWords(f.Text)) == 0 { // no words: filtered says so
		return false
	}
	_, counted := s.prefixCounted(f)
	return !counted
}

// gatheredMatchesMax is the most matches a counted text search on PostgreSQL gathers for its
// page (matchesPage), as the kept prefix counts bound them (fewMatches).
const gatheredMatchesMax = 100_000

// fewMatches says whether a text search f (countsFromMatches) may match at most s.gatherMax
// entities, as the kept prefix counts bound them: every word's matches are among the entities
// (of f's kinds) with a word starting with its first countedPrefixRunes characters, so the
// fewest such entities of any of its words bound them. Past the bound, gathering every match
// for the page costs more than counting them (they are kept in a tuplestore and sorted: `a` in
// the default namespace, 537,094 matches, 0.7 → 1.1 s), and the walk along the name index finds
// the page's few among so many soon: such a search's page walks it and is counted apart, as
// before matchesPage. One statement reads entity_prefix_counts by primary key (a row per kind
// of each word's prefix); an error is logged and taken as many matches.
func (s *Service) fewMatches(ctx context.Context, f Filter) bool {
	if f.checkSizes() != nil {
		return false // filtered reports it, before any statement
	}
	words := searchWords(f.Text)
	prefixes := make([]string, 0, len(words))
	for _, w := range words {
		if r := []rune(w); len(r) > countedPrefixRunes {
			w = string(r[:countedPrefixRunes])
		}
		if !slices.Contains(prefixes, w) {
			prefixes = append(prefixes, w)
		}
	}
	db := s.st.DB(ctx).Table("entity_prefix_counts").Where("prefix IN ?", prefixes)
	if len(f.Kinds) > 0 {
		kinds, err := canonicalKinds(f.Kinds)
		if err != nil {
			return false // filtered reports it
		}
		db = db.Where("kind IN ?", kinds)
	}
	var counts []struct {
		Prefix   string
		Entities int64
	}
	if err := db.Select("prefix, SUM(entities) AS entities").Group("prefix").Scan(&counts).Error; err != nil {
		if ctx.Err() == nil { // a request given up is not worth a warning; its page fails next
			s.log.WarnContext(ctx, "catalog: read the prefix counts of a text search", "error", err)
		}
		return false
	}
	if len(counts) < len(prefixes) {
		return true // a word no entity has: nothing matches
	}
	fewest := counts[0].Entities
	for _, c := range counts[1:] {
		fewest = min(fewest, c.Entities)
	}
	return fewest <= int64(s.gatherMax)
}

// matchesPage runs the statement of a counted page of f (countsFromMatches) in order o (its
// columns cols and ORDER BY terms order) selecting sel: every match is found once, through the
// indexes of its conditions (the search's GIN index, a lifecycle's B-tree, bitmaps ANDed), into
// m, which gives both the count and the page, sorted from m. Counting visits each match anyway
// (PostgreSQL fetches a row to count it); walking the name index for the page instead, as the
// planner would, expects matches spread through the names, and a word whose matches with the
// other condition lie late in them walked most of the catalog: at a million entities `tax` in
// production walked 930,355 entities to its 51st (3.0-3.2 s) where its 12,234 matches are counted
// in 160 ms. MATERIALIZED keeps m one scan for both uses.
func (s *Service) matchesPage(ctx context.Context, f Filter, o Order, cols, order []string, after []string, limit int, sel string) (*sql.Rows, error) {
	matches, err := s.filtered(ctx, f)
	if err != nil {
		return nil, err
	}
	matches = matches.Select("e.id, " + strings.Join(cols, ", ")) // what the page sorts by: m is kept in memory, or on disk past work_mem
	mcols := make([]string, len(cols))
	morder := make([]string, len(order))
	for i := range cols {
		mcols[i] = "m." + strings.TrimPrefix(cols[i], "e.")
		morder[i] = "m." + strings.TrimPrefix(order[i], "e.")
	}
	cond, args, err := cursorCondition(mcols, o, after)
	if err != nil {
		return nil, err
	}
	if cond != "" {
		cond = " WHERE " + cond
	}
	query := "WITH m AS MATERIALIZED (?) SELECT " + sel + ", (SELECT count(*) FROM m) AS total FROM entities AS e" +
		" WHERE e.id IN (SELECT m.id FROM m" + cond + " ORDER BY " + strings.Join(morder, ", ") + " LIMIT ?)" +
		" ORDER BY " + strings.Join(order, ", ") + " LIMIT ?"
	vars := append(append([]any{matches}, args...), limit, limit)
	rows, err := s.st.DB(ctx).Raw(query, vars...).Rows()
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

// coveredSearchBytes is the longest search text (in bytes) whose entity entities_name_search
// holds (PostgreSQL, migration 00026, whose predicate must say the same number): a B-tree entry
// is bounded, and so must its tsvector be.
const coveredSearchBytes = 512

// walksSearchIndex says whether findKeys reads a page of f in order o through
// entities_name_search: a text search ordered by name, on PostgreSQL.
func (s *Service) walksSearchIndex(f Filter, o Order) bool {
	return s.st.Dialect() == store.Postgres && f.Text != "" && (o.Field == "" || o.Field == OrderByName)
}

// searchIndexPage is the query findKeys selects a page of a text search ordered by name (in
// direction dir, ASC or DESC) from (walksSearchIndex): the entities whose ids the page's keys,
// read apart, name.
//
// The keys are read from entities_name_search, which holds the name, ref, id, kind and
// search column of every entity with at most coveredSearchBytes of search text: walking it in
// name order and keeping the matches reads no heap row (an index-only scan) where walking
// entities_name fetched every entity walked (a common word whose matches are sparse in the
// first names: 236,000 entities walked, 0.7 s then, 55 ms now; the median word 17 → 4 ms).
// The page's other columns are then read for the page's entities only. The entities with more
// text, a few if any, are found through entities_search_long and merged in by name, so the page
// is the same whatever the texts' lengths. The bound is a literal, as the index's predicate is:
// PostgreSQL uses a partial index only where the statement's own condition implies it.
func (s *Service) searchIndexPage(ctx context.Context, f Filter, o Order, dir string, after []string, limit int) (*gorm.DB, error) {
	bound := strconv.Itoa(coveredSearchBytes)
	keys := func(length string) (*gorm.DB, error) {
		db, err := s.filtered(ctx, f)
		if err != nil {
			return nil, err
		}
		if db, err = afterCursor(db, []string{"e.name", "e.ref"}, o, after); err != nil {
			return nil, err
		}
		return db.Where("octet_length(e.search_text) " + length).Select("e.id, e.name, e.ref").
			Order("e.name " + dir + ", e.ref " + dir).Limit(limit), nil
	}
	covered, err := keys("<= " + bound)
	if err != nil {
		return nil, err
	}
	long, err := keys("> " + bound)
	if err != nil {
		return nil, err
	}
	return s.st.DB(ctx).Table("entities AS e").Where("e.id IN (SELECT k.id FROM ((?) UNION ALL (?)) AS k ORDER BY k.name "+
		dir+", k.ref "+dir+" LIMIT ?)", covered, long, limit), nil
}

// prefixCounted returns the one word of a text search that entity_prefix_counts counts the
// matches of (migration 00025, PostgreSQL): a word of up to countedPrefixRunes characters, alone
// in the text, the filter's other restriction if any being by kinds.
func (s *Service) prefixCounted(f Filter) (string, bool) {
	if s.st.Dialect() != store.Postgres || f.Text == "" {
		return "", false
	}
	byKinds := f
	byKinds.Text = ""
	if !byKinds.onlyKinds() {
		return "", false
	}
	words := searchWords(f.Text)
	if len(words) != 1 || utf8.RuneCountInString(words[0]) > countedPrefixRunes { // 32 characters: far from indexedWordBytes
		return "", false
	}
	return words[0], true
}

// countByPrefix is countStatement for a text search of one word (prefixCounted), from
// entity_prefix_counts: the entities of the kinds, or of every kind, with a word starting with word.
func (s *Service) countByPrefix(ctx context.Context, word string, kinds []string) (*gorm.DB, error) {
	db := s.st.DB(ctx).Table("entity_prefix_counts").Where("prefix = ?", word)
	if len(kinds) > 0 {
		canonical, err := canonicalKinds(kinds)
		if err != nil {
			return nil, err
		}
		db = db.Where("kind IN ?", canonical)
	}
	return db.Select("CAST(COALESCE(SUM(entities), 0) AS BIGINT)"), nil
}

// scanKeys reads rows of keyColumns, and with summaries of summaryColumns after them, then with
// total the count findKeys adds, and closes rows; size is how many are expected.
func scanKeys(rows *sql.Rows, summaries bool, size int, total *int) ([]pageKey, error) {
	defer rows.Close()
	keys := make([]pageKey, 0, size)
	for rows.Next() {
		var k pageKey
		dest := []any{&k.Ref, &k.Name, &k.Kind, &k.UpdatedAt}
		if summaries {
			dest = append(dest, &k.Namespace, &k.Title, &k.Description, &k.SpecType, &k.Lifecycle, &k.OwnerRef,
				&k.SystemRef, &k.Tags, &k.Source, &k.CreatedAt)
		}
		if total != nil {
			dest = append(dest, total)
		}
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

// denseTextMatches is how many entities a SQLite text search must match for its pages ordered by
// name to be read along the name index (entities_name_cover).
const denseTextMatches = 1000

// denseText says whether a page of f in order o is read along the name index: on SQLite, a text
// search ordered by name that matches at least denseTextMatches entities. SQLite's planner reads
// every matched entity's row and sorts them all (9,000 rows for a one-letter search of a 17,000
// entity catalog: 60–90 ms); walking the covering name index and keeping the entities the search
// matched stops after the page's rows (2 ms), while for a rare word (a few hundred matches) the
// planner's way is the cheaper and stays. The matches are counted from the full-text index, up
// to the threshold only.
func (s *Service) denseText(ctx context.Context, f Filter, o Order) bool {
	if s.st.Dialect() != store.SQLite || f.Text == "" || (o.Field != "" && o.Field != OrderByName) {
		return false
	}
	match, ok := ftsMatch(f.Text)
	if !ok {
		return false
	}
	var n int64
	err := s.st.DB(ctx).Raw("SELECT count(*) FROM (SELECT rowid FROM entities_fts WHERE entities_fts MATCH ? LIMIT ?)", match, denseTextMatches).Scan(&n).Error
	return err == nil && n >= denseTextMatches
}

// ftsMatch is the SQLite full-text query of a search text: every word as a prefix, all of them.
func ftsMatch(text string) (string, bool) {
	words := searchWords(text)
	if len(words) == 0 {
		return "", false
	}
	terms := make([]string, len(words))
	for i, w := range words {
		terms[i] = `"` + w + `"*`
	}
	return strings.Join(terms, " "), true
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
	if match, ok := ftsMatch(f.Text); ok && s.st.Dialect() == store.SQLite && f.onlyText() {
		// The full-text index has one row per entity (triggers keep it so): count there, without
		// reading thousands of entity rows for a short word.
		return s.st.DB(ctx).Table("entities_fts").Where("entities_fts MATCH ?", match).Select("count(*)"), nil
	}
	if f.onlyKinds() {
		return s.countByKinds(ctx, f)
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

// groupedFacets is facets for any filter but kinds alone: the matching entities grouped by each
// of fields, every field in one statement over the matches, which are found once (the CTE m)
// rather than once per field: an owner's four facets cost four index scans of the owner's
// entities and four round trips before, each planned anew. Each field is ordered and bounded as
// facetQuery does (count descending, then value; empty values skipped), and a field without
// values answers an empty list.
func (s *Service) groupedFacets(ctx context.Context, f Filter, fields []FacetField, limit int) (map[FacetField][]FacetValue, error) {
	base, err := s.filtered(ctx, f)
	if err != nil {
		return nil, err
	}
	pg := s.st.Dialect() == store.Postgres
	var u facetUnion
	for _, field := range fields {
		col, ok := groupedColumns[field]
		if !ok {
			return nil, errs.InvalidField("fields", "unknown facet %q", field)
		}
		from, where := "m", col+" <> ''"
		if field == FacetTag {
			from = "m JOIN entity_tags t ON t.entity_id = m.id"
			if pg {
				// The matches' tags from their own row (the tags column, split; a tag listed
				// twice counted at its first place, as entity_tags holds it once), not by joining
				// entity_tags: the join was planned as a hash of all of entity_tags (2 million
				// rows at a million entities) for an owner's 179 entities unless the statement
				// ran in a transaction of its own with a lower random_page_cost, four round trips
				// for one statement.
				from = "m CROSS JOIN LATERAL unnest(m.tag_list) WITH ORDINALITY AS t(tag, i)"
				where = "array_position(m.tag_list, t.tag) = t.i AND " + where
			}
		}
		u.add(field, func(n string) (string, []any) {
			return "SELECT " + n + " AS n, " + col + " AS value, COUNT(*) AS count FROM " + from +
				" WHERE " + where + " GROUP BY " + col + " ORDER BY count DESC, value LIMIT ?", []any{limit}
		})
	}
	if len(u.asked) == 0 {
		return map[FacetField][]FacetValue{}, nil
	}
	// MATERIALIZED: the matches are read once, whatever the planner would otherwise inline
	// into each branch.
	columns := "e.id, e.kind, e.spec_type, e.lifecycle, e.owner_ref, e.namespace, e.system_ref"
	if pg && slices.Contains(u.asked, FacetTag) {
		columns += ", string_to_array(e.tags, ' ') AS tag_list"
	}
	return u.read(s.st.DB(ctx), "WITH m AS MATERIALIZED (?) ", base.Select(columns))
}

// facetUnion gathers the subqueries of a facets statement, one per distinct field asked, each
// answering (n, value, count) for the field at position n in its own order, and reads them all
// in one statement (groupedFacets, countedFacets).
type facetUnion struct {
	asked []FacetField
	parts []string
	args  []any
}

// add queues field's subquery, which part writes given the field's position; a field asked
// again is skipped.
func (u *facetUnion) add(field FacetField, part func(n string) (string, []any)) {
	if slices.Contains(u.asked, field) {
		return
	}
	n := strconv.Itoa(len(u.asked))
	u.asked = append(u.asked, field)
	q, args := part(n)
	u.parts = append(u.parts, "SELECT * FROM ("+q+") AS f"+n)
	u.args = append(u.args, args...)
}

// read runs the queued subqueries as one statement, after prefix and its arguments, and returns
// each field's values as its subquery orders them (count descending, then value); a field
// without values answers an empty list, as facetQuery's does.
func (u *facetUnion) read(db *gorm.DB, prefix string, prefixArgs ...any) (map[FacetField][]FacetValue, error) {
	query := prefix + strings.Join(u.parts, " UNION ALL ") + " ORDER BY 1, 3 DESC, 2"
	// Scanned by hand, as pages are: gorm's reflective Scan of the 175 rows of the catalog's seven
	// facets was a quarter of the server's CPU for the request, more than the statement.
	rows, err := db.Raw(query, append(prefixArgs, u.args...)...).Rows()
	if err != nil {
		return nil, store.Translate(err, "facets")
	}
	defer rows.Close()
	out := make(map[FacetField][]FacetValue, len(u.asked))
	for _, field := range u.asked {
		out[field] = []FacetValue{}
	}
	for rows.Next() {
		var n int
		var v FacetValue
		if err := rows.Scan(&n, &v.Value, &v.Count); err != nil {
			return nil, store.Translate(err, "facets")
		}
		if n < 0 || n >= len(u.asked) {
			return nil, errs.E(errs.Internal, "facets: the statement answered field %d of %d", n, len(u.asked))
		}
		out[u.asked[n]] = append(out[u.asked[n]], v)
	}
	if err := rows.Err(); err != nil {
		return nil, store.Translate(err, "facets")
	}
	return out, nil
}

// groupedColumns are the columns groupedFacets groups each field by, in its CTE m (the tag of
// entity_tags t joined to it).
var groupedColumns = map[FacetField]string{
	FacetKind: "m.kind", FacetType: "m.spec_type", FacetLifecycle: "m.lifecycle", FacetOwner: "m.owner_ref",
	FacetNamespace: "m.namespace", FacetSystem: "m.system_ref", FacetTag: "t.tag",
}

// countedFields name the facet fields in entity_counts and entity_totals.
var countedFields = map[FacetField]string{
	FacetKind: "kind", FacetType: "type", FacetLifecycle: "lifecycle", FacetOwner: "owner",
	FacetNamespace: "namespace", FacetSystem: "system", FacetTag: "tag",
}

// countedFacets is facets for a filter by kinds alone (or none), read from the counts the
// database keeps as entities are written, every field in one statement: where grouping the
// entities themselves took seconds at a million. Each field is ordered and bounded as facetQuery
// does (count descending, then value; zero counts skipped). Over the whole catalog a field's top
// values are read in index order from the totals over every kind (entity_totals, migration
// 00021; on SQLite a view summing the counts), over one kind in index order from that kind's
// counts (entity_counts, 00019, indexed by 00021 on PostgreSQL); over several kinds their counts
// are summed by value and sorted.
func (s *Service) countedFacets(ctx context.Context, f Filter, fields []FacetField, limit int) (map[FacetField][]FacetValue, error) {
	if err := f.checkSizes(); err != nil {
		return nil, err
	}
	var kinds []string
	if len(f.Kinds) > 0 {
		canonical, err := canonicalKinds(f.Kinds)
		if err != nil {
			return nil, err
		}
		slices.Sort(canonical)
		kinds = slices.Compact(canonical)
	}
	var u facetUnion
	for _, field := range fields {
		name, ok := countedFields[field]
		if !ok {
			return nil, errs.InvalidField("fields", "unknown facet %q", field)
		}
		// Written with literals, not parameters: nothing here comes from the request but a
		// field of a fixed list, a canonical kind and a number, and PostgreSQL plans a statement
		// without parameters once per connection, where with them it planned the seven branches
		// anew at every execution (0.3 ms, four times the execution).
		named, limit := sqlLiteral(name), strconv.Itoa(limit)
		u.add(field, func(n string) (string, []any) {
			switch len(kinds) {
			case 0:
				return "SELECT " + n + " AS n, value, entities AS count FROM entity_totals " +
					"WHERE field = " + named + " AND entities > 0 ORDER BY entities DESC, value LIMIT " + limit, nil
			case 1:
				return "SELECT " + n + " AS n, value, entities AS count FROM entity_counts " +
					"WHERE field = " + named + " AND kind = " + sqlLiteral(kinds[0]) + " AND entities > 0 ORDER BY entities DESC, value LIMIT " + limit, nil
			default:
				return "SELECT " + n + " AS n, value, CAST(SUM(entities) AS BIGINT) AS count FROM entity_counts " +
					"WHERE field = " + named + " AND kind IN (" + sqlLiterals(kinds) + ") AND entities > 0 GROUP BY value ORDER BY count DESC, value LIMIT " + limit, nil
			}
		})
	}
	if len(u.asked) == 0 {
		return map[FacetField][]FacetValue{}, nil
	}
	return u.read(s.st.DB(ctx), "")
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

// facetQuery is facetValues' statement.
func (s *Service) facetQuery(ctx context.Context, f Filter, field FacetField, limit int) ([]FacetValue, error) {
	db, err := s.filtered(ctx, f)
	if err != nil {
		return nil, err
	}
	var col string
	switch field {
	case FacetKind:
		col = "e.kind"
	case FacetType:
		col = "e.spec_type"
	case FacetLifecycle:
		col = "e.lifecycle"
	case FacetOwner:
		col = "e.owner_ref"
	case FacetNamespace:
		col = "e.namespace"
	case FacetSystem:
		col = "e.system_ref"
	case FacetTag:
		db = db.Joins("JOIN entity_tags t ON t.entity_id = e.id")
		col = "t.tag"
	default:
		return nil, errs.InvalidField("fields", "unknown facet %q", field)
	}
	var rows []FacetValue
	err = db.Select(col + " AS value, COUNT(*) AS count").Where(col + " <> ''").
		Group(col).Order("count DESC, value ASC").Limit(limit).Scan(&rows).Error
	if err != nil {
		return nil, store.Translate(err, "facets")
	}
	return rows, nil
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
		words := searchWords(f.Text)
		if len(words) == 0 {
			return nil, errs.InvalidField("text", "has no letters or digits to search for")
		}
		if s.st.Dialect() == store.Postgres {
			terms := make([]string, len(words))
			for i, w := range words {
				terms[i] = w + ":*"
			}
			db = db.Where("e.search @@ to_tsquery('simple', ?)", strings.Join(terms, " & "))
		} else {
			match, _ := ftsMatch(f.Text)
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
			seeds := strings.TrimSuffix(strings.Repeat("SELECT ? UNION ", len(owners)), " UNION ")
			args := make([]any, len(owners))
			for i, o := range owners {
				args[i] = o
			}
			db = db.Where("e.owner_ref IN ("+s.descendantsSQL(seeds)+")", args...)
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

// descendantsSQL selects the refs of the seed groups and every group below them. A group's children
// are the groups it lists in spec.children (its parentOf relations) and the groups that name it in
// spec.parent (their childOf relations), so each step of the recursion follows both.
func (s *Service) descendantsSQL(seeds string) string {
	const children = "SELECT r.target_ref FROM entities g JOIN relations r ON r.entity_id = g.id WHERE g.ref = tree.ref AND r.type = 'parentOf'"
	const claimed = "SELECT g.ref FROM relations r JOIN entities g ON g.id = r.entity_id WHERE r.target_ref = tree.ref AND r.type = 'childOf'"
	if s.st.Dialect() == store.Postgres {
		// PostgreSQL allows one recursive reference: both steps go in one LATERAL subquery. The
		// seeds take the "C" collation of the columns, or the recursion is refused.
		seeds = strings.ReplaceAll(seeds, "SELECT ?", `SELECT CAST(? AS TEXT) COLLATE "C"`)
		return "WITH RECURSIVE tree(ref) AS (" + seeds + " UNION SELECT step.ref FROM tree, LATERAL (" +
			children + " UNION ALL " + claimed + ") AS step(ref)) SELECT ref FROM tree"
	}
	return "WITH RECURSIVE tree(ref) AS (" + seeds + " UNION " + strings.Replace(children, "WHERE", ", tree WHERE", 1) +
		" UNION " + strings.Replace(claimed, "WHERE", ", tree WHERE", 1) + ") SELECT ref FROM tree"
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

package catalog

import (
	"context"
	"database/sql"
	"slices"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/portside-dev/portside/internal/words"
	"github.com/portside-dev/portside/store"
)

// This file holds the statements of text searches (query.go) where the two databases differ:
// which index a search's page walks, how its matches are counted, and what decides between them.
// The filters themselves are in store_query.go.

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
// (of f's kinds) with a word starting with its counted prefix (countedPrefix), so the
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
	queried := searchWords(f.Text)
	prefixes := make([]string, 0, len(queried))
	for _, w := range queried {
		w, _ = countedPrefix(w)
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
// matches of (migrations 00025 and 00035, PostgreSQL): a word counted whole (countedPrefix: up
// to countedPrefixRunes characters, a number of up to countedDigits), alone in the text, the
// filter's other restriction if any being by kinds.
func (s *Service) prefixCounted(f Filter) (string, bool) {
	if s.st.Dialect() != store.Postgres || f.Text == "" {
		return "", false
	}
	byKinds := f
	byKinds.Text = ""
	if !byKinds.onlyKinds() {
		return "", false
	}
	queried := searchWords(f.Text)
	if len(queried) != 1 {
		return "", false
	}
	if _, whole := countedPrefix(queried[0]); !whole { // 32 characters are far from indexedWordBytes
		return "", false
	}
	return queried[0], true
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

// denseTextMatches is how many entities a SQLite text search must match for its pages to be read
// along the order's index (denseText).
const denseTextMatches = 1000

// denseText names the index a page of f in order o is read along, or "": on SQLite, a text
// search that matches at least denseTextMatches entities (s.denseMin), restricted by nothing else
// but kinds or one field at least an eighth of the entities have (denseField: a lifecycle, a type,
// a common tag). SQLite's planner reads every matched entity's row and sorts them all (9,000 rows
// for a one-letter search of a 17,000 entity catalog: 60–90 ms; `a` by update time at 100,000,
// 150 ms); walking the order's index and keeping the entities both match stops after the page's
// rows (2 ms), while for a rare word (a few hundred matches) the planner's way is the cheaper and
// stays. A rare other condition (an owner's entities) is the planner's to use too: walking the
// name index past every entity for the few an owner has, reading each row to compare its owner,
// took 330 ms at 100,000. The matches are counted from the full-text index, up to the threshold
// only, and the field's from the kept counts, after it.
func (s *Service) denseText(ctx context.Context, f Filter, o Order) string {
	if s.st.Dialect() != store.SQLite || f.Text == "" {
		return ""
	}
	index, ok := orderIndexes[o.Field]
	rest := f
	rest.Text = ""
	alone := rest
	if o.Field == "" || o.Field == OrderByName || o.Field == OrderByKind {
		alone.Kinds = nil // the index holds the kind
	}
	if !ok {
		return ""
	}
	if !alone.onlyText() {
		if field, _, err := rest.countedField(); err != nil || field == "" {
			return ""
		}
	}
	match, ok := words.FTS5Match(f.Text)
	if !ok {
		return ""
	}
	var n int64
	err := s.st.DB(ctx).Raw("SELECT count(*) FROM (SELECT rowid FROM entities_fts WHERE entities_fts MATCH ? LIMIT ?)", match, s.denseMin).Scan(&n).Error
	if err != nil || n < int64(s.denseMin) {
		return ""
	}
	if !alone.onlyText() && s.denseField(ctx, rest, o) == "" {
		return ""
	}
	return index
}

package catalog

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/store"
)

// This file holds the SQL of facets (query.go): counted from the kept counts where a filter
// allows (kinds alone), from the kept counts less the entities a filter by one field does not
// match where it matches most of them, grouped from the matching entities otherwise. Facets of
// filters by shape are summed from entity_shape_counts (store_shapes.go).

// groupedFacets is facets for any filter but kinds alone: the matching entities grouped by each
// of fields, every field in one statement over the matches, which are found once (the CTE m)
// rather than once per field: an owner's four facets cost four index scans of the owner's
// entities and four round trips before, each planned anew. Each field is ordered and bounded as
// facetQuery does (count descending, then value; empty values skipped), and a field without
// values answers an empty list.
func (s *Service) groupedFacets(ctx context.Context, f Filter, fields []FacetField, limit int) (map[FacetField][]FacetValue, error) {
	pg := s.st.Dialect() == store.Postgres
	from := "entities AS e"
	if !pg && foundByID(f) {
		// The matches' columns from the index that holds them by id (SQLite, migration 00030):
		// the planner read each match's row, which holds its whole document, by primary key
		// (tag java at 100,000 entities: 55-99 ms; 30 ms from the index).
		from = "entities AS e INDEXED BY entities_facet_rows"
	}
	base, err := s.filteredFrom(ctx, f, from)
	if err != nil {
		return nil, err
	}
	u, err := groupedUnion(fields, limit, pg, "m")
	if err != nil {
		return nil, err
	}
	if len(u.asked) == 0 {
		return map[FacetField][]FacetValue{}, nil
	}
	// MATERIALIZED: the matches are read once, whatever the planner would otherwise inline
	// into each branch.
	return u.read(s.st.DB(ctx), "WITH m AS MATERIALIZED (?) ", base.Select(groupedSelection(u.asked, pg)))
}

// foundByID says whether f's matches are found by id (a text search's, a tag's) and restricted
// by nothing an index of its own finds better (an owner, a system, a location, an annotation).
func foundByID(f Filter) bool {
	return (f.Text != "" || len(f.Tags) > 0) && len(f.Owners) == 0 && len(f.Systems) == 0 && f.LocationID == 0 && len(f.Annotations) == 0
}

// groupedUnion is the subqueries of groupedFacets, over the CTE named m.
func groupedUnion(fields []FacetField, limit int, pg bool, m string) (facetUnion, error) {
	var u facetUnion
	for _, field := range fields {
		col, from, where, err := groupedSource(field, pg, m)
		if err != nil {
			return facetUnion{}, err
		}
		u.add(field, func(n string) (string, []any) {
			return "SELECT " + n + " AS n, " + col + " AS value, COUNT(*) AS count FROM " + from +
				" WHERE " + where + " GROUP BY " + col + " ORDER BY count DESC, value LIMIT ?", []any{limit}
		})
	}
	return u, nil
}

// groupedSource says what a facet of field groups (col) from the entities of the CTE m (from),
// and which of them it keeps (where): its column, empty values skipped; a tag from entity_tags
// joined to m.
func groupedSource(field FacetField, pg bool, m string) (col, from, where string, err error) {
	column, ok := groupedColumns[field]
	if !ok {
		return "", "", "", errs.InvalidField("fields", "unknown facet %q", field)
	}
	col = m + "." + column
	if field == FacetTag {
		col = "t.tag"
	}
	from, where = m, col+" <> ''"
	if field == FacetTag {
		from = m + " JOIN entity_tags t ON t.entity_id = " + m + ".id"
		if pg {
			// The entities' tags from their own row (the tags column, split; a tag listed
			// twice counted at its first place, as entity_tags holds it once), not by joining
			// entity_tags: the join was planned as a hash of all of entity_tags (2 million
			// rows at a million entities) for an owner's 179 entities unless the statement
			// ran in a transaction of its own with a lower random_page_cost, four round trips
			// for one statement.
			from = m + " CROSS JOIN LATERAL unnest(" + m + ".tag_list) WITH ORDINALITY AS t(tag, i)"
			where = "array_position(" + m + ".tag_list, t.tag) = t.i AND " + where
		}
	}
	return col, from, where, nil
}

// groupedSelection is what a CTE of entities holds for facets of fields (groupedSource): the id
// and the columns grouped, no more. Every column more is bytes more per entity, kept in memory
// or written to disk past work_mem: a group's 221,002 entities wrote 40 MB.
func groupedSelection(fields []FacetField, pg bool) string {
	columns := []string{"e.id"}
	for _, field := range fields {
		if field == FacetTag {
			if pg {
				columns = append(columns, "string_to_array(e.tags, ' ') AS tag_list")
			}
			continue
		}
		columns = append(columns, "e."+groupedColumns[field])
	}
	return strings.Join(columns, ", ")
}

// fieldFacets is facets of a filter f by one field besides kinds (countedField: the field and its
// values): grouped from its matches (groupedFacets) or, where it matches more than half of its
// kinds' entities as the kept counts say, from the kept counts less the rest (restFacets). The
// kept counts are read first, in a statement of their own. One statement holding both ways,
// each gated by the counts' answer (a one-time filter, the way not taken never executed), was
// tried on PostgreSQL: its estimated cost, the way not taken included, passed jit_above_cost at a
// million entities, and compiling it took 50 ms for an owner's facets of 3.
func (s *Service) fieldFacets(ctx context.Context, f Filter, field string, values []string, fields []FacetField, limit int) (map[FacetField][]FacetValue, error) {
	most, err := s.mostMatched(ctx, f, field, values)
	if err != nil {
		return nil, err
	}
	if most {
		return s.restFacets(ctx, f, field, values, fields, limit)
	}
	return s.groupedFacets(ctx, f, fields, limit)
}

// mostMatched says whether the filter of one field besides kinds f (countedField, the field and
// its values) matches more than half the entities of its kinds, as the kept counts say: one
// statement of two sums (countByField, countByKinds).
func (s *Service) mostMatched(ctx context.Context, f Filter, field string, values []string) (bool, error) {
	matching, err := s.countByField(ctx, f, field, values)
	if err != nil {
		return false, err
	}
	all, err := s.countByKinds(ctx, Filter{Kinds: f.Kinds})
	if err != nil {
		return false, err
	}
	var n struct{ Matching, All int64 }
	if err := s.st.DB(ctx).Raw("SELECT (?) AS matching, (?) AS \"all\"", matching, all).Scan(&n).Error; err != nil {
		return false, store.Translate(err, "entity_counts")
	}
	return n.Matching*2 > n.All, nil
}

// restFacets is facets for a filter f of one field besides kinds (countedField: the field and its
// values) that matches most entities of its kinds (mostMatched): each value's kept count over
// those kinds (entity_counts, entity_totals) less its count among the rest, the entities of
// those kinds the filter does not match, which are grouped as groupedFacets groups matches. A
// group owning 221,002 of 241,004 entities had its four facets grouped from every one of them
// (0.9-1.3 s); the rest are 20,002. The kept counts and the rest are read in one statement, one
// snapshot: the counts are written in the transactions that write the entities.
func (s *Service) restFacets(ctx context.Context, f Filter, field string, values []string, fields []FacetField, limit int) (map[FacetField][]FacetValue, error) {
	kinds, err := distinctKinds(f.Kinds)
	if err != nil {
		return nil, err
	}
	pg := s.st.Dialect() == store.Postgres
	u, err := restUnion(fields, kinds, limit, pg, "r")
	if err != nil {
		return nil, err
	}
	if len(u.asked) == 0 {
		return map[FacetField][]FacetValue{}, nil
	}
	rest, err := s.restOf(ctx, kinds, field, values, groupedSelection(u.asked, pg))
	if err != nil {
		return nil, err
	}
	return u.read(s.st.DB(ctx), "WITH r AS MATERIALIZED (?) ", rest)
}

// restRangesMax is the most ranges restOf reads as a statement each on PostgreSQL; past it (a
// filter by many values) one statement reads them all.
const restRangesMax = 9

// rangedRest are the fields whose rest restOf reads a range per statement on PostgreSQL: those
// whose index holds every column facets read (entities_lifecycle_cover, entities_type_cover,
// migration 00029). An owner's or a system's index does not, and one statement of ORed ranges
// reads the rows it needs once.
var rangedRest = map[string]bool{"lifecycle": true, "type": true}

// restOf is the query of the entities of kinds (canonical, sorted, each once; none: every kind)
// that a filter by one field besides kinds (countedField: the field and its values) does not
// match, selecting sel. On PostgreSQL the rest of a lifecycle or type (rangedRest) is read a
// range between the values (unmatchedRanges) per statement, their rows joined by UNION ALL (the
// ranges do not overlap): a condition of ORed ranges was read through a bitmap of the rows, from
// the table, or through the whole of an index, where one range alone stays in the part of the
// index that holds it: the owners and systems of the 495,372 entities outside lifecycle
// production at a million, 1.6-1.9 s from the rows, 0.3 s from the index.
func (s *Service) restOf(ctx context.Context, kinds []string, field string, values []string, sel string) (*gorm.DB, error) {
	if rangedRest[field] && s.st.Dialect() == store.Postgres {
		if conds, args := unmatchedRanges(field, values); len(conds) > 0 && len(conds) <= restRangesMax {
			parts := make([]string, len(conds))
			vars := make([]any, len(conds))
			for i, cond := range conds {
				q, err := s.filtered(ctx, Filter{Kinds: kinds})
				if err != nil {
					return nil, err
				}
				parts[i], vars[i] = "(?)", q.Where(cond, args[i]...).Select(sel)
			}
			return s.st.DB(ctx).Raw(strings.Join(parts, " UNION ALL "), vars...), nil
		}
	}
	rest, err := s.filtered(ctx, Filter{Kinds: kinds})
	if err != nil {
		return nil, err
	}
	unmatched, args := unmatchedCondition(field, values)
	if unmatched == "" {
		return nil, errs.E(errs.Internal, "facets: no condition for the entities a filter by %s does not match", field)
	}
	return rest.Where(unmatched, args...).Select(sel), nil
}

// restUnion is the subqueries of restFacets, over the CTE named r of the rest.
func restUnion(fields []FacetField, kinds []string, limit int, pg bool, r string) (facetUnion, error) {
	var u facetUnion
	for _, asked := range fields {
		col, from, where, err := groupedSource(asked, pg, r)
		if err != nil {
			return facetUnion{}, err
		}
		kept := keptValues(sqlLiteral(countedFields[asked]), kinds)
		u.add(asked, func(n string) (string, []any) {
			return "SELECT " + n + " AS n, k.value AS value, k.count - COALESCE(g.count, 0) AS count FROM (" + kept + ") AS k" +
				" LEFT JOIN (SELECT " + col + " AS value, COUNT(*) AS count FROM " + from + " WHERE " + where + " GROUP BY " + col + ") AS g" +
				" ON g.value = k.value WHERE k.count > COALESCE(g.count, 0) AND k.value <> '' ORDER BY 3 DESC, 2 LIMIT ?", []any{limit}
		})
	}
	return u, nil
}

// keptValues is the statement of the kept counts of a field (named as a literal) over kinds (all
// of them when none): each value and its count.
func keptValues(named string, kinds []string) string {
	switch len(kinds) {
	case 0:
		return "SELECT value, entities AS count FROM entity_totals WHERE field = " + named
	case 1:
		return "SELECT value, entities AS count FROM entity_counts WHERE field = " + named + " AND kind = " + sqlLiteral(kinds[0])
	default:
		return "SELECT value, " + summedEntities + " AS count FROM entity_counts WHERE field = " + named +
			" AND kind IN (" + sqlLiterals(kinds) + ") GROUP BY value"
	}
}

// unmatchedColumns are the entity columns of the fields countedField names, but tags.
var unmatchedColumns = map[string]string{
	"namespace": "e.namespace", "type": "e.spec_type", "lifecycle": "e.lifecycle", "owner": "e.owner_ref", "system": "e.system_ref",
}

// unmatchedCondition is the condition on "entities e" of the entities a filter by one field
// (countedField: its name and values, a tag's one value) does not match. A column outside its
// values is written as the ranges between them, not NOT IN: ranges walk the column's index for
// the few entities outside an owner's, where NOT IN reads every entity. Values compare as
// bytes in both databases (the columns' collation), as Go sorts them.
func unmatchedCondition(field string, values []string) (string, []any) {
	if field == "tag" {
		// NOT EXISTS, an anti join: NOT IN is planned as a hashed subplan only while the tag's
		// entities fit in work_mem, and past that checked against the whole list for each entity
		// (900,000 tagged of a million: not done in 20 s).
		return "NOT EXISTS (SELECT 1 FROM entity_tags nt WHERE nt.entity_id = e.id AND nt.tag = ?)", []any{values[0]}
	}
	ranges, rangeArgs := unmatchedRanges(field, values)
	if len(ranges) == 0 {
		return "", nil
	}
	var args []any
	for i := range ranges {
		ranges[i] = "(" + ranges[i] + ")"
		args = append(args, rangeArgs[i]...)
	}
	return "(" + strings.Join(ranges, " OR ") + ")", args
}

// unmatchedRanges are the conditions on "entities e" of the ranges of a column outside the
// values of a filter by it (a field of unmatchedColumns), with the arguments of each: below the
// first value, between each two, above the last. None for another field or no values.
func unmatchedRanges(field string, values []string) ([]string, [][]any) {
	col, ok := unmatchedColumns[field]
	if !ok || len(values) == 0 {
		return nil, nil
	}
	sorted := slices.Clone(values)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	ranges := []string{col + " < ?"}
	args := [][]any{{sorted[0]}}
	for i := 1; i < len(sorted); i++ {
		ranges = append(ranges, col+" > ? AND "+col+" < ?")
		args = append(args, []any{sorted[i-1], sorted[i]})
	}
	ranges = append(ranges, col+" > ?")
	args = append(args, []any{sorted[len(sorted)-1]})
	return ranges, args
}

// summedEntities sums the entities column of kept counts grouped by value for a facet, as
// integers: PostgreSQL sums a bigint as numeric, and summing the 55,762 rows of the systems of two
// types at a million entities took 35 ms so, 24 ms as integers. A row counts at most the
// catalog's entities, far below 2^31, and the sum of integers is a bigint in both databases.
const summedEntities = "SUM(CAST(entities AS INTEGER))"

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

// groupedColumns are the entity columns groupedFacets groups each field by (a tag is read from
// the entity's tags or entity_tags: groupedSource).
var groupedColumns = map[FacetField]string{
	FacetKind: "kind", FacetType: "spec_type", FacetLifecycle: "lifecycle", FacetOwner: "owner_ref",
	FacetNamespace: "namespace", FacetSystem: "system_ref", FacetTag: "tags",
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
// counts (entity_counts, 00019, indexed by 00021 on PostgreSQL); over several kinds from the
// first values of each kind in count order where they settle the sums' first values
// (summedFacets, PostgreSQL), otherwise their counts are summed by value and sorted.
func (s *Service) countedFacets(ctx context.Context, f Filter, fields []FacetField, limit int) (map[FacetField][]FacetValue, error) {
	if err := f.checkSizes(); err != nil {
		return nil, err
	}
	kinds, err := distinctKinds(f.Kinds)
	if err != nil {
		return nil, err
	}
	var settled map[FacetField][]FacetValue
	if len(kinds) > 1 && s.st.Dialect() == store.Postgres {
		if settled, fields, err = s.summedFacets(ctx, fields, kinds, limit); err != nil || len(fields) == 0 {
			return settled, err
		}
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
				return "SELECT " + n + " AS n, value, " + summedEntities + " AS count FROM entity_counts " +
					"WHERE field = " + named + " AND kind IN (" + sqlLiterals(kinds) + ") AND entities > 0 GROUP BY value ORDER BY count DESC, value LIMIT " + limit, nil
			}
		})
	}
	if len(u.asked) == 0 {
		return map[FacetField][]FacetValue{}, nil
	}
	out, err := u.read(s.st.DB(ctx), "")
	if err != nil {
		return nil, err
	}
	for field, values := range settled {
		out[field] = values
	}
	return out, nil
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

// distinctKinds is canonicalKinds sorted, each once; none for none.
func distinctKinds(in []string) ([]string, error) {
	if len(in) == 0 {
		return nil, nil
	}
	kinds, err := canonicalKinds(in)
	if err != nil {
		return nil, err
	}
	slices.Sort(kinds)
	return slices.Compact(kinds), nil
}

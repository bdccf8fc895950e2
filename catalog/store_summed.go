package catalog

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/store"
)

// This file holds the facets of a filter by several kinds on PostgreSQL: each field's first
// values by the sum of their counts over the kinds. Summing every value's counts read all of
// them: at a million entities the owners of Components and APIs (13,162 and 12,616 rows) and
// their systems (29,675 each) took 53-90 ms for the seven facets. Each kind's counts are kept in
// count order too (entity_counts_top, migration 00021), and the first values of a sum are found
// from the first values of its terms, as the threshold algorithm (Fagin, Lotem and Naor, 2001)
// finds them: read each kind's first values in count order, sum the counts of every value read
// over all the kinds, and the values beyond those read cannot rank above the last one kept when
// the sum of each kind's last count read is below its sum (or equal to it, with a name that sorts
// after it, as only a name after each kind's last one read can be unread). Where that does not
// hold, the field is summed over every value as before: the answer is the same either way.

// summedReadFactor is how many of each kind's first values are read per value asked (at least
// summedReadMin): the more read, the likelier the first values are settled by them, and the more
// rows every such request reads. Owners at a million entities are settled by a few dozen.
const (
	summedReadFactor = 4
	summedReadMin    = 100
)

// summedReadMax bounds the rows of a field read over all the kinds (each looked up once per kind
// after): past it (a thousand values asked of two kinds, a hundred of eleven) the field is summed
// over every value, which then costs no more.
const summedReadMax = 4096

// summedFacets returns the facets of fields over kinds (two or more) that their kinds' first
// values settle, and the fields they do not (summed apart by the caller, in a statement of its
// own).
func (s *Service) summedFacets(ctx context.Context, fields []FacetField, kinds []string, limit int) (map[FacetField][]FacetValue, []FacetField, error) {
	names := make([]string, 0, len(fields))
	for _, field := range fields {
		name, ok := countedFields[field]
		if !ok {
			return nil, nil, errs.InvalidField("fields", "unknown facet %q", field)
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	read := max(summedReadMin, summedReadFactor*limit)
	if s.summedRead > 0 {
		read = s.summedRead
	}
	if read*len(kinds) > summedReadMax {
		return map[FacetField][]FacetValue{}, fields, nil
	}
	// One statement, so one snapshot: the kinds' first values of every field (h), then each
	// value read's sum over the kinds (its kind empty, which no kind is), a lookup by key per
	// value and kind (a subquery each: joined, the values were hashed against every count of the
	// field, 13-40 ms at a million).
	var rows []summedRow
	err := s.st.DB(ctx).Raw(`WITH h AS MATERIALIZED (SELECT f.field, k.kind, c.value, c.entities
		FROM unnest($1::text[]) AS f(field) CROSS JOIN unnest($2::text[]) AS k(kind)
		CROSS JOIN LATERAL (SELECT value, entities FROM entity_counts WHERE field = f.field AND kind = k.kind AND entities > 0
			ORDER BY entities DESC, value LIMIT $3) AS c)
	SELECT field, kind, value, entities FROM h
	UNION ALL
	SELECT v.field, '', v.value, (SELECT CAST(COALESCE(SUM(e.entities), 0) AS BIGINT) FROM entity_counts e
		WHERE e.field = v.field AND e.kind = ANY($2::text[]) AND e.value = v.value)
	FROM (SELECT DISTINCT field, value FROM h) AS v`, names, kinds, read).Scan(&rows).Error
	if err != nil {
		return nil, nil, store.Translate(err, "facets")
	}
	byField := map[string]*summedField{}
	for _, r := range rows {
		sf := byField[r.Field]
		if sf == nil {
			sf = &summedField{heads: map[string][]summedRow{}, sums: map[string]int64{}}
			byField[r.Field] = sf
		}
		if r.Kind == "" {
			sf.sums[r.Value] = r.Entities
		} else {
			sf.heads[r.Kind] = append(sf.heads[r.Kind], r)
		}
	}
	out := make(map[FacetField][]FacetValue, len(fields))
	var unsettled []FacetField
	for _, field := range fields {
		sf := byField[countedFields[field]]
		if sf == nil { // no kind has a value of the field
			out[field] = []FacetValue{}
			continue
		}
		values, settled := sf.first(kinds, read, limit)
		if !settled {
			unsettled = append(unsettled, field)
			continue
		}
		out[field] = values
	}
	return out, unsettled, nil
}

// summedRow is a row of summedFacets' statements: a kind's count of a value of a field, or a
// value's sum over the kinds (Kind empty).
type summedRow struct {
	Field, Kind, Value string
	Entities           int64
}

// summedField is what summedFacets read of one field: each kind's first values in count order
// (heads) and the sum over every kind of each value read (sums).
type summedField struct {
	heads map[string][]summedRow
	sums  map[string]int64
}

// first returns the field's first limit values by sum (count descending, then value, zero sums
// skipped) and whether the values read settle them: a value no kind's first read rows hold has,
// in each kind whose rows were not all read, at most the count of the last row read (and a name
// after that row's, if as much), and none in the others.
func (sf *summedField) first(kinds []string, read, limit int) ([]FacetValue, bool) {
	values := make([]FacetValue, 0, len(sf.sums))
	for v, n := range sf.sums {
		if n > 0 {
			values = append(values, FacetValue{Value: v, Count: int(n)})
		}
	}
	slices.SortFunc(values, func(a, b FacetValue) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Value, b.Value))
	})
	var bound int // the most an unread value can sum to
	var after string
	unread := false
	for _, kind := range kinds {
		rows := sf.heads[kind]
		if len(rows) < read {
			continue // every value of this kind was read
		}
		// The last in count order (the statement's rows are not ordered across its joins).
		last := slices.MaxFunc(rows, func(a, b summedRow) int {
			return cmp.Or(cmp.Compare(b.Entities, a.Entities), strings.Compare(a.Value, b.Value))
		})
		bound, after, unread = bound+int(last.Entities), max(after, last.Value), true
	}
	if len(values) > limit {
		values = values[:limit]
	}
	if !unread {
		return values, true
	}
	if len(values) < limit {
		return nil, false
	}
	last := values[limit-1]
	return values, last.Count > bound || (last.Count == bound && last.Value <= after)
}

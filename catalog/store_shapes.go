package catalog

import (
	"context"
	"slices"
	"strings"

	"gorm.io/gorm"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/store"
)

// This file holds the reads of entity_shape_counts (migration 00028 on PostgreSQL, 00031 on
// SQLite): the entities of each kind, namespace, type and lifecycle, and how many of them list
// each tag, kept as they are written (store_counts.go on PostgreSQL, row triggers on SQLite). A
// filter by those fields and one tag is counted, and its facets of those fields and tags
// answered, by summing a few of its rows, whatever the number of matches: services in
// production, 84,182 of 241,004 entities on PostgreSQL, were counted in 0.1-0.25 s and their
// facets grouped in 0.5 s, from every match's row; on SQLite at 100,000 entities their seven
// facets took 181-227 ms, the pure-Go driver grouping about 30 ms a field.

// shapeColumns are the columns of entity_shape_counts each field of a shape is kept in.
var shapeColumns = map[FacetField]string{
	FacetKind: "kind", FacetNamespace: "namespace", FacetType: "spec_type", FacetLifecycle: "lifecycle",
}

// shapeFilter is a filter entity_shape_counts counts: the conditions on its rows' shape columns
// (conds, with args) and the tag they are read at ("" for the shape's own count, which counts
// each entity once).
type shapeFilter struct {
	conds []string
	args  []any
	tag   string
	// kinds are the canonical kinds of the filter (none: every kind), and byShape says whether
	// it restricts a namespace, type or lifecycle too: entity_tag_counts keeps a tag's owners,
	// systems and tags by kind alone.
	kinds   []string
	byShape bool
	// types and lifecycles are the filter's, and byNamespace says whether it restricts
	// namespaces: entity_shape_refs keeps owners and systems by type, lifecycle and kind, and
	// entity_shape_ref_rollups by type or lifecycle and kind.
	types, lifecycles []string
	byNamespace       bool
}

// rows is the condition, with its arguments, on the rows of sf's shapes that tagged selects.
func (sf shapeFilter) rows(tagged string, tagArgs ...any) (string, []any) {
	return strings.Join(append([]string{tagged}, sf.conds...), " AND "), append(tagArgs, sf.args...)
}

// shapeFiltered returns the shape filter of f, or false: a filter by kinds, namespaces, types,
// lifecycles and at most one tag (listed once or more, in any case), nothing else. An empty namespace, type or lifecycle is kept like any other (the entities without
// one); an empty tag is no tag, and matches nothing: not a shape filter.
func (s *Service) shapeFiltered(f Filter) (shapeFilter, bool, error) {
	if err := f.checkSizes(); err != nil {
		return shapeFilter{}, false, err
	}
	if f.Text != "" || len(f.Owners) > 0 || len(f.Systems) > 0 ||
		len(f.Annotations) > 0 || f.LocationID != 0 {
		return shapeFilter{}, false, nil
	}
	var sf shapeFilter
	if len(f.Tags) > 0 {
		tags := lower(f.Tags)
		if tags[0] == "" || slices.ContainsFunc(tags, func(t string) bool { return t != tags[0] }) {
			return shapeFilter{}, false, nil
		}
		sf.tag = tags[0]
	}
	for _, c := range []struct {
		col    string
		values []string
	}{{"namespace", lower(f.Namespaces)}, {"spec_type", f.Types}, {"lifecycle", f.Lifecycles}} {
		if len(c.values) > 0 {
			sf.conds, sf.args = append(sf.conds, c.col+" IN ?"), append(sf.args, c.values)
			sf.byShape = true
		}
	}
	sf.types, sf.lifecycles, sf.byNamespace = f.Types, f.Lifecycles, len(f.Namespaces) > 0
	if len(f.Kinds) > 0 {
		kinds, err := distinctKinds(f.Kinds)
		if err != nil {
			return shapeFilter{}, false, err
		}
		sf.conds, sf.args = append(sf.conds, "kind IN ?"), append(sf.args, kinds)
		sf.kinds = kinds
	}
	return sf, true, nil
}

// countByShape is countStatement for a shape filter: the sum of its rows.
func (s *Service) countByShape(ctx context.Context, sf shapeFilter) *gorm.DB {
	where, args := sf.rows("tag = ?", sf.tag)
	return s.st.DB(ctx).Table("entity_shape_counts").Where(where, args...).Select("CAST(COALESCE(SUM(entities), 0) AS BIGINT)")
}

// shapeKept says whether entity_shape_counts keeps the facet field of the matches of sf: kind,
// namespace, type, lifecycle, and tag unless sf has one (which tags an entity lists beside
// another is not kept).
func (sf shapeFilter) shapeKept(field FacetField) bool {
	_, ok := shapeColumns[field]
	return ok || (field == FacetTag && sf.tag == "")
}

// tagKept says whether entity_tag_counts keeps the facet field of the matches of sf: an owner, a
// system or a tag of a filter by a tag and kinds alone (migration 00032).
func (sf shapeFilter) tagKept(field FacetField) bool {
	return sf.tag != "" && !sf.byShape && (field == FacetOwner || field == FacetSystem || field == FacetTag)
}

// refKept says whether entity_shape_refs or its rollups keep the facet field of the matches of
// sf: an owner or a system of a filter by types or lifecycles or both, and by kinds or not,
// without a tag or namespaces (migrations 00033, 00034).
func (sf shapeFilter) refKept(field FacetField) bool {
	return sf.tag == "" && (len(sf.types) > 0 || len(sf.lifecycles) > 0) && !sf.byNamespace && (field == FacetOwner || field == FacetSystem)
}

// kept says whether the kept counts answer the facet field of the matches of sf: by shape, by tag
// or by shape and ref.
func (sf shapeFilter) kept(field FacetField) bool {
	return sf.shapeKept(field) || sf.tagKept(field) || sf.refKept(field)
}

// tagFacetFields name the facet fields in entity_tag_counts.
var tagFacetFields = map[FacetField]string{FacetOwner: "owner", FacetSystem: "system", FacetTag: "tag"}

// shapeFacets is facets of a shape filter sf for fields the kept counts answer (kept): each
// field's values are the sums of its rows of entity_shape_counts or, for a tag's owners, systems
// and tags, of entity_tag_counts, or, for the owners and systems of types or lifecycles, of
// entity_shape_refs or its rollups, ordered and bounded as facetQuery does (count descending, then
// value; empty values and zero counts skipped), every field in one statement.
func (s *Service) shapeFacets(ctx context.Context, sf shapeFilter, fields []FacetField, limit int) (map[FacetField][]FacetValue, error) {
	pg := s.st.Dialect() == store.Postgres
	var u facetUnion
	for _, field := range fields {
		if !sf.kept(field) {
			return nil, errs.E(errs.Internal, "facets: field %s is not kept by shape or tag", field)
		}
		if sf.tagKept(field) {
			u.add(field, func(n string) (string, []any) { return tagFacet(n, sf, field, limit) })
			continue
		}
		if sf.refKept(field) {
			u.add(field, func(n string) (string, []any) { return refFacet(n, sf, field, limit, pg) })
			continue
		}
		col := shapeColumns[field]
		where, args := sf.rows("tag = ?", sf.tag)
		if field == FacetTag {
			// The rows of each tag within the filter's shapes, not the shapes' own (no tag).
			col = "tag"
			where, args = sf.rows("tag <> ''")
		}
		u.add(field, func(n string) (string, []any) {
			return "SELECT " + n + " AS n, " + col + " AS value, " + summedEntities + " AS count FROM entity_shape_counts WHERE " + where +
				" AND " + col + " <> '' GROUP BY " + col + " HAVING " + summedEntities + " > 0 ORDER BY 3 DESC, 2 LIMIT ?", append(args, limit)
		})
	}
	if len(u.asked) == 0 {
		return map[FacetField][]FacetValue{}, nil
	}
	return u.read(s.st.DB(ctx), "")
}

// tagFacet is the subquery of shapeFacets for a field of the matches of sf kept by tag (tagKept),
// at position n. Over every kind or one, the field's counts are the rows of its kind (the empty
// kind for every kind) in entity_tag_counts, one per value, read in key order and sorted by
// count: `java`'s 29,667 systems at a million entities in 10 ms, where summing them over kinds
// took 28 ms. Over several kinds their rows are summed by value.
func tagFacet(n string, sf shapeFilter, field FacetField, limit int) (string, []any) {
	args := []any{sf.tag, tagFacetFields[field]}
	if len(sf.kinds) > 1 {
		return "SELECT " + n + " AS n, value, " + summedEntities + " AS count FROM entity_tag_counts WHERE tag = ? AND field = ? AND kind IN ?" +
			" GROUP BY value HAVING " + summedEntities + " > 0 ORDER BY 3 DESC, 2 LIMIT ?", append(args, sf.kinds, limit)
	}
	kind := ""
	if len(sf.kinds) == 1 {
		kind = sf.kinds[0]
	}
	return "SELECT " + n + " AS n, value, entities AS count FROM entity_tag_counts WHERE tag = ? AND field = ? AND kind = ?" +
		" AND entities > 0 ORDER BY entities DESC, value LIMIT ?", append(args, kind, limit)
}

// refFacet is the subquery of shapeFacets for a field of the matches of sf kept by type or
// lifecycle (refKept), at position n. A filter by both reads entity_shape_refs; by types alone
// or lifecycles alone, their rollups over every lifecycle or every type
// (entity_shape_ref_rollups): summed from entity_shape_refs, services' 36,122 owner and 77,936
// system rows over their lifecycles at a million entities took 80-92 ms. Of one value of each and
// one kind or every kind, the field's counts are the rows of one key prefix, one per value,
// sorted by count: services in production's 29,675 systems, summed over kinds and namespaces,
// took 38-44 ms. Of several values or kinds, their rows are summed by value.
func refFacet(n string, sf shapeFilter, field FacetField, limit int, pg bool) (string, []any) {
	table := "entity_shape_refs"
	type cond struct {
		column string
		values []string
	}
	var conds []cond
	switch {
	case !pg:
		// SQLite's rollups are a view summing entity_shape_refs (its migration 00034): summed
		// here directly, by the columns the filter has, which SQLite plans better than the view
		// (at 100,000 entities the facets of type service took 13 ms, through the view 22).
		if len(sf.types) > 0 {
			conds = append(conds, cond{"spec_type", sf.types})
		}
		if len(sf.lifecycles) > 0 {
			conds = append(conds, cond{"lifecycle", sf.lifecycles})
		}
	case len(sf.lifecycles) == 0:
		table, conds = "entity_shape_ref_rollups", []cond{{"axis", []string{"type"}}, {"axis_value", sf.types}}
	case len(sf.types) == 0:
		table, conds = "entity_shape_ref_rollups", []cond{{"axis", []string{"lifecycle"}}, {"axis_value", sf.lifecycles}}
	default:
		conds = []cond{{"spec_type", sf.types}, {"lifecycle", sf.lifecycles}}
	}
	kind := ""
	if len(sf.kinds) == 1 {
		kind = sf.kinds[0]
	}
	where, args := "field = ?", []any{tagFacetFields[field]}
	// One key prefix's rows, one per value, where the table keeps them by every condition (on
	// SQLite, both a type and a lifecycle) and one kind or every kind.
	single := len(sf.kinds) <= 1 && len(conds) == 2
	for _, c := range conds {
		single = single && len(c.values) == 1
	}
	if single {
		for _, c := range conds {
			where, args = where+" AND "+c.column+" = ?", append(args, c.values[0])
		}
		return "SELECT " + n + " AS n, value, entities AS count FROM " + table + " WHERE " + where + " AND kind = ?" +
			" AND entities > 0 ORDER BY entities DESC, value LIMIT ?", append(args, kind, limit)
	}
	for _, c := range conds {
		where, args = where+" AND "+c.column+" IN ?", append(args, c.values)
	}
	if len(sf.kinds) > 1 {
		where, args = where+" AND kind IN ?", append(args, sf.kinds)
	} else {
		where, args = where+" AND kind = ?", append(args, kind)
	}
	return "SELECT " + n + " AS n, value, " + summedEntities + " AS count FROM " + table + " WHERE " + where +
		" GROUP BY value HAVING " + summedEntities + " > 0 ORDER BY 3 DESC, 2 LIMIT ?", append(args, limit)
}

package catalog

import (
	"context"

	"github.com/portside-dev/portside/catalog/backstage"
)

// CollectStream exposes collectStream to the external tests.
func CollectStream(ctx context.Context, snap Snapshot, maxErrors int, emit func([]*backstage.Entity, []string) error) (*Collected, error) {
	return collectStream(ctx, snap, maxErrors, false, 0, emit)
}

// CollectStreamMidFile is CollectStream handing a large file's documents over while it is parsed.
func CollectStreamMidFile(ctx context.Context, snap Snapshot, maxErrors int, emit func([]*backstage.Entity, []string) error) (*Collected, error) {
	return collectStream(ctx, snap, maxErrors, true, 0, emit)
}

// StreamDocs is how many documents of a large file collection takes at a time while parsing it.
const StreamDocs = streamDocs

// GroupedFacet is a facet counted by grouping the matching entities, as every filter but kinds
// alone is: what the kept counts must agree with.
func GroupedFacet(ctx context.Context, s *Service, f Filter, field FacetField, limit int) ([]FacetValue, error) {
	return s.facetQuery(ctx, f, field, limit)
}

// GroupedCount is countMatching by counting the matching entities.
func GroupedCount(ctx context.Context, s *Service, f Filter) (int, error) {
	db, err := s.filtered(ctx, f)
	if err != nil {
		return 0, err
	}
	var n int64
	err = db.Count(&n).Error
	return int(n), err
}

// EntityRowFor builds an entity's row as an insert does (search text, joined tags), for the
// collection benchmark.
func EntityRowFor(e *backstage.Entity, body string) any { return newEntityRow(e, body) }

// CoveredSearchBytes is the longest search text entities_name_search holds (PostgreSQL).
const CoveredSearchBytes = coveredSearchBytes

// SetGatheredMatchesMax sets the most matches a counted text search gathers for its page on
// PostgreSQL (gatheredMatchesMax); past it, the page walks the name index and is counted apart.
func SetGatheredMatchesMax(s *Service, n int) { s.gatherMax = n }

// SetSummedRead sets how many of each kind's first values the facets of several kinds read.
func SetSummedRead(s *Service, n int) { s.summedRead = n }

// SummedFacets is the facets of fields over kinds that their kinds' first values settle, and the
// fields they do not (PostgreSQL).
func SummedFacets(ctx context.Context, s *Service, fields []FacetField, kinds []string, limit int) (map[FacetField][]FacetValue, []FacetField, error) {
	kinds, err := distinctKinds(kinds)
	if err != nil {
		return nil, nil, err
	}
	return s.summedFacets(ctx, fields, kinds, limit)
}

// SetDenseTextMatches sets how many matches a text search on SQLite must have for its page to
// walk the order's index (denseTextMatches).
func SetDenseTextMatches(s *Service, n int) { s.denseMin = n }

// DenseText exposes denseText: the index a text search's page walks on SQLite.
func DenseText(ctx context.Context, s *Service, f Filter, o Order) string {
	return s.denseText(ctx, f, o)
}

// DenseField exposes denseField: the index a page walks on SQLite, chosen from the kept counts.
func DenseField(ctx context.Context, s *Service, f Filter, o Order) string {
	return s.denseField(ctx, f, o)
}

// MostMatched says whether facets of f are counted from the kept counts less the entities f does
// not match (restFacets): a filter by one field besides kinds matching most of their entities.
func MostMatched(ctx context.Context, s *Service, f Filter) bool {
	field, values, err := f.countedField()
	if err != nil || field == "" {
		return false
	}
	most, err := s.mostMatched(ctx, f, field, values)
	return err == nil && most
}

// HoldApplyLock is the statement that takes the catalog's apply lock in a transaction.
const HoldApplyLock = "SELECT pg_advisory_xact_lock(" + applyLockKey + ")"

// TagKept says whether the facets of field of f are read from entity_tag_counts.
func TagKept(s *Service, f Filter, field FacetField) bool {
	sf, ok, err := s.shapeFiltered(f)
	return err == nil && ok && sf.tagKept(field)
}

// RefKept says whether the facets of field of f are read from entity_shape_refs or its rollups.
func RefKept(s *Service, f Filter, field FacetField) bool {
	sf, ok, err := s.shapeFiltered(f)
	return err == nil && ok && sf.refKept(field)
}

// ShapeCounted says whether f is counted from entity_shape_counts.
func ShapeCounted(s *Service, f Filter) bool {
	_, ok, err := s.shapeFiltered(f)
	return err == nil && ok
}

// AddPrefixCountsSQL is the statement an apply adds its prefix counts' differences with
// (release 00035's too), for tests that write as such an apply does.
const AddPrefixCountsSQL = addPrefixCountsSQL

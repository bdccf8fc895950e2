package graph

// FragmentHits counts the entities the fragment cache answered, for tests.
func FragmentHits(r *Resolver) int64 {
	if c := r.fragments(); c != nil {
		return c.hits.Load()
	}
	return 0
}

// RenderFacetsWithGqlgen makes facets render through gqlgen's generated code (on) or facets.go's
// one-pass writer (off, the default), for tests that compare the two.
func RenderFacetsWithGqlgen(on bool) { gqlgenFacets.Store(on) }

// RenderEntitiesWithGqlgen turns plain.go's rendering of plain entities off (on: gqlgen renders them).
func RenderEntitiesWithGqlgen(on bool) { gqlgenEntities.Store(on) }

// PlainEntitiesRendered counts the entities plain.go has rendered.
func PlainEntitiesRendered() int64 { return plainRendered.Load() }

// ReadPagesWhole makes every page of entities and every related entity read whole (on) or, the
// default, as summaries where the selection allows (off), for tests that compare the two.
func ReadPagesWhole(on bool) { wholePages.Store(on) }

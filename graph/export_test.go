package graph

import "slices"

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

// RenderEntitiesWithGqlgen makes entities and relations render through gqlgen's generated code
// (on) or plain.go's one-pass writer where their selection allows (off, the default).
func RenderEntitiesWithGqlgen(on bool) { gqlgenEntities.Store(on) }

// OnPlainRendered has f told of each entity ("entity") and relation ("relation") plain.go
// renders; nil stops it.
func OnPlainRendered(f func(what string)) {
	if f == nil {
		plainRendered.Store(nil)
		return
	}
	plainRendered.Store(&f)
}

// OnFieldsCounted has f told how many fields each operation's budget counted; nil stops it.
func OnFieldsCounted(f func(n int64)) {
	if f == nil {
		fieldsCounted.Store(nil)
		return
	}
	fieldsCounted.Store(&f)
}

// PlainFields lists, by GraphQL type, the entity fields plain.go renders itself.
func PlainFields() map[string][]string {
	out := map[string][]string{}
	for _, t := range plainTypes {
		for f := range t.fields {
			out[t.name] = append(out[t.name], f)
		}
		slices.Sort(out[t.name])
	}
	return out
}

// ReadPagesWhole makes every page of entities and every related entity read whole (on) or, the
// default, as summaries where the selection allows (off), for tests that compare the two.
func ReadPagesWhole(on bool) { wholePages.Store(on) }

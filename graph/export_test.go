package graph

// FragmentHits counts the entities the fragment cache answered, for tests.
func FragmentHits(r *Resolver) int64 {
	if c := r.fragments(); c != nil {
		return c.hits.Load()
	}
	return 0
}

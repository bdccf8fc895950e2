package graph

import (
	"context"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/portside-dev/portside/internal/sizedlru"
)

// The byte budgets of the caches in front of the executor. A parsed document weighs about
// astBytesPerByte times its text (measured on the load test's queries: 15 to 25 times).
const (
	queryCacheBytes    = 32 << 20
	apqCacheBytes      = 8 << 20
	responseCacheBytes = 64 << 20
	astBytesPerByte    = 25
	cacheEntryOverhead = 256 // map slot, list element, entry header
)

// documentCache is gqlgen's parsed-document cache, bounded by bytes.
type documentCache struct {
	lru *sizedlru.Cache[string, *ast.QueryDocument]
}

func (c documentCache) Get(_ context.Context, query string) (*ast.QueryDocument, bool) {
	return c.lru.Get(query)
}

func (c documentCache) Add(_ context.Context, query string, doc *ast.QueryDocument) {
	c.lru.Add(query, doc, len(query)*(1+astBytesPerByte)+cacheEntryOverhead)
}

// persistedQueries is the automatic persisted queries' cache (hash to query text), bounded by bytes.
type persistedQueries struct {
	lru *sizedlru.Cache[string, string]
}

func (c persistedQueries) Get(_ context.Context, hash string) (string, bool) { return c.lru.Get(hash) }

func (c persistedQueries) Add(_ context.Context, hash, query string) {
	c.lru.Add(hash, query, len(hash)+len(query)+cacheEntryOverhead)
}

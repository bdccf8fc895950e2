package graph

import (
	"container/list"
	"context"
	"sync"

	"github.com/vektah/gqlparser/v2/ast"
)

// sizedLRU is a least-recently-used cache bounded by the bytes its entries weigh, not by their
// count: with a bound by count, a client sending distinct large documents (a query cache of 1,000
// entries of 900 kB) grew the server by the hundreds of megabytes, and kept it. An entry heavier
// than a quarter of the budget is not kept at all, so one huge item never empties the cache.
type sizedLRU[K comparable, V any] struct {
	mu       sync.Mutex
	maxBytes int
	maxItems int // 0: bounded by bytes alone
	bytes    int
	order    *list.List // front: most recently used
	items    map[K]*list.Element
}

type sizedEntry[K comparable, V any] struct {
	key    K
	value  V
	weight int
}

func newSizedLRU[K comparable, V any](maxBytes, maxItems int) *sizedLRU[K, V] {
	return &sizedLRU[K, V]{maxBytes: maxBytes, maxItems: maxItems, order: list.New(), items: map[K]*list.Element{}}
}

// Get returns the value under key and marks it used.
func (c *sizedLRU[K, V]) Get(key K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		var zero V
		return zero, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*sizedEntry[K, V]).value, true
}

// Add keeps value under key, weighing weight bytes, and drops the least recently used entries
// until the cache is within its budget again. It reports whether the value was kept.
func (c *sizedLRU[K, V]) Add(key K, value V, weight int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.remove(el)
	}
	if weight < 1 {
		weight = 1
	}
	if c.maxBytes <= 0 || weight > c.maxBytes/4 {
		return false
	}
	c.items[key] = c.order.PushFront(&sizedEntry[K, V]{key: key, value: value, weight: weight})
	c.bytes += weight
	for c.bytes > c.maxBytes || c.maxItems > 0 && len(c.items) > c.maxItems {
		c.remove(c.order.Back())
	}
	return true
}

func (c *sizedLRU[K, V]) remove(el *list.Element) {
	e := el.Value.(*sizedEntry[K, V])
	c.order.Remove(el)
	delete(c.items, e.key)
	c.bytes -= e.weight
}

// Bytes is what the entries kept weigh together.
func (c *sizedLRU[K, V]) Bytes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

// Len is how many entries are kept.
func (c *sizedLRU[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}

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
	lru *sizedLRU[string, *ast.QueryDocument]
}

func (c documentCache) Get(_ context.Context, query string) (*ast.QueryDocument, bool) {
	return c.lru.Get(query)
}

func (c documentCache) Add(_ context.Context, query string, doc *ast.QueryDocument) {
	c.lru.Add(query, doc, len(query)*(1+astBytesPerByte)+cacheEntryOverhead)
}

// persistedQueries is the automatic persisted queries' cache (hash to query text), bounded by bytes.
type persistedQueries struct{ lru *sizedLRU[string, string] }

func (c persistedQueries) Get(_ context.Context, hash string) (string, bool) { return c.lru.Get(hash) }

func (c persistedQueries) Add(_ context.Context, hash, query string) {
	c.lru.Add(hash, query, len(hash)+len(query)+cacheEntryOverhead)
}

// Package sizedlru is a least-recently-used cache bounded by the bytes its entries weigh.
package sizedlru

import (
	"container/list"
	"sync"
)

// Cache is a least-recently-used cache bounded by the bytes its entries weigh, not by their
// count: with a bound by count, a client sending distinct large documents (a query cache of 1,000
// entries of 900 kB) grew the server by the hundreds of megabytes, and kept it. An entry heavier
// than a quarter of the budget is not kept at all, so one huge item never empties the cache.
type Cache[K comparable, V any] struct {
	mu       sync.Mutex
	maxBytes int
	maxItems int // 0: bounded by bytes alone
	bytes    int
	order    *list.List // front: most recently used
	items    map[K]*list.Element
}

type entry[K comparable, V any] struct {
	key    K
	value  V
	weight int
}

// New is a cache of at most maxBytes (and, unless 0, maxItems entries).
func New[K comparable, V any](maxBytes, maxItems int) *Cache[K, V] {
	return &Cache[K, V]{maxBytes: maxBytes, maxItems: maxItems, order: list.New(), items: map[K]*list.Element{}}
}

// Get returns the value under key and marks it used.
func (c *Cache[K, V]) Get(key K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		var zero V
		return zero, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*entry[K, V]).value, true
}

// Add keeps value under key, weighing weight bytes, and drops the least recently used entries
// until the cache is within its budget again. It reports whether the value was kept.
func (c *Cache[K, V]) Add(key K, value V, weight int) bool {
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
	c.items[key] = c.order.PushFront(&entry[K, V]{key: key, value: value, weight: weight})
	c.bytes += weight
	for c.bytes > c.maxBytes || c.maxItems > 0 && len(c.items) > c.maxItems {
		c.remove(c.order.Back())
	}
	return true
}

func (c *Cache[K, V]) remove(el *list.Element) {
	e := el.Value.(*entry[K, V])
	c.order.Remove(el)
	delete(c.items, e.key)
	c.bytes -= e.weight
}

// Bytes is what the entries kept weigh together.
func (c *Cache[K, V]) Bytes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

// Len is how many entries are kept.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}

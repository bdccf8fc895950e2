package catalog

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// entityCache keeps recently read entities (with their relations) so the hot read paths (an entity
// by ref, the rows of a page) do not parse JSON and query relations on every request. The catalog
// changes rarely and every change moves catalog_state.generation: writes through this process drop
// the cache at once, and a change by another process (a second replica, `portside catalog import`)
// is noticed within the check interval.
type entityCache struct {
	lru   *lru.Cache[Ref, *Entity] // nil when disabled
	check time.Duration
	load  func(context.Context) (int64, error)

	mu        sync.Mutex
	gen       int64     // generation the cached entries belong to
	checkedAt time.Time // when gen was last compared with the database
	// epoch moves on every purge. A reader notes it before going to the database and adds what it
	// read only if no purge happened meanwhile, so a slow read never re-inserts a stale entity.
	epoch atomic.Int64
}

func newEntityCache(size int, check time.Duration, load func(context.Context) (int64, error)) *entityCache {
	c := &entityCache{check: check, load: load, gen: -1}
	if size > 0 {
		c.lru, _ = lru.New[Ref, *Entity](size)
	}
	return c
}

// sync drops the cache if the catalog changed since it was filled. It returns the epoch to pass to
// add. Errors reading the generation are ignored: the cache then serves what it has, and the next
// call tries again.
func (c *entityCache) sync(ctx context.Context) int64 {
	if c.lru == nil {
		return 0
	}
	c.mu.Lock()
	due := time.Since(c.checkedAt) >= c.check
	if due {
		c.checkedAt = time.Now() // claim the check, so concurrent readers do not all query
	}
	c.mu.Unlock()
	if due {
		if gen, err := c.load(ctx); err == nil {
			c.mu.Lock()
			if gen != c.gen {
				c.gen = gen
				c.purgeLocked()
			}
			c.mu.Unlock()
		}
	}
	return c.epoch.Load()
}

// invalidate drops everything; called after this process changed the catalog.
func (c *entityCache) invalidate() {
	if c.lru == nil {
		return
	}
	c.mu.Lock()
	c.checkedAt = time.Time{} // compare with the database on the next read
	c.purgeLocked()
	c.mu.Unlock()
}

func (c *entityCache) purgeLocked() {
	c.epoch.Add(1)
	c.lru.Purge()
}

func (c *entityCache) get(ref Ref) (*Entity, bool) {
	if c.lru == nil {
		return nil, false
	}
	return c.lru.Get(ref)
}

// add stores entities read from the database, unless the cache was purged since epoch.
func (c *entityCache) add(epoch int64, entities []*Entity) {
	if c.lru == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch.Load() != epoch {
		return
	}
	for _, e := range entities {
		c.lru.Add(e.Ref, e)
	}
}

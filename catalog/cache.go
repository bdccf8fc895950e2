package catalog

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/portside-dev/portside/catalog/backstage"
)

// readCache keeps recently read entities (with their relations) and recent query results (pages,
// counts, facets), so the hot read paths neither parse JSON nor query the database on every
// request. The catalog changes rarely and every change moves catalog_state.generation: writes
// through this process drop the cache at once, and a change by another process (a second replica,
// `portside catalog import`) is noticed within the check interval. Cached values are shared and
// never modified.
type readCache struct {
	entities *lru.Cache[backstage.Ref, *backstage.Entity] // nil when disabled
	queries  *lru.Cache[string, any]                      // keyed by the query's kind and parameters
	check    time.Duration
	load     func(context.Context) (int64, error)

	mu        sync.Mutex
	gen       int64     // generation the cached entries belong to
	checkedAt time.Time // when gen was last compared with the database
	// epoch moves on every purge. A reader notes it before going to the database and adds what it
	// read only if no purge happened meanwhile, so a slow read never re-inserts a stale value.
	epoch atomic.Int64
}

// queryCacheShare sizes the query cache from the entity cache: results are small (they point at
// cached entities), and a portal repeats a modest set of lists and searches.
const queryCacheShare = 5

func newReadCache(size int, check time.Duration, load func(context.Context) (int64, error)) *readCache {
	c := &readCache{check: check, load: load, gen: -1}
	if size > 0 {
		c.entities, _ = lru.New[backstage.Ref, *backstage.Entity](size)
		c.queries, _ = lru.New[string, any](max(100, size/queryCacheShare))
	}
	return c
}

// sync drops the cache if the catalog changed since it was filled. It returns the epoch to pass to
// the add methods. Errors reading the generation are ignored: the cache then serves what it has,
// and the next call tries again.
//
// The generation is followed even when the cache holds nothing (size 0), because the response
// cache of the GraphQL layer, sized on its own, keys its answers by the epoch.
func (c *readCache) sync(ctx context.Context) int64 {
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

// syncIfCaching is sync for readers of the cache itself: with the cache off there is nothing to
// drop, so it spares them the generation check.
func (c *readCache) syncIfCaching(ctx context.Context) int64 {
	if c.entities == nil {
		return 0
	}
	return c.sync(ctx)
}

// invalidate drops everything; called after this process changed the catalog.
func (c *readCache) invalidate() {
	c.mu.Lock()
	c.checkedAt = time.Time{} // compare with the database on the next read
	c.purgeLocked()
	c.mu.Unlock()
}

// expire makes the next read compare the generation with the database at once, rather than at
// the next check: another replica said it committed a change. The generation read then, not the
// message, says whether the cache is stale.
func (c *readCache) expire() {
	c.mu.Lock()
	c.checkedAt = time.Time{}
	c.mu.Unlock()
}

func (c *readCache) purgeLocked() {
	c.epoch.Add(1)
	if c.entities != nil {
		c.entities.Purge()
		c.queries.Purge()
	}
}

func (c *readCache) entity(ref backstage.Ref) (*backstage.Entity, bool) {
	if c.entities == nil {
		return nil, false
	}
	return c.entities.Get(ref)
}

// addEntities stores entities read from the database, unless the cache was purged since epoch.
func (c *readCache) addEntities(epoch int64, entities []*backstage.Entity) {
	if c.entities == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch.Load() != epoch {
		return
	}
	for _, e := range entities {
		c.entities.Add(e.Ref, e)
	}
}

// cachedQuery returns a query result from the cache, or computes and caches it.
func cachedQuery[T any](ctx context.Context, c *readCache, key string, compute func() (T, error)) (T, error) {
	if c.queries == nil {
		return compute()
	}
	epoch := c.sync(ctx)
	if v, ok := c.queries.Get(key); ok {
		return v.(T), nil
	}
	v, err := compute()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	if c.epoch.Load() == epoch {
		c.queries.Add(key, v)
	}
	c.mu.Unlock()
	return v, nil
}

// CacheEpoch identifies, within this process, the catalog state the read cache holds, for callers
// that cache what they derive from catalog reads (GraphQL responses): a result stored under one
// epoch is valid while CacheEpoch returns the same epoch. It moves whenever the cache is dropped:
// a change made here, or one another process made, noticed within the check interval. It works
// whether or not the read cache itself is enabled (CacheSize 0), so ok is always true.
func (s *Service) CacheEpoch(ctx context.Context) (epoch int64, ok bool) {
	return s.cache.sync(ctx), true
}

// CacheSize is the number of entities the read cache may hold; 0 when it is disabled. Callers
// that cache what they render from entities size their caches by it.
func (s *Service) CacheSize() int {
	if s.cache.entities == nil {
		return 0
	}
	return s.cacheSize
}

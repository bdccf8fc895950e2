package model

import (
	"context"
	"sync"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/backstage"
)

// Cohort is a set of entities loaded together: a page, the owners of a page, the targets of one
// relation type for a page. When a field of one member needs related entities, the cohort loads
// them for all its members in one batch, once, and the loaded entities form a new cohort for the
// next level. The number of queries a GraphQL request costs thus depends on the shape of the query,
// not on page sizes, and unlike a time-window dataloader it batches deterministically, with no
// waiting.
type Cohort struct {
	svc     *catalog.Service
	members []*backstage.Entity
	// partial: the members may be summaries (catalog.Query.Summaries), which have no relations.
	partial bool

	mu      sync.Mutex
	batches map[string]*batch

	locOnce sync.Once
	locs    map[int64]catalog.Location
	locErr  error
}

type batch struct {
	once sync.Once
	// prefilled, when set, is what the batch finds, read with the members (Prefill).
	prefilled map[backstage.Ref]*backstage.Entity
	found     map[backstage.Ref]*backstage.Entity
	next      *Cohort
	err       error
}

// NewCohort groups entities loaded together.
func NewCohort(svc *catalog.Service, members []*backstage.Entity) *Cohort {
	return &Cohort{svc: svc, members: members, batches: map[string]*batch{}}
}

// Partial says the members may be summaries (catalog.Query.Summaries): their relations, spec
// and other fields read from the stored document are empty, not known.
func (c *Cohort) Partial() bool { return c.partial }

// Service is the catalog the cohort loads from.
func (c *Cohort) Service() *catalog.Service { return c.svc }

// Prefill gives the batch Related loads for key and summaries what it would find, read already
// with the members (catalog.Service.EntityByInputWithTargets): every entity refsOf names for them
// that exists, or more. Related then reads nothing for it. A batch already there (asked for, or
// prefilled) is left as it is.
func (c *Cohort) Prefill(key string, summaries bool, found map[backstage.Ref]*backstage.Entity) {
	if summaries {
		key = "summaries:" + key
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.batches[key]; !ok {
		c.batches[key] = &batch{prefilled: found}
	}
}

// Related loads, once for the whole cohort, the entities that refsOf names for each member, and
// returns them with the cohort they form. key identifies refsOf: the same key must always mean the
// same function. With summaries it loads them as summaries (catalog.Service.SummariesByRef), and
// the cohort they form is partial: for a field whose selection asks only what a summary holds.
func (c *Cohort) Related(ctx context.Context, key string, summaries bool, refsOf func(*backstage.Entity) []backstage.Ref) (map[backstage.Ref]*backstage.Entity, *Cohort, error) {
	if summaries {
		key = "summaries:" + key
	}
	c.mu.Lock()
	b, ok := c.batches[key]
	if !ok {
		b = &batch{}
		c.batches[key] = b
	}
	c.mu.Unlock()
	b.once.Do(func() {
		var refs []backstage.Ref
		for _, m := range c.members {
			refs = append(refs, refsOf(m)...)
		}
		switch {
		case b.prefilled != nil:
			b.found = make(map[backstage.Ref]*backstage.Entity, len(refs))
			for _, r := range refs {
				if e, ok := b.prefilled[r]; ok {
					b.found[r] = e
				}
			}
		case summaries:
			b.found, b.err = c.svc.SummariesByRef(ctx, refs)
		default:
			b.found, b.err = c.svc.EntitiesByRef(ctx, refs)
		}
		if b.err == nil {
			members := make([]*backstage.Entity, 0, len(b.found))
			seen := make(map[backstage.Ref]bool, len(b.found))
			for _, r := range refs {
				if e, ok := b.found[r]; ok && !seen[r] {
					seen[r] = true
					members = append(members, e)
				}
			}
			b.next = NewCohort(c.svc, members)
			b.next.partial = summaries
		}
	})
	return b.found, b.next, b.err
}

// Locations returns every registered location by ID, read once per cohort: locations are few, and
// a page of entities usually comes from one or two of them.
func (c *Cohort) Locations(ctx context.Context) (map[int64]catalog.Location, error) {
	c.locOnce.Do(func() {
		var list []catalog.Location
		list, c.locErr = c.svc.Locations(ctx)
		c.locs = make(map[int64]catalog.Location, len(list))
		for _, l := range list {
			c.locs[l.ID] = l
		}
	})
	return c.locs, c.locErr
}

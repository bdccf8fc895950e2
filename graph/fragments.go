package graph

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"io"
	"sync"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/portside-dev/portside/graph/model"
)

// fragmentCache keeps each entity as gqlgen rendered it for one selection, so that a page of 50
// whole entities is 50 copies of bytes rather than thousands of field resolutions: resolving and
// marshalling every field of every entity (each relation an object of its own, the spec encoded
// again) cost 5-15 ms a page with every entity in the read cache, where reading the page's keys
// costs well under one. It is the rendered form of the catalog's entity cache: on while
// catalog-cache-size is above 0, and keyed by the catalog's cache epoch, so a change to the
// catalog retires every fragment, as it does the entities.
//
// A fragment is keyed by the operation's text, where the selection stands in it, the values of
// the variables the selection uses (and no others: an owner page for another owner reuses the
// entities it shares), the entity and the epoch. Only selections whose every field the schema
// declares @cache(scope: CATALOG) are kept (the response cache's rules, read from the same
// declarations, without its rollouts stamps: it has none to keep), never one whose rendering
// reported an error, and never a deferred one.
type fragmentCache struct {
	rules *cacheRules
	epoch func(context.Context) (int64, bool)
	lru   *lru.Cache[[sha256.Size]byte, []byte]
	bytes atomic.Int64 // held by lru, bounded by maxFragmentBytes
	hits  atomic.Int64 // for tests

	mu     sync.Mutex
	shapes map[shapeKey]shape
}

// maxFragment keeps an entity whose rendering is large (an API with a long inline definition)
// out of the cache; maxFragmentBytes bounds what the cache holds in all.
const (
	maxFragment      = 32 << 10
	maxFragmentBytes = 64 << 20
)

// shapeKey names a selection: the operation's text and where the selection starts in it.
type shapeKey struct {
	query, operation string
	start, n         int
}

// shape is what is known of a selection, worked out once.
type shape struct {
	cacheable bool
	vars      []string // the variables it uses, in order of first use
}

func newFragmentCache(entries int, rules *cacheRules, epoch func(context.Context) (int64, bool)) *fragmentCache {
	c := &fragmentCache{rules: rules, epoch: epoch, shapes: map[shapeKey]shape{}}
	c.lru, _ = lru.NewWithEvict(entries, func(_ [sha256.Size]byte, v []byte) { c.bytes.Add(-int64(len(v))) })
	return c
}

// fragments returns the resolver's fragment cache, nil when the catalog's cache is off (or no
// handler has read the schema's cache rules).
func (r *Resolver) fragments() *fragmentCache {
	r.fragmentsOnce.Do(func() {
		if rules := r.cacheRules.Load(); rules != nil && r.Catalog != nil && r.Catalog.CacheSize() > 0 {
			r.fragmentCache = newFragmentCache(r.Catalog.CacheSize(), rules, r.Catalog.CacheEpoch)
		}
	})
	return r.fragmentCache
}

// _Entity renders an entity of any kind through the fragment cache; renderEntity does the work
// on a miss, and without the cache.
func (ec *executionContext) _Entity(ctx context.Context, sel ast.SelectionSet, obj model.Entity) graphql.Marshaler {
	r, _ := ec.Resolvers.(*Resolver)
	var c *fragmentCache
	if r != nil {
		c = r.fragments()
	}
	if c == nil || obj == nil || len(sel) == 0 {
		return ec.renderEntity(ctx, sel, obj)
	}
	key, ok := c.key(ctx, ec.OperationContext, sel, obj)
	if !ok {
		return ec.renderEntity(ctx, sel, obj)
	}
	if b, ok := c.lru.Get(key); ok {
		c.hits.Add(1)
		return rendered(b)
	}
	before := len(graphql.GetErrors(ctx))
	m := ec.renderEntity(ctx, sel, obj)
	if m == graphql.Null || len(graphql.GetErrors(ctx)) != before {
		return m
	}
	var buf bytes.Buffer
	m.MarshalGQL(&buf)
	b := buf.Bytes()
	if len(b) <= maxFragment {
		// Count the bytes before adding: an eviction the add causes subtracts its own.
		c.bytes.Add(int64(len(b)))
		if found, _ := c.lru.ContainsOrAdd(key, b); found {
			c.bytes.Add(-int64(len(b))) // rendered meanwhile by another request
		}
		for c.bytes.Load() > maxFragmentBytes {
			if _, _, ok := c.lru.RemoveOldest(); !ok {
				break
			}
		}
	}
	return rendered(b)
}

// renderEntity renders an entity in one pass where its selection allows (plainEntity), else
// with gqlgen's generated code.
func (ec *executionContext) renderEntity(ctx context.Context, sel ast.SelectionSet, obj model.Entity) graphql.Marshaler {
	if m, ok := ec.plainEntity(ctx, sel, obj); ok {
		return m
	}
	return ec._entityUncached(ctx, sel, obj)
}

func rendered(b []byte) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) { _, _ = w.Write(b) })
}

// key identifies obj rendered for sel in this operation; ok is false when it must not be cached.
func (c *fragmentCache) key(ctx context.Context, oc *graphql.OperationContext, sel ast.SelectionSet, obj model.Entity) ([sha256.Size]byte, bool) {
	pos := sel[0].GetPosition()
	if pos == nil {
		return [sha256.Size]byte{}, false
	}
	sk := shapeKey{query: oc.RawQuery, operation: oc.OperationName, start: pos.Start, n: len(sel)}
	c.mu.Lock()
	sh, known := c.shapes[sk]
	c.mu.Unlock()
	if !known {
		sh = shapeOf(c.rules, sel)
		c.mu.Lock()
		if len(c.shapes) > 10000 { // bound the memo against clients that vary their query text
			clear(c.shapes)
		}
		c.shapes[sk] = sh
		c.mu.Unlock()
	}
	if !sh.cacheable {
		return [sha256.Size]byte{}, false
	}
	epoch, ok := c.epoch(ctx)
	if !ok {
		return [sha256.Size]byte{}, false
	}
	h := sha256.New()
	var n [8]byte
	for _, v := range []int64{epoch, int64(sk.start), int64(sk.n)} {
		binary.LittleEndian.PutUint64(n[:], uint64(v))
		h.Write(n[:])
	}
	h.Write([]byte(sk.query))
	h.Write([]byte{0})
	h.Write([]byte(sk.operation))
	h.Write([]byte{0})
	h.Write([]byte(obj.Value().Ref.String()))
	h.Write([]byte{0})
	for _, name := range sh.vars {
		b, err := json.Marshal(oc.Variables[name])
		if err != nil {
			return [sha256.Size]byte{}, false
		}
		h.Write([]byte(name))
		h.Write([]byte{0})
		h.Write(b)
		h.Write([]byte{0})
	}
	var key [sha256.Size]byte
	copy(key[:], h.Sum(nil))
	return key, true
}

// shapeOf decides whether a selection may be cached and which variables it reads.
func shapeOf(rules *cacheRules, sel ast.SelectionSet) shape {
	if !rules.cacheable(sel, map[string]bool{}, false, false) { // no stamps here: STAMPED fields are not kept
		return shape{}
	}
	sh := shape{cacheable: true}
	seen := map[string]bool{}
	var useValue func(v *ast.Value)
	useValue = func(v *ast.Value) {
		if v == nil {
			return
		}
		if v.Kind == ast.Variable && !seen[v.Raw] {
			seen[v.Raw] = true
			sh.vars = append(sh.vars, v.Raw)
		}
		for _, child := range v.Children {
			useValue(child.Value)
		}
	}
	useDirectives := func(ds ast.DirectiveList) {
		for _, d := range ds {
			if d.Name == "defer" {
				sh.cacheable = false
			}
			for _, a := range d.Arguments {
				useValue(a.Value)
			}
		}
	}
	var walk func(ast.SelectionSet, map[string]bool)
	walk = func(set ast.SelectionSet, fragments map[string]bool) {
		for _, s := range set {
			switch s := s.(type) {
			case *ast.Field:
				useDirectives(s.Directives)
				for _, a := range s.Arguments {
					useValue(a.Value)
				}
				walk(s.SelectionSet, fragments)
			case *ast.InlineFragment:
				useDirectives(s.Directives)
				walk(s.SelectionSet, fragments)
			case *ast.FragmentSpread:
				useDirectives(s.Directives)
				if !fragments[s.Name] && s.Definition != nil {
					fragments[s.Name] = true
					useDirectives(s.Definition.Directives)
					walk(s.Definition.SelectionSet, fragments)
				}
			}
		}
	}
	walk(sel, map[string]bool{})
	if !sh.cacheable {
		return shape{}
	}
	return sh
}

package graph

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"path"
	"slices"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// responseCache answers a repeated catalog query with the response it gave before, as long as the
// catalog has not changed since (the catalog's cache token). It caches only query operations whose
// every field is declared by the catalog schema (schema.graphqls, catalog.graphqls) and whose
// data moves with the catalog's generation: registered locations change on every refresh without
// one, so their types are left out, as is introspection. Fields other schema files add later
// (pipelines, rollouts, anything per user) make an operation uncacheable without anyone having to
// remember this cache. Responses with errors are never cached.
type responseCache struct {
	epoch func(ctx context.Context) (int64, bool)
	lru   *lru.Cache[[sha256.Size]byte, cachedResponse]

	mu        sync.Mutex
	cacheable map[string]bool // by query text and operation name, decided once
}

type cachedResponse struct {
	token int64
	data  json.RawMessage
}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = (*responseCache)(nil)

// cachedSchemaFiles declare the fields whose values the catalog's cache token covers.
var cachedSchemaFiles = []string{"schema.graphqls", "catalog.graphqls"}

// maxCachedResponse keeps one huge page from crowding out everything else.
const maxCachedResponse = 256 << 10

// uncachedFields can return registered locations (node takes any ID).
var uncachedFields = map[string]bool{"node": true}

// uncachedTypes change without the catalog's generation moving.
var uncachedTypes = map[string]bool{"Location": true, "LocationConnection": true, "LocationEdge": true, "LocationError": true}

func newResponseCache(size int, epoch func(ctx context.Context) (int64, bool)) *responseCache {
	c := &responseCache{epoch: epoch, cacheable: map[string]bool{}}
	c.lru, _ = lru.New[[sha256.Size]byte, cachedResponse](size)
	return c
}

func (*responseCache) ExtensionName() string                   { return "ResponseCache" }
func (*responseCache) Validate(graphql.ExecutableSchema) error { return nil }

func (c *responseCache) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation == nil || oc.Operation.Operation != ast.Query || !c.isCacheable(oc) {
		return next(ctx)
	}
	token, ok := c.epoch(ctx)
	if !ok {
		return next(ctx)
	}
	key, ok := responseKey(oc)
	if !ok {
		return next(ctx)
	}
	if hit, ok := c.lru.Get(key); ok && hit.token == token {
		return &graphql.Response{Data: hit.data}
	}
	resp := next(ctx)
	if resp != nil && len(resp.Errors) == 0 && resp.Data != nil && len(resp.Data) <= maxCachedResponse {
		c.lru.Add(key, cachedResponse{token: token, data: resp.Data})
	}
	return resp
}

// responseKey identifies an operation with its variables.
func responseKey(oc *graphql.OperationContext) ([sha256.Size]byte, bool) {
	vars, err := json.Marshal(oc.Variables) // map keys are sorted: equal variables, equal bytes
	if err != nil {
		return [sha256.Size]byte{}, false
	}
	h := sha256.New()
	h.Write([]byte(oc.RawQuery))
	h.Write([]byte{0})
	h.Write([]byte(oc.OperationName))
	h.Write([]byte{0})
	h.Write(vars)
	var key [sha256.Size]byte
	copy(key[:], h.Sum(nil))
	return key, true
}

func (c *responseCache) isCacheable(oc *graphql.OperationContext) bool {
	id := oc.OperationName + "\x00" + oc.RawQuery
	c.mu.Lock()
	v, known := c.cacheable[id]
	c.mu.Unlock()
	if known {
		return v
	}
	v = selectionCacheable(oc.Operation.SelectionSet, map[string]bool{})
	c.mu.Lock()
	if len(c.cacheable) > 10000 { // bound the memo against clients that vary their query text
		clear(c.cacheable)
	}
	c.cacheable[id] = v
	c.mu.Unlock()
	return v
}

func selectionCacheable(set ast.SelectionSet, seenFragments map[string]bool) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__typename" {
				continue
			}
			if s.Definition == nil || s.Definition.Position == nil || s.Definition.Position.Src == nil ||
				!fromCachedSchema(s.Definition.Position.Src.Name) || uncachedTypes[s.Definition.Type.Name()] || uncachedFields[s.Name] ||
				s.ObjectDefinition != nil && uncachedTypes[s.ObjectDefinition.Name] {
				return false
			}
			if !selectionCacheable(s.SelectionSet, seenFragments) {
				return false
			}
		case *ast.InlineFragment:
			if !selectionCacheable(s.SelectionSet, seenFragments) {
				return false
			}
		case *ast.FragmentSpread:
			if seenFragments[s.Name] {
				continue
			}
			seenFragments[s.Name] = true
			if s.Definition == nil || !selectionCacheable(s.Definition.SelectionSet, seenFragments) {
				return false
			}
		}
	}
	return true
}

func fromCachedSchema(src string) bool {
	return slices.Contains(cachedSchemaFiles, path.Base(src))
}

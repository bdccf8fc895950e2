package graph

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"path"
	"slices"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/portside-dev/portside/rollouts"
)

// responseCache answers a repeated catalog query with the response it gave before, as long as the
// catalog has not changed since (the catalog's cache token). It caches only query operations whose
// every field is declared by the catalog schema (schema.graphqls, catalog.graphqls) and whose
// data moves with the catalog's generation: registered locations change on every refresh without
// one, so their types are left out, as is introspection. Fields other schema files add later
// (pipelines, anything per user) make an operation uncacheable without anyone having to
// remember this cache. Responses with errors are never cached.
//
// A component's deployments and rollouts (the component page) are cached too, versioned besides
// by rollouts stamps: their resolvers note a stamp of the component's applications before reading,
// and a cached answer is served only while every stamp it was made with is fresh.
type responseCache struct {
	epoch func(ctx context.Context) (int64, bool)
	// fresh checks a rollouts stamp; nil leaves rollouts fields uncached.
	fresh func(rollouts.Stamp) bool
	lru   *sizedLRU[[sha256.Size]byte, cachedResponse]

	mu sync.Mutex
	// cacheable is decided once per operation, keyed by a hash of its name and query text: keyed by
	// the text itself, 10,000 distinct large documents held gigabytes.
	cacheable map[[sha256.Size]byte]bool
}

type cachedResponse struct {
	token  int64
	stamps []rollouts.Stamp
	data   json.RawMessage
}

// stampsKey carries the stamps an operation's resolvers note, while a cacheable one runs.
type stampsKey struct{}

type stampSet struct {
	mu   sync.Mutex
	list []rollouts.Stamp
}

// noteStamp records that the answer being made depends on what the stamp covers; it must be
// taken before the resolver reads what it covers.
func noteStamp(ctx context.Context, s rollouts.Stamp) {
	if set, ok := ctx.Value(stampsKey{}).(*stampSet); ok {
		set.mu.Lock()
		set.list = append(set.list, s)
		set.mu.Unlock()
	}
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

// uncachedTypes change without the catalog's generation moving (or, from rollouts.graphqls,
// without a stamp covering them: instance links, time windows, live sync windows).
var uncachedTypes = map[string]bool{"Location": true, "LocationConnection": true, "LocationEdge": true, "LocationError": true,
	"ArgoCDInstance": true, "DoraMetrics": true, "SyncWindows": true, "SyncWindow": true}

// stampedSchemaFile declares the rollouts fields. Those of its own types are cacheable when
// reached through stampedFields, whose resolvers note stamps; a field of those types that reads
// anything a stamp does not cover (Argo CD live, the clock) belongs in unstampedFields.
const stampedSchemaFile = "rollouts.graphqls"

var (
	stampedFields   = map[string]bool{"Component.deployments": true, "Component.rollouts": true}
	unstampedFields = map[string]bool{"Deployment.syncWindows": true}
)

func newResponseCache(size int, epoch func(ctx context.Context) (int64, bool), fresh func(rollouts.Stamp) bool) *responseCache {
	c := &responseCache{epoch: epoch, fresh: fresh, cacheable: map[[sha256.Size]byte]bool{}}
	c.lru = newSizedLRU[[sha256.Size]byte, cachedResponse](responseCacheBytes, size)
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
	name, typ := operationName(oc)
	if hit, ok := c.lru.Get(key); ok && hit.token == token && c.stillFresh(hit.stamps) {
		offerReplay(ctx, hit.token, hit.stamps, name, typ)
		return &graphql.Response{Data: hit.data}
	}
	stamps := &stampSet{}
	resp := next(context.WithValue(ctx, stampsKey{}, stamps))
	if resp != nil && len(resp.Errors) == 0 && resp.Data != nil && len(resp.Data) <= maxCachedResponse {
		c.lru.Add(key, cachedResponse{token: token, stamps: stamps.list, data: resp.Data}, len(resp.Data)+cacheEntryOverhead)
		offerReplay(ctx, token, stamps.list, name, typ)
	}
	return resp
}

// valid reports whether an answer made at token with stamps may still be given.
func (c *responseCache) valid(ctx context.Context, token int64, stamps []rollouts.Stamp) bool {
	now, ok := c.epoch(ctx)
	return ok && now == token && c.stillFresh(stamps)
}

func (c *responseCache) stillFresh(stamps []rollouts.Stamp) bool {
	for _, s := range stamps {
		if !c.fresh(s) {
			return false
		}
	}
	return true
}

// operationKey is where an operation's responseKey is kept once worked out: the complexity limit
// and the response cache both key by it.
const operationKey = "OperationKey"

type keyedOperation struct {
	key [sha256.Size]byte
	ok  bool
}

// responseKey identifies an operation with its variables, working it out once per operation.
func responseKey(oc *graphql.OperationContext) ([sha256.Size]byte, bool) {
	if k, ok := oc.Stats.GetExtension(operationKey).(keyedOperation); ok {
		return k.key, k.ok
	}
	key, ok := hashOperation(oc)
	oc.Stats.SetExtension(operationKey, keyedOperation{key, ok})
	return key, ok
}

func hashOperation(oc *graphql.OperationContext) ([sha256.Size]byte, bool) {
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
	h := sha256.New()
	h.Write([]byte(oc.OperationName))
	h.Write([]byte{0})
	h.Write([]byte(oc.RawQuery))
	var id [sha256.Size]byte
	copy(id[:], h.Sum(nil))
	c.mu.Lock()
	v, known := c.cacheable[id]
	c.mu.Unlock()
	if known {
		return v
	}
	v = c.selectionCacheable(oc.Operation.SelectionSet, map[string]bool{}, false)
	c.mu.Lock()
	if len(c.cacheable) > 10000 { // bound the memo against clients that vary their query text
		clear(c.cacheable)
	}
	c.cacheable[id] = v
	c.mu.Unlock()
	return v
}

// selectionCacheable decides whether a selection's answer may be cached; stamped says it is
// under a stamped field, where the rollouts types' own fields may be too.
func (c *responseCache) selectionCacheable(set ast.SelectionSet, seenFragments map[string]bool, stamped bool) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__typename" {
				continue
			}
			if s.Definition == nil || s.Definition.Position == nil || s.Definition.Position.Src == nil ||
				uncachedTypes[s.Definition.Type.Name()] || uncachedFields[s.Name] ||
				s.ObjectDefinition != nil && uncachedTypes[s.ObjectDefinition.Name] {
				return false
			}
			under := stamped
			if src := path.Base(s.Definition.Position.Src.Name); !fromCachedSchema(src) {
				parent := ""
				if s.ObjectDefinition != nil {
					parent = s.ObjectDefinition.Name
				}
				field := parent + "." + s.Name
				switch {
				case src != stampedSchemaFile || c.fresh == nil || unstampedFields[field]:
					return false
				case stampedFields[field]:
					under = true
				case !stamped:
					return false // a rollouts field not under a stamped one: Query.rollouts, doraMetrics
				}
			}
			if !c.selectionCacheable(s.SelectionSet, seenFragments, under) {
				return false
			}
		case *ast.InlineFragment:
			if !c.selectionCacheable(s.SelectionSet, seenFragments, stamped) {
				return false
			}
		case *ast.FragmentSpread:
			if seenFragments[s.Name] {
				continue
			}
			seenFragments[s.Name] = true
			if s.Definition == nil || !c.selectionCacheable(s.Definition.SelectionSet, seenFragments, stamped) {
				return false
			}
		}
	}
	return true
}

func fromCachedSchema(src string) bool {
	return slices.Contains(cachedSchemaFiles, path.Base(src))
}

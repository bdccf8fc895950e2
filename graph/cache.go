package graph

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"hash/maphash"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/portside-dev/portside/internal/sizedlru"
	"github.com/portside-dev/portside/pipelines"
	"github.com/portside-dev/portside/rollouts"
)

// responseCache answers a repeated query with the very bytes (and Content-Type) it answered it
// with before, ahead of gqlgen: decoding the request, coercing its variables and encoding the
// answer again cost more than everything else together (and their garbage, on a busy single
// core, became the slowest answers' delay). It is one layer with one key: the request as sent
// (the POST body, or a GET's query string), its method and its Accept header, found by a seeded
// hash and compared with what the answer keeps of the request (see requestKey). What a signed-in caller may
// read of the catalog does not depend on who they are or on their token's scopes, so the caller
// is not part of the key; fields whose answer does are NONE in the schema.
//
// What may be kept is decided by the schema's @cache declarations (cacheRules), checked by its
// gqlgen end (InterceptResponse) once the operation is known: query operations whose every field
// may be, answered without errors. An answer is kept with the catalog's cache token it was made
// at and the stamps its STAMPED fields noted (cacheDirective: the rollouts stamps of entities, the
// pipelines stamp of pipeline runs), and given again only while the token is the catalog's and
// every stamp is fresh.
type responseCache struct {
	rules *cacheRules
	epoch func(ctx context.Context) (int64, bool)
	// fresh checks the stamps; a nil checker leaves the STAMPED fields of its kind uncached.
	fresh stampCheckers
	next  http.Handler
	obs   OperationObserver
	// lru is keyed by requestKey's hash; a hit is an entry whose req (and digest) are the
	// request's.
	lru *sizedlru.Cache[uint64, cachedResponse]

	mu sync.Mutex
	// cacheable is decided once per operation, keyed by a hash of its name and query text: keyed by
	// the text itself, 10,000 distinct large documents held gigabytes.
	cacheable map[[sha256.Size]byte]bool
}

// stampCheckers check the stamps a kept answer depends on, one checker per kind.
type stampCheckers struct {
	rollouts func(rollouts.Stamp) bool
	runs     func(context.Context, pipelines.Stamp) bool
}

// cachedResponse is one answer as gqlgen wrote it, with what it depends on.
type cachedResponse struct {
	token  int64
	stamps []rollouts.Stamp
	runs   []pipelines.Stamp
	// req is what requestKey keeps of the request it answers: its key input, or the input's
	// SHA-256 (digest).
	req    []byte
	digest bool
	// contentType and contentLength are the answer's header values, made once: each hit puts these
	// very slices in its header map (as gin does with its constant content types) instead of
	// allocating them, and with a length the answer goes out in one piece, not chunked. Nothing
	// changes a header value in place, so they are never written to.
	contentType, contentLength []string
	body                       []byte
	// name and opType are the operation's, for the metrics gqlgen's pipeline would have counted;
	// observe records them, its series found once, when the observer can (operationSeries).
	name, opType string
	observe      func(time.Duration)
}

// operationSeries is an OperationObserver that can find an operation's series once, for the
// answers the response cache gives again and again (package metrics' is one).
type operationSeries interface {
	GraphQLSeries(name, opType string, ok bool) func(time.Duration)
}

// pendingResponse is the answer under way, as the cache's two ends (and the @cache directive)
// see it: the only thing the cache passes through the context.
type pendingResponse struct {
	// key, req and digest are the request's (see requestKey), set by lookup (keyed) before the
	// request runs. req may be the request's own buffer: no one writes to it once lookup has it.
	key    uint64
	req    []byte
	digest bool
	keyed  bool

	mu sync.Mutex
	// armed: the operation may be kept (set by InterceptResponse before it runs).
	armed bool
	// spoiled: a STAMPED field could not be stamped; the answer is not kept.
	spoiled bool
	// done: the operation ran without errors and its data is small enough to keep.
	done         bool
	token        int64
	stamps       []rollouts.Stamp
	runs         []pipelines.Stamp
	name, opType string
}

type pendingKey struct{}

func pendingFrom(ctx context.Context) *pendingResponse {
	p, _ := ctx.Value(pendingKey{}).(*pendingResponse)
	return p
}

// note records that the answer depends on what s covers.
func (p *pendingResponse) note(s rollouts.Stamp) {
	p.mu.Lock()
	if p.armed {
		p.stamps = append(p.stamps, s)
	}
	p.mu.Unlock()
}

// noteRuns records that the answer depends on the pipeline runs as of s.
func (p *pendingResponse) noteRuns(s pipelines.Stamp) {
	p.mu.Lock()
	if p.armed {
		p.runs = append(p.runs, s)
	}
	p.mu.Unlock()
}

func (p *pendingResponse) spoil() {
	p.mu.Lock()
	p.spoiled = true
	p.mu.Unlock()
}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
	http.Handler
} = (*responseCache)(nil)

// maxCachedResponse keeps one huge page from crowding out everything else.
const maxCachedResponse = 256 << 10

func newResponseCache(size int, rules *cacheRules, epoch func(ctx context.Context) (int64, bool), fresh stampCheckers, obs OperationObserver) *responseCache {
	return &responseCache{rules: rules, epoch: epoch, fresh: fresh, obs: obs, cacheable: map[[sha256.Size]byte]bool{},
		lru: sizedlru.New[uint64, cachedResponse](responseCacheBytes, size)}
}

// wrap puts the cache in front of next, the handler gqlgen's executor (with the cache's own
// extension) answers behind.
func (c *responseCache) wrap(next http.Handler) http.Handler {
	c.next = next
	return c
}

func (*responseCache) ExtensionName() string                   { return "ResponseCache" }
func (*responseCache) Validate(graphql.ExecutableSchema) error { return nil }

// keyInputs are the buffers a request's key input is put together in (see keyPrefix): a POST
// body is read straight into one, after the prefix, so the body is neither copied nor allocated
// for a hit. Larger ones are left to the collector, and so is every buffer of a request that
// runs (its body and key stay referenced by the request, and by the answer kept).
var keyInputs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

const maxPooledKeyInput = 64 << 10

// putKeyInput gives a key input's buffer back to keyInputs once a hit is answered (in is the
// buffer's contents, which may have grown into a new array), unless it grew too large to keep.
func putKeyInput(buf *[]byte, in []byte) {
	if cap(in) <= maxPooledKeyInput {
		*buf = in[:0]
		keyInputs.Put(buf)
	}
}

// keySeed seeds requestKey's hash; it is the process's own, so no client can choose inputs that
// collide.
var keySeed = maphash.MakeSeed()

// maxRawKey is the largest key input an answer keeps as it is; a larger one is kept as its
// SHA-256, so that distinct large documents with small answers do not fill the cache's budget
// with their text.
const maxRawKey = 2 << 10

// requestKey finds a request's entry by its key input (keyPrefix, then the body or query string):
// a seeded 64-bit hash, which only finds the entry, and what the entry must hold to answer the
// request, compared byte for byte: the input itself (req) when small, else its SHA-256 (digest).
// Two inputs of one hash share a slot (the later answer is kept). Hashing every request with
// SHA-256, as before, cost several times as much as the seeded hash and the comparison.
func requestKey(in []byte) (key uint64, req []byte, digest bool) {
	if len(in) <= maxRawKey {
		return maphash.Bytes(keySeed, in), in, false
	}
	sum := sha256.Sum256(in)
	return maphash.Bytes(keySeed, sum[:]), sum[:], true
}

// keyPrefix appends the first part of a request's key input to b: its method and Accept header
// (the answer's media type depends on it). The request as sent follows: a POST's body, or a
// GET's query string.
func keyPrefix(b []byte, r *http.Request) []byte {
	b = append(b, r.Method...)
	b = append(b, 0)
	b = append(b, r.Header.Get("Accept")...)
	return append(b, 0)
}

// lookup answers a request from the cache when it can. It runs inside conformance, after the
// request's media types are checked and its body is read but before the body is decoded or its
// document scanned: a hit is keyed by the very bytes an earlier request sent, which passed those
// checks (they depend on nothing else), so it is answered without repeating them. in is the
// request's key input (keyPrefix, then the body or query string); on a hit lookup is done with
// it, on a miss it goes with the request. On a miss lookup returns the context the rest of the
// request runs in, which carries the key to ServeHTTP.
func (c *responseCache) lookup(w http.ResponseWriter, r *http.Request, in []byte) (context.Context, bool) {
	start := time.Now()
	key, req, digest := requestKey(in)
	if hit, ok := c.lru.Get(key); ok && hit.digest == digest && bytes.Equal(hit.req, req) && c.valid(r.Context(), &hit) {
		h := w.Header()
		h["Content-Type"] = hit.contentType
		h["Content-Length"] = hit.contentLength
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(hit.body)
		if hit.observe != nil {
			hit.observe(time.Since(start))
		} else if c.obs != nil {
			c.obs.GraphQLOperation(hit.name, hit.opType, true, time.Since(start))
		}
		return nil, true
	}
	return context.WithValue(r.Context(), pendingKey{}, &pendingResponse{key: key, req: req, digest: digest, keyed: true}), false
}

// ServeHTTP runs a request lookup missed and keeps its answer when InterceptResponse allowed it.
func (c *responseCache) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := pendingFrom(r.Context())
	if p == nil || !p.keyed {
		c.next.ServeHTTP(w, r)
		return
	}
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	c.next.ServeHTTP(rec, r)
	p.mu.Lock()
	keep := p.armed && p.done && !p.spoiled
	entry := cachedResponse{token: p.token, stamps: p.stamps, runs: p.runs, name: p.name, opType: p.opType, digest: p.digest}
	p.mu.Unlock()
	if keep && rec.status == http.StatusOK && !rec.overflow && json.Valid(rec.body.Bytes()) {
		entry.body = bytes.Clone(rec.body.Bytes())
		entry.req = bytes.Clone(p.req) // without the spare capacity of the buffer it was read into
		entry.contentType = []string{rec.Header().Get("Content-Type")}
		entry.contentLength = []string{strconv.Itoa(len(entry.body))}
		if o, ok := c.obs.(operationSeries); ok {
			entry.observe = o.GraphQLSeries(entry.name, entry.opType, true)
		}
		c.lru.Add(p.key, entry, len(entry.body)+len(entry.req)+cacheEntryOverhead)
	}
}

// InterceptResponse is the cache's end inside gqlgen: it tells the answer under way whether it
// may be kept, and at which catalog token.
func (c *responseCache) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	p := pendingFrom(ctx)
	if p == nil || !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation == nil || oc.Operation.Operation != ast.Query || !c.isCacheable(oc) {
		return next(ctx)
	}
	token, ok := c.epoch(ctx) // before anything is read
	if !ok {
		return next(ctx)
	}
	name, typ := operationName(oc)
	p.mu.Lock()
	p.armed, p.token, p.name, p.opType = true, token, name, typ
	p.mu.Unlock()
	resp := next(ctx)
	if resp != nil && len(resp.Errors) == 0 && resp.Data != nil && len(resp.Data) <= maxCachedResponse {
		p.mu.Lock()
		p.done = true
		p.mu.Unlock()
	}
	return resp
}

// valid reports whether a kept answer may still be given: made at the catalog's token, and every
// stamp it noted fresh.
func (c *responseCache) valid(ctx context.Context, hit *cachedResponse) bool {
	now, ok := c.epoch(ctx)
	if !ok || now != hit.token {
		return false
	}
	for _, s := range hit.stamps {
		if c.fresh.rollouts == nil || !c.fresh.rollouts(s) {
			return false
		}
	}
	for _, s := range hit.runs {
		if c.fresh.runs == nil || !c.fresh.runs(ctx, s) {
			return false
		}
	}
	return true
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
	v = c.rules.cacheable(oc.Operation.SelectionSet, map[string]bool{}, c.fresh.rollouts != nil || c.fresh.runs != nil, false)
	c.mu.Lock()
	if len(c.cacheable) > 10000 { // bound the memo against clients that vary their query text
		clear(c.cacheable)
	}
	c.cacheable[id] = v
	c.mu.Unlock()
	return v
}

// recorder passes an answer through and keeps a copy, up to what the response cache keeps.
type recorder struct {
	http.ResponseWriter
	status   int
	body     bytes.Buffer
	overflow bool
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.overflow {
		if r.body.Len()+len(b) > maxCachedResponse+64 {
			r.overflow = true
			r.body.Reset()
		} else {
			r.body.Write(b)
		}
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the writer underneath.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// operationKey is where an operation's responseKey is kept once worked out, for the complexity
// limit.
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

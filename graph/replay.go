package graph

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/portside-dev/portside/rollouts"
)

// replay answers a repeated POST with the very bytes gqlgen answered it with, before gqlgen
// decodes it: for an answer the response cache holds, decoding the request, coercing its
// variables and encoding the cached data again cost more than everything else together (and
// their garbage, on a busy single core, became the slowest answers' delay). It never decides
// what may be cached: it replays only what the response cache stored for the same request
// (same body, same Accept header), checked against the same catalog token and rollouts stamps.
type replay struct {
	cache *responseCache
	next  http.Handler
	obs   OperationObserver
	lru   *sizedLRU[[sha256.Size]byte, replayed]
}

// replayed is one answer as gqlgen wrote it, with what it depends on.
type replayed struct {
	token       int64
	stamps      []rollouts.Stamp
	contentType string
	body        []byte
	// name and opType are the operation's, for the metrics gqlgen's pipeline would have counted.
	name, opType string
}

// replayFill is how the response cache tells replay that the answer being made may be replayed.
type replayFill struct {
	ok           bool
	token        int64
	stamps       []rollouts.Stamp
	name, opType string
}

type replayFillKey struct{}

// offerReplay marks the answer under way as replayable with what it depends on.
func offerReplay(ctx context.Context, token int64, stamps []rollouts.Stamp, name, opType string) {
	if f, ok := ctx.Value(replayFillKey{}).(*replayFill); ok {
		*f = replayFill{ok: true, token: token, stamps: stamps, name: name, opType: opType}
	}
}

func newReplay(cache *responseCache, next http.Handler, obs OperationObserver, size int) *replay {
	return &replay{cache: cache, next: next, obs: obs, lru: newSizedLRU[[sha256.Size]byte, replayed](replayCacheBytes, size)}
}

func (p *replay) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		p.next.ServeHTTP(w, r)
		return
	}
	start := time.Now()
	body, err := io.ReadAll(r.Body) // bounded by conformance's MaxBytesReader
	if err != nil {
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
		p.next.ServeHTTP(w, r)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	h := sha256.New()
	h.Write([]byte(r.Header.Get("Accept")))
	h.Write([]byte{0})
	h.Write(body)
	var key [sha256.Size]byte
	copy(key[:], h.Sum(nil))

	if hit, ok := p.lru.Get(key); ok && p.cache.valid(r.Context(), hit.token, hit.stamps) {
		w.Header().Set("Content-Type", hit.contentType)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(hit.body)
		if p.obs != nil {
			p.obs.GraphQLOperation(hit.name, hit.opType, true, time.Since(start))
		}
		return
	}
	fill := &replayFill{}
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	p.next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), replayFillKey{}, fill)))
	if fill.ok && rec.status == http.StatusOK && !rec.overflow && json.Valid(rec.body.Bytes()) {
		p.lru.Add(key, replayed{token: fill.token, stamps: fill.stamps, contentType: rec.Header().Get("Content-Type"),
			body: bytes.Clone(rec.body.Bytes()), name: fill.name, opType: fill.opType}, rec.body.Len()+cacheEntryOverhead)
	}
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

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

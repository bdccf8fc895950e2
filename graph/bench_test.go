package graph_test

// Benchmarks of GraphQL operations executed in process through graph.NewHandler (no network, no
// router), over a generated catalog on SQLite: the cost of the GraphQL layer plus the services.
// The load driver (go run ./bench/load) measures the same operations over HTTP. Run with
//
//	go test -run '^$' -bench . -benchmem ./graph/

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"

	"github.com/portside-dev/portside/bench/benchcat"
	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/sources"
	"github.com/portside-dev/portside/graph"
	"github.com/portside-dev/portside/store/storetest"
)

// benchHandler is the GraphQL handler as serve builds it (default limits and cache size) over a
// SQLite database holding the generated catalog at scale 0.1, with the generator's query inputs.
func benchHandler(b *testing.B) (http.Handler, *benchcat.Queries) {
	return benchHandlerWith(b, 50000)
}

// benchHandlerWith is benchHandler with the catalog's read cache holding cacheSize entries (0: off).
// The response cache is off in both (HandlerOptions.ResponseCacheSize 0): every request runs the
// executor.
func benchHandlerWith(b *testing.B, cacheSize int) (http.Handler, *benchcat.Queries) {
	b.Helper()
	dir := benchcat.Generate(b, 0.1)
	q, err := benchcat.ReadQueries(dir)
	if err != nil {
		b.Fatal(err)
	}
	discard := slog.New(slog.DiscardHandler)
	svc := catalog.NewService(storetest.SQLite(b), catalog.Options{
		Readers:   map[catalog.LocationType]catalog.Reader{catalog.LocationFile: &sources.Files{}},
		CacheSize: cacheSize,
		Logger:    discard,
	})
	res, err := svc.RegisterLocation(operator, catalog.LocationSpec{Type: catalog.LocationFile, Target: dir})
	if err != nil {
		b.Fatal(err)
	}
	if len(res.Errors) > 0 {
		b.Fatalf("ingest: %d errors, first: %v", len(res.Errors), res.Errors[0])
	}
	h := signedIn(graph.NewHandler(&graph.Resolver{Catalog: svc}, graph.HandlerOptions{MaxDepth: 12, MaxComplexity: 100000, Logger: discard}))
	return h, q
}

// serveBody runs one POST /graphql through h.
func serveBody(h http.Handler, body []byte) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/graphql-response+json, application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// benchOperation sends op's bodies in turn, after checking (and so warming) each once.
func benchOperation(b *testing.B, h http.Handler, q *benchcat.Queries, op benchcat.Operation) {
	b.Helper()
	bodies, err := op.Bodies(q)
	if err != nil {
		b.Fatal(err)
	}
	for _, body := range bodies {
		rec := serveBody(h, body)
		if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors":`)) ||
			bytes.Contains(rec.Body.Bytes(), []byte(`"entity":null`)) {
			b.Fatalf("%s: %d %s\nfor %s", op.Name, rec.Code, rec.Body.Bytes(), body)
		}
	}
	b.ReportAllocs()
	// CPU time (of every thread, the collector's included) beside wall time: on a shared machine
	// wall time measures the neighbours as much as the code.
	cpu0 := processCPU()
	i := 0
	for b.Loop() {
		rec := serveBody(h, bodies[i%len(bodies)])
		if rec.Code != http.StatusOK {
			b.Fatalf("%s: %d %s", op.Name, rec.Code, rec.Body.Bytes())
		}
		i++
	}
	if i > 0 {
		b.ReportMetric(float64(processCPU()-cpu0)/float64(i), "cpu-ns/op")
	}
}

// processCPU is the user and system time the process has used, in nanoseconds.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkEntityQuery is the load test's operation (1): an entity by ref with its owner, system
// and relations, over the generator's 200 component refs, with a warm cache.
func BenchmarkEntityQuery(b *testing.B) {
	h, q := benchHandler(b)
	benchOperation(b, h, q, benchcat.EntityByRef)
}

// BenchmarkOperations runs the load test's other operations in process: (2) an owner's page,
// (3) the same with facets, (4) text search.
func BenchmarkOperations(b *testing.B) {
	h, q := benchHandler(b)
	for _, op := range []benchcat.Operation{benchcat.OwnerPage, benchcat.OwnerPageFacets, benchcat.TextSearch} {
		b.Run(op.Name, func(b *testing.B) { benchOperation(b, h, q, op) })
	}
}

// BenchmarkWholeEntities runs the whole-entity operations (what a Backstage user's tooling asks
// for) with the response cache off, once with the catalog's read cache warm and once with it off
// (every request reads the database).
func BenchmarkWholeEntities(b *testing.B) {
	for _, c := range []struct {
		name string
		size int
	}{{"entity-cache", 50000}, {"no-cache", 0}} {
		b.Run(c.name, func(b *testing.B) {
			h, q := benchHandlerWith(b, c.size)
			for _, op := range []benchcat.Operation{benchcat.EntityWhole, benchcat.OwnerPageWhole, benchcat.SearchWhole} {
				b.Run(op.Name, func(b *testing.B) { benchOperation(b, h, q, op) })
			}
		})
	}
}

// BenchmarkCatalogFacets runs the catalog page's first view (facets over the whole catalog, and
// over the components with their first page) with the response cache and the catalog's read
// cache off: every request reads the kept counts.
func BenchmarkCatalogFacets(b *testing.B) {
	h, q := benchHandlerWith(b, 0)
	for _, op := range benchcat.CatalogOperations() {
		b.Run(op.Name, func(b *testing.B) { benchOperation(b, h, q, op) })
	}
}

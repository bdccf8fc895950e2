package server_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth"
	"github.com/portside-dev/portside/bench/baseline"
	"github.com/portside-dev/portside/bench/benchcat"
	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/sources"
	"github.com/portside-dev/portside/graph"
	"github.com/portside-dev/portside/logs"
	"github.com/portside-dev/portside/metrics"
	"github.com/portside-dev/portside/server"
	"github.com/portside-dev/portside/store/storetest"
	"github.com/portside-dev/portside/tracing"
)

// BenchmarkServedWholeEntities serves the whole-entity operations (benchcat.EntityWhole,
// OwnerPageWhole, SearchWhole, and OwnerFacets beside them) through the whole HTTP stack as serve
// builds it — gin with request IDs, the JSON access log (buffered as serve buffers it, then
// written nowhere), metrics and recovery, authentication of a read-only API token, the GraphQL
// handler with serve's limits — with the response cache off and on (every answer then a hit), the
// catalog's read cache warm, one request at a time, on the generated catalog at scale 0.1; and
// once more with the response cache off and tracing on (every request sampled). It is what the
// load driver's operations (6) to (9) cost the server per request, without the socket; CPU time
// per request (cpu-ns/op) beside wall time, since the machine may be shared. Beside them,
// bare-net-http serves each operation's recorded answers with a bare net/http handler (bench/load's
// baseline: read the body, look its answer up by hash, write it), in the same run, so a cached
// hit's cost over the bare limit is their difference.
func BenchmarkServedWholeEntities(b *testing.B) {
	st := storetest.SQLite(b)
	dir := benchcat.Generate(b, 0.1)
	q, err := benchcat.ReadQueries(dir)
	if err != nil {
		b.Fatal(err)
	}
	// As serve logs: JSON through a Buffered (the access log's lines appended to it directly).
	logOut := logs.NewBuffered(io.Discard, 200*time.Millisecond)
	b.Cleanup(func() { _ = logOut.Close() })
	logger, err := logs.New(logOut, "json", "info")
	if err != nil {
		b.Fatal(err)
	}
	auditLog := audit.New(st, nil)
	cat := catalog.NewService(st, catalog.Options{Audit: auditLog, CacheSize: 50000, Logger: logger,
		Readers: map[catalog.LocationType]catalog.Reader{catalog.LocationFile: &sources.Files{}}})
	res, err := cat.RegisterLocation(operator(), catalog.LocationSpec{Type: catalog.LocationFile, Target: dir})
	if err != nil {
		b.Fatal(err)
	}
	if len(res.Errors) > 0 {
		b.Fatalf("ingest: %d errors, first: %v", len(res.Errors), res.Errors[0])
	}
	ids := auth.NewService(st, auth.Options{Directory: cat, Audit: auditLog})
	secret, _, err := ids.CreateToken(operator(), auth.TokenSpec{Username: "bob", Name: "bench", Scopes: []string{"read"}})
	if err != nil {
		b.Fatal(err)
	}
	for _, rc := range []struct {
		name    string
		size    int
		tracing bool
	}{{"response-cache-off", 0, false}, {"response-cache-on", 64 << 20, false}, {"response-cache-off-tracing-on", 0, true}} {
		m := metrics.New()
		var tr *tracing.Tracing // off, as serve without tracing-endpoint
		if rc.tracing {
			// Every request sampled, its spans handed to an exporter that drops them: the cost of
			// making the spans, not of sending them. Last: the gorm callbacks stay on the store.
			if tr, err = tracing.New(tracing.Options{Exporter: tracetest.NewNoopExporter(), SampleRatio: 1}); err != nil {
				b.Fatal(err)
			}
			if err := tr.Gorm(st.Gorm()); err != nil {
				b.Fatal(err)
			}
		}
		gql := graph.NewHandler(&graph.Resolver{Catalog: cat, Auth: ids, Audit: auditLog}, graph.HandlerOptions{
			MaxDepth: 12, MaxComplexity: 20000, Logger: logger, Observer: m, ResponseCacheSize: rc.size, Tracing: tr.GraphQL(),
		})
		srv := server.New(server.Options{GraphQL: gql, Ready: st.CheckReady, Metrics: m, Logger: logger, Tracing: tr.Gin(),
			ShutdownTimeout: time.Second, Identity: &server.Identity{Auth: ids, Audit: auditLog,
				PublicURL: &url.URL{Scheme: "http", Host: "127.0.0.1:7007"}}})
		b.Run(rc.name, func(b *testing.B) { benchServed(b, srv.Handler(), secret, q) })
		if rc.size > 0 {
			b.Run("bare-net-http", func(b *testing.B) { benchServed(b, bareHandler(b, srv.Handler(), secret, q), secret, q) })
		}
	}
}

// bareHandler records h's answer to every body of the operations and answers them the way the
// load driver's bare net/http server does (package bench/baseline).
func bareHandler(b *testing.B, h http.Handler, secret string, q *benchcat.Queries) http.Handler {
	answers := baseline.Answers{}
	for _, op := range benchcat.BackstageOperations() {
		bodies, err := op.Bodies(q)
		if err != nil {
			b.Fatal(err)
		}
		for _, body := range bodies {
			req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/graphql-response+json, application/json")
			req.Header.Set("Authorization", "Bearer "+secret)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			answers.Add(body, rec.Body.Bytes())
		}
	}
	return baseline.Handler(answers)
}

// benchServed runs the whole-entity operations against h, one sub-benchmark each.
func benchServed(b *testing.B, h http.Handler, secret string, q *benchcat.Queries) {
	serve := func(body []byte) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/graphql-response+json, application/json")
		req.Header.Set("Authorization", "Bearer "+secret)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for _, op := range benchcat.BackstageOperations() {
		b.Run(op.Name, func(b *testing.B) {
			bodies, err := op.Bodies(q)
			if err != nil {
				b.Fatal(err)
			}
			for _, body := range bodies { // checked once, which warms the caches
				rec := serve(body)
				if rec.Code != http.StatusOK || bytes.Contains(rec.Body.Bytes(), []byte(`"errors":`)) ||
					bytes.Contains(rec.Body.Bytes(), []byte(`"entity":null`)) {
					b.Fatalf("%s: %d %s\nfor %s", op.Name, rec.Code, rec.Body.Bytes(), body)
				}
			}
			b.ReportAllocs()
			cpu0 := processCPU()
			i := 0
			for b.Loop() {
				if rec := serve(bodies[i%len(bodies)]); rec.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", op.Name, rec.Code, rec.Body.Bytes())
				}
				i++
			}
			if i > 0 {
				b.ReportMetric(float64(processCPU()-cpu0)/float64(i), "cpu-ns/op")
			}
		})
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

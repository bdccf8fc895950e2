package server_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth"
	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/sources"
	"github.com/portside-dev/portside/graph"
	"github.com/portside-dev/portside/logs"
	"github.com/portside-dev/portside/server"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
	"github.com/portside-dev/portside/tracing"
)

// tracedServer is the HTTP stack as serve builds it with tracing-endpoint set, its spans going to
// an in-memory exporter, over a catalog of 60 components owned by team-a (read from the database
// every time: the caches are off).
type tracedServer struct {
	handler http.Handler
	spans   *tracetest.InMemoryExporter
	log     *logBuffer
	token   string
}

func newTracedServer(t *testing.T, st *store.Store, tr *tracing.Tracing, spans *tracetest.InMemoryExporter) *tracedServer {
	t.Helper()
	if err := tr.Gorm(st.Gorm()); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var doc strings.Builder
	doc.WriteString("apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-a\nspec:\n  type: team\n  children: []\n")
	for i := range 60 {
		fmt.Fprintf(&doc, "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: svc-%02d\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n", i)
	}
	if err := os.WriteFile(filepath.Join(dir, "catalog-info.yaml"), []byte(doc.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	buf := &logBuffer{}
	logger, err := logs.New(buf, "json", "info")
	if err != nil {
		t.Fatal(err)
	}
	auditLog := audit.New(st, nil)
	cat := catalog.NewService(st, catalog.Options{Audit: auditLog, CacheSize: 0, Logger: logger,
		Readers: map[catalog.LocationType]catalog.Reader{catalog.LocationFile: &sources.Files{}}})
	if _, err := cat.RegisterLocation(operator(), catalog.LocationSpec{Type: catalog.LocationFile, Target: dir}); err != nil {
		t.Fatal(err)
	}
	ids := auth.NewService(st, auth.Options{Directory: cat, Audit: auditLog})
	secret, _, err := ids.CreateToken(operator(), auth.TokenSpec{Username: "bob", Name: "trace", Scopes: []string{"read"}})
	if err != nil {
		t.Fatal(err)
	}
	gql := graph.NewHandler(&graph.Resolver{Catalog: cat, Auth: ids, Audit: auditLog}, graph.HandlerOptions{
		MaxDepth: 12, MaxComplexity: 20000, Logger: logger, Tracing: tr.GraphQL()})
	srv := server.New(server.Options{GraphQL: gql, Logger: logger, ShutdownTimeout: time.Second, Tracing: tr.Gin(),
		Identity: &server.Identity{Auth: ids, Audit: auditLog, PublicURL: &url.URL{Scheme: "http", Host: "127.0.0.1:7007"}}})
	if spans != nil {
		spans.Reset() // the setting of the scene made none (no trace), but be sure
	}
	return &tracedServer{handler: srv.Handler(), spans: spans, log: buf, token: secret}
}

// pageQuery reads a page of 50 components with each one's owner twice: 100 owner resolvers.
const pageQuery = `{"query":"query Page { entities(first: 50, filter: {kinds: [\"Component\"]}) { edges { node { name ... on Component { owner { name } team: owner { name } } } } } }"}`

func (s *tracedServer) post(t *testing.T, body string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader([]byte(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/graphql-response+json")
	req.Header.Set("Authorization", "Bearer "+s.token)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), `"errors"`) {
		t.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
	return rec
}

func spanAttr(s tracetest.SpanStub, key string) (string, bool) {
	for _, kv := range s.Attributes {
		if string(kv.Key) == key {
			return kv.Value.Emit(), true
		}
	}
	return "", false
}

func TestAGraphQLRequestIsOneTraceOfHTTPOperationResolverAndDatabaseSpans(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		exp := tracetest.NewInMemoryExporter()
		tr, err := tracing.New(tracing.Options{Exporter: exp, SampleRatio: 1})
		if err != nil {
			t.Fatal(err)
		}
		s := newTracedServer(t, st, tr, exp)
		rec := s.post(t, pageQuery, nil)
		if n := strings.Count(rec.Body.String(), `{"name":"team-a"}`); n != 100 {
			t.Fatalf("%d owners in the answer, want 100: %s", n, rec.Body.String())
		}

		spans := exp.GetSpans()
		byID := map[trace.SpanID]tracetest.SpanStub{}
		var httpSpan, opSpan, rootResolver tracetest.SpanStub
		var resolvers, dbSpans []tracetest.SpanStub
		for _, sp := range spans {
			byID[sp.SpanContext.SpanID()] = sp
			switch {
			case sp.Name == "POST /graphql":
				httpSpan = sp
			case sp.Name == "query Page":
				opSpan = sp
			case sp.Name == "Query.entities":
				rootResolver = sp
				resolvers = append(resolvers, sp)
			case strings.HasPrefix(sp.Name, "db."):
				dbSpans = append(dbSpans, sp)
			case strings.Contains(sp.Name, "."):
				resolvers = append(resolvers, sp)
			}
		}
		if httpSpan.Name == "" || opSpan.Name == "" || rootResolver.Name == "" || len(dbSpans) == 0 {
			t.Fatalf("want HTTP, operation, resolver and database spans; got %v", names(spans))
		}
		traceID := httpSpan.SpanContext.TraceID()
		for _, sp := range spans {
			if sp.SpanContext.TraceID() != traceID {
				t.Errorf("span %s is in trace %s, not the request's %s", sp.Name, sp.SpanContext.TraceID(), traceID)
			}
		}
		if httpSpan.Parent.IsValid() || httpSpan.SpanKind != trace.SpanKindServer {
			t.Errorf("the HTTP span should be the root server span: parent %v kind %v", httpSpan.Parent, httpSpan.SpanKind)
		}
		if route, _ := spanAttr(httpSpan, "http.route"); route != "/graphql" {
			t.Errorf("http.route = %q", route)
		}
		if status, _ := spanAttr(httpSpan, "http.response.status_code"); status != "200" {
			t.Errorf("http.response.status_code = %q", status)
		}
		if opSpan.Parent.SpanID() != httpSpan.SpanContext.SpanID() {
			t.Errorf("the operation span's parent is %s, want the HTTP span", byID[opSpan.Parent.SpanID()].Name)
		}
		if rootResolver.Parent.SpanID() != opSpan.SpanContext.SpanID() {
			t.Errorf("Query.entities's parent is %s, want the operation span", byID[rootResolver.Parent.SpanID()].Name)
		}
		for _, r := range resolvers {
			if !descends(r, opSpan, byID) {
				t.Errorf("resolver span %s is not under the operation", r.Name)
			}
		}
		// Authentication reads its token before the operation starts: under the HTTP span; the
		// catalog's reads under the resolvers that make them.
		var underRoot int
		for _, d := range dbSpans {
			if d.SpanKind != trace.SpanKindClient || !descends(d, httpSpan, byID) {
				t.Errorf("database span %s (kind %v) is not a client span under the request", d.Name, d.SpanKind)
			}
			if d.Parent.SpanID() == rootResolver.SpanContext.SpanID() {
				underRoot++
			}
		}
		if underRoot == 0 {
			t.Errorf("no database span under Query.entities; database spans' parents: %v", parents(dbSpans, byID))
		}
		// The page's 100 owner resolvers (and the root's) are bounded: the cost of tracing a page
		// does not grow with it.
		if len(resolvers) > tracing.MaxResolverSpans {
			t.Errorf("%d resolver spans, more than the bound %d", len(resolvers), tracing.MaxResolverSpans)
		}
		used, _ := spanAttr(opSpan, "graphql.resolver_spans")
		dropped, _ := spanAttr(opSpan, "graphql.resolver_spans_dropped")
		if used != fmt.Sprint(len(resolvers)) || dropped == "0" || dropped == "" {
			t.Errorf("operation span says %s resolver spans, %s dropped; %d exported, and a page of 50 owners must overrun %d",
				used, dropped, len(resolvers), tracing.MaxResolverSpans)
		}

		// Every log line of the request carries the trace: the access log's with the HTTP span.
		var accessLines int
		for _, line := range s.log.find(t, "http request") {
			accessLines++
			if line[logs.TraceIDKey] != traceID.String() || line[logs.SpanIDKey] != httpSpan.SpanContext.SpanID().String() {
				t.Errorf("access log line %v does not carry the trace %s and HTTP span %s", line, traceID, httpSpan.SpanContext.SpanID())
			}
			if line[logs.RequestIDKey] == nil || line[logs.RequestIDKey] == "" {
				t.Errorf("access log line %v lost its request_id", line)
			}
			if id, _ := spanAttr(httpSpan, "portside.request_id"); id != line[logs.RequestIDKey] {
				t.Errorf("the HTTP span's request ID %q is not the log line's %v", id, line[logs.RequestIDKey])
			}
		}
		if accessLines != 1 {
			t.Errorf("%d access log lines, want 1", accessLines)
		}
	})
}

func TestACallersTraceparentIsContinued(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tr, err := tracing.New(tracing.Options{Exporter: exp, SampleRatio: 0}) // new traces: none
	if err != nil {
		t.Fatal(err)
	}
	s := newTracedServer(t, storetest.SQLite(t), tr, exp)
	s.post(t, pageQuery, nil)
	if n := len(exp.GetSpans()); n != 0 {
		t.Fatalf("ratio 0 recorded %d spans of a request that came without a trace", n)
	}
	const caller = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	s.post(t, pageQuery, http.Header{"Traceparent": {caller}})
	spans := exp.GetSpans()
	if len(spans) == 0 {
		t.Fatal("the caller's sampled trace was not recorded")
	}
	for _, sp := range spans {
		if sp.SpanContext.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" {
			t.Errorf("span %s is in trace %s, not the caller's", sp.Name, sp.SpanContext.TraceID())
		}
		if sp.Name == "POST /graphql" && sp.Parent.SpanID().String() != "00f067aa0ba902b7" {
			t.Errorf("the HTTP span's parent is %s, want the caller's span", sp.Parent.SpanID())
		}
	}
}

func TestWithTracingOffNothingIsRecordedAndLogsCarryNoTraceID(t *testing.T) {
	tr, err := tracing.New(tracing.Options{}) // serve without tracing-endpoint
	if err != nil {
		t.Fatal(err)
	}
	st := storetest.SQLite(t)
	s := newTracedServer(t, st, tr, nil)
	s.post(t, pageQuery, nil)
	if st.Gorm().Callback().Query().Get("tracing:before_query") != nil {
		t.Error("tracing off registered gorm callbacks")
	}
	lines := s.log.find(t, "http request")
	if len(lines) != 1 {
		t.Fatalf("%d access log lines", len(lines))
	}
	if _, has := lines[0][logs.TraceIDKey]; has {
		t.Errorf("tracing off, a log line carries a trace ID: %v", lines[0])
	}
}

// descends says whether s is under ancestor.
func descends(s, ancestor tracetest.SpanStub, byID map[trace.SpanID]tracetest.SpanStub) bool {
	for p := s.Parent.SpanID(); p.IsValid(); {
		if p == ancestor.SpanContext.SpanID() {
			return true
		}
		next, ok := byID[p]
		if !ok {
			return false
		}
		p = next.Parent.SpanID()
	}
	return false
}

func names(spans tracetest.SpanStubs) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name
	}
	return out
}

func parents(spans []tracetest.SpanStub, byID map[trace.SpanID]tracetest.SpanStub) []string {
	out := make([]string, len(spans))
	for i, s := range spans {
		out[i] = s.Name + "<" + byID[s.Parent.SpanID()].Name
	}
	return out
}

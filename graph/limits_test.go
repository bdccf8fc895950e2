package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portside-dev/portside/auth"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/sources"
	"github.com/portside-dev/portside/graph"
	"github.com/portside-dev/portside/graph/gqlws"
	"github.com/portside-dev/portside/logs"
	"github.com/portside-dev/portside/store/storetest"
)

// limitedHandler is the GraphQL handler over testdata/catalog with the given options (Logger
// filled in, the depth and complexity limits serve's defaults where not given), and its log.
func limitedHandler(t *testing.T, opts graph.HandlerOptions) (http.Handler, *httpLogBuffer) {
	t.Helper()
	st := storetest.SQLite(t)
	svc := catalog.NewService(st, catalog.Options{
		Readers: map[catalog.LocationType]catalog.Reader{catalog.LocationFile: &sources.Files{}},
		Logger:  slog.New(slog.DiscardHandler),
	})
	if _, err := svc.RegisterLocation(operator, catalog.LocationSpec{Type: catalog.LocationFile, Target: "testdata/catalog"}); err != nil {
		t.Fatal(err)
	}
	buf := &httpLogBuffer{}
	logger, err := logs.New(buf, "json", "debug")
	if err != nil {
		t.Fatal(err)
	}
	opts.Logger = logger
	if opts.MaxDepth == 0 {
		opts.MaxDepth = 12
	}
	if opts.MaxComplexity == 0 {
		opts.MaxComplexity = 5000
	}
	return signedIn(graph.NewHandler(&graph.Resolver{Catalog: svc}, opts)), buf
}

// countingReader yields n bytes of a JSON string's inside and counts what was read of it.
type countingReader struct {
	left, read int
}

func (r *countingReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	n := min(len(p), r.left)
	for i := range n {
		p[i] = 'x'
	}
	r.left -= n
	r.read += n
	return n, nil
}

func postBody(h http.Handler, body io.Reader, contentLength int64, accept string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, "/graphql", body)
	req.ContentLength = contentLength
	req.Header.Set("Content-Type", "application/json")
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	req = req.WithContext(logs.WithRequestID(req.Context(), "req-test-1"))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// A body without a length (chunked) over the bound is refused with 413, having read no more than
// the bound: a 50 MB chunked body was read whole and answered 200 with an internal error.
func TestChunkedBodiesOverTheLimitAre413WithoutReadingThemWhole(t *testing.T) {
	tests := []struct {
		name    string
		opts    graph.HandlerOptions
		limit   int
		bodyLen int
	}{
		{"default bound, 50 MB body", graph.HandlerOptions{}, graph.MaxBodyBytes, 50 << 20},
		{"graphql-max-body-bytes 4096", graph.HandlerOptions{MaxBodyBytes: 4096}, 4096, 5000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := limitedHandler(t, tt.opts)
			pad := &countingReader{left: tt.bodyLen}
			body := io.MultiReader(strings.NewReader(`{"query":"{ entities { totalCount } }","variables":{"pad":"`), pad, strings.NewReader(`"}}`))
			rec := postBody(h, body, -1, mediaGraphQLResponse)
			if rec.Code != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d, want 413; body %s", rec.Code, rec.Body)
			}
			if pad.read > tt.limit+64<<10 {
				t.Errorf("read %d bytes of the body; want no more than the bound %d (and a buffer)", pad.read, tt.limit)
			}
			got := decodeHTTP(t, rec).onlyError(t)
			if got.Extensions["code"] != "INVALID" || !strings.Contains(got.Message, "graphql-max-body-bytes") {
				t.Errorf("error %+v: want code INVALID and a message naming graphql-max-body-bytes", got)
			}
		})
	}
	// Under the bound, a chunked body is served as usual.
	h, _ := limitedHandler(t, graph.HandlerOptions{MaxBodyBytes: 4096})
	rec := postBody(h, strings.NewReader(`{"query":"{ entities { totalCount } }"}`), -1, mediaGraphQLResponse)
	var got struct{ Entities struct{ TotalCount int } }
	decodeHTTP(t, rec).data(t, &got)
	if got.Entities.TotalCount != 6 {
		t.Errorf("chunked body under the bound: totalCount %d, want 6", got.Entities.TotalCount)
	}
}

// Bodies that are not one JSON operation are the client's mistake: 400 INVALID with a reason,
// and neither the answer nor the log quotes the body (it may hold a secret).
func TestBodiesThatAreNotOneJSONOperationAreInvalidAndNeverLogged(t *testing.T) {
	const secret = "hunter2-s3cret"
	tests := []struct {
		name, body, reason string
	}{
		{"a batch (JSON array)", `[{"query":"{ entities { totalCount } }","variables":{"token":"` + secret + `"}}]`, "BATCHING_NOT_SUPPORTED"},
		{"a batch after whitespace", " \n\t[{\"query\":\"{ x }\"}, {\"query\":\"" + secret + "\"}]", "BATCHING_NOT_SUPPORTED"},
		{"malformed JSON", `{"query":"{ entities { totalCount } }","variables":{"token":"` + secret + `"`, "INVALID_JSON"},
		{"not JSON at all", `token=` + secret, "INVALID_JSON"},
		{"query of the wrong type", `{"query":42,"variables":{"token":"` + secret + `"}}`, "INVALID_JSON"},
		{"variables of the wrong type", `{"query":"{ entities { totalCount } }","variables":["` + secret + `"]}`, "INVALID_JSON"},
		// One object and nothing after it: the rest was silently ignored.
		{"text after the object", `{"query":"{ entities { totalCount } }"} trailing ` + secret, "INVALID_JSON"},
		{"two objects", `{"query":"{ entities { totalCount } }"}` + "\n" + `{"query":"mutation { ` + secret + ` }"}`, "INVALID_JSON"},
		{"null", ` null `, "INVALID_JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, log := limitedHandler(t, graph.HandlerOptions{})
			rec := postBody(h, strings.NewReader(tt.body), int64(len(tt.body)), mediaGraphQLResponse)
			if rec.Code != http.StatusBadRequest {
				t.Errorf("status %d, want 400", rec.Code)
			}
			got := decodeHTTP(t, rec).onlyError(t)
			if got.Extensions["code"] != "INVALID" || got.Extensions["reason"] != tt.reason {
				t.Errorf("extensions %v, want code INVALID, reason %s", got.Extensions, tt.reason)
			}
			if strings.Contains(rec.Body.String(), secret) {
				t.Errorf("the answer quotes the body: %s", rec.Body)
			}
			if strings.Contains(log.String(), secret) {
				t.Errorf("the log quotes the body:\n%s", log)
			}
		})
	}
}

// Documents whose text is larger or deeper than any real operation are refused before the parser
// sees them (a 400 kB document of nested lists cost 55 s of parsing), by POST and by GET, with
// the status the spec gives a document that does not parse.
func TestDocumentsOverTheParseBoundsAreRefusedBeforeParsing(t *testing.T) {
	nested := `{ entities(filter: {kinds: ` + strings.Repeat("[", 200_000) + `"Component"` + strings.Repeat("]", 200_000) + `}) { totalCount } }`
	long := `{ entities { ` + strings.Repeat("totalCount ", 20_000) + `} }`
	doubling := func(n int) string { // each fragment spreads the next twice: 2^n fields
		var b strings.Builder
		b.WriteString("query { ...F0 }\n")
		for i := range n {
			fmt.Fprintf(&b, "fragment F%d on Query { ...F%d ...F%d }\n", i, i+1, i+1)
		}
		fmt.Fprintf(&b, "fragment F%d on Query { entities { totalCount } }\n", n)
		return b.String()
	}
	tests := []struct {
		name, query, reason string
	}{
		{"nested list literals", nested, "DOCUMENT_TOO_DEEP"},
		{"nested selections", strings.Repeat("{ a ", 100) + strings.Repeat("}", 100), "DOCUMENT_TOO_DEEP"},
		{"too many tokens", long, "DOCUMENT_TOO_LARGE"},
		// The validator compares every pair of same-named fields: 67 s for these 14,000.
		{"one name selected 14,000 times", `{ entities { ` + strings.Repeat("totalCount ", 14_000) + `} }`, "DOCUMENT_TOO_LARGE"},
		{"one name selected through fragments", `{ entities { ...A ...B } } fragment A on EntityConnection { ` + strings.Repeat("totalCount ", 30) +
			`} fragment B on EntityConnection { ` + strings.Repeat("totalCount ", 30) + `}`, "DOCUMENT_TOO_LARGE"},
		// The validator looks fragments up in a list: 14 s for 1,400 of them.
		{"too many fragments", doubling(1400), "DOCUMENT_TOO_LARGE"},
		// gqlgen's complexity walk spreads fragments wherever they are used: hours for 40.
		{"fragments doubling 40 deep", doubling(40), "COMPLEXITY_LIMIT_EXCEEDED"},
	}
	h, _ := limitedHandler(t, graph.HandlerOptions{MaxComplexity: 1_000_000, MaxDepth: 12})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, _ := json.Marshal(map[string]string{"query": tt.query})
			for _, accept := range []string{mediaGraphQLResponse, mediaJSON} {
				rec := postBody(h, strings.NewReader(string(body)), int64(len(body)), accept)
				want := map[string]int{mediaGraphQLResponse: http.StatusBadRequest, mediaJSON: http.StatusOK}[accept]
				if rec.Code != want {
					t.Errorf("POST, Accept %s: status %d, want %d", accept, rec.Code, want)
				}
				got := decodeHTTP(t, rec).onlyError(t)
				if got.Extensions["code"] != "INVALID" || got.Extensions["reason"] != tt.reason {
					t.Errorf("POST: extensions %v, want code INVALID, reason %s", got.Extensions, tt.reason)
				}
			}
			if len(tt.query) < 500_000 { // what a URL can carry
				req := httptest.NewRequest(http.MethodGet, "/graphql?query="+url.QueryEscape(tt.query), nil)
				req.Header.Set("Accept", mediaGraphQLResponse)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if got := decodeHTTP(t, rec).onlyError(t); got.Extensions["reason"] != tt.reason {
					t.Errorf("GET: extensions %v, want reason %s", got.Extensions, tt.reason)
				}
			}
		})
	}
	// Brackets and words inside strings and comments count for nothing; the document runs (the
	// string's brackets alone nest past maxDocumentNesting; a text is at most 200 bytes).
	quiet := "# " + strings.Repeat("[", 1000) + "\n" + `{ entities(filter: {text: "` + strings.Repeat("[", 100) + ` ledger"}) { totalCount } }`
	body, _ := json.Marshal(map[string]string{"query": quiet})
	var got struct{ Entities struct{ TotalCount int } }
	decodeHTTP(t, postBody(h, strings.NewReader(string(body)), int64(len(body)), mediaGraphQLResponse)).data(t, &got)
	if got.Entities.TotalCount != 1 {
		t.Errorf("a document with brackets in a comment and a string: totalCount %d, want 1", got.Entities.TotalCount)
	}
}

// An operation that outlives graphql-timeout is stopped and answered with one clear error
// naming the setting, never with its partial data.
func TestOperationsPastTheTimeoutAreAnsweredUnavailableNamingTheSetting(t *testing.T) {
	// A deadline of a nanosecond has passed before the first resolver runs: no waiting needed.
	h, log := limitedHandler(t, graph.HandlerOptions{Timeout: time.Nanosecond})
	rec := postBody(h, strings.NewReader(`{"query":"{ entities { totalCount nodes { name } } }"}`), -1, mediaGraphQLResponse)
	resp := decodeHTTP(t, rec)
	got := resp.onlyError(t)
	if got.Extensions["code"] != "UNAVAILABLE" || got.Extensions["reason"] != "TIMEOUT" {
		t.Errorf("extensions %v, want code UNAVAILABLE, reason TIMEOUT", got.Extensions)
	}
	if !strings.Contains(got.Message, "graphql-timeout") {
		t.Errorf("message %q does not name the setting graphql-timeout", got.Message)
	}
	if len(resp.Data) > 0 && string(resp.Data) != "null" {
		t.Errorf("a timed-out operation answered data %s", resp.Data)
	}
	if strings.Contains(log.String(), `"level":"ERROR"`) {
		t.Errorf("a timeout is not an internal error, yet it was logged as one:\n%s", log)
	}
}

// An answer larger than graphql-max-response-bytes is refused with one error naming the setting,
// both when it is found out while resolving and when only the finished answer shows it.
func TestAnswersOverTheResponseCapAreRefusedNamingTheSetting(t *testing.T) {
	for _, maxBytes := range []int{20, 300} {
		t.Run(fmt.Sprint(maxBytes), func(t *testing.T) {
			h, _ := limitedHandler(t, graph.HandlerOptions{MaxResponseBytes: maxBytes})
			rec := postBody(h, strings.NewReader(`{"query":"{ entities { nodes { ref name description tags } } }"}`), -1, mediaGraphQLResponse)
			resp := decodeHTTP(t, rec)
			got := resp.onlyError(t)
			if got.Extensions["code"] != "INVALID" || got.Extensions["reason"] != "RESPONSE_TOO_LARGE" {
				t.Errorf("extensions %v, want code INVALID, reason RESPONSE_TOO_LARGE", got.Extensions)
			}
			if !strings.Contains(got.Message, "graphql-max-response-bytes") {
				t.Errorf("message %q does not name the setting graphql-max-response-bytes", got.Message)
			}
		})
	}
	// Under the cap, the same query answers.
	h, _ := limitedHandler(t, graph.HandlerOptions{MaxResponseBytes: 1 << 20})
	var got struct {
		Entities struct{ Nodes []struct{ Name string } }
	}
	decodeHTTP(t, postBody(h, strings.NewReader(`{"query":"{ entities { nodes { ref name description tags } } }"}`), -1, "")).data(t, &got)
	if len(got.Entities.Nodes) != 6 {
		t.Errorf("under the cap: %d entities, want 6", len(got.Entities.Nodes))
	}
}

// List arguments have documented bounds, answered INVALID naming the field: a filter of 100,000
// kinds failed inside the database as an internal error, and a relation list's first is 1 to
// graph.RelationListMax.
func TestListArgumentsOverTheirBoundsAreInvalidNamingTheField(t *testing.T) {
	many := make([]string, 50_000)
	for i := range many {
		many[i] = "c"
	}
	tests := []struct {
		name, query string
		variables   map[string]any
		field       string
	}{
		{"50,000 kinds", `query($k: [String!]) { entities(filter: {kinds: $k}) { totalCount } }`, map[string]any{"k": many}, "filter.kinds"},
		{"50,000 tags in facets", `query($k: [String!]) { facets(filter: {tags: $k}, fields: [KIND]) { field } }`, map[string]any{"k": many}, "filter.tags"},
		{fmt.Sprintf("%d owners", catalog.MaxFilterValues+1), `query($k: [String!]) { entities(filter: {owners: $k}) { totalCount } }`, map[string]any{"k": many[:catalog.MaxFilterValues+1]}, "filter.owners"},
		{"relation list first 0", `{ entity(ref: "group:platform") { ... on Group { children(first: 0) { name } } } }`, nil, "first"},
		{"relation list first over the max", fmt.Sprintf(`{ entity(ref: "group:platform") { ... on Group { children(first: %d) { name } } } }`, graph.RelationListMax+1), nil, "first"},
		{"relations first over the max", fmt.Sprintf(`{ entity(ref: "group:platform") { relations(first: %d) { type } } }`, graph.RelationListMax+1), nil, "first"},
	}
	h, _ := limitedHandler(t, graph.HandlerOptions{MaxComplexity: 1_000_000})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, err := json.Marshal(map[string]any{"query": tt.query, "variables": tt.variables})
			if err != nil {
				t.Fatal(err)
			}
			got := decodeHTTP(t, postBody(h, strings.NewReader(string(body)), int64(len(body)), mediaGraphQLResponse)).onlyError(t)
			if got.Extensions["code"] != "INVALID" || got.Extensions["field"] != tt.field {
				t.Errorf("error %+v: want code INVALID naming field %s", got, tt.field)
			}
		})
	}
	// Within the bounds, relation lists are cut at first.
	var got struct {
		Entity struct {
			Children  []struct{ Name string }
			Relations []struct{ Type string }
		}
	}
	decodeHTTP(t, postBody(h, strings.NewReader(mustJSON(t, `{ entity(ref: "group:platform") { relations(first: 1) { type } ... on Group { children(first: 1) { name } } } }`)), -1, "")).data(t, &got)
	if len(got.Entity.Children) != 1 || len(got.Entity.Relations) != 1 {
		t.Errorf("first: 1 gave %d children and %d relations, want 1 each", len(got.Entity.Children), len(got.Entity.Relations))
	}
}

// Distinct large documents do not grow the server for good: the parsed-document cache, the
// response cache and its memo of which operations it may keep are bounded by bytes. 300 distinct
// documents of 900 kB took a server from 266 MB to 901 MB, never reclaimed.
func TestDistinctLargeDocumentsDoNotGrowTheHeapForGood(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 135 MB of documents")
	}
	h, _ := limitedHandler(t, graph.HandlerOptions{ResponseCacheSize: 1000})
	padding := strings.Repeat("x", 900<<10)
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	for i := range 150 {
		// A comment makes each document distinct and large, for the price of one token.
		q := fmt.Sprintf("# %d %s\n{ entities { totalCount } }", i, padding)
		rec := postBody(h, strings.NewReader(mustJSON(t, q)), -1, mediaGraphQLResponse)
		if rec.Code != http.StatusOK {
			t.Fatalf("document %d: status %d: %s", i, rec.Code, rec.Body)
		}
	}
	grown := int64(heap()) - int64(before)
	runtime.KeepAlive(h) // the caches live as long as the handler: measure them with it
	// The caches' budgets together are 168 MB at most, and documents this large are not kept at
	// all; without byte bounds each was kept twice (270 MB).
	if grown > 64<<20 {
		t.Errorf("the live heap grew by %d MB after 150 distinct 900 kB documents; want it bounded (< 64 MB)", grown>>20)
	}
	t.Logf("live heap grew by %.1f MB", float64(grown)/(1<<20))
}

// Operations sent over a WebSocket meet the same document bounds as those sent over HTTP: no HTTP
// wrapper sees them, so the bounds run inside gqlgen, before it parses.
func TestDocumentsOverTheBoundsAreRefusedOnASocketToo(t *testing.T) {
	doubling := func(n int) string {
		var b strings.Builder
		b.WriteString("query { ...F0 }\n")
		for i := range n {
			fmt.Fprintf(&b, "fragment F%d on Query { ...F%d ...F%d }\n", i, i+1, i+1)
		}
		fmt.Fprintf(&b, "fragment F%d on Query { entities { totalCount } }\n", n)
		return b.String()
	}
	// A socket needs a credential that identity can check again for every operation.
	st := storetest.SQLite(t)
	ids := auth.NewService(st, auth.Options{})
	creds := auth.Credentials{}
	var err error
	creds.Bearer, _, err = ids.CreateToken(operator, auth.TokenSpec{Username: "robot", Name: "socket", TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	svc := catalog.NewService(st, catalog.Options{Logger: slog.New(slog.DiscardHandler)})
	h := graph.NewHandler(&graph.Resolver{Catalog: svc, Auth: ids}, graph.HandlerOptions{MaxComplexity: 1_000_000, MaxDepth: 12,
		Logger: slog.New(slog.DiscardHandler)})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := ids.Authenticate(r.Context(), creds)
		if err != nil {
			t.Errorf("authenticate: %v", err)
		}
		h.ServeHTTP(w, r.WithContext(auth.WithCredentials(principal.With(r.Context(), p), creds)))
	}))
	t.Cleanup(srv.Close)
	ws := "ws" + strings.TrimPrefix(srv.URL, "http") + "/graphql"
	for _, tt := range []struct{ name, query, reason string }{
		{"nested selections", strings.Repeat("{ a ", 100) + strings.Repeat("}", 100), "DOCUMENT_TOO_DEEP"},
		{"one name selected 60 times", `{ entities { ` + strings.Repeat("totalCount ", 60) + `} }`, "DOCUMENT_TOO_LARGE"},
		{"fragments doubling 40 deep", doubling(40), "COMPLEXITY_LIMIT_EXCEEDED"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			sub, _, err := gqlws.Subscribe(ctx, ws, http.Header{}, tt.query)
			if err != nil {
				t.Fatalf("subscribe: %v", err)
			}
			defer sub.Close()
			_, err = sub.Next(ctx)
			if err == nil || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("over a socket: %v, want an error with reason %s", err, tt.reason)
			}
		})
	}
}

// queueGauge is the metrics serve gives the handler, as far as the query gate is concerned.
type queueGauge struct{ now, most atomic.Int64 }

func (*queueGauge) GraphQLOperation(string, string, bool, time.Duration) {}
func (g *queueGauge) GraphQLQueriesWaiting(delta int) {
	n := g.now.Add(int64(delta))
	for m := g.most.Load(); n > m && !g.most.CompareAndSwap(m, n); m = g.most.Load() {
	}
}

// With graphql-max-concurrent-queries at 1, queries sent together take turns: some wait (the
// metrics hear of it), every one is answered in full, and none is left counted as waiting.
func TestQueriesSentTogetherTakeTurnsUnderTheBound(t *testing.T) {
	gauge := &queueGauge{}
	h, _ := limitedHandler(t, graph.HandlerOptions{MaxConcurrentQueries: 1, Observer: gauge})
	const body = `{"query":"{ entities(first: 20) { totalCount nodes { ref name title } } }"}`
	want := postBody(h, strings.NewReader(body), -1, mediaGraphQLResponse)
	if want.Code != http.StatusOK {
		t.Fatalf("status %d: %s", want.Code, want.Body)
	}
	// Eight at once, until one of them waited (the first round nearly always does).
	for round := 0; gauge.most.Load() == 0; round++ {
		if round == 50 {
			t.Fatal("50 rounds of 8 queries sent together, and none ever waited for its turn")
		}
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				rec := postBody(h, strings.NewReader(body), -1, mediaGraphQLResponse)
				if rec.Code != http.StatusOK || rec.Body.String() != want.Body.String() {
					t.Errorf("status %d, answer %s; want %s", rec.Code, rec.Body, want.Body)
				}
			})
		}
		wg.Wait()
	}
	if n := gauge.now.Load(); n != 0 {
		t.Errorf("%d queries still counted as waiting", n)
	}
}

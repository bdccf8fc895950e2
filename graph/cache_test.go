package graph_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/client"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/graph"
	"github.com/portside-dev/portside/graph/model"
	"github.com/portside-dev/portside/metrics"
	"github.com/portside-dev/portside/store/storetest"
)

const cachedQuery = `query($ref: String!) { entity(ref: $ref) { ref description ... on Component { owner { name } } } }`

type described struct {
	Entity *struct {
		Ref         string
		Description *string
		Owner       *named
	}
}

func TestRepeatedCatalogQueriesAreAnsweredFromTheResponseCache(t *testing.T) {
	st := storetest.SQLite(t)
	// An entity cache of one entry cannot hold the component and its owner, so only the response
	// cache can answer the repeated query without the database.
	a := newAPIWith(t, st, 1, 100)
	dir := t.TempDir()
	file := filepath.Join(dir, "catalog-info.yaml")
	write := func(description string) {
		doc := "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: team}\nspec: {type: team, children: []}\n---\n" +
			"apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: svc, description: " + description + "}\n" +
			"spec: {type: service, lifecycle: production, owner: team}\n"
		if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("first")
	res, err := a.svc.RegisterLocation(operator, catalog.LocationSpec{Type: catalog.LocationFile, Target: dir})
	if err != nil {
		t.Fatal(err)
	}
	counter := storetest.CountStatements(st.Gorm())
	ask := func(ref string) described {
		var resp described
		a.query(&resp, cachedQuery, client.Var("ref", ref))
		return resp
	}
	if got := ask("component:svc"); got.Entity == nil || *got.Entity.Description != "first" || got.Entity.Owner.Name != "team" {
		t.Fatalf("first answer: %+v", got.Entity)
	}
	counter.Reset()
	if got := ask("component:svc"); *got.Entity.Description != "first" {
		t.Fatalf("repeated answer: %+v", got.Entity)
	}
	if n := counter.Reset(); n != 0 {
		t.Errorf("a repeated query ran %d statements; want it answered from the cache", n)
	}
	// Other variables are another question.
	if got := ask("group:team"); got.Entity == nil || got.Entity.Ref != "group:default/team" {
		t.Errorf("other variables: %+v", got.Entity)
	}
	// A change to the catalog retires every cached answer.
	write("second")
	if _, err := a.svc.Refresh(operator, res.Location.ID); err != nil {
		t.Fatal(err)
	}
	if got := ask("component:svc"); *got.Entity.Description != "second" {
		t.Errorf("after a refresh: %q, want the new description", *got.Entity.Description)
	}
}

func TestQueriesTouchingLocationsOrOtherSchemasAreNotCached(t *testing.T) {
	st := storetest.SQLite(t)
	a := newAPIWith(t, st, 1000, 100).withDemo()
	counter := storetest.CountStatements(st.Gorm())
	for _, q := range []string{
		`{ entity(ref: "component:payments-api") { ref location { status refreshedAt } } }`,
		`{ locations { nodes { status } } }`,
		`{ __schema { queryType { name } } }`,
	} {
		var out map[string]any
		a.query(&out, q)
		counter.Reset()
		a.query(&out, q)
		if n := counter.Reset(); n == 0 && !strings.Contains(q, "__schema") {
			t.Errorf("%s: answered without reading the database; location state must never come from the response cache", q)
		}
	}
}

func TestNodeQueriesAreNotCachedBecauseNodeCanBeALocation(t *testing.T) {
	st := storetest.SQLite(t)
	a := newAPIWith(t, st, 1000, 100).withDemo()
	// A location that provides no entity: removing it leaves the catalog's generation alone.
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "catalog-info.yaml"), []byte("kind: Nothing\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := a.svc.RegisterLocation(operator, catalog.LocationSpec{Type: catalog.LocationFile, Target: dir})
	if err != nil || res.Location.EntityCount != 0 {
		t.Fatalf("register: %+v, %v", res, err)
	}
	id := model.EncodeID("Location", strconv.FormatInt(res.Location.ID, 10))
	var first struct{ Node *struct{ ID string } }
	a.query(&first, `query($id: ID!) { node(id: $id) { id } }`, client.Var("id", id))
	if first.Node == nil {
		t.Fatal("location node not found")
	}
	if _, err := a.svc.UnregisterLocation(operator, res.Location.ID); err != nil {
		t.Fatal(err)
	}
	var again struct{ Node *struct{ ID string } }
	a.query(&again, `query($id: ID!) { node(id: $id) { id } }`, client.Var("id", id))
	if again.Node != nil {
		t.Errorf("an unregistered location is still served: %+v", again.Node)
	}
}

// What the budget refuses (here: an answer over graphql-max-response-bytes) is never kept: the
// cache sees the answer the budget lets out, not the one the executor made. Kept, a late answer
// turned into TIMEOUT would be given again until the catalog changed.
func TestAnswersTheBudgetRefusesAreNotKept(t *testing.T) {
	st := storetest.SQLite(t)
	a := newAPIWith(t, st, 0, 100).withDemo() // no entity cache: every answer made reads the database
	h := signedIn(graph.NewHandler(&graph.Resolver{Catalog: a.svc}, graph.HandlerOptions{MaxDepth: 12, MaxComplexity: 100000,
		Logger: slog.New(slog.DiscardHandler), ResponseCacheSize: 100, MaxResponseBytes: 60}))
	counter := storetest.CountStatements(st.Gorm())
	// Two fields, well within the field count the budget stops at, but a spec longer than the bound.
	const body = `{"query":"{ entity(ref: \"component:payments-api\") { spec } }"}`
	for i := 1; i <= 2; i++ {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		counter.Reset()
		h.ServeHTTP(rec, req)
		if !strings.Contains(rec.Body.String(), "RESPONSE_TOO_LARGE") {
			t.Fatalf("request %d: %d %s, want the budget's refusal", i, rec.Code, rec.Body)
		}
		if n := counter.Reset(); n == 0 {
			t.Errorf("request %d was answered without running the query: a refusal was kept", i)
		}
	}
}

// GET and POST are the same layer: a repeated GET of a catalog query is answered from the cache
// (the same bytes, without the database).
func TestRepeatedGETQueriesAreAnsweredFromTheResponseCache(t *testing.T) {
	st := storetest.SQLite(t)
	a := newAPIWith(t, st, 0, 100).withDemo()
	h := signedIn(graph.NewHandler(&graph.Resolver{Catalog: a.svc}, graph.HandlerOptions{MaxDepth: 12, MaxComplexity: 100000,
		Logger: slog.New(slog.DiscardHandler), ResponseCacheSize: 100}))
	get := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/graphql?query="+url.QueryEscape(`{ entities(first: 3) { totalCount nodes { ref } } }`), nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	counter := storetest.CountStatements(st.Gorm())
	first := get()
	if first.Code != http.StatusOK || !strings.Contains(first.Body.String(), "totalCount") {
		t.Fatalf("first answer: %d %s", first.Code, first.Body)
	}
	counter.Reset()
	again := get()
	if n := counter.Reset(); n != 0 || again.Body.String() != first.Body.String() {
		t.Errorf("the repeated GET ran %d statements and answered %s; want the first answer from the cache", n, again.Body)
	}
}

// A cache hit skips decoding the body, never the checks of the request's media types: the bytes
// of a cached query sent as something other than JSON, or by a client that accepts no JSON, are
// refused as before, and a hit under one Accept header is not given to another.
func TestCachedAnswersKeepTheMediaTypeChecks(t *testing.T) {
	st := storetest.SQLite(t)
	a := newAPIWith(t, st, 0, 100).withDemo()
	h := signedIn(graph.NewHandler(&graph.Resolver{Catalog: a.svc}, graph.HandlerOptions{MaxDepth: 12, MaxComplexity: 100000,
		Logger: slog.New(slog.DiscardHandler), ResponseCacheSize: 100}))
	const body = `{"query":"{ entities(first: 3) { totalCount nodes { ref } } }"}`
	post := func(contentType, accept string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Accept", accept)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	first := post("application/json", "application/json")
	if first.Code != http.StatusOK || first.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("first answer: %d %s %s", first.Code, first.Header().Get("Content-Type"), first.Body)
	}
	counter := storetest.CountStatements(st.Gorm())
	if again := post("application/json", "application/json"); again.Body.String() != first.Body.String() || counter.Reset() != 0 {
		t.Fatalf("the repeated request was not answered from the cache: %s", again.Body)
	}
	if rec := post("text/plain", "application/json"); rec.Code != http.StatusUnsupportedMediaType {
		t.Errorf("cached bytes sent as text/plain: %d %s, want 415", rec.Code, rec.Body)
	}
	if rec := post("application/json", "text/html"); rec.Code != http.StatusNotAcceptable {
		t.Errorf("cached bytes for a client accepting only text/html: %d %s, want 406", rec.Code, rec.Body)
	}
	if rec := post("application/json", "application/graphql-response+json"); rec.Header().Get("Content-Type") != "application/graphql-response+json" {
		t.Errorf("under another Accept header the answer came as %q; want application/graphql-response+json", rec.Header().Get("Content-Type"))
	}
}

// A hit is the answer to the very request that was kept, byte for byte, however the request is
// found: another request (one byte of its variables, or of a document over the size kept as it
// is) runs on its own, a body sent without a length finds the same answer, and a hit goes out
// with its length (in one piece, not chunked).
func TestCachedAnswersAreGivenOnlyToTheSameRequestWithTheirLength(t *testing.T) {
	st := storetest.SQLite(t)
	a := newAPIWith(t, st, 0, 100).withDemo()
	h := signedIn(graph.NewHandler(&graph.Resolver{Catalog: a.svc}, graph.HandlerOptions{MaxDepth: 12, MaxComplexity: 100000,
		Logger: slog.New(slog.DiscardHandler), ResponseCacheSize: 100}))
	post := func(body string, length int64) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
		req.ContentLength = length
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/graphql-response+json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	// A comment of 3 kB puts the large documents' key over the size kept as it is.
	pad := "# " + strings.Repeat("x", 3000) + "\\n"
	for _, tt := range []struct{ name, body, other string }{
		{"small", `{"query":"{ entities(first: 3) { totalCount nodes { ref } } }"}`, `{"query":"{ entities(first: 2) { totalCount nodes { ref } } }"}`},
		{"large", `{"query":"` + pad + `{ entities(first: 3) { totalCount nodes { ref } } }"}`, `{"query":"` + pad + `{ entities(first: 2) { totalCount nodes { ref } } }"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			first := post(tt.body, int64(len(tt.body)))
			if first.Code != http.StatusOK || !strings.Contains(first.Body.String(), "totalCount") {
				t.Fatalf("first answer: %d %s", first.Code, first.Body)
			}
			counter := storetest.CountStatements(st.Gorm())
			for _, length := range []int64{int64(len(tt.body)), -1} {
				again := post(tt.body, length)
				if n := counter.Reset(); n != 0 || again.Body.String() != first.Body.String() {
					t.Errorf("repeated (length %d): ran %d statements and answered %s; want the first answer from the cache", length, n, again.Body)
				}
				if got, want := again.Header().Get("Content-Length"), strconv.Itoa(again.Body.Len()); got != want {
					t.Errorf("repeated (length %d): Content-Length %q, want %s", length, got, want)
				}
				if ct := again.Header().Get("Content-Type"); ct != "application/graphql-response+json" {
					t.Errorf("repeated (length %d): Content-Type %q", length, ct)
				}
			}
			other := post(tt.other, int64(len(tt.other)))
			if n := counter.Reset(); n == 0 || other.Body.String() == first.Body.String() {
				t.Errorf("a request one byte apart ran %d statements and answered %s; want its own answer", n, other.Body)
			}
		})
	}
}

// Every answer the cache gives again is counted in the metrics, as the operation it answers.
func TestCachedAnswersAreCountedInTheMetrics(t *testing.T) {
	st := storetest.SQLite(t)
	a := newAPIWith(t, st, 0, 100).withDemo()
	m := metrics.New()
	h := signedIn(graph.NewHandler(&graph.Resolver{Catalog: a.svc}, graph.HandlerOptions{MaxDepth: 12, MaxComplexity: 100000,
		Logger: slog.New(slog.DiscardHandler), ResponseCacheSize: 100, Observer: m}))
	const body = `{"query":"query Listed { entities(first: 3) { totalCount } }"}`
	counter := storetest.CountStatements(st.Gorm())
	for i := range 3 {
		req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("request %d: %d %s", i, rec.Code, rec.Body)
		}
		if n := counter.Reset(); i > 0 && n != 0 {
			t.Fatalf("request %d ran %d statements; want it answered from the cache", i, n)
		}
	}
	scrape := httptest.NewRecorder()
	m.Handler().ServeHTTP(scrape, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if want := `portside_graphql_operations_total{operation="Listed",outcome="ok",type="query"} 3`; !strings.Contains(scrape.Body.String(), want) {
		t.Errorf("metrics do not count the cached answers: want %s in\n%s", want, grepLines(scrape.Body.String(), "portside_graphql_operations_total"))
	}
}

func grepLines(s, substr string) string {
	var out []string
	for line := range strings.SplitSeq(s, "\n") {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

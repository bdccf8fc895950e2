package graph_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/sources"
	"github.com/portside-dev/portside/graph"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/logs"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

const (
	mediaGraphQLResponse = "application/graphql-response+json"
	mediaJSON            = "application/json"
)

// httpLogBuffer collects log output written from request goroutines.
type httpLogBuffer = testutil.Buffer

// httpEnv is the GraphQL handler over a real catalog service on a SQLite store holding
// testdata/catalog (three groups, a system and two components).
type httpEnv struct {
	handler http.Handler
	store   *store.Store
	sql     *storetest.Counter
	log     *httpLogBuffer
	// locationID is the global ID of the registered test location.
	locationID string
}

func newHTTPEnv(t *testing.T) *httpEnv {
	t.Helper()
	st := storetest.SQLite(t)
	svc := catalog.NewService(st, catalog.Options{
		Readers: map[catalog.LocationType]catalog.Reader{catalog.LocationFile: &sources.Files{}},
		Logger:  slog.New(slog.DiscardHandler),
	})
	res, err := svc.RegisterLocation(operator, catalog.LocationSpec{Type: catalog.LocationFile, Target: "testdata/catalog"})
	if err != nil {
		t.Fatalf("register testdata/catalog: %v", err)
	}
	if len(res.Errors) > 0 || res.Location.EntityCount != 6 {
		t.Fatalf("testdata/catalog: %d entities, errors %v; want 6 and none", res.Location.EntityCount, res.Errors)
	}
	buf := &httpLogBuffer{}
	logger, err := logs.New(buf, "json", "debug")
	if err != nil {
		t.Fatal(err)
	}
	e := &httpEnv{
		handler: signedIn(graph.NewHandler(&graph.Resolver{Catalog: svc}, graph.HandlerOptions{MaxDepth: 5, MaxComplexity: 200, Logger: logger})),
		store:   st,
		log:     buf,
	}
	// The global ID of the location, as clients get it.
	rec := e.post(t, `{ locations(first: 10) { nodes { id } } }`, mediaGraphQLResponse)
	var got struct {
		Locations struct{ Nodes []struct{ ID string } }
	}
	decodeHTTP(t, rec).data(t, &got)
	if len(got.Locations.Nodes) != 1 {
		t.Fatalf("locations = %+v, want one", got)
	}
	e.locationID = got.Locations.Nodes[0].ID
	e.sql = storetest.CountStatements(st.Gorm())
	return e
}

// serve runs one request through the handler with a request ID in its context, as the server's
// middleware would put it there.
func (e *httpEnv) serve(req *http.Request) *httptest.ResponseRecorder {
	req = req.WithContext(logs.WithRequestID(req.Context(), "req-test-1"))
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	return rec
}

// post sends a query as application/json with the given Accept header ("" sends none).
func (e *httpEnv) post(t *testing.T, query, accept string) *httptest.ResponseRecorder {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	return e.serve(req)
}

func (e *httpEnv) get(query, accept string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, "/graphql?query="+url.QueryEscape(query), nil)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	return e.serve(req)
}

type httpGQLError struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

type httpResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []httpGQLError  `json:"errors"`
	raw    string
}

func decodeHTTP(t *testing.T, rec *httptest.ResponseRecorder) httpResponse {
	t.Helper()
	var r httpResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		t.Fatalf("response (%d) is not JSON: %v\n%s", rec.Code, err, rec.Body)
	}
	r.raw = rec.Body.String()
	return r
}

// data decodes the data of a response that must have no errors.
func (r httpResponse) data(t *testing.T, into any) {
	t.Helper()
	if len(r.Errors) > 0 {
		t.Fatalf("unexpected errors: %s", r.raw)
	}
	if err := json.Unmarshal(r.Data, into); err != nil {
		t.Fatalf("data: %v\n%s", err, r.raw)
	}
}

// onlyError returns the single error of a response.
func (r httpResponse) onlyError(t *testing.T) httpGQLError {
	t.Helper()
	if len(r.Errors) != 1 {
		t.Fatalf("got %d errors, want 1: %s", len(r.Errors), r.raw)
	}
	return r.Errors[0]
}

func TestPostWithGraphQLResponseJSONAcceptAnswersThatMediaType(t *testing.T) {
	e := newHTTPEnv(t)
	rec := e.post(t, `{ entities { totalCount } }`, mediaGraphQLResponse)
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != mediaGraphQLResponse {
		t.Errorf("Content-Type = %q, want %q", ct, mediaGraphQLResponse)
	}
	var got struct{ Entities struct{ TotalCount int } }
	decodeHTTP(t, rec).data(t, &got)
	if got.Entities.TotalCount != 6 {
		t.Errorf("totalCount = %d, want 6", got.Entities.TotalCount)
	}
}

func TestSyntaxErrorStatusFollowsTheAcceptedMediaType(t *testing.T) {
	tests := []struct {
		accept     string
		wantStatus int
	}{
		// application/graphql-response+json: a request error that prevents execution is a 4xx.
		{mediaGraphQLResponse, http.StatusBadRequest},
		// application/json (legacy): every well-formed GraphQL-over-HTTP request gets 200.
		{mediaJSON, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.accept, func(t *testing.T) {
			e := newHTTPEnv(t)
			rec := e.post(t, `{ entities { totalCount `, tt.accept)
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); ct != tt.accept {
				t.Errorf("Content-Type = %q, want %q", ct, tt.accept)
			}
			got := decodeHTTP(t, rec).onlyError(t)
			if got.Extensions["code"] != "INVALID" || got.Extensions["reason"] != "GRAPHQL_PARSE_FAILED" {
				t.Errorf("extensions = %v, want code INVALID, reason GRAPHQL_PARSE_FAILED", got.Extensions)
			}
		})
	}
}

func TestGetRunsQueries(t *testing.T) {
	e := newHTTPEnv(t)
	rec := e.get(`{ entity(ref: "component:ledger") { name description } }`, mediaGraphQLResponse)
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
	}
	var got struct {
		Entity struct{ Name, Description string }
	}
	decodeHTTP(t, rec).data(t, &got)
	if got.Entity.Name != "ledger" || got.Entity.Description != "Double-entry ledger." {
		t.Errorf("entity = %+v, want ledger with its description", got.Entity)
	}
}

func TestGetWithAMutationAnswers405AllowPost(t *testing.T) {
	e := newHTTPEnv(t)
	rec := e.get(`mutation { unregisterLocation(id: "`+e.locationID+`") { removedEntities } }`, "")
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("status = %d, want 405; body %s", rec.Code, rec.Body)
	}
	if allow := rec.Header().Get("Allow"); allow != "POST" {
		t.Errorf("Allow = %q, want POST", allow)
	}
	if n := e.sql.Count(); n != 0 {
		t.Errorf("the refused mutation ran %d SQL statements", n)
	}
	var got struct{ Entities struct{ TotalCount int } }
	decodeHTTP(t, e.post(t, `{ entities { totalCount } }`, "")).data(t, &got)
	if got.Entities.TotalCount != 6 {
		t.Errorf("after the refused GET mutation, totalCount = %d, want 6 still", got.Entities.TotalCount)
	}
}

func TestPostWithTextPlainAnswers415(t *testing.T) {
	e := newHTTPEnv(t)
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{ entities { totalCount } }"}`))
	req.Header.Set("Content-Type", "text/plain")
	rec := e.serve(req)
	if rec.Code != http.StatusUnsupportedMediaType {
		t.Errorf("status = %d, want 415; body %s", rec.Code, rec.Body)
	}
}

func TestAcceptOfOnlyHTMLAnswers406(t *testing.T) {
	e := newHTTPEnv(t)
	rec := e.post(t, `{ entities { totalCount } }`, "text/html")
	if rec.Code != http.StatusNotAcceptable {
		t.Errorf("status = %d, want 406; body %s", rec.Code, rec.Body)
	}
}

func TestNoAcceptHeaderAnswersApplicationJSON(t *testing.T) {
	e := newHTTPEnv(t)
	rec := e.post(t, `{ entities { totalCount } }`, "")
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != mediaJSON {
		t.Errorf("Content-Type = %q, want %q", ct, mediaJSON)
	}
}

func TestDepthLimitRefusesDeepQueriesBeforeAnyResolverRuns(t *testing.T) {
	e := newHTTPEnv(t)
	// entity > parent > parent > parent > name: 5 levels, the limit.
	atLimit := `{ entity(ref: "group:squad-db") { ... on Group { parent { name parent { name parent { name } } } } } }`
	var got struct {
		Entity struct {
			Parent struct {
				Name   string
				Parent struct {
					Name   string
					Parent *struct{ Name string }
				}
			}
		}
	}
	decodeHTTP(t, e.post(t, atLimit, mediaGraphQLResponse)).data(t, &got)
	if p := got.Entity.Parent; p.Name != "team-core" || p.Parent.Name != "platform" || p.Parent.Parent != nil {
		t.Fatalf("query at the depth limit: parents = %+v, want team-core, platform, null", p)
	}

	e.sql.Reset()
	tooDeep := `{ entity(ref: "group:squad-db") { ... on Group { parent { parent { parent { parent { name } } } } } } }`
	rec := e.post(t, tooDeep, mediaGraphQLResponse)
	if rec.Code != http.StatusBadRequest {
		t.Errorf("status %d, want 400: a refused operation is a request error", rec.Code)
	}
	resp := decodeHTTP(t, rec)
	err := resp.onlyError(t)
	if err.Extensions["code"] != "INVALID" || err.Extensions["reason"] != "DEPTH_LIMIT_EXCEEDED" {
		t.Errorf("extensions = %v, want code INVALID, reason DEPTH_LIMIT_EXCEEDED", err.Extensions)
	}
	if n := e.sql.Count(); n != 0 {
		t.Errorf("the refused query ran %d SQL statements; the limit must apply before any resolver", n)
	}
	if len(resp.Data) > 0 && string(resp.Data) != "null" {
		t.Errorf("refused query returned data %s", resp.Data)
	}

	// Fragments count as deep as what they select.
	viaFragment := `query { entity(ref: "group:squad-db") { ...Up } }
fragment Up on Group { parent { parent { parent { parent { name } } } } }`
	err = decodeHTTP(t, e.post(t, viaFragment, mediaGraphQLResponse)).onlyError(t)
	if err.Extensions["reason"] != "DEPTH_LIMIT_EXCEEDED" {
		t.Errorf("deep query through a fragment: extensions = %v, want reason DEPTH_LIMIT_EXCEEDED", err.Extensions)
	}
}

func TestComplexityLimitRefusesLargePages(t *testing.T) {
	e := newHTTPEnv(t)
	var small struct {
		Entities struct{ Nodes []struct{ Name string } }
	}
	decodeHTTP(t, e.post(t, `{ entities(first: 10) { nodes { name } } }`, mediaGraphQLResponse)).data(t, &small)
	if len(small.Entities.Nodes) != 6 {
		t.Fatalf("small page: %d nodes, want 6", len(small.Entities.Nodes))
	}

	e.sql.Reset()
	rec := e.post(t, `{ entities(first: 500) { nodes { name relations { type targetRef } } } }`, mediaGraphQLResponse)
	if rec.Code != http.StatusBadRequest {
		t.Errorf("status %d, want 400: a refused operation is a request error", rec.Code)
	}
	err := decodeHTTP(t, rec).onlyError(t)
	if err.Extensions["code"] != "INVALID" || err.Extensions["reason"] != "COMPLEXITY_LIMIT_EXCEEDED" {
		t.Errorf("extensions = %v, want code INVALID, reason COMPLEXITY_LIMIT_EXCEEDED", err.Extensions)
	}
	if n := e.sql.Count(); n != 0 {
		t.Errorf("the refused query ran %d SQL statements", n)
	}
}

func TestBadArgumentsAnswerInvalidNamingTheField(t *testing.T) {
	tests := []struct {
		name      string
		query     string
		wantField string // "" when the error need not name one
	}{
		{"first 0", `{ entities(first: 0) { totalCount } }`, "first"},
		{"first negative", `{ entities(first: -1) { totalCount } }`, "first"},
		{"ref with an empty name", `{ entity(ref: "component:") { name } }`, "ref"},
		{"ref with too many parts", `{ entity(ref: "component:default/a/b") { name } }`, "ref"},
		{"node id that is not an ID", `{ node(id: "garbage") { id } }`, "id"},
		{"location id that is not an ID", `{ location(id: "garbage") { id } }`, "id"},
	}
	e := newHTTPEnv(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := decodeHTTP(t, e.post(t, tt.query, mediaGraphQLResponse)).onlyError(t)
			if err.Extensions["code"] != "INVALID" {
				t.Errorf("code = %v, want INVALID (error %+v)", err.Extensions["code"], err)
			}
			if tt.wantField != "" && err.Extensions["field"] != tt.wantField {
				t.Errorf("field = %v, want %q (error %+v)", err.Extensions["field"], tt.wantField, err)
			}
			if strings.HasPrefix(err.Message, "internal error") {
				t.Errorf("message = %q: bad input must not look like an internal error", err.Message)
			}
		})
	}
}

func TestInternalErrorsNeverLeakSQL(t *testing.T) {
	e := newHTTPEnv(t)
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	rec := e.post(t, `{ entities(filter: {text: "ledger"}) { totalCount nodes { name } } }`, mediaGraphQLResponse)
	resp := decodeHTTP(t, rec)
	if len(resp.Errors) == 0 {
		t.Fatalf("query on a closed database gave no error: %s", resp.raw)
	}
	for _, got := range resp.Errors {
		switch got.Extensions["code"] {
		case "INTERNAL":
			if diff := cmp.Diff("internal error (request req-test-1)", got.Message); diff != "" {
				t.Errorf("internal error message (-want +got):\n%s", diff)
			}
			if got.Extensions["requestId"] != "req-test-1" {
				t.Errorf("requestId = %v, want req-test-1", got.Extensions["requestId"])
			}
		case "UNAVAILABLE":
		default:
			t.Errorf("error %+v: want code INTERNAL or UNAVAILABLE", got)
		}
	}
	body := strings.ToLower(resp.raw)
	for _, leak := range []string{"select", "sqlite", "from ", "sql:", "database is closed"} {
		if strings.Contains(body, leak) {
			t.Errorf("response leaks %q: %s", leak, resp.raw)
		}
	}
	// The full error is logged under the request ID, for whoever is given that ID.
	if log := e.log.String(); !strings.Contains(log, `"request_id":"req-test-1"`) || !strings.Contains(log, "closed") {
		t.Errorf("the internal error was not logged in full under the request ID; log:\n%s", log)
	}
}

func TestOversizedBodiesAreRefusedWith413(t *testing.T) {
	e := newHTTPEnv(t)
	big := `{"query":"{ entities { totalCount } }","variables":{"pad":"` + strings.Repeat("x", graph.MaxBodyBytes) + `"}}`
	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(big))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	e.handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", rec.Code)
	}
}

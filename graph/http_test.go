package graph_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
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

// request builds a request to the endpoint as a client would send it: a POST of body as
// application/json, or (body "") a GET of target; accept "" sends no Accept header.
func request(method, target, body, accept string) *http.Request {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	return req
}

// wantRequestError checks an answer that refuses the request: its status and media type, and
// one error with code INVALID, the reason and a message holding want.
func wantRequestError(t *testing.T, rec *httptest.ResponseRecorder, status int, media, reason, want string) {
	t.Helper()
	if rec.Code != status || rec.Header().Get("Content-Type") != media {
		t.Errorf("status %d, Content-Type %q; want %d, %q\n%s", rec.Code, rec.Header().Get("Content-Type"), status, media, rec.Body)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &members); err == nil {
		if _, ok := members["data"]; ok { // the GraphQL specification: no data entry for an error before execution
			t.Errorf("a request error has a data member: %s", rec.Body)
		}
	}
	got := decodeHTTP(t, rec).onlyError(t)
	if got.Extensions["code"] != "INVALID" || got.Extensions["reason"] != reason {
		t.Errorf("extensions %v, want code INVALID, reason %s", got.Extensions, reason)
	}
	if !strings.Contains(got.Message, want) {
		t.Errorf("message %q does not say %q", got.Message, want)
	}
}

// A subscription sent over plain HTTP is refused at once as a request error, by POST and by GET:
// by POST it held its request open with no time limit until its first event, and by GET it was
// answered 405 saying that mutations must be sent with POST.
func TestSubscriptionsOverPlainHTTPAreRefusedAtOnce(t *testing.T) {
	e := newHTTPEnv(t)
	const sub = `subscription { deployRequestChanged(component: "payments-api") { __typename } }`
	body, _ := json.Marshal(map[string]string{"query": sub})
	for _, method := range []string{http.MethodPost, http.MethodGet} {
		for _, c := range []struct {
			accept, media string
			status        int
		}{
			{mediaGraphQLResponse, mediaGraphQLResponse, http.StatusBadRequest},
			{mediaJSON, mediaJSON, http.StatusOK}, // a request error under the legacy type
			{"", mediaJSON, http.StatusOK},
		} {
			t.Run(method+" "+c.accept, func(t *testing.T) {
				req := request(method, "/graphql", string(body), c.accept)
				if method == http.MethodGet {
					req = request(method, "/graphql?query="+url.QueryEscape(sub), "", c.accept)
				}
				rec := e.serve(req)
				wantRequestError(t, rec, c.status, c.media, "SUBSCRIPTION_OVER_HTTP", "subscriptions are served over the WebSocket at /graphql")
				if rec.Header().Get("Allow") != "" {
					t.Errorf("Allow: %q; no other method serves subscriptions over HTTP", rec.Header().Get("Allow"))
				}
			})
		}
	}
	if strings.Contains(e.log.String(), `"level":"ERROR"`) {
		t.Errorf("refusing subscriptions logged errors:\n%s", e.log)
	}
}

// Variables are held to the GraphQL specification's input coercion of the built-in scalars before
// anything runs: gqlparser let the string "5" through as an Int, a number as a String and an Int
// past 32 bits (refused, if at all, by the complexity limit), and said "cannot use value 0 as
// Int" of 5.5. Each is a request error naming the variable (and the member of an input object or
// list) and what it must be, never quoting the value, which may be a secret.
func TestVariablesAreHeldToTheBuiltInScalars(t *testing.T) {
	e := newHTTPEnv(t)
	const (
		page   = `query($f: Int) { entities(first: $f) { totalCount } }`
		text   = `query($t: String) { entities(first: 1, filter: {text: $t}) { totalCount } }`
		below  = `query($b: Boolean) { entities(first: 1, filter: {includeDescendantGroups: $b}) { totalCount } }`
		node   = `query($id: ID!) { node(id: $id) { id } }`
		filter = `query($f: EntityFilter) { entities(first: 1, filter: $f) { totalCount } }`
		fields = `query($f: [FacetField!]!) { facets(fields: $f) { field } }`
		order  = `query($o: EntityOrder) { entities(first: 1, orderBy: $o) { totalCount } }`
	)
	post := func(query, vars string) *httptest.ResponseRecorder {
		return e.serve(request(http.MethodPost, "/graphql", `{"query":`+strconv.Quote(query)+`,"variables":`+vars+`}`, mediaGraphQLResponse))
	}
	for _, c := range []struct {
		query, vars string
		want        string
		path        []any
	}{
		{page, `{"f":"5"}`, "variable $f must be an Int (a whole number from -2147483648 to 2147483647), not a string", []any{"variable", "f"}},
		{page, `{"f":5.5}`, "variable $f must be an Int (a whole number from -2147483648 to 2147483647), not a number with a fraction or an exponent", []any{"variable", "f"}},
		{page, `{"f":5.0}`, "not a number with a fraction or an exponent", []any{"variable", "f"}}, // gqlparser's own refusal, said the same way
		{page, `{"f":4294967297}`, "variable $f must be an Int (a whole number from -2147483648 to 2147483647), not a number beyond 32 bits", []any{"variable", "f"}},
		{page, `{"f":true}`, "variable $f must be an Int", []any{"variable", "f"}},
		{text, `{"t":12345678}`, "variable $t must be a String (text in quotes), not a number", []any{"variable", "t"}},
		{below, `{"b":"true"}`, "variable $b must be a Boolean (true or false), not a string", []any{"variable", "b"}},
		{node, `{"id":1.5}`, "variable $id must be an ID (text in quotes, or a whole number), not a number with a fraction or an exponent", []any{"variable", "id"}},
		{filter, `{"f":{"kinds":["Component",5]}}`, "variable $f.kinds[1] must be a String", []any{"variable", "f", "kinds", 1.0}},
		{filter, `{"f":{"kinds":5}}`, "variable $f.kinds[0] must be a String (text in quotes), not a number", []any{"variable", "f", "kinds", 0.0}}, // a list of one
		{filter, `{"f":{"annotations":[{"key":"a","value":7}]}}`, "variable $f.annotations[0].value must be a String", []any{"variable", "f", "annotations", 0.0, "value"}},
		{fields, `{"f":["KIND","BOGUS` + strings.Repeat("X", 3000) + `"]}`, "variable $f[1] must be a FacetField (one of KIND, TYPE, LIFECYCLE, OWNER, NAMESPACE, SYSTEM, TAG), not a string naming none of them", []any{"variable", "f", 1.0}},
		{order, `{"o":{"field":"NAME","direction":5}}`, "variable $o.direction must be an OrderDirection (one of ASC, DESC), not a number", []any{"variable", "o", "direction"}},
	} {
		t.Run(c.vars, func(t *testing.T) {
			rec := post(c.query, c.vars)
			wantRequestError(t, rec, http.StatusBadRequest, mediaGraphQLResponse, "GRAPHQL_VALIDATION_FAILED", c.want)
			// The error's path is the member's, as gqlparser gives it: variable, name, then members.
			var resp struct{ Errors []struct{ Path []any } }
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || len(resp.Errors) != 1 || !slices.Equal(resp.Errors[0].Path, c.path) {
				t.Errorf("path %+v, want %v", resp, c.path)
			}
			if strings.Contains(rec.Body.String(), "12345678") {
				t.Errorf("the error quotes the variable's value: %s", rec.Body)
			}
		})
	}
	// gqlparser's own refusals name the variable (and member) in their messages, not only in
	// their paths.
	for _, c := range []struct{ query, vars, want string }{
		{`query($n: Int!) { entities(first: $n) { totalCount } }`, `{}`, "variable $n: must be defined"},
		{filter, `{"f":{"kindz":["Component"]}}`, "variable $f.kindz: unknown field"},
	} {
		wantRequestError(t, post(c.query, c.vars), http.StatusBadRequest, mediaGraphQLResponse, "GRAPHQL_VALIDATION_FAILED", c.want)
	}
	if n := e.sql.Count(); n != 0 {
		t.Errorf("refused variables ran %d SQL statements", n)
	}
	// What the specification accepts runs, a list of one given as its value included.
	for _, c := range []struct{ query, vars string }{
		{page, `{"f":5}`}, {page, `{"f":null}`}, {page, `{}`}, {text, `{"t":"pay"}`}, {below, `{"b":true}`},
		{filter, `{"f":{"kinds":"Component"}}`}, {filter, `{"f":{"kinds":["Component","API"],"text":"pay"}}`},
	} {
		resp := decodeHTTP(t, post(c.query, c.vars))
		if len(resp.Errors) != 0 {
			t.Errorf("%s with %s: %+v", c.query, c.vars, resp.Errors)
		}
	}
}

// An argument gqlgen cannot unmarshal is the request's mistake, named: an enum value in the wrong
// case passes gqlparser's coercion of variables (it compares enum values ignoring case) and then
// failed the generated code, which was answered INTERNAL and logged as an error.
func TestArgumentsThatDoNotUnmarshalAreInvalidNamingTheInput(t *testing.T) {
	e := newHTTPEnv(t)
	for _, c := range []struct {
		name, query string
		vars        map[string]any
		path, field string
		want        []string
	}{
		{"an input object's enum", `query($o: EntityOrder) { entities(orderBy: $o, first: 1) { totalCount } }`,
			map[string]any{"o": map[string]any{"field": "name"}}, "entities", "orderBy.field",
			[]string{`orderBy.field: "name" is not a valid EntityOrderField`, "NAME, KIND, UPDATED_AT", "case sensitive"}},
		{"a list's enum", `query($t: [FacetField!]!) { facets(fields: $t) { field } }`,
			map[string]any{"t": []any{"KIND", "kind"}}, "facets", "fields[1]",
			[]string{`fields[1]: "kind" is not a valid FacetField`, "KIND, TYPE"}},
		{"a mutation's input", `mutation($i: RegisterLocationInput!) { registerLocation(input: $i) { location { id } } }`,
			map[string]any{"i": map[string]any{"type": "git", "target": "https://example.com/catalog.git"}}, "registerLocation", "input.type",
			[]string{`input.type: "git" is not a valid LocationType`, "GIT"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			body, _ := json.Marshal(map[string]any{"query": c.query, "variables": c.vars})
			rec := e.serve(request(http.MethodPost, "/graphql", string(body), mediaGraphQLResponse))
			var resp struct {
				Errors []struct {
					Message    string         `json:"message"`
					Path       []any          `json:"path"`
					Extensions map[string]any `json:"extensions"`
				} `json:"errors"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil || len(resp.Errors) != 1 {
				t.Fatalf("want one error: %v\n%s", err, rec.Body)
			}
			got := resp.Errors[0]
			if got.Extensions["code"] != "INVALID" || got.Extensions["field"] != c.field {
				t.Errorf("extensions %v, want code INVALID, field %s", got.Extensions, c.field)
			}
			for _, w := range c.want {
				if !strings.Contains(got.Message, w) {
					t.Errorf("message %q does not say %q", got.Message, w)
				}
			}
			if diff := cmp.Diff([]any{c.path}, got.Path); diff != "" {
				t.Errorf("path is not the field's (-want +got):\n%s", diff)
			}
		})
	}
	if log := e.log.String(); strings.Contains(log, "internal error") || strings.Contains(log, `"level":"ERROR"`) {
		t.Errorf("the request's mistakes were logged as errors:\n%s", log)
	}
	// In the right case the same variables run.
	body, _ := json.Marshal(map[string]any{"query": `query($o: EntityOrder) { entities(orderBy: $o, first: 1) { totalCount } }`,
		"variables": map[string]any{"o": map[string]any{"field": "NAME"}}})
	var got struct{ Entities struct{ TotalCount int } }
	decodeHTTP(t, e.serve(request(http.MethodPost, "/graphql", string(body), mediaJSON))).data(t, &got)
	if got.Entities.TotalCount != 6 {
		t.Errorf("totalCount %d, want 6", got.Entities.TotalCount)
	}
}

// The media type of the answer follows the Accept header's q-values: a type given q=0 is never
// answered, and the one with the higher q-value is.
func TestAcceptQValuesChooseTheAnswersMediaType(t *testing.T) {
	e := newHTTPEnv(t)
	for _, c := range []struct {
		accept, media string
		status        int // of a query that does not parse
	}{
		{"application/graphql-response+json;q=0, application/json", mediaJSON, http.StatusOK},
		{"application/json;q=0, application/graphql-response+json", mediaGraphQLResponse, http.StatusBadRequest},
		{"application/json;q=0.5, application/graphql-response+json;q=0.9", mediaGraphQLResponse, http.StatusBadRequest},
		{"application/graphql-response+json;q=0.5, application/json;q=0.9", mediaJSON, http.StatusOK},
		{"application/graphql-response+json;q=0.5, */*", mediaJSON, http.StatusOK},
		{"application/json;q=0, */*", mediaGraphQLResponse, http.StatusBadRequest},
	} {
		t.Run(c.accept, func(t *testing.T) {
			rec := e.post(t, `{ entities { totalCount `, c.accept)
			if rec.Code != c.status || rec.Header().Get("Content-Type") != c.media {
				t.Errorf("status %d, Content-Type %q; want %d, %q", rec.Code, rec.Header().Get("Content-Type"), c.status, c.media)
			}
		})
	}
	for _, accept := range []string{"application/json;q=0", "application/json;q=0, application/graphql-response+json;q=0", "*/*;q=0"} {
		t.Run(accept, func(t *testing.T) {
			wantRequestError(t, e.post(t, `{ entities { totalCount } }`, accept), http.StatusNotAcceptable, mediaJSON, "NOT_ACCEPTABLE", "application/json")
		})
	}
}

// Every request refused before it runs says why with a code and a reason, in the media type the
// client asked for.
func TestRequestsRefusedBeforeTheyRunCarryACode(t *testing.T) {
	e := newHTTPEnv(t)
	twoOps := `query A { entities { totalCount } } query B { entities { totalCount } }`
	gzipped := func() *http.Request {
		req := request(http.MethodPost, "/graphql", "\x1f\x8b\x08\x00\x00\x00\x00\x00", mediaGraphQLResponse)
		req.Header.Set("Content-Encoding", "gzip")
		return req
	}
	for _, c := range []struct {
		name   string
		req    func(accept string) *http.Request
		status int // under application/graphql-response+json; the same under application/json unless legacy
		legacy int
		reason string
		want   string
	}{
		{"GET, variables not JSON", func(a string) *http.Request {
			return request(http.MethodGet, "/graphql?query="+url.QueryEscape(`{ entities { totalCount } }`)+"&variables={bad", "", a)
		}, http.StatusBadRequest, http.StatusBadRequest, "INVALID_JSON", "the variables parameter is not valid JSON"},
		{"GET, extensions not an object", func(a string) *http.Request {
			return request(http.MethodGet, "/graphql?query="+url.QueryEscape(`{ entities { totalCount } }`)+"&extensions=[1]", "", a)
		}, http.StatusBadRequest, http.StatusBadRequest, "INVALID_JSON", "the extensions parameter must be a JSON object"},
		{"GET, variables followed by more", func(a string) *http.Request {
			return request(http.MethodGet, "/graphql?query="+url.QueryEscape(`{ entities { totalCount } }`)+"&variables="+url.QueryEscape(`{} {}`), "", a)
		}, http.StatusBadRequest, http.StatusBadRequest, "INVALID_JSON", "nothing after it"},
		{"GET, query string not URL encoding", func(a string) *http.Request {
			return request(http.MethodGet, "/graphql?query=%zz", "", a)
		}, http.StatusBadRequest, http.StatusBadRequest, "INVALID_QUERY_STRING", "the URL's query string could not be decoded"},
		{"POST, several operations and no operationName", func(a string) *http.Request {
			b, _ := json.Marshal(map[string]string{"query": twoOps})
			return request(http.MethodPost, "/graphql", string(b), a)
		}, http.StatusBadRequest, http.StatusOK, "GRAPHQL_VALIDATION_FAILED", "operationName is required to choose among the document's 2 operations (A, B)"},
		{"GET, several operations and no operationName", func(a string) *http.Request {
			return request(http.MethodGet, "/graphql?query="+url.QueryEscape(twoOps), "", a)
		}, http.StatusBadRequest, http.StatusOK, "GRAPHQL_VALIDATION_FAILED", "operationName is required"},
		{"POST, an operationName the document does not have", func(a string) *http.Request {
			b, _ := json.Marshal(map[string]string{"query": twoOps, "operationName": "C"})
			return request(http.MethodPost, "/graphql", string(b), a)
		}, http.StatusBadRequest, http.StatusOK, "GRAPHQL_VALIDATION_FAILED", `the document has no operation named "C"; its operations are A, B`},
		{"POST, a gzip body", func(a string) *http.Request {
			req := gzipped()
			req.Header.Set("Accept", a)
			return req
		}, http.StatusUnsupportedMediaType, http.StatusUnsupportedMediaType, "UNSUPPORTED_CONTENT_ENCODING", "content encodings"},
	} {
		for _, accept := range []string{mediaGraphQLResponse, mediaJSON} {
			t.Run(c.name+", "+accept, func(t *testing.T) {
				status := c.status
				if accept == mediaJSON {
					status = c.legacy
				}
				wantRequestError(t, e.serve(c.req(accept)), status, accept, c.reason, c.want)
			})
		}
	}
	// RFC 9110 15.5.16: the 415 for a content coding names the codings that would do.
	if got := e.serve(gzipped()).Header().Get("Accept-Encoding"); got != "identity" {
		t.Errorf("Accept-Encoding %q on the 415 for a gzip body, want identity", got)
	}
	if got := e.serve(request(http.MethodPost, "/graphql", `{}`, "")).Header().Values("Accept-Encoding"); len(got) != 0 {
		t.Errorf("Accept-Encoding %q on an answer that is not about a content coding", got)
	}
	if n := e.sql.Count(); n != 0 {
		t.Errorf("refused requests ran %d SQL statements", n)
	}
}

// No cache on the way may keep an answer: each is made for the caller the request authenticated
// (by token or cookie, which a shared cache does not tell apart), the response cache's answers
// given again included.
func TestAnswersAreNeverKeptByAnotherCache(t *testing.T) {
	h, _ := limitedHandler(t, graph.HandlerOptions{ResponseCacheSize: 100})
	const q = `{ entities(first: 2) { totalCount nodes { name } } }`
	body, _ := json.Marshal(map[string]string{"query": q})
	for _, c := range []struct {
		name string
		req  func() *http.Request
	}{
		{"POST", func() *http.Request { return request(http.MethodPost, "/graphql", string(body), "") }},
		{"POST again (the response cache's answer)", func() *http.Request { return request(http.MethodPost, "/graphql", string(body), "") }},
		{"GET", func() *http.Request {
			return request(http.MethodGet, "/graphql?query="+url.QueryEscape(q), "", mediaGraphQLResponse)
		}},
		{"GET again", func() *http.Request {
			return request(http.MethodGet, "/graphql?query="+url.QueryEscape(q), "", mediaGraphQLResponse)
		}},
		{"a request error", func() *http.Request { return request(http.MethodPost, "/graphql", `{"query":"{ nope }"}`, "") }},
		{"a refused body", func() *http.Request { return request(http.MethodPost, "/graphql", `[]`, "") }},
		{"not acceptable", func() *http.Request {
			return request(http.MethodGet, "/graphql?query="+url.QueryEscape(q), "", "text/html")
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, c.req())
			if got := rec.Header().Values("Cache-Control"); len(got) != 1 || got[0] != "private, no-store" {
				t.Errorf("Cache-Control %q, want private, no-store (status %d)", got, rec.Code)
			}
		})
	}
}

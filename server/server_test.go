package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/logs"
	"github.com/portside-dev/portside/metrics"
	"github.com/portside-dev/portside/server"
	"github.com/portside-dev/portside/store/storetest"
)

// logBuffer collects what the server logs; the server may log from several goroutines.
type logBuffer struct{ testutil.Buffer }

// records decodes every JSON log line written so far.
func (b *logBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	data := b.String()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("log line is not JSON: %v\n%s", err, sc.Text())
		}
		out = append(out, rec)
	}
	return out
}

// find returns the log records with the given message.
func (b *logBuffer) find(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, rec := range b.records(t) {
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// fixture is a server with a stub GraphQL handler and a readiness check the test controls.
type fixture struct {
	srv     *server.Server
	log     *logBuffer
	metrics *metrics.Metrics
	token   string // an API token every request carries

	mu        sync.Mutex
	ready     error
	handlerID string // the request ID the GraphQL handler saw in its context
}

func (f *fixture) setReady(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ready = err
}

func (f *fixture) seenRequestID() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.handlerID
}

// newFixture builds a server whose /graphql answers {"data":{}}, or panics when the query string
// holds panic=1.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{log: &logBuffer{}, metrics: metrics.New()}
	logger, err := logs.New(f.log, "json", "debug")
	if err != nil {
		t.Fatal(err)
	}
	gql := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.handlerID = logs.RequestID(r.Context())
		f.mu.Unlock()
		if r.URL.Query().Get("panic") == "1" {
			panic("stub handler exploded")
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":{}}`)
	})
	// Requests carry an API token, as API clients' do; sign-in itself is tested in identity_test.go.
	id, secret := tokenIdentity(t)
	f.token = secret
	f.srv = server.New(server.Options{
		Addr:    "127.0.0.1:0",
		GraphQL: gql,
		Ready: func(context.Context) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			return f.ready
		},
		Metrics:         f.metrics,
		Logger:          logger,
		ShutdownTimeout: 10 * time.Second,
		Version:         "1.2.3-test",
		Identity:        id,
		Portal:          builtPortal,
	})
	return f
}

// tokenIdentity is identity on a fresh SQLite database, with one API token.
func tokenIdentity(t *testing.T) (*server.Identity, string) {
	t.Helper()
	st := storetest.SQLite(t)
	ids := auth.NewService(st, auth.Options{})
	secret, _, err := ids.CreateToken(principal.With(context.Background(), principal.System("test", principal.ClientCLI)),
		auth.TokenSpec{Username: "robot", Name: "fixture"})
	if err != nil {
		t.Fatal(err)
	}
	return &server.Identity{Auth: ids, Audit: audit.New(st, nil), PublicURL: &url.URL{Scheme: "http", Host: "127.0.0.1:7007"}}, secret
}

func (f *fixture) do(t *testing.T, method, target string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	req.Header.Set("Authorization", "Bearer "+f.token)
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	rec := httptest.NewRecorder()
	f.srv.Handler().ServeHTTP(rec, req)
	return rec
}

func decodeJSON(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, rec.Body.String())
	}
	return body
}

// errorBody returns the {"error": {...}} object of an error response.
func errorBody(t *testing.T, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	body := decodeJSON(t, rec)
	e, ok := body["error"].(map[string]any)
	if !ok {
		t.Fatalf("body has no error object: %s", rec.Body.String())
	}
	return e
}

func TestHealthzAnswers200WithTheVersion(t *testing.T) {
	f := newFixture(t)
	rec := f.do(t, http.MethodGet, "/healthz", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /healthz = %d, want 200; body %s", rec.Code, rec.Body)
	}
	body := decodeJSON(t, rec)
	if body["version"] != "1.2.3-test" || body["status"] != "ok" {
		t.Errorf("GET /healthz body = %v, want status ok and version 1.2.3-test", body)
	}
}

func TestReadyzFollowsTheReadyCheck(t *testing.T) {
	f := newFixture(t)

	rec := f.do(t, http.MethodGet, "/readyz", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("ready: GET /readyz = %d, want 200; body %s", rec.Code, rec.Body)
	}
	if body := decodeJSON(t, rec); body["status"] != "ready" {
		t.Errorf("ready: body = %v, want status ready", body)
	}

	// Anyone may probe readiness: a failure answers a reason code, never the database's host, user
	// or name, which the check's message holds.
	f.setReady(notReady{"database_unreachable", errs.E(errs.Unavailable, "database postgres://portside@db.internal:5432/prod does not answer")})
	rec = f.do(t, http.MethodGet, "/readyz", nil)
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("not ready: GET /readyz = %d, want 503; body %s", rec.Code, rec.Body)
	}
	if body := decodeJSON(t, rec); body["reason"] != "database_unreachable" || body["detail"] != nil {
		t.Errorf("not ready: body = %v, want only the reason code database_unreachable", body)
	}
	if strings.Contains(rec.Body.String(), "db.internal") {
		t.Errorf("not ready: the answer names the database: %s", rec.Body)
	}
	if !strings.Contains(f.log.String(), "db.internal") {
		t.Errorf("not ready: the cause is not in the log for operators:\n%s", f.log)
	}

	// A cause without a reason code answers the generic one.
	f.setReady(errors.New("dial tcp 10.0.0.5:5432: user portside: connection refused"))
	rec = f.do(t, http.MethodGet, "/readyz", nil)
	if body := decodeJSON(t, rec); rec.Code != http.StatusServiceUnavailable || body["reason"] != "unavailable" {
		t.Errorf("uncoded failure: %d %v, want 503 with reason unavailable", rec.Code, body)
	}
	if strings.Contains(rec.Body.String(), "10.0.0.5") {
		t.Errorf("uncoded failure: the answer shows the cause: %s", rec.Body)
	}

	f.setReady(nil)
	if rec := f.do(t, http.MethodGet, "/readyz", nil); rec.Code != http.StatusOK {
		t.Errorf("ready again: GET /readyz = %d, want 200", rec.Code)
	}
}

func TestReadyzWithoutAReadyCheckAnswers200(t *testing.T) {
	logger, _ := logs.New(io.Discard, "json", "info")
	srv := server.New(server.Options{GraphQL: http.NotFoundHandler(), Logger: logger, Version: "x",
		Identity: func() *server.Identity { id, _ := tokenIdentity(t); return id }()})
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("GET /readyz with a nil Ready = %d, want 200; body %s", rec.Code, rec.Body)
	}
}

func TestMetricsCountRequestsByRouteTemplateNotRawPath(t *testing.T) {
	f := newFixture(t)
	if rec := f.do(t, http.MethodGet, "/graphql?query=%7Bx%7D&probe=raw-query-7f3a", nil); rec.Code != http.StatusOK {
		t.Fatalf("GET /graphql = %d", rec.Code)
	}
	// A POST: GETs of unknown paths are the portal's client routes.
	if rec := f.do(t, http.MethodPost, "/wp-admin/probe-9b1c/setup.php", nil); rec.Code != http.StatusNotFound {
		t.Fatalf("GET unknown path = %d", rec.Code)
	}
	rec := f.do(t, http.MethodGet, "/metrics", nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics = %d", rec.Code)
	}
	text := rec.Body.String()
	for _, want := range []string{
		`portside_http_requests_total{method="GET",route="/graphql",status="200"} 1`,
		`portside_http_requests_total{method="POST",route="` + metrics.UnmatchedRoute + `",status="404"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, raw := range []string{"raw-query-7f3a", "probe-9b1c", "setup.php"} {
		if strings.Contains(text, raw) {
			t.Errorf("/metrics holds the raw path or query %q; labels must use route templates", raw)
		}
	}
}

// Unknown paths of the server's own (GETs elsewhere are the portal's client routes, see
// portal_test.go) answer an error API clients parse.
func TestUnknownPathAnswers404JSONNotFound(t *testing.T) {
	f := newFixture(t)
	rec := f.do(t, http.MethodGet, "/auth/no/such/endpoint", nil)
	if rec.Code != http.StatusNotFound {
		t.Fatalf("GET /auth/no/such/endpoint = %d, want 404", rec.Code)
	}
	if e := errorBody(t, rec); e["code"] != "NOT_FOUND" {
		t.Errorf("error = %v, want code NOT_FOUND", e)
	}
}

// A path the server answers for other methods says which (405 with Allow, RFC 9110 15.5.6),
// so a client that sent the wrong method learns that rather than that the endpoint is missing.
func TestWrongMethodAnswers405WithAllow(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct{ method, target, allow string }{
		{http.MethodDelete, "/healthz", "GET, HEAD"}, // HEAD is answered there (headAsGet)
		{http.MethodPost, "/metrics", "GET, HEAD"},
		{http.MethodPut, "/graphql", "GET, POST"},
	} {
		rec := f.do(t, c.method, c.target, nil)
		if rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("%s %s = %d, want 405", c.method, c.target, rec.Code)
			continue
		}
		if got := rec.Header().Get("Allow"); !sameMethods(got, c.allow) {
			t.Errorf("%s %s: Allow = %q, want %q", c.method, c.target, got, c.allow)
		}
		if c.target == "/graphql" {
			continue // in the GraphQL errors' shape, below
		}
		if e := errorBody(t, rec); e["code"] != "METHOD_NOT_ALLOWED" || !strings.Contains(e["message"].(string), c.method) {
			t.Errorf("%s %s: error = %v, want code METHOD_NOT_ALLOWED naming the method", c.method, c.target, e)
		}
	}
	// The GraphQL endpoint answers in the shape its clients read every other request error in:
	// errors, each with a message and extensions, and no data.
	for _, method := range []string{http.MethodPut, http.MethodDelete, http.MethodPatch} {
		rec := f.do(t, method, "/graphql", nil)
		var body struct {
			Data   *json.RawMessage `json:"data"`
			Errors []struct {
				Message    string
				Extensions map[string]any
			}
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("%s /graphql: %v in %s", method, err, rec.Body)
		}
		if rec.Code != http.StatusMethodNotAllowed || body.Data != nil || strings.Contains(rec.Body.String(), `"data"`) || len(body.Errors) != 1 ||
			body.Errors[0].Extensions["code"] != "INVALID" || body.Errors[0].Extensions["reason"] != "METHOD_NOT_ALLOWED" ||
			!strings.Contains(body.Errors[0].Message, method) {
			t.Errorf("%s /graphql = %d %s; want 405 and one error naming the method, code INVALID, reason METHOD_NOT_ALLOWED", method, rec.Code, rec.Body)
		}
	}
}

// HEAD is answered on the pages that only read (load balancers probe with it), with GET's headers
// and no body; elsewhere it is a method like any other: it must not run a query, finish a sign-in
// or read the audit export.
func TestHeadIsAnsweredLikeGetOnPagesThatOnlyRead(t *testing.T) {
	f := newFixture(t)
	ts := httptest.NewServer(f.srv.Handler())
	t.Cleanup(ts.Close)
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Head(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || len(body) != 0 {
			t.Errorf("HEAD %s = %d %q with %d bytes of body, want GET's 200 and headers without a body", path, resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
		}
	}
	// Nothing that does more than read a page: not a sign-in's callback, not the audit export.
	for _, path := range []string{"/auth/callback?state=x&code=y", "/audit/export"} {
		resp, err := http.Head(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed && resp.StatusCode != http.StatusNotFound {
			t.Errorf("HEAD %s = %d, want it not answered as GET", path, resp.StatusCode)
		}
	}
	resp, err := http.Head(ts.URL + "/graphql?query=%7Bme%7Busername%7D%7D")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || !sameMethods(resp.Header.Get("Allow"), "GET, POST") {
		t.Errorf("HEAD /graphql = %d Allow %q, want 405 with Allow: GET, POST", resp.StatusCode, resp.Header.Get("Allow"))
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.handlerID != "" {
		t.Errorf("HEAD /graphql reached the GraphQL handler")
	}
}

func sameMethods(a, b string) bool {
	x, y := strings.Split(a, ", "), strings.Split(b, ", ")
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(x, y)
}

func TestEveryResponseCarriesARequestID(t *testing.T) {
	f := newFixture(t)
	for _, target := range []string{"/healthz", "/readyz", "/metrics", "/graphql", "/graphql?panic=1", "/nowhere"} {
		rec := f.do(t, http.MethodGet, target, nil)
		if id := rec.Header().Get("X-Request-ID"); id == "" {
			t.Errorf("GET %s (%d) has no X-Request-ID", target, rec.Code)
		}
	}
	a := f.do(t, http.MethodGet, "/healthz", nil).Header().Get("X-Request-ID")
	b := f.do(t, http.MethodGet, "/healthz", nil).Header().Get("X-Request-ID")
	if a == b {
		t.Errorf("two requests got the same request ID %q", a)
	}
}

func TestClientRequestID(t *testing.T) {
	tests := []struct {
		name string
		sent string
		keep bool
	}{
		{"uuid is echoed", "0b6c9a7e-2f1d-4c55-9d0e-7a1b2c3d4e5f", true},
		{"letters digits dot underscore are echoed", "trace_01.abc-XYZ", true},
		{"64 characters are echoed", strings.Repeat("a", 64), true},
		{"65 characters are replaced", strings.Repeat("a", 65), false},
		{"spaces are replaced", "hello world", false},
		{"markup is replaced", "<script>alert(1)</script>", false},
		{"quotes and semicolons are replaced", `a";drop`, false},
		{"non-ASCII is replaced", "idé", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			rec := f.do(t, http.MethodGet, "/graphql", http.Header{"X-Request-ID": {tt.sent}})
			got := rec.Header().Get("X-Request-ID")
			if tt.keep {
				if got != tt.sent {
					t.Errorf("X-Request-ID = %q, want the client's %q echoed", got, tt.sent)
				}
				return
			}
			if got == tt.sent || got == "" {
				t.Errorf("X-Request-ID = %q, want a fresh ID replacing %q", got, tt.sent)
			}
			if len(got) > 64 || strings.ContainsFunc(got, func(r rune) bool {
				return !(r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
			}) {
				t.Errorf("replacement X-Request-ID %q is not itself a sane ID", got)
			}
			if seen := f.seenRequestID(); seen != got {
				t.Errorf("handler saw request ID %q, response says %q", seen, got)
			}
		})
	}
}

func TestRequestIDReachesHandlerContextAndAccessLog(t *testing.T) {
	f := newFixture(t)
	rec := f.do(t, http.MethodGet, "/graphql?query=%7Bx%7D", http.Header{"X-Request-ID": {"req-42"}})
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /graphql = %d", rec.Code)
	}
	if got := f.seenRequestID(); got != "req-42" {
		t.Errorf("logs.RequestID in the handler's context = %q, want req-42", got)
	}
	lines := f.log.find(t, "http request")
	if len(lines) != 1 {
		t.Fatalf("got %d access log lines, want 1: %v", len(lines), f.log.records(t))
	}
	line := lines[0]
	want := map[string]any{
		logs.RequestIDKey: "req-42", "method": "GET", "route": "/graphql", "status": float64(200), "level": "INFO",
	}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("access log %s = %v, want %v (line %v)", k, line[k], v, line)
		}
	}
	// The rest of the line's fields: the answer's size, the time taken, and when.
	if line["bytes"] != float64(rec.Body.Len()) {
		t.Errorf("access log bytes = %v, want %d (line %v)", line["bytes"], rec.Body.Len(), line)
	}
	if d, ok := line["duration_us"].(float64); !ok || d < 0 || d != float64(int64(d)) {
		t.Errorf("access log duration_us = %v, want a whole number of microseconds (line %v)", line["duration_us"], line)
	}
	if ts, _ := line["time"].(string); ts == "" {
		t.Errorf("access log has no time (line %v)", line)
	}
}

func TestPanickingHandlerAnswers500InternalAndIsLogged(t *testing.T) {
	f := newFixture(t)
	rec := f.do(t, http.MethodGet, "/graphql?panic=1", http.Header{"X-Request-ID": {"boom-1"}})
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("GET /graphql?panic=1 = %d, want 500; body %s", rec.Code, rec.Body)
	}
	e := errorBody(t, rec)
	if e["code"] != "INTERNAL" {
		t.Errorf("error code = %v, want INTERNAL", e["code"])
	}
	msg, _ := e["message"].(string)
	if !strings.Contains(msg, "boom-1") {
		t.Errorf("error message %q does not name the request ID boom-1", msg)
	}
	if strings.Contains(rec.Body.String(), "exploded") {
		t.Errorf("the panic value leaked to the client: %s", rec.Body)
	}

	// Counted as the 500 it answered: the access log records the metrics outside recovery.
	if m := f.do(t, http.MethodGet, "/metrics", nil).Body.String(); !strings.Contains(m, `portside_http_requests_total{method="GET",route="/graphql",status="500"} 1`) {
		t.Errorf("/metrics does not count the panic as a 500 of GET /graphql:\n%s", m)
	}

	panics := f.log.find(t, "panic serving request")
	if len(panics) != 1 {
		t.Fatalf("got %d panic log records, want 1: %v", len(panics), f.log.records(t))
	}
	if p, _ := panics[0]["panic"].(string); !strings.Contains(p, "stub handler exploded") {
		t.Errorf("panic record %v does not hold the panic value", panics[0])
	}
	if panics[0][logs.RequestIDKey] != "boom-1" || panics[0]["level"] != "ERROR" {
		t.Errorf("panic record %v: want level ERROR and request_id boom-1", panics[0])
	}
	if access := f.log.find(t, "http request"); len(access) != 1 || access[0]["status"] != float64(500) {
		t.Errorf("access log for the panicking request = %v, want one line with status 500", access)
	}
	m := f.do(t, http.MethodGet, "/metrics", nil).Body.String()
	if want := `portside_http_requests_total{method="GET",route="/graphql",status="500"} 1`; !strings.Contains(m, want) {
		t.Errorf("/metrics does not count the panicking request as a 500: want %s", want)
	}
}

// blockingServer serves on 127.0.0.1:0 with a GraphQL handler that blocks until released.
type blockingServer struct {
	srv     *server.Server
	token   string        // an API token the requests carry
	started chan struct{} // closed when the handler is running
	release chan struct{} // close to let the handler answer
	cancel  context.CancelFunc
	served  chan error // Serve's result
	ctxErr  chan error // the handler's context error when it was released
}

func startBlockingServer(t *testing.T, shutdownTimeout time.Duration) *blockingServer {
	t.Helper()
	b := &blockingServer{
		started: make(chan struct{}),
		release: make(chan struct{}),
		served:  make(chan error, 1),
		ctxErr:  make(chan error, 1),
	}
	var once sync.Once
	gql := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(b.started) })
		<-b.release
		b.ctxErr <- r.Context().Err()
		_, _ = io.WriteString(w, "finished")
	})
	id, token := tokenIdentity(t)
	b.token = token
	b.srv = server.New(server.Options{
		Addr:            "127.0.0.1:0",
		Identity:        id,
		GraphQL:         gql,
		Ready:           func(context.Context) error { return nil },
		Logger:          slog.New(slog.NewJSONHandler(io.Discard, nil)),
		ShutdownTimeout: shutdownTimeout,
		Version:         "test",
	})
	if err := b.srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	go func() { b.served <- b.srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-b.release:
		default:
			close(b.release)
		}
	})
	return b
}

type result struct {
	status int
	body   string
	err    error
}

// inFlight starts a GET /graphql on its own connection and waits until the handler runs.
func (b *blockingServer) inFlight(t *testing.T) <-chan result {
	t.Helper()
	done := make(chan result, 1)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	go func() {
		req, _ := http.NewRequest(http.MethodGet, "http://"+b.srv.Addr()+"/graphql", nil)
		req.Header.Set("Authorization", "Bearer "+b.token)
		resp, err := client.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		done <- result{status: resp.StatusCode, body: string(body), err: err}
	}()
	select {
	case <-b.started:
	case r := <-done:
		t.Fatalf("request ended before the handler ran: %+v", r)
	case <-time.After(10 * time.Second):
		t.Fatal("the handler never started")
	}
	return done
}

func TestServeDrainsInFlightRequestsOnShutdown(t *testing.T) {
	b := startBlockingServer(t, 30*time.Second)
	// The server answers before shutdown.
	if resp, err := http.Get("http://" + b.srv.Addr() + "/healthz"); err != nil {
		t.Fatalf("GET /healthz before shutdown: %v", err)
	} else {
		resp.Body.Close()
	}
	pending := b.inFlight(t)

	b.cancel()

	// New connections are refused soon after shutdown begins.
	testutil.Eventually(t, 10*time.Second, func() bool {
		conn, err := net.DialTimeout("tcp", b.srv.Addr(), time.Second)
		if err != nil {
			return true
		}
		conn.Close()
		return false
	}, "the server refusing new connections once shutdown began")
	select {
	case err := <-b.served:
		t.Fatalf("Serve returned %v while a request was still in flight", err)
	default:
	}

	close(b.release)
	select {
	case r := <-pending:
		if r.err != nil || r.status != http.StatusOK || r.body != "finished" {
			t.Errorf("in-flight request = %+v, want 200 finished", r)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the in-flight request never completed")
	}
	if err := <-b.ctxErr; err != nil {
		t.Errorf("the in-flight request's context was cancelled by shutdown: %v", err)
	}
	select {
	case err := <-b.served:
		if err != nil {
			t.Errorf("Serve = %v, want nil after a clean drain", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after the last request finished")
	}
}

func TestServeReportsShutdownTimeoutWhenRequestsOutlastIt(t *testing.T) {
	b := startBlockingServer(t, 50*time.Millisecond)
	pending := b.inFlight(t)
	b.cancel()
	select {
	case err := <-b.served:
		if err == nil || !strings.Contains(err.Error(), "50ms") || !strings.Contains(err.Error(), "did not finish") {
			t.Errorf("Serve = %v, want an error saying in-flight requests did not finish within 50ms", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Serve did not return after the shutdown timeout")
	}
	close(b.release)
	<-pending
}

func TestMetricsTokenKeepsMetricsForScrapersThatSendIt(t *testing.T) {
	id, _ := tokenIdentity(t)
	srv := server.New(server.Options{GraphQL: http.NotFoundHandler(), Metrics: metrics.New(), MetricsToken: "scrape-7c1e",
		Identity: id, Logger: slog.New(slog.DiscardHandler)})
	scrape := func(header string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		if header != "" {
			req.Header.Set("Authorization", header)
		}
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		return rec
	}
	for _, h := range []string{"", "Bearer wrong", "Bearer scrape-7c1e-and-more", "scrape-7c1e"} {
		if rec := scrape(h); rec.Code != http.StatusUnauthorized || strings.Contains(rec.Body.String(), "portside_http") {
			t.Errorf("/metrics with %q: %d, want 401 and no metrics", h, rec.Code)
		}
	}
	if rec := scrape("Bearer scrape-7c1e"); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "portside_http_requests_total") {
		t.Errorf("/metrics with the token: %d", rec.Code)
	}
	if rec := scrape(""); rec.Header().Get("WWW-Authenticate") == "" {
		t.Errorf("a refused scrape does not say how to authenticate")
	}
}

// notReady is a readiness failure with a reason code, as store.CheckReady gives them.
type notReady struct {
	reason string
	err    error
}

func (e notReady) Error() string          { return e.err.Error() }
func (e notReady) Unwrap() error          { return e.err }
func (e notReady) NotReadyReason() string { return e.reason }

func TestReadyzShowsTheCauseOnlyWithTheMetricsToken(t *testing.T) {
	logger, _ := logs.New(io.Discard, "json", "info")
	id, _ := tokenIdentity(t)
	srv := server.New(server.Options{GraphQL: http.NotFoundHandler(), Logger: logger, Version: "x", Identity: id,
		Metrics: metrics.New(), MetricsToken: "scrape-me",
		Ready: func(context.Context) error {
			return notReady{"database_not_migrated", errs.E(errs.Unavailable, "database prod lacks 2 migration(s)")}
		}})
	for _, tc := range []struct {
		name, authorization string
		wantDetail          bool
	}{
		{"anonymous", "", false},
		{"a wrong token", "Bearer nope", false},
		{"the metrics token", "Bearer scrape-me", true},
	} {
		req := httptest.NewRequest(http.MethodGet, "/readyz", nil)
		if tc.authorization != "" {
			req.Header.Set("Authorization", tc.authorization)
		}
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		body := decodeJSON(t, rec)
		if rec.Code != http.StatusServiceUnavailable || body["reason"] != "database_not_migrated" {
			t.Errorf("%s: %d %v, want 503 with reason database_not_migrated", tc.name, rec.Code, body)
		}
		if got := body["detail"] == "database prod lacks 2 migration(s)"; got != tc.wantDetail {
			t.Errorf("%s: detail shown = %v, want %v (body %v)", tc.name, got, tc.wantDetail, body)
		}
	}
}

// The front door is the portal, signed in or not: a browser that just signed out lands there too
// and is offered to sign in, rather than being sent straight back to the identity provider.
func TestTheFrontDoorIsThePortalSignedInOrNot(t *testing.T) {
	f := newFixture(t)
	rec := f.do(t, http.MethodGet, "/", nil)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `<div id="root">`) {
		t.Errorf("signed in: GET / = %d %q, want the portal", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	f.srv.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `<div id="root">`) {
		t.Errorf("signed out: GET / = %d %q, want the portal", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("signed out: Content-Type %q", ct)
	}
}

// The audit export is the caller's audit records: no cache on the way may keep it, nor a refusal.
func TestAuditExportIsNeverCached(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		target string
		status int
	}{
		{"/audit/export", http.StatusOK},
		{"/audit/export?since=yesterday", http.StatusBadRequest},
	} {
		rec := f.do(t, http.MethodGet, c.target, nil)
		if rec.Code != c.status {
			t.Errorf("GET %s: %d %s, want %d", c.target, rec.Code, rec.Body, c.status)
		}
		if got := rec.Header().Values("Cache-Control"); len(got) != 1 || got[0] != "no-store" {
			t.Errorf("GET %s: Cache-Control %q, want no-store", c.target, got)
		}
		// A refusal names the parameter at fault, as GraphQL errors name their field.
		if c.status == http.StatusBadRequest && !strings.Contains(rec.Body.String(), `"field":"since"`) {
			t.Errorf("GET %s: %s, want the error naming since", c.target, rec.Body)
		}
	}
}

package graph_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/portside-dev/portside/auth"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/demo"
	"github.com/portside-dev/portside/catalog/sources"
	"github.com/portside-dev/portside/graph"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/store/storetest"
	"github.com/portside-dev/portside/tasks"
)

// The two subprotocols a socket may speak.
const (
	transportWS = "graphql-transport-ws"
	legacyWS    = "graphql-ws" // subscriptions-transport-ws's protocol
)

var subprotocols = []string{transportWS, legacyWS}

// taskChangedSub is a subscription that lasts until it is completed and needs nothing but a
// signed-in caller.
const taskChangedSub = `subscription { taskChanged { taskId } }`

// socketAPI is /graphql with the tasks' subscriptions, on an httptest server, behind a stand-in
// for server's authentication: the request's bearer token.
type socketAPI struct {
	t     *testing.T
	url   string // ws://.../graphql
	ids   *auth.Service
	cat   *catalog.Service
	tasks *tasks.Service
}

var socketOperator = principal.With(context.Background(), principal.System("test", principal.ClientCLI))

func newSocketAPI(t *testing.T) *socketAPI {
	t.Helper()
	st := storetest.SQLite(t)
	discard := slog.New(slog.DiscardHandler)
	a := &socketAPI{t: t, ids: auth.NewService(st, auth.Options{})}
	a.cat = catalog.NewService(st, catalog.Options{
		Readers: map[catalog.LocationType]catalog.Reader{catalog.LocationEmbedded: sources.Embedded{FS: map[string]fs.FS{"demo": demo.FS()}}},
		Logger:  discard,
	})
	a.tasks = tasks.NewService(st, tasks.Options{Catalog: a.cat, Logger: discard})
	h := graph.NewHandler(&graph.Resolver{Catalog: a.cat, Auth: a.ids, TaskService: a.tasks},
		graph.HandlerOptions{MaxDepth: 12, MaxComplexity: 100_000, Logger: discard})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		creds := auth.Credentials{Bearer: strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")}
		p, err := a.ids.Authenticate(r.Context(), creds)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r.WithContext(auth.WithCredentials(principal.With(r.Context(), p), creds)))
	}))
	t.Cleanup(srv.Close)
	a.url = "ws" + strings.TrimPrefix(srv.URL, "http") + "/graphql"
	return a
}

// token makes an API token of user.
func (a *socketAPI) token(user string) string {
	a.t.Helper()
	secret, _, err := a.ids.CreateToken(socketOperator, auth.TokenSpec{Username: user, Name: "socket", TTL: time.Hour})
	if err != nil {
		a.t.Fatal(err)
	}
	return secret
}

// withProject loads the demo catalog and makes the project "roadmap", whose tasks' events
// taskChanged sends.
func (a *socketAPI) withProject() {
	a.t.Helper()
	if _, err := a.cat.RegisterLocation(socketOperator, catalog.LocationSpec{Type: catalog.LocationEmbedded, Target: "demo"}); err != nil {
		a.t.Fatal(err)
	}
	if _, err := a.tasks.CreateProject(socketOperator, tasks.ProjectInput{Name: "roadmap", Owner: "team-payments"}); err != nil {
		a.t.Fatal(err)
	}
}

// subscribed waits until n task subscriptions are registered.
func (a *socketAPI) subscribed(n int) {
	a.t.Helper()
	testutil.Eventually(a.t, 10*time.Second, func() bool { return a.tasks.Subscribers() == n },
		func() string { return fmt.Sprintf("%d task subscriptions, want %d", a.tasks.Subscribers(), n) })
}

// dial opens a socket with token, speaking subprotocol, without initialising it.
func (a *socketAPI) dial(token, subprotocol string) (*testSocket, *http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, a.url, &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}, Subprotocols: []string{subprotocol}})
	if err != nil {
		return nil, resp, err
	}
	a.t.Cleanup(func() { _ = conn.CloseNow() })
	return &testSocket{t: a.t, conn: conn, legacy: subprotocol == legacyWS}, resp, nil
}

// open opens a socket with token and initialises it.
func (a *socketAPI) open(token, subprotocol string) *testSocket {
	a.t.Helper()
	s, _, err := a.dial(token, subprotocol)
	if err != nil {
		a.t.Fatal(err)
	}
	s.send(`{"type":"connection_init","payload":{}}`)
	if m, closed := s.read(); m == nil || m.Type != "connection_ack" {
		a.t.Fatalf("connection_init answered %+v (closed: %v)", m, closed)
	}
	return s
}

// wsMessage is one message of either subprotocol.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func (m wsMessage) String() string { return fmt.Sprintf("{%s %q %s}", m.Type, m.ID, m.Payload) }

// testSocket is a raw socket, as a client library keeps one for several operations.
type testSocket struct {
	t       *testing.T
	conn    *websocket.Conn
	legacy  bool
	markers int
}

// send sends one text message as it is. A socket the server closed already is not an error: the
// server may close it at any message.
func (s *testSocket) send(text string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.conn.Write(ctx, websocket.MessageText, []byte(text)); err != nil && websocket.CloseStatus(err) == -1 && !errors.Is(err, io.EOF) {
		s.t.Logf("send: %v", err)
	}
}

// subscribe starts query as operation id (graphql-ws's start).
func (s *testSocket) subscribe(id, query string) { s.subscribeNamed(id, query, "") }

// subscribeNamed starts query's operation named operationName ("": none named) as operation id.
func (s *testSocket) subscribeNamed(id, query, operationName string) {
	typ := "subscribe"
	if s.legacy {
		typ = "start"
	}
	fields := map[string]any{"query": query}
	if operationName != "" {
		fields["operationName"] = operationName
	}
	payload, _ := json.Marshal(fields)
	m, _ := json.Marshal(wsMessage{ID: id, Type: typ, Payload: payload})
	s.send(string(m))
}

// complete stops operation id (graphql-ws's stop).
func (s *testSocket) complete(id string) {
	typ := "complete"
	if s.legacy {
		typ = "stop"
	}
	s.send(fmt.Sprintf(`{"type":%q,"id":%q}`, typ, id))
}

// read returns the next message but keep-alives and the server's pings (answered), or nil and
// the close once the server closed the socket.
func (s *testSocket) read() (*wsMessage, *websocket.CloseError) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, data, err := s.conn.Read(ctx)
		var ce websocket.CloseError
		switch {
		case errors.As(err, &ce):
			return nil, &ce
		case err != nil:
			s.t.Fatalf("reading the socket: %v", err)
		}
		var m wsMessage
		if err := json.Unmarshal(data, &m); err != nil {
			s.t.Fatalf("the server sent %s: %v", data, err)
		}
		switch m.Type {
		case "ka":
		case "ping":
			s.send(`{"type":"pong"}`)
		default:
			return &m, nil
		}
	}
}

// closed reads until the server closes the socket and returns the close; a message before it
// fails the test.
func (s *testSocket) closed() websocket.CloseError {
	s.t.Helper()
	m, ce := s.read()
	if ce == nil {
		s.t.Fatalf("the server sent %+v, want the socket closed", m)
	}
	return *ce
}

// closedWith sends a message the server answers only if the socket stays open (see untilMarker)
// and checks that the server closes it instead, with code and a reason holding reason.
func (s *testSocket) closedWith(code websocket.StatusCode, reason string) {
	s.t.Helper()
	if s.legacy {
		s.subscribe("marker", "{ noSuchField }")
	} else {
		s.send(`{"type":"ping"}`)
	}
	m, ce := s.read()
	switch {
	case ce == nil:
		s.t.Errorf("the server sent %+v; want the socket closed with %d", m, code)
	case ce.Code != code || !strings.Contains(ce.Reason, reason):
		s.t.Errorf("the socket closed with %d %q; want %d and a reason with %q", ce.Code, ce.Reason, code, reason)
	}
}

// untilMarker sends a message the server answers in turn, after every message sent before it
// (graphql-transport-ws: a ping; graphql-ws: an operation refused before it runs), and returns
// what the server sent before that answer. Answers of operations running apart may come after it.
func (s *testSocket) untilMarker() []wsMessage {
	s.t.Helper()
	s.markers++
	id := fmt.Sprintf("marker-%d", s.markers)
	if s.legacy {
		s.subscribe(id, "{ noSuchField }")
	} else {
		s.send(`{"type":"ping"}`)
	}
	var before []wsMessage
	for {
		m, ce := s.read()
		switch {
		case ce != nil:
			s.t.Fatalf("the socket closed with %d %q; messages before: %+v", ce.Code, ce.Reason, before)
		case s.legacy && m.ID == id && m.Type == "error", !s.legacy && m.Type == "pong":
			return before
		}
		before = append(before, *m)
	}
}

// wsError is one error of an error message or of a result.
type wsError struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions"`
}

func errorsOf(t *testing.T, m wsMessage) []wsError {
	t.Helper()
	var list []wsError
	if err := json.Unmarshal(m.Payload, &list); err != nil {
		t.Fatalf("an error message's payload is not a list of errors: %s", m.Payload)
	}
	return list
}

// The probe: one socket took 10,000 subscriptions (20,000 goroutines, 771 MB at 20,000). Past
// MaxSocketOperations running at once, the next is answered with an error message and the socket
// stays open; one the client completes frees its place.
func TestASocketRunsAtMostMaxSocketOperationsAtOnce(t *testing.T) {
	for _, proto := range subprotocols {
		t.Run(proto, func(t *testing.T) {
			a := newSocketAPI(t)
			s := a.open(a.token("carol"), proto)
			for i := range graph.MaxSocketOperations {
				s.subscribe(fmt.Sprint("s", i), taskChangedSub)
			}
			a.subscribed(graph.MaxSocketOperations)
			s.subscribe("over", taskChangedSub)
			got := s.untilMarker()
			if len(got) != 1 || got[0].ID != "over" || got[0].Type != "error" {
				t.Fatalf("operation %d on one socket answered %+v, want one error message for it", graph.MaxSocketOperations+1, got)
			}
			e := errorsOf(t, got[0])
			if len(e) != 1 || e[0].Extensions["code"] != "INVALID" || e[0].Extensions["reason"] != "TOO_MANY_OPERATIONS" ||
				!strings.Contains(e[0].Message, fmt.Sprint(graph.MaxSocketOperations)) {
				t.Errorf("the refusal: %+v, want INVALID, reason TOO_MANY_OPERATIONS, naming the bound", e)
			}
			if n := a.tasks.Subscribers(); n > graph.MaxSocketOperations {
				t.Errorf("%d subscriptions run; want at most %d", n, graph.MaxSocketOperations)
			}

			// A completed operation's place is free again, its ID too.
			s.complete("s0")
			a.subscribed(graph.MaxSocketOperations - 1)
			s.subscribe("s0", taskChangedSub)
			if got := s.untilMarker(); len(got) != 0 {
				t.Errorf("a subscription after one was completed answered %+v, want it running", got)
			}
			a.subscribed(graph.MaxSocketOperations) // it runs, in the freed place
		})
	}
}

// The probe: 2,000 sockets with one token were all accepted. A user (all their tokens and
// sessions) has at most MaxUserSockets open; the next upgrade is refused 429, other users' are
// not, and a socket closed gives its place back.
func TestAUserHasAtMostMaxUserSocketsOpen(t *testing.T) {
	a := newSocketAPI(t)
	carol, carolsOther := a.token("carol"), a.token("carol")
	var open []*testSocket
	for i := range graph.MaxUserSockets {
		tok := carol
		if i%2 == 1 {
			tok = carolsOther
		}
		open = append(open, a.open(tok, transportWS))
	}
	_, resp, err := a.dial(carol, transportWS)
	if err == nil {
		t.Fatalf("socket %d of one user was accepted", graph.MaxUserSockets+1)
	}
	if resp == nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("socket %d of one user: %v (%+v), want 429", graph.MaxUserSockets+1, err, resp)
	}
	body, _ := io.ReadAll(resp.Body)
	var answer struct{ Errors []wsError }
	if json.Unmarshal(body, &answer) != nil || len(answer.Errors) != 1 || answer.Errors[0].Extensions["reason"] != "TOO_MANY_SOCKETS" ||
		!strings.Contains(answer.Errors[0].Message, fmt.Sprint(graph.MaxUserSockets)) {
		t.Errorf("the 429 says %s; want one error with reason TOO_MANY_SOCKETS naming the bound", body)
	}

	a.open(a.token("dave"), transportWS) // another user's

	// One of carol's sockets closes: she may open one again.
	if err := open[0].conn.Close(websocket.StatusNormalClosure, ""); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 10*time.Second, func() bool {
		_, _, err := a.dial(carol, transportWS)
		return err == nil
	}, "carol could not open a socket again after closing one of her %d", graph.MaxUserSockets)
}

// The probe: a socket that sent nothing after the upgrade stayed open 150 s. Without its
// connection_init in time it is closed 4408, whatever it sent before (a ping is answered).
func TestASocketWithoutConnectionInitIsClosedInTime(t *testing.T) {
	for _, proto := range subprotocols {
		t.Run(proto, func(t *testing.T) {
			restore := graph.ShortenSocketInitTimeout(200 * time.Millisecond)
			a := newSocketAPI(t)
			restore()
			s, _, err := a.dial(a.token("carol"), proto)
			if err != nil {
				t.Fatal(err)
			}
			if ce := s.closed(); ce.Code != graph.CloseInitTimeout || ce.Reason != "Connection initialisation timeout" {
				t.Errorf("closed with %d %q, want %d %q", ce.Code, ce.Reason, graph.CloseInitTimeout, "Connection initialisation timeout")
			}
		})
	}
	// A ping before connection_init is answered (with the usual 10 s to init: nothing here waits
	// on a deadline).
	a := newSocketAPI(t)
	s, _, err := a.dial(a.token("carol"), transportWS)
	if err != nil {
		t.Fatal(err)
	}
	s.send(`{"type":"ping"}`)
	if m, ce := s.read(); m == nil || m.Type != "pong" {
		t.Fatalf("a ping before connection_init answered %+v, %+v; want a pong", m, ce)
	}
}

// The probe: two subscribe messages with ID "1" both delivered, and after the client's complete
// for "1" one went on sending. The second closes the socket 4409.
func TestASubscribeWithTheIDOfAnActiveOperationClosesTheSocket(t *testing.T) {
	for _, proto := range subprotocols {
		t.Run(proto, func(t *testing.T) {
			a := newSocketAPI(t)
			s := a.open(a.token("carol"), proto)
			s.subscribe("1", taskChangedSub)
			s.subscribe("1", taskChangedSub)
			s.closedWith(graph.CloseSubscriberExists, "Subscriber for 1 already exists")
		})
	}
	// The reason names the ID, cut to a close frame's 123 bytes between two characters.
	a := newSocketAPI(t)
	s := a.open(a.token("carol"), transportWS)
	long := strings.Repeat("é", 100)
	s.subscribe(long, taskChangedSub)
	s.subscribe(long, taskChangedSub)
	if ce := s.closed(); ce.Code != graph.CloseSubscriberExists || len(ce.Reason) > 123 || !utf8.ValidString(ce.Reason) ||
		!strings.HasPrefix(ce.Reason, "Subscriber for éé") {
		t.Errorf("closed with %d %q; want %d, the reason cut between characters", ce.Code, ce.Reason, graph.CloseSubscriberExists)
	}
}

// Once the client completes an operation, nothing more is sent for it (gqlgen sent a complete)
// and its ID may be used again, for an operation that completes as any other.
func TestAnIDIsFreeOnceTheClientCompletesItsOperation(t *testing.T) {
	for _, proto := range subprotocols {
		t.Run(proto, func(t *testing.T) {
			a := newSocketAPI(t)
			a.withProject()
			s := a.open(a.token("carol"), proto)
			s.subscribe("1", taskChangedSub)
			s.subscribe("2", taskChangedSub)
			a.subscribed(2)
			s.complete("1")
			a.subscribed(1)
			s.subscribe("1", taskChangedSub)
			a.subscribed(2)
			if _, err := a.tasks.CreateTask(socketOperator, tasks.TaskInput{Project: "roadmap", Title: "Canary rollout"}); err != nil {
				t.Fatal(err)
			}
			seen := map[string]int{}
			for seen["1"]+seen["2"] < 2 {
				m, ce := s.read()
				if ce != nil {
					t.Fatalf("the socket closed with %d %q", ce.Code, ce.Reason)
				}
				if m.Type != "next" && m.Type != "data" {
					t.Fatalf("the server sent %+v; want the event for operations 1 and 2", m)
				}
				seen[m.ID]++
			}
			if seen["1"] != 1 || seen["2"] != 1 {
				t.Errorf("events by operation: %v, want one each for 1 and 2", seen)
			}
			if got := s.untilMarker(); len(got) != 0 {
				t.Errorf("after the events the server sent %+v", got)
			}
			// The operation under the reused ID stops when completed, as the other does.
			s.complete("1")
			s.complete("2")
			a.subscribed(0)
			if got := s.untilMarker(); len(got) != 0 {
				t.Errorf("after the client completed both, the server sent %+v", got)
			}
		})
	}
}

// The probe: a validation failure and a mutation over the socket were answered as a result (next)
// and a complete. Both are refused before anything runs: one error message with the errors,
// coded as over HTTP, and nothing after it.
func TestARequestErrorOnASocketIsOneErrorMessage(t *testing.T) {
	for _, proto := range subprotocols {
		t.Run(proto, func(t *testing.T) {
			a := newSocketAPI(t)
			s := a.open(a.token("carol"), proto)

			// A validation failure is found as the operation is read, before the next message is.
			s.subscribe("invalid", `{ noSuchField }`)
			got := s.untilMarker()
			if len(got) != 1 || got[0].ID != "invalid" || got[0].Type != "error" {
				t.Fatalf("an operation that fails validation answered %+v; want one error message and nothing after it", got)
			}
			if e := errorsOf(t, got[0]); len(e) != 1 || e[0].Extensions["code"] != "INVALID" || e[0].Extensions["reason"] != "GRAPHQL_VALIDATION_FAILED" ||
				!strings.Contains(e[0].Message, "noSuchField") {
				t.Errorf("the validation failure: %+v; want INVALID with reason GRAPHQL_VALIDATION_FAILED, naming the field", e)
			}

			// A document whose operation cannot be chosen says why, as over HTTP: gqlgen's own
			// words were "operation  not found", naming nothing.
			for _, c := range []struct{ name, want string }{
				{"", "operationName is required to choose among the document's 2 operations (a, b)"},
				{"c", `the document has no operation named "c"; its operations are a, b`},
			} {
				s.subscribeNamed("choose", `query a { me { username } } query b { me { username } }`, c.name)
				got := s.untilMarker()
				if len(got) != 1 || got[0].ID != "choose" || got[0].Type != "error" {
					t.Fatalf("a document without the operation %q answered %+v; want one error message", c.name, got)
				}
				if e := errorsOf(t, got[0]); len(e) != 1 || e[0].Message != c.want || e[0].Extensions["code"] != "INVALID" {
					t.Errorf("operationName %q: %+v; want INVALID %q", c.name, e, c.want)
				}
			}

			// A mutation is refused as it starts running, apart from the reading of messages.
			s.subscribe("mutation", `mutation { createApiToken(input: {name: "minted"}) { secret } }`)
			m, ce := s.read()
			if ce != nil {
				t.Fatalf("the socket closed with %d %q", ce.Code, ce.Reason)
			}
			if m.ID != "mutation" || m.Type != "error" {
				t.Fatalf("a mutation over the socket answered %+v; want an error message", m)
			}
			if e := errorsOf(t, *m); len(e) != 1 || e[0].Extensions["code"] != "INVALID" || !strings.Contains(e[0].Message, "HTTP POST") {
				t.Errorf("the mutation's refusal: %+v; want INVALID naming HTTP POST", e)
			}
			if got := s.untilMarker(); len(got) != 0 {
				t.Errorf("after the mutation's error message the server sent %+v", got)
			}
		})
	}
}

// The probe: an unknown type or a text that is not JSON closed the socket 1000, a subscribe
// without an ID was ignored, a subscribe before connection_init closed it 1002, and so did a
// second connection_init. Each closes it with the protocol's code.
func TestAMessageOutsideTheProtocolClosesTheSocket(t *testing.T) {
	const query = `"payload":{"query":"{ __typename }"}`
	for _, tt := range []struct {
		name, proto string
		inited      bool
		message     string
		code        websocket.StatusCode
		reason      string
	}{
		{"unknown type", transportWS, true, `{"type":"bogus"}`, graph.CloseBadRequest, "unexpected type"},
		{"not JSON", transportWS, true, `not json`, graph.CloseBadRequest, "not a JSON object"},
		{"no type", transportWS, true, `{"id":"1"}`, graph.CloseBadRequest, "no type"},
		{"a server's message", transportWS, true, `{"type":"next","id":"1","payload":{}}`, graph.CloseBadRequest, "unexpected type"},
		{"subscribe without id", transportWS, true, `{"type":"subscribe",` + query + `}`, graph.CloseBadRequest, "id"},
		{"subscribe with an empty id", transportWS, true, `{"type":"subscribe","id":"",` + query + `}`, graph.CloseBadRequest, "id"},
		{"subscribe without a query", transportWS, true, `{"type":"subscribe","id":"1","payload":{"variables":{}}}`, graph.CloseBadRequest, "query"},
		{"subscribe with variables not an object", transportWS, true, `{"type":"subscribe","id":"1","payload":{"query":"{ __typename }","variables":[]}}`, graph.CloseBadRequest, "variables"},
		{"complete without id", transportWS, true, `{"type":"complete"}`, graph.CloseBadRequest, "id"},
		{"subscribe before connection_init", transportWS, false, `{"type":"subscribe","id":"1",` + query + `}`, graph.CloseUnauthenticated, "Unauthorized"},
		{"a second connection_init", transportWS, true, `{"type":"connection_init"}`, graph.CloseTooManyInits, "Too many initialisation requests"},
		{"connection_init with a payload not an object", transportWS, false, `{"type":"connection_init","payload":"token"}`, graph.CloseBadRequest, "connection_init"},
		// An id that is not a string, on any message: gqlgen could not read it (1000 or 1002).
		{"a ping with a numeric id", transportWS, true, `{"type":"ping","id":5}`, graph.CloseBadRequest, `the id of "ping" must be a string`},
		{"a pong with an object id", transportWS, true, `{"type":"pong","id":{}}`, graph.CloseBadRequest, `the id of "pong" must be a string`},
		{"a ping with an id, before connection_init", transportWS, false, `{"type":"ping","id":true}`, graph.CloseBadRequest, "must be a string"},
		{"connection_init with a numeric id", transportWS, false, `{"type":"connection_init","id":7}`, graph.CloseBadRequest, `the id of "connection_init" must be a string`},
		{"connection_init with a numeric id", legacyWS, false, `{"type":"connection_init","id":7,"payload":{}}`, graph.CloseBadRequest, "must be a string"},
		{"unknown type", legacyWS, true, `{"type":"bogus"}`, graph.CloseBadRequest, "unexpected type"},
		{"not JSON", legacyWS, true, `[1]`, graph.CloseBadRequest, "not a JSON object"},
		{"graphql-transport-ws's subscribe", legacyWS, true, `{"type":"subscribe","id":"1",` + query + `}`, graph.CloseBadRequest, "unexpected type"},
		{"start without id", legacyWS, true, `{"type":"start",` + query + `}`, graph.CloseBadRequest, "id"},
		{"start before connection_init", legacyWS, false, `{"type":"start","id":"1",` + query + `}`, graph.CloseUnauthenticated, "Unauthorized"},
		{"a second connection_init", legacyWS, true, `{"type":"connection_init","payload":{}}`, graph.CloseTooManyInits, "Too many initialisation requests"},
	} {
		t.Run(tt.proto+"/"+tt.name, func(t *testing.T) {
			a := newSocketAPI(t)
			var s *testSocket
			if tt.inited {
				s = a.open(a.token("carol"), tt.proto)
			} else {
				var err error
				if s, _, err = a.dial(a.token("carol"), tt.proto); err != nil {
					t.Fatal(err)
				}
			}
			s.send(tt.message)
			s.closedWith(tt.code, tt.reason)
		})
	}
}

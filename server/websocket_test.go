package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/portside-dev/portside/auth"
	"github.com/portside-dev/portside/graph"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// wsMessage is one graphql-transport-ws message.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// socket is a raw graphql-transport-ws connection that can start several operations, as a
// client library keeps one socket for a page.
type socket struct {
	t    *testing.T
	conn *websocket.Conn
	n    int
}

// openSocket opens and initialises a socket with header (a cookie and Origin, or a bearer).
func (p *portal) openSocket(t *testing.T, header http.Header) *socket {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(p.base, "http")+"/graphql",
		&websocket.DialOptions{HTTPHeader: header, Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.CloseNow() })
	s := &socket{t: t, conn: conn}
	if err := wsjson.Write(ctx, conn, wsMessage{Type: "connection_init"}); err != nil {
		t.Fatal(err)
	}
	if m, code := s.read(); m == nil || m.Type != "connection_ack" {
		t.Fatalf("connection_init answered %+v (close %d)", m, code)
	}
	return s
}

// start starts an operation and returns its ID.
func (s *socket) start(query string) string {
	s.t.Helper()
	s.n++
	id := fmt.Sprint(s.n)
	payload, _ := json.Marshal(map[string]any{"query": query})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := wsjson.Write(ctx, s.conn, wsMessage{ID: id, Type: "subscribe", Payload: payload}); err != nil {
		s.t.Fatal(err)
	}
	return id
}

// read returns the next message other than a ping (answered) or a pong, or nil and the close
// code once the server closed the socket.
func (s *socket) read() (*wsMessage, websocket.StatusCode) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		var m wsMessage
		if err := wsjson.Read(ctx, s.conn, &m); err != nil {
			if code := websocket.CloseStatus(err); code != -1 {
				return nil, code
			}
			s.t.Fatalf("reading the socket: %v", err)
		}
		switch m.Type {
		case "ping":
			_ = wsjson.Write(ctx, s.conn, wsMessage{Type: "pong"})
		case "pong", "ka":
		default:
			return &m, 0
		}
	}
}

// closed reads until the server closes the socket and returns the close error.
func (s *socket) closed() websocket.CloseError {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, _, err := s.conn.Read(ctx)
		var ce websocket.CloseError
		switch {
		case errors.As(err, &ce):
			return ce
		case err != nil:
			s.t.Fatalf("the socket was not closed by the server: %v", err)
		}
	}
}

// closedSaying is closed, with what the server sent before the close.
func (s *socket) closedSaying() (websocket.CloseError, []string) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var said []string
	for {
		_, data, err := s.conn.Read(ctx)
		var ce websocket.CloseError
		switch {
		case errors.As(err, &ce):
			return ce, said
		case err != nil:
			s.t.Fatalf("the socket was not closed by the server: %v", err)
		}
		said = append(said, string(data))
	}
}

// errorOf returns the code and message of an operation's answer, "" when it has no error.
func errorOf(m *wsMessage) (code, message string) {
	var list []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	}
	switch m.Type {
	case "error":
		_ = json.Unmarshal(m.Payload, &list)
	case "next":
		var res struct {
			Errors []struct {
				Message    string         `json:"message"`
				Extensions map[string]any `json:"extensions"`
			} `json:"errors"`
		}
		_ = json.Unmarshal(m.Payload, &res)
		list = res.Errors
	}
	if len(list) == 0 {
		return "", ""
	}
	c, _ := list[0].Extensions["code"].(string)
	return c, list[0].Message
}

// cliAuth is `portside token ...` on the same database: another process, with no catalog.
func cliAuth(st *store.Store) *auth.Service { return auth.NewService(st, auth.Options{}) }

const rolloutsSub = `subscription { rolloutChanged(component: "payments-api") { revision } }`

// A credential that cannot be checked (the database gone) refuses the operation as a result
// with the error and a complete, not the protocol's error message: graphql-ws clients end a
// subscription for good on that, and the portal restarts one only after a complete. The socket
// stays open.
func TestAnOperationWhoseCredentialCannotBeCheckedEndsWithAComplete(t *testing.T) {
	st := storetest.SQLite(t)
	p := newPortal(t, st, func(o *auth.Options) { o.CredentialRecheck = time.Hour })
	secret, _, err := cliAuth(st).CreateToken(operator(), auth.TokenSpec{Username: "robot", Name: "robot"})
	if err != nil {
		t.Fatal(err)
	}
	s := p.openSocket(t, bearer(secret))
	id := s.start(`{ me { username } }`)
	if m, _ := s.read(); m == nil || m.ID != id || m.Type != "next" {
		t.Fatalf("a query over the token's socket: %+v", m)
	}
	s.read() // complete
	db, err := st.Gorm().DB()
	if err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	p.clock.Add(2 * time.Minute) // past the credential cache
	id = s.start(rolloutsSub)
	m, code := s.read()
	if m == nil {
		t.Fatalf("the socket closed (%d) when the credential could not be checked", code)
	}
	if c, _ := errorOf(m); m.ID != id || m.Type != "next" || c == "" {
		t.Fatalf("the operation answered %+v, want a result with the error", m)
	}
	if m, _ := s.read(); m == nil || m.ID != id || m.Type != "complete" {
		t.Fatalf("after the error: %+v, want complete", m)
	}
}

// The probe: over a socket opened with an admin token, createApiToken(admin: true) ran, even after
// `portside token revoke`. Mutations go over HTTP only, and the socket ends with its token.
func TestASocketRunsNoMutationsAndClosesWhenItsTokenIsRevokedElsewhere(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := newPortal(t, st, func(o *auth.Options) { o.CredentialRecheck = 20 * time.Millisecond })
		secret, tok, err := cliAuth(st).CreateToken(operator(), auth.TokenSpec{Username: "root", Name: "root", Admin: true})
		if err != nil {
			t.Fatal(err)
		}
		s := p.openSocket(t, bearer(secret))
		s.start(`mutation { createApiToken(input: {name: "minted", admin: true}) { secret } }`)
		m, _ := s.read()
		if code, msg := errorOf(m); code != "INVALID" || !strings.Contains(msg, "HTTP POST") {
			t.Fatalf("a mutation over the socket answered %s %q (%+v), want INVALID naming HTTP POST", code, msg, m)
		}
		s.start(rolloutsSub) // a live subscription: it must end with the socket
		// Revoke only once it is live; revoked before, its resolver would still be starting
		// when the socket and then the test's database closed.
		p.trackerSubscribed(t, 1)

		if _, err := cliAuth(st).RevokeToken(operator(), tok.ID); err != nil {
			t.Fatal(err)
		}
		ce, said := s.closedSaying()
		if ce.Code != graph.CloseUnauthenticated || !strings.Contains(ce.Reason, "revoked") {
			t.Fatalf("after the revocation the socket closed with %d %q, want %d and a reason naming the revocation",
				ce.Code, ce.Reason, graph.CloseUnauthenticated)
		}
		// Only the close: a complete of the subscription first (gqlgen's, as it stopped the
		// operations) read as its normal end, and a client never saw why.
		if len(said) > 0 {
			t.Errorf("before the close the server sent %q", said)
		}
	})
}

// A revocation or sign-out in this process reaches the socket at once, whatever the recheck
// interval; an operation started on a socket whose credential ended elsewhere is refused, with
// the cache's staleness as the only slack.
func TestASocketEndsWithItsSession(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := newPortal(t, st, func(o *auth.Options) { o.CredentialRecheck = time.Hour })
		bob := p.session("bob")
		u, _ := url.Parse(p.base)
		h := http.Header{"Origin": {p.base}}
		for _, c := range bob.b.Jar.Cookies(u) {
			h.Add("Cookie", c.Name+"="+c.Value)
		}
		s := p.openSocket(t, h)
		id := s.start(`{ me { username } }`)
		if m, _ := s.read(); m.ID != id || m.Type != "next" || !strings.Contains(string(m.Payload), `"bob"`) {
			t.Fatalf("a query over bob's socket: %+v", m)
		}
		s.read() // complete

		// bob signs out in his other tab.
		req, _ := http.NewRequest(http.MethodPost, p.base+"/auth/logout", nil)
		req.Header.Set("Origin", p.base)
		resp, err := bob.b.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, resp)
		if ce := s.closed(); ce.Code != graph.CloseUnauthenticated || ce.Reason == "" {
			t.Fatalf("after sign-out the socket closed with %d %q, want %d with a reason", ce.Code, ce.Reason, graph.CloseUnauthenticated)
		}
	})
}

func TestAnOperationOnASocketRunsAsTheCredentialIsNow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := newPortal(t, st, func(o *auth.Options) { o.CredentialRecheck = time.Hour })
		secret, tok, err := cliAuth(st).CreateToken(operator(), auth.TokenSpec{Username: "robot", Name: "robot"})
		if err != nil {
			t.Fatal(err)
		}
		s := p.openSocket(t, bearer(secret))
		id := s.start(`{ me { username } }`)
		if m, _ := s.read(); m.ID != id || m.Type != "next" {
			t.Fatalf("a query over the token's socket: %+v", m)
		}
		s.read() // complete
		// Revoked by the CLI (no in-process signal, an hour until the next recheck) and past the
		// credential cache: the next operation is refused and the socket closed.
		if _, err := cliAuth(st).RevokeToken(operator(), tok.ID); err != nil {
			t.Fatal(err)
		}
		p.clock.Add(2 * time.Minute)
		s.start(`{ me { username } }`)
		m, code := s.read()
		if m != nil {
			if c, _ := errorOf(m); c != "UNAUTHENTICATED" {
				t.Fatalf("an operation with a revoked token answered %+v, want UNAUTHENTICATED", m)
			}
			code = s.closed().Code
		}
		if code != graph.CloseUnauthenticated {
			t.Fatalf("the socket closed with %d, want %d", code, graph.CloseUnauthenticated)
		}
	})
}

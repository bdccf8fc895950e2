package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"reflect"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/portside-dev/portside/auth"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/errs"
)

// WebSocket close codes Portside ends a socket with when its credential no longer holds. They sit
// in the range RFC 6455 leaves to applications, and echo HTTP's 401 and 403 so clients can tell
// "sign in again" from "your permissions changed: reconnect".
const (
	CloseUnauthenticated = 4401 // signed out, session ended, token revoked or expired
	CloseForbidden       = 4403 // the credential now stands for other rights than at the upgrade
)

// WebSocket close codes of graphql-transport-ws (github.com/enisdenjo/graphql-ws, PROTOCOL.md) for
// a client that breaks the protocol; Portside closes sockets of the older graphql-ws subprotocol
// with the same codes. (The protocol's 4401 Unauthorized, for an operation sent before the
// connection was acknowledged, is CloseUnauthenticated's code.)
const (
	CloseBadRequest       = 4400 // an invalid message: not JSON, an unknown type, a field missing or of the wrong type
	CloseInitTimeout      = 4408 // no connection_init within the socket's first socketInitTimeout
	CloseSubscriberExists = 4409 // a subscribe (start) with the ID of an operation still active
	CloseTooManyInits     = 4429 // a second connection_init
)

// The bounds of one socket and of one user's sockets. They are constants, like the bounds of a
// document (document.go): they bound what one client can make a replica hold (a goroutine and its
// buffers per operation, a connection and two goroutines per socket; 10,000 subscriptions on one
// socket took 770 MB, and 2,000 sockets of one token were all accepted) rather than tune a
// workload, and the portal is far below both: one socket per tab, a handful of subscriptions each.
const (
	// maxSocketOperations bounds the operations running at once on one socket (subscriptions,
	// and queries not yet answered); one more is answered with an error message, reason
	// TOO_MANY_OPERATIONS, and the socket stays open.
	maxSocketOperations = 100
	// maxUserSockets bounds the sockets one user (all their sessions and tokens) has open on one
	// replica; one more upgrade is answered 429, reason TOO_MANY_SOCKETS.
	maxUserSockets = 32
)

// socketInitTimeout is how long a socket may wait before its connection_init: past it the socket
// is closed with CloseInitTimeout. A variable so that tests need not wait that long.
var socketInitTimeout = 10 * time.Second

// A WebSocket lives far longer than the request that opened it, so the rights checked at the
// upgrade cannot be trusted for its lifetime. Each socket therefore
//   - runs every operation it starts as the principal its credential authenticates as at that
//     moment (the cached check, well under a microsecond), refusing it if the credential ended;
//   - is followed by auth.Service.Follow, which closes it with CloseUnauthenticated or
//     CloseForbidden and a reason when its credential ends: at once for revocations and sign-outs
//     in this process, within auth's CredentialRecheck for the others and for expiry;
//   - carries no mutations: the portal sends them over HTTP, where each request is authenticated,
//     CSRF-checked and audited as it comes; a socket is for subscriptions (and queries).
//
// gqlgen's transport runs the protocol; socketConn, between it and the connection, holds every
// socket to it (see socketConn) and to the bounds above, and socketTransport bounds each user's
// sockets and keeps request errors apart from results (see requestErrorsApart).

// socket is one WebSocket's credential and its way to end itself.
type socket struct {
	creds  auth.Credentials
	opened *principal.Principal
	conn   *socketConn
	cancel context.CancelFunc
	once   sync.Once
}

// end closes the socket with the close code for err and err's message as the reason.
func (s *socket) end(err error) {
	s.once.Do(func() {
		code := CloseUnauthenticated
		if errs.Is(err, errs.Forbidden) {
			code = CloseForbidden
		}
		if s.conn != nil {
			// Nothing more is sent: the operations gqlgen stops would say complete before the
			// close, which a client takes for their normal end, not the close's 4401 or 4403.
			_ = s.conn.refuse(code, errs.PublicMessage(err))
		}
		s.cancel() // gqlgen closes the socket (with our code) and stops its operations
	})
}

type socketKey struct{}

func socketFrom(ctx context.Context) *socket {
	s, _ := ctx.Value(socketKey{}).(*socket)
	return s
}

// slotKey carries, from the upgrade request to the socket's init, the connection the transport
// accepted: gqlgen closes sockets with code 1000 only, and ours must say why they end.
type slotKey struct{}

type connSlot struct{ conn *socketConn }

// withSocketSlot gives an upgrade request a place for its connection.
func withSocketSlot(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			r = r.WithContext(context.WithValue(r.Context(), slotKey{}, &connSlot{}))
		}
		next.ServeHTTP(w, r)
	})
}

// websocketTransport is graphql-transport-ws (and the older graphql-ws) on /graphql, with every
// socket following its credential (see above). The server pings so that proxies keep an idle
// subscription open and a vanished client is noticed.
func websocketTransport(ids *auth.Service) socketTransport {
	return socketTransport{sockets: &userSockets{open: map[string]int{}}, Websocket: transport.Websocket{
		KeepAlivePingInterval: 15 * time.Second,
		PingPongInterval:      15 * time.Second,
		// Closed with 1002 by gqlgen; socketConn makes that CloseInitTimeout.
		InitTimeout:    socketInitTimeout,
		Implementation: socketAcceptor{},
		InitFunc: func(ctx context.Context, _ transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			p := principal.From(ctx)
			if p == nil || ids == nil {
				return ctx, nil, errs.E(errs.Unauthenticated, "sign in before opening a WebSocket")
			}
			ctx, cancel := context.WithCancel(ctx)
			s := &socket{creds: auth.CredentialsFrom(ctx), opened: p, cancel: cancel}
			if slot, ok := ctx.Value(slotKey{}).(*connSlot); ok {
				s.conn = slot.conn
			}
			go ids.Follow(ctx, s.creds, p, s.end)
			return context.WithValue(ctx, socketKey{}, s), nil, nil
		},
		CloseFunc: func(ctx context.Context, _ int) {
			if s := socketFrom(ctx); s != nil {
				s.cancel() // stops Follow
			}
		},
	}}
}

// socketTransport is gqlgen's WebSocket transport with each user's sockets counted (at most
// maxUserSockets on this replica) and request errors kept apart from results.
type socketTransport struct {
	transport.Websocket
	sockets *userSockets
}

var _ graphql.Transport = socketTransport{}

// Do serves one socket, for as long as it is open, unless its user has too many open already.
func (t socketTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	// An upgrade without a principal is refused at its connection_init (server refuses it 401 first).
	if p := principal.From(r.Context()); p != nil {
		who := socketOwner(p)
		if !t.sockets.add(who) {
			writeSocketRefusal(w, http.StatusTooManyRequests, "TOO_MANY_SOCKETS", fmt.Sprintf(
				"%s already has %d WebSockets open on this server, the most one user may have: close one (a socket carries up to %d subscriptions)",
				p.Actor(), maxUserSockets, maxSocketOperations))
			return
		}
		defer t.sockets.remove(who) // Do returns once the socket is closed
	}
	t.Websocket.Do(w, r, requestErrorsApart{exec})
}

// socketOwner is whose sockets p's count among: its user's, whichever session or token p is.
func socketOwner(p *principal.Principal) string {
	if p.Username != "" {
		return "user " + p.Username
	}
	return fmt.Sprintf("%s session %d token %d", p.Kind, p.SessionID, p.TokenID)
}

// writeSocketRefusal answers an upgrade with status and one error, as writeRequestError does
// for HTTP requests.
func writeSocketRefusal(w http.ResponseWriter, status int, reason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{
		"message": msg, "extensions": map[string]any{"code": string(errs.Invalid), "reason": reason},
	}}})
}

// userSockets counts the open sockets of each user.
type userSockets struct {
	mu   sync.Mutex
	open map[string]int
}

// add counts one more socket of who, unless who has maxUserSockets open already.
func (u *userSockets) add(who string) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.open[who] >= maxUserSockets {
		return false
	}
	u.open[who]++
	return true
}

func (u *userSockets) remove(who string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.open[who]--; u.open[who] <= 0 {
		delete(u.open, who)
	}
}

// requestErrorsApart gives the error presenter copies of an operation's request errors (a
// syntax error, a validation failure, a bound of the document passed). gqlgen's WebSocket
// transport presents them and only then reads their code to choose between the protocol's error
// message (a request error) and a result; presentError rewrites the code to Portside's INVALID
// (keeping gqlgen's as the reason), in the error itself, so every request error went out as a
// next message with the errors and a complete. Presented on copies, they go out as one error
// message, as graphql-transport-ws (and graphql-ws) say, and still with Portside's codes.
type requestErrorsApart struct{ graphql.GraphExecutor }

func (e requestErrorsApart) DispatchError(ctx context.Context, list gqlerror.List) *graphql.Response {
	if graphql.HasOperationContext(ctx) {
		// A document without the operation asked for: said as over HTTP (operationNotFound),
		// not in gqlgen's "operation  not found", which named nothing when the name was left out.
		if oc := graphql.GetOperationContext(ctx); oc.Doc != nil && oc.Operation == nil {
			list = gqlerror.List{operationNotFound(oc.Doc, oc.OperationName)}
		}
	}
	copies := make(gqlerror.List, 0, len(list))
	for _, err := range list {
		if err == nil {
			continue
		}
		c := *err
		c.Extensions = maps.Clone(err.Extensions)
		copies = append(copies, &c)
	}
	return e.GraphExecutor.DispatchError(ctx, copies)
}

// socketGate checks every operation started on a socket: no mutations, and the credential must
// still authenticate, as the principal the operation then runs as.
type socketGate struct{ ids *auth.Service }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
} = socketGate{}

func (socketGate) ExtensionName() string                   { return "SocketGate" }
func (socketGate) Validate(graphql.ExecutableSchema) error { return nil }

func (g socketGate) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	s := socketFrom(ctx)
	if s == nil {
		return next(ctx)
	}
	if oc := graphql.GetOperationContext(ctx); oc.Operation != nil && oc.Operation.Operation == ast.Mutation {
		return refuseOnSocket(ctx, errs.E(errs.Invalid, "mutations are not accepted over the WebSocket: send them as HTTP POST to /graphql"))
	}
	p, err := g.ids.Recheck(ctx, s.creds, s.opened)
	switch {
	case errs.Is(err, errs.Unauthenticated) || errs.Is(err, errs.Forbidden):
		defer s.end(err) // the socket closes (4401, 4403): the client signs in or reconnects
		return refuseOnSocket(ctx, err)
	case err != nil:
		// The credential could not be checked (the database unreachable): a result with the
		// error and a complete, not the protocol's error message, which ends a subscription for
		// good in graphql-ws clients (the portal restarts one only after a complete).
		return refuse(err)
	}
	return next(principal.With(ctx, p))
}

// refuse answers an operation with one coded error (once: the transport reads until nil).
func refuse(err error) graphql.ResponseHandler {
	return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{refusal(err)}})
}

// refuseOnSocket answers an operation on a socket, refused before it runs, with one coded error:
// the protocol's error message (which ends the operation), not a result. Every operation on a
// socket runs inside gqlgen's WebSocket transport, whose context carries the errors it sends so.
func refuseOnSocket(ctx context.Context, err error) graphql.ResponseHandler {
	transport.AddSubscriptionError(ctx, refusal(err))
	return func(context.Context) *graphql.Response { return nil }
}

// refusal is err as the one error of an answer.
func refusal(err error) *gqlerror.Error {
	code := errs.CodeOf(err)
	msg := errs.PublicMessage(err)
	if code == errs.Internal {
		msg = "internal error"
	}
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"code": string(code)}}
}

// socketAcceptor accepts sockets with gqlgen's coder/websocket adapter and keeps each connection
// where the socket's init finds it.
type socketAcceptor struct{}

func (socketAcceptor) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	conn, err := transport.CoderWebsocketImplementation{}.Accept(w, r, opts)
	if err != nil {
		return nil, err
	}
	c := newSocketConn(conn)
	if slot, ok := r.Context().Value(slotKey{}).(*connSlot); ok {
		slot.conn = c
	}
	return c, nil
}

// socketConn is the connection under gqlgen's transport. It lets Portside set the close code and
// reason (gqlgen closes with 1000 or 1002 only), and it holds the client to the protocol before
// gqlgen reads a message, which gqlgen does not:
//   - a message that is not one JSON object of a type the client may send, with the fields that
//     type needs (a subscribe's non-empty id, its payload's query), closes the socket with
//     CloseBadRequest; an operation before the connection_init, with 4401; a second
//     connection_init, with CloseTooManyInits; no connection_init in time, with CloseInitTimeout
//     (gqlgen's InitTimeout closes with 1002);
//   - a subscribe with the ID of an operation still active closes it with CloseSubscriberExists,
//     and one past maxSocketOperations is answered with an error message;
//   - once the client completes an operation, nothing more is sent for it (gqlgen sent its result
//     or complete all the same), nor after the error message that ends one (gqlgen sent a
//     complete after it), and its ID is free again (see byClient); once a broken rule closes the
//     socket, nothing more is sent on it.
//
// Both subprotocols are held to the same rules; ping and pong are graphql-transport-ws's only.
type socketConn struct {
	transport.WebsocketConn
	legacy bool // graphql-ws (subscriptions-transport-ws's protocol) rather than graphql-transport-ws

	mu      sync.Mutex
	code    int
	reason  string
	inited  bool // the connection_init went to gqlgen
	refused bool // the client broke the protocol: the socket closes, and nothing more is sent
	// Operations go to gqlgen under IDs of their own, never used twice on the socket: gqlgen keeps
	// an operation by its ID until the operation's goroutine has ended, so an ID the client used
	// again once free (as the protocol allows) would have been taken from the operation still
	// ending (and the new one would no longer stop). byClient maps the client's IDs of the
	// operations it started that have not ended to gqlgen's; byServer maps gqlgen's IDs of the
	// operations it still runs to the client's ("" once the client completed it).
	last     int
	byClient map[string]string
	byServer map[string]string
}

func newSocketConn(conn transport.WebsocketConn) *socketConn {
	return &socketConn{WebsocketConn: conn, legacy: conn.Subprotocol() != "graphql-transport-ws",
		byClient: map[string]string{}, byServer: map[string]string{}}
}

// closeWith makes the next close use code and reason (a close frame's reason is at most 123
// bytes of UTF-8: a longer one is cut between characters), unless an earlier call chose them:
// the first reason to close is the one given.
func (c *socketConn) closeWith(code int, reason string) {
	if len(reason) > 123 {
		cut := 120
		for cut > 0 && !utf8.RuneStart(reason[cut]) {
			cut--
		}
		reason = reason[:cut] + "..."
	}
	c.mu.Lock()
	if c.code == 0 {
		c.code, c.reason = code, reason
	}
	c.mu.Unlock()
}

func (c *socketConn) WriteClose(code int, message string) error {
	c.mu.Lock()
	switch {
	case c.code != 0:
		code, message = c.code, c.reason
	case code == transport.WebsocketCloseProtocolError && !c.inited:
		// Before its connection_init reaches gqlgen (every other message is answered here),
		// gqlgen closes a socket with a protocol error only when its InitTimeout has passed.
		code, message = CloseInitTimeout, "Connection initialisation timeout"
	}
	c.mu.Unlock()
	return c.WebsocketConn.WriteClose(code, message)
}

// SetReadLimit and SetReadDeadline pass gqlgen's read limit and pong deadline on to the adapter.
func (c *socketConn) SetReadLimit(limit int64) {
	if l, ok := c.WebsocketConn.(transport.WebsocketReadLimiter); ok {
		l.SetReadLimit(limit)
	}
}

// SetReadDeadline: see SetReadLimit.
func (c *socketConn) SetReadDeadline(t time.Time) error {
	if d, ok := c.WebsocketConn.(transport.WebsocketReadDeadliner); ok {
		return d.SetReadDeadline(t)
	}
	return nil
}

// errSocketRefused ends gqlgen's reading of a socket whose client broke the protocol: gqlgen then
// closes it, with the code and reason closeWith chose.
var errSocketRefused = errors.New("the client broke the WebSocket protocol")

// NextReader gives gqlgen the client's next message that is for gqlgen, as gqlgen should read it.
func (c *socketConn) NextReader() (int, io.Reader, error) {
	for {
		kind, r, err := c.WebsocketConn.NextReader()
		if err != nil {
			return kind, r, err
		}
		data, err := io.ReadAll(r)
		if err != nil {
			return kind, nil, err
		}
		out, err := c.screen(data)
		if err != nil {
			return kind, nil, err
		}
		if out != nil {
			return kind, bytes.NewReader(out), nil
		}
	}
}

// clientMessage is a message of the protocol, each field as JSON: as it came from the client, or
// as it is to be sent.
type clientMessage struct {
	Type    json.RawMessage `json:"type"`
	ID      json.RawMessage `json:"id,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// screen checks one message from the client and returns what gqlgen is to read of it: the
// message itself, the message with gqlgen's ID for the operation, or nil when it was answered or
// ignored here. An error means the socket is to be closed (closeWith says how).
func (c *socketConn) screen(data []byte) ([]byte, error) {
	var m clientMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, c.refuse(CloseBadRequest, "Invalid message received: not a JSON object")
	}
	typ, ok := jsonString(m.Type)
	if !ok || typ == "" {
		return nil, c.refuse(CloseBadRequest, "Invalid message received: no type")
	}
	// An id is a string whatever the message (gqlgen could not read the others: a ping with a
	// numeric id closed the socket with 1000, which clients take for a normal end).
	if len(m.ID) > 0 && string(m.ID) != "null" {
		if _, ok := jsonString(m.ID); !ok {
			return nil, c.refuse(CloseBadRequest, fmt.Sprintf("Invalid message received: the id of %q must be a string", typ))
		}
	}
	switch {
	case typ == "connection_init":
		return c.init(data, m)
	case typ == "subscribe" && !c.legacy, typ == "start" && c.legacy:
		return c.start(typ, m)
	case typ == "complete" && !c.legacy, typ == "stop" && c.legacy:
		return c.stop(typ, m)
	case typ == "connection_terminate" && c.legacy:
		return data, nil
	case (typ == "ping" || typ == "pong") && !c.legacy:
		if !objectOrNull(m.Payload) {
			return nil, c.refuse(CloseBadRequest, fmt.Sprintf("Invalid message received: the payload of %q must be an object", typ))
		}
		c.mu.Lock()
		inited := c.inited
		c.mu.Unlock()
		if inited {
			return data, nil // gqlgen answers pings and notes pongs
		}
		// "at any time within the established socket": before the connection_init too, when
		// gqlgen would take anything but one for an error.
		if typ == "ping" {
			return nil, c.WebsocketConn.WriteJSON(clientMessage{Type: json.RawMessage(`"pong"`), Payload: m.Payload})
		}
		return nil, nil
	default:
		return nil, c.refuse(CloseBadRequest, fmt.Sprintf("Invalid message received: unexpected type %q", typ))
	}
}

func (c *socketConn) init(data []byte, m clientMessage) ([]byte, error) {
	if !objectOrNull(m.Payload) {
		return nil, c.refuse(CloseBadRequest, `Invalid message received: the payload of "connection_init" must be an object`)
	}
	c.mu.Lock()
	again := c.inited
	c.inited = true
	c.mu.Unlock()
	if again {
		return nil, c.refuse(CloseTooManyInits, "Too many initialisation requests")
	}
	return data, nil
}

// start admits an operation (subscribe, or graphql-ws's start) under an ID of gqlgen's.
func (c *socketConn) start(typ string, m clientMessage) ([]byte, error) {
	c.mu.Lock()
	inited := c.inited
	c.mu.Unlock()
	if !inited {
		return nil, c.refuse(CloseUnauthenticated, "Unauthorized")
	}
	id, ok := jsonString(m.ID)
	if !ok || id == "" {
		return nil, c.refuse(CloseBadRequest, fmt.Sprintf("Invalid message received: %q needs a non-empty string id", typ))
	}
	if msg := checkOperation(m.Payload); msg != "" {
		return nil, c.refuse(CloseBadRequest, fmt.Sprintf("Invalid message received: the payload of %q %s", typ, msg))
	}
	c.mu.Lock()
	_, active := c.byClient[id]
	// Operations the client completed count too, apart, while gqlgen still ends them: the bound
	// is on what the socket holds.
	full := len(c.byClient) >= maxSocketOperations || len(c.byServer) >= 2*maxSocketOperations
	var internal string
	if !active && !full {
		c.last++
		internal = strconv.Itoa(c.last)
		c.byClient[id], c.byServer[internal] = internal, id
	}
	c.mu.Unlock()
	switch {
	case active:
		return nil, c.refuse(CloseSubscriberExists, fmt.Sprintf("Subscriber for %s already exists", id))
	case full:
		answer, _ := json.Marshal([]*gqlerror.Error{{
			Message:    fmt.Sprintf("this WebSocket already runs %d operations, the most one socket may: complete one first, or open another socket", maxSocketOperations),
			Extensions: map[string]any{"code": string(errs.Invalid), "reason": "TOO_MANY_OPERATIONS"},
		}})
		return nil, c.WebsocketConn.WriteJSON(clientMessage{Type: json.RawMessage(`"error"`), ID: quote(id), Payload: answer})
	}
	return json.Marshal(clientMessage{Type: quote(typ), ID: quote(internal), Payload: m.Payload})
}

// stop passes on the client's complete (graphql-ws's stop) of an operation it started and that
// has not ended; one of any other ID is ignored, as the protocol allows.
func (c *socketConn) stop(typ string, m clientMessage) ([]byte, error) {
	id, ok := jsonString(m.ID)
	if !ok || id == "" {
		return nil, c.refuse(CloseBadRequest, fmt.Sprintf("Invalid message received: %q needs a non-empty string id", typ))
	}
	c.mu.Lock()
	internal, active := c.byClient[id]
	if active {
		delete(c.byClient, id)
		c.byServer[internal] = "" // nothing more goes out for it
	}
	c.mu.Unlock()
	if !active {
		return nil, nil
	}
	return json.Marshal(clientMessage{Type: quote(typ), ID: quote(internal)})
}

// refuse makes the socket close with code and reason, at once: nothing more is sent on it (gqlgen
// stops the socket's operations as it closes it, and would send their complete messages while the
// close frame is being written). It returns the error that ends gqlgen's reading of the socket.
func (c *socketConn) refuse(code int, reason string) error {
	c.closeWith(code, reason)
	c.mu.Lock()
	c.refused = true
	c.mu.Unlock()
	return errSocketRefused
}

// WriteJSON sends gqlgen's message under the client's ID for its operation; nothing is sent for
// an operation the client completed, nor after the message that ends one.
func (c *socketConn) WriteJSON(v any) error {
	id, typ, setID := messageFields(v)
	c.mu.Lock()
	refused := c.refused
	c.mu.Unlock()
	switch {
	case refused:
		return nil
	case id == "":
		return c.WebsocketConn.WriteJSON(v) // the connection's own: ack, ping, pong, keep-alive
	}
	c.mu.Lock()
	client, running := c.byServer[id]
	if running && (typ == "complete" || typ == "error") {
		delete(c.byServer, id)
		if client != "" {
			delete(c.byClient, client)
		}
	}
	c.mu.Unlock()
	if client == "" {
		return nil
	}
	return c.WebsocketConn.WriteJSON(setID(client))
}

// messageFields reads the ID and type of a message gqlgen sends, and gives the way to send it
// under another ID. gqlgen's message types (one per subprotocol) are unexported structs with
// exported ID and Type string fields; anything else is read through its JSON.
func messageFields(v any) (id, typ string, setID func(string) any) {
	if p := reflect.ValueOf(v); p.Kind() == reflect.Pointer && p.Elem().Kind() == reflect.Struct {
		idField, typeField := p.Elem().FieldByName("ID"), p.Elem().FieldByName("Type")
		if idField.Kind() == reflect.String && idField.CanSet() && typeField.Kind() == reflect.String {
			return idField.String(), typeField.String(), func(to string) any { idField.SetString(to); return v }
		}
	}
	data, err := json.Marshal(v)
	var m struct {
		ID      string          `json:"id,omitempty"`
		Type    string          `json:"type"`
		Payload json.RawMessage `json:"payload,omitempty"`
	}
	if err != nil || json.Unmarshal(data, &m) != nil {
		return "", "", nil
	}
	return m.ID, m.Type, func(to string) any { m.ID = to; return m }
}

// checkOperation says what is wrong with the payload of a subscribe (start), "" when nothing:
// an object with a query, and perhaps operationName, variables and extensions.
func checkOperation(payload json.RawMessage) string {
	var p struct {
		Query         json.RawMessage `json:"query"`
		OperationName json.RawMessage `json:"operationName"`
		Variables     json.RawMessage `json:"variables"`
		Extensions    json.RawMessage `json:"extensions"`
	}
	if !isObject(payload) || json.Unmarshal(payload, &p) != nil {
		return "must be an object"
	}
	if _, ok := jsonString(p.Query); !ok {
		return "needs a query (a string)"
	}
	if _, ok := jsonString(p.OperationName); !ok && !isNull(p.OperationName) {
		return "has an operationName that is not a string"
	}
	if !objectOrNull(p.Variables) || !objectOrNull(p.Extensions) {
		return "has variables or extensions that are not an object"
	}
	return ""
}

// jsonString is the string raw holds, and whether it holds one.
func jsonString(raw json.RawMessage) (string, bool) {
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

func isObject(raw json.RawMessage) bool { return len(raw) > 0 && raw[0] == '{' }

// isNull says whether raw is absent or null.
func isNull(raw json.RawMessage) bool { return len(raw) == 0 || string(raw) == "null" }

func objectOrNull(raw json.RawMessage) bool { return isNull(raw) || isObject(raw) }

func quote(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

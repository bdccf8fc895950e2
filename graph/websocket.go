package graph

import (
	"context"
	"net/http"
	"sync"
	"time"

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

// A WebSocket lives far longer than the request that opened it, so the rights checked at the
// upgrade cannot be trusted for its lifetime. Each socket therefore
//   - runs every operation it starts as the principal its credential authenticates as at that
//     moment (the cached check, well under a microsecond), refusing it if the credential ended;
//   - is followed by auth.Service.Follow, which closes it with CloseUnauthenticated or
//     CloseForbidden and a reason when its credential ends: at once for revocations and sign-outs
//     in this process, within auth's CredentialRecheck for the others and for expiry;
//   - carries no mutations: the portal sends them over HTTP, where each request is authenticated,
//     CSRF-checked and audited as it comes; a socket is for subscriptions (and queries).

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
			s.conn.closeWith(code, errs.PublicMessage(err))
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
func websocketTransport(ids *auth.Service) transport.Websocket {
	return transport.Websocket{
		KeepAlivePingInterval: 15 * time.Second,
		PingPongInterval:      15 * time.Second,
		Implementation:        socketAcceptor{},
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
	}
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
		return refuse(errs.E(errs.Invalid, "mutations are not accepted over the WebSocket: send them as HTTP POST to /graphql"))
	}
	p, err := g.ids.Recheck(ctx, s.creds, s.opened)
	if err != nil {
		if errs.Is(err, errs.Unauthenticated) || errs.Is(err, errs.Forbidden) {
			defer s.end(err)
		}
		return refuse(err)
	}
	return next(principal.With(ctx, p))
}

// refuse answers an operation with one coded error (once: the transport reads until nil).
func refuse(err error) graphql.ResponseHandler {
	code := errs.CodeOf(err)
	msg := errs.PublicMessage(err)
	if code == errs.Internal {
		msg = "internal error"
	}
	return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{Message: msg, Extensions: map[string]any{"code": string(code)}}}})
}

// socketAcceptor accepts sockets with gqlgen's coder/websocket adapter and keeps each connection
// where the socket's init finds it.
type socketAcceptor struct{}

func (socketAcceptor) Accept(w http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	conn, err := transport.CoderWebsocketImplementation{}.Accept(w, r, opts)
	if err != nil {
		return nil, err
	}
	c := &socketConn{WebsocketConn: conn}
	if slot, ok := r.Context().Value(slotKey{}).(*connSlot); ok {
		slot.conn = c
	}
	return c, nil
}

// socketConn is a connection whose close code and reason Portside can set before gqlgen closes it.
type socketConn struct {
	transport.WebsocketConn
	mu     sync.Mutex
	code   int
	reason string
}

// closeWith makes the next close use code and reason (a close frame's reason is at most 123 bytes).
func (c *socketConn) closeWith(code int, reason string) {
	if len(reason) > 123 {
		reason = reason[:120] + "..."
	}
	c.mu.Lock()
	c.code, c.reason = code, reason
	c.mu.Unlock()
}

func (c *socketConn) WriteClose(code int, message string) error {
	c.mu.Lock()
	if c.code != 0 {
		code, message = c.code, c.reason
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

// Package server is Portside's HTTP front: the gin router with /graphql, the GraphiQL page, health,
// readiness and metrics endpoints, request IDs and access logs, and graceful shutdown.
package server

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/frontend"
	"github.com/portside-dev/portside/graph"
	"github.com/portside-dev/portside/logs"
	"github.com/portside-dev/portside/metrics"
	"github.com/portside-dev/portside/server/graphiql"
)

// Options configure a Server.
type Options struct {
	// Addr is host:port to listen on; port 0 picks a free port (see Server.Addr).
	Addr string
	// Listener, when set, is used instead of listening on Addr (the caller needed the port first).
	Listener net.Listener
	// GraphQL serves /graphql.
	GraphQL http.Handler
	// Ready reports whether the server can do useful work (database reachable and migrated).
	Ready func(ctx context.Context) error
	// Metrics records HTTP traffic and serves /metrics.
	Metrics *metrics.Metrics
	// MetricsToken, when set, must come as "Authorization: Bearer <token>" on /metrics.
	MetricsToken string
	// Logger writes access logs and lifecycle events.
	Logger *slog.Logger
	// ShutdownTimeout bounds how long shutdown waits for in-flight requests.
	ShutdownTimeout time.Duration
	// Version is reported by /healthz.
	Version string
	// TrustedProxies are the proxies (addresses, CIDR ranges) whose X-Forwarded-For and X-Real-IP
	// headers name a request's client; with none, no header is believed: the address that limits
	// refused deliveries and is recorded is the connection's own, which a client cannot choose.
	TrustedProxies []string
	// Identity signs people in and authenticates every request but health, readiness and metrics
	// (required).
	Identity *Identity
	// GitHubWebhook, when set, serves POST /webhooks/github (signed by GitHub, not signed in).
	GitHubWebhook *GitHubWebhook
	// GitLabWebhook, when set, serves POST /webhooks/gitlab (with GitLab's secret token, not
	// signed in).
	GitLabWebhook *GitLabWebhook
	// SlackCommands, when set, serves POST /slack/commands and POST /slack/interactions (signed by
	// Slack, not signed in).
	SlackCommands *SlackCommands
	// AlertmanagerWebhook, when set, serves POST /webhooks/alertmanager (with the receiver's bearer
	// token or basic auth, not signed in).
	AlertmanagerWebhook *AlertmanagerWebhook
	// Tracing, when set, is the tracing middleware (package tracing's Gin): a span per request,
	// whose trace ID the request's log lines carry.
	Tracing gin.HandlerFunc
	// Portal is the built web portal (index.html and assets/); nil means the one embedded in the
	// binary (frontend.Dist), which answers a "portal not built" page when it was built without it.
	Portal fs.FS
}

// Server serves Portside over HTTP.
type Server struct {
	opts    Options
	handler http.Handler
	engine  *gin.Engine
	ln      net.Listener
}

// New builds the router. Listening starts with Listen.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.ContextWithFallback = true // handlers see the request's context (and its request ID) through gin.Context
	// gin believes every X-Forwarded-For unless told whom to: anyone could then pick the address
	// the limits of refused deliveries count and the audit records. Checked by config.
	if err := r.SetTrustedProxies(opts.TrustedProxies); err != nil {
		panic("server: trusted proxies: " + err.Error())
	}
	r.Use(requestID())
	if opts.Tracing != nil {
		// Inside the request ID (its span records it), outside the access log (whose line then
		// carries the trace ID).
		r.Use(opts.Tracing)
	}
	// The access log records the request's metrics too (opts.Metrics may be nil), before recovery,
	// so that a panicking handler is logged and counted as the 500 recovery answers.
	r.Use(accessLog(opts.Logger, opts.Metrics))
	r.Use(recovery(opts.Logger))
	if opts.Metrics != nil {
		r.GET("/metrics", metricsToken(opts.MetricsToken), gin.WrapH(opts.Metrics.Handler()))
	}
	// Probes and scrapes stay open (above); everything else knows its caller.
	id := opts.Identity
	if id == nil || id.Auth == nil || id.Audit == nil {
		panic("server: Options.Identity with Auth and Audit is required: every route but the probes knows its caller, and /audit/export reads the audit log")
	}
	id.Logger = opts.Logger
	id.unstarted = newDeniedLimiter(0, nil)
	authed := r.Group("/", id.authenticate())
	id.routes(authed)
	gql := gin.WrapH(opts.GraphQL)
	authed.POST("/graphql", id.requireAPI(), gql)
	authed.GET("/graphql", id.requireAPI(), gql)
	ide := graphiql.New()
	authed.GET("/graphiql", id.requirePage(), gin.WrapF(ide.Page))
	// GraphiQL's code (public libraries, no data) loads before anyone signs in.
	r.GET(graphiql.AssetPrefix+"*name", gin.WrapF(ide.Asset))
	// The portal: its code (hashed files, no data) loads before anyone signs in; its page answers
	// every client route, the root for everyone and deeper links after sign-in.
	files := opts.Portal
	if files == nil {
		files = frontend.Dist()
	}
	web := newPortal(files)
	r.GET("/assets/*name", web.asset)
	authed.GET("/", web.page(id))
	if opts.GitHubWebhook != nil {
		// GitHub proves itself by the delivery's signature, not by a Portside credential.
		r.POST("/webhooks/github", opts.GitHubWebhook.handler(opts.Logger))
	}
	if opts.GitLabWebhook != nil {
		// GitLab proves itself by the delivery's X-Gitlab-Token, not by a Portside credential.
		r.POST("/webhooks/gitlab", opts.GitLabWebhook.handler(opts.Logger))
	}
	if opts.SlackCommands != nil {
		// Slack proves itself by the request's signature, not by a Portside credential.
		r.POST("/slack/commands", opts.SlackCommands.handler(opts.Logger))
		r.POST("/slack/interactions", opts.SlackCommands.interactions(opts.Logger))
	}
	if opts.AlertmanagerWebhook != nil {
		// Alertmanager proves itself by its receiver's credential, not by a Portside sign-in.
		r.POST("/webhooks/alertmanager", opts.AlertmanagerWebhook.handler(opts.Logger))
	}
	r.GET("/healthz", func(c *gin.Context) {
		c.JSON(http.StatusOK, gin.H{"status": "ok", "version": opts.Version})
	})
	r.GET("/readyz", readyz(opts))
	// A path that answers other methods says so (405 with Allow), as HTTP asks, rather than
	// claiming there is no such endpoint.
	r.HandleMethodNotAllowed = true
	r.NoMethod(func(c *gin.Context) {
		if c.Request.URL.Path == "/graphql" {
			graph.RefuseMethod(c.Writer, c.Request)
			return
		}
		if readOnlyPage(c.Request.URL.Path) && c.Writer.Header().Get("Allow") == http.MethodGet {
			c.Header("Allow", "GET, HEAD") // headAsGet answers HEAD there too
		}
		c.JSON(http.StatusMethodNotAllowed, gin.H{"error": gin.H{"code": "METHOD_NOT_ALLOWED",
			"message": c.Request.Method + " is not allowed on " + c.Request.URL.Path + "; allowed: " + c.Writer.Header().Get("Allow")}})
	})
	r.NoRoute(func(c *gin.Context) {
		if c.Request.Method == http.MethodGet && isClientRoute(c.Request.URL.Path) {
			if web.rootFile(c.Request.URL.Path) {
				web.asset(c)
				return
			}
			id.authenticate()(c)
			if !c.IsAborted() {
				web.page(id)(c)
			}
			return
		}
		c.JSON(http.StatusNotFound, gin.H{"error": gin.H{"code": "NOT_FOUND", "message": "no such endpoint: " + c.Request.URL.Path}})
	})
	return &Server{opts: opts, handler: headAsGet(r), engine: r}
}

// headAsGet answers HEAD as GET on the pages and files that only read (HTTP asks servers to:
// RFC 9110 9.3.2; load balancers probe with it): the probes, the metrics, the portal's root and
// assets, GraphiQL. The request is routed as a GET, and net/http sends the headers without the
// body, since the request it holds is still a HEAD. Everything else keeps its methods: a HEAD must
// not run a query, finish a sign-in or read the whole audit export to throw it away.
func headAsGet(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead && readOnlyPage(r.URL.Path) {
			get := r.Clone(r.Context())
			get.Method = http.MethodGet
			h.ServeHTTP(w, get)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// readOnlyPage reports the paths headAsGet answers HEAD on.
func readOnlyPage(p string) bool {
	switch p {
	case "/healthz", "/readyz", "/metrics", "/", "/graphiql":
		return true
	}
	return strings.HasPrefix(p, "/assets/") || strings.HasPrefix(p, graphiql.AssetPrefix)
}

// Route is one method and path the server answers.
type Route struct{ Method, Path string }

// Routes lists every route the server answers, so tests can call each one.
func (s *Server) Routes() []Route {
	var list []Route
	for _, ri := range s.engine.Routes() {
		list = append(list, Route{Method: ri.Method, Path: ri.Path})
	}
	return list
}

// readyz answers whether the server can do useful work. Anyone may ask (load balancers and kubelets
// do, unauthenticated), so a failure answers only a reason code ("database_unreachable"), never the
// database's host, user or name; the full cause is logged, and shown to requests that carry the
// metrics token when one is set.
func readyz(opts Options) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
		defer cancel()
		if opts.Ready == nil {
			c.JSON(http.StatusOK, gin.H{"status": "ready"})
			return
		}
		err := opts.Ready(ctx)
		if err == nil {
			c.JSON(http.StatusOK, gin.H{"status": "ready"})
			return
		}
		opts.Logger.WarnContext(c.Request.Context(), "not ready", "error", err)
		reason := "unavailable"
		var r interface{ NotReadyReason() string }
		if errors.As(err, &r) {
			reason = r.NotReadyReason()
		}
		body := gin.H{"status": "unavailable", "reason": reason}
		if opts.MetricsToken != "" && hasMetricsToken(c, opts.MetricsToken) {
			body["detail"] = errs.PublicMessage(err)
		}
		c.JSON(http.StatusServiceUnavailable, body)
	}
}

// Handler is the router, for tests that drive it without a socket.
func (s *Server) Handler() http.Handler { return s.handler }

// Listen binds the address. Binding first lets the caller report the real port (port 0).
func (s *Server) Listen() error {
	if s.opts.Listener != nil {
		s.ln = s.opts.Listener
		return nil
	}
	ln, err := net.Listen("tcp", s.opts.Addr)
	if err != nil {
		return err
	}
	s.ln = ln
	return nil
}

// Addr is the bound address, after Listen.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve serves until ctx ends, then stops accepting connections and waits up to the shutdown
// timeout for in-flight requests to finish.
func (s *Server) Serve(ctx context.Context) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second, // a client that trickles its body cannot hold a connection forever
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(s.ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	s.opts.Logger.Info("shutting down: draining in-flight requests", "timeout", s.opts.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serveErr := <-done; serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	if err != nil {
		_ = srv.Close() // cut the stragglers, so nothing runs on after the caller closes the database
		return errors.New("shutdown: in-flight requests did not finish within " + s.opts.ShutdownTimeout.String())
	}
	return nil
}

// requestID gives every request an ID (or keeps a sane one the client sent), puts it in the
// context for logs, and echoes it in X-Request-ID.
func requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		// The header's canonical form ("X-Request-Id", how it goes on the wire either way):
		// spelled "X-Request-ID", every Get and Set canonicalized it into a new string.
		id := c.Request.Header.Get(requestIDHeader)
		if !validRequestID(id) {
			id = logs.NewRequestID()
		}
		c.Request = c.Request.WithContext(logs.WithRequestID(c.Request.Context(), id))
		c.Writer.Header()[requestIDHeader] = []string{id}
		c.Next()
	}
}

const requestIDHeader = "X-Request-Id"

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// accessLog writes a line for every request but probes and scrapes and, when m is set, records
// every request's metrics: one middleware that reads the clock once at each end for both (the
// metrics middleware and the log each read it twice more, on every request).
func accessLog(log *slog.Logger, m *metrics.Metrics) gin.HandlerFunc {
	access := logs.NewAccess(log)
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		end := time.Now()
		route, status := c.FullPath(), c.Writer.Status()
		if m != nil {
			m.ObserveHTTP(route, c.Request.Method, status, end.Sub(start))
		}
		if route == "/healthz" || route == "/readyz" || route == "/metrics" {
			return // probes and scrapes would drown the log
		}
		access.Log(c.Request.Context(), logs.AccessRecord{End: end, Method: c.Request.Method, Route: route,
			Status: status, Bytes: c.Writer.Size(), Duration: end.Sub(start)})
	}
}

func recovery(log *slog.Logger) gin.HandlerFunc {
	return gin.CustomRecoveryWithWriter(io.Discard, func(c *gin.Context, err any) {
		log.ErrorContext(c.Request.Context(), "panic serving request", "panic", err, "stack", string(debug.Stack()))
		c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": gin.H{
			"code": "INTERNAL", "message": "internal error (request " + logs.RequestID(c.Request.Context()) + ")",
		}})
	})
}

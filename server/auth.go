package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"log/slog"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/errs"
)

// Cookie names. The session cookie holds an opaque random value; the login cookie binds a login
// in progress to the browser that started it.
const (
	sessionCookie = "portside_session"
	loginCookie   = "portside_login"
)

// CSRFHeader must accompany every cookie-authenticated request that can change something. Browsers
// do not let another site set a custom header without a CORS preflight, which Portside never grants,
// so its presence proves the request came from Portside's own pages.
const CSRFHeader = "X-Portside-CSRF"

// Identity is what the server needs for sign-in.
type Identity struct {
	Auth  *auth.Service
	Audit *audit.Log
	// PublicURL is Portside's address as browsers reach it; its origin is the only one accepted
	// for cookie-authenticated changes, and https makes cookies Secure.
	PublicURL *url.URL
	// Logger is set by New from Options.Logger.
	Logger *slog.Logger

	// unstarted limits the audit records of callbacks that answer no sign-in this browser started
	// (no login cookie, or one for another state: anyone may send one) to 10 a minute an
	// address, as refused webhook deliveries are; set by New.
	unstarted *deniedLimiter
}

// authenticate puts the caller's principal (or none) in the request's context. A credential that is
// present but bad is refused here, so no handler runs for it.
func (id *Identity) authenticate() gin.HandlerFunc {
	return func(c *gin.Context) {
		creds := auth.Credentials{}
		if h := c.GetHeader("Authorization"); h != "" {
			scheme, value, _ := strings.Cut(h, " ")
			if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(value) == "" {
				unauthenticated(c, errs.E(errs.Unauthenticated, "the Authorization header must be \"Bearer <token>\""))
				return
			}
			creds.Bearer = strings.TrimSpace(value)
		} else if ck, err := c.Request.Cookie(sessionCookie); err == nil {
			creds.Session = ck.Value
		}
		p, err := id.Auth.Authenticate(c.Request.Context(), creds)
		switch {
		case err == nil:
		case !errs.Is(err, errs.Unauthenticated):
			// The credential could not be checked (the database is down): that is no verdict on
			// it, and must not read as one — a client told 401 drops a good token.
			id.fail(c, "authenticate", err)
			return
		case creds.Session != "":
			// An ended session is normal: forget the cookie and carry on as nobody, so pages can
			// send the browser to sign in again.
			id.clearCookie(c, sessionCookie, "/")
			creds = auth.Credentials{}
		default:
			unauthenticated(c, err)
			return
		}
		// Set even when nil: nothing a request context inherits may speak for the caller. The
		// credentials go along for connections that outlive the request (a WebSocket checks them
		// again for every operation).
		ctx := auth.WithCredentials(principal.With(c.Request.Context(), p), creds)
		c.Request = c.Request.WithContext(ctx)
		c.Next()
	}
}

// requireAPI refuses anonymous API calls with 401 and cookie-authenticated changes that do not
// prove they come from Portside's pages (CSRF).
func (id *Identity) requireAPI() gin.HandlerFunc {
	return func(c *gin.Context) {
		p := principal.From(c.Request.Context())
		if p == nil {
			unauthenticated(c, errs.E(errs.Unauthenticated, "sign in (/auth/login) or send an API token as \"Authorization: Bearer <token>\""))
			return
		}
		// A WebSocket (subscriptions) is opened by a GET, but a page of another site could open one
		// with the browser's cookie and read what it receives: its Origin must be Portside's.
		if p.Kind == principal.KindSession && c.GetHeader("Upgrade") != "" {
			if err := id.checkCSRF(c.Request, false); err != nil {
				forbidden(c, err)
				return
			}
		}
		if p.Kind == principal.KindSession && c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead {
			if err := id.checkCSRF(c.Request, true); err != nil {
				forbidden(c, err)
				return
			}
		}
		c.Next()
	}
}

// checkCSRF accepts a cookie-authenticated change only from Portside's own origin and, where
// needHeader, with the CSRF header.
func (id *Identity) checkCSRF(r *http.Request, needHeader bool) error {
	origin := r.Header.Get("Origin")
	if origin == "" {
		if ref, err := url.Parse(r.Header.Get("Referer")); err == nil && ref.Host != "" {
			origin = ref.Scheme + "://" + ref.Host
		}
	}
	want := id.PublicURL.Scheme + "://" + id.PublicURL.Host
	if origin != want {
		return errs.E(errs.Forbidden, "cross-site request refused: origin %q is not %s", origin, want)
	}
	if needHeader && r.Header.Get(CSRFHeader) == "" {
		return errs.E(errs.Forbidden, "cross-site request refused: the %s header is missing", CSRFHeader)
	}
	return nil
}

// metricsToken keeps /metrics for scrapers that send the configured token; without one, metrics
// stay open like the probes. The comparison takes the same time whatever the token sent.
func metricsToken(token string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if token == "" {
			return
		}
		if !hasMetricsToken(c, token) {
			unauthenticated(c, errs.E(errs.Unauthenticated, "/metrics needs the metrics token as \"Authorization: Bearer <token>\" (setting metrics-token)"))
		}
	}
}

// hasMetricsToken reports whether the request sends token as its bearer credential, in the same
// time whatever it sends.
func hasMetricsToken(c *gin.Context, token string) bool {
	want := sha256.Sum256([]byte("Bearer " + token))
	got := sha256.Sum256([]byte(c.GetHeader("Authorization")))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// requirePage sends anonymous browsers to sign in and back.
func (id *Identity) requirePage() gin.HandlerFunc {
	return func(c *gin.Context) {
		if principal.From(c.Request.Context()) == nil {
			target := "/auth/login"
			// A path longer than a sign-in carries back (a client route with a long query) would
			// fail the sign-in itself: the person comes back to the start page instead.
			if back := c.Request.URL.RequestURI(); len(back) <= auth.MaxReturnPath {
				target += "?return_to=" + url.QueryEscape(back)
			}
			c.Redirect(http.StatusFound, target)
			c.Abort()
			return
		}
		c.Next()
	}
}

func (id *Identity) routes(r *gin.RouterGroup) {
	r.GET("/auth/login", id.login)
	r.GET("/auth/callback", id.callback)
	r.POST("/auth/logout", id.logout)
	r.GET("/audit/export", id.requireAPI(), id.exportAudit)
}

func (id *Identity) login(c *gin.Context) {
	start, err := id.Auth.BeginLogin(c.Request.Context(), c.Query("return_to"))
	if err != nil {
		errorPage(c, err)
		return
	}
	id.setCookie(c, loginCookie, start.Cookie, "/auth/callback", time.Now().Add(10*time.Minute))
	c.Redirect(http.StatusFound, start.URL)
}

func (id *Identity) callback(c *gin.Context) {
	ctx := c.Request.Context()
	cb := auth.Callback{State: c.Query("state"), Code: c.Query("code"), Error: c.Query("error"),
		ErrorDescription: c.Query("error_description"), UserAgent: c.Request.UserAgent()}
	if ck, err := c.Request.Cookie(loginCookie); err == nil {
		cb.BrowserState = ck.Value
	}
	id.clearCookie(c, loginCookie, "/auth/callback")
	if !id.Auth.StartedHere(cb) {
		if record, _ := id.unstarted.admit(c.ClientIP()); !record {
			errorPage(c, auth.ErrSignInNotStarted) // answered as before, not recorded again
			return
		}
	}
	res, err := id.Auth.FinishLogin(ctx, cb)
	if err != nil {
		id.Logger.WarnContext(ctx, "sign-in failed", "error", err)
		errorPage(c, err)
		return
	}
	// The cookie lives until the session's absolute end: a session in use is extended on the
	// server at each use, and a cookie expiring at its first idle deadline would end it for the
	// browser after session-idle-timeout whatever its use.
	id.setCookie(c, sessionCookie, res.SessionToken, "/", res.EndsAt)
	c.Redirect(http.StatusSeeOther, res.ReturnTo)
}

func (id *Identity) logout(c *gin.Context) {
	ctx := c.Request.Context()
	// A form post from Portside's page carries its Origin; refusing others stops a third-party page
	// from signing people out.
	if err := id.checkCSRF(c.Request, false); err != nil {
		forbidden(c, err)
		return
	}
	ck, err := c.Request.Cookie(sessionCookie)
	target := id.PublicURL.String()
	if err == nil && principal.From(ctx) != nil {
		if target, err = id.Auth.Logout(ctx, ck.Value); err != nil {
			errorPage(c, err)
			return
		}
	}
	id.clearCookie(c, sessionCookie, "/")
	c.Redirect(http.StatusSeeOther, target)
}

func (id *Identity) exportAudit(c *gin.Context) {
	// The records the caller may read, never to be kept by a cache on the way (nor its refusals).
	c.Header("Cache-Control", "no-store")
	f := audit.Filter{Actor: c.Query("actor"), Action: c.Query("action"), Resource: c.Query("resource"), Outcome: audit.Outcome(c.Query("outcome"))}
	var err error
	if f.Since, err = audit.ParseBound("since", c.Query("since")); err == nil {
		f.Until, err = audit.ParseBound("until", c.Query("until"))
	}
	if err != nil {
		writeError(c, errs.HTTPStatus(err), err)
		return
	}
	c.Header("Content-Type", "application/x-ndjson")
	if _, err := id.Audit.Export(c.Request.Context(), f, c.Writer); err != nil {
		if c.Writer.Written() {
			id.Logger.ErrorContext(c.Request.Context(), "audit export cut short", "error", err)
			return
		}
		id.fail(c, "audit export", err)
	}
}

func (id *Identity) setCookie(c *gin.Context, name, value, path string, expires time.Time) {
	http.SetCookie(c.Writer, &http.Cookie{Name: name, Value: value, Path: path, Expires: expires,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: id.PublicURL.Scheme == "https"})
}

func (id *Identity) clearCookie(c *gin.Context, name, path string) {
	http.SetCookie(c.Writer, &http.Cookie{Name: name, Value: "", Path: path, MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: id.PublicURL.Scheme == "https"})
}

// unauthenticated answers 401 in the GraphQL error shape, which API clients already parse.
func unauthenticated(c *gin.Context, err error) {
	c.Header("WWW-Authenticate", `Bearer realm="portside"`)
	writeError(c, http.StatusUnauthorized, err)
}

func forbidden(c *gin.Context, err error) { writeError(c, http.StatusForbidden, err) }

// fail answers err in the GraphQL error shape, logging it first when it is Portside's failure
// (internal, unavailable): the answer shows only its public message, the log has the cause.
func (id *Identity) fail(c *gin.Context, what string, err error) {
	if code := errs.CodeOf(err); code == errs.Internal || code == errs.Unavailable {
		id.Logger.ErrorContext(c.Request.Context(), what+" failed", "error", err, "code", string(code))
	}
	writeError(c, errs.HTTPStatus(err), err)
}

func writeError(c *gin.Context, status int, err error) {
	ext := gin.H{"code": string(errs.CodeOf(err))}
	if field := errs.FieldOf(err); field != "" {
		ext["field"] = field // as GraphQL errors name it: the input at fault (since, until)
	}
	c.AbortWithStatusJSON(status, gin.H{"errors": []gin.H{{"message": errs.PublicMessage(err), "extensions": ext}}})
}

// errorPage tells a browser what went wrong with its sign-in, as plain text it can show.
func errorPage(c *gin.Context, err error) {
	c.Header("Cache-Control", "no-store")
	// The message may quote what the provider (or whoever forged the callback URL) sent: the
	// browser must show it as text, never sniff it into HTML.
	c.Header("X-Content-Type-Options", "nosniff")
	c.Header("Content-Security-Policy", "default-src 'none'")
	c.String(errs.HTTPStatus(err), "Sign-in problem: %s\n\nStart again: /auth/login\n", errs.PublicMessage(err))
	c.Abort()
}

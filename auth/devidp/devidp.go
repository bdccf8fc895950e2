// Package devidp is Portside's embedded development OpenID provider.
//
// It is a real OpenID Connect provider (github.com/zitadel/oidc/v3/pkg/op) with fixed users and
// clients kept in memory, so that development setups and tests run the same authorization code
// flow as production: PKCE, nonce, refresh token rotation, key rotation, userinfo and
// RP-initiated logout. It only ever listens on a loopback address, speaks plain HTTP and has
// plain-text passwords: it is never meant for production.
package devidp

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// User is a person who can sign in at the provider.
type User struct {
	// Username is the login name and the preferred_username claim. The subject is derived from it
	// ("user-" + Username) so that it stays the same across restarts.
	Username string
	// Password is compared in plain text: these are development accounts.
	Password string
	// Email is the email claim, reported as verified.
	Email string
	// Name is the display name (name claim).
	Name string
	// Groups are plain group names ("team-platform") returned as the groups claim.
	Groups []string
}

// Client is a confidential relying party. It authenticates at the token endpoint with
// client_secret_basic or client_secret_post, and must use PKCE (S256).
type Client struct {
	ID, Secret string
	// RedirectURIs are the exact redirect_uri values the client may use.
	RedirectURIs []string
	// PostLogoutRedirectURIs are the exact post_logout_redirect_uri values accepted at logout.
	PostLogoutRedirectURIs []string
}

// Options configures Start.
type Options struct {
	// Addr is the loopback host:port to listen on; port 0 picks a free port. "" means
	// "127.0.0.1:0". Other hosts are refused: a development provider must not be reachable from
	// the network.
	Addr string
	// Users are the people who can sign in; usernames must be unique.
	Users []User
	// Clients are the relying parties known from the start; see also Provider.AddClient.
	Clients []Client
	// Logger receives the provider's logs; nil means slog.Default().
	Logger *slog.Logger
	// IDTokenLifetime is how long ID tokens are valid; zero or less means 5 minutes.
	IDTokenLifetime time.Duration
	// AccessTokenLifetime is how long access tokens are valid; zero or less means 5 minutes.
	AccessTokenLifetime time.Duration
}

const (
	defaultAddr          = "127.0.0.1:0"
	defaultTokenLifetime = 5 * time.Minute
	// authRequestLifetime bounds how long a person may take between the authorize request and
	// the code exchange; it also bounds how long a redeemed code is remembered to detect replays.
	authRequestLifetime = 10 * time.Minute
	// refreshTokenLifetime keeps a forgotten development session from living forever.
	refreshTokenLifetime = 24 * time.Hour

	subjectPrefix = "user-"
	groupsScope   = "groups"
	groupsClaim   = "groups"

	loginPath     = "/login"
	loggedOutPath = "/logged-out"
)

// Provider is a running development OpenID provider.
type Provider struct {
	issuer string
	store  *storage
	srv    *http.Server
	logger *slog.Logger

	served    chan struct{} // closed once the HTTP server has stopped serving
	stop      chan struct{} // closed by Close, so the context watcher ends
	closeOnce sync.Once
	closeErr  error
}

// Start validates opts, listens on opts.Addr and serves the provider in the background until
// Close is called or ctx ends. Nothing listens if an error is returned.
func Start(ctx context.Context, opts Options) (*Provider, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	addr := opts.Addr
	if addr == "" {
		addr = defaultAddr
	}
	listenAddr, err := loopbackAddr(addr)
	if err != nil {
		return nil, err
	}
	users, err := indexUsers(opts.Users)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(opts.Clients))
	for _, c := range opts.Clients {
		if err := validateClient(c); err != nil {
			return nil, err
		}
		if seen[c.ID] {
			return nil, fmt.Errorf("devidp: client %q is listed twice", c.ID)
		}
		seen[c.ID] = true
	}
	key, err := newSigningKey()
	if err != nil {
		return nil, err
	}
	var config op.Config
	// The key encrypts opaque access tokens and codes; a fresh one per run invalidates them all.
	if _, err := rand.Read(config.CryptoKey[:]); err != nil {
		return nil, fmt.Errorf("devidp: token encryption key: %w", err)
	}

	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", listenAddr)
	if err != nil {
		return nil, fmt.Errorf("devidp: listen on %s: %w", addr, err)
	}
	issuer := "http://" + ln.Addr().String()

	st := newStorage(issuer, users, key, lifetime(opts.IDTokenLifetime), lifetime(opts.AccessTokenLifetime))
	for _, c := range opts.Clients {
		st.putClient(c)
	}
	config.DefaultLogoutRedirectURI = issuer + loggedOutPath
	config.CodeMethodS256 = true
	config.AuthMethodPost = true
	config.GrantTypeRefreshToken = true
	config.SupportedScopes = []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail, groupsScope, oidc.ScopeOfflineAccess}
	config.SupportedClaims = append(slices.Clone(op.DefaultSupportedClaims), groupsClaim)

	provider, err := op.NewProvider(&config, st, op.StaticIssuer(issuer), op.WithAllowInsecure(), op.WithLogger(logger))
	if err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("devidp: %w", err)
	}

	mux := http.NewServeMux()
	// The login page builds the callback URL from the issuer in the request context, as op's
	// own handlers do.
	mux.Handle(loginPath, op.NewIssuerInterceptor(provider.IssuerFromRequest).Handler(&loginPage{
		store:       st,
		callbackURL: op.AuthCallbackURL(provider),
		usernames:   st.usernames(),
		logger:      logger,
	}))
	mux.HandleFunc(loggedOutPath, loggedOut)
	mux.Handle(provider.TokenEndpoint().Relative(), guardTokenRequest(provider))
	mux.Handle("/", provider)

	p := &Provider{
		issuer: issuer,
		store:  st,
		logger: logger,
		srv: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		},
		served: make(chan struct{}),
		stop:   make(chan struct{}),
	}
	go func() {
		defer close(p.served)
		if err := p.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			logger.Error("devidp: development OpenID provider stopped", "issuer", issuer, "error", err)
		}
	}()
	go func() {
		select {
		case <-ctx.Done():
			_ = p.Close()
		case <-p.stop:
		}
	}()
	logger.Info("devidp: development OpenID provider listening (never use it in production)",
		"issuer", issuer, "users", len(users.bySubject), "clients", len(opts.Clients))
	return p, nil
}

// Issuer is the provider's issuer URL, "http://127.0.0.1:PORT" without a trailing slash;
// relying parties discover everything else from it.
func (p *Provider) Issuer() string { return p.issuer }

// Close stops the provider, waiting briefly for requests in flight. Tokens it issued can no
// longer be verified against it. Calling Close again returns the first result.
func (p *Provider) Close() error {
	p.closeOnce.Do(func() {
		close(p.stop)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := p.srv.Shutdown(ctx)
		if err != nil {
			// Requests still running after the grace period are cut off.
			err = errors.Join(err, p.srv.Close())
		}
		<-p.served
		p.closeErr = err
	})
	return p.closeErr
}

// RotateKey makes a new RSA key sign everything from now on. The previous keys stay published
// in the JWKS, so tokens they signed keep verifying until DropRetiredKeys.
func (p *Provider) RotateKey() error {
	key, err := newSigningKey()
	if err != nil {
		return err
	}
	p.store.addKey(key)
	p.logger.Info("devidp: signing key rotated", "kid", key.id)
	return nil
}

// DropRetiredKeys unpublishes every key but the current one, so that tokens signed by earlier
// keys fail verification once relying parties refresh the JWKS.
func (p *Provider) DropRetiredKeys() {
	p.store.dropRetiredKeys()
}

// SignIDToken signs claims exactly as given (nothing is added or checked) with the current key,
// RS256 with its kid. It is for tests: it mints tokens the provider would never issue (expired,
// for another audience, from another issuer...) to check that relying parties refuse them.
func (p *Provider) SignIDToken(claims map[string]any) (string, error) {
	return p.store.currentKey().sign(claims)
}

// SetGroups replaces a user's groups while the provider runs, as a directory change would;
// tokens issued from now on (a refresh included) carry the new groups.
func (p *Provider) SetGroups(username string, groups []string) error {
	if !p.store.setGroups(username, groups) {
		return fmt.Errorf("devidp: no user %q", username)
	}
	return nil
}

// RevokeUser ends a user's sign-ins at every client, as an administrator disabling an account
// would: their access and refresh tokens stop working at once.
func (p *Provider) RevokeUser(username string) error {
	if !p.store.revokeUser(username) {
		return fmt.Errorf("devidp: no user %q", username)
	}
	return nil
}

// AddClient registers c, or replaces the client with the same ID, while the provider runs;
// tests use a second client to obtain tokens for another audience. A client without a secret
// can never authenticate.
func (p *Provider) AddClient(c Client) {
	p.store.putClient(c)
}

// guardTokenRequest answers token requests whose basic credentials are not form-encoded with
// invalid_client. op v3.45.0 reports that error but then carries on with a nil request in the
// code and refresh grants and panics, so the client would only see a dropped connection.
func guardTokenRequest(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id, secret, ok := r.BasicAuth(); ok {
			_, idErr := url.QueryUnescape(id)
			_, secretErr := url.QueryUnescape(secret)
			if idErr != nil || secretErr != nil {
				writeOAuthError(w, http.StatusUnauthorized, oidc.ErrInvalidClient().WithDescription("the basic credentials are not form-encoded"))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func writeOAuthError(w http.ResponseWriter, status int, e *oidc.Error) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(e)
}

// loopbackAddr returns the address to listen on for addr, or an error naming addr if it is not
// on loopback. Host names other than localhost are refused rather than resolved, since what
// they resolve to can change.
func loopbackAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("devidp: address %q: %w", addr, err)
	}
	if strings.EqualFold(host, "localhost") {
		// The issuer is built from the listening address: one address, not two families.
		host = "127.0.0.1"
	} else if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return "", fmt.Errorf("devidp: refusing to listen on %q: the development OpenID provider only listens on a loopback address (127.0.0.1, ::1 or localhost)", addr)
	}
	return net.JoinHostPort(host, port), nil
}

func lifetime(d time.Duration) time.Duration {
	if d <= 0 {
		return defaultTokenLifetime
	}
	return d
}

func validateClient(c Client) error {
	switch {
	case c.ID == "":
		return errors.New("devidp: a client has no ID")
	case c.Secret == "":
		return fmt.Errorf("devidp: client %q has no secret (only confidential clients are supported)", c.ID)
	case len(c.RedirectURIs) == 0:
		return fmt.Errorf("devidp: client %q has no redirect URI", c.ID)
	}
	return nil
}

// users is the fixed user directory; it never changes after Start, so it needs no lock.
type users struct {
	bySubject  map[string]User
	byUsername map[string]User
}

func indexUsers(list []User) (users, error) {
	u := users{bySubject: make(map[string]User, len(list)), byUsername: make(map[string]User, len(list))}
	for _, user := range list {
		switch {
		case user.Username == "":
			return users{}, errors.New("devidp: a user has no username")
		case strings.ContainsAny(user.Username, ": \t\r\n"):
			// op's opaque access tokens are "tokenID:subject", so the subject cannot hold a colon.
			return users{}, fmt.Errorf("devidp: username %q contains a colon or white space", user.Username)
		case user.Password == "":
			return users{}, fmt.Errorf("devidp: user %q has no password", user.Username)
		}
		if _, dup := u.byUsername[user.Username]; dup {
			return users{}, fmt.Errorf("devidp: user %q is listed twice", user.Username)
		}
		user.Groups = slices.Clone(user.Groups)
		u.byUsername[user.Username] = user
		u.bySubject[subjectPrefix+user.Username] = user
	}
	return u, nil
}

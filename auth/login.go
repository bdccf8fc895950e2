package auth

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/portside-dev/portside/auth/policy"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/text"
	"github.com/portside-dev/portside/seal"
	"github.com/portside-dev/portside/store"
)

// HTTPDoer is the HTTP client auth uses towards the provider.
type HTTPDoer interface {
	Do(*http.Request) (*http.Response, error)
}

func defaultHTTPClient() *http.Client { return &http.Client{Timeout: 10 * time.Second} }

// loginFlowTTL bounds how long a user may take on the provider's login page.
const loginFlowTTL = 10 * time.Minute

// discovered is an issuer's metadata and keys, and when they were fetched. go-oidc refetches keys
// only for an unknown key ID, so a key the provider dropped would verify forever; rediscovering
// bounds that to KeyRefresh.
type discovered struct {
	p  *oidc.Provider
	at time.Time
}

// oidcProvider is the sign-in provider (auth-issuer).
func (s *Service) oidcProvider(ctx context.Context) (*oidc.Provider, error) {
	if s.opts.Issuer == "" {
		return nil, errs.E(errs.Unavailable, "sign-in is not configured on this server (auth-issuer)")
	}
	return s.discover(ctx, s.opts.Issuer)
}

// discover returns an issuer's provider, fetched afresh every KeyRefresh; a failure is retried on
// the next call, and a provider known before keeps serving with the keys it had.
func (s *Service) discover(ctx context.Context, issuer string) (*oidc.Provider, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	known, ok := s.providers[issuer]
	if ok && now.Sub(known.at) < s.opts.KeyRefresh {
		return known.p, nil
	}
	p, err := oidc.NewProvider(s.clientContext(context.WithoutCancel(ctx)), issuer)
	if err != nil {
		if ok {
			// Keep serving with the keys we know; the provider may be back at the next refresh.
			s.log.WarnContext(ctx, "auth: rediscovering the OpenID provider failed", "issuer", issuer, "error", err)
			s.providers[issuer] = discovered{known.p, now}
			return known.p, nil
		}
		return nil, errs.Wrap(errs.Unavailable, err, "the OpenID provider %s cannot be reached", issuer)
	}
	s.providers[issuer] = discovered{p, now}
	return p, nil
}

// clientContext makes go-oidc and oauth2 use our HTTP client. The context of a request ends with
// it; key fetches go-oidc starts later use this client too.
func (s *Service) clientContext(ctx context.Context) context.Context {
	if c, ok := s.opts.HTTPClient.(*http.Client); ok {
		return oidc.ClientContext(ctx, c)
	}
	return ctx
}

func (s *Service) oauthConfig(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{
		ClientID: s.opts.ClientID, ClientSecret: s.opts.ClientSecret,
		Endpoint: p.Endpoint(), RedirectURL: s.opts.RedirectURL, Scopes: s.opts.Scopes,
	}
}

// LoginStart is what /auth/login hands to the browser.
type LoginStart struct {
	// URL is the provider's authorization URL to redirect to.
	URL string
	// Cookie is the sign-in in progress, sealed: the server puts it in a short-lived cookie, and
	// FinishLogin opens it and requires the callback's state to match the one inside.
	Cookie string
}

// loginFlow is a sign-in in progress, kept by the browser in a sealed cookie rather than in the
// database: starting a sign-in is anonymous, and a row per start let anyone fill a table.
type loginFlow struct {
	State     string    `json:"s"`
	Nonce     string    `json:"n"`
	Verifier  string    `json:"v"`
	ReturnTo  string    `json:"r"`
	ExpiresAt time.Time `json:"e"`
}

// loginFlowContext binds a sealed flow to its purpose, so no other sealed value opens as one.
const loginFlowContext = "portside login flow"

// loginFlowKeys seal sign-ins in progress. Every replica must open what another sealed (the
// callback may reach any of them): the configured encryption keys when there are some, else a key
// derived from the client secret, which every replica has; a public client without encryption
// keys gets a key of this process alone (one replica, or sticky sessions).
func loginFlowKeys(opts Options) *seal.Keyring {
	if opts.Keys != nil {
		return opts.Keys
	}
	if opts.ClientSecret != "" {
		key, err := hkdf.Key(sha256.New, []byte(opts.ClientSecret), nil, loginFlowContext, seal.KeySize)
		if err == nil {
			if ring, err := seal.NewKeyring(key); err == nil {
				return ring
			}
		}
	}
	return seal.NewRandomKeyring()
}

// MaxReturnPath bounds return_to, which travels in the login cookie (browsers keep 4 kB a cookie).
const MaxReturnPath = 1024

// BeginLogin starts the authorization code flow with PKCE (S256), a state and a nonce. returnTo is
// where the browser goes after login; it must be a path on this server. Nothing is written: the
// flow travels sealed in the browser's login cookie.
func (s *Service) BeginLogin(ctx context.Context, returnTo string) (*LoginStart, error) {
	returnTo, err := SafeReturnPath(returnTo)
	if err != nil {
		return nil, err
	}
	p, err := s.oidcProvider(ctx)
	if err != nil {
		return nil, err
	}
	flow := loginFlow{State: newSecret(""), Nonce: newSecret(""), Verifier: oauth2.GenerateVerifier(),
		ReturnTo: returnTo, ExpiresAt: s.now().UTC().Add(loginFlowTTL)}
	plain, err := json.Marshal(flow)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "auth: encode a login flow")
	}
	u := s.oauthConfig(p).AuthCodeURL(flow.State, oidc.Nonce(flow.Nonce), oauth2.S256ChallengeOption(flow.Verifier))
	return &LoginStart{URL: u, Cookie: s.flowKeys.Seal(string(plain), loginFlowContext)}, nil
}

// openFlow opens the browser's sealed flow and checks that the callback belongs to it.
// ErrSignInNotStarted answers a callback whose state is not a sign-in this browser started: no
// login cookie, one that does not open, or another state.
var ErrSignInNotStarted = errs.E(errs.Unauthenticated, "this sign-in was not started in this browser (state mismatch); start again at /auth/login")

// StartedHere reports whether cb answers a sign-in this browser started (its login cookie opens
// and holds cb's state), without using it: a callback that does not is anyone's to send.
func (s *Service) StartedHere(cb Callback) bool {
	_, err := s.openFlow(cb)
	return err == nil
}

func (s *Service) openFlow(cb Callback) (*loginFlow, error) {
	notHere := ErrSignInNotStarted
	if cb.BrowserState == "" {
		return nil, notHere
	}
	plain, err := s.flowKeys.Open(cb.BrowserState, loginFlowContext)
	if err != nil {
		return nil, notHere
	}
	var flow loginFlow
	if err := json.Unmarshal([]byte(plain), &flow); err != nil || flow.State == "" {
		return nil, notHere
	}
	if subtle.ConstantTimeCompare([]byte(flow.State), []byte(cb.State)) != 1 {
		return nil, notHere
	}
	if s.now().After(flow.ExpiresAt) {
		return nil, errs.E(errs.Unauthenticated, "this sign-in took longer than %s; start again at /auth/login", loginFlowTTL)
	}
	return &flow, nil
}

// SafeReturnPath accepts a same-origin path ("/catalog?x=1") and refuses everything that could
// send the browser elsewhere (absolute URLs, "//host", "/\host", schemes, control characters).
func SafeReturnPath(p string) (string, error) {
	if p == "" {
		return "/", nil
	}
	bad := func() (string, error) {
		return "", errs.InvalidField("return_to", "must be a path on this server, like /catalog")
	}
	if len(p) > MaxReturnPath {
		return "", errs.InvalidField("return_to", "is longer than %d bytes", MaxReturnPath)
	}
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") || strings.ContainsAny(p, "\\\r\n\t") {
		return bad()
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return bad()
	}
	return p, nil
}

// The bounds of a provider's refusal as Portside tells and records it (OAuth 2.0's error is a
// short code, its description one human-readable sentence); longer text is cut.
const (
	maxProviderError            = 64
	maxProviderErrorDescription = 512
)

// Callback is what the provider sent back to /auth/callback.
type Callback struct {
	State, Code string
	// Error and ErrorDescription are set when the provider refused the login.
	Error, ErrorDescription string
	// BrowserState is the state from this browser's login cookie.
	BrowserState string
	UserAgent    string
}

// LoginResult is a finished login.
type LoginResult struct {
	Principal *principal.Principal
	// SessionToken goes into the session cookie; it is shown nowhere else.
	SessionToken string
	ReturnTo     string
	ExpiresAt    time.Time
	// EndsAt is the session's absolute limit, when its cookie expires (Session.EndsAt).
	EndsAt time.Time
}

// FinishLogin completes the code flow: the state must match this browser's and a pending flow
// (each is used once, so a replayed callback fails), the code is exchanged with the PKCE verifier,
// the ID token is verified by go-oidc (signature, issuer, audience, expiry) and its nonce checked,
// claims are merged from userinfo, the user is recorded and a new session starts.
// The login is audited, whether it succeeds or not.
func (s *Service) FinishLogin(ctx context.Context, cb Callback) (*LoginResult, error) {
	var res *LoginResult
	err := s.audited(ctx, policy.Login, "", nil, func(ctx context.Context) error {
		var err error
		res, err = s.finishLogin(ctx, cb)
		return err
	})
	return res, err
}

func (s *Service) finishLogin(ctx context.Context, cb Callback) (*LoginResult, error) {
	if cb.Error != "" {
		// The provider's words are told (and recorded) only for a sign-in this browser started:
		// anyone can send a callback URL, and its error text is theirs.
		if _, err := s.openFlow(cb); err != nil {
			return nil, err
		}
		return nil, errs.E(errs.Unauthenticated, "the identity provider refused the sign-in: %s %s",
			text.Clean(cb.Error, maxProviderError), text.Clean(cb.ErrorDescription, maxProviderErrorDescription))
	}
	if cb.State == "" || cb.Code == "" {
		return nil, errs.E(errs.Invalid, "the sign-in callback lacks its state or code; start again at /auth/login")
	}
	flow, err := s.openFlow(cb)
	if err != nil {
		return nil, err
	}
	p, err := s.oidcProvider(ctx)
	if err != nil {
		return nil, err
	}
	cctx := s.clientContext(ctx)
	tok, err := s.oauthConfig(p).Exchange(cctx, cb.Code, oauth2.VerifierOption(flow.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) {
			return nil, errs.E(errs.Unauthenticated, "the identity provider refused the sign-in code: %s", re.ErrorCode)
		}
		return nil, errs.Wrap(errs.Unavailable, err, "the identity provider could not be reached to finish the sign-in")
	}
	ans, err := s.readTokens(cctx, p, tok, tokenChecks{verify: &oidc.Config{ClientID: s.opts.ClientID, Now: s.now},
		nonce: flow.Nonce, needIDToken: true})
	if err != nil {
		return nil, err
	}
	if err := s.useFlow(ctx, flow); err != nil {
		return nil, err
	}
	who, err := s.upsertUser(ctx, ans.identity, fromLogin)
	if err != nil {
		return nil, err
	}
	who.Kind, who.Client = principal.KindSession, principal.ClientWeb
	// The audit record of the login names who signed in.
	token, sess, err := s.createSession(principal.With(ctx, who), who, ans.rawIDToken, tok, cb.UserAgent)
	if err != nil {
		return nil, err
	}
	who.SessionID = sess.ID
	return &LoginResult{Principal: who, SessionToken: token, ReturnTo: flow.ReturnTo, ExpiresAt: sess.ExpiresAt, EndsAt: sess.EndsAt}, nil
}

// tokenChecks say what readTokens requires of a token response.
type tokenChecks struct {
	verify      *oidc.Config
	nonce       string // the ID token's nonce must be this, when not ""
	subject     string // the person must be this subject, when not ""
	needIDToken bool   // a sign-in needs an ID token; a refresh may come without one
}

// providerAnswer is the person a token response speaks of.
type providerAnswer struct {
	rawIDToken string
	identity   Identity
}

// readTokens reads the person out of a token response: the ID token verified by go-oidc
// (signature, issuer, audience and, unless skipped, expiry), its claims merged with userinfo's,
// since many providers keep email, profile and groups there in the code flow. The ID token's own
// claims win where both speak. It returns nil when the response names nobody (a refresh without
// ID token from a provider without userinfo).
func (s *Service) readTokens(cctx context.Context, p *oidc.Provider, tok *oauth2.Token, want tokenChecks) (*providerAnswer, error) {
	ans := &providerAnswer{}
	claims := map[string]any{}
	issuer, subject := s.opts.Issuer, ""
	ans.rawIDToken, _ = tok.Extra("id_token").(string)
	switch {
	case ans.rawIDToken != "":
		idt, err := p.Verifier(want.verify).Verify(cctx, ans.rawIDToken)
		if err != nil {
			return nil, errs.Wrap(errs.Unauthenticated, err, "the ID token was refused")
		}
		if want.nonce != "" && idt.Nonce != want.nonce {
			return nil, errs.E(errs.Unauthenticated, "the ID token was refused: its nonce does not match this sign-in")
		}
		if err := idt.Claims(&claims); err != nil {
			return nil, errs.Wrap(errs.Unauthenticated, err, "the ID token's claims cannot be read")
		}
		issuer, subject = idt.Issuer, idt.Subject
	case want.needIDToken:
		return nil, errs.E(errs.Unauthenticated, "the identity provider returned no ID token")
	}
	if p.UserInfoEndpoint() != "" {
		ui, err := p.UserInfo(cctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			return nil, errs.Wrap(errs.Unavailable, err, "the identity provider's userinfo endpoint failed")
		}
		if subject == "" {
			subject = ui.Subject
		} else if ui.Subject != subject {
			return nil, errs.E(errs.Unauthenticated, "userinfo is about another subject than the ID token")
		}
		var extra map[string]any
		if err := ui.Claims(&extra); err == nil {
			for k, v := range extra {
				if _, ok := claims[k]; !ok {
					claims[k] = v
				}
			}
		}
	}
	if subject == "" {
		return nil, nil
	}
	if want.subject != "" && subject != want.subject {
		return nil, errs.E(errs.Unauthenticated, "the identity provider answered about another person (subject %q)", subject)
	}
	id, err := s.identity(issuer, subject, claims)
	if err != nil {
		return nil, err
	}
	ans.identity = id
	return ans, nil
}

// useFlow records that the sign-in flow has finished, so that it finishes once: a second callback
// for it is refused even where a provider would exchange the same code twice. It runs only after
// the provider accepted the code, so anonymous requests write nothing. The login_flows table
// keeps finished flows (by state hash) until they would have expired.
func (s *Service) useFlow(ctx context.Context, flow *loginFlow) error {
	now := s.now().UTC()
	err := s.st.InTx(ctx, func(ctx context.Context) error {
		db := s.st.DB(ctx)
		if err := db.Where("expires_at < ?", now).Delete(&loginFlowRow{}).Error; err != nil {
			return err
		}
		return db.Create(&loginFlowRow{StateHash: hashSecret(flow.State), ReturnTo: flow.ReturnTo, ExpiresAt: flow.ExpiresAt}).Error
	})
	if err != nil {
		if errs.Is(store.Translate(err, "login flow"), errs.Conflict) {
			return errs.E(errs.Unauthenticated, "this sign-in was already used; start again at /auth/login")
		}
		return store.Translate(err, "login flow")
	}
	return nil
}

// identity reads a person out of merged claims with the configured claim names.
func (s *Service) identity(issuer, subject string, claims map[string]any) (Identity, error) {
	id := Identity{Issuer: issuer, Subject: subject}
	id.Username = claimString(claims, s.opts.UsernameClaim)
	if id.Username == "" {
		return id, errs.E(errs.Unauthenticated, "the identity provider sent no %q claim to use as the username (setting auth-username-claim)", s.opts.UsernameClaim)
	}
	id.Email = claimString(claims, s.opts.EmailClaim)
	id.DisplayName = claimString(claims, "name")
	switch g := claims[s.opts.GroupsClaim].(type) {
	case nil:
	case string:
		id.Groups = []string{g}
	case []any:
		for _, v := range g {
			if str, ok := v.(string); ok {
				id.Groups = append(id.Groups, str)
			}
		}
	default:
		return id, errs.E(errs.Unauthenticated, "the %q claim is neither a string nor a list of strings (setting auth-groups-claim)", s.opts.GroupsClaim)
	}
	return id, nil
}

func claimString(claims map[string]any, name string) string {
	switch v := claims[name].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case float64:
		return fmt.Sprint(v)
	default:
		return ""
	}
}

// Logout ends the session behind token and returns where to send the browser: the provider's
// end_session_endpoint (RP-initiated logout) when it has one, else postLogout.
// The logout is audited.
func (s *Service) Logout(ctx context.Context, token string) (string, error) {
	var idToken string
	err := s.audited(ctx, policy.Logout, "", nil, func(ctx context.Context) error {
		var err error
		idToken, err = s.endSession(ctx, token)
		return err
	})
	if err != nil {
		return "", err
	}
	target := s.opts.PostLogoutURL
	p, err := s.oidcProvider(ctx)
	if err != nil {
		return target, nil // the local session is over; the provider's can wait
	}
	var meta struct {
		EndSession string `json:"end_session_endpoint"`
	}
	if p.Claims(&meta) != nil || meta.EndSession == "" {
		return target, nil
	}
	u, err := url.Parse(meta.EndSession)
	if err != nil {
		return target, nil
	}
	q := u.Query()
	q.Set("client_id", s.opts.ClientID)
	if idToken != "" {
		q.Set("id_token_hint", idToken)
	}
	if target != "" {
		q.Set("post_logout_redirect_uri", target)
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

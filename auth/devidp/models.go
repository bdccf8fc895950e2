package devidp

import (
	"log/slog"
	"net/url"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// authRequest is an authorization request from its authorize call to its code exchange. The
// storage keeps the live record under its mutex and hands op copies, since op reads the getters
// without any lock.
type authRequest struct {
	id           string
	created      time.Time
	clientID     string
	redirectURI  string
	state        string
	nonce        string
	loginHint    string
	scopes       []string
	responseType oidc.ResponseType
	responseMode oidc.ResponseMode
	challenge    oidc.CodeChallenge

	// Set by a successful login.
	done     bool
	subject  string
	authTime time.Time

	code     string // the last code issued for the request, if any
	redeemed bool   // tokens were issued for the code: a second exchange is a replay
}

var (
	_ op.AuthRequest    = (*authRequest)(nil)
	_ op.LogAuthRequest = (*authRequest)(nil)
)

func (a *authRequest) clone() *authRequest {
	c := *a
	c.scopes = slices.Clone(a.scopes)
	return &c
}

func (a *authRequest) expired(now time.Time) bool { return now.Sub(a.created) >= authRequestLifetime }

func (a *authRequest) GetID() string         { return a.id }
func (a *authRequest) GetACR() string        { return "" }
func (a *authRequest) GetAudience() []string { return []string{a.clientID} }
func (a *authRequest) GetAuthTime() time.Time {
	return a.authTime
}
func (a *authRequest) GetClientID() string { return a.clientID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.challenge.Challenge == "" {
		return nil
	}
	c := a.challenge
	return &c
}
func (a *authRequest) GetNonce() string                   { return a.nonce }
func (a *authRequest) GetRedirectURI() string             { return a.redirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType { return a.responseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return a.responseMode }
func (a *authRequest) GetScopes() []string                { return a.scopes }
func (a *authRequest) GetState() string                   { return a.state }
func (a *authRequest) GetSubject() string                 { return a.subject }
func (a *authRequest) Done() bool                         { return a.done }

// GetAMR says how the person authenticated: a password, the only way here.
func (a *authRequest) GetAMR() []string {
	if a.done {
		return []string{"pwd"}
	}
	return nil
}

// LogValue keeps state, nonce and the challenge out of op's logs.
func (a *authRequest) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", a.id),
		slog.String("client_id", a.clientID),
		slog.String("redirect_uri", a.redirectURI),
		slog.Any("scopes", a.scopes),
	)
}

// refreshRequest is what a refresh token stands for, handed to op for one refresh.
type refreshRequest struct {
	clientID string
	subject  string
	scopes   []string // may be narrowed by the refresh request (SetCurrentScopes)
	authTime time.Time
	amr      []string
}

var _ op.RefreshTokenRequest = (*refreshRequest)(nil)

func (r *refreshRequest) GetAMR() []string                 { return r.amr }
func (r *refreshRequest) GetAudience() []string            { return []string{r.clientID} }
func (r *refreshRequest) GetAuthTime() time.Time           { return r.authTime }
func (r *refreshRequest) GetClientID() string              { return r.clientID }
func (r *refreshRequest) GetScopes() []string              { return r.scopes }
func (r *refreshRequest) GetSubject() string               { return r.subject }
func (r *refreshRequest) SetCurrentScopes(scopes []string) { r.scopes = scopes }

// accessToken is the record behind an opaque bearer token; op encrypts its id and subject into
// the token the client sees.
type accessToken struct {
	id       string
	clientID string
	subject  string
	scopes   []string
	issued   time.Time
	expires  time.Time
	origin   string // the auth request whose code started the grant
}

// refreshToken is a refresh token's record; the token string is its key.
type refreshToken struct {
	token         string
	clientID      string
	subject       string
	scopes        []string // the scopes granted at login, kept across rotations
	authTime      time.Time
	amr           []string
	accessTokenID string
	expires       time.Time
	origin        string
}

// client adapts a Client to op.Client: a confidential web application using the code flow with
// refresh tokens, bearer access tokens and userinfo for profile claims.
type client struct {
	Client
	issuer          string
	idTokenLifetime time.Duration
}

var _ op.Client = (*client)(nil)

func (c *client) GetID() string                    { return c.ID }
func (c *client) RedirectURIs() []string           { return c.Client.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.Client.PostLogoutRedirectURIs }
func (c *client) ApplicationType() op.ApplicationType {
	return op.ApplicationTypeWeb
}

// AuthMethod is basic, yet op also accepts the secret in the form body (AuthMethodPost is on).
func (c *client) AuthMethod() oidc.AuthMethod { return oidc.AuthMethodBasic }
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}
func (c *client) LoginURL(authRequestID string) string {
	return c.issuer + loginPath + "?" + url.Values{"authRequestID": {authRequestID}}.Encode()
}
func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer }
func (c *client) IDTokenLifetime() time.Duration      { return c.idTokenLifetime }

// DevMode stays off: op's checks for a confidential code-flow client already allow http
// redirect URIs, and everything else should behave as with a production provider.
func (c *client) DevMode() bool { return false }
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(scopes []string) []string { return scopes }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(scopes []string) []string { return scopes }
}

// IsScopeAllowed admits the groups scope, which op would otherwise drop as non-standard.
func (c *client) IsScopeAllowed(scope string) bool { return scope == groupsScope }

// IDTokenUserinfoClaimsAssertion is off so that, as with many providers, the ID token of the
// code flow carries the subject only and relying parties fetch the rest from userinfo.
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return false }
func (c *client) ClockSkew() time.Duration             { return 0 }

package devidp

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// storage is the provider's whole state, in memory: op calls it through op.Storage, the login
// page and Provider through the unexported methods. Everything mutable is guarded by mu, users
// too (tests change their groups or end their sign-ins while the provider runs).
type storage struct {
	issuer              string
	idTokenLifetime     time.Duration
	accessTokenLifetime time.Duration
	clock               atomic.Pointer[func() time.Time] // replaceable by tests, read concurrently

	mu            sync.Mutex
	users         users
	clients       map[string]Client
	authRequests  map[string]*authRequest // by ID; redeemed ones stay until they expire
	codes         map[string]string       // authorization code -> auth request ID
	accessTokens  map[string]*accessToken // by ID
	refreshTokens map[string]*refreshToken
	keys          []*signingKey // published keys; the last one signs
}

var _ op.Storage = (*storage)(nil)

func newStorage(issuer string, u users, key *signingKey, idTokenLifetime, accessTokenLifetime time.Duration) *storage {
	s := &storage{
		issuer:              issuer,
		idTokenLifetime:     idTokenLifetime,
		accessTokenLifetime: accessTokenLifetime,
		users:               u,
		clients:             make(map[string]Client),
		authRequests:        make(map[string]*authRequest),
		codes:               make(map[string]string),
		accessTokens:        make(map[string]*accessToken),
		refreshTokens:       make(map[string]*refreshToken),
		keys:                []*signingKey{key},
	}
	s.setClock(time.Now)
	return s
}

func (s *storage) now() time.Time                { return (*s.clock.Load())() }
func (s *storage) setClock(now func() time.Time) { s.clock.Store(&now) }

// errNotFound tells op that an ID or token is unknown; op picks the OAuth error around it.
type errNotFound string

func (e errNotFound) Error() string { return "devidp: " + string(e) }
func (errNotFound) IsNotFound()     {}

// --- Clients, users, keys (for Provider and the login page) ---

func (s *storage) putClient(c Client) {
	c.RedirectURIs = slices.Clone(c.RedirectURIs)
	c.PostLogoutRedirectURIs = slices.Clone(c.PostLogoutRedirectURIs)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients[c.ID] = c
}

func (s *storage) usernames() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.users.byUsername))
	for name := range s.users.byUsername {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// checkPassword returns the subject of username if password is right. Both sides are hashed
// first so that the comparison takes the same time whatever the lengths and whether the user
// exists.
func (s *storage) checkPassword(username, password string) (subject string, ok bool) {
	s.mu.Lock()
	user, found := s.users.byUsername[username]
	s.mu.Unlock()
	got, want := sha256.Sum256([]byte(password)), sha256.Sum256([]byte(user.Password))
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 || !found {
		return "", false
	}
	return subjectPrefix + user.Username, true
}

// setGroups replaces a user's groups.
func (s *storage) setGroups(username string, groups []string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users.byUsername[username]
	if !ok {
		return false
	}
	u.Groups = slices.Clone(groups)
	s.users.byUsername[username] = u
	s.users.bySubject[subjectPrefix+username] = u
	return true
}

// revokeUser forgets every token of a user, at every client.
func (s *storage) revokeUser(username string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users.byUsername[username]; !ok {
		return false
	}
	subject := subjectPrefix + username
	for id, at := range s.accessTokens {
		if at.subject == subject {
			delete(s.accessTokens, id)
		}
	}
	for token, rt := range s.refreshTokens {
		if rt.subject == subject {
			delete(s.refreshTokens, token)
		}
	}
	return true
}

func (s *storage) addKey(k *signingKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = append(s.keys, k)
}

func (s *storage) dropRetiredKeys() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = s.keys[len(s.keys)-1:]
}

func (s *storage) currentKey() *signingKey {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.keys[len(s.keys)-1]
}

// --- The login page ---

// loginRequest returns a copy of the pending auth request id, for the login page.
func (s *storage) loginRequest(id string) (*authRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.pendingLocked(id)
	if err != nil {
		return nil, err
	}
	return a.clone(), nil
}

// completeLogin records that subject signed in for auth request id, once.
func (s *storage) completeLogin(id, subject string) error {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.pendingLocked(id)
	if err != nil {
		return err
	}
	if a.done {
		return errNotFound("this sign-in request is already complete")
	}
	a.done, a.subject, a.authTime = true, subject, now
	return nil
}

func (s *storage) pendingLocked(id string) (*authRequest, error) {
	a, ok := s.authRequests[id]
	if !ok || a.redeemed || a.expired(s.now()) {
		return nil, errNotFound("sign-in request not found or expired")
	}
	return a, nil
}

// --- op.AuthStorage ---

// CreateAuthRequest stores a validated authorize request. op only demands PKCE from public
// clients, so this is where PKCE with S256 becomes mandatory for every client.
func (s *storage) CreateAuthRequest(_ context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	if req.CodeChallenge == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge is required: this provider requires PKCE with S256")
	}
	if req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256")
	}
	if slices.Contains(req.Prompt, oidc.PromptNone) {
		return nil, oidc.ErrLoginRequired().WithDescription("this provider keeps no sessions: every sign-in shows the login form")
	}
	now := s.now()
	a := &authRequest{
		id:           rand.Text(),
		created:      now,
		clientID:     req.ClientID,
		redirectURI:  req.RedirectURI,
		state:        req.State,
		nonce:        req.Nonce,
		loginHint:    req.LoginHint,
		scopes:       slices.Clone(req.Scopes),
		responseType: req.ResponseType,
		responseMode: req.ResponseMode,
		challenge:    oidc.CodeChallenge{Challenge: req.CodeChallenge, Method: req.CodeChallengeMethod},
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked(now)
	s.authRequests[a.id] = a
	return a.clone(), nil
}

// AuthRequestByID serves op's callback after the login page.
func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	a, err := s.loginRequest(id)
	if err != nil {
		return nil, err
	}
	return a, nil
}

// AuthRequestByCode serves the code exchange. A code whose tokens were already issued is a
// replay: as RFC 6749 section 4.1.2 advises, the tokens issued for it are revoked.
func (s *storage) AuthRequestByCode(_ context.Context, code string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.codes[code]
	if !ok {
		return nil, errNotFound("authorization code unknown or expired")
	}
	a, ok := s.authRequests[id]
	if !ok || a.code != code || a.expired(s.now()) {
		return nil, errNotFound("authorization code unknown or expired")
	}
	if a.redeemed {
		s.revokeOriginLocked(id)
		return nil, errors.New("devidp: authorization code already used; the tokens issued for it are revoked")
	}
	return a.clone(), nil
}

// SaveAuthCode binds code to the auth request; a later code (the callback loaded twice)
// replaces the earlier one.
func (s *storage) SaveAuthCode(_ context.Context, id, code string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, err := s.pendingLocked(id)
	if err != nil {
		return err
	}
	if !a.done {
		return errors.New("devidp: no one has signed in for this request")
	}
	if a.code != "" {
		delete(s.codes, a.code)
	}
	a.code = code
	s.codes[code] = id
	return nil
}

// DeleteAuthRequest is called once tokens were issued. The request is kept, marked redeemed,
// until it expires, so that a replayed code is recognised instead of merely unknown.
func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.authRequests[id]; ok {
		a.redeemed = true
	}
	return nil
}

// CreateAccessToken issues the access token of a code exchange without offline_access.
func (s *storage) CreateAccessToken(_ context.Context, request op.TokenRequest) (string, time.Time, error) {
	a, ok := request.(*authRequest)
	if !ok {
		return "", time.Time{}, fmt.Errorf("devidp: unsupported token request %T", request)
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.redeemLocked(a.id, now); err != nil {
		return "", time.Time{}, err
	}
	at := s.newAccessTokenLocked(a.clientID, a.subject, a.scopes, a.id, now)
	return at.id, at.expires, nil
}

// CreateAccessAndRefreshTokens issues tokens for a code exchange with offline_access, or
// rotates a refresh token: the presented one stops working and a new one, with the same
// granted scopes, takes its place.
func (s *storage) CreateAccessAndRefreshTokens(_ context.Context, request op.TokenRequest, currentRefreshToken string) (string, string, time.Time, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	switch r := request.(type) {
	case *authRequest:
		if err := s.redeemLocked(r.id, now); err != nil {
			return "", "", time.Time{}, err
		}
		at := s.newAccessTokenLocked(r.clientID, r.subject, r.scopes, r.id, now)
		rt := s.newRefreshTokenLocked(at, r.scopes, r.authTime, r.GetAMR(), now)
		return at.id, rt.token, at.expires, nil
	case *refreshRequest:
		old, ok := s.refreshTokens[currentRefreshToken]
		if !ok || !now.Before(old.expires) || old.clientID != r.clientID {
			// Another request rotated it in the meantime.
			return "", "", time.Time{}, oidc.ErrInvalidGrant().WithDescription("refresh token invalid, expired or already used")
		}
		delete(s.refreshTokens, currentRefreshToken)
		at := s.newAccessTokenLocked(old.clientID, old.subject, r.scopes, old.origin, now)
		rt := s.newRefreshTokenLocked(at, old.scopes, old.authTime, old.amr, now)
		return at.id, rt.token, at.expires, nil
	default:
		return "", "", time.Time{}, fmt.Errorf("devidp: unsupported token request %T", request)
	}
}

// TokenRequestByRefreshToken looks a refresh token up for op's refresh grant.
func (s *storage) TokenRequestByRefreshToken(_ context.Context, token string) (op.RefreshTokenRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rt, ok := s.refreshTokens[token]
	if !ok || !s.now().Before(rt.expires) {
		return nil, errNotFound("refresh token invalid, expired or already used")
	}
	return &refreshRequest{
		clientID: rt.clientID,
		subject:  rt.subject,
		scopes:   slices.Clone(rt.scopes),
		authTime: rt.authTime,
		amr:      slices.Clone(rt.amr),
	}, nil
}

// TerminateSession serves RP-initiated logout. There is no login session to end (every sign-in
// shows the form), so logout revokes the person's tokens at that client.
func (s *storage) TerminateSession(_ context.Context, userID, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, at := range s.accessTokens {
		if at.subject == userID && at.clientID == clientID {
			delete(s.accessTokens, id)
		}
	}
	for token, rt := range s.refreshTokens {
		if rt.subject == userID && rt.clientID == clientID {
			delete(s.refreshTokens, token)
		}
	}
	return nil
}

// RevokeToken serves the revocation endpoint (RFC 7009): unknown tokens are already revoked.
func (s *storage) RevokeToken(_ context.Context, tokenOrID, _, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if at, ok := s.accessTokens[tokenOrID]; ok {
		if at.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("the token was issued to another client")
		}
		delete(s.accessTokens, tokenOrID)
		return nil
	}
	if rt, ok := s.refreshTokens[tokenOrID]; ok {
		if rt.clientID != clientID {
			return oidc.ErrInvalidClient().WithDescription("the token was issued to another client")
		}
		delete(s.refreshTokens, tokenOrID)
		delete(s.accessTokens, rt.accessTokenID)
	}
	return nil
}

// GetRefreshTokenInfo tells the revocation endpoint whether token is a refresh token.
func (s *storage) GetRefreshTokenInfo(_ context.Context, clientID, token string) (string, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rt, ok := s.refreshTokens[token]
	if !ok || rt.clientID != clientID {
		return "", "", op.ErrInvalidRefreshToken
	}
	return rt.subject, rt.token, nil
}

// SigningKey is the key that signs from now on: the newest one.
func (s *storage) SigningKey(context.Context) (op.SigningKey, error) {
	return s.currentKey(), nil
}

// SignatureAlgorithms is what discovery advertises for ID tokens.
func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

// KeySet is the JWKS: every key not yet dropped, so that rotation does not break tokens
// signed just before it.
func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := make([]op.Key, len(s.keys))
	for i, k := range s.keys {
		keys[i] = k.public()
	}
	return keys, nil
}

// --- op.OPStorage ---

// GetClientByClientID returns a registered client.
func (s *storage) GetClientByClientID(_ context.Context, clientID string) (op.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clients[clientID]
	if !ok {
		return nil, errNotFound(fmt.Sprintf("client %q is not registered", clientID))
	}
	return &client{Client: c, issuer: s.issuer, idTokenLifetime: s.idTokenLifetime}, nil
}

// AuthorizeClientIDSecret authenticates a client at the token, revocation and introspection
// endpoints; a client without a secret never authenticates.
func (s *storage) AuthorizeClientIDSecret(_ context.Context, clientID, clientSecret string) error {
	s.mu.Lock()
	c, found := s.clients[clientID]
	s.mu.Unlock()
	got, want := sha256.Sum256([]byte(clientSecret)), sha256.Sum256([]byte(c.Secret))
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 || !found || c.Secret == "" {
		return errors.New("devidp: invalid client credentials")
	}
	return nil
}

// SetUserinfoFromScopes fills the claims op puts into ID tokens. In the code flow op has
// already removed profile and email from scopes (IDTokenUserinfoClaimsAssertion is off), and
// groups are deliberately left to userinfo, so that Portside's userinfo merge always runs in
// development. ID tokens do carry preferred_username, as most providers' do: it names the
// person, so an ID token works as a bearer token against Portside itself.
func (s *storage) SetUserinfoFromScopes(_ context.Context, info *oidc.UserInfo, userID, _ string, scopes []string) error {
	s.mu.Lock()
	user, ok := s.users.bySubject[userID]
	s.mu.Unlock()
	if !ok {
		return errNotFound("user not found")
	}
	fillUserinfo(info, userID, user, scopes, false)
	info.PreferredUsername = user.Username
	return nil
}

// SetUserinfoFromToken serves the userinfo endpoint from the claims the token's scopes grant.
func (s *storage) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	at, user, err := s.liveToken(tokenID, subject)
	if err != nil {
		return err
	}
	fillUserinfo(info, subject, user, at.scopes, true)
	return nil
}

// SetIntrospectionFromToken serves token introspection for the client the token was issued to.
func (s *storage) SetIntrospectionFromToken(_ context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	at, user, err := s.liveToken(tokenID, subject)
	if err != nil {
		return err
	}
	if at.clientID != clientID {
		return errors.New("devidp: the token was issued to another client")
	}
	info := new(oidc.UserInfo)
	fillUserinfo(info, subject, user, at.scopes, true)
	resp.SetUserInfo(info)
	resp.Scope = at.scopes
	resp.ClientID = at.clientID
	resp.TokenType = oidc.BearerToken
	resp.Expiration = oidc.FromTime(at.expires)
	resp.IssuedAt = oidc.FromTime(at.issued)
	resp.Audience = oidc.Audience{at.clientID}
	resp.Issuer = s.issuer
	resp.JWTID = at.id
	return nil
}

// GetPrivateClaimsFromScopes adds nothing: access tokens are opaque, never JWTs.
func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetKeyByIDAndClientID refuses: clients authenticate with secrets, not signed JWTs.
func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("devidp: JWT client authentication is not supported")
}

// ValidateJWTProfileScopes refuses: the JWT profile grant is not supported.
func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("devidp: the JWT profile grant is not supported")
}

// Health is always fine: everything is in memory.
func (s *storage) Health(context.Context) error { return nil }

// --- helpers; the *Locked ones need s.mu ---

// liveToken returns an unexpired access token of subject and its user.
func (s *storage) liveToken(tokenID, subject string) (accessToken, User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.accessTokens[tokenID]
	if !ok || at.subject != subject || !s.now().Before(at.expires) {
		return accessToken{}, User{}, oidc.ErrAccessDenied().WithDescription("access token invalid or expired")
	}
	user, ok := s.users.bySubject[subject]
	if !ok {
		return accessToken{}, User{}, oidc.ErrAccessDenied().WithDescription("user not found")
	}
	return *at, user, nil
}

// redeemLocked marks the auth request's code as used; it is the single point that makes a code
// good for one exchange even when two exchanges race.
func (s *storage) redeemLocked(id string, now time.Time) error {
	a, ok := s.authRequests[id]
	if !ok || a.redeemed || a.expired(now) {
		return oidc.ErrInvalidGrant().WithDescription("authorization code already used or expired")
	}
	a.redeemed = true
	return nil
}

func (s *storage) newAccessTokenLocked(clientID, subject string, scopes []string, origin string, now time.Time) *accessToken {
	at := &accessToken{
		id:       rand.Text(),
		clientID: clientID,
		subject:  subject,
		scopes:   slices.Clone(scopes),
		issued:   now,
		expires:  now.Add(s.accessTokenLifetime),
		origin:   origin,
	}
	s.accessTokens[at.id] = at
	return at
}

func (s *storage) newRefreshTokenLocked(at *accessToken, scopes []string, authTime time.Time, amr []string, now time.Time) *refreshToken {
	rt := &refreshToken{
		token:         rand.Text(),
		clientID:      at.clientID,
		subject:       at.subject,
		scopes:        slices.Clone(scopes),
		authTime:      authTime,
		amr:           slices.Clone(amr),
		accessTokenID: at.id,
		expires:       now.Add(refreshTokenLifetime),
		origin:        at.origin,
	}
	s.refreshTokens[rt.token] = rt
	return rt
}

// revokeOriginLocked revokes every token descending from the auth request's code.
func (s *storage) revokeOriginLocked(authRequestID string) {
	for id, at := range s.accessTokens {
		if at.origin == authRequestID {
			delete(s.accessTokens, id)
		}
	}
	for token, rt := range s.refreshTokens {
		if rt.origin == authRequestID {
			delete(s.refreshTokens, token)
		}
	}
}

// pruneLocked forgets expired requests and tokens, so that a long-running dev server does not
// grow without bound.
func (s *storage) pruneLocked(now time.Time) {
	for id, a := range s.authRequests {
		if a.expired(now) {
			delete(s.authRequests, id)
			if a.code != "" {
				delete(s.codes, a.code)
			}
		}
	}
	for id, at := range s.accessTokens {
		if !now.Before(at.expires) {
			delete(s.accessTokens, id)
		}
	}
	for token, rt := range s.refreshTokens {
		if !now.Before(rt.expires) {
			delete(s.refreshTokens, token)
		}
	}
}

// fillUserinfo sets the claims the scopes grant. groups only go to userinfo and introspection.
func fillUserinfo(info *oidc.UserInfo, subject string, user User, scopes []string, withGroups bool) {
	info.Subject = subject
	for _, scope := range scopes {
		switch scope {
		case oidc.ScopeProfile:
			info.Name = user.Name
			info.PreferredUsername = user.Username
		case oidc.ScopeEmail:
			info.Email = user.Email
			info.EmailVerified = oidc.Bool(user.Email != "")
		case groupsScope:
			if withGroups {
				groups := slices.Clone(user.Groups)
				if groups == nil {
					groups = []string{} // an empty list, not null: the user is in no group
				}
				info.AppendClaims(groupsClaim, groups)
			}
		}
	}
}

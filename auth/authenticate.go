package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"slices"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/ctxval"
)

// Credentials are what a request carries.
type Credentials struct {
	// Session is the session cookie's value.
	Session string
	// Bearer is the Authorization header's bearer value: an API token or a JWT.
	Bearer string
}

// Authenticate returns the principal behind the credentials, nil (and no error) when there are
// none, and UNAUTHENTICATED when they are bad. A bearer credential wins over a cookie: an API
// client that happens to hold a cookie acts as what it presents explicitly.
func (s *Service) Authenticate(ctx context.Context, c Credentials) (*principal.Principal, error) {
	return s.authenticate(ctx, c, false)
}

// authenticate is Authenticate; fresh skips the credential cache and does not count as a use (no
// last-seen write): it is how a long-lived connection re-checks the credential it opened with.
func (s *Service) authenticate(ctx context.Context, c Credentials, fresh bool) (*principal.Principal, error) {
	switch {
	case c.Bearer != "" && strings.HasPrefix(c.Bearer, tokenPrefix):
		return s.tokenPrincipal(ctx, c.Bearer, fresh)
	case c.Bearer != "":
		return s.jwtPrincipal(ctx, c.Bearer, fresh)
	case c.Session != "":
		return s.sessionPrincipal(ctx, c.Session, fresh)
	default:
		return nil, nil
	}
}

type credentialsKey struct{}

// WithCredentials returns ctx carrying the credentials the request authenticated with, so that a
// connection that outlives its request (a WebSocket) can check them again. Every authenticated
// request makes one: in one allocation (see ctxval).
func WithCredentials(ctx context.Context, c Credentials) context.Context {
	return ctxval.With[credentialsKey](ctx, c)
}

// CredentialsFrom returns the credentials in ctx (none when there are none).
func CredentialsFrom(ctx context.Context) Credentials {
	c, _ := ctxval.From[credentialsKey, Credentials](ctx)
	return c
}

// jwtPrincipal accepts a JWT from the sign-in issuer or one of the further JWT issuers
// (signature by the issuer's published keys, which go-oidc caches; issuer; expiry; one of the
// accepted audiences). The principal comes from the token's claims alone: no userinfo call on the
// hot path.
func (s *Service) jwtPrincipal(ctx context.Context, raw string, fresh bool) (*principal.Principal, error) {
	if s.opts.Issuer == "" && len(s.opts.JWTIssuers) == 0 {
		return nil, errs.E(errs.Unauthenticated, "bearer JWTs are not accepted on this server (no auth-issuer or auth-jwt-issuers); use a Portside API token")
	}
	// A client sends the same JWT until it expires: verifying its signature each time would cost
	// more than the request it guards. A verified token is remembered as long as a session is.
	h := jwtKey(raw)
	now := s.now()
	if c, ok := s.creds.Get(h); ok && !fresh && now.Before(c.expires) && now.Sub(c.lastSeen) < credCacheTTL {
		return c.p, nil
	}
	// The issuer picks the keys; only configured issuers are ever looked up, so a token cannot
	// make Portside fetch from an address of its choosing.
	issuer, err := unverifiedIssuer(raw)
	if err != nil {
		return nil, err
	}
	primary := issuer == s.opts.Issuer && issuer != ""
	if !primary && !slices.Contains(s.opts.JWTIssuers, issuer) {
		return nil, errs.E(errs.Unauthenticated, "the bearer token was refused: its issuer %q is not accepted (settings auth-issuer, auth-jwt-issuers)", issuer)
	}
	p, err := s.discover(ctx, issuer)
	if err != nil {
		return nil, err
	}
	// The audience is checked below against the whole accepted list, not just the client ID.
	tok, err := p.Verifier(&oidc.Config{SkipClientIDCheck: true, Now: s.now}).Verify(s.clientContext(ctx), raw)
	if err != nil {
		s.creds.Remove(h)
		return nil, errs.Wrap(errs.Unauthenticated, err, "the bearer token was refused")
	}
	if !slices.ContainsFunc(tok.Audience, func(a string) bool { return slices.Contains(s.opts.JWTAudiences, a) }) {
		return nil, errs.E(errs.Unauthenticated, "the bearer token was refused: it is not meant for Portside (audience %v)", tok.Audience)
	}
	claims := map[string]any{}
	if err := tok.Claims(&claims); err != nil {
		return nil, errs.Wrap(errs.Unauthenticated, err, "the bearer token's claims cannot be read")
	}
	if !primary && claimString(claims, s.opts.UsernameClaim) == "" {
		claims[s.opts.UsernameClaim] = tok.Subject // machines often have a subject and nothing else
	}
	id, err := s.identity(tok.Issuer, tok.Subject, claims)
	if err != nil {
		return nil, err
	}
	if !primary {
		// Another issuer's "alice" is not our alice.
		u, _ := url.Parse(issuer)
		id.Username += "@" + u.Host
	}
	if err := checkUsername(id.Username); err != nil {
		return nil, errs.Wrap(errs.Unauthenticated, err, "the bearer token names no usable user")
	}
	groups, skipped := groupRefs(id.Groups)
	s.logSkippedGroups(ctx, id.Username, skipped)
	pr := &principal.Principal{Username: id.Username, Email: id.Email, DisplayName: id.DisplayName, Groups: groups,
		Kind: principal.KindJWT, Client: principal.ClientAPI}
	pr.Admin = primary && s.isAdmin(groups)
	if primary {
		// Only the sign-in issuer's people are people here: a further issuer's machine is never
		// linked to a catalog User (an email claim must not hand it that person's ownership).
		if pr.EntityRef, err = s.link(ctx, pr.Username, pr.Email); err != nil {
			return nil, err
		}
	}
	s.creds.Add(h, cachedCred{p: pr, expires: tok.Expiry, lastSeen: now})
	return pr, nil
}

// unverifiedIssuer reads the iss claim of a JWT without checking anything: only to choose whose
// keys will check it.
func unverifiedIssuer(raw string) (string, error) {
	parts := strings.Split(raw, ".")
	bad := errs.E(errs.Unauthenticated, "the bearer token is neither a Portside API token (pst_...) nor a JWT")
	if len(parts) != 3 {
		return "", bad
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return "", bad
	}
	var c struct {
		Issuer string `json:"iss"`
	}
	if err := json.Unmarshal(payload, &c); err != nil || c.Issuer == "" {
		return "", bad
	}
	return c.Issuer, nil
}

package auth

import (
	"context"
	"slices"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/portside-dev/portside/errs"
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
func (s *Service) Authenticate(ctx context.Context, c Credentials) (*Principal, error) {
	switch {
	case c.Bearer != "" && strings.HasPrefix(c.Bearer, tokenPrefix):
		return s.tokenPrincipal(ctx, c.Bearer)
	case c.Bearer != "":
		return s.jwtPrincipal(ctx, c.Bearer)
	case c.Session != "":
		return s.sessionPrincipal(ctx, c.Session)
	default:
		return nil, nil
	}
}

// jwtPrincipal accepts a JWT from the configured issuer (signature by its published keys, which
// go-oidc caches; issuer; expiry; one of the accepted audiences). The principal comes from the
// token's claims alone: no userinfo call on the hot path.
func (s *Service) jwtPrincipal(ctx context.Context, raw string) (*Principal, error) {
	if s.opts.Issuer == "" {
		return nil, errs.E(errs.Unauthenticated, "bearer JWTs are not accepted on this server (no auth-issuer); use a Portside API token")
	}
	p, err := s.oidcProvider(ctx)
	if err != nil {
		return nil, err
	}
	// The audience is checked below against the whole accepted list, not just the client ID.
	tok, err := p.Verifier(&oidc.Config{SkipClientIDCheck: true, Now: s.now}).Verify(s.clientContext(ctx), raw)
	if err != nil {
		return nil, errs.Wrap(errs.Unauthenticated, err, "the bearer token was refused")
	}
	if !slices.ContainsFunc(tok.Audience, func(a string) bool { return slices.Contains(s.opts.JWTAudiences, a) }) {
		return nil, errs.E(errs.Unauthenticated, "the bearer token was refused: it is not meant for Portside (audience %v)", tok.Audience)
	}
	claims := map[string]any{}
	if err := tok.Claims(&claims); err != nil {
		return nil, errs.Wrap(errs.Unauthenticated, err, "the bearer token's claims cannot be read")
	}
	id, err := s.identity(tok.Issuer, tok.Subject, claims)
	if err != nil {
		return nil, err
	}
	if err := checkUsername(id.Username); err != nil {
		return nil, errs.Wrap(errs.Unauthenticated, err, "the bearer token names no usable user")
	}
	groups, err := groupRefs(id.Groups)
	if err != nil {
		return nil, errs.Wrap(errs.Unauthenticated, err, "the bearer token's groups are not usable")
	}
	pr := &Principal{Username: id.Username, Email: id.Email, DisplayName: id.DisplayName, Groups: groups,
		Kind: KindJWT, Client: ClientAPI}
	pr.Admin = s.isAdmin(groups)
	return pr, nil
}

// Package principal is who is calling: the principal an authenticated request, a CLI command or
// Portside's own background work acts as, carried in the context. It is a leaf, so that every
// layer (audit, the domains, the transports) may read the caller without importing auth.
package principal

import (
	"context"
	"slices"
)

// Kind says how a principal proved who it is.
type Kind string

// The principal kinds.
const (
	KindSession Kind = "session" // a browser session from an OIDC login
	KindToken   Kind = "token"   // a Portside API token
	KindJWT     Kind = "jwt"     // a bearer JWT from a configured issuer
	KindSystem  Kind = "system"  // Portside itself or an operator's CLI on the database
	// KindChat is a chat user (Slack) whose verified e-mail address is a Portside user's.
	KindChat Kind = "chat"
)

// Client names the way a request reached Portside; audit records keep it.
type Client string

// The clients.
const (
	ClientWeb   Client = "web"   // the portal, with a session cookie
	ClientAPI   Client = "api"   // GraphQL with a bearer credential
	ClientSlack Client = "slack" // a Slack command or button
	ClientCLI   Client = "cli"   // the portside command on the database
	ClientAuto  Client = "auto"  // Portside's own background work
)

// Principal is the authenticated caller. Requests with the same credential share one Principal
// (credential checks are cached), so it is read-only once Authenticate returns it.
type Principal struct {
	// UserID is the users row; 0 for system principals and for JWT callers Portside never saw log in.
	UserID int64
	// Username is the stable login name (the configured username claim).
	Username    string
	Email       string
	DisplayName string
	// EntityRef is the catalog User entity this person is linked to ("user:default/alice"), or "".
	EntityRef string
	// Groups are the catalog Group refs the identity provider says the user belongs to. Catalog
	// memberships (User.memberOf) are added where ownership is decided; see the catalog.
	Groups []string
	// Admin is true for members of the configured admin groups and for admin API tokens.
	Admin bool
	Kind  Kind
	// Client is how the request came in.
	Client Client
	// SessionID or TokenID identify the credential used, for audit and for "revoke this one".
	SessionID int64
	TokenID   int64
	// Scopes limit an API token ("read", "write"); empty means every scope the user has.
	Scopes []string
}

// Actor names the principal in audit records and logs: its username, "anonymous" for nobody.
func (p *Principal) Actor() string {
	if p == nil {
		return "anonymous"
	}
	return p.Username
}

// HasScope reports whether a token-limited principal may use scope; unscoped principals may.
func (p *Principal) HasScope(scope string) bool {
	return len(p.Scopes) == 0 || slices.Contains(p.Scopes, scope)
}

type principalKey struct{}

// With returns ctx carrying p.
func With(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// From returns the principal in ctx, or nil when the caller is anonymous.
func From(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// System returns a principal for Portside's own work and for the CLI, which acts with the
// database's owner's authority: whoever can run it can change the database anyway.
func System(name string, client Client) *Principal {
	return &Principal{Username: name, Kind: KindSystem, Client: client, Admin: true}
}

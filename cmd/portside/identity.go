package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"os/user"
	"slices"

	"github.com/spf13/cobra"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth"
	"github.com/portside-dev/portside/auth/devidp"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/seal"
)

// cliContext is the command's context acting as the operator: whoever can run portside against
// the database can change it anyway, so the CLI acts as a system principal, and is audited as one.
func cliContext(cmd *cobra.Command) context.Context {
	name := "cli"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = "cli:" + u.Username
	}
	return principal.With(cmd.Context(), principal.System(name, principal.ClientCLI))
}

func (a *app) auditLog() *audit.Log {
	if a.audit == nil {
		a.audit = audit.New(a.store, a.log)
	}
	return a.audit
}

// auth builds the identity service on the configured provider.
func (a *app) auth(dir auth.Directory) *auth.Service {
	c := a.cfg
	opts := auth.Options{
		Issuer: c.AuthIssuer, ClientID: c.AuthClientID, ClientSecret: c.AuthClientSecret,
		RedirectURL: c.PublicURL + "/auth/callback", PostLogoutURL: c.PublicURL + "/",
		Scopes: c.AuthScopes, UsernameClaim: c.AuthUsernameClaim, EmailClaim: c.AuthEmailClaim,
		GroupsClaim: c.AuthGroupsClaim, JWTAudiences: c.AuthJWTAudiences, JWTIssuers: c.AuthJWTIssuers,
		AdminGroups: c.AuthAdminGroups, UserLink: c.AuthUserLink, Directory: dir, DevLogin: a.devLogin,
		SessionIdle: c.SessionIdleTimeout, SessionMax: c.SessionMaxAge, TokenMaxLifetime: c.TokenMaxLifetime,
		Logger: a.log, Audit: a.auditLog(), Keys: a.keys,
	}
	if a.devLogin {
		// The development provider grants refresh tokens with offline_access, so the refresh path
		// runs in development too; its tokens die with the process, and so may the key.
		if !slices.Contains(opts.Scopes, "offline_access") {
			opts.Scopes = append(slices.Clone(opts.Scopes), "offline_access")
		}
		if opts.Keys == nil {
			opts.Keys = seal.NewRandomKeyring()
		}
	}
	return auth.NewService(a.store, opts)
}

// devUsers are the development login's people; they match the demo catalog's users (see the
// README): alice administers, bob owns the payments system through team-payments, carol only looks.
var devUsers = []devidp.User{
	{Username: "alice", Password: "alice", Email: "alice@acme.example", Name: "Alice Admin", Groups: []string{"team-platform", "portside-admins"}},
	{Username: "bob", Password: "bob", Email: "bob@acme.example", Name: "Bob Owner", Groups: []string{"team-payments"}},
	{Username: "carol", Password: "carol", Email: "carol@acme.example", Name: "Carol Viewer", Groups: []string{"product"}},
}

// startDevLogin starts the embedded OpenID provider with a fresh client secret for this run.
func (a *app) startDevLogin(ctx context.Context) (*devidp.Provider, string, error) {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	secret := base64.RawURLEncoding.EncodeToString(b)
	p, err := devidp.Start(ctx, devidp.Options{
		Addr:  a.cfg.DevLoginAddr,
		Users: devUsers,
		Clients: []devidp.Client{{ID: a.cfg.AuthClientID, Secret: secret,
			RedirectURIs:           []string{a.cfg.PublicURL + "/auth/callback"},
			PostLogoutRedirectURIs: []string{a.cfg.PublicURL + "/"}}},
		Logger: a.log,
	})
	if err != nil {
		return nil, "", err
	}
	return p, secret, nil
}

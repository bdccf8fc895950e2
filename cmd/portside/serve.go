package main

import (
	"context"
	"net"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/portside-dev/portside/auth"
	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/graph"
	"github.com/portside-dev/portside/metrics"
	"github.com/portside-dev/portside/server"
)

func serveCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Serve the GraphQL API (and GraphiQL, health, readiness and metrics endpoints)",
		Long: `Serve Portside over HTTP on --addr.

serve refuses a database that is not migrated (or migrated by a newer Portside) unless --migrate
allows it to apply pending migrations; the default, auto, migrates SQLite and leaves PostgreSQL
to 'portside migrate up' (the Kubernetes migration Job). With --demo it loads the embedded demo
catalog first.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			start := time.Now()
			a, err := openApp(cmd, true)
			if err != nil {
				return err
			}
			defer a.close()
			ctx := cmd.Context()
			a.metrics = metrics.New()
			// Bind first: the public URL (sign-in redirects) may need the port picked for :0.
			ln, err := net.Listen("tcp", a.cfg.Addr)
			if err != nil {
				return err
			}
			defer ln.Close()
			a.cfg.ResolvePublicURL(ln.Addr().String())
			devLogin, err := a.cfg.DevLoginEnabled()
			if err != nil {
				return err
			}
			if devLogin {
				dev, secret, err := a.startDevLogin(ctx)
				if err != nil {
					return err
				}
				defer dev.Close()
				a.devLogin = true
				a.cfg.AuthIssuer, a.cfg.AuthClientSecret = dev.Issuer(), secret
				a.log.WarnContext(ctx, "development login on: the embedded OpenID provider signs in the demo users (alice, bob, carol; password = username); never use it in production",
					"issuer", dev.Issuer())
			}
			cat := a.catalog()
			ids := a.auth(cat)
			deploys, companion, err := a.rollouts(ctx, cat)
			if err != nil {
				return err
			}
			defer companion.Close() // after the tracker stopped following it
			if a.cfg.Demo {
				system := auth.WithPrincipal(ctx, auth.System("portside", auth.ClientAuto))
				res, err := cat.RegisterLocation(system, catalog.LocationSpec{Type: catalog.LocationEmbedded, Target: "demo"})
				if err != nil {
					return err
				}
				a.log.InfoContext(ctx, "demo catalog loaded", "entities", res.Location.EntityCount, "errors", len(res.Errors))
			}
			public, _ := url.Parse(a.cfg.PublicURL) // checked by config
			gql := graph.NewHandler(&graph.Resolver{Catalog: cat, Auth: ids, Audit: a.auditLog(), RolloutService: deploys}, graph.HandlerOptions{
				MaxDepth:      a.cfg.GraphQLMaxDepth,
				MaxComplexity: a.cfg.GraphQLMaxComplexity,
				Logger:        a.log,
				Observer:      a.metrics,
				// A response is a few kB; a tenth as many responses as entities is a few tens of MB.
				ResponseCacheSize: a.cfg.CatalogCacheSize / 10,
				Timeout:           a.cfg.GraphQLTimeout,
				MaxResponseBytes:  a.cfg.GraphQLMaxResponseBytes,
				MaxBodyBytes:      int64(a.cfg.GraphQLMaxBodyBytes),
			})
			srv := server.New(server.Options{
				Listener:        ln,
				GraphQL:         gql,
				Ready:           a.store.CheckReady,
				Metrics:         a.metrics,
				MetricsToken:    a.cfg.MetricsToken,
				Logger:          a.log,
				ShutdownTimeout: a.cfg.ShutdownTimeout,
				Version:         version,
				Identity:        &server.Identity{Auth: ids, PublicURL: public},
			})
			if err := srv.Listen(); err != nil {
				return err
			}
			for _, line := range a.cfg.Describe() {
				a.log.DebugContext(ctx, "setting", "value", line)
			}
			a.log.InfoContext(ctx, "portside listening", "addr", srv.Addr(), "url", a.cfg.PublicURL+"/graphiql",
				"database", a.store.Describe(), "version", version, "startup_ms", time.Since(start).Milliseconds())
			ctx, stop := context.WithCancel(ctx)
			defer stop()
			deploys.Start(ctx)
			defer deploys.Stop()
			refresher := make(chan struct{})
			go func() {
				defer close(refresher)
				cat.Run(ctx)
			}()
			err = srv.Serve(ctx)
			stop()      // also when the listener failed and no signal came
			<-refresher // a refresh in progress ends (and releases its lease) before the store closes
			return err
		},
	}
}

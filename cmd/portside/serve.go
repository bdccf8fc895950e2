package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"github.com/spf13/cobra"

	"github.com/portside-dev/portside/alerts"
	"github.com/portside-dev/portside/auth"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/config"
	"github.com/portside-dev/portside/deploys"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/graph"
	"github.com/portside-dev/portside/internal/bus/pgbus"
	"github.com/portside-dev/portside/leader"
	"github.com/portside-dev/portside/logs"
	"github.com/portside-dev/portside/metrics"
	"github.com/portside-dev/portside/pipelines"
	"github.com/portside-dev/portside/rollouts"
	"github.com/portside-dev/portside/rollouts/connector"
	"github.com/portside-dev/portside/runbooks"
	"github.com/portside-dev/portside/server"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/tasks"
	"github.com/portside-dev/portside/tracing"
)

// logFlushInterval is how often serve writes out the log lines it gathered.
const logFlushInterval = 200 * time.Millisecond

func serveCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Serve the GraphQL API (and GraphiQL, health, readiness and metrics endpoints)",
		Long: `Serve Portside over HTTP on --addr.

serve refuses a database that is not migrated unless --migrate allows it to apply pending
migrations; the default, auto, migrates SQLite and leaves PostgreSQL to 'portside migrate up' (the
Kubernetes migration Job). It starts, with a warning, on a database a newer Portside migrated (its
migrations only expand), unless a contract migration raised the schema's floor above this version. With --demo it loads the embedded demo
catalog first.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			start := time.Now()
			// The server logs a line per request: gathered and written a few times a second
			// rather than one system call each (see logs.Buffered); warnings go out at once.
			// Deferred first, so it writes out last, after everything below has logged.
			logOut := logs.NewBuffered(os.Stderr, logFlushInterval)
			defer logOut.Close()
			cfg, log, err := loadConfigTo(cmd, logOut)
			if err != nil {
				return err
			}
			paceServeGC(limitMemoryToContainer(memlimit.FromCgroup, log), memlimit.FromSystem, log)
			tr, err := startTracing(cfg, log)
			if err != nil {
				return err
			}
			// Deferred after the log's Close, so it runs before it: the last spans go out (or
			// the failure to send them is logged) within a bound once serve has stopped.
			defer func() {
				ctx, cancel := context.WithTimeout(context.Background(), tracing.DefaultShutdownTimeout)
				defer cancel()
				if err := tr.Shutdown(ctx); err != nil {
					log.Warn("tracing: the last spans were not sent", "error", err)
				}
			}()
			// Told not to migrate, serve cannot use a SQLite database that is not there: opening
			// the path (a typo) would only leave an empty file behind, then refuse. (sqliteExists
			// checks SQLite paths only, so the setting is read as for SQLite.)
			if !cfg.MigrateOnStart(true) {
				if err := sqliteExists(cfg.Database); err != nil {
					return fmt.Errorf("%w, or let serve create it (migrate true)", err)
				}
			}
			// Before anything touches the file: a second serve on it refuses to start.
			claim, err := claimSQLite(cfg.Database)
			if err != nil {
				return err
			}
			defer claim.Close()
			a, err := newApp(cmd.Context(), cfg, log, true)
			if err != nil {
				return err
			}
			defer a.close()
			a.tracing = tr
			ctx := cmd.Context()
			// Bind first: the public URL (sign-in redirects) may need the port picked for :0.
			ln, err := net.Listen("tcp", a.cfg.Addr)
			if err != nil {
				return err
			}
			defer ln.Close()
			w, err := a.wire(ctx, ln)
			if err != nil {
				return err
			}
			defer w.close()
			for _, line := range a.cfg.Describe() {
				a.log.DebugContext(ctx, "setting", "value", line)
			}
			a.log.InfoContext(ctx, "portside listening", "addr", w.server.Addr(), "url", a.cfg.PublicURL+"/graphiql",
				"database", a.store.Describe(), "version", version, "startup_ms", time.Since(start).Milliseconds())
			_ = logOut.Flush() // whoever started serve may be waiting for that line
			return w.run(ctx)
		},
	}
}

// wiring is everything serve runs, built by app.wire: the HTTP server over the services, and the
// services' background work. Tests build it the same way, so a wiring gap cannot hide from them.
type wiring struct {
	server    *server.Server
	catalog   *catalog.Service
	rollouts  *rollouts.Service
	pipelines *pipelines.Service
	tasks     *tasks.Service
	runbooks  *runbooks.Service
	deploys   *deploys.Service
	alerts    *alerts.Service
	identity  *auth.Service
	// elector runs the singleton background work on one replica at a time (see run).
	elector *leader.Elector
	// bus carries events and cache retirements to and from the other replicas; nil on SQLite.
	bus     *pgbus.Bus
	closers []func()
}

// close releases what wire started (the development login, the Argo CD companion), newest first.
func (w *wiring) close() {
	for i := len(w.closers) - 1; i >= 0; i-- {
		w.closers[i]()
	}
}

// kubeJobsStartTimeout bounds how long serve waits for the companion to take the Kubernetes Jobs
// provider's configuration (the companion waits 10 s at most for its first list).
const kubeJobsStartTimeout = 30 * time.Second

// wire builds the services and the HTTP server on ln. The caller closes the wiring.
func (a *app) wire(ctx context.Context, ln net.Listener) (w *wiring, err error) {
	w = &wiring{}
	defer func() {
		if err != nil {
			w.close()
		}
	}()
	if err := a.tracing.Gorm(a.store.Gorm()); err != nil {
		return w, err
	}
	a.metrics = metrics.New()
	a.cfg.ResolvePublicURL(ln.Addr().String())
	kj, err := a.kubeJobs() // a bad setting stops the start before anything runs
	if err != nil {
		return w, err
	}
	devLogin, err := a.cfg.DevLoginEnabled()
	if err != nil {
		return w, err
	}
	if devLogin {
		dev, secret, err := a.startDevLogin(ctx)
		if err != nil {
			return w, err
		}
		w.closers = append(w.closers, func() { _ = dev.Close() })
		a.devLogin = true
		a.cfg.AuthIssuer, a.cfg.AuthClientSecret = dev.Issuer(), secret
		a.log.WarnContext(ctx, "development login on: the embedded OpenID provider signs in the demo users (alice, bob, carol; password = username); never use it in production",
			"issuer", dev.Issuer())
	}
	if a.cfg.Demo {
		dir, err := os.MkdirTemp("", "portside-demo-")
		if err != nil {
			return w, fmt.Errorf("demo manifest repository: %w", err)
		}
		w.closers = append(w.closers, func() { _ = os.RemoveAll(dir) })
		if a.demoManifests, err = newDemoManifests(ctx, dir); err != nil {
			return w, err
		}
		a.log.InfoContext(ctx, "demo manifest repository created: payments-api's deploy requests commit to it", "repo", a.demoManifests)
	}
	if w.bus, err = a.newBus(ctx); err != nil {
		return w, err
	}
	if w.bus != nil {
		a.bus = w.bus // the services register their topics on it as they are built
	}
	w.catalog = a.catalog()
	w.identity = a.auth(w.catalog)
	var extensions []connector.Extension
	if kj != nil {
		extensions = append(extensions, kj)
	}
	rs, companion, err := a.rollouts(ctx, w.catalog, extensions)
	if err != nil {
		return w, err
	}
	w.rollouts = rs
	w.closers = append(w.closers, func() { _ = companion.Close() }) // after the tracker stopped following it
	if kj != nil {
		// The companion parses the kubeconfig (client-go is its alone): a bad one stops the start
		// here, naming the setting; a cluster not reachable yet only makes the runs stale.
		sctx, cancel := context.WithTimeout(ctx, kubeJobsStartTimeout)
		err := kj.Started(sctx)
		cancel()
		if errs.Is(err, errs.Invalid) {
			return w, err
		}
		if err != nil {
			a.log.WarnContext(ctx, "the Kubernetes Jobs provider is not ready; its runs are stale until it is", "error", err)
		}
	}
	ps, hooks, stopLocal, err := a.pipelines(w.catalog, kj)
	if err != nil {
		return w, err
	}
	w.pipelines = ps
	w.closers = append(w.closers, stopLocal) // after the follower stopped reading its runs
	rs.UseLeadTimes(ps)                      // DORA's lead time from pipeline runs where components deploy through them
	w.runbooks = runbooks.NewService(a.store, runbooks.Options{Catalog: w.catalog, Deployments: rs, Audit: a.auditLog(), Logger: a.log,
		Check: runbooks.CheckOptions{Interval: a.cfg.RunbookLinkCheckInterval, AllowLoopback: a.cfg.AllowLoopbackLocations}})
	if a.cfg.Demo {
		system := principal.With(ctx, principal.System("portside", principal.ClientAuto))
		res, err := w.catalog.RegisterLocation(system, catalog.LocationSpec{Type: catalog.LocationEmbedded, Target: "demo"})
		if err != nil {
			return w, err
		}
		a.log.InfoContext(ctx, "demo catalog loaded", "entities", res.Location.EntityCount, "errors", len(res.Errors))
	}
	w.tasks = a.tasks(w.catalog, rs, ps, w.runbooks)
	if a.cfg.Demo {
		system := principal.With(ctx, principal.System("portside", principal.ClientAuto))
		if err := seedDemoWork(system, w.tasks, w.runbooks, time.Now()); err != nil {
			return w, err
		}
	}
	if w.deploys, err = a.deploys(w.catalog, ps, rs); err != nil {
		return w, err
	}
	// Code hosts' pull request events move the deploy requests applied by pull request at once.
	hooks.github.PullRequests, hooks.gitlab.PullRequests = w.deploys, w.deploys
	w.alerts = alerts.NewService(a.store, alerts.Options{Catalog: w.catalog, Canaries: rs, Runbooks: w.runbooks, Audit: a.auditLog(), Logger: a.log})
	amToken, amUser, amPassword, err := a.cfg.AlertmanagerCredentials()
	if err != nil {
		return w, err
	}
	public, _ := url.Parse(a.cfg.PublicURL) // checked by config
	slackCommands, err := a.slackCommands(w)
	if err != nil {
		return w, err
	}
	resolver := &graph.Resolver{Catalog: w.catalog, Auth: w.identity, Audit: a.auditLog(), RolloutService: rs,
		PipelineService: ps, TaskService: w.tasks, RunbookService: w.runbooks, DeployService: w.deploys, AlertService: w.alerts}
	if slackCommands != nil {
		resolver.SlackProfiles = slackCommands.Bot // the link page names the Slack user it would link
	}
	gql := graph.NewHandler(resolver,
		graph.HandlerOptions{
			MaxDepth:             a.cfg.GraphQLMaxDepth,
			MaxComplexity:        a.cfg.GraphQLMaxComplexity,
			Logger:               a.log,
			Observer:             a.metrics,
			ResponseCacheSize:    a.cfg.ResponseCacheSize,
			Timeout:              a.cfg.GraphQLTimeout,
			MaxResponseBytes:     a.cfg.GraphQLMaxResponseBytes,
			MaxBodyBytes:         int64(a.cfg.GraphQLMaxBodyBytes),
			MaxConcurrentQueries: a.cfg.GraphQLMaxConcurrentQueries,
			Tracing:              a.tracing.GraphQL(),
		})
	w.server = server.New(server.Options{
		SlackCommands:   slackCommands,
		Listener:        ln,
		GraphQL:         gql,
		Ready:           a.store.CheckReady,
		Metrics:         a.metrics,
		MetricsToken:    a.cfg.MetricsToken,
		Logger:          a.log,
		Tracing:         a.tracing.Gin(),
		ShutdownTimeout: a.cfg.ShutdownTimeout,
		TrustedProxies:  a.cfg.TrustedProxies,
		Version:         version,
		Identity:        &server.Identity{Auth: w.identity, Audit: a.auditLog(), PublicURL: public},
		GitHubWebhook:   hooks.github,
		GitLabWebhook:   hooks.gitlab,
		AlertmanagerWebhook: &server.AlertmanagerWebhook{Token: []byte(amToken), Username: []byte(amUser), Password: []byte(amPassword),
			Alerts: w.alerts, Audit: a.auditLog()},
	})
	if err := w.server.Listen(); err != nil {
		return w, err
	}
	w.elector = a.elector(w)
	return w, nil
}

// startTracing builds serve's tracing from the tracing-* settings and makes it the process's global
// provider (which the Argo CD companion's client uses); off, when tracing-endpoint is empty, it
// installs nothing.
func startTracing(cfg config.Config, log *slog.Logger) (*tracing.Tracing, error) {
	tr, err := tracing.New(tracing.Options{Endpoint: cfg.TracingEndpoint, SampleRatio: cfg.TracingSampleRatio,
		ServiceName: cfg.TracingServiceName, ServiceVersion: version, Logger: log})
	if err != nil {
		return nil, err
	}
	tr.SetGlobal()
	if tr.Enabled() {
		target, _ := tracing.EndpointURL(cfg.TracingEndpoint)
		log.Info("tracing on: spans are sent to the OTLP collector", "endpoint", target, "sample_ratio", cfg.TracingSampleRatio)
	}
	return tr, nil
}

// traceSettings are the tracing settings the companion traces its calls with (nil when off).
func (a *app) traceSettings() *connector.TraceSettings {
	if !a.tracing.Enabled() {
		return nil
	}
	return &connector.TraceSettings{Endpoint: a.cfg.TracingEndpoint, SampleRatio: a.cfg.TracingSampleRatio,
		ServiceName: a.cfg.TracingServiceName + "-argocd", ServiceVersion: version}
}

// elector builds the leader election of the singleton background loops: the work on shared rows
// that runs on a timer, once across replicas. On PostgreSQL the replicas elect one with a session
// advisory lock; on SQLite this process is alone (claimSQLite) and leads.
//
// What stays on every replica: following Argo CD (each replica keeps the applications' state in
// memory for its stamps and answers), and the followers of events (deploy requests moved by
// rollouts, tasks' suggestions from delivery, Slack messages of deploy requests): events are
// published in the process that made the change, so each replica handles its own share, once.
func (a *app) elector(w *wiring) *leader.Elector {
	lock := leader.Lock(leader.Always{})
	if a.store.Dialect() == store.Postgres {
		lock = leader.Postgres(a.store.Dedicated)
	}
	e := leader.New(lock, leader.Options{Logger: a.log, OnChange: a.metrics.SetLeader})
	e.Register("catalog-refresh", w.catalog.Run)              // locations as they fall due
	e.Register("pipeline-follow", w.pipelines.Follow)         // polling the providers for active runs
	e.Register("deploy-request-ticks", w.deploys.RunTicks)    // expiry, and requests a sync window held
	e.Register("runbook-link-check", w.runbooks.RunLinkCheck) // when runbook-link-check-interval is set
	return e
}

// newBus builds the bus between the replicas sharing a PostgreSQL schema (see internal/bus); nil on
// SQLite, where serve is alone.
func (a *app) newBus(ctx context.Context) (*pgbus.Bus, error) {
	if a.store.Dialect() != store.Postgres {
		return nil, nil
	}
	var schema string
	if err := a.store.DB(ctx).Raw("SELECT current_schema()").Scan(&schema).Error; err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "read the database's schema")
	}
	return pgbus.New(pgbus.Channel(schema), a.store.Dedicated, a.store.SQL(), pgbus.Options{Logger: a.log}), nil
}

// claimSQLite claims a SQLite database file for this serve (see leader.LockFile); nil for
// PostgreSQL (several replicas may share it) and for an in-memory database.
func claimSQLite(database string) (*leader.FileLock, error) {
	dialect, _, err := store.ParseURL(database)
	if err != nil || dialect != store.SQLite {
		return nil, nil // a bad URL is newApp's to report
	}
	path, query, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(database), "file:"), "?")
	if path == "" || path == ":memory:" || strings.Contains(query, "mode=memory") {
		return nil, nil
	}
	return leader.LockFile(path)
}

// run serves until ctx ends, with the background work running beside it: Argo CD following and
// the event followers on every replica, the singleton loops on the leader (see app.elector); it
// returns once that work has stopped too.
func (w *wiring) run(ctx context.Context) error {
	if w.bus != nil {
		// The bus stops last, so what the others stopping publish is still sent.
		bctx, stopBus := context.WithCancel(context.WithoutCancel(ctx))
		done := make(chan struct{})
		go func() { defer close(done); w.bus.Run(bctx) }()
		defer func() { stopBus(); <-done }()
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	w.rollouts.Start(ctx)
	defer w.rollouts.Stop()
	// The services' subscriptions are closed at the end; their loops are the elector's.
	defer w.pipelines.Stop()
	defer w.runbooks.Stop()
	defer w.deploys.Stop()
	var background sync.WaitGroup
	background.Go(func() { w.elector.Run(ctx) })
	// Requests whose commits roll out move as their rollouts do.
	background.Go(func() { w.deploys.FollowRollouts(ctx) })
	// Rollouts and pipeline runs that end suggest a status for the tasks linked to them (a person
	// decides); each feed is followed until serve stops.
	for _, feed := range []tasks.DeliveryFeed{tasks.RolloutFeed{Hub: w.rollouts.Tracker()}, tasks.PipelineRunFeed{Runs: w.pipelines}} {
		background.Go(func() { w.tasks.FollowDelivery(ctx, feed, time.Second) })
	}
	err := w.server.Serve(ctx)
	stop() // also when the listener failed and no signal came
	// A refresh in progress ends (and releases its lease), and leadership is released, before the
	// store closes.
	background.Wait()
	return err
}

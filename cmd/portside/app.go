package main

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/catalog/demo"
	"github.com/portside-dev/portside/catalog/sources"
	"github.com/portside-dev/portside/config"
	"github.com/portside-dev/portside/deploys/pullrequests"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/bus"
	"github.com/portside-dev/portside/logs"
	"github.com/portside-dev/portside/metrics"
	"github.com/portside-dev/portside/seal"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/tracing"
)

// app is what every command that touches data shares: configuration, logger and store.
type app struct {
	cfg     config.Config
	log     *slog.Logger
	store   *store.Store
	metrics *metrics.Metrics
	// devLogin is set when serve started the embedded development provider.
	devLogin bool
	audit    *audit.Log
	// keys seal refresh tokens: the encryption-key setting's keys, nil when none is set.
	keys *seal.Keyring
	// demoManifests is the manifest repository serve --demo created ("" otherwise): the demo
	// catalog's deploy annotations name it.
	demoManifests string
	// codeHosts opens deploy requests' pull requests through the pipeline providers' clients
	// (set by pipelines).
	codeHosts pullrequests.Hosts
	// tracing is serve's tracing (nil for the other commands, and off unless tracing-endpoint is
	// set): its instrumentation is installed only when it is on.
	tracing *tracing.Tracing
	// bus carries events and cache retirements between serve's replicas; a command on
	// PostgreSQL only sends on it (what it changed reaches every serve's subscribers and caches at
	// once), and on SQLite it is nil (no serve runs beside a command there but its own).
	bus bus.Bus
	// stopSending stops a command's bus once what the command published is sent (nil when none).
	stopSending func()
	// fresh is the SQLite database file openApp created (it was not there), "" otherwise.
	fresh string
	// closers release what the services made for this process (a temporary GitOps working
	// directory), in reverse order, when it closes.
	closers []func()
}

// loadConfig reads settings and builds the logger, writing to standard error.
func loadConfig(cmd *cobra.Command) (config.Config, *slog.Logger, error) {
	return loadConfigTo(cmd, os.Stderr)
}

// loadConfigTo is loadConfig with the logger writing to w.
func loadConfigTo(cmd *cobra.Command, w io.Writer) (config.Config, *slog.Logger, error) {
	cfg, err := config.Load(cmd.Flags(), os.LookupEnv)
	if err != nil {
		return cfg, nil, err
	}
	log, err := logs.New(w, cfg.LogFormat, cfg.LogLevel)
	if err != nil {
		return cfg, nil, err
	}
	slog.SetDefault(log)
	if unknown := config.UnknownEnv(os.Environ()); len(unknown) > 0 {
		log.Warn("environment variables that name no setting are ignored", "variables", strings.Join(unknown, ", "))
	}
	return cfg, log, nil
}

// openApp opens the configured database. With migrate, pending migrations are applied when the
// migrate setting allows it; either way the schema must then match this binary.
func openApp(cmd *cobra.Command, migrate bool) (*app, error) {
	cfg, log, err := loadConfig(cmd)
	if err != nil {
		return nil, err
	}
	if !migrate {
		// A command that does not migrate cannot use a new database: opening a mistyped SQLite
		// path would only leave an empty file there.
		if err := sqliteExists(cfg.Database); err != nil {
			return nil, err
		}
	}
	var fresh string // the SQLite file this command creates, if it does
	if file, missing := missingSQLite(cfg.Database); missing {
		fresh = file
	}
	a, err := newApp(cmd.Context(), cfg, log, migrate)
	if err != nil {
		if fresh != "" {
			removeDatabase(fresh)
		}
		return nil, err
	}
	a.fresh = fresh
	if err := a.startSending(cmd.Context()); err != nil {
		a.close()
		return nil, err
	}
	return a, nil
}

// startSending gives a command on PostgreSQL a bus that sends what its services publish to the
// serve replicas sharing the schema, so their subscribers hear a change made here and their
// caches drop what it made stale (else the caches would catch up only at their next 1 s check,
// and subscribers never).
func (a *app) startSending(ctx context.Context) error {
	b, err := a.newBus(ctx)
	if err != nil || b == nil {
		return err
	}
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() { defer close(done); b.RunSending(sctx) }()
	a.bus, a.stopSending = b, func() { cancel(); <-done }
	return nil
}

// openStore opens the configured database without checking its schema: the commands
// that work on the database itself (migrate, backup) need no services around it. With
// existing, a SQLite database whose file is not there is refused instead of created.
func openStore(cmd *cobra.Command, existing bool) (*store.Store, error) {
	cfg, _, err := loadConfig(cmd)
	if err != nil {
		return nil, err
	}
	if existing {
		if err := sqliteExists(cfg.Database); err != nil {
			return nil, err
		}
	}
	return openConfigured(cmd.Context(), cfg)
}

// openConfigured opens cfg's database, schema unchecked.
func openConfigured(ctx context.Context, cfg config.Config) (*store.Store, error) {
	return store.Open(ctx, cfg.Database, store.Options{MaxOpenConns: cfg.DatabaseMaxConns})
}

// newApp opens the database of cfg, as openApp does for a command.
func newApp(ctx context.Context, cfg config.Config, log *slog.Logger, migrate bool) (*app, error) {
	var keys *seal.Keyring
	if len(cfg.EncryptionKeys) > 0 {
		var err error
		if keys, err = seal.NewKeyring(cfg.EncryptionKeys...); err != nil {
			return nil, errs.InvalidField("encryption-key", "%v", err)
		}
	}
	st, err := store.Open(ctx, cfg.Database, store.Options{MaxOpenConns: cfg.DatabaseMaxConns})
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, log: log, store: st, keys: keys}
	if migrate && cfg.MigrateOnStart(st.Dialect() == store.SQLite) {
		applied, err := st.Migrate(ctx)
		if err != nil {
			st.Close()
			return nil, err
		}
		for _, m := range applied {
			log.InfoContext(ctx, "migration applied", "migration", m.Name)
		}
	}
	if err := st.CheckSchema(ctx); err != nil {
		st.Close()
		return nil, err
	}
	// A newer release's schema, which CheckSchema admits (a pod restarted mid-rollout, or after a
	// rollback): said once, so that an operator knows which release migrated the database.
	if status, err := st.SchemaStatus(ctx); err == nil && status.Newer() {
		log.WarnContext(ctx, fmt.Sprintf("schema version %d is newer than this Portside's %d: serving on it (its migrations only expand)", status.Current, status.Latest),
			"schema_version", status.Current, "portside_schema_version", status.Latest, "floor", status.Floor)
	}
	return a, nil
}

// close sends what a command published, then closes the store.
func (a *app) close() {
	if a.stopSending != nil {
		a.stopSending()
	}
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
	_ = a.store.Close()
}

// closeAfter closes the app after its command ended with err, and removes the SQLite database the
// command created (openApp: its file was not there) when the command was refused: a mistyped
// --database with a bad flag left a new, migrated database behind, holding only the refusal's
// audit record. A database that was there is kept whatever happened.
func (a *app) closeAfter(err error, stderr io.Writer) {
	a.close()
	if err != nil && a.fresh != "" {
		removeDatabase(a.fresh)
		fmt.Fprintf(stderr, "portside: removed %s, which this command created before it was refused\n", a.fresh)
	}
}

// removeDatabase removes a SQLite database and the files SQLite keeps beside it.
func removeDatabase(file string) {
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		_ = os.Remove(file + suffix)
	}
}

// readers are the location types this process can read. demoManifests, when set, is the manifest
// repository the demo catalog's deploy annotations name.
func readers(cfg config.Config, demoManifests string) map[catalog.LocationType]catalog.Reader {
	demoFS := demo.FS()
	if demoManifests != "" {
		demoFS = demo.WithManifests(demoManifests)
	}
	return map[catalog.LocationType]catalog.Reader{
		catalog.LocationFile: &sources.Files{MaxFileBytes: cfg.CatalogMaxFileBytes},
		catalog.LocationURL:  &sources.URLs{AllowLoopback: cfg.AllowLoopbackLocations, MaxFileBytes: cfg.CatalogMaxFileBytes},
		catalog.LocationGit: &sources.Git{CacheDir: cfg.GitCacheDir, AllowLoopback: cfg.AllowLoopbackLocations,
			MaxFileBytes: cfg.CatalogMaxFileBytes},
		catalog.LocationEmbedded: sources.Embedded{FS: map[string]fs.FS{"demo": demoFS}},
	}
}

func (a *app) catalog() *catalog.Service {
	apiTypes := make([]catalog.LocationType, len(a.cfg.APILocationTypes))
	for i, t := range a.cfg.APILocationTypes {
		apiTypes[i] = catalog.LocationType(t)
	}
	opts := catalog.Options{
		Readers:           readers(a.cfg, a.demoManifests),
		APILocationTypes:  apiTypes,
		RefreshInterval:   a.cfg.RefreshInterval,
		CacheSize:         a.cfg.CatalogCacheSize,
		MaxLocationErrors: a.cfg.CatalogMaxLocationErrors,
		Logger:            a.log,
		Audit:             a.auditLog(),
		Bus:               a.bus,
	}
	if a.metrics != nil {
		opts.Observer = a.metrics
	}
	return catalog.NewService(a.store, opts)
}

// printErrors lists validation errors, one per line.
func printErrors(w interface{ Write([]byte) (int, error) }, list []backstage.ValidationError) {
	for _, e := range list {
		fmt.Fprintln(w, "  "+e.Error())
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, word)
	}
	if strings.HasSuffix(word, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(word, "y"))
	}
	return fmt.Sprintf("%d %ss", n, word)
}

package store

import (
	"context"
	"fmt"
	"hash/fnv"
	"path"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/migrations"
)

// versionTable is where applied migrations are recorded.
const versionTable = "goose_db_version"

// floorTable holds the schema's compatibility floor (migration 00018): one row whose oldest_reader
// is the lowest schema version, a release's latest migration, that may still run on the schema.
// Expand migrations leave it alone; a contract migration raises it past the releases that still
// read what it removes.
const floorTable = "schema_floor"

// Migration is one schema change as the database sees it.
type Migration struct {
	Version int64
	Name    string
	Applied bool
}

// SchemaStatus compares the database with the migrations this binary carries.
type SchemaStatus struct {
	Current    int64 // highest version applied (0 when none)
	Latest     int64 // highest version this binary knows
	Floor      int64 // lowest Latest that may run on the schema (0 before migration 00018)
	Migrations []Migration
}

// Newer reports whether a newer release has migrated the database beyond what this binary knows.
func (s SchemaStatus) Newer() bool { return s.Current > s.Latest }

// Compatible reports whether this binary may run on the schema: its floor has not been raised
// above this binary's latest migration by a contract step.
func (s SchemaStatus) Compatible() bool { return s.Floor <= s.Latest }

// Pending reports how many known migrations are not applied yet.
func (s SchemaStatus) Pending() int {
	n := 0
	for _, m := range s.Migrations {
		if !m.Applied {
			n++
		}
	}
	return n
}

// Missing lists the migrations not applied below the current version: a gap that `migrate up`,
// which applies only newer ones, cannot fill (a record deleted from the bookkeeping table, or a
// database migrated by another build).
func (s SchemaStatus) Missing() []string {
	var names []string
	for _, m := range s.Migrations {
		if !m.Applied && m.Version < s.Current {
			names = append(names, m.Name)
		}
	}
	return names
}

func (s *Store) provider() (*goose.Provider, error) {
	fsys, err := migrations.For(string(s.dialect))
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "load %s migrations", s.dialect)
	}
	opts := []goose.ProviderOption{goose.WithTableName(versionTable)}
	dialect := goose.DialectSQLite3
	if s.dialect == Postgres {
		dialect = goose.DialectPostgres
		// Several replicas or a migration Job may start at once: a session advisory lock makes them
		// take turns, trying every second (goose's default waits 5 s between tries).
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(s.migrationLockID()), lock.WithLockTimeout(1, 300))
		if err != nil {
			return nil, errs.Wrap(errs.Internal, err, "migration lock")
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(dialect, s.SQL(), fsys, opts...)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "load %s migrations", s.dialect)
	}
	return p, nil
}

// migrationLockID is the advisory lock migrations of this store's schema take turns on. An
// advisory lock is the whole database's, so one key for every schema made migrations of schemas
// that share nothing wait for each other (tests, each in a schema of its own, waited minutes for
// the lock under load). The public schema, where Portside runs unless told otherwise, keeps
// goose's key, which releases before this one took theirs too: a rolling upgrade's two migration
// Jobs still take turns. A schema that cannot be read is taken as public.
func (s *Store) migrationLockID() int64 {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var schema string
	if err := s.SQL().QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil || schema == "public" || schema == "" {
		return lock.DefaultLockID
	}
	h := fnv.New64a()
	h.Write([]byte("portside migrations " + schema))
	return int64(h.Sum64() &^ (1 << 63)) // positive, like goose's own
}

// Migrate applies every pending migration and returns the versions it applied.
func (s *Store) Migrate(ctx context.Context) ([]Migration, error) {
	p, err := s.provider()
	if err != nil {
		return nil, err
	}
	// A newer release migrated the database further: there is nothing of ours left to apply, and
	// its migrations are not ours to run. An older release's migration Job (a rollback, an Argo CD
	// PreSync hook) succeeds applying nothing, as long as the schema still serves this release.
	if st, err := s.SchemaStatus(ctx); err == nil && len(st.Missing()) > 0 {
		return nil, s.checkStatus(st) // goose would refuse too, saying less
	} else if err == nil && (st.Newer() || !st.Compatible()) {
		if err := s.checkStatus(st); err != nil {
			return nil, err
		}
		return nil, nil
	}
	// Indexes a bulk load deferred and never built (it failed, its process died) are built
	// first: a migration may change them, and expects the schema the last one left.
	if _, err := s.BuildDeferredIndexes(ctx); err != nil {
		return nil, err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "migrate %s", s.Describe())
	}
	applied := make([]Migration, 0, len(results))
	for _, r := range results {
		applied = append(applied, Migration{Version: r.Source.Version, Name: path.Base(r.Source.Path), Applied: true})
	}
	return applied, nil
}

// SchemaStatus reads which migrations the database has. It changes nothing, not even to create the
// bookkeeping table, so it is safe against a database Portside has never seen.
func (s *Store) SchemaStatus(ctx context.Context) (SchemaStatus, error) {
	p, err := s.provider()
	if err != nil {
		return SchemaStatus{}, err
	}
	var st SchemaStatus
	for _, src := range p.ListSources() {
		st.Migrations = append(st.Migrations, Migration{Version: src.Version, Name: path.Base(src.Path)})
		st.Latest = max(st.Latest, src.Version)
	}
	exists, err := s.tableExists(ctx, versionTable)
	if err != nil || !exists {
		return st, err
	}
	var applied []int64
	err = s.SQL().QueryRowContext(ctx, "SELECT COALESCE(MAX(version_id), 0) FROM "+versionTable+" WHERE is_applied").Scan(&st.Current)
	if err != nil {
		return st, Translate(err, "schema version")
	}
	rows, err := s.SQL().QueryContext(ctx, "SELECT DISTINCT version_id FROM "+versionTable+" WHERE is_applied AND version_id > 0")
	if err != nil {
		return st, Translate(err, "schema version")
	}
	defer rows.Close()
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return st, Translate(err, "schema version")
		}
		applied = append(applied, v)
	}
	if err := rows.Err(); err != nil {
		return st, Translate(err, "schema version")
	}
	if st.Floor, err = s.floor(ctx); err != nil {
		return st, err
	}
	for i := range st.Migrations {
		for _, v := range applied {
			if st.Migrations[i].Version == v {
				st.Migrations[i].Applied = true
			}
		}
	}
	return st, nil
}

// floor reads the schema's compatibility floor: 0 when the table is not there yet (a schema
// migrated by a release before 00018, which raised no floor).
func (s *Store) floor(ctx context.Context) (int64, error) {
	exists, err := s.tableExists(ctx, floorTable)
	if err != nil || !exists {
		return 0, err
	}
	var f int64
	err = s.SQL().QueryRowContext(ctx, "SELECT COALESCE(MAX(oldest_reader), 0) FROM "+floorTable).Scan(&f)
	return f, Translate(err, "schema floor")
}

func (s *Store) tableExists(ctx context.Context, table string) (bool, error) {
	var q string
	switch s.dialect {
	case Postgres:
		q = "SELECT to_regclass($1) IS NOT NULL"
	default:
		q = "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?"
	}
	var exists bool
	if err := s.SQL().QueryRowContext(ctx, q, table).Scan(&exists); err != nil {
		return false, Translate(err, "schema version")
	}
	return exists, nil
}

// CheckSchema returns nil when this binary may start on the database, and an error that says what
// to do otherwise. It may when every migration it knows is applied and the schema's floor is not
// above it: a schema a newer release migrated further is fine, as its migrations only expand
// (README, Upgrades), so a pod of the old release restarted mid-rollout, or after a rollback,
// starts and serves on it.
func (s *Store) CheckSchema(ctx context.Context) error {
	st, err := s.SchemaStatus(ctx)
	if err != nil {
		return err
	}
	return s.checkStatus(st)
}

// checkStatus is CheckSchema on a status already read.
func (s *Store) checkStatus(st SchemaStatus) error {
	switch {
	case !st.Compatible():
		return errs.E(errs.Unavailable,
			"database %s has schema version %d, newer than this Portside knows (%d), and incompatible with it: a contract migration raised its floor to %d, removing what this version reads; run a Portside release whose schema version is at least %d",
			s.Describe(), st.Current, st.Latest, st.Floor, st.Floor)
	case st.Newer() && st.Pending() > 0:
		return errs.E(errs.Unavailable,
			"database %s has schema version %d, newer than this Portside knows (%d), but lacks %d of this Portside's migrations: run a Portside release at least as new as the one that migrated it",
			s.Describe(), st.Current, st.Latest, st.Pending())
	case len(st.Missing()) > 0:
		return errs.E(errs.Unavailable,
			"database %s lacks %s below its schema version %d (its bookkeeping table lost their records, or another build migrated it): `portside migrate up` applies only newer migrations; restore the database from a backup, or apply them by hand and record them in goose_db_version",
			s.Describe(), strings.Join(st.Missing(), ", "), st.Current)
	case st.Pending() > 0:
		return errs.E(errs.Unavailable,
			"database %s is not migrated: schema version %d, this Portside needs %d (%d pending); run `portside migrate up` or start with --migrate",
			s.Describe(), st.Current, st.Latest, st.Pending())
	}
	return nil
}

// String renders a migration for `portside migrate status`.
func (m Migration) String() string {
	state := "pending"
	if m.Applied {
		state = "applied"
	}
	return fmt.Sprintf("%-8s %s", state, m.Name)
}

// CheckReady is the readiness check of a running server: the database answers, holds every
// migration this binary needs, and its floor still admits this binary. A database migrated further
// by a newer release is fine, here as at a start (CheckSchema): during a rollout the migration Job
// runs before the new pods start, and the old pods, which read only what their schema version has
// (migrations only expand), keep serving. A contract migration that raised the floor above this
// binary removed something it reads: it is not ready then.
//
// A failure carries a reason code (see NotReadyReason) that may be shown to anyone; its message
// names the database and is for operators only.
func (s *Store) CheckReady(ctx context.Context) error {
	if err := s.Ping(ctx); err != nil {
		return notReady{ReasonDatabaseUnreachable, err}
	}
	st, err := s.SchemaStatus(ctx)
	if err != nil {
		return notReady{ReasonDatabaseUnreachable, err}
	}
	if !st.Compatible() {
		return notReady{ReasonDatabaseIncompatible, s.checkStatus(st)}
	}
	if n := st.Pending(); n > 0 && st.Current <= st.Latest {
		return notReady{ReasonDatabaseNotMigrated,
			errs.E(errs.Unavailable, "database %s lacks %d migration(s) this Portside needs", s.Describe(), n)}
	}
	return nil
}

// Reasons CheckReady gives for not being ready. They name no host, user or database, so an
// anonymous readiness probe may see them.
const (
	ReasonDatabaseUnreachable = "database_unreachable"
	ReasonDatabaseNotMigrated = "database_not_migrated"
	// ReasonDatabaseIncompatible: a contract migration raised the schema's floor above this binary.
	ReasonDatabaseIncompatible = "database_incompatible"
)

// notReady is a readiness failure with a reason code safe for anyone to see.
type notReady struct {
	reason string
	err    error
}

func (e notReady) Error() string { return e.err.Error() }
func (e notReady) Unwrap() error { return e.err }

// NotReadyReason is the reason code CheckReady gave err, e.g. "database_unreachable".
func (e notReady) NotReadyReason() string { return e.reason }

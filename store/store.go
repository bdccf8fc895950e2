// Package store owns Portside's database connection: opening SQLite or PostgreSQL behind gorm,
// bounded pools, transactions carried in the context, schema migrations and the translation of
// database errors into errs codes. Domain packages keep their own rows and queries; they reach the
// database only through DB and InTx.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/portside-dev/portside/errs"
)

// Dialect names the database flavour behind a Store.
type Dialect string

// The supported dialects.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Options tune a Store. The zero value is a sensible embedded default.
type Options struct {
	// MaxOpenConns bounds the pool. 0 picks a default per dialect.
	MaxOpenConns int
	// Logger receives gorm's own logging; nil silences it (Portside logs errors where they are handled).
	Logger logger.Interface
}

// Store is an open database.
type Store struct {
	db      *gorm.DB
	dialect Dialect
	target  string // the database as shown to people: a file path or a URL without password
	dsn     string // the driver's DSN, for connections of their own (see Dedicated)
}

// ParseURL tells which dialect a --database value selects and returns the driver DSN for it. A
// postgres:// or postgresql:// URL selects PostgreSQL; anything else is a SQLite file path (or a
// file: URI).
func ParseURL(raw string) (Dialect, string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", "", errs.InvalidField("database", "is empty; give a SQLite file path or a postgres:// URL")
	}
	if strings.HasPrefix(raw, "postgres://") || strings.HasPrefix(raw, "postgresql://") {
		u, err := url.Parse(raw)
		if err != nil {
			return "", "", errs.InvalidField("database", "is not a valid PostgreSQL URL: %v", redactURLError(err))
		}
		if u.Host == "" {
			return "", "", errs.InvalidField("database", "PostgreSQL URL %q names no host", Redact(raw))
		}
		return Postgres, raw, nil
	}
	if i := strings.Index(raw, "://"); i > 0 && !strings.HasPrefix(raw, "file:") {
		return "", "", errs.InvalidField("database", "scheme %q is not supported; give a SQLite file path or a postgres:// URL", raw[:i])
	}
	return SQLite, sqliteDSN(raw), nil
}

// sqliteDSN turns a path into a DSN with the pragmas Portside relies on: WAL so readers never wait
// for the writer, a busy timeout instead of immediate SQLITE_BUSY, foreign keys, and IMMEDIATE
// transactions so that two writers queue instead of deadlocking on a lock upgrade.
func sqliteDSN(path string) string {
	base, query, _ := strings.Cut(strings.TrimPrefix(path, "file:"), "?")
	q, _ := url.ParseQuery(query)
	for _, p := range []string{"journal_mode(WAL)", "busy_timeout(10000)", "foreign_keys(1)", "synchronous(NORMAL)", "temp_store(MEMORY)"} {
		name := p[:strings.Index(p, "(")]
		if !hasPragma(q["_pragma"], name) {
			q.Add("_pragma", p)
		}
	}
	if q.Get("_txlock") == "" {
		q.Set("_txlock", "immediate")
	}
	return "file:" + base + "?" + q.Encode()
}

func hasPragma(values []string, name string) bool {
	for _, v := range values {
		if strings.HasPrefix(strings.ToLower(v), name) {
			return true
		}
	}
	return false
}

// RealPath is a SQLite database file's path as the file system resolves it (symbolic links
// followed; for a file not created yet, its directory's): the same file reached two ways has one
// real path, so that the locks kept beside it (serve's claim, the deploy apply locks) are one.
func RealPath(path string) string {
	if r, err := filepath.EvalSymlinks(path); err == nil {
		return r
	}
	if d, err := filepath.EvalSymlinks(filepath.Dir(path)); err == nil {
		return filepath.Join(d, filepath.Base(path))
	}
	return path
}

// Open connects to the database named by raw (see ParseURL). It does not migrate; see Migrate and
// CheckSchema.
func Open(ctx context.Context, raw string, opts Options) (*Store, error) {
	dialect, dsn, err := ParseURL(raw)
	if err != nil {
		return nil, err
	}
	cfg := &gorm.Config{
		Logger:                                   opts.Logger,
		SkipDefaultTransaction:                   true, // we open transactions where they matter
		TranslateError:                           true,
		DisableForeignKeyConstraintWhenMigrating: false,
		NowFunc:                                  func() time.Time { return time.Now().UTC() },
	}
	if cfg.Logger == nil {
		cfg.Logger = logger.Discard
	}
	var dial gorm.Dialector
	target := raw
	switch dialect {
	case SQLite:
		dial = sqlite.Open(dsn)
		target, _ = filepath.Abs(strings.SplitN(strings.TrimPrefix(raw, "file:"), "?", 2)[0])
	case Postgres:
		dial = postgres.Open(dsn)
		target = Redact(raw)
	}
	db, err := gorm.Open(dial, cfg)
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "open database %s", target)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "open database %s", target)
	}
	maxOpen := opts.MaxOpenConns
	if maxOpen <= 0 {
		maxOpen = 10
	}
	sqlDB.SetMaxOpenConns(maxOpen)
	sqlDB.SetMaxIdleConns(maxOpen)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	s := &Store{db: db, dialect: dialect, target: target, dsn: dsn}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pingCtx); err != nil {
		_ = sqlDB.Close()
		return nil, errs.Wrap(errs.Unavailable, err, "connect to database %s", target)
	}
	return s, nil
}

// Dialect tells which database this is.
func (s *Store) Dialect() Dialect { return s.dialect }

// Target names the database for people: a file path, or a URL without its password.
func (s *Store) Target() string { return s.target }

// SQL returns the underlying pool, for migrations and health checks.
func (s *Store) SQL() *sql.DB {
	sqlDB, _ := s.db.DB()
	return sqlDB
}

// Gorm returns the root gorm handle. Prefer DB(ctx), which joins the context's transaction.
func (s *Store) Gorm() *gorm.DB { return s.db }

// Close closes the pool.
func (s *Store) Close() error { return s.SQL().Close() }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.SQL().PingContext(ctx); err != nil {
		return errs.Wrap(errs.Unavailable, err, "database %s does not answer", s.target)
	}
	return nil
}

// DB returns the handle to use under ctx: the transaction InTx put there, or the pool.
func (s *Store) DB(ctx context.Context) *gorm.DB {
	if t := txOf(ctx); t != nil {
		return t.db.WithContext(ctx)
	}
	return s.db.WithContext(ctx)
}

// InTx runs fn in a transaction carried by the context it is given. A nested InTx joins the outer
// transaction, so services can compose without knowing who opened it. fn's error rolls back.
// Once the outermost transaction commits, what AfterCommit queued runs.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if txOf(ctx) != nil {
		return fn(ctx)
	}
	t := &tx{}
	var err error
	if s.dialect == Postgres {
		err = s.inConnTx(ctx, t, fn)
	} else {
		err = s.db.WithContext(ctx).Transaction(func(db *gorm.DB) error { return t.run(ctx, db, fn) })
	}
	if err != nil {
		return err
	}
	t.committed()
	return nil
}

// Redact removes the password from a database URL so it can be shown or logged.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	// The password may be in the user info, in a query parameter, or both.
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	q := u.Query()
	if q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// quoted matches the part of the URL url.Parse quotes in its complaint (`invalid port ":secret"
// after host` when a password holds a "/"), which may be a piece of the password.
var quoted = regexp.MustCompile(`"[^"]*"`)

// redactURLError keeps url.Parse's complaint without echoing the URL (which may hold a password).
func redactURLError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return quoted.ReplaceAllString(ue.Err.Error(), `"…"`)
	}
	return "malformed"
}

// Describe is a one-line description for logs: dialect and target.
func (s *Store) Describe() string { return fmt.Sprintf("%s %s", s.dialect, s.target) }

// BatchSize says how many rows of a table with the given number of columns one multi-row INSERT
// should carry. The SQLite driver binds parameters in time quadratic in their number per
// statement, so SQLite batches stay small; PostgreSQL gains nothing from batches beyond a few
// thousand parameters, and larger ones only grow the writer's memory.
func (s *Store) BatchSize(columns int) int {
	limit := postgresBatchParams
	if s.dialect == SQLite {
		limit = sqliteBatchParams
	}
	return max(1, limit/max(1, columns))
}

// Parameters per statement that measured best for ingest (bench/load, default catalog).
const (
	sqliteBatchParams   = 256
	postgresBatchParams = 2000
)

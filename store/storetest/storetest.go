// Package storetest gives tests fresh, migrated databases on both dialects: a SQLite file in a temp
// dir, and a PostgreSQL schema of its own on the server named by PORTSIDE_TEST_POSTGRES_DSN, dropped
// when the test ends. Under CI (CI set) a missing DSN fails the test instead of skipping it, so the
// PostgreSQL half can never go quietly untested.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"gorm.io/gorm"

	"github.com/portside-dev/portside/store"
)

// DSNEnv names the environment variable with the PostgreSQL server for tests.
const DSNEnv = "PORTSIDE_TEST_POSTGRES_DSN"

// Each runs fn as a subtest once per dialect, each with a fresh migrated store.
func Each(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// SQLite opens a migrated store on a new file in a temp dir.
func SQLite(t testing.TB) *store.Store {
	t.Helper()
	return open(t, filepath.Join(t.TempDir(), "portside.db"), true)
}

// SQLiteURL returns the path of a new, unmigrated SQLite database.
func SQLiteURL(t testing.TB) string {
	return filepath.Join(t.TempDir(), "portside.db")
}

// Postgres opens a migrated store on a new schema, or skips (fails under CI) without a server.
func Postgres(t testing.TB) *store.Store {
	t.Helper()
	return open(t, PostgresURL(t), true)
}

// PostgresURL creates an empty schema, dropped at cleanup, and returns a URL whose search_path
// selects it.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(DSNEnv)
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set: PostgreSQL tests must run in CI", DSNEnv)
		}
		t.Skipf("%s is not set; skipping the PostgreSQL half", DSNEnv)
	}
	admin, err := store.Open(context.Background(), base, store.Options{MaxOpenConns: 1})
	if err != nil {
		t.Fatalf("PostgreSQL for tests (%s): %v", DSNEnv, err)
	}
	defer admin.Close()
	schema := "test_" + randomHex(6)
	if err := admin.Gorm().Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		drop, err := store.Open(context.Background(), base, store.Options{MaxOpenConns: 1})
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer drop.Close()
		if err := drop.Gorm().Exec("DROP SCHEMA " + schema + " CASCADE").Error; err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", DSNEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Open opens (and, if migrate, migrates) the database at raw, closing it when the test ends.
func Open(t testing.TB, raw string, migrate bool) *store.Store { return open(t, raw, migrate) }

func open(t testing.TB, raw string, migrate bool) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), raw, store.Options{})
	if err != nil {
		t.Fatalf("open %s: %v", raw, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if migrate {
		if _, err := s.Migrate(context.Background()); err != nil {
			t.Fatalf("migrate: %v", err)
		}
	}
	return s
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Counter counts the SQL statements a gorm handle runs, for tests that prove a query plan does not
// grow with its input (N+1 checks).
type Counter struct{ n atomic.Int64 }

// CountStatements installs a counter on every kind of statement db runs. A dry run is not one:
// gorm builds a subquery handed to another statement (catalog's page with its count) by running
// the subquery's callbacks with nothing sent to the database.
func CountStatements(db *gorm.DB) *Counter {
	return CountStatementsOf(db, func(context.Context) bool { return true })
}

// CountStatementsOf is CountStatements for the statements whose context of passes: those of
// one request (a request ID) where the server runs work of its own beside it.
func CountStatementsOf(db *gorm.DB, of func(context.Context) bool) *Counter {
	c := &Counter{}
	inc := func(d *gorm.DB) {
		if d.Statement != nil && d.Statement.Context != nil && !d.DryRun && of(d.Statement.Context) {
			c.n.Add(1)
		}
	}
	name := "storetest:count:" + randomHex(4)
	cb := db.Callback()
	_ = cb.Query().After("gorm:query").Register(name, inc)
	_ = cb.Row().After("gorm:row").Register(name, inc)
	_ = cb.Raw().After("gorm:raw").Register(name, inc)
	_ = cb.Create().After("gorm:create").Register(name, inc)
	_ = cb.Update().After("gorm:update").Register(name, inc)
	_ = cb.Delete().After("gorm:delete").Register(name, inc)
	return c
}

// Reset sets the count back to zero and returns what it was.
func (c *Counter) Reset() int64 { return c.n.Swap(0) }

// Count returns the statements counted so far.
func (c *Counter) Count() int64 { return c.n.Load() }

// WriteRecorder records which tables a gorm handle writes to, for tests that prove a code path
// writes nothing (or only what it should).
type WriteRecorder struct {
	mu     sync.Mutex
	tables map[string]bool
}

// CountWrites installs a recorder on every create, update, delete and raw statement of db. Raw
// statements have no table; they are recorded as "raw".
func CountWrites(db *gorm.DB) *WriteRecorder {
	w := &WriteRecorder{tables: map[string]bool{}}
	record := func(d *gorm.DB) {
		table := d.Statement.Table
		if table == "" {
			table = "raw"
		}
		w.mu.Lock()
		w.tables[table] = true
		w.mu.Unlock()
	}
	name := "storetest:writes:" + randomHex(4)
	cb := db.Callback()
	_ = cb.Create().Before("gorm:create").Register(name, record)
	_ = cb.Update().Before("gorm:update").Register(name, record)
	_ = cb.Delete().Before("gorm:delete").Register(name, record)
	_ = cb.Raw().Before("gorm:raw").Register(name, record)
	return w
}

// Tables lists the tables written so far, sorted.
func (w *WriteRecorder) Tables() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Sorted(maps.Keys(w.tables))
}

package store_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

func TestParseURLSelectsTheDialect(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		dialect store.Dialect
		// dsnHas are parts the driver DSN must hold; dsnLacks parts it must not.
		dsnHas   []string
		dsnLacks []string
	}{
		{
			name:    "a relative SQLite path",
			raw:     "portside.db",
			dialect: store.SQLite,
			dsnHas: []string{"file:portside.db?", "journal_mode%28WAL%29", "busy_timeout%2810000%29",
				"foreign_keys%281%29", "synchronous%28NORMAL%29", "_txlock=immediate"},
		},
		{
			name:    "an absolute SQLite path with spaces around it",
			raw:     "  /var/lib/portside/portside.db \n",
			dialect: store.SQLite,
			dsnHas:  []string{"file:/var/lib/portside/portside.db?", "journal_mode%28WAL%29"},
		},
		{
			name:     "a file: URI keeps the pragmas and options it sets",
			raw:      "file:/tmp/p.db?_pragma=busy_timeout(5000)&_txlock=deferred",
			dialect:  store.SQLite,
			dsnHas:   []string{"file:/tmp/p.db?", "busy_timeout%285000%29", "_txlock=deferred", "foreign_keys%281%29"},
			dsnLacks: []string{"busy_timeout%2810000%29", "_txlock=immediate"},
		},
		{
			name:    "a postgres:// URL",
			raw:     "postgres://portside:secret@db.internal:5432/portside?sslmode=require",
			dialect: store.Postgres,
			dsnHas:  []string{"postgres://portside:secret@db.internal:5432/portside?sslmode=require"},
		},
		{
			name:    "a postgresql:// URL",
			raw:     "postgresql://db.internal/portside",
			dialect: store.Postgres,
			dsnHas:  []string{"postgresql://db.internal/portside"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dialect, dsn, err := store.ParseURL(tt.raw)
			if err != nil {
				t.Fatalf("ParseURL(%q): %v", tt.raw, err)
			}
			if dialect != tt.dialect {
				t.Errorf("dialect = %q, want %q", dialect, tt.dialect)
			}
			for _, s := range tt.dsnHas {
				if !strings.Contains(dsn, s) {
					t.Errorf("DSN %q does not contain %q", dsn, s)
				}
			}
			for _, s := range tt.dsnLacks {
				if strings.Contains(dsn, s) {
					t.Errorf("DSN %q contains %q", dsn, s)
				}
			}
		})
	}
}

func TestParseURLRefusesBadValuesWithoutShowingPasswords(t *testing.T) {
	const password = "hunter2"
	tests := []struct {
		name string
		raw  string
		// namesAccepted: the message must say what is accepted instead.
		namesAccepted bool
	}{
		{name: "empty", raw: "", namesAccepted: true},
		{name: "blank", raw: " \t ", namesAccepted: true},
		{name: "a MySQL URL", raw: "mysql://root:" + password + "@db:3306/portside", namesAccepted: true},
		{name: "an http URL", raw: "https://admin:" + password + "@example.com/db", namesAccepted: true},
		{name: "a PostgreSQL URL without a host", raw: "postgres:///portside?user=admin&password=" + password},
		{name: "a PostgreSQL URL with a password left unescaped", raw: "postgres://admin:" + password + "/x@db:5432/portside"},
		{name: "a PostgreSQL URL with a bad escape in the password", raw: "postgres://admin:" + password + "%zz@db/portside"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := store.ParseURL(tt.raw)
			if err == nil {
				t.Fatalf("ParseURL(%q) succeeded, want an error", tt.raw)
			}
			if !errs.Is(err, errs.Invalid) {
				t.Errorf("code = %s, want %s (%v)", errs.CodeOf(err), errs.Invalid, err)
			}
			if f := errs.FieldOf(err); f != "database" {
				t.Errorf("field = %q, want %q", f, "database")
			}
			msg := err.Error()
			if strings.Contains(msg, password) || strings.Contains(errs.PublicMessage(err), password) {
				t.Errorf("message %q shows the password", msg)
			}
			if tt.namesAccepted && !(strings.Contains(msg, "SQLite file path") && strings.Contains(msg, "postgres://")) {
				t.Errorf("message %q does not name the accepted values (a SQLite file path, a postgres:// URL)", msg)
			}
		})
	}
}

func TestRedactHidesPasswords(t *testing.T) {
	tests := []struct{ raw, want string }{
		{"postgres://portside:s3cret@db:5432/portside", "postgres://portside:xxxxx@db:5432/portside"},
		{"postgres://portside@db/portside", "postgres://portside@db/portside"},
		{"postgres://db/portside?sslmode=disable&password=s3cret", "postgres://db/portside?password=xxxxx&sslmode=disable"},
		{"postgres://u:s3cret@db/portside?password=s3cret", "postgres://u:xxxxx@db/portside?password=xxxxx"},
		{"/var/lib/portside.db", "/var/lib/portside.db"},
	}
	for _, tt := range tests {
		if got := store.Redact(tt.raw); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}

// eachEmpty runs fn once per dialect with the URL of a new, unmigrated database.
func eachEmpty(t *testing.T, fn func(t *testing.T, raw string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, storetest.SQLiteURL(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, storetest.PostgresURL(t)) })
}

func TestOpenConnectsAndPings(t *testing.T) {
	eachEmpty(t, func(t *testing.T, raw string) {
		ctx := context.Background()
		s, err := store.Open(ctx, raw, store.Options{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if err := s.Ping(ctx); err != nil {
			t.Errorf("Ping: %v", err)
		}
		wantDialect, _, _ := store.ParseURL(raw)
		if s.Dialect() != wantDialect {
			t.Errorf("Dialect() = %q, want %q", s.Dialect(), wantDialect)
		}
		var one int
		if err := s.DB(ctx).Raw("SELECT 1").Scan(&one).Error; err != nil || one != 1 {
			t.Errorf("SELECT 1 = %d, %v", one, err)
		}
		if wantDialect == store.SQLite && s.Target() != raw {
			// SQLiteURL is already absolute: the target is the file itself.
			t.Errorf("Target() = %q, want %q", s.Target(), raw)
		}
		if !strings.HasPrefix(s.Describe(), string(wantDialect)+" ") {
			t.Errorf("Describe() = %q, want it to start with the dialect", s.Describe())
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := s.Ping(ctx); !errs.Is(err, errs.Unavailable) {
			t.Errorf("Ping after Close = %v, want %s", err, errs.Unavailable)
		}
	})
}

func TestOpenMakesARelativeSQLitePathAbsolute(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	s, err := store.Open(context.Background(), "portside.db", store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if want := filepath.Join(dir, "portside.db"); s.Target() != want {
		t.Errorf("Target() = %q, want %q", s.Target(), want)
	}
}

func TestOpenReportsAnUnreachablePostgresWithoutItsPassword(t *testing.T) {
	// Port 1 on the loopback interface refuses connections.
	_, err := store.Open(context.Background(), "postgres://portside:hunter2@127.0.0.1:1/portside?sslmode=disable&connect_timeout=5", store.Options{})
	if !errs.Is(err, errs.Unavailable) {
		t.Fatalf("Open = %v, want %s", err, errs.Unavailable)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("message %q shows the password", err)
	}
	if !strings.Contains(err.Error(), "127.0.0.1") {
		t.Errorf("message %q does not name the server", err)
	}
}

func TestSQLitePragmasAreInForceOnEveryConnection(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name        string
		raw         func(path string) string
		busyTimeout int
	}{
		{"a plain path", func(p string) string { return p }, 10000},
		{"a file: URI with its own busy timeout", func(p string) string { return "file:" + p + "?_pragma=busy_timeout(5000)" }, 5000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := store.Open(ctx, tt.raw(storetest.SQLiteURL(t)), store.Options{MaxOpenConns: 3})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			// Hold three connections at once, so each is a separate connection from the pool.
			for i := range 3 {
				conn, err := s.SQL().Conn(ctx)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close()
				var journal string
				var foreignKeys, busy, synchronous int
				for _, q := range []struct {
					sql  string
					dest any
				}{
					{"PRAGMA journal_mode", &journal},
					{"PRAGMA foreign_keys", &foreignKeys},
					{"PRAGMA busy_timeout", &busy},
					{"PRAGMA synchronous", &synchronous},
				} {
					if err := conn.QueryRowContext(ctx, q.sql).Scan(q.dest); err != nil {
						t.Fatalf("connection %d: %s: %v", i, q.sql, err)
					}
				}
				if journal != "wal" {
					t.Errorf("connection %d: journal_mode = %q, want wal", i, journal)
				}
				if foreignKeys != 1 {
					t.Errorf("connection %d: foreign_keys = %d, want 1", i, foreignKeys)
				}
				if busy != tt.busyTimeout {
					t.Errorf("connection %d: busy_timeout = %d, want %d", i, busy, tt.busyTimeout)
				}
				if synchronous != 1 {
					t.Errorf("connection %d: synchronous = %d, want 1 (NORMAL)", i, synchronous)
				}
			}
		})
	}
}

// probe is a throwaway table for transaction tests.
type probe struct {
	N int
}

func (probe) TableName() string { return "tx_probe" }

func probeStore(t *testing.T, s *store.Store) {
	t.Helper()
	if err := s.Gorm().Exec("CREATE TABLE tx_probe (n INTEGER NOT NULL)").Error; err != nil {
		t.Fatal(err)
	}
}

func insertProbe(ctx context.Context, s *store.Store, n int) error {
	return s.DB(ctx).Create(&probe{N: n}).Error
}

func probes(t *testing.T, ctx context.Context, s *store.Store) []int {
	t.Helper()
	var ns []int
	if err := s.DB(ctx).Model(&probe{}).Order("n").Pluck("n", &ns).Error; err != nil {
		t.Fatal(err)
	}
	return ns
}

func TestInTx(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		probeStore(t, s)
		ctx := context.Background()
		boom := errors.New("boom")

		t.Run("commits when fn succeeds", func(t *testing.T) {
			t.Cleanup(func() { s.Gorm().Exec("DELETE FROM tx_probe") })
			err := s.InTx(ctx, func(ctx context.Context) error {
				if err := insertProbe(ctx, s, 1); err != nil {
					return err
				}
				return insertProbe(ctx, s, 2)
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := probes(t, ctx, s); fmt.Sprint(got) != "[1 2]" {
				t.Errorf("after commit: rows %v, want [1 2]", got)
			}
		})

		t.Run("rolls back and returns fn's error", func(t *testing.T) {
			t.Cleanup(func() { s.Gorm().Exec("DELETE FROM tx_probe") })
			err := s.InTx(ctx, func(ctx context.Context) error {
				if err := insertProbe(ctx, s, 1); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("InTx = %v, want %v", err, boom)
			}
			if got := probes(t, ctx, s); len(got) != 0 {
				t.Errorf("after rollback: rows %v, want none", got)
			}
		})

		t.Run("a nested InTx joins the outer transaction", func(t *testing.T) {
			t.Cleanup(func() { s.Gorm().Exec("DELETE FROM tx_probe") })
			err := s.InTx(ctx, func(outer context.Context) error {
				if err := insertProbe(outer, s, 1); err != nil {
					return err
				}
				return s.InTx(outer, func(inner context.Context) error {
					// The inner transaction is the outer one: it sees the outer's uncommitted row.
					if got := probes(t, inner, s); fmt.Sprint(got) != "[1]" {
						t.Errorf("inner transaction sees %v, want [1]", got)
					}
					if err := insertProbe(inner, s, 2); err != nil {
						return err
					}
					return boom
				})
			})
			if !errors.Is(err, boom) {
				t.Fatalf("InTx = %v, want %v", err, boom)
			}
			if got := probes(t, ctx, s); len(got) != 0 {
				t.Errorf("the inner error left rows %v; the outer writes must roll back too", got)
			}
		})

		t.Run("a nested InTx commits only with the outer one", func(t *testing.T) {
			t.Cleanup(func() { s.Gorm().Exec("DELETE FROM tx_probe") })
			err := s.InTx(ctx, func(outer context.Context) error {
				if err := s.InTx(outer, func(inner context.Context) error { return insertProbe(inner, s, 1) }); err != nil {
					return err
				}
				// The inner InTx has returned, but nothing is committed until the outer one returns.
				if got := probes(t, ctx, s); len(got) != 0 {
					t.Errorf("outside the transaction, rows %v are visible before the outer commit", got)
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("InTx = %v, want %v", err, boom)
			}
			if got := probes(t, ctx, s); len(got) != 0 {
				t.Errorf("rows %v survived the outer rollback", got)
			}
		})

		t.Run("DB inside fn sees uncommitted writes and DB outside does not", func(t *testing.T) {
			t.Cleanup(func() { s.Gorm().Exec("DELETE FROM tx_probe") })
			err := s.InTx(ctx, func(txCtx context.Context) error {
				if err := insertProbe(txCtx, s, 7); err != nil {
					return err
				}
				if got := probes(t, txCtx, s); fmt.Sprint(got) != "[7]" {
					t.Errorf("inside: rows %v, want [7]", got)
				}
				if got := probes(t, ctx, s); len(got) != 0 {
					t.Errorf("outside: rows %v, want none before commit", got)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := probes(t, ctx, s); fmt.Sprint(got) != "[7]" {
				t.Errorf("after commit: rows %v, want [7]", got)
			}
		})

		t.Run("a panic rolls back", func(t *testing.T) {
			t.Cleanup(func() { s.Gorm().Exec("DELETE FROM tx_probe") })
			func() {
				defer func() {
					if recover() == nil {
						t.Error("InTx swallowed the panic")
					}
				}()
				_ = s.InTx(ctx, func(ctx context.Context) error {
					if err := insertProbe(ctx, s, 1); err != nil {
						return err
					}
					panic("boom")
				})
			}()
			if got := probes(t, ctx, s); len(got) != 0 {
				t.Errorf("after a panic: rows %v, want none", got)
			}
		})
	})
}

// insertLocation writes a location row with the given identity.
func insertLocation(ctx context.Context, s *store.Store, target string) error {
	now := time.Now().UTC()
	return s.DB(ctx).Exec("INSERT INTO locations (type, target, git_ref, git_path, created_at, updated_at) VALUES (?, ?, '', '', ?, ?)",
		"file", target, now, now).Error
}

func TestTranslate(t *testing.T) {
	t.Run("nil stays nil", func(t *testing.T) {
		if err := store.Translate(nil, "anything"); err != nil {
			t.Errorf("Translate(nil) = %v", err)
		}
	})
	t.Run("coded errors pass through unchanged", func(t *testing.T) {
		coded := errs.E(errs.Forbidden, "no")
		wrapped := fmt.Errorf("catalog: %w", errs.E(errs.Invalid, "bad"))
		for _, err := range []error{coded, wrapped} {
			if got := store.Translate(err, "x"); got != err {
				t.Errorf("Translate(%v) = %v, want the same error", err, got)
			}
		}
	})
	t.Run("gorm's record not found is not found", func(t *testing.T) {
		got := store.Translate(fmt.Errorf("find: %w", gorm.ErrRecordNotFound), "entity component:default/x")
		if !errs.Is(got, errs.NotFound) || !strings.Contains(errs.PublicMessage(got), "entity component:default/x") {
			t.Errorf("Translate = %v, want %s naming the entity", got, errs.NotFound)
		}
		// The whole text (what the CLI prints) says it once, without gorm's words.
		if got.Error() != "entity component:default/x not found" {
			t.Errorf("Translate = %q, want %q", got.Error(), "entity component:default/x not found")
		}
	})
	t.Run("a connection error is unavailable", func(t *testing.T) {
		err := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
		if got := store.Translate(err, "location 1"); !errs.Is(got, errs.Unavailable) {
			t.Errorf("Translate(%v) = %v, want %s", err, got, errs.Unavailable)
		}
	})
	t.Run("anything else is internal and keeps its cause", func(t *testing.T) {
		cause := errors.New("syntax error at or near SELCT")
		got := store.Translate(cause, "entities")
		if !errs.Is(got, errs.Internal) || !errors.Is(got, cause) {
			t.Errorf("Translate(%v) = %v, want %s wrapping the cause", cause, got, errs.Internal)
		}
	})

	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		t.Run("a missing row is not found", func(t *testing.T) {
			var row struct{ ID int64 }
			err := s.DB(ctx).Table("locations").Where("id = ?", 4242).First(&row).Error
			got := store.Translate(err, "location 4242")
			if !errs.Is(got, errs.NotFound) {
				t.Fatalf("Translate(%v) = %v, want %s", err, got, errs.NotFound)
			}
			if !strings.Contains(errs.PublicMessage(got), "location 4242") {
				t.Errorf("message %q does not name what was missing", errs.PublicMessage(got))
			}
		})
		t.Run("a unique violation is a conflict", func(t *testing.T) {
			if err := insertLocation(ctx, s, "/srv/dup.yaml"); err != nil {
				t.Fatal(err)
			}
			err := insertLocation(ctx, s, "/srv/dup.yaml")
			if err == nil {
				t.Fatal("inserting the same location twice succeeded")
			}
			if got := store.Translate(err, "location /srv/dup.yaml"); !errs.Is(got, errs.Conflict) {
				t.Errorf("Translate(%v) = %v, want %s", err, got, errs.Conflict)
			}
		})
		t.Run("a unique violation inside a transaction is a conflict", func(t *testing.T) {
			err := s.InTx(ctx, func(ctx context.Context) error {
				if err := insertLocation(ctx, s, "/srv/dup-tx.yaml"); err != nil {
					return err
				}
				return store.Translate(insertLocation(ctx, s, "/srv/dup-tx.yaml"), "location")
			})
			if !errs.Is(err, errs.Conflict) {
				t.Errorf("InTx = %v, want %s", err, errs.Conflict)
			}
		})
		t.Run("a foreign key violation is a conflict", func(t *testing.T) {
			err := s.DB(ctx).Exec("INSERT INTO location_errors (location_id, source, message) VALUES (?, ?, ?)", 4242, "x.yaml", "bad").Error
			if err == nil {
				t.Fatal("an error row for a location that does not exist was accepted: foreign keys are not enforced")
			}
			if got := store.Translate(err, "location error"); !errs.Is(got, errs.Conflict) {
				t.Errorf("Translate(%v) = %v, want %s", err, got, errs.Conflict)
			}
		})
		t.Run("a canceled context is unavailable", func(t *testing.T) {
			cctx, cancel := context.WithCancel(ctx)
			cancel()
			var n int
			err := s.DB(cctx).Raw("SELECT COUNT(*) FROM locations").Scan(&n).Error
			if err == nil {
				t.Fatal("a query under a canceled context succeeded")
			}
			if got := store.Translate(err, "locations"); !errs.Is(got, errs.Unavailable) {
				t.Errorf("Translate(%v) = %v, want %s", err, got, errs.Unavailable)
			}
		})
		t.Run("a canceled transaction is unavailable", func(t *testing.T) {
			cctx, cancel := context.WithCancel(ctx)
			err := s.InTx(cctx, func(ctx context.Context) error {
				cancel()
				return store.Translate(insertLocation(ctx, s, "/srv/canceled.yaml"), "location")
			})
			if !errs.Is(err, errs.Unavailable) {
				t.Errorf("InTx = %v, want %s", err, errs.Unavailable)
			}
		})
	})
}

// Text PostgreSQL cannot store that reaches a statement anyway is the caller's mistake (INVALID),
// not Portside's failure (INTERNAL).
func TestTextPostgreSQLCannotStoreIsTranslatedAsInvalid(t *testing.T) {
	st := storetest.Postgres(t)
	err := st.Gorm().Exec("SELECT ?::text", "pay\x00ments").Error
	if got := store.Translate(err, "widget"); errs.CodeOf(got) != errs.Invalid || !strings.Contains(got.Error(), "NUL character") {
		t.Errorf("Translate(%v) = %v, want INVALID naming the NUL", err, got)
	}
}

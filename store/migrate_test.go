package store_test

import (
	"context"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pressly/goose/v3/lock"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/migrations"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// migrationFiles lists the migration files a dialect ships, in order.
func migrationFiles(t *testing.T, dialect string) []string {
	t.Helper()
	fsys, err := migrations.For(dialect)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) == 0 {
		t.Fatalf("no %s migrations", dialect)
	}
	return names
}

func versionOf(t *testing.T, name string) int64 {
	t.Helper()
	prefix, _, ok := strings.Cut(name, "_")
	v, err := strconv.ParseInt(prefix, 10, 64)
	if !ok || err != nil {
		t.Fatalf("migration %s does not start with a version number", name)
	}
	return v
}

// tables lists the tables of the database (of its current schema, on PostgreSQL).
func tables(t *testing.T, s *store.Store) []string {
	t.Helper()
	q := "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
	if s.Dialect() == store.Postgres {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name"
	}
	var names []string
	if err := s.Gorm().Raw(q).Scan(&names).Error; err != nil {
		t.Fatal(err)
	}
	return names
}

// openEmpty opens a new, unmigrated database of the given dialect.
func openEmpty(t *testing.T, raw string) *store.Store {
	t.Helper()
	return storetest.Open(t, raw, false)
}

func TestSchemaStatusOnANewDatabaseChangesNothing(t *testing.T) {
	eachEmpty(t, func(t *testing.T, raw string) {
		s := openEmpty(t, raw)
		ctx := context.Background()
		files := migrationFiles(t, string(s.Dialect()))

		st, err := s.SchemaStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := tables(t, s); len(got) != 0 {
			t.Errorf("SchemaStatus created tables %v in a new database", got)
		}
		if st.Current != 0 {
			t.Errorf("Current = %d, want 0", st.Current)
		}
		if want := versionOf(t, files[len(files)-1]); st.Latest != want {
			t.Errorf("Latest = %d, want %d", st.Latest, want)
		}
		if st.Pending() != len(files) {
			t.Errorf("Pending() = %d, want every migration (%d)", st.Pending(), len(files))
		}
		var want []store.Migration
		for _, f := range files {
			want = append(want, store.Migration{Version: versionOf(t, f), Name: f})
		}
		if diff := cmp.Diff(want, st.Migrations); diff != "" {
			t.Errorf("Migrations (-want +got):\n%s", diff)
		}
	})
}

func TestCheckSchemaRefusesAnUnmigratedDatabase(t *testing.T) {
	eachEmpty(t, func(t *testing.T, raw string) {
		s := openEmpty(t, raw)
		err := s.CheckSchema(context.Background())
		if !errs.Is(err, errs.Unavailable) {
			t.Fatalf("CheckSchema = %v, want %s", err, errs.Unavailable)
		}
		for _, part := range []string{"not migrated", "portside migrate up", "--migrate"} {
			if !strings.Contains(err.Error(), part) {
				t.Errorf("message %q does not say %q", err, part)
			}
		}
		if got := tables(t, s); len(got) != 0 {
			t.Errorf("CheckSchema created tables %v", got)
		}
	})
}

func TestMigrateAppliesEveryMigrationOnce(t *testing.T) {
	eachEmpty(t, func(t *testing.T, raw string) {
		s := openEmpty(t, raw)
		ctx := context.Background()
		files := migrationFiles(t, string(s.Dialect()))

		applied, err := s.Migrate(ctx)
		if err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		var want []store.Migration
		for _, f := range files {
			want = append(want, store.Migration{Version: versionOf(t, f), Name: f, Applied: true})
		}
		if diff := cmp.Diff(want, applied); diff != "" {
			t.Errorf("first Migrate applied (-want +got):\n%s", diff)
		}
		got := tables(t, s)
		for _, table := range []string{"goose_db_version", "locations", "entities", "relations", "catalog_state"} {
			if !slices.Contains(got, table) {
				t.Errorf("after Migrate, table %s is missing (tables: %v)", table, got)
			}
		}

		again, err := s.Migrate(ctx)
		if err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		if len(again) != 0 {
			t.Errorf("second Migrate applied %v, want nothing", again)
		}

		st, err := s.SchemaStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Current != st.Latest || st.Pending() != 0 {
			t.Errorf("after Migrate: current %d, latest %d, %d pending; want current = latest, none pending", st.Current, st.Latest, st.Pending())
		}
		if err := s.CheckSchema(ctx); err != nil {
			t.Errorf("CheckSchema after Migrate: %v", err)
		}
		// The contract steps so far raise the floor on PostgreSQL alone (00036, to 00035).
		if want := map[store.Dialect]int64{store.Postgres: 35, store.SQLite: 0}[s.Dialect()]; st.Floor != want {
			t.Errorf("after Migrate the floor is %d, want %d", st.Floor, want)
		}
	})
}

// newerRelease makes the database look migrated by release N+1: one more applied version than
// this binary knows, as N+1's migration Job leaves it. It returns that version.
func newerRelease(t *testing.T, s *store.Store) (st store.SchemaStatus, future int64) {
	t.Helper()
	st, err := s.SchemaStatus(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	future = st.Latest + 1
	if err := s.Gorm().Exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, ?)", future, true).Error; err != nil {
		t.Fatal(err)
	}
	return st, future
}

// raiseFloor does what a contract migration does: only releases at version floor or later may run.
func raiseFloor(t *testing.T, s *store.Store, floor int64) {
	t.Helper()
	if err := s.Gorm().Exec("UPDATE schema_floor SET oldest_reader = ?", floor).Error; err != nil {
		t.Fatal(err)
	}
}

func countVersionRows(t *testing.T, s *store.Store) int64 {
	t.Helper()
	var n int64
	if err := s.Gorm().Raw("SELECT COUNT(*) FROM goose_db_version").Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// Issue #17: during a rolling upgrade (and after a rollback) release N starts on the schema N+1
// expanded, and N's migration Job succeeds there applying nothing.
func TestADatabaseANewerReleaseExpandedServesThisOne(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		known, future := newerRelease(t, s)
		before := countVersionRows(t, s)

		st, err := s.SchemaStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Current != future || st.Latest != known.Latest || st.Floor != known.Floor || !st.Newer() || !st.Compatible() || st.Pending() != 0 {
			t.Errorf("status: current %d, latest %d, floor %d, newer %v, compatible %v, %d pending; want %d, %d, %d (this release's), newer, compatible, none pending",
				st.Current, st.Latest, st.Floor, st.Newer(), st.Compatible(), st.Pending(), future, known.Latest, known.Floor)
		}
		if err := s.CheckSchema(ctx); err != nil {
			t.Errorf("CheckSchema on N+1's expanded schema: %v, want nil", err)
		}
		applied, err := s.Migrate(ctx)
		if err != nil || len(applied) != 0 {
			t.Errorf("Migrate on N+1's expanded schema = %v, %v; want nothing applied, no error", applied, err)
		}
		if after := countVersionRows(t, s); after != before {
			t.Errorf("Migrate on a newer database changed goose_db_version: %d rows, was %d", after, before)
		}
		if err := s.CheckReady(ctx); err != nil {
			t.Errorf("CheckReady on N+1's expanded schema: %v", err)
		}

		// A floor raised to exactly this release still admits it.
		raiseFloor(t, s, known.Latest)
		if err := s.CheckSchema(ctx); err != nil {
			t.Errorf("CheckSchema with the floor at this release (%d): %v, want nil", known.Latest, err)
		}
		if applied, err := s.Migrate(ctx); err != nil || len(applied) != 0 {
			t.Errorf("Migrate with the floor at this release = %v, %v; want nothing applied, no error", applied, err)
		}
	})
}

// A contract migration of a later release raised the floor above this one: it removed something
// this release reads, so this release neither starts, migrates, nor stays ready.
func TestADatabaseWhoseFloorIsAboveThisPortsideIsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		known, future := newerRelease(t, s)
		raiseFloor(t, s, future)
		before := countVersionRows(t, s)

		wantRefused := func(op string, err error) {
			t.Helper()
			if !errs.Is(err, errs.Unavailable) {
				t.Fatalf("%s = %v, want %s", op, err, errs.Unavailable)
			}
			for _, part := range []string{"newer", "incompatible", "floor", strconv.FormatInt(future, 10), strconv.FormatInt(known.Latest, 10), "run a Portside release"} {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("%s: message %q does not say %q", op, err, part)
				}
			}
		}
		st, err := s.SchemaStatus(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Floor != future || st.Compatible() {
			t.Errorf("status: floor %d, compatible %v; want %d, incompatible", st.Floor, st.Compatible(), future)
		}
		wantRefused("CheckSchema", s.CheckSchema(ctx))
		applied, err := s.Migrate(ctx)
		wantRefused("Migrate", err)
		if len(applied) != 0 {
			t.Errorf("Migrate applied %v above the floor", applied)
		}
		if after := countVersionRows(t, s); after != before {
			t.Errorf("Migrate above the floor changed goose_db_version: %d rows, was %d", after, before)
		}
		wantRefused("CheckReady", s.CheckReady(ctx))
	})
}

// A newer schema that lacks one of this release's migrations (N+1 did not carry it) is refused:
// what this release reads may not be there.
func TestANewerDatabaseLackingOneOfThisPortsidesMigrationsIsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		known, future := newerRelease(t, s)
		if err := s.Gorm().Exec("DELETE FROM goose_db_version WHERE version_id = ?", known.Latest).Error; err != nil {
			t.Fatal(err)
		}
		bothRefuse(t, s, "newer", "lacks 1", strconv.FormatInt(future, 10), strconv.FormatInt(known.Latest, 10))
	})
}

// bothRefuse checks that CheckSchema and Migrate both refuse s's schema, UNAVAILABLE with a
// message saying each of parts, and that Migrate applied nothing.
func bothRefuse(t *testing.T, s *store.Store, parts ...string) {
	t.Helper()
	ctx := context.Background()
	before := countVersionRows(t, s)
	for op, err := range map[string]error{"CheckSchema": s.CheckSchema(ctx), "Migrate": func() error { _, err := s.Migrate(ctx); return err }()} {
		if !errs.Is(err, errs.Unavailable) {
			t.Errorf("%s = %v, want %s", op, err, errs.Unavailable)
			continue
		}
		for _, part := range parts {
			if !strings.Contains(err.Error(), part) {
				t.Errorf("%s: message %q does not say %q", op, err, part)
			}
		}
	}
	if after := countVersionRows(t, s); after != before {
		t.Errorf("Migrate changed goose_db_version: %d rows, was %d", after, before)
	}
}

// A migration missing below the current version (its record deleted) is a gap migrate up cannot
// fill: both the check and migrate up name it and say so, instead of advising migrate up.
func TestAMigrationMissingBelowTheCurrentVersionIsNamed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		st, err := s.SchemaStatus(ctx)
		if err != nil || len(st.Migrations) < 3 {
			t.Fatalf("status %+v, %v", st, err)
		}
		gap := st.Migrations[1]
		if err := s.Gorm().Exec("DELETE FROM goose_db_version WHERE version_id = ?", gap.Version).Error; err != nil {
			t.Fatal(err)
		}
		bothRefuse(t, s, "lacks "+gap.Name, "applies only newer migrations", "restore the database")
	})
}

func TestConcurrentMigrationsOnPostgresTakeTurns(t *testing.T) {
	raw := storetest.PostgresURL(t)
	const n = 4
	stores := make([]*store.Store, n)
	for i := range stores {
		stores[i] = openEmpty(t, raw)
	}
	var wg sync.WaitGroup
	results := make([][]store.Migration, n)
	failures := make([]error, n)
	for i, s := range stores {
		wg.Go(func() { results[i], failures[i] = s.Migrate(context.Background()) })
	}
	wg.Wait()
	total := 0
	for i := range n {
		if failures[i] != nil {
			t.Errorf("Migrate %d: %v", i, failures[i])
		}
		total += len(results[i])
	}
	if want := len(migrationFiles(t, "postgres")); total != want {
		t.Errorf("%d concurrent Migrate calls applied %d migrations in all, want %d (each exactly once)", n, total, want)
	}
	if err := stores[0].CheckSchema(context.Background()); err != nil {
		t.Error(err)
	}
}

func TestMigrationStringSaysWhetherItIsApplied(t *testing.T) {
	tests := []struct {
		m    store.Migration
		want string
	}{
		{store.Migration{Version: 1, Name: "00001_catalog.sql", Applied: true}, "applied  00001_catalog.sql"},
		{store.Migration{Version: 2, Name: "00002_tasks.sql"}, "pending  00002_tasks.sql"},
	}
	for _, tt := range tests {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

// The migration files themselves: both dialects carry the same versions, and every change after the
// first follows expand/contract (DESIGN.md §3), checked mechanically.

var (
	migrationName = regexp.MustCompile(`^(\d{5})_[a-z0-9_]+\.sql$`)
	gooseUp       = regexp.MustCompile(`(?m)^-- \+goose Up\s*$`)
	gooseDown     = regexp.MustCompile(`(?m)^-- \+goose Down\s*$`)
	sqlComment    = regexp.MustCompile(`--[^\n]*`)
	renameColumn  = regexp.MustCompile(`(?i)\bRENAME\s+COLUMN\b`)
	renameTo      = regexp.MustCompile(`(?i)\bRENAME\s+TO\b`)
	alterTable    = regexp.MustCompile(`(?i)\bALTER\s+TABLE\b`)
	// An ALTER TABLE is cut into clauses where each ADD, ALTER, DROP or RENAME starts.
	clauseStart  = regexp.MustCompile(`(?i)\b(?:ADD|ALTER|DROP|RENAME)\b`)
	addClause    = regexp.MustCompile(`(?is)^ADD\s+(?:COLUMN\s+)?(?:IF\s+NOT\s+EXISTS\s+)?("?[a-z_][a-z0-9_]*"?)(.*)$`)
	notNull      = regexp.MustCompile(`(?i)\bNOT\s+NULL\b`)
	defaultOrGen = regexp.MustCompile(`(?i)\b(?:DEFAULT|GENERATED)\b`)
	// addNotAColumn are the words after ADD that add something other than a column.
	addNotAColumn = map[string]bool{"CONSTRAINT": true, "PRIMARY": true, "UNIQUE": true, "CHECK": true, "FOREIGN": true, "EXCLUDE": true}
	// baseline is the version that creates the schema from nothing: the rules apply after it.
	baseline = int64(1)
)

// expandContractViolations returns the expand/contract rules a migration's SQL breaks.
func expandContractViolations(sql string) []string {
	code := sqlComment.ReplaceAllString(sql, "")
	var out []string
	if renameColumn.MatchString(code) {
		out = append(out, "renames a column (add a new one, backfill, drop the old one later)")
	}
	if renameTo.MatchString(code) {
		out = append(out, "renames a table or column (RENAME TO)")
	}
	for _, stmt := range strings.Split(code, ";") {
		if !alterTable.MatchString(stmt) {
			continue
		}
		starts := clauseStart.FindAllStringIndex(stmt, -1)
		for i, st := range starts {
			end := len(stmt)
			if i+1 < len(starts) {
				end = starts[i+1][0]
			}
			m := addClause.FindStringSubmatch(stmt[st[0]:end])
			if m == nil || addNotAColumn[strings.ToUpper(strings.Trim(m[1], `"`))] {
				continue
			}
			if notNull.MatchString(m[2]) && !defaultOrGen.MatchString(m[2]) {
				out = append(out, "adds NOT NULL column "+m[1]+" without a DEFAULT")
			}
		}
	}
	return out
}

func TestExpandContractCheckerCatchesViolations(t *testing.T) {
	tests := []struct {
		name  string
		sql   string
		wants int // violations found
	}{
		{"rename column", "ALTER TABLE entities RENAME COLUMN title TO display_name;", 1},
		{"rename table", "ALTER TABLE entities RENAME TO components;", 1},
		{"add NOT NULL column without default", "ALTER TABLE entities ADD COLUMN owner TEXT NOT NULL;", 1},
		{"add NOT NULL column without the COLUMN keyword", "alter table entities add owner text not null;", 1},
		{"the second of two added columns", "ALTER TABLE t ADD COLUMN a TEXT NOT NULL DEFAULT '', ADD COLUMN b INTEGER NOT NULL;", 1},
		{"add NOT NULL column with default", "ALTER TABLE entities ADD COLUMN owner TEXT NOT NULL DEFAULT '';", 0},
		{"add nullable column", "ALTER TABLE entities ADD COLUMN owner TEXT NULL;", 0},
		{"add generated column", "ALTER TABLE t ADD COLUMN s TSVECTOR NOT NULL GENERATED ALWAYS AS (to_tsvector('simple', name)) STORED;", 0},
		{"add constraint", "ALTER TABLE t ADD CONSTRAINT t_fk FOREIGN KEY (a) REFERENCES u (id) NOT VALID;", 0},
		{"create table with NOT NULL columns", "CREATE TABLE tasks (id INTEGER PRIMARY KEY, title TEXT NOT NULL);", 0},
		{"words in comments", "-- never RENAME COLUMN, never ADD COLUMN x NOT NULL\nCREATE INDEX a ON b (c);", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := expandContractViolations(tt.sql); len(got) != tt.wants {
				t.Errorf("violations %q, want %d", got, tt.wants)
			}
		})
	}
}

func TestMigrationFilesFollowTheRules(t *testing.T) {
	sqliteFiles := migrationFiles(t, string(store.SQLite))
	postgresFiles := migrationFiles(t, string(store.Postgres))
	if diff := cmp.Diff(sqliteFiles, postgresFiles); diff != "" {
		t.Errorf("the dialects carry different migrations (-sqlite +postgres):\n%s", diff)
	}
	for _, dialect := range []store.Dialect{store.SQLite, store.Postgres} {
		fsys, err := migrations.For(string(dialect))
		if err != nil {
			t.Fatal(err)
		}
		seen := map[int64]string{}
		for _, name := range migrationFiles(t, string(dialect)) {
			where := string(dialect) + "/" + name
			m := migrationName.FindStringSubmatch(name)
			if m == nil {
				t.Errorf("%s: name must be NNNNN_lower_snake.sql", where)
				continue
			}
			v := versionOf(t, name)
			if other, dup := seen[v]; dup {
				t.Errorf("%s: version %d is also %s", where, v, other)
			}
			seen[v] = name
			b, err := fs.ReadFile(fsys, name)
			if err != nil {
				t.Fatal(err)
			}
			sql := string(b)
			up, down := gooseUp.FindStringIndex(sql), gooseDown.FindStringIndex(sql)
			switch {
			case up == nil:
				t.Errorf("%s has no `-- +goose Up`", where)
			case down == nil:
				t.Errorf("%s has no `-- +goose Down`", where)
			case down[0] < up[0]:
				t.Errorf("%s: `-- +goose Down` comes before `-- +goose Up`", where)
			}
			if v <= baseline {
				continue
			}
			for _, problem := range expandContractViolations(sql) {
				t.Errorf("%s %s (DESIGN.md §3: expand, backfill, contract)", where, problem)
			}
		}
	}
}

// An advisory lock is the whole database's: migrations of one schema take turns with another
// migration of that schema, not with every schema's (tests, each in a schema of its own, waited
// minutes on one key under load). Another schema's holder of goose's key, the public schema's,
// leaves this one migrating at once.
func TestMigrationsOfOneSchemaDoNotWaitForAnothers(t *testing.T) {
	raw := storetest.PostgresURL(t)
	holder := storetest.Postgres(t)
	conn, err := holder.SQL().Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "SELECT pg_advisory_lock($1)", lock.DefaultLockID); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", lock.DefaultLockID) //nolint:errcheck
	s := storetest.Open(t, raw, false)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrating a schema while goose's key is held for another: %v", err)
	}
}

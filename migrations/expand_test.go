package migrations

// Rolling upgrades: while the migration Job has run version N+1's migrations, version N's pods are
// still serving on the same schema (README, Upgrades). So a migration may only expand what N reads
// and writes: add tables, columns (nullable or with a default), indexes. Dropping or renaming a
// table or column, changing a column's type, or making a column NOT NULL breaks N mid-rollout;
// such a contract step ships only once no running version reads the object, and says so with a
// line "-- +portside contract: <table>[.<column>] (<why nothing reads it>)" for each object it
// removes. This test refuses any other contract statement, in every migration of both dialects.
//
// A contract step also raises the schema's compatibility floor (schema_floor.oldest_reader, from
// 00018) to the version of the first release that no longer reads what it removes: releases older
// than that then refuse to start on the schema, instead of failing on what is gone; releases at or
// above it, including ones older than the schema, start on it (store.CheckSchema).

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// contractRules are the statements that take something away from the previous version.
var contractRules = []struct {
	re   *regexp.Regexp
	what string
}{
	{regexp.MustCompile(`(?i)\bDROP\s+(TABLE|VIEW)\s+(IF\s+EXISTS\s+)?("?[a-z_0-9]+"?)`), "drops a table the previous version may read"},
	{regexp.MustCompile(`(?i)\bALTER\s+TABLE\s+(IF\s+EXISTS\s+)?("?[a-z_0-9]+"?)\s+DROP\s+(COLUMN\s+)?(IF\s+EXISTS\s+)?("?[a-z_0-9]+"?)`), "drops a column the previous version may read"},
	{regexp.MustCompile(`(?i)\bRENAME\b`), "renames what the previous version reads by its old name"},
	{regexp.MustCompile(`(?i)\bALTER\s+(COLUMN\s+)?"?[a-z_0-9]+"?\s+(SET\s+DATA\s+)?TYPE\b`), "changes a column's type under the previous version"},
	{regexp.MustCompile(`(?i)\bSET\s+NOT\s+NULL\b`), "makes a column NOT NULL, which the previous version's inserts may leave empty"},
}

// addColumn finds ADD COLUMN; one that is NOT NULL is allowed only with a DEFAULT or as a generated column
// (the previous version's inserts do not name the column).
var addColumn = regexp.MustCompile(`(?i)\bADD\s+(COLUMN\s+)?(IF\s+NOT\s+EXISTS\s+)?("?[a-z_0-9]+"?)([^,;]*)`)

// floorRaise is the statement of a contract step that raises the compatibility floor.
var floorRaise = regexp.MustCompile(`(?i)\bUPDATE\s+schema_floor\s+SET\s+oldest_reader\s*=\s*(\d+)\b`)

var contractMarker = regexp.MustCompile(`(?m)^--\s*\+portside contract:\s*([a-z_0-9]+(\.[a-z_0-9]+)?)\s*\((.+)\)\s*$`)

// upSection is the part of a goose migration that `migrate up` runs, without comments, in upper
// case for the rules (identifiers are matched case-insensitively below).
func upSection(sql string) string {
	up, _, _ := strings.Cut(sql, "-- +goose Down")
	var b strings.Builder
	for _, line := range strings.Split(up, "\n") {
		if i := strings.Index(line, "--"); i >= 0 {
			line = line[:i]
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// contractViolations lists what a migration's Up section takes away without a marker for it.
func contractViolations(sql string) []string {
	allowed := map[string]bool{}
	for _, m := range contractMarker.FindAllStringSubmatch(sql, -1) {
		allowed[strings.ToLower(m[1])] = true
	}
	up := strings.ToUpper(upSection(sql))
	var out []string
	for _, stmt := range strings.Split(up, ";") {
		stmt = strings.Join(strings.Fields(stmt), " ")
		if stmt == "" {
			continue
		}
		for _, r := range contractRules {
			m := r.re.FindStringSubmatch(stmt)
			if m == nil {
				continue
			}
			object := ""
			switch {
			case strings.HasPrefix(r.what, "drops a table"):
				object = strings.Trim(m[3], `"`)
			case strings.HasPrefix(r.what, "drops a column"):
				if strings.HasPrefix(m[5], "CONSTRAINT") {
					continue // loosening a constraint takes nothing away
				}
				object = strings.Trim(m[2], `"`) + "." + strings.Trim(m[5], `"`)
			}
			if object != "" && allowed[strings.ToLower(object)] {
				continue
			}
			out = append(out, r.what+": "+stmt)
		}
		if strings.Contains(stmt, "ALTER TABLE") {
			for _, m := range addColumn.FindAllStringSubmatch(stmt, -1) {
				def := m[4]
				if strings.Contains(def, "NOT NULL") && !strings.Contains(def, "DEFAULT") && !strings.Contains(def, "GENERATED") {
					out = append(out, "adds a NOT NULL column without a default, which the previous version's inserts leave out: "+stmt)
				}
			}
		}
	}
	if len(allowed) > 0 && !floorRaise.MatchString(up) {
		out = append(out, "declares a contract step but does not raise the compatibility floor: add `UPDATE schema_floor SET oldest_reader = <the version of the first release that no longer reads what it removes>;` to its Up")
	}
	return out
}

// floorOf is the floor a migration's Up raises the schema to, or 0 when it leaves it alone.
func floorOf(sql string) int64 {
	m := floorRaise.FindStringSubmatch(upSection(sql))
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseInt(m[1], 10, 64)
	return v
}

func TestEveryMigrationOnlyExpandsTheSchema(t *testing.T) {
	for _, dialect := range []string{"sqlite", "postgres"} {
		fsys, err := For(dialect)
		if err != nil {
			t.Fatal(err)
		}
		names, err := fs.Glob(fsys, "*.sql")
		if err != nil || len(names) == 0 {
			t.Fatalf("%s: no migrations (%v)", dialect, err)
		}
		floor, floorBy := int64(0), ""
		for _, name := range names {
			raw, err := fs.ReadFile(fsys, name)
			if err != nil {
				t.Fatal(err)
			}
			if f := floorOf(string(raw)); f > 0 {
				version, _ := strconv.ParseInt(strings.SplitN(name, "_", 2)[0], 10, 64)
				switch {
				case f > version:
					t.Errorf("%s/%s raises the floor to %d, above its own version: no release could run on the schema", dialect, name, f)
				case f < floor:
					t.Errorf("%s/%s lowers the floor to %d, which %s raised to %d: a release the earlier step locked out would start again", dialect, name, f, floorBy, floor)
				}
				floor, floorBy = f, name
			}
			for _, v := range contractViolations(string(raw)) {
				t.Errorf("%s/%s %s; ship it as a contract step, once no running version reads it, with a \"-- +portside contract: table.column (why)\" line (README, Upgrades)",
					dialect, name, v)
			}
			for _, m := range contractMarker.FindAllStringSubmatch(string(raw), -1) {
				if readers := goFilesNaming(t, m[1]); len(readers) > 0 {
					t.Errorf("%s/%s removes %s, which this version's code still names: %v", dialect, name, m[1], readers)
				}
			}
		}
	}
}

// goFilesNaming lists the non-test Go files of the module that name object (its column, or its
// table), a proxy for "this version reads it".
func goFilesNaming(t *testing.T, object string) []string {
	t.Helper()
	name := object
	if i := strings.LastIndex(object, "."); i >= 0 {
		name = object[i+1:]
	}
	word := regexp.MustCompile(`(?i)\b` + regexp.QuoteMeta(name) + `\b`)
	var out []string
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == "frontend" || strings.HasPrefix(d.Name(), ".")) && path != ".." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if word.Match(raw) {
			out = append(out, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestTheExpandOnlyRuleRefusesContractStatements(t *testing.T) {
	tests := []struct {
		name, sql string
		refused   bool
	}{
		{"add a nullable column", "-- +goose Up\nALTER TABLE runbooks ADD COLUMN summary TEXT;\n", false},
		{"add a NOT NULL column with a default", "-- +goose Up\nALTER TABLE runbooks ADD COLUMN n INTEGER NOT NULL DEFAULT 0;\n", false},
		{"add a generated column", "-- +goose Up\nALTER TABLE r ADD COLUMN s TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', t)) STORED;\n", false},
		{"create and index", "-- +goose Up\nCREATE TABLE x (id INTEGER NOT NULL);\nCREATE INDEX x_id ON x (id);\nDROP INDEX old_index;\n", false},
		{"the Down section may drop", "-- +goose Up\nALTER TABLE r ADD COLUMN s TEXT;\n-- +goose Down\nALTER TABLE r DROP COLUMN s;\nDROP TABLE r;\n", false},
		{"a comment that says drop", "-- +goose Up\n-- we never DROP TABLE runbooks here\nCREATE TABLE y (id INTEGER);\n", false},
		{"drop a column", "-- +goose Up\nALTER TABLE runbooks DROP COLUMN body;\n", true},
		{"drop a table", "-- +goose Up\nDROP TABLE IF EXISTS runbook_links;\n", true},
		{"rename a column", "-- +goose Up\nALTER TABLE runbooks RENAME COLUMN body TO markdown;\n", true},
		{"rename a table (SQLite's rebuild)", "-- +goose Up\nCREATE TABLE t_new (id INTEGER);\nALTER TABLE t_new RENAME TO t;\n", true},
		{"change a type", "-- +goose Up\nALTER TABLE runbooks ALTER COLUMN version TYPE BIGINT;\n", true},
		{"set NOT NULL", "-- +goose Up\nALTER TABLE runbooks ALTER COLUMN title SET NOT NULL;\n", true},
		{"add NOT NULL without a default", "-- +goose Up\nALTER TABLE runbooks ADD COLUMN owner TEXT NOT NULL;\n", true},
		{"a declared contract step", "-- +portside contract: runbooks.legacy_url (unread since 00012: runbooks read url)\n-- +goose Up\nALTER TABLE runbooks DROP COLUMN legacy_url;\nUPDATE schema_floor SET oldest_reader = 12;\n", false},
		{"a declared contract step that does not raise the floor", "-- +portside contract: runbooks.legacy_url (unread since 00012: runbooks read url)\n-- +goose Up\nALTER TABLE runbooks DROP COLUMN legacy_url;\n", true},
		{"a declared contract step that raises the floor only in Down", "-- +portside contract: runbooks.legacy_url (unread since 00012)\n-- +goose Up\nALTER TABLE runbooks DROP COLUMN legacy_url;\n-- +goose Down\nUPDATE schema_floor SET oldest_reader = 12;\n", true},
		{"a declared contract step whose floor raise is commented out", "-- +portside contract: runbooks.legacy_url (unread since 00012)\n-- +goose Up\nALTER TABLE runbooks DROP COLUMN legacy_url;\n-- UPDATE schema_floor SET oldest_reader = 12;\n", true},
		{"a contract step declared for another column", "-- +portside contract: runbooks.other (unread)\n-- +goose Up\nALTER TABLE runbooks DROP COLUMN legacy_url;\nUPDATE schema_floor SET oldest_reader = 12;\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := contractViolations(tt.sql)
			if (len(got) > 0) != tt.refused {
				t.Errorf("violations %q, refused = %v, want %v", got, len(got) > 0, tt.refused)
			}
		})
	}
}

package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portside-dev/portside/store/storetest"
)

// The backup itself (taken while serving, restored with entities, audit and sessions) is tested in
// server/backup_test.go; this is the command around it.
func TestBackupCommandWritesACopyOnceAndRefersPostgreSQLToPgDump(t *testing.T) {
	db := filepath.Join(t.TempDir(), "portside.db")
	wantExit(t, portside(t, nil, "--database", db, "migrate", "up"), 0, "migrate up")
	dest := filepath.Join(t.TempDir(), "backup.db")
	r := portside(t, nil, "--database", db, "backup", "--to", dest)
	wantExit(t, r, 0, "backup")
	if !strings.Contains(r.stdout, dest) {
		t.Errorf("backup does not say where it wrote\n%s", r)
	}
	if _, err := os.Stat(dest); err != nil {
		t.Fatalf("no backup file: %v", err)
	}
	// The copy is a Portside database at the same schema.
	wantExit(t, portside(t, nil, "--database", dest, "migrate", "status"), 0, "migrate status of the backup")

	r = portside(t, nil, "--database", db, "backup", "--to", dest)
	if r.code == 0 || !strings.Contains(r.stderr, dest) || !strings.Contains(r.stderr, "exists") {
		t.Errorf("a backup onto an existing file: want a refusal naming it\n%s", r)
	}
	// A mistyped database is not created (and an empty copy of it written as a backup).
	typo := filepath.Join(filepath.Dir(db), "portsdie.db")
	r = portside(t, nil, "--database", typo, "backup", "--to", filepath.Join(t.TempDir(), "typo.db"))
	if r.code == 0 || !strings.Contains(r.stderr, "no SQLite database at "+typo) {
		t.Errorf("a backup of a database that is not there: want a refusal naming it\n%s", r)
	}
	if _, err := os.Stat(typo); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the backup created the mistyped database: %v", err)
	}
	r = portside(t, []string{"PORTSIDE_DATABASE_URL=" + storetest.PostgresURL(t)}, "backup", "--to", filepath.Join(t.TempDir(), "x"))
	if r.code == 0 || !strings.Contains(r.stderr, "pg_dump") {
		t.Errorf("backup of PostgreSQL: want a refusal pointing at pg_dump\n%s", r)
	}
}

// Only the commands that migrate may create a SQLite database: any other one, given a mistyped
// path, says there is no database there rather than leaving an empty file behind it.
func TestCommandsThatDoNotMigrateRefuseAMissingSQLiteFile(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"token", "list"},
		{"catalog", "locations"},
		{"pipeline", "runs", "payments"},
	} {
		typo := filepath.Join(dir, "portsdie.db")
		r := portside(t, nil, append([]string{"--database", typo}, args...)...)
		if r.code == 0 || !strings.Contains(r.stderr, "no SQLite database at "+typo) {
			t.Errorf("%v on a mistyped database: want a refusal naming it\n%s", args, r)
		}
		if _, err := os.Stat(typo); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%v created the mistyped database: %v", args, err)
		}
	}
	// migrate status tells what a new database would need, without creating it.
	typo := filepath.Join(dir, "portsdie.db")
	r := portside(t, nil, "--database", typo, "migrate", "status")
	if r.code != 3 || !strings.Contains(r.stdout, "not there yet") || !strings.Contains(r.stderr, "portside migrate up") {
		t.Errorf("migrate status of a database not there: want exit 3 listing what is pending\n%s", r)
	}
	if _, err := os.Stat(typo); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("migrate status created the database: %v", err)
	}
}

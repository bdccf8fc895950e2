package server_test

// Backup and restore as README's "Backup and restore" tells operators to do them, taken while the
// portal serves and writes: the restored database holds the catalog's entities, the audit log and
// the sessions (a browser signed in before the backup is still signed in against the copy).

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// backedUp is what a restored database must hold: taken from the live one just before the backup.
type backedUp struct {
	entities int
	logins   int
	session  string // carol's session cookie
}

// liveForBackup starts the portal on st, signs carol in, and starts writers that keep changing
// the database (API tokens created, each audited) until the returned stop is called.
func liveForBackup(t *testing.T, st *store.Store) (*portal, backedUp, func()) {
	t.Helper()
	p := newPortal(t, st)
	b := newBrowser()
	readAll(t, p.signIn(b, "carol", "carol-pw", "/"))
	c := cookie(b, p.base, "portside_session")
	if c == nil {
		t.Fatal("no session cookie after sign-in")
	}
	ctx := principal.With(context.Background(), principal.System("test", principal.ClientCLI))
	n, err := p.cat.Count(ctx, catalog.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	want := backedUp{entities: n, logins: len(p.auditRecords(t, "auth.login")), session: c.Value}
	if want.entities == 0 || want.logins != 1 {
		t.Fatalf("before the backup: %d entities, %d logins", want.entities, want.logins)
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-quit:
				return
			default:
			}
			if _, _, err := p.ids.CreateToken(ctx, auth.TokenSpec{Username: "robot", Name: fmt.Sprintf("during-backup-%d", i)}); err != nil {
				t.Errorf("a write during the backup failed: %v", err)
				return
			}
		}
	}()
	return p, want, func() { close(quit); wg.Wait() }
}

// checkRestored checks the restored database against what the live one held.
func checkRestored(t *testing.T, p *portal, restored *store.Store, want backedUp) {
	t.Helper()
	ctx := principal.With(context.Background(), principal.System("test", principal.ClientCLI))
	if err := restored.CheckSchema(ctx); err != nil {
		t.Fatalf("the restored database's schema: %v", err)
	}
	cat := catalog.NewService(restored, catalog.Options{})
	if n, err := cat.Count(ctx, catalog.Filter{}); err != nil || n != want.entities {
		t.Errorf("restored catalog: %d entities (%v), want %d", n, err, want.entities)
	}
	ref, err := backstage.ParseRef("component:default/payments-api", "component", "default")
	if err != nil {
		t.Fatal(err)
	}
	if e, err := cat.Entity(ctx, ref); err != nil || e.Spec["owner"] == nil {
		t.Errorf("restored payments-api: %+v, %v", e, err)
	}
	page, err := audit.New(restored, nil).Query(ctx, audit.Filter{Action: "auth.login"}, audit.MaxPage, "")
	if err != nil || len(page.Records) != want.logins || page.Records[0].Actor != "carol" {
		t.Errorf("restored audit log: %+v (%v), want carol's login", page, err)
	}
	// carol's browser still holds its cookie: against the copy it is still carol's session.
	ids := auth.NewService(restored, auth.Options{Issuer: p.dev.Issuer(), ClientID: "portside", ClientSecret: "s3cret",
		RedirectURL: p.base + "/auth/callback", Directory: cat})
	who, err := ids.Authenticate(context.Background(), auth.Credentials{Session: want.session})
	if err != nil || who == nil || who.Username != "carol" || who.Kind != principal.KindSession {
		t.Errorf("carol's session against the restored database: %+v, %v", who, err)
	}
}

func TestASQLiteBackupTakenWhileServingRestoresEntitiesAuditAndSessions(t *testing.T) {
	st := storetest.SQLite(t)
	p, want, stop := liveForBackup(t, st)
	ctx := context.Background()
	dest := filepath.Join(t.TempDir(), "portside-backup.db")
	err := st.Backup(ctx, dest)
	stop()
	if err != nil {
		t.Fatalf("backup: %v", err)
	}
	// A second backup never overwrites the first.
	if err := st.Backup(ctx, dest); !errs.Is(err, errs.Conflict) || !strings.Contains(err.Error(), dest) {
		t.Errorf("a backup onto an existing file: %v, want CONFLICT naming it", err)
	}
	if err := st.Backup(ctx, st.Target()); err == nil {
		t.Error("a backup onto the database itself was not refused")
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(dest), ".*partial"))
	if len(leftovers) > 0 {
		t.Errorf("partial files left beside the backup: %v", leftovers)
	}

	// Restore: the backup file becomes the database (serve stopped, the file copied into place).
	restoredPath := filepath.Join(t.TempDir(), "portside.db")
	raw, err := os.ReadFile(dest)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(restoredPath, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	checkRestored(t, p, storetest.Open(t, restoredPath, false), want)
}

func TestPostgreSQLBackupRefersToPgDump(t *testing.T) {
	st := storetest.Postgres(t)
	if err := st.Backup(context.Background(), filepath.Join(t.TempDir(), "x.db")); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "pg_dump") {
		t.Errorf("Backup on PostgreSQL: %v, want INVALID pointing at pg_dump", err)
	}
}

// TestAPostgreSQLDumpTakenWhileServingRestoresEntitiesAuditAndSessions runs README's commands:
// pg_dump -Fc of Portside's schema while it serves, pg_restore into a new, empty database.
func TestAPostgreSQLDumpTakenWhileServingRestoresEntitiesAuditAndSessions(t *testing.T) {
	for _, tool := range []string{"pg_dump", "pg_restore"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed on this machine (Debian: postgresql-client): %v", tool, err)
		}
	}
	raw := storetest.PostgresURL(t)
	st := storetest.Open(t, raw, true)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	schema := u.Query().Get("search_path")
	// pg_dump takes libpq URLs, which know no search_path parameter.
	libpq := *u
	q := libpq.Query()
	q.Del("search_path")
	libpq.RawQuery = q.Encode()

	p, want, stop := liveForBackup(t, st)
	dump := filepath.Join(t.TempDir(), "portside.dump")
	out, err := exec.Command("pg_dump", "--format=custom", "--schema="+schema, "--no-owner", "--file="+dump, libpq.String()).CombinedOutput()
	stop()
	if err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, out)
	}

	// A new database to restore into, dropped at the end.
	restoreDB := "restore_" + strings.TrimPrefix(schema, "test_")
	admin := storetest.Open(t, libpq.String(), false)
	if err := admin.Gorm().Exec("CREATE DATABASE " + restoreDB).Error; err != nil {
		t.Fatal(err)
	}
	target := libpq
	target.Path = "/" + restoreDB
	t.Cleanup(func() {
		if err := admin.Gorm().Exec("DROP DATABASE IF EXISTS " + restoreDB + " WITH (FORCE)").Error; err != nil {
			t.Errorf("drop %s: %v", restoreDB, err)
		}
	})
	if out, err := exec.Command("pg_restore", "--no-owner", "--exit-on-error", "--dbname="+target.String(), dump).CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, out)
	}
	q = target.Query()
	q.Set("search_path", schema)
	target.RawQuery = q.Encode()
	restored := storetest.Open(t, target.String(), false)
	checkRestored(t, p, restored, want)
}

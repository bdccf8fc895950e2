package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// During a rollout the migration Job migrates first; the old pods must stay ready on the newer
// schema (migrations are backward compatible), and a fresh start of an old binary is admitted too,
// until a contract migration raises the floor above it.
func TestReadinessToleratesANewerSchemaButNotAMissingMigration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if err := s.CheckReady(ctx); err != nil {
			t.Fatalf("migrated database: %v", err)
		}
		if err := s.Gorm().Exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, ?)", 99999, true).Error; err != nil {
			t.Fatal(err)
		}
		if err := s.CheckReady(ctx); err != nil {
			t.Errorf("newer schema: readiness should hold, got %v", err)
		}
		if err := s.CheckSchema(ctx); err != nil {
			t.Errorf("newer schema: a start should be admitted, got %v", err)
		}
		if err := s.Gorm().Exec("UPDATE schema_floor SET oldest_reader = ?", 99999).Error; err != nil {
			t.Fatal(err)
		}
		err := s.CheckReady(ctx)
		var r interface{ NotReadyReason() string }
		if !errs.Is(err, errs.Unavailable) || !errors.As(err, &r) || r.NotReadyReason() != store.ReasonDatabaseIncompatible {
			t.Errorf("floor above this Portside: readiness %v, want UNAVAILABLE with reason %s", err, store.ReasonDatabaseIncompatible)
		}
		if err := s.CheckSchema(ctx); err == nil {
			t.Error("floor above this Portside: a start must be refused")
		}
	})
	unmigrated := storetest.Open(t, storetest.SQLiteURL(t), false)
	if err := unmigrated.CheckReady(context.Background()); !errs.Is(err, errs.Unavailable) {
		t.Errorf("unmigrated database: want UNAVAILABLE, got %v", err)
	}
}

// Anyone may probe readiness, so a failure carries a reason code that names no host, user or
// database; the full message stays for operators.
func TestReadinessFailuresCarryAReasonCodeWithoutDetails(t *testing.T) {
	reason := func(err error) string {
		var r interface{ NotReadyReason() string }
		if !errors.As(err, &r) {
			return ""
		}
		return r.NotReadyReason()
	}
	unmigrated := storetest.Open(t, storetest.SQLiteURL(t), false)
	err := unmigrated.CheckReady(context.Background())
	if got := reason(err); got != store.ReasonDatabaseNotMigrated {
		t.Errorf("unmigrated database: reason %q, want %s (%v)", got, store.ReasonDatabaseNotMigrated, err)
	}
	closed := storetest.SQLite(t)
	_ = closed.Close()
	err = closed.CheckReady(context.Background())
	if got := reason(err); got != store.ReasonDatabaseUnreachable {
		t.Errorf("closed database: reason %q, want %s (%v)", got, store.ReasonDatabaseUnreachable, err)
	}
	if !errs.Is(err, errs.Unavailable) {
		t.Errorf("closed database: code %s, want UNAVAILABLE", errs.CodeOf(err))
	}
}

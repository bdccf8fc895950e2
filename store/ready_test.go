package store_test

import (
	"context"
	"testing"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// During a rollout the migration Job migrates first; the old pods must stay ready on the newer
// schema (migrations are backward compatible), while a fresh start of an old binary is refused.
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
		if err := s.CheckSchema(ctx); err == nil {
			t.Error("newer schema: a start must still be refused")
		}
	})
	unmigrated := storetest.Open(t, storetest.SQLiteURL(t), false)
	if err := unmigrated.CheckReady(context.Background()); !errs.Is(err, errs.Unavailable) {
		t.Errorf("unmigrated database: want UNAVAILABLE, got %v", err)
	}
}

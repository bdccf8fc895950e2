package catalog_test

import (
	"context"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// noteIndexesWhileWriting counts the indexes of the tables an import writes, as a statement that
// writes relations sees them, into seen_indexes, one row per statement.
func noteIndexesWhileWriting(t *testing.T, st *store.Store) {
	t.Helper()
	for _, q := range []string{
		"CREATE TABLE seen_indexes (n INT)",
		`CREATE FUNCTION note_indexes() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
			INSERT INTO seen_indexes SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema()
			AND tablename IN ('entities', 'entity_tags', 'entity_annotations', 'relations');
			RETURN NULL; END $$`,
		"CREATE TRIGGER note_indexes AFTER INSERT ON relations FOR EACH STATEMENT EXECUTE FUNCTION note_indexes()",
		// And the foreign keys of entities, as a statement that writes entities sees them.
		"CREATE TABLE seen_keys (n INT)",
		`CREATE FUNCTION note_keys() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
			INSERT INTO seen_keys SELECT count(*) FROM pg_constraint WHERE conrelid = 'entities'::regclass AND contype = 'f';
			RETURN NULL; END $$`,
		"CREATE TRIGGER note_keys AFTER INSERT ON entities FOR EACH STATEMENT EXECUTE FUNCTION note_keys()",
	} {
		if err := st.Gorm().Exec(q).Error; err != nil {
			t.Fatal(err)
		}
	}
}

// seenIndexes returns the indexes noteIndexesWhileWriting saw since the last call, and forgets
// them.
func seenIndexes(t *testing.T, st *store.Store) []int { return seen(t, st, "seen_indexes") }

// seenKeys returns the foreign keys of entities noteIndexesWhileWriting saw since the last call,
// and forgets them.
func seenKeys(t *testing.T, st *store.Store) []int { return seen(t, st, "seen_keys") }

func seen(t *testing.T, st *store.Store, table string) []int {
	t.Helper()
	var n []int
	if err := st.Gorm().Raw("DELETE FROM " + table + " RETURNING n").Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func schemaIndexes(t *testing.T, st *store.Store) map[string]string {
	t.Helper()
	var rows []struct{ Indexname, Indexdef string }
	if err := st.Gorm().Raw("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()").Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, r := range rows {
		out[r.Indexname] = r.Indexdef
	}
	return out
}

// The first import into an empty catalog writes its rows with only the primary keys in place
// and builds the others before it commits; it leaves the schema's indexes as the migrations made
// them. Later imports write with every index in place.
func TestTheFirstImportBuildsItsIndexesAfterLoadingTheRows(t *testing.T) {
	st := storetest.Postgres(t)
	f := newFixture(t, st)
	want := schemaIndexes(t, st)
	noteIndexesWhileWriting(t, st)
	// An apply in another schema of the database holds its apply lock meanwhile: the lock is the
	// schema's, and this import is no less the first of its own.
	other, err := storetest.Postgres(t).SQL().BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Rollback() }()
	if _, err := other.Exec(catalog.HoldApplyLock); err != nil {
		t.Fatal(err)
	}
	f.write("one/catalog-info.yaml", teamA+"---"+paymentsAPI+"---\n"+component("ledger"))
	f.register(f.dir + "/one")
	all := loadedIndexes(t, st)
	first := seenIndexes(t, st)
	if len(first) == 0 {
		t.Fatal("the import wrote no relations")
	}
	for _, n := range first {
		if n != 3 { // the primary keys: entities', tags' and annotations'
			t.Errorf("the first import wrote relations beside %d indexes, want the 3 primary keys (of %d)", n, all)
		}
	}
	// Nor does it check each entity's location as it writes it: the key is added again after.
	firstKeys := seenKeys(t, st)
	if len(firstKeys) == 0 {
		t.Fatal("the import wrote no entities")
	}
	for _, n := range firstKeys {
		if n != 0 {
			t.Errorf("the first import wrote entities beside %d foreign keys, want none", n)
		}
	}
	if got := schemaIndexes(t, st); !maps.Equal(got, want) {
		t.Errorf("indexes after the first import:\n%v\nwant\n%v", got, want)
	}
	if pending, err := st.DeferredIndexes(context.Background()); err != nil || len(pending) != 0 {
		t.Errorf("deferred indexes left: %v, %v", pending, err)
	}
	// The catalog now holds entities: the next location is written with every index in place.
	f.write("two/catalog-info.yaml", strings.ReplaceAll(component("billing"), "team-a", "team-b"))
	f.register(f.dir + "/two")
	for _, n := range seenIndexes(t, st) {
		if n != all {
			t.Errorf("the second import wrote relations beside %d indexes, want all %d", n, all)
		}
	}
	for _, n := range seenKeys(t, st) {
		if n != 1 {
			t.Errorf("the second import wrote entities beside %d foreign keys, want entities' key to its location", n)
		}
	}
	// Queries answer from the built indexes as before.
	f.entity("component:default/ledger")
	f.entity("component:default/billing")
}

// A first import that fails leaves the catalog empty and its indexes built again.
func TestAFailedFirstImportLeavesItsIndexesBuilt(t *testing.T) {
	st := storetest.Postgres(t)
	f := newFixture(t, st)
	want := schemaIndexes(t, st)
	poisoned := strings.Replace(component("poisoned"), "lifecycle: production", "lifecycle: production, system: poison", 1)
	f.write("catalog-info.yaml", teamA+"---\n"+component("ledger")+"---\n"+poisoned)
	failOnPoison(t, st)
	if _, err := f.svc.RegisterLocation(operator, catalog.LocationSpec{Type: catalog.LocationFile, Target: f.dir}); err == nil || !strings.Contains(err.Error(), "relations") {
		t.Fatalf("the import should fail writing relations, got %v", err)
	}
	f.absent("component:default/ledger")
	if got := schemaIndexes(t, st); !maps.Equal(got, want) {
		t.Errorf("indexes after the failed import:\n%v\nwant\n%v", got, want)
	}
	if pending, err := st.DeferredIndexes(context.Background()); err != nil || len(pending) != 0 {
		t.Errorf("deferred indexes left: %v, %v", pending, err)
	}
}

// loadedIndexes counts the indexes of the tables an import writes.
func loadedIndexes(t *testing.T, st *store.Store) int {
	t.Helper()
	var n int
	err := st.Gorm().Raw(`SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema()
		AND tablename IN ('entities', 'entity_tags', 'entity_annotations', 'relations')`).Scan(&n).Error
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Indexes a first import deferred and never built, its process killed, are built by the
// catalog's background loop when it starts (on the leader of the serve replicas).
func TestTheCatalogLoopBuildsIndexesADeadImportLeftDeferred(t *testing.T) {
	st := storetest.Postgres(t)
	f := newFixture(t, st)
	want := schemaIndexes(t, st)
	if _, err := st.DeferIndexes(context.Background(), "entities", "relations"); err != nil {
		t.Fatal(err)
	}
	f.svc.Run(context.Background()) // the fixture's refresh interval is 0: Run returns once it has built them
	if got := schemaIndexes(t, st); !maps.Equal(got, want) {
		t.Errorf("indexes after Run:\n%v\nwant\n%v", got, want)
	}
}

// An unregister beside a first import, whose entities are written without their key to the
// location, waits for the import to commit (it takes the applies' lock) and then removes what it
// wrote, as it does beside any apply; the import is not failed by a location gone from under it.
func TestAnUnregisterBesideTheFirstImportWaitsForIt(t *testing.T) {
	st := storetest.Postgres(t)
	f := newFixture(t, st)
	f.write("catalog-info.yaml", "# nothing yet\n")
	id := f.register(f.dir).Location.ID // the catalog stays empty
	f.write("catalog-info.yaml", teamA+"---"+paymentsAPI+"---\n"+component("ledger"))
	// The import's writes of relations take a second, long enough to unregister beside them.
	for _, q := range []string{
		`CREATE FUNCTION slow_relations() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(1); RETURN NULL; END $$`,
		"CREATE TRIGGER slow_relations AFTER INSERT ON relations FOR EACH STATEMENT EXECUTE FUNCTION slow_relations()",
	} {
		if err := st.Gorm().Exec(q).Error; err != nil {
			t.Fatal(err)
		}
	}
	refreshed := make(chan error, 1)
	go func() {
		_, err := f.svc.Refresh(operator, id)
		refreshed <- err
	}()
	// The import is in its trigger's sleep when a session of this database waits on PgSleep. (Its
	// query column shows the statement the client sent, not the trigger's; matching the text
	// "pg_sleep(1)" found whichever pooled connection had last sent CREATE FUNCTION, or none.)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var sleeping int
		err := st.Gorm().Raw("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'PgSleep' AND pid <> pg_backend_pid()").Scan(&sleeping).Error
		if err != nil {
			t.Fatal(err)
		}
		if sleeping > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the import never wrote its relations")
		}
	}
	removed, err := f.svc.UnregisterLocation(operator, id)
	if rerr := <-refreshed; rerr != nil {
		t.Fatalf("the import beside an unregister: %v", rerr)
	}
	if err != nil || removed != 3 {
		t.Fatalf("the unregister removed %d entities (%v), want the import's 3", removed, err)
	}
	f.absent("component:default/ledger")
}

package store_test

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// loaded are the tables a catalog import writes, whose secondary indexes it defers.
var loaded = []string{"entities", "entity_tags", "entity_annotations", "relations"}

// indexDefs returns every index of the schema's tables, by name, as PostgreSQL defines it.
func indexDefs(t *testing.T, st *store.Store) map[string]string {
	t.Helper()
	var rows []struct{ Indexname, Indexdef string }
	if err := st.Gorm().Raw("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()").Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		out[r.Indexname] = r.Indexdef
	}
	return out
}

// foreignKeys returns every foreign key of the schema's tables, by table and name, as PostgreSQL
// defines it.
func foreignKeys(t *testing.T, st *store.Store) map[string]string {
	t.Helper()
	var rows []struct{ Name, Definition string }
	err := st.Gorm().Raw(`SELECT conrelid::regclass::text || '.' || conname AS name, pg_get_constraintdef(oid) AS definition
		FROM pg_constraint WHERE contype = 'f' AND connamespace = current_schema()::regnamespace`).Scan(&rows).Error
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		out[r.Name] = r.Definition
	}
	return out
}

func TestDeferredIndexesAreBuiltAgainAsTheyWere(t *testing.T) {
	st := storetest.Postgres(t)
	ctx := context.Background()
	before, keysBefore := indexDefs(t, st), foreignKeys(t, st)
	names, err := st.DeferIndexes(ctx, loaded...)
	if err != nil {
		t.Fatal(err)
	}
	// Entities' key to their location goes, and nothing else's.
	keysDuring := foreignKeys(t, st)
	if _, ok := keysDuring["entities.entities_location_id_fkey"]; ok || !slices.Contains(names, "entities_location_id_fkey") {
		t.Errorf("entities_location_id_fkey was not deferred (deferred: %v)", names)
	}
	if len(keysDuring) != len(keysBefore)-1 {
		t.Errorf("%d foreign keys before, %d after deferring", len(keysBefore), len(keysDuring))
	}
	// The secondary indexes go, and the unique index of refs; the primary keys stay.
	for _, want := range []string{"entities_name", "entities_search", "entity_tags_tag", "relations_target_source", "entities_ref"} {
		if !slices.Contains(names, want) {
			t.Errorf("%s was not deferred (deferred: %v)", want, names)
		}
	}
	during := indexDefs(t, st)
	for _, name := range names {
		if _, ok := during[name]; ok {
			t.Errorf("deferred index %s is still there", name)
		}
	}
	for _, kept := range []string{"entities_pkey", "entity_tags_pkey", "entity_annotations_pkey"} {
		if _, ok := during[kept]; !ok || slices.Contains(names, kept) {
			t.Errorf("primary key %s was dropped", kept)
		}
	}
	if len(during)+len(names)-1 != len(before) {
		t.Errorf("%d indexes before, %d after deferring %d and a key", len(before), len(during), len(names)-1)
	}
	if pending, err := st.DeferredIndexes(ctx); err != nil || !slices.Equal(sorted(pending), sorted(names)) {
		t.Errorf("DeferredIndexes = %v, %v; want %v", pending, err, names)
	}

	built, err := st.BuildDeferredIndexes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sorted(built), sorted(names)) {
		t.Errorf("built %v, deferred %v", built, names)
	}
	after := indexDefs(t, st)
	for name, def := range before {
		if after[name] != def {
			t.Errorf("index %s: %q before, %q after", name, def, after[name])
		}
	}
	if len(after) != len(before) {
		t.Errorf("%d indexes before, %d after", len(before), len(after))
	}
	if keysAfter := foreignKeys(t, st); !maps.Equal(keysAfter, keysBefore) {
		t.Errorf("foreign keys before %v, after %v", keysBefore, keysAfter)
	}
	if pending, err := st.DeferredIndexes(ctx); err != nil || len(pending) != 0 {
		t.Errorf("after the build DeferredIndexes = %v, %v", pending, err)
	}
	if again, err := st.BuildDeferredIndexes(ctx); err != nil || len(again) != 0 {
		t.Errorf("a second build built %v, %v", again, err)
	}
}

// An index that exists already (built by hand, say) is not built twice, and its record goes.
func TestBuildingSkipsAnIndexThatExists(t *testing.T) {
	st := storetest.Postgres(t)
	ctx := context.Background()
	if _, err := st.DeferIndexes(ctx, "relations"); err != nil {
		t.Fatal(err)
	}
	if err := st.Gorm().Exec("CREATE INDEX relations_entity ON relations (entity_id)").Error; err != nil {
		t.Fatal(err)
	}
	built, err := st.BuildDeferredIndexes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(built, "relations_entity") || !slices.Contains(built, "relations_target_source") {
		t.Errorf("built %v", built)
	}
	if _, ok := indexDefs(t, st)["relations_target_source"]; !ok {
		t.Error("relations_target_source was not built")
	}
}

// A duplicate written while the unique index of refs is deferred fails that index's build, and
// with it the load's transaction: nothing of the load stays, and the index is built over what
// was there before.
func TestADuplicateRefFailsTheLoad(t *testing.T) {
	st := storetest.Postgres(t)
	ctx := context.Background()
	if err := st.Gorm().Exec("INSERT INTO locations (id, type, target, status, created_at, updated_at) VALUES (1, 'file', '/c', 'ok', now(), now())").Error; err != nil {
		t.Fatal(err)
	}
	if _, err := st.DeferIndexes(ctx, "entities"); err != nil {
		t.Fatal(err)
	}
	written := false
	err := st.InTx(ctx, func(ctx context.Context) error {
		for range 2 {
			err := st.DB(ctx).Exec(`INSERT INTO entities (ref, kind, namespace, name, body, hash, location_id, source, created_at, updated_at)
				VALUES ('component:default/twice', 'Component', 'default', 'twice', '{}', 'h', 1, 'c.yaml', now(), now())`).Error
			if err != nil {
				return err
			}
		}
		written = true // the index is not there to refuse the duplicate: its build must
		_, err := st.BuildDeferredIndexes(ctx)
		return err
	})
	if !written {
		t.Fatalf("the duplicate was refused as it was written: %v", err)
	}
	if !errs.Is(err, errs.Conflict) || !strings.Contains(err.Error(), "entities_ref") {
		t.Fatalf("the load with a duplicate ref: %v; want a conflict naming entities_ref", err)
	}
	if _, err := st.BuildDeferredIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	var n int64
	if err := st.Gorm().Raw("SELECT count(*) FROM entities").Scan(&n).Error; err != nil || n != 0 {
		t.Errorf("%d entities after the failed load (%v)", n, err)
	}
	if _, ok := indexDefs(t, st)["entities_ref"]; !ok {
		t.Error("entities_ref was not built again")
	}
}

// An entity written while entities' key to its location is deferred, naming no location, fails
// the key's check when it is added again, and the load with it; the key is added again over what
// was there before.
func TestAnEntityOfNoLocationFailsTheLoad(t *testing.T) {
	st := storetest.Postgres(t)
	ctx := context.Background()
	if _, err := st.DeferIndexes(ctx, "entities"); err != nil {
		t.Fatal(err)
	}
	written := false
	err := st.InTx(ctx, func(ctx context.Context) error {
		err := st.DB(ctx).Exec(`INSERT INTO entities (ref, kind, namespace, name, body, hash, location_id, source, created_at, updated_at)
			VALUES ('component:default/stray', 'Component', 'default', 'stray', '{}', 'h', 42, 'c.yaml', now(), now())`).Error
		if err != nil {
			return err
		}
		written = true // the key is not there to refuse it: adding it again must
		_, err = st.BuildDeferredIndexes(ctx)
		return err
	})
	if !written {
		t.Fatalf("the entity was refused as it was written: %v", err)
	}
	if err == nil || !strings.Contains(err.Error(), "entities_location_id_fkey") {
		t.Fatalf("the load of an entity of no location: %v; want an error naming entities_location_id_fkey", err)
	}
	if _, err := st.BuildDeferredIndexes(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := foreignKeys(t, st)["entities.entities_location_id_fkey"]; !ok {
		t.Error("entities_location_id_fkey was not added again")
	}
}

// A build that starts while a load is still writing into the tables (another replica starting)
// waits for the load's transaction; the load builds the indexes itself before it commits, and
// neither is rolled back as a deadlock's victim.
func TestABuildBesideTheLoadWaitsForIt(t *testing.T) {
	st := storetest.Postgres(t)
	ctx := context.Background()
	names, err := st.DeferIndexes(ctx, loaded...)
	if err != nil {
		t.Fatal(err)
	}
	writing, finish := make(chan struct{}), make(chan struct{})
	release := sync.OnceFunc(func() { close(finish) })
	t.Cleanup(release) // a failure below must not leave the load's transaction open for ever
	type result struct {
		built []string
		err   error
	}
	load := make(chan result, 1)
	go func() {
		var r result
		r.err = st.InTx(ctx, func(ctx context.Context) error {
			if err := st.ClaimDeferredIndexes(ctx); err != nil { // as a catalog apply does before it writes
				return err
			}
			if err := st.DB(ctx).Exec("INSERT INTO relations (entity_id, type, target_ref) VALUES (1, 'ownedBy', 'group:default/a')").Error; err != nil {
				return err
			}
			close(writing)
			<-finish
			var err error
			r.built, err = st.BuildDeferredIndexes(ctx)
			return err
		})
		load <- r
	}()
	<-writing
	other := make(chan result, 1)
	go func() {
		built, err := st.BuildDeferredIndexes(ctx)
		other <- result{built, err}
	}()
	waitForLockWait(t, st)
	release()
	l, o := <-load, <-other
	if l.err != nil || o.err != nil {
		t.Fatalf("the load: %v; the other builder: %v", l.err, o.err)
	}
	if !slices.Equal(sorted(l.built), sorted(names)) || len(o.built) != 0 {
		t.Errorf("the load built %v, the other builder %v; deferred %v", l.built, o.built, names)
	}
}

// waitForLockWait waits until a session of st's database waits for a table's lock.
func waitForLockWait(t *testing.T, st *store.Store) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		err := st.Gorm().Raw(`SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
			WHERE NOT l.granted AND l.locktype IN ('relation', 'transactionid') AND a.datname = current_database()`).Scan(&n).Error
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the second builder never waited for the load")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Readers that keep a table past the wait DeferIndexes allows leave every index in place, and no
// record behind.
func TestDeferringGivesUpOnATableBeingRead(t *testing.T) {
	st := storetest.Postgres(t)
	ctx := context.Background()
	before := indexDefs(t, st)
	reading, done := make(chan struct{}), make(chan struct{})
	readErr := make(chan error, 1)
	go func() {
		readErr <- st.InTx(ctx, func(ctx context.Context) error {
			var n int
			if err := st.DB(ctx).Raw("SELECT count(*) FROM relations").Scan(&n).Error; err != nil {
				return err
			}
			close(reading)
			<-done
			return nil
		})
	}()
	<-reading
	_, err := st.DeferIndexes(ctx, loaded...)
	close(done)
	if err := <-readErr; err != nil {
		t.Fatal(err)
	}
	if !errs.Is(err, errs.Unavailable) {
		t.Fatalf("want UNAVAILABLE while relations is read, got %v", err)
	}
	if after := indexDefs(t, st); len(after) != len(before) {
		t.Errorf("%d indexes before, %d after the refusal", len(before), len(after))
	}
	if pending, err := st.DeferredIndexes(ctx); err != nil || len(pending) != 0 {
		t.Errorf("records left behind: %v, %v", pending, err)
	}
}

// migrate up builds what a failed load left deferred before it migrates further.
func TestMigrateBuildsDeferredIndexes(t *testing.T) {
	st := storetest.Postgres(t)
	ctx := context.Background()
	before := indexDefs(t, st)
	if _, err := st.DeferIndexes(ctx, loaded...); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if after := indexDefs(t, st); len(after) != len(before) {
		t.Errorf("%d indexes before, %d after migrate up", len(before), len(after))
	}
}

func TestSQLiteDefersNothing(t *testing.T) {
	st := storetest.SQLite(t)
	names, err := st.DeferIndexes(context.Background(), loaded...)
	if err != nil || len(names) != 0 {
		t.Fatalf("DeferIndexes on SQLite = %v, %v", names, err)
	}
	if built, err := st.BuildDeferredIndexes(context.Background()); err != nil || len(built) != 0 {
		t.Fatalf("BuildDeferredIndexes on SQLite = %v, %v", built, err)
	}
}

func sorted(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return out
}

package store_test

import (
	"context"
	"slices"
	"strings"
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

func TestDeferredIndexesAreBuiltAgainAsTheyWere(t *testing.T) {
	st := storetest.Postgres(t)
	ctx := context.Background()
	before := indexDefs(t, st)
	names, err := st.DeferIndexes(ctx, loaded...)
	if err != nil {
		t.Fatal(err)
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
	if len(during)+len(names) != len(before) {
		t.Errorf("%d indexes before, %d after deferring %d", len(before), len(during), len(names))
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
	type result struct {
		built []string
		err   error
	}
	load := make(chan result, 1)
	go func() {
		var r result
		r.err = st.InTx(ctx, func(ctx context.Context) error {
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
	close(finish)
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
		err := st.Gorm().Raw(`SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype = 'relation'
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&n).Error
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the second builder never waited for the load's table")
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

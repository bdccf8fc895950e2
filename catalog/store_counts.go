package catalog

import (
	"context"

	"github.com/portside-dev/portside/store"
)

// The counts the database keeps of entities (entity_counts, migration 00019) while an apply
// writes them. Statement triggers on entities keep them on PostgreSQL, one grouped upsert per
// COPY, INSERT or DELETE. An import writes its entities in hundreds of statements, and each one
// upserted much the same count rows again (kind Component, namespace default, every owner seen so
// far): inside one transaction no version of those rows can be pruned before the commit, so each
// upsert walked longer chains (a million-entity import: 756,526 versions of 141,307 rows, 301 s →
// 418 s). So a transaction that writes many entities tells the trigger to stand aside (the
// transaction's setting portside.entity_counts = 'recount', which the trigger reads since
// migration 00020) and counts every entity once, before it commits. Whatever the trigger counted
// before the switch is replaced, so the result does not depend on it. Every other writer,
// including an older release that never sets it, is counted by the trigger as before.
//
// The totals over kinds (entity_totals, migration 00021), which facets over the whole catalog
// read, are on PostgreSQL a table that follows entity_counts through triggers of their own on it,
// whichever release writes the counts (an older release's recount included). This release's
// recount has them stand aside too (portside.entity_totals = 'recount', which only 00021's
// trigger reads) and sums them again from the new counts: following its DELETE and INSERT of
// every count would update every total twice. On SQLite entity_totals is a view summing
// entity_counts: nothing to keep.
//
// SQLite keeps its row triggers (a few cheap upserts per entity written): its imports are small,
// the embedded default being for catalogs that fit in memory, and the bench catalog's 16,851
// entities imported within noise of the time without counts.

// recountFloor is the fewest entity rows (inserted or deleted) a transaction writes before it
// recounts instead of letting the trigger count; it must also write more than 1/recountShare of
// the entities stored before it. A recount groups every entity and tag of the catalog, so it
// costs the same whatever was written: at the 168,501-entity bench catalog (-scale 10), 1.7–2.9 s
// (10–17 µs an entity; a loaded 2-core machine). The trigger costs what the statements wrote, by
// the count rows they touch: 9,000 users updated in a refresh (18,000 rows written) cost it
// 0.04–0.06 s in all, 9,000 components (owners, systems, tags) 0.8–1.0 s, about 50 µs a row;
// and by how many statements came before in the transaction, whose versions of the same count
// rows each upsert walks: the import of that catalog, 107 statements, 6.9 s. So for a refresh
// the recount pays once it writes about a quarter of the catalog's size in component rows (1.7–2.9
// s ÷ 50 µs ≈ 34,000–58,000 rows), and never for users alone; an import into an empty or small
// catalog, the case that hurt, passes the threshold at the floor. The floor keeps a small
// catalog's refreshes on the trigger, which touches only the count rows of what changed, where a
// recount rewrites every count row and leaves a dead version of each to vacuum.
const (
	recountFloor = 10_000
	recountShare = 4
)

// entityCountsSetting is the transaction setting the trigger of migration 00020 reads.
const entityCountsSetting = "portside.entity_counts"

// entityTotalsSetting is the transaction setting the trigger of migration 00021 reads.
const entityTotalsSetting = "portside.entity_totals"

// countKeeping decides how the kept counts follow one transaction's writes of entities: by the
// trigger, statement by statement, until the transaction has written more than the threshold,
// then by one recount before it commits. Used by apply, inside its transaction.
type countKeeping struct {
	s *Service
	// written counts the entity rows the transaction inserted or deleted, or is about to.
	written int
	// threshold is max(recountFloor, stored/recountShare), known once written passed the floor
	// (0 before: the stored entities cost a query).
	threshold int
	// recount is set once the trigger stands aside: finish must recount.
	recount bool
}

func (s *Service) keepCounts() *countKeeping { return &countKeeping{s: s} }

// write tells, before the statements that write them, that the transaction is about to insert
// or delete n entity rows. Once the total passes the threshold on PostgreSQL, the trigger stands
// aside for the rest of the transaction, these rows included.
func (k *countKeeping) write(ctx context.Context, n int) error {
	k.written += n
	if k.recount || k.s.st.Dialect() != store.Postgres || k.written <= k.s.recountFloor {
		return nil
	}
	if k.threshold == 0 {
		stored, err := k.s.storedEntityCount(ctx)
		if err != nil {
			return err
		}
		k.threshold = max(k.s.recountFloor, int(stored/recountShare))
	}
	if k.written <= k.threshold {
		return nil
	}
	if err := k.s.st.DB(ctx).Exec("SET LOCAL " + entityCountsSetting + " = 'recount'").Error; err != nil {
		return store.Translate(err, "entity counts")
	}
	k.recount = true
	return nil
}

// finish recounts, after the transaction's last write of entities and before its commit, if the
// trigger stood aside; then the trigger counts again for whatever the transaction still writes.
func (k *countKeeping) finish(ctx context.Context) error {
	if !k.recount {
		return nil
	}
	if err := k.s.recountEntities(ctx); err != nil {
		return err
	}
	k.recount = false
	if err := k.s.st.DB(ctx).Exec("SET LOCAL " + entityCountsSetting + " = ''").Error; err != nil {
		return store.Translate(err, "entity counts")
	}
	return nil
}

// storedEntityCount is how many entities the catalog held before the caller's transaction
// changed it: the sum of the locations' entity counts, which an apply writes at its end (a few
// rows to read, where counting the entities reads them all).
func (s *Service) storedEntityCount(ctx context.Context) (int64, error) {
	var n int64
	if err := s.st.DB(ctx).Model(&locationRow{}).Select("COALESCE(SUM(entity_count), 0)").Scan(&n).Error; err != nil {
		return 0, store.Translate(err, "locations")
	}
	return n, nil
}

// recountSQL replaces every kept count by a grouped count of the entities and their tags, as
// migration 00019's backfill counted them (a tag counts once per entity: entity_tags holds it
// once; empty values are not counted). The same statement on both dialects.
const recountSQL = `INSERT INTO entity_counts (kind, field, value, entities)
SELECT kind, field, value, count(*) FROM (
    SELECT kind, 'kind' AS field, kind AS value FROM entities
    UNION ALL SELECT kind, 'type', spec_type FROM entities
    UNION ALL SELECT kind, 'lifecycle', lifecycle FROM entities
    UNION ALL SELECT kind, 'owner', owner_ref FROM entities
    UNION ALL SELECT kind, 'namespace', namespace FROM entities
    UNION ALL SELECT kind, 'system', system_ref FROM entities
    UNION ALL SELECT e.kind, 'tag', t.tag FROM entities e JOIN entity_tags t ON t.entity_id = e.id
) AS f WHERE value <> '' GROUP BY kind, field, value`

// totalsSQL sums the kept counts over kinds, as migration 00021's backfill does.
const totalsSQL = `INSERT INTO entity_totals (field, value, entities)
SELECT field, value, sum(entities) FROM entity_counts GROUP BY field, value HAVING sum(entities) <> 0`

// recountEntities counts every entity again, inside the caller's transaction. On PostgreSQL it
// first takes entities in SHARE mode: writers of entities still under way finish first, and new
// ones wait for the commit, so that no change escapes both the recount and the trigger. This
// release's writers all hold the apply lock already; an older release's unregister does not, and
// its trigger's decrement of count rows this recount deleted would otherwise be lost. Readers are
// not held up (they take ACCESS SHARE). The totals over kinds are summed again from the new
// counts, with their trigger standing aside meanwhile (PostgreSQL; SQLite's row triggers follow
// the counts, and it never recounts in an apply).
func (s *Service) recountEntities(ctx context.Context) error {
	db := s.st.DB(ctx)
	pg := s.st.Dialect() == store.Postgres
	if pg {
		if err := db.Exec("LOCK TABLE entities IN SHARE MODE").Error; err != nil {
			return store.Translate(err, "entities")
		}
		if err := db.Exec("SET LOCAL " + entityTotalsSetting + " = 'recount'").Error; err != nil {
			return store.Translate(err, "entity totals")
		}
	}
	if err := db.Exec("DELETE FROM entity_counts").Error; err != nil {
		return store.Translate(err, "entity counts")
	}
	if err := db.Exec(recountSQL).Error; err != nil {
		return store.Translate(err, "entity counts")
	}
	if !pg {
		return nil
	}
	if err := db.Exec("DELETE FROM entity_totals").Error; err != nil {
		return store.Translate(err, "entity totals")
	}
	if err := db.Exec(totalsSQL).Error; err != nil {
		return store.Translate(err, "entity totals")
	}
	if err := db.Exec("SET LOCAL " + entityTotalsSetting + " = ''").Error; err != nil {
		return store.Translate(err, "entity totals")
	}
	return nil
}

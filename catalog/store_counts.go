package catalog

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/portside-dev/portside/store"
)

// The counts the database keeps of entities (entity_counts, migration 00019) while an apply
// writes them. Statement triggers on entities keep them, one grouped upsert per COPY, INSERT or
// DELETE. An import writes its entities in hundreds of statements, and each one upserted much the
// same count rows again (kind Component, namespace default, every owner seen so far): inside one
// transaction no version of those rows can be pruned before the commit, so each upsert walked
// longer chains (a million-entity import: 756,526 versions of 141,307 rows, 301 s → 418 s).
//
// So on PostgreSQL an apply tells the trigger to stand aside (the transaction's setting
// portside.entity_counts = 'recount', which the trigger reads since migration 00020; the value
// is named for the recount this once was) and counts what it writes itself: every entity row it
// inserts adds one to each of its values, every row it deletes (read back with RETURNING) takes
// one away, and before it commits the differences are added to the kept counts in one upsert.
// That costs what the apply wrote, where the grouped recount of the whole catalog it replaces
// cost the catalog's size whatever was written (9 s at a million entities, the import's longest
// step after the index builds), and it needs no lock: differences commute with whatever another
// writer's trigger adds (an older release's unregister, which does not take the apply lock).
// Every other writer, an older release included, is counted by the trigger as before. The rows
// are written in key order, as the totals' triggers write theirs.
//
// The totals over kinds (entity_totals, migration 00021), which facets over the whole catalog
// read, are on PostgreSQL a table that follows entity_counts through triggers of their own on it,
// whichever release writes the counts: they follow the apply's one upsert too. On SQLite
// entity_totals is a view summing entity_counts: nothing to keep.
//
// SQLite keeps its row triggers (a few cheap upserts per entity written): its imports are small,
// the embedded default being for catalogs that fit in memory, and the bench catalog's 16,851
// entities imported within noise of the time without counts.

// entityCountsSetting is the transaction setting the trigger of migration 00020 reads.
const entityCountsSetting = "portside.entity_counts"

// countKey is one kept count: a value of a field among the entities of a kind.
type countKey struct{ field, kind, value string }

// countKeeping counts one apply's writes of entities on PostgreSQL (the trigger counts them on
// SQLite). Used by apply, inside its transaction.
type countKeeping struct {
	s *Service
	// own is set once the trigger stands aside: the apply counts its writes from then on.
	own  bool
	diff map[countKey]int64
}

func (s *Service) keepCounts() *countKeeping { return &countKeeping{s: s} }

// begin is called before each statement that writes entities: on PostgreSQL the first one has
// the trigger stand aside for the rest of the transaction.
func (k *countKeeping) begin(ctx context.Context) error {
	if k.own || k.s.st.Dialect() != store.Postgres {
		return nil
	}
	if err := k.s.st.DB(ctx).Exec("SET LOCAL " + entityCountsSetting + " = 'recount'").Error; err != nil {
		return store.Translate(err, "entity counts")
	}
	k.own, k.diff = true, map[countKey]int64{}
	return nil
}

// add counts an entity row written (by = 1) or deleted (by = -1) as the trigger would: each of
// its fields' values once, each tag once however often it is listed, empty values never.
func (k *countKeeping) add(r *entityRow, by int64) {
	if !k.own {
		return
	}
	for _, f := range [...]struct{ field, value string }{{"kind", r.Kind}, {"type", r.SpecType}, {"lifecycle", r.Lifecycle},
		{"owner", r.OwnerRef}, {"namespace", r.Namespace}, {"system", r.SystemRef}} {
		if f.value != "" {
			k.diff[countKey{f.field, r.Kind, f.value}] += by
		}
	}
	tags := strings.Split(r.Tags, " ")
	for i, t := range tags {
		if t != "" && !slices.Contains(tags[:i], t) {
			k.diff[countKey{"tag", r.Kind, t}] += by
		}
	}
}

// finish adds the apply's differences to the kept counts, after its last write of entities and
// before its commit; then the trigger counts again for whatever the transaction still writes.
func (k *countKeeping) finish(ctx context.Context) error {
	if !k.own {
		return nil
	}
	keys := make([]countKey, 0, len(k.diff))
	for key, n := range k.diff {
		if n != 0 {
			keys = append(keys, key)
		}
	}
	slices.SortFunc(keys, func(a, b countKey) int {
		return cmp.Or(strings.Compare(a.field, b.field), strings.Compare(a.kind, b.kind), strings.Compare(a.value, b.value))
	})
	db := k.s.st.DB(ctx)
	for part := range slices.Chunk(keys, countsChunk) {
		fields, kinds, values, by := make([]string, len(part)), make([]string, len(part)), make([]string, len(part)), make([]int64, len(part))
		for i, key := range part {
			fields[i], kinds[i], values[i], by[i] = key.field, key.kind, key.value, k.diff[key]
		}
		if err := db.Exec(addCountsSQL, fields, kinds, values, by).Error; err != nil {
			return store.Translate(err, "entity counts")
		}
	}
	k.own, k.diff = false, nil
	if err := db.Exec("SET LOCAL " + entityCountsSetting + " = ''").Error; err != nil {
		return store.Translate(err, "entity counts")
	}
	return nil
}

// addCountsSQL adds differences to the kept counts, in the order given (key order).
const addCountsSQL = `INSERT INTO entity_counts AS c (field, kind, value, entities)
SELECT d.field, d.kind, d.value, d.entities
FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) WITH ORDINALITY AS d(field, kind, value, entities, i) ORDER BY d.i
ON CONFLICT (field, kind, value) DO UPDATE SET entities = c.entities + excluded.entities`

// countsChunk bounds the count rows one statement adds (a million-entity import: 141,307 rows,
// three statements): the arrays are held in memory whole on both sides.
const countsChunk = 50_000

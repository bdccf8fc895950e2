package catalog

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
	"gorm.io/gorm"

	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/store"
)

// This file holds the catalog's queries on entities and their relations, tags and annotations:
// reading entities (read.go), writing what a refresh applies (ingest.go), the change counter the
// read cache follows, ownership and memberships (access.go) and planner statistics (stats.go).

// generation reads the catalog's change counter.
func (s *Service) generation(ctx context.Context) (int64, error) {
	var row stateRow
	err := s.st.DB(ctx).Select("generation").Take(&row, "id = ?", 1).Error
	return row.Generation, store.Translate(err, "catalog state")
}

// bumpGeneration records, inside the caller's transaction, that the catalog changed, and tells
// the caches so with it (Service.changed).
func (s *Service) bumpGeneration(ctx context.Context) error {
	now := s.now().UTC()
	err := s.st.DB(ctx).Model(&stateRow{}).Where("id = ?", 1).
		Updates(map[string]any{"generation": gorm.Expr("generation + 1"), "changed_at": now}).Error
	if err != nil {
		return store.Translate(err, "catalog state")
	}
	s.changed(ctx)
	return nil
}

// lockApplies serialises catalog applies across processes, inside the caller's transaction: on
// PostgreSQL one apply at a time, so two locations that bring the same new entity see each other
// (a clash is recorded, not a unique-key failure). SQLite's IMMEDIATE transactions serialise
// writers already.
func (s *Service) lockApplies(ctx context.Context) error {
	if s.st.Dialect() != store.Postgres {
		return nil
	}
	if err := s.st.DB(ctx).Exec("SELECT pg_advisory_xact_lock(" + applyLockKey + ")").Error; err != nil {
		return store.Translate(err, "catalog apply lock")
	}
	return nil
}

// loadedTables are the tables an apply writes rows into.
var loadedTables = []string{"entities", "entity_tags", "entity_annotations", "relations"}

// deferIndexes prepares the first apply into an empty catalog, on PostgreSQL, to build the
// secondary indexes of the tables it writes after loading them (store.DeferIndexes), in a short
// transaction of its own that commits before the apply's: maintained row by row, the fourteen
// indexes were most of a million-entity import's database time (287 s in all; 94 s without them,
// plus about 40 s to build them). The apply's transaction builds them before it commits
// (buildDeferredIndexes). Until then readers of the catalog, which is empty for them, scan the
// tables instead of their indexes. It reports whether it dropped any. Another apply under way,
// a catalog holding entities, or readers that keep the tables for more than a second leave the
// indexes in place; only the last is logged.
func (s *Service) deferIndexes(ctx context.Context) bool {
	if s.st.Dialect() != store.Postgres {
		return false
	}
	var names []string
	err := s.st.InTx(ctx, func(ctx context.Context) error {
		db := s.st.DB(ctx)
		var free bool
		if err := db.Raw("SELECT pg_try_advisory_xact_lock(" + applyLockKey + ")").Scan(&free).Error; err != nil || !free {
			return store.Translate(err, "catalog apply lock")
		}
		var empty bool
		if err := db.Raw("SELECT NOT EXISTS (SELECT 1 FROM entities)").Scan(&empty).Error; err != nil || !empty {
			return store.Translate(err, "entities")
		}
		var err error
		names, err = s.st.DeferIndexes(ctx, loadedTables...)
		return err
	})
	if err != nil {
		s.log.WarnContext(ctx, "catalog: the first import keeps its indexes", "error", err)
		return false
	}
	if len(names) > 0 {
		s.log.InfoContext(ctx, "catalog: first import into an empty catalog: indexes are built after the rows are loaded", "indexes", len(names))
	}
	return len(names) > 0
}

// buildDeferredIndexes builds the indexes deferIndexes dropped, inside the caller's transaction
// when there is one. Every apply calls it, so that indexes an apply deferred and could not build
// (it failed, its process died) are built by the next one at the latest.
func (s *Service) buildDeferredIndexes(ctx context.Context) error {
	start := time.Now()
	built, err := s.st.BuildDeferredIndexes(ctx)
	if len(built) > 0 && err == nil {
		s.log.InfoContext(ctx, "catalog: deferred indexes built", "indexes", len(built), "duration_ms", time.Since(start).Milliseconds())
	}
	return err
}

// buildLeftoverIndexes builds the indexes a first import deferred and never built (its process
// died before it could), unless an apply is under way: that one builds them before it commits.
func (s *Service) buildLeftoverIndexes(ctx context.Context) error {
	if s.st.Dialect() != store.Postgres {
		return nil
	}
	return s.st.InTx(ctx, func(ctx context.Context) error {
		var free bool
		if err := s.st.DB(ctx).Raw("SELECT pg_try_advisory_xact_lock(" + applyLockKey + ")").Scan(&free).Error; err != nil || !free {
			return store.Translate(err, "catalog apply lock")
		}
		return s.buildDeferredIndexes(ctx)
	})
}

// writesWhileParsing says whether an apply writes entities as they are parsed, inside its
// transaction, rather than after collecting them all. On PostgreSQL it always does: readers and
// other writers are not held up by it. SQLite has one writer at a time for the whole database, and
// an apply that writes while it parses holds the write lock while it parses: it does so only when
// the snapshot's reads stay on this machine (ReadsLocally: files on disk, a git checkout), where
// parsing is about as fast as writing and the lock is held hardly longer than the writes alone
// would hold it; a location whose placeholders or Location targets are fetched over the network
// is collected before the write lock is taken, so no fetch ever waits with it held.
func (s *Service) writesWhileParsing(snap Snapshot) bool {
	if s.st.Dialect() == store.Postgres {
		return true
	}
	local, ok := snap.(LocalReader)
	return ok && local.ReadsLocally()
}

// parseWorkers is how many goroutines an apply that writes while it parses parses on. On SQLite
// the writes run in this process, on one goroutine, and they are the longer part: parsing on every
// core beside them had the Go scheduler share the cores among the writer and the parse's
// goroutines, slowing the writer that the apply waits for. The parse leaves it a core (on 2 cores
// the parse is then sequential, and still keeps ahead of the writes). PostgreSQL writes in its own
// process, and the parse keeps every core, as before.
func (s *Service) parseWorkers() int {
	n := runtime.GOMAXPROCS(0)
	if s.st.Dialect() == store.SQLite {
		n = max(1, n-1)
	}
	return n
}

// applyCacheKiB is the page cache an apply's connection has on SQLite. An import inserts into a
// dozen indexes at once, at keys all over each; with SQLite's default of 2 MB the cache kept
// evicting index pages and spilling dirty ones to the WAL inside the transaction (the import of
// the 16,851-entity catalog spent a sixth of its time in SQLite's cache-stress path). 8 MB saved
// about 1.2 s of its 7.5 s of CPU for 8 MB more resident (16 MB saved no more).
const applyCacheKiB = 8 << 10

// widenCache gives the caller's transaction a page cache of applyCacheKiB on SQLite, until
// restore, which the caller runs before the transaction ends, so the connection goes back to the
// pool as it was.
func (s *Service) widenCache(ctx context.Context) (restore func(), err error) {
	noop := func() {}
	if s.st.Dialect() != store.SQLite {
		return noop, nil
	}
	db := s.st.DB(ctx)
	var old int64
	if err := db.Raw("PRAGMA cache_size").Scan(&old).Error; err != nil {
		return noop, store.Translate(err, "page cache size")
	}
	if old <= -applyCacheKiB { // a DSN's own larger cache stays
		return noop, nil
	}
	if err := db.Exec("PRAGMA cache_size = " + strconv.Itoa(-applyCacheKiB)).Error; err != nil {
		return noop, store.Translate(err, "page cache size")
	}
	return func() { _ = db.Exec("PRAGMA cache_size = " + strconv.FormatInt(old, 10)).Error }, nil
}

// storedEntities returns what apply needs to know of the entities a location provides.
func (s *Service) storedEntities(ctx context.Context, locationID int64) ([]existingEntity, error) {
	var existing []existingEntity
	if err := s.st.DB(ctx).Model(&entityRow{}).Select("id, ref, hash, source, created_at").
		Where("location_id = ?", locationID).Scan(&existing).Error; err != nil {
		return nil, store.Translate(err, "entities")
	}
	return existing, nil
}

// applyLockKey is the key of the PostgreSQL advisory lock that serialises catalog applies, as SQL:
// advisory locks are per database, not per schema, so each schema's catalog has a key of its own
// (a hash of the schema's name), and the default schema keeps the key every release before used
// (7007_0001), so that applies of an older release and of this one still take turns during a
// rolling upgrade there. With one key for every schema, an import in one schema found the lock
// taken by another schema's apply and kept its indexes in place (tests in schemas of their own,
// two packages at once). An installation in another schema upgrading from a release before this
// one has its old and new replicas' applies run side by side until the old ones are gone: a clash
// of two locations between them then fails one apply on the unique ref instead of being recorded.
const applyLockKey = "CASE WHEN current_schema() = 'public' THEN 70070001 ELSE hashtextextended(current_schema(), 70070001) END"

// pendingEntity is an entity to insert, with its JSON document.
type pendingEntity struct {
	e    *backstage.Entity
	body string
}

// existingEntity is what apply needs to know of an entity already stored for the location.
type existingEntity struct {
	ID        int64
	Ref       string
	Hash      string
	Source    string
	CreatedAt time.Time
	// wanted is set when the location still provides the entity (apply's bookkeeping).
	wanted bool
}

// otherLocationsHoldEntities reports whether any location but locationID holds entities: one
// probe of the entities' location index per other location.
func (s *Service) otherLocationsHoldEntities(ctx context.Context, locationID int64) (bool, error) {
	var held bool
	err := s.st.DB(ctx).Raw(`SELECT EXISTS (SELECT 1 FROM locations l WHERE l.id <> ? AND EXISTS (SELECT 1 FROM entities e WHERE e.location_id = l.id))`,
		locationID).Scan(&held).Error
	return held, store.Translate(err, "entities")
}

// clashes finds refs this location wants that another location already provides, with a
// description of that location for the message.
func (s *Service) clashes(ctx context.Context, locationID int64, entities []*backstage.Entity, have map[string]*existingEntity) (map[string]string, error) {
	var fresh []string
	for _, e := range entities {
		if _, ok := have[e.Ref.String()]; !ok {
			fresh = append(fresh, e.Ref.String())
		}
	}
	out := map[string]string{}
	for part := range slices.Chunk(fresh, chunk) {
		var rows []struct {
			Ref    string
			ID     int64
			Type   string
			Target string
		}
		err := s.st.DB(ctx).Table("entities AS e").Select("e.ref, l.id, l.type, l.target").
			Joins("JOIN locations l ON l.id = e.location_id").
			Where("e.ref IN ? AND e.location_id <> ?", part, locationID).Scan(&rows).Error
		if err != nil {
			return nil, store.Translate(err, "entities")
		}
		for _, r := range rows {
			out[r.Ref] = fmt.Sprintf("location %d, %s:%s", r.ID, r.Type, r.Target)
		}
	}
	return out, nil
}

// deleteEntities deletes entities by id; counts, when it counts them, is told each one's values.
func (s *Service) deleteEntities(ctx context.Context, ids []int64, counts *countKeeping) error {
	if len(ids) == 0 {
		return nil
	}
	if err := counts.begin(ctx); err != nil {
		return err
	}
	for part := range slices.Chunk(ids, chunk) {
		if !counts.own {
			if err := s.st.DB(ctx).Where("id IN ?", part).Delete(&entityRow{}).Error; err != nil {
				return store.Translate(err, "entities")
			}
			continue
		}
		var gone []entityRow
		err := s.st.DB(ctx).Raw("DELETE FROM entities WHERE id IN ? RETURNING kind, spec_type, lifecycle, owner_ref, namespace, system_ref, tags, search_text", part).
			Scan(&gone).Error
		if err != nil {
			return store.Translate(err, "entities")
		}
		for i := range gone {
			counts.add(&gone[i], -1)
		}
	}
	return nil
}

// entityColumns are the columns insertEntities writes, in the order of its arguments.
var entityColumns = []string{"ref", "kind", "namespace", "name", "title", "description", "spec_type", "lifecycle",
	"owner_ref", "system_ref", "tags", "search_text", "body", "hash", "location_id", "source", "created_at", "updated_at"}

// insertEntities writes entities and their tags, annotations and relations in batches. It takes
// the entities' bodies over: each is dropped once its batch is built.
func (s *Service) insertEntities(ctx context.Context, locationID int64, entities []pendingEntity, now time.Time, counts *countKeeping) error {
	if len(entities) == 0 {
		return nil
	}
	if err := counts.begin(ctx); err != nil {
		return err
	}
	// Rows are made batch by batch as the insert asks for them, not all up front: their search
	// texts and joined fields would otherwise double what a large import holds at its peak.
	ids := make([]int64, len(entities))
	for _, p := range entities {
		p.e.LocationID = locationID
	}
	// rowArgs appends entity i's columns (entityColumns) and drops its document: the batch's
	// arguments hold it until written, so a large import sheds its documents as it goes.
	rowArgs := func(i int, args []any) []any {
		e := entities[i].e
		r := newEntityRow(e, entities[i].body)
		entities[i].body = ""
		counts.add(&r, 1)
		return append(args, r.Ref, r.Kind, r.Namespace, r.Name, r.Title, r.Description, r.SpecType, r.Lifecycle,
			r.OwnerRef, r.SystemRef, r.Tags, r.SearchText, r.Body, r.Hash, r.LocationID, r.Source, e.CreatedAt, now)
	}
	if s.st.Copies(ctx) {
		// COPY returns no keys: the ids are taken from the sequence first and copied with the rows.
		reserved, err := s.st.ReserveIDs(ctx, "entities", len(entities))
		if err != nil {
			return err
		}
		copy(ids, reserved)
		err = s.st.CopyRows(ctx, "entities", append([]string{"id"}, entityColumns...), len(entities), func(i int, args []any) []any {
			return rowArgs(i, append(args, ids[i]))
		})
		if err != nil {
			return err
		}
	} else {
		index := make(map[string]int, len(entities))
		for i, p := range entities {
			index[p.e.Ref.String()] = i
		}
		err := s.st.InsertReturning(ctx, "entities", entityColumns, len(entities), rowArgs, "id, ref", func(res *sql.Rows) error {
			var id int64
			var ref string
			if err := res.Scan(&id, &ref); err != nil {
				return err
			}
			ids[index[ref]] = id
			return nil
		})
		if err != nil {
			return err
		}
	}
	type child struct {
		id      int64
		a, b, c string
	}
	var tags, annotations, relations []child
	for i, p := range entities {
		e, id := p.e, ids[i]
		ref := e.Ref.String()
		for i, t := range e.Metadata.Tags {
			if !slices.Contains(e.Metadata.Tags[:i], t) { // a tag listed twice is stored once
				tags = append(tags, child{id, t, "", ""})
			}
		}
		for k, v := range e.Metadata.Annotations {
			annotations = append(annotations, child{id, k, v, ""})
		}
		for _, r := range e.Relations { // de-duplicated by the parser
			relations = append(relations, child{id, r.Type, r.Target.String(), ref})
		}
	}
	insert := func(table string, columns []string, list []child) error {
		return s.st.CopyRows(ctx, table, columns, len(list), func(i int, args []any) []any {
			c := list[i]
			switch len(columns) {
			case 2:
				return append(args, c.id, c.a)
			case 3:
				return append(args, c.id, c.a, c.b)
			}
			return append(args, c.id, c.a, c.b, c.c)
		})
	}
	if err := insert("entity_tags", []string{"entity_id", "tag"}, tags); err != nil {
		return err
	}
	if err := insert("entity_annotations", []string{"entity_id", "key", "value"}, annotations); err != nil {
		return err
	}
	// source_ref, the declaring entity's ref, orders the relations that name an entity
	// (loadEntities reads the first of each type from relations_target_source).
	return insert("relations", []string{"entity_id", "type", "target_ref", "source_ref"}, relations)
}

// RelationsOfTypeMax is how many relations of one type that entities of one kind declare naming
// an entity (a group's ownerOf, from its components' ownedBy) the entity is read with: the first
// by the declaring entity's ref. It is the most a relation list of the GraphQL API may ask for,
// and lists of one kind (a system's components, after its APIs in relation order) have as many.
// The relations an entity declares itself are read whole, as its document is.
const RelationsOfTypeMax = 1000

// loadEntities reads entities with the relations that start at them: those they declare, and the
// inverse of those that name them (a group's ownerOf from its components' ownedBy), at most
// RelationsOfTypeMax of each type and kind. One statement, whatever the number of refs (and one
// more for each entity named by more than that, below): each entity's row with its relations of
// either direction gathered into two JSON arrays by correlated subqueries,
// each an index scan of the relations table (entity_id; target_ref, type, source_ref). A second
// statement for the relations was a round trip as costly to the server as the rest of the read
// (an entity by ref, every cache off). Joins in the outer query, as before that (a UNION ALL of
// both directions), let PostgreSQL, without statistics after a bulk import, hash the whole
// entities table, and with them start parallel workers, to read a few hundred rows; a correlated
// subquery has no such plan. The rows are scanned by hand: gorm's reflective Scan cost a tenth of
// the server's time.
//
// The relations naming an entity are read in the index's order and the walk stops after
// RelationsOfTypeMax+1 of them: more than that is rare (an owner of a thousand entities), and
// only then may a type or kind be cut short. Such entities' relations are read again a type and
// kind at a time (namedByType). Read whole, every declaring entity fetched to learn its ref, a group owning
// 241,000 entities took 1.8 s.
func (s *Service) loadEntities(ctx context.Context, refs []string) ([]*backstage.Entity, error) {
	out, _, err := s.loadEntitiesWith(ctx, refs, nil, true)
	return out, err
}

// targetsMax bounds the targets loadEntitiesWith reads summaries of: an entity declares one owner
// and at most two things it is part of (a component's system and parent component: its spec's
// fields), so more is a catalog no processor writes, and its targets are read apart as before.
const targetsMax = 16

// loadEntitiesWith is loadEntities that also reads, with targetTypes, the summaries
// (pageKey.summary) of the entities that the loaded entities' own relations of those types
// target, by the same statement: a UNION ALL of the entities' rows and their targets' rows, told
// apart by a column of their own. It returns them keyed by ref (those that exist), or nil where
// they are not every target of those types the entities' relations name (one named by another
// entity's declaration, which the statement does not follow, or more than targetsMax). It is
// meant for one ref (EntityByInputWithTargets): the refs are bound twice, once per branch.
//
// Without document, each entity is its summary with its relations: its row's summary columns
// are read instead of its document, which is neither sent nor decoded (no apiVersion, spec,
// labels, annotations or links; see EntityByInputWithTargets).
func (s *Service) loadEntitiesWith(ctx context.Context, refs []string, targetTypes []string, document bool) ([]*backstage.Entity, map[backstage.Ref]*backstage.Entity, error) {
	targeted := len(targetTypes) > 0
	args := []any{refs}
	if targeted {
		args = append(args, refs, targetTypes)
	}
	rows, err := s.st.DB(ctx).Raw(entityStatements[b2i(s.st.Dialect() == store.SQLite)][b2i(targeted)][b2i(document)], args...).Rows()
	if err != nil {
		return nil, nil, store.Translate(err, "entities")
	}
	defer rows.Close()
	var out []*backstage.Entity
	var cut []int // entities whose relations from others were cut short
	var mine, theirs [][]relationPair
	var targets map[backstage.Ref]*backstage.Entity
	if targeted {
		targets = map[backstage.Ref]*backstage.Entity{}
	}
	for rows.Next() {
		var r entityRow
		var body, declared, named []byte
		dest := []any{&r.Ref, &r.Kind, &r.SpecType, &r.Lifecycle, &r.OwnerRef, &r.SystemRef, &body,
			&r.Hash, &r.LocationID, &r.Source, &r.CreatedAt, &r.UpdatedAt, &declared, &named}
		var target int64
		if targeted || !document {
			dest = append(dest, &r.Name, &r.Namespace, &r.Title, &r.Description, &r.Tags, &target)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, nil, store.Translate(err, "entities")
		}
		var e *backstage.Entity
		if target == 1 || !document {
			k := pageKey{Ref: r.Ref, Name: r.Name, Kind: r.Kind, UpdatedAt: r.UpdatedAt, Namespace: r.Namespace, Title: r.Title,
				Description: r.Description, SpecType: r.SpecType, Lifecycle: r.Lifecycle, OwnerRef: r.OwnerRef,
				SystemRef: r.SystemRef, Tags: r.Tags, Source: r.Source, CreatedAt: r.CreatedAt}
			e = k.summary()
			if target == 1 {
				targets[e.Ref] = e
				continue
			}
		} else if e, err = r.toEntity(body); err != nil {
			return nil, nil, errs.Wrap(errs.Internal, err, "catalog: decode stored entity %s", r.Ref)
		}
		m, err := decodePairs(declared)
		if err != nil {
			return nil, nil, errs.Wrap(errs.Internal, err, "catalog: read the relations of %s", r.Ref)
		}
		t, err := decodePairs(named)
		if err != nil {
			return nil, nil, errs.Wrap(errs.Internal, err, "catalog: read the relations of %s", r.Ref)
		}
		if len(t) > RelationsOfTypeMax {
			cut = append(cut, len(out))
		}
		out, mine, theirs = append(out, e), append(mine, m), append(theirs, t)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, store.Translate(err, "entities")
	}
	rows.Close()
	for _, i := range cut {
		if theirs[i], err = s.namedByType(ctx, out[i].Ref.String()); err != nil {
			return nil, nil, err
		}
	}
	for i, e := range out {
		e.Relations = joinRelations(mine[i], theirs[i])
	}
	if targets != nil && !targetsComplete(out, mine, targetTypes) {
		targets = nil
	}
	return out, targets, nil
}

// entityStatements are loadEntitiesWith's statements, built once, indexed by dialect (SQLite or
// not), with targets or not, and with the document or the summary's columns: each was written
// out again by every entity read (2.6 % of an entity by ref's allocations).
var entityStatements = func() (all [2][2][2]string) {
	for _, sqlite := range []bool{false, true} {
		for _, targets := range []bool{false, true} {
			for _, document := range []bool{false, true} {
				all[b2i(sqlite)][b2i(targets)][b2i(document)] = entityStatement(sqlite, targets, document)
			}
		}
	}
	return all
}()

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// entityStatement is the statement of loadEntitiesWith for a dialect, with targets or not, and
// with the entities' documents or their summaries' columns.
func entityStatement(sqlite, targets, document bool) string {
	pair, agg := "json_build_array", "json_agg"
	if sqlite {
		pair, agg = "json_array", "json_group_array"
	}
	body := "e.body"
	if !document {
		body = "NULL"
	}
	query := `SELECT e.ref, e.kind, e.spec_type, e.lifecycle, e.owner_ref, e.system_ref, ` + body + `,
		e.hash, e.location_id, e.source, e.created_at, e.updated_at,
		(SELECT ` + agg + `(` + pair + `(r.type, r.target_ref)) FROM relations r WHERE r.entity_id = e.id) AS declared,
		(SELECT ` + agg + `(` + pair + `(n.type, n.source_ref)) FROM (SELECT r.type, r.source_ref FROM relations r
			WHERE r.target_ref = e.ref ORDER BY r.type, r.source_ref LIMIT ` + strconv.Itoa(RelationsOfTypeMax+1) + `) n) AS named`
	switch {
	case !document:
		query += `, e.name, e.namespace, e.title, e.description, e.tags, 0 AS target`
	case targets:
		// The targets' rows carry their summary's columns where the entities' rows carry
		// their document and relations (empty on the other side); the last column, target, is
		// 0 on the entities' rows and 1 on their targets'.
		query += `, '' AS name, '' AS namespace, '' AS title, '' AS description, '' AS tags, 0 AS target`
	}
	query += ` FROM entities e WHERE e.ref IN ?`
	if targets {
		query += `
		UNION ALL
		SELECT t.ref, t.kind, t.spec_type, t.lifecycle, t.owner_ref, t.system_ref, NULL, '', 0, t.source, t.created_at, t.updated_at,
			NULL, NULL, t.name, t.namespace, t.title, t.description, t.tags, 1
		FROM entities t WHERE t.ref IN (SELECT DISTINCT r.target_ref FROM relations r JOIN entities d ON d.id = r.entity_id
			WHERE d.ref IN ? AND r.type IN ? ORDER BY r.target_ref LIMIT ` + strconv.Itoa(targetsMax+1) + `)`
	}
	return query
}

// targetsComplete says whether the targets loadEntitiesWith read for targetTypes are every target of
// those types the entities' relations name: each of them is one an entity declares (mine, its
// relations as read), and there are at most targetsMax of them.
func targetsComplete(entities []*backstage.Entity, mine [][]relationPair, targetTypes []string) bool {
	declared := map[string]bool{}
	for _, pairs := range mine {
		for _, p := range pairs {
			if slices.Contains(targetTypes, p[0]) {
				declared[p[1]] = true
			}
		}
	}
	if len(declared) > targetsMax {
		return false
	}
	for _, e := range entities {
		for _, t := range targetTypes {
			for _, r := range e.RelationsOfType(t) {
				if !declared[r.String()] {
					return false
				}
			}
		}
	}
	return true
}

// relationPair is a relation as loadEntities reads it: its type and the ref at its other end
// (the target of one the entity declares, the declaring entity of one that names it).
type relationPair [2]string

// namedByType reads the relations naming ref, at most RelationsOfTypeMax of each type that has
// an inverse (the others are not shown from the target's side) and each kind of declaring
// entity, each the first by declaring ref: one ordered, limited walk of relations_target_source
// per type and kind (its refs are those starting "kind:"), in one statement.
func (s *Service) namedByType(ctx context.Context, ref string) ([]relationPair, error) {
	var q strings.Builder
	var args []any
	for _, t := range backstage.InverseRelationTypes() {
		for _, k := range backstage.Kinds {
			if len(args) > 0 {
				q.WriteString(" UNION ALL ")
			}
			fmt.Fprintf(&q, "SELECT * FROM (SELECT type, source_ref FROM relations WHERE target_ref = ? AND type = ? "+
				"AND source_ref >= ? AND source_ref < ? ORDER BY source_ref LIMIT %d) AS t%d", RelationsOfTypeMax, len(args))
			kind := strings.ToLower(k)
			args = append(args, ref, t, kind+":", kind+";") // ';' follows ':'
		}
	}
	rows, err := s.st.DB(ctx).Raw(q.String(), args...).Rows()
	if err != nil {
		return nil, store.Translate(err, "relations")
	}
	defer rows.Close()
	var out []relationPair
	for rows.Next() {
		var p relationPair
		var source sql.NullString // NULL only in a row written by hand with the trigger off
		if err := rows.Scan(&p[0], &source); err != nil {
			return nil, store.Translate(err, "relations")
		}
		p[1] = source.String
		out = append(out, p)
	}
	return out, store.Translate(rows.Err(), "relations")
}

// decodePairs reads one of loadEntities' JSON arrays of [type, ref] pairs; NULL (PostgreSQL's
// json_agg of no rows) is none.
func decodePairs(data []byte) ([]relationPair, error) {
	if len(data) == 0 {
		return nil, nil
	}
	var out []relationPair
	err := json.Unmarshal(data, &out)
	return out, err
}

// joinRelations are an entity's relations from the pairs loadEntities read: those it declares as
// they are, and the inverse of those other entities declare naming it, sorted; nil when it has
// none.
func joinRelations(mine, theirs []relationPair) []backstage.Relation {
	if len(mine)+len(theirs) == 0 {
		return nil
	}
	list := make([]backstage.Relation, 0, len(mine)+len(theirs))
	for _, p := range mine {
		list = append(list, backstage.Relation{Type: p[0], Target: refOrZero(p[1])})
	}
	for _, p := range theirs {
		if typ := backstage.Inverse(p[0]); typ != "" {
			list = append(list, backstage.Relation{Type: typ, Target: refOrZero(p[1])})
		}
	}
	return backstage.SortRelations(list)
}

// analysisLimit is the rows SQLite's ANALYZE reads of each index (PRAGMA analysis_limit; the
// value SQLite's own PRAGMA optimize uses): a sample instead of every row. At the 16,851-entity
// catalog's dozen indexes, 130,000 relations and FTS, a full ANALYZE took 1.1 s of the import;
// the plans of the reads the API serves are those full statistics give
// (TestSampledStatisticsChooseThePlansFullOnesDo).
const analysisLimit = 400

// Analyze gathers the planner statistics of the catalog's tables. Refreshes that change much of
// the catalog call it themselves. On SQLite each index is sampled (analysisLimit). On PostgreSQL
// the tables are vacuumed as well (vacuumed), on two connections at a time: each VACUUM keeps
// one core busy, and the largest, entities, took as long as the others together (a million
// entities: 2.7 s against 1.7 s for relations and 1.3 s for the rest).
func (s *Service) Analyze(ctx context.Context) error {
	if s.st.Dialect() == store.Postgres {
		return s.vacuum(ctx)
	}
	return s.st.DB(ctx).Connection(func(db *gorm.DB) error { // the pragma is the connection's
		if err := db.Exec("PRAGMA analysis_limit = " + strconv.Itoa(analysisLimit)).Error; err != nil {
			return store.Translate(err, "statistics sample")
		}
		defer db.Exec("PRAGMA analysis_limit = 0")
		for _, t := range analyzedTables {
			if err := db.Exec("ANALYZE " + t).Error; err != nil {
				return store.Translate(err, "statistics of "+t)
			}
		}
		return nil
	})
}

// vacuumed are what Analyze vacuums on PostgreSQL, the largest first, each with why.
//
// A text search's page walks entities_name_search without reading the heap (searchIndexPage), an
// entity's relations from others are read from relations_target_source alone (their declaring
// refs, in list order), a tag's entities from entity_tags_tag and an annotation's count from
// entity_annotations_key_value, only where the visibility map says a page's rows are visible to
// all: VACUUM marks them, ANALYZE does not, and the rows an import wrote are unmarked until it
// runs. At a million entities, the entities 1.8 s where ANALYZE alone took 1.4; at 241,004 the
// relations (1.9 million) 0.6 s, after which a group named by 221,002 of them was read in 85 ms
// instead of 330; the tags and annotations 0.4 s.
//
// The kept counts (entity_counts) are a few thousand rows that an import updated once per COPY,
// in one transaction: a million-entity import left 756,526 versions of its 141,307 rows, and the
// whole catalog's owner facet read them all (477 ms; vacuumed, 120 ms). VACUUM (outside a
// transaction, as here) drops them; autovacuum would, later. Their totals over kinds
// (entity_totals, kept by triggers on entity_counts) take a version per statement that changed a
// value's count; the shape counts, the tag counts (a million entities: 2.9 million rows), the
// shape refs, their rollups and the prefix counts (17,454 rows, which a text search reads its words' counts
// from in index order) one per apply.
var vacuumed = append(slices.Clone(analyzedTables), "entity_counts, entity_totals, entity_shape_counts, entity_tag_counts, entity_shape_refs, entity_shape_ref_rollups, entity_prefix_counts")

// vacuumConnections is how many VACUUMs Analyze runs at once on PostgreSQL.
const vacuumConnections = 2

func (s *Service) vacuum(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(vacuumConnections)
	for _, t := range vacuumed {
		g.Go(func() error {
			return store.Translate(s.st.DB(gctx).Exec("VACUUM (ANALYZE) "+t).Error, "statistics of "+t)
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	s.warnUnmarked(ctx)
	return nil
}

// unmarkedPagesMin is the size, in pages, from which warnUnmarked looks at a table: below it an
// unmarked page costs a heap read too few to matter.
var unmarkedPagesMin int64 = 1000

// warnUnmarked logs a warning for each table VACUUM left mostly unmarked in the visibility map
// (past a thousand pages): a transaction whose snapshot is older than the rows just written (a
// long report, a backup, a session idle in a transaction) keeps it from marking them, and every
// index-only read of them reads the heap until a VACUUM runs again (autovacuum's, or by hand).
func (s *Service) warnUnmarked(ctx context.Context) {
	var tables []struct {
		Name            string
		Pages, Unmarked int64
	}
	err := s.st.DB(ctx).Raw(`SELECT relname AS name, relpages AS pages, relpages - relallvisible AS unmarked
		FROM pg_class WHERE relname IN ? AND relkind = 'r' AND relnamespace = current_schema()::regnamespace`, analyzedTables).Scan(&tables).Error
	if err != nil {
		s.log.WarnContext(ctx, "catalog: read the visibility map's counts", "error", err)
		return
	}
	for _, t := range tables {
		if t.Pages > unmarkedPagesMin && t.Unmarked*2 > t.Pages {
			s.log.WarnContext(ctx, "catalog: VACUUM left most of a table's pages unmarked: an older transaction was open; reads of it stay slower until it is vacuumed again (VACUUM "+t.Name+")",
				"table", t.Name, "pages", t.Pages, "unmarked", t.Unmarked)
		}
	}
}

// usersNamed returns the User entity named username in the default namespace, if any.
func (s *Service) usersNamed(ctx context.Context, username string) ([]string, error) {
	return s.users(ctx, "ref = ?", "user:default/"+strings.ToLower(username))
}

// usersWithEmail returns (at most two of) the User entities whose spec.profile.email is email,
// whatever its case.
func (s *Service) usersWithEmail(ctx context.Context, email string) ([]string, error) {
	expr := "json_extract(body, '$.spec.profile.email')"
	if s.st.Dialect() == store.Postgres {
		expr = "(body::jsonb -> 'spec' -> 'profile' ->> 'email')"
	}
	return s.users(ctx, "lower("+expr+") = ?", strings.ToLower(email))
}

// users returns (at most two of) the User entities that match a condition, by ref.
func (s *Service) users(ctx context.Context, cond string, arg any) ([]string, error) {
	var refs []string
	err := s.st.DB(ctx).Model(&entityRow{}).Where("kind = ?", "User").Where(cond, arg).
		Order("ref").Limit(2).Pluck("ref", &refs).Error
	if err != nil {
		return nil, store.Translate(err, "users")
	}
	return refs, nil
}

// groupsOfUser returns the groups the catalog makes a User entity a member of: those it names
// (memberOf) and those that name it (hasMember, from spec.members).
func (s *Service) groupsOfUser(ctx context.Context, userRef string) ([]string, error) {
	var groups []string
	err := s.st.DB(ctx).Raw(
		"SELECT r.target_ref FROM entities u JOIN relations r ON r.entity_id = u.id WHERE u.ref = ? AND r.type = ? "+
			"UNION SELECT g.ref FROM relations r JOIN entities g ON g.id = r.entity_id WHERE r.target_ref = ? AND r.type = ?",
		userRef, backstage.RelMemberOf, userRef, backstage.RelHasMember).Scan(&groups).Error
	if err != nil {
		return nil, store.Translate(err, "memberships")
	}
	return groups, nil
}

// anyOwnedBy reports whether at least one entity whose column holds value is owned by userRef
// (when not "") or by one of groups or a group below them.
func (s *Service) anyOwnedBy(ctx context.Context, column string, value any, userRef string, groups []string) (bool, error) {
	db := s.st.DB(ctx).Model(&entityRow{}).Where(column+" = ?", value)
	switch {
	case len(groups) > 0 && userRef != "":
		below, args := s.descendants(groups)
		db = db.Where("owner_ref = ? OR owner_ref IN ("+below+")", append([]any{userRef}, args...)...)
	case len(groups) > 0:
		below, args := s.descendants(groups)
		db = db.Where("owner_ref IN ("+below+")", args...)
	case userRef != "":
		db = db.Where("owner_ref = ?", userRef)
	default:
		return false, nil
	}
	var id int64
	err := db.Select("id").Limit(1).Scan(&id).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return false, store.Translate(err, "ownership")
	}
	return id != 0, nil
}

// usersMatching returns (at most limit of) the User entities whose name, title, display name or
// e-mail is text (already lower case), by ref.
func (s *Service) usersMatching(ctx context.Context, text string, limit int) ([]string, error) {
	display, email := "json_extract(body, '$.spec.profile.displayName')", "json_extract(body, '$.spec.profile.email')"
	if s.st.Dialect() == store.Postgres {
		display, email = "(body::jsonb -> 'spec' -> 'profile' ->> 'displayName')", "(body::jsonb -> 'spec' -> 'profile' ->> 'email')"
	}
	var refs []string
	err := s.st.DB(ctx).Model(&entityRow{}).Where("kind = ?", "User").
		Where("lower(name) = ? OR lower(title) = ? OR lower("+display+") = ? OR lower("+email+") = ?", text, text, text, text).
		Order("ref").Limit(limit).Pluck("ref", &refs).Error
	if err != nil {
		return nil, store.Translate(err, "users")
	}
	return refs, nil
}

// groupBelow reports whether group is one of groups or a group below one of them.
func (s *Service) groupBelow(ctx context.Context, group string, groups []string) (bool, error) {
	for _, g := range groups {
		if strings.EqualFold(g, group) {
			return true, nil
		}
	}
	below, args := s.descendants(groups)
	var id int64
	err := s.st.DB(ctx).Model(&entityRow{}).Where("ref = ?", group).
		Where("ref IN ("+below+")", args...).
		Select("id").Limit(1).Scan(&id).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return false, store.Translate(err, "group membership")
	}
	return id != 0, nil
}

// groupsBelow returns those of candidates that are one of groups or a group below one of them
// (groupBelow for many candidates), in one statement.
func (s *Service) groupsBelow(ctx context.Context, candidates, groups []string) ([]string, error) {
	below, args := s.descendants(groups)
	var refs []string
	err := s.st.DB(ctx).Model(&entityRow{}).Where("ref IN ?", candidates).
		Where("ref IN ("+below+")", args...).
		Pluck("ref", &refs).Error
	if err != nil {
		return nil, store.Translate(err, "group membership")
	}
	return refs, nil
}

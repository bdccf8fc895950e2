package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/portside-dev/portside/errs"
)

// deferredTable keeps the definitions of the indexes DeferIndexes dropped until
// BuildDeferredIndexes builds them again (migration 00024, PostgreSQL only).
const deferredTable = "deferred_indexes"

// buildMemory is the least maintenance_work_mem an index build runs with. PostgreSQL's default,
// 64 MB, sorts the keys of a million entities' indexes on disk; with 256 MB the builds of a
// million-entity catalog's fourteen secondary indexes took about 40 s on 2 cores (each B-tree
// with the server's parallel maintenance workers). A larger server setting is kept.
const buildMemory = 256 << 20

// deferLockWait bounds how long DeferIndexes waits for the tables' readers to let go: its DROP
// INDEX needs each table alone, and while it waits every new reader queues behind it.
const deferLockWait = "1s"

// DeferIndexes drops the indexes of tables that are neither a primary key nor a constraint's,
// and their foreign keys, recording each one's definition, and returns their names, so that a
// bulk load into those tables maintains only their primary keys, and the others are built once,
// from sorted keys, by BuildDeferredIndexes. A foreign key checks each row as it is written, a
// query and a row lock in a trigger per row (entities' key to its location: a tenth of the
// database's time copying a million entities); added again, it checks every row in one join. A unique index is among them (entities' ref: maintaining it row by row in
// random order took half of what copying the entities cost the database): its build checks every
// row at once, so a duplicate the load wrote fails the build, and the load's transaction with it.
// PostgreSQL only; elsewhere it drops nothing.
//
// It joins ctx's transaction, which the caller commits before the load starts: a DROP INDEX holds
// its table against readers until its transaction ends, and the load's transaction may last
// minutes. Readers of the tables meanwhile get sequential scans. The caller must see that the
// indexes are built again: the load's transaction calls BuildDeferredIndexes before it commits,
// and any later call does, after a failure or a crash (an apply, a start of serve, migrate up).
// When a table is being read for longer than a second, nothing is dropped and the error has code
// Unavailable.
func (s *Store) DeferIndexes(ctx context.Context, tables ...string) ([]string, error) {
	if s.dialect != Postgres {
		return nil, nil
	}
	var names []string
	err := s.InTx(ctx, func(ctx context.Context) error {
		db := s.DB(ctx)
		if err := db.Exec("SET LOCAL lock_timeout = '" + deferLockWait + "'").Error; err != nil {
			return s.translate(err, "deferred indexes")
		}
		for _, table := range tables {
			var found []struct{ Name, Definition string }
			err := db.Raw(`SELECT i.relname AS name, pg_get_indexdef(i.oid) AS definition
				FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
				WHERE x.indrelid = to_regclass(?) AND NOT x.indisprimary
				AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
				ORDER BY i.relname`, table).Scan(&found).Error
			if err != nil {
				return s.translate(err, "indexes of "+table)
			}
			for _, ix := range found {
				err := db.Exec("INSERT INTO "+deferredTable+" (name, table_name, definition) VALUES (?, ?, ?)",
					ix.Name, table, ix.Definition).Error
				if err != nil {
					return s.translate(err, "deferred indexes")
				}
				if err := db.Exec("DROP INDEX " + pgx.Identifier{ix.Name}.Sanitize()).Error; err != nil {
					if IsLockNotAvailable(err) {
						return errs.E(errs.Unavailable, "defer the indexes of %s: the table is being read (waited %s for it)", table, deferLockWait)
					}
					return s.translate(err, "index "+ix.Name)
				}
				names = append(names, ix.Name)
			}
			var keys []struct{ Name, Definition string }
			err = db.Raw(`SELECT conname AS name, pg_get_constraintdef(oid) AS definition
				FROM pg_constraint WHERE conrelid = to_regclass(?) AND contype = 'f' ORDER BY conname`, table).Scan(&keys).Error
			if err != nil {
				return s.translate(err, "foreign keys of "+table)
			}
			for _, key := range keys {
				alter := "ALTER TABLE " + pgx.Identifier{table}.Sanitize()
				err := db.Exec("INSERT INTO "+deferredTable+" (name, table_name, definition) VALUES (?, ?, ?)",
					key.Name, table, alter+" ADD CONSTRAINT "+pgx.Identifier{key.Name}.Sanitize()+" "+key.Definition).Error
				if err != nil {
					return s.translate(err, "deferred indexes")
				}
				if err := db.Exec(alter + " DROP CONSTRAINT " + pgx.Identifier{key.Name}.Sanitize()).Error; err != nil {
					if IsLockNotAvailable(err) {
						return errs.E(errs.Unavailable, "defer the keys of %s: the table is being read (waited %s for it)", table, deferLockWait)
					}
					return s.translate(err, "foreign key "+key.Name)
				}
				names = append(names, key.Name)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return names, nil
}

// BuildDeferredIndexes builds every index and adds every foreign key DeferIndexes dropped, each
// from its recorded definition unless it exists already, forgets them, and returns their names.
// It joins ctx's transaction, or runs in one of its own. It takes the tables in SHARE ROW
// EXCLUSIVE mode until the transaction ends, and a foreign key the table it references too:
// readers go on, writers wait. Concurrent callers take turns, and the later ones find nothing
// left to build. PostgreSQL only; elsewhere, and on a schema before migration 00024, it builds
// nothing.
func (s *Store) BuildDeferredIndexes(ctx context.Context) ([]string, error) {
	if s.dialect != Postgres {
		return nil, nil
	}
	if exists, err := s.tableExists(ctx, deferredTable); err != nil || !exists {
		return nil, err
	}
	var built []string
	err := s.InTx(ctx, func(ctx context.Context) error {
		db := s.DB(ctx)
		// The records first, then the tables. A load claims the records before it writes
		// (ClaimDeferredIndexes), so a builder starting beside it (a replica's start) waits for
		// the load's transaction holding nothing the load will ask for, and then finds nothing
		// left to build. Taking the tables first, that builder would hold a table the load
		// needs at its end while waiting for the load's other tables: a deadlock, one of the
		// two rolled back. The tables are taken at once in SHARE ROW EXCLUSIVE mode, what ADD
		// FOREIGN KEY takes (CREATE INDEX takes less): readers go on, writers wait. The keys
		// are added last.
		var pending []struct{ Name, Table, Definition string }
		err := db.Raw("SELECT name, table_name AS \"table\", definition FROM " + deferredTable +
			" ORDER BY definition LIKE 'ALTER TABLE %', table_name, name FOR UPDATE").Scan(&pending).Error
		if err != nil {
			return s.translate(err, "deferred indexes")
		}
		if len(pending) == 0 {
			return nil
		}
		var tables []string
		for _, ix := range pending {
			tables = append(tables, ix.Table)
		}
		slices.Sort(tables)
		for _, table := range slices.Compact(tables) {
			if err := db.Exec("LOCK TABLE " + pgx.Identifier{table}.Sanitize() + " IN SHARE ROW EXCLUSIVE MODE").Error; err != nil {
				return s.translate(err, "table "+table)
			}
		}
		err = db.Exec("SELECT set_config('maintenance_work_mem', ?, true) WHERE pg_size_bytes(current_setting('maintenance_work_mem')) < ?",
			fmt.Sprintf("%dMB", buildMemory>>20), buildMemory).Error
		if err != nil {
			return s.translate(err, "deferred indexes")
		}
		for _, ix := range pending {
			exists := db.Raw("SELECT to_regclass(quote_ident(?)) IS NOT NULL", ix.Name)
			if !strings.HasPrefix(ix.Definition, "CREATE ") {
				if !strings.HasPrefix(ix.Definition, "ALTER TABLE ") || !strings.Contains(ix.Definition, " ADD CONSTRAINT ") {
					return errs.E(errs.Internal, "deferred index %s: the recorded definition is neither a CREATE statement nor an added constraint: %q", ix.Name, ix.Definition)
				}
				exists = db.Raw("SELECT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = ? AND conrelid = to_regclass(quote_ident(?)))", ix.Name, ix.Table)
			}
			var found bool
			if err := exists.Scan(&found).Error; err != nil {
				return s.translate(err, "index "+ix.Name)
			}
			if !found {
				if err := db.Exec(ix.Definition).Error; err != nil {
					return s.translate(err, "index "+ix.Name)
				}
			}
			built = append(built, ix.Name)
		}
		return s.translate(db.Exec("DELETE FROM "+deferredTable+" WHERE name IN ?", built).Error, "deferred indexes")
	})
	if err != nil {
		return nil, err
	}
	return built, nil
}

// ClaimDeferredIndexes locks, in ctx's transaction, the records of what DeferIndexes dropped, so
// that the caller, which goes on to write into the tables, builds them itself before it commits
// (BuildDeferredIndexes) and no other builder waits for those tables while holding what the
// caller asks for at its end (see BuildDeferredIndexes). A load calls it before it writes; when
// nothing was deferred it is one query of an empty table. PostgreSQL only.
func (s *Store) ClaimDeferredIndexes(ctx context.Context) error {
	if s.dialect != Postgres {
		return nil
	}
	if exists, err := s.tableExists(ctx, deferredTable); err != nil || !exists {
		return err
	}
	var names []string
	return s.translate(s.DB(ctx).Raw("SELECT name FROM "+deferredTable+" FOR UPDATE").Scan(&names).Error, "deferred indexes")
}

// DeferredIndexes lists the indexes dropped by DeferIndexes and not built again yet: none, but
// while a bulk load runs or after one failed and nothing has built them since.
func (s *Store) DeferredIndexes(ctx context.Context) ([]string, error) {
	if s.dialect != Postgres {
		return nil, nil
	}
	if exists, err := s.tableExists(ctx, deferredTable); err != nil || !exists {
		return nil, err
	}
	var names []string
	err := s.DB(ctx).Raw("SELECT name FROM " + deferredTable + " ORDER BY table_name, name").Scan(&names).Error
	return names, s.translate(err, "deferred indexes")
}

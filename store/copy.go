package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"

	"github.com/portside-dev/portside/errs"
)

// inConnTx is InTx on PostgreSQL: the transaction runs on a connection taken from the pool for
// it, which the context also carries (in t), so that CopyRows can reach the driver's COPY on the
// very session the transaction is open on (database/sql gives no way from a *sql.Tx to its
// connection).
func (s *Store) inConnTx(ctx context.Context, t *tx, fn func(ctx context.Context) error) error {
	conn, err := s.SQL().Conn(ctx)
	if err != nil {
		return Translate(err, "database connection")
	}
	defer conn.Close()
	t.conn = conn
	db := s.db.WithContext(ctx)
	db.Statement.ConnPool = conn
	return db.Transaction(func(db *gorm.DB) error { return t.run(ctx, db, fn) })
}

// Copies reports whether CopyRows uses PostgreSQL's COPY in this context (inside InTx on
// PostgreSQL) rather than multi-row INSERTs: rows copied cannot return generated keys, so a
// caller that needs them takes them first (ReserveIDs).
func (s *Store) Copies(ctx context.Context) bool {
	t := txOf(ctx)
	return t != nil && t.conn != nil // only PostgreSQL's transactions have one
}

// CopyRows writes n rows into table as InsertRows does, through PostgreSQL's binary COPY when
// Copies says so: about twice the rows per second of multi-row INSERTs for the narrow rows of a
// catalog import (relations, tags), whose every statement was a round trip the database waited
// for while the next batch was built. Elsewhere it is InsertRows. Rows are built one at a time as
// COPY asks for them, so they never all sit in memory at once.
func (s *Store) CopyRows(ctx context.Context, table string, columns []string, n int, row func(i int, args []any) []any) error {
	if n == 0 {
		return nil
	}
	if !s.Copies(ctx) {
		return s.InsertRows(ctx, table, columns, n, row)
	}
	err := txOf(ctx).conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return errs.E(errs.Internal, "copy into %s: the PostgreSQL driver is %T, not pgx", table, driverConn)
		}
		copied, err := c.Conn().CopyFrom(ctx, pgx.Identifier{table}, columns, &rowSource{n: n, row: row})
		if err == nil && copied != int64(n) {
			err = fmt.Errorf("copied %d rows of %d", copied, n)
		}
		return err
	})
	return s.translate(err, table)
}

// rowSource hands CopyFrom the rows a row function builds, reusing one argument slice: CopyFrom
// encodes each row before it asks for the next.
type rowSource struct {
	n, i int
	row  func(i int, args []any) []any
	args []any
}

func (r *rowSource) Next() bool {
	if r.i >= r.n {
		return false
	}
	r.args = r.row(r.i, r.args[:0])
	r.i++
	return true
}

func (r *rowSource) Values() ([]any, error) { return r.args, nil }
func (r *rowSource) Err() error             { return nil }

// ReserveIDs takes n values of table's id sequence (its identity column) for rows written with
// their ids, such as rows copied with CopyRows. PostgreSQL only. The sequence is named once per
// call, not once per value (OFFSET 0 keeps the planner from pulling the lookup up into each
// value's row), and the values come back as a range: the name looked up for each value and a
// row scanned for each took 10 s of a million-entity import, 17 ms per 1,600 ids.
// Should another session's nextval come between them, so that they are not a run, they come
// back as a list.
func (s *Store) ReserveIDs(ctx context.Context, table string, n int) ([]int64, error) {
	if s.dialect != Postgres {
		return nil, errs.E(errs.Internal, "reserve ids of %s: only on PostgreSQL", table)
	}
	if n <= 0 {
		return nil, nil
	}
	var r struct {
		Low, High, Count int64
		List             string // when they are not a run: the values, comma-separated
	}
	err := s.DB(ctx).Raw(`SELECT min(id) AS low, max(id) AS high, count(*) AS count,
	CASE WHEN max(id) - min(id) + 1 = count(*) THEN '' ELSE string_agg(id::text, ',' ORDER BY id) END AS list
FROM (SELECT nextval(q.seq) AS id FROM (SELECT pg_get_serial_sequence(?, 'id')::regclass AS seq OFFSET 0) q, generate_series(1, ?)) v`, table, n).
		Scan(&r).Error
	if err != nil {
		return nil, s.translate(err, table+" ids")
	}
	if r.Count != int64(n) {
		return nil, s.translate(fmt.Errorf("reserved %d ids of %d", r.Count, n), table+" ids")
	}
	ids := make([]int64, 0, n)
	if r.List == "" {
		for id := r.Low; id <= r.High; id++ {
			ids = append(ids, id)
		}
		return ids, nil
	}
	for v := range strings.SplitSeq(r.List, ",") {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, s.translate(err, table+" ids")
		}
		ids = append(ids, id)
	}
	return ids, nil
}

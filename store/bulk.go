package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"gorm.io/gorm"
)

// InsertRows writes n rows into table with multi-row INSERTs of BatchSize rows, each shape
// prepared once; row appends the values of row i to args. It bypasses gorm's per-row reflection,
// which dominates bulk writes of hundreds of thousands of small rows (relations, tags) whose
// generated keys nobody needs, and builds each batch's arguments only when it is sent, so the rows
// never all sit in memory at once. It joins the context's transaction.
func (s *Store) InsertRows(ctx context.Context, table string, columns []string, n int, row func(i int, args []any) []any) error {
	return s.insert(ctx, table, columns, n, row, "", nil)
}

// InsertReturning is InsertRows for rows whose generated values the caller needs: each statement
// ends in RETURNING returning, and scan reads every returned row (in no promised order).
func (s *Store) InsertReturning(ctx context.Context, table string, columns []string, n int, row func(i int, args []any) []any,
	returning string, scan func(*sql.Rows) error) error {
	return s.insert(ctx, table, columns, n, row, returning, scan)
}

func (s *Store) insert(ctx context.Context, table string, columns []string, n int, row func(i int, args []any) []any,
	returning string, scan func(*sql.Rows) error) error {
	if n == 0 {
		return nil
	}
	pool := s.DB(ctx).Statement.ConnPool
	batch := s.BatchSize(len(columns))
	var full *sql.Stmt
	defer func() {
		if full != nil {
			_ = full.Close()
		}
	}()
	args := make([]any, 0, batch*len(columns))
	for start := 0; start < n; start += batch {
		end := min(start+batch, n)
		args = args[:0]
		for i := start; i < end; i++ {
			args = row(i, args)
		}
		query := s.insertSQL(table, columns, end-start)
		if returning != "" {
			query += " RETURNING " + returning
		}
		stmt := (*sql.Stmt)(nil)
		if end-start == batch {
			if full == nil {
				var err error
				if full, err = pool.PrepareContext(ctx, query); err != nil {
					return s.translate(err, table)
				}
			}
			stmt = full
		}
		if err := s.run(ctx, pool, stmt, query, args, scan); err != nil {
			return s.translate(err, table)
		}
	}
	return nil
}

// run executes one batch, through stmt when it is prepared, reading returned rows with scan.
func (s *Store) run(ctx context.Context, pool gorm.ConnPool, stmt *sql.Stmt, query string, args []any, scan func(*sql.Rows) error) error {
	if scan == nil {
		var err error
		if stmt != nil {
			_, err = stmt.ExecContext(ctx, args...)
		} else {
			_, err = pool.ExecContext(ctx, query, args...)
		}
		return err
	}
	var rows *sql.Rows
	var err error
	if stmt != nil {
		rows, err = stmt.QueryContext(ctx, args...)
	} else {
		rows, err = pool.QueryContext(ctx, query, args...)
	}
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (s *Store) translate(err error, table string) error {
	if t, ok := s.db.Dialector.(gorm.ErrorTranslator); ok {
		err = t.Translate(err)
	}
	return Translate(err, table)
}

// insertSQL builds "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)" with the dialect's placeholders.
func (s *Store) insertSQL(table string, columns []string, rows int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO ")
	b.WriteString(table)
	b.WriteString(" (")
	b.WriteString(strings.Join(columns, ", "))
	b.WriteString(") VALUES ")
	n := 0
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range columns {
			if c > 0 {
				b.WriteString(", ")
			}
			n++
			if s.dialect == Postgres {
				b.WriteByte('$')
				b.WriteString(strconv.Itoa(n))
			} else {
				b.WriteByte('?')
			}
		}
		b.WriteByte(')')
	}
	return b.String()
}

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
		var err error
		switch {
		case end-start < batch:
			_, err = pool.ExecContext(ctx, query, args...)
		default:
			if full == nil {
				if full, err = prepare(ctx, pool, query); err != nil {
					return Translate(err, table)
				}
			}
			_, err = full.ExecContext(ctx, args...)
		}
		if err != nil {
			return Translate(s.db.Dialector.(gorm.ErrorTranslator).Translate(err), table)
		}
	}
	return nil
}

func prepare(ctx context.Context, pool gorm.ConnPool, query string) (*sql.Stmt, error) {
	return pool.PrepareContext(ctx, query)
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

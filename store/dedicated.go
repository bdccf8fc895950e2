package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/portside-dev/portside/errs"
)

// dedicatedConnectTimeout bounds opening a dedicated connection.
const dedicatedConnectTimeout = 10 * time.Second

// Dedicated opens a PostgreSQL connection of its own, outside the pool, with the pool's settings
// (the same URL, so the same search_path). It is for state that lives as long as a session, such
// as the leader's advisory lock: a pooled connection would be handed to other work, and holding one
// for good would shrink the pool the API draws on. The caller closes it. SQLite has no sessions to
// hold: it refuses with INVALID.
func (s *Store) Dedicated(ctx context.Context) (*pgx.Conn, error) {
	if s.dialect != Postgres {
		return nil, errs.E(errs.Invalid, "store: a dedicated connection needs PostgreSQL, not %s", s.dialect)
	}
	ctx, cancel := context.WithTimeout(ctx, dedicatedConnectTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.dsn)
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "connect to database %s", s.target)
	}
	return conn, nil
}

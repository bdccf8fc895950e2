package leader

import (
	"context"
	"hash/fnv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/store"
)

// LockClass is the first half of the advisory lock key Portside leads by (pg_try_advisory_lock's
// two-integer form: "PSLE", Portside leader). The second half is a hash of the connection's schema,
// so that Portsides on separate schemas of one database (tests, several installations) each elect
// their own leader: advisory locks are per database, not per schema. The single-bigint keys other
// locks use (the catalog's applies, migrations) live in another key space.
const LockClass int32 = 0x50534c45

// defaultReleaseTimeout bounds the unlock at the end of a term.
const defaultReleaseTimeout = 5 * time.Second

// Connector opens a connection of its own, outside any pool; store.Store.Dedicated is one.
type Connector func(ctx context.Context) (*pgx.Conn, error)

// Postgres returns the Lock of replicas sharing a PostgreSQL database: a session advisory lock
// held on a dedicated connection. The server releases it when that session ends for any reason
// (the process died, the connection broke, pg_terminate_backend), which is what lets another
// replica take over. The connection is kept between attempts, so a replica that does not lead
// holds one idle connection, beside its pool.
func Postgres(connect Connector) Lock { return &pgLock{connect: connect} }

type pgLock struct {
	connect Connector
	mu      sync.Mutex
	conn    *pgx.Conn
	key     int32
}

// TryAcquire tries pg_try_advisory_lock on the dedicated connection, opening it first when there
// is none (or the last one broke).
func (l *pgLock) TryAcquire(ctx context.Context) (Held, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil || l.conn.IsClosed() {
		conn, err := l.connect(ctx)
		if err != nil {
			return nil, err
		}
		// The server must notice a leader whose machine vanished (no FIN, no RST) within seconds,
		// not after the default two hours of TCP keepalive: only then does it end the session and
		// release the lock. Ignored on a Unix socket.
		if _, err := conn.Exec(ctx, store.SessionKeepalives); err != nil {
			_ = conn.Close(context.Background())
			return nil, errs.Wrap(errs.Unavailable, err, "leader: set the session's timeouts")
		}
		var schema string
		if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
			_ = conn.Close(context.Background())
			return nil, errs.Wrap(errs.Unavailable, err, "leader: read the schema")
		}
		l.conn, l.key = conn, SchemaKey(schema)
	}
	var got bool
	if err := l.conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1, $2)", LockClass, l.key).Scan(&got); err != nil {
		l.dropLocked()
		return nil, errs.Wrap(errs.Unavailable, err, "leader: try the advisory lock")
	}
	if !got {
		return nil, nil
	}
	return &pgHeld{l: l, conn: l.conn}, nil
}

// Close closes the dedicated connection (releasing the lock with the session).
func (l *pgLock) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dropLocked()
}

func (l *pgLock) dropLocked() {
	if l.conn != nil {
		_ = l.conn.Close(context.Background())
		l.conn = nil
	}
}

// SchemaKey is the second half of the leader lock's key for a schema (FNV-1a of its name).
func SchemaKey(schema string) int32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(schema))
	return int32(h.Sum32())
}

type pgHeld struct {
	l    *pgLock
	conn *pgx.Conn
}

// checkSQL asks whether this session still holds the lock: a live session that holds it is what
// leadership is (two-integer advisory locks show in pg_locks as classid, objid, objsubid 2).
const checkSQL = `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
	AND granted AND objsubid = 2 AND classid = $1::int4::oid AND objid = $2::int4::oid)`

// Check queries the session; an error (the connection broke, or the check timed out) or a lock no
// longer listed means leadership is lost, and the connection is dropped: the next attempt opens
// a new one, as the old session may still hold the lock on the server until it notices.
func (h *pgHeld) Check(ctx context.Context) error {
	h.l.mu.Lock()
	defer h.l.mu.Unlock()
	if h.l.conn != h.conn {
		return errs.E(errs.Unavailable, "leader: the lock's connection was closed")
	}
	var held bool
	if err := h.conn.QueryRow(ctx, checkSQL, LockClass, h.l.key).Scan(&held); err != nil {
		h.l.dropLocked()
		return errs.Wrap(errs.Unavailable, err, "leader: check the advisory lock")
	}
	if !held {
		h.l.dropLocked()
		return errs.E(errs.Unavailable, "leader: the advisory lock is no longer held by this session")
	}
	return nil
}

// Release unlocks, keeping the connection for the next attempt; if the unlock fails the connection
// is closed, which releases the lock as well.
func (h *pgHeld) Release() {
	h.l.mu.Lock()
	defer h.l.mu.Unlock()
	if h.l.conn != h.conn {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), defaultReleaseTimeout)
	defer cancel()
	if _, err := h.conn.Exec(ctx, "SELECT pg_advisory_unlock($1, $2)", LockClass, h.l.key); err != nil {
		h.l.dropLocked()
	}
}

package store

import (
	"context"
	"hash/fnv"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/portside-dev/portside/errs"
)

// SessionLocks are PostgreSQL session advisory locks of one class, for work whose liveness other
// processes must tell: a process holds a lock while it does the work, and the server releases it
// the moment the session ends however it ends (the process was killed, its connection broke,
// pg_terminate_backend; a machine that vanished within about 15 s, by the session's keepalives).
// So a lock another process can take is work nobody does any more, with no heartbeat to write.
//
// Keys are pg_try_advisory_lock's two-integer form: the class (a namespace constant, so that
// classes never meet; the single-bigint keys of goose and the catalog are another key space), and
// a 32-bit FNV-1a hash of the schema and the ID locked (LockKey), so Portsides on separate schemas
// of one database never share a lock. Two IDs whose hashes meet share one: while one is held the
// other looks held too (never free while held), which only delays what waits on it.
//
// Every lock of a SessionLocks is held on one connection of its own (see Dedicated), opened with
// the first lock and closed with the last: however many locks a process holds, they take one
// connection beside the pool, and none from it. Safe for concurrent use.
type SessionLocks struct {
	st    *Store
	class int32

	mu     sync.Mutex
	conn   *pgx.Conn
	schema string
	held   map[int64]bool
}

// SessionLocks returns the session locks of class on this PostgreSQL database; nil on SQLite,
// whose single process has no other process to tell anything.
func (s *Store) SessionLocks(class int32) *SessionLocks {
	if s.dialect != Postgres {
		return nil
	}
	return &SessionLocks{st: s, class: class, held: map[int64]bool{}}
}

// SessionKeepalives makes the server probe an idle connection after 5 s and drop it after 3
// unanswered probes 2 s apart, or when data it sent stays unacknowledged for 10 s: a process whose
// machine vanished (no FIN, no RST) loses its session within about 15 s, not the default two
// hours. Every dedicated session whose end others wait for runs it first: the leader's lock, the
// bus's LISTEN, the apply locks. Ignored on a Unix socket. (A multi-statement simple query.)
const SessionKeepalives = "SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 3; SET tcp_user_timeout = 10000"

// lockQueryTimeout bounds one lock or unlock on the session. The caller's context does not: a
// query cut short by it closes the connection (pgx does, to stay in sync with the server), and
// with it every lock the process holds, those of other work included.
const lockQueryTimeout = 5 * time.Second

// LockKey is the second half of the lock of id in schema (see SessionLocks).
func LockKey(schema string, id int64) int32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(schema + "/" + strconv.FormatInt(id, 10)))
	return int32(h.Sum32())
}

// TryLock takes the lock of id without waiting: false when another session holds it, or this
// process does already (a second take is refused, not counted, unlike PostgreSQL's own). An error
// means the database could not be asked: whether anyone holds the lock is unknown.
func (l *SessionLocks) TryLock(ctx context.Context, id int64) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[id] {
		return false, nil
	}
	// A connection kept from an earlier lock may have died meanwhile (with its locks): one more
	// try on a new one tells a dead connection from a database that cannot be reached.
	for attempt := 1; ; attempt++ {
		fresh, err := l.connectLocked(ctx)
		if err != nil {
			return false, err
		}
		got, err := l.tryLocked(ctx, id)
		if err == nil {
			if got {
				l.held[id] = true
			}
			l.closeIfIdleLocked()
			return got, nil
		}
		l.dropLocked()
		if fresh || attempt > 1 || ctx.Err() != nil {
			return false, errs.Wrap(errs.Unavailable, err, "try the advisory lock of %d", id)
		}
	}
}

// tryLocked asks the server for the lock of id on the open connection.
func (l *SessionLocks) tryLocked(ctx context.Context, id int64) (bool, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lockQueryTimeout)
	defer cancel()
	var got bool
	err := l.conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1, $2)", l.class, LockKey(l.schema, id)).Scan(&got)
	return got, err
}

// Unlock releases the lock of id, if this process holds it: when it returns, another session can
// take the lock. The last lock's connection is closed after, not instead of, the unlock: the
// server ends a closed session's locks only some time after the client has gone. A failed unlock
// closes the connection, which releases every lock on it in the end.
func (l *SessionLocks) Unlock(id int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.held[id] {
		return // never taken, or lost with its connection
	}
	delete(l.held, id)
	ctx, cancel := context.WithTimeout(context.Background(), lockQueryTimeout)
	defer cancel()
	if _, err := l.conn.Exec(ctx, "SELECT pg_advisory_unlock($1, $2)", l.class, LockKey(l.schema, id)); err != nil {
		l.dropLocked()
		return
	}
	l.closeIfIdleLocked()
}

// Held counts the locks this process holds (tests).
func (l *SessionLocks) Held() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.held)
}

// connectLocked opens the connection when there is none; fresh tells that it just did.
func (l *SessionLocks) connectLocked(ctx context.Context) (fresh bool, err error) {
	if l.conn != nil && !l.conn.IsClosed() {
		return false, nil
	}
	l.dropLocked()
	conn, err := l.st.Dedicated(ctx)
	if err != nil {
		return false, err
	}
	if _, err := conn.Exec(ctx, SessionKeepalives); err != nil {
		_ = conn.Close(context.Background())
		return false, errs.Wrap(errs.Unavailable, err, "set the lock session's timeouts")
	}
	if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&l.schema); err != nil {
		_ = conn.Close(context.Background())
		return false, errs.Wrap(errs.Unavailable, err, "read the schema")
	}
	l.conn = conn
	return true, nil
}

// closeIfIdleLocked closes the connection when no lock is held on it, and tells whether it did.
func (l *SessionLocks) closeIfIdleLocked() bool {
	if len(l.held) > 0 {
		return false
	}
	l.dropLocked()
	return true
}

// dropLocked closes the connection; the locks held on it are gone with it.
func (l *SessionLocks) dropLocked() {
	if l.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), lockQueryTimeout)
		_ = l.conn.Close(ctx)
		cancel()
		l.conn = nil
	}
	clear(l.held)
}

package store_test

import (
	"context"
	"testing"

	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

const testClass int32 = 0x54455354 // "TEST"

// holders counts the sessions holding the lock of id in st's schema, as the server sees them.
func holders(t *testing.T, st *store.Store, id int64) int {
	t.Helper()
	var n int
	err := st.Gorm().Raw(`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND classid = ?::int4::oid AND objid = ?::int4::oid`, testClass, store.LockKey(schema(t, st), id)).Scan(&n).Error
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func schema(t *testing.T, st *store.Store) string {
	t.Helper()
	var s string
	if err := st.Gorm().Raw("SELECT current_schema()").Scan(&s).Error; err != nil {
		t.Fatal(err)
	}
	return s
}

// endSession ends the session holding the lock of id, as the server does a killed process's, and
// waits for it to be gone (PostgreSQL 14's wait).
func endSession(t *testing.T, st *store.Store, id int64) {
	t.Helper()
	var ended int
	err := st.Gorm().Raw(`SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 10000)) FROM pg_locks WHERE locktype = 'advisory'
		AND granted AND objsubid = 2 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND classid = ?::int4::oid AND objid = ?::int4::oid`, testClass, store.LockKey(schema(t, st), id)).Scan(&ended).Error
	if err != nil || ended != 1 {
		t.Fatalf("ended %d sessions: %v", ended, err)
	}
}

func tryLock(t *testing.T, l *store.SessionLocks, id int64) bool {
	t.Helper()
	got, err := l.TryLock(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestASessionLockIsHeldByOneProcessUntilItUnlocksOrItsSessionEnds(t *testing.T) {
	st := storetest.Postgres(t)
	a, b := st.SessionLocks(testClass), st.SessionLocks(testClass) // two processes
	if !tryLock(t, a, 7) {
		t.Fatal("a free lock was not taken")
	}
	if tryLock(t, a, 7) || tryLock(t, b, 7) {
		t.Fatal("a lock held was taken again, by its holder or another process")
	}
	if !tryLock(t, b, 8) || holders(t, st, 7) != 1 || holders(t, st, 8) != 1 {
		t.Fatalf("another lock: held by %d and %d sessions", holders(t, st, 7), holders(t, st, 8))
	}
	a.Unlock(7)
	if !tryLock(t, b, 7) {
		t.Fatal("a lock unlocked could not be taken")
	}
	// b's session ends as a killed process's does: the server releases both its locks.
	endSession(t, st, 7)
	if !tryLock(t, a, 7) || !tryLock(t, a, 8) {
		t.Fatal("the locks of a session that ended were not free")
	}
	// b finds its connection dead, opens another, and is told the truth.
	if tryLock(t, b, 7) || !tryLock(t, b, 9) {
		t.Fatal("after its session ended, b was told wrong")
	}
	b.Unlock(7) // lost with its session: nothing to do
	if a.Held() != 2 || b.Held() != 1 {
		t.Fatalf("held: a %d, b %d", a.Held(), b.Held())
	}
}

func TestSessionLocksTakeOneConnectionWhileAnyIsHeldAndNoneAfter(t *testing.T) {
	st := storetest.Postgres(t)
	l := st.SessionLocks(testClass)
	sessions := func() int {
		var n int
		if err := st.Gorm().Raw(`SELECT count(DISTINCT pid) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
			AND classid = ?::int4::oid AND objid IN (?::int4::oid, ?::int4::oid, ?::int4::oid)`, testClass,
			store.LockKey(schema(t, st), 1), store.LockKey(schema(t, st), 2), store.LockKey(schema(t, st), 3)).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	for id := int64(1); id <= 3; id++ {
		if !tryLock(t, l, id) {
			t.Fatalf("lock %d was not taken", id)
		}
	}
	if n := sessions(); n != 1 {
		t.Fatalf("three locks are held by %d sessions, want 1", n)
	}
	for id := int64(1); id <= 3; id++ {
		l.Unlock(id)
	}
	if n, held := sessions(), l.Held(); n != 0 || held != 0 {
		t.Fatalf("after the last unlock: %d sessions hold locks, %d held", n, held)
	}
}

func TestSessionLocksOfSeparateSchemasNeverMeet(t *testing.T) {
	a := storetest.Postgres(t).SessionLocks(testClass)
	b := storetest.Postgres(t).SessionLocks(testClass)
	if !tryLock(t, a, 1) || !tryLock(t, b, 1) {
		t.Fatal("request 1 of one schema held request 1 of another")
	}
}

func TestSQLiteHasNoSessionLocks(t *testing.T) {
	if l := storetest.SQLite(t).SessionLocks(testClass); l != nil {
		t.Fatalf("SQLite's session locks: %v", l)
	}
}

package deploys

import (
	"context"
	"sync"
	"time"

	"github.com/portside-dev/portside/store"
)

// A process holds a request's apply lock from before the request becomes APPLYING until its apply
// has ended (pushed, proposed, failed), so the background pass can tell an apply under way from
// one whose process died: a lock it can take itself is an apply nobody is doing any more, and it
// resumes that request at once (after ApplyGrace) rather than after StaleApplying. On PostgreSQL
// the lock is a session advisory lock (store.SessionLocks, class ApplyLockClass): the server
// releases it as soon as the applying process's session ends, a SIGKILL included. On SQLite,
// where `portside serve` is one process, it is a set of the requests this process is applying:
// a request APPLYING in the database and not in the set was left by a process that died.

// ApplyGrace is how long a request must have been APPLYING before the background pass takes it on
// the strength of its lock alone. This Portside locks before the request becomes APPLYING, so for
// its own applies the lock says everything; the grace spares applies that do not lock (a
// `portside deploy approve` beside serve on SQLite, whose set is its own; an older release during
// a rolling upgrade) that end within it.
const ApplyGrace = 5 * time.Second

// applyLocks hold the apply locks of this process.
type applyLocks interface {
	// TryLock takes the lock of request id without waiting: false when another apply holds it;
	// an error when that cannot be told.
	TryLock(ctx context.Context, id int64) (bool, error)
	// Unlock releases it, if this process holds it.
	Unlock(id int64)
}

// newApplyLocks are the apply locks of st's database.
func newApplyLocks(st *store.Store) applyLocks {
	if locks := st.SessionLocks(ApplyLockClass); locks != nil {
		return locks
	}
	return &localLocks{ids: map[int64]bool{}}
}

// localLocks are the requests this process is applying (SQLite).
type localLocks struct {
	mu  sync.Mutex
	ids map[int64]bool
}

func (l *localLocks) TryLock(_ context.Context, id int64) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ids[id] {
		return false, nil
	}
	l.ids[id] = true
	return true, nil
}

func (l *localLocks) Unlock(id int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.ids, id)
}

// lockState is what taking a request's apply lock found.
type lockState int

const (
	// lockTaken: this process holds the lock now, so no live process is applying the request.
	lockTaken lockState = iota
	// lockHeld: another apply holds it, in this process or a live other one.
	lockHeld
	// lockUnknown: the lock could not be asked for (the database connection was lost).
	lockUnknown
)

// lockApply takes request id's apply lock; release gives it back (a no-op unless lockTaken).
func (s *Service) lockApply(ctx context.Context, id int64) (state lockState, release func(), err error) {
	got, err := s.locks.TryLock(ctx, id)
	switch {
	case err != nil:
		return lockUnknown, func() {}, err
	case !got:
		return lockHeld, func() {}, nil
	}
	return lockTaken, func() { s.locks.Unlock(id) }, nil
}

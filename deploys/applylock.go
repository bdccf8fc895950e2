package deploys

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/store"
)

// A process holds a request's apply lock from before the request becomes APPLYING until its apply
// has ended (pushed, proposed, failed), so the background pass can tell an apply under way from
// one whose process died: a lock it can take itself is an apply nobody is doing any more, and it
// resumes that request at once (after ApplyGrace) rather than after StaleApplying. On PostgreSQL
// the lock is a session advisory lock (store.SessionLocks, class ApplyLockClass): the server
// releases it as soon as the applying process's session ends, a SIGKILL included. On SQLite it is
// a set of the requests this process is applying, and a write lock (fcntl) on the request's byte
// of a file beside the database (<database>-apply.lock, byte offset = the request's ID), which the
// kernel releases when the process ends however it ends: a `portside deploy approve` applying
// beside serve holds it, so serve's pass leaves a live CLI's apply alone and resumes a dead one's.
//
// The lock tells liveness; it does not make an apply's outcome safe to record. A process can lose
// its lock and live on (its lock connection broke and the server ended the session; a lock that
// could not be seen: an older release, a filesystem without fcntl locks), or be taken over past
// StaleApplying while it still applies. So the applies of a request are fenced as well: the move
// to APPLYING and every claim of an apply cut short raise the request's apply attempt by one
// (a conditional update), and every write of an apply's outcome (ROLLING_OUT, FAILED, the pull
// request opened, why it waits) is conditioned on the attempt its applier raised. An applier
// taken over records nothing, and logs why (errTakenOver); the git side is idempotent, so
// whichever apply pushed, the current applier finds the commit and records it.
//
// The applier does not watch its lock connection: the fence already refuses its record in the
// very statement that would write it, once another process has claimed the request, and until
// then (nobody took over) its record is the request's only one and is right to be written. A
// check of the lock before recording would be a check-then-act that the fence must back anyway.

// takenOverError is an apply's outcome refused by the fence: another process claimed the request
// (a later apply attempt) while this one applied it.
type takenOverError struct{ attempt, current int64 }

func (e *takenOverError) Error() string {
	return fmt.Sprintf("its apply attempt %d was taken over by attempt %d", e.attempt, e.current)
}

// takenOver is the CONFLICT of a write fenced off request id.
func takenOver(id, attempt, current int64) error {
	return errs.Wrap(errs.Conflict, &takenOverError{attempt: attempt, current: current}, "deploy request %d", id)
}

// isTakenOver tells a write refused by the fence.
func isTakenOver(err error) bool {
	var e *takenOverError
	return errors.As(err, &e)
}

// ApplyGrace is how long a request must have been APPLYING before the background pass takes it on
// the strength of its lock alone. This Portside locks before the request becomes APPLYING, so for
// its own applies the lock says everything (a `portside deploy approve` beside serve on SQLite
// included: it locks the request in the lock file); the grace spares applies whose lock the pass
// cannot see (an older release during a rolling upgrade, a process that could not open the lock
// file) that end within it. Those that take longer are fenced off (see above).
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
func newApplyLocks(st *store.Store, log *slog.Logger) applyLocks {
	if locks := st.SessionLocks(ApplyLockClass); locks != nil {
		return locks
	}
	l := &localLocks{ids: map[int64]bool{}, log: log}
	if st.Dialect() == store.SQLite && !strings.Contains(st.Target(), ":memory:") {
		l.file = fileLocksOf(ApplyLockPath(store.RealPath(st.Target()))) // as serve's claim, through links too
	}
	return l
}

// ApplyLockPath is the file of a SQLite database whose byte ranges are its apply locks: the
// database's path with "-apply.lock" appended (beside serve's claim, leader.LockPath).
func ApplyLockPath(database string) string { return database + "-apply.lock" }

// localLocks are the requests this process is applying (SQLite), each also locked in the lock
// file (file, nil where there is none) for the other processes on the database. fcntl locks
// belong to the process, so two services of one process never see each other's in the file:
// as before, each tells only its own applies from the rest by its set.
type localLocks struct {
	mu   sync.Mutex
	ids  map[int64]bool
	file *fileLocks
	log  *slog.Logger
	// warned: the lock file could not be used once, and that was logged.
	warned bool
}

func (l *localLocks) TryLock(_ context.Context, id int64) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ids[id] {
		return false, nil
	}
	if l.file != nil {
		got, err := l.file.tryLock(id)
		if errors.Is(err, errNoLockFile) {
			// No file to lock (a read-only directory): this process's set alone, as before the
			// file; the fence still keeps a second apply from recording.
			if !l.warned {
				l.warned = true
				l.log.Warn("deploys: no apply lock file; other processes' applies on this SQLite database are told by the grace only", "error", err)
			}
		} else if err != nil || !got {
			return false, err
		}
	}
	l.ids[id] = true
	return true, nil
}

func (l *localLocks) Unlock(id int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.ids[id] {
		return
	}
	delete(l.ids, id)
	if l.file != nil {
		l.file.unlock(id)
	}
}

// errNoLockFile: the lock file cannot be opened (or there are no file locks here).
var errNoLockFile = errors.New("no apply lock file")

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

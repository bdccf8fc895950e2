//go:build unix

package deploys

import (
	"errors"
	"io"
	"os"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/portside-dev/portside/errs"
)

// fileLocks are the apply locks of one SQLite database in its lock file, for the processes on it:
// a write lock (fcntl F_SETLK) on byte id of the file is request id's. The kernel releases a
// process's locks when it ends, however it ends, so a lock another process can take is an apply
// nobody is doing. fcntl locks belong to the process and all go when it closes any descriptor of
// the file, so a process has one fileLocks per file (fileLocksOf), holding one descriptor while
// any lock is held, and counts how many of its services hold each lock.
type fileLocks struct {
	path string

	mu   sync.Mutex
	f    *os.File
	held map[int64]int
}

// processFileLocks are this process's fileLocks, by path.
var processFileLocks = struct {
	mu sync.Mutex
	by map[string]*fileLocks
}{by: map[string]*fileLocks{}}

// fileLocksOf are this process's locks in the file at path.
func fileLocksOf(path string) *fileLocks {
	processFileLocks.mu.Lock()
	defer processFileLocks.mu.Unlock()
	l := processFileLocks.by[path]
	if l == nil {
		l = &fileLocks{path: path, held: map[int64]int{}}
		processFileLocks.by[path] = l
	}
	return l
}

// tryLock takes the lock of id without waiting: false when another process holds it.
// errNoLockFile when the file cannot be opened; another error when the lock cannot be asked for.
func (l *fileLocks) tryLock(id int64) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[id] > 0 {
		// Another service of this process holds it: its own set tells it from this one's.
		l.held[id]++
		return true, nil
	}
	if l.f == nil {
		f, err := os.OpenFile(l.path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return false, errs.Wrap(errs.Unavailable, errors.Join(errNoLockFile, err), "open the apply lock file %s", l.path)
		}
		l.f = f
	}
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: io.SeekStart, Start: id, Len: 1}
	err := unix.FcntlFlock(l.f.Fd(), unix.F_SETLK, &lk)
	switch err {
	case nil:
		l.held[id] = 1
		return true, nil
	case unix.EAGAIN, unix.EACCES:
		l.closeIfIdleLocked()
		return false, nil
	}
	l.closeIfIdleLocked()
	return false, errs.Wrap(errs.Unavailable, err, "lock request %d in %s", id, l.path)
}

// unlock releases the lock of id once no service of this process holds it.
func (l *fileLocks) unlock(id int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[id] == 0 {
		return
	}
	if l.held[id]--; l.held[id] > 0 {
		return
	}
	delete(l.held, id)
	lk := unix.Flock_t{Type: unix.F_UNLCK, Whence: io.SeekStart, Start: id, Len: 1}
	// Should the unlock fail, closing the file releases the lock all the same, once this process
	// holds no other lock in it.
	_ = unix.FcntlFlock(l.f.Fd(), unix.F_SETLK, &lk)
	l.closeIfIdleLocked()
}

// closeIfIdleLocked closes the file when this process holds no lock in it (closing it drops them).
func (l *fileLocks) closeIfIdleLocked() {
	if len(l.held) == 0 && l.f != nil {
		_ = l.f.Close()
		l.f = nil
	}
}

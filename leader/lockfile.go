package leader

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/store"
)

// FileLock is a SQLite database claimed by one `portside serve`: SQLite is the single-process
// embedded mode, and a second serve on the same file would run every background loop a second
// time. The claim is an exclusive lock (flock) on a file beside the database; the kernel drops it
// when the process ends however it ends, so a killed serve never leaves a stale claim. The CLI's
// other commands (catalog import, token, migrate...) do not claim the file and may run beside
// serve.
type FileLock struct {
	f    *os.File
	path string
}

// LockPath is the lock file of a SQLite database file: the database's path with "-serve.lock"
// appended (beside SQLite's own -wal and -shm files).
func LockPath(database string) string { return database + "-serve.lock" }

// LockFile claims the SQLite database at path for this process, or refuses with CONFLICT naming
// the process that holds it.
func LockFile(database string) (*FileLock, error) {
	// The claim is beside the database file itself: reached through a symbolic link (or another
	// spelling of its path), the same file must have the same claim.
	path := LockPath(store.RealPath(database))
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "lock the SQLite database: open %s", path)
	}
	if err := tryLock(f); err != nil {
		holder, _ := os.ReadFile(path)
		_ = f.Close()
		if err == errLocked {
			who := "another process"
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(holder))); perr == nil && pid > 0 {
				who = fmt.Sprintf("another process (pid %d)", pid)
			}
			return nil, errs.E(errs.Conflict,
				"the SQLite database %s is already served by %s: SQLite is single-process, so one `portside serve` per file "+
					"(stop the other, or give this one another database file; several replicas need PostgreSQL). The claim is %s",
				database, who, path)
		}
		return nil, errs.Wrap(errs.Unavailable, err, "lock the SQLite database: %s", path)
	}
	// Who holds it, for the refusal above; the lock, not this content, is what counts.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &FileLock{f: f, path: path}, nil
}

// Path is the lock file's path.
func (l *FileLock) Path() string { return l.path }

// Close releases the claim. The file stays (removing it could race with another serve's claim).
func (l *FileLock) Close() error {
	if l == nil || l.f == nil {
		return nil
	}
	_ = unlock(l.f)
	err := l.f.Close()
	l.f = nil
	return err
}

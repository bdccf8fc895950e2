//go:build !unix

package deploys

// fileLocks are missing where fcntl is (Portside's images and CI are Linux): on SQLite a process
// tells only its own applies, and another process's by the grace.
type fileLocks struct{}

func fileLocksOf(string) *fileLocks { return &fileLocks{} }

func (*fileLocks) tryLock(int64) (bool, error) { return false, errNoLockFile }

func (*fileLocks) unlock(int64) {}

package deploys

import "context"

// BreakApplyLocks makes s unable to ask for any apply lock, with err, as when its lock session's
// database connection is lost.
func BreakApplyLocks(s *Service, err error) { s.locks = brokenLocks{err} }

type brokenLocks struct{ err error }

func (b brokenLocks) TryLock(context.Context, int64) (bool, error) { return false, b.err }
func (brokenLocks) Unlock(int64)                                   {}

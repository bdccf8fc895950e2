package store

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/portside-dev/portside/errs"
)

// Backup writes a consistent copy of a SQLite database to dest while it is in use: SQLite's
// `VACUUM INTO` reads the database in one read transaction (serve keeps answering and writing; the
// WAL keeps readers and the writer apart) and writes a compact, self-contained file, WAL included.
// The copy is written beside dest and renamed into place once complete, so dest is either the
// whole backup or absent; an existing dest is refused, never overwritten. PostgreSQL is backed up
// with its own tools (pg_dump), which know its schemas, roles and consistency: see README.
func (s *Store) Backup(ctx context.Context, dest string) error {
	if s.dialect != SQLite {
		return errs.E(errs.Invalid, "backup: %s is PostgreSQL; back it up with pg_dump -Fc (README, Backup and restore)", s.target)
	}
	if dest == "" {
		return errs.InvalidField("to", "is empty; give the path of the backup file to write")
	}
	abs, err := filepath.Abs(dest)
	if err != nil {
		return errs.InvalidField("to", "%q: %v", dest, err)
	}
	if abs == s.target {
		return errs.InvalidField("to", "%q is the database itself", dest)
	}
	if _, err := os.Lstat(abs); err == nil {
		return errs.E(errs.Conflict, "backup: %s exists; remove it or name another file", abs)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return errs.Wrap(errs.Invalid, err, "backup: %s", abs)
	}
	tmp, err := os.CreateTemp(filepath.Dir(abs), "."+filepath.Base(abs)+".*.partial")
	if err != nil {
		return errs.Wrap(errs.Invalid, err, "backup: cannot write beside %s", abs)
	}
	partial := tmp.Name()
	_ = tmp.Close()
	_ = os.Remove(partial) // VACUUM INTO wants a file that does not exist (or is empty)
	defer os.Remove(partial)
	if _, err := s.SQL().ExecContext(ctx, "VACUUM INTO ?", partial); err != nil {
		return errs.Wrap(errs.Unavailable, err, "backup: VACUUM INTO %s", partial)
	}
	f, err := os.Open(partial)
	if err != nil {
		return errs.Wrap(errs.Internal, err, "backup: %s", partial)
	}
	err = f.Sync() // on disk before it takes the name: a crash never leaves a torn backup as dest
	_ = f.Close()
	if err != nil {
		return errs.Wrap(errs.Internal, err, "backup: sync %s", partial)
	}
	// Link, not rename: a dest created meanwhile is refused rather than replaced.
	if err := os.Link(partial, abs); err != nil {
		return errs.Wrap(errs.Conflict, err, "backup: %s", abs)
	}
	return nil
}

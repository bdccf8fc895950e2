package store

import (
	"context"
	"errors"
	"net"

	"gorm.io/gorm"

	"github.com/portside-dev/portside/errs"
)

// Translate turns a database error into a coded one. what names the thing being read or written,
// for the message ("location 12", "entity component:default/api"). Errors that already carry a code
// pass through unchanged.
func Translate(err error, what string) error {
	if err == nil {
		return nil
	}
	var coded *errs.Error
	switch {
	case errors.As(err, &coded):
		return err
	case errors.Is(err, gorm.ErrRecordNotFound):
		return errs.Wrap(errs.NotFound, err, "%s not found", what)
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return errs.Wrap(errs.Conflict, err, "%s already exists", what)
	case errors.Is(err, gorm.ErrForeignKeyViolated):
		return errs.Wrap(errs.Conflict, err, "%s refers to something that does not exist", what)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return errs.Wrap(errs.Unavailable, err, "%s: the database did not answer in time", what)
	case isConnError(err):
		return errs.Wrap(errs.Unavailable, err, "%s: the database is unreachable", what)
	default:
		return errs.Wrap(errs.Internal, err, "%s", what)
	}
}

func isConnError(err error) bool {
	var ne net.Error
	var oe *net.OpError
	return errors.As(err, &ne) || errors.As(err, &oe)
}

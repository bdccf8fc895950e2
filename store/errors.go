package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"

	gosqlite "github.com/glebarez/go-sqlite"
	"github.com/jackc/pgx/v5/pgconn"
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
		// gorm's "record not found" adds nothing to the message, which the CLI prints whole.
		return errs.E(errs.NotFound, "%s not found", what)
	case errors.Is(err, gorm.ErrDuplicatedKey):
		// gorm's "duplicated key not allowed" (its translation of the database's words) adds
		// nothing either: "project "x" already exists: duplicated key not allowed".
		return errs.E(errs.Conflict, "%s already exists", what)
	case errors.Is(err, gorm.ErrForeignKeyViolated):
		return errs.Wrap(errs.Conflict, err, "%s refers to something that does not exist", what)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return errs.Wrap(errs.Unavailable, err, "%s: the database did not answer in time", what)
	case isConnError(err):
		return errs.Wrap(errs.Unavailable, err, "%s: the database is unreachable", what)
	case isUnstorableText(err):
		// Inputs are checked for this before they reach a statement (internal/text); one that was
		// not is still the caller's text, not Portside's failure.
		return errs.Wrap(errs.Invalid, err, "%s: the text holds a NUL character (U+0000) or bytes that are not UTF-8, which PostgreSQL cannot store", what)
	case clash(err) != "":
		// Not a fault of the statement nor of Portside: another transaction held what it needed.
		return errs.Wrap(errs.Unavailable, err, "%s: the statement clashed with a concurrent change (%s) and may be retried", what, clash(err))
	default:
		return errs.Wrap(errs.Internal, err, "%s", what)
	}
}

// isConnError reports whether err says the database could not be reached or went away (rather
// than refusing the statement): callers then answer UNAVAILABLE, a retry may succeed.
func isConnError(err error) bool {
	var ne net.Error
	var oe *net.OpError
	var ce *pgconn.ConnectError
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &ne), errors.As(err, &oe), errors.As(err, &ce):
		return true
	case errors.Is(err, sql.ErrConnDone), errors.Is(err, driver.ErrBadConn), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	case errors.As(err, &pe):
		// Class 08 is "connection exception"; 57P01-57P03 are the server shutting down or starting.
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	case pgconn.Timeout(err):
		return true
	}
	// database/sql's "database is closed" (the store was closed under a request) has no exported
	// value; pgx's "conn closed" neither.
	msg := err.Error()
	return strings.Contains(msg, "sql: database is closed") || strings.Contains(msg, "conn closed")
}

// IsLockNotAvailable reports whether err is PostgreSQL refusing a statement because a lock it
// asked for was held: with NOWAIT, or past lock_timeout (SQLSTATE 55P03, lock_not_available).
func IsLockNotAvailable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "55P03"
}

// clash says how the database refused a statement because of a concurrent transaction, or ""
// when it did not: on PostgreSQL a deadlock (SQLSTATE 40P01, deadlock_detected), a serialization
// failure (40001) or a lock not taken in time (55P03, lock_not_available: lock_timeout or NOWAIT);
// on SQLite a database still locked by another connection once busy_timeout ran out (SQLITE_BUSY)
// or a table locked by one (SQLITE_LOCKED). PostgreSQL has aborted the transaction, SQLite has not
// run the statement; nothing is wrong with either, and running them again may succeed.
func clash(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "40P01":
			return "a deadlock"
		case "40001":
			return "a serialization failure"
		case "55P03":
			return "a lock it could not take in time"
		}
		return ""
	}
	var se *gosqlite.Error
	if errors.As(err, &se) {
		// The primary result code is the low byte; extended codes (SQLITE_BUSY_SNAPSHOT...) add
		// the reason above it.
		switch se.Code() & 0xff {
		case sqliteBusy:
			return "the database is locked by another writer"
		case sqliteLocked:
			return "a table is locked"
		}
	}
	return ""
}

// SQLite's primary result codes for a database or a table locked by another connection.
const (
	sqliteBusy   = 5 // SQLITE_BUSY
	sqliteLocked = 6 // SQLITE_LOCKED
)

// isUnstorableText reports whether PostgreSQL refused text for its bytes: a NUL or invalid UTF-8
// (22021, character_not_in_repertoire) or a character the encoding lacks (22P05).
func isUnstorableText(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "22021" || pe.Code == "22P05")
}

// Package migrations holds Portside's versioned schema changes, one directory of SQL files per
// dialect, embedded in the binary. Files are applied in version order by `portside migrate up` (see
// package store). Every change follows expand, backfill, contract: add a column or table before the
// code that reads it ships, never rename, never add NOT NULL without a default, and drop a column only
// after no running version reads it, raising the compatibility floor (schema_floor) in that step.
package migrations

import (
	"embed"
	"io/fs"
)

//go:embed sqlite/*.sql postgres/*.sql
var files embed.FS

// For returns the migrations of one dialect ("sqlite" or "postgres").
func For(dialect string) (fs.FS, error) {
	return fs.Sub(files, dialect)
}

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/store"
)

// backupCmd writes an online backup of a SQLite database. The image has no sqlite3 shell, and the
// database is in use by serve, so copying the file (and its WAL) is not a backup: this is.
// PostgreSQL is refused with a pointer to pg_dump, which knows its schemas and roles.
func backupCmd() *cobra.Command {
	var to string
	cmd := &cobra.Command{
		Use:   "backup --to FILE",
		Short: "Write a consistent copy of the SQLite database to FILE while serve runs (PostgreSQL: pg_dump)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// Opening a file that is not there would create it, and back up nothing.
			st, err := openStore(cmd, true)
			if err != nil {
				return err
			}
			defer st.Close()
			if st.Dialect() == store.SQLite { // a file that is no Portside database is not backed up
				if err := st.CheckSchema(cmd.Context()); err != nil {
					return err
				}
			}
			if err := st.Backup(cmd.Context(), to); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "backed up %s to %s\n", st.Describe(), to)
			return nil
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "the backup file to write (must not exist)")
	return cmd
}

// sqliteExists refuses a SQLite database setting whose file is not there.
func sqliteExists(database string) error {
	if file, missing := missingSQLite(database); missing {
		return errs.InvalidField("database", "no SQLite database at %s; correct the setting (--database, PORTSIDE_DATABASE_URL or database in the config file, whichever gave it)", file)
	}
	return nil
}

// missingSQLite is the file of a SQLite database setting, and whether it is not there (opening
// it would create it).
func missingSQLite(database string) (string, bool) {
	file, ok := sqliteFile(database)
	if !ok {
		return "", false
	}
	_, err := os.Stat(file)
	return file, errors.Is(err, fs.ErrNotExist)
}

// sqliteFile is the file of a SQLite database setting; false for PostgreSQL or a bad setting.
func sqliteFile(database string) (string, bool) {
	dialect, path, err := store.ParseURL(database)
	if err != nil || dialect != store.SQLite {
		return "", false
	}
	file, _, _ := strings.Cut(strings.TrimPrefix(path, "file:"), "?")
	return file, true
}

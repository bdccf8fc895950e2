package main

import (
	"fmt"

	"github.com/spf13/cobra"
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
			st, err := openStore(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
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

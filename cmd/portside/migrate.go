package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/portside-dev/portside/store"
)

func migrateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply or inspect database schema migrations",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "up",
		Short: "Apply every pending migration (what the Kubernetes migration Job runs)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := openStore(cmd, false)
			if err != nil {
				return err
			}
			defer st.Close()
			applied, err := st.Migrate(cmd.Context())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, m := range applied {
				fmt.Fprintln(out, "applied", m.Name)
			}
			status, err := st.SchemaStatus(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "%s is at schema version %d (%s applied now)\n", st.Describe(), status.Current, plural(len(applied), "migration"))
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "status",
		Short: "List migrations and whether each is applied; exit 3 when some are pending or the schema is newer",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, _, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			if file, missing := missingSQLite(cfg.Database); missing {
				return statusOfNoDatabase(cmd, file) // a status is no reason to create one
			}
			st, err := openConfigured(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer st.Close()
			status, err := st.SchemaStatus(cmd.Context())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "database: %s\nschema version: %d (this Portside knows up to %d)%s\n", st.Describe(), status.Current, status.Latest, newerNote(status))
			for _, m := range status.Migrations {
				fmt.Fprintln(out, " ", m)
			}
			if err := st.CheckSchema(cmd.Context()); err != nil {
				return &exitError{code: 3, err: err}
			}
			// Not this binary's schema, though it may serve on it: scripts that wait for "migrated
			// to exactly this release" still see a difference.
			if status.Newer() {
				return &exitError{code: 3, err: fmt.Errorf("database %s has schema version %d, newer than this Portside's %d: compatible, this Portside serves on it (its migrations only expand)",
					st.Describe(), status.Current, status.Latest)}
			}
			return nil
		},
	})
	return cmd
}

// statusOfNoDatabase is migrate status for a SQLite file that is not there: every migration
// pending (read from an empty database of its own, removed after), and the file not created.
func statusOfNoDatabase(cmd *cobra.Command, file string) error {
	dir, err := os.MkdirTemp("", "portside-status-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := store.Open(cmd.Context(), filepath.Join(dir, "empty.db"), store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	status, err := st.SchemaStatus(cmd.Context())
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "database: sqlite %s (not there yet)\nschema version: 0 (this Portside knows up to %d)\n", file, status.Latest)
	for _, m := range status.Migrations {
		fmt.Fprintln(out, " ", m)
	}
	return &exitError{code: 3, err: fmt.Errorf("no SQLite database at %s yet: `portside migrate up` (or serve) creates it with its %d migrations", file, status.Pending())}
}

// newerNote says, after the schema version, whether a newer schema still serves this binary.
func newerNote(st store.SchemaStatus) string {
	switch {
	case !st.Compatible():
		return fmt.Sprintf(": newer, incompatible (floor %d)", st.Floor)
	case st.Newer():
		return ": newer, compatible"
	}
	return ""
}

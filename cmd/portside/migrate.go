package main

import (
	"fmt"

	"github.com/spf13/cobra"
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
			st, err := openStore(cmd)
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
		Short: "List migrations and whether each is applied; exit 3 when some are pending",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := openStore(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			status, err := st.SchemaStatus(cmd.Context())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "database: %s\nschema version: %d (this Portside knows up to %d)\n", st.Describe(), status.Current, status.Latest)
			for _, m := range status.Migrations {
				fmt.Fprintln(out, " ", m)
			}
			if err := st.CheckSchema(cmd.Context()); err != nil {
				return &exitError{code: 3, err: err}
			}
			return nil
		},
	})
	return cmd
}

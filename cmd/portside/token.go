package main

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth"
)

func tokenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create, list and revoke API tokens, directly on the configured database",
		Long: `Manage Portside API tokens on the configured database, without signing in: for the first
admin, for automation, and for recovery. Tokens are sent as "Authorization: Bearer pst_...".`,
	}
	cmd.AddCommand(tokenCreateCmd(), tokenListCmd(), tokenRevokeCmd())
	return cmd
}

func tokenCreateCmd() *cobra.Command {
	var user, name, scopes string
	var admin, never bool
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "create --user NAME [--admin] [--ttl DURATION | --never-expires]",
		Short: "Create an API token; its secret is printed alone on the last line, once",
		Long: `Create an API token for a user (created if they never signed in) and print it. The secret is
the last line of the output, alone, so scripts can take it with tail -n1. It is stored only as a
hash and cannot be shown again. It lives --ttl, or token-max-lifetime without one; only
--never-expires makes a token without end, and only here.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			if user == "" {
				return fmt.Errorf("--user is required: the username the token acts as")
			}
			// First setup runs this before anything else: migrate as serve and import would.
			a, err := openApp(cmd, true)
			if err != nil {
				return err
			}
			defer func() { a.closeAfter(err, cmd.ErrOrStderr()) }()
			if name == "" {
				name = "cli-" + time.Now().UTC().Format("20060102-150405")
			}
			spec := auth.TokenSpec{Username: user, Name: name, Admin: admin, TTL: ttl, NeverExpires: never}
			if scopes != "" {
				spec.Scopes = strings.Split(scopes, ",")
			}
			secret, tok, err := a.auth(nil).CreateToken(cliContext(cmd), spec)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			exp := "never"
			if tok.ExpiresAt != nil {
				exp = tok.ExpiresAt.Format(time.RFC3339)
			}
			fmt.Fprintf(out, "token %d %q for %s (admin: %t, scopes: %s, expires: %s)\n", tok.ID, tok.Name, tok.Username,
				tok.Admin, scopeText(tok.Scopes), exp)
			fmt.Fprintln(out, secret)
			return nil
		},
	}
	cmd.Flags().StringVar(&user, "user", "", "username the token acts as (required)")
	cmd.Flags().StringVar(&name, "name", "", "what will use the token (default cli-<time>)")
	cmd.Flags().BoolVar(&admin, "admin", false, "make an admin token")
	cmd.Flags().DurationVar(&ttl, "ttl", 0, "lifetime, e.g. 720h (default token-max-lifetime)")
	cmd.Flags().BoolVar(&never, "never-expires", false, "make a token without end (not with --ttl)")
	cmd.Flags().StringVar(&scopes, "scopes", "", "read and/or write, comma separated (default both)")
	return cmd
}

func scopeText(s []string) string {
	if len(s) == 0 {
		return "read,write"
	}
	return strings.Join(s, ",")
}

func tokenListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List every API token (revoked and expired ones too)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := openApp(cmd, false)
			if err != nil {
				return err
			}
			defer a.close()
			toks, err := a.auth(nil).Tokens(cliContext(cmd), true)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tUSER\tNAME\tADMIN\tSCOPES\tCREATED\tEXPIRES\tLAST USED\tSTATE")
			for _, t := range toks {
				state := "active"
				switch {
				case t.RevokedAt != nil:
					state = "revoked"
				case t.ExpiresAt != nil && time.Now().After(*t.ExpiresAt):
					state = "expired"
				}
				fmt.Fprintf(w, "%d\t%s\t%s\t%t\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Username, t.Name, t.Admin, scopeText(t.Scopes),
					t.CreatedAt.Format(time.RFC3339), timeText(t.ExpiresAt, "never"), timeText(t.LastUsedAt, "-"), state)
			}
			return w.Flush()
		},
	}
}

func timeText(t *time.Time, none string) string {
	if t == nil {
		return none
	}
	return t.Format(time.RFC3339)
}

func tokenRevokeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke an API token at once",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return fmt.Errorf("token ID %q: expected the number shown by 'portside token list'", args[0])
			}
			a, err := openApp(cmd, false)
			if err != nil {
				return err
			}
			defer a.close()
			tok, err := a.auth(nil).RevokeToken(cliContext(cmd), id)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "token %d %q of %s revoked\n", tok.ID, tok.Name, tok.Username)
			return nil
		},
	}
}

func auditCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Read the audit log"}
	var actor, action, since, until string
	export := &cobra.Command{
		Use:   "export",
		Short: "Write audit records as JSON lines, oldest first, to standard output",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := audit.Filter{Actor: actor, Action: action}
			var err error
			if f.Since, err = audit.ParseBound("--since", since); err != nil {
				return err
			}
			if f.Until, err = audit.ParseBound("--until", until); err != nil {
				return err
			}
			a, err := openApp(cmd, false)
			if err != nil {
				return err
			}
			defer a.close()
			_, err = a.auditLog().Export(cliContext(cmd), f, cmd.OutOrStdout())
			return err
		},
	}
	export.Flags().StringVar(&actor, "actor", "", "only this actor's records")
	export.Flags().StringVar(&action, "action", "", "only this action, e.g. catalog.location.register")
	export.Flags().StringVar(&since, "since", "", "only records at or after this RFC 3339 time")
	export.Flags().StringVar(&until, "until", "", "only records before this RFC 3339 time")
	cmd.AddCommand(export)
	return cmd
}

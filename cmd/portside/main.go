// Command portside runs the Portside developer portal and its administration commands. This file
// and its siblings only read configuration and wire packages together.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/portside-dev/portside/config"
	"github.com/portside-dev/portside/errs"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// exitError carries a process exit code other than 1 through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // the first signal starts a graceful stop; a second one ends the process at once
	}()
	err := newRoot().ExecuteContext(ctx)
	stop()
	if err != nil {
		code := 1
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
		fmt.Fprintln(os.Stderr, "portside:", err)
		os.Exit(code)
	}
}

func newRoot() *cobra.Command {
	registerCatalogChecks()
	root := &cobra.Command{
		Use:   "portside",
		Short: "Portside: an internal developer portal with a Backstage-compatible catalog",
		Long: `Portside serves a service catalog (Backstage catalog-info.yaml compatible) over GraphQL.

Every setting can be given as a flag, as a PORTSIDE_* environment variable, or in a YAML file
named by --config; flags win over the environment, which wins over the file.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	config.Register(root.PersistentFlags())
	root.AddCommand(serveCmd(), migrateCmd(), backupCmd(), catalogCmd(), pipelineCmd(), deployCmd(), tasksCmd(), tokenCmd(), auditCmd(), doctorCmd(), versionCmd())
	requireSubcommands(root)
	return root
}

// requireSubcommands makes every group of commands (migrate, token ...) fail without one of its
// subcommands, or with one it does not have: cobra prints the group's help and exits 0, so a
// migration Job running "migrate upp" succeeded having done nothing.
func requireSubcommands(c *cobra.Command) {
	for _, sub := range c.Commands() {
		if sub.HasSubCommands() && sub.Run == nil && sub.RunE == nil {
			sub.SuggestionsMinimumDistance = 2 // cobra's own default for the root's commands
			sub.Args = func(cmd *cobra.Command, args []string) error {
				if len(args) == 0 {
					return nil
				}
				hint := ""
				if near := cmd.SuggestionsFor(args[0]); len(near) > 0 {
					hint = "; did you mean " + strings.Join(near, " or ") + "?"
				}
				return fmt.Errorf("unknown command %q for %q%s (its commands: %s)", args[0], cmd.CommandPath(), hint, strings.Join(subcommands(cmd), ", "))
			}
			sub.RunE = func(cmd *cobra.Command, _ []string) error {
				return fmt.Errorf("%s needs a subcommand: %s (see %s --help)", cmd.CommandPath(), strings.Join(subcommands(cmd), ", "), cmd.CommandPath())
			}
		}
		requireSubcommands(sub)
	}
}

// subcommands names the commands of a group that a person may run.
func subcommands(c *cobra.Command) []string {
	var names []string
	for _, s := range c.Commands() {
		if s.IsAvailableCommand() {
			names = append(names, s.Name())
		}
	}
	return names
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.OutOrStdout(), "portside", version)
			return nil
		},
	}
}

// exactArgs is cobra.ExactArgs with a refusal that names the arguments the command takes, as its
// usage line writes them ("portside pipeline trigger takes COMPONENT PIPELINE; got 1 argument"),
// where cobra's said only "accepts 2 arg(s), received 1".
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == n {
			return nil
		}
		noun := "arguments"
		if len(args) == 1 {
			noun = "argument"
		}
		return errs.E(errs.Invalid, "%s takes %s; got %d %s (see --help)", cmd.CommandPath(), argNames(cmd), len(args), noun)
	}
}

// argNames are the positional arguments of cmd's usage line: its words in capitals that are
// neither a flag's value nor optional ("import --project P [--format F] FILE" → "FILE").
func argNames(cmd *cobra.Command) string {
	var names []string
	depth, flag := 0, false
	for _, w := range strings.Fields(cmd.Use)[1:] {
		opens, closes := strings.Count(w, "["), strings.Count(w, "]")
		switch {
		case depth > 0 || opens > 0:
		case strings.HasPrefix(w, "-"):
			flag = true
			depth += opens - closes
			continue
		case !flag && w == strings.ToUpper(w):
			names = append(names, w)
		}
		depth += opens - closes
		flag = false
	}
	return strings.Join(names, " ")
}

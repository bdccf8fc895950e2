package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/sources"
)

func catalogCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "catalog",
		Short: "Validate catalog files and manage catalog locations",
	}
	cmd.AddCommand(validateCmd(), importCmd(), locationsCmd(), refreshCmd(), unregisterCmd())
	return cmd
}

func validateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate PATH|URL...",
		Short: "Check catalog files and list every error; exit 1 when there is one",
		Long: `Check catalog-info.yaml files without touching the database.

Each argument is a file, a directory (its catalog-info.yaml files at any depth), a glob, or an
http(s) URL. Location entities are followed and placeholders ($text, $json, $yaml) are read, as
an import would. Every error names its file, document, line and field.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out := cmd.OutOrStdout()
			var files, entities, problems int
			for _, arg := range args {
				spec := catalog.LocationSpec{Type: catalog.LocationFile, Target: arg}
				var reader catalog.Reader = &sources.Files{}
				if isURL(arg) {
					spec.Type, reader = catalog.LocationURL, &sources.URLs{}
				}
				spec, err := reader.Check(spec)
				if err != nil {
					return err
				}
				snap, err := reader.Open(cmd.Context(), spec, "")
				if err != nil {
					return err
				}
				c, err := catalog.Collect(cmd.Context(), snap)
				_ = snap.Close()
				if err != nil {
					return err
				}
				files += c.Files
				entities += len(c.Entities)
				problems += c.ErrorCount
				for _, e := range c.Errors {
					fmt.Fprintln(out, e.Error())
				}
				if more := c.ErrorCount - len(c.Errors); more > 0 {
					fmt.Fprintf(out, "... and %s more in %s\n", plural(more, "error"), arg)
				}
			}
			summary := fmt.Sprintf("%s, %s valid, %s", plural(files, "file"), plural(entities, "entity"), plural(problems, "error"))
			if problems > 0 {
				return &exitError{code: 1, err: fmt.Errorf("%s", summary)}
			}
			fmt.Fprintln(out, summary)
			return nil
		},
	}
}

func isURL(s string) bool { return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") }

func importCmd() *cobra.Command {
	var typ, ref, path string
	cmd := &cobra.Command{
		Use:   "import PATH|URL",
		Short: "Register a location in the database and refresh it (exit 2 when it has errors)",
		Long: `Register a catalog location and ingest it now, in the configured database (--database).

PATH is a file, directory or glob on this machine (made absolute); an http(s) URL is read as
one catalog file; with --type git the argument is a repository URL (http(s)://, git:// or
file://) and --ref and --path choose the branch and the files. Importing a location that is
already registered refreshes it. Exit status: 0 imported cleanly, 1 refused (nothing imported),
2 imported with errors in some documents (listed).`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			spec := catalog.LocationSpec{Type: catalog.LocationType(typ), Target: args[0], Ref: ref, Path: path}
			if typ == "" {
				spec.Type = catalog.LocationFile
				if isURL(args[0]) {
					spec.Type = catalog.LocationURL
				}
			}
			a, err := openApp(cmd, true)
			if err != nil {
				return err
			}
			// Refused, the import leaves no database it created behind; imported with errors in
			// some documents (exit 2), it keeps what it imported.
			defer func() {
				var exit *exitError
				refused := err
				if errors.As(err, &exit) && exit.code == 2 {
					refused = nil
				}
				a.closeAfter(refused, cmd.ErrOrStderr())
			}()
			batchGC()
			res, err := a.catalog().RegisterLocation(cliContext(cmd), spec)
			if err != nil {
				return err
			}
			return reportRefresh(cmd.OutOrStdout(), res)
		},
	}
	cmd.Flags().StringVar(&typ, "type", "", "location type: file, url or git (default: file, or url for http(s) URLs)")
	cmd.Flags().StringVar(&ref, "ref", "", "git only: branch, tag or commit (default: the remote's default branch)")
	cmd.Flags().StringVar(&path, "path", "", "git only: path or glob of catalog files in the repository (default: catalog-info.yaml)")
	return cmd
}

// batchGC paces the collector for a one-off ingest. An import allocates several times the size
// of its catalog in short-lived parse trees while its live heap stays small (it streams: the
// parsed documents of a few files, the refs seen so far: 150-350 MB at a million entities), so
// the default pacing collects far more often than memory needs: at GOGC 50, the old setting
// here, the collector took about a sixth of the import's CPU. The heap may grow to five times
// the live heap (GOGC 400), but no further than importMemoryLimit, beyond which the runtime
// collects as often as it must. A GOGC or GOMEMLIMIT in the environment still wins. Only the
// import and refresh commands call this; serve paces its collector in paceServeGC.
func batchGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(importMemoryLimit)
	}
}

// importMemoryLimit is the soft bound batchGC puts on an import's heap. The bound on a
// million-entity import is 1.5 GB of peak RSS; at 768 MB the heap of such an import kept
// reaching the limit, and the collector took 31 s of CPU (107 cycles, GODEBUG=gctrace=1) on a
// machine whose two cores the database's COPY shares; at 1 GiB, 12 s (90 cycles), the peak RSS
// 1.08 GB (0.82 GB before).
const importMemoryLimit = 1 << 30

func reportRefresh(out io.Writer, res *catalog.RefreshResult) error {
	l := res.Location
	fmt.Fprintf(out, "location %d (%s %s): %s, %s\n", l.ID, l.Type, l.Target, l.Status, plural(l.EntityCount, "entity"))
	if res.Unchanged {
		fmt.Fprintln(out, "unchanged since the last refresh")
	} else {
		fmt.Fprintf(out, "added %d, updated %d, removed %d\n", res.Added, res.Updated, res.Removed)
	}
	if l.Status == catalog.StatusFailed {
		return &exitError{code: 1, err: fmt.Errorf("location %d could not be read: %s", l.ID, l.Message)}
	}
	if res.ErrorCount > 0 {
		printErrors(out, res.Errors)
		if more := res.ErrorCount - len(res.Errors); more > 0 {
			fmt.Fprintf(out, "... and %s more, counted but not kept (catalog-max-location-errors)\n", plural(more, "error"))
		}
		return &exitError{code: 2, err: fmt.Errorf("location %d has %s", l.ID, plural(res.ErrorCount, "error"))}
	}
	return nil
}

func locationsCmd() *cobra.Command {
	var showErrors bool
	cmd := &cobra.Command{
		Use:   "locations",
		Short: "List registered locations with their status",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a, err := openApp(cmd, false)
			if err != nil {
				return err
			}
			defer a.close()
			cat := a.catalog()
			locs, err := cat.Locations(cmd.Context())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tTYPE\tTARGET\tSTATUS\tENTITIES\tERRORS\tREFRESHED")
			for _, l := range locs {
				target := l.Target
				if l.Type == catalog.LocationGit {
					target += " @" + orDefault(l.Ref, "HEAD") + " " + l.Path
				}
				refreshed := "never"
				if l.RefreshedAt != nil {
					refreshed = l.RefreshedAt.Format("2006-01-02 15:04:05Z")
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%d\t%d\t%s\n", l.ID, l.Type, target, l.Status, l.EntityCount, l.ErrorCount, refreshed)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if !showErrors {
				return nil
			}
			for _, l := range locs {
				if l.Message != "" {
					fmt.Fprintf(out, "\nlocation %d: %s\n", l.ID, l.Message)
				}
				got, err := cat.LocationErrors(cmd.Context(), l.ID, catalog.MaxLocationErrorsPage)
				if err != nil {
					return err
				}
				if len(got) > 0 {
					fmt.Fprintf(out, "\nlocation %d errors:\n", l.ID)
					printErrors(out, got)
				}
				if more := l.ErrorCount - len(got); more > 0 {
					fmt.Fprintf(out, "... and %s more, counted but not kept (catalog-max-location-errors)\n", plural(more, "error"))
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&showErrors, "errors", false, "also list each location's errors")
	return cmd
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func refreshCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "refresh ID|TARGET",
		Short: "Read a registered location again and apply what changed (exit 2 when it has errors)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := openApp(cmd, false)
			if err != nil {
				return err
			}
			defer a.close()
			cat := a.catalog()
			l, err := cat.FindLocation(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			batchGC()
			res, err := cat.Refresh(cliContext(cmd), l.ID)
			if err != nil {
				return err
			}
			return reportRefresh(cmd.OutOrStdout(), res)
		},
	}
}

func unregisterCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "unregister ID|TARGET",
		Short: "Remove a location and the entities it provided",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := openApp(cmd, false)
			if err != nil {
				return err
			}
			defer a.close()
			cat := a.catalog()
			l, err := cat.FindLocation(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			n, err := cat.UnregisterLocation(cliContext(cmd), l.ID)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "unregistered location %d (%s %s); removed %s\n", l.ID, l.Type, l.Target, plural(n, "entity"))
			return nil
		},
	}
}

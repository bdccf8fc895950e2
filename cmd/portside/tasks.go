package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/pipelines"
	"github.com/portside-dev/portside/rollouts"
	"github.com/portside-dev/portside/runbooks"
	"github.com/portside-dev/portside/tasks"
)

// tasks builds the status-meeting tasks service on the catalog, its reports' delivery figures
// read from the rollouts and pipeline runs Portside has recorded; the rollouts, pipeline runs and
// runbooks find what tasks link to.
func (a *app) tasks(cat *catalog.Service, rs *rollouts.Service, ps *pipelines.Service, books *runbooks.Service) *tasks.Service {
	return tasks.NewService(a.store, tasks.Options{Catalog: cat, Rollouts: rs, PipelineRuns: ps, Runbooks: books, Audit: a.auditLog(),
		Logger: a.log, Figures: tasks.Delivery{DORA: rs, Runs: ps, Components: cat}, Bus: a.bus})
}

func tasksCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "tasks", Short: "Import and export status-meeting task tables (as the operator, on the database)"}
	cmd.AddCommand(tasksImportCmd(), tasksExportCmd(), tasksReportCmd(), tasksProjectCmd())
	return cmd
}

// openTasks opens the database and the tasks service, as serve wires it.
func openTasks(cmd *cobra.Command) (*tasks.Service, func(), error) {
	a, err := openApp(cmd, false)
	if err != nil {
		return nil, nil, err
	}
	// The CLI follows no Argo CD and runs no pipeline: it reads what serve recorded, for reports.
	cat := a.catalog()
	rs := rollouts.NewService(a.store, nil, rollouts.Options{Catalog: cat})
	ps := pipelines.NewService(a.store, pipelines.Options{Catalog: cat})
	rs.UseLeadTimes(ps)
	books := runbooks.NewService(a.store, runbooks.Options{Catalog: cat, Deployments: rs, Logger: a.log})
	return a.tasks(cat, rs, ps, books), a.close, nil
}

// tableFormat is the --format flag, or else what the file's extension says (.csv is CSV).
func tableFormat(flag, file string) (tasks.Format, error) {
	if flag == "" && strings.EqualFold(filepath.Ext(file), ".csv") {
		return tasks.CSV, nil
	}
	return tasks.ParseFormat("--format", flag)
}

func tasksImportCmd() *cobra.Command {
	var project, format string
	cmd := &cobra.Command{
		Use:   "import --project P [--format markdown|csv] FILE",
		Short: "Import a status-meeting table (Markdown or CSV; - reads stdin) into a project: rows update the tasks with their title, or add tasks",
		Long: `Import a status-meeting table into a project. The columns are Task, Priority, Assignee, Status
and Comments / Issues (in any order, any case; Comments / Issues may be left out). A row whose
task title the project has (whatever the case and spacing) updates that task; any other row adds
one. Assignees are catalog Users, by name, title or e-mail. Every problem is printed by row and
column, and then nothing is imported (exit 1).`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := tableFormat(format, args[0])
			if err != nil {
				return err
			}
			text, err := readTable(cmd, args[0])
			if err != nil {
				return err
			}
			svc, done, err := openTasks(cmd)
			if err != nil {
				return err
			}
			defer done()
			res, err := svc.Import(cliContext(cmd), project, f, text)
			var problems *tasks.ImportErrors
			if errors.As(err, &problems) {
				for _, p := range problems.Errors {
					fmt.Fprintln(cmd.OutOrStdout(), p.String())
				}
				return &exitError{code: 1, err: fmt.Errorf("%s: %s", args[0], errs.PublicMessage(err))}
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "project %s: %d created, %d updated, %d unchanged\n", project, res.Created, res.Updated, res.Unchanged)
			return nil
		},
	}
	cmd.Flags().StringVar(&project, "project", "", "the project's name (required)")
	cmd.Flags().StringVar(&format, "format", "", "markdown or csv (default: csv for a .csv file, else markdown)")
	_ = cmd.MarkFlagRequired("project")
	return cmd
}

// readTable reads a table file (or stdin for "-"), at most tasks.MaxImportBytes.
func readTable(cmd *cobra.Command, name string) (string, error) {
	var r io.Reader = cmd.InOrStdin()
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return "", errs.Wrap(errs.Invalid, err, "FILE")
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, tasks.MaxImportBytes+1))
	if err != nil {
		return "", errs.Wrap(errs.Invalid, err, "FILE")
	}
	if len(b) > tasks.MaxImportBytes {
		return "", errs.InvalidField("FILE", "%s is larger than %d bytes", name, tasks.MaxImportBytes)
	}
	return string(b), nil
}

func tasksReportCmd() *cobra.Command {
	var project, format, output string
	cmd := &cobra.Command{
		Use:   "report --project P [--format markdown|html] [--output FILE]",
		Short: "Write a project's status-meeting report for the period since its last meeting (figures, the table with its changes, blockers, next steps)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format == "" && strings.EqualFold(filepath.Ext(output), ".html") {
				format = "html"
			}
			if format == "" {
				format = "markdown"
			}
			f, err := tasks.ParseReportFormat("--format", format)
			if err != nil {
				return err
			}
			svc, done, err := openTasks(cmd)
			if err != nil {
				return err
			}
			defer done()
			text, err := svc.RenderReport(cliContext(cmd), project, f)
			if err != nil {
				return err
			}
			if output == "" || output == "-" {
				_, err = io.WriteString(cmd.OutOrStdout(), text)
				return err
			}
			return os.WriteFile(output, []byte(text), 0o644)
		},
	}
	cmd.Flags().StringVar(&project, "project", "", "the project's name (required)")
	cmd.Flags().StringVar(&format, "format", "", "markdown or html (default: html for a .html output file, else markdown)")
	cmd.Flags().StringVar(&output, "output", "", "write to this file instead of stdout")
	_ = cmd.MarkFlagRequired("project")
	return cmd
}

func tasksExportCmd() *cobra.Command {
	var project, format, output string
	cmd := &cobra.Command{
		Use:   "export --project P [--format markdown|csv] [--output FILE]",
		Short: "Write a project's tasks as the status-meeting table (importing it again changes nothing)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := tableFormat(format, output)
			if err != nil {
				return err
			}
			svc, done, err := openTasks(cmd)
			if err != nil {
				return err
			}
			defer done()
			text, err := svc.Export(cliContext(cmd), project, f)
			if err != nil {
				return err
			}
			if output == "" || output == "-" {
				_, err = io.WriteString(cmd.OutOrStdout(), text)
				return err
			}
			return os.WriteFile(output, []byte(text), 0o644)
		},
	}
	cmd.Flags().StringVar(&project, "project", "", "the project's name (required)")
	cmd.Flags().StringVar(&format, "format", "", "markdown or csv (default: csv for a .csv output file, else markdown)")
	cmd.Flags().StringVar(&output, "output", "", "write to this file instead of stdout")
	_ = cmd.MarkFlagRequired("project")
	return cmd
}

func tasksProjectCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "project", Short: "Create status-meeting projects"}
	var owner, title string
	var members []string
	create := &cobra.Command{
		Use:   "create NAME --owner GROUP [--title T] [--member USER]...",
		Short: "Create a project owned by a catalog Group",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, done, err := openTasks(cmd)
			if err != nil {
				return err
			}
			defer done()
			p, err := svc.CreateProject(cliContext(cmd), tasks.ProjectInput{Name: args[0], Title: title, Owner: owner, Members: members})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "project %s owned by %s\n", p.Name, p.Owner)
			return nil
		},
	}
	create.Flags().StringVar(&owner, "owner", "", "the owning Group's ref (required)")
	create.Flags().StringVar(&title, "title", "", "the project's title")
	create.Flags().StringArrayVar(&members, "member", nil, "a member's User ref (repeatable)")
	_ = create.MarkFlagRequired("owner")
	cmd.AddCommand(create)
	return cmd
}

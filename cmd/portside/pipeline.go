package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/pipelines"
)

func pipelineCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "pipeline", Short: "Trigger, list and cancel pipeline runs (as the operator, on the database)"}
	cmd.AddCommand(pipelineTriggerCmd(), pipelineRunsCmd(), pipelineCancelCmd())
	return cmd
}

// openPipelines opens the database and the pipelines service, as serve wires it.
func openPipelines(cmd *cobra.Command) (*app, *pipelines.Service, func(), error) {
	a, err := openApp(cmd, false)
	if err != nil {
		return nil, nil, nil, err
	}
	svc, _, stopLocal, err := a.pipelines(a.catalog(), nil) // Kubernetes Jobs run through serve's companion
	if err != nil {
		a.close()
		return nil, nil, nil, err
	}
	return a, svc, func() { stopLocal(); a.close() }, nil
}

// cliPollInterval is how often a waiting CLI reads its run from the provider.
const cliPollInterval = time.Second

func pipelineTriggerCmd() *cobra.Command {
	var ref, key string
	var params []string
	var wait bool
	cmd := &cobra.Command{
		Use:   "trigger COMPONENT PIPELINE",
		Short: "Run a component's pipeline; with --wait (always for local pipelines) follow it to the end (exit 2 unless it succeeds)",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := pipelines.TriggerInput{Component: args[0], Pipeline: args[1], Ref: ref, IdempotencyKey: key, Parameters: map[string]string{}}
			for _, p := range params {
				k, v, ok := strings.Cut(p, "=")
				if !ok || k == "" {
					return errs.InvalidField("--param", "%q is not name=value", p)
				}
				if _, twice := in.Parameters[k]; twice {
					// As the API refuses a parameter given twice: the last one silently won.
					return errs.InvalidField("--param", "%s is given twice", k)
				}
				in.Parameters[k] = v
			}
			_, svc, done, err := openPipelines(cmd)
			if err != nil {
				return err
			}
			defer done()
			run, err := svc.Trigger(cliContext(cmd), in)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "run %d of %s %s on %s: %s\n", run.ID, run.Component, run.Pipeline, run.Provider, run.Status)
			if run.URL != "" {
				fmt.Fprintln(out, run.URL)
			}
			// A local run lives in this process: leaving would end it.
			if !wait && run.Provider != pipelines.ProviderLocal {
				if run.Status.Done() && run.Status != pipelines.Succeeded { // an idempotency key's run, ended already
					return &exitError{code: 2, err: fmt.Errorf("run %d %s", run.ID, strings.ToLower(string(run.Status)))}
				}
				return nil
			}
			if run, err = follow(cmd.Context(), svc, run, out); err != nil {
				if cmd.Context().Err() != nil {
					return interrupted(cmd, svc, run)
				}
				return err
			}
			if run.Status != pipelines.Succeeded {
				return &exitError{code: 2, err: fmt.Errorf("run %d %s", run.ID, strings.ToLower(string(run.Status)))}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&ref, "ref", "", "branch, tag or SHA to run (default: the pipeline's ref)")
	cmd.Flags().StringArrayVar(&params, "param", nil, "a parameter as name=value (repeatable)")
	cmd.Flags().StringVar(&key, "idempotency-key", "", "the same key again returns the first run and starts nothing")
	cmd.Flags().BoolVar(&wait, "wait", false, "follow the run until it ends")
	return cmd
}

// interrupted ends `pipeline trigger` when it is interrupted while it follows run. A local run
// lives in this process, which is about to end: it is cancelled, and recorded so (it stayed
// RUNNING, and no one could cancel it after). Another provider's run goes on without us.
func interrupted(cmd *cobra.Command, svc *pipelines.Service, run pipelines.Run) error {
	out := cmd.OutOrStdout()
	if run.Provider != pipelines.ProviderLocal {
		return fmt.Errorf("interrupted: stopped following run %d, which goes on (`portside pipeline cancel %d` stops it)", run.ID, run.ID)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(cliContext(cmd)), 10*time.Second)
	defer cancel()
	ended, err := svc.Cancel(ctx, run.ID)
	if err != nil {
		return fmt.Errorf("interrupted: cancel local run %d: %w", run.ID, err)
	}
	// The stage's processes are killed; the run ends when they are gone (at once, or within the
	// 10 s given), and is recorded so before this process exits.
	for ended.Active() && ctx.Err() == nil {
		time.Sleep(50 * time.Millisecond)
		if _, err := svc.Poll(ctx); err != nil {
			break
		}
		read, err := svc.Run(ctx, run.ID)
		if err != nil {
			break
		}
		ended = read
	}
	fmt.Fprintf(out, "run %d: %s (interrupted)\n", ended.ID, ended.Status)
	return &exitError{code: 2, err: fmt.Errorf("run %d %s: interrupted", ended.ID, strings.ToLower(string(ended.Status)))}
}

// follow polls the run until it ends (or ctx does), printing each stage as it changes.
func follow(ctx context.Context, svc *pipelines.Service, run pipelines.Run, out io.Writer) (pipelines.Run, error) {
	shown := map[string]pipelines.Status{}
	ticker := time.NewTicker(cliPollInterval)
	defer ticker.Stop()
	for {
		for _, s := range run.Stages {
			if shown[s.Name] != s.Status {
				shown[s.Name] = s.Status
				fmt.Fprintf(out, "  %-20s %s\n", s.Name, s.Status)
			}
		}
		if !run.Active() {
			fmt.Fprintf(out, "run %d: %s\n", run.ID, run.Status)
			for _, a := range run.Artifacts {
				fmt.Fprintf(out, "  artifact %s %s %s\n", a.Name, a.Image, a.Version)
			}
			return run, nil
		}
		select {
		case <-ctx.Done():
			return run, ctx.Err()
		case <-ticker.C:
		}
		if _, err := svc.Poll(ctx); err != nil {
			return run, err
		}
		read, err := svc.Run(ctx, run.ID)
		if err != nil {
			return run, err // the run as last read: an interrupted read must not lose which it is
		}
		run = read
	}
}

func pipelineRunsCmd() *cobra.Command {
	var pipeline, status string
	var first int
	cmd := &cobra.Command{
		Use:   "runs [COMPONENT]",
		Short: "List pipeline runs, newest first",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := pipelines.Filter{Pipeline: pipeline}
			if len(args) == 1 {
				f.Component = args[0]
			}
			if status != "" {
				st := pipelines.Status(strings.ToUpper(status))
				switch st {
				case pipelines.Queued, pipelines.Running, pipelines.Succeeded, pipelines.Failed, pipelines.Cancelled, pipelines.TimedOut:
				default:
					return errs.InvalidField("status", "%q is not a run's status: queued, running, succeeded, failed, cancelled or timed_out", status)
				}
				f.Statuses = []pipelines.Status{st}
			}
			_, svc, done, err := openPipelines(cmd)
			if err != nil {
				return err
			}
			defer done()
			page, err := svc.Runs(cliContext(cmd), f, first, "")
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tCOMPONENT\tPIPELINE\tREF\tSTATUS\tBY\tCREATED\tRETRY OF")
			for _, r := range page.Runs {
				retry := ""
				if r.RetryOf != nil {
					retry = strconv.FormatInt(*r.RetryOf, 10)
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Component, r.Pipeline, r.Ref, r.Status, r.TriggeredBy,
					r.CreatedAt.Format("2006-01-02 15:04:05Z"), retry)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&pipeline, "pipeline", "", "only this pipeline's runs")
	cmd.Flags().StringVar(&status, "status", "", "only runs in this status (queued, running, succeeded, failed, cancelled, timed_out)")
	cmd.Flags().IntVar(&first, "first", 20, "how many runs (at most 100)")
	return cmd
}

func pipelineCancelCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "cancel RUN_ID",
		Short: "Ask the provider to stop a run",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return errs.InvalidField("RUN_ID", "%q is not a run ID", args[0])
			}
			_, svc, done, err := openPipelines(cmd)
			if err != nil {
				return err
			}
			defer done()
			run, err := svc.Cancel(cliContext(cmd), id)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "run %d: %s\n", run.ID, run.Status)
			return nil
		},
	}
}

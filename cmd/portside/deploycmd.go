package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/portside-dev/portside/deploys"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/text"
	"github.com/portside-dev/portside/rollouts"
)

func deployCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "deploy", Short: "Request, approve, reject, cancel and list deploy requests (as the operator, on the database)"}
	cmd.AddCommand(deployRequestCmd(), deployDecideCmd("approve"), deployDecideCmd("reject"), deployDecideCmd("cancel"),
		deployStatusCmd(), deployListCmd())
	return cmd
}

// notBySyncWindows holds every approved request for serve: the CLI does not start the Argo CD
// companion, so it cannot see Argo CD's sync windows, and must not apply past one.
type notBySyncWindows struct{}

func (notBySyncWindows) Blocked(context.Context, string, map[string]string, string) (string, error) {
	return "approved from the command line: portside serve applies it on its next pass, once Argo CD's sync windows allow it", nil
}

// openDeploys opens the database and the deploy-request service, as serve wires it, but for Argo
// CD: with Argo CD instances configured, an approved request is left for serve to apply (see
// notBySyncWindows); without, it is applied here, as serve would.
func openDeploys(cmd *cobra.Command) (*deploys.Service, func(), error) {
	a, err := openApp(cmd, false)
	if err != nil {
		return nil, nil, err
	}
	cat := a.catalog()
	ps, _, stopLocal, err := a.pipelines(cat, nil) // proves versions; lends its clients for pull requests
	if err != nil {
		a.close()
		return nil, nil, err
	}
	done := func() { stopLocal(); a.close() }
	opts, err := a.deployOptions(cat, ps)
	if err != nil {
		done()
		return nil, nil, err
	}
	if len(a.cfg.ArgoCDInstances) > 0 {
		opts.SyncWindows = notBySyncWindows{}
	} else {
		rs := rollouts.NewService(a.store, nil, rollouts.Options{Catalog: cat})
		opts.SyncWindows = bridgeSyncWindows(rs)
	}
	return deploys.NewService(a.store, opts), done, nil
}

// requestNumber reads a deploy request's number.
func requestNumber(arg string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimPrefix(arg, "#"), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.InvalidField("NUMBER", "%q is not a deploy request number", arg)
	}
	return id, nil
}

func deployRequestCmd() *cobra.Command {
	var env, reason string
	cmd := &cobra.Command{
		Use:   "request COMPONENT VERSION --env ENVIRONMENT [--reason R]",
		Short: "Ask for a version of a component to be deployed to an environment (exit 2 when applying it at once failed)",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if env == "" {
				return errs.InvalidField("--env", "is required: the environment to deploy to")
			}
			svc, done, err := openDeploys(cmd)
			if err != nil {
				return err
			}
			defer done()
			q, err := svc.Request(cliContext(cmd), deploys.RequestInput{Component: args[0], Version: args[1], Environment: env, Reason: reason})
			if err != nil {
				return err
			}
			return report(cmd.OutOrStdout(), svc, q)
		},
	}
	cmd.Flags().StringVar(&env, "env", "", "the environment (required)")
	cmd.Flags().StringVar(&reason, "reason", "", "why (at most 500 characters)")
	return cmd
}

func deployDecideCmd(verb string) *cobra.Command {
	var note string
	short := map[string]string{
		"approve": "Approve a deploy request (never your own: four eyes); it is then applied (exit 2 when applying it failed)",
		"reject":  "Reject a deploy request (never your own)",
		"cancel":  "Withdraw a deploy request that has not been applied",
	}[verb]
	cmd := &cobra.Command{
		Use:   verb + " NUMBER [--note N]",
		Short: short,
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := requestNumber(args[0])
			if err != nil {
				return err
			}
			svc, done, err := openDeploys(cmd)
			if err != nil {
				return err
			}
			defer done()
			ctx := cliContext(cmd)
			var q deploys.Request
			switch verb {
			case "approve":
				q, err = svc.Approve(ctx, id, note)
			case "reject":
				q, err = svc.Reject(ctx, id, note)
			default:
				q, err = svc.Cancel(ctx, id, note)
			}
			if err != nil {
				return err
			}
			return report(cmd.OutOrStdout(), svc, q)
		},
	}
	cmd.Flags().StringVar(&note, "note", "", "a note kept with the decision (at most 500 characters)")
	return cmd
}

// report prints a request as it stands after a change; a request that failed to apply exits 2.
func report(out io.Writer, svc *deploys.Service, q deploys.Request) error {
	printRequest(out, svc, q)
	if q.State == deploys.Failed {
		// Quoted on one line: the outcome is a provider's or git's message, whose control
		// characters, line breaks and bidirectional controls (strconv.Quote escapes all that is
		// not printable) would act on the terminal or read as lines of the CLI's own on stderr.
		return &exitError{code: 2, err: fmt.Errorf("deploy request %d failed: %s", q.ID, strconv.Quote(q.Outcome))}
	}
	return nil
}

// printRequest prints a request: what, where, its state and why, and where it went.
func printRequest(out io.Writer, svc *deploys.Service, q deploys.Request) {
	fmt.Fprintf(out, "deploy request %d: %s %s to %s: %s\n", q.ID, q.Component, q.Version, q.Environment, q.State)
	const valueIndent = "                " // "  " and the 13 columns of the key and its space
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(out, "  %-13s %s\n", k+":", freeText(v, valueIndent))
		}
	}
	line("requested by", q.Requester)
	if q.Reason != "" {
		// Quoted, every line of it, as Slack quotes a reason: the requester wrote it.
		fmt.Fprintf(out, "  %-13s %s\n", "reason:", quoteLines(q.Reason, valueIndent))
	}
	line("approver", q.Approver)
	line("waiting", q.Waiting)
	line("outcome", q.Outcome)
	if q.ExpiresAt != nil && q.State == deploys.Requested {
		line("expires", q.ExpiresAt.Format(time.RFC3339))
	}
	line("pull request", q.PullRequestURL)
	line("commit", q.CommitSHA)
	line("repository", q.Repo)
	if q.PipelineRunID != nil {
		line("built by run", strconv.FormatInt(*q.PipelineRunID, 10))
	}
	line("link", svc.Link(q.ID))
}

// lineBreakChars are what a terminal (or a reader) takes for the start of a new line, and
// lineBreaks makes each of them "\n".
const lineBreakChars = "\r\n\v\f\u0085\u2028\u2029"

var lineBreaks = strings.NewReplacer("\r\n", "\n", "\r", "\n", "\v", "\n", "\f", "\n", "\u0085", "\n", "\u2028", "\n", "\u2029", "\n")

// quoteLines is text someone wrote (a deploy request's reason) as the CLI prints it: every line
// after "> ", the lines after the first indented by indent, as Slack quotes a reason. A line left
// unquoted ("deploy request 8: ... APPROVED") would read as the CLI's own output.
func quoteLines(s, indent string) string {
	lines := strings.Split(lineBreaks.Replace(escapeControls(s)), "\n")
	return "> " + strings.Join(lines, "\n"+indent+"> ")
}

// freeText is a value the CLI prints that it did not write itself (a note, an outcome with a
// provider's message): as it is when it is one line, quoted line by line (quoteLines) when it
// has several.
func freeText(s, indent string) string {
	if !strings.ContainsAny(s, lineBreakChars) {
		return escapeControls(s)
	}
	return quoteLines(s, indent)
}

// escapeControls shows the control characters of s that a terminal would act on (ESC starts the
// sequences that move the cursor or rewrite a line), and the bidirectional controls that make a
// line read as other text (U+202E and its kin, "Trojan Source"), as Go escapes ("\x1b",
// "\u202e"); tabs and line breaks are left as they are, for the caller.
func escapeControls(s string) string {
	if !strings.ContainsFunc(s, escaped) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if !escaped(r) {
			b.WriteRune(r)
			continue
		}
		q := strconv.QuoteRune(r) // '\x1b'
		b.WriteString(q[1 : len(q)-1])
	}
	return b.String()
}

// escaped reports the characters escapeControls shows escaped.
func escaped(r rune) bool {
	return (unicode.IsControl(r) && r != '\t' && !strings.ContainsRune(lineBreakChars, r)) || text.IsBidiControl(r)
}

// statusRequests is how many of a component's requests `deploy status COMPONENT` lists (as Slack's
// /deploy status does).
const statusRequests = 5

func deployStatusCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "status COMPONENT|NUMBER",
		Short: "Show a deploy request with its history (a number), or a component's latest requests",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			svc, done, err := openDeploys(cmd)
			if err != nil {
				return err
			}
			defer done()
			ctx, out := cliContext(cmd), cmd.OutOrStdout()
			if id, err := requestNumber(args[0]); err == nil {
				q, err := svc.Get(ctx, id)
				if err != nil {
					return err
				}
				printRequest(out, svc, q)
				ts, err := svc.Transitions(ctx, id)
				if err != nil {
					return err
				}
				fmt.Fprintln(out, "history:")
				for _, t := range ts {
					from := string(t.From)
					if from == "" {
						from = "-"
					}
					fmt.Fprintf(out, "  %s  %-8s %-8s %s -> %s  %s\n", t.At.Format("2006-01-02 15:04:05Z"), t.Actor, t.Client, from, t.To,
						freeText(t.Note, "      "))
				}
				return nil
			}
			page, err := svc.List(ctx, deploys.Filter{Component: args[0]}, statusRequests, "")
			if err != nil {
				return err
			}
			if len(page.Requests) == 0 {
				fmt.Fprintf(out, "%s has no deploy requests\n", args[0])
				return nil
			}
			return table(out, page.Requests)
		},
	}
}

func deployListCmd() *cobra.Command {
	var states []string
	var env, component string
	var first int
	cmd := &cobra.Command{
		Use:   "list [--state S]... [--env E] [--component C] [--first N]",
		Short: "List deploy requests, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := deploys.Filter{Component: component, Environment: env}
			for _, s := range states {
				for _, one := range strings.Split(s, ",") {
					st := deploys.State(strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(one), "-", "_")))
					if !stateKnown(st) {
						return errs.InvalidField("--state", "%q is not a state: one of %s", one, stateNames())
					}
					f.States = append(f.States, st)
				}
			}
			svc, done, err := openDeploys(cmd)
			if err != nil {
				return err
			}
			defer done()
			page, err := svc.List(cliContext(cmd), f, first, "")
			if err != nil {
				if errs.FieldOf(err) == "first" {
					return errs.InvalidField("--first", "must be between 0 and %d, got %d", deploys.MaxPage, first)
				}
				return err
			}
			if err := table(cmd.OutOrStdout(), page.Requests); err != nil {
				return err
			}
			if page.HasNextPage {
				fmt.Fprintf(cmd.OutOrStdout(), "(%d of %d; --first shows more)\n", len(page.Requests), page.TotalCount)
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&states, "state", nil, "only requests in this state (requested, approved, applying, rolling_out, succeeded, …; repeatable or comma-separated)")
	cmd.Flags().StringVar(&env, "env", "", "only requests to this environment")
	cmd.Flags().StringVar(&component, "component", "", "only this component's requests")
	cmd.Flags().IntVar(&first, "first", 20, "how many requests (at most 100)")
	return cmd
}

func stateKnown(s deploys.State) bool {
	for _, k := range deploys.States {
		if s == k {
			return true
		}
	}
	return false
}

func stateNames() string {
	names := make([]string, len(deploys.States))
	for i, s := range deploys.States {
		names[i] = strings.ToLower(string(s))
	}
	return strings.Join(names, ", ")
}

// table prints requests one a line.
func table(out io.Writer, list []deploys.Request) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NUMBER\tCOMPONENT\tVERSION\tENV\tSTATE\tBY\tAPPROVER\tCREATED")
	for _, q := range list {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", q.ID, q.Component, q.Version, q.Environment, q.State, q.Requester, q.Approver,
			q.CreatedAt.Format("2006-01-02 15:04:05Z"))
	}
	return tw.Flush()
}

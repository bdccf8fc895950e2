package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/portside-dev/portside/auth"
	"github.com/portside-dev/portside/config"
	"github.com/portside-dev/portside/errs"
	ghp "github.com/portside-dev/portside/pipelines/github"
	glp "github.com/portside-dev/portside/pipelines/gitlab"
	kjplugin "github.com/portside-dev/portside/pipelines/kubejobs/plugin"
	"github.com/portside-dev/portside/rollouts/connector"
	"github.com/portside-dev/portside/slack"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/tracing"
)

// A doctor's finding on one thing Portside depends on.
type finding struct {
	check  string // what was checked: "database", "argocd/prod", ...
	status string // findingOK, findingSkip or findingFail
	detail string // what was found
	fix    string // for a failure: what to change, naming the setting
}

const (
	findingOK   = "ok"
	findingSkip = "skip"
	findingFail = "FAIL"
)

// doctorTimeout bounds each check: a dependency that does not answer within it has failed.
const doctorTimeout = 15 * time.Second

func doctorCmd() *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check the configuration and everything Portside depends on; exit 1 when something is wrong",
		Long: `Checks, in order: the configuration; the database and its migrations; the OpenID provider's
discovery and signing keys; every Argo CD instance (through portside-argocd: its applications
listed with the configured token); the GitHub and GitLab pipeline providers' tokens; the
Kubernetes Jobs provider (started in the companion, which reads its kubeconfig); the Slack bot
token; the tracing collector. Each line says ok, skip (not configured) or FAIL with what to fix.
Nothing is changed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if timeout <= 0 {
				return errs.InvalidField("timeout", "is %s; each check needs some time (default %s)", timeout, doctorTimeout)
			}
			out := cmd.OutOrStdout()
			cfg, err := config.Load(cmd.Flags(), os.LookupEnv)
			if err != nil {
				reportFinding(out, finding{check: "config", status: findingFail, detail: errs.PublicMessage(err),
					fix: "correct the setting named above (flag, PORTSIDE_* variable or the --config file)"})
				return &exitError{code: 1, err: fmt.Errorf("1 problem found")}
			}
			findings := runDoctor(cmd.Context(), cfg, timeout, func(f finding) { reportFinding(out, f) })
			problems := 0
			for _, f := range findings {
				if f.status == findingFail {
					problems++
				}
			}
			if problems > 0 {
				return &exitError{code: 1, err: fmt.Errorf("%s found", plural(problems, "problem"))}
			}
			fmt.Fprintln(out, "no problems found")
			return nil
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", doctorTimeout, "how long each check may take")
	return cmd
}

// reportFinding prints a finding as one line, and its fix under it.
func reportFinding(w io.Writer, f finding) {
	fmt.Fprintf(w, "%-4s  %-16s %s\n", f.status, f.check, f.detail)
	if f.fix != "" {
		fmt.Fprintf(w, "      %-16s fix: %s\n", "", f.fix)
	}
}

// runDoctor runs every check in order, handing each finding to seen as it is made.
func runDoctor(ctx context.Context, cfg config.Config, timeout time.Duration, seen func(finding)) []finding {
	var all []finding
	add := func(f finding) {
		all = append(all, f)
		seen(f)
	}
	within := func(fn func(ctx context.Context) finding) {
		cctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		add(fn(cctx))
	}
	where := "flags, environment and defaults"
	if cfg.ConfigFile != "" {
		where = cfg.ConfigFile
	}
	add(finding{check: "config", status: findingOK, detail: "settings read (" + where + ")"})
	within(func(ctx context.Context) finding { return checkDatabase(ctx, cfg) })
	within(func(ctx context.Context) finding { return checkIssuer(ctx, cfg) })
	for _, f := range checkArgoCD(ctx, cfg, timeout) {
		add(f)
	}
	within(func(ctx context.Context) finding { return checkGitHub(ctx, cfg) })
	within(func(ctx context.Context) finding { return checkGitLab(ctx, cfg) })
	within(func(ctx context.Context) finding { return checkKubernetesJobs(ctx, cfg) })
	within(func(ctx context.Context) finding { return checkSlack(ctx, cfg) })
	within(func(ctx context.Context) finding { return checkTracing(ctx, cfg) })
	return all
}

// failed is a failed check with its error whole, causes included: the doctor is the operator's
// tool, and "internal error" or "open database" alone says nothing to fix.
func failed(check string, err error, fix string) finding {
	detail := err.Error()
	if len(detail) > maxDetail {
		detail = detail[:maxDetail] + "…"
	}
	return finding{check: check, status: findingFail, detail: detail, fix: fix}
}

// maxDetail bounds a finding's detail (a provider's answer may quote a page).
const maxDetail = 600

func checkDatabase(ctx context.Context, cfg config.Config) finding {
	const name = "database"
	if _, _, err := store.ParseURL(cfg.Database); err != nil {
		return failed(name, err, "set database (PORTSIDE_DATABASE_URL) to a SQLite path or a postgres:// URL")
	}
	if file, missing := missingSQLite(cfg.Database); missing {
		// Opening a SQLite file that is not there would create it: the doctor changes nothing.
		if cfg.MigrateOnStart(true) {
			return finding{check: name, status: findingOK, detail: "sqlite " + file + " does not exist yet: serve creates and migrates it at start"}
		}
		return finding{check: name, status: findingFail, detail: "sqlite " + file + " does not exist, and migrate is false",
			fix: "run `portside migrate up`, or correct database (PORTSIDE_DATABASE_URL)"}
	}
	st, err := store.Open(ctx, cfg.Database, store.Options{MaxOpenConns: 1})
	if err != nil {
		return failed(name, err, "set database (PORTSIDE_DATABASE_URL) to a SQLite path or a reachable postgres:// URL")
	}
	defer st.Close()
	if err := st.Ping(ctx); err != nil {
		return failed(name, err, "check that the database server runs and that database (PORTSIDE_DATABASE_URL) names it with working credentials")
	}
	status, err := st.SchemaStatus(ctx)
	if err != nil {
		return failed(name, err, "check that database (PORTSIDE_DATABASE_URL) points at Portside's database")
	}
	detail := fmt.Sprintf("%s reachable, schema version %d of %d%s", st.Describe(), status.Current, status.Latest, newerNote(status))
	if err := st.CheckSchema(ctx); err != nil {
		// A gap below the current version is no pending migration: neither serve nor `migrate
		// up` fills it (they apply only newer ones), and serve refuses to start on it.
		if missing := status.Missing(); len(missing) > 0 {
			return finding{check: name, status: findingFail, detail: detail + ": " + errs.PublicMessage(err),
				fix: "restore the database from a backup, or apply " + strings.Join(missing, ", ") + " by hand and record them in goose_db_version"}
		}
		if status.Current < status.Latest && cfg.MigrateOnStart(st.Dialect() == store.SQLite) {
			return finding{check: name, status: findingOK, detail: detail + fmt.Sprintf(": serve applies the %s at start (migrate %s)", plural(status.Pending(), "pending migration"), cfg.Migrate)}
		}
		fix := "run `portside migrate up` (or let serve migrate: migrate true)"
		if status.Newer() {
			fix = "run a Portside at least as new as the schema, or restore the database from before its upgrade"
		}
		if !status.Compatible() {
			fix = fmt.Sprintf("run a Portside whose schema version is at least %d (the floor a contract migration raised), or restore the database from before that migration", status.Floor)
		}
		return finding{check: name, status: findingFail, detail: detail + ": " + errs.PublicMessage(err), fix: fix}
	}
	if status.Newer() {
		detail += ": serve starts on it (its migrations only expand)"
	}
	// A first import into an empty catalog builds its secondary indexes after loading the rows
	// (store.DeferIndexes): while it runs, or when it died before building them, they are missing.
	if pending, err := st.DeferredIndexes(ctx); err == nil && len(pending) > 0 {
		word := "indexes"
		if len(pending) == 1 {
			word = "index"
		}
		detail += fmt.Sprintf("; %d catalog %s deferred by a first import and not built yet (%s): the import builds them before it commits; "+
			"if none is running, `portside migrate up` or serve's start builds them", len(pending), word, strings.Join(pending, ", "))
	}
	return finding{check: name, status: findingOK, detail: detail}
}

func checkIssuer(ctx context.Context, cfg config.Config) finding {
	const name = "oidc"
	if cfg.AuthIssuer == "" {
		return finding{check: name, status: findingSkip, detail: "auth-issuer not set: serve signs people in with the embedded development login (dev-login " + cfg.DevLogin + ")"}
	}
	detail, err := auth.CheckIssuer(ctx, cfg.AuthIssuer)
	if err != nil {
		return failed(name, err, "check auth-issuer (PORTSIDE_AUTH_ISSUER): it must be the provider's issuer URL exactly, reachable from here")
	}
	if cfg.AuthClientID == "" {
		return finding{check: name, status: findingFail, detail: cfg.AuthIssuer + " " + detail + ", but auth-client-id is not set",
			fix: "set auth-client-id (PORTSIDE_AUTH_CLIENT_ID) to Portside's client at the provider"}
	}
	return finding{check: name, status: findingOK, detail: cfg.AuthIssuer + " " + detail}
}

// checkArgoCD starts the companion with every configured instance, as serve does, and lists
// each instance's applications with its token.
func checkArgoCD(ctx context.Context, cfg config.Config, timeout time.Duration) []finding {
	if len(cfg.ArgoCDInstances) == 0 {
		return []finding{{check: "argocd", status: findingSkip, detail: "no argocd-instances configured"}}
	}
	instances := make([]connector.Instance, 0, len(cfg.ArgoCDInstances))
	var out []finding
	for _, inst := range cfg.ArgoCDInstances {
		token, err := cfg.ArgoCDToken(inst.Name)
		if err != nil {
			out = append(out, failed("argocd/"+inst.Name, err, "give the instance a token: argocd-tokens or a file named "+inst.Name+" in argocd-token-dir"))
			continue
		}
		instances = append(instances, connector.Instance{Name: inst.Name, Addr: inst.Addr, Token: token,
			PlainText: inst.PlainText, Insecure: inst.Insecure, GRPCWeb: inst.GRPCWeb})
	}
	if len(instances) == 0 {
		return out
	}
	path, err := connector.Locate(cfg.ArgoCDConnector)
	if err != nil {
		return append(out, failed("argocd", err, "install portside-argocd beside portside, or set argocd-connector to its path"))
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	p, err := connector.Start(cctx, connector.Options{Path: path, Instances: instances, Stderr: io.Discard,
		Logger: slog.New(slog.DiscardHandler), StartTimeout: timeout})
	if err != nil {
		return append(out, failed("argocd", err, "run portside-argocd by hand to see why it does not start"))
	}
	defer p.Close()
	addrs := map[string]string{}
	for _, inst := range instances {
		addrs[inst.Name] = inst.Addr
	}
	for _, src := range p.Sources() {
		name := "argocd/" + src.Name()
		lctx, lcancel := context.WithTimeout(ctx, timeout)
		apps, err := src.List(lctx)
		lcancel()
		if err != nil {
			out = append(out, failed(name, err, fmt.Sprintf("check the instance's address (%s), its plaintext/insecure/grpc-web options in argocd-instances, and that its token may list applications", addrs[src.Name()])))
			continue
		}
		out = append(out, finding{check: name, status: findingOK, detail: fmt.Sprintf("%s: %s visible with the token", addrs[src.Name()], plural(len(apps), "application"))})
	}
	return out
}

// checkKubernetesJobs starts the companion with the Kubernetes Jobs provider, as serve does: the
// companion reads the kubeconfig (or the pod's service account), and a bad one is named. The
// cluster itself is reached by each run.
func checkKubernetesJobs(ctx context.Context, cfg config.Config) finding {
	const name = "kubernetes-jobs"
	on, err := cfg.KubernetesJobs()
	if err != nil {
		return failed(name, err, "set kubernetes-jobs-kubeconfig or kubernetes-jobs-in-cluster, not both")
	}
	if !on {
		return finding{check: name, status: findingSkip, detail: "neither kubernetes-jobs-kubeconfig nor kubernetes-jobs-in-cluster is set"}
	}
	path, err := connector.Locate(cfg.ArgoCDConnector)
	if err != nil {
		return failed(name, err, "install portside-argocd (which runs the Kubernetes Jobs provider) beside portside, or set argocd-connector to its path")
	}
	kj := kjplugin.New(kjplugin.Config{Kubeconfig: cfg.KubernetesJobsKubeconfig, InCluster: cfg.KubernetesJobsInCluster,
		Namespace: cfg.KubernetesJobsNamespace}, slog.New(slog.DiscardHandler))
	p, err := connector.Start(ctx, connector.Options{Path: path, Extensions: []connector.Extension{kj}, Stderr: io.Discard,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return failed(name, err, "run portside-argocd by hand to see why it does not start")
	}
	defer p.Close()
	if err := kj.Started(ctx); err != nil {
		fix := "correct kubernetes-jobs-kubeconfig (a kubeconfig file this process can read)"
		if cfg.KubernetesJobsInCluster {
			fix = "run inside the cluster with a service account, or set kubernetes-jobs-kubeconfig instead"
		}
		return failed(name, err, fix)
	}
	return finding{check: name, status: findingOK, detail: "the provider started; its Jobs run in namespace " + cfg.KubernetesJobsNamespace +
		" (the cluster is reached by each run)"}
}

func checkGitHub(ctx context.Context, cfg config.Config) finding {
	const name = "github"
	token, _, err := cfg.GitHubCredentials()
	if err != nil {
		return failed(name, err, "make github-token-file readable, or set github-token")
	}
	if token == "" {
		return finding{check: name, status: findingSkip, detail: "github-token not set: GitHub Actions pipelines cannot run"}
	}
	p, err := ghp.New(ghp.Options{BaseURL: cfg.GitHubAPIURL, Token: token, RequestsPerHour: cfg.GitHubRequestsPerHour})
	if err != nil {
		return failed(name, err, "correct github-api-url")
	}
	detail, err := p.Check(ctx)
	if err != nil {
		return failed(name, err, "check github-token (PORTSIDE_GITHUB_TOKEN or github-token-file) and github-api-url")
	}
	return finding{check: name, status: findingOK, detail: detail}
}

func checkGitLab(ctx context.Context, cfg config.Config) finding {
	const name = "gitlab"
	token, _, err := cfg.GitLabCredentials()
	if err != nil {
		return failed(name, err, "make gitlab-token-file readable, or set gitlab-token")
	}
	if token == "" {
		return finding{check: name, status: findingSkip, detail: "gitlab-token not set: GitLab CI pipelines cannot run"}
	}
	p, err := glp.New(glp.Options{BaseURL: cfg.GitLabURL, Token: token})
	if err != nil {
		return failed(name, err, "correct gitlab-url")
	}
	detail, err := p.Check(ctx)
	if err != nil {
		return failed(name, err, "check gitlab-token (PORTSIDE_GITLAB_TOKEN or gitlab-token-file) and gitlab-url")
	}
	return finding{check: name, status: findingOK, detail: detail}
}

func checkSlack(ctx context.Context, cfg config.Config) finding {
	const name = "slack"
	secret, token, err := cfg.SlackCredentials()
	if err != nil {
		return failed(name, err, "make the slack-*-file settings readable")
	}
	switch {
	case secret == "" && token == "":
		return finding{check: name, status: findingSkip, detail: "slack-signing-secret and slack-bot-token not set: the Slack app is off"}
	case token == "":
		return finding{check: name, status: findingFail, detail: "slack-signing-secret is set but slack-bot-token is not: commands are verified but nothing can be posted",
			fix: "set slack-bot-token (PORTSIDE_SLACK_BOT_TOKEN or slack-bot-token-file) to the app's xoxb- token"}
	case secret == "":
		return finding{check: name, status: findingFail, detail: "slack-bot-token is set but slack-signing-secret is not: /slack/commands is not served",
			fix: "set slack-signing-secret (PORTSIDE_SLACK_SIGNING_SECRET or slack-signing-secret-file) from the app's Basic Information page"}
	}
	detail, err := slack.CheckToken(ctx, cfg.SlackAPIURL, token)
	if err != nil {
		return failed(name, err, "check slack-bot-token (the app's Bot User OAuth Token, xoxb-) and slack-api-url")
	}
	if !strings.HasPrefix(token, "xoxb-") {
		detail += " (not an xoxb- bot token)"
	}
	return finding{check: name, status: findingOK, detail: detail}
}

// checkTracing posts an empty export to the trace collector, as the exporter posts spans.
func checkTracing(ctx context.Context, cfg config.Config) finding {
	const name = "tracing"
	if cfg.TracingEndpoint == "" {
		return finding{check: name, status: findingSkip, detail: "tracing-endpoint not set: tracing is off"}
	}
	detail, err := tracing.Check(ctx, cfg.TracingEndpoint)
	if err != nil {
		return failed(name, err, "check tracing-endpoint (PORTSIDE_TRACING_ENDPOINT): the OTLP/HTTP collector's URL, reachable from here, and its credentials in OTEL_EXPORTER_OTLP_HEADERS")
	}
	return finding{check: name, status: findingOK, detail: detail}
}

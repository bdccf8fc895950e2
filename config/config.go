// Package config gathers Portside's settings from flags, PORTSIDE_* environment variables and an
// optional flat YAML file, in that order of precedence over the built-in defaults. One table (see
// bindSettings) declares every setting once, and the flags, the environment variables, the YAML
// keys, --help, Describe and the README table are all derived from it, so they can never drift
// apart. Each value is parsed once, into its typed Config field; a bad value fails at start with a
// message that names the setting, where the value came from and what is accepted.
//
// config is a leaf: it imports no other Portside package but errs, so that every command (and
// every test) can read settings without linking the store or the crypto.
package config

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/agnivade/levenshtein"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/portside-dev/portside/errs"
)

// Setting describes one configuration setting: its names in every source, its default, its help
// text, whether it is a secret, and the typed value it is parsed into.
type Setting struct {
	Key     string // YAML key and flag name, e.g. "addr", "database", "refresh-interval"
	Env     string // environment variable, e.g. "PORTSIDE_ADDR", "PORTSIDE_DATABASE_URL"
	Default string // the default as text; "" allowed
	Usage   string // one line, used for --help and the README table
	// Secret settings are refused on the command line and never shown (Describe, errors, logs).
	Secret bool

	value  value               // parses the text into its Config field, and shows the field as text
	redact func(string) string // hides the secret parts of a value before it is shown; nil shows it as is
	bare   bool                // a bare --flag means --flag=true
	noFile bool                // cannot be set in the YAML file (the file's own path)
}

// value is where a setting's value goes: set parses the text once and stores the result in its
// Config field, or says what is accepted; String shows the field as text again.
type value interface {
	set(text string) error
	String() string
	kind() string // the value type --help shows: string, bool, int, float or duration
}

// field is a value of type T kept at p.
type field[T any] struct {
	p      *T
	typ    string
	parse  func(string) (T, error)
	format func(T) string
}

func (f field[T]) set(v string) error {
	x, err := f.parse(v)
	if err != nil {
		return err
	}
	*f.p = x
	return nil
}

func (f field[T]) String() string { return f.format(*f.p) }
func (f field[T]) kind() string   { return f.typ }

// The kinds of values settings have. Each parse error says what is accepted.

// text is a string, accepted when check (if any) accepts it.
func text(p *string, check func(string) error) value {
	return field[string]{p: p, typ: "string", format: func(s string) string { return s },
		parse: func(v string) (string, error) {
			if check != nil {
				if err := check(v); err != nil {
					return "", err
				}
			}
			return v, nil
		}}
}

// oneOf is a string from a fixed list.
func oneOf(p *string, accepted ...string) value {
	return text(p, func(v string) error {
		if !slices.Contains(accepted, v) {
			return fmt.Errorf("accepted values are %s", strings.Join(accepted, ", "))
		}
		return nil
	})
}

// boolean is true or false (as strconv.ParseBool reads them).
func boolean(p *bool) value {
	return field[bool]{p: p, typ: "bool", format: strconv.FormatBool, parse: func(v string) (bool, error) {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return false, errors.New("accepted values are true, false")
		}
		return b, nil
	}}
}

// whole is a whole number from lo to hi.
func whole[T int | int64](p *T, lo, hi T) value {
	return field[T]{p: p, typ: "int", format: func(n T) string { return strconv.FormatInt(int64(n), 10) },
		parse: func(v string) (T, error) {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < int64(lo) || n > int64(hi) {
				return 0, fmt.Errorf("accepted values are whole numbers from %d to %d", lo, hi)
			}
			return T(n), nil
		}}
}

// duration is a Go duration from lo to hi.
func duration(p *time.Duration, lo, hi time.Duration) value {
	return durationWhere(p, func(d time.Duration) bool { return d >= lo && d <= hi },
		fmt.Sprintf("accepted values are Go durations from %s to %s, e.g. 15s", formatDuration(lo), formatDuration(hi)))
}

// durationWhere is a Go duration that ok accepts; accepted says which ones those are.
func durationWhere(p *time.Duration, ok func(time.Duration) bool, accepted string) value {
	return field[time.Duration]{p: p, typ: "duration", format: formatDuration, parse: func(v string) (time.Duration, error) {
		d, err := time.ParseDuration(v)
		if err != nil || !ok(d) {
			return 0, errors.New(accepted)
		}
		return d, nil
	}}
}

// list is a comma-separated list (blanks ignored), accepted when check (if any) accepts it.
func list(p *[]string, check func([]string) error) value {
	return parsed(p, "string", func(v string) ([]string, error) {
		l := splitList(v)
		if check != nil {
			if err := check(l); err != nil {
				return nil, err
			}
		}
		return l, nil
	}, func(l []string) string { return strings.Join(l, ",") })
}

// ratio is a number from 0 to 1.
func ratio(p *float64) value {
	return field[float64]{p: p, typ: "float", format: func(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) },
		parse: func(v string) (float64, error) {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || !(f >= 0 && f <= 1) {
				return 0, errors.New("accepted values are numbers from 0 to 1, e.g. 0.1")
			}
			return f, nil
		}}
}

// parsed is a value of any type, with its own parser and printer.
func parsed[T any](p *T, kind string, parse func(string) (T, error), format func(T) string) value {
	return field[T]{p: p, typ: kind, parse: parse, format: format}
}

// MigrateMode says whether serve applies pending migrations at start.
type MigrateMode string

// The migrate modes.
const (
	MigrateAuto   MigrateMode = "auto"  // yes for SQLite (the embedded mode), no for PostgreSQL (a migration Job runs them)
	MigrateAlways MigrateMode = "true"  // always apply pending migrations at start
	MigrateNever  MigrateMode = "false" // never; serve refuses to start on an unmigrated database
)

// Config is the resolved configuration, with typed fields.
type Config struct {
	ConfigFile       string        // path of the YAML file that was read; "" when none
	Addr             string        // host:port the HTTP server listens on
	Database         string        // SQLite file path or postgres:// URL (may hold a password: Describe hides it)
	Migrate          MigrateMode   // whether serve applies pending migrations; see MigrateOnStart
	Demo             bool          // load the embedded demo catalog at start
	RefreshInterval  time.Duration // how often registered catalog locations are refreshed; 0 disables
	GitCacheDir      string        // where git locations are cloned (the default is resolved by Load)
	DatabaseMaxConns int           // bound of the database connection pool
	LogLevel         string        // debug, info, warn or error
	LogFormat        string        // json or text
	// TracingEndpoint is the OTLP/HTTP collector spans are sent to; "" turns tracing off.
	TracingEndpoint string
	// TracingSampleRatio is the share of new traces recorded (callers' sampled traces always are).
	TracingSampleRatio float64
	// TracingServiceName names this process in traces (service.name).
	TracingServiceName   string
	ShutdownTimeout      time.Duration // how long SIGTERM waits for in-flight requests
	GraphQLMaxDepth      int           // deepest GraphQL selection accepted
	GraphQLMaxComplexity int           // highest GraphQL query complexity accepted
	// GraphQLTimeout bounds how long one GraphQL query or mutation runs.
	GraphQLTimeout time.Duration
	// GraphQLMaxResponseBytes bounds the data of one GraphQL answer.
	GraphQLMaxResponseBytes int
	// GraphQLMaxBodyBytes bounds a GraphQL request body.
	GraphQLMaxBodyBytes int
	// GraphQLMaxConcurrentQueries bounds the GraphQL queries that run at once (0: four per CPU
	// the Go runtime uses).
	GraphQLMaxConcurrentQueries int
	CatalogCacheSize            int      // entities kept in the catalog read cache; 0 disables the cache
	ResponseCacheSize           int      // GraphQL responses kept for repeated catalog queries; 0 disables that cache
	APILocationTypes            []string // location types the GraphQL API may register
	// AllowLoopbackLocations lets URL and git locations read loopback addresses (never link-local
	// ones: cloud metadata endpoints stay refused).
	AllowLoopbackLocations bool
	// CatalogMaxLocationErrors bounds the errors kept per location; the rest are counted only.
	CatalogMaxLocationErrors int
	// CatalogMaxFileBytes bounds one catalog file (or a file a placeholder reads).
	CatalogMaxFileBytes int64

	PublicURL         string   // Portside's address as browsers reach it; "" until serve knows its port (see ResolvePublicURL)
	TrustedProxies    []string // proxies whose forwarded-for headers name the client (addresses, CIDR ranges)
	AuthIssuer        string   // the OpenID provider's issuer URL; "" means the embedded development login
	AuthClientID      string   // Portside's client ID at the provider
	AuthClientSecret  string   // its client secret (a secret: environment or file only)
	AuthScopes        []string // scopes asked for at login
	AuthUsernameClaim string   // claim holding the username
	AuthEmailClaim    string   // claim holding the email address
	AuthGroupsClaim   string   // claim holding the group list
	AuthAdminGroups   []string // groups whose members are admins
	AuthUserLink      []string // how a login is linked to a catalog User: name, email
	AuthJWTAudiences  []string // audiences accepted on bearer JWTs; empty means the client ID
	AuthJWTIssuers    []string // further issuers whose bearer JWTs are accepted (machines: CI, other services)
	// EncryptionKeys are the decoded 32-byte keys that seal refresh tokens, newest first (a
	// secret); seal.NewKeyring takes them as they are.
	EncryptionKeys     [][]byte
	MetricsToken       string        // when set, /metrics wants it as a bearer token (a secret)
	SessionIdleTimeout time.Duration // a session unused this long ends
	SessionMaxAge      time.Duration // any session ends this long after sign-in
	TokenMaxLifetime   time.Duration // the longest an API token lives (and the lifetime of one asked without)
	DevLogin           string        // auto, false or force: the embedded development OpenID provider
	DevLoginAddr       string        // where the development provider listens

	ArgoCDInstances      []ArgoCDInstance  // the Argo CD instances whose applications Portside follows
	ArgoCDTokens         map[string]string // API token by instance name (a secret)
	ArgoCDTokenDir       string            // a directory with one token file per instance name
	ArgoCDResyncInterval time.Duration     // how often each instance is listed in full besides its watch
	ArgoCDConnector      string            // the portside-argocd binary; "" finds it beside portside or on PATH

	PipelinesLocal           bool          // enable the local pipeline provider (development only; --demo enables it)
	PipelinesPollInterval    time.Duration // pause between two polls of the active pipeline runs
	PipelinesPollBatch       int           // active runs read per poll, least recently polled first
	PipelinesPollConcurrency int           // provider calls a poll makes at once
	RunbookLinkCheckInterval time.Duration // pause between two rounds of the runbook and dashboard link check; 0: off
	DeployApprovalEnvs       []string      // environments whose deploy requests need a second person's approval
	DeployRequestExpiry      time.Duration // how long a deploy request waits for approval before it expires
	DeployGitDir             string        // where the GitOps committer keeps its working clones; "": a temporary directory
	GitHubAPIURL             string        // GitHub's REST API root: "" for github.com, https://HOST/api/v3/ for Enterprise
	GitHubRequestsPerHour    int           // the GitHub requests (all but 304s) Portside spends per hour
	GitHubToken              string        // the token pipelines call GitHub with (a secret)
	GitHubTokenFile          string        // a file holding it (a mounted Secret)
	GitHubWebhookSecret      string        // the secret GitHub signs webhooks with (a secret)
	GitHubWebhookSecretFile  string        // a file holding it
	GitLabURL                string        // GitLab's root: "" for gitlab.com, https://HOST[/PREFIX]/ for a self-managed instance
	GitLabToken              string        // the token pipelines call GitLab with (a secret)
	GitLabTokenFile          string        // a file holding it (a mounted Secret)
	GitLabWebhookSecret      string        // the secret token GitLab sends with webhooks (a secret)
	GitLabWebhookSecretFile  string        // a file holding it

	SlackSigningSecret              string // the secret Slack signs requests to /slack/commands with (a secret)
	SlackSigningSecretFile          string // a file holding it
	SlackBotToken                   string // the bot token Portside calls Slack's Web API with (a secret)
	SlackBotTokenFile               string // a file holding it
	SlackAPIURL                     string // Slack's Web API root; "" is https://slack.com/api/
	SlackResponseURLPrefix          string // where answers to commands may be posted
	SlackDefaultChannel             string // where deploy requests of a component without a channel annotation are posted
	AlertmanagerWebhookToken        string // the bearer token Alertmanager sends to /webhooks/alertmanager (a secret)
	AlertmanagerWebhookTokenFile    string // a file holding it
	AlertmanagerWebhookUsername     string // the basic auth user Alertmanager sends instead
	AlertmanagerWebhookPassword     string // its password (a secret)
	AlertmanagerWebhookPasswordFile string // a file holding it

	KubernetesJobsKubeconfig string // a kubeconfig file the Kubernetes Jobs provider reaches its cluster with
	KubernetesJobsInCluster  bool   // the provider uses the pod's service account instead
	KubernetesJobsNamespace  string // the namespace its Jobs run in
}

// ArgoCDInstance is one Argo CD API server, as argocd-instances names it.
type ArgoCDInstance struct {
	Name string
	Addr string // host:port
	// PlainText speaks gRPC without TLS (http:// URLs); Insecure skips TLS verification
	// (?insecure=true); GRPCWeb speaks gRPC-web (?grpc-web=true).
	PlainText, Insecure, GRPCWeb bool
}

// bind is the settings table with every value bound to a field of c; a variable so that a test can
// add a setting.
var bind = bindSettings

// bindSettings is the settings table, in display order, each value bound to its field of c. It is
// the one place a setting is declared.
func bindSettings(c *Config) []Setting {
	return []Setting{
		{Key: "config", Env: "PORTSIDE_CONFIG", Default: "",
			Usage: "path of an optional YAML file with settings (flag or environment only)",
			value: text(&c.ConfigFile, nil), noFile: true},
		{Key: "addr", Env: "PORTSIDE_ADDR", Default: "127.0.0.1:7007",
			Usage: "host:port the HTTP server listens on",
			value: text(&c.Addr, checkAddr)},
		{Key: "database", Env: "PORTSIDE_DATABASE_URL", Default: "portside.db",
			Usage: "SQLite file path or postgres:// URL; put a password only in the environment or the config file",
			value: text(&c.Database, checkDatabase), redact: redactDatabase},
		{Key: "migrate", Env: "PORTSIDE_MIGRATE", Default: string(MigrateAuto),
			Usage: "whether serve applies pending migrations: auto (yes for SQLite, no for PostgreSQL), true, false",
			value: parsed(&c.Migrate, "string", parseMigrate, func(m MigrateMode) string { return string(m) }),
			bare:  true}, // `serve --migrate` reads as the README says it
		{Key: "demo", Env: "PORTSIDE_DEMO", Default: "false",
			Usage: "load the embedded demo catalog at start, and on a database without it a small status-meeting project (deployment-roadmap, owned by team-platform, bob a member: the table of issue #15, a meeting a week ago, changes since) and a runbook for payments-api in two versions; payments-api's deploy requests commit to a bare manifest repository created in a temporary directory at each start",
			value: boolean(&c.Demo)},
		{Key: "refresh-interval", Env: "PORTSIDE_REFRESH_INTERVAL", Default: "5m",
			Usage: "how often registered catalog locations are refreshed; 0 disables",
			value: durationWhere(&c.RefreshInterval, func(d time.Duration) bool { return d == 0 || d >= 10*time.Second },
				"accepted values are 0 (disabled) or a Go duration of at least 10s, e.g. 5m")},
		{Key: "git-cache-dir", Env: "PORTSIDE_GIT_CACHE_DIR", Default: "",
			Usage: "directory where git catalog locations are cloned (empty: the user cache directory + /portside/git)",
			value: text(&c.GitCacheDir, nil)},
		{Key: "database-max-conns", Env: "PORTSIDE_DATABASE_MAX_CONNS", Default: "10",
			Usage: "upper bound of the database connection pool",
			value: whole(&c.DatabaseMaxConns, 1, 1000)},
		{Key: "log-level", Env: "PORTSIDE_LOG_LEVEL", Default: "info",
			Usage: "lowest level logged: debug, info, warn, error",
			value: oneOf(&c.LogLevel, "debug", "info", "warn", "error")},
		{Key: "log-format", Env: "PORTSIDE_LOG_FORMAT", Default: "json",
			Usage: "log format: json, text",
			value: oneOf(&c.LogFormat, "json", "text")},
		{Key: "tracing-endpoint", Env: "PORTSIDE_TRACING_ENDPOINT", Default: "",
			Usage: "OpenTelemetry tracing: URL of the OTLP/HTTP collector spans are sent to, e.g. http://otel-collector:4318 (/v1/traces is added when no path is given; https:// for TLS; the collector's headers from OTEL_EXPORTER_OTLP_HEADERS); empty: tracing is off",
			value: text(&c.TracingEndpoint, checkTracingEndpoint)},
		{Key: "tracing-sample-ratio", Env: "PORTSIDE_TRACING_SAMPLE_RATIO", Default: "1",
			Usage: "share of the traces Portside starts that are recorded, from 0 to 1 (a request whose traceparent header says its trace is sampled is recorded anyway)",
			value: ratio(&c.TracingSampleRatio)},
		{Key: "tracing-service-name", Env: "PORTSIDE_TRACING_SERVICE_NAME", Default: "portside",
			Usage: "service.name of Portside's spans (portside-argocd's are named <this>-argocd)",
			value: text(&c.TracingServiceName, nonEmpty)},
		{Key: "shutdown-timeout", Env: "PORTSIDE_SHUTDOWN_TIMEOUT", Default: "15s",
			Usage: "how long a SIGTERM waits for in-flight requests before the server stops",
			value: duration(&c.ShutdownTimeout, time.Second, time.Hour)},
		{Key: "graphql-max-depth", Env: "PORTSIDE_GRAPHQL_MAX_DEPTH", Default: "12",
			Usage: "deepest GraphQL selection a query may have",
			value: whole(&c.GraphQLMaxDepth, 1, 100)},
		{Key: "graphql-max-complexity", Env: "PORTSIDE_GRAPHQL_MAX_COMPLEXITY", Default: "20000",
			Usage: "highest complexity a GraphQL query may have",
			value: whole(&c.GraphQLMaxComplexity, 1, 1_000_000)},
		{Key: "graphql-timeout", Env: "PORTSIDE_GRAPHQL_TIMEOUT", Default: "10s",
			Usage: "how long one GraphQL query or mutation may run; past it the operation is stopped and answered UNAVAILABLE with reason TIMEOUT (subscriptions are not bounded)",
			value: duration(&c.GraphQLTimeout, 100*time.Millisecond, 10*time.Minute)},
		{Key: "graphql-max-response-bytes", Env: "PORTSIDE_GRAPHQL_MAX_RESPONSE_BYTES", Default: "16777216",
			Usage: "largest data one GraphQL answer may have, in bytes; a larger one is stopped and answered INVALID with reason RESPONSE_TOO_LARGE",
			value: whole(&c.GraphQLMaxResponseBytes, 64<<10, 1<<30)},
		{Key: "graphql-max-body-bytes", Env: "PORTSIDE_GRAPHQL_MAX_BODY_BYTES", Default: "6356992",
			Usage: "largest GraphQL request body, in bytes (chunked bodies too); a larger one is answered 413. The default (6 MiB and 64 KiB) takes a task import's largest table, 1 MiB, however its client escapes it in JSON (at worst 6 bytes a byte); less takes smaller tables",
			value: whole(&c.GraphQLMaxBodyBytes, 4<<10, 64<<20)},
		{Key: "graphql-max-concurrent-queries", Env: "PORTSIDE_GRAPHQL_MAX_CONCURRENT_QUERIES", Default: "0",
			Usage: "GraphQL queries that run at once; the next ones wait their turn, first come first served, within graphql-timeout, and a query still running after 25 ms gives its turn to the next (answers from the response cache never wait); 0: four for each CPU Portside uses (GOMAXPROCS)",
			value: whole(&c.GraphQLMaxConcurrentQueries, 0, 100_000)},
		{Key: "catalog-cache-size", Env: "PORTSIDE_CATALOG_CACHE_SIZE", Default: "50000",
			Usage: "entities kept in the catalog read cache; 0 disables the cache",
			value: whole(&c.CatalogCacheSize, 0, 10_000_000)},
		{Key: "response-cache-size", Env: "PORTSIDE_RESPONSE_CACHE_SIZE", Default: "5000",
			Usage: "GraphQL responses kept for repeated catalog queries (answered without running the query again, until the catalog changes); 0 disables this cache, independently of catalog-cache-size",
			value: whole(&c.ResponseCacheSize, 0, 1_000_000)},
		{Key: "api-location-types", Env: "PORTSIDE_API_LOCATION_TYPES", Default: "url,git",
			Usage: "location types the GraphQL API may register, comma separated: url, git, file (the server's disk, also git file:// remotes), embedded; the CLI may register any",
			value: list(&c.APILocationTypes, checkLocationTypes)},
		{Key: "allow-loopback-locations", Env: "PORTSIDE_ALLOW_LOOPBACK_LOCATIONS", Default: "false",
			Usage: "let URL and git locations read from loopback addresses (refused by default: they reach the server's own services); link-local addresses (cloud metadata endpoints) stay refused",
			value: boolean(&c.AllowLoopbackLocations)},
		{Key: "catalog-max-file-bytes", Env: "PORTSIDE_CATALOG_MAX_FILE_BYTES", Default: "67108864",
			Usage: "largest catalog file (or file a placeholder reads) a location may hold, in bytes (default 64 MiB)",
			value: whole(&c.CatalogMaxFileBytes, 1<<20, 1<<30)},
		{Key: "catalog-max-location-errors", Env: "PORTSIDE_CATALOG_MAX_LOCATION_ERRORS", Default: "500",
			Usage: "errors kept per catalog location (the first ones found); the rest are counted in errorCount only",
			value: whole(&c.CatalogMaxLocationErrors, 1, 100_000)},
		{Key: "public-url", Env: "PORTSIDE_PUBLIC_URL", Default: "",
			Usage: "Portside's address as browsers reach it, for sign-in redirects and cookie security (empty: http:// + addr)",
			value: parsed(&c.PublicURL, "string", parsePublicURL, func(s string) string { return s })},
		{Key: "trusted-proxies", Env: "PORTSIDE_TRUSTED_PROXIES", Default: "",
			Usage: "addresses or CIDR ranges of the proxies in front of Portside (an ingress controller's pods), comma separated, whose X-Forwarded-For and X-Real-IP name the client; empty: no header is believed and a request's address is its connection's",
			value: list(&c.TrustedProxies, checkTrustedProxies)},
		{Key: "auth-issuer", Env: "PORTSIDE_AUTH_ISSUER", Default: "",
			Usage: "issuer URL of the OpenID provider people sign in with (empty: the embedded development login, see dev-login)",
			value: text(&c.AuthIssuer, checkIssuer)},
		{Key: "auth-client-id", Env: "PORTSIDE_AUTH_CLIENT_ID", Default: "portside",
			Usage: "Portside's client ID at the OpenID provider",
			value: text(&c.AuthClientID, nonEmpty)},
		{Key: "auth-client-secret", Env: "PORTSIDE_AUTH_CLIENT_SECRET", Default: "", Secret: true,
			Usage: "Portside's client secret at the OpenID provider (environment or config file only)",
			value: text(&c.AuthClientSecret, nil)},
		{Key: "auth-scopes", Env: "PORTSIDE_AUTH_SCOPES", Default: "openid,profile,email,groups",
			Usage: "scopes asked for at sign-in, comma separated (drop groups for providers that refuse unknown scopes)",
			value: list(&c.AuthScopes, checkScopes)},
		{Key: "auth-username-claim", Env: "PORTSIDE_AUTH_USERNAME_CLAIM", Default: "preferred_username",
			Usage: "ID token or userinfo claim that holds the username",
			value: text(&c.AuthUsernameClaim, nonEmpty)},
		{Key: "auth-email-claim", Env: "PORTSIDE_AUTH_EMAIL_CLAIM", Default: "email",
			Usage: "claim that holds the email address",
			value: text(&c.AuthEmailClaim, nonEmpty)},
		{Key: "auth-groups-claim", Env: "PORTSIDE_AUTH_GROUPS_CLAIM", Default: "groups",
			Usage: "claim that holds the user's groups (names become catalog groups: team-a is group:default/team-a)",
			value: text(&c.AuthGroupsClaim, nonEmpty)},
		{Key: "auth-admin-groups", Env: "PORTSIDE_AUTH_ADMIN_GROUPS", Default: "portside-admins",
			Usage: "groups whose members are admins, comma separated",
			value: list(&c.AuthAdminGroups, nil)},
		{Key: "auth-user-link", Env: "PORTSIDE_AUTH_USER_LINK", Default: "name,email",
			Usage: "how a signed-in person is linked to a catalog User, tried in order: name (username = entity name), email (spec.profile.email)",
			value: list(&c.AuthUserLink, checkUserLink)},
		{Key: "auth-jwt-audiences", Env: "PORTSIDE_AUTH_JWT_AUDIENCES", Default: "",
			Usage: "audiences accepted on bearer JWTs from the issuer, comma separated (empty: the client ID)",
			value: list(&c.AuthJWTAudiences, nil)},
		{Key: "auth-jwt-issuers", Env: "PORTSIDE_AUTH_JWT_ISSUERS", Default: "",
			Usage: "further issuers whose bearer JWTs are accepted, comma separated (CI systems, other services): their callers are named <username or sub>@<issuer host>, are never admins, and need an audience from auth-jwt-audiences",
			value: list(&c.AuthJWTIssuers, checkIssuers)},
		{Key: "encryption-key", Env: "PORTSIDE_ENCRYPTION_KEY", Default: "", Secret: true,
			Usage: "base64 32-byte keys (openssl rand -base64 32), comma separated, newest first, that seal the identity provider's refresh tokens in the database; empty: sessions keep no refresh token (the development login uses a key of its own) (environment or config file only)",
			value: parsed(&c.EncryptionKeys, "string", parseEncryptionKeys, formatEncryptionKeys)},
		{Key: "metrics-token", Env: "PORTSIDE_METRICS_TOKEN", Default: "", Secret: true,
			Usage: "when set, /metrics answers only requests that send it as \"Authorization: Bearer <token>\" (environment or config file only)",
			value: text(&c.MetricsToken, nil)},
		{Key: "session-idle-timeout", Env: "PORTSIDE_SESSION_IDLE_TIMEOUT", Default: "8h",
			Usage: "a browser session unused this long ends",
			value: duration(&c.SessionIdleTimeout, time.Minute, 30*24*time.Hour)},
		{Key: "session-max-age", Env: "PORTSIDE_SESSION_MAX_AGE", Default: "168h",
			Usage: "any browser session ends this long after sign-in",
			value: duration(&c.SessionMaxAge, time.Minute, 90*24*time.Hour)},
		{Key: "token-max-lifetime", Env: "PORTSIDE_TOKEN_MAX_LIFETIME", Default: "2160h",
			Usage: "the longest an API token lives; createApiToken without ttl gets it, a longer ttl is refused (only portside token create --never-expires makes one without end)",
			value: duration(&c.TokenMaxLifetime, time.Hour, 5*366*24*time.Hour)},
		{Key: "dev-login", Env: "PORTSIDE_DEV_LOGIN", Default: "auto",
			Usage: "the embedded development OpenID provider with the demo users: auto (on when auth-issuer is empty and Portside is on loopback), false, force (also off loopback: never in production)",
			value: oneOf(&c.DevLogin, "auto", "false", "force")},
		{Key: "dev-login-addr", Env: "PORTSIDE_DEV_LOGIN_ADDR", Default: "127.0.0.1:0",
			Usage: "loopback host:port of the development OpenID provider (port 0: a free port)",
			value: text(&c.DevLoginAddr, checkAddr)},
		{Key: "argocd-instances", Env: "PORTSIDE_ARGOCD_INSTANCES", Default: "",
			Usage: "Argo CD instances to follow, comma separated, each name=URL: https://host[:port] (TLS), http://host:port (plaintext gRPC); add ?grpc-web=true behind proxies without HTTP/2, ?insecure=true to skip TLS verification (components pick one with the argocd/instance-name annotation)",
			value: parsed(&c.ArgoCDInstances, "string", parseArgoCDInstances, formatArgoCDInstances)},
		{Key: "argocd-tokens", Env: "PORTSIDE_ARGOCD_TOKENS", Default: "", Secret: true,
			Usage: "Argo CD API tokens, comma separated, each name=token for an instance of argocd-instances (environment or config file only)",
			value: parsed(&c.ArgoCDTokens, "string", parseArgoCDTokens, formatPairs)},
		{Key: "argocd-token-dir", Env: "PORTSIDE_ARGOCD_TOKEN_DIR", Default: "",
			Usage: "directory holding one file per Argo CD instance, named like the instance, with its API token (a mounted Secret); argocd-tokens wins where both name an instance",
			value: text(&c.ArgoCDTokenDir, nil)},
		{Key: "argocd-resync-interval", Env: "PORTSIDE_ARGOCD_RESYNC_INTERVAL", Default: "3m",
			Usage: "how often each Argo CD instance is listed in full besides its watch (catches what a watch misses)",
			value: duration(&c.ArgoCDResyncInterval, 10*time.Second, 24*time.Hour)},
		{Key: "argocd-connector", Env: "PORTSIDE_ARGOCD_CONNECTOR", Default: "",
			Usage: "path of portside-argocd, the companion process that talks to the Argo CD instances (empty: beside the portside binary, else on PATH)",
			value: text(&c.ArgoCDConnector, nil)},
		{Key: "pipelines-local", Env: "PORTSIDE_PIPELINES_LOCAL", Default: "false",
			Usage: "enable the local pipeline provider, which runs a pipeline's declared stage commands on the Portside host: for development only (serve --demo enables it)",
			value: boolean(&c.PipelinesLocal)},
		{Key: "pipelines-poll-interval", Env: "PORTSIDE_PIPELINES_POLL_INTERVAL", Default: "15s",
			Usage: "pause between two polls of the pipeline runs under way (webhooks make Portside look at once; polling catches what they miss)",
			value: duration(&c.PipelinesPollInterval, time.Second, time.Hour)},
		{Key: "pipelines-poll-batch", Env: "PORTSIDE_PIPELINES_POLL_BATCH", Default: "100",
			Usage: "pipeline runs read per poll, the least recently read first: with more runs under way each is read less often, which budgets the CI engines' API requests",
			value: whole(&c.PipelinesPollBatch, 1, 10000)},
		{Key: "pipelines-poll-concurrency", Env: "PORTSIDE_PIPELINES_POLL_CONCURRENCY", Default: "4",
			Usage: "CI engine calls one poll makes at once",
			value: whole(&c.PipelinesPollConcurrency, 1, 64)},
		{Key: "runbook-link-check-interval", Env: "PORTSIDE_RUNBOOK_LINK_CHECK_INTERVAL", Default: "0",
			Usage: "pause between two rounds of the background check of runbook and dashboard links (at most 500 links a round, 4 at once, 10s each; allow-loopback-locations applies, link-local is never dialled); 0: off",
			value: durationWhere(&c.RunbookLinkCheckInterval, func(d time.Duration) bool { return d == 0 || (d >= time.Minute && d <= 24*time.Hour) },
				"accepted values are 0 (off) or Go durations from 1m to 24h, e.g. 1h")},
		{Key: "deploy-approval-environments", Env: "PORTSIDE_DEPLOY_APPROVAL_ENVIRONMENTS", Default: "production,prod",
			Usage: "environments whose deploy requests need the approval of a second owner or an admin (comma-separated); the others are applied at once",
			value: list(&c.DeployApprovalEnvs, nil)},
		{Key: "deploy-request-expiry", Env: "PORTSIDE_DEPLOY_REQUEST_EXPIRY", Default: "24h",
			Usage: "how long a deploy request waits for approval before it expires",
			value: durationWhere(&c.DeployRequestExpiry, func(d time.Duration) bool { return d >= time.Minute && d <= 30*24*time.Hour },
				"accepted values are Go durations from 1m to 720h, e.g. 24h")},
		{Key: "deploy-git-dir", Env: "PORTSIDE_DEPLOY_GIT_DIR", Default: "",
			Usage: "directory where deploy requests' working clones of the manifest repositories are kept; empty: a temporary directory",
			value: text(&c.DeployGitDir, nil)},
		{Key: "github-api-url", Env: "PORTSIDE_GITHUB_API_URL", Default: "",
			Usage: "GitHub's REST API root for pipelines: empty for github.com, https://HOST/api/v3/ for GitHub Enterprise Server",
			value: text(&c.GitHubAPIURL, checkOptionalURL)},
		{Key: "github-requests-per-hour", Env: "PORTSIDE_GITHUB_REQUESTS_PER_HOUR", Default: "4000",
			Usage: "GitHub requests (all but 304 Not Modified, which GitHub does not count) Portside spends per hour; beyond it, runs are read again the next hour (triggers and cancels always go)",
			value: whole(&c.GitHubRequestsPerHour, 1, 1000000)},
		{Key: "github-token", Env: "PORTSIDE_GITHUB_TOKEN", Default: "", Secret: true,
			Usage: "token pipelines, and deploy requests applied by pull request, call GitHub with (fine-grained: actions read and write; pull requests read and write where deploy requests open them) (environment or config file only)",
			value: text(&c.GitHubToken, nil)},
		{Key: "github-token-file", Env: "PORTSIDE_GITHUB_TOKEN_FILE", Default: "",
			Usage: "file holding the GitHub token (a mounted Secret); github-token wins when both are set",
			value: text(&c.GitHubTokenFile, nil)},
		{Key: "github-webhook-secret", Env: "PORTSIDE_GITHUB_WEBHOOK_SECRET", Default: "", Secret: true,
			Usage: "secret GitHub signs webhooks to /webhooks/github with (X-Hub-Signature-256); empty: webhooks are refused and runs are followed by polling alone (environment or config file only)",
			value: text(&c.GitHubWebhookSecret, nil)},
		{Key: "github-webhook-secret-file", Env: "PORTSIDE_GITHUB_WEBHOOK_SECRET_FILE", Default: "",
			Usage: "file holding the GitHub webhook secret (a mounted Secret); github-webhook-secret wins when both are set",
			value: text(&c.GitHubWebhookSecretFile, nil)},
		{Key: "gitlab-url", Env: "PORTSIDE_GITLAB_URL", Default: "",
			Usage: "GitLab's root for pipelines: empty for gitlab.com, https://HOST/ or https://HOST/PREFIX/ for a self-managed instance (/api/v4/ is added)",
			value: text(&c.GitLabURL, checkGitLabURL)},
		{Key: "gitlab-token", Env: "PORTSIDE_GITLAB_TOKEN", Default: "", Secret: true,
			Usage: "token pipelines, and deploy requests applied by merge request, call GitLab with (a project, group or personal access token with the api scope) (environment or config file only)",
			value: text(&c.GitLabToken, nil)},
		{Key: "gitlab-token-file", Env: "PORTSIDE_GITLAB_TOKEN_FILE", Default: "",
			Usage: "file holding the GitLab token (a mounted Secret); gitlab-token wins when both are set",
			value: text(&c.GitLabTokenFile, nil)},
		{Key: "gitlab-webhook-secret", Env: "PORTSIDE_GITLAB_WEBHOOK_SECRET", Default: "", Secret: true,
			Usage: "secret token GitLab sends with webhooks to /webhooks/gitlab (X-Gitlab-Token); empty: webhooks are refused and runs are followed by polling alone (environment or config file only)",
			value: text(&c.GitLabWebhookSecret, nil)},
		{Key: "gitlab-webhook-secret-file", Env: "PORTSIDE_GITLAB_WEBHOOK_SECRET_FILE", Default: "",
			Usage: "file holding the GitLab webhook secret (a mounted Secret); gitlab-webhook-secret wins when both are set",
			value: text(&c.GitLabWebhookSecretFile, nil)},
		{Key: "slack-signing-secret", Env: "PORTSIDE_SLACK_SIGNING_SECRET", Default: "", Secret: true,
			Usage: "signing secret of Portside's Slack app: requests to /slack/commands must carry its v0 signature; empty: Slack commands are off (environment or config file only)",
			value: text(&c.SlackSigningSecret, nil)},
		{Key: "slack-signing-secret-file", Env: "PORTSIDE_SLACK_SIGNING_SECRET_FILE", Default: "",
			Usage: "file holding the Slack signing secret (a mounted Secret); slack-signing-secret wins when both are set",
			value: text(&c.SlackSigningSecretFile, nil)},
		{Key: "slack-bot-token", Env: "PORTSIDE_SLACK_BOT_TOKEN", Default: "", Secret: true,
			Usage: "bot token (xoxb-…) Portside calls Slack's Web API with; needs the users:read and users:read.email scopes (environment or config file only)",
			value: text(&c.SlackBotToken, nil)},
		{Key: "slack-bot-token-file", Env: "PORTSIDE_SLACK_BOT_TOKEN_FILE", Default: "",
			Usage: "file holding the Slack bot token (a mounted Secret); slack-bot-token wins when both are set",
			value: text(&c.SlackBotTokenFile, nil)},
		{Key: "slack-api-url", Env: "PORTSIDE_SLACK_API_URL", Default: "",
			Usage: "Slack's Web API root: empty for https://slack.com/api/ (a proxy's or a test server's otherwise)",
			value: text(&c.SlackAPIURL, checkOptionalURL)},
		{Key: "slack-response-url-prefix", Env: "PORTSIDE_SLACK_RESPONSE_URL_PREFIX", Default: "https://hooks.slack.com/",
			Usage: "answers to Slack commands are posted only to response URLs that start with this",
			value: text(&c.SlackResponseURLPrefix, checkOptionalURL)},
		{Key: "slack-default-channel", Env: "PORTSIDE_SLACK_DEFAULT_CHANNEL", Default: "",
			Usage: "Slack channel (ID or #name) deploy requests are posted to when their component has no portside.dev/slack-channel annotation; empty: those are not posted",
			value: text(&c.SlackDefaultChannel, nil)},
		{Key: "alertmanager-webhook-token", Env: "PORTSIDE_ALERTMANAGER_WEBHOOK_TOKEN", Default: "", Secret: true,
			Usage: "bearer token Alertmanager sends with its webhook to /webhooks/alertmanager (the receiver's http_config.authorization.credentials); empty with no password: deliveries are refused (environment or config file only)",
			value: text(&c.AlertmanagerWebhookToken, nil)},
		{Key: "alertmanager-webhook-token-file", Env: "PORTSIDE_ALERTMANAGER_WEBHOOK_TOKEN_FILE", Default: "",
			Usage: "file holding the Alertmanager webhook token (a mounted Secret); alertmanager-webhook-token wins when both are set",
			value: text(&c.AlertmanagerWebhookTokenFile, nil)},
		{Key: "alertmanager-webhook-username", Env: "PORTSIDE_ALERTMANAGER_WEBHOOK_USERNAME", Default: "alertmanager",
			Usage: "basic auth user Alertmanager sends with its webhook (http_config.basic_auth.username), with alertmanager-webhook-password",
			value: text(&c.AlertmanagerWebhookUsername, nil)},
		{Key: "alertmanager-webhook-password", Env: "PORTSIDE_ALERTMANAGER_WEBHOOK_PASSWORD", Default: "", Secret: true,
			Usage: "basic auth password Alertmanager sends with its webhook; empty: basic auth is refused (environment or config file only)",
			value: text(&c.AlertmanagerWebhookPassword, nil)},
		{Key: "alertmanager-webhook-password-file", Env: "PORTSIDE_ALERTMANAGER_WEBHOOK_PASSWORD_FILE", Default: "",
			Usage: "file holding the Alertmanager webhook password (a mounted Secret); alertmanager-webhook-password wins when both are set",
			value: text(&c.AlertmanagerWebhookPasswordFile, nil)},
		{Key: "kubernetes-jobs-kubeconfig", Env: "PORTSIDE_KUBERNETES_JOBS_KUBECONFIG", Default: "",
			Usage: "kubeconfig file (its current context; a mounted Secret) the Kubernetes Jobs pipeline provider creates and watches Jobs with, through portside-argocd; empty: the provider is off unless kubernetes-jobs-in-cluster is set",
			value: text(&c.KubernetesJobsKubeconfig, nil)},
		{Key: "kubernetes-jobs-in-cluster", Env: "PORTSIDE_KUBERNETES_JOBS_IN_CLUSTER", Default: "false",
			Usage: "run the Kubernetes Jobs pipeline provider with the pod's own service account (Portside runs in the cluster) instead of a kubeconfig file",
			value: boolean(&c.KubernetesJobsInCluster)},
		{Key: "kubernetes-jobs-namespace", Env: "PORTSIDE_KUBERNETES_JOBS_NAMESPACE", Default: "default",
			Usage: "namespace the Kubernetes Jobs pipeline provider runs its Jobs in (its service account needs a Role there: see the README)",
			value: text(&c.KubernetesJobsNamespace, checkNamespace)},
	}
}

// Settings returns the table of settings in display order, each bound to a Config of its own.
func Settings() []Setting { return bind(new(Config)) }

// lookup finds a setting by key.
func lookup(key string) (Setting, bool) { return find(Settings(), key) }

func find(settings []Setting, key string) (Setting, bool) {
	for _, s := range settings {
		if s.Key == key {
			return s, true
		}
	}
	return Setting{}, false
}

// textValue is the pflag.Value behind every registered flag: it keeps the text as given, so that
// Load parses flags, environment and file alike and reports them the same way.
type textValue struct {
	text string
	kind string
}

func (v *textValue) String() string     { return v.text }
func (v *textValue) Set(s string) error { v.text = s; return nil }
func (v *textValue) Type() string       { return v.kind }

// Register adds every setting to fs as a flag named by its key, with its usage and the name of its
// environment variable. Boolean settings (and migrate) may be given as a bare --flag.
func Register(fs *pflag.FlagSet) {
	for _, s := range Settings() {
		kind := s.value.kind()
		f := fs.VarPF(&textValue{text: s.Default, kind: kind}, s.Key, "", s.Usage+" (env "+s.Env+")")
		if kind == "bool" || s.bare {
			f.NoOptDefVal = "true"
		}
	}
}

// source tells where a value came from, for error messages.
type source struct {
	kind string // "flag", "env", "file" or "default"
	name string // "--addr", "PORTSIDE_ADDR", "/etc/portside.yaml line 3", "default"
}

func (s source) String() string { return s.name }

// Load resolves every setting: a flag set on fs wins over the environment, which wins over the YAML
// file (named by --config or PORTSIDE_CONFIG), which wins over the default. env looks up an
// environment variable (os.LookupEnv in production); a variable set to the empty string counts as
// unset. fs and env may be nil. Every error is an *errs.Error with code Invalid whose Field is the
// setting at fault.
func Load(fs *pflag.FlagSet, env func(string) (string, bool)) (Config, error) {
	if env == nil {
		env = func(string) (string, bool) { return "", false }
	}
	var cfg Config
	settings := bind(&cfg)

	// The file's own path comes from a flag or the environment only.
	cfgSetting, _ := find(settings, "config")
	var file map[string]fileValue
	if path, from := resolve(cfgSetting, fs, env, nil); path != "" {
		var err error
		if file, err = readFile(path, from, settings); err != nil {
			return Config{}, err
		}
	}

	for _, s := range settings {
		v, src := resolve(s, fs, env, file)
		if err := s.load(v, src); err != nil {
			return Config{}, err
		}
	}
	if cfg.GitCacheDir == "" {
		base, err := userCacheDir()
		if err != nil || base == "" {
			// A cache can live anywhere; without a user cache directory the temp dir will do.
			base = os.TempDir()
		}
		cfg.GitCacheDir = filepath.Join(base, "portside", "git")
	}
	return cfg, nil
}

// userCacheDir finds the per-user cache directory; a variable so tests can pin it.
var userCacheDir = os.UserCacheDir

// Defaults returns the configuration made of the built-in defaults only.
func Defaults() Config {
	cfg, err := Load(nil, nil)
	if err != nil {
		panic("config: a built-in default is invalid: " + err.Error())
	}
	return cfg
}

// resolve picks the value of one setting by precedence and says where it came from.
func resolve(s Setting, fs *pflag.FlagSet, env func(string) (string, bool), file map[string]fileValue) (string, source) {
	if fs != nil {
		if f := fs.Lookup(s.Key); f != nil && f.Changed {
			return f.Value.String(), source{kind: "flag", name: "--" + s.Key}
		}
	}
	if v, ok := env(s.Env); ok && v != "" {
		return v, source{kind: "env", name: s.Env}
	}
	if fv, ok := file[s.Key]; ok {
		return fv.value, source{kind: "file", name: fv.where}
	}
	return s.Default, source{kind: "default", name: "default"}
}

// load parses one value into its field, turning a refusal into the error people see.
func (s Setting) load(v string, src source) error {
	if src.kind == "flag" && (s.Secret || (s.redact != nil && s.redact(v) != v)) {
		// Command lines are visible to every user of the machine (ps, /proc) and end up in shell
		// histories, so secrets come from the environment or a file only.
		return &errs.Error{Code: errs.Invalid, Field: s.Key, Message: fmt.Sprintf(
			"%s (from %s) holds a secret, and secrets are not accepted on the command line: set %s or put it in the config file",
			s.Key, src, s.Env)}
	}
	if err := s.value.set(v); err != nil {
		return &errs.Error{Code: errs.Invalid, Field: s.Key, Message: fmt.Sprintf(
			"invalid %s%s (from %s): %s", s.Key, s.shown(v), src, err)}
	}
	return nil
}

// shown renders a value for an error message: quoted, with secrets hidden.
func (s Setting) shown(v string) string {
	switch {
	case s.Secret:
		return ""
	case s.redact != nil:
		return " " + strconv.Quote(s.redact(v))
	default:
		return " " + strconv.Quote(v)
	}
}

// fileValue is one value read from the YAML file.
type fileValue struct {
	value string
	where string // "<path> line <n>"
	line  int
}

// readFile reads the flat YAML file at path. Unknown keys, nested values, duplicate keys and the
// "config" key itself are errors.
func readFile(path string, from source, settings []Setting) (map[string]fileValue, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, &errs.Error{Code: errs.Invalid, Field: "config", Message: fmt.Sprintf(
				"config file %q (from %s) does not exist", path, from)}
		}
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is already in the message
		}
		return nil, &errs.Error{Code: errs.Invalid, Field: "config",
			Message: fmt.Sprintf("cannot read config file %q (from %s)", path, from), Err: err}
	}
	// One document: yaml.Unmarshal reads the first and ignores the rest, whose settings (checked
	// or not) would silently do nothing.
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, &errs.Error{Code: errs.Invalid, Field: "config",
			Message: fmt.Sprintf("config file %q is not valid YAML", path), Err: err}
	}
	for { // empty documents after it (a generated file's trailing ---) are fine
		var next yaml.Node
		err := dec.Decode(&next)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &errs.Error{Code: errs.Invalid, Field: "config",
				Message: fmt.Sprintf("config file %q is not valid YAML", path), Err: err}
		}
		if len(next.Content) > 0 && !(next.Content[0].Kind == yaml.ScalarNode && next.Content[0].Tag == "!!null") {
			return nil, &errs.Error{Code: errs.Invalid, Field: "config", Message: fmt.Sprintf(
				"config file %q holds a second YAML document (line %d); Portside reads one: put every setting in one mapping", path, next.Line)}
		}
	}
	out := map[string]fileValue{}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return out, nil // an empty file sets nothing
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return out, nil // a file holding only comments
	}
	if root.Kind != yaml.MappingNode {
		return nil, &errs.Error{Code: errs.Invalid, Field: "config", Message: fmt.Sprintf(
			"config file %q line %d: expected a mapping of setting: value, one per line", path, root.Line)}
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		key := k.Value
		s, ok := find(settings, key)
		if !ok {
			msg := fmt.Sprintf("unknown key %q in config file %q (line %d)", key, path, k.Line)
			if near := closestKey(key, settings); near != "" {
				msg += fmt.Sprintf("; did you mean %q?", near)
			} else {
				msg += "; known keys are " + strings.Join(fileKeys(settings), ", ")
			}
			return nil, &errs.Error{Code: errs.Invalid, Field: key, Message: msg}
		}
		if s.noFile {
			return nil, &errs.Error{Code: errs.Invalid, Field: key, Message: fmt.Sprintf(
				"config file %q (line %d) sets %q, which only a flag or %s can set", path, k.Line, key, s.Env)}
		}
		if prev, dup := out[key]; dup {
			return nil, &errs.Error{Code: errs.Invalid, Field: key, Message: fmt.Sprintf(
				"config file %q sets %q twice (lines %d and %d)", path, key, prev.line, k.Line)}
		}
		for v.Kind == yaml.AliasNode && v.Alias != nil {
			v = v.Alias
		}
		if v.Kind != yaml.ScalarNode {
			return nil, &errs.Error{Code: errs.Invalid, Field: key, Message: fmt.Sprintf(
				"%s in config file %q (line %d) must be a single value, not a %s", key, path, v.Line, shapeName(v))}
		}
		val := v.Value
		if v.Tag == "!!null" {
			val = "" // "key:" with nothing after it
		}
		out[key] = fileValue{value: val, where: fmt.Sprintf("%s line %d", path, k.Line), line: k.Line}
	}
	return out, nil
}

func shapeName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	default:
		return "document"
	}
}

// fileKeys lists the keys the YAML file may set.
func fileKeys(settings []Setting) []string {
	var keys []string
	for _, s := range settings {
		if !s.noFile {
			keys = append(keys, s.Key)
		}
	}
	return keys
}

// UnknownEnv lists the PORTSIDE_* variables of environ (KEY=value entries) that name no
// setting, each with the setting's variable it is closest to, if any ("PORTSIDE_DATABASE (did
// you mean PORTSIDE_DATABASE_URL?)"): a mistyped variable is otherwise silently ignored.
// Variables Portside's own tests and tools read (PORTSIDE_TEST_*, PORTSIDE_BENCH_*) and those a
// pipeline's steps are given are not listed.
func UnknownEnv(environ []string) []string {
	settings := Settings()
	var out []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, "PORTSIDE_") || strings.HasPrefix(name, "PORTSIDE_TEST_") || strings.HasPrefix(name, "PORTSIDE_BENCH_") ||
			strings.HasPrefix(name, "PORTSIDE_PARAM_") || slices.Contains(stepEnv, name) {
			continue
		}
		known := false
		for _, s := range settings {
			if s.Env == name {
				known = true
				break
			}
		}
		if known {
			continue
		}
		note := name
		if near := closestKey(strings.TrimSuffix(name, "_URL"), settings); near != "" {
			if s, ok := find(settings, near); ok {
				note += " (did you mean " + s.Env + "?)"
			}
		}
		out = append(out, note)
	}
	sort.Strings(out)
	return out
}

// stepEnv are the variables Portside gives a pipeline's steps (with PORTSIDE_PARAM_*), where the
// deploy CLI may run.
var stepEnv = []string{"PORTSIDE_RUN_ID", "PORTSIDE_COMPONENT", "PORTSIDE_PIPELINE", "PORTSIDE_STAGE", "PORTSIDE_REF", "PORTSIDE_OUTPUT"}

// closestKey suggests the known key nearest to an unknown one, or "" when none is near enough to be
// a likely typo. Snake case, upper case and environment variable spellings are recognised first.
func closestKey(unknown string, settings []Setting) string {
	norm := strings.ToLower(strings.TrimSpace(unknown))
	norm = strings.ReplaceAll(norm, "_", "-")
	norm = strings.TrimPrefix(norm, "portside-")
	best, bestD := "", -1
	for _, s := range settings {
		if s.noFile {
			continue
		}
		if norm == s.Key || strings.EqualFold(unknown, s.Env) {
			return s.Key
		}
		if d := levenshtein.ComputeDistance(norm, s.Key); bestD < 0 || d < bestD {
			best, bestD = s.Key, d
		}
	}
	if bestD > max(2, len(best)/3) {
		return ""
	}
	return best
}

// Describe lists the configuration as "key=value" lines in table order, for the startup log.
// Secrets are redacted, and a database URL shows no password.
func (c Config) Describe() []string {
	settings := bind(&c)
	out := make([]string, 0, len(settings))
	for _, s := range settings {
		v := s.value.String()
		switch {
		case s.Secret && v != "":
			v = "xxxxx"
		case s.redact != nil:
			v = s.redact(v)
		}
		out = append(out, s.Key+"="+v)
	}
	return out
}

// MarkdownTable renders the settings as the README's configuration table.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| Setting | Flag | Environment | Default | Meaning |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, s := range Settings() {
		def := "`" + s.Default + "`"
		if s.Default == "" {
			def = "(empty)"
		}
		fmt.Fprintf(&b, "| `%s` | `--%s` | `%s` | %s | %s |\n",
			s.Key, s.Key, s.Env, def, strings.ReplaceAll(s.Usage, "|", `\|`))
	}
	return b.String()
}

// MigrateOnStart tells whether serve should apply pending migrations on its database: in auto mode
// yes for SQLite (the embedded mode), no for PostgreSQL (where the migration Job does it).
func (c Config) MigrateOnStart(sqlite bool) bool {
	switch c.Migrate {
	case MigrateAlways:
		return true
	case MigrateNever:
		return false
	default:
		return sqlite
	}
}

// ResolvePublicURL fills in the public URL from the address the server is bound to, when none
// was configured.
func (c *Config) ResolvePublicURL(bound string) {
	if c.PublicURL != "" {
		return
	}
	host, port, _ := net.SplitHostPort(bound)
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	c.PublicURL = "http://" + net.JoinHostPort(host, port)
}

// DevLoginEnabled decides whether the embedded development provider runs, and refuses the start
// when it would run where it must not: with an external issuer configured, or (unless forced) on a
// server others can reach, where its well-known demo passwords would let anyone in.
func (c Config) DevLoginEnabled() (bool, error) {
	switch {
	case c.DevLogin == "false":
		return false, nil
	case c.AuthIssuer != "" && c.DevLogin == "force":
		return false, &errs.Error{Code: errs.Invalid, Field: "dev-login", Message: "dev-login=force and auth-issuer cannot be set together: the development login never runs beside a real provider"}
	case c.AuthIssuer != "":
		return false, nil
	case c.DevLogin == "force":
		return true, nil
	}
	host, _, _ := net.SplitHostPort(c.Addr)
	pub, _ := url.Parse(c.PublicURL)
	if !isLoopbackHost(host) || pub == nil || !isLoopbackHost(pub.Hostname()) {
		return false, &errs.Error{Code: errs.Invalid, Field: "auth-issuer", Message: fmt.Sprintf(
			"no auth-issuer is configured, and the development login (well-known demo passwords) only starts on loopback, not on addr %s / public-url %s: "+
				"set auth-issuer (and auth-client-id, auth-client-secret) to your OpenID provider, set dev-login=false to allow API tokens only, "+
				"or dev-login=force for a throwaway server", c.Addr, c.PublicURL)}
	}
	return true, nil
}

// GitHubCredentials returns the GitHub token and webhook secret, from their settings or else
// their files. The error names the setting and never shows a secret.
func (c Config) GitHubCredentials() (token, webhookSecret string, err error) {
	if token, err = readSecret(c.GitHubToken, c.GitHubTokenFile, "github-token-file"); err != nil {
		return "", "", err
	}
	webhookSecret, err = readSecret(c.GitHubWebhookSecret, c.GitHubWebhookSecretFile, "github-webhook-secret-file")
	return token, webhookSecret, err
}

// GitLabCredentials returns the GitLab token and webhook secret, from their settings or else
// their files. The error names the setting and never shows a secret.
func (c Config) GitLabCredentials() (token, webhookSecret string, err error) {
	if token, err = readSecret(c.GitLabToken, c.GitLabTokenFile, "gitlab-token-file"); err != nil {
		return "", "", err
	}
	webhookSecret, err = readSecret(c.GitLabWebhookSecret, c.GitLabWebhookSecretFile, "gitlab-webhook-secret-file")
	return token, webhookSecret, err
}

// SlackCredentials returns the Slack signing secret and bot token, from their settings or else
// their files. The error names the setting and never shows a secret.
func (c Config) SlackCredentials() (signingSecret, botToken string, err error) {
	if signingSecret, err = readSecret(c.SlackSigningSecret, c.SlackSigningSecretFile, "slack-signing-secret-file"); err != nil {
		return "", "", err
	}
	botToken, err = readSecret(c.SlackBotToken, c.SlackBotTokenFile, "slack-bot-token-file")
	return signingSecret, botToken, err
}

// AlertmanagerCredentials returns the Alertmanager webhook's bearer token, basic auth user and
// password, from their settings or else their files. The error names the setting and never shows
// a secret.
func (c Config) AlertmanagerCredentials() (token, username, password string, err error) {
	if token, err = readSecret(c.AlertmanagerWebhookToken, c.AlertmanagerWebhookTokenFile, "alertmanager-webhook-token-file"); err != nil {
		return "", "", "", err
	}
	password, err = readSecret(c.AlertmanagerWebhookPassword, c.AlertmanagerWebhookPasswordFile, "alertmanager-webhook-password-file")
	return token, c.AlertmanagerWebhookUsername, password, err
}

// readSecret is a secret's setting, else the trimmed contents of its file.
func readSecret(value, file, key string) (string, error) {
	if value != "" || file == "" {
		return value, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("%s: %w", key, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// ArgoCDToken finds an instance's API token: in argocd-tokens, else in argocd-token-dir. The error
// names the instance and both settings.
func (c Config) ArgoCDToken(name string) (string, error) {
	if t := c.ArgoCDTokens[name]; t != "" {
		return t, nil
	}
	if c.ArgoCDTokenDir != "" {
		b, err := os.ReadFile(filepath.Join(c.ArgoCDTokenDir, name))
		if err == nil && strings.TrimSpace(string(b)) != "" {
			return strings.TrimSpace(string(b)), nil
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("argocd-token-dir: reading the token of Argo CD instance %q: %w", name, err)
		}
	}
	return "", fmt.Errorf("Argo CD instance %q has no API token: set it in argocd-tokens (PORTSIDE_ARGOCD_TOKENS=%s=<token>) or as the file %q in argocd-token-dir",
		name, name, name)
}

// KubernetesJobs reports whether the Kubernetes Jobs pipeline provider is configured, checking
// what can be checked before the companion reads the kubeconfig: the file is there and readable
// (its contents are the companion's to parse, and never logged), or the in-cluster service
// account is. The error names the setting.
func (c Config) KubernetesJobs() (bool, error) {
	switch {
	case c.KubernetesJobsInCluster && c.KubernetesJobsKubeconfig != "":
		return false, &errs.Error{Code: errs.Invalid, Field: "kubernetes-jobs-in-cluster",
			Message: "kubernetes-jobs-in-cluster and kubernetes-jobs-kubeconfig are both set: use one"}
	case c.KubernetesJobsInCluster:
		if os.Getenv("KUBERNETES_SERVICE_HOST") == "" {
			return false, &errs.Error{Code: errs.Invalid, Field: "kubernetes-jobs-in-cluster",
				Message: "kubernetes-jobs-in-cluster is set but Portside is not running in a Kubernetes pod (KUBERNETES_SERVICE_HOST is not set); use kubernetes-jobs-kubeconfig"}
		}
		return true, nil
	case c.KubernetesJobsKubeconfig != "":
		f, err := os.Open(c.KubernetesJobsKubeconfig)
		if err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				err = pe.Err
			}
			return false, &errs.Error{Code: errs.Invalid, Field: "kubernetes-jobs-kubeconfig",
				Message: fmt.Sprintf("kubernetes-jobs-kubeconfig: cannot read %q: %v", c.KubernetesJobsKubeconfig, err)}
		}
		_ = f.Close()
		return true, nil
	}
	return false, nil
}

// ---- parsers and checks (each error says what is accepted) ----

var namespaceRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

func checkNamespace(v string) error {
	if !namespaceRE.MatchString(v) {
		return errors.New("accepted values are Kubernetes namespace names: 1 to 63 of [a-z0-9-], starting and ending with a letter or digit")
	}
	return nil
}

func checkAddr(v string) error {
	const accepted = "accepted values are host:port with a port from 0 to 65535, e.g. 127.0.0.1:7007 or :7007"
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		return errors.New(accepted)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return errors.New(accepted)
	}
	return nil
}

// checkDatabase accepts what the store can open: a postgres:// (or postgresql://) URL naming a
// host, or anything without a scheme (or with file:), which is a SQLite path. The store classifies
// the value again when it opens it; this check makes a typo fail at start naming the setting.
func checkDatabase(v string) error {
	const accepted = "accepted values are a SQLite file path or a postgres:// URL"
	raw := strings.TrimSpace(v)
	switch {
	case raw == "":
		return errors.New("is empty; " + accepted)
	case strings.HasPrefix(raw, "postgres://") || strings.HasPrefix(raw, "postgresql://"):
		u, err := url.Parse(raw)
		if err != nil {
			return fmt.Errorf("is not a valid PostgreSQL URL: %s; %s", redactURLError(err), accepted)
		}
		if u.Host == "" {
			return errors.New("the PostgreSQL URL names no host; " + accepted)
		}
	case strings.Contains(raw, "://") && !strings.HasPrefix(raw, "file:"):
		return fmt.Errorf("scheme %q is not supported; %s", raw[:strings.Index(raw, "://")], accepted)
	}
	return nil
}

// quoted matches the part of the URL url.Parse quotes in its complaint (`invalid port ":secret"
// after host` when a password holds a "/"), which may be a piece of the password.
var quoted = regexp.MustCompile(`"[^"]*"`)

// redactURLError keeps url.Parse's complaint without echoing the URL (which may hold a password).
func redactURLError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return quoted.ReplaceAllString(ue.Err.Error(), `"…"`)
	}
	return "malformed"
}

func parseMigrate(v string) (MigrateMode, error) {
	if v == string(MigrateAuto) {
		return MigrateAuto, nil
	}
	b, err := strconv.ParseBool(v)
	switch {
	case err != nil:
		return "", errors.New("accepted values are auto, true, false")
	case b:
		return MigrateAlways, nil
	default:
		return MigrateNever, nil
	}
}

// parsePublicURL accepts an http(s) origin, kept without a trailing slash.
func parsePublicURL(v string) (string, error) {
	if v == "" {
		return "", nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return "", errors.New("accepted values are an http:// or https:// origin like https://portal.example.com (no path)")
	}
	// Written as browsers write an origin (RFC 6454: the host in lower case, the scheme's default
	// port left out), since requests are checked against it: "http://Localhost:80" would refuse
	// every Origin a browser sends.
	host := strings.ToLower(u.Host)
	if port := u.Port(); (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		host = strings.ToLower(u.Hostname())
		if strings.Contains(host, ":") {
			host = "[" + host + "]" // an IPv6 address keeps its brackets
		}
	}
	return u.Scheme + "://" + host, nil
}

func checkIssuer(v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return errors.New("accepted values are the provider's issuer URL, like https://login.example.com/realms/acme")
	}
	if u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
		return errors.New("an issuer must use https unless it is on loopback")
	}
	return nil
}

// checkOptionalURL accepts an empty value or an http(s) URL with a host.
func checkOptionalURL(v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return errors.New("accepted values are empty or an http(s) URL, like https://github.example.com/api/v3/")
	}
	return nil
}

// checkTracingEndpoint accepts an empty value (off) or an http(s) URL of an OTLP/HTTP collector.
func checkTracingEndpoint(v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return errors.New("accepted values are empty (off) or the http:// or https:// URL of an OTLP/HTTP collector, without credentials or query, like http://otel-collector:4318")
	}
	return nil
}

// checkGitLabURL accepts an empty value or an http(s) URL with a host (and maybe a path prefix).
func checkGitLabURL(v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.User != nil {
		return errors.New("accepted values are empty or an http(s) URL without credentials or query, like https://gitlab.example.com/ or https://example.com/gitlab/")
	}
	return nil
}

func checkIssuers(issuers []string) error {
	for _, iss := range issuers {
		if err := checkIssuer(iss); err != nil {
			return fmt.Errorf("%q: %w", iss, err)
		}
	}
	return nil
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func checkScopes(scopes []string) error {
	if !slices.Contains(scopes, "openid") {
		return errors.New("the list must include openid")
	}
	return nil
}

func checkUserLink(methods []string) error {
	for _, m := range methods {
		if m != "name" && m != "email" {
			return fmt.Errorf("unknown method %q: accepted values are name, email (comma separated)", m)
		}
	}
	return nil
}

// checkTrustedProxies refuses what is neither an IP address nor a CIDR range.
func checkTrustedProxies(list []string) error {
	for _, p := range list {
		if _, _, err := net.ParseCIDR(p); err == nil {
			continue
		}
		if net.ParseIP(p) == nil {
			return fmt.Errorf("%q is neither an IP address nor a CIDR range (such as 10.0.0.0/8)", p)
		}
	}
	return nil
}

// locationTypes are the values api-location-types accepts.
var locationTypes = []string{"url", "git", "file", "embedded"}

func checkLocationTypes(types []string) error {
	for _, t := range types {
		if !slices.Contains(locationTypes, t) {
			return fmt.Errorf("unknown location type %q: accepted values are %s", t, strings.Join(locationTypes, ", "))
		}
	}
	return nil
}

func nonEmpty(v string) error {
	if strings.TrimSpace(v) == "" {
		return errors.New("must not be empty")
	}
	return nil
}

// encryptionKeySize is the length of an encryption key: AES-256, as seal.NewKeyring wants.
const encryptionKeySize = 32

// parseEncryptionKeys decodes the comma-separated base64 keys (standard or URL alphabet, padded
// or not). The value is a secret: errors say which key is wrong, never what it holds.
func parseEncryptionKeys(v string) ([][]byte, error) {
	var keys [][]byte
	for i, e := range splitList(v) {
		k, err := decodeKey(e)
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i+1, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			if len(k) != encryptionKeySize {
				return nil, fmt.Errorf("is %d bytes long, want %d (make one with: openssl rand -base64 32)", len(k), encryptionKeySize)
			}
			return k, nil
		}
	}
	return nil, errors.New("is not base64 (make one with: openssl rand -base64 32)")
}

func formatEncryptionKeys(keys [][]byte) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = base64.StdEncoding.EncodeToString(k)
	}
	return strings.Join(parts, ",")
}

// instanceName is what an Argo CD instance may be called (it is matched against the
// argocd/instance-name annotation and names a token file).
var instanceName = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// parsePairs reads "name=value" entries, comma separated.
func parsePairs(v string) (map[string]string, error) {
	var out map[string]string // nil when v names nothing, like every other unset setting
	for _, part := range splitList(v) {
		name, value, ok := strings.Cut(part, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok || name == "" || value == "" {
			return nil, fmt.Errorf("entry %q is not name=value", part)
		}
		if !instanceName.MatchString(name) {
			// Not quoted: an entry written the wrong way round has its secret where the name goes.
			return nil, nameError{fmt.Sprintf("entry %d: an instance name is lowercase letters, digits and dashes", len(out)+1)}
		}
		if _, dup := out[name]; dup {
			return nil, nameError{fmt.Sprintf("instance %q is named twice", name)}
		}
		if out == nil {
			out = map[string]string{}
		}
		out[name] = value
	}
	return out, nil
}

func formatPairs(m map[string]string) string {
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, name+"="+m[name])
	}
	return strings.Join(parts, ",")
}

// nameError is what parsePairs finds wrong with a name: it quotes no value.
type nameError struct{ msg string }

func (e nameError) Error() string { return e.msg }

func parseArgoCDTokens(v string) (map[string]string, error) {
	tokens, err := parsePairs(v)
	var named nameError
	switch {
	case errors.As(err, &named):
		return nil, err // names no token
	case err != nil:
		// The value is a secret: say what is wrong without repeating it.
		return nil, errors.New("each entry must be name=token, with a lowercase instance name")
	}
	return tokens, nil
}

func parseArgoCDInstances(v string) ([]ArgoCDInstance, error) {
	pairs, err := parsePairs(v)
	if err != nil {
		return nil, err
	}
	var out []ArgoCDInstance
	for _, name := range slices.Sorted(maps.Keys(pairs)) {
		u, err := url.Parse(pairs[name])
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			return nil, fmt.Errorf("instance %q: %q is not an http:// or https:// URL of an Argo CD API server", name, pairs[name])
		}
		inst := ArgoCDInstance{Name: name, Addr: u.Host, PlainText: u.Scheme == "http"}
		if u.Port() == "" {
			port := "443"
			if inst.PlainText {
				port = "80"
			}
			inst.Addr = net.JoinHostPort(u.Hostname(), port)
		}
		for key, vals := range u.Query() {
			b, err := strconv.ParseBool(vals[0])
			if err != nil {
				return nil, fmt.Errorf("instance %q: %s=%q: accepted values are true and false", name, key, vals[0])
			}
			switch key {
			case "grpc-web":
				inst.GRPCWeb = b
			case "insecure":
				inst.Insecure = b
			default:
				return nil, fmt.Errorf("instance %q: unknown option %q: accepted options are grpc-web and insecure", name, key)
			}
		}
		out = append(out, inst)
	}
	return out, nil
}

func formatArgoCDInstances(list []ArgoCDInstance) string {
	var parts []string
	for _, i := range list {
		scheme := "https"
		if i.PlainText {
			scheme = "http"
		}
		var opts []string
		if i.GRPCWeb {
			opts = append(opts, "grpc-web=true")
		}
		if i.Insecure {
			opts = append(opts, "insecure=true")
		}
		s := i.Name + "=" + scheme + "://" + i.Addr
		if len(opts) > 0 {
			s += "?" + strings.Join(opts, "&")
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ",")
}

// splitList reads a comma-separated list, ignoring blanks.
func splitList(v string) []string {
	var out []string
	for part := range strings.SplitSeq(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// formatDuration prints a duration the way people write it: 5m rather than 5m0s, 0 rather than 0s.
func formatDuration(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

var (
	passwordParam = regexp.MustCompile(`(?i)(password=)[^&\s]*`)
	userInfo      = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*):\S*@`)
)

// redactDatabase hides the password in a database value, even one too malformed for url.Parse:
// user:password@ (up to the last @, erring on the side of hiding too much) and password=….
func redactDatabase(v string) string {
	return passwordParam.ReplaceAllString(userInfo.ReplaceAllString(v, "${1}:xxxxx@"), "${1}xxxxx")
}

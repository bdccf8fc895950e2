// Package config gathers Portside's settings from flags, PORTSIDE_* environment variables and an
// optional flat YAML file, in that order of precedence over the built-in defaults. One table (see
// Settings) names every setting, so the flag, the environment variable, the YAML key, --help and the
// README table can never drift apart, and a bad value fails at start with a message that names the
// setting, where the value came from and what is accepted.
package config

import (
	"errors"
	"fmt"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/seal"
	"github.com/portside-dev/portside/store"
)

// Setting describes one configuration setting: its names in every source, its default, its help
// text and how its text form is validated.
type Setting struct {
	Key     string             // YAML key and flag name, e.g. "addr", "database", "refresh-interval"
	Env     string             // environment variable, e.g. "PORTSIDE_ADDR", "PORTSIDE_DATABASE_URL"
	Default string             // the default as text; "" allowed
	Usage   string             // one line, used for --help and the README table
	Secret  bool               // never printed (redacted in Describe, errors and logs)
	Check   func(string) error // validates the text form; the error names the accepted values

	kind   kind                  // how the value is shown in --help and parsed
	redact func(string) string   // hides the secret parts of a value before it is shown; nil shows it as is
	apply  func(*Config, string) // stores a checked value in its typed field
	get    func(Config) string   // the typed field back as text, for Describe
	noFile bool                  // cannot be set in the YAML file (the file's own path)
	post   func(*Config)         // fills in a default that depends on the system, after every setting is applied
}

// kind is a setting's value type as --help shows it.
type kind string

const (
	kindString   kind = "string"
	kindBool     kind = "bool"
	kindInt      kind = "int"
	kindDuration kind = "duration"
)

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
	ConfigFile           string        // path of the YAML file that was read; "" when none
	Addr                 string        // host:port the HTTP server listens on
	Database             string        // SQLite file path or postgres:// URL (may hold a password: show it with store.Redact)
	Migrate              MigrateMode   // whether serve applies pending migrations; see MigrateOnStart
	Demo                 bool          // load the embedded demo catalog at start
	RefreshInterval      time.Duration // how often registered catalog locations are refreshed; 0 disables
	GitCacheDir          string        // where git locations are cloned (the default is resolved by Load)
	DatabaseMaxConns     int           // bound of the database connection pool
	LogLevel             string        // debug, info, warn or error
	LogFormat            string        // json or text
	ShutdownTimeout      time.Duration // how long SIGTERM waits for in-flight requests
	GraphQLMaxDepth      int           // deepest GraphQL selection accepted
	GraphQLMaxComplexity int           // highest GraphQL query complexity accepted
	// GraphQLTimeout bounds how long one GraphQL query or mutation runs.
	GraphQLTimeout time.Duration
	// GraphQLMaxResponseBytes bounds the data of one GraphQL answer.
	GraphQLMaxResponseBytes int
	// GraphQLMaxBodyBytes bounds a GraphQL request body.
	GraphQLMaxBodyBytes int
	CatalogCacheSize    int      // entities kept in the catalog read cache; 0 disables the cache
	ResponseCacheSize   int      // GraphQL responses kept for repeated catalog queries; 0 disables that cache
	APILocationTypes    []string // location types the GraphQL API may register
	// AllowLoopbackLocations lets URL and git locations read loopback addresses (never link-local
	// ones: cloud metadata endpoints stay refused).
	AllowLoopbackLocations bool
	// CatalogMaxLocationErrors bounds the errors kept per location; the rest are counted only.
	CatalogMaxLocationErrors int
	// CatalogMaxFileBytes bounds one catalog file (or a file a placeholder reads).
	CatalogMaxFileBytes int64

	PublicURL          string        // Portside's address as browsers reach it; "" until serve knows its port (see ResolvePublicURL)
	AuthIssuer         string        // the OpenID provider's issuer URL; "" means the embedded development login
	AuthClientID       string        // Portside's client ID at the provider
	AuthClientSecret   string        // its client secret (a secret: environment or file only)
	AuthScopes         []string      // scopes asked for at login
	AuthUsernameClaim  string        // claim holding the username
	AuthEmailClaim     string        // claim holding the email address
	AuthGroupsClaim    string        // claim holding the group list
	AuthAdminGroups    []string      // groups whose members are admins
	AuthUserLink       []string      // how a login is linked to a catalog User: name, email
	AuthJWTAudiences   []string      // audiences accepted on bearer JWTs; empty means the client ID
	AuthJWTIssuers     []string      // further issuers whose bearer JWTs are accepted (machines: CI, other services)
	EncryptionKeys     []string      // base64 keys that seal refresh tokens, newest first (a secret)
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
}

// ArgoCDInstance is one Argo CD API server, as argocd-instances names it.
type ArgoCDInstance struct {
	Name string
	Addr string // host:port
	// PlainText speaks gRPC without TLS (http:// URLs); Insecure skips TLS verification
	// (?insecure=true); GRPCWeb speaks gRPC-web (?grpc-web=true).
	PlainText, Insecure, GRPCWeb bool
}

// userCacheDir finds the per-user cache directory; a variable so tests can pin it.
var userCacheDir = os.UserCacheDir

var settings = []Setting{
	{
		Key: "config", Env: "PORTSIDE_CONFIG", Default: "",
		Usage: "path of an optional YAML file with settings (flag or environment only)",
		kind:  kindString, noFile: true,
		apply: func(c *Config, v string) { c.ConfigFile = v },
		get:   func(c Config) string { return c.ConfigFile },
	},
	{
		Key: "addr", Env: "PORTSIDE_ADDR", Default: "127.0.0.1:7007",
		Usage: "host:port the HTTP server listens on",
		Check: checkAddr, kind: kindString,
		apply: func(c *Config, v string) { c.Addr = v },
		get:   func(c Config) string { return c.Addr },
	},
	{
		Key: "database", Env: "PORTSIDE_DATABASE_URL", Default: "portside.db",
		Usage: "SQLite file path or postgres:// URL; put a password only in the environment or the config file",
		Check: checkDatabase, kind: kindString, redact: redactDatabase,
		apply: func(c *Config, v string) { c.Database = v },
		get:   func(c Config) string { return c.Database },
	},
	{
		Key: "migrate", Env: "PORTSIDE_MIGRATE", Default: string(MigrateAuto),
		Usage: "whether serve applies pending migrations: auto (yes for SQLite, no for PostgreSQL), true, false",
		Check: checkMigrate, kind: kindString,
		apply: func(c *Config, v string) { c.Migrate = parseMigrate(v) },
		get:   func(c Config) string { return string(c.Migrate) },
	},
	{
		Key: "demo", Env: "PORTSIDE_DEMO", Default: "false",
		Usage: "load the embedded demo catalog at start",
		Check: checkBool, kind: kindBool,
		apply: func(c *Config, v string) { c.Demo, _ = strconv.ParseBool(v) },
		get:   func(c Config) string { return strconv.FormatBool(c.Demo) },
	},
	{
		Key: "refresh-interval", Env: "PORTSIDE_REFRESH_INTERVAL", Default: "5m",
		Usage: "how often registered catalog locations are refreshed; 0 disables",
		Check: checkRefreshInterval, kind: kindDuration,
		apply: func(c *Config, v string) { c.RefreshInterval, _ = time.ParseDuration(v) },
		get:   func(c Config) string { return formatDuration(c.RefreshInterval) },
	},
	{
		Key: "git-cache-dir", Env: "PORTSIDE_GIT_CACHE_DIR", Default: "",
		Usage: "directory where git catalog locations are cloned (empty: the user cache directory + /portside/git)",
		kind:  kindString,
		apply: func(c *Config, v string) { c.GitCacheDir = v },
		get:   func(c Config) string { return c.GitCacheDir },
		post: func(c *Config) {
			if c.GitCacheDir != "" {
				return
			}
			base, err := userCacheDir()
			if err != nil || base == "" {
				// A cache can live anywhere; without a user cache directory the temp dir will do.
				base = os.TempDir()
			}
			c.GitCacheDir = filepath.Join(base, "portside", "git")
		},
	},
	{
		Key: "database-max-conns", Env: "PORTSIDE_DATABASE_MAX_CONNS", Default: "10",
		Usage: "upper bound of the database connection pool",
		Check: intRange(1, 1000), kind: kindInt,
		apply: func(c *Config, v string) { c.DatabaseMaxConns, _ = strconv.Atoi(v) },
		get:   func(c Config) string { return strconv.Itoa(c.DatabaseMaxConns) },
	},
	{
		Key: "log-level", Env: "PORTSIDE_LOG_LEVEL", Default: "info",
		Usage: "lowest level logged: debug, info, warn, error",
		Check: oneOf("debug", "info", "warn", "error"), kind: kindString,
		apply: func(c *Config, v string) { c.LogLevel = v },
		get:   func(c Config) string { return c.LogLevel },
	},
	{
		Key: "log-format", Env: "PORTSIDE_LOG_FORMAT", Default: "json",
		Usage: "log format: json, text",
		Check: oneOf("json", "text"), kind: kindString,
		apply: func(c *Config, v string) { c.LogFormat = v },
		get:   func(c Config) string { return c.LogFormat },
	},
	{
		Key: "shutdown-timeout", Env: "PORTSIDE_SHUTDOWN_TIMEOUT", Default: "15s",
		Usage: "how long a SIGTERM waits for in-flight requests before the server stops",
		Check: durationRange(time.Second, time.Hour), kind: kindDuration,
		apply: func(c *Config, v string) { c.ShutdownTimeout, _ = time.ParseDuration(v) },
		get:   func(c Config) string { return formatDuration(c.ShutdownTimeout) },
	},
	{
		Key: "graphql-max-depth", Env: "PORTSIDE_GRAPHQL_MAX_DEPTH", Default: "12",
		Usage: "deepest GraphQL selection a query may have",
		Check: intRange(1, 100), kind: kindInt,
		apply: func(c *Config, v string) { c.GraphQLMaxDepth, _ = strconv.Atoi(v) },
		get:   func(c Config) string { return strconv.Itoa(c.GraphQLMaxDepth) },
	},
	{
		Key: "graphql-max-complexity", Env: "PORTSIDE_GRAPHQL_MAX_COMPLEXITY", Default: "5000",
		Usage: "highest complexity a GraphQL query may have",
		Check: intRange(1, 1_000_000), kind: kindInt,
		apply: func(c *Config, v string) { c.GraphQLMaxComplexity, _ = strconv.Atoi(v) },
		get:   func(c Config) string { return strconv.Itoa(c.GraphQLMaxComplexity) },
	},
	{
		Key: "graphql-timeout", Env: "PORTSIDE_GRAPHQL_TIMEOUT", Default: "10s",
		Usage: "how long one GraphQL query or mutation may run; past it the operation is stopped and answered UNAVAILABLE with reason TIMEOUT (subscriptions are not bounded)",
		Check: durationRange(100*time.Millisecond, 10*time.Minute), kind: kindDuration,
		apply: func(c *Config, v string) { c.GraphQLTimeout, _ = time.ParseDuration(v) },
		get:   func(c Config) string { return formatDuration(c.GraphQLTimeout) },
	},
	{
		Key: "graphql-max-response-bytes", Env: "PORTSIDE_GRAPHQL_MAX_RESPONSE_BYTES", Default: "16777216",
		Usage: "largest data one GraphQL answer may have, in bytes; a larger one is stopped and answered INVALID with reason RESPONSE_TOO_LARGE",
		Check: intRange(64<<10, 1<<30), kind: kindInt,
		apply: func(c *Config, v string) { c.GraphQLMaxResponseBytes, _ = strconv.Atoi(v) },
		get:   func(c Config) string { return strconv.Itoa(c.GraphQLMaxResponseBytes) },
	},
	{
		Key: "graphql-max-body-bytes", Env: "PORTSIDE_GRAPHQL_MAX_BODY_BYTES", Default: "1048576",
		Usage: "largest GraphQL request body, in bytes (chunked bodies too); a larger one is answered 413",
		Check: intRange(4<<10, 64<<20), kind: kindInt,
		apply: func(c *Config, v string) { c.GraphQLMaxBodyBytes, _ = strconv.Atoi(v) },
		get:   func(c Config) string { return strconv.Itoa(c.GraphQLMaxBodyBytes) },
	},
	{
		Key: "catalog-cache-size", Env: "PORTSIDE_CATALOG_CACHE_SIZE", Default: "50000",
		Usage: "entities kept in the catalog read cache; 0 disables the cache",
		Check: intRange(0, 10_000_000), kind: kindInt,
		apply: func(c *Config, v string) { c.CatalogCacheSize, _ = strconv.Atoi(v) },
		get:   func(c Config) string { return strconv.Itoa(c.CatalogCacheSize) },
	},
	{
		Key: "response-cache-size", Env: "PORTSIDE_RESPONSE_CACHE_SIZE", Default: "5000",
		Usage: "GraphQL responses kept for repeated catalog queries (answered without running the query again, until the catalog changes); 0 disables this cache, independently of catalog-cache-size",
		Check: intRange(0, 1_000_000), kind: kindInt,
		apply: func(c *Config, v string) { c.ResponseCacheSize, _ = strconv.Atoi(v) },
		get:   func(c Config) string { return strconv.Itoa(c.ResponseCacheSize) },
	},
	{
		Key: "api-location-types", Env: "PORTSIDE_API_LOCATION_TYPES", Default: "url,git",
		Usage: "location types the GraphQL API may register, comma separated: url, git, file (the server's disk, also git file:// remotes), embedded; the CLI may register any",
		Check: checkLocationTypes, kind: kindString,
		apply: func(c *Config, v string) { c.APILocationTypes = splitList(v) },
		get:   func(c Config) string { return strings.Join(c.APILocationTypes, ",") },
	},
	{
		Key: "allow-loopback-locations", Env: "PORTSIDE_ALLOW_LOOPBACK_LOCATIONS", Default: "false",
		Usage: "let URL and git locations read from loopback addresses (refused by default: they reach the server's own services); link-local addresses (cloud metadata endpoints) stay refused",
		Check: checkBool, kind: kindBool,
		apply: func(c *Config, v string) { c.AllowLoopbackLocations, _ = strconv.ParseBool(v) },
		get:   func(c Config) string { return strconv.FormatBool(c.AllowLoopbackLocations) },
	},
	{
		Key: "catalog-max-file-bytes", Env: "PORTSIDE_CATALOG_MAX_FILE_BYTES", Default: "67108864",
		Usage: "largest catalog file (or file a placeholder reads) a location may hold, in bytes (default 64 MiB)",
		Check: intRange(1<<20, 1<<30), kind: kindInt,
		apply: func(c *Config, v string) { c.CatalogMaxFileBytes, _ = strconv.ParseInt(v, 10, 64) },
		get:   func(c Config) string { return strconv.FormatInt(c.CatalogMaxFileBytes, 10) },
	},
	{
		Key: "catalog-max-location-errors", Env: "PORTSIDE_CATALOG_MAX_LOCATION_ERRORS", Default: "500",
		Usage: "errors kept per catalog location (the first ones found); the rest are counted in errorCount only",
		Check: intRange(1, 100_000), kind: kindInt,
		apply: func(c *Config, v string) { c.CatalogMaxLocationErrors, _ = strconv.Atoi(v) },
		get:   func(c Config) string { return strconv.Itoa(c.CatalogMaxLocationErrors) },
	},
	{
		Key: "public-url", Env: "PORTSIDE_PUBLIC_URL", Default: "",
		Usage: "Portside's address as browsers reach it, for sign-in redirects and cookie security (empty: http:// + addr)",
		Check: checkPublicURL, kind: kindString,
		apply: func(c *Config, v string) { c.PublicURL = strings.TrimSuffix(v, "/") },
		get:   func(c Config) string { return c.PublicURL },
	},
	{
		Key: "auth-issuer", Env: "PORTSIDE_AUTH_ISSUER", Default: "",
		Usage: "issuer URL of the OpenID provider people sign in with (empty: the embedded development login, see dev-login)",
		Check: checkIssuer, kind: kindString,
		apply: func(c *Config, v string) { c.AuthIssuer = v },
		get:   func(c Config) string { return c.AuthIssuer },
	},
	{
		Key: "auth-client-id", Env: "PORTSIDE_AUTH_CLIENT_ID", Default: "portside",
		Usage: "Portside's client ID at the OpenID provider",
		Check: nonEmpty, kind: kindString,
		apply: func(c *Config, v string) { c.AuthClientID = v },
		get:   func(c Config) string { return c.AuthClientID },
	},
	{
		Key: "auth-client-secret", Env: "PORTSIDE_AUTH_CLIENT_SECRET", Default: "",
		Usage:  "Portside's client secret at the OpenID provider (environment or config file only)",
		Secret: true, kind: kindString,
		apply: func(c *Config, v string) { c.AuthClientSecret = v },
		get:   func(c Config) string { return c.AuthClientSecret },
	},
	{
		Key: "auth-scopes", Env: "PORTSIDE_AUTH_SCOPES", Default: "openid,profile,email,groups",
		Usage: "scopes asked for at sign-in, comma separated (drop groups for providers that refuse unknown scopes)",
		Check: checkScopes, kind: kindString,
		apply: func(c *Config, v string) { c.AuthScopes = splitList(v) },
		get:   func(c Config) string { return strings.Join(c.AuthScopes, ",") },
	},
	{
		Key: "auth-username-claim", Env: "PORTSIDE_AUTH_USERNAME_CLAIM", Default: "preferred_username",
		Usage: "ID token or userinfo claim that holds the username",
		Check: nonEmpty, kind: kindString,
		apply: func(c *Config, v string) { c.AuthUsernameClaim = v },
		get:   func(c Config) string { return c.AuthUsernameClaim },
	},
	{
		Key: "auth-email-claim", Env: "PORTSIDE_AUTH_EMAIL_CLAIM", Default: "email",
		Usage: "claim that holds the email address",
		Check: nonEmpty, kind: kindString,
		apply: func(c *Config, v string) { c.AuthEmailClaim = v },
		get:   func(c Config) string { return c.AuthEmailClaim },
	},
	{
		Key: "auth-groups-claim", Env: "PORTSIDE_AUTH_GROUPS_CLAIM", Default: "groups",
		Usage: "claim that holds the user's groups (names become catalog groups: team-a is group:default/team-a)",
		Check: nonEmpty, kind: kindString,
		apply: func(c *Config, v string) { c.AuthGroupsClaim = v },
		get:   func(c Config) string { return c.AuthGroupsClaim },
	},
	{
		Key: "auth-admin-groups", Env: "PORTSIDE_AUTH_ADMIN_GROUPS", Default: "portside-admins",
		Usage: "groups whose members are admins, comma separated",
		kind:  kindString,
		apply: func(c *Config, v string) { c.AuthAdminGroups = splitList(v) },
		get:   func(c Config) string { return strings.Join(c.AuthAdminGroups, ",") },
	},
	{
		Key: "auth-user-link", Env: "PORTSIDE_AUTH_USER_LINK", Default: "name,email",
		Usage: "how a signed-in person is linked to a catalog User, tried in order: name (username = entity name), email (spec.profile.email)",
		Check: checkUserLink, kind: kindString,
		apply: func(c *Config, v string) { c.AuthUserLink = splitList(v) },
		get:   func(c Config) string { return strings.Join(c.AuthUserLink, ",") },
	},
	{
		Key: "auth-jwt-audiences", Env: "PORTSIDE_AUTH_JWT_AUDIENCES", Default: "",
		Usage: "audiences accepted on bearer JWTs from the issuer, comma separated (empty: the client ID)",
		kind:  kindString,
		apply: func(c *Config, v string) { c.AuthJWTAudiences = splitList(v) },
		get:   func(c Config) string { return strings.Join(c.AuthJWTAudiences, ",") },
	},
	{
		Key: "auth-jwt-issuers", Env: "PORTSIDE_AUTH_JWT_ISSUERS", Default: "",
		Usage: "further issuers whose bearer JWTs are accepted, comma separated (CI systems, other services): their callers are named <username or sub>@<issuer host>, are never admins, and need an audience from auth-jwt-audiences",
		Check: checkIssuers, kind: kindString,
		apply: func(c *Config, v string) { c.AuthJWTIssuers = splitList(v) },
		get:   func(c Config) string { return strings.Join(c.AuthJWTIssuers, ",") },
	},
	{
		Key: "encryption-key", Env: "PORTSIDE_ENCRYPTION_KEY", Default: "",
		Usage:  "base64 32-byte keys (openssl rand -base64 32), comma separated, newest first, that seal the identity provider's refresh tokens in the database; empty: sessions keep no refresh token (the development login uses a key of its own) (environment or config file only)",
		Secret: true, Check: checkEncryptionKeys, kind: kindString,
		apply: func(c *Config, v string) { c.EncryptionKeys = splitList(v) },
		get:   func(c Config) string { return strings.Join(c.EncryptionKeys, ",") },
	},
	{
		Key: "metrics-token", Env: "PORTSIDE_METRICS_TOKEN", Default: "",
		Usage:  "when set, /metrics answers only requests that send it as \"Authorization: Bearer <token>\" (environment or config file only)",
		Secret: true, kind: kindString,
		apply: func(c *Config, v string) { c.MetricsToken = v },
		get:   func(c Config) string { return c.MetricsToken },
	},
	{
		Key: "session-idle-timeout", Env: "PORTSIDE_SESSION_IDLE_TIMEOUT", Default: "8h",
		Usage: "a browser session unused this long ends",
		Check: durationRange(time.Minute, 30*24*time.Hour), kind: kindDuration,
		apply: func(c *Config, v string) { c.SessionIdleTimeout, _ = time.ParseDuration(v) },
		get:   func(c Config) string { return formatDuration(c.SessionIdleTimeout) },
	},
	{
		Key: "session-max-age", Env: "PORTSIDE_SESSION_MAX_AGE", Default: "168h",
		Usage: "any browser session ends this long after sign-in",
		Check: durationRange(time.Minute, 90*24*time.Hour), kind: kindDuration,
		apply: func(c *Config, v string) { c.SessionMaxAge, _ = time.ParseDuration(v) },
		get:   func(c Config) string { return formatDuration(c.SessionMaxAge) },
	},
	{
		Key: "token-max-lifetime", Env: "PORTSIDE_TOKEN_MAX_LIFETIME", Default: "2160h",
		Usage: "the longest an API token lives; createApiToken without ttl gets it, a longer ttl is refused (only portside token create --never-expires makes one without end)",
		Check: durationRange(time.Hour, 5*366*24*time.Hour), kind: kindDuration,
		apply: func(c *Config, v string) { c.TokenMaxLifetime, _ = time.ParseDuration(v) },
		get:   func(c Config) string { return formatDuration(c.TokenMaxLifetime) },
	},
	{
		Key: "dev-login", Env: "PORTSIDE_DEV_LOGIN", Default: "auto",
		Usage: "the embedded development OpenID provider with the demo users: auto (on when auth-issuer is empty and Portside is on loopback), false, force (also off loopback: never in production)",
		Check: oneOf("auto", "false", "force"), kind: kindString,
		apply: func(c *Config, v string) { c.DevLogin = v },
		get:   func(c Config) string { return c.DevLogin },
	},
	{
		Key: "dev-login-addr", Env: "PORTSIDE_DEV_LOGIN_ADDR", Default: "127.0.0.1:0",
		Usage: "loopback host:port of the development OpenID provider (port 0: a free port)",
		Check: checkAddr, kind: kindString,
		apply: func(c *Config, v string) { c.DevLoginAddr = v },
		get:   func(c Config) string { return c.DevLoginAddr },
	},
	{
		Key: "argocd-instances", Env: "PORTSIDE_ARGOCD_INSTANCES", Default: "",
		Usage: "Argo CD instances to follow, comma separated, each name=URL: https://host[:port] (TLS), http://host:port (plaintext gRPC); add ?grpc-web=true behind proxies without HTTP/2, ?insecure=true to skip TLS verification (components pick one with the argocd/instance-name annotation)",
		Check: checkArgoCDInstances, kind: kindString,
		apply: func(c *Config, v string) { c.ArgoCDInstances, _ = parseArgoCDInstances(v) },
		get:   func(c Config) string { return formatArgoCDInstances(c.ArgoCDInstances) },
	},
	{
		Key: "argocd-tokens", Env: "PORTSIDE_ARGOCD_TOKENS", Default: "",
		Usage:  "Argo CD API tokens, comma separated, each name=token for an instance of argocd-instances (environment or config file only)",
		Secret: true, Check: checkArgoCDTokens, kind: kindString,
		apply: func(c *Config, v string) { c.ArgoCDTokens, _ = parsePairs(v) },
		get: func(c Config) string {
			var parts []string
			for _, name := range slices.Sorted(maps.Keys(c.ArgoCDTokens)) {
				parts = append(parts, name+"="+c.ArgoCDTokens[name])
			}
			return strings.Join(parts, ",")
		},
	},
	{
		Key: "argocd-token-dir", Env: "PORTSIDE_ARGOCD_TOKEN_DIR", Default: "",
		Usage: "directory holding one file per Argo CD instance, named like the instance, with its API token (a mounted Secret); argocd-tokens wins where both name an instance",
		kind:  kindString,
		apply: func(c *Config, v string) { c.ArgoCDTokenDir = v },
		get:   func(c Config) string { return c.ArgoCDTokenDir },
	},
	{
		Key: "argocd-resync-interval", Env: "PORTSIDE_ARGOCD_RESYNC_INTERVAL", Default: "3m",
		Usage: "how often each Argo CD instance is listed in full besides its watch (catches what a watch misses)",
		Check: durationRange(10*time.Second, 24*time.Hour), kind: kindDuration,
		apply: func(c *Config, v string) { c.ArgoCDResyncInterval, _ = time.ParseDuration(v) },
		get:   func(c Config) string { return formatDuration(c.ArgoCDResyncInterval) },
	},
	{
		Key: "argocd-connector", Env: "PORTSIDE_ARGOCD_CONNECTOR", Default: "",
		Usage: "path of portside-argocd, the companion process that talks to the Argo CD instances (empty: beside the portside binary, else on PATH)",
		kind:  kindString,
		apply: func(c *Config, v string) { c.ArgoCDConnector = v },
		get:   func(c Config) string { return c.ArgoCDConnector },
	},
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
			return nil, fmt.Errorf("instance name %q: use lowercase letters, digits and dashes", name)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("instance %q is named twice", name)
		}
		if out == nil {
			out = map[string]string{}
		}
		out[name] = value
	}
	return out, nil
}

func checkArgoCDTokens(v string) error {
	_, err := parsePairs(v)
	if err != nil {
		// The value is a secret: say which entry is wrong without repeating it.
		return errors.New("each entry must be name=token, with a lowercase instance name")
	}
	return nil
}

func checkArgoCDInstances(v string) error {
	_, err := parseArgoCDInstances(v)
	return err
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

// locationTypes are the values api-location-types accepts.
var locationTypes = []string{"url", "git", "file", "embedded"}

func checkLocationTypes(v string) error {
	for _, t := range splitList(v) {
		if !slices.Contains(locationTypes, t) {
			return fmt.Errorf("unknown location type %q: accepted values are %s", t, strings.Join(locationTypes, ", "))
		}
	}
	return nil
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

// Settings returns the table of settings in display order. The slice is a copy.
func Settings() []Setting { return slices.Clone(settings) }

// lookup finds a setting by key.
func lookup(key string) (Setting, bool) {
	for _, s := range settings {
		if s.Key == key {
			return s, true
		}
	}
	return Setting{}, false
}

// textValue is the pflag.Value behind every registered flag: it keeps the text as given, so that
// Load validates flags, environment and file alike and reports them the same way.
type textValue struct {
	text string
	kind kind
}

func (v *textValue) String() string     { return v.text }
func (v *textValue) Set(s string) error { v.text = s; return nil }
func (v *textValue) Type() string       { return string(v.kind) }

// Register adds every setting to fs as a flag named by its key, with its usage and the name of its
// environment variable. Boolean settings may be given as a bare --flag.
func Register(fs *pflag.FlagSet) {
	for _, s := range settings {
		f := fs.VarPF(&textValue{text: s.Default, kind: s.kind}, s.Key, "", s.Usage+" (env "+s.Env+")")
		if s.kind == kindBool || s.Key == "migrate" {
			f.NoOptDefVal = "true" // `serve --migrate` reads as the issue and the README say it
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

	// The file's own path comes from a flag or the environment only.
	cfgSetting, _ := lookup("config")
	path, pathSrc := resolve(cfgSetting, fs, env, nil)
	var file map[string]fileValue
	if path != "" {
		var err error
		if file, err = readFile(path, pathSrc); err != nil {
			return Config{}, err
		}
	}

	for _, s := range settings {
		v, src := resolve(s, fs, env, file)
		if err := check(s, v, src); err != nil {
			return Config{}, err
		}
		s.apply(&cfg, v)
	}
	for _, s := range settings {
		if s.post != nil {
			s.post(&cfg)
		}
	}
	return cfg, nil
}

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

// check validates one value and turns a failure into the error people see.
func check(s Setting, v string, src source) error {
	if src.kind == "flag" && (s.Secret || (s.redact != nil && s.redact(v) != v)) {
		// Command lines are visible to every user of the machine (ps, /proc) and end up in shell
		// histories, so secrets come from the environment or a file only.
		return &errs.Error{Code: errs.Invalid, Field: s.Key, Message: fmt.Sprintf(
			"%s (from %s) holds a secret, and secrets are not accepted on the command line: set %s or put it in the config file",
			s.Key, src, s.Env)}
	}
	if s.Check == nil {
		return nil
	}
	if err := s.Check(v); err != nil {
		return &errs.Error{Code: errs.Invalid, Field: s.Key, Message: fmt.Sprintf(
			"invalid %s%s (from %s): %s", s.Key, shown(s, v), src, err)}
	}
	return nil
}

// shown renders a value for an error message: quoted, with secrets hidden.
func shown(s Setting, v string) string {
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
func readFile(path string, from source) (map[string]fileValue, error) {
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
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &errs.Error{Code: errs.Invalid, Field: "config",
			Message: fmt.Sprintf("config file %q is not valid YAML", path), Err: err}
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
		where := fmt.Sprintf("%s line %d", path, k.Line)
		s, ok := lookup(key)
		if !ok {
			msg := fmt.Sprintf("unknown key %q in config file %q (line %d)", key, path, k.Line)
			if near := closestKey(key); near != "" {
				msg += fmt.Sprintf("; did you mean %q?", near)
			} else {
				msg += "; known keys are " + strings.Join(fileKeys(), ", ")
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
		out[key] = fileValue{value: val, where: where, line: k.Line}
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
func fileKeys() []string {
	var keys []string
	for _, s := range settings {
		if !s.noFile {
			keys = append(keys, s.Key)
		}
	}
	return keys
}

// closestKey suggests the known key nearest to an unknown one, or "" when none is near enough to be
// a likely typo. Snake case, upper case and environment variable spellings are recognised first.
func closestKey(unknown string) string {
	norm := strings.ToLower(strings.TrimSpace(unknown))
	norm = strings.ReplaceAll(norm, "_", "-")
	norm = strings.TrimPrefix(norm, "portside-")
	for _, s := range settings {
		if !s.noFile && (norm == s.Key || strings.EqualFold(unknown, s.Env)) {
			return s.Key
		}
	}
	best, bestD := "", -1
	for _, s := range settings {
		if s.noFile {
			continue
		}
		d := levenshtein(norm, s.Key)
		if bestD < 0 || d < bestD {
			best, bestD = s.Key, d
		}
	}
	if bestD > max(2, len(best)/3) {
		return ""
	}
	return best
}

// levenshtein is the edit distance between two short strings.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// Describe lists the configuration as "key=value" lines in table order, for the startup log.
// Secrets are redacted, and a database URL shows no password.
func (c Config) Describe() []string {
	out := make([]string, 0, len(settings))
	for _, s := range settings {
		v := s.get(c)
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

// MigrateOnStart tells whether serve should apply pending migrations on a database of the given
// dialect: in auto mode yes for SQLite, no for PostgreSQL (where the migration Job does it).
func (c Config) MigrateOnStart(dialect store.Dialect) bool {
	switch c.Migrate {
	case MigrateAlways:
		return true
	case MigrateNever:
		return false
	default:
		return dialect == store.SQLite
	}
}

// MarkdownTable renders the settings as the README's configuration table.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| Setting | Flag | Environment | Default | Meaning |\n")
	b.WriteString("|---|---|---|---|---|\n")
	for _, s := range settings {
		def := "`" + s.Default + "`"
		if s.Default == "" {
			def = "(empty)"
		}
		fmt.Fprintf(&b, "| `%s` | `--%s` | `%s` | %s | %s |\n",
			s.Key, s.Key, s.Env, def, strings.ReplaceAll(s.Usage, "|", `\|`))
	}
	return b.String()
}

// ---- validators ----

func checkPublicURL(v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return errors.New("accepted values are an http:// or https:// origin like https://portal.example.com (no path)")
	}
	return nil
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

func checkIssuers(v string) error {
	for _, iss := range splitList(v) {
		if err := checkIssuer(iss); err != nil {
			return fmt.Errorf("%q: %w", iss, err)
		}
	}
	return nil
}

func checkEncryptionKeys(v string) error {
	if v == "" {
		return nil
	}
	_, err := seal.ParseKeys(splitList(v))
	return err
}

// Keyring is the keyring of encryption-key, nil when none is set.
func (c Config) Keyring() *seal.Keyring {
	if len(c.EncryptionKeys) == 0 {
		return nil
	}
	r, _ := seal.ParseKeys(c.EncryptionKeys) // checked by checkEncryptionKeys
	return r
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func checkScopes(v string) error {
	if !slices.Contains(splitList(v), "openid") {
		return errors.New("the list must include openid")
	}
	return nil
}

func checkUserLink(v string) error {
	for _, m := range splitList(v) {
		if m != "name" && m != "email" {
			return fmt.Errorf("unknown method %q: accepted values are name, email (comma separated)", m)
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

func checkDatabase(v string) error {
	const accepted = "accepted values are a SQLite file path or a postgres:// URL"
	if _, _, err := store.ParseURL(v); err != nil {
		var e *errs.Error
		if errors.As(err, &e) && e.Message != "" {
			// store's message starts with the field name, which our message already gives.
			return fmt.Errorf("%s; %s", strings.TrimPrefix(e.Message, "database: "), accepted)
		}
		return errors.New(accepted)
	}
	return nil
}

func checkMigrate(v string) error {
	if v == string(MigrateAuto) {
		return nil
	}
	if _, err := strconv.ParseBool(v); err != nil {
		return errors.New("accepted values are auto, true, false")
	}
	return nil
}

func parseMigrate(v string) MigrateMode {
	if v == string(MigrateAuto) {
		return MigrateAuto
	}
	if b, _ := strconv.ParseBool(v); b {
		return MigrateAlways
	}
	return MigrateNever
}

func checkBool(v string) error {
	if _, err := strconv.ParseBool(v); err != nil {
		return errors.New("accepted values are true, false")
	}
	return nil
}

func checkRefreshInterval(v string) error {
	const accepted = "accepted values are 0 (disabled) or a Go duration of at least 10s, e.g. 5m"
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || (d > 0 && d < 10*time.Second) {
		return errors.New(accepted)
	}
	return nil
}

func durationRange(lo, hi time.Duration) func(string) error {
	return func(v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < lo || d > hi {
			return fmt.Errorf("accepted values are Go durations from %s to %s, e.g. 15s", formatDuration(lo), formatDuration(hi))
		}
		return nil
	}
}

func intRange(lo, hi int) func(string) error {
	return func(v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			return fmt.Errorf("accepted values are whole numbers from %d to %d", lo, hi)
		}
		return nil
	}
}

func oneOf(values ...string) func(string) error {
	return func(v string) error {
		if slices.Contains(values, v) {
			return nil
		}
		return fmt.Errorf("accepted values are %s", strings.Join(values, ", "))
	}
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

// ---- redaction ----

var (
	passwordParam = regexp.MustCompile(`(?i)(password=)[^&\s]*`)
	userInfo      = regexp.MustCompile(`^([A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*):\S*@`)
)

// redactDatabase hides the password in a database value, even one too malformed for url.Parse.
func redactDatabase(v string) string {
	r := store.Redact(v)
	// store.Redact gives up on URLs it cannot parse, and knows nothing of key=value DSNs; mask
	// user:password@ (up to the last @, erring on the side of hiding too much) and password=… by hand.
	r = userInfo.ReplaceAllString(r, "${1}:xxxxx@")
	return passwordParam.ReplaceAllString(r, "${1}xxxxx")
}

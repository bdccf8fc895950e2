package config

import (
	"bytes"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/seal"
	"github.com/portside-dev/portside/store"
)

// sources is one test's flags, environment and config file.
type sources struct {
	flags []string          // command-line arguments, e.g. "--addr=:1"
	env   map[string]string // environment variables
	file  string            // YAML file contents; "" means no file
}

// load runs Load on the given sources, writing the file to a temp dir and pointing PORTSIDE_CONFIG
// at it unless the flags or env already name a config file.
func load(t *testing.T, src sources) (Config, error) {
	t.Helper()
	env := map[string]string{}
	for k, v := range src.env {
		env[k] = v
	}
	if src.file != "" {
		path := filepath.Join(t.TempDir(), "portside.yaml")
		if err := os.WriteFile(path, []byte(src.file), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, ok := env["PORTSIDE_CONFIG"]; !ok {
			env["PORTSIDE_CONFIG"] = path
		}
	}
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	Register(fs)
	if err := fs.Parse(src.flags); err != nil {
		t.Fatalf("parse flags %v: %v", src.flags, err)
	}
	return Load(fs, mapEnv(env))
}

func mapEnv(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func pinCacheDir(t *testing.T, dir string, err error) {
	t.Helper()
	old := userCacheDir
	userCacheDir = func() (string, error) { return dir, err }
	t.Cleanup(func() { userCacheDir = old })
}

// wantInvalid checks that err is an *errs.Error with code Invalid, the given field, and a message
// holding every one of the given fragments.
func wantInvalid(t *testing.T, err error, field string, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want an error on %s, got none", field)
	}
	var e *errs.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %q is a %T, want *errs.Error", err, err)
	}
	if e.Code != errs.Invalid || e.Field != field {
		t.Errorf("error %q: code %s field %q, want %s %q", err, e.Code, e.Field, errs.Invalid, field)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not mention %q", err, f)
		}
	}
}

func TestDefaults(t *testing.T) {
	pinCacheDir(t, "/home/u/.cache", nil)
	got := Defaults()
	want := Config{
		Addr:                        "127.0.0.1:7007",
		Database:                    "portside.db",
		Migrate:                     MigrateAuto,
		RefreshInterval:             5 * time.Minute,
		GitCacheDir:                 filepath.Join("/home/u/.cache", "portside", "git"),
		DatabaseMaxConns:            10,
		LogLevel:                    "info",
		LogFormat:                   "json",
		TracingSampleRatio:          1,
		TracingServiceName:          "portside",
		ShutdownTimeout:             15 * time.Second,
		GraphQLMaxDepth:             12,
		GraphQLMaxComplexity:        20000,
		GraphQLTimeout:              10 * time.Second,
		GraphQLMaxResponseBytes:     16 << 20,
		GraphQLMaxBodyBytes:         6<<20 + 64<<10,
		CatalogCacheSize:            50000,
		ResponseCacheSize:           5000,
		APILocationTypes:            []string{"url", "git"},
		AuthClientID:                "portside",
		AuthScopes:                  []string{"openid", "profile", "email", "groups"},
		AuthUsernameClaim:           "preferred_username",
		AuthEmailClaim:              "email",
		AuthGroupsClaim:             "groups",
		AuthAdminGroups:             []string{"portside-admins"},
		AuthUserLink:                []string{"name", "email"},
		SessionIdleTimeout:          8 * time.Hour,
		SessionMaxAge:               7 * 24 * time.Hour,
		TokenMaxLifetime:            90 * 24 * time.Hour,
		DevLogin:                    "auto",
		DevLoginAddr:                "127.0.0.1:0",
		ArgoCDResyncInterval:        3 * time.Minute,
		PipelinesPollInterval:       15 * time.Second,
		PipelinesPollBatch:          100,
		PipelinesPollConcurrency:    4,
		DeployApprovalEnvs:          []string{"production", "prod"},
		DeployRequestExpiry:         24 * time.Hour,
		GitHubRequestsPerHour:       4000,
		SlackResponseURLPrefix:      "https://hooks.slack.com/",
		KubernetesJobsNamespace:     "default",
		AlertmanagerWebhookUsername: "alertmanager",
	}
	want.CatalogMaxLocationErrors = 500
	want.CatalogMaxFileBytes = 64 << 20
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

// TestEveryDefaultPassesItsCheck gives each setting its own default explicitly, from the
// environment and from the file, and checks that the value parses.
func TestEveryDefaultPassesItsCheck(t *testing.T) {
	for _, s := range Settings() {
		if s.noFile || s.Default == "" {
			continue // the empty string counts as unset in the environment; the file's path has no file form
		}
		for _, src := range []sources{{env: map[string]string{s.Env: s.Default}}, {file: s.Key + ": '" + s.Default + "'\n"}} {
			if _, err := load(t, src); err != nil {
				t.Errorf("default %q of %s fails its own check: %v", s.Default, s.Key, err)
			}
		}
	}
}

func TestGitCacheDirFallsBackToTempDir(t *testing.T) {
	pinCacheDir(t, "", errors.New("$HOME is not defined"))
	cfg, err := Load(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(os.TempDir(), "portside", "git"); cfg.GitCacheDir != want {
		t.Errorf("GitCacheDir = %q, want %q", cfg.GitCacheDir, want)
	}
	cfg, err = Load(nil, mapEnv(map[string]string{"PORTSIDE_GIT_CACHE_DIR": "/var/cache/git"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.GitCacheDir != "/var/cache/git" {
		t.Errorf("GitCacheDir = %q, want the configured one", cfg.GitCacheDir)
	}
}

// TestPrecedence sets log-level in every combination of flag, environment and file, each with its
// own value, and checks that the highest-ranked source present wins.
func TestPrecedence(t *testing.T) {
	for mask := 0; mask < 8; mask++ {
		flag, env, file := mask&4 != 0, mask&2 != 0, mask&1 != 0
		var src sources
		src.env = map[string]string{}
		want := "info" // the default
		if file {
			src.file = "log-level: warn\nrefresh-interval: 1m\n"
			want = "warn"
		}
		if env {
			src.env["PORTSIDE_LOG_LEVEL"] = "error"
			src.env["PORTSIDE_REFRESH_INTERVAL"] = "2m"
			want = "error"
		}
		if flag {
			src.flags = []string{"--log-level=debug", "--refresh-interval", "3m"}
			want = "debug"
		}
		wantInterval := map[string]time.Duration{"info": 5 * time.Minute, "warn": time.Minute, "error": 2 * time.Minute, "debug": 3 * time.Minute}[want]
		name := strings.Join([]string{onOff("flag", flag), onOff("env", env), onOff("file", file)}, ",")
		t.Run(name, func(t *testing.T) {
			cfg, err := load(t, src)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.LogLevel != want || cfg.RefreshInterval != wantInterval {
				t.Errorf("log-level %q refresh-interval %s, want %q %s", cfg.LogLevel, cfg.RefreshInterval, want, wantInterval)
			}
		})
	}
}

func onOff(name string, on bool) string {
	if on {
		return name
	}
	return "no-" + name
}

// TestEverySettingFromEverySource sets each setting to a non-default value from each source alone
// and checks that it lands in Config (seen through Describe, which reads the typed fields).
func TestEverySettingFromEverySource(t *testing.T) {
	pinCacheDir(t, "/cache", nil)
	values := map[string]string{
		"addr":                               "0.0.0.0:8080",
		"database":                           "/data/portside.db",
		"migrate":                            "false",
		"demo":                               "true",
		"refresh-interval":                   "30s",
		"git-cache-dir":                      "/srv/git",
		"database-max-conns":                 "25",
		"log-level":                          "debug",
		"log-format":                         "text",
		"tracing-endpoint":                   "https://otel.example.com:4318",
		"tracing-sample-ratio":               "0.25",
		"tracing-service-name":               "portside-eu",
		"shutdown-timeout":                   "1m",
		"graphql-max-depth":                  "7",
		"graphql-max-complexity":             "100000",
		"graphql-timeout":                    "30s",
		"graphql-max-response-bytes":         "1048576",
		"graphql-max-body-bytes":             "65536",
		"graphql-max-concurrent-queries":     "24",
		"catalog-cache-size":                 "0",
		"response-cache-size":                "0",
		"api-location-types":                 "url,git,file",
		"allow-loopback-locations":           "true",
		"public-url":                         "https://portal.example.com",
		"trusted-proxies":                    "10.0.0.0/8,fd00::1",
		"auth-issuer":                        "https://login.example.com/realms/acme",
		"auth-client-id":                     "portal",
		"auth-client-secret":                 "s3cret",
		"auth-scopes":                        "openid,email",
		"auth-username-claim":                "email",
		"auth-email-claim":                   "mail",
		"auth-groups-claim":                  "roles",
		"auth-admin-groups":                  "ops,sre",
		"auth-user-link":                     "email",
		"auth-jwt-audiences":                 "portal,api",
		"auth-jwt-issuers":                   "https://token.actions.githubusercontent.com,https://ci.example.com",
		"encryption-key":                     "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=",
		"metrics-token":                      "scrape-me",
		"session-idle-timeout":               "1h",
		"session-max-age":                    "24h",
		"token-max-lifetime":                 "720h",
		"dev-login":                          "false",
		"dev-login-addr":                     "127.0.0.1:9000",
		"argocd-instances":                   "prod=https://argocd.example.com:443?grpc-web=true,stage=http://argocd-stage.example.com:8080",
		"argocd-tokens":                      "prod=tok-prod,stage=tok-stage",
		"argocd-token-dir":                   "/var/run/secrets/argocd",
		"argocd-resync-interval":             "10m",
		"argocd-connector":                   "/opt/portside/bin/portside-argocd",
		"pipelines-local":                    "true",
		"pipelines-poll-interval":            "1m",
		"pipelines-poll-batch":               "20",
		"pipelines-poll-concurrency":         "8",
		"runbook-link-check-interval":        "1h",
		"deploy-approval-environments":       "production,eu-production",
		"deploy-request-expiry":              "4h",
		"deploy-git-dir":                     "/var/lib/portside/gitops",
		"github-api-url":                     "https://github.example.com/api/v3/",
		"github-requests-per-hour":           "12000",
		"github-token":                       "ghp_example",
		"github-token-file":                  "/var/run/secrets/github/token",
		"github-webhook-secret":              "whsec-42",
		"github-webhook-secret-file":         "/var/run/secrets/github/webhook-secret",
		"gitlab-url":                         "https://example.com/gitlab/",
		"gitlab-token":                       "glpat-example",
		"gitlab-token-file":                  "/var/run/secrets/gitlab/token",
		"gitlab-webhook-secret":              "gl-whsec-42",
		"gitlab-webhook-secret-file":         "/var/run/secrets/gitlab/webhook-secret",
		"slack-signing-secret":               "8f742231b10e8888abcd99yyyzzz85a5",
		"slack-signing-secret-file":          "/var/run/secrets/slack/signing-secret",
		"slack-bot-token":                    "xoxb-example",
		"slack-bot-token-file":               "/var/run/secrets/slack/bot-token",
		"slack-api-url":                      "https://slack-proxy.example.com/api/",
		"slack-response-url-prefix":          "https://hooks.slack-gov.com/",
		"slack-default-channel":              "C0DEPLOYS",
		"kubernetes-jobs-kubeconfig":         "/var/run/secrets/kube/config",
		"kubernetes-jobs-in-cluster":         "true",
		"kubernetes-jobs-namespace":          "ci-jobs",
		"alertmanager-webhook-token":         "am-token-42",
		"alertmanager-webhook-token-file":    "/var/run/secrets/alertmanager/token",
		"alertmanager-webhook-username":      "am",
		"alertmanager-webhook-password":      "am-pw-42",
		"alertmanager-webhook-password-file": "/var/run/secrets/alertmanager/password",
	}
	values["catalog-max-location-errors"] = "50"
	values["catalog-max-file-bytes"] = "134217728"
	for _, s := range Settings() {
		if s.Key == "config" {
			continue
		}
		v, ok := values[s.Key]
		if !ok {
			t.Errorf("no test value for %s", s.Key)
			continue
		}
		if v == s.Default {
			t.Errorf("test value for %s is its default", s.Key)
		}
		for _, src := range []sources{
			{flags: []string{"--" + s.Key + "=" + v}},
			{env: map[string]string{s.Env: v}},
			{file: s.Key + ": " + v + "\n"},
		} {
			cfg, err := load(t, src)
			if s.Secret && len(src.flags) > 0 {
				if err == nil {
					t.Errorf("secret %s was accepted from the command line", s.Key)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s=%s from %+v: %v", s.Key, v, src, err)
				continue
			}
			if s.Secret {
				if strings.Contains(strings.Join(cfg.Describe(), "\n"), v) {
					t.Errorf("Describe shows the secret %s", s.Key)
				}
				continue
			}
			line := s.Key + "=" + v
			if !contains(cfg.Describe(), line) {
				t.Errorf("%+v: Describe has no %q:\n%s", src, line, strings.Join(cfg.Describe(), "\n"))
			}
		}
	}
}

func contains(lines []string, line string) bool {
	for _, l := range lines {
		if l == line {
			return true
		}
	}
	return false
}

func TestBareBoolFlag(t *testing.T) {
	cfg, err := load(t, sources{flags: []string{"--demo"}})
	if err != nil || !cfg.Demo {
		t.Fatalf("--demo: Demo=%v err=%v", cfg.Demo, err)
	}
	cfg, err = load(t, sources{flags: []string{"--demo=false"}, env: map[string]string{"PORTSIDE_DEMO": "true"}})
	if err != nil || cfg.Demo {
		t.Fatalf("--demo=false over env true: Demo=%v err=%v", cfg.Demo, err)
	}
}

func TestEmptyEnvCountsAsUnset(t *testing.T) {
	cfg, err := load(t, sources{env: map[string]string{"PORTSIDE_ADDR": ""}, file: "addr: ':9000'\n"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != ":9000" {
		t.Errorf("Addr = %q, want the file's :9000", cfg.Addr)
	}
}

func TestValidators(t *testing.T) {
	tests := []struct {
		key, value string
		wantErr    string // "" means valid; otherwise a fragment of the error
	}{
		{"addr", "127.0.0.1:7007", ""},
		{"addr", ":0", ""},
		{"addr", "[::1]:65535", ""},
		{"addr", "localhost", "accepted values are host:port"},
		{"addr", "localhost:65536", "port from 0 to 65535"},
		{"addr", "localhost:-1", "port from 0 to 65535"},
		{"addr", "localhost:http", "port from 0 to 65535"},
		{"database", "portside.db", ""},
		{"database", "file:/tmp/p.db?_pragma=busy_timeout(5000)", ""},
		{"database", "postgres://u@db.internal:5432/portside", ""},
		{"database", "postgresql://u@db/portside?sslmode=require", ""},
		{"database", "mysql://u@db/portside", `scheme "mysql" is not supported`},
		{"database", "postgres:///portside", "names no host"},
		{"argocd-tokens", "prod=a,stage=b", ""},
		{"argocd-tokens", "prod=a,prod=b", `instance "prod" is named twice`},
		{"argocd-tokens", "Prod=a", "entry 1: an instance name is lowercase"},
		{"argocd-tokens", "prod=a,eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.sig=stage", "entry 2: an instance name is lowercase"},
		{"argocd-tokens", "prod", "each entry must be name=token"}, // the value is a secret: not quoted
		{"migrate", "auto", ""},
		{"migrate", "true", ""},
		{"migrate", "false", ""},
		{"migrate", "sometimes", "accepted values are auto, true, false"},
		{"demo", "true", ""},
		{"demo", "false", ""},
		{"demo", "yes", "accepted values are true, false"},
		{"refresh-interval", "0", ""},
		{"refresh-interval", "10s", ""},
		{"refresh-interval", "1h30m", ""},
		{"refresh-interval", "9s", "at least 10s"},
		{"refresh-interval", "-5m", "at least 10s"},
		{"refresh-interval", "5", "Go duration"},
		{"refresh-interval", "five minutes", "Go duration"},
		{"database-max-conns", "1", ""},
		{"database-max-conns", "1000", ""},
		{"database-max-conns", "0", "from 1 to 1000"},
		{"database-max-conns", "1001", "from 1 to 1000"},
		{"database-max-conns", "ten", "from 1 to 1000"},
		{"log-level", "debug", ""},
		{"log-level", "warn", ""},
		{"log-level", "loud", "accepted values are debug, info, warn, error"},
		{"log-level", "INFO", "accepted values are debug, info, warn, error"},
		{"log-format", "text", ""},
		{"log-format", "logfmt", "accepted values are json, text"},
		{"tracing-endpoint", "http://otel-collector:4318", ""},
		{"tracing-endpoint", "https://otel.example.com/v1/traces", ""},
		{"tracing-endpoint", "otel-collector:4318", "URL of an OTLP/HTTP collector"},
		{"tracing-endpoint", "grpc://otel-collector:4317", "URL of an OTLP/HTTP collector"},
		{"tracing-endpoint", "https://user:pw@otel.example.com", "without credentials"},
		{"tracing-sample-ratio", "0", ""},
		{"tracing-sample-ratio", "0.05", ""},
		{"tracing-sample-ratio", "1", ""},
		{"tracing-sample-ratio", "1.5", "numbers from 0 to 1"},
		{"tracing-sample-ratio", "-0.1", "numbers from 0 to 1"},
		{"tracing-sample-ratio", "half", "numbers from 0 to 1"},
		{"tracing-sample-ratio", "NaN", "numbers from 0 to 1"},
		{"tracing-service-name", "  ", "must not be empty"},
		{"shutdown-timeout", "1s", ""},
		{"shutdown-timeout", "1h", ""},
		{"shutdown-timeout", "0", "from 1s to 1h"},
		{"shutdown-timeout", "2h", "from 1s to 1h"},
		{"shutdown-timeout", "15", "from 1s to 1h"},
		{"graphql-max-depth", "1", ""},
		{"graphql-max-depth", "100", ""},
		{"graphql-max-depth", "0", "from 1 to 100"},
		{"graphql-max-depth", "101", "from 1 to 100"},
		{"graphql-max-complexity", "1000000", ""},
		{"graphql-max-complexity", "1000001", "from 1 to 1000000"},
		{"graphql-max-complexity", "1.5", "from 1 to 1000000"},
		{"graphql-timeout", "100ms", ""},
		{"graphql-timeout", "10m", ""},
		{"graphql-timeout", "0", "from 100ms to 10m"},
		{"graphql-timeout", "11m", "from 100ms to 10m"},
		{"graphql-max-response-bytes", "65536", ""},
		{"graphql-max-response-bytes", "65535", "from 65536 to 1073741824"},
		{"graphql-max-body-bytes", "4096", ""},
		{"graphql-max-body-bytes", "67108865", "from 4096 to 67108864"},
		{"graphql-max-concurrent-queries", "1", ""},
		{"graphql-max-concurrent-queries", "-1", "from 0 to 100000"},
		{"graphql-max-concurrent-queries", "100001", "from 0 to 100000"},
		{"catalog-cache-size", "0", ""},
		{"catalog-cache-size", "-1", "from 0 to"},
		{"response-cache-size", "-1", "from 0 to"},
		{"api-location-types", "file, git", ""},
		{"api-location-types", "", ""},
		{"api-location-types", "url,ftp", "accepted values are url, git, file, embedded"},
		{"allow-loopback-locations", "yes", "accepted values are true, false"},
		{"trusted-proxies", "10.1.0.0/16, 192.168.1.7,::1", ""},
		{"trusted-proxies", "ingress-nginx", `"ingress-nginx" is neither an IP address nor a CIDR range`},
		{"trusted-proxies", "10.0.0.0/33", `"10.0.0.0/33" is neither`},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			s, ok := lookup(tt.key)
			if !ok {
				t.Fatalf("no setting %s", tt.key)
			}
			_, err := Load(nil, mapEnv(map[string]string{s.Env: tt.value}))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("want %q accepted, got %v", tt.value, err)
				}
				return
			}
			wantInvalid(t, err, tt.key, "invalid "+tt.key, "(from "+s.Env+")", tt.wantErr)
		})
	}
}

func TestErrorNamesSettingSourceAndAcceptedValues(t *testing.T) {
	tests := []struct {
		name string
		src  sources
		want string
	}{
		{"env", sources{env: map[string]string{"PORTSIDE_LOG_LEVEL": "loud"}},
			`invalid log-level "loud" (from PORTSIDE_LOG_LEVEL): accepted values are debug, info, warn, error`},
		{"flag", sources{flags: []string{"--log-level=loud"}},
			`invalid log-level "loud" (from --log-level): accepted values are debug, info, warn, error`},
		{"file", sources{file: "# settings\naddr: ':1'\nlog-level: loud\n"},
			`portside.yaml line 3): accepted values are debug, info, warn, error`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, tt.src)
			wantInvalid(t, err, "log-level", tt.want)
		})
	}
}

func TestConfigFileErrors(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		field     string
		fragments []string
	}{
		{"unknown key", "addr: ':1'\nrefresh-intervall: 5m\n", "refresh-intervall",
			[]string{`unknown key "refresh-intervall"`, "portside.yaml", "line 2", `did you mean "refresh-interval"?`}},
		{"snake case key", "log_level: debug\n", "log_level", []string{`did you mean "log-level"?`}},
		{"env name as key", "PORTSIDE_DATABASE_URL: x.db\n", "PORTSIDE_DATABASE_URL", []string{`did you mean "database"?`}},
		{"far-off key", "colour: blue\n", "colour", []string{`unknown key "colour"`, "known keys are addr, database, migrate"}},
		{"near key", "adr: ':1'\n", "adr", []string{`did you mean "addr"?`}},
		{"config key", "config: other.yaml\n", "config", []string{"only a flag or PORTSIDE_CONFIG can set"}},
		{"duplicate key", "addr: ':1'\naddr: ':2'\n", "addr", []string{`sets "addr" twice (lines 1 and 2)`}},
		{"mapping value", "addr:\n  host: x\n  port: 1\n", "addr", []string{"addr", "single value, not a mapping"}},
		{"list value", "log-level: [debug, info]\n", "log-level", []string{"log-level", "single value, not a list"}},
		{"not a mapping", "- addr\n- database\n", "config", []string{"expected a mapping"}},
		{"bad yaml", "addr: ':1\n", "config", []string{"not valid YAML"}},
		{"two documents", "addr: ':1'\n---\nlog-level: bogus\n", "config", []string{"holds a second YAML document (line 2)", "put every setting in one mapping"}},
		{"wrong type", "database-max-conns: many\n", "database-max-conns", []string{`invalid database-max-conns "many"`, "from 1 to 1000"}},
		{"null for required", "addr:\n", "addr", []string{`invalid addr ""`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, sources{file: tt.file})
			wantInvalid(t, err, tt.field, tt.fragments...)
		})
	}
}

func TestConfigFileShapes(t *testing.T) {
	tests := []struct {
		name string
		file string
		want func(Config) bool
	}{
		{"comments only", "# nothing yet\n", func(c Config) bool { return c.Addr == "127.0.0.1:7007" }},
		{"typed scalars", "demo: true\ndatabase-max-conns: 20\nrefresh-interval: 0\n",
			func(c Config) bool { return c.Demo && c.DatabaseMaxConns == 20 && c.RefreshInterval == 0 }},
		{"null means empty", "git-cache-dir:\n", func(c Config) bool { return c.GitCacheDir == "/cache/portside/git" }},
		{"empty documents after the one", "demo: true\n---\n---\n# end\n", func(c Config) bool { return c.Demo }},
		{"anchor and alias", "refresh-interval: &t 30s\nshutdown-timeout: *t\n",
			func(c Config) bool { return c.RefreshInterval == 30*time.Second && c.ShutdownTimeout == 30*time.Second }},
	}
	pinCacheDir(t, "/cache", nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := load(t, sources{file: tt.file})
			if err != nil {
				t.Fatal(err)
			}
			if !tt.want(cfg) {
				t.Errorf("unexpected config %+v", cfg)
			}
		})
	}
}

func TestEmptyConfigFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "empty.yaml")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(nil, mapEnv(map[string]string{"PORTSIDE_CONFIG": path}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ConfigFile != path || cfg.Addr != "127.0.0.1:7007" {
		t.Errorf("got %+v", cfg)
	}
}

func TestMissingConfigFile(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.yaml")
	for _, src := range []sources{
		{flags: []string{"--config=" + missing}},
		{env: map[string]string{"PORTSIDE_CONFIG": missing}},
	} {
		_, err := load(t, src)
		from := "PORTSIDE_CONFIG"
		if len(src.flags) > 0 {
			from = "--config"
		}
		wantInvalid(t, err, "config", missing, "does not exist", "(from "+from+")")
	}
	// The flag names the file even when the environment names another.
	_, err := load(t, sources{flags: []string{"--config=" + missing}, file: "addr: ':1'\n"})
	wantInvalid(t, err, "config", missing)
}

func TestDescribeNeverPrintsDatabasePassword(t *testing.T) {
	const password = "s3cr3t-P4ss"
	urls := []string{
		"postgres://portside:" + password + "@db.internal:5432/portside?sslmode=require",
		"postgresql://portside:" + password + "@db.internal/portside",
		"postgres://portside@db.internal/portside?password=" + password,
		"postgres://portside:" + password + "@db.internal:port/portside", // url.Parse rejects this one
	}
	for _, u := range urls {
		for _, src := range []sources{
			{env: map[string]string{"PORTSIDE_DATABASE_URL": u}},
			{file: "database: '" + u + "'\n"},
		} {
			cfg, err := load(t, src)
			if err != nil {
				if strings.Contains(err.Error(), password) {
					t.Errorf("error for %+v shows the password: %v", src, err)
				}
				continue
			}
			out := strings.Join(cfg.Describe(), "\n")
			if strings.Contains(out, password) {
				t.Errorf("Describe shows the password:\n%s", out)
			}
			if !strings.Contains(out, "database=postgres") || !strings.Contains(out, "db.internal") {
				t.Errorf("Describe hides too much:\n%s", out)
			}
		}
		// Describe on a hand-built Config redacts too.
		if out := strings.Join(Config{Database: u}.Describe(), "\n"); strings.Contains(out, password) {
			t.Errorf("Describe shows the password:\n%s", out)
		}
	}
}

func TestPasswordOnCommandLineIsRefused(t *testing.T) {
	const password = "hunter2"
	_, err := load(t, sources{flags: []string{"--database=postgres://u:" + password + "@db/portside"}})
	wantInvalid(t, err, "database", "--database", "PORTSIDE_DATABASE_URL", "secret")
	if strings.Contains(err.Error(), password) {
		t.Errorf("error shows the password: %v", err)
	}
	// Without a password the flag is fine.
	cfg, err := load(t, sources{flags: []string{"--database=postgres://u@db/portside"}})
	if err != nil || cfg.Database != "postgres://u@db/portside" {
		t.Fatalf("got %q, %v", cfg.Database, err)
	}
}

func TestInvalidDatabaseErrorHidesPassword(t *testing.T) {
	const password = "hunter2"
	_, err := Load(nil, mapEnv(map[string]string{"PORTSIDE_DATABASE_URL": "postgres://u:" + password + "@/portside"}))
	wantInvalid(t, err, "database", "invalid database", "(from PORTSIDE_DATABASE_URL)", "names no host")
	if strings.Contains(err.Error(), password) {
		t.Errorf("error shows the password: %v", err)
	}
}

func TestDescribeRedactsSecretSettings(t *testing.T) {
	old := bind
	t.Cleanup(func() { bind = old })
	var token string
	bind = func(c *Config) []Setting {
		return append(old(c), Setting{
			Key: "api-token", Env: "PORTSIDE_API_TOKEN", Secret: true,
			value: text(&token, func(v string) error {
				if len(v) < 8 {
					return errors.New("accepted values are tokens of 8 characters or more")
				}
				return nil
			}),
		})
	}
	cfg, err := Load(nil, mapEnv(map[string]string{"PORTSIDE_API_TOKEN": "tok-123456"}))
	if err != nil {
		t.Fatal(err)
	}
	if out := strings.Join(cfg.Describe(), "\n"); strings.Contains(out, "tok-123456") || !strings.Contains(out, "api-token=xxxxx") {
		t.Errorf("Describe:\n%s", out)
	}
	_, err = Load(nil, mapEnv(map[string]string{"PORTSIDE_API_TOKEN": "short"}))
	wantInvalid(t, err, "api-token", "invalid api-token (from PORTSIDE_API_TOKEN)")
	if strings.Contains(err.Error(), "short") {
		t.Errorf("error shows the secret: %v", err)
	}
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	Register(fs)
	if err := fs.Parse([]string{"--api-token=tok-123456"}); err != nil {
		t.Fatal(err)
	}
	_, err = Load(fs, nil)
	wantInvalid(t, err, "api-token", "not accepted on the command line")
}

func TestMigrateOnStart(t *testing.T) {
	tests := []struct {
		mode   string
		sqlite bool
		want   bool
	}{
		{"auto", true, true},
		{"auto", false, false},
		{"true", true, true},
		{"true", false, true},
		{"false", true, false},
		{"false", false, false},
	}
	for _, tt := range tests {
		cfg, err := Load(nil, mapEnv(map[string]string{"PORTSIDE_MIGRATE": tt.mode}))
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.MigrateOnStart(tt.sqlite); got != tt.want {
			t.Errorf("migrate=%s (SQLite: %v): %v, want %v", tt.mode, tt.sqlite, got, tt.want)
		}
	}
}

func TestRegisterHelp(t *testing.T) {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	Register(fs)
	help := fs.FlagUsages()
	for _, s := range Settings() {
		if fs.Lookup(s.Key) == nil {
			t.Errorf("no flag --%s", s.Key)
		}
		if !strings.Contains(help, "--"+s.Key) || !strings.Contains(help, "(env "+s.Env+")") {
			t.Errorf("help lacks --%s or its env hint:\n%s", s.Key, help)
		}
	}
	for _, want := range []string{"--refresh-interval duration", "--database-max-conns int", "--addr string", `(default "127.0.0.1:7007")`} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q:\n%s", want, help)
		}
	}
	if strings.Contains(help, "--demo bool") || strings.Contains(help, "--demo string") {
		t.Errorf("--demo should read as a switch:\n%s", help)
	}
}

func TestTableIsConsistent(t *testing.T) {
	seenKey, seenEnv := map[string]bool{}, map[string]bool{}
	for _, s := range Settings() {
		if seenKey[s.Key] || seenEnv[s.Env] {
			t.Errorf("duplicate %s / %s", s.Key, s.Env)
		}
		seenKey[s.Key], seenEnv[s.Env] = true, true
		if !strings.HasPrefix(s.Env, "PORTSIDE_") || s.Usage == "" || strings.Contains(s.Usage, "\n") || strings.Contains(s.Usage, "`") {
			t.Errorf("setting %s: env must start with PORTSIDE_, usage must be one line without backquotes", s.Key)
		}
		if s.value == nil {
			t.Errorf("setting %s is not wired to a Config field", s.Key)
		}
	}
}

func TestMarkdownTable(t *testing.T) {
	md := MarkdownTable()
	lines := strings.Split(strings.TrimSuffix(md, "\n"), "\n")
	if lines[0] != "| Setting | Flag | Environment | Default | Meaning |" {
		t.Errorf("header %q", lines[0])
	}
	if got, want := len(lines), len(Settings())+2; got != want {
		t.Errorf("%d lines, want %d", got, want)
	}
	for _, s := range Settings() {
		if !strings.Contains(md, "`--"+s.Key+"`") || !strings.Contains(md, "`"+s.Env+"`") {
			t.Errorf("table lacks %s", s.Key)
		}
	}
	if !strings.Contains(md, "| `refresh-interval` | `--refresh-interval` | `PORTSIDE_REFRESH_INTERVAL` | `5m` |") {
		t.Errorf("unexpected row format:\n%s", md)
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0", 15 * time.Second: "15s", 5 * time.Minute: "5m", time.Hour: "1h",
		90 * time.Minute: "1h30m", 1500 * time.Millisecond: "1.5s", time.Hour + time.Second: "1h0m1s",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestDevLoginRunsOnlyWhereItIsSafe(t *testing.T) {
	cases := []struct {
		name     string
		cfg      Config
		on       bool
		badField string
	}{
		{"the embedded default on loopback", Config{Addr: "127.0.0.1:7007", PublicURL: "http://127.0.0.1:7007", DevLogin: "auto"}, true, ""},
		{"never beside a real provider", Config{Addr: "127.0.0.1:7007", PublicURL: "http://127.0.0.1:7007", DevLogin: "auto", AuthIssuer: "https://login.example.com"}, false, ""},
		{"refused off loopback without an issuer", Config{Addr: "0.0.0.0:7007", PublicURL: "http://127.0.0.1:7007", DevLogin: "auto"}, false, "auth-issuer"},
		{"refused behind a public URL", Config{Addr: "127.0.0.1:7007", PublicURL: "https://portal.example.com", DevLogin: "auto"}, false, "auth-issuer"},
		{"forced off loopback", Config{Addr: "0.0.0.0:7007", PublicURL: "http://10.0.0.5:7007", DevLogin: "force"}, true, ""},
		{"forced beside an issuer is a contradiction", Config{Addr: "127.0.0.1:7007", DevLogin: "force", AuthIssuer: "https://login.example.com"}, false, "dev-login"},
		{"off means off, API tokens only", Config{Addr: "0.0.0.0:7007", DevLogin: "false"}, false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			on, err := tc.cfg.DevLoginEnabled()
			if on != tc.on {
				t.Errorf("on = %v, want %v", on, tc.on)
			}
			if got := errs.FieldOf(err); got != tc.badField {
				t.Errorf("error %v names %q, want %q", err, got, tc.badField)
			}
		})
	}
}

// config checks the shape of the database setting itself (it is a leaf and cannot ask the store);
// what it accepts and what the store opens must stay the same.
func TestDatabaseCheckAgreesWithTheStore(t *testing.T) {
	for _, v := range []string{
		"portside.db", "/data/portside.db", "file:/tmp/p.db?_pragma=busy_timeout(5000)", " portside.db ",
		"postgres://u@db.internal:5432/portside", "postgresql://u:pw@db/portside?sslmode=require",
		"postgres:///portside", "postgres://u:pw@/portside", "postgres://u:p/w@db:port/portside",
		"mysql://u@db/portside", "sqlite://portside.db", "   ",
	} {
		_, _, storeErr := store.ParseURL(v)
		_, err := Load(nil, mapEnv(map[string]string{"PORTSIDE_DATABASE_URL": v}))
		if (storeErr == nil) != (err == nil) {
			t.Errorf("database %q: config says %v, the store says %v", v, err, storeErr)
		}
	}
}

func TestEncryptionKeysAreDecodedForSeal(t *testing.T) {
	k1 := bytes.Repeat([]byte{0xfb}, 32) // + and / in standard base64, - and _ in URL base64
	k2 := bytes.Repeat([]byte{7}, 32)
	for _, v := range []string{
		base64.StdEncoding.EncodeToString(k1) + "," + base64.StdEncoding.EncodeToString(k2),
		base64.RawURLEncoding.EncodeToString(k1) + " , " + base64.URLEncoding.EncodeToString(k2),
	} {
		cfg, err := Load(nil, mapEnv(map[string]string{"PORTSIDE_ENCRYPTION_KEY": v}))
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		if diff := cmp.Diff([][]byte{k1, k2}, cfg.EncryptionKeys); diff != "" {
			t.Errorf("%q: keys (-want +got):\n%s", v, diff)
		}
		if _, err := seal.NewKeyring(cfg.EncryptionKeys...); err != nil {
			t.Errorf("seal refuses the keys config accepted: %v", err)
		}
	}
	short := base64.StdEncoding.EncodeToString(k1[:16])
	for v, want := range map[string]string{
		base64.StdEncoding.EncodeToString(k1) + "," + short: "key 2: is 16 bytes long, want 32 (make one with: openssl rand -base64 32)",
		"not-base64!": "key 1: is not base64",
	} {
		_, err := Load(nil, mapEnv(map[string]string{"PORTSIDE_ENCRYPTION_KEY": v}))
		wantInvalid(t, err, "encryption-key", "invalid encryption-key (from PORTSIDE_ENCRYPTION_KEY)", want)
		if err != nil && strings.Contains(err.Error(), short) {
			t.Errorf("error shows a key: %v", err)
		}
	}
	if cfg := Defaults(); cfg.EncryptionKeys != nil {
		t.Errorf("no encryption-key gave keys %v", cfg.EncryptionKeys)
	}
}

func TestGitLabCredentialsComeFromTheSettingOrItsFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	if err := os.WriteFile(file, []byte("glpat-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tok, secret, err := Config{GitLabTokenFile: file, GitLabWebhookSecret: "whsec"}.GitLabCredentials()
	if err != nil || tok != "glpat-from-file" || secret != "whsec" {
		t.Errorf("from the file: %q, %q, %v", tok, secret, err)
	}
	tok, _, _ = Config{GitLabToken: "glpat-setting", GitLabTokenFile: file}.GitLabCredentials()
	if tok != "glpat-setting" {
		t.Errorf("the setting wins over the file: %q", tok)
	}
	_, _, err = Config{GitLabWebhookSecretFile: filepath.Join(dir, "missing")}.GitLabCredentials()
	if err == nil || !strings.Contains(err.Error(), "gitlab-webhook-secret-file") {
		t.Errorf("a missing file: %v", err)
	}
}

func TestKubernetesJobsIsOnWithAReadableKubeconfigOrInCluster(t *testing.T) {
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte("apiVersion: v1\nkind: Config\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if on, err := (Config{}).KubernetesJobs(); on || err != nil {
		t.Errorf("unset: %v, %v", on, err)
	}
	if on, err := (Config{KubernetesJobsKubeconfig: kubeconfig}).KubernetesJobs(); !on || err != nil {
		t.Errorf("a kubeconfig: %v, %v", on, err)
	}
	for _, tc := range []struct {
		name  string
		cfg   Config
		field string
	}{
		{"missing file", Config{KubernetesJobsKubeconfig: filepath.Join(dir, "nope")}, "kubernetes-jobs-kubeconfig"},
		{"both", Config{KubernetesJobsKubeconfig: kubeconfig, KubernetesJobsInCluster: true}, "kubernetes-jobs-in-cluster"},
	} {
		on, err := tc.cfg.KubernetesJobs()
		var e *errs.Error
		if on || !errors.As(err, &e) || e.Field != tc.field || !strings.Contains(e.Message, tc.field) {
			t.Errorf("%s: %v, %v; want an error naming %s", tc.name, on, err, tc.field)
		}
	}
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	if _, err := (Config{KubernetesJobsInCluster: true}).KubernetesJobs(); err == nil || !strings.Contains(err.Error(), "kubernetes-jobs-in-cluster") {
		t.Errorf("in-cluster outside a pod: %v", err)
	}
	t.Setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
	if on, err := (Config{KubernetesJobsInCluster: true}).KubernetesJobs(); !on || err != nil {
		t.Errorf("in-cluster in a pod: %v, %v", on, err)
	}
}

// A PORTSIDE_ variable that names no setting is listed, with the setting's variable it is
// closest to; Portside's test and pipeline-step variables are not.
func TestAnEnvironmentVariableThatNamesNoSettingIsFound(t *testing.T) {
	got := UnknownEnv([]string{"PORTSIDE_DATABASE=db/a.db", "PORTSIDE_ADRR=:1", "PORTSIDE_LOG_LEVEL=debug", "HOME=/root",
		"PORTSIDE_TEST_POSTGRES_DSN=x", "PORTSIDE_RUN_ID=7", "PORTSIDE_PARAM_ENV=prod", "PORTSIDE_ZZZ_QQQ=1"})
	want := []string{"PORTSIDE_ADRR (did you mean PORTSIDE_ADDR?)", "PORTSIDE_DATABASE (did you mean PORTSIDE_DATABASE_URL?)", "PORTSIDE_ZZZ_QQQ"}
	if !slices.Equal(got, want) {
		t.Errorf("UnknownEnv = %q, want %q", got, want)
	}
}

// The public URL is kept as a browser writes an origin, which requests' Origin headers are
// checked against: the host in lower case, the scheme's default port left out.
func TestThePublicURLIsKeptAsBrowsersWriteAnOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"http://Localhost:18282":          "http://localhost:18282",
		"https://Portal.Example.COM/":     "https://portal.example.com",
		"https://portal.example.com:443":  "https://portal.example.com",
		"http://portal.example.com:80":    "http://portal.example.com",
		"HTTPS://portal.example.com":      "https://portal.example.com",
		"http://[::1]:80":                 "http://[::1]",
		"http://[::1]:7007":               "http://[::1]:7007",
		"https://portal.example.com:8443": "https://portal.example.com:8443",
	} {
		cfg, err := load(t, sources{flags: []string{"--public-url=" + in, "--dev-login=false"}})
		if err != nil {
			t.Errorf("public-url %q: %v", in, err)
			continue
		}
		if cfg.PublicURL != want {
			t.Errorf("public-url %q is kept as %q, want %q", in, cfg.PublicURL, want)
		}
	}
	if _, err := load(t, sources{flags: []string{"--public-url=https://user:pw@portal.example.com", "--dev-login=false"}}); err == nil {
		t.Error("a public URL with credentials was accepted")
	}
}

// An Argo CD token setting's errors never quote a token, even one written where a name goes.
func TestArgoCDTokenErrorsQuoteNoToken(t *testing.T) {
	for _, v := range []string{"eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.sig=prod", "prod:s3cr3tTOKEN=x", "s3cr3tTOKEN"} {
		_, err := parseArgoCDTokens(v)
		if err == nil || strings.Contains(err.Error(), "eyJ") || strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("parseArgoCDTokens(…) = %v; want an error quoting no token", err)
		}
	}
}

package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/slack-go/slack/slacktest"

	"github.com/portside-dev/portside/auth/devidp"
	"github.com/portside-dev/portside/pipelines/github/githubtest"
	"github.com/portside-dev/portside/store/storetest"
)

// line returns the doctor's line for a check ("ok    database  ..."), failing when there is none.
func line(t *testing.T, r cliResult, check string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^(ok|skip|FAIL)\s+` + regexp.QuoteMeta(check) + `\s+.*$`).FindString(r.stdout)
	if m == "" {
		t.Fatalf("no %s line in the doctor's report\n%s", check, r)
	}
	return m
}

// wantLine fails unless the check's line has the status and says every one of words.
func wantLine(t *testing.T, r cliResult, check, status string, words ...string) {
	t.Helper()
	l := line(t, r, check)
	if !strings.HasPrefix(l, status+" ") {
		t.Errorf("%s: %q, want status %s\n%s", check, l, status, r)
	}
	for _, w := range words {
		if !strings.Contains(r.stdout[strings.Index(r.stdout, l):], w) {
			t.Errorf("%s: the report does not say %q after %q\n%s", check, w, l, r)
		}
	}
}

func TestDoctorChecksTheDatabaseWithoutChangingIt(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "portside.db")

	// SQLite that is not there yet: serve would create it, so that is fine; the doctor creates nothing.
	r := portside(t, nil, "--database", db, "doctor")
	wantExit(t, r, 0, "doctor on a SQLite file not created yet")
	wantLine(t, r, "database", "ok", "does not exist yet")
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("the doctor created %s (stat: %v)", db, err)
	}
	for _, check := range []string{"oidc", "argocd", "github", "gitlab", "kubernetes-jobs", "slack", "tracing"} {
		wantLine(t, r, check, "skip")
	}
	if !strings.Contains(r.stdout, "no problems found") {
		t.Errorf("a clean report does not say so\n%s", r)
	}

	// Not migrated, and told not to migrate at start: a failure that says what to run.
	if err := os.WriteFile(db, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r = portside(t, []string{"PORTSIDE_MIGRATE=false"}, "--database", db, "doctor")
	wantExit(t, r, 1, "doctor on an unmigrated database with migrate false")
	wantLine(t, r, "database", "FAIL", "schema version 0 of", "portside migrate up")
	if !strings.Contains(r.stderr, "1 problem found") {
		t.Errorf("stderr does not count the problem\n%s", r)
	}

	wantExit(t, portside(t, nil, "--database", db, "migrate", "up"), 0, "migrate up")
	r = portside(t, []string{"PORTSIDE_MIGRATE=false"}, "--database", db, "doctor")
	wantExit(t, r, 0, "doctor on a migrated database")
	wantLine(t, r, "database", "ok", "reachable, schema version")

	// A gap below the schema's version (a record lost from goose_db_version), with a pending
	// migration above it or not: serve refuses to start, and neither it nor `migrate up` fills
	// the gap, so the doctor fails and says what does (it said serve would apply them).
	gapped := filepath.Join(dir, "gapped.db")
	wantExit(t, portside(t, nil, "--database", gapped, "migrate", "up"), 0, "migrate up")
	sq := storetest.Open(t, gapped, false).Gorm()
	for _, q := range []string{"DELETE FROM goose_db_version WHERE version_id = 10", "DELETE FROM goose_db_version WHERE version_id = (SELECT max(version_id) FROM goose_db_version)"} {
		if err := sq.Exec(q).Error; err != nil {
			t.Fatal(err)
		}
		r = portside(t, nil, "--database", gapped, "doctor")
		wantExit(t, r, 1, "doctor on a database with a gap in its migrations")
		wantLine(t, r, "database", "FAIL", "00010_alerts.sql", "restore the database from a backup")
		if strings.Contains(r.stdout, "serve applies") {
			t.Errorf("the doctor says serve applies what it cannot\n%s", r)
		}
	}

	// PostgreSQL: serve does not migrate it unless told, so pending migrations are a failure.
	pg := storetest.PostgresURL(t)
	r = portside(t, []string{"PORTSIDE_DATABASE_URL=" + pg}, "doctor")
	wantExit(t, r, 1, "doctor on an unmigrated PostgreSQL schema")
	wantLine(t, r, "database", "FAIL", "postgres", "portside migrate up")
	wantExit(t, portside(t, []string{"PORTSIDE_DATABASE_URL=" + pg}, "migrate", "up"), 0, "migrate up on PostgreSQL")
	r = portside(t, []string{"PORTSIDE_DATABASE_URL=" + pg}, "doctor")
	wantExit(t, r, 0, "doctor on a migrated PostgreSQL schema")
	wantLine(t, r, "database", "ok", "postgres", "reachable")
	// Indexes a first import deferred are named, with what builds them.
	if _, err := storetest.Open(t, pg, false).DeferIndexes(context.Background(), "relations"); err != nil {
		t.Fatal(err)
	}
	r = portside(t, []string{"PORTSIDE_DATABASE_URL=" + pg}, "doctor")
	wantExit(t, r, 0, "doctor with deferred indexes")
	wantLine(t, r, "database", "ok", "2 catalog indexes deferred by a first import", "relations_entity, relations_target", "portside migrate up")

	// A database that cannot be reached names the setting to fix.
	r = portside(t, []string{"PORTSIDE_DATABASE_URL=postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"}, "doctor")
	wantExit(t, r, 1, "doctor with an unreachable database")
	wantLine(t, r, "database", "FAIL", "PORTSIDE_DATABASE_URL")
}

// Issue #17: on a schema a newer release expanded, the doctor says serve starts on it; once a
// contract migration raised the floor above this Portside, it fails and says what to run.
func TestDoctorSaysWhetherANewerSchemaServesThisPortside(t *testing.T) {
	for dialect, url := range map[string]func(testing.TB) string{"sqlite": storetest.SQLiteURL, "postgres": storetest.PostgresURL} {
		t.Run(dialect, func(t *testing.T) { doctorOnANewerSchema(t, url(t)) })
	}
}

// doctorOnANewerSchema runs the doctor on the database at url, migrated and then made N+1's.
func doctorOnANewerSchema(t *testing.T, url string) {
	t.Helper()
	s := storetest.Open(t, url, true)
	ctx := context.Background()
	st, err := s.SchemaStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	future := st.Latest + 1
	if err := s.Gorm().Exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, ?)", future, true).Error; err != nil {
		t.Fatal(err)
	}
	env := []string{"PORTSIDE_DATABASE_URL=" + url, "PORTSIDE_MIGRATE=false"}
	r := portside(t, env, "doctor")
	wantExit(t, r, 0, "doctor on a schema a newer release expanded")
	wantLine(t, r, "database", "ok", fmt.Sprintf("schema version %d of %d: newer, compatible", future, st.Latest), "serve starts on it")

	if err := s.Gorm().Exec("UPDATE schema_floor SET oldest_reader = ?", future).Error; err != nil {
		t.Fatal(err)
	}
	r = portside(t, env, "doctor")
	wantExit(t, r, 1, "doctor above the floor")
	wantLine(t, r, "database", "FAIL", fmt.Sprintf("newer, incompatible (floor %d)", future), fmt.Sprintf("whose schema version is at least %d", future))
}

// TestDoctorChecksTheProvidersCredentials runs the doctor against the embedded OpenID provider and
// in-process servers that speak GitHub's, GitLab's and Slack's documented APIs, first with good
// credentials and then with credentials each refuses.
func TestDoctorChecksTheProvidersCredentials(t *testing.T) {
	db := filepath.Join(t.TempDir(), "portside.db")
	wantExit(t, portside(t, nil, "--database", db, "migrate", "up"), 0, "migrate up")

	idp, err := devidp.Start(context.Background(), devidp.Options{Users: []devidp.User{{Username: "alice", Password: "pw"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = idp.Close() })

	gh := githubtest.Start(t)
	gh.Token = "ghp-good"

	// GitLab's GET /api/v4/version: only an accepted PRIVATE-TOKEN may read it.
	gitlab := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path != "/api/v4/version":
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"message":"404 Not Found"}`))
		case r.Header.Get("PRIVATE-TOKEN") != "glpat-good":
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"message":"401 Unauthorized"}`))
		default:
			_, _ = w.Write([]byte(`{"version":"17.5.1","revision":"abc123"}`))
		}
	}))
	t.Cleanup(gitlab.Close)

	// Slack's auth.test answers invalid_auth for any token but the bot's.
	slackAPI := slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/auth.test", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			// slack-go sends the token in the Authorization header or in the form, as Slack accepts.
			if r.Header.Get("Authorization") != "Bearer xoxb-good" && r.FormValue("token") != "xoxb-good" {
				_, _ = w.Write([]byte(`{"ok":false,"error":"invalid_auth"}`))
				return
			}
			_, _ = w.Write([]byte(`{"ok":true,"url":"https://acme.slack.com/","team":"Acme","user":"portside","team_id":"T1","user_id":"U1","bot_id":"B1"}`))
		})
	})
	slackAPI.Start()
	t.Cleanup(slackAPI.Stop)

	// An OTLP/HTTP collector that takes exports only with its credentials (OTEL_EXPORTER_OTLP_HEADERS).
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/traces" || r.Header.Get("Authorization") != "Bearer otlp-good" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	t.Cleanup(collector.Close)

	env := func(ghToken, glToken, slackToken string) []string {
		return []string{"PORTSIDE_DATABASE_URL=" + db,
			"PORTSIDE_AUTH_ISSUER=" + idp.Issuer(), "PORTSIDE_AUTH_CLIENT_ID=portside",
			"PORTSIDE_GITHUB_API_URL=" + gh.URL, "PORTSIDE_GITHUB_TOKEN=" + ghToken,
			"PORTSIDE_GITLAB_URL=" + gitlab.URL + "/", "PORTSIDE_GITLAB_TOKEN=" + glToken,
			"PORTSIDE_SLACK_API_URL=" + slackAPI.GetAPIURL(), "PORTSIDE_SLACK_BOT_TOKEN=" + slackToken,
			"PORTSIDE_SLACK_SIGNING_SECRET=signing-secret",
			"PORTSIDE_TRACING_ENDPOINT=" + collector.URL, "OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer " + strings.Replace(ghToken, "ghp", "otlp", 1)}
	}
	r := portside(t, env("ghp-good", "glpat-good", "xoxb-good"), "doctor")
	wantExit(t, r, 0, "doctor with every credential good")
	wantLine(t, r, "oidc", "ok", idp.Issuer(), "signing key")
	wantLine(t, r, "github", "ok", "token accepted", "4990 of 5000")
	wantLine(t, r, "gitlab", "ok", "token accepted", "GitLab 17.5.1")
	wantLine(t, r, "slack", "ok", "token accepted", "portside", "Acme")
	wantLine(t, r, "tracing", "ok", collector.URL+"/v1/traces", "accepts exports")

	r = portside(t, env("ghp-bad", "glpat-bad", "xoxb-bad"), "doctor")
	wantExit(t, r, 1, "doctor with refused credentials")
	wantLine(t, r, "github", "FAIL", "github-token")
	wantLine(t, r, "gitlab", "FAIL", "gitlab-token")
	wantLine(t, r, "slack", "FAIL", "invalid_auth", "slack-bot-token")
	wantLine(t, r, "tracing", "FAIL", "401", "tracing-endpoint", "OTEL_EXPORTER_OTLP_HEADERS")
	if !strings.Contains(r.stderr, "4 problems found") {
		t.Errorf("stderr does not count four problems\n%s", r)
	}
	for _, secret := range []string{"ghp-bad", "glpat-bad", "xoxb-bad", "otlp-bad"} {
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("the report shows the credential %q\n%s", secret, r)
		}
	}

	// An issuer that does not answer, and one half of Slack's settings.
	r = portside(t, []string{"PORTSIDE_DATABASE_URL=" + db, "PORTSIDE_AUTH_ISSUER=http://127.0.0.1:1/", "PORTSIDE_AUTH_CLIENT_ID=portside",
		"PORTSIDE_SLACK_SIGNING_SECRET=signing-secret"}, "doctor", "--timeout", "5s")
	wantExit(t, r, 1, "doctor with an unreachable issuer")
	wantLine(t, r, "oidc", "FAIL", "auth-issuer")
	wantLine(t, r, "slack", "FAIL", "slack-bot-token")

	// A token file that is not there is named, not "internal error"; a timeout of nothing is refused.
	missing := filepath.Join(t.TempDir(), "no-such-token")
	r = portside(t, []string{"PORTSIDE_DATABASE_URL=" + db, "PORTSIDE_GITLAB_URL=" + gitlab.URL + "/", "PORTSIDE_GITLAB_TOKEN_FILE=" + missing}, "doctor")
	wantExit(t, r, 1, "doctor with a missing token file")
	wantLine(t, r, "gitlab", "FAIL", missing)
	if strings.Contains(r.stdout, "internal error") {
		t.Errorf("a finding says only \"internal error\"\n%s", r)
	}
	for _, timeout := range []string{"0", "-1s"} {
		r = portside(t, []string{"PORTSIDE_DATABASE_URL=" + db}, "doctor", "--timeout", timeout)
		if r.code == 0 || !strings.Contains(r.stderr, "timeout: is") {
			t.Errorf("doctor --timeout %s: want a refusal naming the flag\n%s", timeout, r)
		}
	}
}

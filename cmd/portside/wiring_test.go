package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/portside-dev/portside/auth"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/config"
	"github.com/portside-dev/portside/server"
	"github.com/portside-dev/portside/store/storetest"
)

// serveWiring builds what `portside serve --demo` runs, through the same function (app.wire),
// on a fresh SQLite database, and serves it until the test ends; each of configure changes the
// configuration first.
func serveWiring(t *testing.T, configure ...func(*config.Config)) (*wiring, string) {
	t.Helper()
	cfg := config.Defaults()
	cfg.Database = storetest.SQLiteURL(t)
	cfg.Demo = true
	cfg.RefreshInterval = 0
	cfg.GitCacheDir = t.TempDir()
	for _, c := range configure {
		c(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := newApp(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), true)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	w, err := a.wire(ctx, ln)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- w.run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve ended with %v", err)
		}
		w.close()
		a.close()
	})
	return w, "http://" + ln.Addr().String()
}

// routeCall is how the test calls one route, and what it must answer.
type routeCall struct {
	target string // path and query
	body   string // for POST
	header http.Header
	want   int // 0: any status below 500
}

// TestServeWiringAnswersEveryRoute calls every route the real serve wiring registers, as an admin,
// so that a service left out of the wiring (the audit log once was: /audit/export answered 500 to
// everyone) fails here rather than in production. A route added later is called too: routes
// without an entry below must answer something other than a server error.
func TestServeWiringAnswersEveryRoute(t *testing.T) {
	w, base := serveWiring(t)
	system := principal.With(context.Background(), principal.System("test", principal.ClientCLI))
	secret, _, err := w.identity.CreateToken(system, auth.TokenSpec{Username: "alice", Name: "wiring", Admin: true, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	json := http.Header{"Content-Type": {"application/json"}}
	calls := map[server.Route]routeCall{
		{Method: "GET", Path: "/healthz"}:               {target: "/healthz", want: http.StatusOK},
		{Method: "GET", Path: "/readyz"}:                {target: "/readyz", want: http.StatusOK},
		{Method: "GET", Path: "/metrics"}:               {target: "/metrics", want: http.StatusOK},
		{Method: "GET", Path: "/graphiql"}:              {target: "/graphiql", want: http.StatusOK},
		{Method: "GET", Path: "/graphiql/assets/*name"}: {target: "/graphiql/assets/graphiql.min.js", want: http.StatusOK},
		{Method: "GET", Path: "/"}:                      {target: "/", want: http.StatusOK},
		// The portal's built files (a build from an earlier version is gone: 404, never a page).
		{Method: "GET", Path: "/assets/*name"}: {target: "/assets/no-such-chunk.js", want: http.StatusNotFound},
		{Method: "GET", Path: "/audit/export"}: {target: "/audit/export?action=catalog.location.register", want: http.StatusOK},
		{Method: "GET", Path: "/graphql"}:      {target: "/graphql?query=" + url.QueryEscape("{me{username}}"), want: http.StatusOK},
		{Method: "POST", Path: "/graphql"}: {target: "/graphql", body: `{"query":"{entities(first:1){totalCount}}"}`,
			header: json, want: http.StatusOK},
		// Sign-in starts at the provider (the development login, here).
		{Method: "GET", Path: "/auth/login"}: {target: "/auth/login?return_to=/graphiql", want: http.StatusFound},
		// A callback without a login in progress in this browser is refused.
		{Method: "GET", Path: "/auth/callback"}: {target: "/auth/callback?state=x&code=y", want: http.StatusUnauthorized},
		// A webhook without GitHub's signature is refused (no webhook secret is set here, either).
		{Method: "POST", Path: "/webhooks/github"}: {target: "/webhooks/github", body: `{"workflow_run":{"id":1}}`,
			header: http.Header{"X-GitHub-Event": {"workflow_run"}}, want: http.StatusUnauthorized},
		// A GitLab delivery without the secret token is refused (none is set here, either).
		{Method: "POST", Path: "/webhooks/gitlab"}: {target: "/webhooks/gitlab", body: `{"object_kind":"pipeline","object_attributes":{"id":1}}`,
			header: http.Header{"X-Gitlab-Event": {"Pipeline Hook"}, "X-Gitlab-Token": {"guessed"}}, want: http.StatusUnauthorized},
		// Sign-out from a page of another site is refused.
		{Method: "POST", Path: "/auth/logout"}: {target: "/auth/logout", want: http.StatusForbidden},
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	routes := w.server.Routes()
	if len(routes) < len(calls) {
		t.Errorf("serve registers %d routes, fewer than the %d this test knows: %v", len(routes), len(calls), routes)
	}
	for _, r := range routes {
		call, known := calls[r]
		if !known {
			call = routeCall{target: strings.ReplaceAll(r.Path, "*", "")}
		}
		req, err := http.NewRequest(r.Method, base+call.target, strings.NewReader(call.body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range call.header {
			req.Header[k] = v
		}
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("%s %s: %v", r.Method, call.target, err)
			continue
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		switch {
		case call.want != 0 && resp.StatusCode != call.want:
			t.Errorf("%s %s = %d, want %d; body %s", r.Method, call.target, resp.StatusCode, call.want, body)
		case resp.StatusCode >= 500:
			t.Errorf("%s %s = %d, a server error; body %s", r.Method, call.target, resp.StatusCode, body)
		}
		if r.Path == "/audit/export" && !strings.Contains(string(body), `"catalog.location.register"`) {
			t.Errorf("GET /audit/export does not list the demo catalog's registration: %s", body)
		}
	}
}

package server_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth"
	"github.com/portside-dev/portside/server"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// A credential that cannot be checked because the database is down gets 503 UNAVAILABLE: a client
// told 401 would throw a good token away.
func TestACredentialCheckedDuringADatabaseOutageIs503(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ids := auth.NewService(st, auth.Options{})
		secret, _, err := ids.CreateToken(operator(), auth.TokenSpec{Username: "robot", Name: "ci"})
		if err != nil {
			t.Fatal(err)
		}
		srv := server.New(server.Options{GraphQL: http.NotFoundHandler(),
			Identity: &server.Identity{Auth: ids, Audit: audit.New(st, nil), PublicURL: &url.URL{Scheme: "http", Host: "127.0.0.1:7007"}}})
		if err := st.Close(); err != nil { // the database goes away under the running server
			t.Fatal(err)
		}
		for name, h := range map[string]http.Header{
			"API token": {"Authorization": {"Bearer " + secret}},
			"session":   {"Cookie": {"portside_session=pss_unknown"}},
		} {
			req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{ me { username } }"}`))
			req.Header = h
			rec := httptest.NewRecorder()
			srv.Handler().ServeHTTP(rec, req)
			if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), `"UNAVAILABLE"`) {
				t.Errorf("%s during the outage: %d %s, want 503 UNAVAILABLE", name, rec.Code, rec.Body)
			}
		}
	})
}

// The sign-in error page quotes what the callback URL says; the browser must take it as text.
func TestTheSignInErrorPageIsNeverSniffedAsHTML(t *testing.T) {
	p := newPortal(t, storetest.SQLite(t))
	resp, err := http.Get(p.base + "/auth/callback?error=x&error_description=" + url.QueryEscape("<script>alert(1)</script>"))
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, resp)
	if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q, want text/plain", ct)
	}
}

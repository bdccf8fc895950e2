package server_test

import (
	"fmt"
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

// A provider's refusal of a sign-in this browser started is told and recorded in its own words,
// cut to a sentence and made storable text; a callback nobody started names no provider's words
// (anyone can write one), and a flood of them is recorded at most ten times a minute an address.
func TestARefusedSignInIsRecordedBoundedAndForgedOnesDoNotFillTheAuditLog(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := newPortal(t, st)
		b := newBrowser()
		p.openLoginForm(b, "/")
		var state string
		for _, u := range b.visited {
			if s := u.Query().Get("state"); s != "" {
				state = s
			}
		}
		if state == "" {
			t.Fatalf("no state in the sign-in's redirects %v", b.visited)
		}
		desc := "the user said no\x00" + strings.Repeat("x", 900_000)
		resp, err := b.Get(p.base + "/auth/callback?" + url.Values{"state": {state}, "error": {"access_denied"}, "error_description": {desc}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "refused the sign-in: access_denied the user said no\uFFFDxxx") || len(body) > 2000 {
			t.Errorf("the provider's refusal: %d, %d bytes: %.200q", resp.StatusCode, len(body), body)
		}
		recs := p.auditRecords(t, "auth.login")
		if len(recs) != 1 || recs[0].Outcome == "ok" || !strings.Contains(recs[0].Message, "access_denied") || len(recs[0].Message) > 1000 {
			t.Fatalf("records of the refused sign-in: %+v", recs)
		}

		for i := range 25 {
			resp, err := http.Get(p.base + "/auth/callback?error=access_denied&error_description=" + url.QueryEscape(fmt.Sprintf("forged %d", i)))
			if err != nil {
				t.Fatal(err)
			}
			body := readAll(t, resp)
			if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "not started in this browser") || strings.Contains(body, "forged") {
				t.Fatalf("forged callback %d: %d %.200q", i, resp.StatusCode, body)
			}
		}
		if n := len(p.auditRecords(t, "auth.login")); n != 1+10 {
			t.Errorf("%d records after 25 forged callbacks in a minute, want 1 + 10", n)
		}
		// A genuine login cookie (starting a sign-in writes nothing) with another state is no
		// sign-in either: it is limited with the others.
		b2 := newBrowser()
		p.openLoginForm(b2, "/")
		for range 5 {
			resp, err := b2.Get(p.base + "/auth/callback?state=forged&error=access_denied")
			if err != nil {
				t.Fatal(err)
			}
			readAll(t, resp)
			p.openLoginForm(b2, "/") // a fresh cookie each time, as a script would take
		}
		if n := len(p.auditRecords(t, "auth.login")); n != 1+10 {
			t.Errorf("%d records after 5 more with a login cookie for another state, want still 1 + 10", n)
		}
	})
}

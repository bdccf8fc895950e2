package server_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portside-dev/portside/auth"
	"github.com/portside-dev/portside/seal"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// withRefreshTokens asks the provider for refresh tokens and gives Portside a key to keep them.
func withRefreshTokens(o *auth.Options) {
	o.Scopes = append(slices.Clone(o.Scopes), "offline_access")
	o.Keys = seal.NewRandomKeyring()
}

type storedSession struct {
	RefreshToken      string
	ProviderExpiresAt *time.Time
	RevokedAt         *time.Time
}

func sessionOf(t *testing.T, st *store.Store, user string) storedSession {
	t.Helper()
	var s storedSession
	err := st.Gorm().Raw(`SELECT s.refresh_token, s.provider_expires_at, s.revoked_at FROM sessions s
		JOIN users u ON u.id = s.user_id WHERE u.username = ? ORDER BY s.id DESC LIMIT 1`, user).Scan(&s).Error
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func groupsOf(res gqlResult) []string {
	var out []string
	me, _ := res.Data["me"].(map[string]any)
	list, _ := me["groups"].([]any)
	for _, g := range list {
		out = append(out, g.(string))
	}
	return out
}

// A session keeps the provider's refresh token, sealed, and uses it once the provider's access
// token has run out: a group change at the provider reaches Portside without a new sign-in, and
// once the provider stops honouring the sign-in the session ends, on the record.
func TestSessionsFollowTheProviderThroughTheirRefreshTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := newPortal(t, st, withRefreshTokens)
		bob := p.session("bob")
		stored := sessionOf(t, st, "bob")
		if !strings.HasPrefix(stored.RefreshToken, "v1.") || stored.ProviderExpiresAt == nil {
			t.Fatalf("the session keeps no sealed refresh token: %+v", stored)
		}
		if got := groupsOf(p.as(bob, meQuery)); !slices.Equal(got, []string{"group:default/team-payments"}) {
			t.Fatalf("groups at sign-in = %v", got)
		}

		// Bob moves teams at the provider. Until his access token runs out Portside keeps what it
		// knew; after, the next request asks the provider again.
		if err := p.dev.SetGroups("bob", []string{"team-platform"}); err != nil {
			t.Fatal(err)
		}
		p.clock.Add(2 * time.Minute)
		if got := groupsOf(p.as(bob, meQuery)); !slices.Equal(got, []string{"group:default/team-payments"}) {
			t.Errorf("groups before the access token ran out = %v, want the sign-in's", got)
		}
		p.clock.Add(4 * time.Minute) // past the provider's 5-minute access token
		if got := groupsOf(p.as(bob, meQuery)); !slices.Equal(got, []string{"group:default/team-platform"}) {
			t.Errorf("groups after the refresh = %v, want the provider's new ones", got)
		}
		after := sessionOf(t, st, "bob")
		if after.RefreshToken == stored.RefreshToken || !after.ProviderExpiresAt.After(*stored.ProviderExpiresAt) {
			t.Errorf("the rotated refresh token or its new expiry was not kept: before %+v, after %+v", stored, after)
		}

		// An administrator disables Bob at the provider: his Portside session ends at the next
		// refresh, and the end is audited.
		if err := p.dev.RevokeUser("bob"); err != nil {
			t.Fatal(err)
		}
		p.clock.Add(6 * time.Minute)
		res := p.as(bob, meQuery)
		if res.Status != http.StatusUnauthorized || res.code() != "UNAUTHENTICATED" {
			t.Fatalf("after the provider revoked bob: %d %s, want 401 UNAUTHENTICATED", res.Status, res.code())
		}
		if sessionOf(t, st, "bob").RevokedAt == nil {
			t.Errorf("the session was not revoked")
		}
		recs := p.auditRecords(t, "auth.session.end")
		if len(recs) != 1 || recs[0].Actor != "bob" || recs[0].Outcome != "ok" || !strings.Contains(string(recs[0].Arguments), "invalid_grant") {
			t.Errorf("audit of the ended session = %+v", recs)
		}
	})
}

// Two requests that find the access token run out at the same moment must not both present a
// rotating refresh token: the second would be refused and end a good session.
func TestConcurrentRequestsRefreshASessionOnce(t *testing.T) {
	st := storetest.SQLite(t)
	p := newPortal(t, st, withRefreshTokens)
	bob := p.session("bob")
	p.clock.Add(6 * time.Minute)
	results := make(chan gqlResult, 8)
	for range cap(results) {
		go func() { results <- p.gql(bob.b.Client, p.fromPortal(), `{ me { username } }`, nil) }()
	}
	for range cap(results) {
		if res := <-results; res.Status != http.StatusOK || len(res.Errors) > 0 {
			t.Errorf("a request during the refresh: %d %+v", res.Status, res.Errors)
		}
	}
	if s := sessionOf(t, st, "bob"); s.RevokedAt != nil {
		t.Errorf("concurrent refreshes ended the session")
	}
	if n := len(p.auditRecords(t, "auth.session.end")); n != 0 {
		t.Errorf("%d sessions ended", n)
	}
}

// Without an encryption key Portside keeps no refresh token: sessions run on its own timeouts.
func TestWithoutAKeyNoRefreshTokenIsKept(t *testing.T) {
	st := storetest.SQLite(t)
	p := newPortal(t, st, func(o *auth.Options) {
		withRefreshTokens(o)
		o.Keys = nil
	})
	bob := p.session("bob")
	if s := sessionOf(t, st, "bob"); s.RefreshToken != "" || s.ProviderExpiresAt != nil {
		t.Errorf("a refresh token was kept without a key: %+v", s)
	}
	p.clock.Add(10 * time.Minute)
	if res := p.as(bob, meQuery); res.Status != http.StatusOK || len(res.Errors) > 0 {
		t.Errorf("the session did not outlive the provider's access token: %d %+v", res.Status, res.Errors)
	}
}

// A key that no longer opens a session's refresh token (the key was replaced) drops the token;
// the session itself goes on.
func TestARefreshTokenSealedWithAnotherKeyIsDroppedNotFatal(t *testing.T) {
	st := storetest.SQLite(t)
	p := newPortal(t, st, withRefreshTokens)
	bob := p.session("bob")
	if err := st.Gorm().Exec("UPDATE sessions SET refresh_token = ?", seal.NewRandomKeyring().Seal("x", "elsewhere")).Error; err != nil {
		t.Fatal(err)
	}
	p.clock.Add(6 * time.Minute)
	if res := p.as(bob, meQuery); res.Status != http.StatusOK || len(res.Errors) > 0 {
		t.Fatalf("%d %+v", res.Status, res.Errors)
	}
	if s := sessionOf(t, st, "bob"); s.RefreshToken != "" || s.ProviderExpiresAt != nil || s.RevokedAt != nil {
		t.Errorf("session after a refresh token that does not open: %+v", s)
	}
}

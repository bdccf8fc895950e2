package server_test

import (
	"context"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/portside-dev/portside/auth"
	"github.com/portside-dev/portside/store/storetest"
)

// BenchmarkCredentialCheck measures what authenticating adds to every request, for each kind of
// credential, in steady state (the target: at most 50 µs median). It reports the median
// besides Go's mean, since a rare cache refill (a database read once a minute per credential)
// would otherwise hide in the mean.
func BenchmarkCredentialCheck(b *testing.B) {
	st := storetest.SQLite(b)
	p := newPortal(b, st)
	ctx := context.Background()

	secret, _, err := p.ids.CreateToken(operator(), auth.TokenSpec{Username: "bob", Name: "bench", Scopes: []string{"read"}})
	if err != nil {
		b.Fatal(err)
	}
	browser := newBrowser()
	readAll(b, p.signIn(browser, "bob", "bob-pw", "/"))
	u, _ := url.Parse(p.base)
	var session string
	for _, c := range browser.Jar.Cookies(u) {
		if c.Name == "portside_session" {
			session = c.Value
		}
	}
	if session == "" {
		b.Fatal("no session cookie after sign-in")
	}
	now := p.clock.Now()
	jwt, err := p.dev.SignIDToken(map[string]any{"iss": p.dev.Issuer(), "sub": "user-bob", "aud": "portside",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "preferred_username": "bob", "groups": []string{"team-payments"}})
	if err != nil {
		b.Fatal(err)
	}

	for _, tc := range []struct {
		name  string
		creds auth.Credentials
	}{
		{"api-token", auth.Credentials{Bearer: secret}},
		{"session", auth.Credentials{Session: session}},
		{"jwt", auth.Credentials{Bearer: jwt}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			// The first check reads the database and fills the cache, as the first request would.
			if pr, err := p.ids.Authenticate(ctx, tc.creds); err != nil || pr == nil || pr.Username != "bob" {
				b.Fatalf("credential refused: %v %+v", err, pr)
			}
			took := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				if _, err := p.ids.Authenticate(ctx, tc.creds); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Nanoseconds()), "median-ns/op")
		})
	}
}

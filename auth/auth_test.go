package auth_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portside-dev/portside/auth"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// directory is a hand-written catalog: users by name, and by email.
type directory struct {
	mu      sync.Mutex
	byName  map[string]string
	byEmail map[string]string
}

func (d *directory) LinkUser(_ context.Context, username, email string, by []string) (string, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, m := range by {
		if ref := map[string]map[string]string{"name": d.byName, "email": d.byEmail}[m][map[string]string{"name": username, "email": email}[m]]; ref != "" {
			return ref, nil
		}
	}
	return "", nil
}

func (d *directory) set(name, ref string) { d.mu.Lock(); d.byName[name] = ref; d.mu.Unlock() }

// cli is the operator's authority (portside token ...).
func cli() context.Context {
	return principal.With(context.Background(), principal.System("cli:test", principal.ClientCLI))
}

// as authenticates secret and returns a context acting as it.
func as(t *testing.T, ids *auth.Service, secret string) (context.Context, *principal.Principal) {
	t.Helper()
	p, err := ids.Authenticate(context.Background(), auth.Credentials{Bearer: secret})
	if err != nil || p == nil {
		t.Fatalf("authenticating the token: %v, %v", p, err)
	}
	return principal.With(context.Background(), p), p
}

func TestNoAPITokenCreatesTokensNotEvenAnAdminOne(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ids := auth.NewService(st, auth.Options{})
		for _, admin := range []bool{false, true} {
			secret, _, err := ids.CreateToken(cli(), auth.TokenSpec{Username: "ops", Name: "ops", Admin: admin})
			if err != nil {
				t.Fatal(err)
			}
			ctx, _ := as(t, ids, secret)
			for _, spec := range []auth.TokenSpec{{Name: "child"}, {Name: "root", Admin: true}} {
				if _, _, err := ids.CreateToken(ctx, spec); !errs.Is(err, errs.Forbidden) || admin && !strings.Contains(err.Error(), "API tokens cannot create API tokens") {
					t.Errorf("an API token (admin %t) creating %+v: %v, want FORBIDDEN", admin, spec, err)
				}
			}
		}
	})
}

func TestTokensLiveAtMostTheMaximumLifetime(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		clk := testutil.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
		ids := auth.NewService(st, auth.Options{Now: clk.Now, TokenMaxLifetime: 720 * time.Hour})
		person := principal.With(context.Background(), &principal.Principal{Username: "ops", Kind: principal.KindSession, Client: principal.ClientWeb})
		if _, _, err := ids.CreateToken(cli(), auth.TokenSpec{Username: "ops", Name: "first", TTL: time.Hour}); err != nil {
			t.Fatal(err) // ops exists from here on
		}
		tests := []struct {
			name    string
			ctx     context.Context
			spec    auth.TokenSpec
			expires *time.Time // nil: never
			code    errs.Code
		}{
			{"no lifetime gets the maximum", person, auth.TokenSpec{Name: "a"}, ptr(clk.Now().Add(720 * time.Hour)), ""},
			{"a shorter lifetime is kept", person, auth.TokenSpec{Name: "b", TTL: time.Hour}, ptr(clk.Now().Add(time.Hour)), ""},
			{"the maximum itself is fine", person, auth.TokenSpec{Name: "c", TTL: 720 * time.Hour}, ptr(clk.Now().Add(720 * time.Hour)), ""},
			{"longer is refused", person, auth.TokenSpec{Name: "d", TTL: 721 * time.Hour}, nil, errs.Invalid},
			{"the CLI is bound too", cli(), auth.TokenSpec{Username: "ops", Name: "e", TTL: 721 * time.Hour}, nil, errs.Invalid},
			{"the CLI without lifetime gets the maximum", cli(), auth.TokenSpec{Username: "ops", Name: "f"}, ptr(clk.Now().Add(720 * time.Hour)), ""},
			{"the CLI may ask for none, explicitly", cli(), auth.TokenSpec{Username: "ops", Name: "g", NeverExpires: true}, nil, ""},
			{"a person may not", person, auth.TokenSpec{Name: "h", NeverExpires: true}, nil, errs.Forbidden},
			{"never and a lifetime contradict", cli(), auth.TokenSpec{Username: "ops", Name: "i", NeverExpires: true, TTL: time.Hour}, nil, errs.Invalid},
			{"a minute is the shortest", cli(), auth.TokenSpec{Username: "ops", Name: "j", TTL: time.Minute}, ptr(clk.Now().Add(time.Minute)), ""},
			{"shorter would expire before use", cli(), auth.TokenSpec{Username: "ops", Name: "k", TTL: time.Nanosecond}, nil, errs.Invalid},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, tok, err := ids.CreateToken(tc.ctx, tc.spec)
				if tc.code != "" {
					if !errs.Is(err, tc.code) {
						t.Fatalf("err = %v, want %s", err, tc.code)
					}
					if tc.code == errs.Invalid && (errs.FieldOf(err) != "ttl" || !strings.Contains(err.Error(), "token-max-lifetime") && !tc.spec.NeverExpires &&
						!strings.Contains(err.Error(), "shorter than a minute")) {
						t.Errorf("err = %v (field %q), want it to name ttl and the setting token-max-lifetime", err, errs.FieldOf(err))
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case tc.expires == nil && tok.ExpiresAt != nil:
					t.Errorf("expires at %v, want never", tok.ExpiresAt)
				case tc.expires != nil && (tok.ExpiresAt == nil || !tok.ExpiresAt.Equal(*tc.expires)):
					t.Errorf("expires at %v, want %v", tok.ExpiresAt, tc.expires)
				}
			})
		}
	})
}

func ptr[T any](v T) *T { return &v }

// erin never signed in: her token came from `portside token create --user erin`, on a process
// without the catalog. Whatever presents it is linked to the catalog's User erin all the same, and
// a User added or renamed later is picked up once the credential cache lets go.
func TestATokenOfSomeoneWhoNeverSignedInIsLinkedToTheCatalog(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		secret, _, err := auth.NewService(st, auth.Options{}).CreateToken(cli(), auth.TokenSpec{Username: "erin", Name: "ci"})
		if err != nil {
			t.Fatal(err)
		}
		dir := &directory{byName: map[string]string{"erin": "user:default/erin"}, byEmail: map[string]string{}}
		clk := testutil.NewClock(time.Now())
		ids := auth.NewService(st, auth.Options{Directory: dir, UserLink: []string{"name", "email"}, Now: clk.Now})
		if _, p := as(t, ids, secret); p.EntityRef != "user:default/erin" {
			t.Fatalf("erin's token is linked to %q, want user:default/erin", p.EntityRef)
		}
		dir.set("erin", "")
		clk.Add(2 * time.Minute) // past the credential cache
		if _, p := as(t, ids, secret); p.EntityRef != "" {
			t.Fatalf("erin's User left the catalog, but her token is still linked to %q", p.EntityRef)
		}
	})
}

// A database that cannot be reached says nothing about a credential: UNAVAILABLE, not
// UNAUTHENTICATED (a client told so drops a good token) nor INTERNAL.
func TestAnUnreachableDatabaseIsUnavailableNotABadCredential(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ids := auth.NewService(st, auth.Options{})
		secret, _, err := ids.CreateToken(cli(), auth.TokenSpec{Username: "ops", Name: "ops"})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		for name, c := range map[string]auth.Credentials{"token": {Bearer: secret}, "session": {Session: "pss_whatever"}} {
			if _, err := ids.Authenticate(context.Background(), c); !errs.Is(err, errs.Unavailable) {
				t.Errorf("%s with the database closed: %v (%s), want UNAVAILABLE", name, err, errs.CodeOf(err))
			}
		}
	})
}

// A long-lived connection follows its credential: revoked in this process, at once; revoked by
// another process (the CLI) or expired, at the next recheck; its rights changed (a new catalog
// link), FORBIDDEN.
func TestFollowEndsWhenTheCredentialNoLongerHolds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		dir := &directory{byName: map[string]string{}, byEmail: map[string]string{}}
		clk := testutil.NewClock(time.Now())
		tests := []struct {
			name    string
			user    string
			recheck time.Duration
			end     func(t *testing.T, ids *auth.Service, id int64)
			want    errs.Code
		}{
			{"revoked here", "u1", time.Hour, func(t *testing.T, ids *auth.Service, id int64) {
				if _, err := ids.RevokeToken(cli(), id); err != nil {
					t.Fatal(err)
				}
			}, errs.Unauthenticated},
			{"revoked by the CLI", "u2", 10 * time.Millisecond, func(t *testing.T, _ *auth.Service, id int64) {
				if _, err := auth.NewService(st, auth.Options{}).RevokeToken(cli(), id); err != nil {
					t.Fatal(err)
				}
			}, errs.Unauthenticated},
			{"expired", "u3", 10 * time.Millisecond, func(*testing.T, *auth.Service, int64) { clk.Add(2 * time.Hour) }, errs.Unauthenticated},
			{"linked anew", "u4", 10 * time.Millisecond, func(t *testing.T, _ *auth.Service, _ int64) { dir.set("u4", "user:default/u4") }, errs.Forbidden},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				ids := auth.NewService(st, auth.Options{Directory: dir, UserLink: []string{"name"}, Now: clk.Now, CredentialRecheck: tc.recheck})
				secret, tok, err := ids.CreateToken(cli(), auth.TokenSpec{Username: tc.user, Name: "t", TTL: time.Hour})
				if err != nil {
					t.Fatal(err)
				}
				_, p := as(t, ids, secret)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				ended := make(chan error, 1)
				go ids.Follow(ctx, auth.Credentials{Bearer: secret}, p, func(err error) { ended <- err })
				tc.end(t, ids, tok.ID)
				select {
				case err := <-ended:
					if !errs.Is(err, tc.want) {
						t.Fatalf("ended with %v, want %s", err, tc.want)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("the credential ended, but Follow did not say so")
				}
			})
		}
	})
}

// A revoked token is answered whole, naming whose it was, by whoever revoked it.
func TestARevokedTokenNamesItsUser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ids := auth.NewService(st, auth.Options{})
		secret, tok, err := ids.CreateToken(cli(), auth.TokenSpec{Username: "erin", Name: "ci", TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		ctx, _ := as(t, ids, secret)
		for name, ctx := range map[string]context.Context{"its owner": ctx, "the operator": cli()} {
			revoked, err := ids.RevokeToken(ctx, tok.ID)
			if err != nil || revoked.Username != "erin" || revoked.RevokedAt == nil {
				t.Errorf("revoked by %s: %+v, %v; want erin's token, revoked", name, revoked, err)
			}
		}
	})
}

// A token's scopes are a short known list; a request that repeats them by the thousand is refused,
// naming the field, before anything is stored.
func TestTokenScopesAreBounded(t *testing.T) {
	ids := auth.NewService(storetest.SQLite(t), auth.Options{})
	many := make([]string, 1000)
	for i := range many {
		many[i] = "read"
	}
	_, _, err := ids.CreateToken(cli(), auth.TokenSpec{Username: "erin", Name: "ci", TTL: time.Hour, Scopes: many})
	if errs.FieldOf(err) != "scopes" {
		t.Errorf("1,000 scopes: %v, want INVALID naming scopes", err)
	}
	if _, _, err := ids.CreateToken(cli(), auth.TokenSpec{Username: "erin", Name: "ci", TTL: time.Hour, Scopes: []string{"read", "write"}}); err != nil {
		t.Errorf("read and write: %v", err)
	}
}

// A Slack user acts as the Portside user with their confirmed address: found whatever its case,
// with that user's groups; nobody, or two people sharing it, is NOT_FOUND and acts as no one.
func TestAChatUserIsThePortsideUserWithTheirAddress(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		now := time.Now().UTC()
		for _, u := range [][2]string{{"bob", "bob@acme.example"}, {"erin", "shared@acme.example"}, {"frank", "Shared@acme.example"}} {
			if err := st.DB(context.Background()).Exec(`INSERT INTO users (username, email, created_at, updated_at) VALUES (?, ?, ?, ?)`,
				u[0], u[1], now, now).Error; err != nil {
				t.Fatal(err)
			}
		}
		if err := st.DB(context.Background()).Exec(`INSERT INTO user_groups (user_id, group_ref) SELECT id, 'group:default/team-payments' FROM users WHERE username = 'bob'`).Error; err != nil {
			t.Fatal(err)
		}
		ids := auth.NewService(st, auth.Options{})
		p, err := ids.PrincipalByEmail(context.Background(), "BOB@acme.example", principal.ClientSlack)
		if err != nil {
			t.Fatal(err)
		}
		if p.Username != "bob" || p.Kind != principal.KindChat || p.Client != principal.ClientSlack || len(p.Groups) != 1 || p.Admin {
			t.Errorf("principal = %+v", p)
		}
		for email, want := range map[string]string{"nobody@acme.example": "sign in to Portside once", "shared@acme.example": "more than one Portside user",
			"": "email"} {
			if p, err := ids.PrincipalByEmail(context.Background(), email, principal.ClientSlack); p != nil || err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%q: %+v, %v; want refused with %q", email, p, err, want)
			}
		}
	})
}

// A username and an e-mail address are bounded in characters, counted as characters: as many as
// the bound allows, each of two bytes, are taken (the address names nobody here, which is
// another error), and one more is refused saying the bound.
func TestUsernamesAndAddressesAreBoundedInCharacters(t *testing.T) {
	ids := auth.NewService(storetest.SQLite(t), auth.Options{})
	é := func(n int) string { return strings.Repeat("é", n) }
	if _, _, err := ids.CreateToken(cli(), auth.TokenSpec{Username: é(200), Name: "ci"}); err != nil {
		t.Errorf("a token for a username of 200 characters of 2 bytes: %v; want it created", err)
	}
	if _, _, err := ids.CreateToken(cli(), auth.TokenSpec{Username: é(201), Name: "ci"}); errs.FieldOf(err) != "username" ||
		errs.PublicMessage(err) != "username: is longer than 200 characters" {
		t.Errorf("a token for a username of 201 characters: %v; want INVALID saying the username is longer than 200 characters", err)
	}
	const domain = "@acme.example"
	addr := é(320-len(domain)) + domain
	if _, err := ids.PrincipalByEmail(context.Background(), addr, principal.ClientSlack); !errs.Is(err, errs.NotFound) {
		t.Errorf("an address of 320 characters, %d bytes: %v; want NOT_FOUND (nobody has it)", len(addr), err)
	}
	if _, err := ids.PrincipalByEmail(context.Background(), é(321-len(domain))+domain, principal.ClientSlack); errs.FieldOf(err) != "email" ||
		!strings.Contains(errs.PublicMessage(err), "at most 320 characters") {
		t.Errorf("an address of 321 characters: %v; want INVALID saying at most 320 characters", err)
	}
}

// A token's name is listed in a table and kept as text: one line of storable text that reads as
// it is (no bidirectional controls turning "ci‮tob" into another name, nothing only invisible).
func TestATokenNameIsOneLineOfStorableText(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ids := auth.NewService(st, auth.Options{})
		for _, name := range []string{"ci\x00bot", "ci\nbot", "ci\tbot", "ci\xffbot", "\u202e", "ci\u202etob", "\u200b", "ci\x1b[2Jbot"} {
			if _, _, err := ids.CreateToken(cli(), auth.TokenSpec{Username: "ops", Name: name}); errs.FieldOf(err) != "name" {
				t.Errorf("a token named %q: %v, want INVALID naming name", name, err)
			}
		}
		if _, _, err := ids.CreateToken(cli(), auth.TokenSpec{Username: "o\xffps", Name: "ci"}); errs.FieldOf(err) != "user" {
			t.Errorf("a token for a user of invalid UTF-8: %v, want INVALID naming user", err)
		}
		if _, _, err := ids.CreateToken(cli(), auth.TokenSpec{Username: "ops", Name: "ci bot ✓"}); err != nil {
			t.Errorf("a token named in one line: %v", err)
		}
	})
}

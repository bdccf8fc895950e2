package auth

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/seal"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// sealedFlow seals a sign-in in progress as BeginLogin does.
func sealedFlow(t *testing.T, s *Service, f loginFlow) string {
	t.Helper()
	plain, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	return s.flowKeys.Seal(string(plain), loginFlowContext)
}

func TestASignInInProgressOpensOnlyInItsOwnCallback(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	s := NewService(nil, Options{ClientSecret: "s3cret", Now: func() time.Time { return now }})
	flow := loginFlow{State: "state-1", Nonce: "n", Verifier: "v", ReturnTo: "/x", ExpiresAt: now.Add(loginFlowTTL)}
	cookie := sealedFlow(t, s, flow)

	got, err := s.openFlow(Callback{State: "state-1", BrowserState: cookie})
	if err != nil || got.Nonce != "n" || got.Verifier != "v" || got.ReturnTo != "/x" {
		t.Fatalf("the flow's own callback: %+v, %v", got, err)
	}
	// Another replica with the same client secret opens it (the callback may reach any replica).
	replica := NewService(nil, Options{ClientSecret: "s3cret", Now: func() time.Time { return now }})
	if _, err := replica.openFlow(Callback{State: "state-1", BrowserState: cookie}); err != nil {
		t.Errorf("a replica with the same client secret: %v", err)
	}
	for name, cb := range map[string]Callback{
		"another state":         {State: "state-2", BrowserState: cookie},
		"no cookie":             {State: "state-1"},
		"an altered cookie":     {State: "state-1", BrowserState: strings.Replace(cookie, cookie[10:14], "AAAA", 1)},
		"the state as a cookie": {State: "state-1", BrowserState: "state-1"},
	} {
		if _, err := s.openFlow(cb); !errs.Is(err, errs.Unauthenticated) || !strings.Contains(err.Error(), "not started in this browser") {
			t.Errorf("%s: %v, want UNAUTHENTICATED, not started in this browser", name, err)
		}
	}
	other := NewService(nil, Options{ClientSecret: "another", Now: func() time.Time { return now }})
	if _, err := other.openFlow(Callback{State: "state-1", BrowserState: cookie}); err == nil {
		t.Error("a server with another client secret opened the flow")
	}
	late := NewService(nil, Options{ClientSecret: "s3cret", Now: func() time.Time { return now.Add(loginFlowTTL + time.Second) }})
	if _, err := late.openFlow(Callback{State: "state-1", BrowserState: cookie}); !errs.Is(err, errs.Unauthenticated) || !strings.Contains(err.Error(), "took longer") {
		t.Errorf("an expired flow: %v, want UNAUTHENTICATED naming the time it took", err)
	}
}

func TestConfiguredEncryptionKeysSealSignInsInProgress(t *testing.T) {
	keys := seal.NewRandomKeyring()
	a := NewService(nil, Options{Keys: keys})
	b := NewService(nil, Options{Keys: keys, ClientSecret: "whatever"})
	cookie := sealedFlow(t, a, loginFlow{State: "s", ExpiresAt: time.Now().Add(time.Minute)})
	if _, err := b.openFlow(Callback{State: "s", BrowserState: cookie}); err != nil {
		t.Errorf("replicas sharing encryption keys: %v", err)
	}
}

// A provider that exchanged the same code twice would still not sign the same flow in twice.
func TestASignInFlowFinishesOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := NewService(st, Options{})
		ctx := context.Background()
		flow := &loginFlow{State: "state-1", ExpiresAt: time.Now().Add(loginFlowTTL)}
		if err := s.useFlow(ctx, flow); err != nil {
			t.Fatal(err)
		}
		if err := s.useFlow(ctx, flow); !errs.Is(err, errs.Unauthenticated) || !strings.Contains(err.Error(), "already used") {
			t.Errorf("the same flow again: %v, want UNAUTHENTICATED, already used", err)
		}
		if err := s.useFlow(ctx, &loginFlow{State: "state-2", ExpiresAt: time.Now().Add(loginFlowTTL)}); err != nil {
			t.Errorf("another flow: %v", err)
		}
	})
}

// A sign-in keeps the groups of the person that can be catalog groups and leaves out, with a
// log line, those that cannot: a name with a space (a directory's display name), a Keycloak full
// path, an empty one, one over maxGroupBytes. Such a group grants nothing here, and refusing the
// sign-in for it locked out everyone whose directory sends one. maxGroupBytes because the kept
// groups are indexed (user_groups, keyed by the group's reference) and a PostgreSQL B-tree entry
// holds at most 2,704 bytes: a group of 3,000 random bytes failed the sign-in with the database's
// error. Random text, because PostgreSQL compresses repeated text under the bound.
func TestASignInKeepsTheGroupsThatCanBeCatalogGroupsAndLeavesOutTheRest(t *testing.T) {
	random := testutil.RandomText
	atBound := random(maxGroupBytes)
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		var logs testutil.Buffer
		s := NewService(st, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		ctx := context.Background()
		id := Identity{Issuer: "https://idp.example", Subject: "u-1", Username: "alice",
			Groups: []string{"team-a", "Platform/Team-B", "group:ops/SRE", atBound, random(maxGroupBytes + 1), random(3000),
				"Domain Users", "/org/team-c", "", "group:", "a:b"}}
		p, err := s.upsertUser(ctx, id, fromLogin)
		if err != nil {
			t.Fatalf("sign-in with groups that can be no catalog group's: %v", err)
		}
		want := []string{"group:default/" + atBound, "group:default/team-a", "group:ops/sre", "group:platform/team-b"}
		slices.Sort(want)
		if !slices.Equal(p.Groups, want) {
			t.Errorf("groups %q, want %q", p.Groups, want)
		}
		var stored []string
		if err := st.DB(ctx).Model(&userGroupRow{}).Order("group_ref").Pluck("group_ref", &stored).Error; err != nil || !slices.Equal(stored, want) {
			t.Errorf("stored groups %q (%v), want %q", stored, err, want)
		}
		if got := logs.String(); !strings.Contains(got, "skipped=7") || !strings.Contains(got, `Domain Users`) || !strings.Contains(got, "username=alice") {
			t.Errorf("the left-out groups were not logged: %s", got)
		}
	})
}

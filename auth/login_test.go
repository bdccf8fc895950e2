package auth

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portside-dev/portside/errs"
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

// A group name the identity provider sends is at most maxGroupBytes long, and a sign-in with a
// longer one is refused naming the groups claim, before anything is written. A sign-in keeps
// the person's groups (user_groups, keyed by the group's reference), and a PostgreSQL B-tree
// entry holds at most 2,704 bytes: a group of 3,000 random bytes failed the sign-in with the
// database's error (a 500 and "internal error" on the callback). A group at the bound is kept.
// Random text, because PostgreSQL compresses repeated text under the bound.
func TestAGroupNameIsBoundedAndASignInWithALongerOneIsRefusedByName(t *testing.T) {
	random := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[rand.IntN(36)]
		}
		return string(b)
	}
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := NewService(st, Options{})
		ctx := context.Background()
		for i, c := range []struct {
			name    string
			group   string
			refused bool
		}{
			{"at the bound", random(maxGroupBytes), false},
			{"past the bound", random(maxGroupBytes + 1), true},
			{"past the index's bound", random(3000), true},
		} {
			id := Identity{Issuer: "https://idp.example", Subject: fmt.Sprint("user-", i), Username: fmt.Sprint("user-", i),
				Groups: []string{"team-a", c.group}}
			p, err := s.upsertUser(ctx, id, fromLogin)
			if !c.refused {
				if err != nil || !slices.Contains(p.Groups, "group:default/"+c.group) {
					t.Errorf("%s (%d bytes): %+v, %v; want the group kept", c.name, len(c.group), p, err)
				}
				continue
			}
			if errs.CodeOf(err) != errs.Invalid || errs.FieldOf(err) != "groups" || !strings.Contains(err.Error(), fmt.Sprintf("at most %d", maxGroupBytes)) {
				t.Errorf("%s (%d bytes): %v; want INVALID on groups naming the bound %d", c.name, len(c.group), err, maxGroupBytes)
			}
			var users int64
			if err := st.DB(ctx).Model(&userRow{}).Where("username = ?", id.Username).Count(&users).Error; err != nil || users != 0 {
				t.Errorf("%s: the refused sign-in recorded its user (%d, %v)", c.name, users, err)
			}
		}
	})
}

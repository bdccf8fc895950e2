package auth

import (
	"context"
	"testing"
	"time"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// A session ended while its credential sits in the cache (the provider refused it, or a check
// cached it again between the sign-out's eviction and its commit) still closes the connections
// that follow it at once: the followers must not be woken to the cached, still-valid session.
func TestASessionEndedWhileCachedEndsItsFollowersAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		s := NewService(st, Options{CredentialRecheck: time.Hour}) // no timer check in this test
		ctx := context.Background()
		p, err := s.upsertUser(ctx, Identity{Issuer: "https://idp.example", Subject: "bob-1", Username: "bob"}, fromLogin)
		if err != nil {
			t.Fatal(err)
		}
		token, sess, err := s.createSession(ctx, p, "", nil, "test")
		if err != nil {
			t.Fatal(err)
		}
		c := Credentials{Session: token}
		opened, err := s.Authenticate(ctx, c) // cached from here on
		if err != nil || opened == nil {
			t.Fatalf("the new session: %v, %v", opened, err)
		}
		fctx, cancel := context.WithCancel(ctx)
		defer cancel()
		ended := make(chan error, 1)
		go s.Follow(fctx, c, opened, func(err error) { ended <- err })
		// Follow's first check passes; revoke as endRefusedSession does, the cache untouched.
		if err := s.revokeSession(ctx, sess.ID); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-ended:
			if !errs.Is(err, errs.Unauthenticated) {
				t.Fatalf("ended with %v, want UNAUTHENTICATED", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the session ended, but its follower was told nothing (it rechecked the cached session)")
		}
	})
}

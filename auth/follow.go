package auth

import (
	"context"
	"slices"
	"time"

	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/errs"
)

// DefaultCredentialRecheck is how often a long-lived connection checks its credential again
// unless Options.CredentialRecheck says otherwise.
const DefaultCredentialRecheck = 10 * time.Second

// credentialsChanged wakes every Follow: a credential was revoked or ended in this process.
func (s *Service) credentialsChanged() {
	s.changedMu.Lock()
	close(s.changed)
	s.changed = make(chan struct{})
	s.changedMu.Unlock()
}

func (s *Service) changes() <-chan struct{} {
	s.changedMu.Lock()
	defer s.changedMu.Unlock()
	return s.changed
}

// Recheck authenticates the credential of a long-lived connection again for one operation on it
// (cached, like any request's check) and returns the principal to run it as. It refuses, with
// UNAUTHENTICATED, a credential that no longer authenticates, and with FORBIDDEN one that now stands
// for other rights than the connection was opened with (see SameRights): such a connection must be
// opened again.
func (s *Service) Recheck(ctx context.Context, c Credentials, opened *principal.Principal) (*principal.Principal, error) {
	return s.recheck(ctx, c, opened, false)
}

func (s *Service) recheck(ctx context.Context, c Credentials, opened *principal.Principal, fresh bool) (*principal.Principal, error) {
	p, err := s.authenticate(ctx, c, fresh)
	switch {
	case err != nil:
		return nil, err
	case p == nil:
		return nil, errs.E(errs.Unauthenticated, "the connection's credential is gone; sign in again")
	case !SameRights(opened, p):
		return nil, errs.E(errs.Forbidden, "%s's permissions changed since this connection opened; open it again", p.Actor())
	}
	return p, nil
}

// Follow checks the credential c of a long-lived connection until ctx ends: afresh (uncached)
// every CredentialRecheck, and at once whenever this process revokes or ends a credential. When the
// credential no longer holds (signed out, revoked, expired, or its rights changed; see Recheck) it
// calls ended once with that error and returns. A database or provider that cannot be reached ends
// nothing: the next check decides.
func (s *Service) Follow(ctx context.Context, c Credentials, opened *principal.Principal, ended func(error)) {
	t := time.NewTicker(s.opts.CredentialRecheck)
	defer t.Stop()
	// The first check, and those after a change here, may use the cache: this process evicts what
	// it revokes. Only the timer's checks must reach the database, for what others revoked.
	fresh := false
	for {
		changed := s.changes() // before the check, so that no change slips in between
		_, err := s.recheck(ctx, c, opened, fresh)
		if errs.Is(err, errs.Unauthenticated) || errs.Is(err, errs.Forbidden) {
			ended(err)
			return
		}
		if err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "auth: a connection's credential could not be checked; it stays open until the next check", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fresh = true
		case <-changed:
			fresh = false
		}
	}
}

// SameRights reports whether two principals of one credential may do the same things: same
// person, same admin role, groups, catalog link and token scopes.
func SameRights(a, b *principal.Principal) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Username == b.Username && a.Admin == b.Admin && a.EntityRef == b.EntityRef &&
		slices.Equal(a.Groups, b.Groups) && slices.Equal(a.Scopes, b.Scopes)
}

package auth

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"gorm.io/gorm"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth/policy"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/seal"
	"github.com/portside-dev/portside/store"
)

// Session is a browser session as its owner sees it.
type Session struct {
	ID         int64
	UserAgent  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	// ExpiresAt is when it ends if unused: the earlier of the idle and the absolute limit.
	ExpiresAt time.Time
	// EndsAt is the absolute limit (session-max-age after sign-in), which no use extends: the
	// session cookie lives until then, and the server ends the session sooner when it is idle.
	EndsAt time.Time
	// Current marks the session the request came with.
	Current bool
}

// touchEvery throttles last-seen writes: a session used all day is written once a minute, not on
// every request.
const touchEvery = time.Minute

// createSession starts a session; the returned token is the cookie value (only its hash is kept).
// The provider's refresh token, if it granted one, is kept sealed for refreshSession.
func (s *Service) createSession(ctx context.Context, p *principal.Principal, idToken string, tok *oauth2.Token, userAgent string) (string, *Session, error) {
	token := newSecret("pss_")
	now := s.now().UTC()
	if len(userAgent) > 300 {
		userAgent = userAgent[:300]
	}
	row := sessionRow{TokenHash: hashSecret(token), UserID: p.UserID, IDToken: idToken, UserAgent: userAgent,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.opts.SessionMax)}
	s.keepRefreshToken(ctx, &row, tok, now)
	err := s.st.InTx(ctx, func(ctx context.Context) error {
		if err := s.st.DB(ctx).Create(&row).Error; err != nil {
			return store.Translate(err, "session")
		}
		return s.flushAudit(ctx)
	})
	if err != nil {
		return "", nil, err
	}
	sess := row.toSession(s.opts.SessionIdle)
	return token, &sess, nil
}

// sessionPrincipal authenticates a session cookie.
func (s *Service) sessionPrincipal(ctx context.Context, token string, fresh bool) (*principal.Principal, error) {
	k := tokenKey(token) // sessions share the key space of API tokens, as their stored hashes do
	now := s.now()
	if c, ok := s.creds.Get(k); ok && !fresh && now.Before(c.expires) {
		if now.Sub(c.lastSeen) < touchEvery {
			return c.p, nil
		}
	}
	var row sessionRow
	err := s.st.DB(ctx).Where("token_hash = ?", k.hash()).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errs.E(errs.Unauthenticated, "the session has ended; sign in again")
	} else if err != nil {
		return nil, store.Translate(err, "session")
	}
	if row.RevokedAt != nil || !now.Before(row.ExpiresAt) || !now.Before(row.LastSeenAt.Add(s.opts.SessionIdle)) {
		s.creds.Remove(k)
		return nil, errs.E(errs.Unauthenticated, "the session has ended; sign in again")
	}
	if row.RefreshToken != "" && row.ProviderExpiresAt != nil && !now.Before(*row.ProviderExpiresAt) {
		if err := s.refreshSession(ctx, &row, now); err != nil {
			s.creds.Remove(k)
			return nil, err
		}
	}
	var user userRow
	if err := s.st.DB(ctx).Take(&user, "id = ?", row.UserID).Error; err != nil {
		return nil, store.Translate(err, "user")
	}
	p, err := s.principal(ctx, &user)
	if err != nil {
		return nil, err
	}
	p.Kind, p.Client, p.SessionID = principal.KindSession, principal.ClientWeb, row.ID
	if !fresh && now.Sub(row.LastSeenAt) >= touchEvery {
		row.LastSeenAt = now.UTC()
		if err := s.st.DB(ctx).Model(&sessionRow{}).Where("id = ?", row.ID).Update("last_seen_at", row.LastSeenAt).Error; err != nil {
			return nil, store.Translate(err, "session")
		}
	}
	s.creds.Add(k, cachedCred{p: p, expires: minTime(row.ExpiresAt, row.LastSeenAt.Add(s.opts.SessionIdle)), lastSeen: row.LastSeenAt})
	return p, nil
}

// providerRecheck is when a session asks the provider again if the token response did not say when
// its access token runs out.
const providerRecheck = time.Hour

// keepRefreshToken puts the provider's refresh token (sealed) and the access token's end into row,
// or, when Portside has no encryption key, leaves the session to its own timeouts.
func (s *Service) keepRefreshToken(ctx context.Context, row *sessionRow, tok *oauth2.Token, now time.Time) {
	if tok == nil || tok.RefreshToken == "" {
		return
	}
	if s.opts.Keys == nil {
		s.noKeysOnce.Do(func() {
			s.log.WarnContext(ctx, "the identity provider grants refresh tokens, but no encryption-key is set: sessions do not keep them, so group changes and revocations at the provider reach Portside only at the next sign-in")
		})
		return
	}
	row.RefreshToken = s.opts.Keys.Seal(tok.RefreshToken, "session:"+row.TokenHash)
	next := now.Add(providerRecheck)
	if !tok.Expiry.IsZero() {
		next = tok.Expiry.UTC()
	}
	row.ProviderExpiresAt = &next
}

// refreshSession asks the provider about the person again, with the session's refresh token, once
// the provider's access token has run out: group and profile changes at the provider reach
// Portside, and a sign-in the provider no longer honours (account disabled, signed out there,
// refresh token revoked) ends the session with UNAUTHENTICATED. A provider that cannot be reached
// does not end sessions: it is asked again a minute later.
func (s *Service) refreshSession(ctx context.Context, row *sessionRow, now time.Time) error {
	// Rotating refresh tokens are single use: of two requests (or two replicas) refreshing at once
	// only one may present it. Whoever moves the due time first does; the others carry on with
	// what the session knew.
	retry := now.Add(touchEvery).UTC()
	res := s.st.DB(ctx).Model(&sessionRow{}).Where("id = ? AND provider_expires_at = ?", row.ID, *row.ProviderExpiresAt).
		Update("provider_expires_at", retry)
	if res.Error != nil {
		return store.Translate(res.Error, "session")
	}
	if res.RowsAffected == 0 {
		return nil
	}
	row.ProviderExpiresAt = &retry
	log := s.log.With("session", row.ID)
	var refresh string
	var err error
	if s.opts.Keys == nil {
		err = seal.ErrNotOpened
	} else {
		refresh, err = s.opts.Keys.Open(row.RefreshToken, "session:"+row.TokenHash)
	}
	if err != nil {
		// The encryption key changed: the session goes on, on Portside's timeouts alone.
		log.WarnContext(ctx, "a session's refresh token cannot be opened with the configured encryption-key; it is dropped")
		return store.Translate(s.st.DB(ctx).Model(&sessionRow{}).Where("id = ?", row.ID).
			Updates(map[string]any{"refresh_token": "", "provider_expires_at": nil}).Error, "session")
	}
	p, err := s.oidcProvider(ctx)
	if err != nil {
		log.WarnContext(ctx, "session refresh postponed: the identity provider is unavailable", "error", err)
		return nil
	}
	cctx := s.clientContext(ctx)
	tok, err := s.oauthConfig(p).TokenSource(cctx, &oauth2.Token{RefreshToken: refresh}).Token()
	var re *oauth2.RetrieveError
	switch {
	case errors.As(err, &re) && re.ErrorCode == "invalid_grant":
		return s.endRefusedSession(ctx, row, "the identity provider no longer honours this sign-in ("+re.ErrorCode+")")
	case err != nil:
		log.WarnContext(ctx, "session refresh postponed: the identity provider refused or failed the refresh", "error", err)
		return nil
	}
	var user userRow
	if err := s.st.DB(ctx).Take(&user, "id = ?", row.UserID).Error; err != nil {
		return store.Translate(err, "user")
	}
	// The ID token comes straight from the token endpoint, over the connection Portside opened and
	// authenticated: its signature, issuer, audience and subject are checked, its expiry need not
	// be (OpenID Connect Core 12.2 asks for no more).
	ans, err := s.readTokens(cctx, p, tok, tokenChecks{verify: &oidc.Config{ClientID: s.opts.ClientID, Now: s.now, SkipExpiryCheck: true},
		subject: user.Subject})
	if err != nil {
		if errs.Is(err, errs.Unavailable) {
			log.WarnContext(ctx, "session refresh postponed", "error", err)
			return nil
		}
		return s.endRefusedSession(ctx, row, errs.PublicMessage(err))
	}
	if ans != nil {
		if _, err := s.upsertUser(ctx, ans.identity, fromRefresh); err != nil {
			return err
		}
		if ans.rawIDToken != "" {
			row.IDToken = ans.rawIDToken
		}
	}
	if tok.RefreshToken == "" {
		tok.RefreshToken = refresh // the provider does not rotate: the old one stays good
	}
	s.keepRefreshToken(ctx, row, tok, now)
	return store.Translate(s.st.DB(ctx).Model(&sessionRow{}).Where("id = ?", row.ID).Updates(map[string]any{
		"refresh_token": row.RefreshToken, "provider_expires_at": row.ProviderExpiresAt, "id_token": row.IDToken,
	}).Error, "session")
}

// endRefusedSession ends a session the provider no longer vouches for, on the record, and tells the
// caller to sign in again.
func (s *Service) endRefusedSession(ctx context.Context, row *sessionRow, why string) error {
	var user userRow
	actor := &principal.Principal{Kind: principal.KindSession, Client: principal.ClientWeb, SessionID: row.ID}
	if err := s.st.DB(ctx).Take(&user, "id = ?", row.UserID).Error; err == nil {
		if p, err := s.principal(ctx, &user); err == nil {
			p.Kind, p.Client, p.SessionID = principal.KindSession, principal.ClientWeb, row.ID
			actor = p
		}
	}
	err := s.audited(principal.With(ctx, actor), policy.SessionEnd, "session "+strconv.FormatInt(row.ID, 10), map[string]any{"reason": why},
		func(ctx context.Context) error { return s.revokeSession(ctx, row.ID) })
	if err != nil {
		return err
	}
	s.log.InfoContext(ctx, "session ended by the identity provider", "session", row.ID, "user", user.Username, "reason", why)
	return errs.E(errs.Unauthenticated, "%s; sign in again", why)
}

// endSession revokes the session behind a cookie value and returns its ID token (for the
// provider's logout). An unknown or ended session is not an error: the user is signed out either way.
func (s *Service) endSession(ctx context.Context, token string) (string, error) {
	k := tokenKey(token)
	h := k.hash()
	s.creds.Remove(k)
	var row sessionRow
	err := s.st.DB(ctx).Where("token_hash = ? AND revoked_at IS NULL", h).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", nil
	} else if err != nil {
		return "", store.Translate(err, "session")
	}
	return row.IDToken, s.revokeSession(ctx, row.ID)
}

func (s *Service) revokeSession(ctx context.Context, id int64) error {
	now := s.now().UTC()
	err := s.st.InTx(ctx, func(ctx context.Context) error {
		// The refresh token goes with the session: nothing secret is kept longer than it is useful.
		if err := s.st.DB(ctx).Model(&sessionRow{}).Where("id = ? AND revoked_at IS NULL", id).
			Updates(map[string]any{"revoked_at": now, "refresh_token": ""}).Error; err != nil {
			return store.Translate(err, "session")
		}
		return s.flushAudit(ctx)
	})
	if err == nil {
		// Dropped from the cache after the commit, before the followers wake: a check between an
		// earlier eviction and the commit may have cached the session again, and a follower woken
		// to a cached, still-valid session would keep its socket open until its next fresh check.
		s.evictSession(id)
		s.credentialsChanged()
	}
	return err
}

// evictSession drops the cached credential of one session (its cookie's hash is not at hand).
func (s *Service) evictSession(id int64) {
	for _, k := range s.creds.Keys() {
		if c, ok := s.creds.Peek(k); ok && c.p.SessionID == id {
			s.creds.Remove(k)
		}
	}
}

// Sessions lists the caller's live sessions, newest first.
func (s *Service) Sessions(ctx context.Context) ([]Session, error) {
	p := principal.From(ctx)
	if p == nil {
		return nil, errs.E(errs.Unauthenticated, "sign in to list your sessions")
	}
	if p.UserID == 0 {
		return []Session{}, nil // a JWT caller Portside never saw sign in has no sessions here
	}
	now := s.now().UTC()
	var rows []sessionRow
	if err := s.st.DB(ctx).Where("user_id = ? AND revoked_at IS NULL AND expires_at > ?", p.UserID, now).
		Order("id DESC").Find(&rows).Error; err != nil {
		return nil, store.Translate(err, "sessions")
	}
	out := make([]Session, 0, len(rows))
	for i := range rows {
		sess := rows[i].toSession(s.opts.SessionIdle)
		if !sess.ExpiresAt.After(now) {
			continue
		}
		sess.Current = p.Kind == principal.KindSession && p.SessionID == rows[i].ID
		out = append(out, sess)
	}
	return out, nil
}

// RevokeSession ends one of the caller's sessions (an admin may end anyone's).
func (s *Service) RevokeSession(ctx context.Context, id int64) error {
	return s.audited(ctx, policy.SessionRevoke, "session "+strconv.FormatInt(id, 10), nil, func(ctx context.Context) error {
		return s.revokeSessionAs(ctx, id)
	})
}

func (s *Service) revokeSessionAs(ctx context.Context, id int64) error {
	p := principal.From(ctx)
	var row sessionRow
	err := s.st.DB(ctx).Take(&row, "id = ?", id).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return store.Translate(err, "session")
	}
	found := err == nil
	res := policy.Resource{Name: "session", CallersOwn: found && p != nil && row.UserID == p.UserID}
	if err := policy.Can(p, policy.SessionRevoke, res); err != nil {
		return err
	}
	if !found {
		return errs.E(errs.NotFound, "session %d not found", id)
	}
	if err := s.revokeSession(ctx, id); err != nil {
		return err
	}
	s.evictUser(row.UserID)
	return nil
}

// evictUser drops cached credentials of one user (after a revocation, where the hash is unknown).
func (s *Service) evictUser(userID int64) {
	for _, k := range s.creds.Keys() {
		if c, ok := s.creds.Peek(k); ok && c.p.UserID == userID {
			s.creds.Remove(k)
		}
	}
}

// flushAudit lets the pending audit record commit with a change made here.
func (s *Service) flushAudit(ctx context.Context) error {
	return audit.Flush(ctx)
}

// audited runs fn as an audited action.
func (s *Service) audited(ctx context.Context, a policy.Action, resource string, args map[string]any, fn func(ctx context.Context) error) error {
	if s.opts.Audit == nil {
		return fn(ctx)
	}
	return s.opts.Audit.Do(ctx, audit.Entry{Action: string(a), Resource: resource, Args: args}, fn)
}

package auth

import (
	"context"
	"errors"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/portside-dev/portside/errs"
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
	// Current marks the session the request came with.
	Current bool
}

// touchEvery throttles last-seen writes: a session used all day is written once a minute, not on
// every request.
const touchEvery = time.Minute

// createSession starts a session; the returned token is the cookie value (only its hash is kept).
func (s *Service) createSession(ctx context.Context, p *Principal, idToken, userAgent string) (string, *Session, error) {
	token := newSecret("pss_")
	now := s.now().UTC()
	if len(userAgent) > 300 {
		userAgent = userAgent[:300]
	}
	row := sessionRow{TokenHash: hashSecret(token), UserID: p.UserID, IDToken: idToken, UserAgent: userAgent,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(s.opts.SessionMax)}
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
func (s *Service) sessionPrincipal(ctx context.Context, token string) (*Principal, error) {
	h := hashSecret(token)
	now := s.now()
	if c, ok := s.creds.Get(h); ok && now.Before(c.expires) {
		if now.Sub(c.lastSeen) < touchEvery {
			return c.p, nil
		}
	}
	var row sessionRow
	err := s.st.DB(ctx).Where("token_hash = ?", h).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errs.E(errs.Unauthenticated, "the session has ended; sign in again")
	} else if err != nil {
		return nil, store.Translate(err, "session")
	}
	if row.RevokedAt != nil || !now.Before(row.ExpiresAt) || !now.Before(row.LastSeenAt.Add(s.opts.SessionIdle)) {
		s.creds.Remove(h)
		return nil, errs.E(errs.Unauthenticated, "the session has ended; sign in again")
	}
	var user userRow
	if err := s.st.DB(ctx).Take(&user, "id = ?", row.UserID).Error; err != nil {
		return nil, store.Translate(err, "user")
	}
	p, err := s.principal(ctx, &user)
	if err != nil {
		return nil, err
	}
	p.Kind, p.Client, p.SessionID = KindSession, ClientWeb, row.ID
	if now.Sub(row.LastSeenAt) >= touchEvery {
		row.LastSeenAt = now.UTC()
		if err := s.st.DB(ctx).Model(&sessionRow{}).Where("id = ?", row.ID).Update("last_seen_at", row.LastSeenAt).Error; err != nil {
			return nil, store.Translate(err, "session")
		}
	}
	s.creds.Add(h, cachedCred{p: p, expires: minTime(row.ExpiresAt, row.LastSeenAt.Add(s.opts.SessionIdle)), lastSeen: row.LastSeenAt})
	return p, nil
}

// endSession revokes the session behind a cookie value and returns its ID token (for the
// provider's logout). An unknown or ended session is not an error: the user is signed out either way.
func (s *Service) endSession(ctx context.Context, token string) (string, error) {
	h := hashSecret(token)
	s.creds.Remove(h)
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
	return s.st.InTx(ctx, func(ctx context.Context) error {
		if err := s.st.DB(ctx).Model(&sessionRow{}).Where("id = ? AND revoked_at IS NULL", id).
			Update("revoked_at", now).Error; err != nil {
			return store.Translate(err, "session")
		}
		return s.flushAudit(ctx)
	})
}

// Sessions lists the caller's live sessions, newest first.
func (s *Service) Sessions(ctx context.Context) ([]Session, error) {
	p := PrincipalFrom(ctx)
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
		sess.Current = p.Kind == KindSession && p.SessionID == rows[i].ID
		out = append(out, sess)
	}
	return out, nil
}

// RevokeSession ends one of the caller's sessions (an admin may end anyone's).
func (s *Service) RevokeSession(ctx context.Context, id int64) error {
	return s.audited(ctx, SessionRevoke, "session "+strconv.FormatInt(id, 10), nil, func(ctx context.Context) error {
		return s.revokeSessionAs(ctx, id)
	})
}

func (s *Service) revokeSessionAs(ctx context.Context, id int64) error {
	p := PrincipalFrom(ctx)
	var row sessionRow
	err := s.st.DB(ctx).Take(&row, "id = ?", id).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return store.Translate(err, "session")
	}
	found := err == nil
	res := Resource{Name: "session", CallersOwn: found && p != nil && row.UserID == p.UserID}
	if err := Can(p, SessionRevoke, res); err != nil {
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
	if s.opts.Auditor == nil {
		return nil
	}
	return s.opts.Auditor.Flush(ctx)
}

// audited runs fn as an audited action.
func (s *Service) audited(ctx context.Context, a Action, resource string, args map[string]any, fn func(ctx context.Context) error) error {
	if s.opts.Auditor == nil {
		return fn(ctx)
	}
	return s.opts.Auditor.Audit(ctx, string(a), resource, args, fn)
}

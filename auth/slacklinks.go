package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"regexp"
	"strconv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth/policy"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/store"
)

// An explicit link between a Slack user and a Portside user, for people whose Slack address is not
// their Portside one (or not confirmed): the person types `/deploy link` in Slack, gets a one-time,
// short-lived URL to the portal (only to them), opens it signed in and confirms. The link is used
// before the e-mail lookup. The Slack side is proven by the token (only the person Slack verified
// got it); the Portside side by the session that confirms it.

// slackLinkRow is one link (slack_links).
type slackLinkRow struct {
	TeamID    string `gorm:"primaryKey"`
	SlackUser string `gorm:"primaryKey"`
	UserID    int64
	CreatedAt time.Time
}

func (slackLinkRow) TableName() string { return "slack_links" }

// slackLinkTokenRow is a token of a link URL (slack_link_tokens): its SHA-256 only.
type slackLinkTokenRow struct {
	TokenHash string `gorm:"primaryKey"`
	TeamID    string
	SlackUser string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

func (slackLinkTokenRow) TableName() string { return "slack_link_tokens" }

// Bounds of the link flow.
const (
	// SlackLinkTTL is how long a link URL may be opened.
	SlackLinkTTL = 10 * time.Minute
	// MaxLiveSlackLinkTokens bounds the unexpired tokens one Slack user holds: asking again and
	// again does not fill the table.
	MaxLiveSlackLinkTokens = 5
	// MaxSlackLinks bounds the Slack users one Portside user links (several workspaces).
	MaxSlackLinks = 20
	// slackLinkTokenBytes is the token's randomness (base64url: 43 characters).
	slackLinkTokenBytes = 32
)

// slackIDRE is what Slack's team and user IDs look like (T0123ABC, U0123ABC, W…).
var slackIDRE = regexp.MustCompile(`^[A-Z0-9]{2,32}$`)

// SlackLink is a Slack user linked to a Portside user.
type SlackLink struct {
	TeamID    string
	SlackUser string
	UserID    int64
	CreatedAt time.Time
}

func hashSlackToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func checkSlackIDs(team, user string) error {
	if !slackIDRE.MatchString(team) {
		return errs.InvalidField("teamId", "is not a Slack team ID")
	}
	if !slackIDRE.MatchString(user) {
		return errs.InvalidField("slackUser", "is not a Slack user ID")
	}
	return nil
}

// IssueSlackLinkToken makes the one-time token of a link URL for a Slack user (whom Slack's
// signature on the command vouches for; the bot calls this, no Portside user is involved yet). It
// expires after SlackLinkTTL; a Slack user holds at most MaxLiveSlackLinkTokens at once.
func (s *Service) IssueSlackLinkToken(ctx context.Context, team, user string) (string, time.Time, error) {
	if err := checkSlackIDs(team, user); err != nil {
		return "", time.Time{}, err
	}
	now := s.now().UTC()
	// Expired tokens go as new ones are made (a bounded sweep): the table holds the live ones.
	if err := s.st.DB(ctx).Where("expires_at < ?", now).Limit(100).Delete(&slackLinkTokenRow{}).Error; err != nil {
		return "", time.Time{}, store.Translate(err, "Slack link tokens")
	}
	var live int64
	if err := s.st.DB(ctx).Model(&slackLinkTokenRow{}).Where("team_id = ? AND slack_user = ? AND expires_at >= ? AND used_at IS NULL", team, user, now).
		Count(&live).Error; err != nil {
		return "", time.Time{}, store.Translate(err, "Slack link tokens")
	}
	if live >= MaxLiveSlackLinkTokens {
		return "", time.Time{}, errs.E(errs.Invalid, "you asked for %d link URLs in the last %s: open one of them, or wait", live, SlackLinkTTL)
	}
	b := make([]byte, slackLinkTokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", time.Time{}, errs.Wrap(errs.Internal, err, "random token")
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	exp := now.Add(SlackLinkTTL)
	row := slackLinkTokenRow{TokenHash: hashSlackToken(token), TeamID: team, SlackUser: user, CreatedAt: now, ExpiresAt: exp}
	if err := s.st.DB(ctx).Create(&row).Error; err != nil {
		return "", time.Time{}, store.Translate(err, "Slack link token")
	}
	return token, exp, nil
}

// LinkSlackUser links the Slack user a link token was made for to the signed-in caller, using the
// token up (once, before it expires); audited. A Slack user linked before is linked to the caller
// now. Only a person signed in to the portal (a session) links: a token is not a person at a
// browser.
func (s *Service) LinkSlackUser(ctx context.Context, token string) (SlackLink, error) {
	var out SlackLink
	err := s.audited(ctx, policy.SlackLink, "slack link", nil, func(ctx context.Context) error {
		p := principal.From(ctx)
		if err := policy.Gate(p, policy.SlackLink); err != nil {
			return err
		}
		if p.Kind != principal.KindSession || p.UserID == 0 {
			return errs.E(errs.Forbidden, "link Slack users in the portal, signed in as yourself")
		}
		if len(token) > 64 || len(token) < 16 {
			return errs.InvalidField("token", "is not a Slack link token")
		}
		now := s.now().UTC()
		return s.st.InTx(ctx, func(ctx context.Context) error {
			h := hashSlackToken(token)
			if s.st.Dialect() == store.Postgres {
				// The Slack user's tokens are locked all at once, in one order, before any is
				// marked: two links of one Slack user confirmed at once each marked its own
				// token, then waited for the other's to end it (a deadlock, one refused as
				// UNAVAILABLE). SQLite runs one writer at a time.
				var mine slackLinkTokenRow
				if err := s.st.DB(ctx).Select("team_id, slack_user").Take(&mine, "token_hash = ?", h).Error; err == nil {
					var hashes []string
					if err := s.st.DB(ctx).Raw("SELECT token_hash FROM slack_link_tokens WHERE team_id = ? AND slack_user = ? ORDER BY token_hash FOR UPDATE",
						mine.TeamID, mine.SlackUser).Scan(&hashes).Error; err != nil {
						return store.Translate(err, "Slack link tokens")
					}
				} else if !errors.Is(err, gorm.ErrRecordNotFound) {
					return store.Translate(err, "Slack link token")
				}
			}
			res := s.st.DB(ctx).Model(&slackLinkTokenRow{}).Where("token_hash = ? AND used_at IS NULL AND expires_at >= ?", h, now).
				Update("used_at", now)
			if res.Error != nil {
				return store.Translate(res.Error, "Slack link token")
			}
			if res.RowsAffected != 1 {
				return errs.E(errs.NotFound, "this Slack link was used already or has expired: type `/deploy link` in Slack for a new one")
			}
			var tok slackLinkTokenRow
			if err := s.st.DB(ctx).Take(&tok, "token_hash = ?", h).Error; err != nil {
				return store.Translate(err, "Slack link token")
			}
			var n int64
			if err := s.st.DB(ctx).Model(&slackLinkRow{}).Where("user_id = ? AND NOT (team_id = ? AND slack_user = ?)", p.UserID, tok.TeamID, tok.SlackUser).
				Count(&n).Error; err != nil {
				return store.Translate(err, "Slack links")
			}
			if n >= MaxSlackLinks {
				return errs.E(errs.Invalid, "you have %d Slack users linked; unlink one first", n)
			}
			// The record names the Slack user the token was for, and the Portside user it was
			// linked to before, if another: a link hands the Slack identity this user's rights.
			named := map[string]any{"teamId": tok.TeamID, "slackUser": tok.SlackUser}
			var before slackLinkRow
			switch err := s.st.DB(ctx).Take(&before, "team_id = ? AND slack_user = ?", tok.TeamID, tok.SlackUser).Error; {
			case err == nil && before.UserID != p.UserID:
				named["replacedUserId"] = before.UserID
			case err != nil && !errors.Is(err, gorm.ErrRecordNotFound):
				return store.Translate(err, "Slack link")
			}
			audit.Name(ctx, "slack user "+tok.TeamID+"/"+tok.SlackUser, named)
			// The Slack user's other link tokens end with this one: a second one, taken later
			// by someone else, would take the link over.
			if err := s.st.DB(ctx).Model(&slackLinkTokenRow{}).Where("team_id = ? AND slack_user = ? AND used_at IS NULL", tok.TeamID, tok.SlackUser).
				Update("used_at", now).Error; err != nil {
				return store.Translate(err, "Slack link tokens")
			}
			row := slackLinkRow{TeamID: tok.TeamID, SlackUser: tok.SlackUser, UserID: p.UserID, CreatedAt: now}
			if err := s.st.DB(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "team_id"}, {Name: "slack_user"}},
				DoUpdates: clause.AssignmentColumns([]string{"user_id", "created_at"})}).Create(&row).Error; err != nil {
				return store.Translate(err, "Slack link")
			}
			out = SlackLink{TeamID: row.TeamID, SlackUser: row.SlackUser, UserID: row.UserID, CreatedAt: now}
			return audit.Flush(ctx)
		})
	})
	return out, err
}

// SlackProfile is what Slack shows of a Slack user (users.info): their handle, the name people
// know them by, and their confirmed e-mail address when the Slack app may read it ("" otherwise).
type SlackProfile struct {
	Handle string
	Name   string
	Email  string
}

// PendingSlackLink is the Slack user a link token was made for, before anyone confirms it.
type PendingSlackLink struct {
	TeamID    string
	SlackUser string
	ExpiresAt time.Time
}

// PendingSlackLink answers which Slack user a link token was made for, without using it up, so
// that the person sees whom they would link before confirming (LinkSlackUser). Only a person
// signed in to the portal (a session) may ask, as only they may confirm; a read, so not audited.
// A used or expired token is NOT_FOUND, as LinkSlackUser would answer.
func (s *Service) PendingSlackLink(ctx context.Context, token string) (PendingSlackLink, error) {
	p := principal.From(ctx)
	if err := policy.Gate(p, policy.SlackLink); err != nil {
		return PendingSlackLink{}, err
	}
	if p.Kind != principal.KindSession || p.UserID == 0 {
		return PendingSlackLink{}, errs.E(errs.Forbidden, "link Slack users in the portal, signed in as yourself")
	}
	if len(token) > 64 || len(token) < 16 {
		return PendingSlackLink{}, errs.InvalidField("token", "is not a Slack link token")
	}
	var rows []slackLinkTokenRow
	if err := s.st.DB(ctx).Where("token_hash = ? AND used_at IS NULL AND expires_at >= ?", hashSlackToken(token), s.now().UTC()).
		Limit(1).Find(&rows).Error; err != nil {
		return PendingSlackLink{}, store.Translate(err, "Slack link token")
	}
	if len(rows) == 0 {
		return PendingSlackLink{}, errs.E(errs.NotFound, "this Slack link was used already or has expired: type `/deploy link` in Slack for a new one")
	}
	return PendingSlackLink{TeamID: rows[0].TeamID, SlackUser: rows[0].SlackUser, ExpiresAt: rows[0].ExpiresAt.UTC()}, nil
}

// UnlinkSlackUser removes a link of the caller's (an admin may remove anyone's); audited. Removing
// a link that is not there is NOT_FOUND.
func (s *Service) UnlinkSlackUser(ctx context.Context, team, user string) error {
	return s.audited(ctx, policy.SlackUnlink, "slack user "+clipID(team)+"/"+clipID(user), nil, func(ctx context.Context) error {
		p := principal.From(ctx)
		if err := policy.Gate(p, policy.SlackUnlink); err != nil {
			return err
		}
		if err := checkSlackIDs(team, user); err != nil {
			return err
		}
		var rows []slackLinkRow
		if err := s.st.DB(ctx).Where("team_id = ? AND slack_user = ?", team, user).Limit(1).Find(&rows).Error; err != nil {
			return store.Translate(err, "Slack link")
		}
		found := len(rows) == 1
		if err := policy.Can(p, policy.SlackUnlink, policy.Resource{Name: "slack link", CallersOwn: found && rows[0].UserID == p.UserID}); err != nil {
			return err
		}
		if !found {
			return errs.E(errs.NotFound, "Slack user %s/%s is not linked", team, user)
		}
		return store.Translate(s.st.DB(ctx).Where("team_id = ? AND slack_user = ?", team, user).Delete(&slackLinkRow{}).Error, "Slack link")
	})
}

// SlackLinks lists the caller's linked Slack users, newest first (at most MaxSlackLinks).
func (s *Service) SlackLinks(ctx context.Context) ([]SlackLink, error) {
	p := principal.From(ctx)
	if p == nil || p.UserID == 0 {
		return []SlackLink{}, nil
	}
	var rows []slackLinkRow
	if err := s.st.DB(ctx).Where("user_id = ?", p.UserID).Order("created_at DESC").Limit(MaxSlackLinks).Find(&rows).Error; err != nil {
		return nil, store.Translate(err, "Slack links")
	}
	out := make([]SlackLink, len(rows))
	for i, r := range rows {
		out[i] = SlackLink{TeamID: r.TeamID, SlackUser: r.SlackUser, UserID: r.UserID, CreatedAt: r.CreatedAt.UTC()}
	}
	return out, nil
}

// PrincipalBySlackUser is the Portside user a Slack user linked to, acting through client; ok is
// false when the Slack user made no link.
func (s *Service) PrincipalBySlackUser(ctx context.Context, team, user string, client principal.Client) (*principal.Principal, bool, error) {
	var links []slackLinkRow
	if err := s.st.DB(ctx).Where("team_id = ? AND slack_user = ?", team, user).Limit(1).Find(&links).Error; err != nil {
		return nil, false, store.Translate(err, "Slack link")
	}
	if len(links) == 0 {
		return nil, false, nil
	}
	var row userRow
	if err := s.st.DB(ctx).Take(&row, links[0].UserID).Error; err != nil {
		return nil, false, store.Translate(err, "user "+strconv.FormatInt(links[0].UserID, 10))
	}
	p, err := s.principal(ctx, &row)
	if err != nil {
		return nil, false, err
	}
	p.Kind, p.Client = principal.KindChat, client
	return p, true, nil
}

func clipID(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}

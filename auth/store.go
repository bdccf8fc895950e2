package auth

import (
	"time"
)

// The gorm rows of identity, mapped to domain types here and nowhere else.

type userRow struct {
	ID          int64 `gorm:"primaryKey"`
	Username    string
	Email       string
	DisplayName string
	Issuer      string
	Subject     string
	EntityRef   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	LastLoginAt *time.Time
}

func (userRow) TableName() string { return "users" }

type userGroupRow struct {
	UserID   int64  `gorm:"primaryKey;autoIncrement:false"`
	GroupRef string `gorm:"primaryKey"`
}

func (userGroupRow) TableName() string { return "user_groups" }

type sessionRow struct {
	ID         int64 `gorm:"primaryKey"`
	TokenHash  string
	UserID     int64
	IDToken    string
	UserAgent  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
	RevokedAt  *time.Time
	// RefreshToken is the provider's refresh token, sealed (see seal); "" when none was granted
	// or no encryption key is configured.
	RefreshToken string
	// ProviderExpiresAt is when the provider's access token runs out: the session asks the
	// provider again (with the refresh token) on its first use after that.
	ProviderExpiresAt *time.Time
}

func (sessionRow) TableName() string { return "sessions" }

func (r *sessionRow) toSession(idle time.Duration) Session {
	return Session{ID: r.ID, UserAgent: r.UserAgent, CreatedAt: r.CreatedAt.UTC(), LastSeenAt: r.LastSeenAt.UTC(),
		ExpiresAt: minTime(r.ExpiresAt, r.LastSeenAt.Add(idle)).UTC(), EndsAt: r.ExpiresAt.UTC()}
}

type loginFlowRow struct {
	StateHash string `gorm:"primaryKey"`
	Nonce     string
	Verifier  string
	ReturnTo  string
	ExpiresAt time.Time
}

func (loginFlowRow) TableName() string { return "login_flows" }

type apiTokenRow struct {
	ID         int64 `gorm:"primaryKey"`
	TokenHash  string
	UserID     int64
	Name       string
	Scopes     string
	Admin      bool
	CreatedBy  string
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

func (apiTokenRow) TableName() string { return "api_tokens" }

func (r *apiTokenRow) toToken(username string) Token {
	t := Token{ID: r.ID, Name: r.Name, Username: username, Scopes: splitScopes(r.Scopes), Admin: r.Admin,
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC(), ExpiresAt: utc(r.ExpiresAt),
		LastUsedAt: utc(r.LastUsedAt), RevokedAt: utc(r.RevokedAt)}
	return t
}

// Models lists every gorm row type of identity, for the schema conformance test.
func Models() []any {
	return []any{&userRow{}, &userGroupRow{}, &sessionRow{}, &loginFlowRow{}, &apiTokenRow{}, &slackLinkRow{}, &slackLinkTokenRow{}}
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

package auth

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth/policy"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/text"
	"github.com/portside-dev/portside/store"
)

// Token is a Portside API token as listed; its secret is shown once, at creation.
type Token struct {
	ID         int64
	Name       string
	Username   string
	Scopes     []string
	Admin      bool
	CreatedBy  string
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// TokenSpec asks for a new token.
type TokenSpec struct {
	// Username is whose token it is; "" means the caller. Only admins name someone else.
	Username string
	Name     string
	// Scopes limit the token: "read" (queries only) and/or "write"; empty means both.
	Scopes []string
	// Admin makes the token act as an admin; only admins may create one.
	Admin bool
	// TTL is how long the token lives; 0 means the longest allowed (Options.TokenMaxLifetime).
	TTL time.Duration
	// NeverExpires asks for a token without an end. Only the CLI (a system principal, acting with
	// the database owner's authority) may ask, and it must ask explicitly: a token that never ends
	// is a standing key, not a default.
	NeverExpires bool
}

// TokenScopes are the scopes a token may carry.
var TokenScopes = []string{"read", "write"}

// minTokenTTL is the shortest lifetime a token may be given.
const minTokenTTL = time.Minute

// maxTokenTTL is the cache horizon of a token without an end; TokenMaxLifetime bounds new tokens.
const maxTokenTTL = 5 * 366 * 24 * time.Hour

// DefaultTokenMaxLifetime is the longest a new API token lives unless the setting
// token-max-lifetime says otherwise.
const DefaultTokenMaxLifetime = 90 * 24 * time.Hour

// tokenPrefix starts every API token, so scanners and people recognise one.
const tokenPrefix = "pst_"

// CreateToken creates an API token and returns its secret, which is not stored and cannot be
// shown again.
// It is audited (never with the secret).
func (s *Service) CreateToken(ctx context.Context, spec TokenSpec) (string, *Token, error) {
	var secret string
	var tok *Token
	args := map[string]any{"name": spec.Name, "username": spec.Username, "scopes": spec.Scopes, "admin": spec.Admin, "ttl": spec.TTL.String(),
		"neverExpires": spec.NeverExpires}
	err := s.audited(ctx, policy.TokenCreate, "", args, func(ctx context.Context) error {
		var err error
		secret, tok, err = s.createToken(ctx, spec)
		return err
	})
	return secret, tok, err
}

func (s *Service) createToken(ctx context.Context, spec TokenSpec) (string, *Token, error) {
	p := principal.From(ctx)
	spec.Name = strings.TrimSpace(spec.Name)
	switch {
	case spec.Name == "":
		return "", nil, errs.InvalidField("name", "is empty: name the token after what will use it")
	case len(spec.Name) > 100:
		return "", nil, errs.InvalidField("name", "is longer than 100 bytes")
	case text.Name("name", spec.Name, 100) != nil: // one line it is listed on, as it reads
		return "", nil, text.Name("name", spec.Name, 100)
	case text.Storable("user", spec.Username) != nil:
		return "", nil, text.Storable("user", spec.Username)
	case spec.TTL < 0:
		return "", nil, errs.InvalidField("ttl", "is negative")
	case spec.TTL > 0 && spec.TTL < minTokenTTL:
		return "", nil, errs.InvalidField("ttl", "%s is shorter than a minute: the token would expire before it is used", spec.TTL)
	case spec.TTL > s.opts.TokenMaxLifetime:
		return "", nil, errs.InvalidField("ttl", "%s is longer than the longest token lifetime, %s (setting token-max-lifetime)",
			spec.TTL, s.opts.TokenMaxLifetime)
	case spec.NeverExpires && spec.TTL != 0:
		return "", nil, errs.InvalidField("ttl", "a token that never expires has no lifetime: give one or the other")
	}
	if len(spec.Scopes) > len(TokenScopes) {
		return "", nil, errs.InvalidField("scopes", "lists %d scopes; there are only %s", len(spec.Scopes), strings.Join(TokenScopes, " and "))
	}
	for _, sc := range spec.Scopes {
		if !slices.Contains(TokenScopes, sc) {
			return "", nil, errs.InvalidField("scopes", "unknown scope %q: use %s", sc, strings.Join(TokenScopes, ", "))
		}
	}
	if spec.Username == "" && p != nil {
		spec.Username = p.Username
	}
	self := p != nil && p.Kind != principal.KindSystem && spec.Username == p.Username
	if err := policy.Can(p, policy.TokenCreate, policy.Resource{Name: "token", CallersOwn: self}); err != nil {
		return "", nil, err
	}
	if (spec.Admin || !self) && !p.Admin {
		return "", nil, errs.E(errs.Forbidden, "%s may not create admin tokens or tokens for other users: it takes the admin role", p.Actor())
	}
	if spec.NeverExpires && p.Kind != principal.KindSystem {
		return "", nil, errs.E(errs.Forbidden, "%s may not create a token that never expires: only the CLI can (portside token create --never-expires)", p.Actor())
	}
	if p.Kind == principal.KindToken {
		// A token that mints tokens would outlive its own expiry and revocation: an admin token
		// most of all, since it could mint further admin tokens.
		return "", nil, errs.E(errs.Forbidden, "API tokens cannot create API tokens; sign in or use the CLI")
	}
	secret := newSecret(tokenPrefix)
	now := s.now().UTC()
	row := apiTokenRow{TokenHash: hashSecret(secret), Name: spec.Name, Scopes: strings.Join(sortedScopes(spec.Scopes), ","),
		Admin: spec.Admin, CreatedBy: p.Actor(), CreatedAt: now}
	if !spec.NeverExpires {
		ttl := spec.TTL
		if ttl == 0 {
			ttl = s.opts.TokenMaxLifetime
		}
		exp := now.Add(ttl)
		row.ExpiresAt = &exp
	}
	err := s.st.InTx(ctx, func(ctx context.Context) error {
		var user userRow
		err := s.st.DB(ctx).Where("username = ?", spec.Username).Take(&user).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound) && p.Kind == principal.KindSystem:
			// The CLI sets up the first users (automation, first admin) before anyone logs in.
			if _, err := s.upsertUser(ctx, Identity{Username: spec.Username}, fromCLI); err != nil {
				return err
			}
			if err := s.st.DB(ctx).Where("username = ?", spec.Username).Take(&user).Error; err != nil {
				return store.Translate(err, "user")
			}
		case errors.Is(err, gorm.ErrRecordNotFound):
			return errs.E(errs.NotFound, "user %q has never signed in", spec.Username)
		case err != nil:
			return store.Translate(err, "user")
		}
		row.UserID = user.ID
		if err := s.st.DB(ctx).Create(&row).Error; err != nil {
			return store.Translate(err, "token")
		}
		// The record names the token it created (what token:N actors are traced back to), for
		// whom, with its scopes and lifetime as given, not as asked.
		scopes := splitScopes(row.Scopes)
		if len(scopes) == 0 {
			scopes = TokenScopes // none kept: every scope
		}
		named := map[string]any{"username": spec.Username, "scopes": scopes}
		if row.ExpiresAt != nil {
			named["ttl"] = row.ExpiresAt.Sub(now).String()
		}
		audit.Name(ctx, "token "+strconv.FormatInt(row.ID, 10), named)
		return s.flushAudit(ctx)
	})
	if err != nil {
		return "", nil, err
	}
	t := row.toToken(spec.Username)
	return secret, &t, nil
}

func sortedScopes(in []string) []string {
	out := slices.Clone(in)
	slices.Sort(out)
	return slices.Compact(out)
}

func splitScopes(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// Tokens lists API tokens: the caller's own, or with all (admins only) everyone's. Revoked and
// expired tokens are listed too, so the history stays visible.
func (s *Service) Tokens(ctx context.Context, all bool) ([]Token, error) {
	p := principal.From(ctx)
	if p == nil {
		return nil, errs.E(errs.Unauthenticated, "sign in to list API tokens")
	}
	if all && !p.Admin {
		return nil, errs.E(errs.Forbidden, "%s may not list other users' tokens: it takes the admin role", p.Actor())
	}
	var rows []apiTokenRow
	q := s.st.DB(ctx).Order("id")
	if !all {
		q = q.Where("user_id = ?", p.UserID)
	}
	if err := q.Find(&rows).Error; err != nil {
		return nil, store.Translate(err, "tokens")
	}
	var users []userRow
	if err := s.st.DB(ctx).Select("id, username").Find(&users, "id IN (?)", s.st.DB(ctx).Model(&apiTokenRow{}).Select("user_id")).Error; err != nil {
		return nil, store.Translate(err, "users")
	}
	names := make(map[int64]string, len(users))
	for _, u := range users {
		names[u.ID] = u.Username
	}
	out := make([]Token, len(rows))
	for i := range rows {
		out[i] = rows[i].toToken(names[rows[i].UserID])
	}
	return out, nil
}

// RevokeToken revokes an API token at once. Owners revoke their own; admins any. Revoking a
// revoked token is not an error.
func (s *Service) RevokeToken(ctx context.Context, id int64) (*Token, error) {
	var tok *Token
	err := s.audited(ctx, policy.TokenRevoke, "token "+strconv.FormatInt(id, 10), nil, func(ctx context.Context) error {
		var err error
		tok, err = s.revokeToken(ctx, id)
		return err
	})
	return tok, err
}

func (s *Service) revokeToken(ctx context.Context, id int64) (*Token, error) {
	p := principal.From(ctx)
	var row apiTokenRow
	err := s.st.DB(ctx).Take(&row, "id = ?", id).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, store.Translate(err, "token")
	}
	found := err == nil
	if err := policy.Can(p, policy.TokenRevoke, policy.Resource{Name: "token", CallersOwn: found && p != nil && p.UserID == row.UserID}); err != nil {
		return nil, err
	}
	if !found {
		return nil, errs.E(errs.NotFound, "token %d not found", id)
	}
	now := s.now().UTC()
	var username string
	err = s.st.InTx(ctx, func(ctx context.Context) error {
		// Whose token it is, read with the change: the answer names them.
		if err := s.st.DB(ctx).Model(&userRow{}).Where("id = ?", row.UserID).Pluck("username", &username).Error; err != nil {
			return store.Translate(err, "token's user")
		}
		if row.RevokedAt == nil {
			if err := s.st.DB(ctx).Model(&apiTokenRow{}).Where("id = ?", id).Update("revoked_at", now).Error; err != nil {
				return store.Translate(err, "token")
			}
			row.RevokedAt = &now
		}
		return s.flushAudit(ctx)
	})
	if err != nil {
		return nil, err
	}
	if k, ok := storedKey(row.TokenHash); ok {
		s.creds.Remove(k)
	}
	s.credentialsChanged()
	t := row.toToken(username)
	return &t, nil
}

// tokenPrincipal authenticates an API token.
func (s *Service) tokenPrincipal(ctx context.Context, secret string, fresh bool) (*principal.Principal, error) {
	k := tokenKey(secret)
	now := s.now()
	if c, ok := s.creds.Get(k); ok && !fresh && now.Before(c.expires) && now.Sub(c.lastSeen) < touchEvery {
		return c.p, nil
	}
	h := k.hash()
	var row apiTokenRow
	err := s.st.DB(ctx).Where("token_hash = ?", h).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, errs.E(errs.Unauthenticated, "the API token is not valid")
	} else if err != nil {
		return nil, store.Translate(err, "token")
	}
	switch {
	case row.RevokedAt != nil:
		s.creds.Remove(k) // revoked by another replica or the CLI: this process learns it here
		return nil, errs.E(errs.Unauthenticated, "the API token was revoked")
	case row.ExpiresAt != nil && !now.Before(*row.ExpiresAt):
		s.creds.Remove(k)
		return nil, errs.E(errs.Unauthenticated, "the API token expired at %s", row.ExpiresAt.UTC().Format(time.RFC3339))
	}
	var user userRow
	if err := s.st.DB(ctx).Take(&user, "id = ?", row.UserID).Error; err != nil {
		return nil, store.Translate(err, "user")
	}
	p, err := s.principal(ctx, &user)
	if err != nil {
		return nil, err
	}
	// A token acts with its own grant: admin only when created as one, whatever groups its user has.
	p.Admin, p.Kind, p.Client, p.TokenID, p.Scopes = row.Admin, principal.KindToken, principal.ClientAPI, row.ID, splitScopes(row.Scopes)
	lastSeen := now.UTC()
	if !fresh && (row.LastUsedAt == nil || now.Sub(*row.LastUsedAt) >= touchEvery) {
		if err := s.st.DB(ctx).Model(&apiTokenRow{}).Where("id = ?", row.ID).Update("last_used_at", lastSeen).Error; err != nil {
			return nil, store.Translate(err, "token")
		}
	} else if row.LastUsedAt != nil {
		lastSeen = *row.LastUsedAt
	}
	expires := now.Add(maxTokenTTL)
	if row.ExpiresAt != nil {
		expires = *row.ExpiresAt
	}
	s.creds.Add(k, cachedCred{p: p, expires: expires, lastSeen: lastSeen})
	return p, nil
}

// Package auth decides who a caller is: OIDC login with server-side sessions, API tokens and bearer
// JWTs for machines. The principal it establishes lives in package principal, and what a principal
// may do in package policy.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coreos/go-oidc/v3/oidc"
	lru "github.com/hashicorp/golang-lru/v2/expirable"
	"gorm.io/gorm"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/seal"
	"github.com/portside-dev/portside/store"
)

// Directory links signed-in people to the catalog: the catalog implements it, so that ownership in
// the catalog drives permissions without auth importing the catalog.
type Directory interface {
	// LinkUser returns the ref of the catalog User entity for a person ("user:default/alice"), found
	// by the methods in order ("name": the username is the entity's name; "email": the entity's
	// spec.profile.email), or "" when none matches.
	LinkUser(ctx context.Context, username, email string, by []string) (string, error)
}

// Options configure the identity service.
type Options struct {
	// Issuer is the OpenID provider's issuer URL; "" disables browser login and bearer JWTs.
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is Portside's /auth/callback as the browser reaches it.
	RedirectURL string
	// PostLogoutURL is where the provider sends the browser after RP-initiated logout.
	PostLogoutURL string
	Scopes        []string
	// Claim names for the username, the email address and the group list.
	UsernameClaim, EmailClaim, GroupsClaim string
	// JWTAudiences are the audiences a bearer JWT must carry one of; empty means ClientID.
	JWTAudiences []string
	// JWTIssuers are further issuers whose bearer JWTs are accepted (machines: CI systems, other
	// services). Their callers are named "<username>@<issuer host>" so they can never pass for a
	// person who signs in, and are never admins.
	JWTIssuers []string
	// AdminGroups make their members admins (names or group refs).
	AdminGroups []string
	// DevLogin says the issuer is Portside's embedded development provider. It listens on a free
	// port unless told otherwise, so its issuer URL changes from run to run while its people stay
	// the same (subject "user-<name>"): a person recorded by an earlier run's provider (a loopback
	// http issuer, same subject) is the same person, not a clash.
	DevLogin bool
	// UserLink is how a login is matched to a catalog User: "name", "email" or both, in order.
	UserLink  []string
	Directory Directory
	// SessionIdle ends a session nobody used for this long; SessionMax ends any session this old.
	SessionIdle, SessionMax time.Duration
	// CredentialRecheck is how often a long-lived connection (a WebSocket) checks its credential
	// again, uncached (DefaultCredentialRecheck when 0). It bounds how long a socket outlives a
	// revocation made by another replica or the CLI, and a credential's expiry; revocations and
	// sign-outs in this process reach its sockets at once.
	CredentialRecheck time.Duration
	// TokenMaxLifetime is the longest a new API token may live, and the lifetime of one created
	// without a TTL (DefaultTokenMaxLifetime when 0).
	TokenMaxLifetime time.Duration
	Logger           *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// HTTPClient talks to the provider; nil means a client with a 10 s timeout.
	HTTPClient HTTPDoer
	// KeyRefresh is how often the provider's metadata and keys are fetched afresh (1h when 0).
	KeyRefresh time.Duration
	// Audit records logins, logouts and token and session changes; nil records nothing.
	Audit *audit.Log
	// Keys seal the refresh tokens sessions keep. nil: refresh tokens are not kept, and sessions
	// last on Portside's own timeouts alone.
	Keys *seal.Keyring
}

// Service is identity: logins, sessions, tokens and the users behind them.
type Service struct {
	st   *store.Store
	opts Options
	log  *slog.Logger
	now  func() time.Time

	mu sync.Mutex
	// providers are the issuers' metadata and keys by issuer URL, discovered on first use, so a
	// provider that is down does not stop the start.
	providers map[string]discovered

	// creds caches what a session or token hash authenticated as, briefly: every request checks its
	// credential, and the database round trip would dominate a cached catalog read. Revocations in
	// this process evict at once; other replicas see them within credCacheTTL.
	creds *lru.LRU[credKey, cachedCred]

	noKeysOnce sync.Once // warns once that refresh tokens are dropped for want of a key

	// flowKeys seal the sign-ins in progress, which browsers keep in a cookie (see BeginLogin).
	flowKeys *seal.Keyring

	// changed is closed and replaced whenever this process revokes or ends a credential, so that
	// the connections that follow credentials (Follow) check theirs at once.
	changedMu sync.Mutex
	changed   chan struct{}
}

// credCacheTTL bounds how long another replica may honour a revoked session or token.
const credCacheTTL = 10 * time.Second

type cachedCred struct {
	p        *principal.Principal
	expires  time.Time // the credential's own end (absolute, or idle from last use)
	lastSeen time.Time
}

// NewService builds the identity service.
func NewService(st *store.Store, opts Options) *Service {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.UsernameClaim == "" {
		opts.UsernameClaim = "preferred_username"
	}
	if opts.EmailClaim == "" {
		opts.EmailClaim = "email"
	}
	if opts.GroupsClaim == "" {
		opts.GroupsClaim = "groups"
	}
	if len(opts.Scopes) == 0 {
		opts.Scopes = []string{oidc.ScopeOpenID, "profile", "email"}
	}
	if len(opts.JWTAudiences) == 0 && opts.ClientID != "" {
		opts.JWTAudiences = []string{opts.ClientID}
	}
	if opts.SessionIdle <= 0 {
		opts.SessionIdle = 8 * time.Hour
	}
	if opts.SessionMax <= 0 {
		opts.SessionMax = 7 * 24 * time.Hour
	}
	if opts.CredentialRecheck <= 0 {
		opts.CredentialRecheck = DefaultCredentialRecheck
	}
	if opts.TokenMaxLifetime <= 0 {
		opts.TokenMaxLifetime = DefaultTokenMaxLifetime
	}
	if opts.KeyRefresh <= 0 {
		opts.KeyRefresh = time.Hour
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = defaultHTTPClient()
	}
	return &Service{st: st, opts: opts, log: opts.Logger, now: opts.Now, providers: map[string]discovered{},
		creds: lru.NewLRU[credKey, cachedCred](10_000, nil, credCacheTTL), changed: make(chan struct{}),
		flowKeys: loginFlowKeys(opts)}
}

// LoginEnabled reports whether browser login is configured.
func (s *Service) LoginEnabled() bool { return s.opts.Issuer != "" }

// Identity is what the provider (or the CLI) says about a person.
type Identity struct {
	Issuer, Subject string
	Username        string
	Email           string
	DisplayName     string
	// Groups as the provider names them; they become group refs ("team-a" → "group:default/team-a").
	Groups []string
}

// source says where an identity comes from, which decides what upsertUser may overwrite.
type source int

const (
	fromLogin   source = iota // a sign-in: the provider's word on everything, and a login time
	fromRefresh               // a session refresh: the provider's word on everything
	fromCLI                   // an operator naming a user: fills in, never erases
)

// upsertUser records a person at login, at a session refresh or at token creation from the CLI,
// and returns their principal. The provider's groups replace the stored ones.
func (s *Service) upsertUser(ctx context.Context, id Identity, src source) (*principal.Principal, error) {
	fromProvider := src != fromCLI
	if err := checkUsername(id.Username); err != nil {
		return nil, err
	}
	groups, skipped := groupRefs(id.Groups)
	s.logSkippedGroups(ctx, id.Username, skipped)
	entityRef := ""
	var err error
	if s.opts.Directory != nil {
		if entityRef, err = s.opts.Directory.LinkUser(ctx, id.Username, id.Email, s.opts.UserLink); err != nil {
			return nil, err
		}
	}
	now := s.now().UTC()
	var row userRow
	err = s.st.InTx(ctx, func(ctx context.Context) error {
		db := s.st.DB(ctx)
		err := db.Where("username = ?", id.Username).Take(&row).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			row = userRow{Username: id.Username, CreatedAt: now}
		case err != nil:
			return store.Translate(err, "user "+id.Username)
		case row.Issuer != "" && id.Issuer != "" && (row.Issuer != id.Issuer || row.Subject != id.Subject) &&
			!(s.opts.DevLogin && row.Subject == id.Subject && isLoopbackHTTP(row.Issuer) && isLoopbackHTTP(id.Issuer)):
			// Two provider accounts claiming one username would share permissions and history.
			return errs.E(errs.Conflict, "the username %q belongs to another account (%s); check the username claim", id.Username, row.Issuer)
		}
		if id.Issuer != "" {
			row.Issuer, row.Subject = id.Issuer, id.Subject
		}
		if id.Email != "" || fromProvider {
			row.Email = id.Email
		}
		if id.DisplayName != "" || fromProvider {
			row.DisplayName = id.DisplayName
		}
		row.EntityRef, row.UpdatedAt = entityRef, now
		if src == fromLogin {
			row.LastLoginAt = &now
		}
		if err := db.Save(&row).Error; err != nil {
			return store.Translate(err, "user "+id.Username)
		}
		if !fromProvider && len(groups) == 0 {
			return nil // the CLI names no groups: keep what the last login said
		}
		if err := db.Where("user_id = ?", row.ID).Delete(&userGroupRow{}).Error; err != nil {
			return store.Translate(err, "user groups")
		}
		for _, g := range groups {
			if err := db.Create(&userGroupRow{UserID: row.ID, GroupRef: g}).Error; err != nil {
				return store.Translate(err, "user groups")
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.principal(ctx, &row)
}

// principal builds the principal of a stored user.
func (s *Service) principal(ctx context.Context, row *userRow) (*principal.Principal, error) {
	var groups []string
	if err := s.st.DB(ctx).Model(&userGroupRow{}).Where("user_id = ?", row.ID).Order("group_ref").
		Pluck("group_ref", &groups).Error; err != nil {
		return nil, store.Translate(err, "user groups")
	}
	// The link is looked up afresh whenever a credential is checked (and kept as long as the
	// check is cached), not only at sign-in: a person who never signed in (the CLI made their
	// token) and a User entity added to the catalog after the sign-in are linked all the same.
	ref, err := s.link(ctx, row.Username, row.Email)
	if err != nil {
		return nil, err
	}
	p := &principal.Principal{UserID: row.ID, Username: row.Username, Email: row.Email, DisplayName: row.DisplayName,
		EntityRef: ref, Groups: groups}
	p.Admin = s.isAdmin(groups)
	return p, nil
}

// link returns the catalog User a person is linked to (name, then email, as auth-user-link
// says), or "" without a directory; a stored link stands in for none.
func (s *Service) link(ctx context.Context, username, email string) (string, error) {
	if s.opts.Directory == nil {
		return "", nil
	}
	return s.opts.Directory.LinkUser(ctx, username, email, s.opts.UserLink)
}

// isLoopbackHTTP reports whether issuer is a plain-http loopback URL, as the development
// provider's always is.
func isLoopbackHTTP(issuer string) bool {
	u, err := url.Parse(issuer)
	if err != nil || u.Scheme != "http" {
		return false
	}
	ip := net.ParseIP(u.Hostname())
	return u.Hostname() == "localhost" || ip != nil && ip.IsLoopback()
}

// isAdmin reports whether any of the groups is an admin group.
func (s *Service) isAdmin(groups []string) bool {
	for _, a := range s.opts.AdminGroups {
		ref, ok := groupRef(a)
		if ok && slices.Contains(groups, ref) {
			return true
		}
	}
	return false
}

// checkUsername keeps usernames printable, so they can be shown and audited as they are.
func checkUsername(u string) error {
	if u == "" {
		return errs.InvalidField("username", "is empty (check the username claim setting)")
	}
	if utf8.RuneCountInString(u) > 200 {
		return errs.InvalidField("username", "is longer than 200 characters")
	}
	for _, r := range u {
		if r < 0x21 || r == 0x7f {
			return errs.InvalidField("username", "%q holds spaces or control characters", u)
		}
	}
	return nil
}

// maxGroupBytes bounds a group name as the identity provider sends it. A sign-in keeps the
// person's groups (user_groups, keyed by the group's reference), and a PostgreSQL B-tree entry
// holds at most 2,704 bytes: a 3,000-byte group failed the sign-in with the database's error.
// 1,024 bytes hold the 255 characters directories allow a group's name (Keycloak, Okta) in any
// script, and even lower-cased (which can grow a character by a byte) the reference stays well
// within the index.
const maxGroupBytes = 1024

// groupRefs turns provider group names into catalog group refs: a plain name is a group in the
// default namespace ("team-a" → "group:default/team-a"); "group:ns/name" and "ns/name" are kept.
// A name that can be no catalog group's (empty, with a space or a colon, more than one slash as
// in Keycloak's full paths "/org/team-a", over maxGroupBytes) is left out and returned in
// skipped: it grants nothing here, neither ownership nor admin (isAdmin reads admin groups the
// same way), and refusing the sign-in for it locked out everyone whose directory also sends a
// group such as "Domain Users".
func groupRefs(names []string) (refs, skipped []string) {
	for _, n := range names {
		ref, ok := groupRef(n)
		if !ok {
			skipped = append(skipped, n)
			continue
		}
		if !slices.Contains(refs, ref) {
			refs = append(refs, ref)
		}
	}
	slices.Sort(refs)
	return refs, skipped
}

// groupRef is the catalog group ref of a provider's group name; false when it can be none.
func groupRef(name string) (string, bool) {
	n := strings.TrimSpace(name)
	if len(n) > maxGroupBytes {
		return "", false
	}
	n = strings.TrimPrefix(strings.ToLower(n), "group:")
	ns, base, ok := strings.Cut(n, "/")
	if !ok {
		ns, base = "default", n
	}
	if ns == "" || base == "" || strings.ContainsAny(base, "/: ") || strings.ContainsAny(ns, ": ") {
		return "", false
	}
	return "group:" + ns + "/" + base, true
}

// logSkippedGroups says which of a person's groups groupRefs left out, so that an operator
// whose directory sends names Portside cannot use (display names, full paths) learns it.
func (s *Service) logSkippedGroups(ctx context.Context, username string, skipped []string) {
	if len(skipped) == 0 {
		return
	}
	shown := make([]string, 0, min(len(skipped), 5))
	for _, g := range skipped[:min(len(skipped), 5)] {
		if r := []rune(g); len(r) > 80 {
			g = string(r[:80]) + "…"
		}
		shown = append(shown, strconv.Quote(g))
	}
	s.log.InfoContext(ctx, "auth: groups that can name no catalog group were left out", "username", username,
		"skipped", len(skipped), "first", strings.Join(shown, ", "))
}

// newSecret returns a random credential with a prefix that says what it is ("pss_" for sessions,
// "pst_" for tokens), so a leaked one is recognisable by secret scanners.
func newSecret(prefix string) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

// hashSecret is how credentials are stored and looked up. The secrets are 256-bit random values, so
// a plain SHA-256 is enough: there is nothing to brute-force.
func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// credKey is the credential cache's key: a secret's SHA-256 as bytes, and whether the secret is a
// JWT (kept apart from tokens and sessions). Every request looks its credential up, and the hex
// string the database stores cost two allocations and an encoding per request; hash gives it
// where the database is asked.
type credKey struct {
	jwt bool
	sum [sha256.Size]byte
}

func tokenKey(secret string) credKey { return credKey{sum: sha256.Sum256([]byte(secret))} }

func jwtKey(raw string) credKey { return credKey{jwt: true, sum: sha256.Sum256([]byte(raw))} }

// hash is the key's secret hashed as hashSecret does (how the database stores it).
func (k credKey) hash() string { return hex.EncodeToString(k.sum[:]) }

// storedKey is the cache key of a token or session the database stores as hash (hashSecret's).
func storedKey(hash string) (credKey, bool) {
	var k credKey
	n, err := hex.Decode(k.sum[:], []byte(hash))
	return k, err == nil && n == len(k.sum)
}

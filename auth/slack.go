package auth

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/store"
)

// PrincipalByEmail is the Portside user whose e-mail (as their identity provider gave it at
// sign-in) is email, compared case-insensitively, acting through client: how a Slack user,
// known to Slack by a confirmed address, acts in Portside with that person's rights and groups.
// A person who never signed in to Portside, or an address two users share, is NOT_FOUND, with a
// message that says what to do.
func (s *Service) PrincipalByEmail(ctx context.Context, email string, client principal.Client) (*principal.Principal, error) {
	email = strings.TrimSpace(email)
	if email == "" || utf8.RuneCountInString(email) > 320 {
		return nil, errs.InvalidField("email", "must be an e-mail address of at most 320 characters")
	}
	var rows []userRow
	if err := s.st.DB(ctx).Where("LOWER(email) = ?", strings.ToLower(email)).Limit(2).Find(&rows).Error; err != nil {
		return nil, store.Translate(err, "users")
	}
	switch len(rows) {
	case 0:
		return nil, errs.E(errs.NotFound, "no Portside user has the e-mail address %s: sign in to Portside once with it", email)
	case 2:
		return nil, errs.E(errs.NotFound, "more than one Portside user has the e-mail address %s: link your account explicitly", email)
	}
	p, err := s.principal(ctx, &rows[0])
	if err != nil {
		return nil, err
	}
	p.Kind, p.Client = principal.KindChat, client
	return p, nil
}

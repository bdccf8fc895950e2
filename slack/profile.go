package slack

import (
	"context"
	"time"

	"github.com/portside-dev/portside/auth"
	"github.com/portside-dev/portside/errs"
)

// profileTimeout bounds one users.info call made for a page (the link preview): the page shows
// the Slack user's ID without the name rather than wait on Slack.
const profileTimeout = 3 * time.Second

// SlackProfile is what Slack shows of a user (users.info), for the portal's link page: the name
// people know them by and, when the app has the users:read.email scope, their address. A user of
// another workspace than the bot's, or a Slack that does not answer, is an error (the page then
// shows the IDs alone).
func (b *Bot) SlackProfile(ctx context.Context, team, user string) (auth.SlackProfile, error) {
	key := team + "/" + user
	now := b.opts.Now()
	b.mu.Lock()
	c, ok := b.profiles[key]
	b.mu.Unlock()
	if ok && now.Before(c.until) {
		return c.profile, nil
	}
	ctx, cancel := context.WithTimeout(ctx, profileTimeout)
	defer cancel()
	u, err := b.api.GetUserInfoContext(ctx, user)
	if err != nil {
		return auth.SlackProfile{}, errs.Wrap(errs.Unavailable, err, "Slack did not say who %s is (users.info)", user)
	}
	if u.TeamID != "" && u.TeamID != team {
		return auth.SlackProfile{}, errs.E(errs.NotFound, "Slack user %s is not of workspace %s", user, team)
	}
	p := auth.SlackProfile{Handle: u.Name, Name: u.Profile.DisplayName}
	if p.Name == "" {
		p.Name = u.Profile.RealName
	}
	if p.Name == "" {
		p.Name = u.RealName
	}
	if u.IsEmailConfirmed {
		p.Email = u.Profile.Email
	}
	b.mu.Lock()
	if len(b.profiles) >= maxEmails {
		for k := range b.profiles { // drop one: a bound, not a policy
			delete(b.profiles, k)
			break
		}
	}
	b.profiles[key] = cachedProfile{profile: p, until: now.Add(emailTTL)}
	b.mu.Unlock()
	return p, nil
}

type cachedProfile struct {
	profile auth.SlackProfile
	until   time.Time
}

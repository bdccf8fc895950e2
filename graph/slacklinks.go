package graph

import (
	"github.com/portside-dev/portside/auth"
	"github.com/portside-dev/portside/graph/model"
)

// slackLink is a Slack ↔ Portside link as GraphQL shows it.
func slackLink(l auth.SlackLink) *model.SlackLink {
	return &model.SlackLink{TeamID: l.TeamID, SlackUser: l.SlackUser, CreatedAt: l.CreatedAt}
}

package graph

import (
	"github.com/portside-dev/portside/auth"
	"github.com/portside-dev/portside/graph/model"
)

// slackLink is a Slack ↔ Portside link as GraphQL shows it.
func slackLink(l auth.SlackLink) *model.SlackLink {
	return &model.SlackLink{TeamID: l.TeamID, SlackUser: l.SlackUser, CreatedAt: l.CreatedAt}
}

// optional is s, or nil when it is empty (a field Slack did not fill).
func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

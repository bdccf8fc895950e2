package slack

import (
	"context"
	"fmt"
	"strings"

	"github.com/portside-dev/portside/deploys"
	"github.com/portside-dev/portside/errs"
)

// Deploys is what /deploy asks of the deploy-request service (deploys.Service has it).
type Deploys interface {
	Request(ctx context.Context, in deploys.RequestInput) (deploys.Request, error)
	List(ctx context.Context, f deploys.Filter, first int, after string) (*deploys.Page, error)
	// Watch delivers every move of the requests (component "" and id 0: all of them).
	Watch(ctx context.Context, component string, id int64) (*deploys.Subscription, error)
}

// Components reads a component's annotations, for the channel its requests are posted to
// (catalog.Service has it).
type Components interface {
	ComponentAnnotations(ctx context.Context, field, ref string) (string, map[string]string, error)
}

// statusRequests is how many requests `/deploy status` lists.
const statusRequests = 5

// deploy runs /deploy as the Portside user the Slack user is (client SLACK: the principal comes
// from PrincipalByEmail with principal.ClientSlack).
func (b *Bot) deploy(ctx context.Context, who caller, cmd deployCommand) Reply {
	ctx, err := b.as(ctx, who)
	if err != nil {
		return ephemeral("%s", errs.PublicMessage(err))
	}
	if cmd.verb == "status" {
		page, err := b.opts.Deploys.List(ctx, deploys.Filter{Component: cmd.component}, statusRequests, "")
		if err != nil {
			return ephemeral("Portside could not list the deploy requests of %s: %s", cmd.component, errs.PublicMessage(err))
		}
		if len(page.Requests) == 0 {
			return ephemeral("%s has no deploy requests yet.", cmd.component)
		}
		lines := make([]string, 0, len(page.Requests))
		for _, q := range page.Requests {
			lines = append(lines, fmt.Sprintf("• request %d: %s to %s, %s, by %s", q.ID, q.Version, q.Environment, q.State, q.Requester))
		}
		return ephemeral("Latest deploy requests of %s:\n%s", cmd.component, strings.Join(lines, "\n"))
	}
	q, err := b.opts.Deploys.Request(ctx, deploys.RequestInput{Component: cmd.component, Version: cmd.version,
		Environment: cmd.environment, Reason: cmd.reason})
	if err != nil {
		return ephemeral("Portside did not ask for %s %s in %s: %s", cmd.component, cmd.version, cmd.environment, errs.PublicMessage(err))
	}
	return Reply{ResponseType: "in_channel", Text: fmt.Sprintf("<@%s> asked for %s %s in %s: request %d is %s. %s",
		who.user, q.Component, q.Version, q.Environment, q.ID, q.State, b.link(fmt.Sprintf("/deploys/%d", q.ID)))}
}

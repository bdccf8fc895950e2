package slack

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	slackapi "github.com/slack-go/slack"

	"github.com/portside-dev/portside/deploys"
	"github.com/portside-dev/portside/errs"
)

// Deciders is what the buttons ask of the deploy-request service (deploys.Service has it).
type Deciders interface {
	Approve(ctx context.Context, id int64, note string) (deploys.Request, error)
	Reject(ctx context.Context, id int64, note string) (deploys.Request, error)
	Get(ctx context.Context, id int64) (deploys.Request, error)
}

// Interaction handles a verified interaction (the form Slack posts: payload=<json>): a click on a
// request's Approve or Reject button. It checks the payload at once and decides the request
// afterwards as the person who clicked; a refusal (the requester, a non-owner, a request already
// decided) is posted, only to them, to the interaction's response_url with the reason. The
// request's message itself is updated by Follow as the request moves. The error is for a payload
// that is not a click Portside knows.
func (b *Bot) Interaction(form url.Values) error {
	var cb slackapi.InteractionCallback
	if err := json.Unmarshal([]byte(form.Get("payload")), &cb); err != nil {
		return errs.InvalidField("payload", "is not an interaction: %v", err)
	}
	if cb.Type != slackapi.InteractionTypeBlockActions {
		return errs.InvalidField("payload.type", "Portside answers block_actions, not %q", cb.Type)
	}
	if len(cb.ActionCallback.BlockActions) != 1 {
		return errs.InvalidField("payload.actions", "has %d actions; Portside answers one click", len(cb.ActionCallback.BlockActions))
	}
	act := cb.ActionCallback.BlockActions[0]
	if act.ActionID != ActionApprove && act.ActionID != ActionReject {
		return errs.InvalidField("payload.actions", "Portside has no button %q", act.ActionID)
	}
	id, err := strconv.ParseInt(act.Value, 10, 64)
	if err != nil || id <= 0 {
		return errs.InvalidField("payload.actions", "%q is not a deploy request's ID", clipText(act.Value))
	}
	deciders, ok := b.opts.Deploys.(Deciders)
	if b.opts.Deploys == nil || !ok {
		return errs.E(errs.Unavailable, "deploy requests are not set up in this Portside")
	}
	if !strings.HasPrefix(cb.ResponseURL, b.opts.ResponseURLPrefix) {
		return errs.InvalidField("payload.response_url", "is not one of Slack's response URLs")
	}
	who := caller{team: cb.Team.ID, user: cb.User.ID}
	if err := who.check("payload.team.id", "payload.user.id", ""); err != nil {
		return err
	}
	if !b.enqueue(func(ctx context.Context) {
		reply := b.decide(ctx, who, deciders, act.ActionID, id)
		if err := b.post(ctx, cb.ResponseURL, reply); err != nil {
			b.opts.Logger.WarnContext(ctx, "slack: the answer to a click could not be posted", "request", id, "error", err)
		}
	}) {
		return errs.E(errs.Unavailable, "Portside is working on many Slack requests right now: try again in a moment")
	}
	return nil
}

// decide approves or rejects request id as the person who clicked.
func (b *Bot) decide(ctx context.Context, who caller, d Deciders, action string, id int64) Reply {
	ctx, err := b.as(ctx, who)
	if err != nil {
		return ephemeral("%s", errs.PublicMessage(err))
	}
	verb, done, decide := "approve", "approved", d.Approve
	if action == ActionReject {
		verb, done, decide = "reject", "rejected", d.Reject
	}
	q, err := decide(ctx, id, "")
	if errs.Is(err, errs.Conflict) {
		// A second click (or someone else's first): say who decided it rather than only its state.
		if cur, gerr := d.Get(ctx, id); gerr == nil && cur.Approver != "" {
			how := "approved"
			if cur.State == deploys.Rejected {
				how = "rejected"
			}
			return ephemeral("Deploy request %d is already %s by %s (it is %s now).", id, how, cur.Approver, cur.State)
		}
	}
	if err != nil {
		return ephemeral("You cannot %s deploy request %d: %s", verb, id, errs.PublicMessage(err))
	}
	return ephemeral("You %s deploy request %d (%s %s to %s): it is %s.", done, id, q.Component, q.Version, q.Environment, q.State)
}

// clipText shortens a value quoted back in an error.
func clipText(s string) string {
	if len(s) <= 40 {
		return s
	}
	return fmt.Sprintf("%.40s…", s)
}

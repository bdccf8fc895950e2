package slack

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/deploys"
)

// ChannelAnnotation names the Slack channel (an ID such as C0123, or #name) a component's deploy
// requests are posted to.
const ChannelAnnotation = "portside.dev/slack-channel"

// The action IDs of the buttons on a request's message; their value is the request's ID.
const (
	ActionApprove = "deploy_approve"
	ActionReject  = "deploy_reject"
)

// maxMessages bounds how many requests' messages the bot remembers (to update them in place);
// a request older than that keeps its last message as it was.
const maxMessages = 10000

// resubscribeAfter is how long Follow waits before it watches again after its subscription ended
// (it fell behind, or the deploys service could not be asked).
var resubscribeAfter = time.Second

type postedMessage struct{ channel, ts string }

// watcher is who the bot reads the requests' moves as (reading needs someone signed in).
var watcher = principal.System("portside-slack", principal.ClientAuto)

// Follow posts every new deploy request, whichever client made it, to its component's channel,
// and updates that message as the request moves, until Close. It runs in the background; a
// second call does nothing.
func (b *Bot) Follow() {
	if b.opts.Deploys == nil {
		return
	}
	b.mu.Lock()
	if b.following {
		b.mu.Unlock()
		return
	}
	b.following = true
	b.mu.Unlock()
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		ctx := principal.With(b.ctx, watcher)
		for ctx.Err() == nil {
			sub, err := b.opts.Deploys.Watch(ctx, "", 0)
			if err != nil {
				b.opts.Logger.WarnContext(ctx, "slack: watching deploy requests", "error", err)
			} else {
				for ev := range sub.C() {
					b.announce(ctx, ev)
				}
				if err := sub.Err(); err != nil {
					b.opts.Logger.WarnContext(ctx, "slack: the watch of deploy requests ended; watching again", "error", err)
				}
				sub.Close()
			}
			select {
			case <-ctx.Done():
			case <-time.After(resubscribeAfter):
			}
		}
	}()
}

// announce posts a new request or updates the message of one that moved. Each Slack call is
// bounded by the HTTP client's timeout and WorkTimeout.
func (b *Bot) announce(ctx context.Context, ev deploys.Event) {
	ctx, cancel := context.WithTimeout(ctx, b.opts.WorkTimeout)
	defer cancel()
	q := ev.Request
	blocks := b.requestBlocks(q)
	fallback := fmt.Sprintf("Deploy request %d: %s %s to %s is %s", q.ID, q.Component, q.Version, q.Environment, q.State)
	b.mu.Lock()
	m, known := b.messages[q.ID]
	b.mu.Unlock()
	if known {
		if _, _, _, err := b.api.UpdateMessageContext(ctx, m.channel, m.ts, slackapi.MsgOptionText(fallback, false),
			slackapi.MsgOptionBlocks(blocks...)); err != nil {
			b.opts.Logger.WarnContext(ctx, "slack: update a deploy request's message", "request", q.ID, "error", err)
		}
		return
	}
	if ev.Transition.To != deploys.Requested {
		return // a request Portside did not post (made before it started following): nothing to update
	}
	channel := b.channel(ctx, q.Component)
	if channel == "" {
		return
	}
	ch, ts, err := b.api.PostMessageContext(ctx, channel, slackapi.MsgOptionText(fallback, false), slackapi.MsgOptionBlocks(blocks...))
	if err != nil {
		b.opts.Logger.WarnContext(ctx, "slack: post a deploy request", "request", q.ID, "channel", channel, "error", err)
		return
	}
	b.mu.Lock()
	if len(b.order) >= maxMessages {
		delete(b.messages, b.order[0])
		b.order = b.order[1:]
	}
	b.messages[q.ID] = postedMessage{channel: ch, ts: ts}
	b.order = append(b.order, q.ID)
	b.mu.Unlock()
}

// channel is where a component's requests go: its ChannelAnnotation, else DefaultChannel.
func (b *Bot) channel(ctx context.Context, component string) string {
	if b.opts.Components != nil {
		_, ann, err := b.opts.Components.ComponentAnnotations(ctx, "component", component)
		if err != nil {
			b.opts.Logger.WarnContext(ctx, "slack: read a component's channel", "component", component, "error", err)
		} else if c := strings.TrimSpace(ann[ChannelAnnotation]); c != "" {
			return c
		}
	}
	return b.opts.DefaultChannel
}

// requestBlocks is a request's message: what is asked, by whom and why, where it stands, a link
// to it in the portal, and, while it waits for a decision, Approve and Reject buttons.
func (b *Bot) requestBlocks(q deploys.Request) []slackapi.Block {
	who := q.RequesterName
	if who == "" {
		who = q.Requester
	}
	text := fmt.Sprintf("*%s* asks to deploy *%s* `%s` to *%s*", escape(who), escape(q.Component), escape(q.Version), escape(q.Environment))
	if q.Reason != "" {
		text += "\n>" + escape(q.Reason)
	}
	status := fmt.Sprintf("Request %d is *%s*", q.ID, q.State)
	if q.Approver != "" && q.State != deploys.Rejected {
		status += ", approved by " + escape(q.Approver)
	}
	if q.Waiting != "" {
		status += " (waiting: " + escape(q.Waiting) + ")"
	}
	if q.Outcome != "" {
		status += ": " + escape(q.Outcome)
	}
	if l := b.link("/deploys/" + strconv.FormatInt(q.ID, 10)); l != "" {
		status += " · " + l
	}
	blocks := []slackapi.Block{
		slackapi.NewSectionBlock(slackapi.NewTextBlockObject(slackapi.MarkdownType, text, false, false), nil, nil),
		slackapi.NewSectionBlock(slackapi.NewTextBlockObject(slackapi.MarkdownType, status, false, false), nil, nil),
	}
	if q.State == deploys.Requested {
		id := strconv.FormatInt(q.ID, 10)
		blocks = append(blocks, slackapi.NewActionBlock("deploy_request_"+id,
			slackapi.NewButtonBlockElement(ActionApprove, id, slackapi.NewTextBlockObject(slackapi.PlainTextType, "Approve", false, false)).WithStyle(slackapi.StylePrimary),
			slackapi.NewButtonBlockElement(ActionReject, id, slackapi.NewTextBlockObject(slackapi.PlainTextType, "Reject", false, false)).WithStyle(slackapi.StyleDanger)))
	}
	return blocks
}

// escape keeps text a person typed from becoming Slack markup (mentions, links).
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

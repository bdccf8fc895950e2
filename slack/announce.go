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
	"github.com/portside-dev/portside/internal/pubsub"
)

// ChannelAnnotation names the Slack channel (an ID such as C0123, or #name) a component's deploy
// requests are posted to.
const ChannelAnnotation = "portside.dev/slack-channel"

// The action IDs of the buttons on a request's message; their value is the request's ID.
const (
	ActionApprove = "deploy_approve"
	ActionReject  = "deploy_reject"
)

// resubscribeAfter is how long Follow waits before it watches again after its subscription ended
// (it fell behind, or the deploys service could not be asked).
var resubscribeAfter = time.Second

type postedMessage struct{ channel, ts string }

// watcher is who the bot reads the requests' moves as (reading needs someone signed in).
var watcher = principal.System("portside-slack", principal.ClientAuto)

// Follow posts every new deploy request, whichever client made it, to its component's channel,
// updates that message as the request moves and tells the rollout in its thread, until Close. It
// runs in the background; a second call does nothing. Without Deploys or Store (where the messages
// are kept) it does nothing.
func (b *Bot) Follow() {
	if b.opts.Deploys == nil || b.opts.Store == nil {
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
			// This replica's own moves only: each move is announced once, by the replica that made it.
			sub, err := b.opts.Deploys.Watch(pubsub.Own(ctx), "", 0)
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

// announce posts a new request or updates the message of one that moved, and tells the rollout's
// progress in the message's thread (see threadNote). The message of a request is found in the
// database, so a message posted before a restart or by another replica is updated too. Each Slack
// call is bounded by the HTTP client's timeout and WorkTimeout.
func (b *Bot) announce(ctx context.Context, ev deploys.Event) {
	ctx, cancel := context.WithTimeout(ctx, b.opts.WorkTimeout)
	defer cancel()
	q := ev.Request
	blocks := b.requestBlocks(q)
	fallback := fmt.Sprintf("Deploy request %d: %s %s to %s is %s", q.ID, q.Component, q.Version, q.Environment, q.State)
	m, known, err := b.msgs.get(ctx, q.ID)
	if err != nil {
		b.opts.Logger.WarnContext(ctx, "slack: find a deploy request's message", "request", q.ID, "error", err)
		return
	}
	if known {
		if _, _, _, err := b.api.UpdateMessageContext(ctx, m.channel, m.ts, slackapi.MsgOptionText(fallback, false),
			slackapi.MsgOptionBlocks(blocks...)); err != nil {
			b.opts.Logger.WarnContext(ctx, "slack: update a deploy request's message", "request", q.ID, "error", err)
		}
		b.reply(ctx, m, ev)
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
	if err := b.msgs.put(ctx, q.ID, ch, ts, b.opts.Now()); err != nil {
		b.opts.Logger.WarnContext(ctx, "slack: record a deploy request's message", "request", q.ID, "error", err)
	}
}

// reply tells a move of the rollout in the request's thread (chat.postMessage with thread_ts):
// the commit pushed, each canary step, the result. Each is told once and in order: the last note
// replied (and the transition it told) is kept with the message, a reply goes out only when this
// bot changed it (see claimReply), and while another bot is still posting the reply of an earlier
// move this one waits for it (at most until ctx ends). A reply Slack refuses is not tried again:
// the message itself still shows where the request stands.
func (b *Bot) reply(ctx context.Context, m postedMessage, ev deploys.Event) {
	text := threadNote(ev)
	if text == "" {
		return
	}
	id, tr := ev.Request.ID, ev.Transition.ID
	wait := replyPoll
	for {
		now := b.opts.Now()
		c, err := b.msgs.claimReply(ctx, id, tr, text, now, now.Add(b.opts.WorkTimeout))
		if err != nil {
			b.opts.Logger.WarnContext(ctx, "slack: record a reply in a deploy request's thread", "request", id, "error", err)
			return
		}
		if c == told {
			return
		}
		if c == claimed {
			break
		}
		select {
		case <-ctx.Done():
			b.opts.Logger.WarnContext(ctx, "slack: a reply in a deploy request's thread stopped waiting for the one before it", "request", id, "transition", tr, "error", ctx.Err())
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, maxReplyPoll)
	}
	if _, _, err := b.api.PostMessageContext(ctx, m.channel, slackapi.MsgOptionText(text, false), slackapi.MsgOptionTS(m.ts)); err != nil {
		b.opts.Logger.WarnContext(ctx, "slack: reply in a deploy request's thread", "request", id, "error", err)
	}
	// Released even when ctx ended: the next bot need not wait for the claim to lapse.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	if err := b.msgs.replied(rctx, id, tr); err != nil {
		b.opts.Logger.WarnContext(ctx, "slack: release a deploy request's thread", "request", id, "error", err)
	}
}

// replyPoll and maxReplyPoll pace a bot waiting for another to post the reply of an earlier move
// (a Slack call: tens of milliseconds); releaseTimeout bounds releasing the thread after a reply.
const (
	replyPoll      = 10 * time.Millisecond
	maxReplyPoll   = 250 * time.Millisecond
	releaseTimeout = 5 * time.Second
)

// threadNote is what a move says in the request's thread, "" for moves the message alone tells
// (requested, approved, rejected, expired, cancelled, applying, a held request's reason).
func threadNote(ev deploys.Event) string {
	t, q := ev.Transition, ev.Request
	note := escape(t.Note)
	switch {
	case t.To == deploys.RollingOut && t.From == deploys.Applying:
		return "Applied: " + note + ". Rolling out…"
	case t.To == deploys.RollingOut && t.From == deploys.RollingOut:
		if note == "" {
			return ""
		}
		return "Rolling out: " + note
	case t.To == deploys.Succeeded || t.To == deploys.RolledBack || (t.To == deploys.Failed && (t.From == deploys.RollingOut || t.From == deploys.Applying)):
		out := note
		if out == "" {
			out = escape(q.Outcome)
		}
		return fmt.Sprintf("Request %d is *%s*: %s", q.ID, t.To, out)
	}
	return ""
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
		// Every line of the reason is quoted, not only the first: a line left outside the quote
		// reads as Portside's own ("Request 7 is *APPROVED*, approved by alice"), as a reason's
		// trailer would in the commit message.
		reason := strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(escape(q.Reason))
		text += "\n>" + strings.ReplaceAll(reason, "\n", "\n>")
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

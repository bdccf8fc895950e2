package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/text"
	"github.com/portside-dev/portside/slack"
)

// SlackCommands receives Slack's slash commands at /slack/commands. Slack proves itself by the
// request's signature, not by a Portside credential; the person behind a command is found by
// the bot (their confirmed e-mail address) and acts with their own rights.
type SlackCommands struct {
	Bot   *slack.Bot
	Audit *audit.Log
	// Count counts each request by outcome (metrics.Metrics.SlackRequest); nil counts nothing.
	Count func(outcome string)
	// DeniedPerMinute and Now are as GitHubWebhook's.
	DeniedPerMinute int
	Now             func() time.Time
}

// maxSlackBody bounds a command's form: Slack's own fields and at most 4,000 characters of text.
// maxSlackInteraction bounds an interaction's form: its payload carries the clicked message's
// blocks, which Portside keeps small (see slack.requestBlocks).
const (
	maxSlackBody        = 64 << 10
	maxSlackInteraction = 128 << 10
)

func (h *SlackCommands) handler(log *slog.Logger) gin.HandlerFunc {
	return h.verified(log, "slack.command", maxSlackBody, func(c *gin.Context, form url.Values) {
		c.JSON(http.StatusOK, h.Bot.Command(form))
	})
}

// interactions receives clicks on the buttons of Portside's messages at /slack/interactions,
// verified exactly as commands are.
func (h *SlackCommands) interactions(log *slog.Logger) gin.HandlerFunc {
	return h.verified(log, "slack.interaction", maxSlackInteraction, func(c *gin.Context, form url.Values) {
		if err := h.Bot.Interaction(form); err != nil {
			c.JSON(http.StatusBadRequest, errorBody(err))
			return
		}
		c.Status(http.StatusOK)
	})
}

// verified reads a bounded body, refuses (counted, audited as action, at most DeniedPerMinute
// records) what Slack did not sign, and only then parses the form and hands it to accept.
func (h *SlackCommands) verified(log *slog.Logger, action string, limit int64, accept func(*gin.Context, url.Values)) gin.HandlerFunc {
	denied := newDeniedLimiter(h.DeniedPerMinute, h.Now)
	count := h.Count
	if count == nil {
		count = func(string) {}
	}
	return func(c *gin.Context) {
		r := c.Request
		body, err := io.ReadAll(http.MaxBytesReader(c.Writer, r.Body, limit))
		if err != nil {
			if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
				c.JSON(http.StatusRequestEntityTooLarge, errorBody(errs.E(errs.Invalid, "the request is larger than %d bytes", limit)))
				return
			}
			c.JSON(http.StatusBadRequest, errorBody(errs.E(errs.Invalid, "the request could not be read")))
			return
		}
		// Verified before anything in the body is parsed.
		if reason, err := h.Bot.Verify(r.Context(), r.Header, body); err != nil {
			count(reason)
			if record, suppressed := denied.admit(c.ClientIP()); record {
				args := map[string]any{"reason": reason, "remoteAddr": c.ClientIP()}
				if suppressed > 0 {
					args["suppressedBefore"] = suppressed
				}
				if h.Audit != nil {
					_ = h.Audit.Do(r.Context(), audit.Entry{Action: action, Resource: "slack request", Args: args},
						func(context.Context) error { return err })
				}
				log.WarnContext(r.Context(), "slack request refused", "reason", reason, "remote_addr", c.ClientIP(), "suppressed_before", suppressed)
			}
			status := http.StatusUnauthorized
			if errs.Is(err, errs.Unavailable) {
				status = http.StatusServiceUnavailable // the replay check's database: not the caller's fault
			}
			c.JSON(status, errorBody(err))
			return
		}
		count("accepted")
		form, err := url.ParseQuery(string(body))
		if err != nil {
			c.JSON(http.StatusBadRequest, errorBody(errs.E(errs.Invalid, "the request is not a form")))
			return
		}
		for _, k := range slices.Sorted(maps.Keys(form)) {
			for _, v := range form[k] {
				if err := text.Storable(k, v); err != nil { // Slack sends none; nothing downstream may meet one
					c.JSON(http.StatusBadRequest, errorBody(err))
					return
				}
			}
		}
		accept(c, form)
	}
}

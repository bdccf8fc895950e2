package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/errs"
	ghp "github.com/portside-dev/portside/pipelines/github"
)

// Nudger is what a CI engine's webhook tells: a run changed, look at it now.
// pipelines.Service implements it.
type Nudger interface {
	Nudge(ctx context.Context, provider, providerRunID string) error
}

// GitHubWebhook receives GitHub's workflow_run and workflow_job events at /webhooks/github.
type GitHubWebhook struct {
	// Secret is the webhook secret; empty refuses every delivery (polling still follows runs).
	Secret []byte
	Runs   Nudger
	Audit  *audit.Log
}

// maxWebhookBody bounds a delivery: GitHub caps payloads at 25 MB, but workflow events are small.
const maxWebhookBody = 5 << 20

// nudgeTimeout bounds reading the run a delivery names, within GitHub's 10 s delivery timeout.
const nudgeTimeout = 8 * time.Second

// handler verifies the delivery's signature (constant-time) before reading anything in it. A
// forged or unsigned delivery is refused with 401, audited as denied and logged, without the
// signature or the secret. A genuine one makes Portside read the run it names at once.
func (h *GitHubWebhook) handler(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		r := c.Request
		body, err := io.ReadAll(http.MaxBytesReader(c.Writer, r.Body, maxWebhookBody))
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				c.JSON(http.StatusRequestEntityTooLarge, errorBody(errs.E(errs.Invalid, "the delivery is larger than %d bytes", maxWebhookBody)))
				return
			}
			c.JSON(http.StatusBadRequest, errorBody(errs.E(errs.Invalid, "the delivery could not be read")))
			return
		}
		delivery, event := r.Header.Get("X-GitHub-Delivery"), r.Header.Get("X-GitHub-Event")
		if err := ghp.VerifySignature(h.Secret, body, r.Header.Get(ghp.SignatureHeader)); err != nil {
			entry := audit.Entry{Action: "pipelines.webhook.github", Resource: "webhook delivery " + delivery,
				Args: map[string]any{"event": event, "remoteAddr": c.ClientIP()}}
			if h.Audit != nil {
				_ = h.Audit.Do(r.Context(), entry, func(context.Context) error { return err })
			}
			log.WarnContext(r.Context(), "github webhook refused", "delivery", delivery, "event", event,
				"remote_addr", c.ClientIP(), "reason", errs.PublicMessage(err))
			c.JSON(http.StatusUnauthorized, errorBody(err))
			return
		}
		runID, err := ghp.RunOf(event, body)
		if err != nil {
			c.JSON(http.StatusBadRequest, errorBody(err))
			return
		}
		if runID != "" && h.Runs != nil {
			ctx, cancel := context.WithTimeout(r.Context(), nudgeTimeout)
			defer cancel()
			if err := h.Runs.Nudge(ctx, "github", runID); err != nil {
				// GitHub's delivery succeeded; the follower's polling reads the run later.
				log.InfoContext(r.Context(), "github webhook: read the run later", "delivery", delivery, "run", runID, "error", err)
			}
		}
		c.Status(http.StatusNoContent)
	}
}

func errorBody(err error) gin.H {
	return gin.H{"error": gin.H{"code": string(errs.CodeOf(err)), "message": errs.PublicMessage(err)}}
}

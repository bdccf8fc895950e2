package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
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
	// DeniedPerMinute bounds the refused deliveries audited (and logged) per source address and
	// minute; 0 is 10. Anyone can POST here, so without a bound a flood of forged deliveries
	// would fill the audit log. Every delivery is still verified and refused; only the records
	// are held back, and the next record from that address counts the ones left out.
	DeniedPerMinute int
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
}

// maxWebhookBody bounds a delivery: GitHub caps payloads at 25 MB, but workflow events are small.
const maxWebhookBody = 5 << 20

// nudgeTimeout bounds reading the run a delivery names, within GitHub's 10 s delivery timeout.
const nudgeTimeout = 8 * time.Second

// handler verifies the delivery's signature (constant-time) before reading anything in it. A
// forged or unsigned delivery is refused with 401, audited as denied and logged, without the
// signature or the secret. A genuine one makes Portside read the run it names at once.
func (h *GitHubWebhook) handler(log *slog.Logger) gin.HandlerFunc {
	denied := newDeniedLimiter(h.DeniedPerMinute, h.Now)
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
			if record, suppressed := denied.admit(c.ClientIP()); record {
				args := map[string]any{"event": event, "remoteAddr": c.ClientIP()}
				if suppressed > 0 {
					args["suppressedBefore"] = suppressed // refused from this address since its last record, not recorded
				}
				entry := audit.Entry{Action: "pipelines.webhook.github", Resource: "webhook delivery " + delivery, Args: args}
				if h.Audit != nil {
					_ = h.Audit.Do(r.Context(), entry, func(context.Context) error { return err })
				}
				log.WarnContext(r.Context(), "github webhook refused", "delivery", delivery, "event", event,
					"remote_addr", c.ClientIP(), "reason", errs.PublicMessage(err), "suppressed_before", suppressed)
			}
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

// deniedLimiter decides which refused deliveries are recorded: at most per a minute for each
// source address, counting the others so the next record says how many were left out. It
// tracks a bounded number of addresses (a flood from many addresses must not grow it without
// end); beyond that, the addresses it does not track share one allowance.
type deniedLimiter struct {
	per int
	now func() time.Time

	mu     sync.Mutex
	byAddr map[string]*deniedWindow
}

type deniedWindow struct {
	start      time.Time
	recorded   int
	suppressed int // refused and not recorded since the address's last record
}

const (
	deniedWindowLength = time.Minute
	deniedMaxAddrs     = 4096
	deniedOverflow     = "(other addresses)"
)

func newDeniedLimiter(per int, now func() time.Time) *deniedLimiter {
	if per <= 0 {
		per = 10
	}
	if now == nil {
		now = time.Now
	}
	return &deniedLimiter{per: per, now: now, byAddr: map[string]*deniedWindow{}}
}

// admit reports whether a refused delivery from addr is recorded and, if so, how many from
// addr were left out since its last record.
func (l *deniedLimiter) admit(addr string) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	w := l.byAddr[addr]
	if w == nil {
		if len(l.byAddr) >= deniedMaxAddrs {
			l.sweep(now)
		}
		if len(l.byAddr) >= deniedMaxAddrs {
			addr = deniedOverflow
			w = l.byAddr[addr]
		}
		if w == nil {
			w = &deniedWindow{start: now}
			l.byAddr[addr] = w
		}
	}
	if now.Sub(w.start) >= deniedWindowLength {
		w.start, w.recorded = now, 0
	}
	if w.recorded >= l.per {
		w.suppressed++
		return false, 0
	}
	w.recorded++
	n := w.suppressed
	w.suppressed = 0
	return true, n
}

// sweep forgets the addresses whose minute is over and that have nothing left to report.
func (l *deniedLimiter) sweep(now time.Time) {
	for a, w := range l.byAddr {
		if now.Sub(w.start) >= deniedWindowLength && w.suppressed == 0 {
			delete(l.byAddr, a)
		}
	}
}

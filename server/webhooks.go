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
	"github.com/portside-dev/portside/pipelines"
	ghp "github.com/portside-dev/portside/pipelines/github"
	glp "github.com/portside-dev/portside/pipelines/gitlab"
)

// Nudger is what a CI engine's webhook tells: a run changed, look at it now.
// pipelines.Service implements it.
type Nudger interface {
	Nudge(ctx context.Context, provider, providerRunID string) error
}

// PullRequestNudger is what a code host's pull request events tell: a pull request was merged or
// closed, look at it now. deploys.Service implements it (deploy requests applied by pull request).
type PullRequestNudger interface {
	PullRequestClosed(ctx context.Context, provider, project, branch string)
}

// GitHubWebhook receives GitHub's workflow_run and workflow_job events, and pull_request events
// (deploy requests' pull requests), at /webhooks/github.
type GitHubWebhook struct {
	// Secret is the webhook secret; empty refuses every delivery (polling still follows runs).
	Secret []byte
	Runs   Nudger
	// PullRequests, when set, hears of pull requests merged or closed.
	PullRequests PullRequestNudger
	Audit        *audit.Log
	// DeniedPerMinute bounds the refused deliveries audited (and logged) per source address and
	// minute; 0 is 10. Anyone can POST here, so without a bound a flood of forged deliveries
	// would fill the audit log. Every delivery is still verified and refused; only the records
	// are held back, and the next record from that address counts the ones left out.
	DeniedPerMinute int
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
}

// GitLabWebhook receives GitLab's Pipeline Hook and Job Hook events, and Merge Request Hook events
// (deploy requests' merge requests), at /webhooks/gitlab.
type GitLabWebhook struct {
	// Secret is the secret token GitLab sends in X-Gitlab-Token; empty refuses every delivery
	// (polling still follows runs).
	Secret []byte
	Runs   Nudger
	// PullRequests, when set, hears of merge requests merged or closed.
	PullRequests PullRequestNudger
	Audit        *audit.Log
	// DeniedPerMinute and Now are as GitHubWebhook's.
	DeniedPerMinute int
	Now             func() time.Time
}

// maxWebhookBody bounds a delivery: GitHub caps payloads at 25 MB and GitLab's are of the same
// order, but pipeline and job events are small.
const maxWebhookBody = 5 << 20

// nudgeTimeout bounds reading the run a delivery names, within GitHub's 10 s delivery timeout
// (GitLab waits as long).
const nudgeTimeout = 8 * time.Second

// webhook is what differs between the engines' deliveries.
type webhook struct {
	provider string
	runs     Nudger
	audit    *audit.Log
	// delivery and event name the delivery from its headers (for logs and the audit).
	delivery, event func(h http.Header) string
	// verify proves the delivery came from the engine, before anything in it is read.
	verify func(h http.Header, body []byte) error
	// runOf is the provider run the delivery is about ("" when it is about something else).
	runOf func(event string, body []byte) (string, error)
	// pulls hears of the pull requests pullOf finds merged or closed (project and head branch;
	// "" when the delivery is about something else).
	pulls  PullRequestNudger
	pullOf func(event string, body []byte) (project, branch string, err error)
	// denied holds back the records of refused deliveries past a per-address rate.
	denied *deniedLimiter
}

func (h *GitHubWebhook) handler(log *slog.Logger) gin.HandlerFunc {
	return webhook{provider: pipelines.ProviderGitHub, runs: h.Runs, audit: h.Audit,
		delivery: func(hd http.Header) string { return hd.Get("X-GitHub-Delivery") },
		event:    func(hd http.Header) string { return hd.Get("X-GitHub-Event") },
		verify: func(hd http.Header, body []byte) error {
			return ghp.VerifySignature(h.Secret, body, hd.Get(ghp.SignatureHeader))
		},
		runOf: ghp.RunOf,
		pulls: h.PullRequests, pullOf: ghp.PullRequestOf,
		denied: newDeniedLimiter(h.DeniedPerMinute, h.Now),
	}.handler(log)
}

func (h *GitLabWebhook) handler(log *slog.Logger) gin.HandlerFunc {
	return webhook{provider: pipelines.ProviderGitLab, runs: h.Runs, audit: h.Audit,
		// GitLab names each delivery in X-Gitlab-Event-UUID (else, older GitLab, the webhook).
		delivery: func(hd http.Header) string {
			if id := hd.Get("X-Gitlab-Event-UUID"); id != "" {
				return id
			}
			return hd.Get("X-Gitlab-Webhook-UUID")
		},
		event: func(hd http.Header) string { return hd.Get(glp.EventHeader) },
		verify: func(hd http.Header, _ []byte) error {
			return glp.VerifyToken(h.Secret, hd.Get(glp.TokenHeader))
		},
		runOf: glp.PipelineOf,
		pulls: h.PullRequests, pullOf: glp.MergeRequestOf,
		denied: newDeniedLimiter(h.DeniedPerMinute, h.Now),
	}.handler(log)
}

// handler verifies the delivery (constant-time) before reading anything in it. A forged or
// unproven delivery is refused with 401, audited as denied and logged, without the signature,
// token or secret. A genuine one makes Portside read the run it names at once, or the deploy
// request's pull request it says was merged or closed.
func (w webhook) handler(log *slog.Logger) gin.HandlerFunc {
	action := "pipelines.webhook." + w.provider
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
		delivery, event := w.delivery(r.Header), w.event(r.Header)
		if err := w.verify(r.Header, body); err != nil {
			if record, suppressed := w.denied.admit(c.ClientIP()); record {
				args := map[string]any{"event": event, "remoteAddr": c.ClientIP()}
				if suppressed > 0 {
					args["suppressedBefore"] = suppressed // refused from this address since its last record, not recorded
				}
				entry := audit.Entry{Action: action, Resource: "webhook delivery " + delivery, Args: args}
				if w.audit != nil {
					_ = w.audit.Do(r.Context(), entry, func(context.Context) error { return err })
				}
				log.WarnContext(r.Context(), w.provider+" webhook refused", "delivery", delivery, "event", event,
					"remote_addr", c.ClientIP(), "reason", errs.PublicMessage(err), "suppressed_before", suppressed)
			}
			c.JSON(http.StatusUnauthorized, errorBody(err))
			return
		}
		runID, err := w.runOf(event, body)
		if err != nil {
			c.JSON(http.StatusBadRequest, errorBody(err))
			return
		}
		var project, branch string
		if w.pullOf != nil {
			if project, branch, err = w.pullOf(event, body); err != nil {
				c.JSON(http.StatusBadRequest, errorBody(err))
				return
			}
		}
		if branch != "" && w.pulls != nil {
			ctx, cancel := context.WithTimeout(r.Context(), nudgeTimeout)
			defer cancel()
			// Failures are the request's (recorded there) or the background pass's to retry.
			w.pulls.PullRequestClosed(ctx, w.provider, project, branch)
		}
		if runID != "" && w.runs != nil {
			ctx, cancel := context.WithTimeout(r.Context(), nudgeTimeout)
			defer cancel()
			if err := w.runs.Nudge(ctx, w.provider, runID); err != nil {
				// The delivery succeeded; the follower's polling reads the run later.
				log.InfoContext(r.Context(), w.provider+" webhook: read the run later", "delivery", delivery, "run", runID, "error", err)
			}
		}
		c.Status(http.StatusNoContent)
	}
}

func errorBody(err error) gin.H {
	body := gin.H{"code": string(errs.CodeOf(err)), "message": errs.PublicMessage(err)}
	if field := errs.FieldOf(err); field != "" {
		body["field"] = field
	}
	return gin.H{"error": body}
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

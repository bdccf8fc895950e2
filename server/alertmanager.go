package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/portside-dev/portside/alerts"
	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/errs"
)

// AlertReceiver takes an Alertmanager delivery in; alerts.Service implements it.
type AlertReceiver interface {
	Receive(ctx context.Context, p alerts.Payload) (alerts.Result, error)
}

// AlertmanagerWebhook receives Alertmanager's webhook deliveries (version 4) at
// /webhooks/alertmanager. Alertmanager proves itself with the receiver's http_config: a bearer
// token (authorization: credentials) or basic auth; with neither configured every delivery is
// refused.
type AlertmanagerWebhook struct {
	// Token is the bearer token Alertmanager sends; empty accepts none.
	Token []byte
	// Username and Password are the basic auth Alertmanager sends; an empty Password accepts none.
	Username, Password []byte
	Alerts             AlertReceiver
	Audit              *audit.Log
	// DeniedPerMinute and Now are as GitHubWebhook's.
	DeniedPerMinute int
	Now             func() time.Time
}

// maxAlertmanagerBody bounds a delivery: alerts.MaxAlerts alerts of a few KB each fit well within.
const maxAlertmanagerBody = 4 << 20

// verify checks the delivery's credential in constant time (for a given length), before anything
// in the body is read.
func (h *AlertmanagerWebhook) verify(r *http.Request) error {
	if len(h.Token) == 0 && len(h.Password) == 0 {
		return errs.E(errs.Unauthenticated, "Portside has no alertmanager-webhook-token or alertmanager-webhook-password set: deliveries are refused")
	}
	auth := r.Header.Get("Authorization")
	if scheme, cred, ok := strings.Cut(auth, " "); ok && strings.EqualFold(scheme, "Bearer") && len(h.Token) > 0 {
		if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(cred)), h.Token) == 1 {
			return nil
		}
		return errs.E(errs.Unauthenticated, "the delivery's bearer token is not the configured one")
	}
	if user, pass, ok := r.BasicAuth(); ok && len(h.Password) > 0 {
		u := subtle.ConstantTimeCompare([]byte(user), h.Username)
		p := subtle.ConstantTimeCompare([]byte(pass), h.Password)
		if u&p == 1 {
			return nil
		}
		return errs.E(errs.Unauthenticated, "the delivery's basic auth is not the configured one")
	}
	return errs.E(errs.Unauthenticated, "the delivery has no credential Portside accepts (a bearer token or basic auth, as configured)")
}

func (h *AlertmanagerWebhook) handler(log *slog.Logger) gin.HandlerFunc {
	denied := newDeniedLimiter(h.DeniedPerMinute, h.Now)
	return func(c *gin.Context) {
		r := c.Request
		if err := h.verify(r); err != nil {
			if record, suppressed := denied.admit(c.ClientIP()); record {
				args := map[string]any{"remoteAddr": c.ClientIP()}
				if suppressed > 0 {
					args["suppressedBefore"] = suppressed
				}
				if h.Audit != nil {
					_ = h.Audit.Do(r.Context(), audit.Entry{Action: "alerts.webhook.alertmanager", Resource: "webhook delivery", Args: args},
						func(context.Context) error { return err })
				}
				log.WarnContext(r.Context(), "alertmanager webhook refused", "remote_addr", c.ClientIP(),
					"reason", errs.PublicMessage(err), "suppressed_before", suppressed)
			}
			c.JSON(http.StatusUnauthorized, errorBody(err))
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(c.Writer, r.Body, maxAlertmanagerBody))
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				h.refuse(c, log, http.StatusRequestEntityTooLarge, errs.E(errs.Invalid, "the delivery is larger than %d bytes", maxAlertmanagerBody), len(body))
				return
			}
			c.JSON(http.StatusBadRequest, errorBody(errs.E(errs.Invalid, "the delivery could not be read")))
			return
		}
		p, err := alerts.ParsePayload(body)
		if err != nil {
			h.refuse(c, log, http.StatusBadRequest, err, len(body))
			return
		}
		res, err := h.Alerts.Receive(r.Context(), p)
		if err != nil {
			// Alertmanager retries what it could not deliver; a 5xx says try again.
			code := http.StatusInternalServerError
			if errs.CodeOf(err) == errs.Invalid {
				code = http.StatusBadRequest
			}
			log.ErrorContext(r.Context(), "alertmanager webhook", "group", p.GroupKey, "error", err)
			c.JSON(code, errorBody(err))
			return
		}
		answer := gin.H{"firing": res.Firing, "resolved": res.Resolved, "unmapped": res.Unmapped, "duringCanary": res.DuringCanary}
		if len(p.Refused) > 0 {
			refused := make([]gin.H, 0, len(p.Refused))
			for _, a := range p.Refused {
				refused = append(refused, gin.H{"alert": a.Index, "code": string(errs.CodeOf(a.Err)), "message": errs.PublicMessage(a.Err)})
			}
			answer["refused"] = refused
			log.WarnContext(r.Context(), "alertmanager webhook: alerts left out", "group", p.GroupKey, "refused", len(p.Refused), "first", errs.PublicMessage(p.Refused[0].Err))
		}
		c.JSON(http.StatusOK, answer)
	}
}

// amSender is who Alertmanager's refused deliveries are recorded as (alerts records those it
// takes in as the same actor).
var amSender = &principal.Principal{Username: "alertmanager", Kind: principal.KindSystem, Client: principal.ClientAPI}

// refuse answers a delivery that proved its credential but cannot be taken at all (too large,
// not a version 4 payload, no alert Portside can take). Alertmanager retries nothing refused with
// a 4xx, so its alerts are lost: the refusal is logged as a warning and audited (outcome failed,
// naming the field), as the alerts left out of a delivery that was taken are.
func (h *AlertmanagerWebhook) refuse(c *gin.Context, log *slog.Logger, status int, err error, size int) {
	r := c.Request
	log.WarnContext(r.Context(), "alertmanager webhook: delivery refused", "remote_addr", c.ClientIP(), "status", status,
		"bytes", size, "reason", errs.PublicMessage(err))
	if h.Audit != nil {
		ctx := principal.With(r.Context(), amSender)
		_ = h.Audit.Do(ctx, audit.Entry{Action: "alerts.webhook.alertmanager", Resource: "webhook delivery",
			Args: map[string]any{"remoteAddr": c.ClientIP(), "bytes": size}}, func(context.Context) error { return err })
	}
	c.JSON(status, errorBody(err))
}

// Package slack is Portside's Slack adapter: it verifies what Slack sends (slash commands, and
// later interactions), maps a Slack user to a Portside user by their confirmed e-mail address,
// runs the command through the domain services as that person, and answers through Slack's
// response_url. It holds no domain rules: who may trigger a pipeline is the pipelines service's
// decision, the same one the portal and the API get.
package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/portside-dev/portside/errs"
)

// The headers Slack signs its requests with, and the one that marks a retry.
const (
	SignatureHeader = "X-Slack-Signature"
	TimestampHeader = "X-Slack-Request-Timestamp"
	RetryHeader     = "X-Slack-Retry-Num"
)

// MaxSkew is how far a request's timestamp may be from Portside's clock: Slack's advice, and the
// bound on replaying a captured request.
const MaxSkew = 5 * time.Minute

// Reasons a request is refused, as the metrics label them.
const (
	ReasonUnsigned  = "unsigned"
	ReasonStale     = "stale"
	ReasonSignature = "signature"
	ReasonNoSecret  = "no_secret"
	ReasonReplay    = "replay"
	// ReasonReplayCheck: the database that says whether a request is a replay could not answer.
	ReasonReplayCheck = "replay_check"
)

// Verify checks Slack's v0 signature of a request: HMAC-SHA256, keyed with the app's signing
// secret, over "v0:<timestamp>:<raw body>", compared in constant time, with the timestamp within
// MaxSkew of now. It runs before anything in the body is parsed. reason labels a refusal for
// metrics; the error never repeats the signature or the secret.
//
// slack-go's SecretsVerifier does the same against the wall clock; Portside keeps the clock
// injectable so that Slack's published example (signed in 2018) is a test vector.
func Verify(secret []byte, h http.Header, body []byte, now time.Time) (reason string, err error) {
	if len(secret) == 0 {
		return ReasonNoSecret, errs.E(errs.Unauthenticated, "Slack requests are refused: no signing secret is configured (setting slack-signing-secret)")
	}
	sig, ts := h.Get(SignatureHeader), h.Get(TimestampHeader)
	if sig == "" || ts == "" {
		return ReasonUnsigned, errs.E(errs.Unauthenticated, "the request lacks Slack's %s and %s headers", SignatureHeader, TimestampHeader)
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ReasonUnsigned, errs.E(errs.Unauthenticated, "%s is not a Unix time", TimestampHeader)
	}
	if d := now.Sub(time.Unix(secs, 0)); d > MaxSkew || d < -MaxSkew {
		return ReasonStale, errs.E(errs.Unauthenticated, "the request's timestamp is more than %s from Portside's clock (a replay, or a clock to fix)", MaxSkew)
	}
	given, err := hex.DecodeString(strings.TrimPrefix(sig, "v0="))
	if err != nil || !strings.HasPrefix(sig, "v0=") {
		return ReasonSignature, errs.E(errs.Unauthenticated, "the request's signature is not a v0 signature")
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("v0:" + ts + ":"))
	mac.Write(body)
	if !hmac.Equal(mac.Sum(nil), given) {
		return ReasonSignature, errs.E(errs.Unauthenticated, "the request's signature does not match: is slack-signing-secret the app's signing secret?")
	}
	return "", nil
}

// Sign is the X-Slack-Signature Slack would send for body at ts (tests and the load driver).
func Sign(secret []byte, ts string, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("v0:" + ts + ":"))
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

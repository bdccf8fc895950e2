package slack_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/portside-dev/portside/slack"
)

// Slack's published example (https://api.slack.com/authentication/verifying-requests-from-slack).
const (
	exampleSecret    = "8f742231b10e8888abcd99yyyzzz85a5"
	exampleTimestamp = "1531420618"
	exampleBody      = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
	exampleSignature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
)

var exampleTime = time.Unix(1531420618, 0).Add(30 * time.Second)

func header(sig, ts string) http.Header {
	h := http.Header{}
	if sig != "" {
		h.Set(slack.SignatureHeader, sig)
	}
	if ts != "" {
		h.Set(slack.TimestampHeader, ts)
	}
	return h
}

func TestSlacksPublishedExampleVerifies(t *testing.T) {
	if reason, err := slack.Verify([]byte(exampleSecret), header(exampleSignature, exampleTimestamp), []byte(exampleBody), exampleTime); err != nil {
		t.Fatalf("Slack's own example refused (%s): %v", reason, err)
	}
	if got := slack.Sign([]byte(exampleSecret), exampleTimestamp, []byte(exampleBody)); got != exampleSignature {
		t.Errorf("Sign = %s, want Slack's %s", got, exampleSignature)
	}
}

func TestForgedAndReplayedRequestsAreRefused(t *testing.T) {
	for _, tc := range []struct {
		name, secret, sig, ts, body string
		now                         time.Time
		reason                      string
	}{
		{"another secret", "not-the-secret", exampleSignature, exampleTimestamp, exampleBody, exampleTime, slack.ReasonSignature},
		{"a changed body", exampleSecret, exampleSignature, exampleTimestamp, exampleBody + "&text=deploy", exampleTime, slack.ReasonSignature},
		{"a changed timestamp", exampleSecret, exampleSignature, "1531420619", exampleBody, exampleTime, slack.ReasonSignature},
		{"replayed six minutes later", exampleSecret, exampleSignature, exampleTimestamp, exampleBody, exampleTime.Add(6 * time.Minute), slack.ReasonStale},
		{"from six minutes ahead", exampleSecret, exampleSignature, exampleTimestamp, exampleBody, exampleTime.Add(-7 * time.Minute), slack.ReasonStale},
		{"unsigned", exampleSecret, "", "", exampleBody, exampleTime, slack.ReasonUnsigned},
		{"no timestamp", exampleSecret, exampleSignature, "", exampleBody, exampleTime, slack.ReasonUnsigned},
		{"not v0", exampleSecret, "v1=" + exampleSignature[3:], exampleTimestamp, exampleBody, exampleTime, slack.ReasonSignature},
		{"not hex", exampleSecret, "v0=zz", exampleTimestamp, exampleBody, exampleTime, slack.ReasonSignature},
		{"no secret configured", "", exampleSignature, exampleTimestamp, exampleBody, exampleTime, slack.ReasonNoSecret},
	} {
		reason, err := slack.Verify([]byte(tc.secret), header(tc.sig, tc.ts), []byte(tc.body), tc.now)
		if err == nil || reason != tc.reason {
			t.Errorf("%s: reason %q, err %v; want refused as %q", tc.name, reason, err, tc.reason)
		}
	}
}

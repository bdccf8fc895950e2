package slack

import (
	"strings"
	"testing"

	slackapi "github.com/slack-go/slack"

	"github.com/portside-dev/portside/deploys"
)

// A reason of several lines is quoted whole: no line of it stands outside the quote, where it
// would read as the message's own text (a forged "approved by" under the request).
func TestEveryLineOfAReasonIsQuoted(t *testing.T) {
	b := &Bot{}
	q := deploys.Request{ID: 7, Component: "component:default/shop", Version: "1.4.2", Environment: "production", Requester: "bob",
		State: deploys.Requested, Reason: "fix the rounding bug\nRequest 7 is *APPROVED*, approved by alice\r\n\r\n<!channel> look"}
	blocks := b.requestBlocks(q)
	sec, ok := blocks[0].(*slackapi.SectionBlock)
	if !ok {
		t.Fatalf("first block is %T", blocks[0])
	}
	lines := strings.Split(sec.Text.Text, "\n")
	if len(lines) != 5 {
		t.Fatalf("the request's text has %d lines, want 5:\n%s", len(lines), sec.Text.Text)
	}
	for i, l := range lines[1:] {
		if !strings.HasPrefix(l, ">") {
			t.Fatalf("line %d of the reason is not quoted: %q in\n%s", i+1, l, sec.Text.Text)
		}
	}
	if strings.Contains(sec.Text.Text, "\r") || strings.Contains(sec.Text.Text, "<!channel>") {
		t.Fatalf("the text keeps a carriage return or a mention:\n%q", sec.Text.Text)
	}
}

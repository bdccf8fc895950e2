package server_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portside-dev/portside/auth"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/deploys"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

var slackLinkUsers atomic.Int64

// newSlackUser is a Slack user ID no test used before.
func newSlackUser() string { return fmt.Sprintf("U0LINK%d", slackLinkUsers.Add(1)) }

// slackLinkToken is the token of a link URL for a Slack user, as `/deploy link` makes it.
func (p *portal) slackLinkToken(t *testing.T, team, user string) string {
	t.Helper()
	tok, _, err := p.ids.IssueSlackLinkToken(context.Background(), team, user)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// slackLinked links a Slack user of team T0ACME to username, as that person's browser session does.
func (p *portal) slackLinked(t *testing.T, username, slackUser string) {
	t.Helper()
	ctx := principal.With(context.Background(), &principal.Principal{UserID: userID(t, p.st, username), Username: username,
		Kind: principal.KindSession, Client: principal.ClientWeb})
	if _, err := p.ids.LinkSlackUser(ctx, p.slackLinkToken(t, "T0ACME", slackUser)); err != nil {
		t.Fatal(err)
	}
}

var linkTokenRE = regexp.MustCompile(`https://portside\.example/slack/link\?token=([A-Za-z0-9_-]+)\|`)

func TestASlackUserLinkedInThePortalActsAsThatPortalUser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newSlackRig(t, st)
		name, _ := r.deployComponent(t)
		text := name + " " + deployDigest + " to production"
		// Slack has not confirmed Dave's address: he is refused, and told how to link.
		r.slash(t, "/deploy", "U0DAVE", text, "L1", nil)
		if refused := r.reply(t, "L1", 1); !strings.Contains(refused.Text, "no confirmed e-mail address") || !strings.Contains(refused.Text, "`/deploy link`") {
			t.Fatalf("an unmapped user was told %+v", refused)
		}
		// /deploy link answers him alone with a one-time URL to the portal.
		code, ack := r.slash(t, "/deploy", "U0DAVE", "link", "L2", nil)
		if code != http.StatusOK || ack.ResponseType != "ephemeral" {
			t.Fatalf("ack %d %+v", code, ack)
		}
		answer := r.reply(t, "L2", 1)
		m := linkTokenRE.FindStringSubmatch(answer.Text)
		if answer.ResponseType != "ephemeral" || m == nil || !strings.Contains(answer.Text, "works once") {
			t.Fatalf("/deploy link answered %+v", answer)
		}
		token := m[1]
		var stored int64
		st.Gorm().Raw("SELECT COUNT(*) FROM slack_link_tokens WHERE token_hash = ?", token).Scan(&stored)
		if stored != 0 {
			t.Error("the token itself is stored, not its hash")
		}
		// An API token is not a person at a browser: it may not confirm.
		secret, _, err := r.ids.CreateToken(operator(), auth.TokenSpec{Username: "bob", Name: "bobs-ci"})
		if err != nil {
			t.Fatal(err)
		}
		link := fmt.Sprintf(`mutation { linkSlackUser(input: {token: %q}) { teamId slackUser } }`, token)
		if res := r.gql(http.DefaultClient, http.Header{"Authorization": {"Bearer " + secret}}, link, nil); res.code() != "FORBIDDEN" {
			t.Errorf("an API token confirmed the link: %d %+v", res.Status, res.Errors)
		}
		// Bob, signed in, confirms: Dave's Slack user is Bob in Portside from now on.
		bob := r.session("bob")
		res := r.as(bob, link)
		if len(res.Errors) > 0 {
			t.Fatalf("linkSlackUser: %+v", res.Errors)
		}
		if got := res.Data["linkSlackUser"].(map[string]any); got["teamId"] != "T0ACME" || got["slackUser"] != "U0DAVE" {
			t.Errorf("linked %v", got)
		}
		// Once: the same URL opened again (by anyone) links nothing.
		if again := r.as(r.session("carol"), link); again.code() != "NOT_FOUND" || !strings.Contains(fmt.Sprint(again.Errors), "used already or has expired") {
			t.Errorf("the token used twice: %+v", again.Errors)
		}
		r.slash(t, "/deploy", "U0DAVE", text, "L3", nil)
		if posted := r.reply(t, "L3", 1); !strings.Contains(posted.Text, "is REQUESTED") {
			t.Fatalf("the linked user's request answered %+v", posted)
		}
		page, err := r.requests.List(operator(), deploys.Filter{Component: name}, 10, "")
		if err != nil || len(page.Requests) != 1 || page.Requests[0].Requester != "bob" || page.Requests[0].Client != deploys.ClientSlack {
			t.Fatalf("requests %+v %v, want one by bob through Slack", page, err)
		}
		if me := r.as(bob, `{ me { slackLinks { teamId slackUser createdAt } } }`); !strings.Contains(fmt.Sprint(me.Data), "U0DAVE") {
			t.Errorf("bob's links: %+v %+v", me.Data, me.Errors)
		}
		// The link is used before the address: Carol's confirmed address would make her Carol (who
		// owns nothing), but she linked her Slack user to Alice (an admin).
		r.slackLinked(t, "alice", "U0CAROL")
		r.slash(t, "/deploy", "U0CAROL", name+" "+deployDigest+" to staging", "L4", nil)
		if posted := r.reply(t, "L4", 1); !strings.Contains(posted.Text, "<@U0CAROL> asked for") {
			t.Fatalf("carol's Slack user, linked to alice, answered %+v", posted)
		}
		staging, err := r.requests.List(operator(), deploys.Filter{Component: name, Environment: "staging"}, 1, "")
		if err != nil || len(staging.Requests) != 1 || staging.Requests[0].Requester != "alice" {
			t.Fatalf("staging requests %+v %v, want one by alice", staging, err)
		}
		// Unlinking: Carol may not remove Bob's link; Bob may, and Dave is refused again.
		unlink := `mutation { unlinkSlackUser(input: {teamId: "T0ACME", slackUser: "U0DAVE"}) { slackUser } }`
		if res := r.as(r.session("carol"), unlink); res.code() != "FORBIDDEN" {
			t.Errorf("carol unlinked bob's Slack user: %+v", res.Errors)
		}
		if res := r.as(bob, unlink); len(res.Errors) > 0 {
			t.Fatalf("unlinkSlackUser: %+v", res.Errors)
		}
		r.slash(t, "/deploy", "U0DAVE", "status "+name, "L5", nil)
		if refused := r.reply(t, "L5", 1); !strings.Contains(refused.Text, "`/deploy link`") {
			t.Errorf("after unlinking Dave was told %+v", refused)
		}
		if n := len(r.auditRecords(t, "auth.slack.link")); n < 2 {
			t.Errorf("%d audit records of links", n)
		}
	})
}

// `/deploy unlink` in Slack removes the person's own link, as the Portside user it links to
// (audited as them); Portside then knows them by their Slack address again (Dave has none: he is
// refused and told how to link). A Slack user without a link is told so.
func TestSlackDeployUnlinkRemovesTheLinkAsItsPortsideUser(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newSlackRig(t, st)
		name, _ := r.deployComponent(t)
		r.slash(t, "/deploy", "U0DAVE", "unlink", "N1", nil)
		if answer := r.reply(t, "N1", 1); answer.ResponseType != "ephemeral" || !strings.Contains(answer.Text, "not linked to a Portside user") {
			t.Fatalf("unlinking without a link answered %+v", answer)
		}
		r.slackLinked(t, "bob", "U0DAVE")
		r.slash(t, "/deploy", "U0DAVE", "status "+name, "N2", nil)
		if linked := r.reply(t, "N2", 1); strings.Contains(linked.Text, "`/deploy link`") {
			t.Fatalf("the linked user was refused: %+v", linked)
		}
		code, ack := r.slash(t, "/deploy", "U0DAVE", "unlink", "N3", nil)
		if code != http.StatusOK || ack.ResponseType != "ephemeral" || !strings.Contains(ack.Text, "Unlinking") {
			t.Fatalf("ack %d %+v", code, ack)
		}
		if answer := r.reply(t, "N3", 1); answer.ResponseType != "ephemeral" || !strings.Contains(answer.Text, "no longer linked to Portside user bob") {
			t.Fatalf("unlinking answered %+v", answer)
		}
		if me := r.as(r.session("bob"), `{ me { slackLinks { slackUser } } }`); strings.Contains(fmt.Sprint(me.Data), "U0DAVE") || len(me.Errors) > 0 {
			t.Errorf("bob's links after the unlink: %+v %+v", me.Data, me.Errors)
		}
		r.slash(t, "/deploy", "U0DAVE", "status "+name, "N4", nil)
		if refused := r.reply(t, "N4", 1); !strings.Contains(refused.Text, "`/deploy link`") {
			t.Errorf("after unlinking Dave was told %+v", refused)
		}
		var mine []string
		for _, rec := range r.auditRecords(t, "auth.slack.unlink") {
			mine = append(mine, rec.Actor+" "+rec.Client+" "+string(rec.Outcome)+" "+rec.Resource)
		}
		if want := "bob SLACK ok slack user T0ACME/U0DAVE"; len(mine) != 1 || !strings.EqualFold(mine[0], want) {
			t.Errorf("audit records of unlinks: %q, want [%q]", mine, want)
		}
	})
}

func TestASlackLinkURLExpiresAndIsBounded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := newPortal(t, st)
		bob := p.session("bob")
		user := newSlackUser()
		token := p.slackLinkToken(t, "T0ACME", user)
		p.clock.Add(auth.SlackLinkTTL + time.Second)
		res := p.as(bob, fmt.Sprintf(`mutation { linkSlackUser(input: {token: %q}) { slackUser } }`, token))
		if res.code() != "NOT_FOUND" {
			t.Errorf("an expired link: %+v", res.Errors)
		}
		for i := range auth.MaxLiveSlackLinkTokens {
			if _, _, err := p.ids.IssueSlackLinkToken(context.Background(), "T0ACME", user); err != nil {
				t.Fatalf("token %d: %v", i+1, err)
			}
		}
		if _, _, err := p.ids.IssueSlackLinkToken(context.Background(), "T0ACME", user); err == nil {
			t.Errorf("a Slack user got more than %d live link tokens", auth.MaxLiveSlackLinkTokens)
		}
		for _, bad := range []string{"", "x", strings.Repeat("a", 65)} {
			if res := p.as(bob, fmt.Sprintf(`mutation { linkSlackUser(input: {token: %q}) { slackUser } }`, bad)); res.code() != "INVALID" {
				t.Errorf("token %.10q: %+v", bad, res.Errors)
			}
		}
		if _, _, err := p.ids.IssueSlackLinkToken(context.Background(), "T0ACME", "u0<script>"); err == nil {
			t.Error("a malformed Slack user ID got a token")
		}
	})
}

// The link page names the Slack user a link URL was made for before the person confirms: the
// IDs the token holds and what Slack's users.info shows (handle, name, the address when Slack
// has confirmed it). Asking uses nothing up and records nothing; only a person signed in to the
// portal may ask (an API token may not confirm either); a used, expired or malformed token says
// so before any confirmation.
func TestTheSlackLinkPreviewNamesTheSlackUserBeforeConfirming(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newSlackRig(t, st)
		bob := r.session("bob")
		const preview = `query($t: String!) { slackLinkPreview(token: $t) { teamId slackUser handle name email expiresAt } }`
		ask := func(s signedIn, token string) gqlResult {
			t.Helper()
			return r.gql(s.b.Client, r.fromPortal(), preview, map[string]any{"t": token})
		}
		token := r.slackLinkToken(t, "T0ACME", "U0DAVE")
		res := ask(bob, token)
		if len(res.Errors) > 0 {
			t.Fatalf("slackLinkPreview: %+v", res.Errors)
		}
		got := res.Data["slackLinkPreview"].(map[string]any)
		want := map[string]any{"teamId": "T0ACME", "slackUser": "U0DAVE", "handle": "dave", "name": "Dave Davis", "email": nil}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("preview %s = %v, want %v (Slack has not confirmed Dave's address: none is shown)", k, got[k], v)
			}
		}
		if exp, err := time.Parse(time.RFC3339Nano, fmt.Sprint(got["expiresAt"])); err != nil || exp.Sub(r.clock.Now().Add(auth.SlackLinkTTL)).Abs() > time.Second {
			t.Errorf("expiresAt %v (%v), want about %s from now", got["expiresAt"], err, auth.SlackLinkTTL)
		}
		if n := len(r.auditRecords(t, "auth.slack.link")); n != 0 {
			t.Errorf("a preview wrote %d audit records", n)
		}
		// An API token is not a person at a browser; a caller without a session is not signed in.
		secret, _, err := r.ids.CreateToken(operator(), auth.TokenSpec{Username: "bob", Name: "bobs-preview"})
		if err != nil {
			t.Fatal(err)
		}
		if res := r.gql(http.DefaultClient, http.Header{"Authorization": {"Bearer " + secret}}, preview, map[string]any{"t": token}); res.code() != "FORBIDDEN" {
			t.Errorf("an API token read the preview: %d %+v", res.Status, res.Errors)
		}
		if res := r.gql(http.DefaultClient, r.fromPortal(), preview, map[string]any{"t": token}); res.Status != http.StatusUnauthorized && res.code() != "UNAUTHENTICATED" {
			t.Errorf("an anonymous caller read the preview: %d %+v %+v", res.Status, res.Data, res.Errors)
		}
		// The preview used nothing up: bob confirms, and the same URL then says it was used.
		if res := r.as(bob, fmt.Sprintf(`mutation { linkSlackUser(input: {token: %q}) { slackUser } }`, token)); len(res.Errors) > 0 {
			t.Fatalf("confirming after the preview: %+v", res.Errors)
		}
		if n := len(r.auditRecords(t, "auth.slack.link")); n != 1 {
			t.Errorf("the confirmation wrote %d audit records, want 1", n)
		}
		if res := ask(bob, token); res.code() != "NOT_FOUND" || !strings.Contains(fmt.Sprint(res.Errors), "used already or has expired") {
			t.Errorf("a used token's preview: %+v %+v", res.Data, res.Errors)
		}
		// A confirmed address is shown; a Slack user users.info does not know is named by its IDs.
		if res := ask(bob, r.slackLinkToken(t, "T0ACME", "U0BOB")); fmt.Sprint(res.Data["slackLinkPreview"].(map[string]any)["email"]) != "Bob@acme.example" {
			t.Errorf("a confirmed address: %+v %+v", res.Data, res.Errors)
		}
		unknown := newSlackUser()
		res = ask(r.session("carol"), r.slackLinkToken(t, "T0ACME", unknown))
		if len(res.Errors) > 0 {
			t.Fatalf("a Slack user users.info does not know: %+v", res.Errors)
		}
		if got := res.Data["slackLinkPreview"].(map[string]any); got["slackUser"] != unknown || got["name"] != nil || got["handle"] != nil {
			t.Errorf("a Slack user users.info does not know: %v", got)
		}
		// Bounds: not a token, and expired.
		for _, bad := range []string{"", "x", strings.Repeat("a", 65), strings.Repeat("a", 10000)} {
			if res := ask(bob, bad); res.code() != "INVALID" {
				t.Errorf("token of %d characters: %+v", len(bad), res.Errors)
			}
		}
		expiring := r.slackLinkToken(t, "T0ACME", newSlackUser())
		r.clock.Add(auth.SlackLinkTTL + time.Second)
		if res := ask(bob, expiring); res.code() != "NOT_FOUND" {
			t.Errorf("an expired token's preview: %+v %+v", res.Data, res.Errors)
		}
	})
}

// A link's audit record names the Slack user it linked and the Portside user it took the link
// from, if another; the Slack user's other link tokens end with the one used.
func TestASlackLinkIsAuditedWithTheSlackUserAndWhomItTookTheLinkFrom(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := newPortal(t, st)
		bob, alice := p.session("bob"), p.session("alice")
		user := newSlackUser()
		first, second := p.slackLinkToken(t, "T0ACME", user), p.slackLinkToken(t, "T0ACME", user)
		link := func(s signedIn, token string) gqlResult {
			return p.as(s, fmt.Sprintf(`mutation { linkSlackUser(input: {token: %q}) { slackUser } }`, token))
		}
		if res := link(bob, first); len(res.Errors) > 0 {
			t.Fatalf("bob links: %+v", res.Errors)
		}
		if res := link(alice, second); res.code() != "NOT_FOUND" {
			t.Errorf("the other token, once the first was used: %+v, want NOT_FOUND", res.Errors)
		}
		if res := link(alice, p.slackLinkToken(t, "T0ACME", user)); len(res.Errors) > 0 {
			t.Fatalf("alice links with a new token: %+v", res.Errors)
		}
		var recs []struct{ Actor, Resource, Arguments, Outcome string }
		if err := st.Gorm().Raw("SELECT actor, resource, arguments, outcome FROM audit_records WHERE action = 'auth.slack.link' AND outcome = 'ok' ORDER BY id").
			Scan(&recs).Error; err != nil {
			t.Fatal(err)
		}
		want := "slack user T0ACME/" + user
		if len(recs) != 2 || recs[0].Resource != want || recs[1].Resource != want ||
			!strings.Contains(recs[0].Arguments, `"slackUser":"`+user+`"`) || strings.Contains(recs[0].Arguments, "replacedUserId") ||
			!strings.Contains(recs[1].Arguments, fmt.Sprintf(`"replacedUserId":%d`, userID(t, st, "bob"))) {
			t.Errorf("link records: %+v", recs)
		}
	})
}

// A token's creation record names the token (what token:N actors are traced back to), with the
// lifetime and scopes it was given; an empty list of scopes is refused, naming it.
func TestATokensCreationRecordNamesTheToken(t *testing.T) {
	st := storetest.SQLite(t)
	p := newPortal(t, st)
	alice := p.session("alice")
	if res := p.as(alice, `mutation { createApiToken(input: {name: "ci", ttl: "1h"}) { token { id } } }`); len(res.Errors) > 0 {
		t.Fatalf("create: %+v", res.Errors)
	}
	if res := p.as(alice, `mutation { createApiToken(input: {name: "none", scopes: []}) { token { id } } }`); res.code() != "INVALID" {
		t.Errorf("scopes []: %+v, want INVALID", res.Errors)
	}
	var recs []struct{ Resource, Arguments string }
	if err := st.Gorm().Raw("SELECT resource, arguments FROM audit_records WHERE action = 'auth.token.create' AND outcome = 'ok'").Scan(&recs).Error; err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := st.Gorm().Raw("SELECT id FROM api_tokens WHERE name = 'ci'").Scan(&id).Error; err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].Resource != fmt.Sprintf("token %d", id) || !strings.Contains(recs[0].Arguments, `"ttl":"1h0m0s"`) ||
		!strings.Contains(recs[0].Arguments, `"scopes":["read","write"]`) {
		t.Errorf("the creation's record: %+v", recs)
	}
}

// Two people confirming links of one Slack user at once: one links it, the other hears the link
// was used (NOT_FOUND), never a deadlock's UNAVAILABLE (each marked its own token, then waited
// for the other's to end it).
func TestTwoLinksOfOneSlackUserConfirmedAtOnceEndInOne(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := newPortal(t, st)
		as := func(username string) context.Context {
			return principal.With(context.Background(), &principal.Principal{UserID: userID(t, st, username), Username: username,
				Kind: principal.KindSession, Client: principal.ClientWeb})
		}
		p.session("bob")
		p.session("alice")
		for round := range 5 {
			user := newSlackUser()
			tokens := []string{p.slackLinkToken(t, "T0ACME", user), p.slackLinkToken(t, "T0ACME", user)}
			var wg sync.WaitGroup
			results := make([]error, 2)
			for i, who := range []string{"bob", "alice"} {
				wg.Go(func() { _, results[i] = p.ids.LinkSlackUser(as(who), tokens[i]) })
			}
			wg.Wait()
			ok, used := 0, 0
			for _, err := range results {
				switch {
				case err == nil:
					ok++
				case errs.Is(err, errs.NotFound):
					used++
				default:
					t.Errorf("round %d: %v, want a link or NOT_FOUND", round, err)
				}
			}
			if ok != 1 || used != 1 {
				t.Errorf("round %d: %d linked, %d told it was used; want one each", round, ok, used)
			}
		}
	})
}

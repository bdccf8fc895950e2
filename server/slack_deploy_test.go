package server_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	slackapi "github.com/slack-go/slack"

	"github.com/portside-dev/portside/deploys"
	"github.com/portside-dev/portside/graph/model"
	"github.com/portside-dev/portside/slack"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

func TestASlackDeployCommandAsksForADeployAsThePersonWhoTypedIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newSlackRig(t, st)
		name, _ := r.deployComponent(t)
		text := fmt.Sprintf("%s %s to production fixes the refund rounding", name, deployDigest)
		code, ack := r.slash(t, "/deploy", "U0BOB", text, "D1", nil)
		if code != http.StatusOK || ack.ResponseType != "ephemeral" || !strings.Contains(ack.Text, "Asking for "+name) {
			t.Fatalf("ack = %d %+v", code, ack)
		}
		posted := r.reply(t, "D1", 1)
		if posted.ResponseType != "in_channel" || !strings.Contains(posted.Text, "<@U0BOB> asked for component:default/"+name+" "+deployDigest+" in production") ||
			!strings.Contains(posted.Text, "is REQUESTED") || !strings.Contains(posted.Text, "https://portside.example/deploys/") {
			t.Fatalf("posted %+v", posted)
		}
		list := func() []deploys.Request {
			t.Helper()
			page, err := r.requests.List(operator(), deploys.Filter{Component: name}, 10, "")
			if err != nil {
				t.Fatal(err)
			}
			return page.Requests
		}
		got := list()
		if len(got) != 1 {
			t.Fatalf("%d requests, want 1", len(got))
		}
		q := got[0]
		if q.Requester != "bob" || q.Client != deploys.ClientSlack || q.Reason != "fixes the refund rounding" || q.State != deploys.Requested {
			t.Errorf("request = %+v", q)
		}
		// Slack's retry of the same command asks for nothing new: it answers with the open request.
		code, _ = r.slash(t, "/deploy", "U0BOB", text, "D1", slackRetry)
		if again := r.reply(t, "D1", 2); code != http.StatusOK || !strings.Contains(again.Text, "request "+strconv.FormatInt(q.ID, 10)+" ") {
			t.Errorf("the retry answered %d %+v, want request %d again", code, again, q.ID)
		}
		if n := len(list()); n != 1 {
			t.Errorf("%d requests after Slack's retry, want 1", n)
		}
		// Audited as Bob, through Slack.
		var found bool
		for _, rec := range r.auditRecords(t, "deploys.request.create") {
			if rec.Actor == "bob" && rec.Client == "slack" && rec.ActorKind == "chat" && rec.Outcome == "ok" {
				found = true
			}
		}
		if !found {
			t.Errorf("no audit record of bob's request through slack: %+v", r.auditRecords(t, "deploys.request.create"))
		}
		// Carol does not own the component: refused with the deploys service's reason, nothing asked.
		r.slash(t, "/deploy", "U0CAROL", fmt.Sprintf("%s %s to staging", name, deployDigest), "D2", nil)
		if refused := r.reply(t, "D2", 1); refused.ResponseType != "ephemeral" || !strings.Contains(refused.Text, "Portside did not ask for "+name) {
			t.Errorf("carol's command answered %+v", refused)
		}
		// A tag no pipeline run built is not an immutable version.
		r.slash(t, "/deploy", "U0BOB", name+" latest to production", "D3", nil)
		if refused := r.reply(t, "D3", 1); !strings.Contains(refused.Text, "version") {
			t.Errorf("a mutable tag answered %+v", refused)
		}
		// Slack has not confirmed Dave's address.
		r.slash(t, "/deploy", "U0DAVE", text, "D4", nil)
		if refused := r.reply(t, "D4", 1); !strings.Contains(refused.Text, "no confirmed e-mail address") {
			t.Errorf("an unconfirmed address answered %+v", refused)
		}
		if n := len(list()); n != 1 {
			t.Errorf("%d requests after the refusals, want 1", n)
		}
		r.slash(t, "/deploy", "U0CAROL", "status "+name, "D5", nil)
		if status := r.reply(t, "D5", 1); !strings.Contains(status.Text, "request "+strconv.FormatInt(q.ID, 10)+": "+deployDigest+" to production, REQUESTED, by bob") {
			t.Errorf("status answered %+v", status)
		}
	})
}

func TestSlackDeployCommandsThatNeedNoWorkAreAnsweredAtOnce(t *testing.T) {
	r := newSlackRig(t, storetest.SQLite(t))
	for text, want := range map[string]string{
		"help":                    "`/deploy unlink` removes that link",
		"":                        "/deploy <component> <version> to <environment>",
		"shop":                    "`shop` needs a version",
		"shop v1":                 `the version "v1" must be followed by ` + "`to <environment>`",
		"shop v1 into production": `the version "v1" must be followed by`,
		"shop v1 to":              "`to` needs an environment",
		"status":                  "`status` takes one component",
		strings.Repeat("x", 4001): "at most 4000",
	} {
		code, ack := r.slash(t, "/deploy", "U0BOB", text, "H", nil)
		if code != http.StatusOK || ack.ResponseType != "ephemeral" || !strings.Contains(ack.Text, want) {
			t.Errorf("%.30q answered %d %+v, want %q", text, code, ack, want)
		}
	}
	if _, ack := r.slash(t, "/rollback", "U0BOB", "x", "H", nil); !strings.Contains(ack.Text, "its commands are /pipeline and /deploy") {
		t.Errorf("an unknown command answered %+v", ack)
	}
}

// posted waits for the n-th message Portside posted to Slack (chat.postMessage) in channel, not
// counting its replies in threads (see thread).
func (r *slackRig) posted(t *testing.T, channel string, n int) slackapi.Message {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var in []slackapi.Message
		r.mu.Lock()
		for i, f := range r.posts {
			if f.Get("channel") != channel || f.Get("thread_ts") != "" {
				continue
			}
			m := slackapi.Message{}
			m.Channel, m.Text, m.Timestamp = channel, f.Get("text"), fmt.Sprintf("1700000000.%06d", i+1)
			if err := json.Unmarshal([]byte(f.Get("blocks")), &m.Blocks); err != nil {
				r.mu.Unlock()
				t.Fatalf("the blocks of a posted message are not Block Kit: %v: %s", err, f.Get("blocks"))
			}
			in = append(in, m)
		}
		r.mu.Unlock()
		if len(in) >= n {
			return in[n-1]
		}
	}
	t.Fatalf("no message %d was posted to %s", n, channel)
	return slackapi.Message{}
}

// updated waits for a chat.update whose blocks contain want.
func (r *slackRig) updated(t *testing.T, want string) url.Values {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		r.mu.Lock()
		for _, u := range r.updates {
			if strings.Contains(u.Get("blocks"), want) {
				r.mu.Unlock()
				return u
			}
		}
		r.mu.Unlock()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	t.Fatalf("no chat.update says %q: %v", want, r.updates)
	return nil
}

// blockText is a message's blocks as JSON, for assertions on what they say.
func blockText(t *testing.T, m slackapi.Message) string {
	t.Helper()
	b, err := json.Marshal(m.Blocks)
	if err != nil {
		t.Fatal(err)
	}
	// Block Kit's marshalling escapes <, > and & for HTML; the assertions read them plainly.
	return strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(b))
}

func TestDeployRequestsFromAnyClientArePostedToTheComponentsChannelWithButtons(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newSlackRig(t, st)
		// A component with a channel of its own: a request made through GraphQL is posted there.
		name, _ := r.deployComponentAnnotated(t, "    portside.dev/slack-channel: C0SHOP\n")
		res := r.as(r.session("bob"), fmt.Sprintf(`mutation { requestDeploy(input: {component: %q, environment: "production", version: %q, reason: "<!channel> refunds"}) { request { id } } }`, name, deployDigest))
		if len(res.Errors) > 0 {
			t.Fatalf("requestDeploy: %+v", res.Errors)
		}
		q, err := r.requests.List(operator(), deploys.Filter{Component: name}, 1, "")
		if err != nil || len(q.Requests) != 1 {
			t.Fatalf("requests %+v %v", q, err)
		}
		id := strconv.FormatInt(q.Requests[0].ID, 10)
		m := r.posted(t, "C0SHOP", 1)
		blocks := blockText(t, m)
		for _, want := range []string{"*Bob* asks to deploy *component:default/" + name + "* `" + deployDigest + "` to *production*",
			"&lt;!channel&gt; refunds", "Request " + id + " is *REQUESTED*", "https://portside.example/deploys/" + id,
			`"text":{"type":"plain_text","text":"Approve","emoji":false},"action_id":"deploy_approve","value":"` + id + `","style":"primary"`,
			`"text":{"type":"plain_text","text":"Reject","emoji":false},"action_id":"deploy_reject","value":"` + id + `","style":"danger"`} {
			if !strings.Contains(blocks, want) {
				t.Errorf("the message lacks %s: %s", want, blocks)
			}
		}
		// A component without one: a request made in Slack goes to the default channel.
		other, _ := r.deployComponent(t)
		r.slash(t, "/deploy", "U0BOB", other+" "+deployDigest+" to production", "P1", nil)
		r.reply(t, "P1", 1)
		if m := r.posted(t, "C0DEPLOYS", 1); !strings.Contains(blockText(t, m), "component:default/"+other) {
			t.Errorf("the default channel got %s", blockText(t, m))
		}
		// As the request moves, its message is updated in place and loses its buttons.
		if res := r.as(r.session("alice"), fmt.Sprintf(`mutation { approveDeployRequest(input: {id: %q, note: "go"}) { request { state } } }`,
			model.EncodeNumericID("DeployRequest", q.Requests[0].ID))); len(res.Errors) > 0 {
			t.Fatalf("approveDeployRequest: %+v", res.Errors)
		}
		u := r.updated(t, "approved by alice")
		if u.Get("channel") != "C0SHOP" || u.Get("ts") != m.Timestamp || strings.Contains(u.Get("blocks"), "deploy_approve") {
			t.Errorf("chat.update %v, want channel C0SHOP ts %s without buttons", u, m.Timestamp)
		}
	})
}

// click sends a click on a request's button as Slack signs it, from user, answered at
// /commands/<key>.
func (r *slackRig) click(t *testing.T, user, action string, id int64, key string, tweak func(*http.Request)) int {
	t.Helper()
	payload, _ := json.Marshal(map[string]any{"type": "block_actions", "team": map[string]any{"id": "T0ACME"}, "user": map[string]any{"id": user},
		"response_url": r.hooks + "/commands/" + key, "trigger_id": key,
		"actions": []map[string]any{{"type": "button", "action_id": action, "block_id": "deploy_request_" + strconv.FormatInt(id, 10), "value": strconv.FormatInt(id, 10)}}})
	body := url.Values{"payload": {string(payload)}}.Encode()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, _ := http.NewRequest(http.MethodPost, r.base+"/slack/interactions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(slack.TimestampHeader, ts)
	req.Header.Set(slack.SignatureHeader, slack.Sign([]byte(slackSecret), ts, []byte(body)))
	if tweak != nil {
		tweak(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestApproveAndRejectButtonsDecideAsTheClickerWithFourEyes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newSlackRig(t, st)
		name, _ := r.deployComponentAnnotated(t, "    portside.dev/slack-channel: C0SHOP\n")
		r.slash(t, "/deploy", "U0BOB", name+" "+deployDigest+" to production", "Q1", nil)
		r.reply(t, "Q1", 1)
		m := r.posted(t, "C0SHOP", 1)
		page, err := r.requests.List(operator(), deploys.Filter{Component: name}, 1, "")
		if err != nil || len(page.Requests) != 1 {
			t.Fatalf("requests %+v %v", page, err)
		}
		id := page.Requests[0].ID
		// The requester may not approve their own request; nor may someone who does not own it.
		if code := r.click(t, "U0BOB", slack.ActionApprove, id, "C1", nil); code != http.StatusOK {
			t.Fatalf("bob's click: %d", code)
		}
		if got := r.reply(t, "C1", 1); got.ResponseType != "ephemeral" || !strings.Contains(got.Text, "may not decide it") || !strings.Contains(got.Text, "four eyes") {
			t.Errorf("bob's own approval answered %+v", got)
		}
		r.click(t, "U0CAROL", slack.ActionReject, id, "C2", nil)
		if got := r.reply(t, "C2", 1); got.ResponseType != "ephemeral" || !strings.Contains(got.Text, "You cannot reject deploy request") {
			t.Errorf("carol's rejection answered %+v", got)
		}
		if q, _ := r.requests.Get(operator(), id); q.State != deploys.Requested {
			t.Fatalf("after the refusals the request is %s", q.State)
		}
		// Alice (an admin) approves; the message is updated in place, without buttons.
		r.click(t, "U0ALICE", slack.ActionApprove, id, "C3", nil)
		if got := r.reply(t, "C3", 1); !strings.Contains(got.Text, fmt.Sprintf("You approved deploy request %d", id)) {
			t.Errorf("alice's approval answered %+v", got)
		}
		u := r.updated(t, "approved by alice")
		if u.Get("channel") != "C0SHOP" || u.Get("ts") != m.Timestamp || strings.Contains(u.Get("blocks"), slack.ActionApprove) {
			t.Errorf("chat.update %v, want channel C0SHOP ts %s without buttons", u, m.Timestamp)
		}
		// A double click approves nothing twice: it is told the request is already approved.
		r.click(t, "U0ALICE", slack.ActionApprove, id, "C4", nil)
		if got := r.reply(t, "C4", 1); !strings.Contains(got.Text, fmt.Sprintf("Deploy request %d is already approved by alice", id)) {
			t.Errorf("the second click answered %+v", got)
		}
		ts, err := r.requests.Transitions(operator(), id)
		if err != nil {
			t.Fatal(err)
		}
		approvals := 0
		for _, tr := range ts {
			if tr.To == deploys.Approved {
				approvals++
				if tr.Actor != "alice" || tr.Client != deploys.ClientSlack {
					t.Errorf("approval %+v, want alice through SLACK", tr)
				}
			}
		}
		if approvals != 1 {
			t.Errorf("%d approvals, want 1: %+v", approvals, ts)
		}
		var audited bool
		for _, rec := range r.auditRecords(t, "deploys.request.approve") {
			if rec.Actor == "alice" && rec.Client == "slack" && rec.Outcome == "ok" {
				audited = true
			}
		}
		if !audited {
			t.Errorf("no audit record of alice's approval through slack: %+v", r.auditRecords(t, "deploys.request.approve"))
		}
		// Reject: another version of the same component, rejected by Alice from Slack.
		other := "sha256:" + strings.Repeat("ab", 32)
		q2, err := r.requests.Request(operator(), deploys.RequestInput{Component: name, Environment: "production", Version: other})
		if err != nil {
			t.Fatal(err)
		}
		r.posted(t, "C0SHOP", 2)
		r.click(t, "U0ALICE", slack.ActionReject, q2.ID, "C5", nil)
		if got := r.reply(t, "C5", 1); !strings.Contains(got.Text, fmt.Sprintf("You rejected deploy request %d", q2.ID)) || !strings.Contains(got.Text, "REJECTED") {
			t.Errorf("alice's rejection answered %+v", got)
		}
		r.updated(t, "rejected by alice")
		r.click(t, "U0BOB", slack.ActionApprove, q2.ID, "C6", nil)
		if got := r.reply(t, "C6", 1); !strings.Contains(got.Text, fmt.Sprintf("Deploy request %d is already rejected by alice", q2.ID)) {
			t.Errorf("a click after the rejection answered %+v", got)
		}
		if q, _ := r.requests.Get(operator(), q2.ID); q.State != deploys.Rejected {
			t.Errorf("the rejected request is %s", q.State)
		}
	})
}

func TestForgedOrMalformedSlackInteractionsAreRefused(t *testing.T) {
	r := newSlackRig(t, storetest.SQLite(t))
	for name, tc := range map[string]struct {
		tweak func(*http.Request)
		code  int
	}{
		"unsigned": {func(req *http.Request) { req.Header.Del(slack.SignatureHeader) }, http.StatusUnauthorized},
		"another secret": {func(req *http.Request) {
			req.Header.Set(slack.SignatureHeader, slack.Sign([]byte("guessed"), req.Header.Get(slack.TimestampHeader), []byte("x")))
		}, http.StatusUnauthorized},
		"too large": {func(req *http.Request) {
			big := strings.Repeat("a", 200<<10)
			req.Body = io.NopCloser(strings.NewReader(big))
			req.ContentLength = int64(len(big))
		}, http.StatusRequestEntityTooLarge},
	} {
		if code := r.click(t, "U0ALICE", slack.ActionApprove, 1, "F", tc.tweak); code != tc.code {
			t.Errorf("%s: %d, want %d", name, code, tc.code)
		}
	}
	if code := r.click(t, "U0ALICE", "deploy_everything", 1, "F", nil); code != http.StatusBadRequest {
		t.Errorf("an unknown button: %d, want 400", code)
	}
	if code := r.click(t, "U0ALICE", slack.ActionApprove, 0, "F", nil); code != http.StatusBadRequest {
		t.Errorf("request 0: %d, want 400", code)
	}
	// A user ID Slack never gives (here a NUL inside the payload's JSON, which the form's checks
	// do not see) is refused before it is looked up.
	if code := r.click(t, "U0AL\x00ICE", slack.ActionApprove, 1, "F", nil); code != http.StatusBadRequest {
		t.Errorf("a NUL in payload.user.id: %d, want 400", code)
	}
	recs := r.auditRecords(t, "slack.interaction")
	if len(recs) != 2 {
		t.Fatalf("%d audit records of refused interactions, want 2: %+v", len(recs), recs)
	}
	for _, rec := range recs {
		if rec.Outcome != "denied" {
			t.Errorf("record %+v", rec)
		}
	}
	scrape := httptest.NewRecorder()
	r.metrics.Handler().ServeHTTP(scrape, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, want := range []string{`portside_slack_requests_total{outcome="signature"} 1`, `portside_slack_requests_total{outcome="unsigned"} 1`} {
		if !strings.Contains(scrape.Body.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

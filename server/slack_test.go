package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack/slacktest"

	"github.com/portside-dev/portside/metrics"
	"github.com/portside-dev/portside/pipelines"
	"github.com/portside-dev/portside/server"
	"github.com/portside-dev/portside/slack"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

const slackSecret = "slack-signing-secret-test"

// slackRig is Slack around a portal: slacktest's Web API (users.info answering for the people
// below), a recorder of what Portside posts to response URLs, and /slack/commands served.
type slackRig struct {
	*portal
	base    string
	hooks   string // the response URLs' server
	metrics *metrics.Metrics
	mu      sync.Mutex
	replies map[string][]slack.Reply // response URL path → posted replies
	api     *slacktest.Server
	updates []url.Values // chat.update calls (slacktest has no chat.update)
	// posts are chat.postMessage calls: slacktest answers them but keeps them only for an RTM
	// websocket client, so the rig records them itself.
	posts []url.Values
	// bot is the rig's bot; newBot makes another on the same database (a restart, a replica).
	bot    *slack.Bot
	newBot func() *slack.Bot
}

// slackUsers are Slack's users: Bob and Carol with confirmed addresses that are their Portside
// ones, and one whose address Slack has not confirmed.
var slackUsers = map[string]struct {
	email     string
	confirmed bool
	handle    string // what users.info says of their name (the link page shows it)
	name      string
}{"U0ALICE": {"alice@acme.example", true, "alice", "Alice"}, "U0BOB": {"Bob@acme.example", true, "bob", "Bob"},
	"U0CAROL": {"carol@acme.example", true, "carol", "Carol"}, "U0DAVE": {"bob@acme.example", false, "dave", "Dave Davis"}}

func newSlackRig(t testing.TB, st *store.Store) *slackRig {
	p := newPortal(t, st)
	// Portside knows people once they have signed in.
	p.session("bob")
	p.session("carol")
	p.session("alice")
	rig := &slackRig{portal: p, metrics: metrics.New(), replies: map[string][]slack.Reply{}}
	api := slacktest.NewTestServer(func(c slacktest.Customize) {
		c.Handle("/chat.postMessage", func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			rig.mu.Lock()
			rig.posts = append(rig.posts, r.Form)
			ts := fmt.Sprintf("1700000000.%06d", len(rig.posts))
			rig.mu.Unlock()
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": r.Form.Get("channel"), "ts": ts})
		})
		c.Handle("/chat.update", func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			rig.mu.Lock()
			rig.updates = append(rig.updates, r.Form)
			rig.mu.Unlock()
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "channel": r.Form.Get("channel"), "ts": r.Form.Get("ts")})
		})
		c.Handle("/users.info", func(w http.ResponseWriter, r *http.Request) {
			_ = r.ParseForm()
			u, ok := slackUsers[r.Form.Get("user")]
			if !ok {
				_, _ = io.WriteString(w, `{"ok":false,"error":"user_not_found"}`)
				return
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "user": map[string]any{"id": r.Form.Get("user"), "team_id": "T0ACME",
				"name": u.handle, "is_email_confirmed": u.confirmed, "profile": map[string]any{"email": u.email, "display_name": u.name}}})
		})
	})
	api.Start()
	t.Cleanup(api.Stop)
	rig.api = api
	hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var reply slack.Reply
		_ = json.NewDecoder(r.Body).Decode(&reply)
		rig.mu.Lock()
		rig.replies[r.URL.Path] = append(rig.replies[r.URL.Path], reply)
		rig.mu.Unlock()
	}))
	t.Cleanup(hooks.Close)
	rig.newBot = func() *slack.Bot {
		before := p.requests.Subscribers()
		bot := slack.New(slack.Options{SigningSecret: []byte(slackSecret), BotToken: "xoxb-test", APIURL: api.GetAPIURL(),
			ResponseURLPrefix: hooks.URL + "/commands/", PortalURL: "https://portside.example", Users: p.ids, Pipelines: p.pipes, Deploys: p.requests,
			Components: p.cat, DefaultChannel: "C0DEPLOYS", Store: st})
		bot.Follow()
		for deadline := time.Now().Add(5 * time.Second); p.requests.Subscribers() <= before; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the bot does not watch the deploy requests")
			}
		}
		t.Cleanup(bot.Close)
		return bot
	}
	bot := rig.newBot()
	rig.bot = bot
	p.resolver.SlackProfiles = bot // before any request: the handler reads it per request
	srv := server.New(server.Options{GraphQL: http.NotFoundHandler(), ShutdownTimeout: time.Second, Identity: &server.Identity{Auth: p.ids, Audit: p.audit,
		PublicURL: &url.URL{Scheme: "http", Host: "127.0.0.1"}}, SlackCommands: &server.SlackCommands{Bot: bot, Audit: p.audit, Count: rig.metrics.SlackRequest}})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	rig.base, rig.hooks = ts.URL, hooks.URL
	return rig
}

// command sends /pipeline as Slack signs it, from user, answered at /commands/<trigger>.
func (r *slackRig) command(t testing.TB, user, text, trigger string, tweak func(*http.Request)) (int, slack.Reply) {
	t.Helper()
	return r.slash(t, "/pipeline", user, text, trigger, tweak)
}

// slash sends a slash command as Slack signs it, from user, answered at /commands/<trigger>.
func (r *slackRig) slash(t testing.TB, command, user, text, trigger string, tweak func(*http.Request)) (int, slack.Reply) {
	t.Helper()
	form := url.Values{"token": {"unused"}, "team_id": {"T0ACME"}, "user_id": {user}, "command": {command}, "text": {text},
		"trigger_id": {trigger}, "response_url": {r.hooks + "/commands/" + trigger}}
	body := form.Encode()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, r.base+"/slack/commands", strings.NewReader(body))
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
	defer resp.Body.Close()
	var ack slack.Reply
	_ = json.NewDecoder(resp.Body).Decode(&ack)
	return resp.StatusCode, ack
}

// slackRetry makes req Slack's later delivery of the same command: marked as a retry, and
// signed anew at its own time, as Slack signs each delivery (the same signature again is a replay).
func slackRetry(req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	req.Body = io.NopCloser(strings.NewReader(string(body)))
	ts, _ := strconv.ParseInt(req.Header.Get(slack.TimestampHeader), 10, 64)
	later := strconv.FormatInt(ts+1, 10)
	req.Header.Set(slack.RetryHeader, "1")
	req.Header.Set(slack.TimestampHeader, later)
	req.Header.Set(slack.SignatureHeader, slack.Sign([]byte(slackSecret), later, body))
}

// A request Slack signed is taken once: the very same request again (captured and replayed
// within its timestamp's five minutes) is refused, counted and audited, and asks for nothing.
func TestASlackRequestSentAgainIsRefusedAsAReplay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newSlackRig(t, st)
		form := url.Values{"team_id": {"T0ACME"}, "user_id": {"U0BOB"}, "command": {"/pipeline"}, "text": {"run payments-api ci"},
			"trigger_id": {"R1"}, "response_url": {r.hooks + "/commands/R1"}}
		body := form.Encode()
		ts := strconv.FormatInt(time.Now().Unix(), 10)
		sig := slack.Sign([]byte(slackSecret), ts, []byte(body))
		send := func(sig string) (int, string) {
			req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, r.base+"/slack/commands", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set(slack.TimestampHeader, ts)
			req.Header.Set(slack.SignatureHeader, sig)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		if code, _ := send(sig); code != http.StatusOK {
			t.Fatalf("the first delivery: %d", code)
		}
		r.reply(t, "R1", 1)
		code, answer := send(sig)
		if code != http.StatusUnauthorized || !strings.Contains(answer, "a replay") {
			t.Fatalf("the same request again: %d %s, want 401 saying it is a replay", code, answer)
		}
		// Its hex in capitals is the same signature to Verify, and so the same request.
		if code, answer := send("v0=" + strings.ToUpper(strings.TrimPrefix(sig, "v0="))); code != http.StatusUnauthorized || !strings.Contains(answer, "a replay") {
			t.Fatalf("the same request, its signature in capitals: %d %s, want 401 saying it is a replay", code, answer)
		}
		if page, _ := r.pipes.Runs(operator(), pipelines.Filter{Component: "component:default/payments-api"}, 10, ""); len(page.Runs) != 1 {
			t.Errorf("%d runs, want the first delivery's alone", len(page.Runs))
		}
		if recs := r.auditRecords(t, "slack.command"); len(recs) != 2 || !strings.Contains(string(recs[0].Arguments), `"replay"`) {
			t.Errorf("audit records of the replays: %+v", recs)
		}
		scrape := httptest.NewRecorder()
		r.metrics.Handler().ServeHTTP(scrape, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if !strings.Contains(scrape.Body.String(), `portside_slack_requests_total{outcome="replay"} 2`) {
			t.Errorf("the replay is not counted")
		}
	})
}

// reply waits for the n-th answer Portside posts for a command.
func (r *slackRig) reply(t testing.TB, trigger string, n int) slack.Reply {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		got := r.replies["/commands/"+trigger]
		r.mu.Unlock()
		if len(got) >= n {
			return got[n-1]
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no answer %d was posted for command %s", n, trigger)
	return slack.Reply{}
}

func TestASlackCommandStartsAPipelineAsThePersonWhoTypedIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newSlackRig(t, st)
		code, ack := r.command(t, "U0BOB", "run payments-api ci ref=main failAt=none", "T1", nil)
		if code != http.StatusOK || ack.ResponseType != "ephemeral" || !strings.Contains(ack.Text, "Starting ci of payments-api") {
			t.Fatalf("ack = %d %+v", code, ack)
		}
		posted := r.reply(t, "T1", 1)
		if posted.ResponseType != "in_channel" || !strings.Contains(posted.Text, "<@U0BOB> started ci of component:default/payments-api on main") ||
			!strings.Contains(posted.Text, "https://portside.example/pipelines/runs/") {
			t.Fatalf("posted %+v", posted)
		}
		page, err := r.pipes.Runs(operator(), pipelines.Filter{Component: "component:default/payments-api"}, 10, "")
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Runs) != 1 {
			t.Fatalf("%d runs, want 1", len(page.Runs))
		}
		run := page.Runs[0]
		if run.TriggeredBy != "bob" || run.Client != "slack" || run.IdempotencyKey != "slack:T1" || run.Parameters["failAt"] != "none" {
			t.Errorf("run = %+v", run)
		}
		// Slack's retry of the same command starts nothing new: it answers with the same run.
		code, _ = r.command(t, "U0BOB", "run payments-api ci ref=main failAt=none", "T1", slackRetry)
		if again := r.reply(t, "T1", 2); code != http.StatusOK || !strings.Contains(again.Text, "run "+strconv.FormatInt(run.ID, 10)+" ") {
			t.Errorf("the retry answered %d %+v, want run %d again", code, again, run.ID)
		}
		if page, _ := r.pipes.Runs(operator(), pipelines.Filter{Component: "component:default/payments-api"}, 10, ""); len(page.Runs) != 1 {
			t.Errorf("%d runs after Slack's retry, want 1", len(page.Runs))
		}
		// Audited as Bob, through Slack.
		var found bool
		for _, rec := range r.auditRecords(t, "pipelines.run.trigger") {
			if rec.Actor == "bob" && rec.Client == "slack" && rec.ActorKind == "chat" && rec.Outcome == "ok" {
				found = true
			}
		}
		if !found {
			t.Errorf("no audit record of bob's trigger through slack: %+v", r.auditRecords(t, "pipelines.run.trigger"))
		}

		// Carol does not own payments-api: refused with the pipelines service's own reason.
		r.command(t, "U0CAROL", "run payments-api ci", "T2", nil)
		if refused := r.reply(t, "T2", 1); refused.ResponseType != "ephemeral" || !strings.Contains(refused.Text, "Portside did not start ci of payments-api") {
			t.Errorf("carol's command answered %+v", refused)
		}
		// Slack has not confirmed Dave's address: he is told why, and nothing runs as Bob.
		r.command(t, "U0DAVE", "run payments-api ci", "T3", nil)
		if refused := r.reply(t, "T3", 1); !strings.Contains(refused.Text, "no confirmed e-mail address") {
			t.Errorf("an unconfirmed address answered %+v", refused)
		}
		r.command(t, "U0BOB", "status payments-api", "T4", nil)
		if status := r.reply(t, "T4", 1); !strings.Contains(status.Text, "run "+strconv.FormatInt(run.ID, 10)+": ci on main") {
			t.Errorf("status answered %+v", status)
		}
		if page, _ := r.pipes.Runs(operator(), pipelines.Filter{Component: "component:default/payments-api"}, 10, ""); len(page.Runs) != 1 {
			t.Errorf("%d runs after the refusals, want 1", len(page.Runs))
		}
	})
}

func TestSlackCommandsThatNeedNoWorkAreAnsweredAtOnce(t *testing.T) {
	r := newSlackRig(t, storetest.SQLite(t))
	for text, want := range map[string]string{
		"help":                    "/pipeline run <component> <pipeline>",
		"":                        "/pipeline run <component> <pipeline>",
		"deploy payments-api":     "Portside does not know `/pipeline deploy`",
		"run payments-api":        "`run` needs a component and a pipeline",
		"run a b x":               `"x" is not <parameter>=<value>`,
		"run a b x=1 x=2":         "parameter x is given twice",
		"status":                  "`status` takes one component",
		strings.Repeat("x", 4001): "at most 4000",
	} {
		code, ack := r.command(t, "U0BOB", text, "H", nil)
		if code != http.StatusOK || ack.ResponseType != "ephemeral" || !strings.Contains(ack.Text, want) {
			t.Errorf("%.30q answered %d %+v, want %q", text, code, ack, want)
		}
	}
	// An answer goes only to Slack's response URLs.
	code, ack := r.command(t, "U0BOB", "status payments-api", "H2", func(req *http.Request) {
		body := url.Values{"team_id": {"T0ACME"}, "user_id": {"U0BOB"}, "command": {"/pipeline"}, "text": {"status payments-api"},
			"response_url": {"http://169.254.169.254/latest/meta-data"}}.Encode()
		ts := req.Header.Get(slack.TimestampHeader)
		req.Body = io.NopCloser(strings.NewReader(body))
		req.ContentLength = int64(len(body))
		req.Header.Set(slack.SignatureHeader, slack.Sign([]byte(slackSecret), ts, []byte(body)))
	})
	if code != http.StatusOK || !strings.Contains(ack.Text, "only through Slack's response URLs") {
		t.Errorf("a foreign response URL answered %d %+v", code, ack)
	}
	// Text PostgreSQL cannot hold, even signed, is refused naming the field.
	if code, _ := r.command(t, "U0BOB", "status pay\x00ments", "H3", nil); code != http.StatusBadRequest {
		t.Errorf("a NUL in the command's text answered %d, want 400", code)
	}
	if code, _ := r.command(t, "U0\xffBOB", "status payments-api", "H4", nil); code != http.StatusBadRequest {
		t.Errorf("invalid UTF-8 in user_id answered %d, want 400", code)
	}
	// IDs Slack never gives are refused, naming the field, before anything is looked up.
	for user, trigger := range map[string]string{"U0<BOB>": "H5", "U0BOB": "H6;drop"} {
		code, ack := r.command(t, user, "status payments-api", trigger, nil)
		field := "user_id"
		if user == "U0BOB" {
			field = "trigger_id"
		}
		if code != http.StatusOK || ack.ResponseType != "ephemeral" || !strings.Contains(ack.Text, field) || !strings.Contains(ack.Text, "is not a Slack ID") {
			t.Errorf("user %q trigger %q answered %d %+v, want a refusal naming %s", user, trigger, code, ack, field)
		}
	}
}

func TestForgedSlackRequestsAreRefusedCountedAndAudited(t *testing.T) {
	r := newSlackRig(t, storetest.SQLite(t))
	for name, tc := range map[string]struct {
		tweak func(*http.Request)
		code  int
	}{
		"another secret": {func(req *http.Request) {
			req.Header.Set(slack.SignatureHeader, slack.Sign([]byte("guessed"), req.Header.Get(slack.TimestampHeader), []byte("x")))
		}, http.StatusUnauthorized},
		"replayed": {func(req *http.Request) {
			old := strconv.FormatInt(time.Now().Add(-10*time.Minute).Unix(), 10)
			b, _ := io.ReadAll(req.Body)
			req.Body = io.NopCloser(strings.NewReader(string(b)))
			req.Header.Set(slack.TimestampHeader, old)
			req.Header.Set(slack.SignatureHeader, slack.Sign([]byte(slackSecret), old, b))
		}, http.StatusUnauthorized},
		"unsigned": {func(req *http.Request) { req.Header.Del(slack.SignatureHeader) }, http.StatusUnauthorized},
		"too large": {func(req *http.Request) {
			big := strings.Repeat("a", 70<<10)
			req.Body = io.NopCloser(strings.NewReader(big))
			req.ContentLength = int64(len(big))
		}, http.StatusRequestEntityTooLarge},
	} {
		if code, _ := r.command(t, "U0BOB", "run payments-api ci", "F-"+name, tc.tweak); code != tc.code {
			t.Errorf("%s: %d, want %d", name, code, tc.code)
		}
	}
	if page, _ := r.pipes.Runs(operator(), pipelines.Filter{Component: "component:default/payments-api"}, 10, ""); len(page.Runs) != 0 {
		t.Errorf("a refused request started %d runs", len(page.Runs))
	}
	recs := r.auditRecords(t, "slack.command")
	if len(recs) != 3 {
		t.Fatalf("%d audit records of refused Slack requests, want 3: %+v", len(recs), recs)
	}
	for _, rec := range recs {
		if rec.Outcome != "denied" || strings.Contains(string(rec.Arguments), slackSecret) {
			t.Errorf("record %+v", rec)
		}
	}
	scrape := httptest.NewRecorder()
	r.metrics.Handler().ServeHTTP(scrape, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	for _, want := range []string{`portside_slack_requests_total{outcome="signature"} 1`, `portside_slack_requests_total{outcome="stale"} 1`,
		`portside_slack_requests_total{outcome="unsigned"} 1`} {
		if !strings.Contains(scrape.Body.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

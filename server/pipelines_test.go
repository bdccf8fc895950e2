package server_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth"
	"github.com/portside-dev/portside/bench/benchcat"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/graph/model"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/pipelines"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// gitlabWebhookSecret is the secret token the test portal accepts from GitLab.
const gitlabWebhookSecret = "gl-whsec-test"

// webhookSecret is the GitHub webhook secret the test portal accepts.
const webhookSecret = "whsec-test"

// pipelineRun starts payments-api's demo ci pipeline (local, for real) as the operator and returns
// its GraphQL ID; cancelled, it is cancelled and followed until it shows so.
func (p *portal) pipelineRun(t *testing.T, cancelled bool) string {
	t.Helper()
	run, err := p.pipes.Trigger(operator(), pipelines.TriggerInput{Component: "payments-api", Pipeline: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	if cancelled {
		if _, err := p.pipes.Cancel(operator(), run.ID); err != nil {
			t.Fatal(err)
		}
		testutil.Eventually(t, 30*time.Second, func() bool {
			r, _ := p.pipes.Run(operator(), run.ID)
			return r.Status == pipelines.Cancelled
		}, "run %d is never shown cancelled", run.ID)
	}
	return model.EncodeNumericID("PipelineRun", run.ID)
}

func TestAPipelineIsTriggeredAndFollowedStageByStageOverGraphQL(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := newPortal(t, st)
		bob, carol := p.session("bob"), p.session("carol")

		decl := p.as(carol, `{ entity(ref: "component:payments-api") { ... on Component { pipelines {
			component name provider repository workflow defaultRef stages parameters { name type options default required } } } } }`)
		if len(decl.Errors) > 0 {
			t.Fatalf("pipelines: %+v", decl.Errors)
		}
		list := decl.Data["entity"].(map[string]any)["pipelines"].([]any)
		release, ci := list[0].(map[string]any), list[1].(map[string]any)
		if release["name"] != "release" || release["provider"] != "github" || release["repository"] != "acme/payments-api" || release["workflow"] != "release.yaml" ||
			len(release["stages"].([]any)) != 7 || ci["name"] != "ci" || ci["provider"] != "local" {
			t.Errorf("pipelines = %v", list)
		}
		env := release["parameters"].([]any)[0].(map[string]any)
		if env["type"] != "CHOICE" || env["default"] != "staging" || len(env["options"].([]any)) != 2 {
			t.Errorf("release's environment parameter = %v", env)
		}

		// Parameters are checked against the declaration; the error names the parameter.
		bad := p.as(bob, `mutation { triggerPipeline(input: {component: "payments-api", pipeline: "ci", parameters: [{name: "failAt", value: "Deploy"}]}) { run { id } } }`)
		if bad.code() != "INVALID" || !strings.Contains(bad.Errors[0].Message, `parameters.failAt: "Deploy" is not one of the allowed values "none", "Test", "Image scan"`) {
			t.Errorf("a bad choice: %+v", bad.Errors)
		}
		// Inputs are bounded.
		var many []string
		for i := range 51 {
			many = append(many, fmt.Sprintf(`{name: "p%d", value: "x"}`, i))
		}
		for what, input := range map[string]string{
			"parameters":     `parameters: [` + strings.Join(many, ", ") + `]`,
			"idempotencyKey": `idempotencyKey: "` + strings.Repeat("k", 201) + `"`,
			"ref":            `ref: "` + strings.Repeat("r", 256) + `"`,
		} {
			r := p.as(bob, `mutation { triggerPipeline(input: {component: "payments-api", pipeline: "ci", `+input+`}) { run { id } } }`)
			if r.code() != "INVALID" || !strings.HasPrefix(r.Errors[0].Message, what+":") {
				t.Errorf("too large %s: %+v", what, r.Errors)
			}
		}
		if r := p.as(carol, `mutation { triggerPipeline(input: {component: "payments-api", pipeline: "ci"}) { run { id } } }`); r.code() != "FORBIDDEN" {
			t.Errorf("carol (not an owner) triggering: %+v", r.Errors)
		}

		sub, _, err := p.subscribe(t, bob, p.base, `subscription { pipelineRunChanged(component: "payments-api", pipeline: "ci") { id status message stages { name status } } }`)
		if err != nil {
			t.Fatal(err)
		}
		testutil.Eventually(t, 10*time.Second, func() bool { return p.pipes.Subscribers() >= 1 }, "the subscription was never registered")
		const trigger = `mutation { triggerPipeline(input: {component: "payments-api", pipeline: "ci", ref: "main",
			parameters: [{name: "failAt", value: "Test"}], idempotencyKey: "bob-1"}) { run { id status triggeredBy client idempotencyKey provider parameters { name value } } } }`
		first := p.as(bob, trigger)
		if len(first.Errors) > 0 {
			t.Fatalf("trigger: %+v", first.Errors)
		}
		run := first.Data["triggerPipeline"].(map[string]any)["run"].(map[string]any)
		if run["triggeredBy"] != "bob" || run["client"] != "web" || run["idempotencyKey"] != "bob-1" || run["provider"] != "local" {
			t.Errorf("run = %v", run)
		}
		again := p.as(bob, trigger)
		if id := again.Data["triggerPipeline"].(map[string]any)["run"].(map[string]any)["id"]; id != run["id"] {
			t.Errorf("the same idempotency key gave run %v, then %v", run["id"], id)
		}
		// Followed to the end through the subscription: Test fails, the stages after it are skipped.
		var last map[string]any
		for last == nil || last["id"] != run["id"] || last["status"] == "QUEUED" || last["status"] == "RUNNING" {
			last = nextData(t, sub)["pipelineRunChanged"].(map[string]any)
		}
		var stages []string
		for _, s := range last["stages"].([]any) {
			stages = append(stages, s.(map[string]any)["name"].(string)+"="+s.(map[string]any)["status"].(string))
		}
		if last["id"] != run["id"] || last["status"] != "FAILED" ||
			strings.Join(stages, ",") != "Build=SUCCEEDED,Test=FAILED,Container build=SKIPPED,Image scan=SKIPPED,Release=SKIPPED" {
			t.Errorf("the run ended %v (%v): %v", last["status"], last["message"], stages)
		}

		retry := p.as(bob, `mutation { retryPipelineRun(input: {id: "`+run["id"].(string)+`"}) { run { id retryOfId retryOf { id status } } } }`)
		if len(retry.Errors) > 0 {
			t.Fatalf("retry: %+v", retry.Errors)
		}
		r := retry.Data["retryPipelineRun"].(map[string]any)["run"].(map[string]any)
		if r["retryOfId"] != run["id"] || r["retryOf"].(map[string]any)["status"] != "FAILED" {
			t.Errorf("retry = %v", r)
		}
		// The retry runs the same parameters, so it fails at Test too: wait for it to be final, so
		// that the failed runs are both.
		testutil.Eventually(t, 20*time.Second, func() bool {
			st := p.as(carol, `{ pipelineRun(id: "`+r["id"].(string)+`") { status } }`)
			return len(st.Errors) == 0 && st.Data["pipelineRun"].(map[string]any)["status"] == "FAILED"
		}, "the retry never failed")
		runs := p.as(carol, `{ pipelineRuns(filter: {component: "payments-api", statuses: [FAILED]}, first: 5) { totalCount nodes { id } }
			entity(ref: "component:payments-api") { ... on Component { pipelines { name runs(first: 1) { totalCount pageInfo { hasNextPage } nodes { id } } } } }
			node(id: "`+run["id"].(string)+`") { ... on PipelineRun { status commitSha stages { name durationSeconds } } } }`)
		if len(runs.Errors) > 0 {
			t.Fatalf("runs: %+v", runs.Errors)
		}
		if all := runs.Data["pipelineRuns"].(map[string]any); all["totalCount"] != float64(2) {
			t.Errorf("failed runs of payments-api = %v", all)
		}
		ciRuns := runs.Data["entity"].(map[string]any)["pipelines"].([]any)[1].(map[string]any)["runs"].(map[string]any)
		if ciRuns["totalCount"] != float64(2) || ciRuns["nodes"].([]any)[0].(map[string]any)["id"] != r["id"] || ciRuns["pageInfo"].(map[string]any)["hasNextPage"] != true {
			t.Errorf("ci's runs, newest first = %v", ciRuns)
		}
		if n := runs.Data["node"].(map[string]any); n["status"] != "FAILED" {
			t.Errorf("node = %v", n)
		}
	})
}

func sign(secret, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func TestAForgedGitHubWebhookIsRefusedAndAudited(t *testing.T) {
	p := newPortal(t, storetest.SQLite(t))
	body := `{"action":"completed","workflow_run":{"id":4242}}`
	post := func(signature string) int {
		req, _ := http.NewRequestWithContext(context.Background(), "POST", p.base+"/webhooks/github", strings.NewReader(body))
		req.Header.Set("X-GitHub-Event", "workflow_run")
		req.Header.Set("X-GitHub-Delivery", "d-1")
		if signature != "" {
			req.Header.Set("X-Hub-Signature-256", signature)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(sign(webhookSecret, body)); code != http.StatusNoContent {
		t.Errorf("a signed delivery = %d, want 204", code)
	}
	if code := post(sign("guessed", body)); code != http.StatusUnauthorized {
		t.Errorf("a forged delivery = %d, want 401", code)
	}
	if code := post(""); code != http.StatusUnauthorized {
		t.Errorf("an unsigned delivery = %d, want 401", code)
	}
	recs := p.auditRecords(t, "pipelines.webhook.github")
	if len(recs) != 2 {
		t.Fatalf("%d audit records of refused webhooks, want 2: %+v", len(recs), recs)
	}
	for _, r := range recs {
		if r.Outcome != "denied" || r.Resource != "webhook delivery d-1" || strings.Contains(string(r.Arguments), webhookSecret) || strings.Contains(r.Message, "guessed") {
			t.Errorf("record = %+v", r)
		}
	}
}

// Anyone can POST to /webhooks/github: a flood of forged deliveries is refused one by one but
// audited at most DeniedPerMinute times a minute per address, and the next record counts the
// ones left out; a genuine delivery in the middle of the flood is still served. The address is
// the connection's: a forwarded-for header naming another each time (no trusted proxies are
// configured) changes nothing.
func TestAFloodOfForgedWebhooksDoesNotFillTheAuditLog(t *testing.T) {
	p := newPortal(t, storetest.SQLite(t))
	body := `{"action":"completed","workflow_run":{"id":4242}}`
	forwarded := 0
	post := func(signature string) int {
		req, _ := http.NewRequestWithContext(context.Background(), "POST", p.base+"/webhooks/github", strings.NewReader(body))
		forwarded++
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.0.0.%d", forwarded))
		req.Header.Set("X-Real-IP", fmt.Sprintf("10.1.0.%d", forwarded))
		req.Header.Set("X-GitHub-Event", "workflow_run")
		req.Header.Set("X-GitHub-Delivery", "flood")
		req.Header.Set("X-Hub-Signature-256", signature)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for i := range 25 {
		if code := post(sign(fmt.Sprintf("guess-%d", i), body)); code != http.StatusUnauthorized {
			t.Fatalf("forged delivery %d = %d, want 401", i, code)
		}
	}
	if code := post(sign(webhookSecret, body)); code != http.StatusNoContent {
		t.Errorf("a signed delivery during the flood = %d, want 204", code)
	}
	if n := len(p.auditRecords(t, "pipelines.webhook.github")); n != 10 {
		t.Fatalf("%d audit records for 25 forged deliveries in a minute, want 10", n)
	}
	p.clock.Add(time.Minute)
	if code := post("sha256=00"); code != http.StatusUnauthorized {
		t.Fatalf("a forged delivery the next minute = %d, want 401", code)
	}
	recs := p.auditRecords(t, "pipelines.webhook.github")
	if len(recs) != 11 {
		t.Fatalf("%d audit records after the next minute's delivery, want 11", len(recs))
	}
	var newest audit.Record
	for _, r := range recs {
		if r.ID > newest.ID {
			newest = r
		}
	}
	if !strings.Contains(string(newest.Arguments), `"suppressedBefore":15`) || newest.Outcome != "denied" {
		t.Errorf("the next minute's record = %s %s, want suppressedBefore 15", newest.Outcome, newest.Arguments)
	}
	for _, r := range recs {
		if !strings.Contains(string(r.Arguments), `"remoteAddr":"127.0.0.1"`) {
			t.Errorf("a record names the address %s, want the connection's (127.0.0.1)", r.Arguments)
		}
	}
}

func TestAForgedGitLabWebhookIsRefusedAndAudited(t *testing.T) {
	p := newPortal(t, storetest.SQLite(t))
	body := `{"object_kind":"pipeline","object_attributes":{"id":4242,"status":"running"}}`
	post := func(token, body string) int {
		req, _ := http.NewRequestWithContext(context.Background(), "POST", p.base+"/webhooks/gitlab", strings.NewReader(body))
		req.Header.Set("X-Gitlab-Event", "Pipeline Hook")
		req.Header.Set("X-Gitlab-Event-UUID", "e-1")
		if token != "" {
			req.Header.Set("X-Gitlab-Token", token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(gitlabWebhookSecret, body); code != http.StatusNoContent {
		t.Errorf("a delivery with the secret token = %d, want 204", code)
	}
	if code := post("guessed", body); code != http.StatusUnauthorized {
		t.Errorf("a forged delivery = %d, want 401", code)
	}
	if code := post("", body); code != http.StatusUnauthorized {
		t.Errorf("a delivery without a token = %d, want 401", code)
	}
	// GitHub's secret is not GitLab's.
	if code := post(webhookSecret, body); code != http.StatusUnauthorized {
		t.Errorf("a delivery with GitHub's secret = %d, want 401", code)
	}
	if code := post(gitlabWebhookSecret, strings.Repeat(" ", 5<<20+1)); code != http.StatusRequestEntityTooLarge {
		t.Errorf("a delivery over the size bound = %d, want 413", code)
	}
	recs := p.auditRecords(t, "pipelines.webhook.gitlab")
	if len(recs) != 3 {
		t.Fatalf("%d audit records of refused webhooks, want 3: %+v", len(recs), recs)
	}
	for _, r := range recs {
		if r.Outcome != "denied" || r.Resource != "webhook delivery e-1" || strings.Contains(string(r.Arguments), gitlabWebhookSecret) ||
			strings.Contains(r.Message, "guessed") || strings.Contains(r.Message, webhookSecret) {
			t.Errorf("record = %+v", r)
		}
	}
}

// The component page with its pipelines and their last runs is answered from the response cache
// while no run changes, and afresh once one does: a new run, a run's stages moving, a cancel.
func TestTheComponentPageWithItsPipelinesIsCachedUntilARunChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := newPortal(t, st)
		secret, _, err := p.ids.CreateToken(operator(), auth.TokenSpec{Username: "bob", Name: "page", Scopes: []string{"read"}})
		if err != nil {
			t.Fatal(err)
		}
		vars := map[string]any{benchcat.ComponentPagePipelines.Var: "component:default/payments-api"}
		type page struct {
			Entity struct {
				Pipelines []struct {
					Name string
					Runs struct {
						TotalCount int
						Nodes      []struct{ Status string }
					}
				}
			}
		}
		ask := func() page {
			t.Helper()
			res := p.gql(http.DefaultClient, bearer(secret), benchcat.ComponentPagePipelines.Query, vars)
			if len(res.Errors) > 0 {
				t.Fatalf("component page: %+v", res.Errors)
			}
			raw, _ := json.Marshal(res.Data)
			var out page
			if err := json.Unmarshal(raw, &out); err != nil || len(out.Entity.Pipelines) != 2 || out.Entity.Pipelines[1].Name != "ci" {
				t.Fatalf("component page: %s", raw)
			}
			return out
		}
		ci := func(pg page) (int, string) {
			runs := pg.Entity.Pipelines[1].Runs
			if len(runs.Nodes) == 0 {
				return runs.TotalCount, ""
			}
			return runs.TotalCount, runs.Nodes[0].Status
		}
		counter := storetest.CountStatements(st.Gorm())
		cached := func(why string) {
			t.Helper()
			var n int64
			if testutil.Await(5*time.Second, func() bool {
				ask()
				counter.Reset()
				ask()
				n = counter.Reset()
				return n == 0
			}) {
				return
			}
			t.Errorf("%s: the repeated component page still ran %d statements; want it from the response cache", why, n)
		}
		until := func(what string, cond func(page) bool) {
			t.Helper()
			testutil.Eventually(t, 30*time.Second, func() bool { return cond(ask()) },
				func() string { return fmt.Sprintf("the component page never showed %s: %+v", what, ask()) })
		}

		if n, _ := ci(ask()); n != 0 {
			t.Fatalf("ci has %d runs before any was triggered", n)
		}
		cached("no runs")

		// The local provider runs the ci pipeline for real; every change of it shows.
		first, err := p.pipes.Trigger(operator(), pipelines.TriggerInput{Component: "payments-api", Pipeline: "ci", IdempotencyKey: "page-1"})
		if err != nil {
			t.Fatal(err)
		}
		until("the run, succeeded", func(pg page) bool { n, s := ci(pg); return n == 1 && s == "SUCCEEDED" })
		cached("after the run")

		second, err := p.pipes.Trigger(operator(), pipelines.TriggerInput{Component: "payments-api", Pipeline: "ci", IdempotencyKey: "page-2"})
		if err != nil {
			t.Fatal(err)
		}
		until("the second run", func(pg page) bool { n, _ := ci(pg); return n == 2 })
		// It may have finished first: then the cancel is a CONFLICT, and the run shows SUCCEEDED.
		if _, err := p.pipes.Cancel(operator(), second.ID); err != nil && !errs.Is(err, errs.Conflict) {
			t.Fatalf("cancel of run %d: %v", second.ID, err)
		}
		until("the second run, finished", func(pg page) bool { _, s := ci(pg); return s == "CANCELLED" || s == "SUCCEEDED" })
		cached("after the second run")
		if first.ID == second.ID {
			t.Errorf("two idempotency keys gave one run")
		}
	})
}

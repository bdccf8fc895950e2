package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"

	"github.com/portside-dev/portside/alerts"
	"github.com/portside-dev/portside/graph/model"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

const (
	amToken    = "am-token-test"
	amUser     = "alertmanager"
	amPassword = "am-password-test"
)

// alertmanagerPayload reads one of the alerts package's Alertmanager v0.27 payloads.
func alertmanagerPayload(t testing.TB, name string) []byte {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("..", "alerts", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// deliver posts a delivery to /webhooks/alertmanager as Alertmanager does, with auth set by how.
func (p *portal) deliver(t testing.TB, body []byte, how func(*http.Request)) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, p.base+"/webhooks/alertmanager", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Alertmanager/0.27.0")
	if how != nil {
		how(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, readAll(t, resp)
}

func withBearer(tok string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
}

func withBasic(user, pw string) func(*http.Request) {
	return func(r *http.Request) { r.SetBasicAuth(user, pw) }
}

var fingerprints atomic.Int64

// alertDuringCanary puts payments-api's canary under way, delivers a HighErrorRate alert with a
// fingerprint of its own and returns the alert's GraphQL ID.
func (p *portal) alertDuringCanary(t *testing.T) string {
	t.Helper()
	// Argo CD shows a paused canary's application Progressing; an aborted one left Healthy is
	// resting, and Portside reads its Rollout again only once it moves.
	p.argo.Update("argocd", "payments-api", func(a *v1alpha1.Application) { a.Status.Health.Status = "Progressing" })
	p.canaryAt(false)
	var pl alerts.Payload
	if err := json.Unmarshal(alertmanagerPayload(t, "firing.json"), &pl); err != nil {
		t.Fatal(err)
	}
	pl.Alerts = pl.Alerts[:1]
	pl.Alerts[0].Fingerprint = fmt.Sprintf("fa%014d", fingerprints.Add(1))
	res, err := p.alerts.Receive(context.Background(), pl)
	if err != nil || res.DuringCanary != 1 {
		t.Fatalf("delivery: %+v, %v; want the alert during payments-api's canary", res, err)
	}
	list, err := p.alerts.ForComponent(operator(), "component:default/payments-api", alerts.Filter{}, 1)
	if err != nil || len(list) == 0 {
		t.Fatalf("alerts: %v, %v", list, err)
	}
	for _, a := range list {
		if a.Fingerprint == pl.Alerts[0].Fingerprint {
			return model.EncodeNumericID("Alert", a.ID)
		}
	}
	t.Fatalf("the alert %s was not recorded: %+v", pl.Alerts[0].Fingerprint, list)
	return ""
}

// Alertmanager's deliveries are taken with the configured bearer token or basic auth only; a
// refused one is audited (as the CI engines' webhooks are); an oversized or malformed one is refused
// without being recorded.
func TestTheAlertmanagerWebhookTakesOnlyItsCredentialAndABoundedPayload(t *testing.T) {
	st := storetest.SQLite(t)
	p := newPortal(t, st)
	body := alertmanagerPayload(t, "firing.json")
	denied := func() (n int) {
		st.Gorm().Raw("SELECT count(*) FROM audit_records WHERE action = 'alerts.webhook.alertmanager' AND outcome = 'denied'").Scan(&n)
		return n
	}
	for name, how := range map[string]func(*http.Request){
		"no credential":      nil,
		"wrong bearer token": withBearer("am-token-tesT"),
		"wrong password":     withBasic(amUser, "nope"),
		"wrong user":         withBasic("someone", amPassword),
	} {
		before := denied()
		if code, resp := p.deliver(t, body, how); code != http.StatusUnauthorized || !strings.Contains(resp, "UNAUTHENTICATED") {
			t.Errorf("%s: %d %s, want 401", name, code, resp)
		}
		if denied() != before+1 {
			t.Errorf("%s: the refusal was not audited", name)
		}
	}
	if n, _ := p.alerts.ForComponent(operator(), "component:default/payments-api", alerts.Filter{}, 10); len(n) != 0 {
		t.Fatalf("refused deliveries recorded alerts: %+v", n)
	}
	if code, resp := p.deliver(t, bytes.Repeat([]byte(" "), 5<<20), withBearer(amToken)); code != http.StatusRequestEntityTooLarge {
		t.Errorf("5 MB delivery: %d %.200s", code, resp)
	}
	if code, resp := p.deliver(t, []byte(`{"version":"3"}`), withBearer(amToken)); code != http.StatusBadRequest || !strings.Contains(resp, "version") {
		t.Errorf("version 3: %d %s", code, resp)
	}
	// An alert with text no database can hold is left out and named; its delivery's others are taken.
	withNul := bytes.Replace(body, []byte(`"fingerprint":"4c1d2b3a5e6f7081"`), []byte(`"fingerprint":"4c1d\u0000"`), 1)
	if bytes.Equal(withNul, body) {
		t.Fatal("firing.json's first fingerprint was not found to spoil")
	}
	code, resp := p.deliver(t, withNul, withBearer(amToken))
	if code != http.StatusOK || !strings.Contains(resp, `"firing":2`) || !strings.Contains(resp, `"refused":[{"alert":0,"code":"INVALID","message":"alerts[0].fingerprint: holds a NUL`) {
		t.Fatalf("a delivery with one spoilt alert: %d %s", code, resp)
	}
	code, resp = p.deliver(t, body, withBearer(amToken))
	if code != http.StatusOK || !strings.Contains(resp, `"firing":3`) || !strings.Contains(resp, `"unmapped":1`) || strings.Contains(resp, "refused") {
		t.Fatalf("bearer delivery: %d %s", code, resp)
	}
	if code, resp := p.deliver(t, alertmanagerPayload(t, "resolved.json"), withBasic(amUser, amPassword)); code != http.StatusOK || !strings.Contains(resp, `"resolved":1`) {
		t.Fatalf("basic auth delivery: %d %s", code, resp)
	}
	bob := p.session("bob")
	res := p.as(bob, `{ entity(ref: "component:default/payments-api") { ... on Component { alerts { rule status endsAt
		guidance { owner remediation deadline missing runbooks { url source } } } } }
		alertRules(missingOnly: true) { rule component guidance { missing } } }`)
	if len(res.Errors) > 0 {
		t.Fatalf("%+v", res.Errors)
	}
	got, _ := json.Marshal(res.Data)
	// (encoding/json writes the keys sorted)
	for _, want := range []string{`"endsAt":"2026-12-03T14:10:01.123456Z","guidance":{"deadline":"2026-12-03T14:25:01.123456Z","missing":[],` +
		`"owner":"group:default/team-payments","remediation":"30m0s","runbooks":[{"source":"alert annotation runbook_url",` +
		`"url":"https://runbooks.acme.example/payments/high-error-rate"},`,
		`"remediation":"4h0m0s","runbooks":[{"source":"metadata.links[0]","url":"https://runbooks.acme.example/payments/payments-api"}]},"rule":"HighLatency","status":"FIRING"}`,
		`"alertRules":[{"component":null,"guidance":{"missing":["OWNER","RUNBOOK","REMEDIATION"]},"rule":"NodeDiskFull"}]`} {
		if !strings.Contains(string(got), want) {
			t.Errorf("GraphQL answer lacks %s:\n%s", want, got)
		}
	}
}

// An alert that fires while payments-api's canary is under way shows on the canary's rollout, and
// its owners (not others) abort the canary from it, on the scripted Argo CD; the abort is audited
// as the canary's abort with the alert as its cause.
func TestAnAlertDuringTheCanaryShowsOnTheRolloutAndItsOwnersAbortFromIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := newPortal(t, st)
		id := p.alertDuringCanary(t)
		bob, carol := p.session("bob"), p.session("carol")
		res := p.as(bob, fmt.Sprintf(`{ alert(id: %q) { rule duringCanary { instance appNamespace application } } }`, id))
		if got, _ := json.Marshal(res.Data); !strings.Contains(string(got), `"duringCanary":{"appNamespace":"argocd","application":"payments-api","instance":"prod"}`) {
			t.Fatalf("alert: %s %+v", got, res.Errors)
		}
		res = p.as(bob, `{ entity(ref: "component:default/payments-api") { ... on Component { rollouts(first: 5) { nodes { startedAt alerts { id rule } } } } } }`)
		if got, _ := json.Marshal(res.Data); !strings.Contains(string(got), fmt.Sprintf(`"alerts":[{"id":%q,"rule":"HighErrorRate"}]`, id)) {
			t.Errorf("the rollout does not show the alert: %s %+v", got, res.Errors)
		}
		q := fmt.Sprintf(`mutation { abortCanaryFromAlert(input: {alert: %q}) { deployment { application } } }`, id)
		if res := p.as(carol, q); res.code() != "FORBIDDEN" {
			t.Fatalf("carol aborting: %+v", res)
		}
		if res := p.as(bob, q); len(res.Errors) > 0 {
			t.Fatalf("bob aborting: %+v", res.Errors)
		}
		p.canaryAt(true) // waits until Portside has read the aborted canary from Argo CD
		var last struct{ Action, Actor, Arguments string }
		st.Gorm().Raw("SELECT action, actor, arguments FROM audit_records WHERE outcome = 'ok' ORDER BY id DESC LIMIT 1").Scan(&last)
		if last.Action != "rollouts.deployment.abort" || last.Actor != "bob" || !strings.Contains(last.Arguments, "HighErrorRate") {
			t.Errorf("the abort's record = %+v", last)
		}
	})
}

// BenchmarkAlertmanagerWebhook100Alerts is one delivery of 100 firing alerts (mapped, deduplicated
// and recorded on SQLite) through the HTTP handler; the target is 50 ms.
func BenchmarkAlertmanagerWebhook100Alerts(b *testing.B) {
	p := newPortal(b, storetest.SQLite(b))
	var pl alerts.Payload
	if err := json.Unmarshal(alertmanagerPayload(b, "firing.json"), &pl); err != nil {
		b.Fatal(err)
	}
	tmpl := pl.Alerts[0]
	bodies := make([][]byte, b.N)
	for n := range b.N {
		pl.Alerts = make([]alerts.PayloadAlert, 100)
		for i := range pl.Alerts {
			a := tmpl
			a.Labels = map[string]string{"alertname": fmt.Sprintf("Rule%d", i%10), "service": "payments-api", "pod": fmt.Sprintf("p-%d", i)}
			a.Fingerprint = fmt.Sprintf("%08x%08x", n, i)
			a.StartsAt = time.Date(2026, 12, 3, 13, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Second)
			pl.Alerts[i] = a
		}
		bodies[n], _ = json.Marshal(pl)
	}
	b.ResetTimer()
	for n := range b.N {
		if code, resp := p.deliver(b, bodies[n], withBearer(amToken)); code != http.StatusOK {
			b.Fatalf("%d %s", code, resp)
		}
	}
}

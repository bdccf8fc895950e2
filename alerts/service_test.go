package alerts_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portside-dev/portside/alerts"
	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/sources"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/rollouts"
	"github.com/portside-dev/portside/runbooks"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// The catalog the tests map alerts against: payments-api (team-payments) selects its alerts by
// service and env and gives HighErrorRate 30 minutes; checkout (no owner's runbook, no
// remediation) by service alone; ledger declares no selector.
const catalogYAML = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments-api
  annotations:
    grafana/alert-label-selector: "service=payments-api,env=prod"
    portside.dev/alert-remediation: "HighErrorRate=30m"
    argocd/app-name: payments-api
  links:
    - url: https://runbooks.acme.example/payments/latency
      title: HighLatency runbook
      type: runbook
    - url: https://runbooks.acme.example/payments
      title: Payments runbook
      type: runbook
spec:
  type: service
  lifecycle: production
  owner: team-payments
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout
  annotations:
    grafana/alert-label-selector: "service=checkout"
spec:
  type: service
  lifecycle: production
  owner: team-shop
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments-api-canary
  annotations:
    grafana/alert-label-selector: "service=payments-api"
spec:
  type: service
  lifecycle: experimental
  owner: team-payments
`

const paymentsAPI = "component:default/payments-api"

var (
	operator = principal.With(context.Background(), principal.System("test", principal.ClientCLI))
	bob      = principal.With(context.Background(), &principal.Principal{Username: "bob", Groups: []string{"group:default/team-payments"}, Kind: principal.KindSession, Client: principal.ClientWeb}) // owns payments-api
	carol    = principal.With(context.Background(), &principal.Principal{Username: "carol", Kind: principal.KindSession, Client: principal.ClientWeb})
)

// fakeCanaries stands in for the rollouts: what deployments a component has and what aborting
// one does.
type fakeCanaries struct {
	deployments func(annotations map[string]string) []rollouts.Deployment
	aborted     []rollouts.Target
}

func (f *fakeCanaries) Deployments(_ context.Context, annotations map[string]string) ([]rollouts.Deployment, error) {
	if f.deployments == nil {
		return nil, nil
	}
	return f.deployments(annotations), nil
}

func (f *fakeCanaries) Abort(_ context.Context, t rollouts.Target) (rollouts.Deployment, error) {
	f.aborted = append(f.aborted, t)
	return rollouts.Deployment{Instance: t.Instance, AppNamespace: t.AppNamespace, Application: t.Application}, nil
}

// canaryOf makes payments-api's deployment "prod/argocd/payments-api" with a canary at step 1 of
// 3 (under way) or done.
func canaryOf(underWay bool) func(map[string]string) []rollouts.Deployment {
	return func(ann map[string]string) []rollouts.Deployment {
		if ann["argocd/app-name"] != "payments-api" {
			return nil
		}
		c := &rollouts.Canary{Steps: make([]rollouts.CanaryStep, 3), CurrentStep: 1, Phase: "Paused"}
		if !underWay {
			c.CurrentStep, c.Phase = 3, "Healthy"
		}
		return []rollouts.Deployment{{Instance: "prod", AppNamespace: "argocd", Application: "payments-api", Canary: c}}
	}
}

type fixture struct {
	svc      *alerts.Service
	st       *store.Store
	cat      *catalog.Service
	canaries *fakeCanaries
	clock    time.Time
}

func newFixture(t *testing.T, st *store.Store) *fixture {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "catalog-info.yaml")
	if err := os.WriteFile(path, []byte(catalogYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	log := audit.New(st, nil)
	cat := catalog.NewService(st, catalog.Options{Audit: log, Readers: map[catalog.LocationType]catalog.Reader{catalog.LocationFile: &sources.Files{}}})
	if _, err := cat.RegisterLocation(operator, catalog.LocationSpec{Type: catalog.LocationFile, Target: path}); err != nil {
		t.Fatal(err)
	}
	books := runbooks.NewService(st, runbooks.Options{Catalog: cat, Audit: log})
	t.Cleanup(books.Stop)
	f := &fixture{st: st, cat: cat, canaries: &fakeCanaries{}, clock: time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC)}
	f.svc = alerts.NewService(st, alerts.Options{Catalog: cat, Canaries: f.canaries, Runbooks: books, Audit: log, Now: func() time.Time { return f.clock }})
	return f
}

func payload(t testing.TB, name string) alerts.Payload {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	p, err := alerts.ParsePayload(body)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return p
}

func byRule(list []alerts.Alert) map[string]alerts.Alert {
	out := map[string]alerts.Alert{}
	for _, a := range list {
		out[a.Rule] = a
	}
	return out
}

// Alertmanager v0.27's payload reads as it is sent: version 4, the group, every alert with its
// labels, annotations, times and fingerprint; a firing alert's endsAt is the zero time.
func TestAnAlertmanagerPayloadReadsAsSent(t *testing.T) {
	p := payload(t, "firing.json")
	if p.Version != "4" || p.Receiver != "portside" || p.Status != "firing" || p.GroupKey != `{}/{env="prod"}:{env="prod"}` ||
		p.ExternalURL != "http://alertmanager-0:9093" || p.GroupLabels["env"] != "prod" || len(p.Alerts) != 3 {
		t.Fatalf("payload = %+v", p)
	}
	a := p.Alerts[0]
	if a.Labels["alertname"] != "HighErrorRate" || a.Fingerprint != "4c1d2b3a5e6f7081" || a.StartsAt.Nanosecond() != 123456789 ||
		!a.EndsAt.IsZero() || !strings.Contains(a.GeneratorURL, "&g0.tab=1") || a.Annotations["runbook_url"] == "" {
		t.Errorf("first alert = %+v", a)
	}
}

func TestABadPayloadIsRefusedNamingTheField(t *testing.T) {
	for _, c := range []struct{ body, field string }{
		{`{"version":"3","alerts":[]}`, "version"},
		{`{"version":"4","groupKey":"g","alerts":[{"status":"pending","labels":{"alertname":"X"},"startsAt":"2026-12-03T13:55:01Z","fingerprint":"ab"}]}`, "alerts[0].status"},
		{`{"version":"4","groupKey":"g","alerts":[{"status":"firing","labels":{"alertname":"X"},"startsAt":"2026-12-03T13:55:01Z"}]}`, "alerts[0].fingerprint"},
		{`{"version":"4","groupKey":"g","alerts":[{"status":"firing","labels":{},"startsAt":"2026-12-03T13:55:01Z","fingerprint":"ab"}]}`, "alerts[0].labels.alertname"},
		{`{"version":"4","groupKey":"g","alerts":[{"status":"firing","labels":{"alertname":"X"},"fingerprint":"ab"}]}`, "alerts[0].startsAt"},
		{`{"version":"4","groupKey":"g","alerts":[{"status":"firing","labels":{"alertname":"X","big":"` + strings.Repeat("x", alerts.MaxValue+1) + `"},"startsAt":"2026-12-03T13:55:01Z","fingerprint":"ab"}]}`, "alerts[0].labels.big"},
		{`[1,2]`, ""},
	} {
		_, err := alerts.ParsePayload([]byte(c.body))
		if errs.CodeOf(err) != errs.Invalid || !strings.Contains(errs.PublicMessage(err), c.field) {
			t.Errorf("%.80s: %v; want INVALID naming %q", c.body, err, c.field)
		}
	}
	many := `{"version":"4","alerts":[` + strings.TrimSuffix(strings.Repeat(`{},`, alerts.MaxAlerts+1), ",") + `]}`
	if _, err := alerts.ParsePayload([]byte(many)); errs.CodeOf(err) != errs.Invalid || !strings.Contains(err.Error(), "max_alerts") {
		t.Errorf("%d alerts: %v", alerts.MaxAlerts+1, err)
	}
}

// A fingerprint is bounded in characters, counted as characters: 64 of two bytes each are taken,
// 65 are refused with their count.
func TestAFingerprintIsBoundedInCharacters(t *testing.T) {
	body := func(fp string) []byte {
		return []byte(`{"version":"4","groupKey":"g","alerts":[{"status":"firing","labels":{"alertname":"X"},"startsAt":"2026-12-03T13:55:01Z","fingerprint":"` + fp + `"}]}`)
	}
	if p, err := alerts.ParsePayload(body(strings.Repeat("é", 64))); err != nil || len(p.Alerts) != 1 {
		t.Errorf("a fingerprint of 64 characters of 2 bytes: %+v, %v; want it taken", p.Refused, err)
	}
	_, err := alerts.ParsePayload(body(strings.Repeat("é", 65)))
	if want := "alerts[0].fingerprint: must be Alertmanager's fingerprint (1 to 64 characters), got 65"; errs.CodeOf(err) != errs.Invalid || errs.PublicMessage(err) != want {
		t.Errorf("a fingerprint of 65 characters: %v; want INVALID %q", err, want)
	}
}

// An alert Portside cannot take (text PostgreSQL cannot hold, a missing fingerprint) is left out
// naming its field, and the others of its delivery are recorded: Alertmanager would not send
// them again. A text field of the delivery itself refuses it whole.
func TestAnAlertThatCannotBeTakenLosesNotTheOthersOfItsDelivery(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		alert := func(fp, label, annotation string) string {
			return `{"status":"firing","labels":{"alertname":"HighErrorRate","service":"payments-api","env":"prod","x":"` + label +
				`"},"annotations":{"summary":"` + annotation + `"},"startsAt":"2026-12-03T13:55:01Z","fingerprint":"` + fp + `"}`
		}
		body := `{"version":"4","groupKey":"g","alerts":[` + alert("aa01", "ok", "fine") + `,` + alert("aa02", "ok", `bad\u0000`) + `,` +
			alert("", "ok", "fine") + `,` + alert("aa04", `\u0000`, "fine") + `]}`
		p, err := alerts.ParsePayload([]byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Alerts) != 1 || p.Alerts[0].Fingerprint != "aa01" || len(p.Refused) != 3 {
			t.Fatalf("kept %+v, refused %+v; want aa01 kept and three refused", p.Alerts, p.Refused)
		}
		for i, want := range map[int]string{0: "alerts[1].annotations.summary: holds a NUL", 1: "alerts[2].fingerprint", 2: "alerts[3].labels.x: holds a NUL"} {
			if r := p.Refused[i]; errs.CodeOf(r.Err) != errs.Invalid || !strings.Contains(r.Err.Error(), want) {
				t.Errorf("refused[%d] = %d %v, want INVALID %q", i, r.Index, r.Err, want)
			}
		}
		if res, err := f.svc.Receive(context.Background(), p); err != nil || res.Firing != 1 {
			t.Fatalf("Receive = %+v, %v; want the one alert recorded", res, err)
		}
		got, err := f.svc.ForComponent(bob, paymentsAPI, alerts.Filter{}, 10)
		if err != nil || len(got) != 1 || got[0].Fingerprint != "aa01" {
			t.Errorf("payments-api's alerts %+v, %v; want aa01", got, err)
		}
		for _, bad := range []string{
			`{"version":"4","groupKey":"g\u0000","alerts":[` + alert("bb01", "ok", "fine") + `]}`,
			`{"version":"4","groupKey":"g","commonLabels":{"a\u0000":"b"},"alerts":[` + alert("bb01", "ok", "fine") + `]}`,
		} {
			if _, err := alerts.ParsePayload([]byte(bad)); errs.CodeOf(err) != errs.Invalid || !strings.Contains(err.Error(), "NUL") {
				t.Errorf("%.90s: %v, want the delivery refused naming the NUL", bad, err)
			}
		}
	})
}

// Each alert goes to the component whose selector it matches, the most specific selector first;
// an alert no selector matches is recorded unmapped. Repeated deliveries record nothing twice,
// and the resolved delivery closes the firing alert.
func TestAlertsAreMappedRecordedOnceAndClosedWhenResolved(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		res, err := f.svc.Receive(context.Background(), payload(t, "firing.json"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Firing != 3 || res.Resolved != 0 || res.Unmapped != 1 {
			t.Errorf("result = %+v, want 3 firing, 1 unmapped", res)
		}
		if _, err := f.svc.Receive(context.Background(), payload(t, "firing.json")); err != nil { // Alertmanager repeats
			t.Fatal(err)
		}
		got, err := f.svc.ForComponent(bob, paymentsAPI, alerts.Filter{}, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("payments-api has %d alerts, want 2 (HighErrorRate, HighLatency once each): %+v", len(got), got)
		}
		hi := byRule(got)["HighErrorRate"]
		start := time.Date(2026, 12, 3, 13, 55, 1, 123456000, time.UTC)
		if hi.Status != alerts.Firing || !hi.StartsAt.Equal(start) || hi.EndsAt != nil || hi.Severity != "page" ||
			hi.Summary != "payments-api: error rate above 2%" || hi.Labels["instance"] == "" || hi.Fingerprint != "4c1d2b3a5e6f7081" {
			t.Errorf("HighErrorRate = %+v", hi)
		}
		f.clock = f.clock.Add(15 * time.Minute)
		if _, err := f.svc.Receive(context.Background(), payload(t, "resolved.json")); err != nil {
			t.Fatal(err)
		}
		resolved, err := f.svc.ForComponent(bob, paymentsAPI, alerts.Filter{Status: alerts.Resolved}, 10)
		if err != nil || len(resolved) != 1 || resolved[0].ID != hi.ID || resolved[0].EndsAt == nil ||
			!resolved[0].EndsAt.Equal(time.Date(2026, 12, 3, 14, 10, 1, 123456000, time.UTC)) {
			t.Fatalf("after the resolved delivery: %+v, %v; want HighErrorRate (id %d) closed at 14:10:01", resolved, err, hi.ID)
		}
		// A late retry of the firing delivery does not reopen it.
		if _, err := f.svc.Receive(context.Background(), payload(t, "firing.json")); err != nil {
			t.Fatal(err)
		}
		if again, _ := f.svc.Alert(bob, hi.ID); again.Status != alerts.Resolved {
			t.Errorf("a repeated firing delivery reopened the resolved alert: %+v", again)
		}
		// Firing again later is a new alert (a new start).
		p := payload(t, "firing.json")
		p.Alerts = p.Alerts[:1]
		p.Alerts[0].StartsAt = time.Date(2026, 12, 3, 15, 0, 0, 0, time.UTC)
		if _, err := f.svc.Receive(context.Background(), p); err != nil {
			t.Fatal(err)
		}
		firing, _ := f.svc.ForComponent(bob, paymentsAPI, alerts.Filter{Status: alerts.Firing}, 10)
		if rules := byRule(firing); len(firing) != 2 || rules["HighErrorRate"].ID == hi.ID {
			t.Errorf("firing after it fired again: %+v", firing)
		}
	})
}

// Each delivery taken in is one audit record, as Alertmanager.
func TestEveryDeliveryIsAudited(t *testing.T) {
	st := storetest.SQLite(t)
	f := newFixture(t, st)
	count := func() (n int) {
		st.Gorm().Raw("SELECT count(*) FROM audit_records WHERE action = 'alerts.webhook.alertmanager'").Scan(&n)
		return n
	}
	for i := range 2 {
		if _, err := f.svc.Receive(context.Background(), payload(t, "firing.json")); err != nil {
			t.Fatal(err)
		}
		if count() != i+1 {
			t.Fatalf("after %d deliveries, %d records", i+1, count())
		}
	}
	var last struct{ Actor, Arguments string }
	st.Gorm().Raw("SELECT actor, arguments FROM audit_records ORDER BY id DESC LIMIT 1").Scan(&last)
	if last.Actor != "alertmanager" || !strings.Contains(last.Arguments, `"firing":3`) {
		t.Errorf("record = %+v", last)
	}
}

// Which runbook, who owns it, how long: the alert's runbook_url, else the component's runbooks
// naming the rule, else all its runbooks; the owner from the catalog; the remediation time from
// the alert, else the component's annotation. The report lists the rules that lack one of the three.
func TestEveryRuleSaysItsRunbookOwnerAndRemediationTimeAndTheReportListsGaps(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		p := payload(t, "firing.json")
		checkout := p.Alerts[1]
		checkout.Labels = map[string]string{"alertname": "CheckoutDown", "service": "checkout"}
		checkout.Annotations = map[string]string{"remediation_time": "15m"}
		checkout.Fingerprint = "c0ffee0000000001"
		p.Alerts = append(p.Alerts, checkout)
		if _, err := f.svc.Receive(context.Background(), p); err != nil {
			t.Fatal(err)
		}
		list, err := f.svc.ForComponent(bob, paymentsAPI, alerts.Filter{}, 10)
		if err != nil {
			t.Fatal(err)
		}
		g, err := f.svc.Guide(bob, byRule(list)["HighErrorRate"])
		if err != nil {
			t.Fatal(err)
		}
		if g.Owner != "group:default/team-payments" || g.Remediation != 30*time.Minute || len(g.Runbooks) == 0 ||
			g.Runbooks[0].URL != "https://runbooks.acme.example/payments/high-error-rate" || len(g.Missing()) != 0 {
			t.Errorf("HighErrorRate guidance = %+v", g)
		}
		if d := g.Deadline(byRule(list)["HighErrorRate"]); d == nil || !d.Equal(time.Date(2026, 12, 3, 14, 25, 1, 123456000, time.UTC)) {
			t.Errorf("deadline = %v", d)
		}
		lat, _ := f.svc.Guide(bob, byRule(list)["HighLatency"])
		if len(lat.Runbooks) != 1 || lat.Runbooks[0].URL != "https://runbooks.acme.example/payments/latency" ||
			!slices.Equal(lat.Missing(), []alerts.Missing{alerts.MissingRemediation}) {
			t.Errorf("HighLatency guidance = %+v (want the runbook naming it, no remediation time)", lat)
		}
		report, err := f.svc.Rules(bob, true)
		if err != nil {
			t.Fatal(err)
		}
		gaps := map[string][]alerts.Missing{}
		for _, r := range report {
			gaps[r.Rule+"@"+r.Component] = r.Missing()
		}
		want := map[string][]alerts.Missing{
			"HighLatency@" + paymentsAPI:              {alerts.MissingRemediation},
			"CheckoutDown@component:default/checkout": {alerts.MissingRunbook},
			"NodeDiskFull@":                           {alerts.MissingOwner, alerts.MissingRunbook, alerts.MissingRemediation},
		}
		if fmt.Sprint(gaps) != fmt.Sprint(want) {
			t.Errorf("report of gaps = %v\nwant %v", gaps, want)
		}
		all, _ := f.svc.Rules(bob, false)
		if len(all) != 4 {
			t.Errorf("the whole report has %d rules, want 4", len(all))
		}
		if _, err := f.svc.Rules(context.Background(), false); errs.CodeOf(err) != errs.Unauthenticated {
			t.Errorf("anonymous report: %v", err)
		}
	})
}

// An alert that fires while the component's canary is under way is tied to that deployment, and
// the canary can be aborted from it (through the rollouts' abort, with the alert as the cause);
// one that fired outside a canary cannot.
func TestAnAlertDuringACanaryCanAbortIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.canaries.deployments = canaryOf(true)
		p := payload(t, "firing.json")
		p.Alerts = p.Alerts[:1]
		res, err := f.svc.Receive(context.Background(), p)
		if err != nil || res.DuringCanary != 1 {
			t.Fatalf("result %+v, %v; want the alert during the canary", res, err)
		}
		f.canaries.deployments = canaryOf(false)
		p = payload(t, "firing.json")
		p.Alerts = p.Alerts[1:2]
		if res, _ := f.svc.Receive(context.Background(), p); res.DuringCanary != 0 {
			t.Fatalf("a finished canary counted: %+v", res)
		}
		list, _ := f.svc.ForComponent(bob, paymentsAPI, alerts.Filter{}, 10)
		during, after := byRule(list)["HighErrorRate"], byRule(list)["HighLatency"]
		if during.Canary == nil || *during.Canary != (alerts.CanaryRef{Instance: "prod", AppNamespace: "argocd", Application: "payments-api"}) || after.Canary != nil {
			t.Fatalf("canaries: during %+v, after %+v", during.Canary, after.Canary)
		}
		key := rollouts.Key{Instance: "prod", Namespace: "argocd", Name: "payments-api"}
		started := time.Date(2026, 12, 3, 13, 50, 0, 0, time.UTC)
		shown, err := f.svc.ForRollout(bob, key, started, nil)
		if err != nil || len(shown) != 1 || shown[0].ID != during.ID {
			t.Errorf("alerts on the rollout: %+v, %v", shown, err)
		}
		completed := time.Date(2026, 12, 3, 13, 54, 0, 0, time.UTC)
		if shown, _ := f.svc.ForRollout(bob, key, started, &completed); len(shown) != 0 {
			t.Errorf("a canary that completed before the alert shows it: %+v", shown)
		}
		if shown, _ := f.svc.ForRollout(bob, key, time.Date(2026, 12, 3, 14, 0, 0, 0, time.UTC), nil); len(shown) != 0 {
			t.Errorf("a rollout that started after the alert shows it: %+v", shown)
		}
		if _, err := f.svc.AbortCanary(bob, during.ID); err != nil {
			t.Fatal(err)
		}
		want := rollouts.Target{Component: paymentsAPI, Instance: "prod", AppNamespace: "argocd", Application: "payments-api",
			Cause: fmt.Sprintf("alert %d HighErrorRate", during.ID)}
		if len(f.canaries.aborted) != 1 || f.canaries.aborted[0] != want {
			t.Errorf("aborted %+v, want %+v", f.canaries.aborted, want)
		}
		if _, err := f.svc.AbortCanary(bob, after.ID); errs.CodeOf(err) != errs.Conflict {
			t.Errorf("abort from an alert outside a canary: %v, want CONFLICT", err)
		}
		if _, err := f.svc.AbortCanary(bob, 999999); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("abort from no alert: %v, want NOT_FOUND", err)
		}
	})
}

func TestSelectorsAndRemediationAnnotationsParse(t *testing.T) {
	sel, err := alerts.ParseSelector(` service = "payments-api" ,env=prod`)
	if err != nil || !sel.Matches(map[string]string{"service": "payments-api", "env": "prod", "x": "y"}) || sel.Matches(map[string]string{"service": "payments-api"}) {
		t.Errorf("selector %+v, %v", sel, err)
	}
	for _, bad := range []string{"", "service", "=x", "a=b,c"} {
		if _, err := alerts.ParseSelector(bad); err == nil {
			t.Errorf("selector %q accepted", bad)
		}
		if len(alerts.CheckSelectorAnnotation(bad, nil)) == 0 {
			t.Errorf("annotation check passed %q", bad)
		}
	}
	m, err := alerts.ParseRemediation("HighErrorRate=30m, *=4h")
	if err != nil || m["HighErrorRate"] != 30*time.Minute || m["*"] != 4*time.Hour {
		t.Errorf("remediation %v, %v", m, err)
	}
	for _, bad := range []string{"HighErrorRate", "HighErrorRate=soon", "X=-1m", "=5m"} {
		if _, err := alerts.ParseRemediation(bad); err == nil {
			t.Errorf("remediation %q accepted", bad)
		}
	}
}

// An alert rule's name (its alertname label) is at most MaxRule bytes, and a delivery with a
// longer one is refused naming the field. The rule is indexed (alerts_rule), and a PostgreSQL
// B-tree entry holds at most 2,704 bytes: a 3,000-byte alertname, which MaxValue let through
// as any other label value, failed the whole delivery with the database's error (an internal
// error, which Alertmanager retries). A name of exactly MaxRule bytes is recorded.
func TestAnAlertRuleNameIsBoundedAndALongerOneIsRefusedByName(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		for i, c := range []struct {
			name    string
			bytes   int
			refused bool
		}{
			{"at the bound", alerts.MaxRule, false},
			{"past the bound", alerts.MaxRule + 1, true},
			{"past the index's bound", 3000, true},
		} {
			p := payload(t, "firing.json")
			p.Alerts = p.Alerts[:1]
			rule := testutil.RandomText(c.bytes)
			p.Alerts[0].Labels["alertname"] = rule
			p.Alerts[0].Fingerprint = fmt.Sprintf("%016x", i+1) // a new alert each: a repeat updates the first
			body, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			p, err = alerts.ParsePayload(body)
			if c.refused {
				if errs.CodeOf(err) != errs.Invalid || errs.FieldOf(err) != "alerts[0].labels.alertname" ||
					!strings.Contains(err.Error(), fmt.Sprintf("at most %d", alerts.MaxRule)) {
					_, rerr := f.svc.Receive(context.Background(), p)
					t.Errorf("%s (%d bytes): parsed with %v (and recorded with %v); want INVALID on alerts[0].labels.alertname naming the bound %d",
						c.name, c.bytes, err, rerr, alerts.MaxRule)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s (%d bytes): %v", c.name, c.bytes, err)
			}
			if _, err := f.svc.Receive(context.Background(), p); err != nil {
				t.Fatalf("%s (%d bytes): %v", c.name, c.bytes, err)
			}
			if got, err := f.svc.ForComponent(bob, paymentsAPI, alerts.Filter{}, 10); err != nil || byRule(got)[rule].ID == 0 {
				t.Errorf("%s (%d bytes): not among payments-api's alerts: %+v, %v", c.name, c.bytes, got, err)
			}
		}
	})
}

// An alert's runbook_url is a runbook only when people can be sent there: an absolute http(s)
// URL. A javascript: URL (which a client would put in a link), a relative path or a placeholder
// is no runbook, and the report says the rule lacks one.
func TestARunbookURLThatIsNoWebAddressIsNoRunbook(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		p := payload(t, "firing.json")
		base := p.Alerts[1]
		p.Alerts = nil
		for i, u := range []string{"javascript:alert(document.cookie)", "JavaScript:alert(1)", " javascript:alert(1)",
			"data:text/html,<script>alert(1)</script>", "/runbooks/checkout", "TODO", "https://", "https://runbooks.acme.example/checkout"} {
			a := base
			a.Labels = map[string]string{"alertname": fmt.Sprintf("CheckoutDown%d", i), "service": "checkout"}
			a.Annotations = map[string]string{"runbook_url": u, "remediation_time": "15m"}
			a.Fingerprint = fmt.Sprintf("c0ffee000000000%d", i)
			p.Alerts = append(p.Alerts, a)
		}
		if _, err := f.svc.Receive(context.Background(), p); err != nil {
			t.Fatal(err)
		}
		list, err := f.svc.ForComponent(bob, "component:default/checkout", alerts.Filter{}, 20)
		if err != nil || len(list) != 8 {
			t.Fatalf("checkout's alerts: %d, %v", len(list), err)
		}
		for _, a := range list {
			g, err := f.svc.Guide(bob, a)
			if err != nil {
				t.Fatal(err)
			}
			u := a.Annotations["runbook_url"]
			if strings.HasPrefix(u, "https://runbooks") {
				if len(g.Runbooks) != 1 || g.Runbooks[0].URL != u || len(g.Missing()) != 0 {
					t.Errorf("%s: guidance %+v, want its runbook_url", a.Rule, g)
				}
				continue
			}
			if len(g.Runbooks) != 0 || !slices.Equal(g.Missing(), []alerts.Missing{alerts.MissingRunbook}) {
				t.Errorf("%s with runbook_url %q: guidance %+v, want no runbook (missing RUNBOOK)", a.Rule, u, g)
			}
		}
		report, err := f.svc.Rules(bob, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(report) != 7 {
			t.Errorf("the report lists %d rules lacking something, want the 7 without a web address", len(report))
		}
	})
}

// An alert that does not read as one (a time in another format, a label that is a number, labels
// that are a list) is refused alone, naming it, as one that fails a check is: the others of its
// delivery are taken. A delivery of nothing but such alerts is refused, naming the first.
func TestAnAlertThatDoesNotReadLosesNotTheOthersOfItsDelivery(t *testing.T) {
	good := `{"status":"firing","labels":{"alertname":"HighErrorRate","service":"payments-api","env":"prod"},"startsAt":"2026-12-03T13:55:01Z","fingerprint":"4c1d2b3a5e6f7081"}`
	bad := []string{
		`{"status":"firing","labels":{"alertname":"A"},"startsAt":"yesterday","fingerprint":"f1"}`,
		`{"status":"firing","labels":{"alertname":"A","replicas":3},"startsAt":"2026-12-03T13:55:01Z","fingerprint":"f2"}`,
		`{"status":"firing","labels":["alertname","A"],"startsAt":"2026-12-03T13:55:01Z","fingerprint":"f3"}`,
		`"an alert"`,
	}
	body := `{"version":"4","groupKey":"g","status":"firing","alerts":[` + strings.Join(bad, ",") + `,` + good + `]}`
	p, err := alerts.ParsePayload([]byte(body))
	if err != nil {
		t.Fatalf("a delivery with one alert that reads and four that do not: %v", err)
	}
	if len(p.Alerts) != 1 || p.Alerts[0].Fingerprint != "4c1d2b3a5e6f7081" || len(p.Refused) != 4 {
		t.Fatalf("kept %+v, refused %+v", p.Alerts, p.Refused)
	}
	wantField := []string{"alerts[0]", "alerts[1].labels", "alerts[2].labels", "alerts[3]"}
	for i, r := range p.Refused {
		if r.Index != i || errs.CodeOf(r.Err) != errs.Invalid || errs.FieldOf(r.Err) != wantField[i] {
			t.Errorf("refused %d: index %d, %v (field %q), want INVALID naming %s", i, r.Index, r.Err, errs.FieldOf(r.Err), wantField[i])
		}
	}
	_, err = alerts.ParsePayload([]byte(`{"version":"4","groupKey":"g","alerts":[` + bad[0] + `]}`))
	if errs.FieldOf(err) != "alerts[0]" {
		t.Errorf("a delivery of one alert that does not read: %v, want INVALID naming alerts[0]", err)
	}
	if _, err := alerts.ParsePayload([]byte(`{"version":"4","alerts":"none"}`)); errs.CodeOf(err) != errs.Invalid {
		t.Errorf("alerts that are no list: %v, want INVALID", err)
	}
}

// abortCanaryFromAlert is a mutation: a request refused before it reaches the rollouts' abort
// (which audits what it decides) leaves its record too, as the same action, with the code.
func TestARefusedAbortFromAnAlertIsAudited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		p := payload(t, "firing.json")
		p.Alerts = p.Alerts[:1]
		if _, err := f.svc.Receive(context.Background(), p); err != nil {
			t.Fatal(err)
		}
		list, _ := f.svc.ForComponent(bob, paymentsAPI, alerts.Filter{}, 10)
		if len(list) != 1 {
			t.Fatalf("alerts: %+v", list)
		}
		if _, err := f.svc.AbortCanary(bob, list[0].ID); errs.CodeOf(err) != errs.Conflict {
			t.Fatalf("abort from an alert outside a canary: %v, want CONFLICT", err)
		}
		if _, err := f.svc.AbortCanary(bob, 999999); errs.CodeOf(err) != errs.NotFound {
			t.Fatalf("abort from no alert: %v, want NOT_FOUND", err)
		}
		if _, err := f.svc.AbortCanary(context.Background(), list[0].ID); errs.CodeOf(err) != errs.Unauthenticated {
			t.Fatalf("anonymous abort: %v, want UNAUTHENTICATED", err)
		}
		// Someone who owns nothing is refused before hearing whether a canary ran.
		if _, err := f.svc.AbortCanary(carol, list[0].ID); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("abort by a non-owner: %v, want FORBIDDEN", err)
		}
		var recs []struct{ Actor, Resource, Outcome, Code string }
		st.Gorm().Raw("SELECT actor, resource, outcome, code FROM audit_records WHERE action = 'rollouts.deployment.abort' ORDER BY id").Scan(&recs)
		want := fmt.Sprint([]struct{ Actor, Resource, Outcome, Code string }{
			{"bob", fmt.Sprintf("alert %d", list[0].ID), "failed", "CONFLICT"},
			{"bob", "alert 999999", "failed", "NOT_FOUND"},
			{"anonymous", fmt.Sprintf("alert %d", list[0].ID), "denied", "UNAUTHENTICATED"},
			{"carol", fmt.Sprintf("alert %d", list[0].ID), "denied", "FORBIDDEN"},
		})
		if fmt.Sprint(recs) != want {
			t.Errorf("audit records of the refused aborts:\n%v\nwant\n%v", recs, want)
		}
	})
}

// An alert that starts so late that its remediation deadline would fall past year 9999 (which
// RFC 3339, and so the API, cannot write) is refused alone naming its startsAt, as an alert with
// any other bad time is; so is an endsAt that is past year 9999 once in UTC. The others of the
// delivery are taken; a delivery of nothing else is refused naming the first. LatestStart is the
// bound to the nanosecond: a start at it is taken, one a nanosecond later refused.
func TestAnAlertTooLateForADeadlineIsRefusedAloneNamingItsTime(t *testing.T) {
	alert := func(fp, startsAt, endsAt string) string {
		return `{"status":"firing","labels":{"alertname":"HighErrorRate","service":"payments-api","env":"prod"},"startsAt":"` + startsAt +
			`","endsAt":"` + endsAt + `","fingerprint":"` + fp + `"}`
	}
	const never = "0001-01-01T00:00:00Z"
	body := `{"version":"4","groupKey":"g","status":"firing","alerts":[` + strings.Join([]string{
		alert("aa01", "9999-12-31T23:00:00Z", never),
		alert("aa02", "2026-12-03T13:55:01Z", never),
		alert("aa03", "9999-12-31T23:00:00-05:00", never), // year 10000 in UTC
		alert("aa04", "2026-12-03T13:55:01Z", "9999-12-31T23:00:00-05:00"),
		alert("aa05", alerts.LatestStart.Format(time.RFC3339Nano), never),
		alert("aa06", alerts.LatestStart.Add(time.Nanosecond).Format(time.RFC3339Nano), never), // the first start refused
	}, ",") + `]}`
	p, err := alerts.ParsePayload([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Alerts) != 2 || p.Alerts[0].Fingerprint != "aa02" || p.Alerts[1].Fingerprint != "aa05" || len(p.Refused) != 4 {
		t.Fatalf("kept %+v, refused %+v; want aa02 and aa05 kept, four refused", p.Alerts, p.Refused)
	}
	for i, want := range []struct {
		index int
		field string
	}{{0, "alerts[0].startsAt"}, {2, "alerts[2].startsAt"}, {3, "alerts[3].endsAt"}, {5, "alerts[5].startsAt"}} {
		if r := p.Refused[i]; r.Index != want.index || errs.CodeOf(r.Err) != errs.Invalid || errs.FieldOf(r.Err) != want.field {
			t.Errorf("refused %d: index %d, %v (field %q), want INVALID naming %s", i, r.Index, r.Err, errs.FieldOf(r.Err), want.field)
		}
	}
	if msg := p.Refused[0].Err.Error(); !strings.Contains(msg, "9999-12-31T23:00:00Z") || !strings.Contains(msg, "year 9999") {
		t.Errorf("the refusal says %q; want the time and why", msg)
	}
	_, err = alerts.ParsePayload([]byte(`{"version":"4","groupKey":"g","alerts":[` + alert("aa01", "9999-12-31T23:00:00Z", never) + `]}`))
	if errs.FieldOf(err) != "alerts[0].startsAt" {
		t.Errorf("a delivery of one alert starting in year 9999: %v, want INVALID naming alerts[0].startsAt", err)
	}
	// LatestStart is the bound exactly: alone in a delivery, it is taken, and a nanosecond later
	// is refused naming the alert's startsAt.
	one := func(startsAt time.Time) string {
		return `{"version":"4","groupKey":"g","alerts":[` + alert("aa01", startsAt.Format(time.RFC3339Nano), never) + `]}`
	}
	if p, err := alerts.ParsePayload([]byte(one(alerts.LatestStart))); err != nil || len(p.Alerts) != 1 || len(p.Refused) != 0 {
		t.Errorf("a delivery of one alert starting at LatestStart (%s): kept %d, refused %+v, %v; want it taken",
			alerts.LatestStart.Format(time.RFC3339Nano), len(p.Alerts), p.Refused, err)
	}
	late := alerts.LatestStart.Add(time.Nanosecond)
	_, err = alerts.ParsePayload([]byte(one(late)))
	if errs.CodeOf(err) != errs.Invalid || errs.FieldOf(err) != "alerts[0].startsAt" {
		t.Errorf("a delivery of one alert starting a nanosecond after LatestStart (%s): %v, want INVALID naming alerts[0].startsAt",
			late.Format(time.RFC3339Nano), err)
	}
	// The refusal names the bound exactly, as the README does.
	if bound := "9707-09-22T00:12:43.145224192Z"; alerts.LatestStart.Format(time.RFC3339Nano) != bound || err == nil || !strings.Contains(err.Error(), bound) {
		t.Errorf("LatestStart is %s, and the refusal says %v; want %s in both", alerts.LatestStart.Format(time.RFC3339Nano), err, bound)
	}
	// The deadline of an alert taken is its start plus the rule's remediation time, whatever that
	// is, never cut at MaxTime: at LatestStart with the longest remediation time it is MaxTime.
	latest := alerts.Alert{StartsAt: alerts.LatestStart}
	for _, d := range []time.Duration{time.Nanosecond, 30 * time.Minute, 1<<63 - 1} {
		if at, want := (alerts.Guidance{Remediation: d}).Deadline(latest), alerts.LatestStart.Add(d); at == nil || !at.Equal(want) {
			t.Errorf("the deadline of the latest start with %s to remediate: %v, want %v", d, at, want)
		}
	}
	if end := alerts.LatestStart.Add(1<<63 - 1); !end.Equal(alerts.MaxTime) {
		t.Errorf("LatestStart plus the longest remediation time is %v, want MaxTime (%v)", end, alerts.MaxTime)
	}
	// An alert recorded before starts were bounded answers the latest time there is.
	recorded := alerts.Alert{StartsAt: time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC)}
	if at := (alerts.Guidance{Remediation: 2 * time.Hour}).Deadline(recorded); at == nil || !at.Equal(alerts.MaxTime) {
		t.Errorf("the deadline of an alert started in year 9999 with 2h to remediate: %v, want %v", at, alerts.MaxTime)
	}
}

// Alertmanager names the alert group of every delivery (groupKey); a delivery without one is
// refused whole naming the field.
func TestADeliveryWithoutItsGroupKeyIsRefusedNamingIt(t *testing.T) {
	good := `{"status":"firing","labels":{"alertname":"HighErrorRate"},"startsAt":"2026-12-03T13:55:01Z","fingerprint":"4c1d2b3a5e6f7081"}`
	for _, body := range []string{
		`{"version":"4","status":"firing","alerts":[` + good + `]}`,
		`{"version":"4","groupKey":"","status":"firing","alerts":[` + good + `]}`,
		`{"version":"4","groupKey":"  ","status":"firing","alerts":[` + good + `]}`,
	} {
		if _, err := alerts.ParsePayload([]byte(body)); errs.CodeOf(err) != errs.Invalid || errs.FieldOf(err) != "groupKey" {
			t.Errorf("%.60s: %v, want INVALID naming groupKey", body, err)
		}
	}
}

// Two deliveries of the same alerts in opposite orders, taken in at once on PostgreSQL, both
// succeed, whether they create the alerts or resolve them, and the alerts are recorded once
// each, as sent: every delivery writes its alerts in one order (by fingerprint and start), so
// neither holds a row the other waits for while it waits for one the other holds. Written in
// delivery order, the two deadlocked and PostgreSQL refused one of them.
func TestDeliveriesOfTheSameAlertsInOppositeOrdersAreBothTakenInAtOnce(t *testing.T) {
	st := storetest.Postgres(t)
	f := newFixture(t, st)
	const n, rounds = 100, 20
	delivery := func(status string, start time.Time, reversed bool) alerts.Payload {
		p := alerts.Payload{Version: "4", GroupKey: "g", Status: status, Receiver: "portside"}
		for i := range n {
			// Fingerprints in no order of their own: neither delivery is sorted.
			a := alerts.PayloadAlert{Status: status, Fingerprint: fmt.Sprintf("%016x", uint64(i+1)*0x9e3779b97f4a7c15), StartsAt: start,
				Labels:      map[string]string{"alertname": "HighErrorRate", "service": "payments-api", "env": "prod", "pod": strconv.Itoa(i)},
				Annotations: map[string]string{"summary": "pod " + strconv.Itoa(i) + " fails"}}
			if status == "resolved" {
				a.EndsAt = start.Add(time.Hour)
			}
			p.Alerts = append(p.Alerts, a)
		}
		if reversed {
			slices.Reverse(p.Alerts)
		}
		return p
	}
	// both takes in the two deliveries, started together, and says what each answered.
	both := func(status string, start time.Time) [2]error {
		var got [2]error
		deliveries := [2]alerts.Payload{delivery(status, start, false), delivery(status, start, true)}
		testutil.AtOnce(func() { _, got[0] = f.svc.Receive(context.Background(), deliveries[0]) },
			func() { _, got[1] = f.svc.Receive(context.Background(), deliveries[1]) })
		return got
	}
	type stored struct {
		Fingerprint, Status, Summary, Component string
		EndsAt                                  *time.Time
	}
	for round := range rounds {
		start := time.Date(2026, 12, 3, 10, round, 0, 0, time.UTC)
		for _, status := range []string{"firing", "resolved"} {
			if got := both(status, start); got[0] != nil || got[1] != nil {
				t.Fatalf("round %d, %s: the deliveries answered %v and %v; want both taken in", round, status, got[0], got[1])
			}
			var rows []stored
			if err := st.Gorm().Raw("SELECT fingerprint, status, summary, component, ends_at FROM alerts WHERE starts_at = ? ORDER BY fingerprint", start).
				Scan(&rows).Error; err != nil {
				t.Fatal(err)
			}
			want := delivery(status, start, false).Alerts
			slices.SortFunc(want, func(a, b alerts.PayloadAlert) int { return strings.Compare(a.Fingerprint, b.Fingerprint) })
			if len(rows) != n {
				t.Fatalf("round %d, %s: %d alerts recorded, want %d", round, status, len(rows), n)
			}
			for i, r := range rows {
				w := want[i]
				wantStatus, ended := string(alerts.Firing), r.EndsAt == nil
				if status == "resolved" {
					wantStatus, ended = string(alerts.Resolved), r.EndsAt != nil && r.EndsAt.Equal(start.Add(time.Hour))
				}
				if r.Fingerprint != w.Fingerprint || r.Status != wantStatus || !ended || r.Summary != w.Annotations["summary"] || r.Component != paymentsAPI {
					t.Fatalf("round %d, %s: alert %d recorded as %+v; want %s %s %q of %s", round, status, i, r, w.Fingerprint, wantStatus, w.Annotations["summary"], paymentsAPI)
				}
			}
		}
	}
}

// A resolved alert that ends before it starts is refused alone, naming its endsAt: stored as
// given, it read as resolved before it fired.
func TestAResolvedAlertEndingBeforeItStartsIsRefusedAlone(t *testing.T) {
	alert := func(fp, status, startsAt, endsAt string) string {
		return `{"status":"` + status + `","labels":{"alertname":"HighErrorRate","service":"payments-api"},"startsAt":"` + startsAt +
			`","endsAt":"` + endsAt + `","fingerprint":"` + fp + `"}`
	}
	body := `{"version":"4","groupKey":"g","status":"resolved","alerts":[` + strings.Join([]string{
		alert("bb01", "resolved", "2026-12-08T01:00:00Z", "2026-12-08T00:00:00Z"),
		alert("bb02", "resolved", "2026-12-08T01:00:00Z", "2026-12-08T01:00:00Z"),
		alert("bb03", "resolved", "2026-12-08T01:00:00Z", "2026-12-08T02:00:00Z"),
	}, ",") + `]}`
	p, err := alerts.ParsePayload([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Alerts) != 2 || len(p.Refused) != 1 || p.Refused[0].Index != 0 || errs.FieldOf(p.Refused[0].Err) != "alerts[0].endsAt" ||
		!strings.Contains(p.Refused[0].Err.Error(), "before startsAt") {
		t.Errorf("kept %d, refused %+v; want bb01 refused naming alerts[0].endsAt", len(p.Alerts), p.Refused)
	}
}

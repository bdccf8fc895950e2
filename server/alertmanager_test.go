package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/portside-dev/portside/store/storetest"
)

// A delivery that proved its credential but cannot be taken at all (not a version 4 payload, no
// groupKey, no alert Portside can take, too large) is lost: Alertmanager retries nothing refused with a 4xx.
// Its refusal is audited (outcome failed, the code and the field at fault), as the alerts left out
// of a delivery that was taken are.
func TestARefusedAlertmanagerDeliveryIsAudited(t *testing.T) {
	st := storetest.SQLite(t)
	p := newPortal(t, st)
	type rec struct{ Actor, Outcome, Code, Message string }
	failed := func() (out []rec) {
		st.Gorm().Raw("SELECT actor, outcome, code, message FROM audit_records WHERE action = 'alerts.webhook.alertmanager' AND outcome = 'failed' ORDER BY id").Scan(&out)
		return out
	}
	noAlert := `{"version":"4","groupKey":"g","status":"firing","alerts":[{"status":"firing","labels":{"service":"payments-api"},` +
		`"startsAt":"2026-12-03T13:55:01Z","fingerprint":"4c1d2b3a5e6f7081"}]}`
	taken := strings.Replace(noAlert, `"labels":{`, `"labels":{"alertname":"HighErrorRate",`, 1) // as Portside takes it
	for i, tc := range []struct {
		body   string
		status int
		want   string
	}{
		{`{"version":"3"}`, http.StatusBadRequest, "version:"},
		{`{"version":"4","alerts":[`, http.StatusBadRequest, "not an Alertmanager webhook payload"},
		{noAlert, http.StatusBadRequest, "alerts[0].labels.alertname: is missing"},
		{`{"version":"4","pad":"` + strings.Repeat("x", 5<<20) + `"}`, http.StatusRequestEntityTooLarge, "larger than"},
		// Alertmanager names the alert group of every delivery.
		{strings.Replace(taken, `"groupKey":"g",`, ``, 1), http.StatusBadRequest, "groupKey: is missing"},
		{strings.Replace(taken, `"groupKey":"g"`, `"groupKey":""`, 1), http.StatusBadRequest, "groupKey: is missing"},
		// A start whose remediation deadline would fall past year 9999, which no API answer can write.
		{strings.Replace(taken, `"startsAt":"2026-12-03T13:55:01Z"`, `"startsAt":"9999-12-31T23:00:00Z"`, 1), http.StatusBadRequest, "alerts[0].startsAt: 9999-12-31T23:00:00Z"},
	} {
		code, resp := p.deliver(t, []byte(tc.body), withBearer(amToken))
		if code != tc.status {
			t.Errorf("delivery %d: %d %.200s, want %d", i, code, resp, tc.status)
		}
		got := failed()
		if len(got) != i+1 {
			t.Fatalf("delivery %d (%.200s): %d failed records, want %d", i, resp, len(got), i+1)
		}
		if r := got[i]; r.Actor != "alertmanager" || r.Code != "INVALID" || !strings.Contains(r.Message, tc.want) {
			t.Errorf("delivery %d: record %+v, want the refusal (INVALID, %q) by alertmanager", i, r, tc.want)
		}
	}
}

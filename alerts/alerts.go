// Package alerts is the alerts domain: the alerts Alertmanager sends Portside (its v4 webhook
// payload), each mapped to its catalog component by the component's alert label selector, recorded
// as firing and then resolved; the answer to "which runbook, who owns it, how long do we have" for
// each alert rule, and the report of the rules that lack one of the three; alerts that fire during
// a component's canary, shown on the rollout, and the canary's abort from the alert (through the
// rollouts' own action). The domain knows no transport.
package alerts

import (
	"encoding/json"
	"errors"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/text"
)

// The annotations and labels this domain reads.
const (
	// AnnotationAlertLabelSelector is Backstage's Grafana annotation: the labels (label=value,
	// comma-separated, all must match) that make an alert the component's.
	AnnotationAlertLabelSelector = "grafana/alert-label-selector"
	// AnnotationRemediation gives each alert rule of a component the time its owners have to
	// remediate it: "HighErrorRate=30m,LatencyHigh=2h" (Go durations; "*" for every other rule).
	AnnotationRemediation = "portside.dev/alert-remediation"
	// AlertAnnotationRemediation on the alert itself (set in the Prometheus rule) wins over the
	// component's annotation: "remediation_time: 30m".
	AlertAnnotationRemediation = "remediation_time"
	// AlertAnnotationRunbook is the Prometheus convention for a rule's runbook.
	AlertAnnotationRunbook = "runbook_url"
	// LabelAlertName names the alert rule.
	LabelAlertName = "alertname"
)

// Status is whether an alert fires.
type Status string

// The statuses, as Alertmanager spells them (upper case for GraphQL and the database).
const (
	Firing   Status = "FIRING"
	Resolved Status = "RESOLVED"
)

// Input bounds. Alertmanager groups alerts and caps a delivery with max_alerts; these keep one
// delivery's cost small whatever the sender does.
const (
	// MaxAlerts bounds the alerts of one delivery.
	MaxAlerts = 1000
	// MaxLabels bounds the labels (and, apart, the annotations) of one alert.
	MaxLabels = 64
	// MaxValue bounds a label or annotation value, and MaxKey a label or annotation name.
	MaxValue = 4096
	MaxKey   = 256
	// MaxRule bounds an alert rule's name (its alertname label), which is indexed with the
	// component (alerts_rule): a PostgreSQL B-tree entry holds at most 2,704 bytes, and MaxValue
	// is more. 1,024 bytes hold Grafana's longest rule title (190 characters) in any script.
	MaxRule = 1024
	// MaxPage bounds a page of alerts.
	MaxPage = 100
	// MaxRules bounds the rules the report lists.
	MaxRules = 1000
)

// MaxTime is the latest time RFC 3339 writes (in UTC, a year has four digits): every time Portside
// answers with must be at or before it.
var MaxTime = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)

// maxRemediation is the longest remediation time a rule can have (the longest Go duration).
const maxRemediation = time.Duration(math.MaxInt64)

// LatestStart is the latest startsAt an alert is taken with: its remediation deadline (startsAt
// plus the rule's remediation time, at most maxRemediation) still falls at or before MaxTime, so
// it can be answered. Alertmanager's startsAt is when the alert began to fire; one this late is
// a wrong clock or a forged delivery.
var LatestStart = MaxTime.Add(-maxRemediation)

// Payload is Alertmanager's webhook body, version 4, as Alertmanager v0.27 sends it
// (notify/webhook: template.Data plus version, groupKey and truncatedAlerts).
type Payload struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   uint64            `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []PayloadAlert    `json:"alerts"`
	// Refused are the alerts ParsePayload left out of Alerts, each with why.
	Refused []RefusedAlert `json:"-"`
}

// PayloadAlert is one alert of a delivery. EndsAt is zero ("0001-01-01T00:00:00Z") while an
// alert fires without a known end.
type PayloadAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// ParsePayload reads and checks a delivery; errors name the field (alerts[3].fingerprint). An
// alert that fails its checks is set aside in Refused, unless every alert does: then the first
// one's error is the delivery's.
func ParsePayload(body []byte) (Payload, error) {
	// The alerts are read one by one: one that does not read as an alert (a time in another
	// format, a label that is a number) is refused alone, as one that fails a check is.
	var raw struct {
		Payload
		Alerts []json.RawMessage `json:"alerts"`
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		return Payload{}, errs.E(errs.Invalid, "the delivery is not an Alertmanager webhook payload: %s", clip(err.Error(), 200))
	}
	p := raw.Payload
	if p.Version != "4" {
		return Payload{}, errs.InvalidField("version", "%q is not supported; Portside reads Alertmanager's webhook version 4", clip(p.Version, 20))
	}
	if len(raw.Alerts) > MaxAlerts {
		return Payload{}, errs.InvalidField("alerts", "has %d alerts; at most %d (set max_alerts in the receiver's webhook_config)", len(raw.Alerts), MaxAlerts)
	}
	if strings.TrimSpace(p.GroupKey) == "" {
		// Alertmanager names the alert group of every delivery; the record of the delivery is
		// filed under it ("alert group <groupKey>").
		return Payload{}, errs.InvalidField("groupKey", "is missing; Alertmanager sends the key of the delivery's alert group")
	}
	p.Alerts = make([]PayloadAlert, len(raw.Alerts))
	unreadable := map[int]error{}
	for i, a := range raw.Alerts {
		if err := json.Unmarshal(a, &p.Alerts[i]); err != nil {
			unreadable[i] = alertDecodeError("alerts["+strconv.Itoa(i)+"]", err)
		}
	}
	for field, v := range map[string]string{"groupKey": p.GroupKey, "receiver": p.Receiver, "status": p.Status, "externalURL": p.ExternalURL} {
		if err := text.Storable(field, v); err != nil {
			return Payload{}, err
		}
	}
	for name, m := range map[string]map[string]string{"groupLabels": p.GroupLabels, "commonLabels": p.CommonLabels, "commonAnnotations": p.CommonAnnotations} {
		if err := storableMap(name, m); err != nil {
			return Payload{}, err
		}
	}
	// One alert Portside cannot take must not lose the others of its group: Alertmanager sends
	// the group again only as it changes, and retries nothing refused with a 4xx. The delivery
	// is refused only when none of its alerts can be taken.
	kept := p.Alerts[:0:0]
	for i := range p.Alerts {
		if err := unreadable[i]; err != nil {
			p.Refused = append(p.Refused, RefusedAlert{Index: i, Err: err})
			continue
		}
		if err := p.Alerts[i].check("alerts[" + strconv.Itoa(i) + "]"); err != nil {
			p.Refused = append(p.Refused, RefusedAlert{Index: i, Err: err})
			continue
		}
		kept = append(kept, p.Alerts[i])
	}
	if len(kept) == 0 && len(p.Refused) > 0 {
		return Payload{}, p.Refused[0].Err
	}
	p.Alerts = kept
	return p, nil
}

// alertDecodeError names the field of an alert that did not read (alerts[3].labels), when the
// decoder says which.
func alertDecodeError(field string, err error) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) && typeErr.Field != "" {
		return errs.InvalidField(field+"."+clip(typeErr.Field, 80), "is a JSON %s; an Alertmanager alert has a %s there", typeErr.Value, typeErr.Type)
	}
	var timeErr *time.ParseError
	if errors.As(err, &timeErr) {
		return errs.InvalidField(field, "holds a time that is not RFC 3339 (%q)", clip(timeErr.Value, 40))
	}
	return errs.InvalidField(field, "is not an Alertmanager alert: %s", clip(err.Error(), 200))
}

// RefusedAlert is an alert of a delivery left out for what it holds (Index: its place in the
// delivery), the others taken.
type RefusedAlert struct {
	Index int
	Err   error
}

func (a *PayloadAlert) check(field string) error {
	switch a.Status {
	case "firing", "resolved":
	default:
		return errs.InvalidField(field+".status", "%q is neither firing nor resolved", clip(a.Status, 20))
	}
	if n := utf8.RuneCountInString(a.Fingerprint); n == 0 || n > 64 {
		return errs.InvalidField(field+".fingerprint", "must be Alertmanager's fingerprint (1 to 64 characters), got %d", n)
	}
	if err := text.Storable(field+".fingerprint", a.Fingerprint); err != nil {
		return err
	}
	if a.StartsAt.IsZero() {
		return errs.InvalidField(field+".startsAt", "is missing")
	}
	if a.StartsAt.After(LatestStart) {
		return errs.InvalidField(field+".startsAt", "%s is later than an alert can start (%s at the latest: its remediation deadline, up to %.0f years on, must fall within year 9999)",
			a.StartsAt.Format(time.RFC3339Nano), LatestStart.Format(time.RFC3339Nano), maxRemediation.Hours()/24/365.25)
	}
	if a.EndsAt.After(MaxTime) {
		// Read with an offset ("9999-12-31T23:00:00-05:00"), it is in year 10000 once in UTC.
		return errs.InvalidField(field+".endsAt", "%s is past year 9999 in UTC, which RFC 3339 cannot write", a.EndsAt.Format(time.RFC3339Nano))
	}
	if a.Status == "resolved" && !a.EndsAt.IsZero() && a.EndsAt.Before(a.StartsAt) {
		// Stored as given, it read as resolved before it fired, with a negative time to resolve.
		return errs.InvalidField(field+".endsAt", "%s is before startsAt (%s): a resolved alert ends after it starts",
			a.EndsAt.Format(time.RFC3339Nano), a.StartsAt.Format(time.RFC3339Nano))
	}
	if a.Labels[LabelAlertName] == "" {
		return errs.InvalidField(field+".labels.alertname", "is missing; Portside names alert rules by it")
	}
	if n := len(a.Labels[LabelAlertName]); n > MaxRule {
		return errs.InvalidField(field+".labels.alertname", "has %d bytes; an alert rule's name has at most %d", n, MaxRule)
	}
	if len(a.GeneratorURL) > MaxValue {
		return errs.InvalidField(field+".generatorURL", "has %d bytes; at most %d", len(a.GeneratorURL), MaxValue)
	}
	if err := text.Storable(field+".generatorURL", a.GeneratorURL); err != nil {
		return err
	}
	for name, m := range map[string]map[string]string{"labels": a.Labels, "annotations": a.Annotations} {
		if len(m) > MaxLabels {
			return errs.InvalidField(field+"."+name, "has %d entries; at most %d", len(m), MaxLabels)
		}
		if err := storableMap(field+"."+name, m); err != nil {
			return err
		}
		for k, v := range m {
			if len(k) > MaxKey || len(v) > MaxValue {
				return errs.InvalidField(field+"."+name+"."+clip(k, 40), "is longer than %d bytes (name %d)", MaxValue, MaxKey)
			}
		}
	}
	return nil
}

// storableMap refuses labels or annotations whose names or values are not storable text,
// naming the entry (a name that is not is named by its position among the sorted names).
func storableMap(field string, m map[string]string) error {
	keys := slices.Sorted(maps.Keys(m))
	for i, k := range keys {
		if err := text.Storable(field+"["+strconv.Itoa(i)+"] (a name)", k); err != nil {
			return err
		}
		if err := text.Storable(field+"."+clip(k, 40), m[k]); err != nil {
			return err
		}
	}
	return nil
}

// Alert is one alert as Portside keeps it: one firing of a rule for one set of labels
// (Alertmanager's fingerprint) from when it started; resolving it closes the same record.
type Alert struct {
	ID          int64
	Fingerprint string
	Rule        string
	// Component is the catalog component the alert is mapped to (canonical ref), "" for none.
	Component   string
	Status      Status
	Severity    string
	Summary     string
	Labels      map[string]string
	Annotations map[string]string
	StartsAt    time.Time
	// EndsAt is when it resolved; nil while it fires.
	EndsAt       *time.Time
	GeneratorURL string
	// Canary is the component's deployment whose canary was under way when the alert fired; nil
	// when none was.
	Canary     *CanaryRef
	ReceivedAt time.Time
	UpdatedAt  time.Time
}

// CanaryRef names the Argo CD application whose canary was under way.
type CanaryRef struct {
	Instance, AppNamespace, Application string
}

// Selector is an alert label selector: every label must have its value.
type Selector []LabelMatch

// LabelMatch is one label=value of a selector.
type LabelMatch struct{ Label, Value string }

// ParseSelector reads "label=value[,label=value]" (spaces around each part are ignored).
func ParseSelector(s string) (Selector, error) {
	var out Selector
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		k, v = strings.TrimSpace(k), strings.Trim(strings.TrimSpace(v), `"'`)
		if !ok || k == "" || v == "" {
			return nil, errs.InvalidField("["+strconv.Itoa(i)+"]", "%q is not label=value", clip(part, 80))
		}
		out = append(out, LabelMatch{k, v})
	}
	if len(out) == 0 {
		return nil, errs.E(errs.Invalid, "the selector is empty; write label=value[,label=value]")
	}
	return out, nil
}

// Matches reports whether labels carry every label of the selector with its value.
func (s Selector) Matches(labels map[string]string) bool {
	for _, m := range s {
		if labels[m.Label] != m.Value {
			return false
		}
	}
	return len(s) > 0
}

// ParseRemediation reads a portside.dev/alert-remediation annotation: rule=duration pairs,
// comma-separated; "*" is every rule not named.
func ParseRemediation(s string) (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		rule, d, ok := strings.Cut(part, "=")
		rule = strings.TrimSpace(rule)
		dur, err := time.ParseDuration(strings.TrimSpace(d))
		if !ok || rule == "" || err != nil || dur <= 0 {
			return nil, errs.InvalidField("["+strconv.Itoa(i)+"]", "%q is not rule=duration (e.g. HighErrorRate=30m)", clip(part, 80))
		}
		out[rule] = dur
	}
	return out, nil
}

// remediationFor is the time to remediate rule: the alert's own remediation_time annotation,
// else the component's annotation for the rule, else its "*"; ok is false when neither says.
func remediationFor(rule string, alertAnnotations map[string]string, componentAnnotation string) (time.Duration, string, bool) {
	if v := alertAnnotations[AlertAnnotationRemediation]; v != "" {
		if d, err := time.ParseDuration(strings.TrimSpace(v)); err == nil && d > 0 {
			return d, "alert annotation " + AlertAnnotationRemediation, true
		}
	}
	if componentAnnotation != "" {
		if m, err := ParseRemediation(componentAnnotation); err == nil {
			if d, ok := m[rule]; ok {
				return d, AnnotationRemediation, true
			}
			if d, ok := m["*"]; ok {
				return d, AnnotationRemediation + " (*)", true
			}
		}
	}
	return 0, "", false
}

// clip shortens s for a message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

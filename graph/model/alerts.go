package model

import (
	"time"

	"github.com/portside-dev/portside/alerts"
)

// Alert is one alert; its guidance is resolved on demand from Domain.
type Alert struct {
	ID           string
	Rule         string
	Component    *string
	Status       AlertStatus
	Severity     *string
	Summary      *string
	Labels       []*KeyValue
	Annotations  []*KeyValue
	StartsAt     time.Time
	EndsAt       *time.Time
	GeneratorURL *string
	Fingerprint  string
	DuringCanary *CanaryApplication
	// Domain is the alert the fields were read from.
	Domain alerts.Alert `json:"-"`
}

// NewAlert converts an alert.
func NewAlert(a alerts.Alert) *Alert {
	out := &Alert{ID: EncodeNumericID("Alert", a.ID), Rule: a.Rule, Component: optional(a.Component), Status: AlertStatus(a.Status),
		Severity: optional(a.Severity), Summary: optional(a.Summary), Labels: keyValues(a.Labels), Annotations: keyValues(a.Annotations),
		StartsAt: a.StartsAt, EndsAt: a.EndsAt, GeneratorURL: optional(a.GeneratorURL), Fingerprint: a.Fingerprint, Domain: a}
	if c := a.Canary; c != nil {
		out.DuringCanary = &CanaryApplication{Instance: c.Instance, AppNamespace: c.AppNamespace, Application: c.Application}
	}
	return out
}

// NewAlerts converts a list of alerts.
func NewAlerts(list []alerts.Alert) []*Alert {
	out := make([]*Alert, len(list))
	for i, a := range list {
		out[i] = NewAlert(a)
	}
	return out
}

// NewAlertGuidance converts guidance; deadline is set for one alert's guidance.
func NewAlertGuidance(g alerts.Guidance, deadline *time.Time) *AlertGuidance {
	out := &AlertGuidance{Owner: optional(g.Owner), RemediationSource: optional(g.RemediationSource), Deadline: deadline,
		Runbooks: make([]*AlertRunbook, len(g.Runbooks)), Missing: []AlertRuleGap{}}
	if g.Remediation > 0 {
		d := g.Remediation.String()
		out.Remediation = &d
	}
	for i, r := range g.Runbooks {
		rb := &AlertRunbook{Title: r.Title, URL: optional(r.URL), Source: r.Source}
		if r.RunbookID != 0 {
			id := EncodeNumericID("Runbook", r.RunbookID)
			rb.RunbookID = &id
		}
		out.Runbooks[i] = rb
	}
	for _, m := range g.Missing() {
		out.Missing = append(out.Missing, AlertRuleGap(m))
	}
	return out
}

// NewAlertRules converts the alert rules report.
func NewAlertRules(list []alerts.RuleReport) []*AlertRule {
	out := make([]*AlertRule, len(list))
	for i, r := range list {
		out[i] = &AlertRule{Rule: r.Rule, Component: optional(r.Component), Guidance: NewAlertGuidance(r.Guidance, nil),
			Alerts: r.Alerts, Firing: r.Firing, LastFiredAt: r.LastFiredAt}
	}
	return out
}

package alerts

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/runbooks"
)

// RunbookRef is a runbook an alert rule points to.
type RunbookRef struct {
	Title, URL string
	// RunbookID is the Portside runbook's ID (0 for a link kept elsewhere).
	RunbookID int64
	// Source says where it was found: "alert annotation runbook_url", a catalog link's source,
	// "portside runbook".
	Source string
}

// Guidance answers, for an alert rule of a component, which runbook, who owns it and how long
// there is to remediate it.
type Guidance struct {
	Rule      string
	Component string
	// Owner is the component's owner (canonical ref), "" when unmapped or unowned.
	Owner    string
	Runbooks []RunbookRef
	// Remediation is the time to remediate; 0 when nothing says. RemediationSource says where it
	// was found.
	Remediation       time.Duration
	RemediationSource string
}

// Missing says which of the three a rule lacks.
type Missing string

// What a rule can lack.
const (
	MissingOwner       Missing = "OWNER"
	MissingRunbook     Missing = "RUNBOOK"
	MissingRemediation Missing = "REMEDIATION"
)

// Missing lists what the guidance lacks (every alert rule must have all three).
func (g Guidance) Missing() []Missing {
	var out []Missing
	if g.Owner == "" {
		out = append(out, MissingOwner)
	}
	if len(g.Runbooks) == 0 {
		out = append(out, MissingRunbook)
	}
	if g.Remediation == 0 {
		out = append(out, MissingRemediation)
	}
	return out
}

// Deadline is when an alert must be remediated (nil when the rule has no remediation time). An
// alert recorded before its start was bounded (LatestStart) could end past MaxTime: its deadline
// is MaxTime then, the latest time that can be answered, rather than no answer at all.
func (g Guidance) Deadline(a Alert) *time.Time {
	if g.Remediation == 0 {
		return nil
	}
	t := a.StartsAt.Add(g.Remediation)
	if t.After(MaxTime) {
		t = MaxTime
	}
	return &t
}

// Guide answers which runbook, who owns it and how long for one alert.
func (s *Service) Guide(ctx context.Context, a Alert) (Guidance, error) {
	if err := signedIn(ctx); err != nil {
		return Guidance{}, err
	}
	ents, err := s.entities(ctx, []string{a.Component})
	if err != nil {
		return Guidance{}, err
	}
	return s.guide(ctx, a.Rule, a.Component, a.Annotations, ents[a.Component])
}

func (s *Service) entities(ctx context.Context, refs []string) (map[string]*backstage.Entity, error) {
	parsed := make([]backstage.Ref, 0, len(refs))
	for _, r := range refs {
		if r == "" {
			continue
		}
		if ref, err := backstage.ParseRef(r, backstage.KindComponent, backstage.DefaultNamespace); err == nil {
			parsed = append(parsed, ref)
		}
	}
	out := map[string]*backstage.Entity{}
	if len(parsed) == 0 {
		return out, nil
	}
	found, err := s.catalog.EntitiesByRef(ctx, parsed)
	if err != nil {
		return nil, err
	}
	for r, e := range found {
		out[r.String()] = e
	}
	return out, nil
}

// guide puts the answer together from the alert's annotations and the component's entry: the
// alert's runbook_url first (Prometheus' convention), then the component's runbooks that name the
// rule in their title, else all of its runbooks (a component-wide runbook covers every rule it
// does not name apart).
func (s *Service) guide(ctx context.Context, rule, component string, annotations map[string]string, e *backstage.Entity) (Guidance, error) {
	g := Guidance{Rule: rule, Component: component}
	if u := annotations[AlertAnnotationRunbook]; runbookURL(u) {
		g.Runbooks = append(g.Runbooks, RunbookRef{Title: rule, URL: u, Source: "alert annotation " + AlertAnnotationRunbook})
	}
	compAnnotation := ""
	if e != nil {
		if e.Owner.Name != "" {
			g.Owner = e.Owner.String()
		}
		compAnnotation = e.Metadata.Annotations[AnnotationRemediation]
		if s.books != nil {
			var named, all []RunbookRef
			links, _, err := s.books.EntityLinks(ctx, e, "")
			if err != nil {
				return Guidance{}, err
			}
			for _, l := range links {
				if l.Kind != runbooks.RunbookLink {
					continue
				}
				r := RunbookRef{Title: l.Title, URL: l.URL, Source: l.Source}
				all = append(all, r)
				if namesRule(l.Title, rule) {
					named = append(named, r)
				}
			}
			kept, err := s.books.ForEntity(ctx, e.Ref.String())
			if err != nil {
				return Guidance{}, err
			}
			for _, rb := range kept {
				r := RunbookRef{Title: rb.Title, URL: rb.URL, RunbookID: rb.ID, Source: "portside runbook"}
				all = append(all, r)
				if namesRule(rb.Title, rule) {
					named = append(named, r)
				}
			}
			if len(named) > 0 {
				g.Runbooks = append(g.Runbooks, named...)
			} else {
				g.Runbooks = append(g.Runbooks, all...)
			}
		}
	}
	g.Remediation, g.RemediationSource, _ = remediationFor(rule, annotations, compAnnotation)
	return g, nil
}

// runbookURL reports whether an alert's runbook_url is one people can be sent to: an absolute
// http or https URL, as every runbook link Portside shows is. Anything else (javascript:, a
// relative path, "TODO") is no runbook: clients would put it in a link, and the report would
// count the rule as having one.
func runbookURL(raw string) bool {
	u, err := url.Parse(raw)
	return raw != "" && err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// namesRule reports whether a runbook title names the rule (case-insensitively).
func namesRule(title, rule string) bool {
	return rule != "" && strings.Contains(strings.ToLower(title), strings.ToLower(rule))
}

// RuleReport is one alert rule of one component, as the alerts recorded show it.
type RuleReport struct {
	Guidance
	// Alerts counts the alerts recorded, Firing those firing now.
	Alerts, Firing int
	LastFiredAt    time.Time
}

// Rules reports every alert rule Portside has received alerts of, per component (by rule, then
// component; at most MaxRules), with its owner, runbooks and remediation time; missingOnly keeps
// the rules that lack one of the three.
func (s *Service) Rules(ctx context.Context, missingOnly bool) ([]RuleReport, error) {
	if err := signedIn(ctx); err != nil {
		return nil, err
	}
	stats, err := s.recs.rules(ctx)
	if err != nil {
		return nil, err
	}
	refs := make([]string, 0, len(stats))
	for _, st := range stats {
		refs = append(refs, st.Component)
	}
	slices.Sort(refs)
	ents, err := s.entities(ctx, slices.Compact(refs))
	if err != nil {
		return nil, err
	}
	out := []RuleReport{}
	for _, st := range stats {
		g, err := s.guide(ctx, st.Rule, st.Component, st.Latest.Annotations, ents[st.Component])
		if err != nil {
			return nil, err
		}
		if missingOnly && len(g.Missing()) == 0 {
			continue
		}
		out = append(out, RuleReport{Guidance: g, Alerts: st.Total, Firing: st.Firing, LastFiredAt: st.Latest.StartsAt})
	}
	return out, nil
}

package runbooks

import (
	"context"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/rollouts"
)

// The annotations this domain reads from catalog entries.
const (
	// AnnotationRunbooks lists runbook URLs, one per line, each optionally followed by a title:
	//   portside.dev/runbooks: |
	//     https://wiki.example.com/payments/incident Incident response
	AnnotationRunbooks = "portside.dev/runbooks"
	// AnnotationDashboards lists dashboard URLs the same way; they may use the template
	// variables (see Variables).
	AnnotationDashboards = "portside.dev/dashboards"
	// AnnotationGrafanaDashboardSelector and AnnotationGrafanaAlertLabelSelector are Backstage's
	// Grafana plugin annotations; Portside shows them (and alerts will map by the second).
	AnnotationGrafanaDashboardSelector  = "grafana/dashboard-selector"
	AnnotationGrafanaAlertLabelSelector = "grafana/alert-label-selector"
	// annotationArgoCDApp is the Argo CD application annotation, the fallback of {{argocdApp}}.
	annotationArgoCDApp = "argocd/app-name"
)

// MaxAnnotationEntries bounds the URLs one annotation lists.
const MaxAnnotationEntries = 50

// Variables are the template variables a dashboard (or runbook) URL may use:
//   - {{component}}: the entity's name;
//   - {{namespace}}: the Kubernetes namespace of the chosen deployment, else the entity's catalog
//     namespace;
//   - {{argocdApp}}: the chosen deployment's Argo CD application, else the argocd/app-name
//     annotation;
//   - {{environment}}: the chosen deployment's environment (its "environment" label, cluster name
//     or namespace, as the rollouts show it).
//
// The chosen deployment is the one of the environment asked for; without one, the production
// deployment (environment "production" or "prod"), else the first by environment name. Values
// are escaped for where they stand: path-escaped before the "?", query-escaped after it.
var Variables = []string{"component", "namespace", "argocdApp", "environment"}

var variableRE = regexp.MustCompile(`\{\{\s*([A-Za-z]*)\s*\}\}`)

// LinkKind says what a catalog link is for.
type LinkKind string

// The link kinds.
const (
	RunbookLink   LinkKind = "RUNBOOK"
	DashboardLink LinkKind = "DASHBOARD"
)

// EntityLink is a runbook or dashboard link a catalog entry declares.
type EntityLink struct {
	Kind  LinkKind
	Title string
	// Template is the URL as declared; URL is it with the variables filled in (and escaped).
	Template string
	URL      string
	// Source says where it was declared: "metadata.links[2]" or an annotation's key.
	Source string
	// Missing lists the variables that had no value here (they were left empty).
	Missing []string
	// Status is the link check's last answer (State UNKNOWN until it has checked).
	Status LinkStatus
}

// Grafana is what Backstage's Grafana annotations say of an entity.
type Grafana struct {
	DashboardSelector  string
	AlertLabelSelector string
}

// linkKindOf tells the metadata.links entries that are runbooks (type or icon runbook, or an
// untyped link whose title says runbook) and dashboards (type or icon dashboard).
func linkKindOf(l backstage.Link) (LinkKind, bool) {
	typ, icon, title := strings.ToLower(l.Type), strings.ToLower(l.Icon), strings.ToLower(l.Title)
	switch {
	case typ == "runbook" || icon == "runbook" || (typ == "" && strings.Contains(title, "runbook")):
		return RunbookLink, true
	case typ == "dashboard" || icon == "dashboard":
		return DashboardLink, true
	}
	return "", false
}

// annotationEntry is one line of a runbooks or dashboards annotation.
type annotationEntry struct {
	URL, Title string
	Line       int
}

// parseAnnotation reads an annotation's lines; problems name the line.
func parseAnnotation(value string) ([]annotationEntry, []backstage.AnnotationProblem) {
	var out []annotationEntry
	var problems []backstage.AnnotationProblem
	for i, line := range strings.Split(value, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		n := len(out)
		field := "[" + strconv.Itoa(n) + "]"
		raw, title, _ := strings.Cut(line, " ")
		if n >= MaxAnnotationEntries {
			problems = append(problems, backstage.AnnotationProblem{Line: i + 1, Field: field,
				Message: "lists more than " + strconv.Itoa(MaxAnnotationEntries) + " URLs"})
			break
		}
		if err := checkTemplate(raw); err != nil {
			problems = append(problems, backstage.AnnotationProblem{Line: i + 1, Field: field, Message: errs.PublicMessage(err)})
			continue
		}
		out = append(out, annotationEntry{URL: raw, Title: strings.TrimSpace(title), Line: i + 1})
	}
	return out, problems
}

// checkTemplate refuses a URL (with template variables) that is not absolute http(s) or names a
// variable Portside does not know.
func checkTemplate(raw string) error {
	for _, m := range variableRE.FindAllStringSubmatch(raw, -1) {
		if !slices.Contains(Variables, m[1]) {
			return errs.E(errs.Invalid, "unknown template variable {{%s}}; use %s", clip(m[1], 40), "{{"+strings.Join(Variables, "}}, {{")+"}}")
		}
	}
	probe := variableRE.ReplaceAllString(raw, "x")
	if err := checkURL("url", probe); err != nil {
		return errs.E(errs.Invalid, "%q is not an absolute http or https URL", clip(raw, 80))
	}
	return nil
}

// CheckAnnotation validates a portside.dev/runbooks or portside.dev/dashboards annotation; the
// catalog runs it on every document (registered in cmd/portside).
func CheckAnnotation(value string, _ map[string]string) []backstage.AnnotationProblem {
	_, problems := parseAnnotation(value)
	return problems
}

// choosePlace picks the deployment templates fill in: the one of environment, else production,
// else the first by environment name.
func choosePlace(deps []rollouts.Deployment, environment string) (rollouts.Deployment, bool) {
	if len(deps) == 0 {
		return rollouts.Deployment{}, false
	}
	sorted := slices.Clone(deps)
	slices.SortFunc(sorted, func(a, b rollouts.Deployment) int { return strings.Compare(a.Environment, b.Environment) })
	if environment != "" {
		for _, d := range sorted {
			if strings.EqualFold(d.Environment, environment) {
				return d, true
			}
		}
		return rollouts.Deployment{}, false
	}
	for _, d := range sorted {
		if e := strings.ToLower(d.Environment); e == "production" || e == "prod" {
			return d, true
		}
	}
	return sorted[0], true
}

// values are the template variables' values for an entity.
func values(e *backstage.Entity, d rollouts.Deployment, found bool) map[string]string {
	v := map[string]string{"component": e.Metadata.Name, "namespace": e.Ref.Namespace,
		"argocdApp": e.Metadata.Annotations[annotationArgoCDApp], "environment": ""}
	if found {
		if d.Namespace != "" {
			v["namespace"] = d.Namespace
		}
		if d.Application != "" {
			v["argocdApp"] = d.Application
		}
		v["environment"] = d.Environment
	}
	return v
}

// Expand fills a URL template's variables with vals, escaping each for where it stands, and
// reports the variables that had no value.
func Expand(template string, vals map[string]string) (string, []string) {
	var missing []string
	query := strings.IndexAny(template, "?#")
	var sb strings.Builder
	last := 0
	for _, m := range variableRE.FindAllStringSubmatchIndex(template, -1) {
		sb.WriteString(template[last:m[0]])
		name := template[m[2]:m[3]]
		v := vals[name]
		if v == "" && !slices.Contains(missing, name) {
			missing = append(missing, name)
		}
		if query >= 0 && m[0] > query {
			sb.WriteString(url.QueryEscape(v))
		} else {
			sb.WriteString(url.PathEscape(v))
		}
		last = m[1]
	}
	sb.WriteString(template[last:])
	return sb.String(), missing
}

// EntityLinks returns the runbook and dashboard links an entity's catalog entry declares
// (metadata.links, then the annotations), with dashboard templates filled in for the deployment
// of environment ("" picks one; see Variables), and the link check's last answer for each.
// Annotations stored before they were checked are read leniently: bad lines are left out.
func (s *Service) EntityLinks(ctx context.Context, e *backstage.Entity, environment string) ([]EntityLink, Grafana, error) {
	if err := signedIn(ctx); err != nil {
		return nil, Grafana{}, err
	}
	if len(environment) > 200 {
		return nil, Grafana{}, errs.InvalidField("environment", "has %d bytes; at most 200", len(environment))
	}
	var deps []rollouts.Deployment
	if s.deploys != nil && e.Ref.Kind == "component" {
		var err error
		if deps, err = s.deploys.Deployments(ctx, e.Metadata.Annotations); err != nil {
			// Broken Argo CD annotations must not hide the runbooks: templates just lack those values.
			s.log.DebugContext(ctx, "runbooks: deployments for templates", "entity", e.Ref.String(), "error", err)
			deps = nil
		}
	}
	d, found := choosePlace(deps, environment)
	if environment != "" && !found && len(deps) > 0 {
		envs := make([]string, len(deps))
		for i, x := range deps {
			envs[i] = x.Environment
		}
		return nil, Grafana{}, errs.InvalidField("environment", "%s has no deployment in %q; it has %s", e.Ref, clip(environment, 80), strings.Join(envs, ", "))
	}
	vals := values(e, d, found)
	var out []EntityLink
	add := func(kind LinkKind, title, template, source string) {
		u, missing := template, []string(nil)
		if kind == DashboardLink || variableRE.MatchString(template) {
			u, missing = Expand(template, vals)
		}
		if title == "" {
			title = u
		}
		out = append(out, EntityLink{Kind: kind, Title: title, Template: template, URL: u, Source: source, Missing: missing})
	}
	for i, l := range e.Metadata.Links {
		if kind, ok := linkKindOf(l); ok && checkTemplate(l.URL) == nil {
			add(kind, l.Title, l.URL, "metadata.links["+strconv.Itoa(i)+"]")
		}
	}
	for _, a := range []struct {
		key  string
		kind LinkKind
	}{{AnnotationRunbooks, RunbookLink}, {AnnotationDashboards, DashboardLink}} {
		entries, _ := parseAnnotation(e.Metadata.Annotations[a.key])
		for _, en := range entries {
			add(a.kind, en.Title, en.URL, a.key)
		}
	}
	urls := make([]string, len(out))
	for i, l := range out {
		urls[i] = l.URL
	}
	statuses, err := s.LinkStatuses(ctx, urls)
	if err != nil {
		return nil, Grafana{}, err
	}
	for i := range out {
		out[i].Status = statuses[out[i].URL]
	}
	if out == nil {
		out = []EntityLink{}
	}
	return out, GrafanaOf(e), nil
}

// GrafanaOf reads Backstage's Grafana annotations of an entity.
func GrafanaOf(e *backstage.Entity) Grafana {
	return Grafana{DashboardSelector: e.Metadata.Annotations[AnnotationGrafanaDashboardSelector],
		AlertLabelSelector: e.Metadata.Annotations[AnnotationGrafanaAlertLabelSelector]}
}

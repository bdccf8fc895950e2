package runbooks_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/rollouts"
	"github.com/portside-dev/portside/runbooks"
	"github.com/portside-dev/portside/store/storetest"
)

func TestTheAnnotationCheckNamesTheLineAndEntry(t *testing.T) {
	cases := []struct {
		name, value string
		line        int
		field, says string
	}{
		{"a good list", "https://wiki.example.com/a Incident response\n\n# a comment\nhttps://grafana.example.com/d/x?var-app={{component}}", 0, "", ""},
		{"not a URL", "https://ok.example.com\nnot a url", 2, "[1]", "not an absolute http or https URL"},
		{"javascript", "javascript:alert(1)", 1, "[0]", "not an absolute http or https URL"},
		{"unknown variable", "https://ok.example.com\nhttps://grafana.example.com/d/x?var-app={{service}}", 2, "[1]", "unknown template variable {{service}}"},
		{"too many", strings.Repeat("https://ok.example.com\n", runbooks.MaxAnnotationEntries+1), runbooks.MaxAnnotationEntries + 1, "[50]", "more than 50"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			problems := runbooks.CheckAnnotation(c.value, nil)
			if c.says == "" {
				if len(problems) > 0 {
					t.Errorf("problems in a good value: %+v", problems)
				}
				return
			}
			if len(problems) != 1 || problems[0].Line != c.line || problems[0].Field != c.field || !strings.Contains(problems[0].Message, c.says) {
				t.Errorf("problems = %+v, want one on line %d, field %s, saying %q", problems, c.line, c.field, c.says)
			}
		})
	}
}

// The annotation check runs inside catalog validation, which names file, line and field.
func TestCatalogValidationRunsTheAnnotationChecks(t *testing.T) {
	backstage.RegisterAnnotationCheck(runbooks.AnnotationDashboards, runbooks.CheckAnnotation)
	doc := "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: checkout\n  annotations:\n" +
		"    portside.dev/dashboards: |\n      https://grafana.example.com/d/a\n      https://grafana.example.com/d/b?x={{nope}}\n" +
		"spec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"
	problems := backstage.Parse("catalog-info.yaml", []byte(doc), nil).Errors()
	if len(problems) != 1 || problems[0].Field != "metadata.annotations[portside.dev/dashboards][1]" || problems[0].Line != 8 ||
		!strings.Contains(problems[0].Message, "{{nope}}") {
		t.Errorf("validation problems = %+v", problems)
	}
}

func TestTemplatesEscapeHostileValuesForWhereTheyStand(t *testing.T) {
	vals := map[string]string{"component": "a/b?c=d&e#f", "namespace": "../../admin", "argocdApp": "x y", "environment": ""}
	got, missing := runbooks.Expand("https://grafana.example.com/d/{{component}}/{{ namespace }}?var-app={{argocdApp}}&var-c={{component}}&env={{environment}}#{{component}}", vals)
	u, err := url.Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	if u.Host != "grafana.example.com" || u.EscapedPath() != "/d/a%2Fb%3Fc=d&e%23f/..%2F..%2Fadmin" {
		t.Errorf("path: host %q, path %q (from %s)", u.Host, u.EscapedPath(), got)
	}
	q := u.Query()
	if q.Get("var-app") != "x y" || q.Get("var-c") != "a/b?c=d&e#f" || len(q) != 3 {
		t.Errorf("query = %v (from %s): a value broke out of its parameter", q, got)
	}
	if u.Fragment != "a/b?c=d&e#f" {
		t.Errorf("fragment = %q", u.Fragment)
	}
	if len(missing) != 1 || missing[0] != "environment" {
		t.Errorf("missing = %v, want [environment]", missing)
	}
}

// fakeDeployments answers a fixed list.
type fakeDeployments []rollouts.Deployment

func (f fakeDeployments) Deployments(context.Context, map[string]string) ([]rollouts.Deployment, error) {
	return f, nil
}

func TestEntityLinksComeFromLinksAndAnnotationsWithTemplatesFilled(t *testing.T) {
	st := storetest.SQLite(t)
	s := newService(t, st, runbooks.Options{Deployments: fakeDeployments{
		{Application: "checkout-staging", Namespace: "shop-staging", Environment: "staging"},
		{Application: "checkout-prod", Namespace: "shop", Environment: "production"},
	}})
	e := entity(checkout)
	e.Metadata.Links = []backstage.Link{
		{URL: "https://wiki.example.com/checkout", Title: "Checkout runbook"},
		{URL: "https://grafana.example.com/d/1?var-ns={{namespace}}", Title: "Overview", Type: "dashboard"},
		{URL: "https://github.com/acme/checkout", Title: "Source"},
		{URL: "https://docs.example.com/oncall", Title: "On call", Icon: "runbook"},
	}
	e.Metadata.Annotations = map[string]string{
		runbooks.AnnotationRunbooks:                  "https://wiki.example.com/failover Failover\nnot-a-url",
		runbooks.AnnotationDashboards:                "https://grafana.example.com/d/2?var-app={{argocdApp}}&env={{environment}}",
		runbooks.AnnotationGrafanaDashboardSelector:  "tags @> 'checkout'",
		runbooks.AnnotationGrafanaAlertLabelSelector: "service=checkout",
	}
	links, g, err := s.EntityLinks(carol, e, "")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]runbooks.EntityLink{}
	for _, l := range links {
		got[l.Title] = l
	}
	if len(links) != 5 {
		t.Errorf("links = %+v, want 5 (the source link and the bad annotation line left out)", links)
	}
	if l := got["Checkout runbook"]; l.Kind != runbooks.RunbookLink || l.Source != "metadata.links[0]" || l.Status.State != runbooks.LinkUnknown {
		t.Errorf("runbook by title: %+v", l)
	}
	if l := got["On call"]; l.Kind != runbooks.RunbookLink {
		t.Errorf("runbook by icon: %+v", l)
	}
	if l := got["Overview"]; l.Kind != runbooks.DashboardLink || l.URL != "https://grafana.example.com/d/1?var-ns=shop" {
		t.Errorf("dashboard from links, production chosen: %+v", l)
	}
	if l := got["Failover"]; l.Kind != runbooks.RunbookLink || l.Source != runbooks.AnnotationRunbooks {
		t.Errorf("runbook from the annotation: %+v", l)
	}
	if l := got["https://grafana.example.com/d/2?var-app=checkout-prod&env=production"]; l.Kind != runbooks.DashboardLink ||
		l.Template != "https://grafana.example.com/d/2?var-app={{argocdApp}}&env={{environment}}" {
		t.Errorf("dashboard from the annotation, untitled: %+v (all: %+v)", l, links)
	}
	if g.DashboardSelector != "tags @> 'checkout'" || g.AlertLabelSelector != "service=checkout" {
		t.Errorf("grafana = %+v", g)
	}
	staging, _, err := s.EntityLinks(carol, e, "staging")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range staging {
		if l.Title == "Overview" && l.URL != "https://grafana.example.com/d/1?var-ns=shop-staging" {
			t.Errorf("staging dashboard: %+v", l)
		}
	}
	if _, _, err := s.EntityLinks(carol, e, "qa"); errs.FieldOf(err) != "environment" || !strings.Contains(errs.PublicMessage(err), "production") {
		t.Errorf("an environment without deployment: %v, want INVALID naming environment and listing the ones there are", err)
	}
	if _, _, err := s.EntityLinks(context.Background(), e, ""); !errs.Is(err, errs.Unauthenticated) {
		t.Errorf("anonymous: %v, want UNAUTHENTICATED", err)
	}
}

// Without deployments, templates fall back to the catalog's namespace and the Argo CD
// annotation, and say what they lacked.
func TestTemplatesWithoutDeploymentsFallBack(t *testing.T) {
	st := storetest.SQLite(t)
	s := newService(t, st, runbooks.Options{})
	e := entity(checkout)
	e.Metadata.Annotations = map[string]string{"argocd/app-name": "checkout-app",
		runbooks.AnnotationDashboards: "https://grafana.example.com/d/3?ns={{namespace}}&app={{argocdApp}}&env={{environment}} Board"}
	links, _, err := s.EntityLinks(carol, e, "")
	if err != nil || len(links) != 1 {
		t.Fatalf("links = %+v, %v", links, err)
	}
	if l := links[0]; l.URL != "https://grafana.example.com/d/3?ns=default&app=checkout-app&env=" || len(l.Missing) != 1 || l.Missing[0] != "environment" {
		t.Errorf("link = %+v", l)
	}
}

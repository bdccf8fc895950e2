package server_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/graph/model"
	"github.com/portside-dev/portside/runbooks"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// runbook creates a Markdown runbook (version 1) linked to the given components, as the operator,
// and returns its GraphQL ID.
func (p *portal) runbook(t *testing.T, links ...string) string {
	t.Helper()
	rb, err := p.books.Create(operator(), runbooks.CreateInput{Title: "Runbook", Kind: runbooks.Markdown, Markdown: "# Steps\n", Links: links})
	if err != nil {
		t.Fatal(err)
	}
	return model.EncodeNumericID("Runbook", rb.ID)
}

func TestARunbookIsWrittenVersionedDiffedAndRenderedSafelyOverGraphQL(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := newPortal(t, st)
		bob, carol := p.session("bob"), p.session("carol")
		created := p.as(bob, `mutation { createRunbook(input: {title: "Payments API is down", kind: MARKDOWN,
			markdown: "# Payments down\n\n<script>alert(1)</script>\n\n[wiki](javascript:alert(1))\n",
			links: ["payments-api", "system:payments"], message: "first"}) { runbook { id version kind linkedRefs } } }`)
		if len(created.Errors) > 0 {
			t.Fatalf("create: %+v", created.Errors)
		}
		rb := created.Data["createRunbook"].(map[string]any)["runbook"].(map[string]any)
		id := rb["id"].(string)
		if rb["version"] != float64(1) || rb["kind"] != "MARKDOWN" || fmt.Sprint(rb["linkedRefs"]) != "[component:default/payments-api system:default/payments]" {
			t.Errorf("created %v", rb)
		}
		edit := fmt.Sprintf(`mutation { updateRunbook(input: {id: %q, baseVersion: 1, markdown: "# Payments down\n\nRestart it.\n", message: "simpler"}) { runbook { version } } }`, id)
		if res := p.as(bob, edit); len(res.Errors) > 0 {
			t.Fatalf("edit: %+v", res.Errors)
		}
		if res := p.as(bob, edit); res.code() != "CONFLICT" {
			t.Errorf("the same edit of version 1 again: %+v, want CONFLICT", res)
		}
		if res := p.as(carol, strings.Replace(edit, "baseVersion: 1", "baseVersion: 2", 1)); res.code() != "FORBIDDEN" {
			t.Errorf("carol editing: %+v, want FORBIDDEN", res)
		}
		read := p.as(carol, fmt.Sprintf(`{ runbook(id: %q) { title version markdown html versions(first: 5) { version author message }
			diff(from: 1, to: 2) linkedEntities { ref } } }`, id))
		if len(read.Errors) > 0 {
			t.Fatalf("read: %+v", read.Errors)
		}
		got := read.Data["runbook"].(map[string]any)
		html := got["html"].(string)
		if !strings.Contains(html, `<h1 id="payments-down">Payments down</h1>`) || !strings.Contains(html, "Restart it.") || strings.Contains(html, "script") {
			t.Errorf("html = %q", html)
		}
		vs := got["versions"].([]any)
		if len(vs) != 2 || vs[0].(map[string]any)["message"] != "simpler" || vs[1].(map[string]any)["author"] != "bob" {
			t.Errorf("versions = %v", vs)
		}
		if d := got["diff"].(string); !strings.Contains(d, "-<script>alert(1)</script>") || !strings.Contains(d, "+Restart it.") {
			t.Errorf("diff = %q", d)
		}
		if ents := got["linkedEntities"].([]any); len(ents) != 2 {
			t.Errorf("linkedEntities = %v", ents)
		}
		page := p.as(carol, `{ entity(ref: "component:payments-api") { ... on Component { runbooks { title } } }
			runbooks(filter: {query: "DOWN"}) { totalCount nodes { title } } }`)
		if len(page.Errors) > 0 {
			t.Fatalf("lists: %+v", page.Errors)
		}
		if on := page.Data["entity"].(map[string]any)["runbooks"].([]any); len(on) != 1 {
			t.Errorf("payments-api's runbooks = %v", on)
		}
		if n := page.Data["runbooks"].(map[string]any)["totalCount"]; n != float64(1) {
			t.Errorf("runbooks matching DOWN: %v", n)
		}
		if res := p.as(carol, `{ runbooks(first: 101) { totalCount } }`); res.code() != "INVALID" {
			t.Errorf("runbooks(first: 101): %+v, want INVALID", res)
		}
	})
}

// One search answers catalog entities and runbooks together; runbooks(filter: {text}) searches
// their titles and text; both are bounded, and only signed-in callers search.
func TestOneSearchFindsEntitiesAndRunbooksOverGraphQL(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		p := newPortal(t, st)
		bob := p.session("bob")
		for _, in := range []runbooks.CreateInput{
			{Title: "Payments API is down", Kind: runbooks.Markdown, Markdown: "Fail over the ledger database.", Links: []string{"payments-api"}},
			{Title: "Ledger lag", Kind: runbooks.Markdown, Markdown: "Check the payments queue.", Links: []string{"payments-api"}},
			{Title: "Unrelated", Kind: runbooks.Markdown, Markdown: "Nothing to see.", Links: []string{"payments-api"}},
		} {
			if _, err := p.books.Create(operator(), in); err != nil {
				t.Fatal(err)
			}
		}
		res := p.as(bob, `{ search(text: "Payments") { text entities(first: 50) { totalCount nodes { ref } }
			runbooks(first: 1) { totalCount pageInfo { hasNextPage } nodes { title } } }
			ledger: runbooks(filter: {text: "ledger"}) { totalCount nodes { title } } }`)
		if len(res.Errors) > 0 {
			t.Fatalf("search: %+v", res.Errors)
		}
		found := res.Data["search"].(map[string]any)
		ents := found["entities"].(map[string]any)
		if n := ents["totalCount"].(float64); n < 1 || !strings.Contains(fmt.Sprint(ents["nodes"]), "component:default/payments-api") {
			t.Errorf("entities found for payments: %v", ents)
		}
		rbs := found["runbooks"].(map[string]any)
		if rbs["totalCount"] != float64(2) || fmt.Sprint(rbs["nodes"]) != "[map[title:Payments API is down]]" ||
			rbs["pageInfo"].(map[string]any)["hasNextPage"] != true {
			t.Errorf("runbooks found for payments: %v", rbs)
		}
		if ledger := res.Data["ledger"].(map[string]any); ledger["totalCount"] != float64(2) {
			t.Errorf("runbooks with ledger in title or text: %v", ledger)
		}
		for name, q := range map[string]string{
			"a long text":            `{ search(text: "` + strings.Repeat("w ", 101) + `") { text } }`,
			"a text without words":   `{ search(text: "*:&") { text } }`,
			"101 entities":           `{ search(text: "payments") { entities(first: 101) { totalCount } } }`,
			"101 runbooks":           `{ search(text: "payments") { runbooks(first: 101) { totalCount } } }`,
			"a long runbooks filter": `{ runbooks(filter: {text: "` + strings.Repeat("w", 201) + `"}) { totalCount } }`,
		} {
			if res := p.as(bob, q); res.code() != "INVALID" {
				t.Errorf("%s: %+v, want INVALID", name, res)
			}
		}
		if res := p.gql(http.DefaultClient, nil, `{ search(text: "payments") { runbooks { totalCount } } }`, nil); res.Status != http.StatusUnauthorized {
			t.Errorf("an anonymous search: %d %s, want 401", res.Status, res.code())
		}
	})
}

// A component's catalog entry declares runbooks and dashboards; dashboards come templated.
func TestCatalogRunbookAndDashboardLinksOverGraphQL(t *testing.T) {
	st := storetest.SQLite(t)
	p := newPortal(t, st)
	dir := t.TempDir()
	doc := `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: billing
  links:
    - url: https://wiki.example.com/billing/oncall
      title: On-call runbook
      type: runbook
    - url: https://grafana.example.com/d/abc?var-app={{component}}&var-ns={{namespace}}
      title: Overview
      type: dashboard
  annotations:
    portside.dev/dashboards: |
      https://grafana.example.com/d/errors/{{component}} Errors
    grafana/alert-label-selector: "service=billing"
spec:
  type: service
  lifecycle: production
  owner: team-payments
`
	path := filepath.Join(dir, "catalog-info.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := p.cat.RegisterLocation(operator(), catalog.LocationSpec{Type: catalog.LocationFile, Target: path}); err != nil {
		t.Fatal(err)
	}
	res := p.as(p.session("carol"), `{ entity(ref: "component:billing") { ... on Component {
		runbookLinks { title url source status { state } }
		dashboards { title url template missing status { state } }
		grafana { dashboardSelector alertLabelSelector } } } }`)
	if len(res.Errors) > 0 {
		t.Fatalf("%+v", res.Errors)
	}
	c := res.Data["entity"].(map[string]any)
	rl := c["runbookLinks"].([]any)
	if len(rl) != 1 || rl[0].(map[string]any)["url"] != "https://wiki.example.com/billing/oncall" || rl[0].(map[string]any)["source"] != "metadata.links[0]" ||
		rl[0].(map[string]any)["status"].(map[string]any)["state"] != "UNKNOWN" {
		t.Errorf("runbookLinks = %v", rl)
	}
	ds := c["dashboards"].([]any)
	if len(ds) != 2 || ds[0].(map[string]any)["url"] != "https://grafana.example.com/d/abc?var-app=billing&var-ns=default" ||
		ds[1].(map[string]any)["url"] != "https://grafana.example.com/d/errors/billing" || ds[1].(map[string]any)["title"] != "Errors" {
		t.Errorf("dashboards = %v", ds)
	}
	if g := c["grafana"].(map[string]any); g["alertLabelSelector"] != "service=billing" || g["dashboardSelector"] != nil {
		t.Errorf("grafana = %v", g)
	}
}

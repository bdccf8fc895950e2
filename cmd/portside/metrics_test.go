package main

// The metrics reference in README.md, the Grafana dashboard and the alert rules in deploy/ are
// checked here against what a running serve actually exposes, so that none of them names a metric
// or a label that does not exist (a renamed metric once left a dashboard panel silently empty).

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	// Prometheus's own PromQL parser, test-only. It is pinned at v0.55.1 (Prometheus 2.55) on
	// purpose: its newer releases (v0.3xx) require k8s.io/client-go v0.3x and would raise the
	// Kubernetes modules argo-cd v2 is built against; v0.55.1's parser adds four small modules
	// (grafana/regexp, dennwc/varint, go-kit/log, go.uber.org/atomic) and raises nothing.
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"

	"github.com/portside-dev/portside/auth"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/config"
	"github.com/portside-dev/portside/internal/testutil"
)

// servedMetrics serves the demo wiring (with Slack on), makes a request of each kind that feeds a
// metric, and returns the families its /metrics answers.
func servedMetrics(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	w, base := serveWiring(t, func(c *config.Config) {
		c.SlackSigningSecret = "metrics-test-signing-secret"
	})
	system := principal.With(context.Background(), principal.System("test", principal.ClientCLI))
	secret, _, err := w.identity.CreateToken(system, auth.TokenSpec{Username: "alice", Name: "metrics", Admin: true, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) *http.Response {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	post := func(path, contentType, body string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", contentType)
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	get("/healthz")                                                                                             // HTTP
	post("/graphql", "application/json", `{"query":"query MetricsTest { entities(first: 1) { totalCount } }"}`) // GraphQL
	post("/slack/commands", "application/x-www-form-urlencoded", "command=%2Fdeploy&text=help")                 // Slack (unsigned: refused and counted)

	var families map[string]*dto.MetricFamily
	testutil.Eventually(t, 30*time.Second, func() bool {
		families = scrape(t, base)
		// The demo catalog's locations are refreshed as serve starts (on the leader's loop).
		return families["portside_catalog_refreshes_total"] != nil && families["portside_graphql_operations_total"] != nil
	}, func() string {
		return fmt.Sprintf("no catalog refresh or GraphQL operation counted; families: %v", familyNames(families))
	})
	return families
}

// scrape reads base's /metrics in the text format.
func scrape(t *testing.T, base string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics = %d", resp.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics is not the text format: %v", err)
	}
	return families
}

func familyNames(families map[string]*dto.MetricFamily) []string {
	names := make([]string, 0, len(families))
	for n := range families {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// familyLabels are the label names a family's series carry (le and quantile aside).
func familyLabels(f *dto.MetricFamily) []string {
	set := map[string]bool{}
	for _, m := range f.GetMetric() {
		for _, l := range m.GetLabel() {
			set[l.GetName()] = true
		}
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// documentedMetric is one row of README's metrics table.
type documentedMetric struct {
	typ    string
	labels []string
}

// readmeMetrics reads the table of "## Metrics, dashboard and alerts" in README.md: the rows whose
// first cell is a metric name in backticks.
func readmeMetrics(t *testing.T) map[string]documentedMetric {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot(t), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	row := regexp.MustCompile("^\\| `([a-z_*]+)` \\|\\s*([a-z]*)\\s*\\|([^|]*)\\|")
	out := map[string]documentedMetric{}
	in := false
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = line == "## Metrics, dashboard and alerts"
			continue
		}
		m := row.FindStringSubmatch(line)
		if !in || m == nil {
			continue
		}
		var labels []string
		for _, l := range strings.Split(m[3], ",") {
			if l = strings.Trim(strings.TrimSpace(l), "`"); l != "" {
				labels = append(labels, l)
			}
		}
		sort.Strings(labels)
		if _, dup := out[m[1]]; dup {
			t.Errorf("README lists %s twice", m[1])
		}
		out[m[1]] = documentedMetric{typ: m[2], labels: labels}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal(`README.md has no metrics table under "## Metrics, dashboard and alerts"`)
	}
	return out
}

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// TestMetricsReferenceMatchesTheServedMetrics keeps README's table and the code in step: every
// portside_* family a running serve exposes is documented with its type and labels, and every
// documented one is exposed (with a series: each kind of request that feeds one was made).
func TestMetricsReferenceMatchesTheServedMetrics(t *testing.T) {
	families := servedMetrics(t)
	documented := readmeMetrics(t)

	for name, f := range families {
		if !strings.HasPrefix(name, "portside_") {
			continue
		}
		d, ok := documented[name]
		if !ok {
			t.Errorf("serve exposes %s (%s), which README's metrics table does not list", name, f.GetHelp())
			continue
		}
		if typ := strings.ToLower(f.GetType().String()); d.typ != typ {
			t.Errorf("README says %s is a %s; it is a %s", name, d.typ, typ)
		}
		if labels := familyLabels(f); !slices.Equal(labels, d.labels) {
			t.Errorf("README gives %s the labels %v; its series carry %v", name, d.labels, labels)
		}
	}
	for name := range documented {
		if strings.HasSuffix(name, "*") {
			prefix := strings.TrimSuffix(name, "*")
			if !slices.ContainsFunc(familyNames(families), func(n string) bool { return strings.HasPrefix(n, prefix) }) {
				t.Errorf("README lists %s, and serve exposes no metric of that name", name)
			}
			continue
		}
		if families[name] == nil {
			t.Errorf("README lists %s, which serve does not expose (or has no series of after a request of each kind)", name)
		}
	}
}

// promQL collects the PromQL expressions of the dashboard and the alert rules, by where they are.
func promQL(t *testing.T) map[string]string {
	t.Helper()
	root := repoRoot(t)
	exprs := map[string]string{}

	raw, err := os.ReadFile(filepath.Join(root, "deploy/grafana/portside-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash any
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			title, _ := v["title"].(string)
			for k, c := range v {
				if s, ok := c.(string); ok && k == "expr" {
					exprs[fmt.Sprintf("dashboard %s", path)] = s
				} else {
					walk(path+"/"+k+title, c)
				}
			}
		case []any:
			for i, c := range v {
				walk(fmt.Sprintf("%s[%d]", path, i), c)
			}
		}
	}
	walk("", dash)

	raw, err = os.ReadFile(filepath.Join(root, "deploy/prometheus/portside-alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Name  string
			Rules []struct{ Alert, Record, Expr string }
		}
	}
	if err := yaml.Unmarshal(raw, &rules); err != nil {
		t.Fatalf("the alert rules are not YAML: %v", err)
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			exprs["rule "+g.Name+"/"+r.Alert+r.Record] = r.Expr
		}
	}
	return exprs
}

// grafanaVariables are Grafana's own variables, replaced by a value PromQL accepts before parsing.
var grafanaVariables = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$__range", "1h", "$job", "portside")

// scrapeLabels are added by Prometheus at scrape time, so every series may be selected by them.
var scrapeLabels = []string{"job", "instance", "namespace", "pod", "service", "container", "endpoint"}

// TestDashboardAndAlertsNameOnlyServedMetrics parses every expression of the dashboard and of the
// alert rules as PromQL and checks that each metric it selects is one a running serve exposes (or
// up, which Prometheus makes), with labels it has.
func TestDashboardAndAlertsNameOnlyServedMetrics(t *testing.T) {
	families := servedMetrics(t)
	exprs := promQL(t)
	if len(exprs) < 20 {
		t.Fatalf("found only %d expressions in the dashboard and the rules", len(exprs))
	}
	// family finds the family a selected series belongs to: histograms are selected as _bucket,
	// _sum and _count series.
	family := func(name string) (*dto.MetricFamily, []string) {
		if f := families[name]; f != nil {
			return f, nil
		}
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if f := families[strings.TrimSuffix(name, suffix)]; f != nil && strings.HasSuffix(name, suffix) &&
				(f.GetType() == dto.MetricType_HISTOGRAM || f.GetType() == dto.MetricType_SUMMARY) {
				if suffix == "_bucket" {
					return f, []string{"le"}
				}
				return f, nil
			}
		}
		return nil, nil
	}
	// A summary's own series carry its quantile label (the text parser keeps it apart).
	quantile := func(f *dto.MetricFamily) []string {
		if f.GetType() == dto.MetricType_SUMMARY {
			return []string{"quantile"}
		}
		return nil
	}
	used := map[string]bool{}
	for where, expr := range exprs {
		e, err := parser.ParseExpr(grafanaVariables.Replace(expr))
		if err != nil {
			t.Errorf("%s: %q is not PromQL: %v", where, expr, err)
			continue
		}
		parser.Inspect(e, func(n parser.Node, _ []parser.Node) error {
			vs, ok := n.(*parser.VectorSelector)
			if !ok {
				return nil
			}
			if vs.Name == "" {
				t.Errorf("%s: %q selects series without a metric name", where, expr)
				return nil
			}
			used[vs.Name] = true
			allowed := slices.Clone(scrapeLabels)
			if vs.Name != "up" {
				f, extra := family(vs.Name)
				if f == nil {
					t.Errorf("%s: %q names %s, which serve does not expose", where, expr, vs.Name)
					return nil
				}
				if vs.Name == f.GetName() {
					extra = append(extra, quantile(f)...)
				}
				allowed = append(append(allowed, familyLabels(f)...), extra...)
			}
			for _, m := range vs.LabelMatchers {
				if m.Name != model.MetricNameLabel && !slices.Contains(allowed, m.Name) {
					t.Errorf("%s: %q selects %s by label %s, which it does not have (it has %v)", where, expr, vs.Name, m.Name, allowed)
				}
			}
			return nil
		})
	}
	// Each of the areas has at least one panel or rule.
	for _, prefix := range []string{"portside_http_", "portside_graphql_", "portside_catalog_", "portside_leader",
		"portside_pipeline_", "portside_deploy_request_", "portside_slack_", "go_", "process_"} {
		if !containsPrefix(used, prefix) {
			t.Errorf("no panel or rule shows a %s metric", prefix)
		}
	}
}

func containsPrefix(set map[string]bool, prefix string) bool {
	for n := range set {
		if strings.HasPrefix(n, prefix) {
			return true
		}
	}
	return false
}

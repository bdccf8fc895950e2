package deploy

// The alert rules and the Grafana dashboard: their shape, the seeds' rule that every alert has an
// owner, a runbook and a remediation time, and that each runbook link is a page of this repository.
// That their expressions are PromQL naming only metrics Portside serves is checked against a
// running serve in cmd/portside/metrics_test.go.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

const (
	alertRulesFile = "prometheus/portside-alerts.yaml"
	dashboardFile  = "grafana/portside-dashboard.json"
	// runbookBase is where the rules' runbook_url points: this repository's default branch.
	runbookBase = "https://github.com/portside-dev/portside/blob/main/"
)

// ruleFile is a Prometheus rule file (the spec of a PrometheusRule), decoded strictly so that a
// misspelt key (annotation, for) fails rather than being ignored.
type ruleFile struct {
	Groups []struct {
		Name     string `yaml:"name"`
		Interval string `yaml:"interval,omitempty"`
		Rules    []struct {
			Alert         string            `yaml:"alert,omitempty"`
			Record        string            `yaml:"record,omitempty"`
			Expr          string            `yaml:"expr"`
			For           string            `yaml:"for,omitempty"`
			KeepFiringFor string            `yaml:"keep_firing_for,omitempty"`
			Labels        map[string]string `yaml:"labels,omitempty"`
			Annotations   map[string]string `yaml:"annotations,omitempty"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func readRules(t *testing.T) ruleFile {
	t.Helper()
	raw, err := os.ReadFile(alertRulesFile)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	var rf ruleFile
	if err := dec.Decode(&rf); err != nil {
		t.Fatalf("%s: %v", alertRulesFile, err)
	}
	return rf
}

func TestEveryAlertHasAnOwnerARunbookAndARemediationTime(t *testing.T) {
	rf := readRules(t)
	seen := map[string]bool{}
	alerts := 0
	for _, g := range rf.Groups {
		if g.Name == "" || len(g.Rules) == 0 {
			t.Errorf("group %q: a group needs a name and rules", g.Name)
		}
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue // a recording rule
			}
			alerts++
			where := g.Name + "/" + r.Alert
			if seen[r.Alert] {
				// Two rules of one name are fine for Prometheus, but the runbook table names one.
				t.Logf("%s: a second rule of that name", where)
			}
			seen[r.Alert] = true
			if strings.TrimSpace(r.Expr) == "" {
				t.Errorf("%s: no expr", where)
			}
			if d, err := time.ParseDuration(r.For); err != nil || d < time.Minute {
				t.Errorf("%s: for is %q; every alert waits at least 1m so that one bad scrape never pages", where, r.For)
			}
			if sev := r.Labels["severity"]; sev != "critical" && sev != "warning" {
				t.Errorf("%s: label severity is %q, want critical or warning", where, sev)
			}
			owner := r.Annotations["owner"]
			if owner == "" || r.Labels["owner"] != owner {
				t.Errorf("%s: owner is %q as a label and %q as an annotation; both must name the owner (routing reads the label, people the annotation)",
					where, r.Labels["owner"], owner)
			}
			if d, err := time.ParseDuration(r.Annotations["remediation_time"]); err != nil || d <= 0 {
				t.Errorf("%s: remediation_time is %q, want a Go duration (as Portside's alert receiver reads it): %v", where, r.Annotations["remediation_time"], err)
			}
			for _, a := range []string{"summary", "description"} {
				if r.Annotations[a] == "" {
					t.Errorf("%s: no %s annotation", where, a)
				}
			}
			checkRunbookLink(t, where, r.Annotations["runbook_url"])
		}
	}
	if alerts < 5 {
		t.Fatalf("%s holds %d alerts", alertRulesFile, alerts)
	}

	// README's alert table lists exactly these alerts.
	documented := readmeAlerts(t)
	var names []string
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	if !slices.Equal(names, documented) {
		t.Errorf("README's alert table lists %v; %s holds %v", documented, alertRulesFile, names)
	}
}

// checkRunbookLink checks that url is a page of this repository's docs/runbooks that exists, and
// that its anchor, if any, is one of its headings.
func checkRunbookLink(t *testing.T, where, url string) {
	t.Helper()
	path, ok := strings.CutPrefix(url, runbookBase)
	if !ok {
		t.Errorf("%s: runbook_url %q does not point into this repository (%s...)", where, url, runbookBase)
		return
	}
	path, anchor, _ := strings.Cut(path, "#")
	if !strings.HasPrefix(path, "docs/runbooks/") || !strings.HasSuffix(path, ".md") {
		t.Errorf("%s: runbook_url %q is not a page of docs/runbooks", where, url)
		return
	}
	raw, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(path)))
	if err != nil {
		t.Errorf("%s: runbook_url %q: %v", where, url, err)
		return
	}
	if anchor != "" && !slices.Contains(headingAnchors(string(raw)), anchor) {
		t.Errorf("%s: runbook_url %q: %s has no heading #%s", where, url, path, anchor)
	}
	// The page is about this alert.
	if name := strings.SplitN(where, "/", 2)[1]; !strings.Contains(string(raw), name) {
		t.Errorf("%s: the runbook %s never names the alert", where, path)
	}
}

// headingAnchors are the anchors GitHub gives a Markdown page's headings.
func headingAnchors(md string) []string {
	var out []string
	drop := regexp.MustCompile(`[^a-z0-9 _-]`)
	for _, line := range strings.Split(md, "\n") {
		if h, ok := strings.CutPrefix(line, "#"); ok {
			h = strings.TrimSpace(strings.TrimLeft(h, "#"))
			out = append(out, strings.ReplaceAll(drop.ReplaceAllString(strings.ToLower(h), ""), " ", "-"))
		}
	}
	return out
}

// readmeAlerts are the alert names of the table in README's "## Metrics, dashboard and alerts".
func readmeAlerts(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	row := regexp.MustCompile("^\\| `(Portside[A-Za-z]+)` \\|")
	var out []string
	in := false
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "## ") {
			in = sc.Text() == "## Metrics, dashboard and alerts"
		}
		if m := row.FindStringSubmatch(sc.Text()); in && m != nil {
			out = append(out, m[1])
		}
	}
	sort.Strings(out)
	return out
}

func TestEveryRunbookPageIsLinkedByAnAlert(t *testing.T) {
	rf := readRules(t)
	linked := map[string]bool{}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			path, _, _ := strings.Cut(strings.TrimPrefix(r.Annotations["runbook_url"], runbookBase), "#")
			linked[path] = true
		}
	}
	pages, err := filepath.Glob("../docs/runbooks/*.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pages {
		rel := "docs/runbooks/" + filepath.Base(p)
		if filepath.Base(p) != "README.md" && !linked[rel] {
			t.Errorf("%s is linked by no alert", rel)
		}
	}
}

func TestTheDashboardIsImportable(t *testing.T) {
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	type target struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	}
	type panel struct {
		ID         int    `json:"id"`
		Type       string `json:"type"`
		Title      string `json:"title"`
		Datasource *struct {
			Type string `json:"type"`
			UID  string `json:"uid"`
		} `json:"datasource"`
		GridPos struct{ H, W, X, Y int } `json:"gridPos"`
		Targets []target                 `json:"targets"`
	}
	var dash struct {
		UID           string  `json:"uid"`
		Title         string  `json:"title"`
		SchemaVersion int     `json:"schemaVersion"`
		Panels        []panel `json:"panels"`
		Templating    struct {
			List []struct {
				Name string `json:"name"`
				Type string `json:"type"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if dash.UID == "" || dash.Title == "" || dash.SchemaVersion == 0 {
		t.Errorf("the dashboard needs a uid, a title and a schemaVersion: %q %q %d", dash.UID, dash.Title, dash.SchemaVersion)
	}
	var vars []string
	for _, v := range dash.Templating.List {
		vars = append(vars, v.Name)
	}
	if !slices.Contains(vars, "datasource") || !slices.Contains(vars, "job") {
		t.Errorf("the dashboard's variables are %v; it needs datasource (no data source uid of ours is in it) and job", vars)
	}
	ids := map[int]bool{}
	var rows []string
	for _, p := range dash.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d twice", p.ID)
		}
		ids[p.ID] = true
		if p.GridPos.W <= 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %q does not fit Grafana's 24 columns: %+v", p.Title, p.GridPos)
		}
		if p.Type == "row" {
			rows = append(rows, p.Title)
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q does not read the ${datasource} variable", p.Title)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			if q.Expr == "" || q.RefID == "" {
				t.Errorf("panel %q: a query without expr or refId", p.Title)
			}
			if !strings.Contains(q.Expr, `job="$job"`) {
				t.Errorf("panel %q: %q does not select the job variable's series", p.Title, q.Expr)
			}
		}
	}
	want := []string{"HTTP", "GraphQL", "Catalog", "Leader", "Pipelines", "Deploy requests", "Slack", "Go runtime and process"}
	if !slices.Equal(rows, want) {
		t.Errorf("the dashboard's rows are %v, want %v", rows, want)
	}
}

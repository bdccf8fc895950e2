package metrics

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestObserveHTTPRecordsRouteTemplates(t *testing.T) {
	m := New()
	// What the access log passes: gin's route template ("" when no route matched), never the path.
	for _, req := range []struct {
		route, method string
		status        int
	}{
		{"/api/components/:name", "GET", 200},
		{"/api/components/:name", "GET", 200},
		{"/graphql", "POST", 400},
		{"", "GET", 404},
		{"", "GET", 404},
		{"", "BREW", 404},
	} {
		m.ObserveHTTP(req.route, req.method, req.status, time.Millisecond)
	}

	tests := []struct {
		route, method, status string
		want                  float64
	}{
		{"/api/components/:name", "GET", "200", 2},
		{"/graphql", "POST", "400", 1},
		{UnmatchedRoute, "GET", "404", 2},
		{UnmatchedRoute, "OTHER", "404", 1},
	}
	for _, tt := range tests {
		if got := testutil.ToFloat64(m.httpRequests.WithLabelValues(tt.route, tt.method, tt.status)); got != tt.want {
			t.Errorf("requests{%s %s %s} = %v, want %v", tt.route, tt.method, tt.status, got, tt.want)
		}
	}
	if n := testutil.CollectAndCount(m.httpRequests); n != len(tests) {
		t.Errorf("%d request series, want %d", n, len(tests))
	}
	if n := testutil.CollectAndCount(m.httpDuration); n != 4 {
		t.Errorf("%d duration series, want 4 (route template x method)", n)
	}

	// No unknown method becomes a label value.
	if body := scrape(t, m); strings.Contains(body, "BREW") {
		t.Errorf("exposition holds the raw method %q", "BREW")
	}
}

func TestGraphQLOperation(t *testing.T) {
	m := New()
	m.GraphQLOperation("ComponentPage", "query", true, 20*time.Millisecond)
	m.GraphQLOperation("ComponentPage", "query", true, 30*time.Millisecond)
	m.GraphQLOperation("ComponentPage", "query", false, time.Millisecond)
	m.GraphQLOperation("", "mutation", true, time.Millisecond)
	m.GraphQLOperation("Watch", "subscription", true, time.Second)
	m.GraphQLOperation("X", "bogus", true, time.Millisecond)
	m.GraphQLOperation("not a name; drop table", "query", true, time.Millisecond)

	tests := []struct {
		op, typ, outcome string
		want             float64
	}{
		{"ComponentPage", "query", "ok", 2},
		{"ComponentPage", "query", "error", 1},
		{AnonymousOperation, "mutation", "ok", 1},
		{"Watch", "subscription", "ok", 1},
		{"X", "unknown", "ok", 1},
		{OtherOperation, "query", "ok", 1},
	}
	for _, tt := range tests {
		if got := testutil.ToFloat64(m.gqlOperations.WithLabelValues(tt.op, tt.typ, tt.outcome)); got != tt.want {
			t.Errorf("operations{%s %s %s} = %v, want %v", tt.op, tt.typ, tt.outcome, got, tt.want)
		}
	}
	if n := testutil.CollectAndCount(m.gqlDuration); n != 4 {
		t.Errorf("%d duration series, want 4 (query, mutation, subscription, unknown)", n)
	}
}

// GraphQLSeries records into the series GraphQLOperation would, found once.
func TestGraphQLSeriesRecordsAsGraphQLOperation(t *testing.T) {
	m := New()
	ok := m.GraphQLSeries("EntityPage", "query", true)
	failed := m.GraphQLSeries("EntityPage", "query", false)
	m.GraphQLOperation("EntityPage", "query", true, time.Millisecond)
	ok(time.Millisecond)
	ok(2 * time.Millisecond)
	failed(time.Millisecond)
	if got := testutil.ToFloat64(m.gqlOperations.WithLabelValues("EntityPage", "query", "ok")); got != 3 {
		t.Errorf("operations{EntityPage query ok} = %v, want 3", got)
	}
	if got := testutil.ToFloat64(m.gqlOperations.WithLabelValues("EntityPage", "query", "error")); got != 1 {
		t.Errorf("operations{EntityPage query error} = %v, want 1", got)
	}
	if n := testutil.CollectAndCount(m.gqlDuration); n != 1 {
		t.Errorf("%d duration series, want 1 (query)", n)
	}
}

func TestGraphQLOperationNamesAreBounded(t *testing.T) {
	m := New()
	for i := range MaxOperationNames + 50 {
		m.GraphQLOperation(fmt.Sprintf("Op%d", i), "query", true, time.Millisecond)
	}
	m.GraphQLOperation("Op0", "query", true, time.Millisecond) // admitted earlier, still its own
	if n := testutil.CollectAndCount(m.gqlOperations); n != MaxOperationNames+1 {
		t.Errorf("%d operation series, want %d (+1 for %q)", n, MaxOperationNames+1, OtherOperation)
	}
	if got := testutil.ToFloat64(m.gqlOperations.WithLabelValues(OtherOperation, "query", "ok")); got != 50 {
		t.Errorf("other = %v, want 50", got)
	}
	if got := testutil.ToFloat64(m.gqlOperations.WithLabelValues("Op0", "query", "ok")); got != 2 {
		t.Errorf("Op0 = %v, want 2", got)
	}
}

func TestCatalogRefresh(t *testing.T) {
	m := New()
	// Before any refresh the change series exist at 0.
	if n := testutil.CollectAndCount(m.catalogEntitiesWritten); n != 3 {
		t.Errorf("%d entities-written series before any refresh, want 3", n)
	}
	m.CatalogRefresh("git", "applied", 2*time.Second, 5, 2, 1, 3)
	m.CatalogRefresh("git", "unchanged", time.Second, 0, 0, 0, 0)
	m.CatalogRefresh("url", "failed", time.Second, 0, 0, 0, 0)
	m.CatalogRefresh("file", "applied", time.Second, 1, 0, 0, 0)

	for _, tt := range []struct {
		typ, outcome string
		want         float64
	}{
		{"git", "applied", 1}, {"git", "unchanged", 1}, {"url", "failed", 1}, {"file", "applied", 1},
	} {
		if got := testutil.ToFloat64(m.catalogRefreshes.WithLabelValues(tt.typ, tt.outcome)); got != tt.want {
			t.Errorf("refreshes{%s %s} = %v, want %v", tt.typ, tt.outcome, got, tt.want)
		}
	}
	for change, want := range map[string]float64{"added": 6, "updated": 2, "removed": 1} {
		if got := testutil.ToFloat64(m.catalogEntitiesWritten.WithLabelValues(change)); got != want {
			t.Errorf("entities_written{%s} = %v, want %v", change, got, want)
		}
	}
	if got := testutil.ToFloat64(m.catalogValidationErrors); got != 3 {
		t.Errorf("validation errors = %v, want 3", got)
	}
	if n := testutil.CollectAndCount(m.catalogRefreshDuration); n != 3 {
		t.Errorf("%d refresh duration series, want 3", n)
	}
	// A negative count (a caller bug) must not panic or move a counter.
	m.CatalogRefresh("file", "applied", time.Second, -1, -1, -1, -1)
	if got := testutil.ToFloat64(m.catalogValidationErrors); got != 3 {
		t.Errorf("validation errors = %v after a negative count", got)
	}
}

func TestHandlerExposesOwnRegistry(t *testing.T) {
	m := New()
	m.CatalogRefresh("git", "applied", time.Second, 1, 0, 0, 0)
	body := scrape(t, m)
	for _, want := range []string{
		`portside_catalog_refreshes_total{location_type="git",outcome="applied"} 1`,
		`portside_catalog_entities_written_total{change="removed"} 0`,
		"go_goroutines",
		"process_",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
	// Two Metrics never clash (no global registry).
	if New().Registry() == m.Registry() {
		t.Error("registries are shared")
	}
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(`
# HELP portside_catalog_validation_errors_total Validation errors found in catalog files during refreshes.
# TYPE portside_catalog_validation_errors_total counter
portside_catalog_validation_errors_total 0
`), "portside_catalog_validation_errors_total"); err != nil {
		t.Error(err)
	}
}

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics answered %d", rec.Code)
	}
	return rec.Body.String()
}

func TestPipelineAndDeployRequestSeries(t *testing.T) {
	m := New()
	// Every deploy state has a series at 0 from the start; a provider's series once configured.
	if n := testutil.CollectAndCount(m.deployRequestMoves); n != len(DeployRequestStates) {
		t.Errorf("%d deploy transition series at start, want %d", n, len(DeployRequestStates))
	}
	m.PipelineProviders("github")
	if n := testutil.CollectAndCount(m.pipelineRunsFinished); n != len(PipelineStatuses) {
		t.Errorf("%d finished-run series for one provider, want %d", n, len(PipelineStatuses))
	}
	if n := testutil.CollectAndCount(m.pipelineProviderErrors); n != 1 {
		t.Errorf("%d provider error series, want 1", n)
	}

	m.PipelineRunFinished("github", "TIMED_OUT", 90*time.Second)
	m.PipelineProviderError("github")
	m.DeployRequestMoved("ROLLED_BACK")
	if got := testutil.ToFloat64(m.pipelineRunsFinished.WithLabelValues("github", "timed_out")); got != 1 {
		t.Errorf("finished{github,timed_out} = %v, want 1 (statuses are lower-cased)", got)
	}
	if got := testutil.ToFloat64(m.pipelineProviderErrors.WithLabelValues("github")); got != 1 {
		t.Errorf("provider errors{github} = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.deployRequestMoves.WithLabelValues("rolled_back")); got != 1 {
		t.Errorf("transitions{rolled_back} = %v, want 1", got)
	}
	// Nothing new appeared beside the states named up front.
	if n := testutil.CollectAndCount(m.deployRequestMoves); n != len(DeployRequestStates) {
		t.Errorf("%d deploy transition series, want %d", n, len(DeployRequestStates))
	}
}

// Package metrics holds Portside's Prometheus metrics, on a registry of its own (plus the Go
// runtime and process collectors), and serves them for /metrics. Label values are always drawn from
// bounded sets, so no client can grow the number of series.
package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Label values used when the real value must not become a label.
const (
	// UnmatchedRoute labels HTTP requests that matched no route (404s, 405s): the raw path would
	// give every scanner's probe a series of its own.
	UnmatchedRoute = "unmatched"
	// AnonymousOperation labels GraphQL operations sent without a name.
	AnonymousOperation = "anonymous"
	// OtherOperation labels named GraphQL operations beyond the first MaxOperationNames seen.
	OtherOperation = "other"
)

// MaxOperationNames bounds the distinct GraphQL operation names that get a label value of their
// own; operation names come from clients, so they are not a bounded set.
const MaxOperationNames = 500

// maxOperationNameLen bounds one operation name label.
const maxOperationNameLen = 100

// Metrics is Portside's set of collectors and the registry they live on.
type Metrics struct {
	reg     *prometheus.Registry
	handler http.Handler

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec

	gqlOperations *prometheus.CounterVec
	gqlDuration   *prometheus.HistogramVec
	gqlWaiting    prometheus.Gauge
	opMu          sync.Mutex
	opNames       map[string]struct{}

	// series keeps the labelled children recorded per request (httpKey and gqlKey to
	// *seriesPair): finding them by their label values each time hashed and compared the values
	// under the vectors' locks, four times per request. The keys are bounded: routes and methods
	// are the server's, statuses are HTTP's, operation names are labels (MaxOperationNames).
	series sync.Map

	catalogRefreshes        *prometheus.CounterVec
	catalogRefreshDuration  *prometheus.HistogramVec
	catalogEntitiesWritten  *prometheus.CounterVec
	catalogValidationErrors prometheus.Counter

	pipelineRunsFinished   *prometheus.CounterVec
	pipelineRunDuration    *prometheus.HistogramVec
	pipelineProviderErrors *prometheus.CounterVec

	deployRequestMoves *prometheus.CounterVec

	slackRequests *prometheus.CounterVec

	leader prometheus.Gauge
}

// New creates the collectors and registers them, with the Go runtime and process collectors, on a
// fresh registry.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg:     reg,
		opNames: map[string]struct{}{},
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portside_http_requests_total",
			Help: "HTTP requests served, by route template, method and status code.",
		}, []string{"route", "method", "status"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "portside_http_request_duration_seconds",
			Help:    "Time to serve HTTP requests, by route template and method.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "method"}),
		gqlOperations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portside_graphql_operations_total",
			Help: "GraphQL operations executed, by operation name, type and outcome (ok or error).",
		}, []string{"operation", "type", "outcome"}),
		gqlDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "portside_graphql_operation_duration_seconds",
			Help:    "Time to execute GraphQL operations, by operation type.",
			Buckets: prometheus.DefBuckets,
		}, []string{"type"}),
		gqlWaiting: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "portside_graphql_queries_waiting",
			Help: "GraphQL queries waiting for their turn to run (setting graphql-max-concurrent-queries).",
		}),
		catalogRefreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portside_catalog_refreshes_total",
			Help: "Catalog location refreshes, by location type and outcome (unchanged, applied or failed).",
		}, []string{"location_type", "outcome"}),
		catalogRefreshDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "portside_catalog_refresh_duration_seconds",
			Help:    "Time to refresh one catalog location, by location type.",
			Buckets: []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120, 300},
		}, []string{"location_type"}),
		catalogEntitiesWritten: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portside_catalog_entities_written_total",
			Help: "Catalog entities written by refreshes, by change (added, updated or removed).",
		}, []string{"change"}),
		catalogValidationErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "portside_catalog_validation_errors_total",
			Help: "Validation errors found in catalog files during refreshes.",
		}),
		pipelineRunsFinished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portside_pipeline_runs_finished_total",
			Help: "Pipeline runs that finished, by provider and final status (succeeded, failed, cancelled, timed_out), counted by the replica that recorded the end.",
		}, []string{"provider", "status"}),
		pipelineRunDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "portside_pipeline_run_duration_seconds",
			Help:    "Time from a pipeline run's trigger to its end, by provider.",
			Buckets: []float64{10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200},
		}, []string{"provider"}),
		pipelineProviderErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portside_pipeline_provider_errors_total",
			Help: "Failed reads of a pipeline run from its provider by the follower (the run's state goes stale), by provider.",
		}, []string{"provider"}),
		deployRequestMoves: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portside_deploy_request_transitions_total",
			Help: "Deploy requests created (to requested) and moved, by the state they moved to, counted by the replica that recorded the move.",
		}, []string{"to"}),
		slackRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portside_slack_requests_total",
			Help: "Requests from Slack, by outcome: accepted, or refused as unsigned, stale, signature or no_secret.",
		}, []string{"outcome"}),
		leader: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "portside_leader",
			Help: "1 while this process leads, running the singleton background work (location refreshes, pipeline polling, deploy-request expiry, link checks); 0 otherwise.",
		}),
	}
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.httpRequests, m.httpDuration,
		m.gqlOperations, m.gqlDuration, m.gqlWaiting,
		m.catalogRefreshes, m.catalogRefreshDuration, m.catalogEntitiesWritten, m.catalogValidationErrors,
		m.pipelineRunsFinished, m.pipelineRunDuration, m.pipelineProviderErrors,
		m.deployRequestMoves,
		m.slackRequests, m.leader,
	)
	// Series that exist from the start, so rate() and alerts see a 0 before the first event.
	for _, change := range []string{"added", "updated", "removed"} {
		m.catalogEntitiesWritten.WithLabelValues(change)
	}
	for _, to := range DeployRequestStates {
		m.deployRequestMoves.WithLabelValues(to)
	}
	m.handler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
	return m
}

// Registry returns the registry the metrics live on, for tests and for adding collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition format, for /metrics.
func (m *Metrics) Handler() http.Handler { return m.handler }

// ObserveHTTP records one request under its route template (gin's c.FullPath(), e.g.
// "/api/components/:name"; "" for no route: UnmatchedRoute), method and status. The server's
// access log calls it, timing the request once for both, before recovery, so that a panicking
// handler is counted as the 500 recovery answers.
func (m *Metrics) ObserveHTTP(route, method string, status int, d time.Duration) {
	if route == "" {
		route = UnmatchedRoute
	}
	key := httpKey{route: route, method: methodLabel(method), status: status}
	s, ok := m.series.Load(key)
	if !ok {
		s, _ = m.series.LoadOrStore(key, &seriesPair{
			count: m.httpRequests.WithLabelValues(key.route, key.method, strconv.Itoa(key.status)),
			dur:   m.httpDuration.WithLabelValues(key.route, key.method),
		})
	}
	sp := s.(*seriesPair)
	sp.count.Inc()
	sp.dur.Observe(d.Seconds())
}

type httpKey struct {
	route, method string
	status        int
}

type gqlKey struct{ name, opType, outcome string }

// seriesPair is a request's counter and duration series.
type seriesPair struct {
	count prometheus.Counter
	dur   prometheus.Observer
}

// methodLabel keeps the method label to the standard methods; clients can send any token.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "OTHER"
}

// GraphQLOperation records one executed GraphQL operation: its name ("" for anonymous), its type
// (query, mutation or subscription), whether it succeeded, and how long it took.
func (m *Metrics) GraphQLOperation(name, opType string, ok bool, d time.Duration) {
	sp := m.gqlSeries(name, opType, ok)
	sp.count.Inc()
	sp.dur.Observe(d.Seconds())
}

// GraphQLQueriesWaiting counts queries starting (delta 1) and ending (-1) their wait for a turn.
func (m *Metrics) GraphQLQueriesWaiting(delta int) { m.gqlWaiting.Add(float64(delta)) }

// GraphQLSeries returns what records one more operation as GraphQLOperation(name, opType, ok, d)
// would, its series found once: for a caller that records the same operation again and again
// (the response cache, for each answer it gives again).
func (m *Metrics) GraphQLSeries(name, opType string, ok bool) func(d time.Duration) {
	sp := m.gqlSeries(name, opType, ok)
	return func(d time.Duration) {
		sp.count.Inc()
		sp.dur.Observe(d.Seconds())
	}
}

func (m *Metrics) gqlSeries(name, opType string, ok bool) *seriesPair {
	switch opType {
	case "query", "mutation", "subscription":
	default:
		opType = "unknown"
	}
	outcome := "ok"
	if !ok {
		outcome = "error"
	}
	key := gqlKey{name: m.operationLabel(name), opType: opType, outcome: outcome}
	s, ok := m.series.Load(key)
	if !ok {
		s, _ = m.series.LoadOrStore(key, &seriesPair{
			count: m.gqlOperations.WithLabelValues(key.name, key.opType, key.outcome),
			dur:   m.gqlDuration.WithLabelValues(key.opType),
		})
	}
	return s.(*seriesPair)
}

// operationLabel maps an operation name to its label value, admitting at most MaxOperationNames
// distinct names.
func (m *Metrics) operationLabel(name string) string {
	if name == "" {
		return AnonymousOperation
	}
	if len(name) > maxOperationNameLen || !isGraphQLName(name) {
		return OtherOperation
	}
	m.opMu.Lock()
	defer m.opMu.Unlock()
	if _, seen := m.opNames[name]; seen {
		return name
	}
	if len(m.opNames) >= MaxOperationNames {
		return OtherOperation
	}
	m.opNames[name] = struct{}{}
	return name
}

// isGraphQLName reports whether s is a GraphQL Name: [_A-Za-z][_0-9A-Za-z]*.
func isGraphQLName(s string) bool {
	for i, r := range s {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return s != ""
}

// CatalogRefresh records one refresh of a catalog location: its type (file, url, git, embedded),
// its outcome (unchanged, applied or failed), how long it took, the entities it added, updated and
// removed, and the validation errors it met. It satisfies catalog.Observer.
func (m *Metrics) CatalogRefresh(locationType, outcome string, d time.Duration, added, updated, removed, invalid int) {
	m.catalogRefreshes.WithLabelValues(locationType, outcome).Inc()
	m.catalogRefreshDuration.WithLabelValues(locationType).Observe(d.Seconds())
	addPositive(m.catalogEntitiesWritten.WithLabelValues("added"), added)
	addPositive(m.catalogEntitiesWritten.WithLabelValues("updated"), updated)
	addPositive(m.catalogEntitiesWritten.WithLabelValues("removed"), removed)
	addPositive(m.catalogValidationErrors, invalid)
}

// DeployRequestStates are the label values of portside_deploy_request_transitions_total: the
// deploy-request states in lower case (package deploys' State).
var DeployRequestStates = []string{"requested", "approved", "rejected", "expired", "cancelled",
	"applying", "rolling_out", "succeeded", "failed", "rolled_back"}

// PipelineRunFinished records a pipeline run's end: its provider, its final status (a
// pipelines.Status, lower-cased for the label) and how long it took. It satisfies
// pipelines.Observer.
func (m *Metrics) PipelineRunFinished(provider, status string, d time.Duration) {
	m.pipelineRunsFinished.WithLabelValues(provider, strings.ToLower(status)).Inc()
	m.pipelineRunDuration.WithLabelValues(provider).Observe(d.Seconds())
}

// PipelineStatuses are the final statuses of portside_pipeline_runs_finished_total (package
// pipelines' done statuses, lower-cased; a skipped stage never ends a run).
var PipelineStatuses = []string{"succeeded", "failed", "cancelled", "timed_out"}

// PipelineProviders creates the pipeline series of the providers configured, at 0, so that rate()
// and the alerts see a 0 before a provider's first finished run or first error.
func (m *Metrics) PipelineProviders(providers ...string) {
	for _, p := range providers {
		for _, status := range PipelineStatuses {
			m.pipelineRunsFinished.WithLabelValues(p, status)
		}
		m.pipelineRunDuration.WithLabelValues(p)
		m.pipelineProviderErrors.WithLabelValues(p)
	}
}

// PipelineProviderError counts a failed read of a run from its provider (pipelines.Observer).
func (m *Metrics) PipelineProviderError(provider string) {
	m.pipelineProviderErrors.WithLabelValues(provider).Inc()
}

// DeployRequestMoved counts a deploy request created or moved to the state to (a deploys.State,
// lower-cased for the label). It satisfies deploys.Observer.
func (m *Metrics) DeployRequestMoved(to string) {
	m.deployRequestMoves.WithLabelValues(strings.ToLower(to)).Inc()
}

// SlackRequest counts one request from Slack by its outcome ("accepted" or the reason it was
// refused).
func (m *Metrics) SlackRequest(outcome string) { m.slackRequests.WithLabelValues(outcome).Inc() }

// addPositive adds n to c when n is positive (a counter panics on a negative add).
func addPositive(c prometheus.Counter, n int) {
	if n > 0 {
		c.Add(float64(n))
	}
}

// SetLeader records whether this process leads (package leader's OnChange).
func (m *Metrics) SetLeader(leading bool) {
	v := 0.0
	if leading {
		v = 1
	}
	m.leader.Set(v)
}

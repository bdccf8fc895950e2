package rollouts

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/store"
)

// Window is the period DORA metrics are measured over: Since <= t < Until.
type Window struct {
	Since, Until time.Time
}

// DefaultWindow is how far back DORA metrics look when not told.
const DefaultWindow = 30 * 24 * time.Hour

// MaxWindow bounds a window, so one query cannot read years of history.
const MaxWindow = 366 * 24 * time.Hour

// WindowOf fills in a window: Until defaults to now, Since to DefaultWindow before Until.
func WindowOf(since, until *time.Time, now time.Time) (Window, error) {
	w := Window{Until: now.UTC()}
	if until != nil {
		w.Until = until.UTC()
	}
	w.Since = w.Until.Add(-DefaultWindow)
	if since != nil {
		w.Since = since.UTC()
	}
	switch {
	case !w.Since.Before(w.Until):
		return Window{}, errs.InvalidField("since", "must be before until (%s)", w.Until.Format(time.RFC3339))
	case w.Until.Sub(w.Since) > MaxWindow:
		return Window{}, errs.InvalidField("since", "the window may span at most %d days", int(MaxWindow.Hours()/24))
	}
	return w, nil
}

// Metrics are the four DORA metrics of a set of deployments over a window.
type Metrics struct {
	Window
	// Deployments counts the rollouts that finished successfully in the window.
	Deployments int
	// LeadTime is the median time from a change's commit to its successful rollout; nil when no
	// rollout in the window knows its commit's date. LeadTimeSamples is how many did.
	LeadTime        *time.Duration
	LeadTimeSamples int
	// LeadTimePipelineSamples is how many of those samples are pipeline runs' (commit to a
	// successful Deploy stage) rather than rollouts'.
	LeadTimePipelineSamples int
	// Changes counts the rollouts that finished in the window; FailedChanges those among them that
	// failed, whose canary was aborted, or that succeeded and were then rolled back (the
	// application's next successful rollout went back to the revision before).
	Changes, FailedChanges int
	// TimeToRestore is the median time from an application turning Degraded to its being Healthy
	// again, over the recoveries in the window (Restores); nil when there was none.
	TimeToRestore *time.Duration
	Restores      int
}

// DeploymentsPerDay is the deployment frequency.
func (m Metrics) DeploymentsPerDay() float64 {
	days := m.Until.Sub(m.Since).Hours() / 24
	return float64(m.Deployments) / days
}

// ChangeFailureRate is FailedChanges over Changes; nil without changes.
func (m Metrics) ChangeFailureRate() *float64 {
	if m.Changes == 0 {
		return nil
	}
	r := float64(m.FailedChanges) / float64(m.Changes)
	return &r
}

// lookback is how far before a window rollouts and health changes are read: the rollout before
// the first one in the window tells whether that one was a rollback, and a degradation that began
// before the window may end inside it.
const lookback = 30 * 24 * time.Hour

// pipelineLeads are lead times measured by pipeline runs, and the applications whose rollouts'
// lead times they replace (the deploying components' own).
type pipelineLeads struct {
	samples []time.Duration
	skip    map[Key]bool
}

// skips reports whether a rollout's lead time is replaced by its component's pipeline runs'.
func (p pipelineLeads) skips(r *rolloutRow) bool {
	for k := range p.skip {
		if k.Instance == r.Instance && k.Name == r.Application && (k.Namespace == "" || k.Namespace == r.AppNamespace) {
			return true
		}
	}
	return false
}

// dora computes the metrics of the applications keys select (nil: every application), with the
// lead times lead brings in place of their applications' rollouts'.
func (s *records) dora(ctx context.Context, keys []Key, w Window, lead pipelineLeads) (Metrics, error) {
	m := Metrics{Window: w}
	if keys != nil && len(keys) == 0 {
		m.LeadTime, m.LeadTimeSamples, m.LeadTimePipelineSamples = median(lead.samples), len(lead.samples), len(lead.samples)
		return m, nil
	}
	where, args := keysClause(keys)
	db := s.st.DB(ctx)
	var rows []rolloutRow
	q := db.Model(&rolloutRow{}).Where("started_at >= ?", w.Since.Add(-lookback))
	if where != "" {
		q = q.Where(where, args...)
	}
	if err := q.Order("instance, app_namespace, application, started_at, id").Find(&rows).Error; err != nil {
		return m, store.Translate(err, "rollouts")
	}
	var leads []time.Duration
	for i := range rows {
		r := &rows[i]
		if r.FinishedAt == nil || r.FinishedAt.Before(w.Since) || !r.FinishedAt.Before(w.Until) || r.Result == string(ResultRunning) {
			continue
		}
		m.Changes++
		if r.Result == string(ResultFailed) || r.Result == string(ResultAborted) {
			m.FailedChanges++
			continue
		}
		m.Deployments++
		if r.CommittedAt != nil && !r.CommittedAt.After(*r.FinishedAt) && !lead.skips(r) {
			leads = append(leads, r.FinishedAt.Sub(*r.CommittedAt))
		}
		if rolledBack(rows, i) {
			m.FailedChanges++
		}
	}
	leads = append(leads, lead.samples...)
	m.LeadTime, m.LeadTimeSamples, m.LeadTimePipelineSamples = median(leads), len(leads), len(lead.samples)

	var changes []healthRow
	hq := db.Model(&healthRow{}).Where("at >= ? AND at < ?", w.Since.Add(-lookback), w.Until)
	if where != "" {
		hq = hq.Where(where, args...)
	}
	if err := hq.Order("instance, app_namespace, application, at, id").Find(&changes).Error; err != nil {
		return m, store.Translate(err, "deployment health")
	}
	var restores []time.Duration
	var degradedAt *time.Time
	for i, c := range changes {
		if i > 0 && (c.Instance != changes[i-1].Instance || c.AppNamespace != changes[i-1].AppNamespace || c.Application != changes[i-1].Application) {
			degradedAt = nil // the next application
		}
		switch Health(c.Health) {
		case Degraded:
			if degradedAt == nil {
				at := c.At
				degradedAt = &at
			}
		case Healthy:
			if degradedAt != nil && !c.At.Before(w.Since) {
				restores = append(restores, c.At.Sub(*degradedAt))
			}
			degradedAt = nil
		}
	}
	m.TimeToRestore, m.Restores = median(restores), len(restores)
	return m, nil
}

// rolledBack reports whether the successful rollout rows[i] was undone: the application's next
// successful rollout went back to the revision its previous successful rollout had.
func rolledBack(rows []rolloutRow, i int) bool {
	r := &rows[i]
	same := func(o *rolloutRow) bool {
		return o.Instance == r.Instance && o.AppNamespace == r.AppNamespace && o.Application == r.Application
	}
	var prev, next *rolloutRow
	for j := i - 1; j >= 0 && same(&rows[j]); j-- {
		if rows[j].Result == string(ResultSucceeded) {
			prev = &rows[j]
			break
		}
	}
	for j := i + 1; j < len(rows) && same(&rows[j]); j++ {
		if rows[j].Result == string(ResultSucceeded) {
			next = &rows[j]
			break
		}
	}
	return prev != nil && next != nil && prev.Revision != r.Revision && next.Revision == prev.Revision
}

func median(ds []time.Duration) *time.Duration {
	if len(ds) == 0 {
		return nil
	}
	slices.Sort(ds)
	m := ds[len(ds)/2]
	if len(ds)%2 == 0 {
		m = (ds[len(ds)/2-1] + ds[len(ds)/2]) / 2
	}
	return &m
}

// keysClause selects rows of the applications keys name (a key without namespace: the name in
// any namespace); "" when keys is nil (everything).
func keysClause(keys []Key) (string, []any) {
	if keys == nil {
		return "", nil
	}
	var ors []string
	var args []any
	for _, k := range keys {
		if k.Namespace == "" {
			ors = append(ors, "(instance = ? AND application = ?)")
			args = append(args, k.Instance, k.Name)
		} else {
			ors = append(ors, "(instance = ? AND app_namespace = ? AND application = ?)")
			args = append(args, k.Instance, k.Namespace, k.Name)
		}
	}
	return "(" + strings.Join(ors, " OR ") + ")", args
}

package pipelines

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/idcursor"
	"github.com/portside-dev/portside/store"
)

// runRow is a run as stored in pipeline_runs.
type runRow struct {
	ID             int64 `gorm:"primaryKey"`
	Component      string
	Pipeline       string
	Provider       string
	ProviderRunID  string
	URL            string `gorm:"column:url"`
	Attempt        int
	DispatchID     string
	Ref            string
	CommitSHA      string `gorm:"column:commit_sha"`
	Parameters     string // JSON object
	TriggeredBy    string
	Client         string
	IdempotencyKey *string // NULL: no key, never compared by the unique index
	Status         string
	Message        string
	Stages         string // JSON list
	Artifacts      string // JSON list
	RetryOf        *int64
	Declaration    string // JSON of Declaration; "" on runs recorded before migration 00037
	CreatedAt      time.Time
	StartedAt      *time.Time
	FinishedAt     *time.Time
	CommittedAt    *time.Time
	DeployedAt     *time.Time
	UpdatedAt      time.Time
	// PolledAt is when the follower last asked the provider; the least recently polled go first.
	PolledAt *time.Time
	// Version counts the row's updates (see save).
	Version int
}

func (runRow) TableName() string { return "pipeline_runs" }

// stateRow is the runs' change counter (see generation).
type stateRow struct {
	ID         int64
	Generation int64
}

func (stateRow) TableName() string { return "pipeline_state" }

// Models lists the gorm row types of the pipelines domain, for the schema conformance test.
func Models() []any { return []any{&runRow{}, &stateRow{}} }

func jsonOf(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

func (r *runRow) toRun() Run {
	out := Run{ID: r.ID, Component: r.Component, Pipeline: r.Pipeline, Provider: r.Provider, ProviderRunID: r.ProviderRunID,
		URL: r.URL, Attempt: r.Attempt, DispatchID: r.DispatchID, Ref: r.Ref, CommitSHA: r.CommitSHA, TriggeredBy: r.TriggeredBy, Client: r.Client,
		Status: Status(r.Status), Message: r.Message, RetryOf: r.RetryOf, CreatedAt: r.CreatedAt.UTC(),
		StartedAt: utc(r.StartedAt), FinishedAt: utc(r.FinishedAt), CommittedAt: utc(r.CommittedAt), DeployedAt: utc(r.DeployedAt),
		UpdatedAt: r.UpdatedAt.UTC(), version: r.Version}
	if r.IdempotencyKey != nil {
		out.IdempotencyKey = *r.IdempotencyKey
	}
	_ = json.Unmarshal([]byte(r.Parameters), &out.Parameters)
	_ = json.Unmarshal([]byte(r.Stages), &out.Stages)
	_ = json.Unmarshal([]byte(r.Artifacts), &out.Artifacts)
	if r.Declaration != "" {
		var d Declaration
		if json.Unmarshal([]byte(r.Declaration), &d) == nil && d.Name != "" {
			out.Declaration = &d
		}
	}
	if out.Parameters == nil {
		out.Parameters = map[string]string{}
	}
	if out.Stages == nil {
		out.Stages = []Stage{}
	}
	if out.Artifacts == nil {
		out.Artifacts = []Artifact{}
	}
	return out
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// records keeps runs in the database.
type records struct {
	st *store.Store
	// changed is called in the transaction that changes a run (see Service.changed).
	changed func(ctx context.Context)
}

// insert records a new run. A second run with the same idempotency key (for the same component
// and pipeline) violates the unique index: CONFLICT, and the caller reads the first one back.
func (s *records) insert(ctx context.Context, r *Run, dispatchID string) error {
	row := runRow{Component: r.Component, Pipeline: r.Pipeline, Provider: r.Provider, DispatchID: dispatchID, Ref: r.Ref,
		TriggeredBy: r.TriggeredBy, Client: r.Client, Status: string(r.Status), RetryOf: r.RetryOf,
		CreatedAt: r.CreatedAt, UpdatedAt: r.CreatedAt, Attempt: r.Attempt, ProviderRunID: r.ProviderRunID, URL: r.URL,
		CommitSHA: r.CommitSHA}
	row.IdempotencyKey = keyOrNull(r.IdempotencyKey)
	var err error
	if row.Parameters, err = jsonOf(r.Parameters); err != nil {
		return errs.Wrap(errs.Internal, err, "pipelines: parameters")
	}
	if row.Stages, err = jsonOf(r.Stages); err != nil {
		return errs.Wrap(errs.Internal, err, "pipelines: stages")
	}
	if row.Artifacts, err = jsonOf(r.Artifacts); err != nil {
		return errs.Wrap(errs.Internal, err, "pipelines: artifacts")
	}
	if r.Declaration != nil {
		if row.Declaration, err = jsonOf(r.Declaration); err != nil {
			return errs.Wrap(errs.Internal, err, "pipelines: declaration")
		}
	}
	err = s.st.InTx(ctx, func(ctx context.Context) error {
		if err := s.st.DB(ctx).Create(&row).Error; err != nil {
			return store.Translate(err, "pipeline run with idempotency key "+strconv.Quote(r.IdempotencyKey))
		}
		return s.bumpGeneration(ctx)
	})
	if err != nil {
		return err
	}
	r.ID = row.ID
	return nil
}

// generation reads the runs' change counter.
func (s *records) generation(ctx context.Context) (int64, error) {
	var row stateRow
	err := s.st.DB(ctx).Select("generation").Take(&row, "id = ?", 1).Error
	return row.Generation, store.Translate(err, "pipeline state")
}

// bumpGeneration records, inside the caller's transaction, that a run changed: what another
// process keeps of runs is retired by it (Service.Stamp), and the replicas are told with it.
func (s *records) bumpGeneration(ctx context.Context) error {
	err := s.st.DB(ctx).Model(&stateRow{}).Where("id = ?", 1).Update("generation", gorm.Expr("generation + 1")).Error
	if err != nil {
		return store.Translate(err, "pipeline state")
	}
	s.changed(ctx)
	return nil
}

// byKey finds the run an idempotency key started.
func (s *records) byKey(ctx context.Context, component, pipeline, key string) (Run, error) {
	var row runRow
	err := s.st.DB(ctx).Where("component = ? AND pipeline = ? AND idempotency_key = ?", component, pipeline, key).Take(&row).Error
	if err != nil {
		return Run{}, store.Translate(err, "pipeline run with idempotency key "+strconv.Quote(key))
	}
	return row.toRun(), nil
}

// byRetryOf finds the retry of a run (a unique index keeps one).
func (s *records) byRetryOf(ctx context.Context, id int64) (Run, error) {
	var row runRow
	if err := s.st.DB(ctx).Where("retry_of = ?", id).Take(&row).Error; err != nil {
		return Run{}, store.Translate(err, "retry of pipeline run "+strconv.FormatInt(id, 10))
	}
	return row.toRun(), nil
}

// byID reads one run.
func (s *records) byID(ctx context.Context, id int64) (Run, error) {
	var row runRow
	if err := s.st.DB(ctx).Take(&row, id).Error; err != nil {
		return Run{}, store.Translate(err, "pipeline run "+strconv.FormatInt(id, 10))
	}
	return row.toRun(), nil
}

// dispatchOf reads the dispatch ID of a run (what the provider finds it by).
func (s *records) dispatchOf(ctx context.Context, id int64) (string, error) {
	var row runRow
	if err := s.st.DB(ctx).Select("dispatch_id").Take(&row, id).Error; err != nil {
		return "", store.Translate(err, "pipeline run "+strconv.FormatInt(id, 10))
	}
	return row.DispatchID, nil
}

// errStale says another writer updated the run since it was read.
var errStale = errs.E(errs.Conflict, "the pipeline run changed meanwhile")

// save writes what a provider update changed, if the row is still the version r was read at
// (errStale otherwise: a poll that read the run before a cancel must not undo it).
func (s *records) save(ctx context.Context, r *Run) error {
	stages, err := jsonOf(r.Stages)
	if err != nil {
		return errs.Wrap(errs.Internal, err, "pipelines: stages")
	}
	artifacts, err := jsonOf(r.Artifacts)
	if err != nil {
		return errs.Wrap(errs.Internal, err, "pipelines: artifacts")
	}
	err = s.st.InTx(ctx, func(ctx context.Context) error {
		res := s.st.DB(ctx).Model(&runRow{}).Where("id = ? AND version = ?", r.ID, r.version).Updates(map[string]any{
			"idempotency_key": keyOrNull(r.IdempotencyKey), "provider_run_id": r.ProviderRunID, "url": r.URL, "attempt": r.Attempt, "commit_sha": r.CommitSHA,
			"status": string(r.Status), "message": r.Message, "stages": stages, "artifacts": artifacts,
			"started_at": r.StartedAt, "finished_at": r.FinishedAt, "committed_at": r.CommittedAt, "deployed_at": r.DeployedAt,
			"updated_at": r.UpdatedAt, "version": r.version + 1,
		})
		if res.Error != nil {
			return store.Translate(res.Error, "pipeline run "+strconv.FormatInt(r.ID, 10))
		}
		if res.RowsAffected == 0 {
			return errStale
		}
		return s.bumpGeneration(ctx)
	})
	if err != nil {
		return err
	}
	r.version++
	return nil
}

// keyOrNull is an idempotency key as stored: NULL for none, which the unique index never compares.
func keyOrNull(key string) *string {
	if key == "" {
		return nil
	}
	return &key
}

// polled notes that the follower asked about runs now.
func (s *records) polled(ctx context.Context, ids []int64, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	err := s.st.DB(ctx).Model(&runRow{}).Where("id IN ?", ids).Update("polled_at", at).Error
	return store.Translate(err, "pipeline runs")
}

// active returns up to limit unfinished runs, the least recently polled first.
func (s *records) active(ctx context.Context, limit int) ([]Run, []string, error) {
	var rows []runRow
	err := s.st.DB(ctx).Where("status IN ?", []string{string(Queued), string(Running)}).
		Order("polled_at IS NOT NULL, polled_at, id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, nil, store.Translate(err, "active pipeline runs")
	}
	runs := make([]Run, len(rows))
	dispatch := make([]string, len(rows))
	for i := range rows {
		runs[i], dispatch[i] = rows[i].toRun(), rows[i].DispatchID
	}
	return runs, dispatch, nil
}

// byProviderRun finds the runs of a provider's run (several when it was re-run: each attempt is
// a run of Portside's), newest first.
func (s *records) byProviderRun(ctx context.Context, provider, providerRunID string) ([]Run, error) {
	var rows []runRow
	err := s.st.DB(ctx).Where("provider = ? AND provider_run_id = ?", provider, providerRunID).Order("id DESC").Limit(10).Find(&rows).Error
	if err != nil {
		return nil, store.Translate(err, "pipeline runs")
	}
	out := make([]Run, len(rows))
	for i := range rows {
		out[i] = rows[i].toRun()
	}
	return out, nil
}

// Filter narrows a list of runs.
type Filter struct {
	// Component and Pipeline narrow to one component's (pipeline's) runs; Component is canonical.
	Component string
	Pipeline  string
	Statuses  []Status
	Ref       string
	// TriggeredBy narrows to one actor's runs.
	TriggeredBy string
}

// Page is a page of runs, newest first.
type Page struct {
	Runs []Run
	// Cursors are each run's cursor, for after.
	Cursors     []string
	TotalCount  int64
	HasNextPage bool
	EndCursor   string
}

// MaxPage bounds a page of runs.
const MaxPage = 100

// list returns a page of runs, newest first.
func (s *records) list(ctx context.Context, f Filter, first int, after string) (*Page, error) {
	if first < 0 || first > MaxPage {
		return nil, errs.InvalidField("first", "must be between 0 and %d, got %d", MaxPage, first)
	}
	db := s.st.DB(ctx).Model(&runRow{})
	if f.Component != "" {
		db = db.Where("component = ?", f.Component)
	}
	if f.Pipeline != "" {
		db = db.Where("pipeline = ?", f.Pipeline)
	}
	if len(f.Statuses) > 0 {
		st := make([]string, len(f.Statuses))
		for i, x := range f.Statuses {
			st[i] = string(x)
		}
		db = db.Where("status IN ?", st)
	}
	if f.Ref != "" {
		db = db.Where("ref = ?", f.Ref)
	}
	if f.TriggeredBy != "" {
		db = db.Where("triggered_by = ?", f.TriggeredBy)
	}
	page := &Page{Runs: []Run{}}
	if err := db.Session(&gorm.Session{}).Count(&page.TotalCount).Error; err != nil {
		return nil, store.Translate(err, "pipeline runs")
	}
	if after != "" {
		id, err := idcursor.Decode("run", after)
		if err != nil {
			return nil, err
		}
		db = db.Where("id < ?", id)
	}
	var rows []runRow
	if err := db.Order("id DESC").Limit(first + 1).Find(&rows).Error; err != nil {
		return nil, store.Translate(err, "pipeline runs")
	}
	if len(rows) > first {
		page.HasNextPage, rows = true, rows[:first]
	}
	for i := range rows {
		page.Runs = append(page.Runs, rows[i].toRun())
		page.Cursors = append(page.Cursors, idcursor.Encode("run", rows[i].ID))
	}
	if len(rows) > 0 {
		page.EndCursor = idcursor.Encode("run", rows[len(rows)-1].ID)
	}
	return page, nil
}

// maxLeadTimeRows bounds the deploys one lead-time question reads (a year of a busy catalog's).
const maxLeadTimeRows = 100_000

// leadTimes returns, per component, the time from commit to successful Deploy stage of each run
// deployed in [since, until) whose commit time is known; components nil asks for every component.
func (s *records) leadTimes(ctx context.Context, components []string, since, until time.Time) (map[string][]time.Duration, error) {
	out := map[string][]time.Duration{}
	if components != nil && len(components) == 0 {
		return out, nil
	}
	var rows []struct {
		Component   string
		CommittedAt time.Time
		DeployedAt  time.Time
	}
	q := s.st.DB(ctx).Model(&runRow{}).Select("component, committed_at, deployed_at").
		Where("deployed_at >= ? AND deployed_at < ? AND committed_at IS NOT NULL", since.UTC(), until.UTC())
	if components != nil {
		q = q.Where("component IN ?", components)
	}
	if err := q.Order("deployed_at").Limit(maxLeadTimeRows).Scan(&rows).Error; err != nil {
		return nil, store.Translate(err, "pipeline runs")
	}
	for _, r := range rows {
		if d := r.DeployedAt.Sub(r.CommittedAt); d >= 0 {
			out[r.Component] = append(out[r.Component], d)
		}
	}
	return out, nil
}

// maxStatsRows bounds the runs one RunStats reads (the newest finished first).
const maxStatsRows = 20000

// runStats counts the runs of components that finished in [since, until) and measures them.
func (s *records) runStats(ctx context.Context, components []string, since, until time.Time) (RunStats, error) {
	out := RunStats{}
	if len(components) == 0 {
		return out, nil
	}
	var rows []struct {
		Status     string
		StartedAt  *time.Time
		FinishedAt time.Time
	}
	if err := s.st.DB(ctx).Model(&runRow{}).Select("status, started_at, finished_at").
		Where("finished_at >= ? AND finished_at < ? AND component IN ?", since.UTC(), until.UTC(), components).
		Order("finished_at DESC").Limit(maxStatsRows).Scan(&rows).Error; err != nil {
		return RunStats{}, store.Translate(err, "pipeline runs")
	}
	var durations []time.Duration
	for _, r := range rows {
		out.Runs++
		if Status(r.Status) == Succeeded {
			out.Succeeded++
			if r.StartedAt != nil && !r.FinishedAt.Before(*r.StartedAt) {
				durations = append(durations, r.FinishedAt.Sub(*r.StartedAt))
			}
		}
	}
	if len(durations) > 0 {
		slices.Sort(durations)
		m := durations[len(durations)/2]
		if len(durations)%2 == 0 {
			m = (durations[len(durations)/2-1] + m) / 2
		}
		out.MedianDuration = &m
	}
	return out, nil
}

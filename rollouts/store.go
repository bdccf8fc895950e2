package rollouts

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/store"
)

// rolloutRow is a rollout as stored: one row per sync operation of an application, unique by
// (instance, app_namespace, application, started_at).
type rolloutRow struct {
	ID            int64 `gorm:"primaryKey"`
	Instance      string
	AppNamespace  string
	Application   string
	Environment   string
	Project       string
	Revision      string
	Phase         string
	Result        string
	Message       string
	StartedAt     time.Time
	FinishedAt    *time.Time
	InitiatedBy   string
	Automated     bool
	RequestedBy   string
	HistoryID     *int64 // Argo CD's history IDs start at 0: NULL is none
	Images        string // a JSON array
	CommitAuthor  string
	CommitMessage string
	CommittedAt   *time.Time
	// CommitFetched is set once the source was asked about the revision, whatever it said.
	CommitFetched bool
	// Canary is the JSON of a CanaryProgress, "" without a canary.
	Canary    string
	UpdatedAt time.Time
}

func (rolloutRow) TableName() string { return "rollouts" }

// healthRow is one change of an application's health.
type healthRow struct {
	ID           int64 `gorm:"primaryKey"`
	Instance     string
	AppNamespace string
	Application  string
	Health       string
	At           time.Time
}

func (healthRow) TableName() string { return "deployment_health" }

// Models lists the gorm row types of the rollouts domain, for the schema conformance test.
func Models() []any { return []any{&rolloutRow{}, &healthRow{}} }

// recordHealth notes an application's health at a moment, unless it is what the history already
// says last (Portside restarted, a list repeated the state) or that moment is recorded.
func (s *records) recordHealth(ctx context.Context, k Key, h Health, at time.Time) error {
	err := s.st.DB(ctx).Exec("INSERT INTO deployment_health (instance, app_namespace, application, health, at) "+
		"SELECT ?, ?, ?, ?, ? WHERE COALESCE((SELECT health FROM deployment_health WHERE instance = ? AND app_namespace = ? "+
		"AND application = ? ORDER BY id DESC LIMIT 1), '') <> ? "+
		"ON CONFLICT (instance, app_namespace, application, at) DO NOTHING",
		k.Instance, k.Namespace, k.Name, string(h), at.UTC(), k.Instance, k.Namespace, k.Name, string(h)).Error
	return store.Translate(err, "deployment health")
}

func (r *rolloutRow) toRollout() Rollout {
	out := Rollout{ID: r.ID, Key: Key{r.Instance, r.AppNamespace, r.Application}, Environment: r.Environment,
		Project: r.Project, Revision: r.Revision, Phase: OperationPhase(r.Phase), Result: Result(r.Result),
		Message: r.Message, StartedAt: r.StartedAt.UTC(), FinishedAt: utc(r.FinishedAt), InitiatedBy: r.InitiatedBy,
		Automated: r.Automated, RequestedBy: r.RequestedBy, HistoryID: r.HistoryID,
		Commit: Commit{Author: r.CommitAuthor, Message: r.CommitMessage, Date: utc(r.CommittedAt)}}
	_ = json.Unmarshal([]byte(r.Images), &out.Images)
	if r.Canary != "" {
		out.Canary = &CanaryProgress{}
		_ = json.Unmarshal([]byte(r.Canary), out.Canary)
	}
	if out.Images == nil {
		out.Images = []string{}
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

// records keeps rollouts in the database.
type records struct {
	st *store.Store
}

// rolloutColumns are the columns an upsert writes, in the order of rolloutArgs.
var rolloutColumns = []string{"instance", "app_namespace", "application", "environment", "project", "revision",
	"phase", "result", "message", "started_at", "finished_at", "initiated_by", "automated", "requested_by", "history_id", "images",
	"commit_author", "commit_message", "committed_at", "commit_fetched", "canary", "updated_at"}

// rolloutUpdates says how a derived rollout updates a recorded one: what a later state knows wins,
// what it no longer knows (the message of an operation that left Argo CD's status and survives only
// in its history, the images of a sync long past) stays.
var rolloutUpdates = [][2]string{
	{"environment", "excluded.environment"},
	{"project", "excluded.project"},
	{"revision", "CASE WHEN excluded.revision <> '' THEN excluded.revision ELSE rollouts.revision END"},
	// An operation that finished never runs again (a new sync starts another rollout): a state
	// without its end is an older one, seen late by a replica that lags the one that recorded the
	// end, and does not take the rollout back to RUNNING.
	{"phase", "CASE WHEN " + staleRunning + " THEN rollouts.phase ELSE excluded.phase END"},
	{"result", "CASE WHEN rollouts.result = 'ABORTED' OR " + staleRunning + " THEN rollouts.result ELSE excluded.result END"}, // Argo CD's sync succeeded; its canary did not
	{"message", "CASE WHEN excluded.message <> '' AND NOT " + staleRunning + " THEN excluded.message ELSE rollouts.message END"},
	{"finished_at", "COALESCE(excluded.finished_at, rollouts.finished_at)"},
	{"initiated_by", "CASE WHEN excluded.initiated_by <> '' THEN excluded.initiated_by ELSE rollouts.initiated_by END"},
	{"automated", "excluded.automated OR rollouts.automated"},
	{"requested_by", "CASE WHEN excluded.requested_by <> '' THEN excluded.requested_by ELSE rollouts.requested_by END"},
	{"history_id", "COALESCE(excluded.history_id, rollouts.history_id)"},
	{"images", "CASE WHEN excluded.images <> '[]' THEN excluded.images ELSE rollouts.images END"},
}

// staleRunning holds when the state written lacks the end the recorded rollout has.
const staleRunning = "(rollouts.finished_at IS NOT NULL AND excluded.finished_at IS NULL)"

// upsertSQL inserts a rollout or updates the recorded one, and returns the row only when it is new
// or changed: an unchanged rollout seen again (a reconnect, a list) is neither written nor
// reported, so subscribers never see it twice.
var upsertSQL = func() string {
	var set, changed []string
	for _, u := range rolloutUpdates {
		set = append(set, u[0]+" = "+u[1])
		changed = append(changed, "rollouts."+u[0]+" IS DISTINCT FROM ("+u[1]+")")
	}
	set = append(set, "updated_at = excluded.updated_at")
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(rolloutColumns)), ", ")
	return "INSERT INTO rollouts (" + strings.Join(rolloutColumns, ", ") + ") VALUES (" + marks + ")" +
		" ON CONFLICT (instance, app_namespace, application, started_at) DO UPDATE SET " + strings.Join(set, ", ") +
		" WHERE " + strings.Join(changed, " OR ") + " RETURNING id, " + strings.Join(rolloutColumns, ", ")
}()

// record writes derived rollouts and returns those that were new or changed, as stored.
func (s *records) record(ctx context.Context, rs []Rollout) ([]Rollout, error) {
	var changed []Rollout
	now := time.Now().UTC()
	err := s.st.InTx(ctx, func(ctx context.Context) error {
		for i := range rs {
			r := &rs[i]
			images, _ := json.Marshal(nonNil(r.Images))
			var row rolloutRow
			res := s.st.DB(ctx).Raw(upsertSQL, r.Instance, r.Namespace, r.Name, r.Environment, r.Project, r.Revision,
				string(r.Phase), string(r.Result), r.Message, r.StartedAt.UTC(), utc(r.FinishedAt), r.InitiatedBy, r.Automated,
				r.RequestedBy, r.HistoryID, string(images), "", "", nil, false, "", now).Scan(&row)
			if res.Error != nil {
				return store.Translate(res.Error, "rollouts")
			}
			if res.RowsAffected > 0 && row.ID != 0 {
				changed = append(changed, row.toRollout())
			}
		}
		return nil
	})
	return changed, err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// pendingCommits returns rollouts of an instance whose revision the source was not yet asked about.
func (s *records) pendingCommits(ctx context.Context, instance string, limit int) ([]Rollout, error) {
	var rows []rolloutRow
	err := s.st.DB(ctx).Where("instance = ? AND commit_fetched = ? AND revision <> ''", instance, false).
		Order("started_at DESC").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, store.Translate(err, "rollouts")
	}
	out := make([]Rollout, len(rows))
	for i := range rows {
		out[i] = rows[i].toRollout()
	}
	return out, nil
}

// setCommit records what the source said about a rollout's revision and returns the rollout;
// changed is false when it was recorded already (every replica fetches the commits of new
// rollouts: the first to record one tells subscribers, once).
func (s *records) setCommit(ctx context.Context, id int64, c Commit) (Rollout, bool, error) {
	var row rolloutRow
	changed := false
	err := s.st.InTx(ctx, func(ctx context.Context) error {
		db := s.st.DB(ctx)
		res := db.Model(&rolloutRow{}).Where("id = ? AND commit_fetched = ?", id, false).Updates(map[string]any{
			"commit_author": c.Author, "commit_message": c.Message, "committed_at": utc(c.Date),
			"commit_fetched": true, "updated_at": time.Now().UTC()})
		if res.Error != nil {
			return res.Error
		}
		changed = res.RowsAffected > 0
		return db.First(&row, id).Error
	})
	if err != nil {
		return Rollout{}, false, store.Translate(err, "rollout")
	}
	return row.toRollout(), changed, nil
}

// latest returns the newest rollout of an application; ok is false when it has none.
func (s *records) latest(ctx context.Context, k Key) (Rollout, bool, error) {
	var rows []rolloutRow
	err := s.st.DB(ctx).Where("instance = ? AND app_namespace = ? AND application = ?", k.Instance, k.Namespace, k.Name).
		Order("started_at DESC, id DESC").Limit(1).Find(&rows).Error
	if err != nil || len(rows) == 0 {
		return Rollout{}, false, store.Translate(err, "rollouts")
	}
	return rows[0].toRollout(), true, nil
}

// byRevision returns the newest rollout of a revision; ok is false when none was recorded.
func (s *records) byRevision(ctx context.Context, revision string) (Rollout, bool, error) {
	var rows []rolloutRow
	err := s.st.DB(ctx).Where("revision = ?", revision).Order("started_at DESC, id DESC").Limit(1).Find(&rows).Error
	if err != nil || len(rows) == 0 {
		return Rollout{}, false, store.Translate(err, "rollouts")
	}
	return rows[0].toRollout(), true, nil
}

// advanceCanary adds what a look at the canary shows to the progress recorded on a rollout (see
// CanaryProgress.advance) and returns the rollout; changed is false when the record knew it
// already. Every replica reads the canaries: the progress is advanced on the stored record, under
// its row lock, so a step two replicas saw is recorded, and told to subscribers, once.
func (s *records) advanceCanary(ctx context.Context, id int64, c *Canary, at time.Time) (Rollout, bool, error) {
	var row rolloutRow
	changed := false
	err := s.st.InTx(ctx, func(ctx context.Context) error {
		db := s.st.DB(ctx)
		read := db
		if s.st.Dialect() == store.Postgres {
			read = read.Clauses(clause.Locking{Strength: "UPDATE"}) // SQLite's writers are one at a time anyway
		}
		if err := read.First(&row, id).Error; err != nil {
			return err
		}
		p := &CanaryProgress{}
		if row.Canary != "" {
			if err := json.Unmarshal([]byte(row.Canary), p); err != nil {
				return errs.Wrap(errs.Internal, err, "rollouts: canary of rollout %d", id)
			}
		}
		if !p.advance(c, at) {
			return nil
		}
		b, err := json.Marshal(p)
		if err != nil {
			return errs.Wrap(errs.Internal, err, "rollouts: canary of rollout %d", id)
		}
		set := map[string]any{"canary": string(b), "updated_at": time.Now().UTC()}
		if p.Aborted {
			set["result"] = string(ResultAborted)
		}
		if err := db.Model(&rolloutRow{}).Where("id = ?", id).Updates(set).Error; err != nil {
			return err
		}
		changed = true
		return db.First(&row, id).Error
	})
	if err != nil {
		return Rollout{}, false, store.Translate(err, "rollout")
	}
	return row.toRollout(), changed, nil
}

// Filter selects rollouts. Empty fields select everything.
type Filter struct {
	// Keys are applications; a key with an empty Namespace matches the name in any namespace. A
	// non-nil empty Keys selects nothing (a component whose applications are unknown).
	Keys         []Key
	Instance     string
	Environments []string
	Results      []Result
	// Since and Until bound the start time: Since <= started < Until.
	Since, Until *time.Time
}

// Page is one page of rollouts, newest first.
type Page struct {
	Rollouts    []Rollout
	Cursors     []string
	TotalCount  int
	HasNextPage bool
}

// MaxPage bounds a page of rollouts.
const MaxPage = 100

// list returns a page of rollouts, newest first (by start, then by ID).
func (s *records) list(ctx context.Context, f Filter, first int, after string) (*Page, error) {
	if first < 1 || first > MaxPage {
		return nil, errs.InvalidField("first", "must be between 1 and %d", MaxPage)
	}
	for _, r := range f.Results {
		if !slices.Contains(Results, r) {
			return nil, errs.InvalidField("results", "unknown result %q", r)
		}
	}
	if f.Keys != nil && len(f.Keys) == 0 {
		return &Page{}, nil
	}
	db := s.st.DB(ctx).Model(&rolloutRow{})
	if where, args := keysClause(f.Keys); where != "" {
		db = db.Where(where, args...)
	}
	if f.Instance != "" {
		db = db.Where("instance = ?", f.Instance)
	}
	if len(f.Environments) > 0 {
		db = db.Where("environment IN ?", f.Environments)
	}
	if len(f.Results) > 0 {
		rs := make([]string, len(f.Results))
		for i, r := range f.Results {
			rs[i] = string(r)
		}
		db = db.Where("result IN ?", rs)
	}
	if f.Since != nil {
		db = db.Where("started_at >= ?", f.Since.UTC())
	}
	if f.Until != nil {
		db = db.Where("started_at < ?", f.Until.UTC())
	}
	page := &Page{}
	var total int64
	if err := db.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return nil, store.Translate(err, "rollouts")
	}
	page.TotalCount = int(total)
	if after != "" {
		at, id, err := decodeCursor(after)
		if err != nil {
			return nil, err
		}
		db = db.Where("(started_at < ? OR (started_at = ? AND id < ?))", at, at, id)
	}
	var rows []rolloutRow
	if err := db.Order("started_at DESC, id DESC").Limit(first + 1).Find(&rows).Error; err != nil {
		return nil, store.Translate(err, "rollouts")
	}
	if len(rows) > first {
		rows, page.HasNextPage = rows[:first], true
	}
	for i := range rows {
		r := rows[i].toRollout()
		page.Rollouts = append(page.Rollouts, r)
		page.Cursors = append(page.Cursors, encodeCursor(r.StartedAt, r.ID))
	}
	return page, nil
}

// byID returns one rollout.
func (s *records) byID(ctx context.Context, id int64) (Rollout, error) {
	var row rolloutRow
	if err := s.st.DB(ctx).First(&row, id).Error; err != nil {
		return Rollout{}, store.Translate(err, fmt.Sprintf("rollout %d", id))
	}
	return row.toRollout(), nil
}

// Cursors are opaque to clients: the start time and ID of the last rollout seen.
func encodeCursor(at time.Time, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(at.UnixNano(), 10) + ":" + strconv.FormatInt(id, 10)))
}

func decodeCursor(c string) (time.Time, int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err == nil {
		if at, id, ok := strings.Cut(string(b), ":"); ok {
			ns, err1 := strconv.ParseInt(at, 10, 64)
			n, err2 := strconv.ParseInt(id, 10, 64)
			if err1 == nil && err2 == nil {
				return time.Unix(0, ns).UTC(), n, nil
			}
		}
	}
	return time.Time{}, 0, errs.InvalidField("after", "is not a rollout cursor")
}

package alerts

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm/clause"

	"github.com/portside-dev/portside/store"
)

// alertRow is one alert, as stored in alerts.
type alertRow struct {
	ID              int64 `gorm:"primaryKey"`
	Fingerprint     string
	StartsAt        time.Time
	Rule            string
	Component       string
	Status          string
	Severity        string
	Summary         string
	Labels          string // JSON object
	Annotations     string // JSON object
	EndsAt          *time.Time
	GeneratorURL    string `gorm:"column:generator_url"`
	CanaryInstance  string
	CanaryNamespace string
	CanaryApp       string
	ReceivedAt      time.Time
	UpdatedAt       time.Time
}

func (alertRow) TableName() string { return "alerts" }

// Models lists the gorm row types of the alerts domain, for the schema conformance test.
func Models() []any { return []any{&alertRow{}} }

func jsonMap(m map[string]string) string {
	if m == nil {
		return "{}"
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func (r *alertRow) toAlert() Alert {
	a := Alert{ID: r.ID, Fingerprint: r.Fingerprint, Rule: r.Rule, Component: r.Component, Status: Status(r.Status),
		Severity: r.Severity, Summary: r.Summary, StartsAt: r.StartsAt.UTC(), GeneratorURL: r.GeneratorURL,
		ReceivedAt: r.ReceivedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	_ = json.Unmarshal([]byte(r.Labels), &a.Labels)
	_ = json.Unmarshal([]byte(r.Annotations), &a.Annotations)
	if a.Labels == nil {
		a.Labels = map[string]string{}
	}
	if a.Annotations == nil {
		a.Annotations = map[string]string{}
	}
	if r.EndsAt != nil {
		t := r.EndsAt.UTC()
		a.EndsAt = &t
	}
	if r.CanaryApp != "" {
		a.Canary = &CanaryRef{Instance: r.CanaryInstance, AppNamespace: r.CanaryNamespace, Application: r.CanaryApp}
	}
	return a
}

// records keeps alerts in the database.
type records struct {
	st *store.Store
}

// upsert records a delivery's alerts in one statement: a new firing is inserted; a known one
// (same fingerprint and start) takes the delivery's status, end and annotations, unless it is
// resolved already: a resolved alert stays resolved (a late retry of an earlier firing delivery
// must not reopen it). Where it fired (component, canary) is what the first delivery said.
//
// The rows are written in the table's key order (fingerprint, then start; rows is sorted so),
// whatever the delivery's order: each row written stays locked until the transaction ends, and
// two deliveries of the same alerts in different orders, each taking them in its own, waited for
// each other's rows and deadlocked on PostgreSQL (one was refused, for Alertmanager to send
// again). In one order, the later waits for the earlier and then finds its rows.
func (s *records) upsert(ctx context.Context, rows []alertRow) error {
	if len(rows) == 0 {
		return nil
	}
	slices.SortFunc(rows, func(a, b alertRow) int {
		return cmp.Or(strings.Compare(a.Fingerprint, b.Fingerprint), a.StartsAt.Compare(b.StartsAt))
	})
	err := s.st.DB(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "fingerprint"}, {Name: "starts_at"}},
		DoUpdates: clause.AssignmentColumns([]string{"status", "ends_at", "annotations", "summary", "severity", "updated_at"}),
		Where:     clause.Where{Exprs: []clause.Expression{clause.Expr{SQL: "alerts.status <> ?", Vars: []any{string(Resolved)}}}},
	}).CreateInBatches(&rows, 200).Error
	return store.Translate(err, "alerts")
}

// Filter narrows a list of alerts.
type Filter struct {
	// Status keeps one status; "" keeps both.
	Status Status
}

// forComponent returns up to first alerts of a component, newest first.
func (s *records) forComponent(ctx context.Context, ref string, f Filter, first int) ([]Alert, error) {
	q := s.st.DB(ctx).Where("component = ?", ref)
	if f.Status != "" {
		q = q.Where("status = ?", string(f.Status))
	}
	var rows []alertRow
	if err := q.Order("starts_at DESC, id DESC").Limit(first).Find(&rows).Error; err != nil {
		return nil, store.Translate(err, "alerts of "+ref)
	}
	return toAlerts(rows), nil
}

// forCanary returns the alerts that fired while the application's canary was under way, from
// since to until (nil: up to now), oldest first, at most MaxPage.
func (s *records) forCanary(ctx context.Context, c CanaryRef, since time.Time, until *time.Time) ([]Alert, error) {
	q := s.st.DB(ctx).Where("canary_instance = ? AND canary_namespace = ? AND canary_app = ? AND starts_at >= ?",
		c.Instance, c.AppNamespace, c.Application, since.UTC())
	if until != nil {
		q = q.Where("starts_at <= ?", until.UTC())
	}
	var rows []alertRow
	if err := q.Order("starts_at, id").Limit(MaxPage).Find(&rows).Error; err != nil {
		return nil, store.Translate(err, "alerts of "+c.Application)
	}
	return toAlerts(rows), nil
}

func (s *records) byID(ctx context.Context, id int64) (Alert, error) {
	var row alertRow
	if err := s.st.DB(ctx).Take(&row, id).Error; err != nil {
		return Alert{}, store.Translate(err, what(id))
	}
	return row.toAlert(), nil
}

// ruleStat is what the alerts recorded say of one rule of one component.
type ruleStat struct {
	Rule, Component string
	Total, Firing   int
	// Latest is the newest alert of the rule for the component (its annotations say the runbook
	// and the remediation time as the rule has them now).
	Latest Alert
}

// rules sums up the alerts by rule and component, at most MaxRules of them, by rule.
func (s *records) rules(ctx context.Context) ([]ruleStat, error) {
	var counts []struct {
		Rule, Component string
		Total, Firing   int
	}
	err := s.st.DB(ctx).Model(&alertRow{}).
		Select("rule, component, count(*) AS total, sum(CASE WHEN status = ? THEN 1 ELSE 0 END) AS firing", string(Firing)).
		Group("rule, component").Order("rule, component").Limit(MaxRules).Scan(&counts).Error
	if err != nil {
		return nil, store.Translate(err, "alert rules")
	}
	var latest []alertRow
	err = s.st.DB(ctx).Where("id IN (?)", s.st.DB(ctx).Model(&alertRow{}).Select("max(id)").Group("rule, component")).Find(&latest).Error
	if err != nil {
		return nil, store.Translate(err, "alert rules")
	}
	type key struct{ rule, component string }
	byKey := make(map[key]Alert, len(latest))
	for i := range latest {
		byKey[key{latest[i].Rule, latest[i].Component}] = latest[i].toAlert()
	}
	out := make([]ruleStat, len(counts))
	for i, c := range counts {
		out[i] = ruleStat{Rule: c.Rule, Component: c.Component, Total: c.Total, Firing: c.Firing, Latest: byKey[key{c.Rule, c.Component}]}
	}
	return out, nil
}

func toAlerts(rows []alertRow) []Alert {
	out := make([]Alert, len(rows))
	for i := range rows {
		out[i] = rows[i].toAlert()
	}
	return out
}

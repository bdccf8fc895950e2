package audit

import (
	"context"
	"encoding/json"
	"io"
	"time"

	"gorm.io/gorm"

	"github.com/portside-dev/portside/auth/policy"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/idcursor"
	"github.com/portside-dev/portside/internal/text"
	"github.com/portside-dev/portside/store"
)

// Filter selects audit records; empty fields match everything.
type Filter struct {
	Actor    string
	Action   string
	Resource string
	Outcome  Outcome
	Since    *time.Time
	Until    *time.Time
}

// Page is one page of records, newest first.
type Page struct {
	Records    []Record
	TotalCount int
	EndCursor  string
	HasMore    bool
}

// MaxPage bounds a page of records.
const MaxPage = 500

// Query returns records matching f, newest first, after the cursor. Admins see every record;
// anyone else sees only their own.
func (l *Log) Query(ctx context.Context, f Filter, first int, after string) (*Page, error) {
	q, err := l.filtered(ctx, f)
	if err != nil {
		return nil, err
	}
	if first <= 0 || first > MaxPage {
		return nil, errs.InvalidField("first", "must be between 1 and %d", MaxPage)
	}
	var total int64
	if err := q.Session(&gorm.Session{}).Model(&recordRow{}).Count(&total).Error; err != nil {
		return nil, store.Translate(err, "audit records")
	}
	if after != "" {
		id, err := idcursor.Decode("audit", after)
		if err != nil {
			return nil, err
		}
		q = q.Where("id < ?", id)
	}
	var rows []recordRow
	if err := q.Order("id DESC").Limit(first + 1).Find(&rows).Error; err != nil {
		return nil, store.Translate(err, "audit records")
	}
	page := &Page{TotalCount: int(total), HasMore: len(rows) > first}
	if page.HasMore {
		rows = rows[:first]
	}
	for i := range rows {
		page.Records = append(page.Records, rows[i].toRecord())
	}
	if len(rows) > 0 {
		page.EndCursor = idcursor.Encode("audit", rows[len(rows)-1].ID)
	}
	return page, nil
}

// Export writes every matching record as JSON lines, oldest first, to w.
func (l *Log) Export(ctx context.Context, f Filter, w io.Writer) (int, error) {
	q, err := l.filtered(ctx, f)
	if err != nil {
		return 0, err
	}
	enc := json.NewEncoder(w)
	n := 0
	var last int64
	for {
		var rows []recordRow
		if err := q.Session(&gorm.Session{}).Where("id > ?", last).Order("id").Limit(1000).Find(&rows).Error; err != nil {
			return n, store.Translate(err, "audit records")
		}
		for i := range rows {
			if err := enc.Encode(exported(rows[i].toRecord())); err != nil {
				return n, errs.Wrap(errs.Unavailable, err, "audit: write export")
			}
			n++
		}
		if len(rows) < 1000 {
			return n, nil
		}
		last = rows[len(rows)-1].ID
	}
}

// exported is a record's JSON line form; its field names are part of the export format.
func exported(r Record) any {
	return struct {
		ID        int64           `json:"id"`
		At        time.Time       `json:"at"`
		Actor     string          `json:"actor"`
		ActorKind string          `json:"actorKind"`
		Client    string          `json:"client"`
		Action    string          `json:"action"`
		Resource  string          `json:"resource,omitempty"`
		Arguments json.RawMessage `json:"arguments"`
		Outcome   Outcome         `json:"outcome"`
		Code      string          `json:"code,omitempty"`
		Message   string          `json:"message,omitempty"`
		RequestID string          `json:"requestId,omitempty"`
	}{r.ID, r.At, r.Actor, r.ActorKind, r.Client, r.Action, r.Resource, r.Arguments, r.Outcome, r.Code, r.Message, r.RequestID}
}

func (l *Log) filtered(ctx context.Context, f Filter) (*gorm.DB, error) {
	p := principal.From(ctx)
	if err := policy.Can(p, policy.AuditRead, policy.Resource{Name: "audit log"}); err != nil {
		return nil, err
	}
	for field, v := range map[string]string{"actor": f.Actor, "action": f.Action, "resource": f.Resource} {
		if err := text.Storable(field, v); err != nil {
			return nil, err // no record holds such text; PostgreSQL would fail the statement
		}
	}
	q := l.st.DB(ctx).Model(&recordRow{})
	if !p.Admin {
		if f.Actor != "" && f.Actor != p.Username {
			return nil, errs.E(errs.Forbidden, "%s may read only its own audit records: other actors take the admin role", p.Actor())
		}
		f.Actor = p.Username
	}
	if f.Actor != "" {
		q = q.Where("actor = ?", f.Actor)
	}
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if f.Resource != "" {
		q = q.Where("resource = ?", f.Resource)
	}
	switch f.Outcome {
	case "":
	case OK, Denied, Failed:
		q = q.Where("outcome = ?", string(f.Outcome))
	default:
		return nil, errs.InvalidField("outcome", "unknown outcome %q: use ok, denied or failed", f.Outcome)
	}
	if f.Since != nil {
		q = q.Where("at >= ?", f.Since.UTC())
	}
	if f.Until != nil {
		q = q.Where("at < ?", f.Until.UTC())
	}
	return q, nil
}

// ParseBound reads a since or until bound given as text (an RFC 3339 time); "" means none. The
// error names the field, for the CLI flag and the export endpoint's query parameter alike.
func ParseBound(field, v string) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, errs.InvalidField(field, "%q is not an RFC 3339 time like 2026-01-02T15:04:05Z", v)
	}
	return &t, nil
}

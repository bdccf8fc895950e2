package runbooks

import (
	"context"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/idcursor"
	"github.com/portside-dev/portside/internal/words"
	"github.com/portside-dev/portside/store"
)

// runbookRow is a runbook's current state, as stored in runbooks.
type runbookRow struct {
	ID    int64 `gorm:"primaryKey"`
	Title string
	Kind  string
	URL   string `gorm:"column:url"`
	Body  string
	// SearchText is the title's and text's words (package words), for the text search; only the
	// search reads it, in SQL.
	SearchText string
	Version    int
	CreatedBy  string
	CreatedAt  time.Time
	UpdatedBy  string
	UpdatedAt  time.Time
}

func (runbookRow) TableName() string { return "runbooks" }

// versionRow is one immutable version, as stored in runbook_versions.
type versionRow struct {
	RunbookID int64 `gorm:"primaryKey;autoIncrement:false"`
	Version   int   `gorm:"primaryKey;autoIncrement:false"`
	Title     string
	URL       string `gorm:"column:url"`
	Body      string
	Author    string
	Message   string
	CreatedAt time.Time
}

func (versionRow) TableName() string { return "runbook_versions" }

// linkRow links a runbook to a catalog entity, as stored in runbook_links.
type linkRow struct {
	RunbookID int64  `gorm:"primaryKey;autoIncrement:false"`
	EntityRef string `gorm:"primaryKey"`
}

func (linkRow) TableName() string { return "runbook_links" }

// checkRow is the last answer the link check got for a URL, as stored in runbook_link_checks.
type checkRow struct {
	URL        string `gorm:"column:url;primaryKey"`
	Status     string
	HTTPStatus int `gorm:"column:http_status"`
	Message    string
	CheckedAt  time.Time
}

func (checkRow) TableName() string { return "runbook_link_checks" }

// Models lists the gorm row types of the runbooks domain, for the schema conformance test.
func Models() []any { return []any{&runbookRow{}, &versionRow{}, &linkRow{}, &checkRow{}} }

func (r *runbookRow) toRunbook(links []string) Runbook {
	if links == nil {
		links = []string{}
	}
	return Runbook{ID: r.ID, Title: r.Title, Kind: Kind(r.Kind), URL: r.URL, Markdown: r.Body, Version: r.Version, Links: links,
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC(), UpdatedBy: r.UpdatedBy, UpdatedAt: r.UpdatedAt.UTC()}
}

func (v *versionRow) toVersion() Version {
	return Version{Runbook: v.RunbookID, Number: v.Version, Title: v.Title, URL: v.URL, Markdown: v.Body, Author: v.Author,
		Message: v.Message, CreatedAt: v.CreatedAt.UTC()}
}

// records keeps runbooks in the database.
type records struct {
	st *store.Store
}

func what(id int64) string { return "runbook " + strconv.FormatInt(id, 10) }

// insert records a new runbook, its first version and its links, in one transaction.
func (s *records) insert(ctx context.Context, rb *Runbook, author, message string) error {
	return s.st.InTx(ctx, func(ctx context.Context) error {
		row := runbookRow{Title: rb.Title, Kind: string(rb.Kind), URL: rb.URL, Body: rb.Markdown, SearchText: words.Index(rb.Title, rb.Markdown),
			Version: 1, CreatedBy: author, CreatedAt: rb.CreatedAt, UpdatedBy: author, UpdatedAt: rb.CreatedAt}
		if err := s.st.DB(ctx).Create(&row).Error; err != nil {
			return store.Translate(err, "runbook")
		}
		v := versionRow{RunbookID: row.ID, Version: 1, Title: rb.Title, URL: rb.URL, Body: rb.Markdown, Author: author, Message: message,
			CreatedAt: rb.CreatedAt}
		if err := s.st.DB(ctx).Create(&v).Error; err != nil {
			return store.Translate(err, what(row.ID))
		}
		for _, ref := range rb.Links {
			if err := s.st.DB(ctx).Create(&linkRow{RunbookID: row.ID, EntityRef: ref}).Error; err != nil {
				return store.Translate(err, what(row.ID)+" link to "+ref)
			}
		}
		*rb = row.toRunbook(rb.Links)
		return nil
	})
}

// errStale says the runbook moved past the version an edit was based on.
func errStale(id int64, based, current int) error {
	return errs.E(errs.Conflict, "runbook %d is at version %d; this edit was based on version %d: read it again and redo the edit", id, current, based)
}

// update records a new version of a runbook, if it still is at version base (CONFLICT
// otherwise: the other editor's version stands). rb carries the new content.
func (s *records) update(ctx context.Context, rb *Runbook, base int, author, message string, now time.Time) error {
	return s.st.InTx(ctx, func(ctx context.Context) error {
		res := s.st.DB(ctx).Model(&runbookRow{}).Where("id = ? AND version = ?", rb.ID, base).Updates(map[string]any{
			"title": rb.Title, "url": rb.URL, "body": rb.Markdown, "search_text": words.Index(rb.Title, rb.Markdown),
			"version": base + 1, "updated_by": author, "updated_at": now,
		})
		if res.Error != nil {
			return store.Translate(res.Error, what(rb.ID))
		}
		if res.RowsAffected == 0 {
			cur, err := s.byID(ctx, rb.ID)
			if err != nil {
				return err
			}
			return errStale(rb.ID, base, cur.Version)
		}
		v := versionRow{RunbookID: rb.ID, Version: base + 1, Title: rb.Title, URL: rb.URL, Body: rb.Markdown, Author: author,
			Message: message, CreatedAt: now}
		if err := s.st.DB(ctx).Create(&v).Error; err != nil {
			// The version row's key is the guard of last resort: two writers of one version
			// cannot both insert it.
			return store.Translate(err, what(rb.ID)+" version "+strconv.Itoa(base+1))
		}
		got, err := s.byID(ctx, rb.ID)
		if err != nil {
			return err
		}
		*rb = got
		return nil
	})
}

// rows reads runbooks: every column but search_text, as large as the text and read by the
// search only (in SQL).
func (s *records) rows(ctx context.Context) *gorm.DB {
	return s.st.DB(ctx).Model(&runbookRow{}).Omit("search_text")
}

// byID reads one runbook with its links.
func (s *records) byID(ctx context.Context, id int64) (Runbook, error) {
	var row runbookRow
	if err := s.rows(ctx).Take(&row, id).Error; err != nil {
		return Runbook{}, store.Translate(err, what(id))
	}
	links, err := s.links(ctx, []int64{id})
	if err != nil {
		return Runbook{}, err
	}
	return row.toRunbook(links[id]), nil
}

// links reads the links of runbooks, by runbook.
func (s *records) links(ctx context.Context, ids []int64) (map[int64][]string, error) {
	out := map[int64][]string{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []linkRow
	if err := s.st.DB(ctx).Where("runbook_id IN ?", ids).Order("runbook_id, entity_ref").Find(&rows).Error; err != nil {
		return nil, store.Translate(err, "runbook links")
	}
	for _, r := range rows {
		out[r.RunbookID] = append(out[r.RunbookID], r.EntityRef)
	}
	return out, nil
}

// link adds a link (nothing when it exists: linking twice is harmless).
func (s *records) link(ctx context.Context, id int64, ref string) error {
	err := s.st.DB(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&linkRow{RunbookID: id, EntityRef: ref}).Error
	return store.Translate(err, what(id)+" link to "+ref)
}

// unlink removes a link; it reports whether there was one.
func (s *records) unlink(ctx context.Context, id int64, ref string) (bool, error) {
	res := s.st.DB(ctx).Where("runbook_id = ? AND entity_ref = ?", id, ref).Delete(&linkRow{})
	return res.RowsAffected > 0, store.Translate(res.Error, what(id)+" link to "+ref)
}

// lock takes the runbook's row lock until the transaction ends (a no-op update: PostgreSQL locks
// the row, SQLite's transactions are serialized anyway), so that changes that check a bound over
// several rows (its links) take turns.
func (s *records) lock(ctx context.Context, id int64) error {
	res := s.st.DB(ctx).Exec("UPDATE runbooks SET version = version WHERE id = ?", id)
	if res.Error != nil {
		return store.Translate(res.Error, what(id))
	}
	if res.RowsAffected == 0 {
		return errs.E(errs.NotFound, "%s not found", what(id))
	}
	return nil
}

// countLinks counts a runbook's links.
func (s *records) countLinks(ctx context.Context, id int64) (int64, error) {
	var n int64
	err := s.st.DB(ctx).Model(&linkRow{}).Where("runbook_id = ?", id).Count(&n).Error
	return n, store.Translate(err, what(id)+" links")
}

// remove deletes a runbook; its versions and links go with it (ON DELETE CASCADE).
func (s *records) remove(ctx context.Context, id int64) error {
	res := s.st.DB(ctx).Delete(&runbookRow{}, id)
	if res.Error != nil {
		return store.Translate(res.Error, what(id))
	}
	if res.RowsAffected == 0 {
		return errs.E(errs.NotFound, "%s not found", what(id))
	}
	return nil
}

// version reads one version.
func (s *records) version(ctx context.Context, id int64, n int) (Version, error) {
	var row versionRow
	err := s.st.DB(ctx).Where("runbook_id = ? AND version = ?", id, n).Take(&row).Error
	if err != nil {
		return Version{}, store.Translate(err, what(id)+" version "+strconv.Itoa(n))
	}
	return row.toVersion(), nil
}

// versions reads up to first versions of a runbook, newest first.
func (s *records) versions(ctx context.Context, id int64, first int) ([]Version, error) {
	var rows []versionRow
	if err := s.st.DB(ctx).Where("runbook_id = ?", id).Order("version DESC").Limit(first).Find(&rows).Error; err != nil {
		return nil, store.Translate(err, what(id)+" versions")
	}
	out := make([]Version, len(rows))
	for i := range rows {
		out[i] = rows[i].toVersion()
	}
	return out, nil
}

// forEntities reads the runbooks linked to any of refs, by ref, oldest first.
func (s *records) forEntities(ctx context.Context, refs []string) (map[string][]Runbook, error) {
	out := map[string][]Runbook{}
	if len(refs) == 0 {
		return out, nil
	}
	var links []linkRow
	if err := s.st.DB(ctx).Where("entity_ref IN ?", refs).Order("runbook_id").Limit(MaxPage * len(refs)).Find(&links).Error; err != nil {
		return nil, store.Translate(err, "runbook links")
	}
	ids := make([]int64, 0, len(links))
	for _, l := range links {
		ids = append(ids, l.RunbookID)
	}
	rbs, err := s.byIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, l := range links {
		if rb, ok := rbs[l.RunbookID]; ok {
			out[l.EntityRef] = append(out[l.EntityRef], rb)
		}
	}
	return out, nil
}

// byIDs reads runbooks with their links, by ID.
func (s *records) byIDs(ctx context.Context, ids []int64) (map[int64]Runbook, error) {
	out := map[int64]Runbook{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []runbookRow
	if err := s.rows(ctx).Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return nil, store.Translate(err, "runbooks")
	}
	links, err := s.links(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i := range rows {
		out[rows[i].ID] = rows[i].toRunbook(links[rows[i].ID])
	}
	return out, nil
}

// Filter narrows a list of runbooks.
type Filter struct {
	// Query matches titles containing it, case-insensitively.
	Query string
	// Text matches runbooks whose title and text hold every word of it, each as the start of a
	// word (as the catalog's text search matches entities).
	Text string
	// Entity narrows to the runbooks linked to one entity (a canonical ref).
	Entity string
	Kind   Kind
}

// Page is a page of runbooks, by ID.
type Page struct {
	Runbooks    []Runbook
	Cursors     []string
	TotalCount  int64
	HasNextPage bool
}

// likeEscape escapes LIKE's wildcards, so a query matches itself.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// list returns a page of runbooks, oldest first.
func (s *records) list(ctx context.Context, f Filter, first int, after string) (*Page, error) {
	db := s.rows(ctx)
	if f.Text != "" {
		if s.st.Dialect() == store.Postgres {
			q, _ := words.TSQuery(f.Text)
			db = db.Where("search @@ to_tsquery('simple', ?)", q)
		} else {
			match, _ := words.FTS5Match(f.Text)
			db = db.Where("id IN (SELECT rowid FROM runbooks_fts WHERE runbooks_fts MATCH ?)", match)
		}
	}
	if f.Query != "" {
		db = db.Where(`LOWER(title) LIKE ? ESCAPE '\'`, "%"+likeEscape(strings.ToLower(f.Query))+"%")
	}
	if f.Kind != "" {
		db = db.Where("kind = ?", string(f.Kind))
	}
	if f.Entity != "" {
		db = db.Where("id IN (?)", s.st.DB(ctx).Model(&linkRow{}).Select("runbook_id").Where("entity_ref = ?", f.Entity))
	}
	page := &Page{Runbooks: []Runbook{}, Cursors: []string{}}
	if err := db.Session(&gorm.Session{}).Count(&page.TotalCount).Error; err != nil {
		return nil, store.Translate(err, "runbooks")
	}
	if after != "" {
		id, err := idcursor.Decode("runbook", after)
		if err != nil {
			return nil, err
		}
		db = db.Where("id > ?", id)
	}
	var rows []runbookRow
	if err := db.Order("id").Limit(first + 1).Find(&rows).Error; err != nil {
		return nil, store.Translate(err, "runbooks")
	}
	if len(rows) > first {
		page.HasNextPage, rows = true, rows[:first]
	}
	ids := make([]int64, len(rows))
	for i := range rows {
		ids[i] = rows[i].ID
	}
	links, err := s.links(ctx, ids)
	if err != nil {
		return nil, err
	}
	for i := range rows {
		page.Runbooks = append(page.Runbooks, rows[i].toRunbook(links[rows[i].ID]))
		page.Cursors = append(page.Cursors, idcursor.Encode("runbook", rows[i].ID))
	}
	return page, nil
}

// linkURLs returns up to limit URLs of LINK runbooks, for the link check.
func (s *records) linkURLs(ctx context.Context, limit int) ([]string, error) {
	var urls []string
	err := s.st.DB(ctx).Model(&runbookRow{}).Where("kind = ?", string(Link)).Distinct("url").Order("url").Limit(limit).Pluck("url", &urls).Error
	return urls, store.Translate(err, "runbook URLs")
}

// saveCheck records a link check's answer.
func (s *records) saveCheck(ctx context.Context, c LinkStatus) error {
	row := checkRow{URL: c.URL, Status: string(c.State), HTTPStatus: c.HTTPStatus, Message: c.Message, CheckedAt: c.CheckedAt}
	err := s.st.DB(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "url"}},
		DoUpdates: clause.AssignmentColumns([]string{"status", "http_status", "message", "checked_at"})}).Create(&row).Error
	return store.Translate(err, "link check of "+clip(c.URL, 80))
}

// checks reads the last answers for urls, by URL.
func (s *records) checks(ctx context.Context, urls []string) (map[string]LinkStatus, error) {
	out := map[string]LinkStatus{}
	if len(urls) == 0 {
		return out, nil
	}
	var rows []checkRow
	if err := s.st.DB(ctx).Where("url IN ?", urls).Find(&rows).Error; err != nil {
		return nil, store.Translate(err, "link checks")
	}
	for _, r := range rows {
		out[r.URL] = LinkStatus{URL: r.URL, State: LinkState(r.Status), HTTPStatus: r.HTTPStatus, Message: r.Message, CheckedAt: r.CheckedAt.UTC()}
	}
	return out, nil
}

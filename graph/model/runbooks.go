package model

import (
	"time"

	"github.com/portside-dev/portside/runbooks"
)

// Runbook is a runbook kept in Portside; html, versions, diff, linked entities and the link
// status are resolved on demand from Domain.
type Runbook struct {
	ID         string
	Title      string
	Kind       RunbookKind
	URL        *string
	Markdown   *string
	Version    int
	LinkedRefs []string
	CreatedBy  string
	CreatedAt  time.Time
	UpdatedBy  string
	UpdatedAt  time.Time
	// Domain is the runbook the fields were read from.
	Domain runbooks.Runbook `json:"-"`
}

// NewRunbook converts a runbook.
func NewRunbook(rb runbooks.Runbook) *Runbook {
	out := &Runbook{ID: EncodeNumericID("Runbook", rb.ID), Title: rb.Title, Kind: RunbookKind(rb.Kind), URL: optional(rb.URL),
		Version: rb.Version, LinkedRefs: nonNil(rb.Links), CreatedBy: rb.CreatedBy, CreatedAt: rb.CreatedAt, UpdatedBy: rb.UpdatedBy,
		UpdatedAt: rb.UpdatedAt, Domain: rb}
	if rb.Kind == runbooks.Markdown {
		m := rb.Markdown
		out.Markdown = &m
	}
	return out
}

// NewRunbooks converts a list of runbooks.
func NewRunbooks(list []runbooks.Runbook) []*Runbook {
	out := make([]*Runbook, len(list))
	for i, rb := range list {
		out[i] = NewRunbook(rb)
	}
	return out
}

// NewRunbookVersion converts a version.
func NewRunbookVersion(v runbooks.Version) *RunbookVersion {
	out := &RunbookVersion{Version: v.Number, Title: v.Title, URL: optional(v.URL), Author: v.Author, Message: v.Message, CreatedAt: v.CreatedAt}
	if v.URL == "" {
		m := v.Markdown
		out.Markdown = &m
	}
	return out
}

// NewRunbookConnection converts a page of runbooks.
func NewRunbookConnection(p *runbooks.Page) *RunbookConnection {
	c := &RunbookConnection{Nodes: []*Runbook{}, Edges: []*RunbookEdge{}, TotalCount: int(p.TotalCount), PageInfo: pageInfo(p.Cursors, p.HasNextPage)}
	for i, rb := range p.Runbooks {
		n := NewRunbook(rb)
		c.Nodes = append(c.Nodes, n)
		c.Edges = append(c.Edges, &RunbookEdge{Cursor: p.Cursors[i], Node: n})
	}
	return c
}

// NewLinkStatus converts the link check's answer.
func NewLinkStatus(s runbooks.LinkStatus) *LinkStatus {
	out := &LinkStatus{State: LinkState(s.State), Message: optional(s.Message)}
	if out.State == "" {
		out.State = LinkStateUnknown
	}
	if s.HTTPStatus != 0 {
		code := s.HTTPStatus
		out.HTTPStatus = &code
	}
	if !s.CheckedAt.IsZero() {
		at := s.CheckedAt
		out.CheckedAt = &at
	}
	return out
}

// NewCatalogLinks converts the links a catalog entry declares.
func NewCatalogLinks(list []runbooks.EntityLink) []*CatalogLink {
	out := make([]*CatalogLink, len(list))
	for i, l := range list {
		out[i] = &CatalogLink{Kind: CatalogLinkKind(l.Kind), Title: l.Title, URL: l.URL, Template: l.Template, Source: l.Source,
			Missing: nonNil(l.Missing), Status: NewLinkStatus(l.Status)}
	}
	return out
}

// NewGrafanaAnnotations converts the Grafana annotations; nil when there are none.
func NewGrafanaAnnotations(g runbooks.Grafana) *GrafanaAnnotations {
	if g.DashboardSelector == "" && g.AlertLabelSelector == "" {
		return nil
	}
	return &GrafanaAnnotations{DashboardSelector: optional(g.DashboardSelector), AlertLabelSelector: optional(g.AlertLabelSelector)}
}

// Filter converts the runbook filter.
func (f *RunbookFilter) Filter() runbooks.Filter {
	if f == nil {
		return runbooks.Filter{}
	}
	out := runbooks.Filter{Text: orEmpty(f.Text), Query: orEmpty(f.Query), Entity: orEmpty(f.Entity)}
	if f.Kind != nil {
		out.Kind = runbooks.Kind(*f.Kind)
	}
	return out
}

// SearchResults is the answer of Query.search: its parts are resolved (and paged) on their own.
type SearchResults struct {
	Text string
}

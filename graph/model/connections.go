package model

import (
	"context"
	"time"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/errs"
)

// EntityConnection is one page of entities plus what is needed to count them all on demand.
type EntityConnection struct {
	svc    *catalog.Service
	filter catalog.Filter
	page   catalog.Page
	nodes  []Entity
}

// NewEntityConnection wraps a page found with filter. A page of summaries
// (catalog.Query.Summaries) forms a partial cohort (Cohort.Partial).
func NewEntityConnection(svc *catalog.Service, filter catalog.Filter, page catalog.Page) *EntityConnection {
	c := NewCohort(svc, page.Entities)
	c.partial = page.Summaries
	return &EntityConnection{svc: svc, filter: filter, page: page, nodes: wrapCohort(c, page.Entities)}
}

// Nodes are the page's entities.
func (c *EntityConnection) Nodes() []Entity { return c.nodes }

// Edges pair each entity with its cursor.
func (c *EntityConnection) Edges() []*EntityEdge {
	out := make([]*EntityEdge, len(c.nodes))
	for i, n := range c.nodes {
		out[i] = &EntityEdge{Cursor: c.page.Cursor(i), Node: n}
	}
	return out
}

// PageInfo says where the page stands.
func (c *EntityConnection) PageInfo() *PageInfo {
	p := &PageInfo{HasNextPage: c.page.HasNextPage}
	if n := len(c.page.Entities); n > 0 {
		start, end := c.page.Cursor(0), c.page.Cursor(n-1)
		p.StartCursor, p.EndCursor = &start, &end
	}
	return p
}

// TotalCount counts every match: the page's statement did when the query asked
// (catalog.Query.Count), else it costs a statement of its own, so it runs only when asked for.
func (c *EntityConnection) TotalCount(ctx context.Context) (int, error) {
	if c.page.Counted {
		return c.page.Total, nil
	}
	return c.svc.Count(ctx, c.filter)
}

func pageInfo(cursors []string, hasNext bool) *PageInfo {
	p := &PageInfo{HasNextPage: hasNext}
	if len(cursors) > 0 {
		p.StartCursor, p.EndCursor = &cursors[0], &cursors[len(cursors)-1]
	}
	return p
}

// Location is a registered location, with the errors of its last refresh loaded on demand.
type Location struct {
	catalog.Location
	svc *catalog.Service
	// errors, when known already (a refresh just returned them).
	errors []backstage.ValidationError
	known  bool
}

// NewLocation wraps a location.
func NewLocation(svc *catalog.Service, l catalog.Location) *Location {
	return &Location{Location: l, svc: svc}
}

func (l *Location) IsNode() {}

// ID is the location's global ID.
func (l *Location) ID() string { return EncodeNumericID("Location", l.Location.ID) }

// Type is the location type as a GraphQL enum.
func (l *Location) Type() LocationType { return LocationType(upper(string(l.Location.Type))) }

// Status is the refresh status as a GraphQL enum.
func (l *Location) Status() LocationStatus { return LocationStatus(upper(string(l.Location.Status))) }

func (l *Location) Ref() *string      { return optional(l.LocationSpec.Ref) }
func (l *Location) Path() *string     { return optional(l.LocationSpec.Path) }
func (l *Location) Message() *string  { return optional(l.Location.Message) }
func (l *Location) Revision() *string { return optional(l.Location.Revision) }
func (l *Location) CreatedAt() time.Time {
	return l.Location.CreatedAt
}

// Errors are the first problems the last refresh found, at most first (1..catalog.MaxPageSize,
// 100 when nil); ErrorCount counts them all.
func (l *Location) Errors(ctx context.Context, first *int) ([]*LocationError, error) {
	n := 100
	if first != nil {
		n = *first
	}
	if n < 1 || n > catalog.MaxPageSize {
		return nil, errs.InvalidField("first", "must be between 1 and %d, got %d", catalog.MaxPageSize, n)
	}
	if l.known {
		return LocationErrors(l.errors[:min(n, len(l.errors))]), nil
	}
	got, err := l.svc.LocationErrors(ctx, l.Location.ID, n)
	if err != nil {
		return nil, err
	}
	return LocationErrors(got), nil
}

// LocationErrors converts validation errors for GraphQL.
func LocationErrors(list []backstage.ValidationError) []*LocationError {
	out := make([]*LocationError, len(list))
	for i, e := range list {
		le := &LocationError{Source: e.Source, Field: optional(e.Field), EntityRef: optional(e.Ref), Message: e.Message}
		if e.Document > 0 {
			le.Document = &e.Document
		}
		if e.Line > 0 {
			le.Line = &e.Line
		}
		out[i] = le
	}
	return out
}

// NewRefreshPayload reports a refresh.
func NewRefreshPayload(svc *catalog.Service, r *catalog.RefreshResult) *RefreshLocationPayload {
	loc := NewLocation(svc, r.Location)
	loc.errors, loc.known = r.Errors, true
	return &RefreshLocationPayload{
		Location: loc, Unchanged: r.Unchanged, Added: r.Added, Updated: r.Updated, Removed: r.Removed,
		Errors: LocationErrors(r.Errors),
	}
}

// LocationConnection is a page of locations. Locations are few; the page is cut from the full list
// with the location ID as cursor.
type LocationConnection struct {
	list    []*Location
	hasNext bool
	total   int
}

// NewLocationConnection pages all (ordered by ID) after the cursor.
func NewLocationConnection(svc *catalog.Service, all []catalog.Location, first int, after string) (*LocationConnection, error) {
	var afterID int64
	if after != "" {
		// A cursor is a location's ID; another type's ID would page from an unrelated number.
		id, err := NumericID("after", "Location", after)
		if err != nil {
			return nil, errs.InvalidField("after", "is not a location cursor")
		}
		afterID = id
	}
	if first < 1 || first > catalog.MaxPageSize {
		return nil, errs.InvalidField("first", "must be between 1 and %d, got %d", catalog.MaxPageSize, first)
	}
	c := &LocationConnection{total: len(all)}
	for _, l := range all {
		if l.ID <= afterID {
			continue
		}
		if len(c.list) == first {
			c.hasNext = true
			break
		}
		c.list = append(c.list, NewLocation(svc, l))
	}
	return c, nil
}

func (c *LocationConnection) Nodes() []*Location { return c.list }
func (c *LocationConnection) TotalCount() int    { return c.total }

func (c *LocationConnection) Edges() []*LocationEdge {
	out := make([]*LocationEdge, len(c.list))
	for i, l := range c.list {
		out[i] = &LocationEdge{Cursor: l.ID(), Node: l}
	}
	return out
}

func (c *LocationConnection) PageInfo() *PageInfo {
	cursors := make([]string, len(c.list))
	for i, l := range c.list {
		cursors[i] = l.ID()
	}
	return pageInfo(cursors, c.hasNext)
}

// Relation is an edge from an entity (which knows its cohort, so targets load in batches).
type Relation struct {
	From      Entity
	Type      string
	TargetRef string
	target    backstage.Ref
}

// NewRelation wraps a relation of from.
func NewRelation(from Entity, r backstage.Relation) *Relation {
	return &Relation{From: from, Type: r.Type, TargetRef: r.Target.String(), target: r.Target}
}

// To is the relation's target ref.
func (r *Relation) To() backstage.Ref { return r.target }

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

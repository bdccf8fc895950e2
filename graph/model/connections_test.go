package model_test

import (
	"context"
	"slices"
	"testing"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/graph/model"
)

func entity(kind, name string) *backstage.Entity {
	return &backstage.Entity{Kind: kind, Ref: backstage.Ref{Kind: kind, Namespace: "default", Name: name}}
}

func TestAnEntityPagePairsEachEntityWithItsCursor(t *testing.T) {
	page := catalog.NewPage(
		[]*backstage.Entity{entity(backstage.KindComponent, "a"), entity(backstage.KindGroup, "b"), entity(backstage.KindLocation, "c")},
		[][]string{{"a", "component:default/a"}, {"b", "group:default/b"}, {"c", "location:default/c"}}, true)
	cursors := page.Cursors()
	if len(cursors) != 3 || cursors[0] == cursors[1] || cursors[1] == cursors[2] {
		t.Fatalf("cursors %q; want three, each its own", cursors)
	}
	c := model.NewEntityConnection(nil, catalog.Filter{}, page)
	edges := c.Edges()
	if len(edges) != 3 || len(c.Nodes()) != 3 {
		t.Fatalf("%d edges and %d nodes; want 3 of each", len(edges), len(c.Nodes()))
	}
	for i, e := range edges {
		if e.Cursor != cursors[i] || e.Node.Value() != page.Entities[i] || c.Nodes()[i] != e.Node {
			t.Errorf("edge %d: cursor %q, entity %v; want %q and the page's entity %d", i, e.Cursor, e.Node.Value().Ref, cursors[i], i)
		}
	}
	// Each entity is wrapped as its kind's GraphQL type; the Location kind as LocationEntity.
	if _, ok := edges[0].Node.(*model.Component); !ok {
		t.Errorf("a Component is wrapped as %T", edges[0].Node)
	}
	if _, ok := edges[1].Node.(*model.Group); !ok {
		t.Errorf("a Group is wrapped as %T", edges[1].Node)
	}
	if _, ok := edges[2].Node.(*model.LocationEntity); !ok {
		t.Errorf("a Location entity is wrapped as %T", edges[2].Node)
	}
	pi := c.PageInfo()
	if !pi.HasNextPage || pi.StartCursor == nil || *pi.StartCursor != cursors[0] || pi.EndCursor == nil || *pi.EndCursor != cursors[2] {
		t.Errorf("page info %+v; want the first and last cursors and a next page", pi)
	}
}

func TestAnEmptyEntityPageHasNoCursors(t *testing.T) {
	c := model.NewEntityConnection(nil, catalog.Filter{}, catalog.Page{})
	if pi := c.PageInfo(); pi.HasNextPage || pi.StartCursor != nil || pi.EndCursor != nil {
		t.Errorf("page info of an empty page: %+v; want no cursors and no next page", pi)
	}
	if c.Edges() == nil || len(c.Edges()) != 0 || c.Nodes() == nil || len(c.Nodes()) != 0 {
		t.Errorf("edges %v, nodes %v; want empty lists, not null", c.Edges(), c.Nodes())
	}
}

// locations are registered locations with gaps in their IDs, as deletions leave them.
var locations = []catalog.Location{{ID: 2}, {ID: 5}, {ID: 9}, {ID: 12}}

func locationID(n int64) string { return model.EncodeNumericID("Location", n) }

func TestLocationsArePagedAfterTheCursorInIDOrder(t *testing.T) {
	tests := []struct {
		name     string
		first    int
		after    string
		want     []int64
		wantNext bool
	}{
		{"the first page", 2, "", []int64{2, 5}, true},
		{"a page that holds them all", 10, "", []int64{2, 5, 9, 12}, false},
		{"a page exactly as large as the list", 4, "", []int64{2, 5, 9, 12}, false},
		{"the page after a cursor", 2, locationID(5), []int64{9, 12}, false},
		{"after a location since deleted", 1, locationID(6), []int64{9}, true},
		{"after the last", 2, locationID(12), nil, false},
		{"after one beyond the last", 2, locationID(99), nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := model.NewLocationConnection(nil, locations, tt.first, tt.after)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, l := range c.Nodes() {
				got = append(got, l.Location.ID)
			}
			if !slices.Equal(got, tt.want) || c.PageInfo().HasNextPage != tt.wantNext {
				t.Errorf("page %v, next page %v; want %v, %v", got, c.PageInfo().HasNextPage, tt.want, tt.wantNext)
			}
			if c.TotalCount() != len(locations) {
				t.Errorf("total count %d; want every location, %d", c.TotalCount(), len(locations))
			}
			// The cursor of an edge is its location's ID, so a cursor pages on from there.
			for i, e := range c.Edges() {
				if e.Cursor != locationID(tt.want[i]) || e.Node.ID() != e.Cursor {
					t.Errorf("edge %d: cursor %q, node %q; want both %q", i, e.Cursor, e.Node.ID(), locationID(tt.want[i]))
				}
			}
			pi := c.PageInfo()
			if len(tt.want) == 0 {
				if pi.StartCursor != nil || pi.EndCursor != nil {
					t.Errorf("an empty page has cursors %v..%v", *pi.StartCursor, *pi.EndCursor)
				}
			} else if *pi.StartCursor != locationID(tt.want[0]) || *pi.EndCursor != locationID(tt.want[len(tt.want)-1]) {
				t.Errorf("page info %q..%q; want the first and last location's IDs", *pi.StartCursor, *pi.EndCursor)
			}
		})
	}
}

func TestALocationPageOutOfBoundsOrAfterAForeignCursorIsInvalid(t *testing.T) {
	tests := []struct {
		name, after string
		first       int
		field       string
	}{
		{"no location asked for", "", 0, "first"},
		{"a negative page size", "", -1, "first"},
		{"more than the largest page", "", catalog.MaxPageSize + 1, "first"},
		{"a cursor that is not an ID", "garbage", 10, "after"},
		{"an entity's ID", model.EncodeID("Component", "component:default/a"), 10, "after"},
		{"an API token's ID", model.EncodeNumericID("ApiToken", 5), 10, "after"},
		{"a location key that is not a number", raw("Location:five"), 10, "after"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := model.NewLocationConnection(nil, locations, tt.first, tt.after)
			if !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != tt.field || c != nil {
				t.Errorf("NewLocationConnection(first %d, after %q) = %v, %v; want INVALID naming %s", tt.first, tt.after, c, err, tt.field)
			}
		})
	}
	if _, err := model.NewLocationConnection(nil, locations, catalog.MaxPageSize, ""); err != nil {
		t.Errorf("the largest page: %v", err)
	}
}

func TestALocationShowsItsTypeAndStatusAsGraphQLEnums(t *testing.T) {
	types := map[catalog.LocationType]model.LocationType{
		catalog.LocationFile: model.LocationTypeFile, catalog.LocationURL: model.LocationTypeURL,
		catalog.LocationGit: model.LocationTypeGit, catalog.LocationEmbedded: model.LocationTypeEmbedded,
	}
	for _, typ := range catalog.LocationTypes {
		got := model.NewLocation(nil, catalog.Location{LocationSpec: catalog.LocationSpec{Type: typ}}).Type()
		if got != types[typ] || !got.IsValid() {
			t.Errorf("location type %q shows as %q; want %q", typ, got, types[typ])
		}
	}
	statuses := map[catalog.LocationStatus]model.LocationStatus{
		catalog.StatusPending: model.LocationStatusPending, catalog.StatusOK: model.LocationStatusOk,
		catalog.StatusInvalid: model.LocationStatusInvalid, catalog.StatusFailed: model.LocationStatusFailed,
	}
	for status, want := range statuses {
		if got := model.NewLocation(nil, catalog.Location{Status: status}).Status(); got != want || !got.IsValid() {
			t.Errorf("location status %q shows as %q; want %q", status, got, want)
		}
	}
}

func TestALocationShowsAbsentOptionalFieldsAsNull(t *testing.T) {
	bare := model.NewLocation(nil, catalog.Location{ID: 1})
	if bare.Ref() != nil || bare.Path() != nil || bare.Message() != nil || bare.Revision() != nil {
		t.Errorf("a location without ref, path, message or revision shows %v %v %v %v; want all null", bare.Ref(), bare.Path(), bare.Message(), bare.Revision())
	}
	full := model.NewLocation(nil, catalog.Location{ID: 1, LocationSpec: catalog.LocationSpec{Ref: "main", Path: "services/*"},
		Message: "unreachable", Revision: "abc123"})
	for field, got := range map[string]*string{"ref": full.Ref(), "path": full.Path(), "message": full.Message(), "revision": full.Revision()} {
		want := map[string]string{"ref": "main", "path": "services/*", "message": "unreachable", "revision": "abc123"}[field]
		if got == nil || *got != want {
			t.Errorf("%s shows %v; want %q", field, got, want)
		}
	}
}

func TestValidationErrorsShowUnknownPartsAsNull(t *testing.T) {
	got := model.LocationErrors([]backstage.ValidationError{
		{Source: "a.yaml", Document: 2, Line: 14, Field: "spec.owner", Ref: "component:default/a", Message: "expected a ref"},
		{Source: "b.yaml", Message: "not YAML"},
	})
	if len(got) != 2 {
		t.Fatalf("%d errors; want 2", len(got))
	}
	full := got[0]
	if full.Source != "a.yaml" || full.Message != "expected a ref" || full.Document == nil || *full.Document != 2 ||
		full.Line == nil || *full.Line != 14 || full.Field == nil || *full.Field != "spec.owner" ||
		full.EntityRef == nil || *full.EntityRef != "component:default/a" {
		t.Errorf("a located error shows %+v; want every part", full)
	}
	whole := got[1]
	if whole.Source != "b.yaml" || whole.Message != "not YAML" || whole.Document != nil || whole.Line != nil || whole.Field != nil || whole.EntityRef != nil {
		t.Errorf("an error about a whole file shows %+v; want source and message, the rest null", whole)
	}
	if l := model.LocationErrors(nil); l == nil || len(l) != 0 {
		t.Errorf("no errors show as %v; want an empty list, not null", l)
	}
}

// A refresh's payload carries the errors it found, so its location answers errors without a query.
func TestARefreshPayloadAnswersItsLocationsErrorsFromTheRefresh(t *testing.T) {
	found := make([]backstage.ValidationError, 150)
	for i := range found {
		found[i] = backstage.ValidationError{Source: "a.yaml", Document: i + 1, Message: "bad"}
	}
	p := model.NewRefreshPayload(nil, &catalog.RefreshResult{Location: catalog.Location{ID: 3}, Added: 1, Updated: 2, Removed: 4, Errors: found})
	if p.Location.ID() != locationID(3) || p.Added != 1 || p.Updated != 2 || p.Removed != 4 || len(p.Errors) != len(found) {
		t.Errorf("payload %+v; want location 3, counts 1/2/4 and every error", p)
	}
	ctx := context.Background()
	ten := 10
	tests := []struct {
		name  string
		first *int
		want  int
	}{
		{"the default", nil, 100},
		{"a few", &ten, 10},
		{"more than there are", ptr(catalog.MaxPageSize), len(found)},
	}
	for _, tt := range tests {
		got, err := p.Location.Errors(ctx, tt.first) // a nil service: any query would panic
		if err != nil || len(got) != tt.want || *got[0].Document != 1 {
			t.Errorf("%s: %d errors from document %v, %v; want the first %d", tt.name, len(got), got[0].Document, err, tt.want)
		}
	}
	for _, n := range []int{0, -1, catalog.MaxPageSize + 1} {
		if got, err := p.Location.Errors(ctx, &n); !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != "first" {
			t.Errorf("errors(first: %d) = %d errors, %v; want INVALID naming first", n, len(got), err)
		}
	}
}

func TestARelationShowsItsTargetAsACanonicalRef(t *testing.T) {
	from := model.WrapEntity(entity(backstage.KindComponent, "a"), nil)
	target := backstage.Ref{Kind: "Group", Namespace: "default", Name: "team-a"}
	r := model.NewRelation(from, backstage.Relation{Type: backstage.RelOwnedBy, Target: target})
	if r.From != from || r.Type != "ownedBy" || r.TargetRef != "Group:default/team-a" || r.To() != target {
		t.Errorf("relation %+v to %v; want ownedBy Group:default/team-a from a", r, r.To())
	}
}

func ptr[T any](v T) *T { return &v }

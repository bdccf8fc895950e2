package graph_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/client"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/sources"
	"github.com/portside-dev/portside/graph"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// Location.errors used to answer every stored error, unweighed: three aliases of a large list
// answered 131 MB to one viewer. It is now a bounded page, weighed like other pages.
func TestLocationErrorsArePagedAndWeighed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		svc := catalog.NewService(st, catalog.Options{
			Readers: map[catalog.LocationType]catalog.Reader{catalog.LocationFile: &sources.Files{}},
			Logger:  slog.New(slog.DiscardHandler),
		})
		h := graph.NewHandler(&graph.Resolver{Catalog: svc}, graph.HandlerOptions{
			MaxDepth: 12, MaxComplexity: 250, Logger: slog.New(slog.DiscardHandler),
		})
		a := &api{t: t, st: st, svc: svc, c: client.New(signedIn(h))}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "catalog-info.yaml"), []byte(strings.Repeat("---\n[]\n", 150)), 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := svc.RegisterLocation(operator, catalog.LocationSpec{Type: catalog.LocationFile, Target: dir})
		if err != nil {
			t.Fatal(err)
		}
		id := res.Location.ID
		gid := graphID(t, a, id)

		var got struct {
			Location struct {
				ErrorCount int
				Errors     []struct{ Message string }
				Three      []struct{ Message string }
			}
		}
		a.query(&got, `query($id: ID!) { location(id: $id) { errorCount errors { message } three: errors(first: 3) { message } } }`,
			client.Var("id", gid))
		if got.Location.ErrorCount != 150 || len(got.Location.Errors) != 100 || len(got.Location.Three) != 3 {
			t.Errorf("errorCount %d, errors %d (want 100 by default), errors(first: 3) %d",
				got.Location.ErrorCount, len(got.Location.Errors), len(got.Location.Three))
		}

		tests := []struct {
			name, query, code, reason string
		}{
			{"first above the page bound", `query($id: ID!) { location(id: $id) { errors(first: 501) { message } } }`, "INVALID", ""},
			{"aliases of the default page add up", `query($id: ID!) { location(id: $id) {
				a: errors { source message } b: errors { source message } c: errors { source message } } }`, "INVALID", "COMPLEXITY_LIMIT_EXCEEDED"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				list := a.errorsOf(tt.query, client.Var("id", gid))
				if list[0].Extensions["code"] != tt.code || (tt.reason != "" && list[0].Extensions["reason"] != tt.reason) {
					t.Errorf("errors = %+v, want code %s reason %q", list, tt.code, tt.reason)
				}
			})
		}
	})
}

// graphID finds a location's global ID through the API.
func graphID(t *testing.T, a *api, id int64) string {
	t.Helper()
	var list struct {
		Locations struct{ Nodes []struct{ ID string } }
	}
	a.query(&list, `{ locations { nodes { id } } }`)
	if len(list.Locations.Nodes) != 1 {
		t.Fatalf("locations: %+v (want location %d only)", list, id)
	}
	return list.Locations.Nodes[0].ID
}

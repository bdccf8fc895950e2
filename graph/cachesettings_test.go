package graph_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/99designs/gqlgen/client"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/store/storetest"
)

// The entity read cache and the response cache are set apart (catalog-cache-size and
// response-cache-size): either works without the other.
func TestResponseCacheWorksWithTheEntityCacheOff(t *testing.T) {
	st := storetest.SQLite(t)
	a := newAPIWith(t, st, 0, 100)
	dir := t.TempDir()
	file := filepath.Join(dir, "catalog-info.yaml")
	write := func(description string) {
		doc := "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: team}\nspec: {type: team, children: []}\n---\n" +
			"apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: svc, description: " + description + "}\n" +
			"spec: {type: service, lifecycle: production, owner: team}\n"
		if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("first")
	res, err := a.svc.RegisterLocation(operator, catalog.LocationSpec{Type: catalog.LocationFile, Target: dir})
	if err != nil {
		t.Fatal(err)
	}
	ask := func() string {
		var resp described
		a.query(&resp, cachedQuery, client.Var("ref", "component:svc"))
		if resp.Entity == nil || resp.Entity.Description == nil {
			t.Fatalf("no entity in %+v", resp)
		}
		return *resp.Entity.Description
	}
	counter := storetest.CountStatements(st.Gorm())
	if got := ask(); got != "first" {
		t.Fatalf("first answer: %q", got)
	}
	counter.Reset()
	if got := ask(); got != "first" {
		t.Fatalf("repeated answer: %q", got)
	}
	if n := counter.Reset(); n != 0 {
		t.Errorf("with catalog-cache-size 0 and a response cache, a repeated query ran %d statements; want it answered from the response cache", n)
	}
	// The catalog's generation is still followed: a change retires the cached answer.
	write("second")
	if _, err := a.svc.Refresh(operator, res.Location.ID); err != nil {
		t.Fatal(err)
	}
	if got := ask(); got != "second" {
		t.Errorf("after a refresh: %q, want the new description", got)
	}
}

// With the response cache off, every request runs its query, against the entity cache.
func TestEntityCacheWorksWithTheResponseCacheOff(t *testing.T) {
	st := storetest.SQLite(t)
	a := newAPIWith(t, st, 1000, 0).withDemo()
	var resp described
	a.query(&resp, cachedQuery, client.Var("ref", "component:payments-api"))
	if resp.Entity == nil {
		t.Fatal("payments-api not found")
	}
	counter := storetest.CountStatements(st.Gorm())
	a.query(&resp, cachedQuery, client.Var("ref", "component:payments-api"))
	if n := counter.Reset(); n > 1 {
		t.Errorf("a repeated entity query ran %d statements with a warm entity cache; want at most the generation check", n)
	}
}

package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/catalog/sources"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/bus/pgbus/pgbustest"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// fixture is a catalog service on a fresh database plus a directory to write catalog files into.
type fixture struct {
	t   *testing.T
	st  *store.Store
	svc *catalog.Service
	dir string
	now time.Time
}

// operator acts with the CLI's authority: these tests are about the catalog, not who may change it.
var operator = principal.With(context.Background(), principal.System("test", principal.ClientCLI))

func newFixture(t *testing.T, st *store.Store) *fixture {
	f := &fixture{t: t, st: st, dir: t.TempDir(), now: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
	f.svc = f.service(catalog.Options{CacheSize: 1000})
	return f
}

func (f *fixture) service(opts catalog.Options) *catalog.Service {
	opts.Readers = map[catalog.LocationType]catalog.Reader{
		catalog.LocationFile: &sources.Files{},
		catalog.LocationURL:  &sources.URLs{},
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return f.now }
	}
	opts.Logger = slog.New(slog.DiscardHandler)
	return catalog.NewService(f.st, opts)
}

// write puts a file into the fixture's directory.
func (f *fixture) write(name, content string) string {
	f.t.Helper()
	p := filepath.Join(f.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(strings.TrimLeft(content, "\n")), 0o644); err != nil {
		f.t.Fatal(err)
	}
	return p
}

func (f *fixture) register(target string) *catalog.RefreshResult {
	f.t.Helper()
	res, err := f.svc.RegisterLocation(operator, catalog.LocationSpec{Type: catalog.LocationFile, Target: target})
	if err != nil {
		f.t.Fatalf("register %s: %v", target, err)
	}
	return res
}

func (f *fixture) refresh(id int64) *catalog.RefreshResult {
	f.t.Helper()
	res, err := f.svc.Refresh(operator, id)
	if err != nil {
		f.t.Fatalf("refresh %d: %v", id, err)
	}
	return res
}

func (f *fixture) entity(ref string) *backstage.Entity {
	f.t.Helper()
	e, err := f.svc.Entity(operator, backstage.MustParseRef(ref))
	if err != nil {
		f.t.Fatalf("entity %s: %v", ref, err)
	}
	return e
}

func (f *fixture) absent(ref string) {
	f.t.Helper()
	_, err := f.svc.Entity(operator, backstage.MustParseRef(ref))
	if !errs.Is(err, errs.NotFound) {
		f.t.Fatalf("entity %s: want NOT_FOUND, got %v", ref, err)
	}
}

func relationsOf(e *backstage.Entity) []string {
	var out []string
	for _, r := range e.Relations {
		out = append(out, r.Type+" "+r.Target.String())
	}
	return out
}

const teamA = `
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-a
spec:
  type: team
  children: []
`

const paymentsAPI = `
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments-api
  title: Payments API
  description: Takes card payments
  tags: [java, payments]
  annotations:
    argocd/app-name: payments-api
spec:
  type: service
  lifecycle: production
  owner: team-a
  system: payments
  dependsOn: [resource:payments-db]
  providesApis: [payments-rest]
`

func TestRegisterIngestsEntitiesWithRelationsInBothDirections(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.write("catalog-info.yaml", teamA+"---"+paymentsAPI)
		res := f.register(f.dir)
		if res.Added != 2 || res.Location.Status != catalog.StatusOK || res.Location.EntityCount != 2 || len(res.Errors) != 0 {
			t.Fatalf("register: %+v", res)
		}
		c := f.entity("component:default/payments-api")
		if c.Metadata.Title != "Payments API" || c.Owner.String() != "group:default/team-a" || c.Type != "service" {
			t.Errorf("component read back wrong: %+v", c)
		}
		want := []string{
			"dependsOn resource:default/payments-db",
			"ownedBy group:default/team-a",
			"partOf system:default/payments",
			"providesApi api:default/payments-rest",
		}
		if got := relationsOf(c); !slices.Equal(got, want) {
			t.Errorf("component relations\n got %q\nwant %q", got, want)
		}
		// The inverse edge is there from the group's side, although the group never declared it.
		if got := relationsOf(f.entity("group:default/team-a")); !slices.Equal(got, []string{"ownerOf component:default/payments-api"}) {
			t.Errorf("group relations: %q", got)
		}
		if c.Source != filepath.Join(f.dir, "catalog-info.yaml") || c.LocationID != res.Location.ID {
			t.Errorf("provenance: source %q location %d", c.Source, c.LocationID)
		}
	})
}

func TestRelationToMissingEntityIsKeptAndResolvesWhenTargetArrives(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.write("a/catalog-info.yaml", paymentsAPI)
		f.register(filepath.Join(f.dir, "a"))
		if _, err := f.svc.Entity(operator, backstage.MustParseRef("group:default/team-a")); !errs.Is(err, errs.NotFound) {
			t.Fatalf("team-a should not exist yet: %v", err)
		}
		if got := relationsOf(f.entity("component:default/payments-api")); !slices.Contains(got, "ownedBy group:default/team-a") {
			t.Fatalf("dangling relation not kept: %q", got)
		}
		f.write("b/catalog-info.yaml", teamA)
		f.register(filepath.Join(f.dir, "b"))
		if got := relationsOf(f.entity("group:default/team-a")); !slices.Equal(got, []string{"ownerOf component:default/payments-api"}) {
			t.Errorf("relation did not resolve from the group's side: %q", got)
		}
	})
}

func TestRefreshOfUnchangedLocationRewritesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.write("catalog-info.yaml", teamA+"---"+paymentsAPI)
		id := f.register(f.dir).Location.ID
		before := f.entity("component:default/payments-api")
		counter := storetest.CountWrites(st.Gorm())
		f.now = f.now.Add(time.Hour)
		res := f.refresh(id)
		if !res.Unchanged || res.Added+res.Updated+res.Removed != 0 {
			t.Fatalf("refresh of unchanged content: %+v", res)
		}
		// The only write is the location's own bookkeeping (when it was last checked).
		if got := counter.Tables(); !slices.Equal(got, []string{"locations"}) {
			t.Errorf("tables written by an unchanged refresh: %q, want only locations", got)
		}
		after := f.entity("component:default/payments-api")
		if !after.UpdatedAt.Equal(before.UpdatedAt) {
			t.Errorf("updated_at moved: %v -> %v", before.UpdatedAt, after.UpdatedAt)
		}
		if res.Location.RefreshedAt == nil || !res.Location.RefreshedAt.Equal(f.now) {
			t.Errorf("refreshed_at not recorded: %v", res.Location.RefreshedAt)
		}
	})
}

func TestRefreshRewritesOnlyWhatChanged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.write("catalog-info.yaml", teamA+"---"+paymentsAPI)
		id := f.register(f.dir).Location.ID
		groupBefore := f.entity("group:default/team-a")
		compBefore := f.entity("component:default/payments-api")

		f.now = f.now.Add(time.Hour)
		f.write("catalog-info.yaml", teamA+"---"+strings.Replace(paymentsAPI, "Takes card payments", "Takes card and wallet payments", 1))
		res := f.refresh(id)
		if res.Unchanged || res.Updated != 1 || res.Added != 0 || res.Removed != 0 {
			t.Fatalf("refresh: %+v", res)
		}
		comp := f.entity("component:default/payments-api")
		if comp.Metadata.Description != "Takes card and wallet payments" {
			t.Errorf("description not updated: %q", comp.Metadata.Description)
		}
		if !comp.CreatedAt.Equal(compBefore.CreatedAt) || !comp.UpdatedAt.Equal(f.now) {
			t.Errorf("changed entity: created %v (was %v), updated %v (want %v)", comp.CreatedAt, compBefore.CreatedAt, comp.UpdatedAt, f.now)
		}
		if got := f.entity("group:default/team-a"); !got.UpdatedAt.Equal(groupBefore.UpdatedAt) {
			t.Errorf("unchanged group was rewritten: updated_at %v -> %v", groupBefore.UpdatedAt, got.UpdatedAt)
		}
		if got := relationsOf(comp); len(got) != 4 {
			t.Errorf("relations after update: %q", got)
		}
	})
}

func TestEntitiesThatDisappearFromTheirLocationAreRemoved(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.write("catalog-info.yaml", teamA+"---"+paymentsAPI)
		id := f.register(f.dir).Location.ID
		f.write("catalog-info.yaml", teamA)
		res := f.refresh(id)
		if res.Removed != 1 || res.Location.EntityCount != 1 {
			t.Fatalf("refresh: %+v", res)
		}
		f.absent("component:default/payments-api")
		// Its relations went with it, from both ends.
		if got := relationsOf(f.entity("group:default/team-a")); len(got) != 0 {
			t.Errorf("group still has relations: %q", got)
		}
	})
}

// Values longer than a database index can hold are refused by the catalog, naming the field,
// before they reach the database: PostgreSQL's B-tree entries hold at most 2,704 bytes, and one
// entity's 3,000-byte owner reference (or type, lifecycle, relation target) failed the whole
// location's refresh with the database's error, as a location's 3,000-byte target failed its
// registration. The text is random so that no compression brings it under the bound.
func TestValuesNoIndexCouldHoldAreRefusedByName(t *testing.T) {
	long := testutil.RandomText
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.write("catalog-info.yaml", teamA+"---"+paymentsAPI)
		id := f.register(f.dir).Location.ID
		for _, c := range []struct{ field, from, to string }{
			{"spec.owner", "owner: team-a", "owner: group:default/" + long(3000)},
			{"spec.lifecycle", "lifecycle: production", "lifecycle: " + long(3000)},
			{"spec.type", "type: service", "type: " + long(3000)},
			{"spec.dependsOn[0]", "dependsOn: [resource:payments-db]", "dependsOn: [resource:" + long(3000) + "]"},
		} {
			f.write("catalog-info.yaml", teamA+"---"+strings.Replace(paymentsAPI, c.from, c.to, 1))
			res := f.refresh(id)
			if res.Location.Status != catalog.StatusInvalid || len(res.Errors) != 1 || res.Errors[0].Field != c.field {
				t.Fatalf("%s of 3,000 bytes: want the location invalid with one error on %s, got %+v (failure %v)", c.field, c.field, res, res.Failure)
			}
			if got := f.entity("component:default/payments-api"); got.Owner.String() != "group:default/team-a" || got.Type != "service" {
				t.Errorf("%s: the last good version was not kept: %+v", c.field, got)
			}
		}
		for _, spec := range []catalog.LocationSpec{
			{Type: catalog.LocationURL, Target: "https://example.com/" + long(3000) + ".yaml"},
			{Type: catalog.LocationFile, Target: f.dir + "/" + long(3000)},
			// 2,020 bytes as written, over 6,000 once the reader has escaped it as it is stored.
			{Type: catalog.LocationURL, Target: "https://example.com/" + strings.Repeat("é", 1000)},
		} {
			_, err := f.svc.RegisterLocation(operator, spec)
			var e *errs.Error
			if !errors.As(err, &e) || e.Code != errs.Invalid || e.Field != "target" || !strings.Contains(e.Message, "at most 2048") {
				t.Errorf("register a %s location of a %d-byte target: want INVALID on target, got %v", spec.Type, len(spec.Target), err)
			}
		}
	})
}

// A catalog file whose path is longer than maxSourceBytes (2,600 bytes) is reported and not
// read, and the location's other files apply: its entities would record a path no index entry
// holds, and on PostgreSQL a file 2,800 bytes deep failed the whole location's refresh.
func TestACatalogFileTooDeepToRecordIsReportedAndTheOthersApply(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.write("catalog-info.yaml", teamA)
		deep := ""
		for range 11 {
			deep = filepath.Join(deep, testutil.RandomText(250))
		}
		f.write(filepath.Join(deep, "catalog-info.yaml"), paymentsAPI)
		res := f.register(f.dir)
		if res.Location.Status != catalog.StatusInvalid || res.Added != 1 || len(res.Errors) != 1 ||
			!strings.Contains(res.Errors[0].Message, "at most 2600") || res.Errors[0].Source != filepath.Join(f.dir, deep, "catalog-info.yaml") {
			t.Fatalf("register a directory with a file %d bytes deep: %+v (failure %v)", len(deep), res, res.Failure)
		}
		f.entity("group:default/team-a")
		f.absent("component:default/payments-api")
	})
}

// An entity is searched by the words of its name, title, tags and description that fit in 256
// KiB; a description past that (a document may be 32 MiB) loses its last words to search, on
// both databases alike, and never its tags. PostgreSQL's tsvector holds at most 1 MiB: a 1.4 MB description failed
// its whole location's refresh. The text here is the tsvector's worst case, distinct words of
// three letters then four (the most entry per byte of text), past the bound.
func TestAnEntityOfMoreTextThanSearchHoldsIsSearchedByItsFirstWords(t *testing.T) {
	var desc strings.Builder
	const letters = "abcdefghijklmnopqrstuvwxyz"
	for i := 0; desc.Len() < 300<<10; i++ {
		w := []byte{letters[i/676%26], letters[i/26%26], letters[i%26]}
		if i >= 26*26*26 {
			j := i - 26*26*26
			w = []byte{letters[j/17576%26], letters[j/676%26], letters[j/26%26], letters[j%26]}
		}
		desc.Write(w)
		desc.WriteByte(' ')
	}
	desc.WriteString("lastword")
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.write("catalog-info.yaml", teamA+"---"+strings.Replace(paymentsAPI, "description: Takes card payments", "description: "+desc.String(), 1))
		res := f.register(f.dir)
		if res.Location.Status != catalog.StatusOK || res.Added != 2 {
			t.Fatalf("register an entity of %d bytes of description: %+v (failure %v)", desc.Len(), res, res.Failure)
		}
		for word, want := range map[string]int{"payments": 1, "java": 1, "aaa": 1, "zzz": 1, "aaba": 1, "lastword": 0} {
			page, err := f.svc.Find(operator, catalog.Query{Filter: catalog.Filter{Text: word}, First: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Entities) != want {
				t.Errorf("search %q: %d entities, want %d", word, len(page.Entities), want)
			}
		}
	})
}

func TestInvalidNewDocumentKeepsLastGoodVersionAndRecordsTheError(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.write("catalog-info.yaml", teamA+"---"+paymentsAPI)
		id := f.register(f.dir).Location.ID
		broken := strings.Replace(paymentsAPI, "lifecycle: production", "lifecycle: [production]", 1)
		broken = strings.Replace(broken, "Takes card payments", "Broken", 1)
		f.write("catalog-info.yaml", teamA+"---"+broken)
		res := f.refresh(id)
		if res.Removed != 0 || res.Updated != 0 || res.Location.Status != catalog.StatusInvalid || res.Location.ErrorCount != 1 {
			t.Fatalf("refresh: %+v", res)
		}
		if got := f.entity("component:default/payments-api").Metadata.Description; got != "Takes card payments" {
			t.Errorf("last good version not kept: description %q", got)
		}
		e := res.Errors[0]
		if e.Source != filepath.Join(f.dir, "catalog-info.yaml") || e.Document != 2 || e.Field != "spec.lifecycle" ||
			e.Line != 20 || e.Ref != "component:default/payments-api" {
			t.Errorf("recorded error: %+v", e)
		}
		stored, err := f.svc.LocationErrors(operator, id, 100)
		if err != nil || len(stored) != 1 || stored[0] != e {
			t.Errorf("stored errors %+v (%v), want %+v", stored, err, e)
		}
		// Fixing the document applies it and clears the error.
		f.write("catalog-info.yaml", teamA+"---"+strings.Replace(paymentsAPI, "Takes card payments", "Fixed", 1))
		res = f.refresh(id)
		if res.Location.Status != catalog.StatusOK || len(res.Errors) != 0 || res.Updated != 1 {
			t.Fatalf("refresh after fix: %+v", res)
		}
		if stored, _ := f.svc.LocationErrors(operator, id, 100); len(stored) != 0 {
			t.Errorf("errors not cleared: %+v", stored)
		}
	})
}

func TestFileThatNoLongerParsesKeepsAllItsEntities(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.write("catalog-info.yaml", teamA+"---"+paymentsAPI)
		id := f.register(f.dir).Location.ID
		f.write("catalog-info.yaml", teamA+"---\nkind: [unclosed\n")
		res := f.refresh(id)
		if res.Removed != 0 || res.Location.Status != catalog.StatusInvalid {
			t.Fatalf("refresh: %+v", res)
		}
		f.entity("component:default/payments-api")
		f.entity("group:default/team-a")
	})
}

func TestSameEntityInTwoLocationsStaysWithTheFirst(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.write("one/catalog-info.yaml", teamA)
		f.write("two/catalog-info.yaml", strings.Replace(teamA, "children: []", "children: []\n  profile: {displayName: Second}", 1))
		first := f.register(filepath.Join(f.dir, "one")).Location.ID
		res := f.register(filepath.Join(f.dir, "two"))
		if res.Added != 0 || len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, "provided by another location") {
			t.Fatalf("second location: %+v", res)
		}
		if e := res.Errors[0]; e.Source != filepath.Join(f.dir, "two", "catalog-info.yaml") || e.Document != 1 || e.Line != 1 {
			t.Errorf("the refusal names %s document %d line %d; want the document that defines it again (two/catalog-info.yaml document 1 line 1)", e.Source, e.Document, e.Line)
		}
		if f.entity("group:default/team-a").LocationID != first {
			t.Fatal("entity moved to the second location")
		}
		// Once the first location goes, the second one's next refresh takes the entity over.
		if n, err := f.svc.UnregisterLocation(operator, first); err != nil || n != 1 {
			t.Fatalf("unregister: %d, %v", n, err)
		}
		res = f.refresh(res.Location.ID)
		if res.Added != 1 || len(res.Errors) != 0 {
			t.Fatalf("refresh after unregister: %+v", res)
		}
		if f.entity("group:default/team-a").LocationID != res.Location.ID {
			t.Fatal("entity not taken over")
		}
	})
}

func TestDuplicateEntityWithinOneLocationIsAnError(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.write("catalog-info.yaml", teamA+"---"+teamA)
		res := f.register(f.dir)
		if res.Added != 1 || len(res.Errors) != 1 || res.Errors[0].Document != 2 || !strings.Contains(res.Errors[0].Message, "defined twice") {
			t.Fatalf("register: %+v", res)
		}
	})
}

func TestLocationEntitiesPullInTheirTargetsRelativeToThemselves(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.write("catalog-info.yaml", `
apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: root
spec:
  targets: [./teams.yaml, ./services/*/catalog.yaml]
`)
		f.write("teams.yaml", teamA)
		f.write("services/payments/catalog.yaml", paymentsAPI)
		f.write("services/payments/openapi.yaml", "openapi: 3.0.0\n")
		f.write("services/payments/api.yaml", "not read: no Location names it\n")
		f.write("services/payments/catalog.yaml", paymentsAPI+`---
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: payments-rest
spec:
  type: openapi
  lifecycle: production
  owner: team-a
  definition:
    $text: ./openapi.yaml
`)
		res := f.register(f.dir)
		if res.Added != 4 || len(res.Errors) != 0 {
			t.Fatalf("register: %+v", res)
		}
		if got := f.entity("api:default/payments-rest").SpecString("definition"); got != "openapi: 3.0.0\n" {
			t.Errorf("$text placeholder not resolved relative to its file: %q", got)
		}
	})
}

func TestLocationTargetOutsideTheLocationIsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.write("inner/catalog-info.yaml", `
apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: escape
spec:
  target: ../secrets.yaml
`)
		f.write("secrets.yaml", teamA)
		res := f.register(filepath.Join(f.dir, "inner"))
		if res.Added != 1 || len(res.Errors) != 1 || res.Errors[0].Field != "spec.target" {
			t.Fatalf("register: %+v", res)
		}
		f.absent("group:default/team-a")
	})
}

func TestLocationTargetErrorsNameTheTargetsLineAndField(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.write("catalog-info.yaml", `apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: root
spec:
  targets:
    - ./teams.yaml
    - ./missing.yaml
    - ../outside.yaml
`)
		f.write("teams.yaml", teamA)
		res := f.register(f.dir)
		if res.Added != 2 || len(res.Errors) != 2 {
			t.Fatalf("register: %+v", res)
		}
		// A missing file is reported at the Location that names it, not as a file of its own
		// that the reader cannot find anywhere in the location.
		want := []struct {
			field string
			line  int
			text  string
		}{
			{"spec.targets[1]", 8, `target "./missing.yaml": cannot read: ` + filepath.Join(f.dir, "missing.yaml") + " does not exist"},
			{"spec.targets[2]", 9, `target "../outside.yaml":`},
		}
		for i, w := range want {
			e := res.Errors[i]
			if e.Source != filepath.Join(f.dir, "catalog-info.yaml") || e.Document != 1 || e.Line != w.line || e.Field != w.field ||
				e.Ref != "location:default/root" || !strings.HasPrefix(e.Message, w.text) {
				t.Errorf("error %d: %+v; want catalog-info.yaml document 1 line %d, field %s, location:default/root, %q...", i, e, w.line, w.field, w.text)
			}
		}
	})
}

func TestUnreadableLocationIsNotRegistered(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		_, err := f.svc.RegisterLocation(operator, catalog.LocationSpec{Type: catalog.LocationFile, Target: filepath.Join(f.dir, "nope")})
		if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "nope") {
			t.Fatalf("want INVALID naming the path, got %v", err)
		}
		if locs, _ := f.svc.Locations(operator); len(locs) != 0 {
			t.Fatalf("unreadable location was kept: %+v", locs)
		}
	})
}

func TestRegisterRefusesBadSpecsNamingTheField(t *testing.T) {
	st := storetest.SQLite(t)
	f := newFixture(t, st)
	for _, tc := range []struct {
		spec  catalog.LocationSpec
		field string
	}{
		{catalog.LocationSpec{Type: "ftp", Target: "x"}, "type"},
		{catalog.LocationSpec{Type: catalog.LocationFile, Target: "  "}, "target"},
		{catalog.LocationSpec{Type: catalog.LocationFile, Target: f.dir, Ref: "main"}, "ref"},
		{catalog.LocationSpec{Type: catalog.LocationURL, Target: "not a url"}, "target"},
	} {
		_, err := f.svc.RegisterLocation(operator, tc.spec)
		if !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != tc.field {
			t.Errorf("%+v: want INVALID on %s, got %v (field %q)", tc.spec, tc.field, err, errs.FieldOf(err))
		}
	}
}

func TestRegisteringAKnownLocationRefreshesIt(t *testing.T) {
	st := storetest.SQLite(t)
	f := newFixture(t, st)
	f.write("catalog-info.yaml", teamA)
	first := f.register(f.dir)
	again := f.register(f.dir)
	if again.Location.ID != first.Location.ID || !again.Unchanged {
		t.Fatalf("second registration: %+v", again)
	}
}

func TestUnregisterRemovesTheLocationsEntitiesOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.write("a/catalog-info.yaml", paymentsAPI)
		f.write("b/catalog-info.yaml", teamA)
		a := f.register(filepath.Join(f.dir, "a")).Location.ID
		f.register(filepath.Join(f.dir, "b"))
		n, err := f.svc.UnregisterLocation(operator, a)
		if err != nil || n != 1 {
			t.Fatalf("unregister: %d, %v", n, err)
		}
		f.absent("component:default/payments-api")
		if got := relationsOf(f.entity("group:default/team-a")); len(got) != 0 {
			t.Errorf("relations declared by removed entities remain: %q", got)
		}
		if _, err := f.svc.UnregisterLocation(operator, a); !errs.Is(err, errs.NotFound) {
			t.Errorf("second unregister: want NOT_FOUND, got %v", err)
		}
	})
}

// childRows counts the tags, annotations and relations rows, and those whose entity is gone.
func childRows(t *testing.T, st *store.Store) (rows, orphans map[string]int64) {
	t.Helper()
	rows, orphans = map[string]int64{}, map[string]int64{}
	for _, table := range []string{"entity_tags", "entity_annotations", "relations"} {
		var all, stray int64
		err := st.Gorm().Raw("SELECT count(*), count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM entities e WHERE e.id = c.entity_id)) FROM "+table+" c").
			Row().Scan(&all, &stray)
		if err != nil {
			t.Fatal(err)
		}
		rows[table], orphans[table] = all, stray
	}
	return rows, orphans
}

// An entity's tags, annotations and relations go with it, however it goes: a refresh that changes
// or drops it, an unregister, a DELETE by another writer (an older release, an operator) and, on
// PostgreSQL, a TRUNCATE. (On PostgreSQL a statement trigger removes them, not foreign keys:
// migration 00022.)
func TestAnEntitysRowsGoWithIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		rng := rand.New(rand.NewPCG(3, 5))
		check := func(step string, wantSome bool) {
			t.Helper()
			rows, orphans := childRows(t, st)
			for table, n := range orphans {
				if n > 0 {
					t.Errorf("%s: %d of %d %s rows belong to no entity", step, n, rows[table], table)
				}
			}
			if wantSome && (rows["entity_tags"] == 0 || rows["relations"] == 0 || rows["entity_annotations"] == 0) {
				t.Fatalf("%s: the catalog has too few rows to tell anything: %v", step, rows)
			}
		}
		randomCatalog(f, "one", rng, 12)
		const annotated = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: annotated\n" +
			"  annotations: {github.com/project-slug: acme/annotated}\n  tags: [go]\nspec: {type: service, lifecycle: production, owner: team-a}\n"
		f.write("one/annotated.yaml", annotated)
		one := f.register(filepath.Join(f.dir, "one", "*.yaml")).Location.ID
		check("first import", true)
		randomCatalog(f, "one", rng, 9) // changes nine files' entities, drops some
		f.write("one/000.yaml", "")
		if res := f.refresh(one); res.Updated+res.Removed == 0 {
			t.Fatalf("the refresh changed nothing: %+v", res)
		}
		check("refresh with changes", true)
		randomCatalog(f, "two", rng, 6)
		f.write("two/annotated.yaml", strings.ReplaceAll(annotated, "name: annotated", "name: annotated-two"))
		two := f.register(filepath.Join(f.dir, "two", "*.yaml")).Location.ID
		check("second location", true)
		if err := st.Gorm().Exec("DELETE FROM entities WHERE name LIKE 'two-1-%' OR name = 'annotated-two'").Error; err != nil {
			t.Fatal(err)
		}
		check("entities deleted by another writer", true)
		if _, err := f.svc.UnregisterLocation(operator, one); err != nil {
			t.Fatal(err)
		}
		check("a location unregistered", false)
		if st.Dialect() == store.Postgres {
			if err := st.Gorm().Exec("TRUNCATE entities").Error; err != nil {
				t.Fatal(err)
			}
			if rows, _ := childRows(t, st); rows["entity_tags"]+rows["entity_annotations"]+rows["relations"] != 0 {
				t.Errorf("after TRUNCATE entities: %v rows remain", rows)
			}
		} else if _, err := f.svc.UnregisterLocation(operator, two); err != nil {
			t.Fatal(err)
		}
		check("empty catalog", false)
	})
}

func TestFailedApplyLeavesThePreviousStateWhole(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.write("catalog-info.yaml", teamA+"---"+paymentsAPI)
		id := f.register(f.dir).Location.ID
		// The new content changes one entity and adds two; the database fails half-way through
		// writing it, on the relation to system "poison", after entities were already written.
		poisoned := strings.Replace(paymentsAPI, "payments-api", "poisoned", 2)
		poisoned = strings.Replace(poisoned, "system: payments", "system: poison", 1)
		f.write("catalog-info.yaml", teamA+"---"+strings.Replace(paymentsAPI, "Takes card payments", "Changed", 1)+"---"+
			strings.Replace(teamA, "team-a", "team-b", 1)+"---"+poisoned)
		failOnPoison(t, st)
		_, err := f.svc.Refresh(operator, id)
		if err == nil || !strings.Contains(err.Error(), "relations") {
			t.Fatalf("refresh should fail writing relations, got %v", err)
		}
		if got := f.entity("component:default/payments-api").Metadata.Description; got != "Takes card payments" {
			t.Errorf("half-applied: description %q", got)
		}
		f.absent("group:default/team-b")
		f.absent("component:default/poisoned")
		if got := relationsOf(f.entity("component:default/payments-api")); len(got) != 4 {
			t.Errorf("relations lost: %q", got)
		}
		// Once the database is healthy, the next refresh applies everything.
		if err := st.Gorm().Exec("DROP TRIGGER fail_on_poison" + map[bool]string{true: " ON relations"}[st.Dialect() == store.Postgres]).Error; err != nil {
			t.Fatal(err)
		}
		res := f.refresh(id)
		if res.Updated != 1 || res.Added != 2 {
			t.Fatalf("refresh after failure: %+v", res)
		}
	})
}

// On PostgreSQL an apply writes entities as it parses them: a failure in a late file, after many
// earlier ones were written, still leaves the catalog as it was, and nothing of the earlier files.
func TestAFailureAfterEarlierFilesWereWrittenLeavesThePreviousStateWhole(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.write("catalog-info.yaml", teamA+"---"+paymentsAPI)
		id := f.register(filepath.Join(f.dir, "catalog-info.yaml")).Location.ID
		f.write("catalog-info.yaml", teamA+"---"+strings.Replace(paymentsAPI, "Takes card payments", "Changed", 1)+
			"---\napiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: shards}\nspec: {targets: [./shards/*.yaml]}\n")
		for i := range 60 {
			doc := component(fmt.Sprintf("c-%02d", i))
			if i == 59 {
				doc = strings.Replace(doc, "lifecycle: production", "lifecycle: production, system: poison", 1)
			}
			f.write(fmt.Sprintf("shards/%02d.yaml", i), doc)
		}
		failOnPoison(t, st)
		if _, err := f.svc.Refresh(operator, id); err == nil || !strings.Contains(err.Error(), "relations") {
			t.Fatalf("refresh should fail writing relations, got %v", err)
		}
		if got := f.entity("component:default/payments-api").Metadata.Description; got != "Takes card payments" {
			t.Errorf("half-applied: description %q", got)
		}
		f.absent("component:default/c-00")
		f.absent("component:default/c-58")
		f.absent("location:default/shards")
		loc, err := f.svc.Location(operator, id)
		if err != nil {
			t.Fatal(err)
		}
		if loc.EntityCount != 2 || loc.Status != catalog.StatusFailed || loc.Message == "" {
			t.Errorf("location after the failure: %d entities, %s %q", loc.EntityCount, loc.Status, loc.Message)
		}
	})
}

// failOnPoison makes the database refuse any relation to system:default/poison.
func failOnPoison(t *testing.T, st *store.Store) {
	t.Helper()
	stmts := []string{`CREATE TRIGGER fail_on_poison BEFORE INSERT ON relations
		WHEN NEW.target_ref = 'system:default/poison' BEGIN SELECT RAISE(ABORT, 'injected failure'); END`}
	if st.Dialect() == store.Postgres {
		stmts = []string{
			`CREATE FUNCTION fail_on_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
				IF NEW.target_ref = 'system:default/poison' THEN RAISE EXCEPTION 'injected failure'; END IF;
				RETURN NEW; END $$`,
			`CREATE TRIGGER fail_on_poison BEFORE INSERT ON relations FOR EACH ROW EXECUTE FUNCTION fail_on_poison()`,
		}
	}
	for _, q := range stmts {
		if err := st.Gorm().Exec(q).Error; err != nil {
			t.Fatal(err)
		}
	}
}

func TestConcurrentRefreshOfOneLocationIsRefused(t *testing.T) {
	st := storetest.SQLite(t)
	f := newFixture(t, st)
	f.write("catalog-info.yaml", teamA)
	id := f.register(f.dir).Location.ID
	// Another process holds the lease.
	other := f.service(catalog.Options{})
	release := holdLease(t, st, id)
	_, err := other.Refresh(operator, id)
	if !errs.Is(err, errs.Conflict) {
		t.Fatalf("want CONFLICT while another process refreshes, got %v", err)
	}
	release()
	if _, err := other.Refresh(operator, id); err != nil {
		t.Fatalf("after the lease ended: %v", err)
	}
}

// holdLease marks a location as being refreshed by someone else until release is called.
func holdLease(t *testing.T, st *store.Store, id int64) (release func()) {
	t.Helper()
	until := time.Now().Add(time.Hour).UTC()
	if err := st.Gorm().Exec("UPDATE locations SET lease_owner = 'elsewhere', lease_until = ? WHERE id = ?", until, id).Error; err != nil {
		t.Fatal(err)
	}
	return func() {
		if err := st.Gorm().Exec("UPDATE locations SET lease_owner = '', lease_until = NULL WHERE id = ?", id).Error; err != nil {
			t.Fatal(err)
		}
	}
}

func TestScheduledRefreshPicksUpLocationsAsTheyFallDue(t *testing.T) {
	st := storetest.SQLite(t)
	f := newFixture(t, st)
	f.svc = f.service(catalog.Options{RefreshInterval: 10 * time.Minute})
	f.write("catalog-info.yaml", teamA)
	res := f.register(f.dir)
	if res.Location.NextRefreshAt == nil || !res.Location.NextRefreshAt.Equal(f.now.Add(10*time.Minute)) {
		t.Fatalf("next refresh: %v", res.Location.NextRefreshAt)
	}
	f.write("catalog-info.yaml", teamA+"---"+paymentsAPI)
	f.now = f.now.Add(9 * time.Minute)
	if err := f.svc.RefreshDue(operator); err != nil {
		t.Fatal(err)
	}
	f.absent("component:default/payments-api")
	f.now = f.now.Add(2 * time.Minute)
	if err := f.svc.RefreshDue(operator); err != nil {
		t.Fatal(err)
	}
	f.entity("component:default/payments-api")
}

func TestCacheSeesChangesMadeByAnotherProcess(t *testing.T) {
	st := storetest.SQLite(t)
	f := newFixture(t, st)
	f.write("catalog-info.yaml", teamA+"---"+paymentsAPI)
	id := f.register(f.dir).Location.ID
	// The server: a cache that checks the generation on every read.
	server := f.service(catalog.Options{CacheSize: 100, CacheCheck: time.Nanosecond})
	if got := readDescription(t, server); got != "Takes card payments" {
		t.Fatalf("first read: %q", got)
	}
	// `portside catalog import` in another process.
	f.write("catalog-info.yaml", teamA+"---"+strings.Replace(paymentsAPI, "Takes card payments", "Changed elsewhere", 1))
	f.refresh(id)
	if got := readDescription(t, server); got != "Changed elsewhere" {
		t.Fatalf("cache served a stale entity: %q", got)
	}
}

func readDescription(t *testing.T, svc *catalog.Service) string {
	t.Helper()
	e, err := svc.Entity(operator, backstage.MustParseRef("component:default/payments-api"))
	if err != nil {
		t.Fatal(err)
	}
	return e.Metadata.Description
}

// An unchanged refresh is decided without parsing, from what the last one read; each kind of
// input it read must still be noticed when it changes.
func TestRefreshNoticesChangesInEveryInputItRead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.write("catalog-info.yaml", `
apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: root}
spec: {targets: [./teams/*.yaml, ./api.yaml]}
`)
		f.write("teams/a.yaml", teamA)
		f.write("api.yaml", `
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: payments-rest}
spec: {type: openapi, lifecycle: production, owner: team-a, definition: {$text: ./openapi.yaml}}
`)
		f.write("openapi.yaml", "openapi: 3.0.0\n")
		id := f.register(f.dir).Location.ID
		if res := f.refresh(id); !res.Unchanged {
			t.Fatalf("nothing changed, yet: %+v", res)
		}

		f.write("openapi.yaml", "openapi: 3.1.0\n") // a file read through a placeholder
		if res := f.refresh(id); res.Unchanged || res.Updated != 1 {
			t.Fatalf("placeholder target changed: %+v", res)
		}
		f.write("teams/b.yaml", strings.Replace(teamA, "team-a", "team-b", 1)) // a new match of a Location glob
		if res := f.refresh(id); res.Unchanged || res.Added != 1 {
			t.Fatalf("new file under a Location glob: %+v", res)
		}
		if err := os.Remove(filepath.Join(f.dir, "teams/b.yaml")); err != nil {
			t.Fatal(err)
		}
		if res := f.refresh(id); res.Unchanged || res.Removed != 1 {
			t.Fatalf("file gone from a Location glob: %+v", res)
		}
		f.write("catalog-info.yaml", `
apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: root}
spec: {targets: [./teams/*.yaml]}
`)
		if res := f.refresh(id); res.Unchanged || res.Removed != 1 {
			t.Fatalf("a target dropped from the root: %+v", res)
		}
		if res := f.refresh(id); !res.Unchanged {
			t.Fatalf("settled again: %+v", res)
		}
	})
}

// A typo in a Location entity must not take away the catalog it points to: while the Location is
// invalid, entities from the files it named stay as they were.
func TestBrokenLocationEntityKeepsTheEntitiesItPointedTo(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		root := `
apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: root}
spec: {targets: [./teams.yaml]}
`
		f.write("catalog-info.yaml", root)
		f.write("teams.yaml", teamA)
		id := f.register(f.dir).Location.ID
		for _, broken := range []string{
			strings.Replace(root, "targets: [./teams.yaml]", "targets: ./teams.yaml", 1), // a string, not a list
			strings.Replace(root, "name: root", "name: -root-", 1),                       // no readable identity
			strings.Replace(root, "./teams.yaml", "../outside.yaml", 1),                  // a target that will not resolve
		} {
			f.write("catalog-info.yaml", broken)
			res := f.refresh(id)
			if res.Removed != 0 || len(res.Errors) == 0 {
				t.Fatalf("refresh with %q: %+v", broken, res)
			}
			f.entity("group:default/team-a")
		}
		f.write("catalog-info.yaml", root)
		if res := f.refresh(id); len(res.Errors) != 0 {
			t.Fatalf("fixed: %+v", res)
		}
		// Once the Location is valid again, dropping its target does remove what it pointed to.
		f.write("catalog-info.yaml", strings.Replace(root, "targets: [./teams.yaml]", "targets: []", 1))
		if res := f.refresh(id); res.Removed != 1 {
			t.Fatalf("target dropped: %+v", res)
		}
	})
}

// blockingReader opens a file location only when released, to hold a refresh in the middle.
type blockingReader struct {
	sources.Files
	opened, release chan struct{}
}

func (r *blockingReader) Open(ctx context.Context, spec catalog.LocationSpec, since string) (catalog.Snapshot, error) {
	r.opened <- struct{}{}
	<-r.release
	return r.Files.Open(ctx, spec, since)
}

func TestTwoRefreshesOfOneLocationInOneProcessDoNotOverlap(t *testing.T) {
	st := storetest.SQLite(t)
	f := newFixture(t, st)
	f.write("catalog-info.yaml", teamA)
	id := f.register(f.dir).Location.ID
	r := &blockingReader{opened: make(chan struct{}), release: make(chan struct{})}
	svc := catalog.NewService(st, catalog.Options{
		Readers: map[catalog.LocationType]catalog.Reader{catalog.LocationFile: r}, Logger: slog.New(slog.DiscardHandler),
	})
	done := make(chan error)
	go func() {
		_, err := svc.Refresh(operator, id)
		done <- err
	}()
	<-r.opened // the first refresh holds the lease
	if _, err := svc.Refresh(operator, id); !errs.Is(err, errs.Conflict) {
		t.Errorf("second refresh while the first runs: want CONFLICT, got %v", err)
	}
	close(r.release)
	if err := <-done; err != nil {
		t.Fatalf("first refresh: %v", err)
	}
	go func() { <-r.opened }()
	if _, err := svc.Refresh(operator, id); err != nil {
		t.Errorf("refresh after the first ended: %v", err)
	}
}

func TestLocationsWithoutANextRefreshTimeAreScheduled(t *testing.T) {
	st := storetest.SQLite(t)
	f := newFixture(t, st) // no refresh interval: no next refresh time is set
	f.write("catalog-info.yaml", teamA)
	res := f.register(f.dir)
	if res.Location.NextRefreshAt != nil {
		t.Fatalf("next refresh set without an interval: %v", res.Location.NextRefreshAt)
	}
	f.write("catalog-info.yaml", teamA+"---"+paymentsAPI)
	scheduled := f.service(catalog.Options{RefreshInterval: time.Minute})
	if err := scheduled.RefreshDue(operator); err != nil {
		t.Fatal(err)
	}
	f.entity("component:default/payments-api")
}

// An HTTP 304 for the root file says nothing of the files it reads through placeholders.
func TestURLLocationNoticesAChangedPlaceholderBehindAnUnchangedRoot(t *testing.T) {
	files := map[string]string{
		"/catalog-info.yaml": "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata: {name: api}\n" +
			"spec: {type: openapi, lifecycle: production, owner: team, definition: {$text: ./openapi.yaml}}\n",
		"/openapi.yaml": "openapi: 3.0.0\n",
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		etag := fmt.Sprintf(`"%x"`, len(body)+int(body[len(body)-2]))
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	st := storetest.SQLite(t)
	svc := catalog.NewService(st, catalog.Options{
		Readers: map[catalog.LocationType]catalog.Reader{catalog.LocationURL: &sources.URLs{AllowLoopback: true}},
		Logger:  slog.New(slog.DiscardHandler), CacheSize: 100,
	})
	res, err := svc.RegisterLocation(operator, catalog.LocationSpec{Type: catalog.LocationURL, Target: srv.URL + "/catalog-info.yaml"})
	if err != nil || res.Added != 1 {
		t.Fatalf("register: %+v, %v", res, err)
	}
	if again, err := svc.Refresh(operator, res.Location.ID); err != nil || !again.Unchanged {
		t.Fatalf("nothing changed: %+v, %v", again, err)
	}
	files["/openapi.yaml"] = "openapi: 3.1.0\n"
	again, err := svc.Refresh(operator, res.Location.ID)
	if err != nil || again.Unchanged || again.Updated != 1 {
		t.Fatalf("placeholder changed: %+v, %v", again, err)
	}
	e, err := svc.Entity(operator, backstage.MustParseRef("api:default/api"))
	if err != nil || e.SpecString("definition") != "openapi: 3.1.0\n" {
		t.Errorf("definition after the refresh: %v, %v", e, err)
	}
}

// A file is parsed as it is read, so the catalog-max-file-bytes bound holds while it streams. A
// file found over it (here after its first, valid, document) yields nothing, as a file that cannot
// be read never does: the entities it held stay as they were, the location's other files are
// applied, and the error names the setting that raises the bound.
func TestAFileOverTheSizeBoundIsNotHalfApplied(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		const limit = 2048
		f.svc = catalog.NewService(st, catalog.Options{
			Readers: map[catalog.LocationType]catalog.Reader{catalog.LocationFile: &sources.Files{MaxFileBytes: limit}},
			Logger:  slog.New(slog.DiscardHandler),
			Now:     func() time.Time { return f.now },
		})
		f.write("org/catalog-info.yaml", teamA)
		f.write("payments/catalog-info.yaml", paymentsAPI)
		id := f.register(f.dir).Location.ID

		f.write("org/catalog-info.yaml", strings.Replace(teamA, "name: team-a", "name: team-a\n  title: Team A", 1))
		grown := strings.Replace(paymentsAPI, "Takes card payments", "Takes every payment", 1) +
			"---\n" + strings.Repeat("# padding\n", limit/10)
		f.write("payments/catalog-info.yaml", grown)
		res := f.refresh(id)
		if res.Added != 0 || res.Updated != 1 || res.Removed != 0 {
			t.Errorf("refresh: added %d, updated %d, removed %d; want only team-a updated", res.Added, res.Updated, res.Removed)
		}
		if got := f.entity("group:default/team-a").Metadata.Title; got != "Team A" {
			t.Errorf("team-a's title = %q; the file within the bound was not applied", got)
		}
		if got := f.entity("component:default/payments-api").Metadata.Description; got != "Takes card payments" {
			t.Errorf("payments-api's description = %q; want the last version read whole", got)
		}
		if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, "catalog-max-file-bytes") ||
			!strings.HasSuffix(res.Errors[0].Source, filepath.Join("payments", "catalog-info.yaml")) {
			t.Errorf("errors: %v; want one, about payments/catalog-info.yaml, naming catalog-max-file-bytes", res.Errors)
		}
	})
}

// A large file is written as it is parsed, a few hundred documents at a time. One found over the
// size bound after its first documents were written still yields nothing: the apply starts again,
// reading each file whole before writing any of it, so the file's entities stay as they were, none
// of its new ones are kept, and the location's other files are applied.
func TestALargeFileFailingAfterItsFirstDocumentsWereWrittenYieldsNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		doc := func(name string) string {
			return "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: " + name +
				"}\nspec: {type: service, owner: team-a, lifecycle: production}\n"
		}
		var grown strings.Builder
		for i := range 4 * catalog.StreamDocs {
			grown.WriteString(doc(fmt.Sprintf("grown-%05d", i)))
		}
		// Over the bound about half way through, well after the first documents were written.
		limit := int64(grown.Len() / 2)
		f.svc = catalog.NewService(st, catalog.Options{
			Readers: map[catalog.LocationType]catalog.Reader{catalog.LocationFile: &sources.Files{MaxFileBytes: limit}},
			Logger:  slog.New(slog.DiscardHandler),
			Now:     func() time.Time { return f.now },
		})
		f.write("org/catalog-info.yaml", teamA)
		f.write("big/catalog-info.yaml", doc("first")+doc("second"))
		id := f.register(f.dir).Location.ID

		f.write("org/catalog-info.yaml", strings.Replace(teamA, "name: team-a", "name: team-a\n  title: Team A", 1))
		f.write("big/catalog-info.yaml", grown.String())
		res := f.refresh(id)
		if res.Added != 0 || res.Updated != 1 || res.Removed != 0 {
			t.Errorf("refresh: added %d, updated %d, removed %d; want only team-a updated", res.Added, res.Updated, res.Removed)
		}
		if got := f.entity("group:default/team-a").Metadata.Title; got != "Team A" {
			t.Errorf("team-a's title = %q; the file within the bound was not applied", got)
		}
		f.entity("component:default/first")
		f.entity("component:default/second")
		f.absent("component:default/grown-00000")
		var rows int64
		if err := st.Gorm().Table("entities").Count(&rows).Error; err != nil {
			t.Fatal(err)
		}
		if rows != 3 || res.Location.EntityCount != 3 {
			t.Errorf("%d entity rows (location: %d), want 3: nothing of the file over the bound", rows, res.Location.EntityCount)
		}
		if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Message, "catalog-max-file-bytes") ||
			!strings.HasSuffix(res.Errors[0].Source, filepath.Join("big", "catalog-info.yaml")) {
			t.Errorf("errors: %v; want one, about big/catalog-info.yaml, naming catalog-max-file-bytes", res.Errors)
		}
	})
}

// TestAnotherReplicasChangeRetiresTheCacheAtOnce: two replicas on one PostgreSQL schema, with a
// database check so rare that only the bus can tell replica B that replica A changed the catalog.
func TestAnotherReplicasChangeRetiresTheCacheAtOnce(t *testing.T) {
	url := storetest.PostgresURL(t)
	stA, stB := storetest.Open(t, url, true), storetest.Open(t, url, false)
	busA, startA := pgbustest.New(t, stA)
	busB, startB := pgbustest.New(t, stB)
	f := newFixture(t, stA)
	f.svc = f.service(catalog.Options{CacheSize: 100, CacheCheck: time.Hour, Bus: busA})
	replicaB := (&fixture{t: t, st: stB, dir: f.dir, now: f.now}).service(catalog.Options{CacheSize: 100, CacheCheck: time.Hour, Bus: busB})
	startA()
	startB()
	f.write("catalog-info.yaml", teamA+"---"+paymentsAPI)
	id := f.register(f.dir).Location.ID
	testutil.Eventually(t, 10*time.Second, func() bool { return readDescriptionOr(replicaB) == "Takes card payments" },
		"replica B never saw the first import")
	f.write("catalog-info.yaml", teamA+"---"+strings.Replace(paymentsAPI, "Takes card payments", "Changed on A", 1))
	f.refresh(id)
	testutil.Eventually(t, 10*time.Second, func() bool { return readDescriptionOr(replicaB) == "Changed on A" },
		"replica B's cache still serves %q after replica A's change", readDescriptionOr(replicaB))
}

// readDescriptionOr is readDescription, or the error's text.
func readDescriptionOr(svc *catalog.Service) string {
	e, err := svc.Entity(operator, backstage.MustParseRef("component:default/payments-api"))
	if err != nil {
		return err.Error()
	}
	return e.Metadata.Description
}

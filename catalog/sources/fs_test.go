package sources_test

import (
	"context"
	"io/fs"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/sources"
	"github.com/portside-dev/portside/errs"
)

func embeddedReader() sources.Embedded {
	return sources.Embedded{FS: map[string]fs.FS{
		"demo": fstest.MapFS{
			"catalog-info.yaml":          {Data: []byte("kind: Location\n")},
			"teams/catalog-info.yaml":    {Data: []byte("kind: Group\n")},
			"teams/payments/openapi.yml": {Data: []byte("openapi: 3.0.0\n")},
			"apis/orders.yaml":           {Data: []byte("kind: API\n")},
			"README.md":                  {Data: []byte("# demo\n")},
		},
		"empty": fstest.MapFS{"README.md": {Data: []byte("nothing here\n")}},
	}}
}

func TestEmbeddedCheckAcceptsOnlyKnownNames(t *testing.T) {
	r := embeddedReader()
	if _, err := r.Check(catalog.LocationSpec{Type: catalog.LocationEmbedded, Target: "demo"}); err != nil {
		t.Errorf("Check(demo): %v", err)
	}
	for _, name := range []string{"", "Demo", "nope", "../demo"} {
		_, err := r.Check(catalog.LocationSpec{Type: catalog.LocationEmbedded, Target: name})
		if !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != "target" {
			t.Errorf("Check(%q) = %v, want %s on field target", name, err, errs.Invalid)
		}
	}
}

func TestEmbeddedOpenListsTheCatalogFiles(t *testing.T) {
	r := embeddedReader()
	ctx := context.Background()
	s, err := r.Open(ctx, catalog.LocationSpec{Type: catalog.LocationEmbedded, Target: "demo"}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if diff := cmp.Diff([]string{"catalog-info.yaml", "teams/catalog-info.yaml"}, s.Files()); diff != "" {
		t.Errorf("Files() (-want +got):\n%s", diff)
	}
	if s.Revision() != "" || s.Unchanged() {
		t.Errorf("Revision() = %q, Unchanged() = %v; want \"\", false", s.Revision(), s.Unchanged())
	}
	if b, err := s.ReadFile(ctx, "teams/catalog-info.yaml"); err != nil || string(b) != "kind: Group\n" {
		t.Errorf("ReadFile = %q, %v", b, err)
	}
	if _, err := s.ReadFile(ctx, "teams/missing.yaml"); !errs.Is(err, errs.NotFound) {
		t.Errorf("ReadFile of a missing file = %v, want %s", err, errs.NotFound)
	}

	name, err := s.Resolve("teams/catalog-info.yaml", "payments/openapi.yml")
	if err != nil || name != "teams/payments/openapi.yml" {
		t.Errorf("Resolve = %q, %v; want teams/payments/openapi.yml", name, err)
	}
	if name, err := s.Resolve("teams/catalog-info.yaml", "../apis/orders.yaml"); err != nil || name != "apis/orders.yaml" {
		t.Errorf("Resolve(../apis/orders.yaml) = %q, %v; want apis/orders.yaml", name, err)
	}
	for _, target := range []string{"../../etc/passwd", "/etc/passwd", "https://example.com/x.yaml"} {
		if got, err := s.Resolve("teams/catalog-info.yaml", target); !errs.Is(err, errs.Invalid) {
			t.Errorf("Resolve(%q) = %q, %v; want it refused", target, got, err)
		}
	}

	got, err := s.Glob("**/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"apis/orders.yaml", "catalog-info.yaml", "teams/catalog-info.yaml"}, got); diff != "" {
		t.Errorf("Glob(**/*.yaml) (-want +got):\n%s", diff)
	}
	if got, err := s.Glob("apis/orders.yaml"); err != nil || !slices.Equal(got, []string{"apis/orders.yaml"}) {
		t.Errorf("Glob of a plain name = %v, %v", got, err)
	}
	if _, err := s.Glob("apis/[.yaml"); !errs.Is(err, errs.Invalid) {
		t.Errorf("Glob of a broken pattern = %v, want %s", err, errs.Invalid)
	}
}

func TestEmbeddedOpenRefusesUnknownAndEmptyCatalogs(t *testing.T) {
	r := embeddedReader()
	if _, err := r.Open(context.Background(), catalog.LocationSpec{Type: catalog.LocationEmbedded, Target: "nope"}, ""); !errs.Is(err, errs.NotFound) {
		t.Errorf("Open(nope) = %v, want %s", err, errs.NotFound)
	}
	if _, err := r.Open(context.Background(), catalog.LocationSpec{Type: catalog.LocationEmbedded, Target: "empty"}, ""); !errs.Is(err, errs.Invalid) {
		t.Errorf("Open(empty) = %v, want %s", err, errs.Invalid)
	}
}

package demo_test

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/portside-dev/portside/catalog/demo"
	"github.com/portside-dev/portside/deploys"
)

// serve --demo's catalog names the manifest repository it created; the catalog as written names
// the placeholder, and payments-api deploys to production and staging either way.
func TestWithManifestsNamesTheDemoRepository(t *testing.T) {
	l := load(t, demo.WithManifests("/tmp/demo/manifests.git"))
	e := l.byRef["component:default/payments-api"]
	if e == nil {
		t.Fatal("payments-api is missing")
	}
	ts, err := deploys.Targets(e.Metadata.Annotations)
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range []string{"production", "staging"} {
		if ts[env].Repo != "/tmp/demo/manifests.git" || !strings.HasSuffix(ts[env].Path, "/"+env+"/kustomization.yaml") {
			t.Errorf("%s: %+v", env, ts[env])
		}
	}
	raw, err := fs.ReadFile(demo.FS(), "payments.yaml")
	if err != nil || !strings.Contains(string(raw), demo.ManifestsPlaceholder) {
		t.Errorf("the catalog as written should hold the placeholder: %v", err)
	}
	// Every other file reads as written.
	for _, name := range []string{"org.yaml", "catalog-info.yaml", "apis/orders-api.yaml"} {
		a, _ := fs.ReadFile(demo.FS(), name)
		b, err := fs.ReadFile(demo.WithManifests("/x"), name)
		if err != nil || string(a) != string(b) {
			t.Errorf("%s changed: %v", name, err)
		}
	}
}

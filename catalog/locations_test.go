package catalog_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/sources"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// A git remote on the server's disk is a file location, however its scheme is written: the API
// check used to be case-sensitive, so GIT FILE:///etc passed it.
func TestAPICannotRegisterGitRemotesOnTheServersDisk(t *testing.T) {
	st := storetest.SQLite(t)
	cache := t.TempDir()
	svc := catalog.NewService(st, catalog.Options{
		Readers:          map[catalog.LocationType]catalog.Reader{catalog.LocationGit: &sources.Git{CacheDir: cache}},
		APILocationTypes: []catalog.LocationType{catalog.LocationURL, catalog.LocationGit},
		Logger:           slog.New(slog.DiscardHandler),
	})
	admin := principal.With(context.Background(), &principal.Principal{Username: "admin", Kind: principal.KindToken, Client: principal.ClientAPI, Admin: true})
	for _, target := range []string{"file:///etc", "FILE:///etc", "File:///srv/git/repo.git"} {
		_, err := svc.RegisterLocation(admin, catalog.LocationSpec{Type: catalog.LocationGit, Target: target})
		if !errs.Is(err, errs.Forbidden) {
			t.Errorf("register git %s through the API: want FORBIDDEN, got %v", target, err)
		}
	}
}

// Registering a location while another caller unregisters it (or registers it too) answers with
// the location registered, never NOT_FOUND for the one just looked up: the lookup is made again.
func TestARegistrationRacingAnUnregistrationOfTheSameLocationSucceeds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "catalog-info.yaml"), []byte("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: raced}\nspec: {type: service, lifecycle: production, owner: team-a}\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		svc := catalog.NewService(st, catalog.Options{
			Readers: map[catalog.LocationType]catalog.Reader{catalog.LocationFile: &sources.Files{}},
			Logger:  slog.New(slog.DiscardHandler),
		})
		spec := catalog.LocationSpec{Type: catalog.LocationFile, Target: dir}
		for range 10 {
			first, err := svc.RegisterLocation(operator, spec)
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			var regErr, unregErr error
			wg.Go(func() { _, unregErr = svc.UnregisterLocation(operator, first.Location.ID) })
			wg.Go(func() { _, regErr = svc.RegisterLocation(operator, spec) })
			wg.Wait()
			if errs.Is(regErr, errs.NotFound) {
				t.Fatalf("a registration racing an unregistration: %v", regErr)
			}
			if regErr != nil && !errs.Is(regErr, errs.Conflict) { // "being refreshed already" may be said
				t.Fatalf("a registration racing an unregistration: %v", regErr)
			}
			if unregErr != nil && !errs.Is(unregErr, errs.NotFound) {
				t.Fatalf("the unregistration: %v", unregErr)
			}
			// Whatever the order, the location can be registered again and then unregistered.
			again, err := svc.RegisterLocation(operator, spec)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.UnregisterLocation(operator, again.Location.ID); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// A file location is found by its path as given, relative to the working directory as when it
// was registered, though its target is kept absolute (`catalog import cat`, then `catalog
// refresh cat`), as well as by its ID and its absolute target.
func TestAFileLocationIsFoundByTheRelativePathItWasRegisteredBy(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "cat")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "catalog-info.yaml"), []byte("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: found}\nspec: {type: service, lifecycle: production, owner: team-a}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(parent)
	svc := catalog.NewService(storetest.SQLite(t), catalog.Options{
		Readers: map[catalog.LocationType]catalog.Reader{catalog.LocationFile: &sources.Files{}},
		Logger:  slog.New(slog.DiscardHandler),
	})
	res, err := svc.RegisterLocation(operator, catalog.LocationSpec{Type: catalog.LocationFile, Target: "cat"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Location.Target != dir {
		t.Fatalf("target %q, want the absolute %q", res.Location.Target, dir)
	}
	for _, name := range []string{"cat", "./cat", "cat/", dir, strconv.FormatInt(res.Location.ID, 10)} {
		if l, err := svc.FindLocation(operator, name); err != nil || l.ID != res.Location.ID {
			t.Errorf("FindLocation(%q) = %+v, %v", name, l, err)
		}
	}
	if _, err := svc.FindLocation(operator, "dog"); !errs.Is(err, errs.NotFound) {
		t.Errorf("FindLocation(dog): %v, want NOT_FOUND", err)
	}
}

package catalog_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/sources"
	"github.com/portside-dev/portside/errs"
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

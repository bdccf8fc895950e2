package frontend_test

import (
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/portside-dev/portside/frontend"
)

// The embedded folder always exists, built or not: go build must work on a clone without Node.
func TestTheEmbeddedFolderAlwaysHasItsPlaceholder(t *testing.T) {
	if _, err := fs.Stat(frontend.Dist(), ".gitkeep"); err != nil {
		t.Fatalf("dist/.gitkeep is not embedded: %v", err)
	}
}

func TestBuiltNeedsIndexHTML(t *testing.T) {
	if frontend.Built(fstest.MapFS{".gitkeep": {}}) {
		t.Error("a folder with only the placeholder counts as built")
	}
	if !frontend.Built(fstest.MapFS{"index.html": {Data: []byte("<!doctype html>")}}) {
		t.Error("a folder with index.html does not count as built")
	}
}

package backstage

import (
	"os/exec"
	"strings"
	"testing"
)

// The entity model is pure: parsing and validating a catalog file needs no database, no network
// and no transport, so a tool (a linter, an editor plugin, the generator) can use it without
// pulling in the server. Storage is package catalog's.
func TestTheEntityModelImportsNoDatabaseAndNoTransport(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	banned := []string{
		"gorm.io/", "database/sql", "github.com/jackc/", "github.com/glebarez/", "modernc.org/sqlite", "github.com/mattn/",
		"github.com/gin-gonic/", "github.com/99designs/gqlgen", "google.golang.org/grpc",
		"github.com/portside-dev/portside/store", "github.com/portside-dev/portside/audit",
		"github.com/portside-dev/portside/auth", "github.com/portside-dev/portside/server",
		"github.com/portside-dev/portside/graph",
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, b := range banned {
			if pkg == b || strings.HasPrefix(pkg, strings.TrimSuffix(b, "/")+"/") {
				t.Errorf("catalog/backstage depends on %s; the entity model must stay free of storage and transport", pkg)
			}
		}
	}
}

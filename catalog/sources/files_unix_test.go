//go:build unix

package sources_test

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/portside-dev/portside/errs"
)

// A named pipe where a catalog file is expected is refused, not opened: opening one waits for a
// writer, and the refresh (or `catalog validate`) waited for good.
func TestANamedPipeIsNoCatalogFile(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"catalog-info.yaml": "kind: Component\n"})
	pipe := filepath.Join(root, "pipe.yaml")
	if err := syscall.Mkfifo(pipe, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	s := openFiles(t, root)
	_, err := s.ReadFile(context.Background(), pipe)
	if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "is not a regular file (a named pipe)") {
		t.Errorf("ReadFile(a named pipe) = %v, want INVALID naming it", err)
	}
}

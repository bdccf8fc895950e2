package sources_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/sources"
	"github.com/portside-dev/portside/errs"
)

// writeTree writes files (slash paths relative to root, with their content) under root.
func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// catalogTree is a catalog on disk: catalog-info files at several depths, and other files that a
// directory location must not pick up.
var catalogTree = map[string]string{
	"catalog-info.yaml":                   "kind: Location # root\n",
	"services/a/catalog-info.yaml":        "kind: Component # a\n",
	"services/a/openapi.yaml":             "openapi: 3.0.0 # a\n",
	"services/b/deep/catalog-info.yml":    "kind: Component # b\n",
	"services/b/README.md":                "# b\n",
	"services/b/catalog-info.yaml.orig":   "kind: Component # stale copy\n",
	"services/b/not-catalog-info.yaml":    "kind: Component # not a catalog file by name\n",
	"docs/runbook.md":                     "# runbook\n",
	"other.yaml":                          "kind: Group\n",
	".hidden/catalog-info.yaml":           "kind: Component # hidden dir\n",
	"services/c/CATALOG-INFO.YAML.backup": "nope\n",
}

func openFiles(t *testing.T, target string) catalog.Snapshot {
	t.Helper()
	r := &sources.Files{}
	spec, err := r.Check(catalog.LocationSpec{Type: catalog.LocationFile, Target: target})
	if err != nil {
		t.Fatalf("Check(%q): %v", target, err)
	}
	s, err := r.Open(context.Background(), spec, "")
	if err != nil {
		t.Fatalf("Open(%q): %v", target, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// under turns slash paths relative to root into the absolute paths a disk snapshot uses.
func under(root string, names ...string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = filepath.Join(root, filepath.FromSlash(n))
	}
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestFilesOpenSelectsFiles(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, catalogTree)
	tests := []struct {
		name   string
		target string
		want   []string
	}{
		{
			name:   "a file selects itself",
			target: "services/a/openapi.yaml",
			want:   []string{"services/a/openapi.yaml"},
		},
		{
			name:   "a directory selects its catalog-info.yaml and .yml files at any depth, and nothing else",
			target: ".",
			want:   []string{".hidden/catalog-info.yaml", "catalog-info.yaml", "services/a/catalog-info.yaml", "services/b/deep/catalog-info.yml"},
		},
		{
			name:   "a subdirectory",
			target: "services/b",
			want:   []string{"services/b/deep/catalog-info.yml"},
		},
		{
			name:   "a glob with **",
			target: "services/**/*.yaml",
			want:   []string{"services/a/catalog-info.yaml", "services/a/openapi.yaml", "services/b/not-catalog-info.yaml"},
		},
		{
			name:   "a glob with * in a directory name",
			target: "services/*/catalog-info.yaml",
			want:   []string{"services/a/catalog-info.yaml"},
		},
		{
			name:   "a glob with alternatives",
			target: "{other,catalog-info}.yaml",
			want:   []string{"catalog-info.yaml", "other.yaml"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openFiles(t, filepath.Join(root, filepath.FromSlash(tt.target)))
			if diff := cmp.Diff(under(root, tt.want...), sorted(s.Files())); diff != "" {
				t.Errorf("Files() (-want +got):\n%s", diff)
			}
			if s.Revision() != "" || s.Unchanged() {
				t.Errorf("Revision() = %q, Unchanged() = %v; disk locations have neither", s.Revision(), s.Unchanged())
			}
			for _, f := range s.Files() {
				rel, _ := filepath.Rel(root, f)
				got, err := s.ReadFile(context.Background(), f)
				if err != nil {
					t.Fatalf("ReadFile(%s): %v", f, err)
				}
				if want := catalogTree[filepath.ToSlash(rel)]; string(got) != want {
					t.Errorf("ReadFile(%s) = %q, want %q", f, got, want)
				}
			}
		})
	}
}

func TestFilesOpenRefusesTargetsThatSelectNothing(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"services/a/openapi.yaml": "x", "empty/README.md": "x"})
	tests := []struct {
		name   string
		target string
	}{
		{"a missing file", filepath.Join(root, "nope.yaml")},
		{"a missing directory", filepath.Join(root, "nope")},
		{"a glob that matches nothing", filepath.Join(root, "services", "**", "*.json")},
		{"a glob under a missing directory", filepath.Join(root, "nope", "*.yaml")},
		{"a directory without catalog-info files", filepath.Join(root, "empty")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := (&sources.Files{}).Open(context.Background(), catalog.LocationSpec{Type: catalog.LocationFile, Target: tt.target}, "")
			if err == nil {
				s.Close()
				t.Fatalf("Open(%s) succeeded with files %v", tt.target, s.Files())
			}
			if !errs.Is(err, errs.Invalid) {
				t.Errorf("Open(%s) = %v, want %s", tt.target, err, errs.Invalid)
			}
			if !strings.Contains(errs.PublicMessage(err), tt.target) {
				t.Errorf("message %q does not name %s", errs.PublicMessage(err), tt.target)
			}
		})
	}
}

func TestFilesCheckMakesTheTargetAbsolute(t *testing.T) {
	wd := t.TempDir()
	t.Chdir(wd)
	r := &sources.Files{}
	tests := []struct{ target, want string }{
		{"catalog-info.yaml", filepath.Join(wd, "catalog-info.yaml")},
		{"./services/../catalog/**/*.yaml", filepath.Join(wd, "catalog", "**", "*.yaml")},
		{"/srv/catalog", "/srv/catalog"},
	}
	for _, tt := range tests {
		spec, err := r.Check(catalog.LocationSpec{Type: catalog.LocationFile, Target: tt.target})
		if err != nil {
			t.Errorf("Check(%q): %v", tt.target, err)
			continue
		}
		if spec.Target != tt.want {
			t.Errorf("Check(%q).Target = %q, want %q", tt.target, spec.Target, tt.want)
		}
	}

	_, err := r.Check(catalog.LocationSpec{Type: catalog.LocationFile, Target: "catalog/[unclosed.yaml"})
	if !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != "target" {
		t.Errorf("Check of a broken glob = %v, want %s on field target", err, errs.Invalid)
	}
}

func TestFilesResolveStaysInsideTheLocation(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, catalogTree)
	dirSnap := openFiles(t, root)
	fileSnap := openFiles(t, filepath.Join(root, "services", "a", "catalog-info.yaml"))
	globSnap := openFiles(t, filepath.Join(root, "services", "**", "catalog-info.yaml"))
	base := filepath.Join(root, "services", "a", "catalog-info.yaml")

	tests := []struct {
		name   string
		snap   catalog.Snapshot
		target string
		want   string // slash path under root; "" = refused
	}{
		{"a sibling file", fileSnap, "openapi.yaml", "services/a/openapi.yaml"},
		{"a sibling file written with ./", fileSnap, "./openapi.yaml", "services/a/openapi.yaml"},
		{"a file location cannot climb out of its directory", fileSnap, "../b/README.md", ""},
		{"a directory location reaches across its tree", dirSnap, "../b/README.md", "services/b/README.md"},
		{"up to the directory location's root", dirSnap, "../../docs/runbook.md", "docs/runbook.md"},
		{"out of the directory location", dirSnap, "../../../outside.yaml", ""},
		{"a glob location's root is the fixed part of the pattern", globSnap, "../b/README.md", "services/b/README.md"},
		{"out of the glob location's root", globSnap, "../../docs/runbook.md", ""},
		{"an absolute path", dirSnap, "/etc/passwd", ""},
		{"an absolute path inside the location", dirSnap, filepath.Join(root, "other.yaml"), ""},
		{"a URL", dirSnap, "https://example.com/catalog-info.yaml", ""},
		{"a file: URL", dirSnap, "file:///etc/passwd", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.snap.Resolve(base, tt.target)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("Resolve(%q) = %q, want it refused", tt.target, got)
				}
				if !errs.Is(err, errs.Invalid) {
					t.Errorf("Resolve(%q) = %v, want %s", tt.target, err, errs.Invalid)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resolve(%q): %v", tt.target, err)
			}
			if want := under(root, tt.want)[0]; got != want {
				t.Errorf("Resolve(%q) = %q, want %q", tt.target, got, want)
			}
			b, err := tt.snap.ReadFile(context.Background(), got)
			if err != nil || string(b) != catalogTree[tt.want] {
				t.Errorf("ReadFile(%s) = %q, %v; want %q", got, b, err, catalogTree[tt.want])
			}
		})
	}
}

func TestFilesGlobStaysInsideTheLocation(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, catalogTree)
	s := openFiles(t, root)

	got, err := s.Glob(filepath.Join(root, "services", "**", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(under(root, "services/b/README.md"), got); diff != "" {
		t.Errorf("Glob (-want +got):\n%s", diff)
	}

	plain := filepath.Join(root, "other.yaml")
	if got, err := s.Glob(plain); err != nil || !slices.Equal(got, []string{plain}) {
		t.Errorf("Glob(%s) = %v, %v; a name without a pattern expands to itself", plain, got, err)
	}

	for _, outside := range []string{
		filepath.Join(filepath.Dir(root), "*"),
		filepath.Join(root, "..", "**", "*.yaml"),
		"/etc/*",
	} {
		if got, err := s.Glob(outside); !errs.Is(err, errs.Invalid) {
			t.Errorf("Glob(%s) = %v, %v; want it refused as outside the location", outside, got, err)
		}
	}
}

func TestFilesReadFile(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{"catalog-info.yaml": "kind: Component\n"})
	s := openFiles(t, root)
	ctx := context.Background()

	t.Run("a missing file is not found", func(t *testing.T) {
		name := filepath.Join(root, "missing.yaml")
		_, err := s.ReadFile(ctx, name)
		if !errs.Is(err, errs.NotFound) || !strings.Contains(err.Error(), name) {
			t.Errorf("ReadFile(%s) = %v, want %s naming the file", name, err, errs.NotFound)
		}
	})

	t.Run("a file of exactly DefaultMaxFileBytes is read", func(t *testing.T) {
		name := filepath.Join(root, "limit.yaml")
		sparse(t, name, sources.DefaultMaxFileBytes)
		b, err := s.ReadFile(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) != sources.DefaultMaxFileBytes || !bytes.Equal(b[:8], make([]byte, 8)) {
			t.Errorf("read %d bytes, want %d", len(b), sources.DefaultMaxFileBytes)
		}
	})

	t.Run("a larger file is refused", func(t *testing.T) {
		name := filepath.Join(root, "huge.yaml")
		sparse(t, name, sources.DefaultMaxFileBytes+1)
		b, err := s.ReadFile(ctx, name)
		if !errs.Is(err, errs.Invalid) {
			t.Fatalf("ReadFile of %d bytes = %d bytes, %v; want %s", sources.DefaultMaxFileBytes+1, len(b), err, errs.Invalid)
		}
		if !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "larger than") {
			t.Errorf("message %q does not name the file and its problem", err)
		}
	})
}

// sparse creates a file of size bytes without writing them.
func sparse(t *testing.T, name string, size int64) {
	t.Helper()
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Truncate(name, size); err != nil {
		t.Fatal(err)
	}
}

// A symbolic link inside a file location must not read what lies outside it.
func TestFilesDoNotFollowSymlinksOutOfTheLocation(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(outside, []byte("top secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "catalog-info.yaml"), []byte("kind: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "docs.md")); err != nil {
		t.Fatal(err)
	}
	r := &sources.Files{}
	spec, err := r.Check(catalog.LocationSpec{Type: catalog.LocationFile, Target: filepath.Join(dir, "catalog-info.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := r.Open(context.Background(), spec, "")
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	name, err := snap.Resolve(filepath.Join(dir, "catalog-info.yaml"), "./docs.md")
	if err != nil {
		t.Fatal(err)
	}
	b, err := snap.ReadFile(context.Background(), name)
	if err == nil || strings.Contains(string(b), "secret") || strings.Contains(err.Error(), "top secret") {
		t.Errorf("read through a symlink out of the location: %q, %v", b, err)
	}
}

// Generated catalogs of a few tens of megabytes are real: a 12 MB file used to be refused by a
// fixed 10 MiB cap. The bound is a setting now, and the refusal names it.
func TestMaxFileBytesIsASetting(t *testing.T) {
	root := t.TempDir()
	name := filepath.Join(root, "catalog-info.yaml")
	sparse(t, name, 12<<20)
	tests := []struct {
		name  string
		limit int64
		ok    bool
	}{
		{"12 MB under the default bound", 0, true},
		{"12 MB over a bound of 8 MiB", 8 << 20, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &sources.Files{MaxFileBytes: tt.limit}
			s, err := r.Open(context.Background(), catalog.LocationSpec{Type: catalog.LocationFile, Target: name}, "")
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			b, err := s.ReadFile(context.Background(), name)
			switch {
			case tt.ok && (err != nil || len(b) != 12<<20):
				t.Errorf("ReadFile = %d bytes, %v; want all 12 MiB", len(b), err)
			case !tt.ok && (!errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "catalog-max-file-bytes")):
				t.Errorf("ReadFile = %v; want %s naming catalog-max-file-bytes", err, errs.Invalid)
			}
		})
	}
}

// Ingestion streams files (catalog.FileOpener); the bound holds while a file streams, and the
// failure names the file and the setting once the bound is passed, not after the file is read.
func TestOpenFileStreamsWithinTheBound(t *testing.T) {
	root := t.TempDir()
	const limit = 1000
	writeTree(t, root, map[string]string{
		"exact/catalog-info.yaml": strings.Repeat("#", limit),
		"over/catalog-info.yaml":  strings.Repeat("#", 100*limit),
	})
	r := &sources.Files{MaxFileBytes: limit}
	s, err := r.Open(context.Background(), catalog.LocationSpec{Type: catalog.LocationFile, Target: root}, "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	open := func(name string) io.ReadCloser {
		t.Helper()
		f, err := s.(catalog.FileOpener).OpenFile(context.Background(), filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}
	if b, err := io.ReadAll(open("exact/catalog-info.yaml")); err != nil || len(b) != limit {
		t.Errorf("a file of exactly the bound: %d bytes, %v; want all %d", len(b), err, limit)
	}
	b, err := io.ReadAll(open("over/catalog-info.yaml"))
	if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "catalog-max-file-bytes") || !strings.Contains(err.Error(), "over") {
		t.Errorf("a larger file: %v; want %s naming the file and catalog-max-file-bytes", err, errs.Invalid)
	}
	if len(b) > limit {
		t.Errorf("%d bytes of a larger file were handed over; want at most the bound, %d", len(b), limit)
	}
}

// `**` does not descend into symbolic links to directories, as Backstage's file reader does not:
// a link back up the tree (svc/up -> ..) made the listing endless and the whole location
// unreadable. The files beside it are read.
func TestADirectoryLocationIsListedWithoutFollowingLinksToDirectories(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "svc", "deep"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"svc/catalog-info.yaml", "svc/deep/catalog-info.yaml"} {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), []byte("kind: x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("..", filepath.Join(dir, "svc", "up")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("deep", filepath.Join(dir, "svc", "also-deep")); err != nil {
		t.Fatal(err)
	}
	r := &sources.Files{}
	spec, err := r.Check(catalog.LocationSpec{Type: catalog.LocationFile, Target: dir})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := r.Open(context.Background(), spec, "")
	if err != nil {
		t.Fatalf("a directory with a link back up: %v", err)
	}
	defer snap.Close()
	want := []string{filepath.Join(dir, "svc", "catalog-info.yaml"), filepath.Join(dir, "svc", "deep", "catalog-info.yaml")}
	if got := snap.Files(); !slices.Equal(got, want) {
		t.Errorf("files %q, want %q (each once, none through a link)", got, want)
	}
}

// Package sources reads catalog locations: files on disk, http(s) URLs, git repositories (with the
// git command) and catalogs embedded in the binary. Each type implements catalog.Reader; the
// catalog package itself never touches the disk, the network or git.
package sources

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/portside-dev/portside/errs"
)

// DefaultMaxFileBytes bounds one catalog file (or a file a placeholder reads) when a reader's
// MaxFileBytes is 0: generated catalogs of tens of megabytes fit; the catalog-max-file-bytes
// setting changes it.
const DefaultMaxFileBytes = 64 << 20

// maxBytes is a reader's bound on one file.
func maxBytes(n int64) int64 {
	if n <= 0 {
		return DefaultMaxFileBytes
	}
	return n
}

// catalogFileGlobs are what a directory target selects, as in Backstage: catalog-info files.
var catalogFileGlobs = []string{"**/catalog-info.yaml", "**/catalog-info.yml"}

// fsSnapshot is a snapshot over an fs.FS: an embedded catalog or a git checkout. Names are slash
// paths inside the FS, which is also what people see as a document's source.
type fsSnapshot struct {
	fsys      fs.FS
	limit     int64
	files     []string
	revision  string
	unchanged bool
	all       []string // every file, for Glob; filled on first use
	close     func() error
}

func (s *fsSnapshot) Revision() string { return s.revision }
func (s *fsSnapshot) Unchanged() bool  { return s.unchanged }
func (s *fsSnapshot) Sealed() bool     { return true }
func (s *fsSnapshot) Files() []string  { return s.files }

// ReadsLocally reports that every read is of the FS, in memory or on this machine
// (catalog.LocalReader).
func (s *fsSnapshot) ReadsLocally() bool { return true }

func (s *fsSnapshot) Close() error {
	if s.close != nil {
		return s.close()
	}
	return nil
}

func (s *fsSnapshot) ReadFile(ctx context.Context, name string) ([]byte, error) {
	f, err := s.OpenFile(ctx, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAll(f)
}

// OpenFile opens a file for reading as a stream, bounded like ReadFile.
func (s *fsSnapshot) OpenFile(_ context.Context, name string) (io.ReadCloser, error) {
	f, err := s.fsys.Open(name)
	if err != nil {
		return nil, errs.Wrap(errs.NotFound, err, "%s does not exist", name)
	}
	return limitFile(f, name, maxBytes(s.limit)), nil
}

func readLimited(r io.Reader, name string, limit int64) ([]byte, error) {
	return readAll(&boundedReader{r: r, name: name, left: limit, limit: limit})
}

// readAll reads a bounded file whole.
func readAll(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err // a boundedReader's errors say what went wrong, and with which file
	}
	return b, nil
}

// limitFile bounds a file's reader by limit bytes.
func limitFile(f io.ReadCloser, name string, limit int64) io.ReadCloser {
	return struct {
		io.Reader
		io.Closer
	}{&boundedReader{r: f, name: name, left: limit, limit: limit}, f}
}

// boundedReader reads at most limit bytes of a file and fails, naming the setting that raises the
// bound, as soon as the file is found to hold more: the bound holds while a file is streamed, not
// only once it has been read whole.
type boundedReader struct {
	r     io.Reader
	name  string
	left  int64 // bytes that may still be read
	limit int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, tooLarge(b.name, b.limit)
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1] // one byte more than allowed tells a file of exactly limit bytes from a larger one
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return n + int(b.left), tooLarge(b.name, b.limit)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		err = errs.Wrap(errs.Unavailable, err, "read %s", b.name)
	}
	return n, err
}

// tooLarge says a file is over the bound, and which setting raises it.
func tooLarge(name string, limit int64) error {
	return errs.E(errs.Invalid, "%s is larger than %d bytes, the largest catalog file this server reads (catalog-max-file-bytes)", name, limit)
}

// Resolve joins a relative target to the directory of base, refusing absolute paths, URLs and
// paths that climb out of the FS.
func (s *fsSnapshot) Resolve(base, target string) (string, error) {
	return resolveInside(base, target)
}

func resolveInside(base, target string) (string, error) {
	switch {
	case strings.Contains(target, "://"):
		return "", errs.E(errs.Invalid, "%q is a URL; this location can only read files inside itself", target)
	case path.IsAbs(target):
		return "", errs.E(errs.Invalid, "%q is absolute; write it relative to %s", target, base)
	}
	name := path.Join(path.Dir(base), target)
	if name == ".." || strings.HasPrefix(name, "../") {
		return "", errs.E(errs.Invalid, "%q leaves the location", target)
	}
	return name, nil
}

func (s *fsSnapshot) Glob(pattern string) ([]string, error) {
	if !hasMeta(pattern) {
		return []string{pattern}, nil
	}
	if s.all == nil {
		if err := fs.WalkDir(s.fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() {
				s.all = append(s.all, p)
			}
			return nil
		}); err != nil {
			return nil, errs.Wrap(errs.Unavailable, err, "list files")
		}
	}
	return match(s.all, pattern)
}

// match returns the names that match a doublestar pattern, sorted.
func match(names []string, patterns ...string) ([]string, error) {
	var out []string
	for _, p := range patterns {
		if !doublestar.ValidatePattern(p) {
			return nil, errs.E(errs.Invalid, "%q is not a valid glob pattern", p)
		}
		for _, n := range names {
			if ok, _ := doublestar.Match(p, n); ok {
				out = append(out, n)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func hasMeta(p string) bool { return strings.ContainsAny(p, "*?[{") }

// Embedded reads catalogs compiled into the binary, by name (the demo catalog).
type Embedded struct {
	FS map[string]fs.FS
}

// Check accepts the names of the embedded catalogs.
func (r Embedded) Check(spec catalogSpec) (catalogSpec, error) {
	if _, ok := r.FS[spec.Target]; !ok {
		return spec, errs.InvalidField("target", "no embedded catalog is called %q", spec.Target)
	}
	return spec, nil
}

// Open lists the catalog-info files of the embedded catalog.
func (r Embedded) Open(_ context.Context, spec catalogSpec, _ string) (snapshot, error) {
	fsys, ok := r.FS[spec.Target]
	if !ok {
		return nil, errs.E(errs.NotFound, "no embedded catalog is called %q", spec.Target)
	}
	s := &fsSnapshot{fsys: fsys}
	files, err := s.Glob("**/catalog-info.yaml")
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, errs.E(errs.Invalid, "embedded catalog %q has no catalog-info.yaml", spec.Target)
	}
	s.files = files
	return s, nil
}

package sources

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/portside-dev/portside/errs"
)

// Files reads locations on the server's disk: a file, a directory (its catalog-info.yaml files, at
// any depth) or a glob ("/srv/catalog/**/*.yaml"). Placeholders and Location entities may read
// other files under the location's root: the directory of the file, the directory itself, or the
// fixed part of the glob.
type Files struct {
	// MaxFileBytes bounds one file; DefaultMaxFileBytes when 0.
	MaxFileBytes int64
}

// Check makes the target absolute, so the server and the CLI mean the same file.
func (*Files) Check(spec catalogSpec) (catalogSpec, error) {
	abs, err := filepath.Abs(spec.Target)
	if err != nil {
		return spec, errs.InvalidField("target", "%q is not a usable path: %v", spec.Target, err)
	}
	if hasMeta(abs) && !doublestar.ValidatePattern(filepath.ToSlash(abs)) {
		return spec, errs.InvalidField("target", "%q is not a valid glob pattern", spec.Target)
	}
	spec.Target = abs
	return spec, nil
}

// Open finds the files the target selects.
func (r *Files) Open(_ context.Context, spec catalogSpec, _ string) (snapshot, error) {
	target := filepath.Clean(spec.Target)
	var root string
	var files []string
	switch info, err := os.Stat(target); {
	case hasMeta(target):
		base, pattern := doublestar.SplitPattern(filepath.ToSlash(target))
		root = filepath.FromSlash(base)
		files, err = globDisk(root, pattern)
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, errs.E(errs.Invalid, "%s matches no files", target)
		}
	case errors.Is(err, fs.ErrNotExist):
		return nil, errs.E(errs.Invalid, "%s does not exist", target)
	case err != nil:
		return nil, errs.Wrap(errs.Unavailable, err, "read %s", target)
	case info.IsDir():
		root = target
		files, err = globDisk(root, catalogFileGlobs...)
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, errs.E(errs.Invalid, "directory %s holds no catalog-info.yaml files", target)
		}
	default:
		root = filepath.Dir(target)
		files = []string{target}
	}
	dir, err := os.OpenRoot(root)
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "open %s", root)
	}
	return &diskSnapshot{root: root, dir: dir, files: files, limit: maxBytes(r.MaxFileBytes)}, nil
}

// globDisk returns absolute paths under root matching slash patterns relative to root.
//
// `**` does not descend into symbolic links to directories, as Backstage's file reader (node's
// glob) does not: a link back up the tree (svc/up -> ..) made the listing endless until the
// system refused ("too many levels of symbolic links") and the whole location unreadable. A
// directory that cannot be read fails the listing, naming it and why: read partly, the location
// would lose the entities of what was skipped.
func globDisk(root string, patterns ...string) ([]string, error) {
	var out []string
	for _, p := range patterns {
		matches, err := doublestar.Glob(os.DirFS(root), p, doublestar.WithFilesOnly(), doublestar.WithFailOnIOErrors(), doublestar.WithNoFollow())
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				return nil, errs.E(errs.Unavailable, "list %s: %s: %s", filepath.Join(root, p), filepath.Join(root, filepath.FromSlash(pe.Path)), pe.Err)
			}
			return nil, errs.E(errs.Unavailable, "list %s: %s", filepath.Join(root, p), err)
		}
		for _, m := range matches {
			out = append(out, filepath.Join(root, filepath.FromSlash(m)))
		}
	}
	return out, nil
}

// diskSnapshot names files by absolute path: that is what people see as a document's source. It
// reads through an os.Root, so neither ../ nor a symbolic link leads out of the location's root.
type diskSnapshot struct {
	limit int64
	root  string
	dir   *os.Root
	files []string
}

func (s *diskSnapshot) Revision() string { return "" }
func (s *diskSnapshot) Unchanged() bool  { return false }
func (s *diskSnapshot) Sealed() bool     { return false }
func (s *diskSnapshot) Files() []string  { return s.files }
func (s *diskSnapshot) Close() error     { return s.dir.Close() }

// ReadsLocally reports that every read is of a file under the location's root on this machine
// (catalog.LocalReader).
func (s *diskSnapshot) ReadsLocally() bool { return true }

func (s *diskSnapshot) ReadFile(ctx context.Context, name string) ([]byte, error) {
	f, err := s.OpenFile(ctx, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAll(f)
}

// OpenFile opens a file for reading as a stream, bounded like ReadFile.
func (s *diskSnapshot) OpenFile(_ context.Context, name string) (io.ReadCloser, error) {
	rel, err := filepath.Rel(s.root, name)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil, errs.E(errs.Invalid, "%s is outside the location", name)
	}
	// Only a regular file: opening a named pipe waits for a writer (the refresh or the command
	// hung for good), and a device may never end.
	if fi, err := s.dir.Stat(rel); err == nil && !fi.Mode().IsRegular() {
		return nil, errs.E(errs.Invalid, "%s is not a regular file (%s); a catalog file must be one", name, fileKind(fi.Mode()))
	}
	f, err := s.dir.Open(rel)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errs.E(errs.NotFound, "%s does not exist", name)
		}
		return nil, errs.E(errs.Invalid, "%s cannot be read from inside the location: %s", name, unwrapPathError(err))
	}
	return limitFile(f, name, s.limit), nil
}

// fileKind names what a file that is not a regular one is.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	default:
		return m.Type().String()
	}
}

// unwrapPathError keeps the reason of a path error ("path escapes from parent") without the path,
// which the caller names already.
func unwrapPathError(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func (s *diskSnapshot) Resolve(base, target string) (string, error) {
	rel, err := filepath.Rel(s.root, base)
	if err != nil {
		return "", errs.E(errs.Invalid, "%s is outside the location", base)
	}
	name, err := resolveInside(filepath.ToSlash(rel), filepath.ToSlash(target))
	if err != nil {
		return "", err
	}
	return filepath.Join(s.root, filepath.FromSlash(name)), nil
}

func (s *diskSnapshot) Glob(pattern string) ([]string, error) {
	if !hasMeta(pattern) {
		return []string{pattern}, nil
	}
	rel, err := filepath.Rel(s.root, pattern)
	if err != nil || strings.HasPrefix(rel, "..") {
		return nil, errs.E(errs.Invalid, "%s is outside the location", pattern)
	}
	return globDisk(s.root, filepath.ToSlash(rel))
}

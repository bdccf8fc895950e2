package sources_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/sources"
	"github.com/portside-dev/portside/errs"
)

// gitRepo is a real repository in a temp dir, built with the git command.
type gitRepo struct {
	t   *testing.T
	dir string
}

// gitTestEnv makes the test's own git commands independent of the machine's configuration.
var gitTestEnv = []string{
	"GIT_AUTHOR_NAME=Portside Test", "GIT_AUTHOR_EMAIL=test@portside.invalid",
	"GIT_COMMITTER_NAME=Portside Test", "GIT_COMMITTER_EMAIL=test@portside.invalid",
	"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + os.DevNull, "GIT_TERMINAL_PROMPT=0",
}

func requireGit(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
}

// newGitRepo creates a repository whose default branch is trunk (not main, so nothing can rely on
// the name).
func newGitRepo(t *testing.T, dir string) *gitRepo {
	t.Helper()
	requireGit(t)
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	r := &gitRepo{t: t, dir: dir}
	r.git("init", "--quiet", "--initial-branch=trunk", dir)
	return r
}

func (r *gitRepo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), gitTestEnv...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit writes files (slash paths; "" content deletes) and commits them, returning the commit.
func (r *gitRepo) commit(msg string, files map[string]string) string {
	r.t.Helper()
	for name, content := range files {
		p := filepath.Join(r.dir, filepath.FromSlash(name))
		if content == "" {
			r.git("rm", "--quiet", name)
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
	r.git("add", "--all")
	r.git("commit", "--quiet", "--allow-empty", "-m", msg)
	return r.git("rev-parse", "HEAD")
}

func (r *gitRepo) url() string { return "file://" + filepath.ToSlash(r.dir) }

// gitReader returns a Git reader with a cache dir of its own.
func gitReader(t *testing.T) *sources.Git {
	t.Helper()
	return &sources.Git{CacheDir: t.TempDir(), AllowLoopback: true} // test servers listen on loopback
}

// openGit checks and opens a spec the way the catalog does, closing the snapshot when the test ends.
func openGit(t *testing.T, g *sources.Git, spec catalog.LocationSpec, since string) (catalog.Snapshot, error) {
	t.Helper()
	spec.Type = catalog.LocationGit
	spec, err := g.Check(spec)
	if err != nil {
		t.Fatalf("Check(%+v): %v", spec, err)
	}
	s, err := g.Open(context.Background(), spec, since)
	if err == nil {
		t.Cleanup(func() { _ = s.Close() })
	}
	return s, err
}

func mustOpenGit(t *testing.T, g *sources.Git, spec catalog.LocationSpec, since string) catalog.Snapshot {
	t.Helper()
	s, err := openGit(t, g, spec, since)
	if err != nil {
		t.Fatalf("Open(%+v): %v", spec, err)
	}
	return s
}

func readAll(t *testing.T, s catalog.Snapshot) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, f := range s.Files() {
		b, err := s.ReadFile(context.Background(), f)
		if err != nil {
			t.Fatalf("ReadFile(%s): %v", f, err)
		}
		out[f] = string(b)
	}
	return out
}

// catFileProcesses counts the running `git cat-file --batch` processes whose working directory is
// under dir (a reader's cache dir), by looking at /proc.
func catFileProcesses(t *testing.T, dir string) int {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("counting processes needs /proc")
	}
	dir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue // not a process, or gone
		}
		args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
		if len(args) < 3 || filepath.Base(args[0]) != "git" || args[1] != "cat-file" || args[2] != "--batch" {
			continue
		}
		cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		if err == nil && strings.HasPrefix(cwd, dir+string(filepath.Separator)) {
			n++
		}
	}
	return n
}

// closeAndCheck closes a snapshot and asserts its cat-file process has exited.
func closeAndCheck(t *testing.T, s catalog.Snapshot, cacheDir string) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if n := catFileProcesses(t, cacheDir); n != 0 {
		t.Errorf("%d git cat-file processes still run after Close", n)
	}
}

func TestGitOpenReadsTheDefaultBranch(t *testing.T) {
	repo := newGitRepo(t, "")
	head := repo.commit("first", map[string]string{
		"catalog-info.yaml":            "kind: Component # trunk\n",
		"services/a/catalog-info.yaml": "kind: Component # a\n",
	})
	g := gitReader(t)
	s := mustOpenGit(t, g, catalog.LocationSpec{Target: repo.url()}, "")

	if s.Revision() != head {
		t.Errorf("Revision() = %q, want the commit %q", s.Revision(), head)
	}
	if s.Unchanged() {
		t.Error("the first read is Unchanged")
	}
	want := map[string]string{"catalog-info.yaml": "kind: Component # trunk\n"}
	if diff := cmp.Diff(want, readAll(t, s)); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	if n := catFileProcesses(t, g.CacheDir); n != 1 {
		t.Errorf("%d git cat-file processes while the snapshot is open, want 1", n)
	}
	closeAndCheck(t, s, g.CacheDir)
}

func TestGitOpenFollowsARef(t *testing.T) {
	repo := newGitRepo(t, "")
	first := repo.commit("first", map[string]string{"catalog-info.yaml": "version: 1\n"})
	repo.git("tag", "--annotate", "--message", "release 1", "v1.0")
	repo.git("tag", "light", first)
	second := repo.commit("second", map[string]string{"catalog-info.yaml": "version: 2\n"})
	repo.git("checkout", "--quiet", "-b", "staging")
	staging := repo.commit("staging", map[string]string{"catalog-info.yaml": "version: staging\n"})
	repo.git("checkout", "--quiet", "trunk")

	tests := []struct {
		ref, revision, content string
	}{
		{"", second, "version: 2\n"},
		{"trunk", second, "version: 2\n"},
		{"staging", staging, "version: staging\n"},
		{"refs/heads/staging", staging, "version: staging\n"},
		{"v1.0", first, "version: 1\n"},
		{"light", first, "version: 1\n"},
	}
	for _, tt := range tests {
		t.Run("ref "+tt.ref, func(t *testing.T) {
			g := gitReader(t)
			s := mustOpenGit(t, g, catalog.LocationSpec{Target: repo.url(), Ref: tt.ref}, "")
			if s.Revision() != tt.revision {
				t.Errorf("Revision() = %s, want %s", s.Revision(), tt.revision)
			}
			if diff := cmp.Diff(map[string]string{"catalog-info.yaml": tt.content}, readAll(t, s)); diff != "" {
				t.Errorf("files (-want +got):\n%s", diff)
			}
			closeAndCheck(t, s, g.CacheDir)
		})
	}
}

// servicesRepo is a repository with catalog files in several places.
func servicesRepo(t *testing.T) *gitRepo {
	repo := newGitRepo(t, "")
	repo.commit("services", map[string]string{
		"catalog-info.yaml":                    "kind: Location\n",
		"services/a/catalog-info.yaml":         "kind: Component # a\n",
		"services/a/openapi.yaml":              "openapi: 3.0.0 # a\n",
		"services/b/catalog-info.yaml":         "kind: Component # b\n",
		"services/b/deep/catalog-info.yml":     "kind: Component # deep\n",
		"services/b/docs/runbook.md":           "# runbook\n",
		"services/b/docs/my runbook.md":        "# my runbook\n",
		"services/shared/openapi.yaml":         "openapi: 3.0.0 # shared\n",
		"tools/catalog-info.yaml":              "kind: Component # tools\n",
		"services/c/not-a-catalog-info.yaml":   "kind: Component # not by name\n",
		"services/c/catalog-info.yaml.example": "kind: Component # example\n",
	})
	return repo
}

func TestGitOpenSelectsFilesByPath(t *testing.T) {
	repo := servicesRepo(t)
	tests := []struct {
		path string
		want []string
	}{
		{"", []string{"catalog-info.yaml"}},
		{"services/a/catalog-info.yaml", []string{"services/a/catalog-info.yaml"}},
		{"/services/a/catalog-info.yaml", []string{"services/a/catalog-info.yaml"}},
		{"services/*/catalog-info.yaml", []string{"services/a/catalog-info.yaml", "services/b/catalog-info.yaml"}},
		{"services/**/catalog-info.{yaml,yml}", []string{"services/a/catalog-info.yaml", "services/b/catalog-info.yaml", "services/b/deep/catalog-info.yml"}},
		{"services", []string{"services/a/catalog-info.yaml", "services/b/catalog-info.yaml", "services/b/deep/catalog-info.yml"}},
		{"services/b/", []string{"services/b/catalog-info.yaml", "services/b/deep/catalog-info.yml"}},
	}
	for _, tt := range tests {
		t.Run("path "+tt.path, func(t *testing.T) {
			g := gitReader(t)
			s := mustOpenGit(t, g, catalog.LocationSpec{Target: repo.url(), Path: tt.path}, "")
			if diff := cmp.Diff(tt.want, s.Files()); diff != "" {
				t.Errorf("Files() (-want +got):\n%s", diff)
			}
			for name, content := range readAll(t, s) {
				if !strings.HasPrefix(content, "kind: ") {
					t.Errorf("ReadFile(%s) = %q", name, content)
				}
			}
			closeAndCheck(t, s, g.CacheDir)
		})
	}

	for _, path := range []string{"nope.yaml", "services/*/nope.yaml", "services/c"} {
		t.Run("nothing at "+path, func(t *testing.T) {
			_, err := openGit(t, gitReader(t), catalog.LocationSpec{Target: repo.url(), Path: path}, "")
			if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), path) {
				t.Errorf("Open = %v, want %s naming %q", err, errs.Invalid, path)
			}
		})
	}
}

func TestGitOpenAtTheSameCommitIsUnchanged(t *testing.T) {
	repo := newGitRepo(t, "")
	first := repo.commit("first", map[string]string{"catalog-info.yaml": "version: 1\n"})
	g := gitReader(t)
	spec := catalog.LocationSpec{Target: repo.url()}

	s := mustOpenGit(t, g, spec, "")
	rev := s.Revision()
	if rev != first {
		t.Fatalf("Revision() = %s, want %s", rev, first)
	}
	if diff := cmp.Diff(map[string]string{"catalog-info.yaml": "version: 1\n"}, readAll(t, s)); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}

	same := mustOpenGit(t, g, spec, rev)
	if !same.Unchanged() {
		t.Error("Open at the revision last read is not Unchanged")
	}
	if same.Revision() != rev {
		t.Errorf("unchanged Revision() = %s, want %s", same.Revision(), rev)
	}
	if len(same.Files()) != 0 {
		t.Errorf("an unchanged snapshot lists files %v", same.Files())
	}
	if n := catFileProcesses(t, g.CacheDir); n != 1 {
		t.Errorf("%d git cat-file processes with one snapshot reading and one unchanged, want 1", n)
	}
	if err := same.Close(); err != nil {
		t.Error(err)
	}

	second := repo.commit("second", map[string]string{"catalog-info.yaml": "version: 2\n"})
	next := mustOpenGit(t, g, spec, rev)
	if next.Unchanged() {
		t.Error("Open after a new commit is Unchanged")
	}
	if next.Revision() != second {
		t.Errorf("Revision() = %s, want the new commit %s", next.Revision(), second)
	}
	if diff := cmp.Diff(map[string]string{"catalog-info.yaml": "version: 2\n"}, readAll(t, next)); diff != "" {
		t.Errorf("files after the new commit (-want +got):\n%s", diff)
	}
	// The first snapshot still reads its own commit, though the cache has fetched a newer one since.
	if b, err := s.ReadFile(context.Background(), "catalog-info.yaml"); err != nil || string(b) != "version: 1\n" {
		t.Errorf("the first snapshot now reads %q, %v; want version 1", b, err)
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
	closeAndCheck(t, next, g.CacheDir)
}

func TestGitOpenOfOneLocationConcurrently(t *testing.T) {
	repo := newGitRepo(t, "")
	head := repo.commit("first", map[string]string{"catalog-info.yaml": "version: 1\n"})
	g := gitReader(t)
	spec, err := g.Check(catalog.LocationSpec{Type: catalog.LocationGit, Target: repo.url()})
	if err != nil {
		t.Fatal(err)
	}
	const n = 4
	var wg sync.WaitGroup
	revisions := make([]string, n)
	failures := make([]error, n)
	for i := range n {
		wg.Go(func() {
			s, err := g.Open(context.Background(), spec, "")
			if err != nil {
				failures[i] = err
				return
			}
			defer s.Close()
			b, err := s.ReadFile(context.Background(), "catalog-info.yaml")
			if err == nil && string(b) != "version: 1\n" {
				err = fmt.Errorf("ReadFile = %q", b)
			}
			revisions[i], failures[i] = s.Revision(), err
		})
	}
	wg.Wait()
	for i := range n {
		if failures[i] != nil {
			t.Errorf("Open %d: %v", i, failures[i])
		} else if revisions[i] != head {
			t.Errorf("Open %d: Revision() = %s, want %s", i, revisions[i], head)
		}
	}
	if n := catFileProcesses(t, g.CacheDir); n != 0 {
		t.Errorf("%d git cat-file processes still run after every snapshot closed", n)
	}
}

func TestGitSnapshotReadsResolvesAndGlobsInsideTheRepository(t *testing.T) {
	repo := servicesRepo(t)
	g := gitReader(t)
	s := mustOpenGit(t, g, catalog.LocationSpec{Target: repo.url(), Path: "services/a/catalog-info.yaml"}, "")
	ctx := context.Background()
	base := "services/a/catalog-info.yaml"

	t.Run("ReadFile of a missing file is not found", func(t *testing.T) {
		_, err := s.ReadFile(ctx, "services/a/missing.yaml")
		if !errs.Is(err, errs.NotFound) || !strings.Contains(err.Error(), "services/a/missing.yaml") {
			t.Errorf("ReadFile = %v, want %s naming the file", err, errs.NotFound)
		}
		// The batch process is still in step: the next read works.
		if b, err := s.ReadFile(ctx, "services/a/openapi.yaml"); err != nil || string(b) != "openapi: 3.0.0 # a\n" {
			t.Errorf("ReadFile after a miss = %q, %v", b, err)
		}
	})
	t.Run("ReadFile of a missing file with spaces in its name is not found", func(t *testing.T) {
		_, err := s.ReadFile(ctx, "services/a/no such file.yaml")
		if !errs.Is(err, errs.NotFound) {
			t.Errorf("ReadFile = %v, want %s", err, errs.NotFound)
		}
		if b, err := s.ReadFile(ctx, "services/b/docs/my runbook.md"); err != nil || string(b) != "# my runbook\n" {
			t.Errorf("ReadFile of an existing name with spaces = %q, %v", b, err)
		}
	})
	t.Run("ReadFile of a directory is refused", func(t *testing.T) {
		if _, err := s.ReadFile(ctx, "services/b"); !errs.Is(err, errs.Invalid) {
			t.Errorf("ReadFile(services/b) = %v, want %s", err, errs.Invalid)
		}
		if b, err := s.ReadFile(ctx, "tools/catalog-info.yaml"); err != nil || string(b) != "kind: Component # tools\n" {
			t.Errorf("ReadFile after a directory = %q, %v", b, err)
		}
	})
	t.Run("ReadFile of a name with a newline is refused", func(t *testing.T) {
		if _, err := s.ReadFile(ctx, "catalog-info.yaml\nHEAD"); !errs.Is(err, errs.Invalid) {
			t.Errorf("ReadFile = %v, want %s", err, errs.Invalid)
		}
	})

	tests := []struct {
		target string
		want   string // "" = refused
	}{
		{"openapi.yaml", "services/a/openapi.yaml"},
		{"../shared/openapi.yaml", "services/shared/openapi.yaml"},
		{"../../tools/catalog-info.yaml", "tools/catalog-info.yaml"},
		{"../../../outside.yaml", ""},
		{"../../../../etc/passwd", ""},
		{"/etc/passwd", ""},
		{"https://example.com/openapi.yaml", ""},
		{"file:///etc/passwd", ""},
	}
	for _, tt := range tests {
		t.Run("Resolve "+tt.target, func(t *testing.T) {
			got, err := s.Resolve(base, tt.target)
			if tt.want == "" {
				if !errs.Is(err, errs.Invalid) {
					t.Errorf("Resolve = %q, %v; want it refused", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Resolve = %q, %v; want %q", got, err, tt.want)
			}
			if _, err := s.ReadFile(ctx, got); err != nil {
				t.Errorf("ReadFile(%s): %v", got, err)
			}
		})
	}

	t.Run("Glob", func(t *testing.T) {
		got, err := s.Glob("services/**/*.md")
		if err != nil || !slices.Equal(got, []string{"services/b/docs/my runbook.md", "services/b/docs/runbook.md"}) {
			t.Errorf("Glob = %v, %v", got, err)
		}
		if got, err := s.Glob("services/a/openapi.yaml"); err != nil || !slices.Equal(got, []string{"services/a/openapi.yaml"}) {
			t.Errorf("Glob of a plain name = %v, %v", got, err)
		}
	})
	closeAndCheck(t, s, g.CacheDir)
}

func TestGitReadFileRefusesFilesLargerThanMaxFileBytes(t *testing.T) {
	const limit = 4 << 20 // a bound of its own, so the repository stays small
	repo := newGitRepo(t, "")
	repo.commit("big", map[string]string{
		"catalog-info.yaml": "kind: Component\n",
		"big.json":          strings.Repeat("x", 2*limit),
	})
	g := gitReader(t)
	g.MaxFileBytes = limit
	s := mustOpenGit(t, g, catalog.LocationSpec{Target: repo.url()}, "")
	if _, err := s.ReadFile(context.Background(), "catalog-info.yaml"); err != nil {
		t.Fatal(err) // starts the batch process, so that what follows measures only the large read
	}

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := s.ReadFile(context.Background(), "big.json")
	runtime.ReadMemStats(&after)
	if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "larger than") ||
		!strings.Contains(err.Error(), "catalog-max-file-bytes") {
		t.Errorf("ReadFile(big.json) = %v, want %s saying it is too large and which setting raises the bound", err, errs.Invalid)
	}
	// The limit bounds memory too: a refused file is skipped, not loaded.
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > limit {
		t.Errorf("refusing a %d-byte file allocated %d bytes; the limit is %d", 2*limit, allocated, limit)
	}
	if b, err := s.ReadFile(context.Background(), "catalog-info.yaml"); err != nil || string(b) != "kind: Component\n" {
		t.Errorf("ReadFile after the large file = %q, %v", b, err)
	}
	closeAndCheck(t, s, g.CacheDir)
}

func TestGitOpenReportsGitsComplaint(t *testing.T) {
	repo := newGitRepo(t, "")
	repo.commit("first", map[string]string{"catalog-info.yaml": "kind: Component\n"})
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	tests := []struct {
		name string
		spec catalog.LocationSpec
		msg  string // part of git's own message
	}{
		{"a remote that does not exist", catalog.LocationSpec{Target: "file:///nonexistent/portside/repo.git"}, "does not appear to be a git repository"},
		{"a server that is not there", catalog.LocationSpec{Target: closed.URL + "/repo.git"}, "Failed to connect"},
		{"a ref the remote does not have", catalog.LocationSpec{Target: repo.url(), Ref: "no-such-branch"}, "couldn't find remote ref no-such-branch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := openGit(t, gitReader(t), tt.spec, "")
			if !errs.Is(err, errs.Unavailable) {
				t.Fatalf("Open = %v, want %s", err, errs.Unavailable)
			}
			if !strings.Contains(err.Error(), tt.msg) || !strings.Contains(err.Error(), tt.spec.Target) {
				t.Errorf("message %q does not hold git's complaint %q and the remote", err, tt.msg)
			}
		})
	}
}

func TestGitCheck(t *testing.T) {
	g := &sources.Git{}
	accepted := []struct {
		in   catalog.LocationSpec
		want catalog.LocationSpec
	}{
		{catalog.LocationSpec{Target: "https://git.example.com/team/repo.git"},
			catalog.LocationSpec{Target: "https://git.example.com/team/repo.git", Path: "catalog-info.yaml"}},
		{catalog.LocationSpec{Target: "http://127.0.0.1:8080/repo", Ref: "release/v1.2", Path: "/services/*/catalog-info.yaml"},
			catalog.LocationSpec{Target: "http://127.0.0.1:8080/repo", Ref: "release/v1.2", Path: "services/*/catalog-info.yaml"}},
		{catalog.LocationSpec{Target: "git://git.example.com/repo.git", Ref: "0123456789abcdef0123456789abcdef01234567", Path: "services/"},
			catalog.LocationSpec{Target: "git://git.example.com/repo.git", Ref: "0123456789abcdef0123456789abcdef01234567", Path: "services"}},
		{catalog.LocationSpec{Target: "file:///srv/git/repo.git", Path: "./a/../b/catalog-info.yaml"},
			catalog.LocationSpec{Target: "file:///srv/git/repo.git", Path: "b/catalog-info.yaml"}},
		// Schemes ignore case; the target is written in lower case so that rules about file:// see it.
		{catalog.LocationSpec{Target: "FILE:///etc"}, catalog.LocationSpec{Target: "file:///etc", Path: "catalog-info.yaml"}},
		{catalog.LocationSpec{Target: "HTTPS://git.example.com/Team/Repo.git"},
			catalog.LocationSpec{Target: "https://git.example.com/Team/Repo.git", Path: "catalog-info.yaml"}},
	}
	for _, tt := range accepted {
		got, err := g.Check(tt.in)
		if err != nil {
			t.Errorf("Check(%+v): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Check(%+v) (-want +got):\n%s", tt.in, diff)
		}
	}

	refused := []struct {
		name  string
		spec  catalog.LocationSpec
		field string
	}{
		{"an ext:: remote runs commands", catalog.LocationSpec{Target: "ext::sh -c touch% /tmp/pwned"}, "target"},
		{"an ssh remote", catalog.LocationSpec{Target: "ssh://git@git.example.com/repo.git"}, "target"},
		{"an scp-like remote", catalog.LocationSpec{Target: "git@git.example.com:team/repo.git"}, "target"},
		{"a bare path", catalog.LocationSpec{Target: "/srv/git/repo.git"}, "target"},
		{"a target that is an option", catalog.LocationSpec{Target: "--upload-pack=touch /tmp/pwned"}, "target"},
		{"a target starting with -", catalog.LocationSpec{Target: "-oProxyCommand=x"}, "target"},
		{"a file URL without a path", catalog.LocationSpec{Target: "file:"}, "target"},
		{"an empty target", catalog.LocationSpec{}, "target"},
		{"a ref with a space", catalog.LocationSpec{Target: "https://git.example.com/repo.git", Ref: "main branch"}, "ref"},
		{"a ref with a newline", catalog.LocationSpec{Target: "https://git.example.com/repo.git", Ref: "main\nHEAD"}, "ref"},
		{"a ref that is an option", catalog.LocationSpec{Target: "https://git.example.com/repo.git", Ref: "--upload-pack=touch"}, "ref"},
		{"a refspec", catalog.LocationSpec{Target: "https://git.example.com/repo.git", Ref: "main:refs/heads/x"}, "ref"},
		{"a range", catalog.LocationSpec{Target: "https://git.example.com/repo.git", Ref: "main..x"}, "ref"},
		{"a reflog entry", catalog.LocationSpec{Target: "https://git.example.com/repo.git", Ref: "main@{1}"}, "ref"},
		{"a path out of the repository", catalog.LocationSpec{Target: "https://git.example.com/repo.git", Path: "../other/catalog-info.yaml"}, "path"},
		{"a path that is the whole repository", catalog.LocationSpec{Target: "https://git.example.com/repo.git", Path: "/"}, "path"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			tt.spec.Type = catalog.LocationGit
			got, err := g.Check(tt.spec)
			if !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != tt.field {
				t.Errorf("Check = %+v, %v; want %s on field %s", got, err, errs.Invalid, tt.field)
			}
		})
	}
}

// gitHTTPServer serves the repositories under root over git's smart HTTP protocol, with the real
// git http-backend behind net/http/cgi.
func gitHTTPServer(t *testing.T, root string) *httptest.Server {
	t.Helper()
	cmd := exec.Command("git", "--exec-path")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git --exec-path: %v", err)
	}
	backend := filepath.Join(strings.TrimSpace(string(out)), "git-http-backend")
	if _, err := os.Stat(backend); err != nil {
		t.Skipf("git-http-backend is not installed: %v", err)
	}
	srv := httptest.NewServer(&cgi.Handler{
		Path: backend,
		Root: "/",
		Env: append([]string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"},
			gitTestEnv...),
		InheritEnv: []string{"PATH"},
		Stderr:     testLog{t},
	})
	t.Cleanup(srv.Close)
	return srv
}

// testLog writes what git http-backend says on stderr to the test's log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Logf("git http-backend: %s", bytes.TrimSpace(p))
	return len(p), nil
}

func TestGitOpenOverSmartHTTP(t *testing.T) {
	root := t.TempDir()
	repo := newGitRepo(t, filepath.Join(root, "team"))
	head := repo.commit("first", map[string]string{
		"catalog-info.yaml":            "kind: Location\n",
		"services/a/catalog-info.yaml": "kind: Component # a over http\n",
	})
	srv := gitHTTPServer(t, root)

	g := gitReader(t)
	s := mustOpenGit(t, g, catalog.LocationSpec{Target: srv.URL + "/team", Path: "services"}, "")
	if s.Revision() != head {
		t.Errorf("Revision() = %s, want %s", s.Revision(), head)
	}
	if diff := cmp.Diff(map[string]string{"services/a/catalog-info.yaml": "kind: Component # a over http\n"}, readAll(t, s)); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	closeAndCheck(t, s, g.CacheDir)

	again := mustOpenGit(t, g, catalog.LocationSpec{Target: srv.URL + "/team", Path: "services"}, head)
	if !again.Unchanged() {
		t.Error("a second read over HTTP at the same commit is not Unchanged")
	}

	if _, err := openGit(t, gitReader(t), catalog.LocationSpec{Target: srv.URL + "/missing"}, ""); !errs.Is(err, errs.Unavailable) {
		t.Errorf("Open of a repository the server does not have = %v, want %s", err, errs.Unavailable)
	}
}

func TestGitReadsManyFilesThroughOneProcess(t *testing.T) {
	const n = 2000
	repo := newGitRepo(t, "")
	files := map[string]string{}
	for i := range n {
		// Contents of different sizes, so that a read that loses its place in the stream shows.
		files[fmt.Sprintf("services/svc-%04d/catalog-info.yaml", i)] = fmt.Sprintf("kind: Component\nmetadata: {name: svc-%04d}\n%s", i, strings.Repeat("#", i%97))
	}
	repo.commit("many", files)
	g := gitReader(t)
	s := mustOpenGit(t, g, catalog.LocationSpec{Target: repo.url(), Path: "services"}, "")
	if len(s.Files()) != n {
		t.Fatalf("Files() has %d names, want %d", len(s.Files()), n)
	}

	// Several readers at once, as ingestion does: they share the one batch process.
	const workers = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	var wrong []string
	for w := range workers {
		wg.Go(func() {
			for i, name := range s.Files() {
				if i%workers != w {
					continue
				}
				b, err := s.ReadFile(context.Background(), name)
				if err != nil || !bytes.Equal(b, []byte(files[name])) {
					mu.Lock()
					wrong = append(wrong, fmt.Sprintf("%s: %q, %v", name, b, err))
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if len(wrong) > 0 {
		t.Errorf("%d of %d files read wrong, first: %s", len(wrong), n, wrong[0])
	}
	if got := catFileProcesses(t, g.CacheDir); got != 1 {
		t.Errorf("%d git cat-file processes served %d reads, want 1", got, n)
	}
	closeAndCheck(t, s, g.CacheDir)
}

package sources

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/gitref"
)

// DefaultGitPath is the catalog file a git location reads when it names no path.
const DefaultGitPath = "catalog-info.yaml"

// Git reads catalog files from git repositories with the git command: a shallow fetch of one ref
// into a bare repository cached per location, then the files straight from git's object store (no
// checkout). The location's revision is the commit, so an unchanged ref costs one fetch and no
// parsing.
//
// Fetches are held to the address rule (see Guard), checked before anything is created in the
// cache: before each fetch the remote's host is resolved and every address checked; an http(s)
// fetch is then pinned to exactly those addresses (git's http.curloptResolve, so git does not
// resolve the name again) and follows no redirect (http.followRedirects=false, which also stops
// it following http-alternates to other hosts); a git:// fetch is given the checked address in
// place of the name. file:// remotes read the server's disk: whether the API may register them is
// the catalog's api-location-types rule. Through a proxy from the environment (HTTPS_PROXY...) the
// proxy connects, so the remote's host is checked by resolution only.
type Git struct {
	// CacheDir holds one bare repository per location.
	CacheDir string
	// Command is the git executable; "git" when empty.
	Command string
	// Timeout bounds one fetch; 2 minutes when 0.
	Timeout time.Duration
	// AllowLoopback lets remotes on loopback addresses (not link-local ones) be fetched.
	AllowLoopback bool
	// Guard, when set, is the address rule, and AllowLoopback is ignored; tests set it.
	Guard *Guard
	// MaxFileBytes bounds one file; DefaultMaxFileBytes when 0.
	MaxFileBytes int64

	mu    sync.Mutex
	locks map[string]*sync.Mutex // per cache dir: one fetch at a time
}

func (g *Git) guard() *Guard {
	if g.Guard != nil {
		return g.Guard
	}
	return &Guard{AllowLoopback: g.AllowLoopback}
}

// gitSchemes are the remotes Portside fetches from. Others (ext::, ssh with prompts) are refused.
var gitSchemes = map[string]bool{"http": true, "https": true, "file": true, "git": true}

// Check validates the repository URL and fills in the default path.
func (g *Git) Check(spec catalogSpec) (catalogSpec, error) {
	u, err := url.Parse(spec.Target)
	if err != nil || !gitSchemes[u.Scheme] || strings.HasPrefix(spec.Target, "-") {
		return spec, errs.InvalidField("target", "%q is not a git repository URL; use an http(s)://, git:// or file:// URL", spec.Target)
	}
	if err := refuseCredentials(u); err != nil {
		return spec, errs.InvalidField("target", "%s", errs.PublicMessage(err))
	}
	if u.Scheme == "file" && u.Path == "" {
		return spec, errs.InvalidField("target", "%q names no repository path", spec.Target)
	}
	// Schemes are case-insensitive: FILE:///etc is a file:// remote, and is written as one so that
	// every rule about file:// remotes sees it.
	spec.Target = u.Scheme + spec.Target[len(u.Scheme):]
	if spec.Ref != "" {
		if err := gitref.Check("ref", spec.Ref); err != nil {
			return spec, err
		}
	}
	if spec.Path == "" {
		spec.Path = DefaultGitPath
	}
	p := path.Clean(strings.TrimPrefix(spec.Path, "/"))
	if p == "." || p == ".." || strings.HasPrefix(p, "../") {
		return spec, errs.InvalidField("path", "%q does not name files inside the repository", spec.Path)
	}
	spec.Path = p
	return spec, nil
}

func (g *Git) lock(dir string) *sync.Mutex {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.locks == nil {
		g.locks = map[string]*sync.Mutex{}
	}
	if g.locks[dir] == nil {
		g.locks[dir] = &sync.Mutex{}
	}
	return g.locks[dir]
}

// Open fetches the ref and lists the files the path selects.
func (g *Git) Open(ctx context.Context, spec catalogSpec, since string) (snapshot, error) {
	key := sha256.Sum256([]byte(spec.Target + "\x00" + spec.Ref + "\x00" + spec.Path))
	dir := filepath.Join(g.CacheDir, hex.EncodeToString(key[:12]))
	l := g.lock(dir)
	l.Lock()
	defer l.Unlock()

	timeout := g.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	fctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// The address rule first: a refused remote leaves nothing behind in the cache.
	remote, env, err := g.remote(fctx, spec.Target)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, "HEAD")); err != nil {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, errs.Wrap(errs.Unavailable, err, "create git cache %s", dir)
		}
		if _, err := g.run(fctx, dir, nil, "init", "--bare", "--quiet"); err != nil {
			return nil, err
		}
	}
	ref := spec.Ref
	if ref == "" {
		ref = "HEAD"
	}
	if _, err := g.run(fctx, dir, env, "fetch", "--quiet", "--depth=1", "--no-tags", "--force", "--", remote, ref); err != nil {
		return nil, errs.E(errs.Unavailable, "fetch %s from %s: %s", ref, spec.Target, errs.PublicMessage(err))
	}
	out, err := g.run(fctx, dir, nil, "rev-parse", "--verify", "FETCH_HEAD^{commit}")
	if err != nil {
		return nil, err
	}
	commit := strings.TrimSpace(string(out))
	s := &gitSnapshot{git: g, dir: dir, commit: commit}
	if commit == since {
		s.unchanged = true
		return s, nil
	}
	// Keep the fetched commit reachable from a ref of our own, so git's maintenance never prunes it.
	if _, err := g.run(fctx, dir, nil, "update-ref", "refs/portside/current", commit); err != nil {
		return nil, err
	}
	list, err := g.run(fctx, dir, nil, "ls-tree", "-r", "-z", "--name-only", commit)
	if err != nil {
		return nil, err
	}
	for _, name := range strings.Split(strings.TrimRight(string(list), "\x00"), "\x00") {
		if name != "" {
			s.all = append(s.all, name)
		}
	}
	if hasMeta(spec.Path) {
		s.files, err = match(s.all, spec.Path)
		if err != nil {
			return nil, err
		}
	} else {
		for _, name := range s.all {
			if name == spec.Path {
				s.files = []string{name}
			}
		}
		if s.files == nil {
			// A directory: its catalog-info files.
			s.files, _ = match(s.all, spec.Path+"/**/catalog-info.yaml", spec.Path+"/**/catalog-info.yml")
		}
	}
	if len(s.files) == 0 {
		return nil, errs.E(errs.Invalid, "%s at %s (commit %.12s) has no file matching %q", spec.Target, ref, commit, spec.Path)
	}
	return s, nil
}

// remote checks the remote's addresses and returns what to fetch from, with the git configuration
// (as environment) that holds the fetch to the checked addresses.
func (g *Git) remote(ctx context.Context, target string) (string, []string, error) {
	u, err := url.Parse(target)
	if err != nil || !gitSchemes[u.Scheme] {
		return "", nil, errs.E(errs.Invalid, "%q is not a git repository URL", target)
	}
	if u.Scheme == "file" {
		return u.Scheme + target[len(u.Scheme):], nil, nil
	}
	port := urlPort(u)
	addrs, err := g.guard().Resolve(ctx, u.Hostname(), port)
	if err != nil {
		return "", nil, err
	}
	if u.Scheme == "git" {
		// git:// has no way to pin a name to an address: connect to the checked address instead.
		pinned := *u
		pinned.Host = netip.AddrPortFrom(addrs[0].Addr(), port).String()
		return pinned.String(), nil, nil
	}
	config := [][2]string{{"http.followRedirects", "false"}}
	if _, err := netip.ParseAddr(u.Hostname()); err != nil {
		list := make([]string, len(addrs))
		for i, a := range addrs {
			list[i] = a.Addr().String()
			if a.Addr().Is6() {
				list[i] = "[" + list[i] + "]"
			}
		}
		config = append(config, [2]string{"http.curloptResolve", fmt.Sprintf("%s:%d:%s", u.Hostname(), port, strings.Join(list, ","))})
	}
	env := []string{"GIT_CONFIG_COUNT=" + strconv.Itoa(len(config))}
	for i, kv := range config {
		env = append(env, fmt.Sprintf("GIT_CONFIG_KEY_%d=%s", i, kv[0]), fmt.Sprintf("GIT_CONFIG_VALUE_%d=%s", i, kv[1]))
	}
	return target, env, nil
}

// run runs git with a locked-down environment: no prompts, no config from the user's home, only
// the transports Portside allows; env adds to it.
func (g *Git) run(ctx context.Context, dir string, env []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, g.command(), args...)
	cmd.Dir = dir
	cmd.Env = append(gitEnv(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		if ctx.Err() != nil {
			msg = "timed out"
		}
		return nil, errs.E(errs.Unavailable, "git %s: %s", args[0], msg)
	}
	return out, nil
}

func (g *Git) command() string {
	if g.Command != "" {
		return g.Command
	}
	return "git"
}

func gitEnv() []string {
	env := []string{
		"GIT_TERMINAL_PROMPT=0",
		"GIT_ALLOW_PROTOCOL=http:https:file:git",
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + os.DevNull,
		"HOME=" + os.TempDir(),
	}
	for _, k := range []string{"PATH", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// gitSnapshot reads blobs of one commit through a long-running `git cat-file --batch`, so ten
// thousand files cost one process, not ten thousand.
type gitSnapshot struct {
	git       *Git
	dir       string
	commit    string
	unchanged bool
	all       []string
	files     []string

	mu    sync.Mutex
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Reader
	start error
}

func (s *gitSnapshot) Revision() string { return s.commit }
func (s *gitSnapshot) Unchanged() bool  { return s.unchanged }
func (s *gitSnapshot) Sealed() bool     { return true } // every file is a blob of the commit
func (s *gitSnapshot) Files() []string  { return s.files }

// ReadsLocally reports that every read is of a blob of the fetched commit, from the local git
// cache (catalog.LocalReader).
func (s *gitSnapshot) ReadsLocally() bool { return true }

func (s *gitSnapshot) Resolve(base, target string) (string, error) {
	return resolveInside(base, target)
}

func (s *gitSnapshot) Glob(pattern string) ([]string, error) {
	if !hasMeta(pattern) {
		return []string{pattern}, nil
	}
	return match(s.all, pattern)
}

func (s *gitSnapshot) ReadFile(_ context.Context, name string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil && s.start == nil {
		s.start = s.startBatch()
	}
	if s.start != nil {
		return nil, s.start
	}
	if strings.ContainsAny(name, "\n") {
		return nil, errs.E(errs.Invalid, "%q is not a file name", name)
	}
	if _, err := fmt.Fprintf(s.in, "%s:%s\n", s.commit, name); err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "git cat-file")
	}
	header, err := s.out.ReadString('\n')
	if err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "git cat-file")
	}
	// "<commit>:<name> missing": the name may hold spaces, so look at the end of the line only.
	if strings.HasSuffix(header, " missing\n") {
		return nil, errs.E(errs.NotFound, "%s does not exist at commit %.12s", name, s.commit)
	}
	fields := strings.Fields(header)
	if len(fields) != 3 {
		return nil, errs.E(errs.Unavailable, "git cat-file: unexpected answer %q", strings.TrimSpace(header))
	}
	size, err := strconv.Atoi(fields[2])
	if err != nil {
		return nil, errs.E(errs.Unavailable, "git cat-file: unexpected answer %q", strings.TrimSpace(header))
	}
	limit := maxBytes(s.git.MaxFileBytes)
	if fields[1] != "blob" || int64(size) > limit {
		// Skip the content (plus its trailing newline) without holding it, to stay in step.
		if _, err := io.CopyN(io.Discard, s.out, int64(size)+1); err != nil {
			return nil, errs.Wrap(errs.Unavailable, err, "git cat-file")
		}
		if fields[1] != "blob" {
			return nil, errs.E(errs.Invalid, "%s is a %s, not a file", name, fields[1])
		}
		return nil, tooLarge(name, limit)
	}
	body := make([]byte, size+1) // content plus the trailing newline
	if _, err := io.ReadFull(s.out, body); err != nil {
		return nil, errs.Wrap(errs.Unavailable, err, "git cat-file")
	}
	return body[:size], nil
}

func (s *gitSnapshot) startBatch() error {
	cmd := exec.Command(s.git.command(), "cat-file", "--batch")
	cmd.Dir = s.dir
	cmd.Env = gitEnv()
	in, err := cmd.StdinPipe()
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "git cat-file")
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return errs.Wrap(errs.Unavailable, err, "git cat-file")
	}
	if err := cmd.Start(); err != nil {
		return errs.Wrap(errs.Unavailable, err, "git cat-file")
	}
	s.cmd, s.in, s.out = cmd, in, bufio.NewReaderSize(out, 64<<10)
	return nil
}

func (s *gitSnapshot) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return nil
	}
	_ = s.in.Close()
	err := s.cmd.Wait()
	s.cmd = nil
	return err
}

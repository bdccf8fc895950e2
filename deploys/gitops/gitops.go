// Package gitops applies deploy requests the GitOps way: as a commit to the environment's manifest
// repository that bumps the image (in a Kustomize images: list or a Helm values file), authored as
// the requester, with the approver and a link to the request in the message, pushed to the branch
// Argo CD follows. It never forces a push: when the branch moved (non-fast-forward) it fetches,
// resets to the remote, applies the bump again and retries, a bounded number of times.
//
// It drives the git CLI (os/exec) rather than go-git: git is what the manifest repositories'
// operators use and debug with, it brings every transport and credential helper they configured
// (ssh, https with askpass or helpers) without Portside re-implementing them, and it adds no
// dependency to the module. Each repository and branch has one working clone, reused between
// requests and guarded by a lock, so requests to one repository from one Portside queue up rather
// than race; other writers (another replica, people) are handled by the retry.
package gitops

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/portside-dev/portside/deploys"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/text"
)

// Options configure a Committer.
type Options struct {
	// Dir holds the working clones (default: a directory under os.TempDir()).
	Dir string
	// Committer is who commits (the author is the requester); default Portside <portside@localhost>.
	CommitterName, CommitterEmail string
	// Attempts bounds the pushes of one apply (default 5).
	Attempts int
	// Git is the git binary (default "git").
	Git string
}

// Committer applies deploy requests to manifest repositories; it implements deploys.Applier.
type Committer struct {
	opts  Options
	mu    sync.Mutex
	repos map[string]*clone
	// lineage remembers what Descends found (a fact about two commits never changes), at most
	// maxLineage answers.
	lineage map[string]bool

	// beforePush, when set (tests), runs before every push.
	beforePush func(dir string)
	// ownDir: New made the working directory (none was configured), so Close removes it.
	ownDir bool
}

// clone is one working clone of a repository's branch.
type clone struct {
	mu  sync.Mutex
	dir string
}

// New returns a Committer.
func New(opts Options) (*Committer, error) {
	owned := false
	if opts.Dir == "" {
		d, err := os.MkdirTemp("", "portside-gitops-")
		if err != nil {
			return nil, fmt.Errorf("gitops: working directory: %w", err)
		}
		opts.Dir, owned = d, true
	}
	if opts.CommitterName == "" {
		opts.CommitterName = "Portside"
	}
	if opts.CommitterEmail == "" {
		opts.CommitterEmail = "portside@localhost"
	}
	if opts.Attempts <= 0 {
		opts.Attempts = 5
	}
	if opts.Git == "" {
		opts.Git = "git"
	}
	return &Committer{opts: opts, repos: map[string]*clone{}, lineage: map[string]bool{}, ownDir: owned}, nil
}

// Close removes the temporary working directory New made when no directory was configured (its
// clones are of no use to a later process, which makes a directory of its own); a configured
// directory is kept, clones and all, for the next start. Call it once nothing applies any more.
func (c *Committer) Close() error {
	if !c.ownDir {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return os.RemoveAll(c.opts.Dir)
}

// cloneOf is the working clone of a repository's branch.
func (c *Committer) cloneOf(repo, branch string) *clone {
	c.mu.Lock()
	defer c.mu.Unlock()
	key := repo + "\x00" + branch
	cl := c.repos[key]
	if cl == nil {
		// Named by the repository and branch, so that a clone kept in deploy-git-dir across
		// restarts is found again, and never taken for another repository's.
		sum := sha256.Sum256([]byte(key))
		cl = &clone{dir: filepath.Join(c.opts.Dir, hex.EncodeToString(sum[:12]))}
		c.repos[key] = cl
	}
	return cl
}

// Apply commits the request's version to its target and pushes it; it returns the commit.
func (c *Committer) Apply(ctx context.Context, ch deploys.Change) (deploys.Applied, error) {
	t := ch.Target
	cl := c.cloneOf(t.Repo, t.Branch)
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if err := c.ready(ctx, cl, t); err != nil {
		return deploys.Applied{}, err
	}
	for attempt := 1; ; attempt++ {
		// Idempotent: a request whose commit the branch already has (an apply cut short by a
		// restart after its push, or another replica resuming it first) is not committed again.
		if sha, found, err := c.find(ctx, cl.dir, ch); err != nil || found {
			return deploys.Applied{Repo: Redact(t.Repo), Commit: sha, Found: found}, err
		}
		sha, err := c.commit(ctx, cl.dir, ch)
		if err != nil {
			return deploys.Applied{}, err
		}
		if c.beforePush != nil {
			c.beforePush(cl.dir)
		}
		out, err := c.git(ctx, cl.dir, nil, "push", "--porcelain", "origin", "HEAD:refs/heads/"+t.Branch)
		if err == nil {
			return deploys.Applied{Repo: Redact(t.Repo), Commit: sha}, nil
		}
		if !rejected(out) {
			return deploys.Applied{}, errs.Wrap(errs.Unavailable, err, "push to %s (%s): %s", Redact(t.Repo), t.Branch, redactAll(gitMessage(out), t.Repo))
		}
		if attempt >= c.opts.Attempts {
			return deploys.Applied{}, errs.E(errs.Unavailable, "push to %s (%s) was rejected %d times: the branch keeps moving; try again", Redact(t.Repo), t.Branch, attempt)
		}
		// Someone pushed first: start again from what the remote has now. A short random pause
		// keeps two writers from colliding in step.
		select {
		case <-ctx.Done():
			return deploys.Applied{}, errs.Wrap(errs.Unavailable, ctx.Err(), "push to %s", Redact(t.Repo))
		case <-time.After(time.Duration(rand.IntN(20*attempt)) * time.Millisecond):
		}
		if err := c.sync(ctx, cl.dir, t.Branch); err != nil {
			return deploys.Applied{}, err
		}
	}
}

// Propose commits the request's change on branch, made from the target's branch as the remote has
// it now, and pushes it (never forced): the commit a pull request then carries (deploys.Proposer).
// A branch the remote already has was pushed for the request by an earlier attempt: it is kept,
// and its head returned, so a retry never makes a second commit.
func (c *Committer) Propose(ctx context.Context, ch deploys.Change, branch string) (deploys.Applied, error) {
	t := ch.Target
	if branch == "" || branch == t.Branch {
		return deploys.Applied{}, errs.InvalidField("branch", "%q cannot carry a pull request into %s", branch, t.Branch)
	}
	cl := c.cloneOf(t.Repo, t.Branch)
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if sha, err := c.remoteHead(ctx, t.Repo, branch); err != nil || sha != "" {
		return deploys.Applied{Repo: Redact(t.Repo), Commit: sha}, err
	}
	if err := c.ready(ctx, cl, t); err != nil {
		return deploys.Applied{}, err
	}
	sha, err := c.commit(ctx, cl.dir, ch)
	if err != nil {
		return deploys.Applied{}, err
	}
	if c.beforePush != nil {
		c.beforePush(cl.dir)
	}
	out, err := c.git(ctx, cl.dir, nil, "push", "--porcelain", "origin", "HEAD:refs/heads/"+branch)
	if err != nil {
		if rejected(out) {
			// Pushed meanwhile by another attempt for the same request: keep that one.
			if sha, herr := c.remoteHead(ctx, t.Repo, branch); herr == nil && sha != "" {
				return deploys.Applied{Repo: Redact(t.Repo), Commit: sha}, nil
			}
		}
		return deploys.Applied{}, errs.Wrap(errs.Unavailable, err, "push to %s (%s): %s", Redact(t.Repo), branch, redactAll(gitMessage(out), t.Repo))
	}
	// The clone stays on the commit; the next apply starts from the remote again (ready).
	return deploys.Applied{Repo: Redact(t.Repo), Commit: sha}, nil
}

// remoteHead is the commit a branch of the remote points to, "" when it has no such branch.
func (c *Committer) remoteHead(ctx context.Context, repo, branch string) (string, error) {
	out, err := c.git(ctx, "", nil, "ls-remote", "--heads", "--", repo, "refs/heads/"+branch)
	if err != nil {
		return "", errs.Wrap(errs.Unavailable, err, "ls-remote %s: %s", Redact(repo), redactAll(gitMessage(out), repo))
	}
	for _, line := range strings.Split(out, "\n") {
		if sha, ref, ok := strings.Cut(strings.TrimSpace(line), "\t"); ok && ref == "refs/heads/"+branch {
			return sha, nil
		}
	}
	return "", nil
}

// shaRE is a full commit ID (SHA-1 or SHA-256): all Descends compares, and never an option to git.
var shaRE = regexp.MustCompile(`^([0-9a-f]{40}|[0-9a-f]{64})$`)

// maxLineage bounds the answers Descends remembers; past it they are forgotten all at once.
const maxLineage = 4096

// Descends reports whether revision is commit or a later commit of the target's branch that
// contains it (deploys.Lineage): Argo CD that synced such a revision has reached the commit. It
// reads the target's working clone, cloning or fetching the branch when either commit is not
// there yet; a revision the branch does not have (another repository's, another branch's) is not
// a descendant.
func (c *Committer) Descends(ctx context.Context, t deploys.Target, revision, commit string) (bool, error) {
	if revision == commit {
		return true, nil
	}
	if !shaRE.MatchString(revision) || !shaRE.MatchString(commit) {
		return false, nil
	}
	key := t.Repo + "\x00" + t.Branch + "\x00" + revision + "\x00" + commit
	c.mu.Lock()
	known, ok := c.lineage[key]
	c.mu.Unlock()
	if ok {
		return known, nil
	}
	cl := c.cloneOf(t.Repo, t.Branch)
	cl.mu.Lock()
	defer cl.mu.Unlock()
	has := func() bool {
		_, err := c.git(ctx, cl.dir, nil, "cat-file", "-e", revision+"^{commit}")
		if err == nil {
			_, err = c.git(ctx, cl.dir, nil, "cat-file", "-e", commit+"^{commit}")
		}
		return err == nil
	}
	if _, err := os.Stat(filepath.Join(cl.dir, ".git")); err != nil || !has() {
		if err := c.ready(ctx, cl, t); err != nil {
			return false, err
		}
		if !has() {
			return false, nil // not on the branch: not remembered, the branch may yet get it
		}
	}
	out, err := c.git(ctx, cl.dir, nil, "merge-base", "--is-ancestor", commit, revision)
	var exit *exec.ExitError
	switch {
	case err == nil:
		known = true
	case errors.As(err, &exit) && exit.ExitCode() == 1:
		known = false
	default:
		return false, fmt.Errorf("gitops: is %s in %s: %s: %w", commit, revision, gitMessage(out), err)
	}
	c.mu.Lock()
	if len(c.lineage) >= maxLineage {
		clear(c.lineage)
	}
	c.lineage[key] = known
	c.mu.Unlock()
	return known, nil
}

// rejected reports whether git push's porcelain output says the remote refused a non-fast-forward.
func rejected(out string) bool {
	return strings.Contains(out, "[rejected]") || strings.Contains(out, "non-fast-forward") || strings.Contains(out, "fetch first") ||
		strings.Contains(out, "[remote rejected]") && strings.Contains(out, "cannot lock ref")
}

// ready makes the working clone match the remote branch, cloning it the first time, and again
// when the clone is unusable (a crash left a lock behind, someone changed it).
func (c *Committer) ready(ctx context.Context, cl *clone, t deploys.Target) error {
	if _, err := os.Stat(filepath.Join(cl.dir, ".git")); err == nil {
		if err := c.sync(ctx, cl.dir, t.Branch); err == nil || ctx.Err() != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Dir(cl.dir), 0o700); err != nil {
		return fmt.Errorf("gitops: %w", err)
	}
	if err := os.RemoveAll(cl.dir); err != nil {
		return fmt.Errorf("gitops: remove an unusable clone: %w", err)
	}
	if out, err := c.git(ctx, "", nil, "clone", "--quiet", "--single-branch", "--branch", t.Branch, "--", t.Repo, cl.dir); err != nil {
		return errs.Wrap(errs.Unavailable, err, "clone %s (%s): %s", Redact(t.Repo), t.Branch, redactAll(gitMessage(out), t.Repo))
	}
	return nil
}

// sync resets the clone to the remote branch as it is now, dropping what was not pushed.
func (c *Committer) sync(ctx context.Context, dir, branch string) error {
	if out, err := c.git(ctx, dir, nil, "fetch", "--quiet", "origin", "+refs/heads/"+branch+":refs/remotes/origin/"+branch); err != nil {
		return errs.Wrap(errs.Unavailable, err, "fetch %s: %s", branch, gitMessage(out))
	}
	if out, err := c.git(ctx, dir, nil, "reset", "--quiet", "--hard", "refs/remotes/origin/"+branch); err != nil {
		return fmt.Errorf("gitops: reset to origin/%s: %s: %w", branch, gitMessage(out), err)
	}
	return nil
}

// commit bumps the target file and commits it as the requester; it returns the commit's SHA.
func (c *Committer) commit(ctx context.Context, dir string, ch deploys.Change) (string, error) {
	t, q := ch.Target, ch.Request
	path := filepath.Join(dir, filepath.FromSlash(t.Path))
	if !strings.HasPrefix(path, filepath.Clean(dir)+string(filepath.Separator)) {
		return "", errs.InvalidField("path", "%q is outside the repository", t.Path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", errs.Wrap(errs.Invalid, err, "%s: %s has no file %s", deploys.AnnotationDeploy, Redact(t.Repo), t.Path)
	}
	var bumped []byte
	switch t.Kind {
	case deploys.Helm:
		key := t.ValuesKey
		if t.DigestKey != "" && deploys.IsDigest(q.Version) {
			key = t.DigestKey
		}
		bumped, err = BumpHelm(data, key, q.Version)
	default:
		bumped, err = BumpKustomize(data, t.Image, q.Version)
	}
	if err != nil {
		return "", errs.Wrap(errs.Invalid, err, "%s in %s", t.Path, Redact(t.Repo))
	}
	if err := os.WriteFile(path, bumped, 0o644); err != nil {
		return "", fmt.Errorf("gitops: write %s: %w", t.Path, err)
	}
	if out, err := c.git(ctx, dir, nil, "add", "--", filepath.FromSlash(t.Path)); err != nil {
		return "", fmt.Errorf("gitops: git add: %s: %w", gitMessage(out), err)
	}
	author := q.RequesterName
	if author == "" {
		author = q.Requester
	}
	email := q.RequesterEmail
	if email == "" {
		email = q.Requester + "@users.portside"
	}
	env := []string{"GIT_AUTHOR_NAME=" + author, "GIT_AUTHOR_EMAIL=" + email,
		"GIT_COMMITTER_NAME=" + c.opts.CommitterName, "GIT_COMMITTER_EMAIL=" + c.opts.CommitterEmail}
	// --allow-empty: a version the file already names still gets its commit, so the request has a
	// revision of its own for Argo CD to report.
	if out, err := c.git(ctx, dir, env, "commit", "--quiet", "--allow-empty", "--no-verify", "-F", "-", stdin(Message(ch))); err != nil {
		return "", fmt.Errorf("gitops: git commit: %s: %w", gitMessage(out), err)
	}
	out, err := c.git(ctx, dir, nil, "rev-parse", "HEAD")
	if err != nil {
		return "", fmt.Errorf("gitops: rev-parse: %w", err)
	}
	return strings.TrimSpace(out), nil
}

// findWithin bounds how far back find looks: commits older than the request (less a day, for
// clocks that disagree) cannot be its commit, and git log stops walking there.
const findWithin = 24 * time.Hour

// find looks for the commit of the request on the clone's branch (HEAD, just synced with the
// remote): a commit whose message has the request's subject line and its Deploy-Request trailer
// (both, so that another Portside's request with the same number is not taken for this one).
// The trailer is read as git reads trailers, from the message's last paragraph only: a line of
// another request's reason that says "Deploy-Request: 42" is not request 42's commit.
func (c *Committer) find(ctx context.Context, dir string, ch deploys.Change) (string, bool, error) {
	q := ch.Request
	args := []any{"log", "--format=%H%x1f%s%x1f%(trailers:key=Deploy-Request,valueonly,separator=%x1f)%x1e",
		"--fixed-strings", "--grep", fmt.Sprintf("Deploy-Request: %d", q.ID)}
	if !q.CreatedAt.IsZero() {
		args = append(args, "--since="+q.CreatedAt.Add(-findWithin).UTC().Format(time.RFC3339))
	}
	args = append(args, "HEAD", "--")
	out, err := c.git(ctx, dir, nil, args...)
	if err != nil {
		return "", false, fmt.Errorf("gitops: look for the commit of deploy request %d: %s: %w", q.ID, gitMessage(out), err)
	}
	subject, id := subjectOf(q), strconv.FormatInt(q.ID, 10)
	for _, rec := range strings.Split(out, "\x1e") {
		fields := strings.Split(strings.TrimSpace(rec), "\x1f")
		if len(fields) < 3 || fields[1] != subject {
			continue
		}
		for _, v := range fields[2:] {
			if strings.TrimSpace(v) == id {
				return fields[0], true, nil
			}
		}
	}
	return "", false, nil
}

func subjectOf(q deploys.Request) string {
	return fmt.Sprintf("Deploy %s %s to %s", q.Component, q.Version, q.Environment)
}

// Message is the commit message of a request: what, where, why, who asked and who approved.
func Message(ch deploys.Change) string {
	q := ch.Request
	var b strings.Builder
	b.WriteString(subjectOf(q) + "\n\n")
	if reason := bodyText(q.Reason); reason != "" {
		b.WriteString(reason + "\n\n")
	}
	fmt.Fprintf(&b, "Deploy-Request: %d\n", q.ID)
	if ch.Link != "" {
		fmt.Fprintf(&b, "Deploy-Request-URL: %s\n", ch.Link)
	}
	fmt.Fprintf(&b, "Requested-by: %s\n", q.Requester)
	fmt.Fprintf(&b, "Approved-by: %s\n", q.Approver)
	if q.PipelineRunID != nil {
		fmt.Fprintf(&b, "Built-by-run: %d\n", *q.PipelineRunID)
	}
	return b.String()
}

// ourTrailers are the keys Message writes after the body.
var ourTrailers = []string{"deploy-request:", "deploy-request-url:", "requested-by:", "approved-by:", "built-by-run:"}

// bodyText is a request's reason as the commit's body: line ends made \n, blank lines at its ends
// dropped, and a line that would read as one of Portside's trailers indented, so that a reason
// cannot add an "Approved-by:" of its own for anyone reading the message (or grepping the log).
func bodyText(reason string) string {
	reason = strings.ReplaceAll(strings.ReplaceAll(reason, "\r\n", "\n"), "\r", "\n")
	lines := strings.Split(strings.Trim(reason, "\n"), "\n")
	for i, l := range lines {
		lower := strings.ToLower(strings.TrimLeft(l, " \t"))
		for _, key := range ourTrailers {
			if strings.HasPrefix(lower, key) {
				lines[i] = "    " + l
				break
			}
		}
	}
	body := strings.TrimRight(strings.Join(lines, "\n"), " \t\n")
	if strings.TrimSpace(body) == "" {
		return ""
	}
	return body
}

// stdin marks a git argument list's last element as the command's standard input.
type stdin string

// git runs git in dir with extra environment; args may end with a stdin value.
func (c *Committer) git(ctx context.Context, dir string, env []string, args ...any) (string, error) {
	var argv []string
	var in string
	for _, a := range args {
		switch v := a.(type) {
		case string:
			argv = append(argv, v)
		case stdin:
			in = string(v)
		}
	}
	cmd := exec.CommandContext(ctx, c.opts.Git, argv...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=/bin/false", "LC_ALL=C")
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin = strings.NewReader(in)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

// Redact drops the password of a repository URL (https://user:token@host/…), so that the URL can
// be stored, shown and logged; other URLs are kept as they are.
func Redact(repo string) string {
	u, err := url.Parse(repo)
	if err != nil || u.User == nil {
		return repo
	}
	if _, has := u.User.Password(); !has {
		return repo
	}
	u.User = url.UserPassword(u.User.Username(), "xxxxx")
	return u.String()
}

// redactAll replaces the repository URL, and its password, wherever git's output quotes them.
func redactAll(s, repo string) string {
	s = strings.ReplaceAll(s, repo, Redact(repo))
	if u, err := url.Parse(repo); err == nil && u.User != nil {
		if pw, has := u.User.Password(); has && pw != "" {
			s = strings.ReplaceAll(s, pw, "xxxxx")
		}
	}
	return s
}

// gitMessage is what git said of a failure, in one line: its first fatal: or error: line (git
// ends with advice such as "and the repository exists.", which says nothing of the cause: a
// missing repository, "detected dubious ownership"), else its last line; at most 300 bytes of
// storable text.
func gitMessage(s string) string {
	s = strings.TrimSpace(s)
	line := s
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		line = s[i+1:]
	}
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "fatal:") || strings.HasPrefix(l, "error:") {
			line = l
			break
		}
	}
	// A remote's words are recorded (the request's outcome): storable text, cut at a character.
	return text.Clean(line, 300)
}

package gitops_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/portside-dev/portside/deploys"
	"github.com/portside-dev/portside/deploys/gitops"
)

const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// git runs git in dir as the test's own person and fails the test on an error.
func git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=Tester", "GIT_AUTHOR_EMAIL=tester@acme.example",
		"GIT_COMMITTER_NAME=Tester", "GIT_COMMITTER_EMAIL=tester@acme.example", "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// newRemote makes a bare repository whose main branch holds files, and returns its path.
func newRemote(t testing.TB, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	bare := filepath.Join(root, "manifests.git")
	git(t, root, "init", "--quiet", "--bare", "-b", "main", bare)
	work := filepath.Join(root, "seed")
	git(t, root, "clone", "--quiet", bare, work)
	git(t, work, "checkout", "--quiet", "-b", "main")
	for name, content := range files {
		p := filepath.Join(work, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git(t, work, "add", ".")
	git(t, work, "commit", "--quiet", "-m", "seed")
	git(t, work, "push", "--quiet", "origin", "main")
	return bare
}

// show reads a file of the remote's main branch.
func show(t testing.TB, bare, path string) string {
	t.Helper()
	return git(t, bare, "show", "main:"+path)
}

func newCommitter(t testing.TB) *gitops.Committer {
	t.Helper()
	c, err := gitops.New(gitops.Options{Dir: t.TempDir(), Attempts: 20})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func change(id int64, repo, path string, kind deploys.Kind, image, version string) deploys.Change {
	run := int64(42)
	return deploys.Change{
		Request: deploys.Request{ID: id, Component: "component:default/payments-api", Environment: "production", Version: version,
			Reason: "fix the rounding bug", Requester: "bob", RequesterName: "Bob Owner", RequesterEmail: "bob@acme.example", Approver: "alice",
			PipelineRunID: &run},
		Target: deploys.Target{Environment: "production", Repo: repo, Branch: "main", Path: path, Kind: kind, Image: image, ValuesKey: "image.tag"},
		Link:   fmt.Sprintf("https://portal.acme.example/deploys/%d", id),
	}
}

const kustomization = `# Production overlay of payments-api.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../base # the shared base
images:
  # the API server
  - name: ghcr.io/acme/payments-api
    newTag: "1.4.1" # bumped by Portside
  - name: ghcr.io/acme/sidecar
    newTag: "2.0"
namePrefix: prod-
`

func TestAKustomizeBumpIsACommitByTheRequesterThatKeepsTheRestOfTheFile(t *testing.T) {
	bare := newRemote(t, map[string]string{"apps/payments/kustomization.yaml": kustomization})
	c := newCommitter(t)
	done, err := c.Apply(context.Background(), change(7, bare, "apps/payments/kustomization.yaml", deploys.Kustomize, "ghcr.io/acme/payments-api", digest))
	if err != nil {
		t.Fatal(err)
	}
	if head := strings.TrimSpace(git(t, bare, "rev-parse", "main")); done.Commit != head || done.Repo != bare {
		t.Fatalf("applied %+v; the remote's main is %s", done, head)
	}
	want := `# Production overlay of payments-api.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../base # the shared base
images:
  # the API server
  - name: ghcr.io/acme/payments-api
    digest: ` + digest + `
  - name: ghcr.io/acme/sidecar
    newTag: "2.0"
namePrefix: prod-
`
	if got := show(t, bare, "apps/payments/kustomization.yaml"); got != want {
		t.Fatalf("kustomization after the bump:\n%s\nwant:\n%s", got, want)
	}
	author := git(t, bare, "log", "-1", "--format=%an <%ae>|%cn|%B", "main")
	for _, s := range []string{"Bob Owner <bob@acme.example>|Portside|", "Deploy component:default/payments-api " + digest + " to production",
		"Approved-by: alice", "Requested-by: bob", "Deploy-Request-URL: https://portal.acme.example/deploys/7", "Built-by-run: 42"} {
		if !strings.Contains(author, s) {
			t.Errorf("commit %q lacks %q", author, s)
		}
	}
	// A tag replaces the digest; the clone is reused and follows the remote.
	if _, err := c.Apply(context.Background(), change(8, bare, "apps/payments/kustomization.yaml", deploys.Kustomize, "ghcr.io/acme/payments-api", "1.10")); err != nil {
		t.Fatal(err)
	}
	got := show(t, bare, "apps/payments/kustomization.yaml")
	if !strings.Contains(got, "- name: ghcr.io/acme/payments-api\n    newTag: \"1.10\"\n") || strings.Contains(got, "digest:") {
		t.Fatalf("after a tag bump:\n%s", got)
	}
	if n := strings.TrimSpace(git(t, bare, "rev-list", "--count", "main")); n != "3" {
		t.Fatalf("%s commits on main, want the seed and two bumps", n)
	}
}

func TestAHelmBumpSetsTheValueAtItsKeyPath(t *testing.T) {
	values := "# values for production\nreplicaCount: 3\nimage:\n  repository: ghcr.io/acme/payments-api # the image\n  tag: 1.4.1\n  pullPolicy: IfNotPresent\nresources: {}\n"
	bare := newRemote(t, map[string]string{"charts/payments/values-prod.yaml": values})
	if _, err := newCommitter(t).Apply(context.Background(), change(9, bare, "charts/payments/values-prod.yaml", deploys.Helm, "", "1.5.0")); err != nil {
		t.Fatal(err)
	}
	want := "# values for production\nreplicaCount: 3\nimage:\n  repository: ghcr.io/acme/payments-api # the image\n  tag: 1.5.0\n  pullPolicy: IfNotPresent\nresources: {}\n"
	if got := show(t, bare, "charts/payments/values-prod.yaml"); got != want {
		t.Fatalf("values after the bump:\n%s\nwant:\n%s", got, want)
	}
}

func TestAMissingFileFailsNamingIt(t *testing.T) {
	bare := newRemote(t, map[string]string{"README.md": "manifests\n"})
	_, err := newCommitter(t).Apply(context.Background(), change(1, bare, "apps/nope/kustomization.yaml", deploys.Kustomize, "ghcr.io/acme/x", "1.0.0"))
	if err == nil || !strings.Contains(err.Error(), "apps/nope/kustomization.yaml") {
		t.Fatalf("a missing file: %v", err)
	}
}

// A repository that is not there is said to be so, in git's own words, not in the advice git
// ends with ("... and the repository exists.").
func TestAMissingRepositoryFailsInGitsOwnWords(t *testing.T) {
	missing := "file://" + filepath.Join(t.TempDir(), "nonexistent.git")
	_, err := newCommitter(t).Apply(context.Background(), change(1, missing, "k.yaml", deploys.Kustomize, "x", "1.0.0"))
	if err == nil || !strings.Contains(err.Error(), "fatal:") || strings.HasSuffix(err.Error(), "and the repository exists.") {
		t.Fatalf("a missing repository: %v", err)
	}
}

// Twenty requests for twenty components in one repository, through two Portside replicas (two
// committers, two clones) at once: every bump lands as its own commit and none is lost, whoever
// had to fetch and retry.
func TestConcurrentRequestsToOneRepositoryAllLand(t *testing.T) {
	const n = 20
	files := map[string]string{}
	for i := range n {
		files[fmt.Sprintf("apps/c%02d/kustomization.yaml", i)] = "images:\n  - name: ghcr.io/acme/c\n    newTag: \"0.0.1\"\n"
	}
	bare := newRemote(t, files)
	replicas := []*gitops.Committer{newCommitter(t), newCommitter(t)}
	var wg sync.WaitGroup
	errc := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := replicas[i%2].Apply(context.Background(), change(int64(i+1), bare, fmt.Sprintf("apps/c%02d/kustomization.yaml", i), deploys.Kustomize, "ghcr.io/acme/c", fmt.Sprintf("1.0.%d", i)))
			errc <- err
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := strings.TrimSpace(git(t, bare, "rev-list", "--count", "main")); got != fmt.Sprint(n+1) {
		t.Fatalf("%s commits on main, want the seed and %d bumps", got, n)
	}
	for i := range n {
		if got := show(t, bare, fmt.Sprintf("apps/c%02d/kustomization.yaml", i)); !strings.Contains(got, fmt.Sprintf("newTag: 1.0.%d\n", i)) {
			t.Errorf("c%02d lost its bump:\n%s", i, got)
		}
	}
}

// Someone pushes to the branch between Portside's commit and its push: the push is refused as
// non-fast-forward, and Portside fetches, applies the bump again on top and pushes; nothing is forced.
func TestARejectedPushIsRetriedOnTopOfTheRemote(t *testing.T) {
	bare := newRemote(t, map[string]string{"k/kustomization.yaml": "images:\n  - name: ghcr.io/acme/a\n    newTag: \"1\"\n", "other.txt": "a\n"})
	c := newCommitter(t)
	pushes := 0
	gitops.SetBeforePush(c, func(string) {
		pushes++
		if pushes > 1 {
			return
		}
		other := t.TempDir()
		git(t, other, "clone", "--quiet", bare, "w")
		w := filepath.Join(other, "w")
		if err := os.WriteFile(filepath.Join(w, "other.txt"), []byte("b\n"), 0o644); err != nil {
			t.Error(err)
		}
		git(t, w, "commit", "--quiet", "-am", "someone else")
		git(t, w, "push", "--quiet", "origin", "main")
	})
	done, err := c.Apply(context.Background(), change(3, bare, "k/kustomization.yaml", deploys.Kustomize, "ghcr.io/acme/a", "2.0.0"))
	if err != nil {
		t.Fatal(err)
	}
	if pushes != 2 {
		t.Fatalf("%d pushes, want the rejected one and its retry", pushes)
	}
	log := git(t, bare, "log", "--format=%s", "main")
	if log != "Deploy component:default/payments-api 2.0.0 to production\nsomeone else\nseed\n" {
		t.Fatalf("main's history:\n%s", log)
	}
	if strings.TrimSpace(git(t, bare, "rev-parse", "main")) != done.Commit {
		t.Fatal("the applied commit is not main's head")
	}
	if show(t, bare, "other.txt") != "b\n" {
		t.Fatal("the other writer's change was lost")
	}
}

// A remote that keeps moving exhausts the attempts: UNAVAILABLE, never a forced push.
func TestAttemptsAreBounded(t *testing.T) {
	bare := newRemote(t, map[string]string{"k/kustomization.yaml": "images: []\n", "n.txt": "0\n"})
	c, err := gitops.New(gitops.Options{Dir: t.TempDir(), Attempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	other := t.TempDir()
	git(t, other, "clone", "--quiet", bare, "w")
	w := filepath.Join(other, "w")
	pushes := 0
	gitops.SetBeforePush(c, func(string) {
		pushes++
		if err := os.WriteFile(filepath.Join(w, "n.txt"), []byte(fmt.Sprint(pushes)), 0o644); err != nil {
			t.Error(err)
		}
		git(t, w, "commit", "--quiet", "-am", "move")
		git(t, w, "push", "--quiet", "origin", "main")
	})
	_, err = c.Apply(context.Background(), change(4, bare, "k/kustomization.yaml", deploys.Kustomize, "ghcr.io/acme/a", "2.0.0"))
	if err == nil || !strings.Contains(err.Error(), "rejected 3 times") || pushes != 3 {
		t.Fatalf("after %d pushes: %v", pushes, err)
	}
	if got := git(t, bare, "log", "-1", "--format=%s", "main"); got != "move\n" {
		t.Fatalf("main's head is %q: Portside's commit must not have been forced in", got)
	}
}

// A token in the repository's URL never reaches a message, the stored request or a log.
func TestATokenInTheRepositoryURLIsNeverShown(t *testing.T) {
	if got := gitops.Redact("https://bot:s3cr3t-token@git.acme.example/platform/manifests.git"); got != "https://bot:xxxxx@git.acme.example/platform/manifests.git" {
		t.Fatalf("redacted to %q", got)
	}
	for _, repo := range []string{"git@git.acme.example:platform/manifests.git", "/srv/git/manifests.git", "https://git.acme.example/m.git"} {
		if got := gitops.Redact(repo); got != repo {
			t.Errorf("%s redacted to %q", repo, got)
		}
	}
	_, err := newCommitter(t).Apply(context.Background(), change(1, "http://bot:s3cr3t-token@127.0.0.1:1/m.git", "k.yaml", deploys.Kustomize, "x", "1.0.0"))
	if err == nil || strings.Contains(err.Error(), "s3cr3t-token") {
		t.Fatalf("cloning from an unreachable server: %v", err)
	}
}

// A clone left unusable (a crash left index.lock behind) is cloned again; a committer started
// again on the same directory finds its clone by the repository's name.
func TestAnUnusableCloneIsClonedAgain(t *testing.T) {
	bare := newRemote(t, map[string]string{"k/kustomization.yaml": "images: []\n"})
	dir := t.TempDir()
	c, err := gitops.New(gitops.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Apply(context.Background(), change(1, bare, "k/kustomization.yaml", deploys.Kustomize, "ghcr.io/acme/a", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	clones, _ := filepath.Glob(filepath.Join(dir, "*", ".git"))
	if len(clones) != 1 {
		t.Fatalf("clones %v", clones)
	}
	if err := os.WriteFile(filepath.Join(clones[0], "index.lock"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	again, err := gitops.New(gitops.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := again.Apply(context.Background(), change(2, bare, "k/kustomization.yaml", deploys.Kustomize, "ghcr.io/acme/a", "2.0.0")); err != nil {
		t.Fatal(err)
	}
	if got := show(t, bare, "k/kustomization.yaml"); !strings.Contains(got, "newTag: 2.0.0") {
		t.Fatalf("after the second apply:\n%s", got)
	}
}

// A Helm chart that keeps digests apart gets a digest at digestKey and a tag at valuesKey.
func TestAHelmDigestGoesToTheDigestKey(t *testing.T) {
	bare := newRemote(t, map[string]string{"v.yaml": "image:\n  tag: 1.0.0\n  digest: \"\"\n"})
	ch := change(1, bare, "v.yaml", deploys.Helm, "", digest)
	ch.Target.DigestKey = "image.digest"
	if _, err := newCommitter(t).Apply(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	if got := show(t, bare, "v.yaml"); got != "image:\n  tag: 1.0.0\n  digest: "+digest+"\n" {
		t.Fatalf("values:\n%s", got)
	}
}

// A request applied by pull request is committed on a branch of its own, made from the target's
// branch; the target's branch does not move, and proposing again keeps the branch as it is (one
// commit, whatever the retries). A push to the target's branch afterwards starts from the remote.
func TestAProposedChangeIsACommitOnItsOwnBranch(t *testing.T) {
	bare := newRemote(t, map[string]string{"apps/payments/kustomization.yaml": kustomization})
	c := newCommitter(t)
	main := strings.TrimSpace(git(t, bare, "rev-parse", "main"))
	ch := change(9, bare, "apps/payments/kustomization.yaml", deploys.Kustomize, "ghcr.io/acme/payments-api", "1.5.0")
	done, err := c.Propose(context.Background(), ch, "portside/deploy-9")
	if err != nil {
		t.Fatal(err)
	}
	if head := strings.TrimSpace(git(t, bare, "rev-parse", "portside/deploy-9")); done.Commit != head || done.Repo != bare {
		t.Fatalf("proposed %+v; the branch is at %s", done, head)
	}
	if got := strings.TrimSpace(git(t, bare, "rev-parse", "main")); got != main {
		t.Fatalf("main moved to %s", got)
	}
	if parent := strings.TrimSpace(git(t, bare, "rev-parse", "portside/deploy-9~1")); parent != main {
		t.Errorf("the branch starts from %s, not main (%s)", parent, main)
	}
	if got := git(t, bare, "show", "portside/deploy-9:apps/payments/kustomization.yaml"); !strings.Contains(got, "newTag: 1.5.0") {
		t.Errorf("the branch's file:\n%s", got)
	}
	if msg := git(t, bare, "log", "-1", "--format=%an|%B", "portside/deploy-9"); !strings.Contains(msg, "Bob Owner|") || !strings.Contains(msg, "Approved-by: alice") {
		t.Errorf("the branch's commit: %s", msg)
	}
	again, err := c.Propose(context.Background(), ch, "portside/deploy-9")
	if err != nil || again != done {
		t.Fatalf("proposed again: %+v %v, want %+v", again, err, done)
	}
	if n := strings.TrimSpace(git(t, bare, "rev-list", "--count", "portside/deploy-9")); n != "2" {
		t.Errorf("%s commits on the branch, want the seed and one bump", n)
	}
	if _, err := c.Propose(context.Background(), ch, "main"); err == nil {
		t.Error("a change proposed on the target's own branch was accepted")
	}
	// The clone went back to main for the next push.
	if _, err := c.Apply(context.Background(), change(10, bare, "apps/payments/kustomization.yaml", deploys.Kustomize, "ghcr.io/acme/payments-api", "1.6.0")); err != nil {
		t.Fatal(err)
	}
	if parent := strings.TrimSpace(git(t, bare, "rev-parse", "main~1")); parent != main {
		t.Errorf("the next push sits on %s, not on main as it was (%s)", parent, main)
	}
}

// Applying a request is idempotent: its commit is found on the branch (by its subject and its
// Deploy-Request trailer) and returned, never committed twice; a request with the same number of
// another component (another Portside on the same repository) is not taken for it.
func TestApplyingARequestAgainReturnsItsCommitAndCommitsNothing(t *testing.T) {
	bare := newRemote(t, map[string]string{"k/kustomization.yaml": "images:\n  - name: ghcr.io/acme/pay\n    newTag: \"1\"\n"})
	first := change(7, bare, "k/kustomization.yaml", deploys.Kustomize, "ghcr.io/acme/pay", "1.5.0")
	a, err := newCommitter(t).Apply(context.Background(), first)
	if err != nil || a.Found {
		t.Fatalf("first apply: %+v %v", a, err)
	}
	// Someone else commits on top; then the request is applied again, from another clone.
	other := change(8, bare, "k/kustomization.yaml", deploys.Kustomize, "ghcr.io/acme/pay", "1.6.0")
	if _, err := newCommitter(t).Apply(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	count := func() string { return strings.TrimSpace(git(t, bare, "rev-list", "--count", "main")) }
	before := count()
	for _, c := range []*gitops.Committer{newCommitter(t), newCommitter(t)} {
		again, err := c.Apply(context.Background(), first)
		if err != nil || !again.Found || again.Commit != a.Commit {
			t.Fatalf("applied again: %+v %v, want the commit %s found", again, err, a.Commit)
		}
	}
	if got := count(); got != before {
		t.Fatalf("main has %s commits, had %s", got, before)
	}
	// Request 7 of another component is another request: it gets its own commit.
	elsewhere := first
	elsewhere.Request.Component = "component:default/ledger"
	b, err := newCommitter(t).Apply(context.Background(), elsewhere)
	if err != nil || b.Found || b.Commit == a.Commit {
		t.Fatalf("request 7 of ledger: %+v %v", b, err)
	}
}

// A committer without a configured directory works in a temporary one and removes it on Close; a
// configured directory stays, with its clones, for the next start.
func TestCloseRemovesOnlyATemporaryWorkingDirectory(t *testing.T) {
	bare := newRemote(t, map[string]string{"k/kustomization.yaml": "images: []\n"})
	t.Setenv("TMPDIR", t.TempDir())
	temp, err := gitops.New(gitops.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := temp.Apply(context.Background(), change(1, bare, "k/kustomization.yaml", deploys.Kustomize, "ghcr.io/acme/a", "1.0.0")); err != nil {
		t.Fatal(err)
	}
	made, _ := filepath.Glob(filepath.Join(os.Getenv("TMPDIR"), "portside-gitops-*"))
	if len(made) != 1 {
		t.Fatalf("temporary working directories: %v", made)
	}
	if err := temp.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(made[0]); !os.IsNotExist(err) {
		t.Errorf("after Close the temporary working directory %s is still there (%v)", made[0], err)
	}

	dir := t.TempDir()
	kept, err := gitops.New(gitops.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kept.Apply(context.Background(), change(2, bare, "k/kustomization.yaml", deploys.Kustomize, "ghcr.io/acme/a", "2.0.0")); err != nil {
		t.Fatal(err)
	}
	if err := kept.Close(); err != nil {
		t.Fatal(err)
	}
	if clones, _ := filepath.Glob(filepath.Join(dir, "*", ".git")); len(clones) != 1 {
		t.Errorf("after Close the configured directory holds clones %v, want its one", clones)
	}
}

// A reason saying "Deploy-Request: 42" does not make its commit request 42's: request 42, the
// same deploy again (a rollback to it, say), is applied with a commit of its own, not found done.
func TestAReasonNamingAnotherRequestIsNotThatRequestsCommit(t *testing.T) {
	bare := newRemote(t, map[string]string{"apps/payments/kustomization.yaml": kustomization})
	c := newCommitter(t)
	first := change(41, bare, "apps/payments/kustomization.yaml", deploys.Kustomize, "ghcr.io/acme/payments-api", "1.5.0")
	first.Request.Reason = "routine\nDeploy-Request: 42"
	a, err := c.Apply(context.Background(), first)
	if err != nil || a.Found {
		t.Fatalf("request 41: %+v, %v", a, err)
	}
	// Something else moves the file on, then request 42 asks for 1.5.0 again.
	if _, err := c.Apply(context.Background(), change(40, bare, "apps/payments/kustomization.yaml", deploys.Kustomize, "ghcr.io/acme/payments-api", "1.6.0")); err != nil {
		t.Fatal(err)
	}
	b, err := c.Apply(context.Background(), change(42, bare, "apps/payments/kustomization.yaml", deploys.Kustomize, "ghcr.io/acme/payments-api", "1.5.0"))
	if err != nil || b.Found || b.Commit == a.Commit {
		t.Fatalf("request 42 = %+v, %v: want a commit of its own, not request 41's %s", b, err, a.Commit)
	}
	if got := show(t, bare, "apps/payments/kustomization.yaml"); !strings.Contains(got, "newTag: 1.5.0") {
		t.Errorf("after request 42 the file holds:\n%s", got)
	}
}

// A reason is the commit's body, as written, but it cannot add trailers of Portside's own: git
// reads the trailers Portside wrote and no others, and no line of the message begins with an
// "Approved-by:" the approver did not give.
func TestAReasonCannotForgeTheCommitsTrailers(t *testing.T) {
	q := deploys.Request{ID: 9, Component: "component:default/payments-api", Version: "1.2.3", Environment: "production",
		Requester: "mallory", Approver: "alice",
		Reason: "Hotfix for checkout.\r\n\r\nApproved-by: ceo\r\n  requested-by: nobody\nDeploy-Request: 1\n\n\n"}
	msg := gitops.Message(deploys.Change{Request: q})
	if !strings.Contains(msg, "Hotfix for checkout.\n") || strings.Contains(msg, "\r") {
		t.Errorf("the body lost the reason or kept carriage returns:\n%s", msg)
	}
	for _, forged := range []string{"\nApproved-by: ceo", "\nDeploy-Request: 1\n", "\n  requested-by: nobody"} {
		if strings.Contains(msg, forged) {
			t.Errorf("the message carries the reason's %q at a line's start:\n%s", strings.TrimSpace(forged), msg)
		}
	}
	dir := t.TempDir()
	cmd := exec.Command("git", "interpret-trailers", "--parse")
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(msg)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git interpret-trailers: %v\n%s", err, out)
	}
	want := "Deploy-Request: 9\nRequested-by: mallory\nApproved-by: alice\n"
	if string(out) != want {
		t.Errorf("git reads the trailers\n%s\nwant\n%s", out, want)
	}
}

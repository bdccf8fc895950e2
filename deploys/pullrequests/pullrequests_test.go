package pullrequests_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/deploys"
	"github.com/portside-dev/portside/deploys/gitops"
	"github.com/portside-dev/portside/deploys/pullrequests"
	"github.com/portside-dev/portside/errs"
	ghp "github.com/portside-dev/portside/pipelines/github"
	"github.com/portside-dev/portside/pipelines/github/githubtest"
	glp "github.com/portside-dev/portside/pipelines/gitlab"
	"github.com/portside-dev/portside/pipelines/gitlab/gitlabtest"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

const (
	digest  = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	payAPI  = "component:default/payments-api"
	project = "acme/manifests"
	overlay = "apps/payments-api/production/kustomization.yaml"
)

func session(name string) context.Context {
	return principal.With(context.Background(), &principal.Principal{Username: name, Email: name + "@acme.example",
		DisplayName: strings.ToUpper(name[:1]) + name[1:], Kind: principal.KindSession, Client: principal.ClientWeb})
}

var (
	bob   = session("bob")
	alice = session("alice")
)

// catalog knows payments-api, owned by bob and alice, deployed to production by the annotation.
type catalog struct{ annotation string }

func (c catalog) ComponentAnnotations(_ context.Context, field, ref string) (string, map[string]string, error) {
	if ref != "payments-api" && ref != payAPI {
		return "", nil, errs.E(errs.NotFound, "%s: no component %s", field, ref)
	}
	return payAPI, map[string]string{deploys.AnnotationDeploy: c.annotation}, nil
}

func (catalog) Owns(_ context.Context, p *principal.Principal, _ string) (bool, error) {
	return p != nil && (p.Username == "bob" || p.Username == "alice"), nil
}

// git runs git in dir as the test's own person and fails the test on an error.
func git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=Reviewer", "GIT_AUTHOR_EMAIL=reviewer@acme.example",
		"GIT_COMMITTER_NAME=Reviewer", "GIT_COMMITTER_EMAIL=reviewer@acme.example", "GIT_CONFIG_NOSYSTEM=1", "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// manifests is a bare manifest repository with payments-api's production overlay, and a clone
// of it where the test plays the reviewer who merges.
func manifests(t testing.TB) (bare, work string) {
	t.Helper()
	root := t.TempDir()
	bare = filepath.Join(root, "manifests.git")
	git(t, root, "init", "--quiet", "--bare", "-b", "main", bare)
	work = filepath.Join(root, "reviewer")
	git(t, root, "clone", "--quiet", bare, work)
	git(t, work, "checkout", "--quiet", "-b", "main")
	if err := os.MkdirAll(filepath.Join(work, filepath.Dir(overlay)), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, overlay), []byte("images:\n  - name: ghcr.io/acme/payments-api\n    newTag: \"1.4.1\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, work, "add", ".")
	git(t, work, "commit", "--quiet", "-m", "seed")
	git(t, work, "push", "--quiet", "origin", "main")
	return bare, work
}

// mergeBranch merges the request's branch into main as a reviewer would on the host (a merge
// commit), pushes it, and returns the merge commit.
func mergeBranch(t testing.TB, work, branch string) string {
	t.Helper()
	git(t, work, "fetch", "--quiet", "origin")
	git(t, work, "merge", "--quiet", "--no-ff", "-m", "Merge "+branch, "origin/"+branch)
	git(t, work, "push", "--quiet", "origin", "main")
	return git(t, work, "rev-parse", "HEAD")
}

// host is one code host under test: its in-process server, the pipeline provider's client on it,
// and how a test merges, closes and counts its pull requests.
type host struct {
	name  string
	hosts pullrequests.Hosts
	count func() int
	body  func(n int) string
	merge func(n int, sha string)
	close func(n int)
}

// codeHost starts one code host for a test.
type codeHost struct {
	name  string
	start func(t *testing.T) host
}

func hosts() []codeHost {
	return []codeHost{
		{deploys.ProviderGitHub, func(t *testing.T) host {
			srv := githubtest.Start(t)
			p, err := ghp.New(ghp.Options{BaseURL: srv.URL, Token: "gh-token"})
			if err != nil {
				t.Fatal(err)
			}
			return host{name: deploys.ProviderGitHub, hosts: pullrequests.Hosts{GitHub: p},
				count: func() int { return len(srv.Pulls(project)) },
				body: func(n int) string {
					p := srv.Pulls(project)[n-1]
					return p.Title + "\n" + p.Body + "\n" + p.Head.Ref + "->" + p.Base.Ref
				},
				merge: func(n int, sha string) {
					if !srv.MergePull(project, n, sha) {
						t.Fatalf("no pull request %d", n)
					}
				},
				close: func(n int) { srv.ClosePull(project, n) }}
		}},
		{deploys.ProviderGitLab, func(t *testing.T) host {
			srv := gitlabtest.Start(t, "gl-token")
			p, err := glp.New(glp.Options{BaseURL: srv.URL, Token: "gl-token"})
			if err != nil {
				t.Fatal(err)
			}
			return host{name: deploys.ProviderGitLab, hosts: pullrequests.Hosts{GitLab: p},
				count: func() int { return len(srv.MergeRequests(project)) },
				body: func(n int) string {
					mr := srv.MergeRequests(project)[n-1]
					return mr.Title + "\n" + mr.Description + "\n" + mr.SourceBranch + "->" + mr.TargetBranch
				},
				merge: func(n int, sha string) {
					if !srv.Merge(project, int64(n), sha) {
						t.Fatalf("no merge request %d", n)
					}
				},
				close: func(n int) { srv.Close(project, int64(n)) }}
		}},
	}
}

type fixture struct {
	s          *deploys.Service
	st         *store.Store
	bare, work string
}

func newFixture(t *testing.T, st *store.Store, provider string, prs deploys.PullRequests) fixture {
	t.Helper()
	bare, work := manifests(t)
	ann := fmt.Sprintf("production:\n  repo: %s\n  path: %s\n  image: ghcr.io/acme/payments-api\n  apply: pull-request\n  provider: %s\n  project: %s\n",
		bare, overlay, provider, project)
	committer, err := gitops.New(gitops.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	s := deploys.NewService(st, deploys.Options{Catalog: catalog{annotation: ann}, Applier: committer, Proposer: committer, PullRequests: prs,
		Environments: map[string]deploys.EnvironmentPolicy{"production": {RequireApproval: true}},
		PortalURL:    "https://portal.acme.example", Audit: audit.New(st, nil)})
	return fixture{s: s, st: st, bare: bare, work: work}
}

func history(t *testing.T, s *deploys.Service, id int64) string {
	t.Helper()
	ts, err := s.Transitions(bob, id)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, x := range ts {
		lines = append(lines, fmt.Sprintf("%s %s %s->%s: %s", x.Actor, x.Client, x.From, x.To, x.Note))
	}
	return strings.Join(lines, "\n")
}

func countAudit(t *testing.T, st *store.Store, action, actor string) int {
	t.Helper()
	var n int
	if err := st.Gorm().Raw("SELECT count(*) FROM audit_records WHERE action = ? AND actor = ? AND outcome = 'ok'", action, actor).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// A target that requires review is applied by pull request: on approval Portside commits the bump
// on portside/deploy-<number>, pushes that branch and opens a pull (merge) request naming the
// request, its approver and reason; the request waits APPLYING until it is merged, then rolls out
// the merge commit and is closed by its rollout like a pushed one. On GitHub and GitLab alike.
func TestARequestIsAppliedByAPullRequestAndRollsOutOnceItIsMerged(t *testing.T) {
	for _, ch := range hosts() {
		t.Run(ch.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, st *store.Store) {
				h := ch.start(t)
				f := newFixture(t, st, h.name, h.hosts)
				before := git(t, f.bare, "rev-parse", "main")
				q, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: digest, Reason: "fix the rounding bug"})
				if err != nil {
					t.Fatal(err)
				}
				q, err = f.s.Approve(alice, q.ID, "go")
				if err != nil {
					t.Fatal(err)
				}
				branch := deploys.BranchOf(q.ID)
				if q.State != deploys.Applying || q.PullRequestURL == "" || q.Waiting != deploys.WaitingForMerge(q.PullRequestURL) || q.CommitSHA != "" {
					t.Fatalf("approved: %+v", q)
				}
				if got := git(t, f.bare, "rev-parse", "main"); got != before {
					t.Fatalf("main moved before the merge: %s, was %s", got, before)
				}
				if got := git(t, f.bare, "show", branch+":"+overlay); !strings.Contains(got, "digest: "+digest) {
					t.Fatalf("the branch's overlay:\n%s", got)
				}
				if got := git(t, f.bare, "log", "-1", "--format=%an <%ae>%n%B", branch); !strings.Contains(got, "Bob <bob@acme.example>") || !strings.Contains(got, "Approved-by: alice") {
					t.Fatalf("the branch's commit:\n%s", got)
				}
				if h.count() != 1 {
					t.Fatalf("%d pull requests, want 1", h.count())
				}
				body := h.body(1)
				link := fmt.Sprintf("https://portal.acme.example/deploys/%d", q.ID)
				for _, want := range []string{link, "Approved by: alice", "Requested by: bob", "Reason: fix the rounding bug", branch + "->main",
					fmt.Sprintf("(deploy request %d)", q.ID)} {
					if !strings.Contains(body, want) {
						t.Errorf("the pull request lacks %q:\n%s", want, body)
					}
				}
				// Open: the background pass leaves it waiting, and opens nothing more.
				f.s.Tick(context.Background())
				if q, _ = f.s.Get(bob, q.ID); q.State != deploys.Applying || h.count() != 1 {
					t.Fatalf("after a pass with the pull request open: %+v, %d pull requests", q, h.count())
				}
				// The reviewer merges; the next pass sees it.
				sha := mergeBranch(t, f.work, branch)
				h.merge(1, sha)
				f.s.Tick(context.Background())
				if q, _ = f.s.Get(bob, q.ID); q.State != deploys.RollingOut || q.CommitSHA != sha || q.Waiting != "" || q.Repo != f.bare {
					t.Fatalf("after the merge: %+v (merge commit %s)", q, sha)
				}
				f.s.Observe(context.Background(), deploys.RolloutEvent{Revision: sha, Result: deploys.RolloutSucceeded, Message: "synced"})
				if q, _ = f.s.Get(bob, q.ID); q.State != deploys.Succeeded {
					t.Fatalf("after the rollout: %+v", q)
				}
				want := strings.Join([]string{
					"bob PORTAL ->REQUESTED: fix the rounding bug",
					"alice PORTAL REQUESTED->APPROVED: go",
					"portside SYSTEM APPROVED->APPLYING: ",
					"portside SYSTEM APPLYING->APPLYING: pull request opened: " + q.PullRequestURL,
					fmt.Sprintf("portside SYSTEM APPLYING->ROLLING_OUT: pull request merged: commit %s (%s)", sha[:12], q.PullRequestURL),
					"portside SYSTEM ROLLING_OUT->SUCCEEDED: rolled out: synced",
				}, "\n")
				if got := history(t, f.s, q.ID); got != want {
					t.Errorf("history:\n%s\nwant:\n%s", got, want)
				}
				// Opening the pull request is Portside's own move, audited as such.
				if n := countAudit(t, st, "deploys.request.applying", "portside"); n != 2 {
					t.Errorf("%d audited applying moves by portside, want 2 (applying, pull request opened)", n)
				}
				if n := countAudit(t, st, "deploys.request.rolling_out", "portside"); n != 1 {
					t.Errorf("%d audited rolling_out moves, want 1", n)
				}
			})
		})
	}
}

// A pull request closed without being merged fails the request, saying so; main never moves.
func TestAPullRequestClosedUnmergedFailsTheRequest(t *testing.T) {
	for _, ch := range hosts() {
		t.Run(ch.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, st *store.Store) {
				h := ch.start(t)
				f := newFixture(t, st, h.name, h.hosts)
				before := git(t, f.bare, "rev-parse", "main")
				q, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: digest})
				if err != nil {
					t.Fatal(err)
				}
				if q, err = f.s.Approve(alice, q.ID, ""); err != nil || q.State != deploys.Applying {
					t.Fatalf("approve: %+v %v", q, err)
				}
				h.close(1)
				f.s.Tick(context.Background())
				q, _ = f.s.Get(bob, q.ID)
				if q.State != deploys.Failed || q.Outcome != "the pull request was closed without being merged: "+q.PullRequestURL {
					t.Fatalf("after the close: %+v", q)
				}
				if got := git(t, f.bare, "rev-parse", "main"); got != before {
					t.Errorf("main moved: %s, was %s", got, before)
				}
				// A failed request is not looked at again.
				f.s.Tick(context.Background())
				if h.count() != 1 {
					t.Errorf("%d pull requests, want 1", h.count())
				}
			})
		})
	}
}

// lostAnswer is a code host whose first answer to Open is lost after the host acted on it (a
// timeout, a dropped connection): the request must find that pull request again, not open another.
type lostAnswer struct {
	deploys.PullRequests
	mu   sync.Mutex
	lost bool
}

func (l *lostAnswer) Open(ctx context.Context, t deploys.Target, pr deploys.NewPullRequest) (deploys.PullRequest, error) {
	out, err := l.PullRequests.Open(ctx, t, pr)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err == nil && !l.lost {
		l.lost = true
		return deploys.PullRequest{}, errs.E(errs.Unavailable, "the code host did not answer in time")
	}
	return out, err
}

// Retrying never opens a second pull request nor pushes a second commit: an apply whose answer was
// lost waits saying why, and the next pass finds the pull request from the request's branch.
func TestARetriedApplyFindsItsPullRequestInsteadOfOpeningAnother(t *testing.T) {
	for _, ch := range hosts() {
		t.Run(ch.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, st *store.Store) {
				h := ch.start(t)
				f := newFixture(t, st, h.name, &lostAnswer{PullRequests: h.hosts})
				q, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: digest})
				if err != nil {
					t.Fatal(err)
				}
				q, err = f.s.Approve(alice, q.ID, "")
				if err != nil {
					t.Fatal(err)
				}
				if q.State != deploys.Applying || q.PullRequestURL != "" || !strings.HasPrefix(q.Waiting, "cannot open the pull request now (the code host did not answer in time)") {
					t.Fatalf("after the lost answer: %+v", q)
				}
				head := git(t, f.bare, "rev-parse", deploys.BranchOf(q.ID))
				f.s.Tick(context.Background())
				f.s.Tick(context.Background())
				q, _ = f.s.Get(bob, q.ID)
				if q.State != deploys.Applying || q.PullRequestURL == "" || q.Waiting != deploys.WaitingForMerge(q.PullRequestURL) {
					t.Fatalf("after the retries: %+v", q)
				}
				if h.count() != 1 {
					t.Errorf("%d pull requests, want 1", h.count())
				}
				if got := git(t, f.bare, "rev-parse", deploys.BranchOf(q.ID)); got != head {
					t.Errorf("the branch moved on retry: %s, was %s", got, head)
				}
				if n := strings.Count(history(t, f.s, q.ID), "pull request opened"); n != 1 {
					t.Errorf("the pull request was recorded %d times\n%s", n, history(t, f.s, q.ID))
				}
			})
		})
	}
}

// A second pull request from the branch is refused by the host as GitHub and GitLab refuse it, and
// the adapter says CONFLICT (the service then finds the open one).
func TestASecondPullRequestFromABranchIsAConflict(t *testing.T) {
	for _, ch := range hosts() {
		t.Run(ch.name, func(t *testing.T) {
			h := ch.start(t)
			tgt := deploys.Target{Environment: "production", Branch: "main", Provider: h.name, Project: project}
			in := deploys.NewPullRequest{Branch: "portside/deploy-7", Title: "Deploy", Body: "body"}
			if _, err := h.hosts.Find(context.Background(), tgt, in.Branch); !errs.Is(err, errs.NotFound) {
				t.Fatalf("find before: %v, want NOT_FOUND", err)
			}
			first, err := h.hosts.Open(context.Background(), tgt, in)
			if err != nil || first.State != deploys.PullRequestOpen || first.URL == "" {
				t.Fatalf("open: %+v %v", first, err)
			}
			if _, err := h.hosts.Open(context.Background(), tgt, in); !errs.Is(err, errs.Conflict) {
				t.Fatalf("second open: %v, want CONFLICT", err)
			}
			found, err := h.hosts.Find(context.Background(), tgt, in.Branch)
			if err != nil || found != first {
				t.Fatalf("find: %+v %v, want %+v", found, err, first)
			}
			other := tgt
			other.Provider = map[string]string{deploys.ProviderGitHub: deploys.ProviderGitLab, deploys.ProviderGitLab: deploys.ProviderGitHub}[h.name]
			if _, err := h.hosts.Find(context.Background(), other, in.Branch); !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), ".provider") {
				t.Errorf("a host this Portside has no client for: %v", err)
			}
		})
	}
}

// Without pull requests configured, a request to a target that asks for one fails saying so.
func TestARequestForAPullRequestFailsWhenNoneAreConfigured(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st, deploys.ProviderGitHub, nil)
		q, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: digest})
		if err != nil {
			t.Fatal(err)
		}
		q, err = f.s.Approve(alice, q.ID, "")
		if err != nil || q.State != deploys.Failed || !strings.Contains(q.Outcome, "no pull requests configured") {
			t.Fatalf("%+v %v", q, err)
		}
	})
}

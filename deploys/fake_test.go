package deploys_test

import (
	"context"
	"fmt"
	"github.com/portside-dev/portside/internal/bus"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/deploys"
	"github.com/portside-dev/portside/deploys/gitops"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/store"
)

// fakeCatalog knows components by ref, with their annotations and owners (usernames).
type fakeCatalog struct {
	annotations map[string]map[string]string
	owners      map[string][]string
	// ownsErr, when set, is what Owns answers (the catalog cannot say).
	ownsErr error
}

func (c *fakeCatalog) ComponentAnnotations(_ context.Context, field, ref string) (string, map[string]string, error) {
	r, err := backstage.ParseRef(ref, "component", "default")
	if err != nil {
		return "", nil, errs.InvalidField(field, "%v", err)
	}
	ann, ok := c.annotations[r.String()]
	if !ok {
		return "", nil, errs.NotFoundField(field, "no component %s in the catalog", r) // as the catalog answers
	}
	return r.String(), ann, nil
}

func (c *fakeCatalog) Owns(_ context.Context, p *principal.Principal, ref string) (bool, error) {
	if c.ownsErr != nil {
		return false, c.ownsErr
	}
	return p != nil && slices.Contains(c.owners[ref], p.Username), nil
}

// fakeBuilds are a component's successful pipeline runs, as the pipelines service would list them.
type fakeBuilds map[string][]deploys.Build

func (b fakeBuilds) SucceededBuilds(_ context.Context, component string, limit int) ([]deploys.Build, error) {
	list := b[component]
	return list[:min(len(list), limit)], nil
}

// fakeWindows holds an environment's deploys while its reason is set, and fails while down.
type fakeWindows struct {
	mu     sync.Mutex
	reason map[string]string
	down   bool
}

func (w *fakeWindows) setDown(down bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.down = down
}

func (w *fakeWindows) set(env, reason string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.reason[env] = reason
}

func (w *fakeWindows) Blocked(_ context.Context, _ string, _ map[string]string, env string) (string, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.down {
		return "", errs.E(errs.Unavailable, "Argo CD \"prod\" cannot be reached right now")
	}
	return w.reason[env], nil
}

// fakeRollouts hands the events a test sends to the service's follower.
type fakeRollouts struct{ ch chan deploys.RolloutEvent }

func (r *fakeRollouts) RolloutEvents(ctx context.Context) <-chan deploys.RolloutEvent {
	out := make(chan deploys.RolloutEvent)
	go func() {
		defer close(out)
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-r.ch:
				select {
				case out <- ev:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return out
}

func session(name, email string, admin bool) context.Context {
	return principal.With(context.Background(), &principal.Principal{Username: name, Email: email, DisplayName: strings.ToUpper(name[:1]) + name[1:],
		EntityRef: "user:default/" + name, Admin: admin, Kind: principal.KindSession, Client: principal.ClientWeb})
}

var (
	// bob and alice own payments-api; carol owns nothing; root is an admin.
	bob   = session("bob", "bob@acme.example", false)
	alice = session("alice", "alice@acme.example", false)
	carol = session("carol", "carol@acme.example", false)
	root  = session("root", "root@acme.example", true)
	// aliceAPI is alice through the API with a read-only token.
	aliceRead = principal.With(context.Background(), &principal.Principal{Username: "alice", Kind: principal.KindToken, Client: principal.ClientAPI, Scopes: []string{"read"}})
	// bobSlack is bob through Slack.
	bobSlack = principal.With(context.Background(), &principal.Principal{Username: "bob", Email: "bob@acme.example", Kind: principal.KindSession, Client: principal.ClientSlack})
)

const (
	digest  = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	digest2 = "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
	payAPI  = "component:default/payments-api"
	commit  = "4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39"
)

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

// newManifests makes a bare manifest repository with payments-api's production and staging
// overlays, and returns its path.
func newManifests(t testing.TB) string {
	t.Helper()
	root := t.TempDir()
	bare := filepath.Join(root, "manifests.git")
	git(t, root, "init", "--quiet", "--bare", "-b", "main", bare)
	work := filepath.Join(root, "seed")
	git(t, root, "clone", "--quiet", bare, work)
	git(t, work, "checkout", "--quiet", "-b", "main")
	for _, env := range []string{"production", "staging"} {
		dir := filepath.Join(work, "apps", "payments-api", env)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte("resources:\n  - ../base\nimages:\n  - name: ghcr.io/acme/payments-api\n    newTag: \"1.4.1\"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git(t, work, "add", ".")
	git(t, work, "commit", "--quiet", "-m", "seed")
	git(t, work, "push", "--quiet", "origin", "main")
	return bare
}

// fixture is a service on a real store, applying to a real bare repository.
type fixture struct {
	s       *deploys.Service
	st      *store.Store
	clk     *testutil.Clock
	bare    string
	windows *fakeWindows
	cat     *fakeCatalog
}

func newFixture(t testing.TB, st *store.Store) *fixture {
	t.Helper()
	return newFixtureOn(t, st, nil)
}

// fixtureCatalog is the fixture's catalog: payments-api deploys to production and staging through
// the manifest repository bare, and ledger has no deploy annotation.
func fixtureCatalog(bare string) *fakeCatalog {
	ann := fmt.Sprintf(`production:
  repo: %[1]s
  path: apps/payments-api/production/kustomization.yaml
  image: ghcr.io/acme/payments-api
staging:
  repo: %[1]s
  path: apps/payments-api/staging/kustomization.yaml
  image: ghcr.io/acme/payments-api
`, bare)
	return &fakeCatalog{
		annotations: map[string]map[string]string{payAPI: {deploys.AnnotationDeploy: ann}, "component:default/ledger": {}},
		owners:      map[string][]string{payAPI: {"bob", "alice"}, "component:default/ledger": {"bob"}},
	}
}

// newFixtureOn is newFixture for one of several replicas: b carries the events between them.
func newFixtureOn(t testing.TB, st *store.Store, b bus.Bus) *fixture {
	t.Helper()
	bare := newManifests(t)
	cat := fixtureCatalog(bare)
	committer, err := gitops.New(gitops.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	clk := testutil.NewClock(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))
	w := &fakeWindows{reason: map[string]string{}}
	s := deploys.NewService(st, deploys.Options{
		Catalog:      cat,
		Builds:       fakeBuilds{payAPI: {{RunID: 42, CommitSHA: commit, Images: []string{"ghcr.io/acme/payments-api:1.5.0"}}, {RunID: 41, CommitSHA: "aaaa", Versions: []string{"1.4.9"}}}},
		Applier:      committer,
		SyncWindows:  w,
		Environments: map[string]deploys.EnvironmentPolicy{"production": {RequireApproval: true, Expiry: 4 * time.Hour}},
		PortalURL:    "https://portal.acme.example/",
		Audit:        audit.New(st, nil),
		Now:          clk.Now,
		Bus:          b,
	})
	return &fixture{s: s, st: st, clk: clk, bare: bare, windows: w, cat: cat}
}

func countAudit(t testing.TB, st *store.Store, action, outcome string) int {
	t.Helper()
	var n int
	if err := st.Gorm().Raw("SELECT count(*) FROM audit_records WHERE action = ? AND outcome = ?", action, outcome).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// history is a request's transitions as "actor CLIENT FROM->TO: note" lines.
func history(t testing.TB, s *deploys.Service, id int64) string {
	t.Helper()
	ts, err := s.Transitions(carol, id)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, x := range ts {
		lines = append(lines, fmt.Sprintf("%s %s %s->%s: %s", x.Actor, x.Client, x.From, x.To, x.Note))
	}
	return strings.Join(lines, "\n")
}

func mustCommitter(t testing.TB) *gitops.Committer {
	t.Helper()
	c, err := gitops.New(gitops.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

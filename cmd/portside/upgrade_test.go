package main

// Issue #17: a rolling upgrade N → N+1. Version N is this repository's HEAD as committed; N+1 is
// the working tree with one more expand migration (test-only, never in the repository). Both
// serve one PostgreSQL schema migrated by N+1, as the Helm chart's rollout has them. See README
// "Upgrades".

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portside-dev/portside/graph/gqlws"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/store/storetest"
)

// upgradeMigration is N+1's extra migration: an expand step (a nullable column and a new table),
// in both dialects under one version, far above the real ones.
const (
	upgradeVersion   = "09917"
	upgradeMigration = `-- +goose Up
ALTER TABLE deploy_requests ADD COLUMN upgrade_probe TEXT;
CREATE TABLE upgrade_probes (id INTEGER PRIMARY KEY, note TEXT);

-- +goose Down
DROP TABLE upgrade_probes;
`
)

// versions holds the binaries of N and N+1, built once per run of the tests.
var versions struct {
	once      sync.Once
	n, next   string
	err       error
	buildTime time.Duration
}

// buildVersions builds N (git archive of HEAD) and N+1 (the working tree's files that git knows
// or would add, with upgradeMigration) as deploy/Dockerfile builds portside.
func buildVersions(t *testing.T) (n, next string) {
	t.Helper()
	versions.once.Do(func() {
		start := time.Now()
		versions.n, versions.next, versions.err = build2()
		versions.buildTime = time.Since(start)
	})
	if versions.err != nil {
		t.Fatal(versions.err)
	}
	return versions.n, versions.next
}

func build2() (string, string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", "", err
	}
	dir, err := os.MkdirTemp("", "portside-upgrade-")
	if err != nil {
		return "", "", err
	}
	// Removed when the test binary exits (TestMain's directory is another).
	cleanups = append(cleanups, func() { _ = os.RemoveAll(dir) })
	run := func(d string, name string, args ...string) ([]byte, error) {
		cmd := exec.Command(name, args...)
		cmd.Dir = d
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err := cmd.Output()
		if err != nil {
			var stderr []byte
			if e, ok := err.(*exec.ExitError); ok {
				stderr = e.Stderr
			}
			return nil, fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr)
		}
		return out, nil
	}
	// N: the committed tree.
	srcN := filepath.Join(dir, "n")
	if err := os.MkdirAll(srcN, 0o755); err != nil {
		return "", "", err
	}
	tarball := filepath.Join(dir, "n.tar")
	if _, err := run(root, "git", "archive", "--format=tar", "-o", tarball, "HEAD"); err != nil {
		return "", "", err
	}
	if _, err := run(srcN, "tar", "-xf", tarball); err != nil {
		return "", "", err
	}
	// N+1: the working tree, plus the migration.
	srcNext := filepath.Join(dir, "next")
	files, err := run(root, "git", "ls-files", "--cached", "--others", "--exclude-standard", "-z")
	if err != nil {
		return "", "", err
	}
	for _, f := range strings.Split(strings.TrimRight(string(files), "\x00"), "\x00") {
		data, err := os.ReadFile(filepath.Join(root, f))
		if os.IsNotExist(err) {
			continue // deleted in the working tree
		}
		if err != nil {
			return "", "", err
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(srcNext, f)), 0o755); err != nil {
			return "", "", err
		}
		if err := os.WriteFile(filepath.Join(srcNext, f), data, 0o644); err != nil {
			return "", "", err
		}
	}
	for _, d := range []string{"postgres", "sqlite"} {
		p := filepath.Join(srcNext, "migrations", d, upgradeVersion+"_upgrade_probe.sql")
		if err := os.WriteFile(p, []byte(upgradeMigration), 0o644); err != nil {
			return "", "", err
		}
	}
	n, next := filepath.Join(dir, "portside-n"), filepath.Join(dir, "portside-next")
	for bin, src := range map[string]string{n: srcN, next: srcNext} {
		if _, err := run(src, "go", "build", "-trimpath", "-ldflags", "-X main.version="+filepath.Base(bin), "-o", bin, "./cmd/portside"); err != nil {
			return "", "", err
		}
	}
	return n, next, nil
}

// cleanups run when the test binary exits (see TestMain).
var cleanups []func()

// startBinary starts serve of another binary than the one under test (see startServe).
func startBinary(t *testing.T, bin string, env []string, args ...string) *serveProc {
	t.Helper()
	saved := binary
	binary = bin
	defer func() { binary = saved }()
	return startServe(t, env, args...)
}

// runBinary runs another binary than the one under test to completion (see portside).
func runBinary(t *testing.T, bin string, env []string, args ...string) cliResult {
	t.Helper()
	saved := binary
	binary = bin
	defer func() { binary = saved }()
	return portside(t, env, args...)
}

// gql posts a GraphQL operation to the replica with token, failing the test on any error.
func (s *serveProc) gql(t *testing.T, token string, out any, query string, vars map[string]any) {
	t.Helper()
	if err := s.tryGQL(token, out, query, vars); err != nil {
		t.Fatal(err)
	}
}

// tryGQL posts a GraphQL operation to the replica with token; any failure is an error.
func (s *serveProc) tryGQL(token string, out any, query string, vars map[string]any) error {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, "http://"+s.addr+"/graphql", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("POST /graphql on %s: %w", s.addr, err)
	}
	defer resp.Body.Close()
	var r struct {
		Data   json.RawMessage
		Errors []struct{ Message string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || resp.StatusCode != http.StatusOK || len(r.Errors) > 0 {
		return fmt.Errorf("POST /graphql on %s: %d %v %+v\nquery: %s", s.addr, resp.StatusCode, err, r.Errors, query)
	}
	return json.Unmarshal(r.Data, out)
}

// requestEvents subscribes to deployRequestChanged on the replica and returns a function that waits
// for the next event's "number from->to".
func (s *serveProc) requestEvents(t *testing.T, token string) func() string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sub, _, err := gqlws.Subscribe(ctx, "ws://"+s.addr+"/graphql", http.Header{"Authorization": {"Bearer " + token}},
		`subscription { deployRequestChanged { request { number } transition { from to } } }`)
	if err != nil {
		t.Fatalf("subscribe on %s: %v", s.addr, err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	return func() string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		data, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("deployRequestChanged on %s: %v", s.addr, err)
		}
		e := data["deployRequestChanged"].(map[string]any)
		tr := e["transition"].(map[string]any)
		from, _ := tr["from"].(string)
		return fmt.Sprintf("%v %s->%v", e["request"].(map[string]any)["number"], from, tr["to"])
	}
}

const upgradeDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// upgradeCatalog writes a catalog file of a component (deployed from a new bare repository) and its
// team, and returns the file.
func upgradeCatalog(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	bare := filepath.Join(dir, "manifests.git")
	seed := filepath.Join(dir, "seed")
	gitEnv := []string{"GIT_AUTHOR_NAME=T", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=T", "GIT_COMMITTER_EMAIL=t@example.com",
		"GIT_CONFIG_GLOBAL=" + os.DevNull, "GIT_CONFIG_NOSYSTEM=1"}
	for _, args := range [][]string{
		{"init", "--quiet", "-b", "main", seed},
		{"-C", seed, "add", "."},
		{"-C", seed, "commit", "--quiet", "-m", "seed"},
		{"clone", "--quiet", "--bare", seed, bare},
	} {
		if args[0] == "-C" && args[2] == "add" {
			mustWrite(t, filepath.Join(seed, "production", "kustomization.yaml"), "images:\n  - name: ghcr.io/acme/"+name+"\n    newTag: \"1\"\n")
		}
		cmd := exec.Command("git", args...)
		cmd.Env = append(os.Environ(), gitEnv...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	file := filepath.Join(dir, "catalog-info.yaml")
	mustWrite(t, file, fmt.Sprintf(`apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: %s
  annotations:
    portside.dev/deploy: |
      production: {repo: %q, path: production/kustomization.yaml, image: ghcr.io/acme/%s}
spec: {type: service, lifecycle: production, owner: team-%s}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-%s
spec: {type: team, children: []}
`, name, bare, name, name, name))
	return file
}

// TestARollingUpgradeServesNAndNPlusOneTogetherOnTheExpandedSchema: N serves; N+1 migrates the
// schema (one more expand migration) while N serves on, still ready; N and N+1 then serve
// together: what each writes (a location's entities, a project's task, a deploy request and its
// approval) the other reads, and the request's events reach subscribers of both. A second pod of N
// started on N+1's schema (a restart mid-rollout, or a rollback) starts and serves too, and N's
// `migrate up` succeeds applying nothing. N stops and N+1 serves alone and leads. Once a contract
// migration raises the floor above N, N's start is refused; so is N on a schema without its
// migrations.
func TestARollingUpgradeServesNAndNPlusOneTogetherOnTheExpandedSchema(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two versions of portside: not in -short")
	}
	dsn := storetest.PostgresURL(t)
	binN, binNext := buildVersions(t)
	t.Logf("built N and N+1 in %s (once per run)", versions.buildTime.Round(time.Millisecond))
	start := time.Now()
	env := []string{"PORTSIDE_DATABASE_URL=" + dsn}
	args := []string{"--dev-login", "false", "--api-location-types", "file"}

	// N serves its own schema.
	wantExit(t, runBinary(t, binN, env, "migrate", "up"), 0, "migrate up with N")
	n := startBinary(t, binN, env, args...)
	n.waitReady(t)

	// N+1's migration Job runs while N serves: N stays ready on the newer schema.
	r := runBinary(t, binNext, env, "migrate", "up")
	wantExit(t, r, 0, "migrate up with N+1")
	if !strings.Contains(r.stdout, "applied "+upgradeVersion+"_upgrade_probe.sql") || !strings.Contains(r.stdout, "(1 migration applied now)") {
		t.Fatalf("N+1's migrate up did not apply its one extra migration\n%s", r)
	}
	n.waitReady(t)
	if st := runBinary(t, binN, env, "migrate", "status"); st.code != 3 || !strings.Contains(st.stdout, "newer, compatible") {
		t.Errorf("N's migrate status on N+1's schema: want exit 3 saying it is newer, compatible\n%s", st)
	}
	// N's migration Job again (a rollback, an Argo CD PreSync hook of N): nothing to apply, success.
	if r := runBinary(t, binN, env, "migrate", "up"); r.code != 0 || !strings.Contains(r.stdout, "(0 migrations applied now)") {
		t.Errorf("N's migrate up on N+1's schema: want exit 0 applying nothing\n%s", r)
	}

	// A second pod of N started now (one restarted mid-rollout) becomes ready and serves on N+1's
	// schema, saying once that the schema is newer (see README "Upgrades").
	n2 := startBinary(t, binN, env, args...)
	n2.waitReady(t)
	if c := strings.Count(n2.stderr.String(), "is newer than this Portside's"); c != 1 {
		t.Errorf("N started on N+1's schema warns %d times that the schema is newer, want once\n%s", c, n2.stderr.String())
	}
	n.waitReady(t)

	next := startBinary(t, binNext, env, args...)
	next.waitReady(t)
	ops := lastLine(runBinary(t, binNext, env, "token", "create", "--user", "ops", "--admin").stdout)
	rel := lastLine(runBinary(t, binNext, env, "token", "create", "--user", "rel", "--admin").stdout)
	for _, s := range []*serveProc{n, n2, next} {
		var h struct{ Version string }
		resp, err := http.Get("http://" + s.addr + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		_ = json.NewDecoder(resp.Body).Decode(&h)
		resp.Body.Close()
		t.Logf("serving: %s at %s", h.Version, s.addr)
	}
	eventsN, eventsNext := n.requestEvents(t, ops), next.requestEvents(t, ops)

	// Writes through each, read through the other.
	type pair struct{ writer, reader *serveProc }
	for i, p := range []pair{{n, next}, {next, n}, {n2, next}} {
		name := fmt.Sprintf("upgraded-%d", i)
		var reg struct{ RegisterLocation struct{ Added int } }
		p.writer.gql(t, ops, &reg, `mutation($f: String!) { registerLocation(input: {type: FILE, target: $f}) { added } }`,
			map[string]any{"f": upgradeCatalog(t, name)})
		if reg.RegisterLocation.Added != 2 {
			t.Fatalf("registerLocation through %s added %d entities, want 2", p.writer.addr, reg.RegisterLocation.Added)
		}
		var ent struct{ Entity *struct{ Name string } }
		testutil.Eventually(t, 30*time.Second, func() bool {
			p.reader.gql(t, ops, &ent, `query($r: String!) { entity(ref: $r) { name } }`, map[string]any{"r": "component:" + name})
			return ent.Entity != nil
		}, "component %s, written through %s, read through %s", name, p.writer.addr, p.reader.addr)

		var proj struct {
			CreateProject struct{ Project struct{ Name string } }
		}
		p.writer.gql(t, ops, &proj, `mutation($n: String!, $o: String!) { createProject(input: {name: $n, owner: $o}) { project { name } } }`,
			map[string]any{"n": name, "o": "team-" + name})
		var task struct {
			CreateTask struct{ Task struct{ ID string } }
		}
		p.writer.gql(t, ops, &task, `mutation($p: String!) { createTask(input: {project: $p, title: "upgrade"}) { task { id } } }`, map[string]any{"p": name})
		var read struct{ Task *struct{ Title string } }
		p.reader.gql(t, ops, &read, `query($id: ID!) { task(id: $id) { title } }`, map[string]any{"id": task.CreateTask.Task.ID})
		if read.Task == nil || read.Task.Title != "upgrade" {
			t.Errorf("the task created through %s reads %+v through %s", p.writer.addr, read.Task, p.reader.addr)
		}

		// A request made through the writer, approved through the reader: applied once, and every
		// move reaches the subscribers of both versions.
		var req struct {
			RequestDeploy struct {
				Request struct {
					ID     string
					Number int
				}
			}
		}
		p.writer.gql(t, ops, &req, `mutation($c: String!, $v: String!) { requestDeploy(input: {component: $c, environment: "production", version: $v}) { request { id number } } }`,
			map[string]any{"c": name, "v": upgradeDigest})
		// Each version's subscribers hear of the request before it is approved (an event crosses
		// in milliseconds, but the approver's own moves would reach its subscribers first).
		num := req.RequestDeploy.Request.Number
		for _, events := range []func() string{eventsN, eventsNext} {
			if got := events(); got != fmt.Sprintf("%d ->REQUESTED", num) {
				t.Fatalf("deployRequestChanged: %s, want %d ->REQUESTED", got, num)
			}
		}
		var appr struct {
			ApproveDeployRequest struct {
				Request struct{ State, CommitSha string }
			}
		}
		p.reader.gql(t, rel, &appr, `mutation($id: ID!) { approveDeployRequest(input: {id: $id}) { request { state commitSha } } }`,
			map[string]any{"id": req.RequestDeploy.Request.ID})
		if got := appr.ApproveDeployRequest.Request; got.State != "ROLLING_OUT" || got.CommitSha == "" {
			t.Fatalf("approved through %s: %+v", p.reader.addr, got)
		}
		var again struct {
			Node struct{ State, CommitSha string }
		}
		p.writer.gql(t, ops, &again, `query($id: ID!) { node(id: $id) { ... on DeployRequest { state commitSha } } }`, map[string]any{"id": req.RequestDeploy.Request.ID})
		if again.Node != appr.ApproveDeployRequest.Request {
			t.Errorf("the request reads %+v through %s, approved as %+v", again.Node, p.writer.addr, appr.ApproveDeployRequest.Request)
		}
		for _, events := range []func() string{eventsN, eventsNext} {
			for _, want := range []string{"REQUESTED->APPROVED", "APPROVED->APPLYING", "APPLYING->ROLLING_OUT"} {
				if got := events(); got != fmt.Sprintf("%d %s", num, want) {
					t.Fatalf("deployRequestChanged: %s, want %d %s", got, num, want)
				}
			}
		}
	}

	// N's pods are replaced: N+1 alone serves, and leads.
	for _, p := range []*serveProc{n, n2} {
		if code := p.stop(t); code != 0 {
			t.Errorf("N exited %d after SIGTERM\n%s", code, p.stderr)
		}
	}
	next.waitReady(t)
	waitForOneLeader(t, []*serveProc{next})
	var all struct{ Entities struct{ TotalCount int } }
	next.gql(t, ops, &all, `{ entities { totalCount } }`, nil)
	if all.Entities.TotalCount != 6 {
		t.Errorf("N+1 alone reads %d entities, want the 6 both versions wrote", all.Entities.TotalCount)
	}
	t.Logf("the rolling upgrade took %s (besides the builds)", time.Since(start).Round(time.Millisecond))

	// A later release's contract migration raises the floor above N (here by hand, to N+1's
	// version): N neither starts nor migrates any more, saying which release to run; N+1 serves on.
	floor := strings.TrimLeft(upgradeVersion, "0")
	db := storetest.Open(t, dsn, false)
	if err := db.Gorm().Exec("UPDATE schema_floor SET oldest_reader = " + floor).Error; err != nil {
		t.Fatal(err)
	}
	r = runBinary(t, binN, env, "serve", "--addr", "127.0.0.1:0")
	if r.code == 0 || !strings.Contains(r.stderr, "incompatible") || !strings.Contains(r.stderr, "raised its floor to "+floor) ||
		!strings.Contains(r.stderr, "run a Portside release whose schema version is at least "+floor) || strings.Contains(r.stderr, "listening") {
		t.Errorf("a start of N above the floor: want a refusal naming the floor and what to run\n%s", r)
	}
	if r := runBinary(t, binN, env, "migrate", "up"); r.code == 0 || !strings.Contains(r.stderr, "incompatible") {
		t.Errorf("N's migrate up above the floor: want a refusal\n%s", r)
	}
	if st := runBinary(t, binN, env, "migrate", "status"); st.code != 3 || !strings.Contains(st.stdout, "newer, incompatible (floor "+floor+")") {
		t.Errorf("N's migrate status above the floor: want exit 3 saying it is newer, incompatible\n%s", st)
	}
	next.waitReady(t)

	// N on a schema that lacks its migrations is refused.
	fresh := []string{"PORTSIDE_DATABASE_URL=" + storetest.PostgresURL(t)}
	r = runBinary(t, binN, fresh, "serve", "--addr", "127.0.0.1:0")
	if r.code == 0 || !strings.Contains(r.stderr, "not migrated") || strings.Contains(r.stderr, "listening") {
		t.Errorf("N on an unmigrated schema: want a refusal saying it is not migrated\n%s", r)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// Package e2e runs the real portside binary end to end: `portside serve` over HTTP against a real
// git repository, and a catalog import killed mid-ingest.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/store"
)

var (
	portsideBin   string // the portside binary, built by TestMain (portside-argocd beside it)
	gencatalogBin string // the catalog generator, built by TestMain
)

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "portside-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	out, err := exec.Command("go", "env", "GOMOD").Output()
	root := filepath.Dir(strings.TrimSpace(string(out)))
	if err != nil || root == "." {
		fmt.Fprintf(os.Stderr, "find the module root: %v\n", err)
		return 1
	}
	portsideBin = filepath.Join(dir, "portside")
	gencatalogBin = filepath.Join(dir, "gencatalog")
	// portside-argocd beside portside, where portside serve looks for it.
	for bin, pkg := range map[string]string{portsideBin: "./cmd/portside", gencatalogBin: "./bench/gencatalog",
		filepath.Join(dir, "portside-argocd"): "./cmd/portside-argocd"} {
		// Built as deploy/Dockerfile builds them (CGO off, -trimpath): what is tested is what
		// ships, and deploy's test of the Dockerfile's builds then finds them compiled.
		build := exec.Command("go", "build", "-trimpath", "-o", bin, pkg)
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build %s: %v\n%s", pkg, err, out)
			return 1
		}
	}
	return m.Run()
}

// cleanEnv is the environment without PORTSIDE_* settings, with caches in a temp dir and TMPDIR
// in one the test removes: the processes the tests kill outright (serve replicas, an import) leave
// their temporary directories behind (GitOps clones, portside-argocd's socket directory).
func cleanEnv(t *testing.T) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PORTSIDE_") && !strings.HasPrefix(kv, "GIT_") {
			env = append(env, kv)
		}
	}
	return append(env, "XDG_CACHE_HOME="+t.TempDir(), "TMPDIR="+testutil.ChildTempDir(t))
}

type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.code, r.stdout, r.stderr)
}

// run runs a command to completion (killing it after two minutes).
func run(t *testing.T, env []string, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("%s %s did not finish\n%s", filepath.Base(name), strings.Join(args, " "), r)
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	case err != nil:
		t.Fatalf("%s: %v", name, err)
	}
	return r
}

func mustRun(t *testing.T, env []string, name string, args ...string) result {
	t.Helper()
	r := run(t, env, name, args...)
	if r.code != 0 {
		t.Fatalf("%s %s failed\n%s", filepath.Base(name), strings.Join(args, " "), r)
	}
	return r
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// ---- git ----

// gitRepo is a real repository in a temp dir.
type gitRepo struct {
	dir string
	env []string
}

func newGitRepo(t *testing.T) *gitRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("git is required: %v", err)
	}
	g := &gitRepo{dir: t.TempDir()}
	g.env = append(cleanEnv(t),
		"GIT_CONFIG_GLOBAL="+os.DevNull, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=E2E", "GIT_AUTHOR_EMAIL=e2e@example.com",
		"GIT_COMMITTER_NAME=E2E", "GIT_COMMITTER_EMAIL=e2e@example.com")
	g.git(t, "init", "--quiet", "--initial-branch=main")
	return g
}

func (g *gitRepo) git(t *testing.T, args ...string) {
	t.Helper()
	mustRun(t, g.env, "git", append([]string{"-C", g.dir}, args...)...)
}

func (g *gitRepo) write(t *testing.T, name, content string) {
	t.Helper()
	writeFile(t, filepath.Join(g.dir, name), content)
}

func (g *gitRepo) commit(t *testing.T, msg string) {
	t.Helper()
	g.git(t, "add", "--all")
	g.git(t, "commit", "--quiet", "--message", msg)
}

const rootCatalog = `apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: shop-services
spec:
  targets:
    - ./services/*/catalog-info.yaml
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-shop
spec:
  type: team
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata:
  name: shop
spec:
  owner: team-shop
`

const cartCatalog = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: cart
  description: The shopping cart.
spec:
  type: service
  lifecycle: production
  owner: team-shop
  system: shop
  dependsOn: [component:inventory]
  providesApis: [cart-api]
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: cart-api
spec:
  type: openapi
  lifecycle: production
  owner: team-shop
  system: shop
  definition:
    $text: ./openapi.yaml
`

const cartOpenAPI = `openapi: 3.0.0
info:
  title: Cart API
  version: 1.0.0
paths: {}
`

func componentYAML(name, description string) string {
	return `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: ` + name + `
  description: ` + description + `
spec:
  type: service
  lifecycle: production
  owner: team-shop
  system: shop
`
}

// ---- portside serve ----

// portsideServer is a running `portside serve`.
type portsideServer struct {
	cmd    *exec.Cmd
	stderr *testutil.Buffer
	exited chan struct{} // closed when the process has exited
	addr   string
	token  string // an admin API token, sent with every GraphQL request
}

func startServe(t *testing.T, args ...string) *portsideServer {
	t.Helper()
	return startServeWith(t, cleanEnv(t), args...)
}

// startServeWith starts `portside serve` with the given environment.
func startServeWith(t *testing.T, env []string, args ...string) *portsideServer {
	t.Helper()
	cmd := exec.Command(portsideBin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = env
	s := &portsideServer{cmd: cmd, stderr: &testutil.Buffer{}, exited: make(chan struct{})}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-s.exited
	})
	// Port 0: the server logs the address it bound.
	poll(t, 30*time.Second, "portside serve to report its address", func() bool {
		select {
		case <-s.exited:
			t.Fatalf("portside serve exited: %v\n%s", cmd.ProcessState, s.stderr)
		default:
		}
		for _, line := range strings.Split(s.stderr.String(), "\n") {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "portside listening" && rec.Addr != "" {
				s.addr = rec.Addr
				return true
			}
		}
		return false
	})
	poll(t, 30*time.Second, "/readyz to answer 200", func() bool {
		resp, err := http.Get("http://" + s.addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return s
}

// poll checks cond until it holds, failing the test after timeout.
func poll(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, timeout, cond, "waiting for %s", what)
}

// graphql posts a query and decodes its data into out; any GraphQL error fails the test.
func (s *portsideServer) graphql(t *testing.T, out any, query string, vars map[string]any) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, "http://"+s.addr+"/graphql", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/graphql-response+json")
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /graphql: %v", err)
	}
	defer resp.Body.Close()
	var r struct {
		Data   json.RawMessage
		Errors []struct {
			Message    string
			Extensions map[string]any
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("POST /graphql (%d): %v", resp.StatusCode, err)
	}
	if resp.StatusCode != http.StatusOK || len(r.Errors) > 0 {
		t.Fatalf("POST /graphql: status %d, errors %+v\nquery: %s", resp.StatusCode, r.Errors, query)
	}
	if err := json.Unmarshal(r.Data, out); err != nil {
		t.Fatalf("decode data %s: %v", r.Data, err)
	}
}

type named struct{ Name string }

type refreshPayload struct {
	Unchanged               bool
	Added, Updated, Removed int
	Errors                  []struct{ Message string }
	Location                struct {
		ID          string
		Status      string
		EntityCount int
	}
}

const refreshFields = `unchanged added updated removed errors { message } location { id status entityCount }`

func TestServeRegistersAGitLocationAndServesItOverGraphQL(t *testing.T) {
	repo := newGitRepo(t)
	repo.write(t, "catalog-info.yaml", rootCatalog)
	repo.write(t, "services/cart/catalog-info.yaml", cartCatalog)
	repo.write(t, "services/cart/openapi.yaml", cartOpenAPI)
	repo.write(t, "services/inventory/catalog-info.yaml", componentYAML("inventory", "Stock levels."))
	repo.commit(t, "first catalog")

	tmp := t.TempDir()
	const shutdownTimeout = 10 * time.Second
	db := filepath.Join(tmp, "p.db")
	s := startServe(t, "--database", db, "--git-cache-dir", filepath.Join(tmp, "git"),
		"--refresh-interval", "0", "--shutdown-timeout", shutdownTimeout.String(),
		"--api-location-types", "git,file") // the repository is on this machine: a file:// remote

	// Nobody gets in without credentials; an operator makes the first admin token with the CLI.
	resp, err := http.Post("http://"+s.addr+"/graphql", "application/json", strings.NewReader(`{"query":"{ me { username } }"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous /graphql: %d, want 401", resp.StatusCode)
	}
	out := mustRun(t, cleanEnv(t), portsideBin, "--database", db, "token", "create", "--user", "ops", "--admin")
	lines := strings.Split(strings.TrimSpace(out.stdout), "\n")
	s.token = lines[len(lines)-1]
	if !strings.HasPrefix(s.token, "pst_") {
		t.Fatalf("token create's last line is not a token: %q", out.stdout)
	}

	var reg struct{ RegisterLocation refreshPayload }
	s.graphql(t, &reg, `mutation($target: String!) {
		registerLocation(input: {type: GIT, target: $target}) { `+refreshFields+` } }`,
		map[string]any{"target": "file://" + repo.dir})
	got := reg.RegisterLocation
	// The Location entity, the group, the system, cart, cart-api and inventory.
	if got.Location.Status != "OK" || got.Location.EntityCount != 6 || got.Added != 6 || len(got.Errors) != 0 {
		t.Fatalf("registerLocation = %+v, want status OK with 6 entities added and no errors", got)
	}
	locationID := got.Location.ID

	var cart struct {
		Entity struct {
			Name         string
			Description  string
			Owner        named
			System       named
			DependsOn    []named
			ProvidesApis []struct {
				Name       string
				Definition string
			}
		}
	}
	s.graphql(t, &cart, `{ entity(ref: "component:cart") { name description ... on Component {
		owner { name } system { name } dependsOn { name } providesApis { name definition } } } }`, nil)
	c := cart.Entity
	if c.Name != "cart" || c.Owner.Name != "team-shop" || c.System.Name != "shop" ||
		len(c.DependsOn) != 1 || c.DependsOn[0].Name != "inventory" ||
		len(c.ProvidesApis) != 1 || c.ProvidesApis[0].Name != "cart-api" {
		t.Errorf("component:cart = %+v", c)
	}
	if len(c.ProvidesApis) == 1 && c.ProvidesApis[0].Definition != cartOpenAPI {
		t.Errorf("cart-api definition = %q, want the $text file %q", c.ProvidesApis[0].Definition, cartOpenAPI)
	}

	var owned struct {
		Entities struct {
			TotalCount int
			Nodes      []named
		}
	}
	s.graphql(t, &owned, `{ entities(filter: {owners: ["team-shop"]}, orderBy: {field: NAME}) { totalCount nodes { name } } }`, nil)
	if owned.Entities.TotalCount != 4 || fmt.Sprint(owned.Entities.Nodes) != "[{cart} {cart-api} {inventory} {shop}]" {
		t.Errorf("entities owned by team-shop = %+v, want cart, cart-api, inventory, shop", owned.Entities)
	}

	// A new commit: inventory's description changes and a checkout component appears.
	repo.write(t, "services/inventory/catalog-info.yaml", componentYAML("inventory", "Stock levels, per warehouse."))
	repo.write(t, "services/checkout/catalog-info.yaml", componentYAML("checkout", "Takes the money."))
	repo.commit(t, "more services")

	var ref struct{ RefreshLocation refreshPayload }
	s.graphql(t, &ref, `mutation($id: ID!) { refreshLocation(id: $id) { `+refreshFields+` } }`, map[string]any{"id": locationID})
	if r := ref.RefreshLocation; r.Unchanged || r.Added != 1 || r.Updated != 1 || r.Removed != 0 || r.Location.EntityCount != 7 {
		t.Errorf("refreshLocation = %+v, want 1 added, 1 updated, 7 entities", r)
	}
	var inv struct {
		Inventory, Checkout *struct{ Description string }
	}
	s.graphql(t, &inv, `{ inventory: entity(ref: "component:inventory") { description }
		checkout: entity(ref: "component:checkout") { description } }`, nil)
	if inv.Inventory == nil || inv.Inventory.Description != "Stock levels, per warehouse." {
		t.Errorf("inventory after refresh = %+v, want the new description", inv.Inventory)
	}
	if inv.Checkout == nil || inv.Checkout.Description != "Takes the money." {
		t.Errorf("checkout after refresh = %+v, want the new component", inv.Checkout)
	}

	var unreg struct {
		UnregisterLocation struct{ RemovedEntities int }
	}
	s.graphql(t, &unreg, `mutation($id: ID!) { unregisterLocation(id: $id) { removedEntities } }`, map[string]any{"id": locationID})
	if unreg.UnregisterLocation.RemovedEntities != 7 {
		t.Errorf("unregisterLocation removed %d entities, want 7", unreg.UnregisterLocation.RemovedEntities)
	}
	var gone struct {
		Entity   *named
		Entities struct{ TotalCount int }
	}
	s.graphql(t, &gone, `{ entity(ref: "component:cart") { name } entities { totalCount } }`, nil)
	if gone.Entity != nil || gone.Entities.TotalCount != 0 {
		t.Errorf("after unregisterLocation: entity = %+v, totalCount = %d; want null and 0", gone.Entity, gone.Entities.TotalCount)
	}

	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.exited:
	case <-time.After(shutdownTimeout):
		t.Fatalf("portside serve did not exit within the %s shutdown timeout of SIGTERM\n%s", shutdownTimeout, s.stderr)
	}
	if code := s.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("portside serve exited %d after SIGTERM, want 0\n%s", code, s.stderr)
	}
}

// ---- crash safety ----

// locationRow is one row of `portside catalog locations`.
type locationRow struct {
	id, target, status string
	entities           int
}

func locations(t *testing.T, db string) []locationRow {
	t.Helper()
	r := mustRun(t, cleanEnv(t), portsideBin, "--database", db, "catalog", "locations")
	lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
	var out []locationRow
	for _, line := range lines[1:] {
		f := strings.Fields(line)
		if len(f) < 7 {
			t.Fatalf("catalog locations: malformed row %q", line)
		}
		l := locationRow{id: f[0], target: f[2], status: f[3]}
		if _, err := fmt.Sscan(f[4], &l.entities); err != nil {
			t.Fatalf("catalog locations: row %q: %v", line, err)
		}
		out = append(out, l)
	}
	return out
}

// killThreshold is how large the -wal file must grow before the import is killed: by then the
// import is well into writing its transaction.
const killThreshold = 4 << 20

func TestImportKilledMidIngestLeavesThePreviousStateIntact(t *testing.T) {
	tmp := t.TempDir()
	small := filepath.Join(tmp, "small")
	mustRun(t, cleanEnv(t), gencatalogBin, "-out", small, "-scale", "0.05")

	for attempt, scale := range []string{"0.5", "1", "2"} {
		db := filepath.Join(tmp, fmt.Sprintf("attempt%d.db", attempt))
		mustRun(t, cleanEnv(t), portsideBin, "--database", db, "catalog", "import", small)
		before := locations(t, db)
		if len(before) != 1 || before[0].status != "ok" || before[0].entities < 100 {
			t.Fatalf("after the small import, locations = %+v, want one ok location with its entities", before)
		}

		// The kill is triggered by the big import's own writes, not by a WAL left from before.
		if fi, err := os.Stat(db + "-wal"); err == nil && fi.Size() > killThreshold/4 {
			t.Fatalf("a %d-byte WAL is left over before the big import starts", fi.Size())
		}

		big := filepath.Join(tmp, "big-"+scale)
		mustRun(t, cleanEnv(t), gencatalogBin, "-out", big, "-scale", scale, "-seed", "2")
		cmd := exec.Command(portsideBin, "--database", db, "catalog", "import", big)
		cmd.Env = cleanEnv(t)
		var out testutil.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() {
			_ = cmd.Wait()
			close(exited)
		}()

		// Wait until the import has ended by itself or has written past the threshold.
		var wal int64
		ended := func() bool {
			select {
			case <-exited:
				return true
			default:
			}
			if fi, err := os.Stat(db + "-wal"); err == nil && fi.Size() > killThreshold {
				wal = fi.Size()
				return true
			}
			return false
		}
		if !testutil.Await(2*time.Minute, ended) {
			_ = cmd.Process.Kill()
			<-exited
			t.Fatalf("the import neither finished nor grew the WAL past %d bytes in 2 minutes\n%s", killThreshold, out.String())
		}
		killed := false
		if wal > 0 {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			<-exited
			killed = cmd.ProcessState.ExitCode() == -1 // ended by the signal, not by itself
			if killed {
				t.Logf("scale %s: killed the import with a %d-byte WAL", scale, wal)
			}
		}
		if !killed {
			t.Logf("scale %s: the import finished before it could be killed; trying a larger catalog", scale)
			continue
		}

		// The database opens and is consistent.
		st, err := store.Open(context.Background(), db, store.Options{MaxOpenConns: 1})
		if err != nil {
			t.Fatalf("open the database after the kill: %v", err)
		}
		var check string
		if err := st.SQL().QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
			t.Errorf("integrity_check = %q (%v), want ok", check, err)
		}
		var entities int
		if err := st.SQL().QueryRow("SELECT COUNT(*) FROM entities").Scan(&entities); err != nil {
			t.Fatal(err)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		if entities != before[0].entities {
			t.Errorf("entities table holds %d rows after the kill, want the %d of the earlier import", entities, before[0].entities)
		}

		after := locations(t, db)
		if len(after) == 0 || after[0] != before[0] {
			t.Fatalf("after the kill, locations = %+v; want the earlier location unchanged: %+v", after, before[0])
		}
		for _, l := range after[1:] {
			if l.target != big || l.entities != 0 {
				t.Errorf("after the kill, location %+v: want only the interrupted one, with 0 entities", l)
			}
		}
		return
	}
	t.Fatal("every import finished before the WAL grew past the kill threshold; raise the scale")
}

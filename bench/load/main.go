// Command load is Portside's benchmark driver (`make bench`): it measures the figures the
// performance issue asks for against real `portside` processes, on SQLite and on PostgreSQL, and
// reports each as the median (with min and max) of several runs.
//
// Usage:
//
//	go run ./bench/load [-quick] [-scale 1 | -components 10000] [-dialects sqlite,postgres]
//	    [-runs 3] [-duration 30s] [-concurrency 16] [-rest 30s] [-out bench/out]
//
// It builds portside and bench/gencatalog into OUT/bin, generates the catalog once into
// OUT/catalog, and then, per dialect and run, on a freshly migrated database:
//
//   - ingest: wall time and peak RSS (the child's rusage) of `portside catalog import DIR`;
//   - refresh: wall time of a second `catalog import DIR`, which finds the location unchanged;
//   - ready: time from exec of `portside serve` to the first 200 from /readyz, polled every 5 ms;
//   - load: wrk at the given concurrency against /graphql for each of four operations (see
//     bench/benchcat), rotating through request bodies built from OUT/catalog/queries.json;
//     throughput and p50/p99 latency, with every non-2xx answer and GraphQL error counted: a run
//     with any is invalid;
//   - rest: the server's CPU use (utime+stime from /proc/PID/stat over wall time) while idle.
//
// The server runs with the default log level and refresh interval; its logs go to OUT/logs. The
// results go to stdout as a Markdown table, to OUT/results.md and, with every run's raw figures,
// to OUT/results.json. Every child process is killed when the driver ends, however it ends.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/portside-dev/portside/bench/benchcat"
	"github.com/portside-dev/portside/store"
)

func main() {
	if file := os.Getenv(baselineEnv); file != "" {
		os.Exit(serveBaseline(file, os.Getenv(baselineAddrEnv)))
	}
	os.Exit(run(os.Args[1:]))
}

// config is what the flags set.
type config struct {
	scale float64
	// openAPIPaths and bigFile pass gencatalog's -openapi-paths and -big-file: the catalog shape
	// with several-kB inline definitions, all APIs and components in one file.
	openAPIPaths int
	bigFile      bool
	dialects     []string
	duration     time.Duration
	concurrency  int
	pin          bool // server on CPU 0, wrk on the others
	threads      int
	runs         int
	rest         time.Duration
	out          string
	postgres     string
	measure      map[string]bool
	quick        bool
	// responseCache lists the modes each operation is measured in: "on" (the server's default
	// response cache) and "off" (response-cache-size 0: every request runs its query).
	responseCache []string
	baseline      bool // measure the bare net/http limit for the same answers
	// ops names the load operations to run (-ops); nil runs every one.
	ops map[string]bool
}

var measures = []string{"ingest", "ready", "load", "rest"}

// wholePageComplexity is the server's graphql-max-complexity during the load (see startServer).
const wholePageComplexity = 20000

func parseFlags(args []string) (config, error) {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: go run ./bench/load [flags]\n\nMeasures Portside's ingest, refresh, ready time, HTTP load and idle CPU on SQLite and PostgreSQL.\n\nFlags:")
		fs.PrintDefaults()
	}
	var cfg config
	var dialects, measure string
	var components int
	fs.Float64Var(&cfg.scale, "scale", 1, "catalog size: passed to gencatalog -scale (1 = 10,000 components, 2,000 APIs, ... ~130k relations)")
	fs.IntVar(&cfg.openAPIPaths, "openapi-paths", 1, "passed to gencatalog -openapi-paths: paths in each OpenAPI definition (4: about 4.5 kB inline each)")
	fs.BoolVar(&cfg.bigFile, "big-file", false, "passed to gencatalog -big-file: every API and component in one file (15 MB at scale 1 with -openapi-paths 4)")
	fs.IntVar(&components, "components", 0, "catalog size as a number of components: sets -scale to N/10000 (every kind scales alike)")
	fs.StringVar(&dialects, "dialects", "sqlite,postgres", "comma-separated databases to measure: sqlite, postgres")
	fs.DurationVar(&cfg.duration, "duration", 30*time.Second, "wrk run length per operation")
	fs.IntVar(&cfg.concurrency, "concurrency", 16, "wrk connections")
	fs.IntVar(&cfg.threads, "threads", min(runtime.NumCPU(), 16), "wrk threads (at most -concurrency)")
	fs.IntVar(&cfg.runs, "runs", 3, "runs per dialect; the table shows the median, min and max")
	fs.DurationVar(&cfg.rest, "rest", 30*time.Second, "idle time over which the server's CPU at rest is measured")
	fs.StringVar(&cfg.out, "out", "bench/out", "results directory (binaries, catalog, logs, results.md, results.json)")
	fs.StringVar(&cfg.postgres, "postgres", envOr("PORTSIDE_BENCH_POSTGRES_DSN", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"),
		"PostgreSQL server URL; each run gets a schema of its own, dropped afterwards (env PORTSIDE_BENCH_POSTGRES_DSN)")
	fs.StringVar(&measure, "measure", strings.Join(measures, ","), "comma-separated figures to measure: ingest (with refresh), ready, load, rest")
	fs.BoolVar(&cfg.pin, "pin", runtime.NumCPU() > 1,
		"pin the server to CPU 0 and wrk to the other CPUs (taskset), so the load generator does not steal the server's core; "+
			"Backstage's Node.js backend, the baseline, runs its JavaScript on one core too")
	var rcModes, ops string
	fs.StringVar(&ops, "ops", "", "comma-separated load operations to run, by name (entity, owner-page, ..., entity-whole, owner-page-whole, search-whole, owner-facets, catalog-facets, components-facets); empty runs every one")
	fs.StringVar(&rcModes, "response-cache", "on,off", "comma-separated response cache modes to measure every operation in: on (the default server), off (--response-cache-size 0)")
	fs.BoolVar(&cfg.baseline, "baseline", true, "also measure, for every operation, a bare net/http server answering the recorded responses (the limit for the same bytes)")
	fs.BoolVar(&cfg.quick, "quick", false, "smoke mode: -scale 0.1 -duration 3s -runs 1 -rest 5s, unless those flags are given")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["scale"] && set["components"] {
		return cfg, errors.New("give -scale or -components, not both")
	}
	if set["components"] {
		if components < 1 {
			return cfg, errors.New("-components must be at least 1")
		}
		cfg.scale = float64(components) / 10000
	}
	if cfg.quick {
		if !set["scale"] && !set["components"] {
			cfg.scale = 0.1
		}
		if !set["duration"] {
			cfg.duration = 3 * time.Second
		}
		if !set["runs"] {
			cfg.runs = 1
		}
		if !set["rest"] {
			cfg.rest = 5 * time.Second
		}
	}
	for d := range strings.SplitSeq(dialects, ",") {
		d = strings.TrimSpace(d)
		switch d {
		case "sqlite", "postgres":
			if !slices.Contains(cfg.dialects, d) {
				cfg.dialects = append(cfg.dialects, d)
			}
		case "":
		default:
			return cfg, fmt.Errorf("-dialects: unknown dialect %q (sqlite, postgres)", d)
		}
	}
	for m := range strings.SplitSeq(rcModes, ",") {
		switch m = strings.TrimSpace(m); m {
		case "on", "off":
			if !slices.Contains(cfg.responseCache, m) {
				cfg.responseCache = append(cfg.responseCache, m)
			}
		case "":
		default:
			return cfg, fmt.Errorf("-response-cache: unknown mode %q (on, off)", m)
		}
	}
	if len(cfg.responseCache) == 0 {
		return cfg, errors.New("-response-cache names no mode")
	}
	for name := range strings.SplitSeq(ops, ",") {
		if name = strings.TrimSpace(name); name == "" {
			continue
		}
		if !slices.ContainsFunc(loadOperations(), func(op benchcat.Operation) bool { return op.Name == name }) {
			var names []string
			for _, op := range loadOperations() {
				names = append(names, op.Name)
			}
			return cfg, fmt.Errorf("-ops: unknown operation %q (%s)", name, strings.Join(names, ", "))
		}
		if cfg.ops == nil {
			cfg.ops = map[string]bool{}
		}
		cfg.ops[name] = true
	}
	cfg.measure = map[string]bool{}
	for m := range strings.SplitSeq(measure, ",") {
		m = strings.TrimSpace(m)
		if m == "" {
			continue
		}
		if !slices.Contains(measures, m) {
			return cfg, fmt.Errorf("-measure: unknown figure %q (%s)", m, strings.Join(measures, ", "))
		}
		cfg.measure[m] = true
	}
	switch {
	case len(cfg.dialects) == 0:
		return cfg, errors.New("-dialects names no dialect")
	case len(cfg.measure) == 0:
		return cfg, errors.New("-measure names nothing to measure")
	case cfg.scale <= 0:
		return cfg, errors.New("-scale must be positive")
	case cfg.openAPIPaths < 1:
		return cfg, errors.New("-openapi-paths must be at least 1")
	case cfg.runs < 1:
		return cfg, errors.New("-runs must be at least 1")
	case cfg.concurrency < 1:
		return cfg, errors.New("-concurrency must be at least 1")
	case cfg.duration < time.Second:
		return cfg, errors.New("-duration must be at least 1s (wrk counts whole seconds)")
	case cfg.rest <= 0 && cfg.measure["rest"]:
		return cfg, errors.New("-rest must be positive")
	}
	cfg.threads = max(1, min(cfg.threads, cfg.concurrency))
	return cfg, nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func run(args []string) int {
	cfg, err := parseFlags(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case sig := <-sigs:
			fmt.Fprintf(os.Stderr, "\nbench: %v: stopping every child process\n", sig)
			signal.Stop(sigs) // a second Ctrl-C ends the driver at once (children die with it: Pdeathsig)
			cancel()
		case <-ctx.Done():
		}
	}()
	sup := newSupervisor()
	// However run ends (an error, Ctrl-C, a panic), no child outlives it and no database is left.
	defer sup.killAll()

	d := &driver{cfg: cfg, sup: sup, http: &http.Client{Timeout: 10 * time.Second}}
	code, err := d.main(ctx)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintln(os.Stderr, "bench: interrupted:", err)
			return 130
		}
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	return code
}

// driver runs the benchmark.
type driver struct {
	cfg  config
	sup  *supervisor
	http *http.Client

	root, out, logs, dbDir, catalog, script string
	portside, wrk                           string
	bodies                                  map[string][][]byte // per operation
	bodyFiles                               map[string]string
	generated                               string // gencatalog's summary
	env                                     map[string]string
	token                                   string  // the API token of the current run
	argo                                    *argoCD // what the servers follow, for the component page
	github                                  *gitHub // where the servers trigger runs, for the component page's pipelines
	queries                                 *benchcat.Queries
}

// Results is what results.json holds.
type Results struct {
	Started     time.Time            `json:"started"`
	Finished    time.Time            `json:"finished"`
	Config      map[string]any       `json:"config"`
	Environment map[string]string    `json:"environment"`
	Catalog     string               `json:"catalog"`
	Runs        []*RunResult         `json:"runs"`
	Summary     map[string][]Summary `json:"summary"`
	Invalid     []string             `json:"invalid,omitempty"`
	Errors      []string             `json:"errors,omitempty"`
	Warnings    []string             `json:"warnings,omitempty"`
	Interrupted bool                 `json:"interrupted,omitempty"`
}

func (d *driver) main(ctx context.Context) (int, error) {
	started := time.Now()
	if err := d.prepare(ctx); err != nil {
		return 1, err
	}
	res := &Results{
		Started: started,
		Config: map[string]any{
			"scale": d.cfg.scale, "openapiPaths": d.cfg.openAPIPaths, "bigFile": d.cfg.bigFile, "dialects": d.cfg.dialects, "runs": d.cfg.runs, "duration": d.cfg.duration.String(),
			"concurrency": d.cfg.concurrency, "threads": d.cfg.threads, "rest": d.cfg.rest.String(),
			"measure": d.measured(), "quick": d.cfg.quick, "postgres": store.Redact(d.cfg.postgres),
		},
		Environment: d.env,
		Catalog:     d.generated,
	}
	byDialect := map[string][]*RunResult{}
	for _, dialect := range d.cfg.dialects {
		for i := 1; i <= d.cfg.runs && ctx.Err() == nil; i++ {
			r := d.runOnce(ctx, dialect, i)
			byDialect[dialect] = append(byDialect[dialect], r)
			res.Runs = append(res.Runs, r)
			for _, e := range r.Errors {
				res.Errors = append(res.Errors, fmt.Sprintf("%s run %d: %s", dialectTitle(dialect), i, e))
			}
			if r.IngestSeconds > 0 && !r.RefreshNoChange {
				res.Warnings = append(res.Warnings, fmt.Sprintf("%s run %d: the second import was not reported as unchanged", dialectTitle(dialect), i))
			}
			for _, op := range loadOperations() {
				for _, key := range loadKeys(op) {
					l := r.Load[key]
					if l == nil {
						continue
					}
					if why := l.Invalid(); why != "" {
						res.Invalid = append(res.Invalid, fmt.Sprintf("%s run %d, %s: %s", dialectTitle(dialect), i, key, why))
					}
					if l.EmptyResults > 0 {
						res.Warnings = append(res.Warnings, fmt.Sprintf("%s run %d, %s: %d of %d bodies returned an empty page",
							dialectTitle(dialect), i, key, l.EmptyResults, len(d.bodies[op.Name])))
					}
				}
			}
		}
	}
	res.Finished = time.Now()
	res.Interrupted = ctx.Err() != nil
	res.Summary = map[string][]Summary{}
	for _, dialect := range d.cfg.dialects {
		res.Summary[dialect] = summarize(dialect, byDialect[dialect])
	}
	md := d.markdown(res)
	fmt.Println()
	fmt.Print(md)
	if err := os.WriteFile(filepath.Join(d.out, "results.md"), []byte(md), 0o644); err != nil {
		return 1, err
	}
	js, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return 1, err
	}
	if err := os.WriteFile(filepath.Join(d.out, "results.json"), append(js, '\n'), 0o644); err != nil {
		return 1, err
	}
	fmt.Fprintf(os.Stderr, "\nbench: wrote %s and %s\n", filepath.Join(d.out, "results.md"), filepath.Join(d.out, "results.json"))
	if ctx.Err() != nil {
		return 130, nil
	}
	if len(res.Invalid) > 0 {
		fmt.Fprintf(os.Stderr, "\nbench: !!! %d INVALID LOAD RUN(S): their figures do not count !!!\n", len(res.Invalid))
		for _, s := range res.Invalid {
			fmt.Fprintln(os.Stderr, "bench: !!!   "+s)
		}
	}
	if len(res.Errors) > 0 {
		fmt.Fprintf(os.Stderr, "\nbench: %d run(s) failed:\n", len(res.Errors))
		for _, s := range res.Errors {
			fmt.Fprintln(os.Stderr, "bench:   "+s)
		}
	}
	if len(res.Invalid) > 0 || len(res.Errors) > 0 {
		return 1, nil
	}
	return 0, nil
}

func (d *driver) measured() []string {
	var out []string
	for _, m := range measures {
		if d.cfg.measure[m] {
			out = append(out, m)
		}
	}
	return out
}

// prepare builds the binaries, generates the catalog, writes the request bodies and wrk.lua, finds
// wrk and checks PostgreSQL.
func (d *driver) prepare(ctx context.Context) error {
	root, err := benchcat.ModuleRoot()
	if err != nil {
		return err
	}
	d.root = root
	if d.out, err = filepath.Abs(d.cfg.out); err != nil {
		return err
	}
	d.logs, d.dbDir, d.catalog = filepath.Join(d.out, "logs"), filepath.Join(d.out, "db"), filepath.Join(d.out, "catalog")
	bin := filepath.Join(d.out, "bin")
	for _, dir := range []string{d.out, d.logs, d.dbDir, bin, filepath.Join(d.out, "bodies")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}

	if slices.Contains(d.cfg.dialects, "postgres") {
		// Fail before minutes of building and generating, not at the first run.
		st, err := store.Open(ctx, d.cfg.postgres, store.Options{MaxOpenConns: 1})
		if err != nil {
			return fmt.Errorf("PostgreSQL at %s: %w (set -postgres, or give -dialects sqlite to skip PostgreSQL)", store.Redact(d.cfg.postgres), err)
		}
		err = st.Ping(ctx)
		_ = st.Close()
		if err != nil {
			return err
		}
	}

	d.portside = filepath.Join(bin, "portside")
	gen := filepath.Join(bin, "gencatalog")
	// portside-argocd beside portside, where serve looks for it.
	for _, b := range []struct{ out, pkg string }{{d.portside, "./cmd/portside"}, {filepath.Join(bin, "portside-argocd"), "./cmd/portside-argocd"},
		{gen, "./bench/gencatalog"}} {
		fmt.Fprintf(os.Stderr, "bench: go build -o %s %s\n", b.out, b.pkg)
		cmd := d.sup.command(ctx, "go", "build", "-o", b.out, b.pkg)
		cmd.Dir, cmd.Stdout, cmd.Stderr = d.root, os.Stderr, os.Stderr
		if err := d.sup.run(cmd); err != nil {
			return fmt.Errorf("go build %s: %w", b.pkg, err)
		}
	}

	fmt.Fprintf(os.Stderr, "bench: generating the catalog (scale %g) into %s\n", d.cfg.scale, d.catalog)
	args := []string{"-out", d.catalog, "-scale", strconv.FormatFloat(d.cfg.scale, 'g', -1, 64), "-openapi-paths", strconv.Itoa(d.cfg.openAPIPaths)}
	if d.cfg.bigFile {
		args = append(args, "-big-file")
	}
	cmd := d.sup.command(ctx, gen, args...)
	var genOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &genOut, &genOut
	if err := d.sup.run(cmd); err != nil {
		return fmt.Errorf("gencatalog: %v\n%s", err, genOut.String())
	}
	d.generated = strings.TrimSpace(genOut.String())
	fmt.Fprintln(os.Stderr, d.generated)

	q, err := benchcat.ReadQueries(d.catalog)
	if err != nil {
		return err
	}
	if d.argo, err = startArgoCD(q); err != nil {
		return err
	}
	d.sup.onExit("scripted Argo CD", func() error { d.argo.stop(); return nil })
	d.github, d.queries = startGitHub(), q
	d.sup.onExit("in-process GitHub", func() error { d.github.stop(); return nil })
	d.bodies, d.bodyFiles = map[string][][]byte{}, map[string]string{}
	for _, op := range loadOperations() {
		bodies, err := op.Bodies(q)
		if err != nil {
			return err
		}
		path := filepath.Join(d.out, "bodies", op.Name+".txt")
		if err := os.WriteFile(path, append(bytes.Join(bodies, []byte("\n")), '\n'), 0o644); err != nil {
			return err
		}
		d.bodies[op.Name], d.bodyFiles[op.Name] = bodies, path
	}
	d.script = filepath.Join(d.out, "wrk.lua")
	if err := os.WriteFile(d.script, wrkScript, 0o644); err != nil {
		return err
	}
	if d.cfg.measure["load"] {
		if d.wrk, err = ensureWrk(ctx, d.sup); err != nil {
			return err
		}
	}
	d.env = d.environment(ctx)
	return nil
}

// environment records what the figures depend on.
func (d *driver) environment(ctx context.Context) map[string]string {
	env := map[string]string{
		"go":   runtime.Version(),
		"cpus": strconv.Itoa(runtime.NumCPU()),
		"os":   runtime.GOOS + "/" + runtime.GOARCH,
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		env["kernel"] = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				env["cpu"] = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		env["memory"] = strings.Join(strings.Fields(strings.TrimPrefix(line, "MemTotal:")), " ")
	}
	if out, err := exec.CommandContext(ctx, "git", "-C", d.root, "rev-parse", "--short", "HEAD").Output(); err == nil {
		env["commit"] = strings.TrimSpace(string(out))
		if st, err := exec.CommandContext(ctx, "git", "-C", d.root, "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
			env["commit"] += " (with uncommitted changes)"
		}
	}
	if d.wrk != "" {
		env["wrk"] = wrkVersion(d.wrk)
	}
	if slices.Contains(d.cfg.dialects, "postgres") {
		if st, err := store.Open(ctx, d.cfg.postgres, store.Options{MaxOpenConns: 1}); err == nil {
			var v string
			if st.Gorm().Raw("SHOW server_version").Scan(&v).Error == nil {
				env["postgres"] = v
			}
			_ = st.Close()
		}
	}
	return env
}

// runOnce measures everything on one fresh database. Failures are recorded in the result: the
// figures measured before a failure still count.
func (d *driver) runOnce(ctx context.Context, dialect string, i int) *RunResult {
	r := &RunResult{Dialect: dialect, Run: i, Load: map[string]*LoadResult{}}
	tag := fmt.Sprintf("%s-%d", dialect, i)
	say := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "bench: [%s run %d/%d] %s\n", dialectTitle(dialect), i, d.cfg.runs, fmt.Sprintf(format, args...))
	}
	fail := func(err error) *RunResult {
		if ctx.Err() == nil {
			say("FAILED: %v", err)
		}
		r.Errors = append(r.Errors, err.Error())
		return r
	}

	dbURL, drop, err := d.freshDatabase(ctx, dialect, tag)
	if err != nil {
		return fail(err)
	}
	defer func() {
		if err := drop(); err != nil {
			say("dropping the database: %v", err)
		}
	}()
	if _, _, _, err := d.portsideCmd(ctx, tag+"-migrate", "--database", dbURL, "migrate", "up"); err != nil {
		return fail(fmt.Errorf("migrate up: %w", err))
	}

	if d.cfg.measure["ingest"] {
		wall, rss, out, err := d.portsideCmd(ctx, tag+"-import", "--database", dbURL, "catalog", "import", d.catalog)
		if err != nil {
			return fail(fmt.Errorf("import: %w", err))
		}
		r.IngestSeconds, r.IngestMaxRSS = wall.Seconds(), rss
		if m := regexp.MustCompile(`added (\d+), updated`).FindStringSubmatch(out); m != nil {
			r.IngestEntities, _ = strconv.Atoi(m[1])
		}
		wall, _, out, err = d.portsideCmd(ctx, tag+"-refresh", "--database", dbURL, "catalog", "import", d.catalog)
		if err != nil {
			return fail(fmt.Errorf("second import (refresh): %w", err))
		}
		r.RefreshSeconds, r.RefreshNoChange = wall.Seconds(), strings.Contains(out, "unchanged since the last refresh")
		say("ingest %.2f s (%d entities, peak RSS %.0f MB); refresh %.3f s (unchanged: %v)",
			r.IngestSeconds, r.IngestEntities, float64(r.IngestMaxRSS)/1e6, r.RefreshSeconds, r.RefreshNoChange)
	} else {
		// The server needs a catalog to serve: import it, untimed.
		if _, _, _, err := d.portsideCmd(ctx, tag+"-import", "--database", dbURL, "catalog", "import", d.catalog); err != nil {
			return fail(fmt.Errorf("import: %w", err))
		}
	}

	if !d.cfg.measure["ready"] && !d.cfg.measure["load"] && !d.cfg.measure["rest"] {
		return r
	}
	// Every request is authenticated, as in production: with an API token made by the CLI.
	token, err := d.createToken(ctx, tag+"-token", dbURL, "--user", "bench", "--name", "bench", "--scopes", "read")
	if err != nil {
		return fail(err)
	}
	d.token = token
	// The pipelines' runs are triggered through the API as an admin, on the in-process GitHub.
	adminToken, err := d.createToken(ctx, tag+"-admin-token", dbURL, "--user", "bench-admin", "--admin", "--name", "seed-runs")
	if err != nil {
		return fail(err)
	}
	srv, ready, err := d.startServer(ctx, dbURL, tag, nil)
	if err != nil {
		return fail(err)
	}
	if d.cfg.measure["load"] && (d.cfg.ops == nil || d.cfg.ops[benchcat.ComponentPagePipelines.Name]) {
		if err := d.seedRuns(ctx, srv, adminToken, d.queries); err != nil {
			_ = srv.stop(20 * time.Second)
			return fail(fmt.Errorf("seeding pipeline runs: %w", err))
		}
		say("seeded %d pipeline runs", len(d.queries.Deployed)*runsPerPipeline)
	}
	defer func() {
		if srv == nil {
			return // stopped for the cache-off server, and not started again
		}
		if err := srv.stop(20 * time.Second); err != nil && ctx.Err() == nil {
			r.Errors = append(r.Errors, "serve: "+err.Error())
			say("serve: %v", err)
		}
		srv.trimLog()
	}()
	if d.cfg.measure["ready"] {
		r.ReadySeconds = ready.Seconds()
		say("ready in %.3f s", r.ReadySeconds)
	}

	if d.cfg.measure["load"] {
		// Each mode on a server of its own, over the same database: the default server (response
		// cache on) first, then one with --response-cache-size 0, whose every request runs its query.
		for _, mode := range d.cfg.responseCache {
			s := srv
			if mode == "off" {
				// The default server makes way: a SQLite file is served by one process at a time
				// (a second serve refuses to start: leader.LockFile), and on PostgreSQL too one
				// server at a time shares the machine with wrk. It comes back afterwards.
				r.noteHWM(srv)
				if err := srv.stop(20 * time.Second); err != nil && ctx.Err() == nil {
					r.Errors = append(r.Errors, "serve: "+err.Error())
				}
				srv.trimLog()
				srv = nil
				off, _, err := d.startServer(ctx, dbURL, tag+"-rc-off", []string{"--response-cache-size", "0"})
				if err != nil {
					return fail(err)
				}
				s = off
			}
			err := d.loadAll(ctx, s, r, tag, mode, say)
			if mode == "off" {
				r.noteHWM(s)
				if err := s.stop(20 * time.Second); err != nil && ctx.Err() == nil {
					r.Errors = append(r.Errors, "serve (response cache off): "+err.Error())
				}
				s.trimLog()
				if err == nil {
					if srv, _, err = d.startServer(ctx, dbURL, tag+"-again", nil); err != nil {
						return fail(err)
					}
				}
			}
			if err != nil {
				return fail(err)
			}
		}
	}

	if d.cfg.measure["rest"] {
		cores, err := srv.cpuAtRest(ctx, d.cfg.rest)
		if err != nil {
			return fail(fmt.Errorf("CPU at rest: %w", err))
		}
		r.RestCPUCores, r.RestSeconds, r.RestMeasured = cores, d.cfg.rest.Seconds(), true
		say("CPU at rest %.4f cores over %s", cores, d.cfg.rest)
	}
	r.noteHWM(srv)
	return r
}

// noteHWM keeps the highest memory high-water mark of the servers of a run (serve, and its
// portside-argocd) that took load, read before each is stopped.
func (r *RunResult) noteHWM(s *server) {
	if s == nil {
		return
	}
	if hwm, err := procHWM(s.cmd.Process.Pid); err == nil {
		r.ServeHWM = max(r.ServeHWM, hwm)
	}
	var companion int64
	for _, pid := range procChildren(s.cmd.Process.Pid) {
		if hwm, err := procHWM(pid); err == nil {
			companion += hwm
		}
	}
	r.CompanionHWM = max(r.CompanionHWM, companion)
}

// freshDatabase makes an empty database for one run and returns its URL and how to drop it.
func (d *driver) freshDatabase(ctx context.Context, dialect, tag string) (string, func() error, error) {
	switch dialect {
	case "sqlite":
		path := filepath.Join(d.dbDir, tag+".db")
		remove := func() error {
			var errs []error
			for _, p := range []string{path, path + "-wal", path + "-shm"} {
				if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
					errs = append(errs, err)
				}
			}
			return errors.Join(errs...)
		}
		if err := remove(); err != nil {
			return "", nil, err
		}
		return path, d.sup.onExit("remove "+path, remove), nil
	case "postgres":
		admin, err := store.Open(ctx, d.cfg.postgres, store.Options{MaxOpenConns: 1})
		if err != nil {
			return "", nil, fmt.Errorf("PostgreSQL at %s: %w (give -dialects sqlite to skip PostgreSQL)", store.Redact(d.cfg.postgres), err)
		}
		defer admin.Close()
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		schema := "bench_" + strings.ReplaceAll(tag, "-", "_") + "_" + hex.EncodeToString(b)
		if err := admin.Gorm().WithContext(ctx).Exec("CREATE SCHEMA " + schema).Error; err != nil {
			return "", nil, fmt.Errorf("create schema %s: %w", schema, err)
		}
		drop := d.sup.onExit("drop schema "+schema, func() error {
			// Not bound to ctx: the schema must go even after Ctrl-C.
			c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			st, err := store.Open(c, d.cfg.postgres, store.Options{MaxOpenConns: 1})
			if err != nil {
				return err
			}
			defer st.Close()
			return st.Gorm().WithContext(c).Exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE").Error
		})
		u, err := url.Parse(d.cfg.postgres)
		if err != nil {
			return "", drop, err
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String(), drop, nil
	}
	return "", nil, fmt.Errorf("unknown dialect %q", dialect)
}

// portsideCmd runs a portside command to its end: its wall time (exec to exit), peak RSS and
// stdout. stderr (the logs) goes to OUT/logs/NAME.log.
//
// The peak RSS is the child's own VmHWM, read from /proc every 10 ms while it runs (VmHWM only
// grows, so only growth in its last 10 ms could be missed). The rusage wait returns cannot be used:
// Go starts children with vfork (CLONE_VM), and Linux records the shared memory's high-water mark,
// the driver's own, into the child's maxrss at exec, so a child "peaked" at whatever the driver
// held (a 300 MB parent made /bin/true report 310 MB).
func (d *driver) portsideCmd(ctx context.Context, name string, args ...string) (time.Duration, int64, string, error) {
	logPath := filepath.Join(d.logs, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return 0, 0, "", err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "$ portside %s\n", strings.Join(redactArgs(args), " "))
	cmd := d.sup.command(ctx, d.portside, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, logf
	start := time.Now()
	if err = d.sup.start(cmd); err != nil {
		return 0, 0, "", err
	}
	var rss atomic.Int64
	stop, polled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(polled)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			if hwm, err := procHWM(cmd.Process.Pid); err == nil && hwm > rss.Load() {
				rss.Store(hwm)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	err = d.sup.wait(cmd)
	wall := time.Since(start)
	close(stop)
	<-polled
	fmt.Fprintf(logf, "--- stdout\n%s", out.String())
	return d.finishCmd(wall, rss.Load(), out.String(), logPath, args, err)
}

// finishCmd is portsideCmd's answer: its figures, or the error with the command's output.
func (d *driver) finishCmd(wall time.Duration, rss int64, out, logPath string, args []string, err error) (time.Duration, int64, string, error) {
	if err != nil {
		return wall, rss, out, fmt.Errorf("portside %s: exit status %d\n%s\n%s", strings.Join(redactArgs(args), " "),
			exitCode(err), strings.TrimSpace(out), tail(logPath, 10))
	}
	return wall, rss, out, nil
}

func redactArgs(args []string) []string {
	out := slices.Clone(args)
	for i, a := range out {
		if strings.HasPrefix(a, "postgres://") || strings.HasPrefix(a, "postgresql://") {
			out[i] = store.Redact(a)
		}
	}
	return out
}

// server is a running `portside serve`.
type server struct {
	cmd  *exec.Cmd
	addr string
	log  string
	done chan struct{}
	err  error
}

// startServer execs `portside serve` and waits for its first 200 from /readyz, polling every 5 ms.
func (d *driver) startServer(ctx context.Context, dbURL, tag string, extra []string) (*server, time.Duration, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, 0, err
	}
	s := &server{addr: addr, log: filepath.Join(d.logs, tag+"-serve.log"), done: make(chan struct{})}
	logf, err := os.Create(s.log)
	if err != nil {
		return nil, 0, err
	}
	defer logf.Close() // the child has its own descriptor
	// Default log level (info: one access log line per request, to the log file) and the default
	// refresh interval, stated so the scheduled refresh machinery is known to be running.
	// No development login: like a production server, which discovers its provider on first use.
	// Following the scripted Argo CD through portside-argocd, as a production server follows its own.
	argoArgs, argoEnv := d.argo.serveArgs()
	githubArgs, githubEnv := d.github.serveArgs()
	argoArgs, argoEnv = append(argoArgs, githubArgs...), append(argoEnv, githubEnv...)
	// The complexity limit is raised from its default (5,000) to 20,000: a page of 50 whole
	// entities, operations (7) and (8), weighs 13,101 since every list is weighed, and the default
	// refuses it.
	serve := append([]string{d.portside, "--database", dbURL, "--addr", addr, "--refresh-interval", "5m", "--dev-login", "false",
		"--graphql-max-complexity", strconv.Itoa(wholePageComplexity)}, argoArgs...)
	serve = append(append(serve, extra...), "serve")
	if d.cfg.pin {
		serve = append([]string{"taskset", "-c", "0"}, serve...)
	}
	s.cmd = d.sup.command(ctx, serve[0], serve[1:]...)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	s.cmd.Env = append(os.Environ(), argoEnv...)
	start := time.Now()
	if err := d.sup.start(s.cmd); err != nil {
		return nil, 0, err
	}
	go func() {
		s.err = d.sup.wait(s.cmd)
		close(s.done)
	}()
	client := &http.Client{Timeout: 2 * time.Second}
	readyz := "http://" + addr + "/readyz"
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := client.Get(readyz)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, time.Since(start), nil
			}
		}
		select {
		case <-s.done:
			return nil, 0, fmt.Errorf("serve exited before it was ready (%v):\n%s", s.err, tail(s.log, 10))
		case <-ctx.Done():
			_ = s.stop(5 * time.Second)
			return nil, 0, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = s.stop(5 * time.Second)
			return nil, 0, fmt.Errorf("serve was not ready within 60 s:\n%s", tail(s.log, 10))
		}
	}
}

// freeAddr finds a free loopback port.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// stop sends SIGTERM and waits up to grace before killing. An exit after SIGTERM other than 0 is an
// error: a graceful shutdown is part of what is measured to work.
func (s *server) stop(grace time.Duration) error {
	select {
	case <-s.done:
		return fmt.Errorf("exited on its own before the run ended (%v):\n%s", s.err, tail(s.log, 10))
	default:
	}
	_ = killGroup(s.cmd, syscall.SIGTERM)
	select {
	case <-s.done:
		if s.err != nil {
			return fmt.Errorf("exit after SIGTERM: %v", s.err)
		}
		return nil
	case <-time.After(grace):
		_ = killGroup(s.cmd, syscall.SIGKILL)
		<-s.done
		return fmt.Errorf("did not stop within %s of SIGTERM; killed", grace)
	}
}

// cpuAtRest measures utime+stime over wall time while the server (with its portside-argocd) is
// left alone for d.
func (s *server) cpuAtRest(ctx context.Context, d time.Duration) (float64, error) {
	pid := s.cmd.Process.Pid
	c0, err := procTreeCPU(pid)
	if err != nil {
		return 0, err
	}
	t0 := time.Now()
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-s.done:
		return 0, fmt.Errorf("serve exited while idle:\n%s", tail(s.log, 10))
	case <-time.After(d):
	}
	c1, err := procTreeCPU(pid)
	if err != nil {
		return 0, err
	}
	return (c1 - c0).Seconds() / time.Since(t0).Seconds(), nil
}

// trimLog shrinks the server's log once it has stopped: the access log lines (one per request,
// written in full while the server ran, so their cost is measured) are counted and dropped; every
// other line (start, warnings, errors, shutdown) is kept.
func (s *server) trimLog() {
	f, err := os.Open(s.log)
	if err != nil {
		return
	}
	tmp := s.log + ".tmp"
	w, err := os.Create(tmp)
	if err != nil {
		f.Close()
		return
	}
	bw := bufio.NewWriter(w)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	access := 0
	for sc.Scan() {
		line := sc.Bytes()
		if bytes.Contains(line, []byte(`"msg":"http request"`)) && bytes.Contains(line, []byte(`"level":"INFO"`)) {
			access++
			continue
		}
		bw.Write(line)
		bw.WriteByte('\n')
	}
	fmt.Fprintf(bw, "--- bench: %d INFO access log lines removed from this file after the run\n", access)
	f.Close()
	if bw.Flush() == nil && w.Close() == nil && sc.Err() == nil {
		_ = os.Rename(tmp, s.log)
	} else {
		_ = os.Remove(tmp)
	}
}

// load checks every body of op once (which also warms the server's caches), then runs wrk.
// loadAll measures every operation on s in one response cache mode, and (in mode "on", with
// -baseline) the bare net/http limit for the same answers.
func (d *driver) loadAll(ctx context.Context, s *server, r *RunResult, tag, mode string, say func(string, ...any)) error {
	if err := d.awaitTracking(ctx, s); err != nil {
		return err
	}
	for n, op := range loadOperations() {
		if d.cfg.ops != nil && !d.cfg.ops[op.Name] {
			continue
		}
		key := loadKey(op, mode)
		l, answers, err := d.load(ctx, s, op, tag+"-"+mode)
		if err != nil {
			return fmt.Errorf("load %s: %w", key, err)
		}
		r.Load[key] = l
		say("(%d) %s: %s req/s, p50 %.2f ms, p99 %.2f ms, %d responses, %d non-2xx, %d GraphQL errors, %d socket errors",
			n+1, key, thousands(l.RequestsPerS), l.P50ms, l.P99ms, l.Responses, l.Non2xx, l.GraphQLErrors, l.SocketErrors)
		if why := l.Invalid(); why != "" {
			say("!!! INVALID RUN (%s): %s; see the wrk log in %s", key, why, d.logs)
		}
		if mode != d.cfg.responseCache[0] || !d.cfg.baseline {
			continue
		}
		b, err := d.baselineLoad(ctx, op, answers, tag)
		if err != nil {
			return fmt.Errorf("net/http baseline for %s: %w", op.Name, err)
		}
		bkey := loadKey(op, "net/http")
		r.Load[bkey] = b
		say("(%d) %s: %s req/s, p50 %.2f ms, p99 %.2f ms (the same %d answers, %d bytes on average)",
			n+1, bkey, thousands(b.RequestsPerS), b.P50ms, b.P99ms, len(answers), avgLen(answers))
	}
	return nil
}

// load checks every body of op once (which also warms the server's caches) and runs wrk; it
// returns the answers the check received, one per body.
func (d *driver) load(ctx context.Context, s *server, op benchcat.Operation, tag string) (*LoadResult, [][]byte, error) {
	graphqlURL := "http://" + s.addr + "/graphql"
	var failures, empty int
	var firstFailure string
	answers := make([][]byte, 0, len(d.bodies[op.Name]))
	for _, body := range d.bodies[op.Name] {
		status, resp, err := d.post(ctx, graphqlURL, body)
		if err != nil {
			return nil, nil, err
		}
		answers = append(answers, resp)
		bad := ""
		switch {
		case status != http.StatusOK:
			bad = fmt.Sprintf("status %d", status)
		case bytes.Contains(resp, []byte(`"errors":`)):
			bad = "GraphQL errors"
		case (op.Name == benchcat.EntityByRef.Name || op.Name == benchcat.ComponentPage.Name || op.Name == benchcat.ComponentPagePipelines.Name) &&
			bytes.Contains(resp, []byte(`"entity":null`)):
			bad = "entity not found"
		case op.Name == benchcat.ComponentPagePipelines.Name && (!bytes.Contains(resp, []byte(`"deployments":[{`)) ||
			!bytes.Contains(resp, []byte(fmt.Sprintf(`"runs":{"totalCount":%d`, runsPerPipeline))) || bytes.Count(resp, []byte(`"status":"SUCCEEDED"`)) < 5*runsPerPipeline):
			bad = fmt.Sprintf("not one deployment and one pipeline with %d runs of succeeded stages", runsPerPipeline)
		case op.Name == benchcat.ComponentPage.Name && (!bytes.Contains(resp, []byte(`"deployments":[{`)) ||
			!bytes.Contains(resp, []byte(fmt.Sprintf(`"totalCount":%d`, historyPerApp)))):
			bad = fmt.Sprintf("not one deployment with %d rollouts", historyPerApp)
		case bytes.Contains(resp, []byte(`"totalCount":0`)):
			empty++
		}
		if bad != "" {
			failures++
			if firstFailure == "" {
				firstFailure = fmt.Sprintf("%s: %s -> %s", bad, body, truncate(resp, 300))
			}
		}
	}
	if failures > 0 {
		fmt.Fprintf(os.Stderr, "bench: !!! %s: %d of %d bodies failed the check; first: %s\n", op.Name, failures, len(d.bodies[op.Name]), firstFailure)
	}
	l, err := runWrk(ctx, d.sup, d.wrk, d.cfg.pin, d.script, graphqlURL, d.token, d.bodyFiles[op.Name], d.cfg.duration, d.cfg.concurrency, d.cfg.threads,
		filepath.Join(d.logs, "wrk-"+tag+"-"+op.Name+".txt"))
	if err != nil {
		return nil, nil, err
	}
	l.Operation, l.CheckFailures, l.EmptyResults = op.Name, failures, empty
	return l, answers, nil
}

// createToken makes an API token with `portside token create` and returns the secret it printed.
func (d *driver) createToken(ctx context.Context, tag, dbURL string, args ...string) (string, error) {
	_, _, out, err := d.portsideCmd(ctx, tag, append([]string{"--database", dbURL, "token", "create"}, args...)...)
	if err != nil {
		return "", fmt.Errorf("token create %s: %w", strings.Join(args, " "), err)
	}
	for line := range strings.SplitSeq(out, "\n") {
		if strings.HasPrefix(line, "pst_") {
			return strings.TrimSpace(line), nil
		}
	}
	return "", fmt.Errorf("token create %s printed no token:\n%s", strings.Join(args, " "), out)
}

func (d *driver) post(ctx context.Context, u string, body []byte) (int, []byte, error) {
	return d.postAs(ctx, u, d.token, body)
}

func (d *driver) postAs(ctx context.Context, u, token string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/graphql-response+json, application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := d.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "..."
}

// markdown renders results.md.
func (d *driver) markdown(res *Results) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Portside benchmark results\n\n")
	fmt.Fprintf(&b, "%s, commit %s; %s CPUs (%s), %s RAM, %s; Go %s", res.Finished.UTC().Format("2006-01-02 15:04 UTC"),
		orDash(res.Environment["commit"]), res.Environment["cpus"], orDash(res.Environment["cpu"]), orDash(res.Environment["memory"]),
		orDash(res.Environment["kernel"]), res.Environment["go"])
	if v := res.Environment["postgres"]; v != "" {
		fmt.Fprintf(&b, "; PostgreSQL %s", v)
	}
	if v := res.Environment["wrk"]; v != "" {
		fmt.Fprintf(&b, "; %s", v)
	}
	b.WriteString(".\n\n")
	shape := ""
	if d.cfg.openAPIPaths != 1 {
		shape += fmt.Sprintf(" -openapi-paths %d", d.cfg.openAPIPaths)
	}
	if d.cfg.bigFile {
		shape += " -big-file"
	}
	fmt.Fprintf(&b, "Catalog: scale %g (`gencatalog -scale %g%s`): %s.\n", d.cfg.scale, d.cfg.scale, shape, catalogLine(res.Catalog))
	fmt.Fprintf(&b, "Runs: %d per dialect (median, min–max); measured: %s", d.cfg.runs, strings.Join(d.measured(), ", "))
	if d.cfg.measure["load"] {
		fmt.Fprintf(&b, "; load: wrk %s per operation, %d connections, %d threads", d.cfg.duration, d.cfg.concurrency, d.cfg.threads)
		if d.cfg.pin {
			fmt.Fprintf(&b, "; server pinned to CPU 0, wrk to CPUs 1-%d", runtime.NumCPU()-1)
		}
	}
	if d.cfg.measure["rest"] {
		fmt.Fprintf(&b, "; rest: %s idle", d.cfg.rest)
	}
	if d.cfg.quick {
		b.WriteString(" (**quick mode: a smoke test, not a measurement**)")
	}
	b.WriteString(".\n\n")
	if res.Interrupted {
		b.WriteString("**Interrupted: the driver was stopped before every run had finished; the figures are incomplete.**\n\n")
	}
	b.WriteString(table(d.cfg.dialects, res.Summary))
	if len(res.Invalid) > 0 {
		b.WriteString("\n**INVALID LOAD RUNS — their figures do not count:**\n\n")
		for _, s := range res.Invalid {
			fmt.Fprintf(&b, "- %s\n", s)
		}
	}
	if len(res.Errors) > 0 {
		b.WriteString("\n**Failed runs:**\n\n")
		for _, s := range res.Errors {
			fmt.Fprintf(&b, "- %s\n", strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n  "))
		}
	}
	if len(res.Warnings) > 0 {
		b.WriteString("\nWarnings:\n\n")
		for _, s := range res.Warnings {
			fmt.Fprintf(&b, "- %s\n", s)
		}
	}
	return b.String()
}

// catalogLine condenses gencatalog's summary to one line.
func catalogLine(summary string) string {
	var parts []string
	for line := range strings.SplitSeq(summary, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && slices.Contains([]string{"components", "apis", "resources", "systems", "domains", "groups", "users", "relations"}, f[0]) {
			n, err := strconv.Atoi(f[1])
			if err != nil {
				continue
			}
			word := f[0]
			if word == "relations" {
				word = "relations declared"
			}
			parts = append(parts, thousands(float64(n))+" "+word)
		}
	}
	if len(parts) == 0 {
		return "see results.json"
	}
	return strings.Join(parts, ", ")
}

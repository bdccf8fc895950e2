package main

import (
	"strings"
	"testing"
	"time"

	"github.com/portside-dev/portside/bench/benchcat"
)

const wrkOutput = `Running 3s test @ http://127.0.0.1:43555/graphql
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.27ms    2.76ms  34.19ms   80.80%
    Req/Sec     2.77k   449.78     3.47k    85.00%
  Latency Distribution
     50%  812.00us
     75%    4.34ms
     90%    6.78ms
     99%    1.20s
  16555 requests in 3.00s, 25.79MB read
  Socket errors: connect 0, read 1, write 0, timeout 2
  Non-2xx or 3xx responses: 7
Requests/sec:   5517.38
Transfer/sec:      8.60MB
portside-bench: responses=16555 non2xx=7 graphql_errors=3 bodies=200
`

func TestParseWrk(t *testing.T) {
	r, err := parseWrk(wrkOutput)
	if err != nil {
		t.Fatal(err)
	}
	if r.RequestsPerS != 5517.38 || r.P50ms != 0.812 || r.P75ms != 4.34 || r.P90ms != 6.78 || r.P99ms != 1200 {
		t.Errorf("figures: %+v", r)
	}
	if r.Requests != 16555 || r.Responses != 16555 || r.Non2xx != 7 || r.GraphQLErrors != 3 || r.SocketErrors != 3 || r.Bodies != 200 {
		t.Errorf("counts: %+v", r)
	}
	why := r.Invalid()
	for _, want := range []string{"7 non-2xx", "3 responses with GraphQL errors", "3 socket errors"} {
		if !strings.Contains(why, want) {
			t.Errorf("Invalid() = %q, want it to mention %q", why, want)
		}
	}
}

func TestParseWrkWithoutScriptLine(t *testing.T) {
	out := strings.Replace(wrkOutput, "portside-bench:", "something else:", 1)
	if _, err := parseWrk(out); err == nil {
		t.Error("a wrk report without wrk.lua's line was accepted")
	}
}

func TestCleanRunIsValid(t *testing.T) {
	r := &LoadResult{Responses: 10}
	if why := r.Invalid(); why != "" {
		t.Errorf("Invalid() = %q", why)
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestSummaryVerdicts(t *testing.T) {
	runs := []*RunResult{
		{IngestSeconds: 4, Load: map[string]*LoadResult{benchcat.EntityByRef.Name: {Responses: 1, RequestsPerS: 12000, P99ms: 4}}},
		{IngestSeconds: 6, Load: map[string]*LoadResult{benchcat.EntityByRef.Name: {Responses: 1, RequestsPerS: 9000, P99ms: 6}}},
		{IngestSeconds: 5.5, Load: map[string]*LoadResult{benchcat.EntityByRef.Name: {Responses: 1, RequestsPerS: 11000, P99ms: 4.5}}},
	}
	get := func(sums []Summary, prefix string) Summary {
		for _, s := range sums {
			if strings.HasPrefix(s.Metric, prefix) {
				return s
			}
		}
		t.Fatalf("no metric %q", prefix)
		return Summary{}
	}
	sqlite, pg := summarize("sqlite", runs), summarize("postgres", runs)
	if s := get(sqlite, "full ingest: `catalog import`"); s.Median != 5.5 || s.Min != 4 || s.Max != 6 || s.Verdict != "FAIL" {
		t.Errorf("SQLite ingest: %+v", s)
	}
	if s := get(pg, "full ingest: `catalog import`"); s.Verdict != "pass" {
		t.Errorf("PostgreSQL ingest (target 10 s): %+v", s)
	}
	if s := get(sqlite, "(1) entity by ref"); s.Median != 11000 || s.Verdict != "pass" {
		t.Errorf("throughput: %+v", s)
	}
	if s := get(sqlite, "(1) entity: p99"); s.Median != 4.5 || s.Verdict != "pass" {
		t.Errorf("p99: %+v", s)
	}
	// One run with an error makes every load figure of the dialect invalid.
	runs[1].Load[benchcat.EntityByRef.Name].GraphQLErrors = 1
	if s := get(summarize("sqlite", runs), "(1) entity: p99"); s.Verdict != "INVALID" {
		t.Errorf("p99 after an error: %+v", s)
	}
	md := table([]string{"sqlite", "postgres"}, map[string][]Summary{"sqlite": sqlite, "postgres": pg})
	if !strings.Contains(md, "| full ingest: `catalog import` wall time | ≤ 5 s SQLite, ≤ 10 s PostgreSQL | 5.50 s (4.00–6.00) | 5.50 s (4.00–6.00) | FAIL / pass |") {
		t.Errorf("table:\n%s", md)
	}
}

func TestQuickDefaultsYieldToFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"-quick", "-runs", "2"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.scale != 0.1 || cfg.duration != 3*time.Second || cfg.runs != 2 || cfg.rest != 5*time.Second {
		t.Errorf("quick: %+v", cfg)
	}
	cfg, err = parseFlags([]string{"-components", "2500", "-dialects", "postgres"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.scale != 0.25 || len(cfg.dialects) != 1 || cfg.dialects[0] != "postgres" {
		t.Errorf("components: %+v", cfg)
	}
	for _, bad := range [][]string{{"-scale", "1", "-components", "10"}, {"-dialects", "mysql"}, {"-measure", "speed"}, {"-runs", "0"}} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestResponseCacheModes(t *testing.T) {
	for _, tc := range []struct {
		flag    string
		want    []string
		wantErr bool
	}{
		{"", []string{"on", "off"}, false},
		{"off", []string{"off"}, false},
		{"on, on", []string{"on"}, false},
		{"sometimes", nil, true},
		{",", nil, true},
	} {
		args := []string{}
		if tc.flag != "" {
			args = append(args, "-response-cache", tc.flag)
		}
		cfg, err := parseFlags(args)
		if (err != nil) != tc.wantErr {
			t.Errorf("-response-cache %q: error %v, want error %v", tc.flag, err, tc.wantErr)
			continue
		}
		if !tc.wantErr && strings.Join(cfg.responseCache, ",") != strings.Join(tc.want, ",") {
			t.Errorf("-response-cache %q: modes %v, want %v", tc.flag, cfg.responseCache, tc.want)
		}
	}
}

func TestNetHTTPRatioIsJudgedAgainstOneAndAHalf(t *testing.T) {
	op := benchcat.OwnerPageWhole
	run := func(on, base float64) *RunResult {
		return &RunResult{Dialect: "sqlite", Load: map[string]*LoadResult{
			loadKey(op, "on"):       {RequestsPerS: on, Responses: 1},
			loadKey(op, "net/http"): {RequestsPerS: base, Responses: 1},
		}}
	}
	for _, tc := range []struct {
		on, base float64
		verdict  string
	}{
		{10000, 14000, "pass"},
		{10000, 16000, "FAIL"},
	} {
		found := false
		for _, s := range summarize("sqlite", []*RunResult{run(tc.on, tc.base)}) {
			if strings.Contains(s.Metric, op.Name+": net/http ÷ Portside") {
				found = true
				if s.Verdict != tc.verdict || s.Median != tc.base/tc.on {
					t.Errorf("Portside %v req/s, net/http %v: %s %v, want %s %v", tc.on, tc.base, s.Verdict, s.Median, tc.verdict, tc.base/tc.on)
				}
			}
		}
		if !found {
			t.Fatal("no net/http ratio row for " + op.Name)
		}
	}
}

// The catalog shape reaches the generator: large inline OpenAPI definitions, one big file.
func TestCatalogShapeFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"-openapi-paths", "4", "-big-file"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.openAPIPaths != 4 || !cfg.bigFile {
		t.Errorf("-openapi-paths 4 -big-file: %+v", cfg)
	}
	if cfg, err = parseFlags(nil); err != nil || cfg.openAPIPaths != 1 || cfg.bigFile {
		t.Errorf("defaults: %+v, %v; want one path and shards", cfg, err)
	}
	if _, err := parseFlags([]string{"-openapi-paths", "0"}); err == nil {
		t.Errorf("-openapi-paths 0 accepted")
	}
}

func TestOpsSelectsLoadOperations(t *testing.T) {
	cfg, err := parseFlags([]string{"-ops", "entity-whole, owner-page-whole"})
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.ops) != 2 || !cfg.ops["entity-whole"] || !cfg.ops["owner-page-whole"] {
		t.Errorf("-ops entity-whole,owner-page-whole: %v", cfg.ops)
	}
	if cfg, err := parseFlags(nil); err != nil || cfg.ops != nil {
		t.Errorf("no -ops: %v, %v; want every operation (nil)", cfg.ops, err)
	}
	if _, err := parseFlags([]string{"-ops", "entity,nope"}); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("-ops with an unknown name: %v", err)
	}
}

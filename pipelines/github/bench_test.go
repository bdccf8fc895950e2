package github_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/pipelines"
	"github.com/portside-dev/portside/pipelines/github"
	"github.com/portside-dev/portside/pipelines/github/githubtest"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// quantileMS is the q-quantile of durations in milliseconds (nearest rank).
func quantileMS(d []time.Duration, q float64) float64 {
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	i = max(0, min(i, len(s)-1))
	return float64(s[i].Microseconds()) / 1000
}

// dialects runs fn on SQLite, and on PostgreSQL when PORTSIDE_TEST_POSTGRES_DSN is set (a
// benchmark never fails for want of a server).
func dialects(b *testing.B, fn func(b *testing.B, st func(testing.TB) *store.Store)) {
	b.Run("sqlite", func(b *testing.B) { fn(b, storetest.SQLite) })
	if os.Getenv(storetest.DSNEnv) != "" {
		b.Run("postgres", func(b *testing.B) { fn(b, storetest.Postgres) })
	}
}

// BenchmarkTriggerToDispatch measures Portside's share of a trigger: from the call of
// Service.Trigger (as GraphQL's triggerPipeline makes it, audited, with the declaration's
// parameters checked and the run recorded first) to the moment GitHub receives the
// workflow_dispatch. The in-process GitHub stamps the arrival before it answers, so GitHub's own
// latency (and the find that follows the dispatch) is excluded, as the target asks.
func BenchmarkTriggerToDispatch(b *testing.B) {
	dialects(b, func(b *testing.B, open func(testing.TB) *store.Store) {
		gh := githubtest.Start(b)
		var mu sync.Mutex
		arrived := map[string]time.Time{}
		gh.OnDispatch = func(inputs map[string]any) {
			t := time.Now()
			mu.Lock()
			arrived[fmt.Sprint(inputs[pipelines.DispatchInput])] = t
			mu.Unlock()
		}
		prov, err := github.New(github.Options{BaseURL: gh.URL, Token: "ghs_bench"})
		if err != nil {
			b.Fatal(err)
		}
		st := open(b)
		s := pipelines.NewService(st, pipelines.Options{Catalog: catalog{}, Audit: audit.New(st, nil), Providers: []pipelines.Provider{prov},
			Logger: slog.New(slog.DiscardHandler)})
		b.Cleanup(s.Stop)
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for range b.N {
			start := time.Now()
			run, err := s.Trigger(owner, pipelines.TriggerInput{Component: "checkout", Pipeline: "release",
				Parameters: map[string]string{"environment": "production"}})
			if err != nil {
				b.Fatal(err)
			}
			mu.Lock()
			at, ok := arrived[run.DispatchID]
			mu.Unlock()
			if !ok {
				b.Fatalf("run %d's dispatch never reached GitHub", run.ID)
			}
			lat = append(lat, at.Sub(start))
		}
		b.StopTimer()
		b.ReportMetric(quantileMS(lat, 0.50), "p50-ms")
		b.ReportMetric(quantileMS(lat, 0.99), "p99-ms")
	})
}

// BenchmarkFollow1000Runs follows 1,000 GitHub runs under way for one simulated hour and reports
// the memory they add and the GitHub requests that hour costs. Run it with -benchtime 1x: one
// iteration is the simulated hour.
//
// Method. The follower runs as serve has it (FollowerOptions' defaults: a poll every 15 s of 100
// runs, the least recently polled first, so each run is read every 150 s; the provider's default
// budget of 4,000 counted requests an hour), but its clock is simulated: the benchmark calls
// Service.Poll 240 times, moving a shared clock on 15 s before each, which is one hour of
// following with every request really sent to the in-process GitHub. No webhook arrives: this is
// polling alone, the fallback's worst case. Each run changes on GitHub 1 or 4 times in the hour
// (a new job starts, staggered across runs), changing the run and its job list: each change
// costs two counted requests when it is seen, every other read is two free 304s.
//
// Figures: req/h counts every HTTP request GitHub received in the hour; counted-req/h those
// GitHub counts against the rate limit (all but the 304 Not Modified answers to conditional
// requests); seen-% the share of the hour's changes Portside had recorded by its end; and
// heap-MB-added the heap in use after a GC once the 1,000 runs are triggered and read, less the
// same before they were triggered. The heap is the whole process's, so it includes the
// in-process GitHub's own copy of the 1,000 runs: an upper bound. The triggers' requests and the
// first read of every run fall in the hours before and are not counted.
func BenchmarkFollow1000Runs(b *testing.B) {
	for _, changes := range []int{1, 4} {
		b.Run(fmt.Sprintf("changes-per-run-hour=%d", changes), func(b *testing.B) { follow1000(b, changes) })
	}
}

func follow1000(b *testing.B, changes int) {
	const runs, polls = 1000, 240
	interval := 15 * time.Second
	for range b.N {
		gh := githubtest.Start(b)
		clock := testutil.NewClock(time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC))
		prov, err := github.New(github.Options{BaseURL: gh.URL, Token: "ghs_bench", Now: clock.Now})
		if err != nil {
			b.Fatal(err)
		}
		s := pipelines.NewService(storetest.SQLite(b), pipelines.Options{Catalog: catalog{}, Providers: []pipelines.Provider{prov},
			Logger: slog.New(slog.DiscardHandler), Now: clock.Now, Follower: pipelines.FollowerOptions{Interval: interval}})
		b.Cleanup(s.Stop)

		before := heapInUse()
		ids := make([]int64, runs)
		for i := range runs {
			run, err := s.Trigger(owner, pipelines.TriggerInput{Component: "checkout", Pipeline: "release"})
			if err != nil || run.ProviderRunID == "" {
				b.Fatalf("trigger %d: %+v %v", i, run, err)
			}
			ids[i] = run.ID
			var pid int64
			_, _ = fmt.Sscan(run.ProviderRunID, &pid)
			gh.Script(pid, func(r *githubtest.Run) { r.Status = "in_progress" })
		}
		clock.Add(time.Hour) // the triggers spent most of their hour's budget
		ctx := context.Background()
		for range runs / 100 { // every run read once, so each is held as it is followed
			if _, err := s.Poll(ctx); err != nil {
				b.Fatal(err)
			}
		}
		after := heapInUse()
		clock.Add(time.Hour) // the measured hour starts with its own budget

		startReq, startNotMod := gh.Requests(), gh.NotModified()
		period := time.Hour / time.Duration(changes)
		for step := 1; step <= polls; step++ {
			clock.Add(interval)
			elapsed := time.Duration(step) * interval
			for i := range runs {
				// Run i's k-th change falls at offset_i + k·period; script those of this step.
				offset := time.Duration(i) * period / runs
				for k := range changes {
					at := offset + time.Duration(k)*period
					if at > elapsed-interval && at <= elapsed {
						pid := int64(1001 + i)
						name := fmt.Sprintf("step-%d", k)
						gh.Script(pid, func(r *githubtest.Run) {
							r.Jobs = append(r.Jobs, githubtest.Job{ID: pid*10 + int64(k), Name: name, Status: "in_progress", StartedAt: githubtest.Stamp})
							r.UpdatedAt = clock.Now().UTC().Format(time.RFC3339)
						})
					}
				}
			}
			if _, err := s.Poll(ctx); err != nil {
				b.Fatal(err)
			}
		}
		total, notMod := gh.Requests()-startReq, gh.NotModified()-startNotMod
		seen := 0
		for _, id := range ids {
			r, err := s.Run(owner, id)
			if err != nil {
				b.Fatal(err)
			}
			for _, st := range r.Stages {
				if strings.HasPrefix(st.Name, "step-") {
					seen++
				}
			}
		}
		b.ReportMetric(float64(after-before)/1e6, "heap-MB-added")
		b.ReportMetric(float64(total), "req/h")
		b.ReportMetric(float64(total-notMod), "counted-req/h")
		b.ReportMetric(100*float64(seen)/float64(runs*changes), "seen-%")
		s.Stop()
	}
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

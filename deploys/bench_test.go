package deploys_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/portside-dev/portside/deploys"
	"github.com/portside-dev/portside/store/storetest"
)

// BenchmarkApproveToPush measures what issue 16 sets a target for: from approveDeployRequest to
// the commit pushed to a local manifest repository (median ≤ 500 ms), on SQLite. Each iteration
// approves a fresh request of a new version; p50-ms and p99-ms are per approval.
func BenchmarkApproveToPush(b *testing.B) {
	f := newFixture(b, storetest.SQLite(b))
	var took []time.Duration
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		q, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: fmt.Sprintf("sha256:%064x", i)})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		q, err = f.s.Approve(alice, q.ID, "")
		took = append(took, time.Since(start))
		if err != nil || q.State != deploys.RollingOut {
			b.Fatalf("%+v, %v", q, err)
		}
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
}

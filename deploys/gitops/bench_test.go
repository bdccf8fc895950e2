package gitops_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portside-dev/portside/deploys"
	"github.com/portside-dev/portside/deploys/gitops"
)

// BenchmarkHundredRequestsToOneRepository applies 100 deploy requests at once to one manifest
// repository (a real bare repository on disk) through two committers, as two replicas would, and
// checks that every bump landed as its own commit: issue #16's "no lost update" figure. Each
// iteration is one round of 100; ms/request is the round's wall time over 100.
// Run: go test -run '^$' -bench HundredRequests -benchtime 3x ./deploys/gitops/
func BenchmarkHundredRequestsToOneRepository(b *testing.B) {
	const n = 100
	for b.Loop() {
		b.StopTimer()
		files := map[string]string{}
		for i := range n {
			files[fmt.Sprintf("apps/c%03d/kustomization.yaml", i)] = "images:\n  - name: ghcr.io/acme/c\n    newTag: \"0.0.1\"\n"
		}
		bare := newRemote(b, files)
		var replicas []*gitops.Committer
		for range 2 {
			c, err := gitops.New(gitops.Options{Dir: b.TempDir(), Attempts: n})
			if err != nil {
				b.Fatal(err)
			}
			replicas = append(replicas, c)
		}
		b.StartTimer()
		start := time.Now()
		var wg sync.WaitGroup
		errc := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := replicas[i%2].Apply(context.Background(), change(int64(i+1), bare, fmt.Sprintf("apps/c%03d/kustomization.yaml", i),
					deploys.Kustomize, "ghcr.io/acme/c", fmt.Sprintf("1.0.%d", i)))
				errc <- err
			}()
		}
		wg.Wait()
		elapsed := time.Since(start)
		b.StopTimer()
		close(errc)
		for err := range errc {
			if err != nil {
				b.Fatal(err)
			}
		}
		if got := strings.TrimSpace(git(b, bare, "rev-list", "--count", "main")); got != fmt.Sprint(n+1) {
			b.Fatalf("%s commits on main, want the seed and %d bumps", got, n)
		}
		for i := range n {
			if got := show(b, bare, fmt.Sprintf("apps/c%03d/kustomization.yaml", i)); !strings.Contains(got, fmt.Sprintf("newTag: 1.0.%d\n", i)) {
				b.Fatalf("c%03d lost its bump:\n%s", i, got)
			}
		}
		b.ReportMetric(float64(elapsed.Milliseconds())/n, "ms/request")
		b.StartTimer()
	}
}

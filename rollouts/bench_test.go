package rollouts_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"

	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/rollouts"
	"github.com/portside-dev/portside/rollouts/argocd"
	"github.com/portside-dev/portside/rollouts/argocd/argocdtest"
	"github.com/portside-dev/portside/rollouts/connector/connectortest"
	"github.com/portside-dev/portside/store/storetest"
)

// BenchmarkFollowing5000Applications follows 5,000 applications on 3 scripted Argo CD instances
// over real gRPC and sends a steady stream of updates (one per millisecond, round robin), cutting
// every instance's watch twice along the way. It reports how long an update takes from Argo CD to
// a subscriber (p50, p99), the heap the tracked state takes, and checks that every application's
// last update arrived and that no update arrived twice.
func BenchmarkFollowing5000Applications(b *testing.B) {
	const apps, instances = 5000, 3
	st := storetest.SQLite(b)
	var servers []*argocdtest.Server
	var sources []rollouts.Source
	for i := range instances {
		srv := argocdtest.Start(b)
		for j := i; j < apps; j += instances {
			srv.Put(argocdtest.App(fmt.Sprintf("app-%04d", j), func(a *v1alpha1.Application) {
				a.Labels = map[string]string{"team": fmt.Sprintf("team-%d", j%50)}
				a.Status.Sync.Revision = "0"
				a.Status.Summary.Images = []string{fmt.Sprintf("registry.example.com/app-%04d:1.0.0", j)}
			}))
		}
		c, err := argocd.New(argocd.Options{Name: fmt.Sprintf("argocd-%d", i), Addr: srv.Addr(), Token: srv.Token, PlainText: true})
		if err != nil {
			b.Fatal(err)
		}
		servers, sources = append(servers, srv), append(sources, c)
	}
	// Through the connector protocol, as portside serve follows Argo CD: the socket hop, go-plugin's
	// stream and the events' JSON are part of an update's way to a subscriber.
	sources = connectortest.Relay(b, sources...)
	svc := rollouts.NewService(st, sources, rollouts.Options{Catalog: catalogFake{},
		Tracker: rollouts.TrackerOptions{MinBackoff: 10 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, Buffer: 1 << 16}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sub := svc.Tracker().Subscribe(ctx, func(c rollouts.Change) bool { return c.Deployment != nil })
	svc.Start(ctx)
	defer svc.Stop()
	tracked := 0
	testutil.Eventually(b, 60*time.Second, func() bool {
		tracked = 0
		for _, s := range svc.Instances() {
			tracked += s.Applications
		}
		return tracked == apps
	}, "all %d applications tracked (last count: %v)", apps, lazy(func() string { return fmt.Sprint(tracked) }))
	for len(sub.C()) > 0 { // the initial states
		<-sub.C()
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	// The live heap of the whole process: the tracker's state of 5,000 applications and its
	// client connections, but also the three scripted servers' own copies of them, so an upper
	// bound of what tracking costs.
	heapMB := float64(after.HeapAlloc) / 1e6

	// Each update sets the application's revision to its send time; the subscriber reads it back.
	last := map[string]string{}
	lastStale := map[string]bool{}
	var lat []time.Duration
	done := make(chan struct{})
	go func() {
		defer close(done)
		for c := range sub.C() {
			d := c.Deployment
			sent, err := strconv.ParseInt(d.Revision, 10, 64)
			if err != nil || sent == 0 {
				continue
			}
			lat = append(lat, time.Since(time.Unix(0, sent)))
			if last[d.Application] == d.Revision && lastStale[d.Application] == d.Stale {
				b.Errorf("%s: revision %s delivered twice", d.Application, d.Revision)
			}
			last[d.Application], lastStale[d.Application] = d.Revision, d.Stale
		}
	}()
	sent := map[string]string{}
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	b.ResetTimer()
	for i := range b.N {
		<-tick.C
		j := i % apps
		name := fmt.Sprintf("app-%04d", j)
		rev := strconv.FormatInt(time.Now().UnixNano(), 10)
		servers[j%instances].Update("argocd", name, func(a *v1alpha1.Application) { a.Status.Sync.Revision = rev })
		sent[name] = rev
		if b.N >= 3000 && (i == b.N/3 || i == 2*b.N/3) {
			for _, s := range servers {
				s.CutWatches()
			}
		}
	}
	b.StopTimer()
	// Let the stream drain (a cut watch is caught up by the list that follows each reconnection).
	// When it does not within 30 s, the checks of the subscriber's revisions below say which app lags.
	testutil.Await(30*time.Second, func() bool {
		for _, s := range svc.Instances() {
			if !s.Connected {
				return false
			}
		}
		for name, rev := range sent {
			if d, ok := svc.Tracker().Deployment(rollouts.Key{Instance: fmt.Sprintf("argocd-%d", appIndex(name)%instances), Namespace: "argocd", Name: name}); !ok || d.Revision != rev {
				return false
			}
		}
		return true
	})
	sub.Close()
	<-done
	for name, rev := range sent {
		if last[name] != rev {
			b.Errorf("%s: the subscriber's last revision is %q, Argo CD's %q", name, last[name], rev)
		}
	}
	b.ReportMetric(heapMB, "heap-MB")
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
}

func appIndex(name string) int {
	n, _ := strconv.Atoi(name[len("app-"):])
	return n
}

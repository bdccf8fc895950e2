package pgbus_test

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/portside-dev/portside/internal/bus/pgbus"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// benchReplica is a bus on url's schema whose handler reports each message's time in flight.
func benchReplica(b *testing.B, url string, got chan<- time.Duration) *pgbus.Bus {
	b.Helper()
	st, err := store.Open(context.Background(), url, store.Options{MaxOpenConns: 4})
	if err != nil {
		b.Fatal(err)
	}
	var schema string
	if err := st.Gorm().Raw("SELECT current_schema()").Scan(&schema).Error; err != nil {
		b.Fatal(err)
	}
	bus := pgbus.New(pgbus.Channel(schema), st.Dedicated, st.SQL(), pgbus.Options{})
	if got != nil {
		bus.Handle("bench", func(data []byte) {
			sent, _ := strconv.ParseInt(string(data[:19]), 10, 64)
			got <- time.Since(time.Unix(0, sent))
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); bus.Run(ctx) }()
	b.Cleanup(func() { cancel(); <-done; st.Close() })
	for !bus.Listening() {
		time.Sleep(time.Millisecond)
	}
	return bus
}

// payload is a message the size of a deploy request's event, stamped with when it was sent.
func payload() []byte {
	p := make([]byte, 600)
	copy(p, strconv.FormatInt(time.Now().UnixNano(), 10))
	for i := 19; i < len(p); i++ {
		p[i] = 'x'
	}
	return p
}

// report adds the percentiles of the times in flight.
func report(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	at := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(at(0.5), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

// BenchmarkAnEventCrossesReplicas: replica A publishes, replica B's handler receives, one at a
// time (the time in flight of a subscription event from one replica to another).
func BenchmarkAnEventCrossesReplicas(b *testing.B) {
	url := storetest.PostgresURL(b)
	got := make(chan time.Duration, 1)
	a := benchReplica(b, url, nil)
	benchReplica(b, url, got)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		a.Publish(context.Background(), "bench", payload())
		lat = append(lat, <-got)
	}
	b.StopTimer()
	report(b, lat)
}

// BenchmarkAnEventCrossesReplicasWithItsTransaction: as AnEventCrossesReplicas, but the event is
// published in a transaction (with nothing else in it), as a change's event is: the time in
// flight, from the Publish in the open transaction, includes its pg_notify and its COMMIT.
func BenchmarkAnEventCrossesReplicasWithItsTransaction(b *testing.B) {
	url := storetest.PostgresURL(b)
	got := make(chan time.Duration, 1)
	a := benchReplica(b, url, nil)
	benchReplica(b, url, got)
	st, err := store.Open(context.Background(), url, store.Options{MaxOpenConns: 2})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		err := st.InTx(context.Background(), func(ctx context.Context) error {
			a.Publish(ctx, "bench", payload())
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, <-got)
	}
	b.StopTimer()
	report(b, lat)
}

// BenchmarkEventsCrossReplicasUnderLoad: 3 replicas publish a burst of b.N messages from 30
// goroutines at once, every message received by the two others: ns/op is the throughput, and the
// times in flight include the queueing of the whole burst.
func BenchmarkEventsCrossReplicasUnderLoad(b *testing.B) {
	url := storetest.PostgresURL(b)
	got := make(chan time.Duration, 4096)
	var buses []*pgbus.Bus
	for range 3 {
		buses = append(buses, benchReplica(b, url, got))
	}
	lat := make([]time.Duration, 0, 2*b.N)
	collected := make(chan struct{})
	go func() {
		for range 2 * b.N {
			lat = append(lat, <-got)
		}
		close(collected)
	}()
	b.ResetTimer()
	var wg sync.WaitGroup
	per := (b.N + 29) / 30
	sent := 0
	for w := range 30 {
		n := min(per, b.N-sent)
		sent += n
		bus := buses[w%3]
		wg.Go(func() {
			for range n {
				bus.Publish(context.Background(), "bench", payload())
			}
		})
	}
	wg.Wait()
	<-collected
	b.StopTimer()
	report(b, lat)
}

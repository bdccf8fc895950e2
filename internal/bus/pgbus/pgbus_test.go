package pgbus_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portside-dev/portside/internal/bus"
	"github.com/portside-dev/portside/internal/bus/pgbus"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// replica is one bus on a schema, with what it received.
type replica struct {
	bus  *pgbus.Bus
	st   *store.Store
	mu   sync.Mutex
	got  []string
	gaps int
}

func (r *replica) received() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

func (r *replica) gapCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.gaps
}

// start runs a bus on url's schema until the test ends, recording topic "t".
func start(t *testing.T, url string) *replica {
	t.Helper()
	st, err := store.Open(context.Background(), url, store.Options{MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	var schema string
	if err := st.Gorm().Raw("SELECT current_schema()").Scan(&schema).Error; err != nil {
		t.Fatal(err)
	}
	r := &replica{st: st}
	r.bus = pgbus.New(pgbus.Channel(schema), st.Dedicated, st.SQL(), pgbus.Options{MinBackoff: 10 * time.Millisecond})
	r.bus.Handle("t", func(data []byte) {
		r.mu.Lock()
		r.got = append(r.got, string(data))
		r.mu.Unlock()
	})
	r.bus.HandleGap(func() {
		r.mu.Lock()
		r.gaps++
		r.mu.Unlock()
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.bus.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; st.Close() })
	testutil.Eventually(t, 10*time.Second, r.bus.Listening, "the bus never listened")
	return r
}

var _ bus.Bus = (*pgbus.Bus)(nil)

func TestAMessageReachesEveryOtherReplicaOnceInOrderAndNeverItsSender(t *testing.T) {
	url := storetest.PostgresURL(t)
	a, b, c := start(t, url), start(t, url), start(t, url)
	var want []string
	for i := range 200 {
		m := fmt.Sprintf("m%03d", i)
		want = append(want, m)
		a.bus.Publish("t", []byte(m))
	}
	a.bus.Publish("other", []byte("for nobody")) // a topic without handlers is ignored
	for _, r := range []*replica{b, c} {
		testutil.Eventually(t, 10*time.Second, func() bool { return len(r.received()) >= len(want) },
			"a replica received %d of %d messages", len(r.received()), len(want))
	}
	// b's marker is sent after a's messages arrived, so a has been handed its own by now if ever.
	b.bus.Publish("t", []byte("marker"))
	testutil.Eventually(t, 10*time.Second, func() bool { return len(a.received()) > 0 }, "the sender never heard the marker")
	if got := a.received(); len(got) != 1 || got[0] != "marker" {
		t.Errorf("the sender received %d messages (%.40q…), want only the other replica's marker", len(got), got)
	}
	testutil.Eventually(t, 10*time.Second, func() bool { return len(c.received()) == len(want)+1 }, "c never heard the marker")
	for name, r := range map[string]*replica{"b": b, "c": c} {
		got := r.received()
		if name == "b" {
			got = append(got, "marker") // b sent it
		}
		if strings.Join(got, ",") != strings.Join(append(want, "marker"), ",") {
			t.Errorf("%s received %d messages, not the %d sent in order once each (and the marker)", name, len(got), len(want))
		}
	}
}

func TestTheLargestMessageGoesThrough(t *testing.T) {
	url := storetest.PostgresURL(t)
	a, b := start(t, url), start(t, url)
	big := strings.Repeat("x", bus.MaxData)
	a.bus.Publish("t", []byte(big))
	testutil.Eventually(t, 10*time.Second, func() bool { return len(b.received()) == 1 }, "a message of MaxData bytes never arrived")
	if got := b.received()[0]; got != big {
		t.Errorf("the message arrived with %d bytes, want %d", len(got), len(big))
	}
}

func TestReplicasOnAnotherSchemaHearNothing(t *testing.T) {
	urlB := storetest.PostgresURL(t)
	a, b, b2 := start(t, storetest.PostgresURL(t)), start(t, urlB), start(t, urlB)
	a.bus.Publish("t", []byte("private"))
	// A message on b's own schema, sent after a's, arrives after a's would have.
	b2.bus.Publish("t", []byte("own"))
	testutil.Eventually(t, 10*time.Second, func() bool { return len(b.received()) > 0 }, "b never heard its own schema")
	if got := b.received(); len(got) != 1 || got[0] != "own" {
		t.Errorf("a replica on another schema received %q", got)
	}
}

func TestAListenerWhoseConnectionBreaksListensAgainAndReportsAGap(t *testing.T) {
	url := storetest.PostgresURL(t)
	a, b := start(t, url), start(t, url)
	testutil.Eventually(t, 10*time.Second, func() bool { return b.gapCount() == 1 }, "the first listen was not reported as a gap")
	// An administrator (or a failover) ends b's listening session.
	var n int64
	err := a.st.Gorm().Raw(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE query LIKE ? AND pid <> pg_backend_pid()`, "%LISTEN \""+channelOf(t, a)+"\"%").Scan(&n).Error
	if err != nil || n != 2 {
		t.Fatalf("terminating the listeners: %d ended, %v; want 2", n, err)
	}
	testutil.Eventually(t, 10*time.Second, func() bool { return b.bus.Listens() >= 2 && b.bus.Listening() }, "b never listened again")
	if b.gapCount() < 2 {
		t.Errorf("b listened again with %d gaps reported, want a gap for the break", b.gapCount())
	}
	a.bus.Publish("t", []byte("after"))
	testutil.Eventually(t, 10*time.Second, func() bool { return len(b.received()) == 1 }, "nothing arrived after listening again")
}

func channelOf(t *testing.T, r *replica) string {
	t.Helper()
	var schema string
	if err := r.st.Gorm().Raw("SELECT current_schema()").Scan(&schema).Error; err != nil {
		t.Fatal(err)
	}
	return pgbus.Channel(schema)
}

func TestChannelsDifferBySchemaAndAreValidIdentifiers(t *testing.T) {
	a, b := pgbus.Channel("public"), pgbus.Channel("test_abc")
	if a == b || len(a) > 63 || !strings.HasPrefix(a, "portside_events_") {
		t.Errorf("channels %q and %q: want distinct identifiers of at most 63 bytes", a, b)
	}
}

func TestMessagesPublishedFromManyGoroutinesAllArrive(t *testing.T) {
	url := storetest.PostgresURL(t)
	a, b := start(t, url), start(t, url)
	var wg sync.WaitGroup
	for w := range 20 {
		wg.Go(func() {
			for i := range 50 {
				a.bus.Publish("t", []byte(fmt.Sprintf("%d-%d", w, i)))
			}
		})
	}
	wg.Wait()
	testutil.Eventually(t, 10*time.Second, func() bool { return len(b.received()) == 1000 },
		"%d of 1000 messages from 20 goroutines arrived", len(b.received()))
}

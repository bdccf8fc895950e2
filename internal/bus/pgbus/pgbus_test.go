package pgbus_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
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
	r := idle(t, url)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.bus.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	testutil.Eventually(t, 10*time.Second, r.bus.Listening, "the bus never listened")
	return r
}

// idle builds a bus on url's schema, recording topic "t", and never runs it: neither its sender
// nor its listener ever works, as in a process killed as soon as it published.
func idle(t *testing.T, url string) *replica {
	t.Helper()
	st, err := store.Open(context.Background(), url, store.Options{MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
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
	return r
}

var _ bus.Bus = (*pgbus.Bus)(nil)

func TestAMessageReachesEveryOtherReplicaOnceInOrderAndNeverItsSender(t *testing.T) {
	ctx := context.Background()
	url := storetest.PostgresURL(t)
	a, b, c := start(t, url), start(t, url), start(t, url)
	var want []string
	for i := range 200 {
		m := fmt.Sprintf("m%03d", i)
		want = append(want, m)
		a.bus.Publish(ctx, "t", []byte(m))
	}
	a.bus.Publish(ctx, "other", []byte("for nobody")) // a topic without handlers is ignored
	for _, r := range []*replica{b, c} {
		testutil.Eventually(t, 10*time.Second, func() bool { return len(r.received()) >= len(want) },
			"a replica received %d of %d messages", len(r.received()), len(want))
	}
	// b's marker is sent after a's messages arrived, so a has been handed its own by now if ever.
	b.bus.Publish(ctx, "t", []byte("marker"))
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
	ctx := context.Background()
	url := storetest.PostgresURL(t)
	a, b := start(t, url), start(t, url)
	big := strings.Repeat("x", bus.MaxData)
	a.bus.Publish(ctx, "t", []byte(big))
	testutil.Eventually(t, 10*time.Second, func() bool { return len(b.received()) == 1 }, "a message of MaxData bytes never arrived")
	if got := b.received()[0]; got != big {
		t.Errorf("the message arrived with %d bytes, want %d", len(got), len(big))
	}
}

func TestReplicasOnAnotherSchemaHearNothing(t *testing.T) {
	ctx := context.Background()
	urlB := storetest.PostgresURL(t)
	a, b, b2 := start(t, storetest.PostgresURL(t)), start(t, urlB), start(t, urlB)
	a.bus.Publish(ctx, "t", []byte("private"))
	// A message on b's own schema, sent after a's, arrives after a's would have.
	b2.bus.Publish(ctx, "t", []byte("own"))
	testutil.Eventually(t, 10*time.Second, func() bool { return len(b.received()) > 0 }, "b never heard its own schema")
	if got := b.received(); len(got) != 1 || got[0] != "own" {
		t.Errorf("a replica on another schema received %q", got)
	}
}

func TestAListenerWhoseConnectionBreaksListensAgainAndReportsAGap(t *testing.T) {
	ctx := context.Background()
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
	a.bus.Publish(ctx, "t", []byte("after"))
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
	ctx := context.Background()
	url := storetest.PostgresURL(t)
	a, b := start(t, url), start(t, url)
	var wg sync.WaitGroup
	for w := range 20 {
		wg.Go(func() {
			for i := range 50 {
				a.bus.Publish(ctx, "t", []byte(fmt.Sprintf("%d-%d", w, i)))
			}
		})
	}
	wg.Wait()
	testutil.Eventually(t, 10*time.Second, func() bool { return len(b.received()) == 1000 },
		"%d of 1000 messages from 20 goroutines arrived", len(b.received()))
}

// publishInTx publishes each message on topic "t" in one transaction of r's store, which commits
// unless rollback.
func publishInTx(t *testing.T, r *replica, rollback bool, messages ...string) {
	t.Helper()
	errRollback := errors.New("rolled back")
	err := r.st.InTx(context.Background(), func(ctx context.Context) error {
		for _, m := range messages {
			r.bus.Publish(ctx, "t", []byte(m))
		}
		if rollback {
			return errRollback
		}
		return nil
	})
	if err != nil && !(rollback && errors.Is(err, errRollback)) {
		t.Error(err) // not Fatal: called from goroutines too
	}
}

func TestAMessagePublishedInATransactionArrivesWithItsCommitEvenIfTheSenderNeverRuns(t *testing.T) {
	url := storetest.PostgresURL(t)
	dead, b := idle(t, url), start(t, url)
	publishInTx(t, dead, false, "with the change")
	// A message queued outside a transaction waits for a sender that will never run: it dies
	// with the process, as every message did before it travelled with its transaction.
	dead.bus.Publish(context.Background(), "t", []byte("queued"))
	testutil.Eventually(t, 10*time.Second, func() bool { return len(b.received()) > 0 }, "the committed message never arrived")
	if got := b.received(); len(got) != 1 || got[0] != "with the change" {
		t.Errorf("the other replica received %q, want the committed message", got)
	}
}

func TestAMessagePublishedInATransactionThatRollsBackNeverArrives(t *testing.T) {
	url := storetest.PostgresURL(t)
	a, b := start(t, url), start(t, url)
	publishInTx(t, a, true, "rolled back")
	publishInTx(t, a, false, "committed")
	// Had the rolled-back message been sent, it would have come first.
	testutil.Eventually(t, 10*time.Second, func() bool { return len(b.received()) > 0 }, "the committed message never arrived")
	if got := b.received(); len(got) != 1 || got[0] != "committed" {
		t.Errorf("the other replica received %q, want only the committed message", got)
	}
}

func TestMessagesOfConcurrentTransactionsAndQueuedOnesAllArriveOnce(t *testing.T) {
	url := storetest.PostgresURL(t)
	a, b := start(t, url), start(t, url)
	var wg sync.WaitGroup
	for w := range 10 {
		wg.Go(func() {
			for i := range 10 {
				// Transactions commit in an order of their own, between queued messages: none is
				// taken for a repeat of another, and none makes a gap.
				publishInTx(t, a, false, fmt.Sprintf("tx %d-%d a", w, i), fmt.Sprintf("tx %d-%d b", w, i))
				a.bus.Publish(context.Background(), "t", []byte(fmt.Sprintf("queued %d-%d", w, i)))
			}
		})
	}
	wg.Wait()
	testutil.Eventually(t, 10*time.Second, func() bool { return len(b.received()) == 300 },
		"%d of 300 messages arrived", len(b.received()))
	seen := map[string]bool{}
	for _, m := range b.received() {
		seen[m] = true
	}
	if len(seen) != 300 {
		t.Errorf("%d distinct messages arrived, want 300 (each once)", len(seen))
	}
	if gaps := b.gapCount(); gaps != 1 {
		t.Errorf("the receiver saw %d gaps, want only the first listen's", gaps)
	}
}

// TestAnEarlierReleaseTakesEveryMessageSentWithATransaction listens as a replica of the release
// before messages travelled with their transactions did during a rolling upgrade: it keeps the
// last sequence number heard from each origin and takes a message numbered no higher for a
// repeat. Every message sent with a transaction is numbered 0, so each must come under an origin
// of its own to reach it; the sender still hears none of its own.
func TestAnEarlierReleaseTakesEveryMessageSentWithATransaction(t *testing.T) {
	url := storetest.PostgresURL(t)
	a := start(t, url)
	var schema string
	if err := a.st.Gorm().Raw("SELECT current_schema()").Scan(&schema).Error; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := a.st.Dedicated(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `LISTEN "`+pgbus.Channel(schema)+`"`); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		publishInTx(t, a, false, fmt.Sprintf("change %d", i))
	}
	a.bus.Publish(context.Background(), "t", []byte("queued"))
	last := map[string]uint64{} // the earlier release's memory, and its rule
	var taken []string
	for len(taken) < 4 {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			t.Fatalf("after %q: %v", taken, err)
		}
		parts := strings.SplitN(n.Payload, " ", 4)
		seq, err := strconv.ParseUint(parts[1], 10, 64)
		if len(parts) != 4 || err != nil {
			t.Fatalf("payload %q is not origin, number, topic and data", n.Payload)
		}
		if l, seen := last[parts[0]]; seen && seq <= l {
			t.Fatalf("an earlier release drops %q for a repeat (last from its origin: %d)", n.Payload, l)
		}
		last[parts[0]] = seq
		taken = append(taken, parts[3])
	}
	if want := []string{"change 0", "change 1", "change 2", "queued"}; !slices.Equal(taken, want) {
		t.Errorf("an earlier release took %q, want %q", taken, want)
	}
	time.Sleep(200 * time.Millisecond) // what a would have heard of its own is in by now
	if got := a.received(); len(got) != 0 {
		t.Errorf("the sender heard its own messages: %q", got)
	}
}

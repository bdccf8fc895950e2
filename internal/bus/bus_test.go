package bus_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/bus"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/store/storetest"
)

type event struct {
	ID   int64
	Body string
}

// sink collects what a topic delivers.
type sink struct {
	mu  sync.Mutex
	got []event
}

func (s *sink) add(e event) { s.mu.Lock(); s.got = append(s.got, e); s.mu.Unlock() }
func (s *sink) events() []event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]event(nil), s.got...)
}

func TestATopicSendsSmallEventsWholeAndLargeOnesByReferenceReadAgain(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var net bus.Network
	rows := map[int64]string{2: strings.Repeat("b", 2*bus.MaxData)} // what the receiver reads again
	var reloads int
	opts := func(s *sink) bus.TopicOptions[event] {
		return bus.TopicOptions[event]{
			Deliver: s.add,
			Shrink:  func(e event) event { return event{ID: e.ID} },
			Reload: func(_ context.Context, e event) (event, error) {
				reloads++
				body, ok := rows[e.ID]
				if !ok {
					return e, errs.E(errs.NotFound, "event %d", e.ID)
				}
				return event{ID: e.ID, Body: body}, nil
			},
		}
	}
	var onA, onB sink
	a := bus.NewTopic(net.Join(ctx), "events", opts(&onA))
	bus.NewTopic(net.Join(ctx), "events", opts(&onB))
	a.Publish(ctx, event{ID: 1, Body: "small"})
	a.Publish(ctx, event{ID: 2, Body: rows[2]})
	a.Publish(ctx, event{ID: 3, Body: strings.Repeat("c", 2*bus.MaxData)}) // gone before it is read again
	a.Publish(ctx, event{ID: 4, Body: "last"})
	testutil.Eventually(t, 5*time.Second, func() bool { return len(onB.events()) == 3 }, "the receiver got %d events, want 3", len(onB.events()))
	got := onB.events()
	if got[0] != (event{1, "small"}) || got[1].ID != 2 || got[1].Body != rows[2] || got[2] != (event{4, "last"}) {
		t.Errorf("the receiver got %.60v; want event 1 whole, event 2 read again, event 4 whole, in order (3 is gone)", got)
	}
	if reloads != 2 {
		t.Errorf("%d events were read again, want 2 (the large ones)", reloads)
	}
	if len(onA.events()) != 0 {
		t.Errorf("the sender's topic delivered %d of its own events to itself, want 0", len(onA.events()))
	}
}

func TestALocalBusSendsNothing(t *testing.T) {
	ctx := context.Background()
	var s sink
	tp := bus.NewTopic(nil, "events", bus.TopicOptions[event]{Deliver: s.add})
	tp.Publish(ctx, event{ID: 1})
	if len(s.events()) != 0 {
		t.Error("a process alone received its own event from the bus")
	}
}

func TestANetworkSendsWhatATransactionPublishedOnlyOnceItCommits(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := storetest.SQLite(t)
	var net bus.Network
	var onB sink
	a := bus.NewTopic(net.Join(ctx), "events", bus.TopicOptions[event]{})
	bus.NewTopic(net.Join(ctx), "events", bus.TopicOptions[event]{Deliver: onB.add})
	rollback := errors.New("rolled back")
	err := st.InTx(ctx, func(ctx context.Context) error {
		a.Publish(ctx, event{ID: 1, Body: "rolled back"})
		return rollback
	})
	if !errors.Is(err, rollback) {
		t.Fatal(err)
	}
	err = st.InTx(ctx, func(ctx context.Context) error {
		a.Publish(ctx, event{ID: 2, Body: "committed"})
		if len(onB.events()) != 0 {
			t.Error("the other member heard of the change before it committed")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 5*time.Second, func() bool { return len(onB.events()) > 0 }, "the committed event never arrived")
	if got := onB.events(); len(got) != 1 || got[0].ID != 2 {
		t.Errorf("the other member got %v, want only the committed event", got)
	}
}

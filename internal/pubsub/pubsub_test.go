package pubsub

import (
	"context"
	"testing"

	"github.com/portside-dev/portside/errs"
)

func TestSubscribersGetWhatTheirFilterAcceptsAndASlowOneIsCutOff(t *testing.T) {
	h := NewHub[int](2)
	even := h.Subscribe(context.Background(), func(v int) bool { return v%2 == 0 })
	all := h.Subscribe(context.Background(), func(int) bool { return true })
	h.Publish(1)
	h.Publish(2)
	if got := <-even.C(); got != 2 {
		t.Errorf("the even subscriber got %d first, want 2", got)
	}
	h.Publish(3) // all now holds 1, 2 and cannot take 3: it is cut off, even is not
	if _, open := <-drain(all); open {
		t.Error("a subscriber two values behind was not cut off")
	}
	if !errs.Is(all.Err(), errs.Unavailable) {
		t.Errorf("the cut-off subscriber's error = %v, want UNAVAILABLE", all.Err())
	}
	if h.Len() != 1 || even.Err() != nil {
		t.Errorf("after the cut-off: %d subscriptions, even's error %v; want 1, nil", h.Len(), even.Err())
	}
}

func TestSubscriptionsEndWithTheirContextOrCloseAll(t *testing.T) {
	h := NewHub[string](1)
	ctx, cancel := context.WithCancel(context.Background())
	byCtx := h.Subscribe(ctx, func(string) bool { return true })
	other := h.Subscribe(context.Background(), func(string) bool { return true })
	cancel()
	if _, open := <-byCtx.C(); open || byCtx.Err() != nil {
		t.Errorf("a subscription whose context ended is still open (err %v)", byCtx.Err())
	}
	h.CloseAll()
	if _, open := <-other.C(); open || other.Err() != nil || h.Len() != 0 {
		t.Errorf("CloseAll left a subscription open (err %v, %d left)", other.Err(), h.Len())
	}
	other.Close() // closing again is harmless
}

// drain reads what the subscription holds and returns its channel at the end.
func drain(s *Subscription[int]) <-chan int {
	for range s.C() {
	}
	return s.C()
}

func TestAnOwnSubscriptionGetsOnlyWhatThisProcessPublished(t *testing.T) {
	h := NewHub[string](4)
	own := h.Subscribe(Own(context.Background()), func(string) bool { return true })
	all := h.Subscribe(context.Background(), func(string) bool { return true })
	h.Publish("mine")
	h.Deliver("another replica's")
	h.CloseAll()
	var gotOwn, gotAll []string
	for v := range own.C() {
		gotOwn = append(gotOwn, v)
	}
	for v := range all.C() {
		gotAll = append(gotAll, v)
	}
	if len(gotOwn) != 1 || gotOwn[0] != "mine" {
		t.Errorf("the own subscription got %q, want only [mine]", gotOwn)
	}
	if len(gotAll) != 2 {
		t.Errorf("the subscription of everything got %q, want both", gotAll)
	}
}

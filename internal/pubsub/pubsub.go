// Package pubsub hands values a service records (a pipeline run that changed, a task that
// changed) to the subscriptions that want them. It is the one in-process hub the domains'
// subscriptions share: bounded per subscriber, and a subscriber that cannot keep up is cut off
// with an error rather than holding up the writer or the others.
package pubsub

import (
	"context"
	"sync"

	"github.com/portside-dev/portside/errs"
)

// Hub delivers published values to the subscriptions whose filter accepts them.
type Hub[T any] struct {
	mu     sync.Mutex
	buffer int
	subs   map[*Subscription[T]]struct{}
}

// NewHub makes a hub whose subscriptions hold at most buffer undelivered values.
func NewHub[T any](buffer int) *Hub[T] {
	return &Hub[T]{buffer: buffer, subs: map[*Subscription[T]]struct{}{}}
}

// ownKey marks a context whose subscriptions want only this process's own values (see Own).
type ownKey struct{}

// Own marks ctx for subscriptions that want only the values this process published itself, not
// those other replicas did (Deliver). The followers that act on events (a request moved by a
// rollout, a task's suggested status, a Slack message) subscribe so: every replica acts on its
// own share, so each event is acted on once across replicas, while the subscriptions of people
// hear of everything.
func Own(ctx context.Context) context.Context { return context.WithValue(ctx, ownKey{}, true) }

// IsOwn tells whether ctx was marked by Own.
func IsOwn(ctx context.Context) bool { own, _ := ctx.Value(ownKey{}).(bool); return own }

// Subscribe delivers the values filter accepts until ctx ends or the subscription is closed; with a
// ctx marked by Own, only the values this process published.
func (h *Hub[T]) Subscribe(ctx context.Context, filter func(T) bool) *Subscription[T] {
	s := &Subscription[T]{h: h, filter: filter, ch: make(chan T, h.buffer), own: IsOwn(ctx)}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	context.AfterFunc(ctx, s.Close)
	return s
}

// Publish hands v, which this process made, to every subscription that wants it, without waiting
// for any.
func (h *Hub[T]) Publish(v T) { h.publish(v, false) }

// Deliver hands v, which another replica made, to every subscription that wants it but those that
// want only this process's own (see Own).
func (h *Hub[T]) Deliver(v T) { h.publish(v, true) }

func (h *Hub[T]) publish(v T, remote bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if (remote && s.own) || !s.filter(v) {
			continue
		}
		select {
		case s.ch <- v:
		default:
			// A subscriber that cannot keep up must not hold up the writer or other subscribers.
			delete(h.subs, s)
			s.close(errs.E(errs.Unavailable, "the subscriber fell %d changes behind and was cut off; subscribe again", h.buffer))
		}
	}
}

// Len counts the open subscriptions (tests wait for a subscription to be registered).
func (h *Hub[T]) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// CloseAll ends every subscription, as their owners closing them would (Err nil).
func (h *Hub[T]) CloseAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		delete(h.subs, s)
		s.close(nil)
	}
}

// Subscription receives values until it is closed.
type Subscription[T any] struct {
	h      *Hub[T]
	filter func(T) bool
	own    bool
	ch     chan T
	once   sync.Once
	err    error
}

// C delivers the values; it is closed when the subscription ends.
func (s *Subscription[T]) C() <-chan T { return s.ch }

// Err says why the subscription ended: nil when its owner or the service closed it, UNAVAILABLE
// when it fell behind.
func (s *Subscription[T]) Err() error { return s.err }

func (s *Subscription[T]) close(err error) { s.once.Do(func() { s.err = err; close(s.ch) }) }

// Close ends the subscription.
func (s *Subscription[T]) Close() {
	s.h.mu.Lock()
	delete(s.h.subs, s)
	s.h.mu.Unlock()
	s.close(nil)
}

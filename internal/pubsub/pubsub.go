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

// Subscribe delivers the values filter accepts until ctx ends or the subscription is closed.
func (h *Hub[T]) Subscribe(ctx context.Context, filter func(T) bool) *Subscription[T] {
	s := &Subscription[T]{h: h, filter: filter, ch: make(chan T, h.buffer)}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	context.AfterFunc(ctx, s.Close)
	return s
}

// Publish hands v to every subscription that wants it, without waiting for any.
func (h *Hub[T]) Publish(v T) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if !s.filter(v) {
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

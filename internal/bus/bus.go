// Package bus carries the events one replica publishes to the other replicas that share its
// database, so that a subscriber on any replica hears of a change made on any other, and a cache
// kept on one is retired when another changes what it holds. The domains see only the Bus
// interface (and Topic, which encodes their events): on SQLite, Portside is one process and the
// bus is Local (nothing crosses); on PostgreSQL it is pgbus (LISTEN/NOTIFY).
//
// A replica delivers its own events to its own subscribers itself, once the change commits
// (store.AfterCommit); the bus hands it only the others' events, so nothing is delivered twice.
//
// An event published with the context of the transaction that writes its change travels with
// that transaction: the other replicas hear of it when, and only if, it commits, even when the
// publishing process dies at once. Outside a transaction it is sent after the fact.
package bus

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"
)

// Bus carries small messages to the other replicas.
type Bus interface {
	// Publish sends data on topic to every other replica. When ctx carries a transaction, the
	// message goes with it: sent when, and only if, it commits. Otherwise it is sent after what
	// the caller committed, queued (bounded) and sent in order. It never waits for the database.
	Publish(ctx context.Context, topic string, data []byte)
	// Handle registers fn for the topic's messages from the other replicas, in the order each
	// replica sent them, one at a time. Register before the bus runs.
	Handle(topic string, fn func(data []byte))
	// HandleGap registers fn, called when messages may have been lost (the bus reconnected after
	// its connection broke): caches kept from the others' messages must then be retired.
	HandleGap(fn func())
}

// MaxData bounds a message's data: PostgreSQL's NOTIFY payload must be under 8000 bytes, and the
// envelope (origin, sequence, topic) takes the rest.
const MaxData = 7800

// Local is the bus of a single process: there is no other replica to tell.
type Local struct{}

// Publish drops the message: no other replica exists.
func (Local) Publish(context.Context, string, []byte) {}

// Handle never calls fn.
func (Local) Handle(string, func([]byte)) {}

// HandleGap never calls fn.
func (Local) HandleGap(func()) {}

// Or returns b, or Local when b is nil (a service built without a bus).
func Or(b Bus) Bus {
	if b == nil {
		return Local{}
	}
	return b
}

// reloadTimeout bounds the read that completes an event sent by reference.
const reloadTimeout = 10 * time.Second

// Topic sends one kind of event between replicas as JSON. An event too large for a message is
// sent shrunk to what identifies it (its IDs), and the receiving replica reads the rest again
// from the database before delivering it.
type Topic[T any] struct {
	bus    Bus
	name   string
	shrink func(T) T
	log    *slog.Logger
}

// TopicOptions say how a Topic's events are delivered, shrunk and completed.
type TopicOptions[T any] struct {
	// Deliver hands another replica's event to this replica's subscribers.
	Deliver func(T)
	// Shrink keeps what identifies an event too large to send whole; Reload reads it again. When
	// Reload fails (the row is gone), the event is not delivered and the failure is logged.
	Shrink func(T) T
	Reload func(ctx context.Context, v T) (T, error)
	Logger *slog.Logger
}

// NewTopic registers a topic's handler on b (nil: Local).
func NewTopic[T any](b Bus, name string, opts TopicOptions[T]) *Topic[T] {
	t := &Topic[T]{bus: Or(b), name: name, shrink: opts.Shrink, log: opts.Logger}
	if t.log == nil {
		t.log = slog.Default()
	}
	t.bus.Handle(name, func(data []byte) {
		if len(data) == 0 {
			return
		}
		var v T
		if err := json.Unmarshal(data[1:], &v); err != nil {
			t.log.Error("bus: an event from another replica cannot be decoded; dropped", "topic", name, "error", err)
			return
		}
		if data[0] == byRef {
			if opts.Reload == nil {
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), reloadTimeout)
			var err error
			v, err = opts.Reload(ctx, v)
			cancel()
			if err != nil {
				t.log.Warn("bus: an event from another replica cannot be read again; dropped", "topic", name, "error", err)
				return
			}
		}
		if opts.Deliver != nil {
			opts.Deliver(v)
		}
	})
	return t
}

// The first byte of a topic's data says whether the event is whole or by reference.
const (
	whole = 'w'
	byRef = 'r'
)

// Publish sends v to the other replicas: with ctx's transaction when it carries one (see
// Bus.Publish), so call it inside the transaction that writes v's change.
func (t *Topic[T]) Publish(ctx context.Context, v T) {
	if _, local := t.bus.(Local); local {
		return // spare the encoding
	}
	data, err := encode(whole, v)
	if err == nil && len(data) > MaxData && t.shrink != nil {
		data, err = encode(byRef, t.shrink(v))
	}
	if err != nil || len(data) > MaxData {
		t.log.Error("bus: an event cannot be sent to the other replicas", "topic", t.name, "bytes", len(data), "error", err)
		return
	}
	t.bus.Publish(ctx, t.name, data)
}

func encode(kind byte, v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append([]byte{kind}, b...), nil
}

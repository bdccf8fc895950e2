package bus

import (
	"context"
	"sync"

	"github.com/portside-dev/portside/store"
)

// Network links buses in one process the way PostgreSQL links replicas: what one member
// publishes reaches every other member's handlers, in order, on a goroutine of the receiver's
// own (publishing never waits for a receiver), once the publisher's transaction, if any,
// commits. It is for tests of several replicas in one process.
type Network struct {
	mu      sync.Mutex
	members []*member
}

// Join adds a member whose deliveries run until ctx ends.
func (n *Network) Join(ctx context.Context) Bus {
	m := &member{net: n, handlers: map[string][]func([]byte){}, wake: make(chan struct{}, 1)}
	n.mu.Lock()
	n.members = append(n.members, m)
	n.mu.Unlock()
	go m.run(ctx)
	return m
}

type member struct {
	net      *Network
	mu       sync.Mutex
	handlers map[string][]func([]byte)
	queue    []message
	wake     chan struct{}
}

type message struct {
	topic string
	data  []byte
}

func (m *member) Publish(ctx context.Context, topic string, data []byte) {
	data = append([]byte(nil), data...)
	store.AfterCommit(ctx, func() { m.send(topic, data) })
}

func (m *member) send(topic string, data []byte) {
	m.net.mu.Lock()
	others := append([]*member(nil), m.net.members...)
	m.net.mu.Unlock()
	for _, o := range others {
		if o == m {
			continue
		}
		o.mu.Lock()
		o.queue = append(o.queue, message{topic, data})
		o.mu.Unlock()
		select {
		case o.wake <- struct{}{}:
		default:
		}
	}
}

func (m *member) Handle(topic string, fn func([]byte)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.handlers[topic] = append(m.handlers[topic], fn)
}

func (m *member) HandleGap(func()) {}

func (m *member) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.wake:
		}
		for {
			m.mu.Lock()
			if len(m.queue) == 0 {
				m.mu.Unlock()
				break
			}
			msg := m.queue[0]
			m.queue = m.queue[1:]
			hs := m.handlers[msg.topic]
			m.mu.Unlock()
			for _, h := range hs {
				h(msg.data)
			}
		}
	}
}

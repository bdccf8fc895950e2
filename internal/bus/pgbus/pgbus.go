// Package pgbus is the bus between replicas that share a PostgreSQL database: messages are sent
// with NOTIFY and received on a connection of their own that LISTENs (a pooled connection would be
// handed to other work between notifications). PostgreSQL delivers a notification to every
// session listening on its channel once the sending transaction commits, in the order they
// committed; a listener that was away (its connection broke) misses what was sent meanwhile,
// which the bus reports as a gap (bus.Bus.HandleGap).
//
// A message published inside a transaction (store.InTx) is sent in that transaction
// (store.NotifyOnCommit): it arrives if and only if the change commits, whatever happens to the
// publishing process afterwards. Any other message is queued and sent through the pool, batched.
package pgbus

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/jackc/pgx/v5"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/store"
)

// Connector opens a connection of its own, outside any pool; store.Store.Dedicated is one.
type Connector func(ctx context.Context) (*pgx.Conn, error)

// Options tune a Bus. The zero value is the default.
type Options struct {
	// Queue bounds the messages waiting to be sent (while the database is slow or away); a message
	// published while it is full is dropped, and the receivers see a gap. Default 4096.
	Queue int
	// MinBackoff and MaxBackoff bound the wait before listening again after the connection broke
	// (exponential, randomized). Defaults 100 ms and 10 s.
	MinBackoff, MaxBackoff time.Duration
	// Ping is how long the listening connection may stay silent before it is checked. Default 15 s.
	Ping   time.Duration
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Queue <= 0 {
		o.Queue = 4096
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 100 * time.Millisecond
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(10*time.Second, o.MinBackoff)
	}
	if o.Ping <= 0 {
		o.Ping = 15 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Channel is the notification channel of the Portside on a schema. Notifications are per
// database, not per schema: Portsides on separate schemas of one database (tests, several
// installations) each need their own channel.
func Channel(schema string) string {
	h := fnv.New64a()
	_, _ = h.Write([]byte(schema))
	return fmt.Sprintf("portside_events_%016x", h.Sum64())
}

// Bus is the PostgreSQL bus of one replica.
type Bus struct {
	channel string
	origin  string
	connect Connector
	db      *sql.DB
	opts    Options

	mu       sync.Mutex
	handlers map[string][]func([]byte)
	gaps     []func()
	running  bool

	queue     chan string
	seq       atomic.Uint64
	txSeq     atomic.Uint64
	dropped   atomic.Int64
	listening atomic.Bool
	listens   atomic.Int64

	// last is the sequence number last received from each other replica (the listener's alone).
	last map[string]uint64
}

// New returns the bus of a replica on channel (see Channel): it listens on connections connect
// opens and sends through db, the pool. Register handlers, then Run it.
func New(channel string, connect Connector, db *sql.DB, opts Options) *Bus {
	o := make([]byte, 8)
	_, _ = rand.Read(o)
	opts = opts.withDefaults()
	return &Bus{channel: channel, origin: hex.EncodeToString(o), connect: connect, db: db, opts: opts,
		handlers: map[string][]func([]byte){}, queue: make(chan string, opts.Queue), last: map[string]uint64{}}
}

// Publish sends data to the other replicas with ctx's transaction when it carries one; otherwise
// it queues data, and never waits. A message the queue cannot take is dropped (and counted): the
// database has been away for a while, and receivers will see a gap.
func (b *Bus) Publish(ctx context.Context, topic string, data []byte) {
	msg := topic + " " + string(data)
	if store.NotifyOnCommit(ctx, b.channel, b.txOrigin()+" "+sentWithTx+" "+msg) {
		return
	}
	// Numbered by the sender, in the queue's order: publishers on several goroutines would
	// otherwise queue their numbers out of order, and receivers take a lower one for a repeat.
	select {
	case b.queue <- msg:
	default:
		if b.dropped.Add(1) == 1 {
			b.opts.Logger.Warn("bus: the queue of messages to the other replicas is full; dropping", "queue", cap(b.queue))
		}
	}
}

// Handle registers fn for topic's messages from the other replicas. It must be called before Run.
func (b *Bus) Handle(topic string, fn func(data []byte)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.running {
		panic("pgbus: Handle after Run")
	}
	b.handlers[topic] = append(b.handlers[topic], fn)
}

// HandleGap registers fn, called whenever messages may have been lost: after every (re)connection
// of the listener, and when another replica's sequence skips (it dropped messages).
func (b *Bus) HandleGap(fn func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.running {
		panic("pgbus: HandleGap after Run")
	}
	b.gaps = append(b.gaps, fn)
}

// Listening tells whether the listener is connected (tests wait on it, /readyz could).
func (b *Bus) Listening() bool { return b.listening.Load() }

// Listens counts the times the listener started listening (tests wait on reconnections).
func (b *Bus) Listens() int64 { return b.listens.Load() }

// Dropped counts the messages dropped because the queue was full.
func (b *Bus) Dropped() int64 { return b.dropped.Load() }

// Run listens and sends until ctx ends; it returns once both have stopped (what was queued is
// sent first, within flushTimeout).
func (b *Bus) Run(ctx context.Context) {
	b.mu.Lock()
	b.running = true
	b.mu.Unlock()
	var wg sync.WaitGroup
	wg.Go(func() { b.send(ctx) })
	wg.Go(func() { b.listen(ctx) })
	wg.Wait()
}

// RunSending sends what is published until ctx ends, then what is still queued (within
// flushTimeout), and returns; it never listens. It is the bus of a process that only tells the
// replicas what it changed (a CLI command: `portside deploy approve`, `catalog refresh`, ...) and
// is gone before anything could be said back to it. Handlers registered on it are never called.
func (b *Bus) RunSending(ctx context.Context) { b.send(ctx) }

// maxBatch bounds the messages one NOTIFY statement sends.
const maxBatch = 100

// flushTimeout bounds sending what is queued when the bus stops.
const flushTimeout = 2 * time.Second

// sendTimeout bounds one send.
const sendTimeout = 5 * time.Second

// notifySQL sends a batch in order, in one statement (one transaction): PostgreSQL delivers a
// transaction's notifications in the order they were sent. Messages never repeat within a batch
// (each carries its sequence number), so none is folded into another.
const notifySQL = "SELECT pg_notify($1, m.p) FROM unnest($2::text[]) WITH ORDINALITY AS m(p, i) ORDER BY m.i"

// send drains the queue, a batch per statement, until ctx ends.
func (b *Bus) send(ctx context.Context) {
	bo := b.backoff()
	batch := make([]string, 0, maxBatch)
	for {
		select {
		case <-ctx.Done():
			b.flush()
			return
		case m := <-b.queue:
			batch = append(batch[:0], b.envelope(m))
		}
		batch = b.fill(batch)
		for {
			sctx, cancel := context.WithTimeout(ctx, sendTimeout)
			_, err := b.db.ExecContext(sctx, notifySQL, b.channel, batch)
			cancel()
			if err == nil {
				bo.Reset()
				break
			}
			if ctx.Err() != nil {
				b.flush(batch...)
				return
			}
			// Sent again until it goes through: a batch that was sent after all but whose answer
			// was lost arrives twice, and receivers drop the repeat by its sequence numbers.
			b.opts.Logger.Warn("bus: cannot send to the other replicas; trying again", "messages", len(batch), "error", err)
			select {
			case <-ctx.Done():
				b.flush(batch...)
				return
			case <-time.After(bo.NextBackOff()):
			}
		}
	}
}

// fill adds what is queued to batch, up to maxBatch.
func (b *Bus) fill(batch []string) []string {
	for len(batch) < maxBatch {
		select {
		case m := <-b.queue:
			batch = append(batch, b.envelope(m))
		default:
			return batch
		}
	}
	return batch
}

// envelope numbers a queued message and names its origin: "origin seq topic data".
func (b *Bus) envelope(m string) string {
	return b.origin + " " + strconv.FormatUint(b.seq.Add(1), 10) + " " + m
}

// flush sends pending and what is queued, once, within flushTimeout (the bus is stopping).
func (b *Bus) flush(pending ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
	defer cancel()
	batch := b.fill(append([]string(nil), pending...))
	for len(batch) > 0 && ctx.Err() == nil {
		if _, err := b.db.ExecContext(ctx, notifySQL, b.channel, batch); err != nil {
			return
		}
		batch = b.fill(batch[:0])
	}
}

func (b *Bus) backoff() *backoff.ExponentialBackOff {
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval, bo.MaxInterval = b.opts.MinBackoff, b.opts.MaxBackoff
	return bo
}

// listen receives until ctx ends, listening again (with backoff) whenever the connection breaks.
func (b *Bus) listen(ctx context.Context) {
	bo := b.backoff()
	lastErr := ""
	for ctx.Err() == nil {
		conn, err := b.open(ctx)
		if err == nil {
			bo.Reset()
			lastErr = ""
			b.listens.Add(1)
			b.listening.Store(true)
			b.gap() // what was sent while no connection listened is lost
			err = b.receive(ctx, conn)
			b.listening.Store(false)
			_ = conn.Close(context.Background())
		}
		if ctx.Err() != nil {
			return
		}
		if err.Error() != lastErr { // said once per kind of failure, not at every retry
			b.opts.Logger.Warn("bus: not listening to the other replicas; listening again", "error", err)
			lastErr = err.Error()
		}
		select {
		case <-ctx.Done():
		case <-time.After(bo.NextBackOff()):
		}
	}
}

// open connects and listens.
func (b *Bus) open(ctx context.Context) (*pgx.Conn, error) {
	conn, err := b.connect(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, store.SessionKeepalives+"; LISTEN "+pgx.Identifier{b.channel}.Sanitize()); err != nil {
		_ = conn.Close(context.Background())
		return nil, errs.Wrap(errs.Unavailable, err, "bus: listen on %s", b.channel)
	}
	return conn, nil
}

// receive dispatches notifications until the connection breaks or ctx ends. A connection silent
// for opts.Ping is pinged, so one that broke without a word is noticed.
func (b *Bus) receive(ctx context.Context, conn *pgx.Conn) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, b.opts.Ping)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			if wctx.Err() == nil || conn.IsClosed() {
				return errs.Wrap(errs.Unavailable, err, "bus: wait for notifications")
			}
			pctx, cancel := context.WithTimeout(ctx, sendTimeout)
			err = conn.Ping(pctx)
			cancel()
			if err != nil {
				return errs.Wrap(errs.Unavailable, err, "bus: the listening connection does not answer")
			}
			continue
		}
		b.dispatch(n.Payload)
	}
}

// sentWithTx is the sequence number of a message sent with its transaction. It needs none:
// PostgreSQL sends it once, at the commit, in commit order, and never drops it. Nor could it have
// a meaningful one: transactions commit in an order their publishers cannot know, and a receiver
// would take a number that arrives late for a repeat. Receivers neither check nor record it.
const sentWithTx = "0"

// txOrigin names this replica as the origin of a message sent with its transaction: the origin,
// a dot and a number of its own. A replica of an earlier release keeps a sequence number per
// origin and takes a message numbered no higher than the last it heard from that origin for a
// repeat: under one origin, every message after the first sent with a transaction (all numbered
// 0) would be dropped by it during a rolling upgrade. Under an origin it has never heard, each is
// new to it; this release reads the part before the dot.
func (b *Bus) txOrigin() string {
	return b.origin + "." + strconv.FormatUint(b.txSeq.Add(1), 10)
}

// maxOrigins bounds the replicas whose sequence numbers are remembered (replicas come and go
// with restarts); past it the memory starts afresh.
const maxOrigins = 1024

// dispatch hands a message to its topic's handlers, unless this replica sent it (it delivered it
// itself) or it repeats one already handled.
func (b *Bus) dispatch(payload string) {
	origin, rest, ok1 := strings.Cut(payload, " ")
	seqText, rest, ok2 := strings.Cut(rest, " ")
	topic, data, ok3 := strings.Cut(rest, " ")
	seq, err := strconv.ParseUint(seqText, 10, 64)
	if !ok1 || !ok2 || !ok3 || err != nil {
		b.opts.Logger.Warn("bus: a notification that is not a Portside message; ignored", "channel", b.channel)
		return
	}
	if sender, _, _ := strings.Cut(origin, "."); sender == b.origin {
		return
	}
	if seq != 0 && !b.next(origin, seq) {
		return
	}
	b.mu.Lock()
	hs := b.handlers[topic]
	b.mu.Unlock()
	for _, h := range hs {
		h([]byte(data))
	}
}

// next records seq, the number of a queued message from origin, and reports whether it is new (a
// batch sent again repeats numbers); a number past the next says the sender dropped some.
func (b *Bus) next(origin string, seq uint64) bool {
	last, seen := b.last[origin]
	if seen && seq <= last {
		return false
	}
	if len(b.last) >= maxOrigins && !seen {
		clear(b.last)
	}
	b.last[origin] = seq
	if seen && seq > last+1 {
		b.gap()
	}
	return true
}

func (b *Bus) gap() {
	b.mu.Lock()
	gs := b.gaps
	b.mu.Unlock()
	for _, g := range gs {
		g()
	}
}

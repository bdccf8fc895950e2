package logs

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Buffered gathers what is written to it and passes it on to the writer underneath in few, large
// writes: when BufferedMax bytes have gathered, at every flush interval, at Flush and at Close.
// A server logs a line for every request; written one by one, those lines cost a system call
// each, more than answering a cached request does. A logger writing to a Buffered (see New)
// writes records at warn level and above out at once, with everything logged before them, so
// what is lost if the process is killed outright is at most one interval of info and debug lines.
type Buffered struct {
	mu  sync.Mutex
	w   io.Writer
	buf []byte
	err error // the last write's error, returned by the next Write or Flush
	// closed: Close has run; writes go straight through.
	closed bool
	stop   chan struct{}
	done   chan struct{}
}

// BufferedMax is the most a Buffered holds before it writes.
const BufferedMax = 64 << 10

// NewBuffered starts a Buffered over w that writes out at least every interval. Close stops it.
func NewBuffered(w io.Writer, interval time.Duration) *Buffered {
	b := &Buffered{w: w, buf: make([]byte, 0, BufferedMax), stop: make(chan struct{}), done: make(chan struct{})}
	go b.flushEvery(interval)
	return b
}

func (b *Buffered) flushEvery(interval time.Duration) {
	defer close(b.done)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			_ = b.Flush()
		}
	}
}

// Write keeps p (slog hands each record over whole, in one Write) and writes out what was kept
// when p would not fit.
func (b *Buffered) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		b.write(p)
		return len(p), b.takeErr()
	}
	if len(b.buf)+len(p) > BufferedMax {
		b.flushLocked()
		if len(p) > BufferedMax {
			b.write(p)
			return len(p), b.takeErr()
		}
	}
	b.buf = append(b.buf, p...)
	return len(p), b.takeErr()
}

// appendLine appends what line appends (at most maxAccessLine bytes: one log line, made in place
// rather than made elsewhere and copied in) to what is kept, writing out what was kept first when
// the line might not fit.
func (b *Buffered) appendLine(line func([]byte) []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		b.write(line(nil))
		return
	}
	if len(b.buf)+maxAccessLine > BufferedMax {
		b.flushLocked()
	}
	b.buf = line(b.buf)
}

// Flush writes out everything kept.
func (b *Buffered) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
	return b.takeErr()
}

// Close stops the periodic writes and writes out what is left. Writes after Close go straight
// through.
func (b *Buffered) Close() error {
	select {
	case <-b.stop:
	default:
		close(b.stop)
	}
	<-b.done
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	b.flushLocked()
	return b.takeErr()
}

func (b *Buffered) flushLocked() {
	if len(b.buf) > 0 {
		b.write(b.buf)
		b.buf = b.buf[:0]
	}
}

func (b *Buffered) write(p []byte) {
	if _, err := b.w.Write(p); err != nil {
		b.err = err
	}
}

func (b *Buffered) takeErr() error {
	err := b.err
	b.err = nil
	return err
}

// flushAtWarn writes a Buffered out after each record at warn level or above.
type flushAtWarn struct {
	slog.Handler
	out *Buffered
}

func (h flushAtWarn) Handle(ctx context.Context, r slog.Record) error {
	err := h.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		_ = h.out.Flush()
	}
	return err
}

func (h flushAtWarn) WithAttrs(attrs []slog.Attr) slog.Handler {
	return flushAtWarn{h.Handler.WithAttrs(attrs), h.out}
}

func (h flushAtWarn) WithGroup(name string) slog.Handler {
	return flushAtWarn{h.Handler.WithGroup(name), h.out}
}

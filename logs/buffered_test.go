package logs_test

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portside-dev/portside/logs"
)

// lockedBuffer is what the Buffered writes to, read while it may be writing.
type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	return l.b.Write(p)
}

func (l *lockedBuffer) state() (string, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String(), l.writes
}

func TestBufferedGathersInfoLinesAndWritesWarningsAtOnce(t *testing.T) {
	var out lockedBuffer
	b := logs.NewBuffered(&out, time.Hour) // no periodic write during the test
	log, err := logs.New(b, "json", "info")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		log.Info("http request", "n", i)
	}
	if text, writes := out.state(); writes != 0 || text != "" {
		t.Fatalf("info lines were written one by one (%d writes) before a flush; want them kept", writes)
	}
	log.Warn("something to see now")
	text, writes := out.state()
	if writes != 1 || strings.Count(text, "\n") != 101 || !strings.HasSuffix(text, "\"msg\":\"something to see now\"}\n") {
		t.Fatalf("after a warning: %d writes, %d lines, ending %q; want one write of all 101 lines in order", writes, strings.Count(text, "\n"), text[max(0, len(text)-80):])
	}
	// A logger made from it (With, WithGroup) still writes warnings out at once.
	log.With("component", "x").WithGroup("g").Info("kept")
	log.With("component", "x").WithGroup("g").Error("failed")
	if text, _ := out.state(); !strings.Contains(text, `"msg":"kept"`) || !strings.Contains(text, `"msg":"failed"`) {
		t.Errorf("an error from a derived logger did not write out what was kept: %q", text)
	}
	log.Info("last words")
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if text, _ := out.state(); !strings.HasSuffix(text, "\"msg\":\"last words\"}\n") {
		t.Errorf("Close did not write out what was kept: %q", text)
	}
	log.Info("after close")
	if text, _ := out.state(); !strings.HasSuffix(text, "\"msg\":\"after close\"}\n") {
		t.Errorf("a line after Close was not written straight through")
	}
}

func TestBufferedWritesWhenFullAndOnItsInterval(t *testing.T) {
	var out lockedBuffer
	b := logs.NewBuffered(&out, time.Hour)
	line := []byte(strings.Repeat("x", 1023) + "\n")
	for range logs.BufferedMax / len(line) {
		if _, err := b.Write(line); err != nil {
			t.Fatal(err)
		}
	}
	if _, writes := out.state(); writes != 0 {
		t.Fatalf("%d writes before the buffer was full", writes)
	}
	_, _ = b.Write(line) // does not fit: what was kept goes out first
	if text, writes := out.state(); writes != 1 || len(text) != logs.BufferedMax {
		t.Fatalf("a full buffer wrote %d times, %d bytes; want one write of %d", writes, len(text), logs.BufferedMax)
	}
	big := bytes.Repeat([]byte("y"), logs.BufferedMax+1)
	_, _ = b.Write(big) // larger than the buffer: written out whole, after what was kept
	if text, _ := out.state(); !strings.HasSuffix(text, string(line)+string(big)) {
		t.Errorf("a line larger than the buffer was not written after what was kept")
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}

	// The periodic write: a short interval writes a kept line without any flush asked for.
	var ticked lockedBuffer
	p := logs.NewBuffered(&ticked, time.Millisecond)
	defer p.Close()
	_, _ = p.Write([]byte("tick\n"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		if text, _ := ticked.state(); text == "tick\n" {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("the kept line was never written by the periodic write")
		case <-time.After(time.Millisecond):
		}
	}
}

// Package testutil holds the few helpers tests across Portside share.
package testutil

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portside-dev/portside/errs"
)

// pollEvery is how often Eventually and Await look at their condition again.
const pollEvery = 5 * time.Millisecond

// Eventually waits until cond holds, looking again every few milliseconds, and fails the test
// when it still does not hold after timeout. It is how a test waits for a state another goroutine
// or process brings about, instead of sleeping. msgAndArgs say what was awaited: a format string
// and its arguments, a func() string called at the failure (to show the state the test gave up
// on), or any values.
func Eventually(t testing.TB, timeout time.Duration, cond func() bool, msgAndArgs ...any) {
	t.Helper()
	if !Await(timeout, cond) {
		t.Fatalf("not within %s: %s", timeout, message(msgAndArgs))
	}
}

// Await waits until cond holds, looking again every few milliseconds, and reports whether it
// held before timeout passed. It is Eventually for a test that reports a state never reached in
// its own words (with t.Errorf, say, so that the checks after it still run).
func Await(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		<-tick.C
	}
	return true
}

// ChildTempDir makes a directory to give a child process as its TMPDIR, and removes it when the
// test ends. A child the test kills outright (SIGKILL) cannot remove the temporary directories it
// made (serve's GitOps working clones, its portside-argocd socket directory, local pipeline
// logs): in this directory they go with it, instead of piling up in the host's temp directory.
// Not t.TempDir: a child may make Unix sockets under it (serve's companion does, two directories
// down), whose paths must stay under about 100 bytes, and test names are long. Call it before
// starting the child, so that the removal comes after the cleanups that stop the child.
func ChildTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "portside-test-tmp-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// A child killed outright may leave a process of its own (a git it ran) that writes here
		// for a moment more.
		if !Await(10*time.Second, func() bool { return os.RemoveAll(dir) == nil }) {
			t.Errorf("remove the child's temp dir: %v", os.RemoveAll(dir))
		}
	})
	return dir
}

func message(msgAndArgs []any) string {
	if len(msgAndArgs) == 0 {
		return "the condition never held"
	}
	if describe, ok := msgAndArgs[0].(func() string); ok && len(msgAndArgs) == 1 {
		return describe()
	}
	if format, ok := msgAndArgs[0].(string); ok {
		return fmt.Sprintf(format, msgAndArgs[1:]...)
	}
	return fmt.Sprint(msgAndArgs...)
}

// Buffer is a bytes.Buffer that one goroutine (or a subprocess's output copier) may write while
// another reads it: what a test hands a logger or a child process as its output. The zero
// Buffer is empty and ready to use.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String is everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Clock is a clock a test sets: code under test reads Now (from any goroutine) and the test moves
// it on with Add, so expiry and refresh happen when the test says, not when the wall clock does.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock is a clock that reads start until it is moved.
func NewClock(start time.Time) *Clock { return &Clock{t: start} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock on by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// RandomText is n bytes of random lower-case letters and digits: text PostgreSQL cannot compress,
// so an index entry or a tsvector holds all of it (repeated text compresses under their bounds),
// for tests of what is too long to store.
func RandomText(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[rand.IntN(36)]
	}
	return string(b)
}

// AtOnce runs each of fns in a goroutine of its own, released together, and waits for them all:
// how a test makes writers race.
func AtOnce(fns ...func()) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, fn := range fns {
		wg.Go(func() {
			<-start
			fn()
		})
	}
	close(start)
	wg.Wait()
}

// CharacterBound checks that call bounds its input at max characters counted as characters: max
// characters of two bytes each ("é") are not refused for their length (call may refuse them for
// another reason), and one more is refused INVALID with "field: has max+1 characters; at most max".
func CharacterBound(t testing.TB, field string, max int, call func(v string) error) {
	t.Helper()
	atMost := fmt.Sprintf("at most %d", max)
	if err := call(strings.Repeat("é", max)); err != nil && strings.Contains(err.Error(), atMost) {
		t.Errorf("%s: %d characters of 2 bytes: %v; want them within the bound", field, max, err)
	}
	want := fmt.Sprintf("%s: has %d characters; %s", field, max+1, atMost)
	if err := call(strings.Repeat("é", max+1)); errs.CodeOf(err) != errs.Invalid || errs.PublicMessage(err) != want {
		t.Errorf("%s: %d characters of 2 bytes: %v; want INVALID %q", field, max+1, err, want)
	}
}

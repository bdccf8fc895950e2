package testutil_test

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portside-dev/portside/internal/testutil"
)

// fakeT records a failure instead of ending the test; Fatalf stops the helper as testing does.
type fakeT struct {
	testing.TB
	failed string
}

func (f *fakeT) Helper() {}
func (f *fakeT) Fatalf(format string, args ...any) {
	f.failed = fmt.Sprintf(format, args...)
	panic(f) // testing.T's Fatalf ends the goroutine; run recovers this
}

func run(f *fakeT, fn func()) {
	defer func() {
		if r := recover(); r != nil && r != f {
			panic(r)
		}
	}()
	fn()
}

func TestEventuallyReturnsOnceTheConditionHolds(t *testing.T) {
	var n atomic.Int32
	f := &fakeT{TB: t}
	run(f, func() {
		testutil.Eventually(f, 10*time.Second, func() bool { return n.Add(1) >= 3 }, "three looks")
	})
	if f.failed != "" || n.Load() != 3 {
		t.Errorf("Eventually failed %q after %d looks; want success on the third", f.failed, n.Load())
	}
}

func TestEventuallyFailsWithItsMessageWhenTheConditionNeverHolds(t *testing.T) {
	f := &fakeT{TB: t}
	run(f, func() {
		testutil.Eventually(f, 20*time.Millisecond, func() bool { return false }, "payments at %s", "r3")
	})
	if !strings.Contains(f.failed, "payments at r3") {
		t.Errorf("failure message = %q, want it to say what was awaited", f.failed)
	}
}

// A func() string message describes the state when the wait gives up, not when it began.
func TestEventuallyDescribesTheStateItGaveUpOn(t *testing.T) {
	var n atomic.Int32
	f := &fakeT{TB: t}
	run(f, func() {
		testutil.Eventually(f, 20*time.Millisecond, func() bool { n.Add(1); return false },
			func() string { return fmt.Sprintf("%d looks", n.Load()) })
	})
	if want := fmt.Sprintf("%d looks", n.Load()); n.Load() < 2 || !strings.HasSuffix(f.failed, want) {
		t.Errorf("failure message = %q, want it to end in %q (the state at the end)", f.failed, want)
	}
}

func TestAwaitReportsWhetherTheConditionHeldInTime(t *testing.T) {
	var n atomic.Int32
	if !testutil.Await(10*time.Second, func() bool { return n.Add(1) >= 3 }) || n.Load() != 3 {
		t.Errorf("Await after %d looks: want true on the third", n.Load())
	}
	if testutil.Await(20*time.Millisecond, func() bool { return false }) {
		t.Error("Await of a condition that never holds = true; want false")
	}
}

// A logger in one goroutine writes while the test reads: every line arrives whole.
func TestBufferKeepsWhatSeveralGoroutinesWrite(t *testing.T) {
	var b testutil.Buffer
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 100 {
				fmt.Fprintf(&b, "writer %d line %d\n", w, i)
				_ = b.String()
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 400 {
		t.Fatalf("%d lines; want 400", len(lines))
	}
	for w := range 4 {
		for i := range 100 {
			if !slices.Contains(lines, fmt.Sprintf("writer %d line %d", w, i)) {
				t.Fatalf("writer %d's line %d is missing or torn", w, i)
			}
		}
	}
}

func TestAClockReadsItsTimeUntilMovedOn(t *testing.T) {
	start := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	c := testutil.NewClock(start)
	if !c.Now().Equal(start) {
		t.Errorf("Now = %v, want the start %v", c.Now(), start)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { c.Add(time.Minute); _ = c.Now() })
	}
	wg.Wait()
	if want := start.Add(4 * time.Minute); !c.Now().Equal(want) {
		t.Errorf("after four moves of a minute Now = %v, want %v", c.Now(), want)
	}
}

// A child's TMPDIR takes a Unix socket where serve's portside-argocd companion makes one, and goes,
// with whatever the child left in it, when the test ends.
func TestAChildTempDirTakesTheCompanionsSocketAndGoesWhenTheTestEnds(t *testing.T) {
	var dir string
	t.Run("a test with a long name, as they are, that starts a child", func(t *testing.T) {
		dir = testutil.ChildTempDir(t)
		// connector.Start's directory and go-plugin's socket in it, at the longest names
		// os.MkdirTemp and os.CreateTemp give.
		socket := filepath.Join(dir, "portside-argocd-4294967295", "plugin4294967295")
		if err := os.MkdirAll(filepath.Dir(socket), 0o700); err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("unix", socket)
		if err != nil {
			t.Fatalf("listen on %s (%d bytes): %v", socket, len(socket), err)
		}
		defer ln.Close()
		left := filepath.Join(dir, "portside-gitops-1", "clone", "HEAD")
		if err := os.MkdirAll(filepath.Dir(left), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(left, []byte("ref: refs/heads/main\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	})
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s is still there after the test ended (stat: %v)", dir, err)
	}
}

package testutil_test

import (
	"fmt"
	"strings"
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

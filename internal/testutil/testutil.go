// Package testutil holds the few helpers tests across Portside share.
package testutil

import (
	"fmt"
	"testing"
	"time"
)

// pollEvery is how often Eventually looks at its condition again.
const pollEvery = 5 * time.Millisecond

// Eventually waits until cond holds, looking again every few milliseconds, and fails the test
// when it still does not hold after timeout. It is how a test waits for a state another goroutine
// or process brings about, instead of sleeping. msgAndArgs say what was awaited: a format string
// and its arguments, or any values.
func Eventually(t testing.TB, timeout time.Duration, cond func() bool, msgAndArgs ...any) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", timeout, message(msgAndArgs))
		}
		<-tick.C
	}
}

func message(msgAndArgs []any) string {
	if len(msgAndArgs) == 0 {
		return "the condition never held"
	}
	if format, ok := msgAndArgs[0].(string); ok {
		return fmt.Sprintf(format, msgAndArgs[1:]...)
	}
	return fmt.Sprint(msgAndArgs...)
}

package server

import (
	"fmt"
	"testing"
	"time"

	"github.com/portside-dev/portside/internal/testutil"
)

// A flood from ever new addresses cannot grow the limiter without end: past deniedMaxAddrs the
// untracked addresses share one allowance, and the addresses whose minute is over are forgotten.
func TestTheDeniedLimiterTracksABoundedNumberOfAddresses(t *testing.T) {
	clock := testutil.NewClock(time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC))
	l := newDeniedLimiter(2, clock.Now)
	recorded := 0
	for i := range deniedMaxAddrs + 100 {
		if ok, _ := l.admit(fmt.Sprintf("10.0.%d.%d", i/256, i%256)); ok {
			recorded++
		}
	}
	if len(l.byAddr) != deniedMaxAddrs+1 || recorded != deniedMaxAddrs+2 {
		t.Fatalf("%d addresses tracked, %d deliveries recorded; want %d and %d", len(l.byAddr), recorded, deniedMaxAddrs+1, deniedMaxAddrs+2)
	}
	clock.Add(time.Minute)
	if ok, _ := l.admit("192.0.2.1"); !ok || len(l.byAddr) > 2 {
		t.Errorf("after a minute: recorded %v with %d addresses tracked; the finished ones should be forgotten", ok, len(l.byAddr))
	}
	// The shared allowance reports what it left out.
	if ok, n := l.admit(deniedOverflow); !ok || n != 98 {
		t.Errorf("the other addresses' next record: %v, %d left out; want 98", ok, n)
	}
}

package rollouts

import (
	"testing"
	"time"
)

func TestReconnectionWaitsGrowFromMinBackoffAndNeverPassMaxBackoff(t *testing.T) {
	tr := newTracker(nil, nil, TrackerOptions{MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second})
	policy := tr.retryPolicy()
	for i, around := range []time.Duration{100, 200, 400, 800, 1000, 1000, 1000} {
		around *= time.Millisecond
		wait := min(policy.NextBackOff(), tr.opts.MaxBackoff) // as follower.run takes it
		if wait < around/2 || wait > min(around*3/2, time.Second) {
			t.Errorf("wait %d after %d failures = %s, want within ±50%% of %s and at most MaxBackoff (1s)", i+1, i, wait, around)
		}
	}
	policy.Reset()
	if wait := policy.NextBackOff(); wait < 50*time.Millisecond || wait > 150*time.Millisecond {
		t.Errorf("wait after a stable session = %s, want about MinBackoff (100ms) again", wait)
	}
}

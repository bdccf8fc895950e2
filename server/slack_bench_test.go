package server_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portside-dev/portside/store/storetest"
)

// BenchmarkSlackCommandAck measures how fast Slack's slash commands are acknowledged when 50
// arrive at once (issue #16: p99 ≤ 20 ms): each iteration sends 50 signed commands (`/deploy
// status` and `/pipeline status`, half each) together over loopback HTTP to the real handler
// (signature checked, form parsed, the work queued for the bot's workers, which map the person
// through users.info, read the database and post to the response URL), then waits until all 50
// answers are posted. It reports the acknowledgements' p50 and p99 over every round.
// Run: go test -run '^$' -bench SlackCommandAck -benchtime 40x ./server/
func BenchmarkSlackCommandAck(b *testing.B) {
	r := newSlackRig(b, storetest.SQLite(b))
	const concurrency = 50
	var lat []time.Duration
	var mu sync.Mutex
	round := 0
	for b.Loop() {
		round++
		var wg sync.WaitGroup
		for w := range concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				command, text := "/pipeline", "status payments-api"
				if w%2 == 1 {
					command, text = "/deploy", "status payments-api"
				}
				start := time.Now()
				code, ack := r.slash(b, command, "U0BOB", text, fmt.Sprintf("B%d-%d", round, w), nil)
				d := time.Since(start)
				if code != http.StatusOK || !strings.Contains(ack.Text, "payments-api") {
					b.Errorf("ack %d %+v", code, ack)
					return
				}
				mu.Lock()
				lat = append(lat, d)
				mu.Unlock()
			}()
		}
		wg.Wait()
		for w := range concurrency { // the round's work is done before the next round comes
			r.reply(b, fmt.Sprintf("B%d-%d", round, w), 1)
		}
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	}
}

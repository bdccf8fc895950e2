package main

import (
	"bufio"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/store/storetest"
)

// leaderGauge reads portside_leader from a replica's /metrics: 1 or 0, or -1 when it does not
// answer (killed) or shows no such metric.
func (s *serveProc) leaderGauge() int {
	resp, err := http.Get("http://" + s.addr + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		switch sc.Text() {
		case "portside_leader 1":
			return 1
		case "portside_leader 0":
			return 0
		}
	}
	return -1
}

// waitLog waits until the replica logged msg (serve writes its info lines out every 200 ms).
func (s *serveProc) waitLog(t *testing.T, msg string) {
	t.Helper()
	testutil.Eventually(t, 30*time.Second, func() bool { return strings.Contains(s.stderr.String(), msg) },
		func() string { return fmt.Sprintf("the replica at %s did not log %q\n%s", s.addr, msg, s.stderr) })
}

// waitForOneLeader waits until exactly one of procs shows portside_leader 1 and every other 0,
// and returns it.
func waitForOneLeader(t *testing.T, procs []*serveProc) *serveProc {
	t.Helper()
	var leader *serveProc
	var gauges []int
	testutil.Eventually(t, 60*time.Second, func() bool {
		leader, gauges = nil, gauges[:0]
		ones := 0
		for _, p := range procs {
			g := p.leaderGauge()
			gauges = append(gauges, g)
			switch g {
			case 1:
				ones++
				leader = p
			case 0:
			default:
				return false
			}
		}
		return ones == 1
	}, func() string {
		msg := fmt.Sprintf("exactly one replica with portside_leader 1; last gauges %v", gauges)
		for i, p := range procs {
			msg += fmt.Sprintf("\n--- replica %d (%s)\n%s", i, p.addr, p.stderr)
		}
		return msg
	})
	return leader
}

// TestReplicasOnPostgresRunTheBackgroundWorkOnOneLeaderThatFailsOver starts three `portside
// serve` on one PostgreSQL schema: one leads (portside_leader 1, the others 0); SIGKILLed, its
// session ends with it and another replica takes over the background work.
func TestReplicasOnPostgresRunTheBackgroundWorkOnOneLeaderThatFailsOver(t *testing.T) {
	env := []string{"PORTSIDE_DATABASE_URL=" + storetest.PostgresURL(t)}
	wantExit(t, portside(t, env, "migrate", "up"), 0, "migrate up")
	procs := make([]*serveProc, 3)
	for i := range procs {
		procs[i] = startServe(t, env)
	}
	for _, p := range procs {
		p.waitReady(t)
	}

	first := waitForOneLeader(t, procs)
	first.waitLog(t, "leader: this process leads")
	killed := time.Now()
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-first.exited:
		first.exited <- err
	case <-time.After(30 * time.Second):
		t.Fatal("the leader did not die of SIGKILL within 30s")
	}

	var rest []*serveProc
	for _, p := range procs {
		if p != first {
			rest = append(rest, p)
		}
	}
	next := waitForOneLeader(t, rest)
	t.Logf("failover: another replica showed portside_leader 1 %s after the leader's SIGKILL", time.Since(killed).Round(time.Millisecond))
	next.waitLog(t, "leader: this process leads")
	// The survivors still serve.
	for _, p := range rest {
		p.waitReady(t)
	}
	// The new leader, stopped, hands over to the last replica.
	if code := next.stop(t); code != 0 {
		t.Errorf("the new leader exited %d after SIGTERM, want 0\n%s", code, next.stderr)
	}
	for _, p := range rest {
		if p != next {
			if waitForOneLeader(t, []*serveProc{p}) != p {
				t.Error("the last replica does not lead")
			}
		}
	}
}

// TestASecondServeOnOneSQLiteFileRefusesToStart: SQLite is the single-process mode; the one serve
// on a file leads (its background work runs), a second one on the same file stops at once, saying
// why, and a serve that was killed leaves no claim behind.
func TestASecondServeOnOneSQLiteFileRefusesToStart(t *testing.T) {
	db := storetest.SQLiteURL(t)
	env := []string{"PORTSIDE_DATABASE_URL=" + db}
	first := startServe(t, env)
	first.waitReady(t)
	waitForOneLeader(t, []*serveProc{first})

	r := portside(t, env, "serve", "--addr", "127.0.0.1:0")
	if r.code == 0 {
		t.Fatalf("a second serve on %s exited 0\n%s", db, r)
	}
	for _, want := range []string{db, "already served", "single-process", "PostgreSQL"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the refusal does not say %q\n%s", want, r)
		}
	}
	if strings.Contains(r.stderr, "listening") {
		t.Errorf("the second serve listened\n%s", r)
	}

	// Killed outright, the first leaves the file free (the kernel drops its lock).
	if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.exited
	first.exited <- nil
	second := startServe(t, env)
	second.waitReady(t)
	waitForOneLeader(t, []*serveProc{second})
}

// TestServeRunsTheSingletonLoopsUnderItsElector: the work on shared rows on a timer is the
// elector's (one replica runs it), and serve on SQLite leads.
func TestServeRunsTheSingletonLoopsUnderItsElector(t *testing.T) {
	w, _ := serveWiring(t)
	want := []string{"catalog-refresh", "pipeline-follow", "deploy-request-ticks", "runbook-link-check"}
	if got := w.elector.Loops(); !slices.Equal(got, want) {
		t.Errorf("the elector's loops = %v, want %v", got, want)
	}
	testutil.Eventually(t, 30*time.Second, w.elector.Leading, "serve on SQLite leading")
}

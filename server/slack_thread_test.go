package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/portside-dev/portside/deploys"
	"github.com/portside-dev/portside/graph/model"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// thread is what Portside replied in the thread of the message with ts (chat.postMessage with
// thread_ts), in order.
func (r *slackRig) thread(ts string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, f := range r.posts {
		if f.Get("thread_ts") == ts {
			out = append(out, f.Get("text"))
		}
	}
	return out
}

// waitThread waits until the thread of ts has n replies.
func (r *slackRig) waitThread(t *testing.T, ts string, n int) []string {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if got := r.thread(ts); len(got) >= n {
			return got
		}
	}
	t.Fatalf("the thread of %s has %d replies, want %d: %q", ts, len(r.thread(ts)), n, r.thread(ts))
	return nil
}

// updatesOf counts the chat.update calls of the message with ts whose blocks contain want.
func (r *slackRig) updatesOf(ts, want string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, u := range r.updates {
		if u.Get("ts") == ts && strings.Contains(u.Get("blocks"), want) {
			n++
		}
	}
	return n
}

// top waits for the n-th message Portside posted in channel itself (not a reply in a thread).
func (r *slackRig) top(t *testing.T, channel string, n int) (ts, blocks string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		r.mu.Lock()
		seen := 0
		for i, f := range r.posts {
			if f.Get("channel") == channel && f.Get("thread_ts") == "" {
				if seen++; seen == n {
					r.mu.Unlock()
					return fmt.Sprintf("1700000000.%06d", i+1), f.Get("blocks")
				}
			}
		}
		r.mu.Unlock()
	}
	t.Fatalf("no message %d was posted to %s", n, channel)
	return "", ""
}

// recorded waits until a bot recorded request id's message as ts (in slack_messages).
func recorded(t *testing.T, st *store.Store, id int64, ts string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var n int64
		if err := st.Gorm().Raw("SELECT COUNT(*) FROM slack_messages WHERE request_id = ? AND ts = ?", id, ts).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no bot recorded the message %s of request %d", ts, id)
		}
	}
}

// approve approves request id as alice, through GraphQL.
func (r *slackRig) approve(t *testing.T, id int64) {
	t.Helper()
	if res := r.as(r.session("alice"), fmt.Sprintf(`mutation { approveDeployRequest(input: {id: %q}) { request { state } } }`,
		model.EncodeNumericID("DeployRequest", id))); len(res.Errors) > 0 {
		t.Fatalf("approveDeployRequest: %+v", res.Errors)
	}
}

func TestTheRolloutIsToldInTheRequestsThreadOneReplyAMove(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newSlackRig(t, st)
		name, _ := r.deployComponentAnnotated(t, "    portside.dev/slack-channel: C0THREAD\n")
		q, err := r.requests.Request(operator(), deploys.RequestInput{Component: name, Environment: "production", Version: deployDigest})
		if err != nil {
			t.Fatal(err)
		}
		ts, _ := r.top(t, "C0THREAD", 1)
		recorded(t, st, q.ID, ts)
		// A second bot on the same database, as another replica would be: it sees every move the
		// first one sees, and each move is still told once.
		r.newBot()
		r.approve(t, q.ID)
		if q, err = r.requests.Get(operator(), q.ID); err != nil || q.State != deploys.RollingOut || q.CommitSHA == "" {
			t.Fatalf("after the approval: %+v %v", q, err)
		}
		ctx := context.Background()
		for _, ev := range []deploys.RolloutEvent{
			{Revision: q.CommitSHA, Result: deploys.RolloutRunning, Progress: "canary step 1 of 3, weight 20%"},
			{Revision: q.CommitSHA, Result: deploys.RolloutRunning, Progress: "canary step 1 of 3, weight 20%"}, // seen again
			{Revision: q.CommitSHA, Result: deploys.RolloutRunning, Progress: "canary step 2 of 3, weight 50%, paused for 30s"},
			{Revision: q.CommitSHA, Result: deploys.RolloutSucceeded, Message: "healthy"},
		} {
			r.requests.Observe(ctx, ev)
		}
		// Once both bots updated the message to SUCCEEDED, both have told (or declined to tell)
		// every move before it.
		for deadline := time.Now().Add(20 * time.Second); r.updatesOf(ts, "SUCCEEDED") < 2; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the two bots did not both update the message to SUCCEEDED")
			}
		}
		got := r.waitThread(t, ts, 4)
		want := []string{
			"Applied: commit " + q.CommitSHA[:12] + " pushed to ",
			"Rolling out: canary step 1 of 3, weight 20%",
			"Rolling out: canary step 2 of 3, weight 50%, paused for 30s",
			fmt.Sprintf("Request %d is *SUCCEEDED*: rolled out: healthy", q.ID),
		}
		if len(got) != len(want) {
			t.Fatalf("the thread has %d replies, want %d: %q", len(got), len(want), got)
		}
		for i := range want {
			if !strings.HasPrefix(got[i], want[i]) {
				t.Errorf("reply %d is %q, want it to start with %q", i+1, got[i], want[i])
			}
		}
		if n := r.countIn("C0THREAD"); n != 1 {
			t.Errorf("%d messages in C0THREAD besides the thread, want 1", n)
		}
	})
}

func TestANewBotOnTheSameDatabaseUpdatesTheMessageTheOldOnePosted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		r := newSlackRig(t, st)
		name, _ := r.deployComponentAnnotated(t, "    portside.dev/slack-channel: C0RESTART\n")
		q, err := r.requests.Request(operator(), deploys.RequestInput{Component: name, Environment: "production", Version: deployDigest})
		if err != nil {
			t.Fatal(err)
		}
		ts, _ := r.top(t, "C0RESTART", 1)
		// The old bot recorded where it posted the request; then it stops (a restart).
		recorded(t, st, q.ID, ts)
		r.bot.Close()
		r.newBot()
		r.approve(t, q.ID)
		u := r.updated(t, "approved by alice")
		if u.Get("channel") != "C0RESTART" || u.Get("ts") != ts {
			t.Errorf("the new bot updated %v, want the message %s the old one posted in C0RESTART", u, ts)
		}
		// It tells the rollout in that message's thread, and posts nothing new.
		if got := r.waitThread(t, ts, 1); !strings.HasPrefix(got[0], "Applied: commit ") {
			t.Errorf("the thread says %q", got)
		}
		if n := r.countIn("C0RESTART"); n != 1 {
			t.Errorf("%d messages in C0RESTART, want the one the old bot posted", n)
		}
	})
}

// countIn is how many messages Portside posted to channel itself (not counting thread replies).
func (r *slackRig) countIn(channel string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, f := range r.posts {
		if f.Get("channel") == channel && f.Get("thread_ts") == "" {
			n++
		}
	}
	return n
}

package e2e

// Issue #17: the leader SIGKILLed mid-push of a deploy request's commit; the next leader resumes
// the request within seconds, told by its apply lock. See README "Resuming after a crash".

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// holdFirstPush makes the first push to bare wait in its pre-receive hook (before any ref moves)
// until release exists, and lets later pushes through; entered exists once the first push waits.
// The hook gives up after a minute, or when the test's directory is gone, so that a push left
// behind by a killed process never outlives the test.
func holdFirstPush(t *testing.T, bare string) (entered, release string) {
	t.Helper()
	dir := t.TempDir()
	entered, release = filepath.Join(dir, "entered"), filepath.Join(dir, "release")
	hook := fmt.Sprintf(`#!/bin/sh
mkdir %[1]q 2>/dev/null || exit 0
i=0
while [ -d %[2]q ] && [ ! -e %[3]q ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done
[ -e %[3]q ]
`, entered, dir, release)
	if err := os.WriteFile(filepath.Join(bare, "hooks", "pre-receive"), []byte(hook), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.WriteFile(release, nil, 0o644) })
	return entered, release
}

func TestThreeReplicasResumeADeployRequestWhoseLeaderWasKilledMidPush(t *testing.T) {
	r := newReplicaRig(t)
	var leader *portsideServer
	poll(t, 60*time.Second, "one leader among the replicas", func() bool { leader = oneLeader(r.procs); return leader != nil })
	entered, release := holdFirstPush(t, r.bare)

	// The leader approves; its push of the request's commit waits in the manifest repository.
	id, n := r.request(t, leader, "killed mid-push")
	go func() {
		// Answered with an error when the leader dies: the request's state is what counts.
		_, _ = ask(leader.addr, r.rel, `mutation($id: ID!) { approveDeployRequest(input: {id: $id, note: "go"}) { request { state } } }`, map[string]any{"id": id})
	}()
	poll(t, 60*time.Second, "the leader's push to begin", func() bool { _, err := os.Stat(entered); return err == nil })
	if st := r.state(t, leader, id); st != "APPLYING" {
		t.Fatalf("mid-push, the request is %s", st)
	}

	// SIGKILL: the leader's session ends with it, and with it the request's apply lock. The next
	// leader's passes find the lock free and apply the request again, well before StaleApplying.
	killed := time.Now()
	rest := []*portsideServer{}
	for _, s := range r.procs {
		if s != leader {
			rest = append(rest, s)
		}
	}
	next, took := failover(t, leader, rest)
	poll(t, 60*time.Second, "the request to be resumed", func() bool { return r.state(t, next, id) == "ROLLING_OUT" })
	resumed := time.Since(killed)
	t.Logf("SIGKILL mid-push: another replica led after %s, the request was resumed after %s (StaleApplying: 3m)",
		took.Round(time.Millisecond), resumed.Round(time.Millisecond))
	if c := requestCommits(t, r.bare, n); c != 1 {
		t.Fatalf("request %d has %d commits, want 1", n, c)
	}

	// The killed leader's push, left waiting (git outlives the process that ran it), goes on now:
	// receive-pack moves a ref only from the value the pusher saw, and the branch moved, so it is
	// refused. The request records the one commit the branch has.
	if err := os.WriteFile(release, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	head := strings.TrimSpace(mustRun(t, cleanEnv(t), "git", "-C", r.bare, "log", "-1", "--format=%H", fmt.Sprintf("--grep=^Deploy-Request: %d$", n), "main").stdout)
	var out struct {
		DeployRequest struct{ State, CommitSha string }
	}
	next.graphql(t, &out, `query($id: ID!) { deployRequest(id: $id) { state commitSha } }`, map[string]any{"id": id})
	if out.DeployRequest.CommitSha != head || out.DeployRequest.State != "ROLLING_OUT" {
		t.Errorf("the request is %s with commit %q; the branch has %q", out.DeployRequest.State, out.DeployRequest.CommitSha, head)
	}
}

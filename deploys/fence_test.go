package deploys_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/deploys"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// failingApplier is an Applier whose apply waits, once begun, until the test releases it, and then
// fails: an apply that ends badly after its request was taken over.
type failingApplier struct {
	entered chan struct{}
	release chan struct{}
}

func newFailingApplier() *failingApplier {
	return &failingApplier{entered: make(chan struct{}, 1), release: make(chan struct{})}
}

func (f *failingApplier) Apply(ctx context.Context, _ deploys.Change) (deploys.Applied, error) {
	f.entered <- struct{}{}
	select {
	case <-f.release:
	case <-ctx.Done():
		return deploys.Applied{}, ctx.Err()
	}
	return deploys.Applied{}, errors.New("push rejected: the remote moved on")
}

// replicaLogging is replica with its log written to buf.
func replicaLogging(t *testing.T, f *fixture, applier deploys.Applier, buf *testutil.Buffer) *deploys.Service {
	t.Helper()
	return deploys.NewService(f.st, deploys.Options{Catalog: f.cat, Applier: applier, Rollouts: &recordedRollouts{},
		Environments: map[string]deploys.EnvironmentPolicy{"production": {RequireApproval: true, Expiry: 4 * time.Hour}},
		PortalURL:    "https://portal.acme.example/", Audit: audit.New(f.st, nil), Now: f.clk.Now,
		Logger: slog.New(slog.NewTextHandler(buf, nil))})
}

// ticking runs b's pass in the background and returns once its resumed apply (in a) has begun; the
// channel is closed when the pass returns.
func ticking(t *testing.T, b *deploys.Service, a *blockingApplier) <-chan struct{} {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); b.Tick(context.Background()) }()
	select {
	case <-a.entered:
	case <-done:
		t.Fatal("the pass returned without resuming the apply")
	}
	return done
}

func TestAnApplierWhoseRequestWasTakenOverRecordsNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		q, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: "1.5.0"})
		if err != nil {
			t.Fatal(err)
		}
		// A approves; its apply hangs (a push that does not answer), holding the request's lock.
		var logA testutil.Buffer
		failing := newFailingApplier()
		a := replicaLogging(t, f, failing, &logA)
		applied := make(chan deploys.Request, 1)
		go func() { got, _ := a.Approve(alice, q.ID, ""); applied <- got }()
		<-failing.entered
		// Past StaleApplying the leader, B, takes the request whatever its lock says, and applies it.
		resumed := newBlockingApplier(t)
		b := replica(t, f, resumed)
		f.clk.Add(b.StaleApplying())
		passed := ticking(t, b, resumed)
		// A's push ends after all, and badly: A no longer applies the request, and records nothing.
		close(failing.release)
		if got := <-applied; got.State != deploys.Applying {
			t.Errorf("A's approval answered %+v; the request is B's now", got)
		}
		if got := stateOf(t, b, q.ID); got.State != deploys.Applying || got.Outcome != "" {
			t.Fatalf("A recorded the end of an apply taken over: %+v\n%s", got, history(t, b, q.ID))
		}
		if !strings.Contains(logA.String(), "taken over") {
			t.Errorf("A did not log why it recorded nothing:\n%s", logA.String())
		}
		// Its refused move is audited as refused, as any move that lost a race is.
		if ok, failed := countAudit(t, st, "deploys.request.failed", "ok"), countAudit(t, st, "deploys.request.failed", "failed"); ok != 0 || failed != 1 {
			t.Errorf("audited moves to FAILED: %d ok, %d failed; want 0 and 1", ok, failed)
		}
		// B's apply goes through, and B records it.
		close(resumed.release)
		<-passed
		got := stateOf(t, b, q.ID)
		if got.State != deploys.RollingOut || commitsOf(t, f.bare, q.ID) != 1 {
			t.Fatalf("after B's apply: %+v, %d commits\n%s", got, commitsOf(t, f.bare, q.ID), history(t, b, q.ID))
		}
		h := history(t, b, q.ID)
		if strings.Count(h, "APPLYING->") != 1 || !strings.HasSuffix(h, "resuming an apply cut short") {
			t.Errorf("history:\n%s", h)
		}
		if n := countAudit(t, st, "deploys.request.rolling_out", "ok"); n != 1 {
			t.Errorf("%d audited moves to ROLLING_OUT", n)
		}
	})
}

func TestAnApplierWhoseLockSessionEndedRecordsNothing(t *testing.T) {
	st := storetest.Postgres(t)
	f := newFixture(t, st)
	q, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: "1.5.0"})
	if err != nil {
		t.Fatal(err)
	}
	// Replica A approves; its apply is mid-push, holding the lock on its lock session.
	var logA testutil.Buffer
	blocked := newBlockingApplier(t)
	a := replicaLogging(t, f, blocked, &logA)
	applied := make(chan deploys.Request, 1)
	go func() { got, _ := a.Approve(alice, q.ID, ""); applied <- got }()
	<-blocked.entered
	// A's lock session ends (a broken connection) while A lives on: the lock is free, and the
	// leader's pass after the grace resumes the request.
	endApplySession(t, st, q.ID)
	f.clk.Add(deploys.ApplyGrace)
	resumed := newBlockingApplier(t)
	b := replica(t, f, resumed)
	passed := ticking(t, b, resumed)
	// A's push goes through first: its commit is the request's, but recording it is B's to do.
	close(blocked.release)
	if got := <-applied; got.State != deploys.Applying {
		t.Errorf("A's approval answered %+v; the request is B's now", got)
	}
	if got := stateOf(t, b, q.ID); got.State != deploys.Applying || commitsOf(t, f.bare, q.ID) != 1 {
		t.Fatalf("after A's push: %+v, %d commits\n%s", got, commitsOf(t, f.bare, q.ID), history(t, b, q.ID))
	}
	if !strings.Contains(logA.String(), "taken over") {
		t.Errorf("A did not log why it recorded nothing:\n%s", logA.String())
	}
	close(resumed.release)
	<-passed
	got := stateOf(t, b, q.ID)
	if got.State != deploys.RollingOut || commitsOf(t, f.bare, q.ID) != 1 {
		t.Fatalf("after B's apply: %+v, %d commits", got, commitsOf(t, f.bare, q.ID))
	}
	h := history(t, b, q.ID)
	want := "portside SYSTEM APPLYING->ROLLING_OUT: commit " + got.CommitSHA[:12] + " found in " + f.bare + " (main): the apply cut short had pushed it"
	if strings.Count(h, "APPLYING->") != 1 || !strings.HasSuffix(h, want) {
		t.Errorf("history:\n%s", h)
	}
}

// The environment of TestApplyingProcess: the SQLite database, the manifest repository, the
// request it approves and its clock.
const (
	envApplyingDB   = "PORTSIDE_TEST_APPLYING_DB"
	envApplyingBare = "PORTSIDE_TEST_APPLYING_BARE"
	envApplyingID   = "PORTSIDE_TEST_APPLYING_ID"
	envApplyingNow  = "PORTSIDE_TEST_APPLYING_NOW"
)

// applyingMarker is what TestApplyingProcess writes once its apply has begun.
const applyingMarker = "APPLYING-BEGUN"

// stdinApplier is the apply of a process that hangs until its standard input closes (or it is
// killed), telling its parent once it has begun.
type stdinApplier struct{}

func (stdinApplier) Apply(ctx context.Context, _ deploys.Change) (deploys.Applied, error) {
	os.Stdout.WriteString("\n" + applyingMarker + "\n")
	gone := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(gone) }()
	select {
	case <-gone:
	case <-ctx.Done():
	}
	return deploys.Applied{}, errors.New("the parent went away")
}

// TestApplyingProcess is not a test: it is the `portside deploy approve` of
// TestOnSQLiteAnApplyOfAnotherLiveProcessIsLeftAloneUntilItDies, run as a process of its own.
func TestApplyingProcess(t *testing.T) {
	db := os.Getenv(envApplyingDB)
	if db == "" {
		t.Skip("run by TestOnSQLiteAnApplyOfAnotherLiveProcessIsLeftAloneUntilItDies")
	}
	id, err := strconv.ParseInt(os.Getenv(envApplyingID), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	now, err := time.Parse(time.RFC3339Nano, os.Getenv(envApplyingNow))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := deploys.NewService(st, deploys.Options{Catalog: fixtureCatalog(os.Getenv(envApplyingBare)), Applier: stdinApplier{},
		Environments: map[string]deploys.EnvironmentPolicy{"production": {RequireApproval: true, Expiry: 4 * time.Hour}},
		ApplyTimeout: time.Hour, Now: func() time.Time { return now }})
	if _, err := s.Approve(alice, id, ""); err != nil {
		t.Fatal(err)
	}
}

func TestOnSQLiteAnApplyOfAnotherLiveProcessIsLeftAloneUntilItDies(t *testing.T) {
	st := storetest.SQLite(t)
	f := newFixture(t, st)
	q, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: "1.5.0"})
	if err != nil {
		t.Fatal(err)
	}
	// `portside deploy approve` beside serve: another process approves the request, and its apply hangs.
	cli := exec.Command(os.Args[0], "-test.run=^TestApplyingProcess$", "-test.count=1")
	// Its TMPDIR is the test's: it is killed outright below, with no chance to remove what it made.
	cli.Env = append(os.Environ(), envApplyingDB+"="+st.Target(), envApplyingBare+"="+f.bare,
		envApplyingID+"="+strconv.FormatInt(q.ID, 10), envApplyingNow+"="+f.clk.Now().Format(time.RFC3339Nano),
		"TMPDIR="+testutil.ChildTempDir(t))
	stdin, err := cli.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cli.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr testutil.Buffer
	cli.Stderr = &stderr
	if err := cli.Start(); err != nil {
		t.Fatal(err)
	}
	exited := false
	t.Cleanup(func() {
		_ = stdin.Close()
		if !exited {
			_ = cli.Process.Kill()
			_ = cli.Wait()
		}
	})
	lines := bufio.NewScanner(stdout)
	var out []string
	begun := false
	for !begun && lines.Scan() {
		begun = lines.Text() == applyingMarker
		out = append(out, lines.Text())
	}
	if !begun {
		t.Fatalf("the other process did not begin its apply:\n%s\n%s", strings.Join(out, "\n"), stderr.String())
	}
	if got := stateOf(t, f.s, q.ID); got.State != deploys.Applying {
		t.Fatalf("the other process's apply began and the request is %+v", got)
	}
	// serve's pass, past the grace: the process applying the request is alive, so it is left alone.
	s := restarted(t, f, &recordedRollouts{})
	f.clk.Add(deploys.ApplyGrace + time.Minute)
	if f.clk.Now().Sub(stateOf(t, s, q.ID).UpdatedAt) >= s.StaleApplying() {
		t.Fatal("the test's clock went past StaleApplying")
	}
	s.Tick(context.Background())
	if got := stateOf(t, s, q.ID); got.State != deploys.Applying || commitsOf(t, f.bare, q.ID) != 0 {
		t.Fatalf("a live process's apply was taken: %+v, %d commits", got, commitsOf(t, f.bare, q.ID))
	}
	// It is killed: the kernel releases its lock, and the next pass resumes the request.
	if err := cli.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cli.Wait()
	exited = true
	s.Tick(context.Background())
	got := stateOf(t, s, q.ID)
	if got.State != deploys.RollingOut || commitsOf(t, f.bare, q.ID) != 1 {
		t.Fatalf("after the other process died: %+v, %d commits", got, commitsOf(t, f.bare, q.ID))
	}
	if h := history(t, s, q.ID); !strings.HasSuffix(h, "resuming an apply cut short") {
		t.Errorf("history:\n%s", h)
	}
}

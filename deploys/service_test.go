package deploys_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portside-dev/portside/deploys"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/bus/pgbus/pgbustest"
	"github.com/portside-dev/portside/internal/testutil"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// The whole flow: an owner asks, another owner approves, Portside commits the bump to the
// manifest repository as the requester, and the rollout of that commit closes the request.
func TestARequestIsApprovedAppliedAsACommitAndClosedByItsRollout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		sub, err := f.s.Watch(carol, "payments-api", 0)
		if err != nil {
			t.Fatal(err)
		}
		q, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: "1.5.0", Reason: "fix rounding"})
		if err != nil {
			t.Fatal(err)
		}
		if q.State != deploys.Requested || q.Component != payAPI || q.Requester != "bob" || q.Client != deploys.ClientPortal ||
			q.PipelineRunID == nil || *q.PipelineRunID != 42 || q.ExpiresAt == nil || !q.ExpiresAt.Equal(f.clk.Now().Add(4*time.Hour)) {
			t.Fatalf("requested %+v", q)
		}
		f.clk.Add(time.Minute)
		q, err = f.s.Approve(alice, q.ID, "looks good")
		if err != nil {
			t.Fatal(err)
		}
		head := strings.TrimSpace(git(t, f.bare, "rev-parse", "main"))
		if q.State != deploys.RollingOut || q.Approver != "alice" || q.CommitSHA != head || q.Repo != f.bare {
			t.Fatalf("approved %+v; main is %s", q, head)
		}
		if got := git(t, f.bare, "show", "main:apps/payments-api/production/kustomization.yaml"); !strings.Contains(got, "newTag: 1.5.0") {
			t.Fatalf("production overlay after the apply:\n%s", got)
		}
		if got := git(t, f.bare, "log", "-1", "--format=%an <%ae>%n%B", "main"); !strings.Contains(got, "Bob <bob@acme.example>") ||
			!strings.Contains(got, "Approved-by: alice") || !strings.Contains(got, "https://portal.acme.example/deploys/") {
			t.Fatalf("the commit:\n%s", got)
		}
		// Argo CD's rollout of the commit: a canary step, then success.
		f.s.Observe(context.Background(), deploys.RolloutEvent{Revision: "someone-elses", Result: deploys.RolloutSucceeded})
		f.s.Observe(context.Background(), deploys.RolloutEvent{Revision: head, Result: deploys.RolloutRunning, Progress: "canary step 1 of 3, weight 20%"})
		f.s.Observe(context.Background(), deploys.RolloutEvent{Revision: head, Result: deploys.RolloutRunning, Progress: "canary step 1 of 3, weight 20%"})
		f.s.Observe(context.Background(), deploys.RolloutEvent{Revision: head, Result: deploys.RolloutSucceeded, Message: "successfully synced"})
		q, err = f.s.Get(carol, q.ID)
		if err != nil || q.State != deploys.Succeeded || q.Outcome != "rolled out: successfully synced" {
			t.Fatalf("after the rollout: %+v, %v", q, err)
		}
		want := strings.Join([]string{
			"bob PORTAL ->REQUESTED: fix rounding",
			"alice PORTAL REQUESTED->APPROVED: looks good",
			"portside SYSTEM APPROVED->APPLYING: ",
			"portside SYSTEM APPLYING->ROLLING_OUT: commit " + head[:12] + " pushed to " + f.bare + " (main)",
			"portside SYSTEM ROLLING_OUT->ROLLING_OUT: canary step 1 of 3, weight 20%",
			"portside SYSTEM ROLLING_OUT->SUCCEEDED: rolled out: successfully synced",
		}, "\n")
		if got := history(t, f.s, q.ID); got != want {
			t.Fatalf("history:\n%s\nwant:\n%s", got, want)
		}
		// Every transition was published, in order, and audited.
		var seen []deploys.State
		for len(seen) < 6 {
			select {
			case ev := <-sub.C():
				seen = append(seen, ev.Transition.To)
			case <-time.After(5 * time.Second):
				t.Fatalf("published %v, then nothing", seen)
			}
		}
		if seen[5] != deploys.Succeeded {
			t.Fatalf("published %v", seen)
		}
		for action, n := range map[string]int{"deploys.request.create": 1, "deploys.request.approve": 1, "deploys.request.applying": 1,
			"deploys.request.rolling_out": 2, "deploys.request.succeeded": 1} {
			if got := countAudit(t, st, action, "ok"); got != n {
				t.Errorf("%s: %d audit records, want %d", action, got, n)
			}
		}
	})
}

// Four eyes: the requester never decides their own request, whatever their role; a non-owner
// decides nothing; another owner or an admin may.
func TestTheApproverIsAnotherOwnerOrAnAdminNeverTheRequester(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.cat.owners[payAPI] = append(f.cat.owners[payAPI], "root")
		q, err := f.s.Request(root, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: digest})
		if err != nil {
			t.Fatal(err)
		}
		for name, ctx := range map[string]context.Context{"the requester, an admin": root} {
			if _, err := f.s.Approve(ctx, q.ID, ""); !errs.Is(err, errs.Forbidden) || !strings.Contains(errs.PublicMessage(err), "four eyes") {
				t.Fatalf("%s approving: %v, want FORBIDDEN naming the four eyes", name, err)
			}
			if _, err := f.s.Reject(ctx, q.ID, ""); !errs.Is(err, errs.Forbidden) {
				t.Fatalf("%s rejecting: %v, want FORBIDDEN", name, err)
			}
		}
		if _, err := f.s.Approve(carol, q.ID, ""); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("a non-owner approving: %v, want FORBIDDEN", err)
		}
		if _, err := f.s.Approve(aliceRead, q.ID, ""); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("a read-only token approving: %v, want FORBIDDEN", err)
		}
		if _, err := f.s.Approve(context.Background(), q.ID, ""); !errs.Is(err, errs.Unauthenticated) {
			t.Fatalf("nobody approving: %v, want UNAUTHENTICATED", err)
		}
		if got := countAudit(t, st, "deploys.request.approve", "denied"); got != 4 {
			t.Errorf("%d denied approvals audited, want 4 (requester, non-owner, read-only token, nobody)", got)
		}
		if got := countAudit(t, st, "deploys.request.reject", "denied"); got != 1 {
			t.Errorf("%d denied rejections audited, want 1", got)
		}
		// Another owner decides; a second decision is a CONFLICT (a double click changes nothing).
		if q, err = f.s.Reject(bob, q.ID, "not during the freeze"); err != nil || q.State != deploys.Rejected || q.Outcome != "rejected by bob: not during the freeze" {
			t.Fatalf("rejected: %+v, %v", q, err)
		}
		if _, err := f.s.Approve(alice, q.ID, ""); !errs.Is(err, errs.Conflict) {
			t.Fatalf("approving a rejected request: %v, want CONFLICT", err)
		}
		// An admin who did not ask may approve.
		q2, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: digest})
		if err != nil || q2.ID == q.ID {
			t.Fatalf("a new request after a rejected one: %+v, %v", q2, err)
		}
		if q2, err = f.s.Approve(root, q2.ID, ""); err != nil || q2.State != deploys.RollingOut || q2.Approver != "root" {
			t.Fatalf("approved by an admin: %+v, %v", q2, err)
		}
	})
}

func TestOnlyOwnersRequestAndOnlyImmutableVersions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		in := deploys.RequestInput{Component: "payments-api", Environment: "production", Version: digest}
		if _, err := f.s.Request(carol, in); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("a non-owner: %v, want FORBIDDEN", err)
		}
		if _, err := f.s.Request(context.Background(), in); !errs.Is(err, errs.Unauthenticated) {
			t.Fatalf("nobody: %v, want UNAUTHENTICATED", err)
		}
		for _, c := range []struct {
			in    deploys.RequestInput
			field string
			code  errs.Code
		}{
			{deploys.RequestInput{Component: "payments-api", Environment: "production", Version: "latest"}, "version", errs.Invalid},
			{deploys.RequestInput{Component: "payments-api", Environment: "production", Version: "sha256:abc"}, "version", errs.Invalid},
			{deploys.RequestInput{Component: "payments-api", Environment: "production", Version: "1.5.0 ; rm"}, "version", errs.Invalid},
			{deploys.RequestInput{Component: "payments-api", Environment: "production", Version: strings.Repeat("a", 129)}, "version", errs.Invalid},
			{deploys.RequestInput{Component: "payments-api", Environment: "qa", Version: digest}, "environment", errs.Invalid},
			{deploys.RequestInput{Component: "payments-api", Environment: "Prod!", Version: digest}, "environment", errs.Invalid},
			{deploys.RequestInput{Component: "ledger", Environment: "production", Version: digest}, "environment", errs.Invalid},
			{deploys.RequestInput{Component: "nope", Environment: "production", Version: digest}, "component", errs.NotFound},
			{deploys.RequestInput{Component: "payments-api", Environment: "production", Version: digest, Reason: strings.Repeat("x", deploys.MaxReason+1)}, "reason", errs.Invalid},
			{deploys.RequestInput{Component: strings.Repeat("c", 256), Environment: "production", Version: digest}, "component", errs.Invalid},
		} {
			_, err := f.s.Request(bob, c.in)
			if !errs.Is(err, c.code) || !strings.Contains(errs.PublicMessage(err), c.field) {
				t.Errorf("%+v: %v, want %s naming %s", c.in, err, c.code, c.field)
			}
		}
		// A tag is proved by the run that built it: an image tag, an artifact version, a commit SHA.
		for version, run := range map[string]int64{"1.5.0": 42, "1.4.9": 41, commit[:7]: 42, digest2: 0} {
			q, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: version})
			if err != nil {
				t.Fatalf("%s: %v", version, err)
			}
			if (run == 0 && q.PipelineRunID != nil) || (run != 0 && (q.PipelineRunID == nil || *q.PipelineRunID != run)) {
				t.Errorf("%s: built by %v, want run %d", version, q.PipelineRunID, run)
			}
		}
	})
}

// A bound said in characters counts characters, not bytes: a value of as many characters as its
// bound allows, each of two bytes, is not refused for its length (it names nothing here, which is
// another error), and one character more is refused with its count of characters.
func TestBoundsInCharactersCountCharacters(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	for _, tc := range []struct {
		name, field string
		max         int
		call        func(v string) error
	}{
		{"a request's version", "version", deploys.MaxVersion, func(v string) error {
			_, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: v})
			return err
		}},
		{"a request's component", "component", deploys.MaxRef, func(v string) error {
			_, err := f.s.Request(bob, deploys.RequestInput{Component: v, Environment: "production", Version: digest})
			return err
		}},
		{"a list's component", "filter.component", deploys.MaxRef, func(v string) error {
			_, err := f.s.List(bob, deploys.Filter{Component: v}, 10, "")
			return err
		}},
		{"a list's requester", "filter.requester", deploys.MaxRef, func(v string) error {
			_, err := f.s.List(bob, deploys.Filter{Requester: v}, 10, "")
			return err
		}},
		{"a watched component", "component", deploys.MaxRef, func(v string) error {
			sub, err := f.s.Watch(bob, v, 0)
			if sub != nil {
				sub.Close()
			}
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testutil.CharacterBound(t, tc.field, tc.max, tc.call)
		})
	}
}

// A component or environment a client names wrongly is refused naming the input, in the error's
// field as well as its message: a component the catalog lacks is NOT_FOUND naming component (or
// filter.component), and a malformed environment filter names filter.environment once.
func TestUnknownComponentsAndBadFiltersNameTheirField(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		_, err := f.s.Request(bob, deploys.RequestInput{Component: "nope", Environment: "production", Version: digest})
		if !errs.Is(err, errs.NotFound) || errs.FieldOf(err) != "component" {
			t.Errorf("requesting an unknown component: %v (field %q), want NOT_FOUND with field component", err, errs.FieldOf(err))
		}
		_, err = f.s.List(carol, deploys.Filter{Component: "nope"}, 10, "")
		if !errs.Is(err, errs.NotFound) || errs.FieldOf(err) != "filter.component" {
			t.Errorf("listing an unknown component: %v (field %q), want NOT_FOUND with field filter.component", err, errs.FieldOf(err))
		}
		if _, err := f.s.Watch(carol, "nope", 0); !errs.Is(err, errs.NotFound) || errs.FieldOf(err) != "component" {
			t.Errorf("watching an unknown component: %v (field %q), want NOT_FOUND with field component", err, errs.FieldOf(err))
		}
		_, err = f.s.List(carol, deploys.Filter{Environment: "PROD"}, 10, "")
		if msg := errs.PublicMessage(err); !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != "filter.environment" ||
			!strings.HasPrefix(msg, `filter.environment: "PROD"`) {
			t.Errorf("a malformed environment filter: %q, want INVALID starting filter.environment: \"PROD\"", msg)
		}
	})
}

// A digest names the run whose image it is.
func TestBuiltFindsTheRunThatProducedAVersion(t *testing.T) {
	builds := []deploys.Build{
		{RunID: 3, CommitSHA: "c3", Images: []string{"ghcr.io/acme/a:2.0.0@" + digest}},
		{RunID: 2, CommitSHA: "abcdef0123456789", Versions: []string{"1.9.0"}},
	}
	for version, want := range map[string]int64{digest: 3, "2.0.0": 3, "1.9.0": 2, "abcdef0": 2, "abcdef": 0, "main": 0, digest2: 0} {
		b, ok := deploys.Built(builds, version)
		if (want == 0) == ok || (ok && b.RunID != want) {
			t.Errorf("%s: run %d (%v), want %d", version, b.RunID, ok, want)
		}
	}
}

// A repeated request returns the open one: sequentially, and when many arrive at once (the
// partial unique index decides; the losers read the winner).
func TestARepeatedRequestReturnsTheOpenOne(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		const n = 12
		ids := make(chan int64, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx := bob
				if i%2 == 1 {
					ctx = bobSlack
				}
				q, err := f.s.Request(ctx, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: digest})
				if err != nil {
					t.Error(err)
					return
				}
				ids <- q.ID
			}()
		}
		wg.Wait()
		close(ids)
		var first int64
		for id := range ids {
			if first == 0 {
				first = id
			}
			if id != first {
				t.Fatalf("concurrent repeats made requests %d and %d", first, id)
			}
		}
		page, err := f.s.List(carol, deploys.Filter{Component: "payments-api"}, 10, "")
		if err != nil || page.TotalCount != 1 {
			t.Fatalf("%+v, %v: want one request", page, err)
		}
		// Another environment or version is another request; a closed one no longer counts.
		other, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: digest2})
		if err != nil || other.ID == first {
			t.Fatalf("another version: %+v, %v", other, err)
		}
		if _, err := f.s.Cancel(bob, first, "wrong one"); err != nil {
			t.Fatal(err)
		}
		again, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: digest})
		if err != nil || again.ID == first || again.State != deploys.Requested {
			t.Fatalf("after the cancel: %+v, %v", again, err)
		}
	})
}

// An environment that needs no approval is applied at once, Portside recording the approval.
func TestAnEnvironmentWithoutApprovalIsAppliedAtOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		q, err := f.s.Request(bobSlack, deploys.RequestInput{Component: "payments-api", Environment: "staging", Version: "1.5.0"})
		if err != nil {
			t.Fatal(err)
		}
		if q.State != deploys.RollingOut || q.Approver != "portside" || q.ExpiresAt != nil || q.Client != deploys.ClientSlack {
			t.Fatalf("%+v", q)
		}
		if got := git(t, f.bare, "show", "main:apps/payments-api/staging/kustomization.yaml"); !strings.Contains(got, "newTag: 1.5.0") {
			t.Fatalf("staging overlay:\n%s", got)
		}
		if got := git(t, f.bare, "show", "main:apps/payments-api/production/kustomization.yaml"); strings.Contains(got, "1.5.0") {
			t.Fatalf("production changed too:\n%s", got)
		}
		if got := history(t, f.s, q.ID); !strings.Contains(got, "portside SYSTEM REQUESTED->APPROVED: no approval required in staging") {
			t.Fatalf("history:\n%s", got)
		}
	})
}

// Nobody approves in time: the background pass expires the request, and it can no longer be approved.
func TestARequestNobodyApprovesExpires(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		q, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: digest})
		if err != nil {
			t.Fatal(err)
		}
		f.clk.Add(4*time.Hour - time.Second)
		f.s.Tick(context.Background())
		if now, _ := f.s.Get(carol, q.ID); now.State != deploys.Requested {
			t.Fatalf("expired early: %+v", now)
		}
		f.clk.Add(time.Second)
		f.s.Tick(context.Background())
		now, _ := f.s.Get(carol, q.ID)
		if now.State != deploys.Expired || !strings.HasPrefix(now.Outcome, "expired") {
			t.Fatalf("after its expiry: %+v", now)
		}
		if _, err := f.s.Approve(alice, q.ID, ""); !errs.Is(err, errs.Conflict) {
			t.Fatalf("approving an expired request: %v, want CONFLICT", err)
		}
		if got := countAudit(t, st, "deploys.request.expired", "ok"); got != 1 {
			t.Fatalf("%d expiries audited", got)
		}
	})
}

// A request past its expiry is expired even before the background pass records it (the pass runs
// every minute, and not at all while no process leads): it is neither approved nor rejected, says
// so, is offered to nobody, and asking again expires it and makes a new request.
func TestARequestPastItsExpiryIsNotDecidedBeforeThePassExpiresIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		q, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: digest})
		if err != nil {
			t.Fatal(err)
		}
		f.clk.Add(4*time.Hour + time.Second) // no Tick: the pass has not run yet
		if _, err := f.s.Approve(alice, q.ID, "late"); !errs.Is(err, errs.Conflict) || !strings.Contains(errs.PublicMessage(err), "expired") {
			t.Fatalf("approving a request past its expiry: %v, want CONFLICT saying it expired", err)
		}
		if _, err := f.s.Reject(root, q.ID, ""); !errs.Is(err, errs.Conflict) {
			t.Fatalf("rejecting a request past its expiry: %v, want CONFLICT", err)
		}
		if ab, err := f.s.Abilities(alice, q); err != nil || ab.Approve || ab.Reject {
			t.Fatalf("abilities past the expiry: %+v, %v", ab, err)
		}
		page, err := f.s.List(alice, deploys.Filter{AwaitingMyApproval: true}, 10, "")
		if err != nil || page.TotalCount != 0 || len(page.Requests) != 0 {
			t.Fatalf("awaiting my approval past the expiry: %+v, %v", page, err)
		}
		if now, _ := f.s.Get(carol, q.ID); now.State != deploys.Requested || now.Approver != "" {
			t.Fatalf("after the refusals: %+v", now)
		}
		if got := git(t, f.bare, "log", "--format=%s", "main"); strings.Contains(got, "Deploy ") {
			t.Fatalf("a commit was made:\n%s", got)
		}
		// Asked again before the pass: the old request is expired now and the new one is new.
		again, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: digest})
		if err != nil || again.ID == q.ID || again.State != deploys.Requested {
			t.Fatalf("asking again past the expiry: %+v, %v; want a new request", again, err)
		}
		if now, _ := f.s.Get(carol, q.ID); now.State != deploys.Expired {
			t.Fatalf("the old request after it was asked again: %+v", now)
		}
		f.s.Tick(context.Background())
		if now, _ := f.s.Get(carol, again.ID); now.State != deploys.Requested {
			t.Fatalf("the new request after the pass: %+v", now)
		}
	})
}

// A sync window that forbids the deploy keeps the approved request waiting with the reason; once
// it opens, the background pass applies it.
func TestASyncWindowKeepsAnApprovedRequestWaiting(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.windows.set("production", "a deny sync window (0 22 * * *, 8h) is active")
		q, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: digest})
		if err != nil {
			t.Fatal(err)
		}
		q, err = f.s.Approve(alice, q.ID, "")
		if err != nil || q.State != deploys.Approved || !strings.Contains(q.Waiting, "deny sync window") {
			t.Fatalf("approved in a deny window: %+v, %v", q, err)
		}
		if n := strings.TrimSpace(git(t, f.bare, "rev-list", "--count", "main")); n != "1" {
			t.Fatalf("%s commits: nothing may be pushed while the window forbids it", n)
		}
		f.s.Tick(context.Background())
		if now, _ := f.s.Get(carol, q.ID); now.State != deploys.Approved {
			t.Fatalf("applied in a deny window: %+v", now)
		}
		// Argo CD cannot be asked: the request keeps waiting, saying so.
		f.windows.set("production", "")
		f.windows.setDown(true)
		f.s.Tick(context.Background())
		if now, _ := f.s.Get(carol, q.ID); now.State != deploys.Approved || !strings.Contains(now.Waiting, "cannot be reached") {
			t.Fatalf("applied without asking Argo CD: %+v", now)
		}
		f.windows.setDown(false)
		f.s.Tick(context.Background())
		now, _ := f.s.Get(carol, q.ID)
		if now.State != deploys.RollingOut || now.Waiting != "" || now.CommitSHA == "" {
			t.Fatalf("after the window: %+v", now)
		}
	})
}

func TestARolloutThatFailsOrIsAbortedClosesTheRequestWithTheReason(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		for result, want := range map[deploys.RolloutResult]struct {
			state   deploys.State
			outcome string
		}{
			deploys.RolloutFailed:  {deploys.Failed, "rollout failed: one or more objects failed to apply"},
			deploys.RolloutAborted: {deploys.RolledBack, "rolled back: the canary was aborted: one or more objects failed to apply"},
		} {
			version := map[deploys.RolloutResult]string{deploys.RolloutFailed: digest, deploys.RolloutAborted: digest2}[result]
			q, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "staging", Version: version})
			if err != nil || q.State != deploys.RollingOut {
				t.Fatalf("%+v, %v", q, err)
			}
			f.s.Observe(context.Background(), deploys.RolloutEvent{Revision: q.CommitSHA, Result: result, Message: "one or more objects failed to apply"})
			now, _ := f.s.Get(carol, q.ID)
			if now.State != want.state || now.Outcome != want.outcome {
				t.Errorf("%s: %s %q, want %s %q", result, now.State, now.Outcome, want.state, want.outcome)
			}
		}
	})
}

// A manifest repository that cannot be reached fails the request with the reason.
func TestAnApplyThatFailsFailsTheRequest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		f.cat.annotations[payAPI][deploys.AnnotationDeploy] = "staging:\n  repo: " + t.TempDir() + "/missing.git\n  path: k.yaml\n  image: x\n"
		q, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "staging", Version: digest})
		if err != nil {
			t.Fatal(err)
		}
		if q.State != deploys.Failed || !strings.Contains(q.Outcome, "apply failed: clone") {
			t.Fatalf("%+v", q)
		}
	})
}

func TestCancelIsForRequestsNotYetApplied(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		q, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: digest})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Cancel(carol, q.ID, ""); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("a non-owner cancelling: %v", err)
		}
		if _, err := f.s.Cancel(bob, q.ID, strings.Repeat("n", deploys.MaxNote+1)); !errs.Is(err, errs.Invalid) {
			t.Fatalf("an overlong note: %v", err)
		}
		if q, err = f.s.Cancel(bob, q.ID, "wrong version"); err != nil || q.State != deploys.Cancelled || q.Outcome != "cancelled by bob: wrong version" {
			t.Fatalf("%+v, %v", q, err)
		}
		q2, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "staging", Version: digest})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.Cancel(bob, q2.ID, ""); !errs.Is(err, errs.Conflict) {
			t.Fatalf("cancelling a request rolling out: %v, want CONFLICT", err)
		}
	})
}

func TestListFiltersAndPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		for _, v := range []string{digest, digest2, "1.5.0"} {
			if _, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: v}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.s.Request(alice, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: "1.4.9"}); err != nil {
			t.Fatal(err)
		}
		mine, err := f.s.List(alice, deploys.Filter{Mine: true}, 10, "")
		if err != nil || mine.TotalCount != 1 || mine.Requests[0].Version != "1.4.9" {
			t.Fatalf("alice's own: %+v, %v", mine, err)
		}
		page, err := f.s.List(carol, deploys.Filter{Requester: "bob"}, 2, "")
		if err != nil || page.TotalCount != 3 || len(page.Requests) != 2 || !page.HasNextPage || page.Requests[0].Version != "1.5.0" {
			t.Fatalf("%+v, %v", page, err)
		}
		rest, err := f.s.List(carol, deploys.Filter{Requester: "bob"}, 2, page.EndCursor)
		if err != nil || len(rest.Requests) != 1 || rest.HasNextPage || rest.Requests[0].Version != digest {
			t.Fatalf("%+v, %v", rest, err)
		}
		awaiting, err := f.s.List(alice, deploys.Filter{AwaitingMyApproval: true}, 10, "")
		if err != nil || awaiting.TotalCount != 3 {
			t.Fatalf("awaiting alice: %+v, %v", awaiting, err)
		}
		if _, err := f.s.List(carol, deploys.Filter{}, deploys.MaxPage+1, ""); !errs.Is(err, errs.Invalid) {
			t.Fatalf("an oversized page: %v", err)
		}
		if _, err := f.s.List(context.Background(), deploys.Filter{}, 1, ""); !errs.Is(err, errs.Unauthenticated) {
			t.Fatalf("an anonymous list: %v", err)
		}
	})
}

// The background work follows rollouts and expires requests until stopped.
func TestStartFollowsRolloutsUntilStopped(t *testing.T) {
	st := storetest.SQLite(t)
	f := newFixture(t, st)
	ro := &fakeRollouts{ch: make(chan deploys.RolloutEvent)}
	s := deploys.NewService(st, deploys.Options{Catalog: f.cat, Builds: fakeBuilds{}, Applier: mustCommitter(t), Rollouts: ro, Interval: time.Hour})
	q, err := s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "staging", Version: digest})
	if err != nil || q.State != deploys.RollingOut {
		t.Fatalf("%+v, %v", q, err)
	}
	s.Start(context.Background())
	ro.ch <- deploys.RolloutEvent{Revision: q.CommitSHA, Result: deploys.RolloutSucceeded}
	testutil.Eventually(t, 10*time.Second, func() bool { now, _ := s.Get(carol, q.ID); return now.State == deploys.Succeeded }, "the rollout closes the request")
	s.Stop()
	select {
	case ro.ch <- deploys.RolloutEvent{Revision: q.CommitSHA}:
		t.Fatal("a stopped service still reads rollout events")
	case <-time.After(50 * time.Millisecond):
	}
}

// TestASubscriberOnAnotherReplicaHearsOfEveryMoveOnce: two replicas on one PostgreSQL schema; the
// moves replica A makes reach a subscriber on replica B once each, in order.
func TestASubscriberOnAnotherReplicaHearsOfEveryMoveOnce(t *testing.T) {
	url := storetest.PostgresURL(t)
	stA, stB := storetest.Open(t, url, true), storetest.Open(t, url, false)
	busA, startA := pgbustest.New(t, stA)
	busB, startB := pgbustest.New(t, stB)
	a, b := newFixtureOn(t, stA, busA), newFixtureOn(t, stB, busB)
	startA()
	startB()
	onB, err := b.s.Watch(carol, "payments-api", 0)
	if err != nil {
		t.Fatal(err)
	}
	onA, err := a.s.Watch(carol, "payments-api", 0)
	if err != nil {
		t.Fatal(err)
	}
	q := requestThroughToSuccess(t, a)
	want := []deploys.State{deploys.Requested, deploys.Approved, deploys.Applying, deploys.RollingOut, deploys.Succeeded}
	for name, sub := range map[string]*deploys.Subscription{"A": onA, "B": onB} {
		var seen []deploys.State
		for len(seen) < len(want) {
			select {
			case ev := <-sub.C():
				if ev.Request.ID != q.ID || ev.Request.State != ev.Transition.To {
					t.Errorf("replica %s: event %+v is not a whole move of request %d", name, ev, q.ID)
				}
				seen = append(seen, ev.Transition.To)
			case <-time.After(10 * time.Second):
				t.Fatalf("replica %s heard %v, then nothing", name, seen)
			}
		}
		if fmt.Sprint(seen) != fmt.Sprint(want) || len(sub.C()) != 0 {
			t.Errorf("replica %s heard %v (and %d more), want %v once each", name, seen, len(sub.C()), want)
		}
	}
}

// The gap the three-replica SIGKILL test found: a replica that recorded a move and died before
// sending it took the event with it. A's bus never runs here, as in a process killed the moment
// each move committed: whatever waited to be sent after the commit is never sent. The moves
// travel with their transactions, so B's subscriber hears each of them all the same, once, in
// order, and A's own subscriber hears each once, after its commit.
func TestAMoveReachesTheOtherReplicasEvenWhenItsReplicaDiesRightAfterTheCommit(t *testing.T) {
	url := storetest.PostgresURL(t)
	stA, stB := storetest.Open(t, url, true), storetest.Open(t, url, false)
	busA, _ := pgbustest.New(t, stA) // never started: nothing is sent after the fact
	busB, startB := pgbustest.New(t, stB)
	a, b := newFixtureOn(t, stA, busA), newFixtureOn(t, stB, busB)
	startB()
	onA, err := a.s.Watch(carol, "payments-api", 0)
	if err != nil {
		t.Fatal(err)
	}
	onB, err := b.s.Watch(carol, "payments-api", 0)
	if err != nil {
		t.Fatal(err)
	}
	requestThroughToSuccess(t, a)
	// Messages arrive in commit order: a repeat of any move would come before SUCCEEDED.
	want := []deploys.State{deploys.Requested, deploys.Approved, deploys.Applying, deploys.RollingOut, deploys.Succeeded}
	for name, sub := range map[string]*deploys.Subscription{"A (the dead one)": onA, "B": onB} {
		if got := movesUntil(t, sub, deploys.Succeeded); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("replica %s heard %v, want %v once each", name, got, want)
		}
	}
}

// requestThroughToSuccess walks a request of payments-api on f from REQUESTED to SUCCEEDED: bob
// asks, alice approves, and Argo CD reports the pushed commit synced.
func requestThroughToSuccess(t *testing.T, f *fixture) deploys.Request {
	t.Helper()
	q, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: "1.5.0", Reason: "fix rounding"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Approve(alice, q.ID, "looks good"); err != nil {
		t.Fatal(err)
	}
	head := strings.TrimSpace(git(t, f.bare, "rev-parse", "main"))
	f.s.Observe(context.Background(), deploys.RolloutEvent{Revision: head, Result: deploys.RolloutSucceeded, Message: "successfully synced"})
	return q
}

// movesUntil collects the states a subscription hears up to and including last.
func movesUntil(t *testing.T, sub *deploys.Subscription, last deploys.State) []deploys.State {
	t.Helper()
	var seen []deploys.State
	for len(seen) == 0 || seen[len(seen)-1] != last {
		select {
		case ev := <-sub.C():
			seen = append(seen, ev.Transition.To)
		case <-time.After(10 * time.Second):
			t.Fatalf("heard %v, then nothing", seen)
		}
	}
	return seen
}

// A request is approved and applied for the target it was made for: not while its component is
// out of the catalog, not once the component deploys elsewhere (it came back under another owner
// with another target, and an approval given meanwhile was applied there).
func TestARequestIsApprovedAndAppliedOnlyForTheTargetItWasMadeFor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := newFixture(t, st)
		q, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: digest})
		if err != nil {
			t.Fatal(err)
		}
		if q.Target == nil || q.Target.Path != "apps/payments-api/production/kustomization.yaml" {
			t.Fatalf("the request keeps the target %+v", q.Target)
		}
		kept := f.cat.annotations[payAPI]
		delete(f.cat.annotations, payAPI)
		if _, err := f.s.Approve(root, q.ID, ""); !errs.Is(err, errs.Conflict) || errs.FieldOf(err) != "component" ||
			!strings.Contains(errs.PublicMessage(err), "no longer in the catalog") {
			t.Fatalf("approving while the component is away: %v, want CONFLICT naming component", err)
		}
		moved := strings.Replace(kept[deploys.AnnotationDeploy], "apps/payments-api/production/", "apps/ledger/production/", 1)
		f.cat.annotations[payAPI] = map[string]string{deploys.AnnotationDeploy: moved}
		if _, err := f.s.Approve(root, q.ID, ""); !errs.Is(err, errs.Conflict) || !strings.Contains(errs.PublicMessage(err), "changed since deploy request") {
			t.Fatalf("approving once the target moved: %v, want CONFLICT saying it changed", err)
		}
		if a, err := f.s.Abilities(root, q); err != nil || a.Approve || !a.Reject || !a.Cancel {
			t.Errorf("abilities once the target moved: %+v, %v; want reject and cancel only", a, err)
		}
		// Asked again, as the refusal says: a new request for the target of now, the old one cancelled.
		again, err := f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: digest})
		if err != nil || again.ID == q.ID || again.Target == nil || again.Target.Path != "apps/ledger/production/kustomization.yaml" {
			t.Fatalf("asked again: %+v, %v; want a new request for the moved target", again, err)
		}
		if old, _ := f.s.Get(carol, q.ID); old.State != deploys.Cancelled {
			t.Errorf("the request for the old target is %s, want CANCELLED", old.State)
		}
		if _, err := f.s.Cancel(bob, again.ID, ""); err != nil {
			t.Fatal(err)
		}
		f.cat.annotations[payAPI] = kept
		q, err = f.s.Request(bob, deploys.RequestInput{Component: "payments-api", Environment: "production", Version: digest})
		if err != nil {
			t.Fatal(err)
		}
		// Approved for its target, then held by a window while the target moves: never applied there.
		f.cat.annotations[payAPI] = kept
		f.windows.set("production", "a deny sync window is active")
		if q, err = f.s.Approve(root, q.ID, ""); err != nil || q.State != deploys.Approved {
			t.Fatalf("approved for its own target: %+v, %v", q, err)
		}
		f.cat.annotations[payAPI] = map[string]string{deploys.AnnotationDeploy: moved}
		f.windows.set("production", "")
		f.s.Tick(context.Background())
		now, _ := f.s.Get(carol, q.ID)
		if now.State != deploys.Failed || !strings.Contains(now.Outcome, "changed since deploy request") {
			t.Fatalf("applied after its target moved: %+v", now)
		}
		if n := strings.TrimSpace(git(t, f.bare, "rev-list", "--count", "main")); n != "1" {
			t.Errorf("%s commits: nothing may be pushed to the moved target", n)
		}
	})
}

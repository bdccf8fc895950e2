package deploys

import (
	"context"
	"fmt"
	"strings"

	"github.com/portside-dev/portside/errs"
)

// A request usually closes with the rollout of its commit (Observe). Argo CD does not always roll
// a commit out, though: a commit that changes nothing the application renders (a version the file
// already named: gitops commits it anyway) leaves the application Synced, and Argo CD just moves
// its sync revision to it; a commit followed closely by another may never be synced on its own,
// Argo CD syncing the later one that contains it. No rollout ever names such a commit, so its
// request would stay ROLLING_OUT. settle closes it instead, SUCCEEDED saying why, once every
// application of its environment is synced at the commit or past it (a later commit that has it),
// healthy, and at rest (no sync operation or canary under way).
//
// The other way a commit is passed over: Argo CD synced a later commit that contains it, and that
// later commit's rollout failed (or its canary was aborted). The request's commit was reached
// (the failed sync applied it, with what came after) and superseded, and it will not be rolled out
// on its own any more, so the request closes too, the way the later rollout ended: FAILED, or
// ROLLED_BACK for an aborted canary, saying "superseded by <commit>" and why. Not SUCCEEDED: a
// request whose commit ran healthy at some point was closed then (a rollout of the commit
// decides it through Observe, and an application at rest at the commit or past it through the
// rule above, on every rest), so one still open here never ran healthy, as far as Portside saw.

// AppState is how an Argo CD application that deploys a request's environment stands now, as far
// as closing the request goes.
type AppState struct {
	// Name names the application for people ("payments-api on Argo CD prod").
	Name string
	// Revision is the revision the application is synced to (compared with).
	Revision string
	// Synced: what runs is what Revision renders; Healthy: Argo CD assesses it healthy.
	Synced, Healthy bool
	// OperationRevision is the revision of its running or last sync operation, "" when none is
	// known; Operating says that operation (or a canary it started) is still under way.
	OperationRevision string
	Operating         bool
	// Stale: the instance cannot be reached, so the state is an old one.
	Stale bool
}

// atRest reports whether the application is synced, healthy and doing nothing, as last seen.
func (a AppState) atRest() bool {
	return !a.Stale && a.Synced && a.Healthy && !a.Operating && a.Revision != ""
}

// Applications reads the state of the Argo CD applications that deploy a component's environment
// (deploys/bridge adapts the rollouts service to it); none when Portside follows none.
type Applications interface {
	Applications(ctx context.Context, annotations map[string]string, environment string) ([]AppState, error)
}

// Refresher asks Argo CD to read the manifest repository again at once for the applications
// that deploy a component's environment (a hard refresh: its cache of the branch's head is
// skipped), as a webhook from the git host would; without it Argo CD finds a request's commit at its
// next poll of the repository (three minutes by default). deploys/bridge adapts the rollouts
// service to it.
type Refresher interface {
	Refresh(ctx context.Context, component string, annotations map[string]string, environment, cause string) error
}

// Lineage says whether a revision of a target's branch is a commit or a later one that contains it
// (deploys/gitops reads the manifest repository); false for a revision the branch does not have.
type Lineage interface {
	Descends(ctx context.Context, t Target, revision, commit string) (bool, error)
}

// SettlePass settles every request rolling out (at most MaxBatch) whose commit Argo CD reached
// without a rollout of its own, or passed over for a later commit whose rollout failed (see
// settle). The background pass runs it, and FollowRollouts when an application comes to rest or a
// rollout fails.
func (s *Service) SettlePass(ctx context.Context) {
	if s.opts.Applications == nil {
		return
	}
	list, err := s.recs.inState(ctx, RollingOut)
	if err != nil {
		s.log.ErrorContext(ctx, "deploys: find requests rolling out", "error", err)
		return
	}
	for _, q := range list {
		if ctx.Err() != nil {
			return
		}
		s.settle(ctx, q)
	}
}

// settle closes a request rolling out whose commit's rollout has ended, once an application of its
// environment comes to rest at the commit (the sync, then the canary, done: see RolloutLookup), the
// way that rollout ended. Without a rollout of the commit it closes the request as SUCCEEDED when
// Argo CD reached its commit anyway: every application of its environment is at rest, synced at
// the commit or at a later commit that contains it, and none names the commit in a sync operation;
// and when the commit's rollout never ended (its canary under way) but every application is at
// rest at a later commit that contains it, as SUCCEEDED, superseded.
// It closes it as FAILED or ROLLED_BACK when an application's sync of a later commit that contains
// it failed or had its canary aborted (supersededByAFailure). Anything it cannot find out leaves
// the request as it is, for the next pass.
func (s *Service) settle(ctx context.Context, q Request) {
	if q.State != RollingOut || q.CommitSHA == "" {
		return
	}
	var ended *RolloutEvent
	running := false // the commit's own rollout has not ended (its canary under way)
	if lookup, ok := s.opts.Rollouts.(RolloutLookup); ok {
		ev, found, err := lookup.RolloutOf(ctx, q.CommitSHA)
		if err != nil {
			return
		}
		switch {
		case found && ev.Result == RolloutRunning:
			running = true
		case found:
			ended = &ev
		}
	}
	_, ann, err := s.opts.Catalog.ComponentAnnotations(ctx, "component", q.Component)
	if err != nil {
		return
	}
	tgt, err := target(q.Component, ann, q.Environment)
	if err != nil {
		return
	}
	apps, err := s.opts.Applications.Applications(ctx, ann, q.Environment)
	if err != nil || len(apps) == 0 {
		if err != nil {
			s.log.WarnContext(ctx, "deploys: read the applications of a request", "request", q.ID, "error", err)
		}
		return
	}
	if ended != nil {
		// A rollout of the commit decides the request (Observe). Its sync may have ended while
		// the canary still ran or before the application was healthy (Argo CD ends the sync once
		// the Rollout is applied): the rollout was running then, and it ends as an application
		// comes to rest at the commit, which is no change of the rollout itself.
		for _, a := range apps {
			if a.atRest() && a.Revision == q.CommitSHA {
				s.follow(ctx, q, *ended)
				return
			}
		}
		return
	}
	for _, a := range apps {
		if s.supersededByAFailure(ctx, q, tgt, a) {
			return
		}
	}
	var how []string
	for _, a := range apps {
		if !a.atRest() || (a.OperationRevision == q.CommitSHA && !running) {
			return
		}
		if a.Revision == q.CommitSHA {
			if running {
				return // at rest at the commit while its rollout runs: the next look decides
			}
			how = append(how, a.Name+" is synced at this commit")
			continue
		}
		if s.opts.Lineage == nil {
			return
		}
		past, err := s.opts.Lineage.Descends(ctx, tgt, a.Revision, q.CommitSHA)
		if err != nil {
			s.log.WarnContext(ctx, "deploys: compare a request's commit with its application's", "request", q.ID, "revision", a.Revision, "error", err)
			return
		}
		if !past {
			return
		}
		how = append(how, fmt.Sprintf("%s is synced at %s, which contains this commit", a.Name, short(a.Revision)))
	}
	outcome := "rolled out without a sync of its own (Argo CD found nothing to change, or synced a later commit): " + strings.Join(how, "; ") + ", and healthy"
	if running {
		// Its rollout never ended: a later commit that contains it was synced over its canary
		// (Argo Rollouts replaces a canary under way with the newer one) and now runs healthy.
		// Left open, the request would stay ROLLING_OUT for good.
		outcome = "superseded before its own rollout ended (a later commit that contains it was synced over its canary): " + strings.Join(how, "; ") + ", and healthy"
	}
	if _, err := s.move(ctx, q, Succeeded, "portside", ClientSystem, outcome, func(r *Request) { r.Outcome = clipNote(outcome) }); err != nil && !errs.Is(err, errs.Conflict) {
		s.log.ErrorContext(ctx, "deploys: close a request Argo CD reached", "request", q.ID, "error", err)
	}
}

// supersededByAFailure closes q when application a's last sync, done (not under way) and of a
// later commit that contains q's commit, failed or had its canary aborted (see the rules above),
// and reports whether it did. Anything it cannot find out leaves q as it is.
func (s *Service) supersededByAFailure(ctx context.Context, q Request, tgt Target, a AppState) bool {
	later := a.OperationRevision
	lookup, ok := s.opts.Rollouts.(RolloutLookup)
	if !ok || s.opts.Lineage == nil || a.Stale || a.Operating || later == "" || later == q.CommitSHA {
		return false
	}
	ev, found, err := lookup.RolloutOf(ctx, later)
	if err != nil || !found || (ev.Result != RolloutFailed && ev.Result != RolloutAborted) {
		return false
	}
	past, err := s.opts.Lineage.Descends(ctx, tgt, later, q.CommitSHA)
	if err != nil {
		s.log.WarnContext(ctx, "deploys: compare a request's commit with its application's", "request", q.ID, "revision", later, "error", err)
		return false
	}
	if !past {
		return false
	}
	to, outcome := Failed, fmt.Sprintf("superseded by %s, which contains this commit, before this commit ran healthy: its rollout on %s failed", short(later), a.Name)
	if ev.Result == RolloutAborted {
		to, outcome = RolledBack, fmt.Sprintf("superseded by %s, which contains this commit, before this commit ran healthy: its canary on %s was aborted (rolled back)", short(later), a.Name)
	}
	if ev.Message != "" {
		outcome += ": " + ev.Message
	}
	if _, err := s.move(ctx, q, to, "portside", ClientSystem, outcome, func(r *Request) { r.Outcome = clipNote(outcome) }); err != nil && !errs.Is(err, errs.Conflict) {
		s.log.ErrorContext(ctx, "deploys: close a request superseded by a failed rollout", "request", q.ID, "error", err)
	}
	return true
}

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

// Lineage says whether a revision of a target's branch is a commit or a later one that contains it
// (deploys/gitops reads the manifest repository); false for a revision the branch does not have.
type Lineage interface {
	Descends(ctx context.Context, t Target, revision, commit string) (bool, error)
}

// SettlePass settles every request rolling out (at most MaxBatch) whose commit Argo CD reached
// without a rollout of its own (see settle). The background pass runs it, and FollowRollouts when
// an application comes to rest.
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

// settle closes a request rolling out as SUCCEEDED when Argo CD reached its commit without a rollout
// of the commit: every application of its environment is at rest, synced at the commit or at a
// later commit that contains it, and none names the commit in a sync operation (a rollout of the
// commit decides the request through Observe, whatever it says). Anything it cannot find out
// leaves the request as it is, for the next pass.
func (s *Service) settle(ctx context.Context, q Request) {
	if q.State != RollingOut || q.CommitSHA == "" {
		return
	}
	if lookup, ok := s.opts.Rollouts.(RolloutLookup); ok {
		if _, found, err := lookup.RolloutOf(ctx, q.CommitSHA); err != nil || found {
			return
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
	var how []string
	for _, a := range apps {
		if !a.atRest() || a.OperationRevision == q.CommitSHA {
			return
		}
		if a.Revision == q.CommitSHA {
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
	if _, err := s.move(ctx, q, Succeeded, "portside", ClientSystem, outcome, func(r *Request) { r.Outcome = clipNote(outcome) }); err != nil && !errs.Is(err, errs.Conflict) {
		s.log.ErrorContext(ctx, "deploys: close a request Argo CD reached", "request", q.ID, "error", err)
	}
}

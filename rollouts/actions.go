package rollouts

import (
	"context"
	"strconv"
	"strings"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth/policy"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/errs"
)

// Target names one deployment of a component: the component, and which of its applications when
// it has several.
type Target struct {
	// Component is the component's ref as the client typed it.
	Component string
	// Instance, AppNamespace and Application narrow the component's deployments to one; left
	// empty, the component must have exactly one.
	Instance, AppNamespace, Application string
	// Cause says what led to the action when it was not a person's own idea (the alert an abort
	// was asked from); the audit record keeps it.
	Cause string
}

func (t Target) args() map[string]any {
	m := map[string]any{"component": t.Component}
	if t.Cause != "" {
		m["cause"] = t.Cause
	}
	for k, v := range map[string]string{"instance": t.Instance, "appNamespace": t.AppNamespace, "application": t.Application} {
		if v != "" {
			m[k] = v
		}
	}
	return m
}

// Sync syncs a component's deployment. Only the component's owners (and admins) may; it is
// audited. Asking again while the same sync runs changes nothing and returns the deployment.
func (s *Service) Sync(ctx context.Context, t Target, req SyncRequest) (Deployment, error) {
	args := t.args()
	args["revision"], args["prune"], args["dryRun"] = req.Revision, req.Prune, req.DryRun
	return s.act(ctx, policy.DeploymentSync, t, args, func(ctx context.Context, src Source, d Deployment) (*Application, error) {
		if op := d.Operation; op != nil && op.Phase == OperationRunning {
			if req.Revision == "" || req.Revision == op.Revision {
				return nil, nil // that sync is under way: a repeated request is the same request
			}
			return nil, busy(d)
		}
		req.RequestedBy = principal.From(ctx).Actor()
		app, err := src.Sync(ctx, d.Key(), req)
		return &app, err
	})
}

// Rollback syncs a component's deployment back to an earlier revision of its history, for its
// owners; audited.
func (s *Service) Rollback(ctx context.Context, t Target, req RollbackRequest) (Deployment, error) {
	if req.HistoryID < 0 {
		return Deployment{}, errs.InvalidField("historyId", "must be a history ID of the deployment (Rollout.historyId; they start at 0)")
	}
	args := t.args()
	args["historyId"], args["prune"], args["dryRun"] = req.HistoryID, req.Prune, req.DryRun
	return s.act(ctx, policy.DeploymentRollback, t, args, func(ctx context.Context, src Source, d Deployment) (*Application, error) {
		if op := d.Operation; op != nil && op.Phase == OperationRunning {
			return nil, busy(d)
		}
		// Argo CD records Portside's account as the initiator; the rollout records the person.
		s.tracker.expectRequest(d.Key(), principal.From(ctx).Actor())
		app, err := src.Rollback(ctx, d.Key(), req)
		if err != nil {
			s.tracker.dropRequest(d.Key())
		}
		return &app, err
	})
}

// Terminate stops a deployment's running operation, for its owners; audited. With nothing running
// there is nothing to stop, and that is not an error.
func (s *Service) Terminate(ctx context.Context, t Target) (Deployment, error) {
	return s.act(ctx, policy.DeploymentTerminate, t, t.args(), func(ctx context.Context, src Source, d Deployment) (*Application, error) {
		_, err := src.Terminate(ctx, d.Key())
		return nil, err
	})
}

// Refresh makes Argo CD compare a deployment with git again, for its owners; audited.
func (s *Service) Refresh(ctx context.Context, t Target, hard bool) (Deployment, error) {
	args := t.args()
	args["hard"] = hard
	return s.act(ctx, policy.DeploymentRefresh, t, args, func(ctx context.Context, src Source, d Deployment) (*Application, error) {
		app, err := src.Refresh(ctx, d.Key(), hard)
		return &app, err
	})
}

// Promote moves a paused canary on to its next step (full: through every remaining step at
// once), for the component's owners; audited.
func (s *Service) Promote(ctx context.Context, t Target, full bool) (Deployment, error) {
	args := t.args()
	args["full"] = full
	action := "resume"
	if full {
		action = "promote-full"
	}
	return s.canaryAction(ctx, policy.DeploymentPromote, t, args, action)
}

// Abort stops a canary and returns all traffic to the stable version, for the component's owners;
// audited. The rollout is recorded as ABORTED, a failed change.
func (s *Service) Abort(ctx context.Context, t Target) (Deployment, error) {
	return s.canaryAction(ctx, policy.DeploymentAbort, t, t.args(), "abort")
}

// Retry starts an aborted canary again from its first step, for the component's owners; audited.
func (s *Service) Retry(ctx context.Context, t Target) (Deployment, error) {
	return s.canaryAction(ctx, policy.DeploymentRetry, t, t.args(), "retry")
}

// canaryAction runs an Argo Rollouts action on a deployment's Rollout. What the canary's state
// makes pointless (promoting one that is not paused, retrying one that was not aborted) is a
// CONFLICT that says what state it is in.
func (s *Service) canaryAction(ctx context.Context, action policy.Action, t Target, args map[string]any, name string) (Deployment, error) {
	return s.act(ctx, action, t, args, func(ctx context.Context, src Source, d Deployment) (*Application, error) {
		c := d.Canary
		if c == nil {
			return nil, errs.E(errs.Conflict, "%s has no Argo Rollouts Rollout that Portside has read", d.Key())
		}
		switch {
		case name == "resume" && c.PausedReason == "":
			return nil, errs.E(errs.Conflict, "the canary of %s is not paused (phase %s, step %d of %d): nothing to promote", d.Key(), c.Phase, c.CurrentStep, len(c.Steps))
		case name == "promote-full" && (c.Done() || c.Aborted):
			return nil, errs.E(errs.Conflict, "the canary of %s is not under way (phase %s): nothing to promote", d.Key(), c.Phase)
		case name == "abort" && (c.Done() || c.Aborted):
			return nil, errs.E(errs.Conflict, "the canary of %s is not under way (phase %s): nothing to abort", d.Key(), c.Phase)
		case name == "retry" && !c.Aborted:
			return nil, errs.E(errs.Conflict, "the canary of %s was not aborted: nothing to retry", d.Key())
		}
		if err := src.RolloutAction(ctx, d.Key(), c.Resource, name); err != nil {
			return nil, err
		}
		s.tracker.rereadCanary(d.Key())
		return nil, nil
	})
}

// busy is the CONFLICT of an action on a deployment that is in the middle of an operation.
func busy(d Deployment) error {
	op := d.Operation
	by := op.InitiatedBy
	if op.RequestedBy != "" {
		by = op.RequestedBy
	}
	if by == "" {
		by = "an automated sync"
	}
	return errs.E(errs.Conflict, "%s is in the middle of a sync to %s (started %s by %s); wait for it or terminate it first",
		d.Key(), orHead(op.Revision), op.StartedAt.Format("2006-01-02 15:04:05Z07:00"), by)
}

func orHead(rev string) string {
	if rev == "" {
		return "the target revision"
	}
	return rev
}

// CanOperate reports whether the caller may act on the deployments of the component ref (the
// check act makes, without a deployment or an audit record), so that pages offer only what the
// caller may do.
func (s *Service) CanOperate(ctx context.Context, ref string) (bool, error) {
	p := principal.From(ctx)
	if policy.Gate(p, policy.DeploymentSync) != nil {
		return false, nil
	}
	owns := p.Admin
	if !owns {
		var err error
		if owns, err = s.catalog.Owns(ctx, p, ref); err != nil {
			return false, err
		}
	}
	return policy.Can(p, policy.DeploymentSync, policy.Resource{Name: ref, OwnedByCaller: owns}) == nil, nil
}

// act runs an action on one deployment of a component: the caller must own the component, the
// deployment must be one of the component's, and exactly one audit record says what happened. do
// returns the application as the instance showed it after the action (nil: as tracked), which the
// tracker takes at once (unless its watch was quicker) so the answer already shows the operation.
func (s *Service) act(ctx context.Context, action policy.Action, t Target, args map[string]any,
	do func(ctx context.Context, src Source, d Deployment) (*Application, error)) (Deployment, error) {
	var out Deployment
	run := func(ctx context.Context) error {
		p := principal.From(ctx)
		if err := policy.Gate(p, action); err != nil {
			return err
		}
		ref, ann, err := s.catalog.ComponentAnnotations(ctx, "component", t.Component)
		if err != nil {
			return err
		}
		owns := p.Admin
		if !owns {
			if owns, err = s.catalog.Owns(ctx, p, ref); err != nil {
				return err
			}
		}
		if err := policy.Can(p, action, policy.Resource{Name: ref, OwnedByCaller: owns}); err != nil {
			return err
		}
		d, err := s.deploymentOf(ref, ann, t)
		if err != nil {
			return err
		}
		src := s.sources[d.Instance]
		if src == nil {
			return errs.E(errs.Internal, "rollouts: deployment %s on an instance without a client", d.Key())
		}
		if d.Stale {
			return errs.E(errs.Unavailable, "Argo CD %q cannot be reached right now, so %s cannot be changed; try again when it is back", d.Instance, d.Key())
		}
		app, err := do(ctx, src, d)
		if err != nil {
			return err
		}
		if app != nil {
			app.Instance = d.Instance
			s.tracker.apply(ctx, Event{App: *app})
		}
		out, _ = s.tracker.Deployment(d.Key())
		return nil
	}
	var err error
	if s.audit == nil {
		err = run(ctx)
	} else {
		err = s.audit.Do(ctx, audit.Entry{Action: string(action), Resource: "component " + t.Component, Args: args}, run)
	}
	return out, err
}

// deploymentOf picks the deployment a target names among the component's.
func (s *Service) deploymentOf(ref string, ann map[string]string, t Target) (Deployment, error) {
	m, ok, err := matcher(ann)
	if err != nil {
		return Deployment{}, err
	}
	if !ok {
		return Deployment{}, errs.InvalidField("component", "%s has no Argo CD deployments (no %s or %s annotation)", ref, AnnotationAppName, AnnotationAppSelector)
	}
	var found []Deployment
	for _, d := range s.tracker.Deployments(m) {
		if (t.Instance == "" || t.Instance == d.Instance) && (t.AppNamespace == "" || t.AppNamespace == d.AppNamespace) &&
			(t.Application == "" || t.Application == d.Application) {
			found = append(found, d)
		}
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) == 0 && t.Application != "":
		return Deployment{}, errs.E(errs.NotFound, "%s has no deployment %s", ref, describeTarget(t))
	case len(found) == 0:
		return Deployment{}, errs.E(errs.NotFound, "%s has no deployment Portside knows of yet", ref)
	default:
		names := make([]string, len(found))
		for i, d := range found {
			names[i] = d.Key().String()
		}
		return Deployment{}, errs.InvalidField("application", "%s has %s deployments (%s): name the application (and the instance when one name is on several)",
			ref, strconv.Itoa(len(found)), strings.Join(names, ", "))
	}
}

func describeTarget(t Target) string {
	s := t.Application
	if t.AppNamespace != "" {
		s = t.AppNamespace + "/" + s
	}
	if t.Instance != "" {
		s += " on instance " + t.Instance
	}
	return s
}

package deploys

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth/policy"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/bus"
	"github.com/portside-dev/portside/internal/pubsub"
	"github.com/portside-dev/portside/internal/text"
	"github.com/portside-dev/portside/store"
)

// Catalog is what the deploys domain reads from the catalog; catalog.Service implements it.
type Catalog interface {
	// ComponentAnnotations finds a component by a reference a client typed (field names the
	// input in errors: a component the catalog lacks is NOT_FOUND naming it) and returns its
	// canonical ref and annotations.
	ComponentAnnotations(ctx context.Context, field, ref string) (string, map[string]string, error)
	// Owns reports whether p owns the entity, directly or through the group hierarchy.
	Owns(ctx context.Context, p *principal.Principal, ref string) (bool, error)
}

// Build is a successful pipeline run of a component, as far as proving a version goes.
type Build struct {
	RunID     int64
	CommitSHA string
	// Images are the image references the run's artifacts name (repo:tag or repo@sha256:…).
	Images []string
	// Versions are the artifact versions the run produced ("1.4.2").
	Versions []string
}

// Builds finds the successful pipeline runs of a component, newest first; the cmd wiring adapts
// pipelines.Service to it.
type Builds interface {
	SucceededBuilds(ctx context.Context, component string, limit int) ([]Build, error)
}

// Change is what applying a request changes: the request, its target, and the link to it.
type Change struct {
	Request Request
	Target  Target
	// Link is the request's page in the portal, for the commit message.
	Link string
}

// Applied is the commit that applied a request.
type Applied struct {
	Repo   string
	Commit string
	// Found: the branch already had the request's commit (an apply cut short after its push), and
	// nothing new was committed.
	Found bool
}

// Applier applies a request to its environment's manifest repository (deploys/gitops). Apply must
// be idempotent: a request whose commit the branch already has gets that commit back (Found), not
// a second one, because a request left APPLYING by a process that died is applied again.
type Applier interface {
	Apply(ctx context.Context, c Change) (Applied, error)
}

// Proposer commits a request's change on a branch of its own and pushes that branch, never
// forcing it (deploys/gitops). A branch already pushed for the request is kept as it is: applying
// again never makes a second commit.
type Proposer interface {
	Propose(ctx context.Context, c Change, branch string) (Applied, error)
}

// PullRequestState is where a pull (merge) request stands.
type PullRequestState string

// The pull request states a request follows.
const (
	PullRequestOpen   PullRequestState = "OPEN"
	PullRequestMerged PullRequestState = "MERGED"
	// PullRequestClosed is closed without being merged.
	PullRequestClosed PullRequestState = "CLOSED"
)

// PullRequest is a pull request (GitHub) or merge request (GitLab) that applies a request.
type PullRequest struct {
	URL   string
	State PullRequestState
	// MergeCommit is the commit the merge left on the target's branch (a merge, squash or
	// rebased commit): the revision Argo CD rolls out. Set when State is PullRequestMerged.
	MergeCommit string
}

// NewPullRequest is a pull request to open.
type NewPullRequest struct {
	// Branch is the head branch (BranchOf the request); the base is the target's branch.
	Branch      string
	Title, Body string
}

// PullRequests opens and reads pull requests on the code hosts (deploys/pullrequests adapts
// GitHub and GitLab to it).
type PullRequests interface {
	// Find returns the newest pull request from branch into the target's branch, whatever its
	// state; NOT_FOUND when there is none.
	Find(ctx context.Context, t Target, branch string) (PullRequest, error)
	// Open opens a pull request into the target's branch. One already open from the branch is a
	// CONFLICT.
	Open(ctx context.Context, t Target, pr NewPullRequest) (PullRequest, error)
}

// SyncWindows says whether Argo CD's sync windows let a component's environment be deployed now;
// the cmd wiring adapts rollouts.Service to it. reason is "" when the deploy may go.
type SyncWindows interface {
	Blocked(ctx context.Context, component string, annotations map[string]string, environment string) (reason string, err error)
}

// RolloutResult is how a rollout of a revision went, as the rollouts layer reports it.
type RolloutResult string

// The rollout results a request follows.
const (
	RolloutRunning   RolloutResult = "RUNNING"
	RolloutSucceeded RolloutResult = "SUCCEEDED"
	RolloutFailed    RolloutResult = "FAILED"
	// RolloutAborted is a canary that was aborted: the stable version runs again.
	RolloutAborted RolloutResult = "ABORTED"
)

// RolloutEvent is a rollout of a revision recorded or updated.
type RolloutEvent struct {
	Revision string
	Result   RolloutResult
	Message  string
	// Progress describes how far a running rollout got ("canary step 2 of 4, weight 40%"), "" when
	// there is nothing to tell. A rollout is SUCCEEDED only once it truly ended: its sync
	// succeeded, its canary (if any) ran every step and its application is healthy at Revision;
	// a sync that succeeded before that is RUNNING (issue #16).
	Progress string
	// Settled is no rollout: an application came to rest (synced, healthy, nothing under way) at
	// Revision. Requests whose commit it reached without a rollout close (see settle).
	Settled bool
}

// Rollouts delivers the rollout events of every application until ctx ends (the channel is then
// closed); the cmd wiring adapts the rollouts tracker to it.
type Rollouts interface {
	RolloutEvents(ctx context.Context) <-chan RolloutEvent
}

// RolloutLookup finds the recorded rollout of a revision (ok false when none was recorded), so
// that a request left ROLLING_OUT while Portside was down catches up with a rollout that moved or
// ended meanwhile. Rollouts implementing it are asked in the background pass, and when an
// application comes to rest: the event says how the rollout stands now, its application included
// (a sync succeeded while its canary runs, or before the application is healthy, is a rollout
// still RUNNING; see deploys/bridge.EventAt).
type RolloutLookup interface {
	RolloutOf(ctx context.Context, revision string) (ev RolloutEvent, ok bool, err error)
}

// EnvironmentPolicy is how requests to one environment are handled.
type EnvironmentPolicy struct {
	// RequireApproval: a request waits for a second person; otherwise it is applied at once.
	RequireApproval bool
	// Expiry is how long a request may wait for approval (default DefaultExpiry).
	Expiry time.Duration
}

// DefaultExpiry is how long a request waits for approval when its environment does not say.
const DefaultExpiry = 24 * time.Hour

// Options wire the service.
type Options struct {
	Catalog Catalog
	// Builds proves tags; nil accepts only image digests.
	Builds  Builds
	Applier Applier
	// Proposer and PullRequests apply the targets applied by pull request (Target.Apply); without
	// them such a request fails saying so.
	Proposer     Proposer
	PullRequests PullRequests
	// SyncWindows and Rollouts are optional: without them deploys are never held by a window,
	// and requests stay rolling out until closed another way.
	SyncWindows SyncWindows
	Rollouts    Rollouts
	// Applications and Lineage, both optional, close a request whose commit Argo CD reached
	// without a rollout of it (see settle): without Applications such a request stays rolling out;
	// without Lineage only an application synced at the very commit closes it.
	Applications Applications
	Lineage      Lineage
	// Refresher, optional, tells Argo CD of a request's commit as soon as it is pushed.
	Refresher Refresher
	// Environments are the per-environment policies by name. An environment not listed needs
	// approval if it is "production" or "prod", and expires after DefaultExpiry.
	Environments map[string]EnvironmentPolicy
	// PortalURL is the portal's base URL, for the link in commit messages.
	PortalURL string
	// Interval is how often the background loop expires requests and retries waiting ones
	// (default one minute); ApplyTimeout bounds one apply (default two minutes).
	Interval     time.Duration
	ApplyTimeout time.Duration
	// Audit records every change; nil records nothing (tests of the domain alone).
	Audit  *audit.Log
	Logger *slog.Logger
	// Now is the clock (tests); nil is time.Now.
	Now func() time.Time
	// Bus carries the requests' moves to the other replicas and theirs here, for subscribers on
	// every replica; nil is a process alone.
	Bus bus.Bus
	// Observer hears about every move of a request, for metrics; may be nil.
	Observer Observer
}

// Observer hears about requests, for metrics. Package metrics implements it.
type Observer interface {
	// DeployRequestMoved is told once per recorded move, by the process that recorded it: a new
	// request (to REQUESTED) and every change of state after it.
	DeployRequestMoved(to string)
}

// Service keeps deploy requests and moves them through their states.
type Service struct {
	recs *records
	opts Options
	log  *slog.Logger
	now  func() time.Time
	hub  *pubsub.Hub[Event]
	// topic carries the events to the other replicas and delivers theirs to hub.
	topic *bus.Topic[Event]
	// locks are the apply locks this process holds (see applylock.go).
	locks applyLocks

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// NewService keeps deploy requests in st.
func NewService(st *store.Store, opts Options) *Service {
	s := &Service{recs: &records{st: st}, opts: opts, log: opts.Logger, now: opts.Now, hub: pubsub.NewHub[Event](64)}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.locks = newApplyLocks(st, s.log)
	if s.now == nil {
		s.now = time.Now
	}
	if s.opts.Interval <= 0 {
		s.opts.Interval = time.Minute
	}
	if s.opts.ApplyTimeout <= 0 {
		s.opts.ApplyTimeout = 2 * time.Minute
	}
	s.topic = bus.NewTopic(opts.Bus, "deploys", bus.TopicOptions[Event]{
		Deliver: s.hub.Deliver,
		// A request's outcome or wait can be a long error message; its transition is bounded.
		Shrink: func(e Event) Event { return Event{Request: Request{ID: e.Request.ID}, Transition: e.Transition} },
		Reload: func(ctx context.Context, e Event) (Event, error) {
			q, err := s.recs.byID(ctx, e.Request.ID)
			return Event{Request: q, Transition: e.Transition}, err
		},
		Logger: s.log,
	})
	return s
}

// publish tells the other replicas of a move with the transaction that records it (ctx's), and
// this replica's subscribers once it commits: call it inside that transaction, so that a move
// is heard of if, and only if, it is recorded, even when this process dies right after.
func (s *Service) publish(ctx context.Context, e Event) {
	s.topic.Publish(ctx, e)
	store.AfterCommit(ctx, func() { s.hub.Publish(e) })
}

// Policy is the policy of an environment.
func (s *Service) Policy(env string) EnvironmentPolicy {
	p, ok := s.opts.Environments[env]
	if !ok {
		p = EnvironmentPolicy{RequireApproval: env == "production" || env == "prod"}
	}
	if p.Expiry <= 0 {
		p.Expiry = DefaultExpiry
	}
	return p
}

// Event is a request that moved, for subscribers.
type Event struct {
	Request    Request
	Transition Transition
}

// Subscription receives request events until it is closed.
type Subscription = pubsub.Subscription[Event]

// system is the principal Portside's own moves (expiry, apply, rollout) are made and audited as.
var system = principal.System("portside", principal.ClientAuto)

// audited runs fn as an audited action (or just runs it without an audit log).
func (s *Service) audited(ctx context.Context, e audit.Entry, fn func(ctx context.Context) error) error {
	if s.opts.Audit == nil {
		return fn(ctx)
	}
	return s.opts.Audit.Do(ctx, e, fn)
}

// owns reports whether the caller owns the component (admins own everything).
func (s *Service) authorize(ctx context.Context, action policy.Action, component string) error {
	p := principal.From(ctx)
	if err := policy.Gate(p, action); err != nil {
		return err
	}
	owns := p.Admin
	if !owns {
		var err error
		if owns, err = s.opts.Catalog.Owns(ctx, p, component); err != nil {
			return err
		}
	}
	return policy.Can(p, action, policy.Resource{Name: component, OwnedByCaller: owns})
}

// RequestInput is a new deploy request.
type RequestInput struct {
	// Component is a component ref as a client typed it.
	Component   string
	Environment string
	Version     string
	Reason      string
}

// Request asks for a version of a component to be deployed to an environment, for the
// component's owners and admins; audited. A request for a component, version and environment
// that is already open returns the open one. In an environment that needs no approval the request
// is applied at once.
func (s *Service) Request(ctx context.Context, in RequestInput) (Request, error) {
	var out Request
	var created bool
	err := s.audited(ctx, audit.Entry{Action: string(policy.DeployRequest), Resource: "component " + clip(in.Component),
		Args: map[string]any{"component": clip(in.Component), "environment": clip(in.Environment), "version": clip(in.Version), "reason": clip(in.Reason)}},
		func(ctx context.Context) error {
			p := principal.From(ctx)
			if err := policy.Gate(p, policy.DeployRequest); err != nil {
				return err
			}
			in.Reason = strings.TrimSpace(in.Reason)
			if err := text.Length("component", in.Component, MaxRef); err != nil {
				return err
			}
			if err := checkEnvironment(in.Environment); err != nil {
				return err
			}
			if err := checkVersion(in.Version); err != nil {
				return err
			}
			if err := text.Check("reason", in.Reason, MaxReason, false); err != nil {
				return err
			}
			ref, ann, err := s.opts.Catalog.ComponentAnnotations(ctx, "component", in.Component)
			if err != nil {
				return err
			}
			if err := s.authorize(ctx, policy.DeployRequest, ref); err != nil {
				return err
			}
			tgt, err := target(ref, ann, in.Environment)
			if err != nil {
				return err
			}
			if q, err := s.recs.open(ctx, ref, in.Environment, in.Version); err == nil && q.State == Requested && q.Target != nil && *q.Target != tgt {
				// Made for a target the component no longer deploys to, it can be approved no
				// more (currentTarget): asked again, it is cancelled and a new one made for the
				// target of now, rather than answered again.
				_, err := s.move(ctx, q, Cancelled, "portside", ClientSystem, "asked again for the component's deploy target of now ("+describe(tgt)+")",
					func(r *Request) { r.Outcome = "cancelled: the deploy target changed since it was made" })
				if err != nil && !errs.Is(err, errs.Conflict) {
					return err
				}
			} else if err == nil && !s.pastExpiry(q) {
				out = q
				return nil
			} else if err == nil {
				// Expired, though the background pass has not recorded it yet: it is now, and the
				// request asked again is a new one (the old one can be decided no more).
				if err := s.expire(ctx, q); err != nil {
					return err
				}
			} else if !errs.Is(err, errs.NotFound) {
				return err
			}
			run, err := s.provenance(ctx, ref, in.Version)
			if err != nil {
				return err
			}
			now := s.now().UTC()
			q := Request{Component: ref, Environment: in.Environment, Version: in.Version, Reason: in.Reason, Requester: p.Actor(),
				RequesterName: p.DisplayName, RequesterEmail: p.Email, Client: clientOf(p), State: Requested, CreatedAt: now,
				UpdatedAt: now, PipelineRunID: run, Target: &tgt}
			if pol := s.Policy(in.Environment); pol.RequireApproval {
				exp := now.Add(pol.Expiry)
				q.ExpiresAt = &exp
			}
			t := Transition{Actor: p.Actor(), Client: q.Client, To: Requested, Note: q.Reason, At: now}
			err = s.recs.st.InTx(ctx, func(ctx context.Context) error {
				if err := s.recs.insert(ctx, &q, &t); err != nil {
					return err
				}
				s.publish(ctx, Event{Request: q, Transition: t})
				return audit.Flush(ctx)
			})
			if errs.Is(err, errs.Conflict) {
				// Another request for the same deploy won the race: this one is that one.
				if q, oerr := s.recs.open(ctx, ref, in.Environment, in.Version); oerr == nil {
					out = q
					return nil
				}
			}
			if err != nil {
				return err
			}
			out, created = q, true
			s.moved(t)
			return nil
		})
	if err != nil || !created || s.Policy(out.Environment).RequireApproval {
		return out, err
	}
	// No approval needed: Portside approves it and applies it now.
	q, err := s.move(ctx, out, Approved, "portside", ClientSystem, "no approval required in "+out.Environment, func(q *Request) { q.Approver = "portside" })
	if err != nil {
		return out, err
	}
	return s.apply(context.WithoutCancel(ctx), q), nil
}

// provenance proves a version immutable: an image digest is; a tag is when a successful run of
// the component produced it. It returns the run that built the version, when one is known.
func (s *Service) provenance(ctx context.Context, component, version string) (*int64, error) {
	if s.opts.Builds == nil {
		if IsDigest(version) {
			return nil, nil
		}
		return nil, errs.InvalidField("version", "%q is a tag, and Portside has no pipeline runs to prove it immutable; use an image digest (sha256:…)", clip(version))
	}
	builds, err := s.opts.Builds.SucceededBuilds(ctx, component, MaxBuilds)
	if err != nil {
		return nil, err
	}
	if b, ok := Built(builds, version); ok {
		id := b.RunID
		return &id, nil
	}
	if IsDigest(version) {
		return nil, nil
	}
	return nil, errs.InvalidField("version", "%q is not an image digest, and none of the last %d successful pipeline runs of %s produced it; use a digest or a tag a successful run built", clip(version), MaxBuilds, component)
}

// MaxBuilds is how many of a component's latest successful runs prove a tag.
const MaxBuilds = 100

// Built finds the newest build that produced version: an image with that digest or tag, an
// artifact with that version, or (runs whose artifacts Portside does not know yet) the run's
// commit SHA or its short form (7 characters or more). A run's git ref is not accepted: a branch
// moves.
func Built(builds []Build, version string) (Build, bool) {
	for _, b := range builds {
		for _, img := range b.Images {
			if strings.HasSuffix(img, "@"+version) || (!IsDigest(version) && strings.HasSuffix(imageWithoutDigest(img), ":"+version)) {
				return b, true
			}
		}
		for _, v := range b.Versions {
			if v == version {
				return b, true
			}
		}
		if b.CommitSHA != "" && !IsDigest(version) && len(version) >= 7 && strings.HasPrefix(b.CommitSHA, strings.ToLower(version)) {
			return b, true
		}
	}
	return Build{}, false
}

// imageWithoutDigest drops an image reference's @digest, keeping repo:tag.
func imageWithoutDigest(img string) string {
	if i := strings.Index(img, "@"); i >= 0 {
		return img[:i]
	}
	return img
}

// decide loads a request for an approver's decision and checks the four-eyes rule: an owner of the
// component or an admin, never the requester.
func (s *Service) decide(ctx context.Context, action policy.Action, id int64) (Request, error) {
	p := principal.From(ctx)
	if err := policy.Gate(p, action); err != nil {
		return Request{}, err
	}
	q, err := s.recs.byID(ctx, id)
	if err != nil {
		return Request{}, err
	}
	if err := s.mayDecide(ctx, action, q); err != nil {
		return Request{}, err
	}
	return q, nil
}

// mayDecide is the rule of Approve and Reject (action says which): the caller owns the component
// or is an admin, did not ask for the request (four eyes), and the request waits for a decision.
func (s *Service) mayDecide(ctx context.Context, action policy.Action, q Request) error {
	if err := s.authorize(ctx, action, q.Component); err != nil {
		return err
	}
	if actor := principal.From(ctx).Actor(); actor == q.Requester {
		return errs.E(errs.Forbidden, "%s asked for deploy request %d and may not decide it: another owner of %s or an admin must (four eyes)", actor, q.ID, q.Component)
	}
	if q.State != Requested {
		return errs.E(errs.Conflict, "deploy request %d is %s; only a REQUESTED request can be decided", q.ID, q.State)
	}
	if action == policy.DeployApprove {
		// An approval approves the deploy the request was made for: its component in the
		// catalog, deploying where it did. Rejecting needs neither.
		if _, _, err := s.currentTarget(ctx, q); err != nil {
			return err
		}
	}
	// Past its expiry a request is expired, whether or not the background pass (every minute, or
	// none while no process leads) has recorded it yet: it is decided no more.
	if s.pastExpiry(q) {
		return errs.E(errs.Conflict, "deploy request %d expired at %s: nobody approved it in time; ask again", q.ID, q.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// currentTarget reads q's component and its deploy target for q's environment from the catalog,
// and checks that it is the target q was made for (requests made before requests kept theirs take
// the catalog's). A component gone from the catalog, an environment it no longer deploys to, or
// another target are CONFLICT naming component: such a request can be rejected or cancelled, and
// is applied nowhere (an approval given while the component was away was applied, once it came
// back under another owner, to that owner's target). A catalog that cannot answer is its error.
func (s *Service) currentTarget(ctx context.Context, q Request) (Target, map[string]string, error) {
	_, ann, err := s.opts.Catalog.ComponentAnnotations(ctx, "component", q.Component)
	if errs.Is(err, errs.NotFound) {
		return Target{}, nil, &errs.Error{Code: errs.Conflict, Field: "component", Err: err,
			Message: fmt.Sprintf("%s is no longer in the catalog: deploy request %d can be rejected or cancelled, not applied", q.Component, q.ID)}
	}
	if err != nil {
		return Target{}, nil, err
	}
	tgt, err := target(q.Component, ann, q.Environment)
	if err != nil {
		return Target{}, ann, &errs.Error{Code: errs.Conflict, Field: "component", Err: err,
			Message: fmt.Sprintf("deploy request %d cannot be applied: %s", q.ID, errs.PublicMessage(err))}
	}
	if q.Target != nil && *q.Target != tgt {
		return Target{}, ann, &errs.Error{Code: errs.Conflict, Field: "component",
			Message: fmt.Sprintf("the deploy target of %s in %s changed since deploy request %d was made (%s → %s): ask again",
				q.Component, q.Environment, q.ID, describe(*q.Target), describe(tgt))}
	}
	return tgt, ann, nil
}

// describe names a target in a message: its repository, branch and file, and its image.
func describe(t Target) string {
	return fmt.Sprintf("%s %s:%s, image %s", t.Repo, t.Branch, t.Path, t.Image)
}

// mayCancel is the rule of Cancel: the caller owns the component or is an admin, and the request
// has not been applied.
func (s *Service) mayCancel(ctx context.Context, q Request) error {
	if err := s.authorize(ctx, policy.DeployCancel, q.Component); err != nil {
		return err
	}
	if q.State != Requested && q.State != Approved {
		return errs.E(errs.Conflict, "deploy request %d is %s; only a request not yet applied can be cancelled", q.ID, q.State)
	}
	return nil
}

// Abilities are the decisions the caller may take on a request as it stands.
type Abilities struct {
	Approve, Reject, Cancel bool
}

// Abilities says which of Approve, Reject and Cancel the caller may take on q now, by the very
// rules those methods apply; it is for offering actions only (each checks again). A refusal is a
// false; only a failure to find out (the catalog cannot answer) is an error.
func (s *Service) Abilities(ctx context.Context, q Request) (Abilities, error) {
	var out Abilities
	for _, c := range []struct {
		can   *bool
		check func() error
	}{
		{&out.Approve, func() error { return s.mayDecide(ctx, policy.DeployApprove, q) }},
		{&out.Reject, func() error { return s.mayDecide(ctx, policy.DeployReject, q) }},
		{&out.Cancel, func() error { return s.mayCancel(ctx, q) }},
	} {
		err := c.check()
		switch {
		case err == nil:
			*c.can = true
		case errs.Is(err, errs.Forbidden) || errs.Is(err, errs.Conflict) || errs.Is(err, errs.Unauthenticated):
		default:
			return Abilities{}, err
		}
	}
	return out, nil
}

// Approve approves a request, for another owner of the component or an admin (never the
// requester); audited. The request is then applied unless a sync window holds it.
func (s *Service) Approve(ctx context.Context, id int64, note string) (Request, error) {
	var out Request
	err := s.audited(ctx, audit.Entry{Action: string(policy.DeployApprove), Resource: what(id), Args: map[string]any{"id": id, "note": clip(note)}},
		func(ctx context.Context) error {
			note = strings.TrimSpace(note)
			if err := text.Check("note", note, MaxNote, false); err != nil {
				return err
			}
			q, err := s.decide(ctx, policy.DeployApprove, id)
			if err != nil {
				return err
			}
			p := principal.From(ctx)
			out, err = s.moveIn(ctx, q, Approved, p.Actor(), clientOf(p), note, func(q *Request) { q.Approver = p.Actor() })
			return err
		})
	if err != nil {
		return out, err
	}
	return s.apply(context.WithoutCancel(ctx), out), nil
}

// Reject rejects a request, for another owner of the component or an admin; audited.
func (s *Service) Reject(ctx context.Context, id int64, note string) (Request, error) {
	var out Request
	err := s.audited(ctx, audit.Entry{Action: string(policy.DeployReject), Resource: what(id), Args: map[string]any{"id": id, "note": clip(note)}},
		func(ctx context.Context) error {
			note = strings.TrimSpace(note)
			if err := text.Check("note", note, MaxNote, false); err != nil {
				return err
			}
			q, err := s.decide(ctx, policy.DeployReject, id)
			if err != nil {
				return err
			}
			p := principal.From(ctx)
			out, err = s.moveIn(ctx, q, Rejected, p.Actor(), clientOf(p), note, func(q *Request) {
				q.Approver = p.Actor()
				q.Outcome = "rejected by " + p.Actor()
				if note != "" {
					q.Outcome += ": " + note
				}
			})
			return err
		})
	return out, err
}

// Cancel withdraws a request that has not been applied, for its requester, the component's
// owners and admins; audited.
func (s *Service) Cancel(ctx context.Context, id int64, note string) (Request, error) {
	var out Request
	err := s.audited(ctx, audit.Entry{Action: string(policy.DeployCancel), Resource: what(id), Args: map[string]any{"id": id, "note": clip(note)}},
		func(ctx context.Context) error {
			note = strings.TrimSpace(note)
			if err := text.Check("note", note, MaxNote, false); err != nil {
				return err
			}
			p := principal.From(ctx)
			if err := policy.Gate(p, policy.DeployCancel); err != nil {
				return err
			}
			q, err := s.recs.byID(ctx, id)
			if err != nil {
				return err
			}
			if err := s.mayCancel(ctx, q); err != nil {
				return err
			}
			out, err = s.moveIn(ctx, q, Cancelled, p.Actor(), clientOf(p), note, func(q *Request) {
				q.Outcome = "cancelled by " + p.Actor()
				if note != "" {
					q.Outcome += ": " + note
				}
			})
			return err
		})
	return out, err
}

// moveIn moves q to state to inside the caller's audited action: the transition, the audit
// record and the message to the other replicas commit together; subscribers hear of it after the
// commit.
func (s *Service) moveIn(ctx context.Context, q Request, to State, actor string, client Client, note string, change func(*Request)) (Request, error) {
	if !CanMove(q.State, to) {
		return q, errs.E(errs.Conflict, "deploy request %d is %s and cannot become %s", q.ID, q.State, to)
	}
	from := q.State
	next := q
	next.State = to
	next.UpdatedAt = s.now().UTC()
	attempt := q.ApplyAttempt
	if to == Applying && from != Applying {
		next.ApplyAttempt = attempt + 1 // a new apply: the fence of its outcome (see records.move)
	}
	if to != Approved {
		next.Waiting = ""
	}
	if change != nil {
		change(&next)
	}
	t := Transition{RequestID: q.ID, Actor: actor, Client: client, From: from, To: to, Note: clipNote(note), At: next.UpdatedAt}
	err := s.recs.st.InTx(ctx, func(ctx context.Context) error {
		if err := s.recs.move(ctx, &next, from, attempt, &t); err != nil {
			return err
		}
		s.publish(ctx, Event{Request: next, Transition: t})
		return audit.Flush(ctx)
	})
	if err != nil {
		return q, err
	}
	s.moved(t)
	return next, nil
}

// moved tells the observer about a move this process recorded (a move is recorded once: it
// changes the row only from the state it was read in).
func (s *Service) moved(t Transition) {
	if s.opts.Observer != nil {
		s.opts.Observer.DeployRequestMoved(string(t.To))
	}
}

// move is a move Portside makes itself (approve when no approval is needed, apply, expire,
// follow the rollout), audited as Portside.
func (s *Service) move(ctx context.Context, q Request, to State, actor string, client Client, note string, change func(*Request)) (Request, error) {
	var out Request
	ctx = principal.With(ctx, system)
	err := s.audited(ctx, audit.Entry{Action: "deploys.request." + strings.ToLower(string(to)), Resource: what(q.ID),
		Args: map[string]any{"id": q.ID, "from": q.State, "to": to, "note": clipNote(note)}}, func(ctx context.Context) error {
		var err error
		out, err = s.moveIn(ctx, q, to, actor, client, note, change)
		return err
	})
	if isTakenOver(err) {
		// Another process resumed the apply (this one's lock was lost, or it ran past the grace
		// without a lock the other could see): the outcome is the other's to record.
		s.log.WarnContext(ctx, "deploys: the request's apply was taken over by another; this applier records nothing",
			"request", q.ID, "attempt", q.ApplyAttempt, "to", to, "error", err)
	}
	return out, err
}

func clipNote(s string) string {
	if len([]rune(s)) <= MaxNote {
		return s
	}
	return string([]rune(s)[:MaxNote-1]) + "…"
}

// Link is the request's page in the portal.
func (s *Service) Link(id int64) string {
	return strings.TrimSuffix(s.opts.PortalURL, "/") + "/deploys/" + strconv.FormatInt(id, 10)
}

// apply applies an approved request: unless a sync window holds it (it then waits, with the
// reason), it becomes APPLYING, is committed to its manifest repository, and is ROLLING_OUT (or
// FAILED, with why). It returns the request as it now stands; failures are in its state.
func (s *Service) apply(ctx context.Context, q Request) Request {
	_, ann, err := s.opts.Catalog.ComponentAnnotations(ctx, "component", q.Component)
	var reason string
	if err == nil && s.opts.SyncWindows != nil {
		reason, err = s.opts.SyncWindows.Blocked(ctx, q.Component, ann, q.Environment)
	}
	if err != nil {
		// The catalog or Argo CD cannot say now; the background pass tries again.
		s.log.WarnContext(ctx, "deploys: cannot apply yet", "request", q.ID, "error", err)
		reason = "cannot check the deploy now (" + errs.PublicMessage(err) + "); Portside tries again"
	}
	if reason != "" {
		return s.hold(ctx, q, reason)
	}
	tgt, _, terr := s.currentTarget(ctx, q)
	// Locked before it is APPLYING, so that no request is APPLYING unlocked while its apply runs.
	lock, release, err := s.lockApply(ctx, q.ID)
	defer release()
	switch lock {
	case lockHeld:
		return s.current(ctx, q) // another pass, or another replica, is applying it
	case lockUnknown:
		// Applied unlocked, it would look cut short to the background pass: it waits instead.
		s.log.WarnContext(ctx, "deploys: cannot take the apply lock; the request waits", "request", q.ID, "error", err)
		return s.hold(ctx, q, "cannot apply now ("+errs.PublicMessage(err)+"); Portside tries again")
	}
	applying, err := s.move(ctx, q, Applying, "portside", ClientSystem, "", nil)
	if err != nil {
		// Someone else (the background loop, a cancel) moved it first.
		return s.current(ctx, q)
	}
	if terr != nil {
		out, err := s.move(ctx, applying, Failed, "portside", ClientSystem, errs.PublicMessage(terr), func(q *Request) { q.Outcome = "cannot apply: " + errs.PublicMessage(terr) })
		if err != nil {
			return s.current(ctx, applying)
		}
		return out
	}
	if tgt.Apply == ApplyPullRequest {
		return s.propose(ctx, applying, tgt)
	}
	actx, cancel := context.WithTimeout(ctx, s.opts.ApplyTimeout)
	done, err := s.opts.Applier.Apply(actx, Change{Request: applying, Target: tgt, Link: s.Link(q.ID)})
	cancel()
	if err != nil {
		s.log.ErrorContext(ctx, "deploys: apply", "request", q.ID, "error", err)
		msg := errs.PublicMessage(err)
		out, err := s.move(ctx, applying, Failed, "portside", ClientSystem, msg, func(q *Request) { q.Outcome = "apply failed: " + msg })
		if err != nil {
			return s.current(ctx, applying)
		}
		return out
	}
	out, err := s.move(ctx, applying, RollingOut, "portside", ClientSystem, fmt.Sprintf("commit %s pushed to %s (%s)", short(done.Commit), done.Repo, tgt.Branch),
		func(q *Request) { q.Repo, q.CommitSHA = done.Repo, done.Commit })
	if err != nil {
		if !isTakenOver(err) {
			s.log.ErrorContext(ctx, "deploys: record an applied request", "request", q.ID, "commit", done.Commit, "error", err)
		}
		return s.current(ctx, applying)
	}
	s.refresh(ctx, out, ann)
	return out
}

// refresh tells Argo CD of a pushed request's commit (see Refresher). It is a shortcut, not a
// step: a refusal is logged, and Argo CD finds the commit at its next poll anyway.
func (s *Service) refresh(ctx context.Context, q Request, annotations map[string]string) {
	if s.opts.Refresher == nil {
		return
	}
	ctx = principal.With(ctx, system)
	if err := s.opts.Refresher.Refresh(ctx, q.Component, annotations, q.Environment, what(q.ID)+" pushed commit "+short(q.CommitSHA)); err != nil {
		s.log.WarnContext(ctx, "deploys: ask Argo CD to refresh after a push", "request", q.ID, "error", err)
	}
}

// hold keeps an approved request waiting, with the reason (recorded and published when it changed).
func (s *Service) hold(ctx context.Context, q Request, reason string) Request {
	reason = clipNote(reason)
	if reason == q.Waiting {
		return q
	}
	q.Waiting = reason
	q.UpdatedAt = s.now().UTC()
	e := Event{Request: q, Transition: Transition{RequestID: q.ID, Actor: "portside", Client: ClientSystem, From: q.State, To: q.State, Note: reason, At: q.UpdatedAt}}
	var held bool
	err := s.recs.st.InTx(ctx, func(ctx context.Context) error {
		var err error
		if held, err = s.recs.setWaiting(ctx, q, reason, q.UpdatedAt); err != nil || !held {
			return err
		}
		s.publish(ctx, e)
		return nil
	})
	if err == nil && !held {
		// It moved on meanwhile, or (applying) its apply was taken over: nothing was recorded.
		cur := s.current(ctx, q)
		if cur.State == Applying && q.State == Applying && cur.ApplyAttempt != q.ApplyAttempt {
			s.log.WarnContext(ctx, "deploys: the request's apply was taken over by another; this applier records nothing",
				"request", q.ID, "attempt", q.ApplyAttempt, "current_attempt", cur.ApplyAttempt, "waiting", reason)
		}
		return cur
	}
	if err != nil {
		s.log.ErrorContext(ctx, "deploys: record a held request", "request", q.ID, "error", err)
		s.publish(ctx, e) // as before: this replica's subscribers still hear why it waits
	}
	return q
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// Observe closes the requests rolling out a revision when its rollout ends (succeeded, failed, or
// rolled back when its canary was aborted) and records a running rollout's progress. An
// application come to rest (ev.Settled) closes the requests it reached without a rollout
// (SettlePass).
func (s *Service) Observe(ctx context.Context, ev RolloutEvent) {
	if ev.Settled {
		s.SettlePass(ctx)
		return
	}
	if ev.Revision == "" {
		return
	}
	list, err := s.recs.byCommit(ctx, ev.Revision)
	if err != nil {
		s.log.ErrorContext(ctx, "deploys: find requests of a rollout", "revision", ev.Revision, "error", err)
		return
	}
	for _, q := range list {
		s.follow(ctx, q, ev)
	}
}

// follow moves one request rolling out ev's revision as ev says: closed when the rollout ended,
// its progress recorded (once) while it runs.
func (s *Service) follow(ctx context.Context, q Request, ev RolloutEvent) {
	var to State
	var outcome string
	switch ev.Result {
	case RolloutSucceeded:
		to, outcome = Succeeded, "rolled out"
	case RolloutFailed:
		to, outcome = Failed, "rollout failed"
	case RolloutAborted:
		to, outcome = RolledBack, "rolled back: the canary was aborted"
	default:
		if ev.Progress == "" || s.told(ctx, q.ID, ev.Progress) {
			return
		}
		to = RollingOut
	}
	if ev.Message != "" && to != RollingOut {
		outcome += ": " + ev.Message
	}
	note := ev.Progress
	if to != RollingOut {
		note = outcome
	}
	if _, err := s.move(ctx, q, to, "portside", ClientSystem, note, func(r *Request) {
		if to != RollingOut {
			r.Outcome = clipNote(outcome)
		}
	}); err != nil && !errs.Is(err, errs.Conflict) {
		s.log.ErrorContext(ctx, "deploys: record a rollout", "request", q.ID, "error", err)
	}
}

// told says whether a request's progress note was recorded already, at any point: the store
// refuses it again (records.move), and asking first spares an audited move that would fail.
func (s *Service) told(ctx context.Context, id int64, note string) bool {
	ts, err := s.recs.transitions(ctx, id)
	if err != nil {
		return false // the move finds out
	}
	for _, t := range ts {
		if t.From == RollingOut && t.To == RollingOut && t.Note == clipNote(note) {
			return true
		}
	}
	return false
}

// Tick runs one pass of the background work: it expires the requests nobody approved in time,
// resumes requests a process left APPLYING or ROLLING_OUT (see resumeApplies and resumeRollouts),
// closes those Argo CD reached without a rollout (SettlePass), and applies approved requests a
// sync window or an outage held back (at most MaxBatch of each).
func (s *Service) Tick(ctx context.Context) { s.tick(ctx) }

// expire records that nobody approved q by its expiry; a request something else moved first (a
// concurrent pass, a replica) is left as it is.
func (s *Service) expire(ctx context.Context, q Request) error {
	_, err := s.move(ctx, q, Expired, "portside", ClientSystem, "nobody approved it by "+q.ExpiresAt.Format(time.RFC3339),
		func(r *Request) { r.Outcome = "expired: nobody approved it in time" })
	if errs.Is(err, errs.Conflict) {
		return nil
	}
	return err
}

// pastExpiry says whether q waits for approval past its expiry, recorded or not.
func (s *Service) pastExpiry(q Request) bool {
	return q.State == Requested && q.ExpiresAt != nil && !s.now().Before(*q.ExpiresAt)
}

// tick is Tick; again, when not 0, is how soon one more pass would resume an apply it left alone
// only because it started less than ApplyGrace ago.
func (s *Service) tick(ctx context.Context) (again time.Duration) {
	now := s.now().UTC()
	due, err := s.recs.due(ctx, now)
	if err != nil {
		s.log.ErrorContext(ctx, "deploys: find expired requests", "error", err)
	}
	for _, q := range due {
		if err := s.expire(ctx, q); err != nil {
			s.log.ErrorContext(ctx, "deploys: expire a request", "request", q.ID, "error", err)
		}
	}
	again = s.resumeApplies(ctx, now)
	s.resumeRollouts(ctx, now)
	s.SettlePass(ctx)
	waiting, err := s.recs.inState(ctx, Approved)
	if err != nil {
		s.log.ErrorContext(ctx, "deploys: find approved requests", "error", err)
	}
	for _, q := range waiting {
		if ctx.Err() != nil {
			return again
		}
		s.apply(ctx, q)
	}
	held, err := s.recs.pullRequestsDue(ctx)
	if err != nil {
		s.log.ErrorContext(ctx, "deploys: find requests waiting for a pull request", "error", err)
	}
	for _, q := range held {
		if ctx.Err() != nil {
			return again
		}
		s.repropose(ctx, q)
	}
	return again
}

// StaleApplying is how long a request may stay APPLYING before the background pass takes it for
// one whose apply was cut short whatever its apply lock says (the lock could not be asked for, or
// a session holds it past the end of any apply): an apply ends within ApplyTimeout, so past
// ApplyTimeout and one Interval nobody is applying it any more. With the lock, a request whose
// applying process died is taken sooner: after ApplyGrace (see resumeApplies).
func (s *Service) StaleApplying() time.Duration { return s.opts.ApplyTimeout + s.opts.Interval }

// resumeApplies applies again what a process that died mid-apply left APPLYING, at most MaxBatch
// requests: those at least ApplyGrace old whose apply lock this process can take (their applier's
// session ended: nobody applies them), and those older than StaleApplying whatever the lock says.
// The Applier is idempotent, so a request whose commit the branch already has moves to ROLLING_OUT
// with that commit, and one without gets its commit now (never a second one). Of two replicas,
// the one that claims the request resumes it, holding its lock meanwhile. again is how soon the
// first of the requests left alone for ApplyGrace only would be taken (0: none was).
func (s *Service) resumeApplies(ctx context.Context, now time.Time) (again time.Duration) {
	list, err := s.recs.applying(ctx)
	if err != nil {
		s.log.ErrorContext(ctx, "deploys: find stranded applies", "error", err)
	}
	for _, q := range list {
		if ctx.Err() != nil {
			return again
		}
		if wait := q.UpdatedAt.Add(ApplyGrace).Sub(now); wait > 0 {
			// Just started: its applier may not lock (see ApplyGrace). Looked at again then.
			if again == 0 || wait < again {
				again = wait
			}
			continue
		}
		s.resumeApply(ctx, q, now)
	}
	return again
}

// resumeApply resumes one APPLYING request at least ApplyGrace old if nobody applies it: its lock
// is free, or it is older than StaleApplying (the lock cannot tell, or outlived any apply).
func (s *Service) resumeApply(ctx context.Context, q Request, now time.Time) {
	lock, release, err := s.lockApply(ctx, q.ID)
	defer release()
	before := now.Add(-ApplyGrace)
	if lock != lockTaken {
		if lock == lockUnknown {
			s.log.WarnContext(ctx, "deploys: cannot ask for an apply's lock; resumed after StaleApplying only", "request", q.ID, "error", err)
		}
		before = now.Add(-s.StaleApplying())
		if q.UpdatedAt.After(before) {
			return // applied by a live process, or cannot tell yet
		}
	}
	claimed, err := s.recs.claim(ctx, q.ID, q.ApplyAttempt, before, now)
	if err != nil {
		s.log.ErrorContext(ctx, "deploys: claim a stranded apply", "request", q.ID, "error", err)
		return
	}
	if claimed {
		s.log.InfoContext(ctx, "deploys: resuming an apply cut short", "request", q.ID, "applying_since", q.UpdatedAt, "lock_free", lock == lockTaken,
			"attempt", q.ApplyAttempt+1)
		q.UpdatedAt = now
		q.ApplyAttempt++ // claimed: whoever applied it before records nothing now
		s.reapply(ctx, q)
	}
}

// resumeRollouts picks up the requests a process that died mid-rollout left ROLLING_OUT without a
// move for an Interval, at most MaxBatch: the recorded rollout of its commit (when
// Options.Rollouts can look it up) is observed again, so a rollout that moved or ended while
// nobody followed closes the request; new rollout events keep following it as usual.
func (s *Service) resumeRollouts(ctx context.Context, now time.Time) {
	lookup, ok := s.opts.Rollouts.(RolloutLookup)
	if !ok {
		return
	}
	rolling, err := s.recs.stale(ctx, RollingOut, now.Add(-s.opts.Interval))
	if err != nil {
		s.log.ErrorContext(ctx, "deploys: find requests rolling out", "error", err)
	}
	seen := map[string]bool{}
	for _, q := range rolling {
		if ctx.Err() != nil {
			return
		}
		if q.CommitSHA == "" || seen[q.CommitSHA] {
			continue
		}
		seen[q.CommitSHA] = true
		ev, found, err := lookup.RolloutOf(ctx, q.CommitSHA)
		if err != nil {
			s.log.WarnContext(ctx, "deploys: look up the rollout of a request", "request", q.ID, "error", err)
			continue
		}
		if found {
			s.Observe(ctx, ev)
		}
	}
}

// reapply applies a request left APPLYING again and moves it to ROLLING_OUT (or FAILED).
func (s *Service) reapply(ctx context.Context, q Request) {
	if _, _, err := s.opts.Catalog.ComponentAnnotations(ctx, "component", q.Component); err != nil {
		// The catalog cannot answer, or the component is away: its apply may have pushed
		// already, so it is not failed for that; a later pass tries again.
		s.log.WarnContext(ctx, "deploys: resume an apply: read the component", "request", q.ID, "error", err)
		return
	}
	tgt, ann, err := s.currentTarget(ctx, q)
	if err != nil {
		_, _ = s.move(ctx, q, Failed, "portside", ClientSystem, errs.PublicMessage(err), func(r *Request) { r.Outcome = "cannot apply: " + errs.PublicMessage(err) })
		return
	}
	if tgt.Apply == ApplyPullRequest {
		// Cut short before its pull request was recorded: opening it again finds the branch and
		// the pull request already there, never a second one.
		s.repropose(ctx, q)
		return
	}
	actx, cancel := context.WithTimeout(ctx, s.opts.ApplyTimeout)
	done, err := s.opts.Applier.Apply(actx, Change{Request: q, Target: tgt, Link: s.Link(q.ID)})
	cancel()
	if err != nil {
		s.log.ErrorContext(ctx, "deploys: resume an apply", "request", q.ID, "error", err)
		msg := errs.PublicMessage(err)
		_, _ = s.move(ctx, q, Failed, "portside", ClientSystem, msg, func(r *Request) { r.Outcome = "apply failed: " + msg })
		return
	}
	note := fmt.Sprintf("commit %s pushed to %s (%s), resuming an apply cut short", short(done.Commit), done.Repo, tgt.Branch)
	if done.Found {
		note = fmt.Sprintf("commit %s found in %s (%s): the apply cut short had pushed it", short(done.Commit), done.Repo, tgt.Branch)
	}
	out, err := s.move(ctx, q, RollingOut, "portside", ClientSystem, note, func(r *Request) { r.Repo, r.CommitSHA = done.Repo, done.Commit })
	if err != nil {
		if !isTakenOver(err) {
			s.log.ErrorContext(ctx, "deploys: record a resumed apply", "request", q.ID, "commit", done.Commit, "error", err)
		}
		return
	}
	s.refresh(ctx, out, ann)
}

// Start runs the background work every Interval, and follows the rollouts when Options.Rollouts
// is set, until ctx ends or Stop.
func (s *Service) Start(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel != nil {
		return
	}
	ctx, s.cancel = context.WithCancel(ctx)
	s.done = make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { s.RunTicks(ctx) })
	wg.Go(func() { s.FollowRollouts(ctx) })
	go func() { wg.Wait(); close(s.done) }()
}

// RunTicks runs Tick at once and then every Interval until ctx ends, and once more in between when
// a pass left an apply alone only for being younger than ApplyGrace (so a new leader resumes the
// apply its killed predecessor had just started within seconds, not an Interval later). Start
// runs it in the background; serve runs it on the leader only (package leader): expiring and
// applying held requests is work on shared rows that one process does.
func (s *Service) RunTicks(ctx context.Context) {
	tick := time.NewTicker(s.opts.Interval)
	defer tick.Stop()
	for {
		var soon <-chan time.Time
		if again := s.tick(ctx); again > 0 && again < s.opts.Interval {
			soon = time.After(again)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-soon:
		}
	}
}

// FollowRollouts moves requests as the rollouts of their commits go (see Observe) until ctx ends;
// it returns at once when Options.Rollouts is not set. Start runs it in the background; serve runs
// it on every replica: a rollout's change is published only by the replica that recorded it (see
// rollouts.Tracker), so each replica observes its own share.
//
// An application come to rest, or a rollout that failed or was aborted, starts a SettlePass beside
// the events rather than in their way (it may read a manifest repository): one pass at a time,
// and the rests seen while one runs make one more pass, never a queue.
func (s *Service) FollowRollouts(ctx context.Context) {
	if s.opts.Rollouts == nil {
		return
	}
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer wg.Wait() // after cancel: the pass under way ends with ctx
	defer cancel()
	wake := make(chan struct{}, 1)
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-wake:
				s.SettlePass(ctx)
			}
		}
	})
	for ev := range s.opts.Rollouts.RolloutEvents(ctx) {
		if ev.Settled {
			select {
			case wake <- struct{}{}:
			default: // a pass is already due
			}
			continue
		}
		s.Observe(ctx, ev)
		if ev.Result == RolloutFailed || ev.Result == RolloutAborted {
			// A failed rollout may have superseded requests of earlier commits it contains (see
			// settle): they close as it is heard, not at the next background pass.
			select {
			case wake <- struct{}{}:
			default:
			}
		}
	}
}

// Stop ends the background work and waits for it.
func (s *Service) Stop() {
	s.mu.Lock()
	cancel, done := s.cancel, s.done
	s.cancel = nil
	s.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	s.hub.CloseAll()
}

// signedIn refuses anonymous readers.
func signedIn(ctx context.Context) error {
	if principal.From(ctx) == nil {
		return errs.E(errs.Unauthenticated, "sign in to read deploy requests")
	}
	return nil
}

// Get returns one request, for anyone signed in.
func (s *Service) Get(ctx context.Context, id int64) (Request, error) {
	if err := signedIn(ctx); err != nil {
		return Request{}, err
	}
	return s.recs.byID(ctx, id)
}

// Transitions returns a request's history, oldest first (at most MaxTransitions), for anyone
// signed in.
func (s *Service) Transitions(ctx context.Context, id int64) ([]Transition, error) {
	if err := signedIn(ctx); err != nil {
		return nil, err
	}
	return s.recs.transitions(ctx, id)
}

// List returns a page of requests, newest first, for anyone signed in. Filter.Component is a
// component ref as a client typed it. AwaitingMyApproval lists the requests the caller could
// approve (see awaiting).
func (s *Service) List(ctx context.Context, f Filter, first int, after string) (*Page, error) {
	if err := signedIn(ctx); err != nil {
		return nil, err
	}
	if f.Component != "" {
		if err := text.Length("filter.component", f.Component, MaxRef); err != nil {
			return nil, err
		}
		ref, _, err := s.opts.Catalog.ComponentAnnotations(ctx, "filter.component", f.Component)
		if err != nil {
			return nil, err
		}
		f.Component = ref
	}
	if f.Environment != "" {
		if err := checkEnvironment(f.Environment); err != nil {
			return nil, errs.InvalidField("filter.environment", "%s", strings.TrimPrefix(errs.PublicMessage(err), "environment: "))
		}
	}
	if len(f.States) > len(States) {
		return nil, errs.InvalidField("filter.states", "names %d states; there are %d", len(f.States), len(States))
	}
	if err := text.Length("filter.requester", f.Requester, MaxRef); err != nil {
		return nil, err
	}
	if f.Mine {
		if f.Requester != "" && f.Requester != principal.From(ctx).Actor() {
			return nil, errs.InvalidField("filter.mine", "asks for your requests, and filter.requester for %s's", clip(f.Requester))
		}
		f.Requester = principal.From(ctx).Actor()
	}
	if f.AwaitingMyApproval {
		if err := s.awaiting(ctx, &f); err != nil {
			return nil, err
		}
	}
	return s.recs.list(ctx, f, first, after)
}

// MaxAwaitingComponents bounds the components whose ownership one "awaiting my approval" list
// checks (requests expire, so this many components with requests waiting at once is already
// unusual); past it the list asks to be narrowed to a component.
const MaxAwaitingComponents = 200

// awaiting narrows f to the requests waiting for the caller's decision: REQUESTED, not asked for
// by the caller, of components whose requests the caller may approve (the rule Approve applies:
// every component for an admin, the components they own for the others, none for a credential
// that may not approve).
func (s *Service) awaiting(ctx context.Context, f *Filter) error {
	p := principal.From(ctx)
	f.awaitingBy = p.Actor()
	f.awaitingAt = s.now().UTC()
	if err := policy.Gate(p, policy.DeployApprove); err != nil {
		f.components = []string{}
		return nil
	}
	if p.Admin {
		return nil
	}
	refs, err := s.recs.awaitingComponents(ctx, p.Actor(), f.Component, MaxAwaitingComponents+1)
	if err != nil {
		return err
	}
	if len(refs) > MaxAwaitingComponents {
		return errs.InvalidField("filter.awaitingMyApproval", "requests of more than %d components wait for a decision; narrow the list with filter.component", MaxAwaitingComponents)
	}
	f.components = []string{}
	for _, ref := range refs {
		err := s.authorize(ctx, policy.DeployApprove, ref)
		switch {
		case err == nil:
			f.components = append(f.components, ref)
		case !errs.Is(err, errs.Forbidden):
			return err
		}
	}
	return nil
}

// Environment is an environment a component is deployed to, with how its requests are handled.
type Environment struct {
	Name string
	// RequireApproval: a request waits for a second person (see EnvironmentPolicy).
	RequireApproval bool
}

// Environments lists the environments a component's portside.dev/deploy annotation names, by
// name, for anyone signed in; a malformed annotation is INVALID naming it.
func (s *Service) Environments(ctx context.Context, annotations map[string]string) ([]Environment, error) {
	if err := signedIn(ctx); err != nil {
		return nil, err
	}
	ts, err := Targets(annotations)
	if err != nil {
		return nil, err
	}
	out := make([]Environment, 0, len(ts))
	for env := range ts {
		out = append(out, Environment{Name: env, RequireApproval: s.Policy(env).RequireApproval})
	}
	slices.SortFunc(out, func(a, b Environment) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Watch delivers every move of the requests of a component ("" for every component) or of one
// request (id > 0) until ctx ends or the subscriber falls behind, for anyone signed in.
func (s *Service) Watch(ctx context.Context, component string, id int64) (*Subscription, error) {
	if err := signedIn(ctx); err != nil {
		return nil, err
	}
	if component != "" {
		if err := text.Length("component", component, MaxRef); err != nil {
			return nil, err
		}
		ref, _, err := s.opts.Catalog.ComponentAnnotations(ctx, "component", component)
		if err != nil {
			return nil, err
		}
		component = ref
	}
	return s.hub.Subscribe(ctx, func(e Event) bool {
		return (component == "" || e.Request.Component == component) && (id == 0 || e.Request.ID == id)
	}), nil
}

// Subscribers counts the open subscriptions (tests wait for a subscription to be registered).
func (s *Service) Subscribers() int { return s.hub.Len() }

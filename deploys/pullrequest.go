package deploys

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/portside-dev/portside/errs"
)

// A target applied by pull request (Target.Apply is ApplyPullRequest) is applied in two steps.
// Applying commits the bump on the request's own branch (BranchOf), pushes it and opens a pull
// request into the target's branch; the request records the pull request (an APPLYING → APPLYING
// transition) and stays APPLYING, waiting for it to be merged. The background pass (Tick) then
// reads the pull request: once merged, the request follows the rollout of the merge commit like a
// pushed one; closed without being merged, it fails saying so. Every step is idempotent: the pull
// request from the branch is looked for before anything is pushed or opened, so a retry (after a
// restart, a host that could not be reached) never opens a second one.

// WaitingForMerge is what an applying request says while its pull request is open.
func WaitingForMerge(url string) string { return "waiting for the pull request to merge: " + url }

// PullRequestTitle is the title of a request's pull request.
func PullRequestTitle(q Request) string {
	return clipNote(fmt.Sprintf("Deploy %s %s to %s (deploy request %d)", q.Component, q.Version, q.Environment, q.ID))
}

// PullRequestBody is the description of a request's pull request: what, why, who asked, who
// approved, and the link to the request.
func PullRequestBody(q Request, link string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Deploys `%s` **%s** to **%s**: [deploy request %d](%s) in Portside.\n\n", q.Component, q.Version, q.Environment, q.ID, link)
	if q.Reason != "" {
		fmt.Fprintf(&b, "Reason: %s\n\n", q.Reason)
	}
	fmt.Fprintf(&b, "- Requested by: %s\n- Approved by: %s\n", q.Requester, q.Approver)
	if q.PipelineRunID != nil {
		fmt.Fprintf(&b, "- Built by pipeline run: %d\n", *q.PipelineRunID)
	}
	b.WriteString("\nMerging this pull request applies the deploy; Portside then follows its rollout. Closing it without merging fails the deploy request.\n")
	return b.String()
}

// propose applies an APPLYING request to a target applied by pull request: it finds the request's
// pull request, or commits and pushes its branch and opens one, records it, and follows it.
// Failures a retry may cure (a host that cannot be reached) keep the request APPLYING with the
// reason, for the background pass; the others fail it.
func (s *Service) propose(ctx context.Context, q Request, t Target) Request {
	if s.opts.Proposer == nil || s.opts.PullRequests == nil {
		return s.fail(ctx, q, "cannot apply: "+AnnotationDeploy+" asks for a pull request, and this Portside has no pull requests configured")
	}
	actx, cancel := context.WithTimeout(ctx, s.opts.ApplyTimeout)
	defer cancel()
	branch := BranchOf(q.ID)
	repo := q.Repo
	pr, err := s.opts.PullRequests.Find(actx, t, branch)
	if errs.Is(err, errs.NotFound) {
		var done Applied
		done, err = s.opts.Proposer.Propose(actx, Change{Request: q, Target: t, Link: s.Link(q.ID)}, branch)
		if err == nil {
			repo = done.Repo
			pr, err = s.opts.PullRequests.Open(actx, t, NewPullRequest{Branch: branch, Title: PullRequestTitle(q), Body: PullRequestBody(q, s.Link(q.ID))})
			if errs.Is(err, errs.Conflict) {
				// Opened meanwhile (another pass, another replica): that one is this request's.
				pr, err = s.opts.PullRequests.Find(actx, t, branch)
			}
		}
	}
	if err != nil {
		msg := errs.PublicMessage(err)
		s.log.ErrorContext(ctx, "deploys: pull request", "request", q.ID, "error", err)
		if errs.Is(err, errs.Unavailable) {
			return s.hold(ctx, q, "cannot open the pull request now ("+msg+"); Portside tries again")
		}
		return s.fail(ctx, q, "apply failed: "+msg)
	}
	if cur := s.current(ctx, q); cur.State == Applying && cur.ApplyAttempt == q.ApplyAttempt && cur.PullRequestURL == pr.URL {
		q = cur // another pass (another replica) recorded it meanwhile
	}
	if q.PullRequestURL != pr.URL {
		next, err := s.move(ctx, q, Applying, "portside", ClientSystem, "pull request opened: "+pr.URL, func(r *Request) {
			r.PullRequestURL, r.Waiting = pr.URL, WaitingForMerge(pr.URL)
			if repo != "" {
				r.Repo = repo
			}
		})
		if err != nil {
			if !isTakenOver(err) {
				s.log.ErrorContext(ctx, "deploys: record a pull request", "request", q.ID, "pull_request", pr.URL, "error", err)
			}
			return s.current(ctx, q)
		}
		q = next
	}
	return s.followPullRequest(ctx, q, pr)
}

// followPullRequest moves a request as its pull request stands: merged, it rolls out the merge
// commit; closed, it fails; open, it waits.
func (s *Service) followPullRequest(ctx context.Context, q Request, pr PullRequest) Request {
	var next Request
	var err error
	switch {
	case pr.State == PullRequestMerged && pr.MergeCommit != "":
		next, err = s.move(ctx, q, RollingOut, "portside", ClientSystem, fmt.Sprintf("pull request merged: commit %s (%s)", short(pr.MergeCommit), pr.URL),
			func(r *Request) { r.CommitSHA = pr.MergeCommit })
	case pr.State == PullRequestMerged:
		return s.hold(ctx, q, "the pull request is merged; waiting for "+pr.URL+" to name its merge commit")
	case pr.State == PullRequestClosed:
		return s.fail(ctx, q, "the pull request was closed without being merged: "+pr.URL)
	default:
		return s.hold(ctx, q, WaitingForMerge(pr.URL))
	}
	if err != nil {
		if !errs.Is(err, errs.Conflict) {
			s.log.ErrorContext(ctx, "deploys: record a merged pull request", "request", q.ID, "error", err)
		}
		return s.current(ctx, q)
	}
	return next
}

// repropose is the background pass's look at an APPLYING request applied by pull request: it
// opens the pull request when that could not be done before, and follows it.
func (s *Service) repropose(ctx context.Context, q Request) Request {
	_, ann, err := s.opts.Catalog.ComponentAnnotations(ctx, "component", q.Component)
	var t Target
	if err == nil {
		t, err = target(q.Component, ann, q.Environment)
	}
	if err != nil {
		if errs.Is(err, errs.Invalid) || errs.Is(err, errs.NotFound) {
			return s.fail(ctx, q, "cannot apply: "+errs.PublicMessage(err))
		}
		return s.hold(ctx, q, "cannot read the catalog now ("+errs.PublicMessage(err)+"); Portside tries again")
	}
	if t.Apply != ApplyPullRequest {
		return s.fail(ctx, q, "cannot apply: the target of "+q.Environment+" is no longer applied by pull request; request the deploy again")
	}
	if q.PullRequestURL == "" || s.opts.PullRequests == nil {
		return s.propose(ctx, q, t)
	}
	actx, cancel := context.WithTimeout(ctx, s.opts.ApplyTimeout)
	defer cancel()
	pr, err := s.opts.PullRequests.Find(actx, t, BranchOf(q.ID))
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return s.fail(ctx, q, "the pull request "+q.PullRequestURL+" is gone")
		}
		return s.hold(ctx, q, "cannot read the pull request now ("+errs.PublicMessage(err)+"); Portside tries again")
	}
	return s.followPullRequest(ctx, q, pr)
}

// fail ends an APPLYING request as FAILED with why.
func (s *Service) fail(ctx context.Context, q Request, outcome string) Request {
	out, err := s.move(ctx, q, Failed, "portside", ClientSystem, outcome, func(r *Request) { r.Outcome = clipNote(outcome) })
	if err != nil {
		if !errs.Is(err, errs.Conflict) {
			s.log.ErrorContext(ctx, "deploys: fail a request", "request", q.ID, "error", err)
		}
		return s.current(ctx, q)
	}
	return out
}

// current is the request as stored now (after a move another pass made first), or q.
func (s *Service) current(ctx context.Context, q Request) Request {
	if now, err := s.recs.byID(ctx, q.ID); err == nil {
		return now
	}
	return q
}

// RequestOfBranch is the request a branch named by BranchOf belongs to; ok is false for any other
// branch.
func RequestOfBranch(branch string) (id int64, ok bool) {
	n, found := strings.CutPrefix(branch, "portside/deploy-")
	if !found || n == "" || len(n) > 18 || strings.TrimLeft(n, "0123456789") != "" || n[0] == '0' {
		return 0, false
	}
	id, err := strconv.ParseInt(n, 10, 64)
	return id, err == nil && id > 0
}

// PullRequestClosed is a code host's word (a verified webhook delivery) that a pull request from
// branch in project was merged or closed: the request the branch belongs to moves at once, as the
// background pass would move it (which still follows it, should a delivery be lost). The pull
// request is read from the host: a delivery only says where to look. A branch that is no request's
// of this Portside (another project, another provider, a request not waiting for its pull
// request) is ignored.
func (s *Service) PullRequestClosed(ctx context.Context, provider, project, branch string) {
	id, ok := RequestOfBranch(branch)
	if !ok {
		return
	}
	q, err := s.recs.byID(ctx, id)
	if err != nil {
		if !errs.Is(err, errs.NotFound) {
			s.log.WarnContext(ctx, "deploys: a pull request's delivery: read the request", "request", id, "error", err)
		}
		return
	}
	if q.State != Applying || q.PullRequestURL == "" {
		return
	}
	_, ann, err := s.opts.Catalog.ComponentAnnotations(ctx, "component", q.Component)
	if err != nil {
		return // the background pass reads the catalog again
	}
	t, err := target(q.Component, ann, q.Environment)
	if err != nil || t.Apply != ApplyPullRequest || t.Provider != provider || !strings.EqualFold(t.Project, project) {
		return
	}
	s.repropose(ctx, q)
}

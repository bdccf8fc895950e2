// Package pullrequests opens and reads deploy requests' pull requests on GitHub and merge requests
// on GitLab (deploys.PullRequests), through the pipeline providers' clients: one token, one API
// root and one rate-limit budget per code host, whether Portside runs a pipeline or opens a pull
// request there. It is an adapter: the deploys domain knows no SDK.
package pullrequests

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	gh "github.com/google/go-github/v75/github"
	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/portside-dev/portside/deploys"
	"github.com/portside-dev/portside/errs"
)

// GitHubClient is what the GitHub pipeline provider lends (pipelines/github.Provider.Call).
type GitHubClient interface {
	Call(what string, fn func(*gh.Client) error) error
}

// GitLabClient is what the GitLab pipeline provider lends (pipelines/gitlab.Provider.Call).
type GitLabClient interface {
	Call(what string, fn func(*gl.Client) error) error
}

// Hosts opens pull requests on the code host a target names (Target.Provider).
type Hosts struct {
	GitHub GitHubClient
	GitLab GitLabClient
}

var _ deploys.PullRequests = Hosts{}

// Find returns the newest pull request from branch into the target's branch.
func (h Hosts) Find(ctx context.Context, t deploys.Target, branch string) (deploys.PullRequest, error) {
	switch {
	case t.Provider == deploys.ProviderGitHub && h.GitHub != nil:
		return githubFind(ctx, h.GitHub, t, branch)
	case t.Provider == deploys.ProviderGitLab && h.GitLab != nil:
		return gitlabFind(ctx, h.GitLab, t, branch)
	}
	return deploys.PullRequest{}, unknown(t)
}

// Open opens a pull request into the target's branch; one already open from the branch is a
// CONFLICT.
func (h Hosts) Open(ctx context.Context, t deploys.Target, pr deploys.NewPullRequest) (deploys.PullRequest, error) {
	switch {
	case t.Provider == deploys.ProviderGitHub && h.GitHub != nil:
		return githubOpen(ctx, h.GitHub, t, pr)
	case t.Provider == deploys.ProviderGitLab && h.GitLab != nil:
		return gitlabOpen(ctx, h.GitLab, t, pr)
	}
	return deploys.PullRequest{}, unknown(t)
}

func unknown(t deploys.Target) error {
	return errs.InvalidField(deploys.AnnotationDeploy+"."+t.Environment+".provider", "%q: this Portside opens no pull requests there", t.Provider)
}

func split(project string) (string, string) {
	owner, name, _ := strings.Cut(project, "/")
	return owner, name
}

// githubFind lists the pull requests whose head is the branch (of the repository itself: Portside
// pushes it there), newest first, in any state.
func githubFind(ctx context.Context, c GitHubClient, t deploys.Target, branch string) (deploys.PullRequest, error) {
	owner, repo := split(t.Project)
	var list []*gh.PullRequest
	err := c.Call("list the pull requests of "+t.Project+" from "+branch, func(cl *gh.Client) error {
		var err error
		list, _, err = cl.PullRequests.List(ctx, owner, repo, &gh.PullRequestListOptions{State: "all", Head: owner + ":" + branch,
			Base: t.Branch, Sort: "created", Direction: "desc", ListOptions: gh.ListOptions{PerPage: 1}})
		return err
	})
	if err != nil {
		return deploys.PullRequest{}, err
	}
	if len(list) == 0 {
		return deploys.PullRequest{}, errs.E(errs.NotFound, "GitHub: %s has no pull request from %s into %s", t.Project, branch, t.Branch)
	}
	return fromGitHub(list[0]), nil
}

func githubOpen(ctx context.Context, c GitHubClient, t deploys.Target, in deploys.NewPullRequest) (deploys.PullRequest, error) {
	owner, repo := split(t.Project)
	var pr *gh.PullRequest
	err := c.Call("open a pull request on "+t.Project+" from "+in.Branch, func(cl *gh.Client) error {
		var err error
		pr, _, err = cl.PullRequests.Create(ctx, owner, repo, &gh.NewPullRequest{Title: gh.Ptr(in.Title), Head: gh.Ptr(in.Branch),
			Base: gh.Ptr(t.Branch), Body: gh.Ptr(in.Body), MaintainerCanModify: gh.Ptr(false)})
		var er *gh.ErrorResponse
		// GitHub answers 422 "A pull request already exists for owner:branch." to a second one.
		if errorsAs(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusUnprocessableEntity && alreadyExists(er) {
			return errs.E(errs.Conflict, "GitHub: a pull request from %s into %s is already open on %s", in.Branch, t.Branch, t.Project)
		}
		return err
	})
	if err != nil {
		return deploys.PullRequest{}, err
	}
	return fromGitHub(pr), nil
}

func alreadyExists(er *gh.ErrorResponse) bool {
	if strings.Contains(er.Message, "already exists") {
		return true
	}
	for _, e := range er.Errors {
		if strings.Contains(e.Message, "already exists") {
			return true
		}
	}
	return false
}

// fromGitHub reads a pull request: merged when it has a merge time (lists do not carry "merged"),
// closed when closed without one. merge_commit_sha is then the commit on the base branch (a merge
// commit, the squashed commit, or the last rebased one).
func fromGitHub(pr *gh.PullRequest) deploys.PullRequest {
	out := deploys.PullRequest{URL: pr.GetHTMLURL(), State: deploys.PullRequestOpen}
	switch {
	case pr.MergedAt != nil || pr.GetMerged():
		out.State, out.MergeCommit = deploys.PullRequestMerged, pr.GetMergeCommitSHA()
	case pr.GetState() == "closed":
		out.State = deploys.PullRequestClosed
	}
	return out
}

// project is the project as client-go takes it: its path or its numeric ID.
func project(p string) any {
	if id, err := strconv.ParseInt(p, 10, 64); err == nil {
		return id
	}
	return p
}

// gitlabFind lists the merge requests from the branch into the target's branch, newest first, in
// any state.
func gitlabFind(ctx context.Context, c GitLabClient, t deploys.Target, branch string) (deploys.PullRequest, error) {
	var list []*gl.BasicMergeRequest
	err := c.Call("list the merge requests of "+t.Project+" from "+branch, func(cl *gl.Client) error {
		var err error
		list, _, err = cl.MergeRequests.ListProjectMergeRequests(project(t.Project), &gl.ListProjectMergeRequestsOptions{
			ListOptions: gl.ListOptions{PerPage: 1}, State: gl.Ptr("all"), OrderBy: gl.Ptr("created_at"), Sort: gl.Ptr("desc"),
			SourceBranch: gl.Ptr(branch), TargetBranch: gl.Ptr(t.Branch)}, gl.WithContext(ctx))
		return err
	})
	if err != nil {
		return deploys.PullRequest{}, err
	}
	if len(list) == 0 {
		return deploys.PullRequest{}, errs.E(errs.NotFound, "GitLab: %s has no merge request from %s into %s", t.Project, branch, t.Branch)
	}
	return fromGitLab(list[0]), nil
}

func gitlabOpen(ctx context.Context, c GitLabClient, t deploys.Target, in deploys.NewPullRequest) (deploys.PullRequest, error) {
	var mr *gl.MergeRequest
	err := c.Call("open a merge request on "+t.Project+" from "+in.Branch, func(cl *gl.Client) error {
		var err error
		mr, _, err = cl.MergeRequests.CreateMergeRequest(project(t.Project), &gl.CreateMergeRequestOptions{Title: gl.Ptr(in.Title),
			Description: gl.Ptr(in.Body), SourceBranch: gl.Ptr(in.Branch), TargetBranch: gl.Ptr(t.Branch)}, gl.WithContext(ctx))
		var er *gl.ErrorResponse
		// GitLab answers 409 "Another open merge request already exists for this source branch".
		if errorsAs(err, &er) && er.Response != nil && er.Response.StatusCode == http.StatusConflict {
			return errs.E(errs.Conflict, "GitLab: a merge request from %s into %s is already open on %s", in.Branch, t.Branch, t.Project)
		}
		return err
	})
	if err != nil {
		return deploys.PullRequest{}, err
	}
	return fromGitLab(&mr.BasicMergeRequest), nil
}

// fromGitLab reads a merge request. The commit a merge left on the target branch is its merge
// commit, or the squash commit (squashed, fast-forward), or its head (fast-forward).
func fromGitLab(mr *gl.BasicMergeRequest) deploys.PullRequest {
	out := deploys.PullRequest{URL: mr.WebURL, State: deploys.PullRequestOpen}
	switch mr.State {
	case "merged":
		out.State = deploys.PullRequestMerged
		for _, sha := range []string{mr.MergeCommitSHA, mr.SquashCommitSHA, mr.SHA} {
			if sha != "" {
				out.MergeCommit = sha
				break
			}
		}
	case "closed":
		out.State = deploys.PullRequestClosed
	}
	return out
}

func errorsAs(err error, target any) bool { return err != nil && errors.As(err, target) }

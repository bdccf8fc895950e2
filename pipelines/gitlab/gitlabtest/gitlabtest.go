// Package gitlabtest is an in-process GitLab REST server (API v4) for tests from other packages: the
// merge request endpoints deploy requests call (list a project's merge requests with GitLab's
// filters, create one, refusing a second open one from a branch with 409 as GitLab does), for any
// project by path or ID, with the PRIVATE-TOKEN header checked. Merge requests move only when the
// caller scripts them. (The pipeline endpoints' fake lives with the GitLab provider's tests.)
package gitlabtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Stamp is the time every merge request shows.
const Stamp = "2026-01-02T03:04:05Z"

// MergeRequest is a merge request as GitLab's REST API shows it (the fields Portside reads, and a
// few more a client shows).
type MergeRequest struct {
	ID              int64  `json:"id"`
	IID             int64  `json:"iid"`
	ProjectID       int64  `json:"project_id"`
	Title           string `json:"title"`
	Description     string `json:"description"`
	State           string `json:"state"` // opened, closed, merged
	SourceBranch    string `json:"source_branch"`
	TargetBranch    string `json:"target_branch"`
	WebURL          string `json:"web_url"`
	SHA             string `json:"sha"`
	MergeCommitSHA  string `json:"merge_commit_sha,omitempty"`
	SquashCommitSHA string `json:"squash_commit_sha,omitempty"`
	CreatedAt       string `json:"created_at"`
}

// Server is the scripted GitLab.
type Server struct {
	// URL is the instance's root to give the provider as its BaseURL.
	URL string
	// Token is the PRIVATE-TOKEN every request must carry ("" accepts any).
	Token string

	mu       sync.Mutex
	mrs      map[string][]*MergeRequest // project path → merge requests, by IID
	nextID   int64
	requests atomic.Int64
}

// Cleaner is what Start needs of its caller (a testing.TB).
type Cleaner interface{ Cleanup(func()) }

// Start serves the API until the test ends; requests must carry token.
func Start(tb Cleaner, token string) *Server {
	s := &Server{Token: token, mrs: map[string][]*MergeRequest{}, nextID: 5000}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(srv.Close)
	s.URL = srv.URL + "/"
	return s
}

// serve routes by the escaped path: a project's path travels URL-encoded (acme%2Fmanifests) as one
// segment of /api/v4/projects/:id/merge_requests.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	if s.Token != "" && r.Header.Get("PRIVATE-TOKEN") != s.Token {
		reply(w, http.StatusUnauthorized, map[string]string{"message": "401 Unauthorized"})
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/api/v4/"), "/")
	if len(parts) != 3 || parts[0] != "projects" || parts[2] != "merge_requests" {
		reply(w, http.StatusNotFound, map[string]string{"message": "404 Not Found"})
		return
	}
	project, err := url.PathUnescape(parts[1])
	if err != nil {
		reply(w, http.StatusBadRequest, map[string]string{"message": "bad project"})
		return
	}
	switch r.Method {
	case http.MethodGet:
		s.list(w, r, project)
	case http.MethodPost:
		s.create(w, r, project)
	default:
		reply(w, http.StatusMethodNotAllowed, map[string]string{"message": "405 Method Not Allowed"})
	}
}

// list answers GET /projects/:id/merge_requests with GitLab's filters: state (opened, closed,
// merged, all; default all), source_branch, target_branch, sort (of the creation order), per_page.
func (s *Server) list(w http.ResponseWriter, r *http.Request, project string) {
	q := r.URL.Query()
	per, _ := strconv.Atoi(q.Get("per_page"))
	if per <= 0 || per > 100 {
		per = 20
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	all := s.mrs[project]
	list := []*MergeRequest{}
	for i := range all {
		mr := all[len(all)-1-i] // GitLab's default: created_at desc
		if q.Get("sort") == "asc" {
			mr = all[i]
		}
		switch {
		case q.Get("state") != "" && q.Get("state") != "all" && mr.State != q.Get("state"),
			q.Get("source_branch") != "" && mr.SourceBranch != q.Get("source_branch"),
			q.Get("target_branch") != "" && mr.TargetBranch != q.Get("target_branch"):
			continue
		}
		if list = append(list, mr); len(list) == per {
			break
		}
	}
	reply(w, http.StatusOK, list)
}

// create answers POST /projects/:id/merge_requests: 201 with the merge request, 409 when the
// source branch already has an open one into the target, 400 when a field is missing.
func (s *Server) create(w http.ResponseWriter, r *http.Request, project string) {
	var in struct {
		Title        string `json:"title"`
		Description  string `json:"description"`
		SourceBranch string `json:"source_branch"`
		TargetBranch string `json:"target_branch"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Title == "" || in.SourceBranch == "" || in.TargetBranch == "" {
		reply(w, http.StatusBadRequest, map[string]string{"message": "title, source_branch and target_branch are required"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, mr := range s.mrs[project] {
		if mr.State == "opened" && mr.SourceBranch == in.SourceBranch && mr.TargetBranch == in.TargetBranch {
			reply(w, http.StatusConflict, map[string][]string{"message": {fmt.Sprintf("Another open merge request already exists for this source branch: !%d", mr.IID)}})
			return
		}
	}
	s.nextID++
	iid := int64(len(s.mrs[project]) + 1)
	mr := &MergeRequest{ID: s.nextID, IID: iid, ProjectID: 42, Title: in.Title, Description: in.Description, State: "opened",
		SourceBranch: in.SourceBranch, TargetBranch: in.TargetBranch, CreatedAt: Stamp,
		WebURL: fmt.Sprintf("https://gitlab.example/%s/-/merge_requests/%d", project, iid)}
	s.mrs[project] = append(s.mrs[project], mr)
	reply(w, http.StatusCreated, mr)
}

func reply(w http.ResponseWriter, code int, v any) {
	body, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

// MergeRequests returns copies of a project's merge requests, by IID.
func (s *Server) MergeRequests(project string) []MergeRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]MergeRequest, len(s.mrs[project]))
	for i, mr := range s.mrs[project] {
		out[i] = *mr
	}
	return out
}

// Merge merges a merge request as GitLab would with a merge commit: sha is the commit left on the
// target branch (the caller pushes it to the real repository). It reports whether it exists.
func (s *Server) Merge(project string, iid int64, sha string) bool {
	return s.script(project, iid, func(mr *MergeRequest) { mr.State, mr.MergeCommitSHA = "merged", sha })
}

// Close closes a merge request without merging it; it reports whether it exists.
func (s *Server) Close(project string, iid int64) bool {
	return s.script(project, iid, func(mr *MergeRequest) { mr.State = "closed" })
}

func (s *Server) script(project string, iid int64, fn func(*MergeRequest)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.mrs[project]
	if iid < 1 || iid > int64(len(list)) {
		return false
	}
	fn(list[iid-1])
	return true
}

// Requests counts every request served.
func (s *Server) Requests() int64 { return s.requests.Load() }

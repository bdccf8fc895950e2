package githubtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Pull is a pull request as GitHub's REST API shows it (the fields Portside reads, and a few
// more a client shows).
type Pull struct {
	ID             int64   `json:"id"`
	Number         int     `json:"number"`
	State          string  `json:"state"` // open or closed
	Title          string  `json:"title"`
	Body           string  `json:"body"`
	HTMLURL        string  `json:"html_url"`
	Head           PullRef `json:"head"`
	Base           PullRef `json:"base"`
	MergedAt       *string `json:"merged_at"`
	MergeCommitSHA *string `json:"merge_commit_sha"`
	CreatedAt      string  `json:"created_at"`
}

// PullRef is a pull request's head or base.
type PullRef struct {
	Label string `json:"label"` // owner:branch
	Ref   string `json:"ref"`
}

// listPulls answers GET /repos/{owner}/{repo}/pulls with GitHub's filters: state (open, closed,
// all; default open), head (owner:branch), base, direction (of the creation order; sort=created is
// the only order kept), per_page.
func (s *Server) listPulls(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	per, _ := strconv.Atoi(q.Get("per_page"))
	if per <= 0 || per > 100 {
		per = 30
	}
	all := s.pulls[r.PathValue("owner")+"/"+r.PathValue("repo")]
	list := []*Pull{}
	for i := range all {
		p := all[i]
		if q.Get("direction") == "desc" {
			p = all[len(all)-1-i]
		}
		switch {
		case state != "all" && p.State != state,
			q.Get("head") != "" && p.Head.Label != q.Get("head"),
			q.Get("base") != "" && p.Base.Ref != q.Get("base"):
			continue
		}
		if list = append(list, p); len(list) == per {
			break
		}
	}
	s.write(w, r, list)
}

// createPull answers POST /repos/{owner}/{repo}/pulls: 201 with the pull request, or 422 as GitHub
// answers when the head already has an open one into the base, or a field is missing.
func (s *Server) createPull(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Title, Head, Base, Body string
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.Title == "" || in.Head == "" || in.Base == "" {
		invalid(w, "title, head and base are required")
		return
	}
	owner, repo := r.PathValue("owner"), r.PathValue("repo")
	label := in.Head
	if !strings.Contains(label, ":") {
		label = owner + ":" + in.Head
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	key := owner + "/" + repo
	for _, p := range s.pulls[key] {
		if p.State == "open" && p.Head.Label == label && p.Base.Ref == in.Base {
			invalid(w, "A pull request already exists for "+label+".")
			return
		}
	}
	s.nextID++
	n := len(s.pulls[key]) + 1
	p := &Pull{ID: s.nextID, Number: n, State: "open", Title: in.Title, Body: in.Body,
		HTMLURL: fmt.Sprintf("https://github.example/%s/pull/%d", key, n), CreatedAt: Stamp,
		Head: PullRef{Label: label, Ref: label[strings.Index(label, ":")+1:]}, Base: PullRef{Label: owner + ":" + in.Base, Ref: in.Base}}
	s.pulls[key] = append(s.pulls[key], p)
	body, _ := json.Marshal(p)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(body)
}

func invalid(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnprocessableEntity)
	body, _ := json.Marshal(map[string]any{"message": "Validation Failed", "errors": []map[string]string{{"resource": "PullRequest", "code": "custom", "message": msg}},
		"documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request"})
	_, _ = w.Write(body)
}

// Pulls returns copies of a repository's ("owner/repo") pull requests, by number.
func (s *Server) Pulls(repo string) []Pull {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Pull, len(s.pulls[repo]))
	for i, p := range s.pulls[repo] {
		out[i] = *p
	}
	return out
}

// MergePull merges a pull request as GitHub would, leaving sha on the base branch (the caller
// pushes that commit to the real repository); it reports whether the pull request exists.
func (s *Server) MergePull(repo string, number int, sha string) bool {
	return s.scriptPull(repo, number, func(p *Pull) {
		at := Stamp
		p.State, p.MergedAt, p.MergeCommitSHA = "closed", &at, &sha
	})
}

// ClosePull closes a pull request without merging it; it reports whether it exists.
func (s *Server) ClosePull(repo string, number int) bool {
	return s.scriptPull(repo, number, func(p *Pull) { p.State = "closed" })
}

func (s *Server) scriptPull(repo string, number int, fn func(p *Pull)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.pulls[repo]
	if number < 1 || number > len(list) {
		return false
	}
	fn(list[number-1])
	return true
}

// Package githubtest is an in-process GitHub Actions REST server for tests and benchmarks of the
// GitHub provider from other packages: the endpoints the provider calls, under /api/v3/ (GitHub
// Enterprise Server's root), for any repository and workflow, with ETags and 304s as GitHub
// answers them, a count of every request (and of the 304s, which GitHub does not count against
// the rate limit), and signed webhook deliveries. Runs move only when the caller scripts them.
// It also keeps pull requests (list, create: see pulls.go), which deploy requests open.
package githubtest

import (
	"archive/zip"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Stamp is the time every scripted run and job shows.
const Stamp = "2026-01-02T03:04:05Z"

// CommitStamp is when the commit every scripted run builds was made: an hour before Stamp.
const CommitStamp = "2026-01-02T02:04:05Z"

// HeadCommit is the commit a run builds, as GitHub shows it in a workflow run.
type HeadCommit struct {
	ID        string `json:"id"`
	Message   string `json:"message"`
	Timestamp string `json:"timestamp"`
}

// Run is a workflow run as GitHub's REST API shows it.
type Run struct {
	ID           int64       `json:"id"`
	Name         string      `json:"name"`
	DisplayTitle string      `json:"display_title"`
	HeadSHA      string      `json:"head_sha"`
	HeadCommit   *HeadCommit `json:"head_commit,omitempty"`
	Status       string      `json:"status"`
	Conclusion   string      `json:"conclusion,omitempty"`
	RunAttempt   int         `json:"run_attempt"`
	HTMLURL      string      `json:"html_url"`
	RunStartedAt string      `json:"run_started_at"`
	UpdatedAt    string      `json:"updated_at"`
	Event        string      `json:"event"`
	Jobs         []Job       `json:"-"`
	// Output, when set, is the portside-output file the run uploads as an artifact of that
	// name (served zipped, behind the redirect to a signed URL GitHub answers).
	Output   string `json:"-"`
	workflow string
}

// Job is one job of a run.
type Job struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Status      string `json:"status"`
	Conclusion  string `json:"conclusion,omitempty"`
	StartedAt   string `json:"started_at,omitempty"`
	CompletedAt string `json:"completed_at,omitempty"`
	HTMLURL     string `json:"html_url"`
	RunID       int64  `json:"run_id"`
}

// Server is the scripted GitHub.
type Server struct {
	// URL is the API's root to give the provider as its BaseURL.
	URL string
	// Token, when set before the first request, is the only token /rate_limit accepts.
	Token string
	root  string
	// OnDispatch, when set before the first request, is called as a dispatch arrives, before it
	// is answered (benchmarks time the provider's call by it).
	OnDispatch func(inputs map[string]any)
	// OnRun, when set before the first request, scripts each run as its dispatch creates it (a
	// load driver's runs that finish at once, with their jobs).
	OnRun func(r *Run)

	mu     sync.Mutex
	runs   map[int64]*Run
	order  map[string][]int64 // "owner/repo/workflow" → run IDs, oldest first
	nextID int64
	pulls  map[string][]*Pull // "owner/repo" → pull requests, by number

	requests, notModified atomic.Int64
}

// Cleaner is what Start needs of its caller: a testing.TB, or a load driver's own list of things to
// close at its end.
type Cleaner interface{ Cleanup(func()) }

// Start serves the API until the test (or the Cleaner's owner) ends.
func Start(tb Cleaner) *Server {
	s := &Server{runs: map[int64]*Run{}, order: map[string][]int64{}, nextID: 1000, pulls: map[string][]*Pull{}}
	mux := http.NewServeMux()
	const repo = "/api/v3/repos/{owner}/{repo}/actions"
	mux.HandleFunc("POST "+repo+"/workflows/{file}/dispatches", s.dispatch)
	mux.HandleFunc("GET "+repo+"/workflows/{file}/runs", s.list)
	mux.HandleFunc("GET "+repo+"/runs/{id}", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if run := s.run(r); run != nil {
			s.write(w, r, run)
			return
		}
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
	})
	mux.HandleFunc("GET "+repo+"/runs/{id}/jobs", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		run := s.run(r)
		if run == nil {
			http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
			return
		}
		jobs := append([]Job{}, run.Jobs...)
		s.write(w, r, map[string]any{"total_count": len(jobs), "jobs": jobs})
	})
	mux.HandleFunc("GET "+repo+"/runs/{id}/artifacts", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		run := s.run(r)
		if run == nil {
			http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
			return
		}
		list := []map[string]any{}
		if run.Output != "" {
			list = append(list, map[string]any{"id": run.ID, "name": "portside-output", "size_in_bytes": len(zipped(run.Output)),
				"expired": false, "workflow_run": map[string]any{"id": run.ID}})
		}
		s.write(w, r, map[string]any{"total_count": len(list), "artifacts": list})
	})
	// GitHub answers an artifact's download with a redirect to a short-lived signed URL.
	mux.HandleFunc("GET "+repo+"/artifacts/{id}/zip", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", s.root+"/blobs/"+r.PathValue("id")+"?sig=scripted")
		w.WriteHeader(http.StatusFound)
	})
	mux.HandleFunc("GET /blobs/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			http.Error(w, "the signed URL takes no credential", http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		run := s.run(r)
		if run == nil || run.Output == "" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/zip")
		_, _ = w.Write(zipped(run.Output))
	})
	// GET /rate_limit as GitHub documents it: what `portside doctor` asks to prove a token. A
	// token other than Server.Token, when that is set, is refused as GitHub refuses a bad one.
	mux.HandleFunc("GET /api/v3/rate_limit", func(w http.ResponseWriter, r *http.Request) {
		if s.Token != "" && r.Header.Get("Authorization") != "Bearer "+s.Token {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}`))
			return
		}
		core := map[string]any{"limit": 5000, "remaining": 4990, "reset": time.Now().Add(time.Hour).Unix(), "used": 10, "resource": "core"}
		s.write(w, r, map[string]any{"resources": map[string]any{"core": core}, "rate": core})
	})
	mux.HandleFunc("GET /api/v3/repos/{owner}/{repo}/pulls", s.listPulls)
	mux.HandleFunc("POST /api/v3/repos/{owner}/{repo}/pulls", s.createPull)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		mux.ServeHTTP(w, r)
	}))
	tb.Cleanup(srv.Close)
	s.URL, s.root = srv.URL+"/api/v3/", srv.URL
	return s
}

func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Ref    string         `json:"ref"`
		Inputs map[string]any `json:"inputs"`
	}
	_ = json.NewDecoder(r.Body).Decode(&body)
	if s.OnDispatch != nil {
		s.OnDispatch(body.Inputs)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	id := s.nextID
	wf := r.PathValue("owner") + "/" + r.PathValue("repo") + "/" + r.PathValue("file")
	// The workflow's run-name shows the dispatch input, as Portside's README asks workflows to.
	s.runs[id] = &Run{ID: id, Name: "Release", DisplayTitle: fmt.Sprintf("Release [%v]", body.Inputs["portside_dispatch_id"]),
		HeadSHA: "0123456789abcdef0123456789abcdef01234567", Status: "queued", RunAttempt: 1, Event: "workflow_dispatch",
		HeadCommit: &HeadCommit{ID: "0123456789abcdef0123456789abcdef01234567", Message: "Release", Timestamp: CommitStamp},
		HTMLURL:    "https://github.example/" + wf + "/runs/" + strconv.FormatInt(id, 10), RunStartedAt: Stamp, UpdatedAt: Stamp, workflow: wf}
	s.order[wf] = append(s.order[wf], id)
	if s.OnRun != nil {
		s.OnRun(s.runs[id])
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
	if per <= 0 || per > 100 {
		per = 30
	}
	ids := s.order[r.PathValue("owner")+"/"+r.PathValue("repo")+"/"+r.PathValue("file")]
	list := []*Run{}
	for i := len(ids) - 1; i >= 0 && len(list) < per; i-- { // newest first, as GitHub lists them
		list = append(list, s.runs[ids[i]])
	}
	s.write(w, r, map[string]any{"total_count": len(ids), "workflow_runs": list})
}

func (s *Server) run(r *http.Request) *Run {
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return s.runs[id]
}

// write answers JSON with an ETag of the body; a matching If-None-Match gets 304, as GitHub does.
func (s *Server) write(w http.ResponseWriter, r *http.Request, v any) {
	body, _ := json.Marshal(v)
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		s.notModified.Add(1)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(body)
}

// Script changes a run as GitHub would; it reports whether the run exists.
func (s *Server) Script(id int64, fn func(r *Run)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.runs[id]
	if r != nil {
		fn(r)
	}
	return r != nil
}

// zipped is output as upload-artifact stores it: one file in a zip.
func zipped(output string) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	f, _ := zw.Create("portside-output")
	_, _ = f.Write([]byte(output))
	_ = zw.Close()
	return b.Bytes()
}

// Requests counts every request served, and NotModified the 304s among them.
func (s *Server) Requests() int64 { return s.requests.Load() }

// NotModified counts the requests answered 304 Not Modified.
func (s *Server) NotModified() int64 { return s.notModified.Load() }

// Sign returns the X-Hub-Signature-256 GitHub sends with body, keyed with secret.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// WorkflowJob is the body of a workflow_job delivery about job of run.
func WorkflowJob(action string, run int64, job Job) []byte {
	job.RunID = run
	b, _ := json.Marshal(map[string]any{"action": action, "workflow_job": job})
	return b
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/portside-dev/portside/bench/benchcat"
	"github.com/portside-dev/portside/pipelines/github/githubtest"
)

// runsPerPipeline is how many runs each deployed component's pipeline has when the load starts:
// the component page with its pipelines asks for the last 5, and every one of them is there.
const runsPerPipeline = 5

// gitHub is the in-process GitHub Actions the servers trigger their runs on, so the component
// page has pipelines with runs to show. Every dispatched run finishes at once, its four jobs (the
// generated declaration's stages) succeeded, so no run is left to follow while the load runs.
type gitHub struct {
	srv      *githubtest.Server
	cleanups []func()
}

func startGitHub() *gitHub {
	g := &gitHub{}
	g.srv = githubtest.Start(harness{&g.cleanups})
	g.srv.OnRun = func(r *githubtest.Run) {
		r.Status, r.Conclusion = "completed", "success"
		for k, stage := range []string{"Build", "Test", "Release", "Deploy"} {
			r.Jobs = append(r.Jobs, githubtest.Job{ID: r.ID*10 + int64(k), Name: stage, Status: "completed", Conclusion: "success",
				StartedAt: githubtest.Stamp, CompletedAt: githubtest.Stamp, HTMLURL: r.HTMLURL + "/job/" + stage, RunID: r.ID})
		}
	}
	return g
}

// serveArgs are the settings that point a server at the in-process GitHub; the token goes in the
// environment, as a production server's would (never argv).
func (g *gitHub) serveArgs() (args, env []string) {
	return []string{"--github-api-url", g.srv.URL}, []string{"PORTSIDE_GITHUB_TOKEN=bench-github-token"}
}

func (g *gitHub) stop() {
	for i := len(g.cleanups) - 1; i >= 0; i-- {
		g.cleanups[i]()
	}
	g.cleanups = nil
}

// seedRuns triggers runsPerPipeline runs of every deployed component's pipeline through the API,
// as an admin would, and checks that each was recorded finished with its stages.
func (d *driver) seedRuns(ctx context.Context, s *server, adminToken string, q *benchcat.Queries) error {
	u := "http://" + s.addr + "/graphql"
	const mutation = `mutation($c:String!,$k:String!){ triggerPipeline(input:{component:$c, pipeline:"release", idempotencyKey:$k}){ run { id status stages { status } } } }`
	for _, ref := range q.Deployed {
		for i := range runsPerPipeline {
			body, _ := json.Marshal(map[string]any{"query": mutation, "variables": map[string]string{"c": ref, "k": fmt.Sprintf("bench-%d", i)}})
			status, resp, err := d.postAs(ctx, u, adminToken, body)
			if err != nil {
				return err
			}
			var out struct {
				Data struct {
					TriggerPipeline struct {
						Run struct {
							Status string
							Stages []struct{ Status string }
						}
					}
				}
			}
			run := &out.Data.TriggerPipeline.Run
			if status != http.StatusOK || json.Unmarshal(resp, &out) != nil || strings.Contains(string(resp), `"errors":`) ||
				run.Status != "SUCCEEDED" || len(run.Stages) != 4 {
				return fmt.Errorf("triggering %s: status %d: %s", ref, status, truncate(resp, 300))
			}
		}
	}
	return nil
}

package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/portside-dev/portside/audit"
	"github.com/portside-dev/portside/auth"
	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/pipelines"
	"github.com/portside-dev/portside/pipelines/github"
	"github.com/portside-dev/portside/pipelines/github/githubtest"
	"github.com/portside-dev/portside/server"
	"github.com/portside-dev/portside/store"
	"github.com/portside-dev/portside/store/storetest"
)

// benchCatalog is one component, acme/checkout, declaring a GitHub pipeline, owned by anyone.
type benchCatalog struct{}

func (benchCatalog) ComponentAnnotations(context.Context, string, string) (string, map[string]string, error) {
	return "component:default/checkout", map[string]string{pipelines.AnnotationGitHubSlug: "acme/checkout", pipelines.AnnotationPipelines: `- name: release
  provider: github
  workflow: release.yaml
  stages: [Build, Test, Deploy]
`}, nil
}

func (benchCatalog) Owns(context.Context, *principal.Principal, string) (bool, error) {
	return true, nil
}

// BenchmarkWebhookToSubscriber measures a GitHub webhook's way through Portside: a signed
// workflow_job delivery POSTed over loopback HTTP to the server's /webhooks/github handler (as
// server.New routes it), the run read again from GitHub (the in-process server: two conditional
// requests, the run and its jobs), the change recorded, and the run delivered to a subscriber
// of the service's subscription (what pipelineRunChanged reads). Each iteration moves the run's
// Build job between queued and in_progress on GitHub, so every delivery carries a new state;
// the latency runs from just before the POST to the subscriber's receipt of that state. The
// follower's polling is not started, so only the webhook moves the run.
func BenchmarkWebhookToSubscriber(b *testing.B) {
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.DiscardHandler)) // the access log of every delivery
	b.Run("sqlite", func(b *testing.B) { webhookToSubscriber(b, storetest.SQLite(b)) })
	if os.Getenv(storetest.DSNEnv) != "" {
		b.Run("postgres", func(b *testing.B) { webhookToSubscriber(b, storetest.Postgres(b)) })
	}
}

func webhookToSubscriber(b *testing.B, st *store.Store) {
	gh := githubtest.Start(b)
	prov, err := github.New(github.Options{BaseURL: gh.URL, Token: "ghs_bench"})
	if err != nil {
		b.Fatal(err)
	}
	log := audit.New(st, nil)
	s := pipelines.NewService(st, pipelines.Options{Catalog: benchCatalog{}, Audit: log, Providers: []pipelines.Provider{prov},
		Logger: slog.New(slog.DiscardHandler)})
	b.Cleanup(s.Stop)
	ctx := principal.With(context.Background(), &principal.Principal{Username: "bob", Kind: principal.KindToken, Client: principal.ClientAPI})
	run, err := s.Trigger(ctx, pipelines.TriggerInput{Component: "checkout", Pipeline: "release"})
	if err != nil || run.ProviderRunID == "" {
		b.Fatalf("trigger: %+v %v", run, err)
	}
	pid, _ := strconv.ParseInt(run.ProviderRunID, 10, 64)
	gh.Script(pid, func(r *githubtest.Run) { r.Status = "in_progress" })

	secret := []byte("whsec-bench")
	ts := httptest.NewUnstartedServer(nil)
	public, _ := url.Parse("http://" + ts.Listener.Addr().String())
	srv := server.New(server.Options{GraphQL: http.NotFoundHandler(), Ready: st.CheckReady, Logger: slog.New(slog.DiscardHandler),
		Identity:      &server.Identity{Auth: auth.NewService(st, auth.Options{Audit: log}), Audit: log, PublicURL: public},
		GitHubWebhook: &server.GitHubWebhook{Secret: secret, Runs: s, Audit: log}})
	ts.Config.Handler = srv.Handler()
	ts.Start()
	b.Cleanup(ts.Close)

	sub, err := s.Watch(context.Background(), pipelines.Filter{}, run.ID)
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Close()
	lat := make([]time.Duration, 0, b.N)
	client := &http.Client{}
	b.ResetTimer()
	for i := range b.N {
		status, want := "in_progress", pipelines.Running
		if i%2 == 1 {
			status, want = "queued", pipelines.Queued
		}
		gh.Script(pid, func(r *githubtest.Run) {
			r.Jobs = []githubtest.Job{{ID: pid * 10, Name: "Build", Status: status, StartedAt: githubtest.Stamp}}
		})
		body := githubtest.WorkflowJob(status, pid, githubtest.Job{ID: pid * 10, Name: "Build", Status: status})
		req, _ := http.NewRequest("POST", ts.URL+"/webhooks/github", bytes.NewReader(body))
		req.Header.Set("X-GitHub-Event", "workflow_job")
		req.Header.Set("X-GitHub-Delivery", strconv.Itoa(i))
		req.Header.Set(github.SignatureHeader, githubtest.Sign(secret, body))
		start := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			b.Fatalf("delivery %d = %d", i, resp.StatusCode)
		}
		for {
			r, ok := <-sub.C()
			if !ok {
				b.Fatalf("the subscription ended: %v", sub.Err())
			}
			if len(r.Stages) > 0 && r.Stages[0].Name == "Build" && r.Stages[0].Status == want {
				lat = append(lat, time.Since(start))
				break
			}
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	q := func(p float64) float64 {
		i := max(0, min(int(p*float64(len(lat))+0.5)-1, len(lat)-1))
		return float64(lat[i].Microseconds()) / 1000
	}
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
}

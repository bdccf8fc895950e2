package github_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/portside-dev/portside/pipelines"
	"github.com/portside-dev/portside/pipelines/github"
	"github.com/portside-dev/portside/pipelines/github/githubtest"
	"github.com/portside-dev/portside/store/storetest"
)

const image = "ghcr.io/acme/checkout@sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"

// A workflow hands Portside its image and version as an artifact named portside-output, as the
// README asks: the run shows them once it succeeded, read from the archive behind GitHub's
// redirect to a signed URL (fetched without Portside's token).
func TestASuccessfulRunShowsTheImageItsWorkflowUploaded(t *testing.T) {
	for _, tc := range []struct {
		name, output string
		want         []pipelines.Artifact
	}{
		{"with an output", "image=" + image + "\nversion=1.4.2\n", []pipelines.Artifact{{Name: "image", Image: image, Version: "1.4.2"}}},
		{"without one", "", []pipelines.Artifact{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gh := githubtest.Start(t)
			prov, err := github.New(github.Options{BaseURL: gh.URL, Token: "ghs_secret"})
			if err != nil {
				t.Fatal(err)
			}
			s := pipelines.NewService(storetest.SQLite(t), pipelines.Options{Catalog: catalog{}, Providers: []pipelines.Provider{prov},
				Follower: pipelines.FollowerOptions{Interval: time.Hour}})
			t.Cleanup(s.Stop)
			run, err := s.Trigger(owner, pipelines.TriggerInput{Component: "checkout", Pipeline: "release", Ref: "main"})
			if err != nil {
				t.Fatal(err)
			}
			id := mustID(t, run.ProviderRunID)
			gh.Script(id, func(r *githubtest.Run) {
				r.Status = "in_progress"
				r.Output = tc.output
			})
			if got := poll(t, s, run.ID); len(got.Artifacts) != 0 {
				t.Errorf("a running run shows artifacts %+v: only a successful run's output is read", got.Artifacts)
			}
			gh.Script(id, func(r *githubtest.Run) { r.Status, r.Conclusion = "completed", "success" })
			got := poll(t, s, run.ID)
			if got.Status != pipelines.Succeeded {
				t.Fatalf("status %s", got.Status)
			}
			if len(got.Artifacts) != len(tc.want) || len(tc.want) > 0 && got.Artifacts[0] != tc.want[0] {
				t.Errorf("artifacts = %+v, want %+v", got.Artifacts, tc.want)
			}
		})
	}
}

func mustID(t *testing.T, s string) int64 {
	t.Helper()
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("provider run ID %q: %v", s, err)
	}
	return id
}

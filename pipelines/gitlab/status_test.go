package gitlab

import (
	"strings"
	"testing"

	gl "gitlab.com/gitlab-org/api/client-go/v2"

	"github.com/portside-dev/portside/pipelines"
)

func TestGitLabStatusesMapToPortsides(t *testing.T) {
	for s, want := range map[string]pipelines.Status{
		"created": pipelines.Queued, "waiting_for_resource": pipelines.Queued, "preparing": pipelines.Queued,
		"pending": pipelines.Queued, "scheduled": pipelines.Queued, "running": pipelines.Running,
		"canceling": pipelines.Running, "manual": pipelines.Running, "success": pipelines.Succeeded,
		"failed": pipelines.Failed, "canceled": pipelines.Cancelled, "skipped": pipelines.Cancelled,
	} {
		if got := pipelineStatus(s); got != want {
			t.Errorf("pipeline %s → %s, want %s", s, got, want)
		}
	}
	for _, tc := range []struct {
		job  gl.Job
		want pipelines.Status
	}{
		{gl.Job{Status: "created"}, pipelines.Queued},
		{gl.Job{Status: "manual"}, pipelines.Queued},
		{gl.Job{Status: "running"}, pipelines.Running},
		{gl.Job{Status: "success"}, pipelines.Succeeded},
		{gl.Job{Status: "failed"}, pipelines.Failed},
		{gl.Job{Status: "failed", AllowFailure: true}, pipelines.Succeeded},
		{gl.Job{Status: "failed", FailureReason: "job_execution_timeout"}, pipelines.TimedOut},
		{gl.Job{Status: "canceled"}, pipelines.Cancelled},
		{gl.Job{Status: "skipped"}, pipelines.Skipped},
	} {
		if got := jobStatus(&tc.job); got != tc.want {
			t.Errorf("job %s (allow_failure %v, %s) → %s, want %s", tc.job.Status, tc.job.AllowFailure, tc.job.FailureReason, got, tc.want)
		}
	}
}

func TestJobsAreLaidOutAsTheDeclaredStages(t *testing.T) {
	decl := pipelines.Declaration{Stages: []pipelines.StageDecl{{Name: "test"}, {Name: "build"}, {Name: "e2e"}}}
	jobs := []*gl.Job{
		{ID: 7, Name: "e2e 2/2", Stage: "test", Status: "running"},
		{ID: 6, Name: "e2e 1/2", Stage: "test", Status: "success"},
		{ID: 5, Name: "unit", Stage: "test", Status: "pending"},
		{ID: 9, Name: "compile", Stage: "build", Status: "success"}, // retried: a later ID, its stage still first
		{ID: 2, Name: "image", Stage: "build", Status: "success"},
		{ID: 8, Name: "notify", Stage: ".post", Status: "created"},
	}
	var got []string
	for _, s := range stagesOf(decl, jobs) {
		got = append(got, s.Name+"="+string(s.Status))
	}
	want := "test=QUEUED build=SUCCEEDED e2e=RUNNING notify=QUEUED"
	if g := strings.Join(got, " "); g != want {
		t.Errorf("stages = %s, want %s", g, want)
	}
}

package kubejobs

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portside-dev/portside/pipelines"
)

var t0 = time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)

// job is stage i's Job in a given state: "pending", "active", "complete", "failed", "deadline",
// "deleting".
func job(i int, state string) *batchv1.Job {
	j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: JobName(dispatch, i),
		Labels: map[string]string{LabelManagedBy: managedBy, LabelDispatch: dispatch, LabelStageIndex: strconv.Itoa(i)}}}
	start := metav1.NewTime(t0.Add(time.Duration(i) * time.Minute))
	end := metav1.NewTime(start.Add(30 * time.Second))
	cond := func(t batchv1.JobConditionType, reason, msg string) {
		j.Status.Conditions = append(j.Status.Conditions, batchv1.JobCondition{Type: t, Status: corev1.ConditionTrue,
			Reason: reason, Message: msg, LastTransitionTime: end})
	}
	if state != "pending" {
		j.Status.StartTime = &start
	}
	switch state {
	case "active":
		j.Status.Active = 1
	case "complete":
		j.Status.CompletionTime = &end
		cond(batchv1.JobComplete, "", "")
	case "failed":
		cond(batchv1.JobFailed, batchv1.JobReasonBackoffLimitExceeded, "Job has reached the specified backoff limit")
	case "deadline":
		cond(batchv1.JobFailed, batchv1.JobReasonDeadlineExceeded, "Job was active longer than specified deadline")
	case "deleting":
		j.DeletionTimestamp = &end
	}
	return j
}

func pod(i int, phase corev1.PodPhase) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: JobName(dispatch, i) + "-abcde",
		Labels: map[string]string{LabelDispatch: dispatch, LabelStageIndex: strconv.Itoa(i)}}, Status: corev1.PodStatus{Phase: phase}}
}

func three() []pipelines.StageDecl {
	return []pipelines.StageDecl{stage("Build", pipelines.JobStage{}), stage("Test", pipelines.JobStage{}), stage("Release", pipelines.JobStage{})}
}

func statuses(u pipelines.Update) string {
	out := make([]string, len(u.Stages))
	for i, s := range u.Stages {
		out[i] = string(s.Status)
	}
	return string(u.Status) + ": " + strings.Join(out, " ")
}

func TestDeriveReadsARunFromItsJobsInOrder(t *testing.T) {
	for _, tc := range []struct {
		name      string
		jobs      []*batchv1.Job
		pods      []*corev1.Pod
		cancelled bool
		want      string
		next      int
	}{
		{"first Job, its Pod pending", []*batchv1.Job{job(0, "pending")}, []*corev1.Pod{pod(0, corev1.PodPending)}, false,
			"QUEUED: QUEUED QUEUED QUEUED", -1},
		{"first stage running", []*batchv1.Job{job(0, "active")}, []*corev1.Pod{pod(0, corev1.PodRunning)}, false,
			"RUNNING: RUNNING QUEUED QUEUED", -1},
		{"first stage complete: create the second", []*batchv1.Job{job(0, "complete")}, nil, false,
			"RUNNING: SUCCEEDED QUEUED QUEUED", 1},
		{"second stage's Pod pending", []*batchv1.Job{job(0, "complete"), job(1, "pending")}, []*corev1.Pod{pod(1, corev1.PodPending)}, false,
			"RUNNING: SUCCEEDED QUEUED QUEUED", -1},
		{"second stage failed: fail fast, no third", []*batchv1.Job{job(0, "complete"), job(1, "failed")}, []*corev1.Pod{pod(1, corev1.PodFailed)}, false,
			"FAILED: SUCCEEDED FAILED QUEUED", -1},
		{"deadline exceeded", []*batchv1.Job{job(0, "deadline")}, nil, false,
			"TIMED_OUT: TIMED_OUT QUEUED QUEUED", -1},
		{"all complete", []*batchv1.Job{job(0, "complete"), job(1, "complete"), job(2, "complete")}, nil, false,
			"SUCCEEDED: SUCCEEDED SUCCEEDED SUCCEEDED", -1},
		{"an earlier stage's Job gone with its TTL", []*batchv1.Job{job(1, "active")}, []*corev1.Pod{pod(1, corev1.PodRunning)}, false,
			"RUNNING: SUCCEEDED RUNNING QUEUED", -1},
		{"being deleted (a cancel)", []*batchv1.Job{job(0, "complete"), job(1, "deleting")}, nil, false,
			"CANCELLED: SUCCEEDED CANCELLED QUEUED", -1},
		{"cancelled, the Jobs not yet marked", []*batchv1.Job{job(0, "active")}, []*corev1.Pod{pod(0, corev1.PodRunning)}, true,
			"CANCELLED: CANCELLED QUEUED QUEUED", -1},
		{"cancelled after a stage completed: no next stage", []*batchv1.Job{job(0, "complete")}, nil, true,
			"CANCELLED: SUCCEEDED QUEUED QUEUED", -1},
		{"every Job gone", nil, nil, false, "CANCELLED: QUEUED QUEUED QUEUED", -1},
	} {
		d := Derive(spec(three()...), tc.jobs, tc.pods, tc.cancelled)
		if got := statuses(d.Update); got != tc.want || d.Next != tc.next {
			t.Errorf("%s: %s, next %d; want %s, next %d", tc.name, got, d.Next, tc.want, tc.next)
		}
		if d.Update.ProviderRunID != dispatch {
			t.Errorf("%s: provider run ID %q", tc.name, d.Update.ProviderRunID)
		}
		if names := []string{d.Update.Stages[0].Name, d.Update.Stages[1].Name, d.Update.Stages[2].Name}; !slices.Equal(names, []string{"Build", "Test", "Release"}) {
			t.Errorf("%s: stage names %v", tc.name, names)
		}
	}
}

func TestDeriveSaysWhyAndWhen(t *testing.T) {
	failedPod := pod(1, corev1.PodFailed)
	failedPod.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: containerName,
		State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 2, Reason: "Error", Message: "tests failed"}}}}
	d := Derive(spec(three()...), []*batchv1.Job{job(0, "complete"), job(1, "failed")}, []*corev1.Pod{failedPod}, false)
	for _, want := range []string{"stage Test", "BackoffLimitExceeded", "exit code 2", "tests failed"} {
		if !strings.Contains(d.Update.Message, want) {
			t.Errorf("message %q lacks %q", d.Update.Message, want)
		}
	}
	u := d.Update
	if u.StartedAt == nil || !u.StartedAt.Equal(t0) || u.FinishedAt == nil || !u.FinishedAt.Equal(t0.Add(90*time.Second)) {
		t.Errorf("run started %v finished %v", u.StartedAt, u.FinishedAt)
	}
	if s := u.Stages[0]; s.StartedAt == nil || s.FinishedAt == nil || s.FinishedAt.Sub(*s.StartedAt) != 30*time.Second {
		t.Errorf("stage 0 %+v", s)
	}

	waiting := pod(0, corev1.PodPending)
	waiting.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: containerName,
		State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: "no such image"}}}}
	d = Derive(spec(three()...), []*batchv1.Job{job(0, "pending")}, []*corev1.Pod{waiting}, false)
	if !strings.Contains(d.Update.Message, "ImagePullBackOff") || d.Update.Status != pipelines.Queued {
		t.Errorf("a Pod waiting for its image: %s %q", statuses(d.Update), d.Update.Message)
	}
	if len(d.Update.Message) > maxMessage+len("…") {
		t.Errorf("message of %d bytes", len(d.Update.Message))
	}
}

func TestDeriveIgnoresOtherRunsAndStrayIndexes(t *testing.T) {
	other := job(0, "failed")
	other.Labels[LabelDispatch] = "ffffffffffffffffffffffffffffffff"
	stray := job(0, "failed")
	stray.Labels[LabelStageIndex] = "7"
	d := Derive(spec(three()...), []*batchv1.Job{job(0, "active"), other, stray}, []*corev1.Pod{pod(0, corev1.PodRunning)}, false)
	if got := statuses(d.Update); got != "RUNNING: RUNNING QUEUED QUEUED" {
		t.Errorf("%s", got)
	}
}

// A stage writes image=… and version=… to $PORTSIDE_OUTPUT, its container's termination log:
// a successful run shows what the last stage that wrote one said.
func TestDeriveReadsTheRunsOutputFromTerminationMessages(t *testing.T) {
	const image = "registry.example/acme/batch@sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"
	done := func(i int, message string) *corev1.Pod {
		p := pod(i, corev1.PodSucceeded)
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: containerName,
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0, Reason: "Completed", Message: message}}}}
		return p
	}
	jobs := []*batchv1.Job{job(0, "complete"), job(1, "complete"), job(2, "complete")}
	pods := []*corev1.Pod{done(0, "image="+image+"\nversion=0.9.0\n"), done(1, "image="+image+"\nversion=1.0.0\n"), done(2, "all tests passed")}
	d := Derive(spec(three()...), jobs, pods, false)
	if want := (pipelines.Artifact{Name: "image", Image: image, Version: "1.0.0"}); len(d.Update.Artifacts) != 1 || d.Update.Artifacts[0] != want {
		t.Errorf("artifacts %+v, want %+v (Test's output: Release wrote none)", d.Update.Artifacts, want)
	}
	// Until the run succeeds nothing is read: a stage after it may still write another.
	d = Derive(spec(three()...), jobs[:2], pods[:2], false)
	if d.Update.Status != pipelines.Running || len(d.Update.Artifacts) != 0 {
		t.Errorf("%s with artifacts %+v", statuses(d.Update), d.Update.Artifacts)
	}
}

func TestEveryStageIsToldWhereItsOutputGoes(t *testing.T) {
	j, err := BuildJob(spec(three()...), 0, "portside-runs")
	if err != nil {
		t.Fatal(err)
	}
	c := j.Spec.Template.Spec.Containers[0]
	for _, e := range c.Env {
		if e.Name == "PORTSIDE_OUTPUT" {
			if e.Value != corev1.TerminationMessagePathDefault || c.TerminationMessagePath != "" && c.TerminationMessagePath != e.Value {
				t.Errorf("PORTSIDE_OUTPUT=%s, termination message path %q", e.Value, c.TerminationMessagePath)
			}
			return
		}
	}
	t.Errorf("no PORTSIDE_OUTPUT in %v", c.Env)
}

package kubejobs

import (
	"context"
	"strconv"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/pipelines"
	"github.com/portside-dev/portside/pipelines/kubejobs/plugin"
)

// cluster is a fake API server that says when a watch has started: the fake's watches deliver
// only what happens after they start, so a runner is used once its informers watch (as client-go's
// own informer tests do).
type cluster struct {
	*fake.Clientset
	watching chan string
}

func newCluster() *cluster {
	c := &cluster{Clientset: fake.NewSimpleClientset(), watching: make(chan string, 16)}
	c.PrependWatchReactor("*", func(action k8stesting.Action) (bool, watch.Interface, error) {
		w, err := c.Tracker().Watch(action.GetResource(), action.GetNamespace())
		if err != nil {
			return false, nil, err
		}
		c.watching <- action.GetResource().Resource
		return true, w, nil
	})
	return c
}

// runner is a Runner over c, watching, with the change notices it sends on a channel.
func runner(t *testing.T, c *cluster) (*Runner, <-chan string) {
	t.Helper()
	r, err := New(Options{Config: plugin.Config{Namespace: "ci"}, Client: c.Clientset})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	for range 2 { // jobs and pods
		<-c.watching
	}
	notices := make(chan string, 1024)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	subscribed := make(chan struct{})
	go func() {
		close(subscribed)
		_ = r.Changes(ctx, func(d string) {
			select {
			case notices <- d:
			default:
			}
		})
	}()
	<-subscribed
	return r, notices
}

// until reads the run's status after each change notice until cond holds. The deadline only
// keeps a broken engine from hanging the test; nothing waits on time.
func until(t *testing.T, r *Runner, run plugin.RunSpec, notices <-chan string, what string, cond func(pipelines.Update) bool) pipelines.Update {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		u, err := r.Status(context.Background(), run)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if cond(u) {
			return u
		}
		select {
		case <-notices:
		case <-deadline:
			t.Fatalf("%s: never; last %s", what, statuses(u))
		}
	}
}

// finish marks a Job complete or failed, as the Job controller would.
func finish(t *testing.T, client *cluster, name string, ok bool) {
	t.Helper()
	ctx := context.Background()
	j, err := client.BatchV1().Jobs("ci").Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	now := metav1.Now()
	j.Status.StartTime = &now
	c := batchv1.JobCondition{Type: batchv1.JobComplete, Status: corev1.ConditionTrue, LastTransitionTime: now}
	if ok {
		j.Status.CompletionTime = &now
	} else {
		c.Type, c.Reason = batchv1.JobFailed, batchv1.JobReasonBackoffLimitExceeded
	}
	j.Status.Conditions = append(j.Status.Conditions, c)
	if _, err := client.BatchV1().Jobs("ci").UpdateStatus(ctx, j, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func jobNames(t *testing.T, client *cluster) map[string]bool {
	t.Helper()
	list, err := client.BatchV1().Jobs("ci").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, j := range list.Items {
		out[j.Name] = true
	}
	return out
}

func TestRunnerRunsStagesInOrderAndSurvivesARestart(t *testing.T) {
	client := newCluster()
	r, notices := runner(t, client)
	run := spec(three()...)
	u, err := r.Trigger(context.Background(), run)
	if err != nil {
		t.Fatal(err)
	}
	if u.ProviderRunID != dispatch || u.Status != pipelines.Queued || len(u.Stages) != 3 {
		t.Fatalf("trigger: %s (%s)", statuses(u), u.ProviderRunID)
	}
	if names := jobNames(t, client); len(names) != 1 || !names[JobName(dispatch, 0)] {
		t.Fatalf("after the trigger: Jobs %v", names)
	}
	// Triggering again (a retried call) starts nothing more.
	if _, err := r.Trigger(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	if names := jobNames(t, client); len(names) != 1 {
		t.Fatalf("a second trigger made Jobs %v", names)
	}

	finish(t, client, JobName(dispatch, 0), true)
	until(t, r, run, notices, "the second stage's Job", func(u pipelines.Update) bool {
		return u.Stages[0].Status == pipelines.Succeeded && jobNames(t, client)[JobName(dispatch, 1)]
	})

	// The companion restarts: a new runner derives the same state from the Jobs' labels.
	_ = r.Close()
	r2, notices2 := runner(t, client)
	u, err = r2.Status(context.Background(), run)
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(u); got != "RUNNING: SUCCEEDED QUEUED QUEUED" {
		t.Errorf("after a restart: %s", got)
	}
	if names := jobNames(t, client); len(names) != 2 {
		t.Errorf("after a restart: Jobs %v", names)
	}

	finish(t, client, JobName(dispatch, 1), false)
	u = until(t, r2, run, notices2, "the run failed", func(u pipelines.Update) bool { return u.Status == pipelines.Failed })
	if got := statuses(u); got != "FAILED: SUCCEEDED FAILED QUEUED" {
		t.Errorf("after the second stage failed: %s", got)
	}
	if names := jobNames(t, client); names[JobName(dispatch, 2)] || len(names) != 2 {
		t.Errorf("a failed stage was followed by another: Jobs %v", names)
	}
}

func TestRunnerCancelDeletesTheRunsJobs(t *testing.T) {
	client := newCluster()
	r, notices := runner(t, client)
	run := spec(three()...)
	other := spec(three()...)
	other.DispatchID = "fedcba9876543210fedcba9876543210"
	for _, rs := range []plugin.RunSpec{run, other} {
		if _, err := r.Trigger(context.Background(), rs); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Cancel(context.Background(), run); err != nil {
		t.Fatal(err)
	}
	if names := jobNames(t, client); len(names) != 1 || !names[JobName(other.DispatchID, 0)] {
		t.Errorf("after the cancel: Jobs %v; want only the other run's", names)
	}
	u := until(t, r, run, notices, "the run cancelled", func(u pipelines.Update) bool { return u.Status == pipelines.Cancelled })
	if got := statuses(u); got != "CANCELLED: CANCELLED QUEUED QUEUED" && got != "CANCELLED: QUEUED QUEUED QUEUED" {
		t.Errorf("cancelled: %s", got)
	}
	// A cancelled run whose first stage had completed does not go on to the next.
	finish(t, client, JobName(other.DispatchID, 0), true)
	if err := r.Cancel(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	if u, err := r.Status(context.Background(), other); err != nil || u.Status != pipelines.Cancelled {
		t.Errorf("the other run: %s, %v", statuses(u), err)
	}
	if names := jobNames(t, client); len(names) != 0 {
		t.Errorf("Jobs left: %v", names)
	}
}

func TestRunnerRefusesWhatItCannotRun(t *testing.T) {
	client := newCluster()
	r, _ := runner(t, client)
	if _, err := r.Trigger(context.Background(), spec()); !errs.Is(err, errs.Invalid) {
		t.Errorf("a run without stages: %v", err)
	}
	bad := spec(three()...)
	bad.DispatchID = "not-hex"
	if _, err := r.Status(context.Background(), bad); !errs.Is(err, errs.Invalid) {
		t.Errorf("a bad dispatch ID: %v", err)
	}
	if _, err := New(Options{Config: plugin.Config{Namespace: "Not_A_Namespace"}, Client: client.Clientset}); !errs.Is(err, errs.Invalid) ||
		errs.FieldOf(err) != "kubernetes-jobs-namespace" {
		t.Errorf("a bad namespace: %v", err)
	}
	if _, err := New(Options{Config: plugin.Config{Namespace: "ci", Kubeconfig: "/nonexistent/kubeconfig"}}); errs.FieldOf(err) != "kubernetes-jobs-kubeconfig" {
		t.Errorf("a missing kubeconfig: %v", err)
	}
}

func TestTheCancelledRunsRememberedAreBounded(t *testing.T) {
	r, _ := runner(t, newCluster())
	for i := range maxCancelled + 100 {
		r.markCancelled(strconv.Itoa(i))
	}
	if n := len(r.cancelled); n > maxCancelled {
		t.Errorf("%d cancelled runs remembered; at most %d", n, maxCancelled)
	}
	if !r.wasCancelled(strconv.Itoa(maxCancelled + 99)) {
		t.Errorf("the latest cancel is forgotten")
	}
}

package kubejobs

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/portside-dev/portside/pipelines"
	"github.com/portside-dev/portside/pipelines/kubejobs/plugin"
)

// Derived is a run's state as its Jobs and Pods show it.
type Derived struct {
	Update pipelines.Update
	// Next is the index of the stage whose Job is to be created now (the one before it
	// completed), or -1.
	Next int
}

// maxMessage bounds the message a failure brings from a Job or a Pod.
const maxMessage = 500

// Derive reads a run from its Jobs and their Pods (those labelled with its dispatch ID).
// cancelled says Portside asked to cancel it (a Job being deleted says so too, and a run whose
// Jobs are all gone was cancelled: Portside creates the first Job before it records the run, and
// only a deletion takes Jobs away before their time to live, which outlasts the run).
//
// The stages are read in order: a stage's Job is created only once the stage before it
// completed, so a stage without a Job before one with a Job succeeded (its Job went with its
// time to live), and after the last stage that has a Job none has run.
func Derive(run plugin.RunSpec, jobs []*batchv1.Job, pods []*corev1.Pod, cancelled bool) Derived {
	n := len(run.Stages)
	byStage := map[int]*batchv1.Job{}
	last := -1
	deleting := false
	for _, j := range jobs {
		i, err := strconv.Atoi(j.Labels[LabelStageIndex])
		if err != nil || i < 0 || i >= n || j.Labels[LabelDispatch] != run.DispatchID {
			continue
		}
		byStage[i] = j
		last = max(last, i)
		if j.DeletionTimestamp != nil {
			deleting = true
		}
	}
	podsOf := map[string][]*corev1.Pod{}
	for _, p := range pods {
		if p.Labels[LabelDispatch] == run.DispatchID {
			podsOf[p.Labels[LabelStageIndex]] = append(podsOf[p.Labels[LabelStageIndex]], p)
		}
	}
	u := pipelines.Update{ProviderRunID: run.DispatchID, Stages: make([]pipelines.Stage, n)}
	var failed, timedOut, running bool
	var messages []string
	var latest *time.Time
	for i := range n {
		st := pipelines.Stage{Name: run.Stages[i].Name, Status: pipelines.Queued}
		j := byStage[i]
		switch {
		case j == nil && i < last:
			st.Status = pipelines.Succeeded
		case j != nil:
			var msg string
			st, msg = stageOf(run.Stages[i].Name, j, podsOf[strconv.Itoa(i)])
			if msg != "" {
				messages = append(messages, fmt.Sprintf("stage %s: %s", run.Stages[i].Name, msg))
			}
		}
		switch st.Status {
		case pipelines.Failed:
			failed = true
		case pipelines.TimedOut:
			timedOut = true
		case pipelines.Running:
			running = true
		}
		if st.StartedAt != nil && (u.StartedAt == nil || st.StartedAt.Before(*u.StartedAt)) {
			u.StartedAt = st.StartedAt
		}
		if st.FinishedAt != nil && (latest == nil || st.FinishedAt.After(*latest)) {
			latest = st.FinishedAt
		}
		u.Stages[i] = st
	}
	allDone := n > 0 && last == n-1 && u.Stages[n-1].Status == pipelines.Succeeded
	d := Derived{Next: -1}
	switch {
	case failed:
		u.Status = pipelines.Failed
	case timedOut:
		u.Status = pipelines.TimedOut
	case allDone:
		u.Status = pipelines.Succeeded
	case cancelled || deleting || last < 0:
		u.Status = pipelines.Cancelled
		if !cancelled && last < 0 {
			messages = append(messages, "the run's Jobs are gone: they were deleted")
		}
		for i := range u.Stages {
			if u.Stages[i].Status == pipelines.Running || u.Stages[i].Status == pipelines.Queued && byStage[i] != nil {
				u.Stages[i].Status = pipelines.Cancelled
			}
		}
	case running:
		u.Status = pipelines.Running
	default:
		u.Status = pipelines.Running // between two stages, or the first one's Pod is pending
		if u.Stages[last].Status == pipelines.Succeeded {
			d.Next = last + 1
		}
		if last == 0 && u.Stages[0].Status == pipelines.Queued {
			u.Status = pipelines.Queued
		}
	}
	if u.Status.Done() && latest != nil {
		u.FinishedAt = latest
	}
	if u.Status == pipelines.Succeeded {
		u.Artifacts = output(n, podsOf)
	}
	if len(messages) > 0 {
		u.Message = truncate(strings.Join(messages, "; "), maxMessage)
	}
	d.Update = u
	return d
}

// stageOf reads one stage from its Job and the Job's Pods; the message says why it failed.
func stageOf(name string, j *batchv1.Job, pods []*corev1.Pod) (pipelines.Stage, string) {
	st := pipelines.Stage{Name: name, Status: pipelines.Queued}
	if t := j.Status.StartTime; t != nil {
		v := t.Time.UTC()
		st.StartedAt = &v
	}
	finished := func(t time.Time) {
		v := t.UTC()
		st.FinishedAt = &v
		if st.StartedAt == nil {
			st.StartedAt = st.FinishedAt
		}
	}
	for _, c := range j.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			st.Status = pipelines.Succeeded
			if j.Status.CompletionTime != nil {
				finished(j.Status.CompletionTime.Time)
			} else {
				finished(c.LastTransitionTime.Time)
			}
			return st, ""
		case batchv1.JobFailed, batchv1.JobFailureTarget:
			// FailureTarget is the Job controller's verdict while it still ends the Pods: fail fast.
			st.Status = pipelines.Failed
			if c.Reason == batchv1.JobReasonDeadlineExceeded {
				st.Status = pipelines.TimedOut
			}
			finished(c.LastTransitionTime.Time)
			msg := c.Reason
			if c.Message != "" {
				msg += ": " + c.Message
			}
			if why := podFailure(pods); why != "" {
				msg += " (" + why + ")"
			}
			return st, msg
		}
	}
	if j.DeletionTimestamp != nil {
		st.Status = pipelines.Cancelled
		finished(j.DeletionTimestamp.Time)
		return st, ""
	}
	for _, p := range pods {
		switch p.Status.Phase {
		case corev1.PodRunning, corev1.PodSucceeded, corev1.PodFailed:
			st.Status = pipelines.Running // a Pod ran: the stage has started (a failed one may be retried)
		}
	}
	if st.Status == pipelines.Queued {
		// Waiting to be scheduled or for its image: say why when the Pod does.
		for _, p := range pods {
			for _, cs := range p.Status.ContainerStatuses {
				if w := cs.State.Waiting; w != nil && w.Reason != "" && w.Reason != "ContainerCreating" {
					return st, w.Reason + ": " + w.Message
				}
			}
		}
	}
	return st, ""
}

// output reads what the run produced from the termination messages of its stages' succeeded
// containers ($PORTSIDE_OUTPUT is the termination-log file): the last stage that wrote one wins,
// as a later line of $GITHUB_OUTPUT does.
func output(stages int, podsOf map[string][]*corev1.Pod) []pipelines.Artifact {
	for i := stages - 1; i >= 0; i-- {
		for _, p := range podsOf[strconv.Itoa(i)] {
			for _, cs := range p.Status.ContainerStatuses {
				if t := cs.State.Terminated; t != nil && t.ExitCode == 0 && t.Message != "" {
					if a := pipelines.ParseOutput(strings.NewReader(t.Message)); len(a) > 0 {
						return a
					}
				}
			}
		}
	}
	return []pipelines.Artifact{}
}

// podFailure says why the Pods of a failed stage failed: the first terminated container's reason.
func podFailure(pods []*corev1.Pod) string {
	for _, p := range pods {
		for _, cs := range p.Status.ContainerStatuses {
			if t := cs.State.Terminated; t != nil && t.ExitCode != 0 || t != nil && t.Reason != "" && t.Reason != "Completed" {
				out := fmt.Sprintf("Pod %s: %s, exit code %d", p.Name, t.Reason, t.ExitCode)
				if t.Message != "" {
					out += ": " + t.Message
				}
				return out
			}
		}
		if p.Status.Phase == corev1.PodFailed && (p.Status.Reason != "" || p.Status.Message != "") {
			return fmt.Sprintf("Pod %s: %s %s", p.Name, p.Status.Reason, p.Status.Message)
		}
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

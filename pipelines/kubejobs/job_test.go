package kubejobs

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/pipelines"
	"github.com/portside-dev/portside/pipelines/kubejobs/plugin"
)

const dispatch = "0123456789abcdef0123456789abcdef"

func spec(stages ...pipelines.StageDecl) plugin.RunSpec {
	return plugin.RunSpec{RunID: 42, DispatchID: dispatch, Component: "component:default/builder", Pipeline: "release",
		Ref: "main", Parameters: map[string]string{"target-env": "staging", "dry_run": "true"}, Stages: stages}
}

func stage(name string, j pipelines.JobStage) pipelines.StageDecl {
	if j.Image == "" {
		j.Image = "busybox:1.36"
	}
	return pipelines.StageDecl{Name: name, Job: &j}
}

func TestBuildJobCarriesTheDeclaredSpecAndTheRunsLabels(t *testing.T) {
	run := spec(stage("Build", pipelines.JobStage{}), stage("Unit tests", pipelines.JobStage{
		Image: "golang:1.25", Command: []string{"go"}, Args: []string{"test", "./..."},
		Requests: map[string]string{"cpu": "500m", "memory": "256Mi"}, Limits: map[string]string{"memory": "1Gi"},
		Labels: map[string]string{"team": "web", "portside.dev/stage-index": "9"}, Annotations: map[string]string{"note": "x"},
		BackoffLimit: 2, ActiveDeadlineSeconds: 900, TTLSecondsAfterFinished: 3600,
	}))
	job, err := BuildJob(run, 1, "ci")
	if err != nil {
		t.Fatal(err)
	}
	if job.Name != "portside-"+dispatch+"-1" || job.Namespace != "ci" {
		t.Errorf("name %s/%s", job.Namespace, job.Name)
	}
	if msgs := validation.IsDNS1123Label(job.Name); len(msgs) > 0 {
		t.Errorf("the Job's name %q cannot be its Pods' job-name label: %v", job.Name, msgs)
	}
	want := map[string]string{LabelManagedBy: "portside", LabelDispatch: dispatch, LabelRunID: "42", LabelStageIndex: "1",
		LabelStage: "Unit-tests", "team": "web"}
	for k, v := range want {
		if job.Labels[k] != v || job.Spec.Template.Labels[k] != v {
			t.Errorf("label %s = %q on the Job, %q on its Pods; want %q", k, job.Labels[k], job.Spec.Template.Labels[k], v)
		}
	}
	if job.Annotations[AnnotationStage] != "Unit tests" || job.Annotations[AnnotationComponent] != run.Component || job.Annotations["note"] != "x" {
		t.Errorf("annotations %v", job.Annotations)
	}
	if job.Spec.Template.Annotations["note"] != "x" {
		t.Errorf("the Pod's annotations %v lack the declared ones", job.Spec.Template.Annotations)
	}
	if *job.Spec.BackoffLimit != 2 || *job.Spec.ActiveDeadlineSeconds != 900 || *job.Spec.TTLSecondsAfterFinished != 3600 {
		t.Errorf("bounds %d %d %d", *job.Spec.BackoffLimit, *job.Spec.ActiveDeadlineSeconds, *job.Spec.TTLSecondsAfterFinished)
	}
	pod := job.Spec.Template.Spec
	if pod.RestartPolicy != corev1.RestartPolicyNever || *pod.AutomountServiceAccountToken || *pod.EnableServiceLinks {
		t.Errorf("pod spec %+v", pod)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("%d containers", len(pod.Containers))
	}
	c := pod.Containers[0]
	if c.Image != "golang:1.25" || strings.Join(c.Command, " ") != "go" || strings.Join(c.Args, " ") != "test ./..." {
		t.Errorf("container %s %v %v", c.Image, c.Command, c.Args)
	}
	if !c.Resources.Requests.Cpu().Equal(resource.MustParse("500m")) || !c.Resources.Requests.Memory().Equal(resource.MustParse("256Mi")) ||
		!c.Resources.Limits.Memory().Equal(resource.MustParse("1Gi")) || !c.Resources.Limits.Cpu().IsZero() {
		t.Errorf("resources %+v", c.Resources)
	}
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	for k, v := range map[string]string{"PORTSIDE_RUN_ID": "42", "PORTSIDE_STAGE": "Unit tests", "PORTSIDE_REF": "main",
		"PORTSIDE_PIPELINE": "release", "PORTSIDE_PARAM_TARGET_ENV": "staging", "PORTSIDE_PARAM_DRY_RUN": "true"} {
		if env[k] != v {
			t.Errorf("env %s = %q, want %q", k, env[k], v)
		}
	}
}

func TestBuildJobDefaultsAndRefusals(t *testing.T) {
	job, err := BuildJob(spec(pipelines.StageDecl{Name: "Build", Job: &pipelines.JobStage{Image: "busybox"}}), 0, "default")
	if err != nil {
		t.Fatal(err)
	}
	if *job.Spec.BackoffLimit != 0 || *job.Spec.ActiveDeadlineSeconds != pipelines.DefaultJobActiveDeadline ||
		*job.Spec.TTLSecondsAfterFinished != pipelines.DefaultJobTTL {
		t.Errorf("defaults %d %d %d", *job.Spec.BackoffLimit, *job.Spec.ActiveDeadlineSeconds, *job.Spec.TTLSecondsAfterFinished)
	}
	for _, tc := range []struct {
		name  string
		run   plugin.RunSpec
		stage int
		field string
	}{
		{"no image", spec(pipelines.StageDecl{Name: "Build"}), 0, "stages[0].image"},
		{"bad quantity", spec(stage("Build", pipelines.JobStage{Limits: map[string]string{"memory": "lots"}})), 0, "stages[0].resources.limits.memory"},
		{"no such stage", spec(stage("Build", pipelines.JobStage{})), 1, "stages"},
		{"bad dispatch", plugin.RunSpec{DispatchID: "../../x", Stages: []pipelines.StageDecl{stage("a", pipelines.JobStage{})}}, 0, "dispatchId"},
	} {
		_, err := BuildJob(tc.run, tc.stage, "default")
		if !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != tc.field {
			t.Errorf("%s: %v (field %q), want INVALID naming %s", tc.name, err, errs.FieldOf(err), tc.field)
		}
	}
}

// A dispatch ID's length is counted in the characters its message says.
func TestADispatchIDsLengthIsCountedInCharacters(t *testing.T) {
	run := plugin.RunSpec{DispatchID: strings.Repeat("é", 41), Stages: []pipelines.StageDecl{stage("a", pipelines.JobStage{})}}
	_, err := BuildJob(run, 0, "default")
	if want := "dispatchId: has 41 characters; expected 8 to 40"; errs.CodeOf(err) != errs.Invalid || errs.PublicMessage(err) != want {
		t.Errorf("a dispatch ID of 41 characters of 2 bytes: %v; want INVALID %q", err, want)
	}
}

func TestLabelValueKeepsWhatALabelAllows(t *testing.T) {
	for in, want := range map[string]string{"Build": "Build", "Unit tests": "Unit-tests", "  x  ": "x", "ünï": "n",
		strings.Repeat("a", 80): strings.Repeat("a", 63), "--": ""} {
		got := labelValue(in)
		if got != want {
			t.Errorf("labelValue(%q) = %q, want %q", in, got, want)
		}
		if len(validation.IsValidLabelValue(got)) > 0 {
			t.Errorf("labelValue(%q) = %q is not a label value", in, got)
		}
	}
}

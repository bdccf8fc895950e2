// Package kubejobs is the Kubernetes Jobs pipeline provider's engine: each stage of a run is a
// batch/v1 Job (run-to-completion work with resource requests and limits, a backoff limit, a
// deadline and a time to live; no Services), the stages run in order and a failed one ends the
// run. It links client-go, so it runs in the companion process (portside-argocd) only, behind
// pipelines/kubejobs/plugin; the portside binary never imports it.
//
// The engine keeps no state of its own: a run's Jobs carry labels that name the run (its dispatch
// ID, unique per run) and the stage's index, and the run's state is derived from them and their
// Pods as a shared informer, limited to one namespace and Portside's label, sees them. A restart
// of the companion, or of portside, loses nothing.
package kubejobs

import (
	"fmt"
	"maps"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/pipelines"
	"github.com/portside-dev/portside/pipelines/kubejobs/plugin"
)

// The labels (and annotations) Portside puts on the Jobs it creates and on their Pods.
const (
	// LabelManagedBy=portside selects what the informers see: only Portside's Jobs and Pods.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	managedBy      = "portside"
	// LabelDispatch is the run's dispatch ID: the run's provider ID, unique across Portside
	// databases sharing a namespace (a run ID alone is not).
	LabelDispatch = "portside.dev/dispatch-id"
	// LabelRunID is Portside's run ID, for people reading the cluster.
	LabelRunID = "portside.dev/run-id"
	// LabelStageIndex is the stage's position in the declaration; the state is derived by it.
	LabelStageIndex = "portside.dev/stage-index"
	// LabelStage is the stage's name as a label value allows it (AnnotationStage has it whole).
	LabelStage      = "portside.dev/stage"
	AnnotationStage = "portside.dev/stage"
	// AnnotationComponent and AnnotationPipeline say whose run it is.
	AnnotationComponent = "portside.dev/component"
	AnnotationPipeline  = "portside.dev/pipeline"
	containerName       = "stage"
)

// Selector is the label selector of everything the engine creates.
const Selector = LabelManagedBy + "=" + managedBy

// JobName is the name of a run's stage's Job: the dispatch ID (32 hex characters) and the index
// keep it unique, short enough for the job-name label its Pods get (63), and predictable, so a
// second create of the same stage (two Status calls at once) meets AlreadyExists rather than
// starting the stage twice.
func JobName(dispatch string, stage int) string {
	return "portside-" + dispatch + "-" + strconv.Itoa(stage)
}

// labelValue makes s a label value: at most 63 of [A-Za-z0-9-_.], starting and ending with a
// letter or digit ("" when nothing of it is left).
func labelValue(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			b[i] = '-'
		}
	}
	out := string(b)
	if len(out) > 63 {
		out = out[:63]
	}
	return strings.Trim(out, "-_.")
}

// envName is a parameter's environment variable: PORTSIDE_PARAM_ and its name in capitals, with
// - as _ (parameter names are [A-Za-z_][A-Za-z0-9_-]*, so the result is a valid name).
func envName(param string) string {
	return "PORTSIDE_PARAM_" + strings.ToUpper(strings.ReplaceAll(param, "-", "_"))
}

// dispatchOK checks a dispatch ID before it goes into names and labels (it comes from portside,
// which makes 32 hex characters).
func dispatchOK(d string) error {
	if n := utf8.RuneCountInString(d); n < 8 || n > 40 {
		return errs.InvalidField("dispatchId", "has %d characters; expected 8 to 40", n)
	}
	for _, c := range d {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return errs.InvalidField("dispatchId", "is not lowercase hexadecimal")
		}
	}
	return nil
}

// BuildJob is the Job of one stage of a run, in namespace ns. The stage's declared Job fields were
// checked by the catalog; quantities are parsed again here, and an error names the field.
func BuildJob(run plugin.RunSpec, stage int, ns string) (*batchv1.Job, error) {
	if err := dispatchOK(run.DispatchID); err != nil {
		return nil, err
	}
	if stage < 0 || stage >= len(run.Stages) {
		return nil, errs.InvalidField("stages", "the run has %d stages; there is no stage %d", len(run.Stages), stage)
	}
	sd := run.Stages[stage]
	j := sd.Job
	field := fmt.Sprintf("stages[%d]", stage)
	if j == nil || j.Image == "" {
		return nil, errs.InvalidField(field+".image", "stage %q of a kubernetes pipeline names no image", sd.Name)
	}
	res := corev1.ResourceRequirements{}
	var err error
	if res.Requests, err = quantities(field+".resources.requests", j.Requests); err != nil {
		return nil, err
	}
	if res.Limits, err = quantities(field+".resources.limits", j.Limits); err != nil {
		return nil, err
	}
	ours := map[string]string{
		LabelManagedBy:  managedBy,
		LabelDispatch:   run.DispatchID,
		LabelRunID:      strconv.FormatInt(run.RunID, 10),
		LabelStageIndex: strconv.Itoa(stage),
		LabelStage:      labelValue(sd.Name),
	}
	labels := map[string]string{}
	for k, v := range j.Labels {
		labels[k] = v
	}
	for k, v := range ours { // ours win: the state is derived from them
		labels[k] = v
	}
	annotations := map[string]string{}
	for k, v := range j.Annotations {
		annotations[k] = v
	}
	jobAnnotations := map[string]string{AnnotationStage: sd.Name, AnnotationComponent: run.Component, AnnotationPipeline: run.Pipeline}
	for k, v := range annotations {
		jobAnnotations[k] = v
	}
	env := []corev1.EnvVar{
		{Name: "PORTSIDE_RUN_ID", Value: strconv.FormatInt(run.RunID, 10)},
		{Name: "PORTSIDE_COMPONENT", Value: run.Component},
		{Name: "PORTSIDE_PIPELINE", Value: run.Pipeline},
		{Name: "PORTSIDE_STAGE", Value: sd.Name},
		{Name: "PORTSIDE_REF", Value: run.Ref},
		// Where a stage writes its image=… and version=… lines (pipelines.OutputName): the
		// container's termination message, which the kubelet keeps on the Pod (at most 4 kB).
		{Name: "PORTSIDE_OUTPUT", Value: corev1.TerminationMessagePathDefault},
	}
	names := make([]string, 0, len(run.Parameters))
	for k := range run.Parameters {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		env = append(env, corev1.EnvVar{Name: envName(k), Value: run.Parameters[k]})
	}
	backoff, deadline, ttl := int32(j.BackoffLimit), int64(j.ActiveDeadlineSeconds), int32(j.TTLSecondsAfterFinished)
	if deadline <= 0 {
		deadline = pipelines.DefaultJobActiveDeadline
	}
	if ttl <= 0 {
		ttl = pipelines.DefaultJobTTL
	}
	no := false
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: JobName(run.DispatchID, stage), Namespace: ns, Labels: labels, Annotations: jobAnnotations},
		Spec: batchv1.JobSpec{
			BackoffLimit:            &backoff,
			ActiveDeadlineSeconds:   &deadline,
			TTLSecondsAfterFinished: &ttl,
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: maps.Clone(labels), Annotations: annotations},
				Spec: corev1.PodSpec{
					RestartPolicy: corev1.RestartPolicyNever,
					// A stage is run-to-completion work: it gets no API token and no Service
					// variables unless its namespace's defaults say otherwise.
					AutomountServiceAccountToken: &no,
					EnableServiceLinks:           &no,
					Containers: []corev1.Container{{
						Name: containerName, Image: sd.Job.Image, Command: j.Command, Args: j.Args, Env: env, Resources: res,
					}},
				},
			},
		},
	}, nil
}

func quantities(field string, in map[string]string) (corev1.ResourceList, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := corev1.ResourceList{}
	for k, v := range in {
		q, err := resource.ParseQuantity(v)
		if err != nil {
			return nil, errs.InvalidField(field+"."+k, "%q is not a Kubernetes quantity: %v", v, err)
		}
		out[corev1.ResourceName(k)] = q
	}
	return out, nil
}

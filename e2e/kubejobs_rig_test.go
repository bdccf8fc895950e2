//go:build argocdrig

// The Kubernetes Jobs tier: portside serve runs pipelines as batch/v1 Jobs on the rig's real
// kube-apiserver, whose real Job controller (kube-controller-manager) creates their Pods and whose
// kwok moves those Pods to Succeeded or Failed by the Stage documents in testdata/kwok-stages.yaml
// (`make e2e-argocd` starts the rig with them). Everything goes through GraphQL on a real serve;
// client-go here only looks at the cluster, as an operator would.
package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

const jobsNamespace = "portside-pipelines"

// kube is the rig's cluster through its admin kubeconfig.
func (r rig) kube(t *testing.T) kubernetes.Interface {
	t.Helper()
	rc, err := clientcmd.BuildConfigFromFlags("", filepath.Join(r.home, "kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// runJobs lists a run's Jobs by the label Portside gives them.
func runJobs(t *testing.T, kc kubernetes.Interface, dispatch string) []batchv1.Job {
	t.Helper()
	list, err := kc.BatchV1().Jobs(jobsNamespace).List(context.Background(),
		metav1.ListOptions{LabelSelector: "portside.dev/dispatch-id=" + dispatch})
	if err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func complete(j batchv1.Job) bool {
	for _, c := range j.Status.Conditions {
		if c.Type == batchv1.JobComplete && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

type pipelineRun struct {
	ID, Status    string
	ProviderRunID *string
	Message       *string
	Stages        []struct{ Name, Status string }
}

const runFields = `id status providerRunId message stages { name status }`

func (s *portsideServer) trigger(t *testing.T, pipeline string) pipelineRun {
	t.Helper()
	var out struct {
		TriggerPipeline struct{ Run pipelineRun }
	}
	s.graphql(t, &out, `mutation($p: String!) { triggerPipeline(input: {component: "builder", pipeline: $p}) { run { `+runFields+` } } }`,
		map[string]any{"p": pipeline})
	return out.TriggerPipeline.Run
}

func (s *portsideServer) pipelineRun(t *testing.T, id string) pipelineRun {
	t.Helper()
	var out struct{ PipelineRun pipelineRun }
	s.graphql(t, &out, `query($id: ID!) { pipelineRun(id: $id) { `+runFields+` } }`, map[string]any{"id": id})
	return out.PipelineRun
}

func stageStatuses(r pipelineRun) []string {
	out := make([]string, len(r.Stages))
	for i, s := range r.Stages {
		out[i] = s.Name + "=" + s.Status
	}
	return out
}

// The declarations: every stage's Pod is a kwok Pod, so the image is never pulled. The failing
// stage carries the label kwok's chaos stage fails Pods by; the slow one's Pod completes only
// after the delay kwok's general complete stage reads from its annotation.
const builderCatalog = `apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-build}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: builder
  annotations:
    portside.dev/pipelines: |
      - name: release
        provider: kubernetes
        stages:
          - {name: Build, image: "busybox:1.36", command: [sh, -c, "make build"], resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {memory: 128Mi}}}
          - {name: Test, image: "busybox:1.36", command: [sh, -c, "make test"]}
          - {name: Release, image: "busybox:1.36", command: [sh, -c, "make release"], activeDeadlineSeconds: 600}
      - name: flaky
        provider: kubernetes
        stages:
          - {name: Build, image: "busybox:1.36"}
          - {name: Test, image: "busybox:1.36", labels: {pod-container-running-failed.stage.kwok.x-k8s.io: "true"}}
          - {name: Release, image: "busybox:1.36"}
      - name: slow
        provider: kubernetes
        stages:
          - {name: Build, image: "busybox:1.36", annotations: {pod-complete.stage.kwok.x-k8s.io/delay: "10m", pod-complete.stage.kwok.x-k8s.io/jitter-delay: "11m"}}
          - {name: Test, image: "busybox:1.36"}
          - {name: Release, image: "busybox:1.36"}
spec: {type: service, lifecycle: production, owner: team-build}
`

func TestPipelinesRunAsKubernetesJobs(t *testing.T) {
	r := openRig(t)
	kc := r.kube(t)
	_, err := kc.CoreV1().Namespaces().Create(context.Background(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: jobsNamespace}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}

	dir := t.TempDir()
	db := filepath.Join(dir, "portside.db")
	writeFile(t, filepath.Join(dir, "catalog", "catalog-info.yaml"), builderCatalog)
	env := cleanEnv(t)
	mustRun(t, env, portsideBin, "catalog", "import", "--database", db, filepath.Join(dir, "catalog"))
	tok := mustRun(t, env, portsideBin, "token", "create", "--database", db, "--user", "ops", "--admin")
	lines := strings.Split(strings.TrimSpace(tok.stdout), "\n")
	// No Argo CD instance: the Kubernetes provider alone makes serve start the companion. Polling
	// is put out of reach (an hour): every stage change must come from the companion's informer,
	// whose notices make serve read the run and create the next stage's Job.
	s := startServeWith(t, append(env, "PORTSIDE_KUBERNETES_JOBS_KUBECONFIG="+filepath.Join(r.home, "kubeconfig"),
		"PORTSIDE_KUBERNETES_JOBS_NAMESPACE="+jobsNamespace), "--database", db, "--dev-login", "false",
		"--pipelines-poll-interval", "1h")
	s.token = lines[len(lines)-1]

	t.Run("three stages to success", func(t *testing.T) {
		run := s.trigger(t, "release")
		if run.ProviderRunID == nil {
			t.Fatalf("the run has no provider ID: %+v", run)
		}
		var last pipelineRun
		poll(t, 3*time.Minute, "the release run SUCCEEDED", func() bool {
			last = s.pipelineRun(t, run.ID)
			if last.Status == "FAILED" || last.Status == "CANCELLED" || last.Status == "TIMED_OUT" {
				t.Fatalf("the run ended %s: %v %v", last.Status, stageStatuses(last), last.Message)
			}
			return last.Status == "SUCCEEDED"
		})
		if got := stageStatuses(last); !slices.Equal(got, []string{"Build=SUCCEEDED", "Test=SUCCEEDED", "Release=SUCCEEDED"}) {
			t.Errorf("stages %v", got)
		}
		jobs := runJobs(t, kc, *run.ProviderRunID)
		if len(jobs) != 3 {
			t.Fatalf("the run has %d Jobs, want 3", len(jobs))
		}
		for _, j := range jobs {
			if !complete(j) {
				t.Errorf("Job %s is not Complete: %+v", j.Name, j.Status.Conditions)
			}
			if j.Labels["portside.dev/run-id"] == "" || j.Labels["portside.dev/stage-index"] == "" {
				t.Errorf("Job %s lacks the run's labels: %v", j.Name, j.Labels)
			}
			if j.Spec.BackoffLimit == nil || j.Spec.ActiveDeadlineSeconds == nil || j.Spec.TTLSecondsAfterFinished == nil {
				t.Errorf("Job %s lacks its bounds: %+v", j.Name, j.Spec)
			}
		}
	})

	t.Run("a failed second stage fails the run and skips the third", func(t *testing.T) {
		run := s.trigger(t, "flaky")
		var last pipelineRun
		poll(t, 3*time.Minute, "the flaky run FAILED", func() bool {
			last = s.pipelineRun(t, run.ID)
			if last.Status == "SUCCEEDED" {
				t.Fatalf("the run succeeded: %v", stageStatuses(last))
			}
			return last.Status == "FAILED"
		})
		if got := stageStatuses(last); !slices.Equal(got, []string{"Build=SUCCEEDED", "Test=FAILED", "Release=SKIPPED"}) {
			t.Errorf("stages %v", got)
		}
		if last.Message == nil || *last.Message == "" {
			t.Errorf("the failed run says nothing about why")
		}
		jobs := runJobs(t, kc, *run.ProviderRunID)
		names := make([]string, len(jobs))
		for i, j := range jobs {
			names[i] = j.Labels["portside.dev/stage"]
		}
		slices.Sort(names)
		if !slices.Equal(names, []string{"Build", "Test"}) {
			t.Errorf("the run's Jobs are for stages %v; want Build and Test only (no Job for a skipped stage)", names)
		}
	})

	t.Run("a cancel mid-run deletes the run's Jobs", func(t *testing.T) {
		run := s.trigger(t, "slow")
		poll(t, 2*time.Minute, "the slow run's first stage RUNNING", func() bool {
			last := s.pipelineRun(t, run.ID)
			return len(last.Stages) == 3 && last.Stages[0].Status == "RUNNING"
		})
		if n := len(runJobs(t, kc, *run.ProviderRunID)); n != 1 {
			t.Fatalf("the run has %d Jobs before the cancel, want 1", n)
		}
		var out struct {
			CancelPipelineRun struct{ Run pipelineRun }
		}
		s.graphql(t, &out, `mutation($id: ID!) { cancelPipelineRun(input: {id: $id}) { run { `+runFields+` } } }`, map[string]any{"id": run.ID})
		poll(t, time.Minute, "the slow run CANCELLED", func() bool {
			return s.pipelineRun(t, run.ID).Status == "CANCELLED"
		})
		poll(t, 2*time.Minute, "the run's Jobs gone from the API server", func() bool {
			return len(runJobs(t, kc, *run.ProviderRunID)) == 0
		})
		last := s.pipelineRun(t, run.ID)
		if got := stageStatuses(last); !slices.Equal(got, []string{"Build=CANCELLED", "Test=SKIPPED", "Release=SKIPPED"}) {
			t.Errorf("stages %v", got)
		}
		pods, err := kc.CoreV1().Pods(jobsNamespace).List(context.Background(),
			metav1.ListOptions{LabelSelector: "portside.dev/dispatch-id=" + *run.ProviderRunID})
		if err != nil {
			t.Fatal(err)
		}
		if len(pods.Items) != 0 {
			t.Errorf("the cancelled run still has %d Pods", len(pods.Items))
		}
	})
	if t.Failed() {
		if b, err := os.ReadFile(filepath.Join(r.home, "logs", "kwok.log")); err == nil && len(b) > 4000 {
			t.Logf("kwok's log ends:\n%s", b[len(b)-4000:])
		}
		fmt.Fprintln(os.Stderr, "kubejobs e2e failed; the rig is at", r.home)
	}
}

//go:build argocdrig

// The chart deployed for real: deploy/helm/portside, as it is in the tree, pushed into the rig's
// git repository and deployed by the rig's Argo CD as a Helm source, the migration hook Job run to
// completion by kwok (make e2e-argocd puts the Helm CLI the repo-server runs on its PATH).
package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/argoproj/argo-cd/v2/pkg/apiclient/application"
	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	synccommon "github.com/argoproj/gitops-engine/pkg/sync/common"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"
)

const (
	chartApp       = "portside" // the Application, and so Helm's release name
	chartNamespace = "portside"
	chartRepoPath  = "portside"             // the chart's directory in the rig's repository
	chartValues    = "portside-values.yaml" // the rig's values, beside it (Argo CD: ../portside-values.yaml)
)

// rigValues fit the rig: a made-up image (kwok never pulls it) and, on every pod, kwok's stage
// delays cut to 200 ms each (from 1-6 s), so that a rollout costs seconds. The database Secret
// exists; nothing connects to it (the pods are fake).
func rigValues(tag string) string {
	kwok := `{pod-create.stage.kwok.x-k8s.io/jitter-delay: 200ms, pod-ready.stage.kwok.x-k8s.io/jitter-delay: 200ms, pod-complete.stage.kwok.x-k8s.io/jitter-delay: 200ms}`
	return `image: {repository: registry.rig.invalid/portside, tag: "` + tag + `"}
config: {public-url: "https://portside.rig.invalid"}
podAnnotations: ` + kwok + `
migration:
  podAnnotations: ` + kwok + `
`
}

// pushChart copies deploy/helm/portside into the rig's repository with the values file, commits and
// pushes; it returns the new revision.
func (r rig) pushChart(t *testing.T, values, msg string) string {
	t.Helper()
	work := filepath.Join(r.home, "data", "work")
	dst := filepath.Join(work, chartRepoPath)
	if err := os.RemoveAll(dst); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join("..", "deploy", "helm", "portside")
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(filepath.Join(dst, rel))
		if err != nil {
			return err
		}
		_, err = io.Copy(out, in)
		return errors.Join(err, out.Close())
	})
	if err != nil {
		t.Fatalf("copy the chart: %v", err)
	}
	writeFile(t, filepath.Join(work, chartValues), values)
	git := func(args ...string) string {
		cmd := exec.Command("git", append([]string{"-c", "user.name=e2e", "-c", "user.email=e2e@localhost"}, args...)...)
		cmd.Dir = work
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("add", "-A", chartRepoPath, chartValues)
	git("commit", "-q", "--allow-empty", "-m", msg) // a rerun on an unwiped rig commits the same tree
	git("push", "-q", "origin", "HEAD:main")
	return git("rev-parse", "HEAD")
}

// renderChart renders the chart as Argo CD's `helm template` does for the Application (release
// chartApp in chartNamespace, the chart's values.yaml under the rig's values): every object, as
// JSON-shaped maps, by "Kind/name".
func renderChart(t *testing.T, values string) map[string]map[string]any {
	t.Helper()
	ch, err := loader.Load(filepath.Join("..", "deploy", "helm", "portside"))
	if err != nil {
		t.Fatal(err)
	}
	vals, err := chartutil.ReadValues([]byte(values))
	if err != nil {
		t.Fatal(err)
	}
	top, err := chartutil.ToRenderValues(ch, vals.AsMap(), chartutil.ReleaseOptions{
		Name: chartApp, Namespace: chartNamespace, Revision: 1, IsInstall: true}, chartutil.DefaultCapabilities)
	if err != nil {
		t.Fatal(err)
	}
	files, err := engine.Engine{Strict: true}.Render(ch, top)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for name, text := range files {
		if !strings.HasSuffix(name, ".yaml") {
			continue
		}
		for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(text, -1) {
			var obj map[string]any
			if err := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(doc), 4096).Decode(&obj); err != nil && err != io.EOF {
				t.Fatalf("%s: %v", name, err)
			}
			if obj == nil {
				continue // a document of comments only
			}
			meta, _ := obj["metadata"].(map[string]any)
			out[fmt.Sprintf("%s/%s", obj["kind"], meta["name"])] = obj
		}
	}
	return out
}

// subset reports where live differs from what the chart rendered: every field rendered must be in
// the live object with the same value (the API server and Argo CD add defaults, status and their
// own labels and annotations, which are not compared). An empty rendered map or list matches an
// absent field.
func subset(path string, want, got any) []string {
	switch w := want.(type) {
	case map[string]any:
		g, _ := got.(map[string]any)
		var diffs []string
		for k, wv := range w {
			diffs = append(diffs, subset(path+"."+k, wv, g[k])...)
		}
		return diffs
	case []any:
		g, _ := got.([]any)
		if len(g) != len(w) {
			if len(w) == 0 && got == nil {
				return nil
			}
			return []string{fmt.Sprintf("%s: %d items, rendered %d", path, len(g), len(w))}
		}
		var diffs []string
		for i := range w {
			diffs = append(diffs, subset(fmt.Sprintf("%s[%d]", path, i), w[i], g[i])...)
		}
		return diffs
	case nil:
		return nil
	default:
		if !reflect.DeepEqual(want, got) {
			return []string{fmt.Sprintf("%s: live %v, rendered %v", path, got, want)}
		}
		return nil
	}
}

// chartCluster is the rig's cluster, typed and dynamic.
type chartCluster struct {
	kc     kubernetes.Interface
	dyn    dynamic.Interface
	mapper meta.RESTMapper
}

func (r rig) chartCluster(t *testing.T) chartCluster {
	t.Helper()
	rc, err := clientcmd.BuildConfigFromFlags("", filepath.Join(r.home, "kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	groups, err := restmapper.GetAPIGroupResources(dc)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	return chartCluster{kc: r.kube(t), dyn: dyn, mapper: restmapper.NewDiscoveryRESTMapper(groups)}
}

// checkAsRendered compares every object the chart renders with the live one.
func (c chartCluster) checkAsRendered(t *testing.T, rendered map[string]map[string]any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, key := range slices.Sorted(maps.Keys(rendered)) {
		want := rendered[key]
		gv, err := schema.ParseGroupVersion(want["apiVersion"].(string))
		if err != nil {
			t.Fatal(err)
		}
		m, err := c.mapper.RESTMapping(gv.WithKind(want["kind"].(string)).GroupKind(), gv.Version)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		name := want["metadata"].(map[string]any)["name"].(string)
		live, err := c.dyn.Resource(m.Resource).Namespace(chartNamespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Errorf("%s as the chart rendered it: %v", key, err)
			continue
		}
		var got map[string]any
		b, _ := json.Marshal(live.Object)
		_ = json.Unmarshal(b, &got)
		if diffs := subset(key, want, got); len(diffs) > 0 {
			t.Errorf("%s differs from what the chart renders:\n  %s", key, strings.Join(diffs, "\n  "))
		}
	}
}

// every wraps a poll condition that asks a server so that it asks at most every d (poll looks
// every few milliseconds).
func every(d time.Duration, cond func() bool) func() bool {
	var last time.Time
	return func() bool {
		if wait := d - time.Since(last); wait > 0 {
			time.Sleep(wait)
		}
		last = time.Now()
		return cond()
	}
}

func (c chartCluster) app(t *testing.T, apps application.ApplicationServiceClient) *v1alpha1.Application {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	name := chartApp
	app, err := apps.Get(ctx, &application.ApplicationQuery{Name: &name})
	if err != nil {
		t.Fatalf("get application %s: %v", chartApp, err)
	}
	return app
}

// syncChart syncs the Application to rev and waits until the sync succeeded at rev and the
// Application is Synced and Healthy; it returns the migration Job the sync ran.
func (c chartCluster) syncChart(t *testing.T, apps application.ApplicationServiceClient, rev string) *batchv1.Job {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name, prune := chartApp, true
	if _, err := apps.Sync(ctx, &application.ApplicationSyncRequest{Name: &name, Revision: &rev, Prune: &prune}); err != nil {
		t.Fatalf("sync %s to %s: %v", chartApp, rev, err)
	}
	var app *v1alpha1.Application
	poll(t, 2*time.Minute, "Argo CD to sync "+rev[:8]+" until Synced and Healthy", every(200*time.Millisecond, func() bool {
		app = c.app(t, apps)
		op := app.Status.OperationState
		if op == nil || op.SyncResult == nil || op.SyncResult.Revision != rev {
			return false
		}
		if op.Phase == synccommon.OperationFailed || op.Phase == synccommon.OperationError {
			t.Fatalf("the sync of %s ended %s: %s", rev[:8], op.Phase, op.Message)
		}
		return op.Phase == synccommon.OperationSucceeded && app.Status.Sync.Status == v1alpha1.SyncStatusCodeSynced &&
			app.Status.Sync.Revision == rev && app.Status.Health.Status == "Healthy"
	}))
	// Argo CD ran the chart's pre-install,pre-upgrade hook as a PreSync hook, to success.
	var hook *v1alpha1.ResourceResult
	for _, res := range app.Status.OperationState.SyncResult.Resources {
		if res.Kind == "Job" && res.Name == chartApp+"-migrate" {
			hook = res
		}
	}
	if hook == nil || hook.HookType != synccommon.HookTypePreSync || hook.HookPhase != synccommon.OperationSucceeded {
		t.Fatalf("the sync's migration Job: %+v, want a PreSync hook that Succeeded", hook)
	}
	job, err := c.kc.BatchV1().Jobs(chartNamespace).Get(ctx, chartApp+"-migrate", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the migration Job: %v", err)
	}
	if !complete(*job) || job.Status.Succeeded != 1 || job.Status.Failed != 0 || job.Status.CompletionTime == nil {
		t.Fatalf("the migration Job is not Complete with one Pod succeeded: %+v", job.Status)
	}
	// Its Pod ran to completion: kwok's pod-complete stage moved it to Succeeded.
	pods, err := c.kc.CoreV1().Pods(chartNamespace).List(ctx, metav1.ListOptions{LabelSelector: "batch.kubernetes.io/controller-uid=" + string(job.UID)})
	if err != nil {
		t.Fatal(err)
	}
	if len(pods.Items) != 1 || pods.Items[0].Status.Phase != corev1.PodSucceeded {
		t.Errorf("the migration Job's Pods: %d, want one Succeeded: %v", len(pods.Items), podPhases(pods.Items))
	}
	return job
}

func podPhases(pods []corev1.Pod) []string {
	out := make([]string, len(pods))
	for i, p := range pods {
		out[i] = p.Name + "=" + string(p.Status.Phase)
	}
	return out
}

// checkServing: the Deployment runs image with every replica updated and available.
func (c chartCluster) checkServing(t *testing.T, image string) *appsv1.Deployment {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	d, err := c.kc.AppsV1().Deployments(chartNamespace).Get(ctx, chartApp, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the Deployment: %v", err)
	}
	want := *d.Spec.Replicas
	if got := d.Spec.Template.Spec.Containers[0].Image; got != image {
		t.Errorf("the Deployment runs %s, want %s", got, image)
	}
	if want != 2 || d.Status.ObservedGeneration < d.Generation || d.Status.Replicas != want ||
		d.Status.UpdatedReplicas != want || d.Status.ReadyReplicas != want || d.Status.AvailableReplicas != want {
		t.Errorf("the Deployment's replicas (want the chart's 2, all updated and available): spec %d, status %+v", want, d.Status)
	}
	return d
}

// explain prints what a failed run needs: the Application's conditions and sync, the migration
// Job's status and Pods, the Deployment's status.
func (c chartCluster) explain(t *testing.T, apps application.ApplicationServiceClient) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	name := chartApp
	if app, err := apps.Get(ctx, &application.ApplicationQuery{Name: &name}); err != nil {
		t.Logf("application %s: %v", chartApp, err)
	} else {
		t.Logf("application %s: sync %s at %s, health %s %s", chartApp, app.Status.Sync.Status, app.Status.Sync.Revision,
			app.Status.Health.Status, app.Status.Health.Message)
		for _, cond := range app.Status.Conditions {
			t.Logf("  condition %s: %s", cond.Type, cond.Message)
		}
		if op := app.Status.OperationState; op != nil {
			t.Logf("  operation %s: %s", op.Phase, op.Message)
			if op.SyncResult != nil {
				for _, res := range op.SyncResult.Resources {
					t.Logf("    %s %s: %s %s %s %s", res.Kind, res.Name, res.Status, res.HookType, res.HookPhase, res.Message)
				}
			}
		}
		for _, res := range app.Status.Resources {
			h := ""
			if res.Health != nil {
				h = string(res.Health.Status) + " " + res.Health.Message
			}
			t.Logf("  resource %s %s: %s %s", res.Kind, res.Name, res.Status, h)
		}
	}
	if job, err := c.kc.BatchV1().Jobs(chartNamespace).Get(ctx, chartApp+"-migrate", metav1.GetOptions{}); err != nil {
		t.Logf("migration Job: %v", err)
	} else {
		st, _ := json.Marshal(job.Status)
		t.Logf("migration Job %s: %s", job.UID, st)
		if pods, err := c.kc.CoreV1().Pods(chartNamespace).List(ctx, metav1.ListOptions{LabelSelector: "batch.kubernetes.io/controller-uid=" + string(job.UID)}); err == nil {
			t.Logf("  its Pods: %v", podPhases(pods.Items))
		}
	}
	if d, err := c.kc.AppsV1().Deployments(chartNamespace).Get(ctx, chartApp, metav1.GetOptions{}); err == nil {
		st, _ := json.Marshal(d.Status)
		t.Logf("Deployment: %s", st)
	}
}

func TestTheHelmChartDeploysThroughArgoCD(t *testing.T) {
	start := time.Now()
	r := openRig(t)
	apps := r.apps(t)
	c := r.chartCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	// What an operator creates first (the README's "Secrets first"): the namespace and the
	// Secrets the chart references. Nothing connects to the database: the pods are kwok's.
	_, err := c.kc.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: chartNamespace}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	for name, data := range map[string]map[string]string{
		"portside-database": {"url": "postgres://portside:rig@db.rig.invalid:5432/portside?sslmode=require"},
		"portside-auth":     {"client-secret": "rig-client-secret", "encryption-key": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="},
	} {
		_, err := c.kc.CoreV1().Secrets(chartNamespace).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, StringData: data}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			c.explain(t, apps)
		}
	})

	// The chart as it is in the tree, in the rig's git repository; an Application with a Helm
	// source pointing at it, synced by hand (no automated sync: the test says when).
	rev := r.pushChart(t, rigValues("1.0.0"), "portside chart, image 1.0.0")
	upsert := true
	app := &v1alpha1.Application{ObjectMeta: metav1.ObjectMeta{Name: chartApp, Namespace: "argocd"},
		Spec: v1alpha1.ApplicationSpec{Project: "default",
			Source: &v1alpha1.ApplicationSource{RepoURL: "git://127.0.0.1:19418/demo.git", Path: chartRepoPath, TargetRevision: "main",
				Helm: &v1alpha1.ApplicationSourceHelm{ValueFiles: []string{"../" + chartValues}}},
			Destination: v1alpha1.ApplicationDestination{Server: "https://kubernetes.default.svc", Namespace: chartNamespace}}}
	if _, err := apps.Create(ctx, &application.ApplicationCreateRequest{Application: app, Upsert: &upsert}); err != nil {
		t.Fatalf("create application %s: %v", chartApp, err)
	}

	// Install: the migration hook first, then the release's objects.
	first := c.syncChart(t, apps, rev)
	if img := first.Spec.Template.Spec.Containers[0].Image; img != "registry.rig.invalid/portside:1.0.0" {
		t.Errorf("the migration ran %s, want the release's image", img)
	}
	c.checkServing(t, "registry.rig.invalid/portside:1.0.0")
	c.checkAsRendered(t, renderChart(t, rigValues("1.0.0")))
	installed := time.Since(start)

	// Upgrade: a new image tag pushed and synced runs the migration again, with the new image,
	// before the Deployment rolls to it.
	before := c.checkServing(t, "registry.rig.invalid/portside:1.0.0")
	rev = r.pushChart(t, rigValues("1.0.1"), "portside chart, image 1.0.1")
	second := c.syncChart(t, apps, rev)
	if second.UID == first.UID {
		t.Errorf("the upgrade did not run the migration Job again (the same Job %s)", first.UID)
	}
	if img := second.Spec.Template.Spec.Containers[0].Image; img != "registry.rig.invalid/portside:1.0.1" {
		t.Errorf("the upgrade's migration ran %s, want the new image", img)
	}
	after := c.checkServing(t, "registry.rig.invalid/portside:1.0.1")
	if after.Generation <= before.Generation {
		t.Errorf("the Deployment did not roll: generation %d, then %d", before.Generation, after.Generation)
	}
	sets, err := c.kc.AppsV1().ReplicaSets(chartNamespace).List(ctx, metav1.ListOptions{
		LabelSelector: "app.kubernetes.io/instance=" + chartApp + ",app.kubernetes.io/component=server"})
	if err != nil {
		t.Fatal(err)
	}
	var rolled []string
	for _, rs := range sets.Items {
		switch img := rs.Spec.Template.Spec.Containers[0].Image; {
		case strings.HasSuffix(img, ":1.0.1"):
			rolled = append(rolled, rs.Name)
			// The PreSync hook ran to completion before Argo CD applied the new Deployment.
			if rs.CreationTimestamp.Before(second.Status.CompletionTime) {
				t.Errorf("ReplicaSet %s of the new image created at %s, before the migration completed at %s",
					rs.Name, rs.CreationTimestamp, second.Status.CompletionTime)
			}
			if rs.Status.AvailableReplicas != 2 {
				t.Errorf("ReplicaSet %s of the new image: %d available, want 2", rs.Name, rs.Status.AvailableReplicas)
			}
		case *rs.Spec.Replicas != 0:
			t.Errorf("ReplicaSet %s of %s still wants %d replicas after the rollout", rs.Name, img, *rs.Spec.Replicas)
		}
	}
	if len(rolled) != 1 {
		t.Errorf("ReplicaSets of the new image: %v, want one", rolled)
	}
	c.checkAsRendered(t, renderChart(t, rigValues("1.0.1")))
	t.Logf("install through Argo CD in %s, install and upgrade in %s", installed.Round(100*time.Millisecond), time.Since(start).Round(100*time.Millisecond))
}

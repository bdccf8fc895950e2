package deploy

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/portside-dev/portside/config"
)

// chartDir is the chart under test; ciDir holds one values file per documented combination (the
// layout chart-testing uses), and every one of them is rendered.
const (
	chartDir  = "helm/portside"
	ciDir     = "helm/portside/ci"
	release   = "acme"
	namespace = "portal"
	fullname  = "acme-portside"
)

// strict decodes YAML into the Kubernetes API types and refuses unknown and duplicate fields, so a
// misspelt or misplaced key in a template fails here instead of being dropped by the API server.
var strict = serializer.NewCodecFactory(scheme.Scheme, serializer.EnableStrict).UniversalDeserializer()

// rendered is one render of the chart: its objects by kind, decoded.
type rendered struct {
	files       map[string]string // template path → output
	objects     []runtime.Object
	deployment  *appsv1.Deployment
	service     *corev1.Service
	configMap   *corev1.ConfigMap
	job         *batchv1.Job
	pdb         *policyv1.PodDisruptionBudget
	hpa         *autoscalingv2.HorizontalPodAutoscaler
	ingress     *networkingv1.Ingress
	account     *corev1.ServiceAccount
	roles       []*rbacv1.Role
	roleBinding []*rbacv1.RoleBinding
}

func loadChart(t *testing.T) *chart.Chart {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("load chart: %v", err)
	}
	return ch
}

// renderValues renders the chart as `helm template acme deploy/helm/portside -n portal -f <values>`
// does (an install), with Helm's engine in strict mode (a reference to a missing value fails).
func renderValues(t *testing.T, values string) (map[string]string, error) {
	t.Helper()
	vals, err := chartutil.ReadValues([]byte(values))
	if err != nil {
		t.Fatalf("values: %v", err)
	}
	ch := loadChart(t)
	top, err := chartutil.ToRenderValues(ch, vals.AsMap(), chartutil.ReleaseOptions{
		Name: release, Namespace: namespace, Revision: 1, IsInstall: true}, chartutil.DefaultCapabilities)
	if err != nil {
		return nil, err
	}
	return engine.Engine{Strict: true}.Render(ch, top)
}

var docSep = regexp.MustCompile(`(?m)^---\s*$`)

// mustRender renders values and decodes every object strictly.
func mustRender(t *testing.T, values string) rendered {
	t.Helper()
	files, err := renderValues(t, values)
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	r := rendered{files: files}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		if !strings.HasSuffix(name, ".yaml") {
			continue // NOTES.txt, _helpers.tpl
		}
		for _, doc := range docSep.Split(files[name], -1) {
			if strings.TrimSpace(stripComments(doc)) == "" {
				continue
			}
			obj, gvk, err := strict.Decode([]byte(doc), nil, nil)
			if err != nil {
				t.Fatalf("%s: strict decode: %v\n%s", name, err, doc)
			}
			r.objects = append(r.objects, obj)
			switch o := obj.(type) {
			case *appsv1.Deployment:
				r.deployment = once(t, r.deployment, o)
			case *corev1.Service:
				r.service = once(t, r.service, o)
			case *corev1.ConfigMap:
				r.configMap = once(t, r.configMap, o)
			case *batchv1.Job:
				r.job = once(t, r.job, o)
			case *policyv1.PodDisruptionBudget:
				r.pdb = once(t, r.pdb, o)
			case *autoscalingv2.HorizontalPodAutoscaler:
				r.hpa = once(t, r.hpa, o)
			case *networkingv1.Ingress:
				r.ingress = once(t, r.ingress, o)
			case *corev1.ServiceAccount:
				r.account = once(t, r.account, o)
			case *rbacv1.Role:
				r.roles = append(r.roles, o)
			case *rbacv1.RoleBinding:
				r.roleBinding = append(r.roleBinding, o)
			default:
				t.Fatalf("%s: the chart renders a %s that no test checks", name, gvk)
			}
		}
	}
	if r.deployment == nil || r.service == nil || r.configMap == nil {
		t.Fatalf("a render without Deployment, Service or ConfigMap: %v", slices.Collect(maps.Keys(files)))
	}
	return r
}

func once[T any](t *testing.T, have *T, got *T) *T {
	t.Helper()
	if have != nil {
		t.Fatalf("the chart renders two %T", got)
	}
	return got
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// combinations reads every values file of ci/: the documented combinations.
func combinations(t *testing.T) map[string]string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(ciDir, "*-values.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no values files in %s: %v", ciDir, err)
	}
	out := map[string]string{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out[strings.TrimSuffix(filepath.Base(p), "-values.yaml")] = string(b)
	}
	return out
}

// TestEveryDocumentedCombinationIsCovered keeps ci/ and the README's list of combinations together.
func TestEveryDocumentedCombinationIsCovered(t *testing.T) {
	want := []string{"companion", "default", "existing-secrets", "hpa", "ingress", "pipelines-rbac", "single-replica"}
	got := slices.Sorted(maps.Keys(combinations(t)))
	if !slices.Equal(got, want) {
		t.Fatalf("ci/ holds %v, want %v (each combination of the README's table, tested here)", got, want)
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range want {
		if !strings.Contains(string(readme), "deploy/helm/portside/ci/"+name+"-values.yaml") {
			t.Errorf("README does not document the combination %s (deploy/helm/portside/ci/%s-values.yaml)", name, name)
		}
	}
}

// TestChartRendersEveryCombination renders each documented combination and checks what every
// production install needs of it.
func TestChartRendersEveryCombination(t *testing.T) {
	for name, values := range combinations(t) {
		t.Run(name, func(t *testing.T) {
			r := mustRender(t, values)
			checkLabels(t, r)
			checkPods(t, r)
			checkSelectors(t, r)
			checkNoSecretValues(t, r)
			checkConfigLoads(t, r)
			checkMigrationJob(t, r)
		})
	}
}

// TestChartPassesHelmLint runs Helm's own linter (chart metadata, values, templates, as `helm
// lint --strict`) on every combination.
func TestChartPassesHelmLint(t *testing.T) {
	for name, values := range combinations(t) {
		t.Run(name, func(t *testing.T) {
			vals, err := chartutil.ReadValues([]byte(values))
			if err != nil {
				t.Fatal(err)
			}
			l := lint.All(chartDir, vals.AsMap(), namespace, false)
			for _, m := range l.Messages {
				if m.Severity > support.InfoSev {
					t.Errorf("helm lint: %s", m)
				}
			}
		})
	}
}

func checkLabels(t *testing.T, r rendered) {
	t.Helper()
	for _, o := range r.objects {
		m := metaOf(o)
		for _, k := range []string{"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/managed-by", "helm.sh/chart"} {
			if m.GetLabels()[k] == "" {
				t.Errorf("%T %s has no label %s", o, m.GetName(), k)
			}
		}
		if !strings.HasPrefix(m.GetName(), fullname) {
			t.Errorf("%T %s is not named after the release (%s...)", o, m.GetName(), fullname)
		}
	}
}

func metaOf(o runtime.Object) interface {
	GetName() string
	GetLabels() map[string]string
	GetAnnotations() map[string]string
} {
	return o.(interface {
		GetName() string
		GetLabels() map[string]string
		GetAnnotations() map[string]string
	})
}

// checkPods checks the serving pods: probes, resources, non-root, read-only root with its
// emptyDirs, volumes, spread.
func checkPods(t *testing.T, r rendered) {
	t.Helper()
	d := r.deployment
	spec := d.Spec.Template.Spec
	checkPodSecurity(t, "Deployment", spec)
	if len(spec.Containers) != 1 {
		t.Fatalf("Deployment has %d containers, want 1 (the companion runs as serve's child process)", len(spec.Containers))
	}
	c := spec.Containers[0]
	if !slices.Equal(c.Args, []string{"serve", "--config", "/etc/portside/portside.yaml"}) {
		t.Errorf("container args = %v", c.Args)
	}
	if len(c.Ports) != 1 || c.Ports[0].Name != "http" || c.Ports[0].ContainerPort != 7007 {
		t.Errorf("container ports = %+v, want http 7007", c.Ports)
	}
	for probe, want := range map[string]struct {
		p    *corev1.Probe
		path string
	}{"startup": {c.StartupProbe, "/healthz"}, "liveness": {c.LivenessProbe, "/healthz"}, "readiness": {c.ReadinessProbe, "/readyz"}} {
		if want.p == nil || want.p.HTTPGet == nil {
			t.Errorf("%s probe missing or not HTTP", probe)
			continue
		}
		if want.p.HTTPGet.Path != want.path || want.p.HTTPGet.Port.String() != "http" {
			t.Errorf("%s probe = %s on %s, want %s on http", probe, want.p.HTTPGet.Path, want.p.HTTPGet.Port.String(), want.path)
		}
		if want.p.PeriodSeconds <= 0 || want.p.FailureThreshold <= 0 {
			t.Errorf("%s probe has no period or threshold: %+v", probe, want.p)
		}
	}
	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		req, lim := c.Resources.Requests[res], c.Resources.Limits[res]
		if req.IsZero() || lim.IsZero() {
			t.Errorf("%s: request %s, limit %s: want both", res, req.String(), lim.String())
		} else if req.Cmp(lim) > 0 {
			t.Errorf("%s: request %s above limit %s", res, req.String(), lim.String())
		}
	}
	if spec.TerminationGracePeriodSeconds == nil || *spec.TerminationGracePeriodSeconds <= 15 {
		t.Errorf("terminationGracePeriodSeconds must exceed serve's shutdown-timeout (15s)")
	}

	// Replicas and disruption: 2 by default, none set under an autoscaler, a PDB while 2 or more run.
	minReplicas := int32(0)
	switch {
	case r.hpa != nil:
		if d.Spec.Replicas != nil {
			t.Errorf("Deployment sets replicas %d under an autoscaler (each sync would undo its scaling)", *d.Spec.Replicas)
		}
		if r.hpa.Spec.ScaleTargetRef.Kind != "Deployment" || r.hpa.Spec.ScaleTargetRef.Name != d.Name {
			t.Errorf("HPA scales %+v, not the Deployment %s", r.hpa.Spec.ScaleTargetRef, d.Name)
		}
		minReplicas = *r.hpa.Spec.MinReplicas
		if minReplicas > r.hpa.Spec.MaxReplicas || len(r.hpa.Spec.Metrics) == 0 {
			t.Errorf("HPA min %d max %d metrics %d", minReplicas, r.hpa.Spec.MaxReplicas, len(r.hpa.Spec.Metrics))
		}
	case d.Spec.Replicas == nil:
		t.Errorf("Deployment without replicas and without autoscaler")
	default:
		minReplicas = *d.Spec.Replicas
	}
	if d.Spec.Strategy.RollingUpdate == nil || d.Spec.Strategy.RollingUpdate.MaxUnavailable.IntValue() != 0 {
		t.Errorf("rolling update may take a serving pod away before its successor is ready")
	}
	if minReplicas >= 2 {
		if r.pdb == nil {
			t.Errorf("%d replicas without a PodDisruptionBudget", minReplicas)
		} else if r.pdb.Spec.MinAvailable == nil || r.pdb.Spec.MinAvailable.IntValue() < 1 || int32(r.pdb.Spec.MinAvailable.IntValue()) >= minReplicas {
			t.Errorf("PDB minAvailable %v with %d replicas: want at least 1 and fewer than the replicas", r.pdb.Spec.MinAvailable, minReplicas)
		}
	} else if r.pdb != nil {
		t.Errorf("a PodDisruptionBudget with %d replica blocks every node drain", minReplicas)
	}

	// Topology spread over zones and nodes, each selecting exactly the serving pods.
	keys := map[string]bool{}
	for _, tsc := range spec.TopologySpreadConstraints {
		keys[tsc.TopologyKey] = true
		sel, err := metav1LabelSelector(tsc.LabelSelector)
		if err != nil || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			t.Errorf("spread constraint on %s does not select the serving pods (%v)", tsc.TopologyKey, err)
		}
		if tsc.MaxSkew < 1 {
			t.Errorf("spread constraint on %s: maxSkew %d", tsc.TopologyKey, tsc.MaxSkew)
		}
	}
	if !keys["topology.kubernetes.io/zone"] || !keys["kubernetes.io/hostname"] {
		t.Errorf("pods spread over %v, want zones and nodes", slices.Collect(maps.Keys(keys)))
	}

	// Every mount has its volume; /tmp and the git cache are emptyDirs (the root is read-only).
	vols := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		vols[v.Name] = v
	}
	mounts := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		v, ok := vols[m.Name]
		if !ok {
			t.Errorf("mount %s of a volume the pod does not have", m.Name)
		}
		mounts[m.MountPath] = m
		if v.Secret != nil && !m.ReadOnly {
			t.Errorf("Secret volume %s mounted writable", m.Name)
		}
	}
	for _, dir := range []string{"/tmp", "/var/lib/portside/git"} {
		if m, ok := mounts[dir]; !ok || vols[m.Name].EmptyDir == nil || vols[m.Name].EmptyDir.SizeLimit == nil {
			t.Errorf("%s is not a size-bounded emptyDir (the root filesystem is read-only)", dir)
		}
	}
	if cm := vols["config"].ConfigMap; cm == nil || cm.Name != r.configMap.Name {
		t.Errorf("config volume is not the chart's ConfigMap")
	}

	// The service account, and its token only for the Kubernetes Jobs provider.
	wantSA := fullname
	if spec.ServiceAccountName != wantSA || r.account == nil || r.account.Name != wantSA {
		t.Errorf("pods run as %q, ServiceAccount %v, want %s", spec.ServiceAccountName, r.account, wantSA)
	}
	token := spec.AutomountServiceAccountToken != nil && *spec.AutomountServiceAccountToken
	if token != (len(r.roles) > 0) {
		t.Errorf("service account token mounted: %v, with %d Roles: a token only when the pods use the API", token, len(r.roles))
	}
}

func checkPodSecurity(t *testing.T, what string, spec corev1.PodSpec) {
	t.Helper()
	psc := spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot || psc.RunAsUser == nil || *psc.RunAsUser == 0 {
		t.Errorf("%s: pods not forced non-root with a numeric user: %+v", what, psc)
	}
	if psc != nil && (psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault) {
		t.Errorf("%s: no RuntimeDefault seccomp profile", what)
	}
	for _, c := range spec.Containers {
		sc := c.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			t.Errorf("%s %s: root filesystem writable", what, c.Name)
		}
		if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			t.Errorf("%s %s: privilege escalation allowed", what, c.Name)
		}
		if sc == nil || sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
			t.Errorf("%s %s: capabilities not all dropped", what, c.Name)
		}
		if sc != nil && sc.Privileged != nil && *sc.Privileged {
			t.Errorf("%s %s: privileged", what, c.Name)
		}
	}
}

// checkSelectors: the Deployment selects its own pods, the Service and PDB select exactly them,
// and never the migration Job's pods; the Ingress reaches the Service.
func checkSelectors(t *testing.T, r rendered) {
	t.Helper()
	podLabels := labels.Set(r.deployment.Spec.Template.Labels)
	sel, err := metav1LabelSelector(r.deployment.Spec.Selector)
	if err != nil || !sel.Matches(podLabels) {
		t.Fatalf("Deployment selector does not select its pods: %v", err)
	}
	svc := labels.SelectorFromSet(r.service.Spec.Selector)
	if !svc.Matches(podLabels) {
		t.Errorf("Service selector %v does not select the serving pods", r.service.Spec.Selector)
	}
	if len(r.service.Spec.Ports) != 1 || r.service.Spec.Ports[0].TargetPort.String() != "http" {
		t.Errorf("Service ports %+v, want one to the pods' http port", r.service.Spec.Ports)
	}
	if r.job != nil {
		jobPods := labels.Set(r.job.Spec.Template.Labels)
		if svc.Matches(jobPods) || sel.Matches(jobPods) {
			t.Errorf("the migration Job's pods match the Service or Deployment selector")
		}
		if r.pdb != nil {
			if s, _ := metav1LabelSelector(r.pdb.Spec.Selector); s.Matches(jobPods) {
				t.Errorf("the PDB counts the migration Job's pods")
			}
		}
	}
	if r.pdb != nil {
		if s, err := metav1LabelSelector(r.pdb.Spec.Selector); err != nil || !s.Matches(podLabels) {
			t.Errorf("the PDB does not select the serving pods")
		}
	}
	if r.ingress != nil {
		rules := r.ingress.Spec.Rules
		if len(rules) != 1 || rules[0].HTTP == nil || len(rules[0].HTTP.Paths) != 1 {
			t.Fatalf("Ingress rules %+v", rules)
		}
		b := rules[0].HTTP.Paths[0].Backend.Service
		if b == nil || b.Name != r.service.Name || b.Port.Name != r.service.Spec.Ports[0].Name {
			t.Errorf("Ingress backend %+v is not the Service's http port", b)
		}
		for _, tls := range r.ingress.Spec.TLS {
			if !slices.Contains(tls.Hosts, rules[0].Host) || tls.SecretName == "" {
				t.Errorf("Ingress TLS %+v does not cover host %s", tls, rules[0].Host)
			}
		}
	}
	for i, role := range r.roles {
		rb := r.roleBinding[i]
		if rb.Namespace != role.Namespace || rb.RoleRef.Kind != "Role" || rb.RoleRef.Name != role.Name {
			t.Errorf("RoleBinding %s/%s does not bind Role %s/%s", rb.Namespace, rb.Name, role.Namespace, role.Name)
		}
		if len(rb.Subjects) != 1 || rb.Subjects[0].Kind != "ServiceAccount" || rb.Subjects[0].Name != r.deployment.Spec.Template.Spec.ServiceAccountName || rb.Subjects[0].Namespace != namespace {
			t.Errorf("RoleBinding subjects %+v, want the pods' ServiceAccount in %s", rb.Subjects, namespace)
		}
	}
	if len(r.roles) != len(r.roleBinding) {
		t.Errorf("%d Roles, %d RoleBindings", len(r.roles), len(r.roleBinding))
	}
}

// secretSettings are the environment variables of config's secret settings.
func secretSettings() map[string]config.Setting {
	out := map[string]config.Setting{}
	for _, s := range config.Settings() {
		if s.Secret || s.Key == "database" {
			out[s.Env] = s
		}
	}
	return out
}

// checkNoSecretValues: the chart makes no Secret, every secret setting reaches the pods from a
// Secret reference, and the ConfigMap holds no secret setting.
func checkNoSecretValues(t *testing.T, r rendered) {
	t.Helper()
	secrets := secretSettings()
	for _, spec := range podSpecs(r) {
		for _, c := range spec.Containers {
			for _, e := range c.Env {
				if _, secret := secrets[e.Name]; secret && (e.Value != "" || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil) {
					t.Errorf("%s: %s is not read from a Secret", c.Name, e.Name)
				}
			}
			if len(c.EnvFrom) > 0 {
				t.Errorf("%s: envFrom hides which settings come from where", c.Name)
			}
		}
	}
	file := r.configMap.Data["portside.yaml"]
	for _, s := range secrets {
		if regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(s.Key) + `:`).MatchString(file) {
			t.Errorf("ConfigMap sets the secret setting %s", s.Key)
		}
	}
}

func podSpecs(r rendered) map[string]corev1.PodSpec {
	out := map[string]corev1.PodSpec{"Deployment": r.deployment.Spec.Template.Spec}
	if r.job != nil {
		out["Job"] = r.job.Spec.Template.Spec
	}
	return out
}

// sampleSecrets stand in for the Secrets' contents when the test loads the pods' configuration.
var sampleSecrets = map[string]string{
	"PORTSIDE_DATABASE_URL":          "postgres://portside:pw@db.acme.example:5432/portside",
	"PORTSIDE_AUTH_CLIENT_SECRET":    "s3cret",
	"PORTSIDE_ENCRYPTION_KEY":        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
	"PORTSIDE_METRICS_TOKEN":         "metrics",
	"PORTSIDE_GITHUB_TOKEN":          "ghp_x",
	"PORTSIDE_GITHUB_WEBHOOK_SECRET": "hook",
}

// checkConfigLoads loads the configuration a serving pod would: the ConfigMap's file at the path
// serve is given, the container's environment (Secrets filled with samples), through config.Load,
// the function serve calls. Every variable must be a setting Portside knows, and the settings the
// chart manages must come out as the mounts and ports say.
func checkConfigLoads(t *testing.T, r rendered) {
	t.Helper()
	c := r.deployment.Spec.Template.Spec.Containers[0]
	known := map[string]bool{}
	for _, s := range config.Settings() {
		known[s.Env] = true
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "portside.yaml")
	if err := os.WriteFile(file, []byte(r.configMap.Data["portside.yaml"]), 0o600); err != nil {
		t.Fatal(err)
	}
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	if got := mounts["config"] + "/portside.yaml"; c.Args[2] != got {
		t.Errorf("serve reads %s, the ConfigMap is mounted at %s", c.Args[2], got)
	}
	env := map[string]string{"PORTSIDE_CONFIG": file}
	for _, e := range c.Env {
		if !known[e.Name] {
			t.Errorf("env %s is no Portside setting (config.Settings)", e.Name)
		}
		if e.ValueFrom != nil {
			v, ok := sampleSecrets[e.Name]
			if !ok {
				t.Fatalf("no sample secret for %s: add one", e.Name)
			}
			env[e.Name] = v
		} else {
			env[e.Name] = e.Value
		}
	}
	cfg, err := config.Load(nil, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatalf("the pods' configuration does not load: %v\nportside.yaml:\n%s", err, r.configMap.Data["portside.yaml"])
	}
	if !strings.HasSuffix(cfg.Addr, fmt.Sprintf(":%d", c.Ports[0].ContainerPort)) || strings.HasPrefix(cfg.Addr, "127.") {
		t.Errorf("serve listens on %s, the container port is %d", cfg.Addr, c.Ports[0].ContainerPort)
	}
	if cfg.GitCacheDir != "/var/lib/portside/git" {
		t.Errorf("git-cache-dir %s is not the git-cache emptyDir", cfg.GitCacheDir)
	}
	if !strings.HasPrefix(cfg.Database, "postgres://") {
		t.Errorf("database %s: the pods must use the PostgreSQL Secret", cfg.Database)
	}
	if r.job != nil && cfg.Migrate != config.MigrateNever {
		t.Errorf("migrate = %s while the Job migrates: replicas would race it", cfg.Migrate)
	}
	if p, ok := mounts["argocd-tokens"]; ok != (cfg.ArgoCDTokenDir != "") || cfg.ArgoCDTokenDir != p {
		t.Errorf("argocd-token-dir %q, tokens mounted at %q", cfg.ArgoCDTokenDir, p)
	}
	if len(cfg.ArgoCDInstances) > 0 && cfg.ArgoCDTokenDir == "" && len(cfg.ArgoCDTokens) == 0 {
		t.Errorf("Argo CD instances without tokens: the companion would refuse to start")
	}
	if (len(r.roles) > 0) != cfg.KubernetesJobsInCluster {
		t.Errorf("kubernetes-jobs-in-cluster %v with %d Roles", cfg.KubernetesJobsInCluster, len(r.roles))
	}
	for _, role := range r.roles {
		if role.Namespace != cfg.KubernetesJobsNamespace {
			t.Errorf("Role in %s, Jobs run in %s", role.Namespace, cfg.KubernetesJobsNamespace)
		}
	}
}

// checkMigrationJob: a pre-install and pre-upgrade hook, apart from the serving pods, needing no
// object of the chart (it runs before they exist), non-root, bounded.
func checkMigrationJob(t *testing.T, r rendered) {
	t.Helper()
	j := r.job
	if j == nil {
		t.Fatal("no migration Job")
	}
	want := map[string]string{
		"helm.sh/hook":               "pre-install,pre-upgrade",
		"helm.sh/hook-delete-policy": "before-hook-creation",
	}
	for k, v := range want {
		if got := j.Annotations[k]; got != v {
			t.Errorf("Job annotation %s = %q, want %q", k, got, v)
		}
	}
	spec := j.Spec.Template.Spec
	checkPodSecurity(t, "Job", spec)
	if spec.RestartPolicy != corev1.RestartPolicyNever || j.Spec.BackoffLimit == nil || j.Spec.ActiveDeadlineSeconds == nil {
		t.Errorf("Job restartPolicy %s, backoffLimit %v, activeDeadlineSeconds %v: want Never and bounds", spec.RestartPolicy, j.Spec.BackoffLimit, j.Spec.ActiveDeadlineSeconds)
	}
	if len(spec.Containers) != 1 || !slices.Equal(spec.Containers[0].Args, []string{"migrate", "up"}) {
		t.Fatalf("Job containers %+v, want one running migrate up", spec.Containers)
	}
	c := spec.Containers[0]
	if c.Image != r.deployment.Spec.Template.Spec.Containers[0].Image {
		t.Errorf("Job image %s, Deployment image %s: the migration must be the new version's", c.Image, r.deployment.Spec.Template.Spec.Containers[0].Image)
	}
	if c.Resources.Limits.Memory().IsZero() || c.Resources.Requests.Cpu().IsZero() {
		t.Errorf("Job resources unbounded: %+v", c.Resources)
	}
	// Before install, only what the user created exists: the Secrets. Not the ConfigMap, not the
	// ServiceAccount (the default one is used, without a token).
	if spec.ServiceAccountName != "" || spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		t.Errorf("Job runs as %q with a token: it needs neither, and the chart's ServiceAccount does not exist yet", spec.ServiceAccountName)
	}
	for _, v := range spec.Volumes {
		if v.ConfigMap != nil || v.Secret != nil {
			t.Errorf("Job mounts %s, which may not exist before the install", v.Name)
		}
	}
	known := map[string]bool{}
	for _, s := range config.Settings() {
		known[s.Env] = true
	}
	db := false
	for _, e := range c.Env {
		if !known[e.Name] {
			t.Errorf("Job env %s is no Portside setting (config.Settings)", e.Name)
		}
		if e.Name == "PORTSIDE_DATABASE_URL" {
			db = e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil
			for _, de := range r.deployment.Spec.Template.Spec.Containers[0].Env {
				if de.Name == e.Name && *de.ValueFrom.SecretKeyRef != *e.ValueFrom.SecretKeyRef {
					t.Errorf("Job and Deployment read the database from different Secrets")
				}
			}
		}
	}
	if !db {
		t.Errorf("Job does not read PORTSIDE_DATABASE_URL from the database Secret")
	}
}

// metav1LabelSelector turns an API label selector into one that matches label sets.
func metav1LabelSelector(s *metav1.LabelSelector) (labels.Selector, error) {
	if s == nil {
		return labels.Nothing(), fmt.Errorf("no selector")
	}
	return metav1.LabelSelectorAsSelector(s)
}

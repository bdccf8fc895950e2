package deploy

import (
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/portside-dev/portside/config"
)

// TestChartDefaults: what an install without values gets.
func TestChartDefaults(t *testing.T) {
	r := mustRender(t, "")
	if got := *r.deployment.Spec.Replicas; got != 2 {
		t.Errorf("replicas = %d, want 2", got)
	}
	if r.ingress != nil || r.hpa != nil || len(r.roles) != 0 {
		t.Errorf("optional objects rendered by default: ingress %v, hpa %v, roles %d", r.ingress != nil, r.hpa != nil, len(r.roles))
	}
	if img := r.deployment.Spec.Template.Spec.Containers[0].Image; img != "ghcr.io/portside-dev/portside:0.1.0" {
		t.Errorf("image = %s, want the chart's appVersion", img)
	}
	refs := secretRefs(r.deployment.Spec.Template.Spec.Containers[0])
	want := map[string]string{
		"PORTSIDE_DATABASE_URL":       "portside-database/url",
		"PORTSIDE_AUTH_CLIENT_SECRET": "portside-auth/client-secret",
		"PORTSIDE_ENCRYPTION_KEY":     "portside-auth/encryption-key",
		"PORTSIDE_METRICS_TOKEN":      "portside-auth/metrics-token?",
	}
	if !equalMaps(refs, want) {
		t.Errorf("secret references = %v, want %v", refs, want)
	}
	for _, v := range r.deployment.Spec.Template.Spec.Volumes {
		if v.Secret != nil {
			t.Errorf("Secret %s mounted by default", v.Secret.SecretName)
		}
	}
}

// TestChartRendersWithHelmTemplateDefaults: helm template without --kube-version checks the
// chart's kubeVersion against Helm's built-in cluster version, so a constraint must admit it.
func TestChartRendersWithHelmTemplateDefaults(t *testing.T) {
	ch := loadChart(t)
	if kv := ch.Metadata.KubeVersion; kv != "" && !chartutil.IsCompatibleRange(kv, chartutil.DefaultCapabilities.KubeVersion.String()) {
		t.Errorf("kubeVersion %s refuses Helm's default %s: helm template would fail", kv, chartutil.DefaultCapabilities.KubeVersion)
	}
	if ch.Schema == nil {
		t.Errorf("the chart has no values.schema.json: misspelt values would be ignored")
	}
}

// TestChartImageDigestWinsOverTag: a pinned digest is what both the serving pods and the
// migration run.
func TestChartImageDigestWinsOverTag(t *testing.T) {
	r := mustRender(t, "image: {tag: '1.4.0', digest: 'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'}")
	want := "ghcr.io/portside-dev/portside@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	if got := r.deployment.Spec.Template.Spec.Containers[0].Image; got != want {
		t.Errorf("Deployment image = %s, want %s", got, want)
	}
	if got := r.job.Spec.Template.Spec.Containers[0].Image; got != want {
		t.Errorf("Job image = %s, want %s", got, want)
	}
}

// TestChartExistingSecrets: Secrets of any name and key are referenced as given, the Slack
// Secret is mounted read-only, and further settings come from Secrets by environment variable.
func TestChartExistingSecrets(t *testing.T) {
	r := mustRender(t, combinations(t)["existing-secrets"])
	c := r.deployment.Spec.Template.Spec.Containers[0]
	want := map[string]string{
		"PORTSIDE_DATABASE_URL":          "acme-portside-pg/dsn",
		"PORTSIDE_AUTH_CLIENT_SECRET":    "acme-portside-oidc/secret",
		"PORTSIDE_ENCRYPTION_KEY":        "acme-portside-keys/keys",
		"PORTSIDE_METRICS_TOKEN":         "acme-portside-keys/metrics?",
		"PORTSIDE_GITHUB_TOKEN":          "acme-portside-ci/github-token",
		"PORTSIDE_GITHUB_WEBHOOK_SECRET": "acme-portside-ci/github-webhook-secret?",
	}
	if got := secretRefs(c); !equalMaps(got, want) {
		t.Errorf("secret references = %v, want %v", got, want)
	}
	if got := secretRefs(r.job.Spec.Template.Spec.Containers[0]); !equalMaps(got, map[string]string{"PORTSIDE_DATABASE_URL": "acme-portside-pg/dsn"}) {
		t.Errorf("Job secret references = %v, want the database only", got)
	}
	if m := mountOf(r, "acme-portside-slack"); m == nil || m.MountPath != "/var/run/secrets/portside/slack" || !m.ReadOnly {
		t.Errorf("Slack Secret mount = %+v", m)
	}
	// Whole numbers stay whole numbers in portside.yaml (Helm reads them as floats).
	if f := r.configMap.Data["portside.yaml"]; !strings.Contains(f, `graphql-max-response-bytes: "33554432"`) {
		t.Errorf("portside.yaml:\n%s", f)
	}
}

// TestChartCompanion: with Argo CD instances and their tokens' Secret, the tokens are mounted
// read-only where argocd-token-dir points (checked by loading the config in every combination);
// without them nothing is.
func TestChartCompanion(t *testing.T) {
	on := mustRender(t, combinations(t)["companion"])
	m := mountOf(on, "portside-argocd")
	if m == nil || !m.ReadOnly {
		t.Fatalf("Argo CD tokens not mounted read-only: %+v", m)
	}
	if f := on.configMap.Data["portside.yaml"]; !strings.Contains(f, `argocd-token-dir: "`+m.MountPath+`"`) ||
		!strings.Contains(f, "argocd-instances: \"prod=https://argocd.acme.example,") {
		t.Errorf("portside.yaml:\n%s", f)
	}
	off := mustRender(t, "")
	if mountOf(off, "portside-argocd") != nil || strings.Contains(off.configMap.Data["portside.yaml"], "argocd") {
		t.Errorf("Argo CD configured without values asking for it:\n%s", off.configMap.Data["portside.yaml"])
	}
	if on.deployment.Spec.Template.Annotations["checksum/config"] == off.deployment.Spec.Template.Annotations["checksum/config"] {
		t.Errorf("a changed portside.yaml does not change the pod template: pods would keep the old settings")
	}
}

// TestChartPipelinesRBAC: exactly the rights of the README's Kubernetes Jobs section, in the Jobs'
// namespace, bound to the pods' ServiceAccount, whose token is then mounted.
func TestChartPipelinesRBAC(t *testing.T) {
	r := mustRender(t, combinations(t)["pipelines-rbac"])
	if len(r.roles) != 1 || len(r.roleBinding) != 1 {
		t.Fatalf("%d Roles, %d RoleBindings", len(r.roles), len(r.roleBinding))
	}
	role := r.roles[0]
	if role.Namespace != "builds" {
		t.Errorf("Role in %q, want builds", role.Namespace)
	}
	want := []rbacv1.PolicyRule{
		{APIGroups: []string{"batch"}, Resources: []string{"jobs"}, Verbs: []string{"create", "get", "list", "watch", "delete"}},
		{APIGroups: []string{""}, Resources: []string{"pods"}, Verbs: []string{"get", "list", "watch"}},
	}
	if len(role.Rules) != len(want) {
		t.Fatalf("rules = %+v", role.Rules)
	}
	for i := range want {
		g, w := role.Rules[i], want[i]
		if !slices.Equal(g.APIGroups, w.APIGroups) || !slices.Equal(g.Resources, w.Resources) || !slices.Equal(g.Verbs, w.Verbs) || len(g.ResourceNames) > 0 || len(g.NonResourceURLs) > 0 {
			t.Errorf("rule %d = %+v, want %+v", i, g, w)
		}
	}
	if f := r.configMap.Data["portside.yaml"]; !strings.Contains(f, `kubernetes-jobs-in-cluster: "true"`) || !strings.Contains(f, `kubernetes-jobs-namespace: "builds"`) {
		t.Errorf("portside.yaml:\n%s", f)
	}
	if _, err := renderValues(t, "pipelinesRBAC: {enabled: true}\nserviceAccount: {create: false}"); err == nil || !strings.Contains(err.Error(), "ServiceAccount") {
		t.Errorf("RBAC bound to the namespace's default ServiceAccount: err = %v", err)
	}
}

// TestChartRefusesSecretsAndManagedSettingsInValues: a secret setting under config (it would land
// in a ConfigMap, readable by anyone who can read ConfigMaps) and a setting the chart sets itself
// both fail the install, naming the setting. The list of secret settings is config's own table,
// so a new secret setting fails this test until the chart refuses it too.
func TestChartRefusesSecretsAndManagedSettingsInValues(t *testing.T) {
	var refused []string
	for _, s := range config.Settings() {
		if s.Secret {
			refused = append(refused, s.Key)
		}
	}
	refused = append(refused, "addr", "database", "migrate", "git-cache-dir", "argocd-token-dir", "kubernetes-jobs-in-cluster", "kubernetes-jobs-namespace", "config")
	for _, key := range refused {
		_, err := renderValues(t, "config: {"+key+": 'x'}")
		if err == nil || !strings.Contains(err.Error(), "config."+key) {
			t.Errorf("config.%s accepted (err = %v)", key, err)
		}
	}
	bad := map[string]string{
		"no database Secret":          "secrets: {database: {name: ''}}",
		"extraEnv outside PORTSIDE_*": "secrets: {extraEnv: [{env: AWS_SECRET_ACCESS_KEY, name: s, key: k}]}",
		"extraEnv without key":        "secrets: {extraEnv: [{env: PORTSIDE_GITHUB_TOKEN, name: s}]}",
		"nested config":               "config: {log-level: {a: b}}",
		"list in config":              "config: {auth-scopes: [openid, email]}",
		"hpa min above max":           "autoscaling: {enabled: true, minReplicas: 5, maxReplicas: 3}",
		"probe dropped":               "probes: {startup: null}",
		// values.schema.json: a misspelt or mistyped value fails instead of being ignored.
		"misspelt top-level value": "replica: 3",
		"misspelt nested value":    "ingress: {enable: true}",
		"replicas as text":         "replicas: two",
		"unknown pull policy":      "image: {pullPolicy: Sometimes}",
		"digest without algorithm": "image: {digest: '0123abcd'}",
		"extraEnv lower case":      "secrets: {extraEnv: [{env: portside_x, name: s, key: k}]}",
	}
	for name, values := range bad {
		if _, err := renderValues(t, values); err == nil {
			t.Errorf("%s: rendered without error", name)
		}
	}
}

// TestChartMigrationOff: without the hook Job, serve's own migrate setting is left to config.
func TestChartMigrationOff(t *testing.T) {
	files, err := renderValues(t, "migration: {enabled: false}\nconfig: {migrate: 'true'}")
	if err == nil {
		t.Errorf("config.migrate accepted: %v", files["portside/templates/configmap.yaml"])
	}
	r := mustRender(t, "migration: {enabled: false}")
	if r.job != nil || strings.Contains(r.configMap.Data["portside.yaml"], "migrate") {
		t.Errorf("migration disabled, yet Job %v, portside.yaml:\n%s", r.job != nil, r.configMap.Data["portside.yaml"])
	}
}

// TestChartMigrationPodAnnotations: the migration Job's pod has its own annotations (a service
// mesh's sidecar, which never exits, must stay out of a Job that has to complete), and the
// serving pods' annotations stay off it.
func TestChartMigrationPodAnnotations(t *testing.T) {
	r := mustRender(t, `podAnnotations: {serving: "yes"}
migration: {podAnnotations: {sidecar.istio.io/inject: "false"}}`)
	if got := r.job.Spec.Template.Annotations; !equalMaps(got, map[string]string{"sidecar.istio.io/inject": "false"}) {
		t.Errorf("migration pod annotations = %v, want only migration.podAnnotations", got)
	}
	if got := r.deployment.Spec.Template.Annotations; got["serving"] != "yes" || got["sidecar.istio.io/inject"] != "" {
		t.Errorf("serving pod annotations = %v, want podAnnotations and not migration.podAnnotations", got)
	}
	if r = mustRender(t, ""); len(r.job.Spec.Template.Annotations) != 0 {
		t.Errorf("migration pod annotations by default: %v", r.job.Spec.Template.Annotations)
	}
	if _, err := renderValues(t, "migration: {podAnnotations: {a: 1}}"); err == nil {
		t.Errorf("a number as an annotation value accepted: the schema must refuse it")
	}
}

func secretRefs(c corev1.Container) map[string]string {
	out := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			ref := e.ValueFrom.SecretKeyRef
			v := ref.Name + "/" + ref.Key
			if ref.Optional != nil && *ref.Optional {
				v += "?"
			}
			out[e.Name] = v
		}
	}
	return out
}

// mountOf is the mount of the Secret volume named secret, or nil.
func mountOf(r rendered, secret string) *corev1.VolumeMount {
	spec := r.deployment.Spec.Template.Spec
	for _, v := range spec.Volumes {
		if v.Secret != nil && v.Secret.SecretName == secret {
			for _, m := range spec.Containers[0].VolumeMounts {
				if m.Name == v.Name {
					return &m
				}
			}
		}
	}
	return nil
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

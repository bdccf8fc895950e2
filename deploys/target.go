package deploys

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/portside-dev/portside/errs"
)

// AnnotationDeploy is the catalog annotation that says, per environment, where a component's
// deploys are applied. Its value is YAML (or JSON, which is YAML) mapping environment names to
// targets:
//
//	portside.dev/deploy: |
//	  production:
//	    repo: https://git.acme.example/platform/manifests.git
//	    branch: main
//	    path: apps/payments-api/overlays/production/kustomization.yaml
//	    kind: kustomize
//	    image: ghcr.io/acme/payments-api
//	  staging:
//	    repo: https://git.acme.example/platform/manifests.git
//	    path: charts/payments-api/values-staging.yaml
//	    kind: helm
//	    image: ghcr.io/acme/payments-api
//	    valuesKey: image.tag
const AnnotationDeploy = "portside.dev/deploy"

// Kind is how a target's manifests name the image.
type Kind string

// The target kinds.
const (
	// Kustomize: the image is an entry of the kustomization's images: list (newTag or digest).
	Kustomize Kind = "kustomize"
	// Helm: the version is a value of a Helm values file, at ValuesKey.
	Helm Kind = "helm"
)

// Target is where one environment of a component is deployed from.
type Target struct {
	Environment string `yaml:"-"`
	// Repo is the manifest repository's URL (anything git clone accepts); Branch defaults to main.
	Repo   string `yaml:"repo"`
	Branch string `yaml:"branch"`
	// Path is the file to change, relative to the repository's root.
	Path  string `yaml:"path"`
	Kind  Kind   `yaml:"kind"`
	Image string `yaml:"image"`
	// ValuesKey is the dotted path of the value a Helm bump sets (default image.tag); DigestKey,
	// when set, is where a digest goes instead (charts often have image.digest).
	ValuesKey string `yaml:"valuesKey"`
	DigestKey string `yaml:"digestKey"`
}

// Targets reads a component's deploy targets from its annotations; a component without the
// annotation has none. A malformed annotation is INVALID naming the annotation and the field.
func Targets(annotations map[string]string) (map[string]Target, error) {
	raw, ok := annotations[AnnotationDeploy]
	if !ok {
		return map[string]Target{}, nil
	}
	var m map[string]Target
	if err := yaml.Unmarshal([]byte(raw), &m); err != nil {
		return nil, errs.InvalidField(AnnotationDeploy, "is not a YAML map of environments to targets: %v", err)
	}
	out := make(map[string]Target, len(m))
	for env, t := range m {
		field := AnnotationDeploy + "." + env
		if err := checkEnvironment(env); err != nil {
			return nil, errs.InvalidField(field, "%q is not an environment name", clip(env))
		}
		t.Environment = env
		if t.Branch == "" {
			t.Branch = "main"
		}
		if t.Kind == "" {
			t.Kind = Kustomize
		}
		if t.Kind == Helm && t.ValuesKey == "" {
			t.ValuesKey = "image.tag"
		}
		switch {
		case strings.TrimSpace(t.Repo) == "":
			return nil, errs.InvalidField(field+".repo", "is empty")
		case strings.TrimSpace(t.Path) == "" || strings.HasPrefix(t.Path, "/") || slices.Contains(strings.Split(t.Path, "/"), ".."):
			return nil, errs.InvalidField(field+".path", "%q is not a path inside the repository", clip(t.Path))
		case t.Kind != Kustomize && t.Kind != Helm:
			return nil, errs.InvalidField(field+".kind", "%q is not kustomize or helm", clip(string(t.Kind)))
		case t.Kind == Kustomize && strings.TrimSpace(t.Image) == "":
			return nil, errs.InvalidField(field+".image", "is empty: a Kustomize bump names the image")
		case strings.HasPrefix(t.Branch, "-") || strings.ContainsAny(t.Branch, " ~^:?*[\\"):
			return nil, errs.InvalidField(field+".branch", "%q is not a branch name", clip(t.Branch))
		}
		out[env] = t
	}
	return out, nil
}

// target finds the target of one environment, or says which environments there are.
func target(component string, annotations map[string]string, env string) (Target, error) {
	ts, err := Targets(annotations)
	if err != nil {
		return Target{}, err
	}
	if t, ok := ts[env]; ok {
		return t, nil
	}
	if len(ts) == 0 {
		return Target{}, errs.InvalidField("environment", "%s has no deploy targets (annotation %s)", component, AnnotationDeploy)
	}
	envs := make([]string, 0, len(ts))
	for e := range ts {
		envs = append(envs, e)
	}
	slices.Sort(envs)
	return Target{}, errs.InvalidField("environment", "%s is not deployed to %q; its environments are %s", component, clip(env), fmt.Sprint(strings.Join(envs, ", ")))
}

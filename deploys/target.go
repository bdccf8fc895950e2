package deploys

import (
	"fmt"
	"net/url"
	"regexp"
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
//	    apply: pull-request        # a pull request instead of a push (see ApplyPullRequest)
//	    provider: github           # where it is opened: github or gitlab
//	    project: acme/manifests    # default: the repository URL's path
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

// How a target is applied.
const (
	// ApplyPush pushes the commit to the branch Argo CD follows (the default).
	ApplyPush = "push"
	// ApplyPullRequest pushes the commit to a branch of its own (BranchOf) and opens a pull
	// request (GitHub) or merge request (GitLab) into the target's branch; the request rolls out
	// once it is merged, for manifest repositories that require review.
	ApplyPullRequest = "pull-request"
)

// The code hosts a pull request is opened on.
const (
	ProviderGitHub = "github"
	ProviderGitLab = "gitlab"
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
	// Apply is ApplyPush (default) or ApplyPullRequest; Provider (github or gitlab) and Project
	// (owner/name on GitHub, the project's path on GitLab; default: the repository URL's path
	// without .git) say where a pull request is opened.
	Apply    string `yaml:"apply"`
	Provider string `yaml:"provider"`
	Project  string `yaml:"project"`
}

// projectRE is what a GitHub owner/name or a GitLab group/…/project path looks like.
var projectRE = regexp.MustCompile(`^[A-Za-z0-9_.][A-Za-z0-9_.-]*(/[A-Za-z0-9_.][A-Za-z0-9_.-]*)+$`)

// projectOf is the path of a repository URL (https://host/acme/manifests.git, git@host:acme/
// manifests.git, ssh://git@host/acme/manifests) without .git: the project a code host knows it by.
func projectOf(repo string) string {
	p := repo
	if u, err := url.Parse(repo); err == nil && u.Scheme != "" && u.Host != "" {
		p = u.Path
	} else if _, after, ok := strings.Cut(repo, ":"); ok && !strings.Contains(repo, "://") {
		p = after // scp-like: git@host:acme/manifests.git
	} else {
		return ""
	}
	return strings.TrimSuffix(strings.Trim(p, "/"), ".git")
}

// BranchOf is the branch a request applied by pull request is committed to.
func BranchOf(id int64) string { return fmt.Sprintf("portside/deploy-%d", id) }

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
		if t.Apply == "" {
			t.Apply = ApplyPush
		}
		if t.Apply == ApplyPullRequest && t.Project == "" {
			t.Project = projectOf(t.Repo)
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
		case t.Apply != ApplyPush && t.Apply != ApplyPullRequest:
			return nil, errs.InvalidField(field+".apply", "%q is not push or pull-request", clip(t.Apply))
		case t.Apply == ApplyPullRequest && t.Provider != ProviderGitHub && t.Provider != ProviderGitLab:
			return nil, errs.InvalidField(field+".provider", "%q is not github or gitlab: a pull request is opened on one of them", clip(t.Provider))
		case t.Apply == ApplyPullRequest && !projectRE.MatchString(t.Project):
			return nil, errs.InvalidField(field+".project", "%q is not a project (owner/name on GitHub, group/project on GitLab)", clip(t.Project))
		case t.Apply == ApplyPush && (t.Provider != "" || t.Project != ""):
			return nil, errs.InvalidField(field+".apply", "is push, so provider and project mean nothing: set apply: pull-request")
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

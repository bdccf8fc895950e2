package deploys_test

import (
	"strings"
	"testing"

	"github.com/portside-dev/portside/deploys"
	"github.com/portside-dev/portside/errs"
)

// A target applied by pull request names the code host; its project defaults to the repository
// URL's path. Whatever cannot be applied is INVALID naming the field.
func TestATargetAppliedByPullRequestNamesItsHost(t *testing.T) {
	read := func(yaml string) (deploys.Target, error) {
		ts, err := deploys.Targets(map[string]string{deploys.AnnotationDeploy: yaml})
		return ts["production"], err
	}
	tg, err := read("production:\n  repo: https://github.com/acme/manifests.git\n  path: a.yaml\n  image: i\n")
	if err != nil || tg.Apply != deploys.ApplyPush || tg.Provider != "" {
		t.Fatalf("a push target: %+v %v", tg, err)
	}
	for repo, want := range map[string]string{
		"https://github.com/acme/manifests.git":            "acme/manifests",
		"https://gitlab.example/platform/deploy/manifests": "platform/deploy/manifests",
		"git@github.com:acme/manifests.git":                "acme/manifests",
		"ssh://git@gitlab.example:2222/acme/manifests.git": "acme/manifests",
	} {
		tg, err := read("production:\n  repo: " + repo + "\n  path: a.yaml\n  image: i\n  apply: pull-request\n  provider: gitlab\n")
		if err != nil || tg.Project != want || tg.Provider != deploys.ProviderGitLab || tg.Apply != deploys.ApplyPullRequest {
			t.Errorf("%s: %+v %v, want project %s", repo, tg, err, want)
		}
	}
	tg, err = read("production:\n  repo: /srv/manifests.git\n  path: a.yaml\n  image: i\n  apply: pull-request\n  provider: github\n  project: acme/manifests\n")
	if err != nil || tg.Project != "acme/manifests" {
		t.Errorf("an explicit project: %+v %v", tg, err)
	}
	for _, c := range []struct{ yaml, field string }{
		{"apply: merge", "production.apply"},
		{"apply: pull-request", "production.provider"},
		{"apply: pull-request\n  provider: bitbucket", "production.provider"},
		{"apply: pull-request\n  provider: github\n  project: manifests", "production.project"},
		{"provider: github", "production.apply"},
	} {
		_, err := read("production:\n  repo: /srv/manifests.git\n  path: a.yaml\n  image: i\n  " + c.yaml + "\n")
		if !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != deploys.AnnotationDeploy+"."+c.field {
			t.Errorf("%q: %v (field %q), want INVALID naming %s", c.yaml, err, errs.FieldOf(err), c.field)
		}
	}
	if got := deploys.BranchOf(12); got != "portside/deploy-12" {
		t.Errorf("BranchOf(12) = %s", got)
	}
	if !strings.HasPrefix(deploys.WaitingForMerge("u"), "waiting for the pull request to merge") {
		t.Errorf("waiting: %s", deploys.WaitingForMerge("u"))
	}
}

package pipelines_test

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/catalog/demo"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/pipelines"
)

// registerCheck wires the declaration check into catalog validation, as cmd/portside does.
func registerCheck() {
	backstage.RegisterAnnotationCheck(pipelines.AnnotationPipelines, pipelines.CheckAnnotation)
}

const goodDeclaration = `
- name: release
  provider: github
  workflow: release.yaml
  ref: main
  parameters:
    - name: environment
      type: choice
      options: [staging, production]
      default: staging
    - name: dryRun
      type: boolean
      default: false
    - name: version
      required: true
  stages: [Build, Test, Release]
- name: dev
  provider: local
  stages:
    - {name: Build, run: "echo build"}
    - {name: Test, run: "echo test"}
`

func TestADeclarationReadsAsWritten(t *testing.T) {
	decls, err := pipelines.Declarations(map[string]string{pipelines.AnnotationGitHubSlug: "acme/checkout", pipelines.AnnotationPipelines: goodDeclaration})
	if err != nil {
		t.Fatal(err)
	}
	if len(decls) != 2 {
		t.Fatalf("got %d declarations", len(decls))
	}
	r := decls[0]
	if r.Name != "release" || r.Provider != "github" || r.Repository != "acme/checkout" || r.Workflow != "release.yaml" || r.Ref != "main" {
		t.Errorf("release = %+v", r)
	}
	if got := strings.Join(r.StageNames(), ","); got != "Build,Test,Release" {
		t.Errorf("stages = %s", got)
	}
	env, _ := r.Param("environment")
	if env.Type != pipelines.ParamChoice || env.Default != "staging" || len(env.Options) != 2 {
		t.Errorf("environment = %+v", env)
	}
	if dry, _ := r.Param("dryRun"); dry.Type != pipelines.ParamBoolean || dry.Default != "false" {
		t.Errorf("dryRun = %+v", dry)
	}
	if v, _ := r.Param("version"); v.Type != pipelines.ParamString || !v.Required {
		t.Errorf("version = %+v", v)
	}
	if d := decls[1]; d.Ref != "main" || d.Stages[1].Run != "echo test" {
		t.Errorf("dev = %+v", d)
	}
	// JSON is YAML: the same declaration on one line.
	if _, err := pipelines.Declarations(map[string]string{pipelines.AnnotationPipelines: `[{"name":"dev","provider":"local","stages":[{"name":"Build","run":"true"}]}]`}); err != nil {
		t.Errorf("JSON declaration: %v", err)
	}
}

func TestAGitLabPipelineFindsItsProjectInBackstagesAnnotations(t *testing.T) {
	const decl = `[{name: ci, provider: gitlab, stages: [build, test]}]`
	for _, tc := range []struct {
		name        string
		annotations map[string]string
		want        string
	}{
		{"slug", map[string]string{pipelines.AnnotationGitLabSlug: "acme/data/loader"}, "acme/data/loader"},
		{"id", map[string]string{pipelines.AnnotationGitLabID: "4242"}, "4242"},
		{"slug wins over id", map[string]string{pipelines.AnnotationGitLabSlug: "acme/loader", pipelines.AnnotationGitLabID: "4242"}, "acme/loader"},
	} {
		annotations := map[string]string{pipelines.AnnotationPipelines: decl}
		for k, v := range tc.annotations {
			annotations[k] = v
		}
		got, err := pipelines.Declarations(annotations)
		if err != nil || len(got) != 1 || got[0].Repository != tc.want || got[0].Provider != pipelines.ProviderGitLab {
			t.Errorf("%s: got %+v, %v; want project %s", tc.name, got, err, tc.want)
		}
	}
	// The declaration's own project wins over the annotations.
	got, err := pipelines.Declarations(map[string]string{pipelines.AnnotationGitLabSlug: "acme/loader",
		pipelines.AnnotationPipelines: `[{name: ci, provider: gitlab, project: "77", stages: [build]}]`})
	if err != nil || got[0].Repository != "77" {
		t.Errorf("project field: got %+v, %v", got, err)
	}
	// A bad annotation is reported on the pipeline, naming the annotation.
	probs := pipelines.CheckAnnotation(decl, map[string]string{pipelines.AnnotationGitLabID: "-1"})
	if len(probs) != 1 || probs[0].Field != "[0].project" || !strings.Contains(probs[0].Message, pipelines.AnnotationGitLabID) {
		t.Errorf("bad project-id annotation: got %+v", probs)
	}
}

func TestParametersAreCheckedAgainstTheDeclaration(t *testing.T) {
	decls, err := pipelines.Declarations(map[string]string{pipelines.AnnotationGitHubSlug: "acme/checkout", pipelines.AnnotationPipelines: goodDeclaration})
	if err != nil {
		t.Fatal(err)
	}
	r := decls[0]
	got, err := r.ResolveParameters(map[string]string{"version": "1.2.3", "dryRun": "TRUE"})
	if err != nil {
		t.Fatal(err)
	}
	if got["environment"] != "staging" || got["dryRun"] != "true" || got["version"] != "1.2.3" {
		t.Errorf("resolved = %v", got)
	}
	for _, tc := range []struct {
		given       map[string]string
		field, says string
	}{
		{map[string]string{"version": "1", "environment": "prod"}, "parameters.environment", `"prod" is not one of the allowed values "staging", "production"`},
		{map[string]string{"version": "1", "dryRun": "maybe"}, "parameters.dryRun", `"maybe" is not a boolean`},
		{map[string]string{}, "parameters.version", "required by pipeline release (a string)"},
		{map[string]string{"version": "1", "colour": "red"}, "parameters.colour", `has no parameter "colour"; it declares "environment", "dryRun", "version"`},
	} {
		_, err := r.ResolveParameters(tc.given)
		if !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != tc.field || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%v: got %v (field %q), want %s: …%s", tc.given, err, errs.FieldOf(err), tc.field, tc.says)
		}
	}
}

func TestAnInvalidDeclarationIsACatalogErrorWithFileDocumentLineAndField(t *testing.T) {
	registerCheck()
	doc := `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: one
spec: {type: service, lifecycle: production, owner: team-a}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: checkout
  annotations:
    portside.dev/pipelines: |
      - name: release
        provider: github
        workflow: release.yaml
        parameters:
          - name: environment
            type: choice
            options: [staging, production]
            default: qa
        stages: [Build]
      - name: dev
        provider: local
        stages: [Build]
spec: {type: service, lifecycle: production, owner: team-a}
`
	res := backstage.Parse("services/checkout/catalog-info.yaml", []byte(doc), nil)
	errors := res.Errors()
	want := []struct {
		line        int
		field, says string
	}{
		{13, "metadata.annotations[portside.dev/pipelines][0].repository", "set the github.com/project-slug annotation"},
		{20, "metadata.annotations[portside.dev/pipelines][0].parameters[0].default", `"qa" is not one of the allowed values`},
		{24, "metadata.annotations[portside.dev/pipelines][1].stages[0].run", "says which command it runs"},
	}
	if len(errors) != len(want) {
		t.Fatalf("got %d errors, want %d: %v", len(errors), len(want), errors)
	}
	for i, w := range want {
		e := errors[i]
		if e.Source != "services/checkout/catalog-info.yaml" || e.Document != 2 || e.Line != w.line || e.Field != w.field || !strings.Contains(e.Message, w.says) {
			t.Errorf("error %d = %s; want document 2, line %d, %s: …%s", i, e.Error(), w.line, w.field, w.says)
		}
	}
}

func TestDeclarationMistakesNameTheField(t *testing.T) {
	for _, tc := range []struct {
		name, decl, field, says string
	}{
		{"not a list", `name: x`, "", "expected a list of pipelines"},
		{"broken YAML", `[{name: x`, "", "not a YAML or JSON list"},
		{"unknown provider", `[{name: x, provider: jenkins, stages: [a]}]`, "[0].provider", `unknown provider "jenkins"`},
		{"provider alias", `[{name: x, provider: kubejobs, stages: [a]}]`, "[0].provider", "Kubernetes Jobs are provider kubernetes"},
		{"kubernetes stage without a Job", `[{name: x, provider: kubernetes, stages: [Build]}]`, "[0].stages[0]", "says what its Job runs"},
		{"kubernetes stage without image", `[{name: x, provider: kubernetes, stages: [{name: Build, command: [make]}]}]`, "[0].stages[0].image", "missing"},
		{"kubernetes bad image", `[{name: x, provider: kubernetes, stages: [{name: Build, image: "no spaces allowed"}]}]`, "[0].stages[0].image", "not a container image"},
		{"kubernetes run", `[{name: x, provider: kubernetes, stages: [{name: Build, image: busybox, run: "make"}]}]`, "[0].stages[0].run", "unknown field"},
		{"kubernetes command not a list", `[{name: x, provider: kubernetes, stages: [{name: Build, image: busybox, command: "make build"}]}]`, "[0].stages[0].command", "expected a list of strings"},
		{"kubernetes bad quantity", `[{name: x, provider: kubernetes, stages: [{name: Build, image: busybox, resources: {limits: {memory: lots}}}]}]`, "[0].stages[0].resources.limits.memory", "not a Kubernetes quantity"},
		{"kubernetes unknown resource", `[{name: x, provider: kubernetes, stages: [{name: Build, image: busybox, resources: {requests: {gpu: "1"}}}]}]`, "[0].stages[0].resources.requests.gpu", "unknown field"},
		{"kubernetes reserved label", `[{name: x, provider: kubernetes, stages: [{name: Build, image: busybox, labels: {portside.dev/run-id: "1"}}]}]`, "[0].stages[0].labels.portside.dev/run-id", "Portside's own"},
		{"kubernetes job controller label", `[{name: x, provider: kubernetes, stages: [{name: Build, image: busybox, labels: {job-name: x}}]}]`, "[0].stages[0].labels.job-name", "Job controller"},
		{"kubernetes bad label value", `[{name: x, provider: kubernetes, stages: [{name: Build, image: busybox, labels: {team: "a b"}}]}]`, "[0].stages[0].labels.team", "not a label value"},
		{"kubernetes bad annotation key", `[{name: x, provider: kubernetes, stages: [{name: Build, image: busybox, annotations: {"a b": x}}]}]`, "[0].stages[0].annotations.a b", "is not a key"},
		{"kubernetes backoff out of range", `[{name: x, provider: kubernetes, stages: [{name: Build, image: busybox, backoffLimit: 11}]}]`, "[0].stages[0].backoffLimit", "out of range"},
		{"kubernetes deadline not a number", `[{name: x, provider: kubernetes, stages: [{name: Build, image: busybox, activeDeadlineSeconds: 1h}]}]`, "[0].stages[0].activeDeadlineSeconds", "whole number"},
		{"kubernetes ttl too short", `[{name: x, provider: kubernetes, stages: [{name: Build, image: busybox, ttlSecondsAfterFinished: 10}]}]`, "[0].stages[0].ttlSecondsAfterFinished", "out of range"},
		{"job fields on local", `[{name: x, provider: local, stages: [{name: a, run: "true", image: busybox}]}]`, "[0].stages[0].image", "unknown field"},
		{"gitlab without project", `[{name: x, provider: gitlab, stages: [a]}]`, "[0].project", "needs its project"},
		{"bad gitlab project", `[{name: x, provider: gitlab, project: "no slash", stages: [a]}]`, "[0].project", "is not a GitLab project"},
		{"gitlab workflow", `[{name: x, provider: gitlab, project: g/p, workflow: w.yml, stages: [a]}]`, "[0].workflow", ".gitlab-ci.yml"},
		{"gitlab repository", `[{name: x, provider: gitlab, project: g/p, repository: g/p, stages: [a]}]`, "[0].repository", "names its project with project"},
		{"commands on gitlab", `[{name: x, provider: gitlab, project: "42", stages: [{name: a, run: "true"}]}]`, "[0].stages[0].run", "only local pipelines run commands"},
		{"project on github", `[{name: x, provider: github, repository: a/b, project: a/b, workflow: w.yml, stages: [a]}]`, "[0].project", "only a GitLab pipeline names a project"},
		{"bad name", `[{name: X_1, provider: local, stages: [{name: a, run: "true"}]}]`, "[0].name", "is not a pipeline name"},
		{"twice", `[{name: x, provider: local, stages: [{name: a, run: "true"}]}, {name: x, provider: local, stages: [{name: a, run: "true"}]}]`, "[1].name", "declared twice"},
		{"no stages", `[{name: x, provider: local}]`, "[0].stages", "missing"},
		{"a range for a ref", `[{name: x, provider: local, ref: main..x, stages: [{name: a, run: "true"}]}]`, "[0].ref", "holds .. (a range)"},
		{"unknown field", `[{name: x, provider: local, stages: [{name: a, run: "true"}], colour: red}]`, "[0].colour", "unknown field"},
		{"bad type", `[{name: x, provider: local, stages: [{name: a, run: "true"}], parameters: [{name: p, type: number}]}]`, "[0].parameters[0].type", `unknown parameter type "number"`},
		{"choice without options", `[{name: x, provider: local, stages: [{name: a, run: "true"}], parameters: [{name: p, type: choice}]}]`, "[0].parameters[0].options", "missing"},
		{"reserved input", `[{name: x, provider: local, stages: [{name: a, run: "true"}], parameters: [{name: portside_dispatch_id}]}]`, "[0].parameters[0].name", "Portside's own input"},
		{"commands on github", `[{name: x, provider: github, repository: a/b, workflow: w.yml, stages: [{name: a, run: "true"}]}]`, "[0].stages[0].run", "only local pipelines run commands"},
		{"bad workflow", `[{name: x, provider: github, repository: a/b, workflow: .github/workflows/w.yml, stages: [a]}]`, "[0].workflow", "not a workflow file name"},
		{"bad boolean default", `[{name: x, provider: local, stages: [{name: a, run: "true"}], parameters: [{name: p, type: boolean, default: yes please}]}]`, "[0].parameters[0].default", "not a boolean"},
	} {
		probs := pipelines.CheckAnnotation(tc.decl, nil)
		found := false
		for _, p := range probs {
			if p.Field == tc.field && strings.Contains(p.Message, tc.says) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: want %q: …%s, got %+v", tc.name, tc.field, tc.says, probs)
		}
	}
}

func TestAKubernetesDeclarationReadsEveryJobField(t *testing.T) {
	decls, err := pipelines.Declarations(map[string]string{pipelines.AnnotationPipelines: `
- name: release
  provider: kubernetes
  parameters: [{name: target, type: choice, options: [staging, production], default: staging}]
  stages:
    - name: Build
      image: golang:1.25
      command: [go, build, ./...]
      args: [-v]
      resources: {requests: {cpu: 500m, memory: 512Mi}, limits: {cpu: "2", memory: 1Gi, ephemeral-storage: 2Gi}}
      labels: {team: web, example.com/tier: ci}
      annotations: {pod-complete.stage.kwok.x-k8s.io/delay: 10s}
      backoffLimit: 2
      activeDeadlineSeconds: 900
      ttlSecondsAfterFinished: 3600
    - {name: Release, image: "ghcr.io/acme/release@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}
`})
	if err != nil {
		t.Fatal(err)
	}
	if len(decls) != 1 || decls[0].Provider != pipelines.ProviderKubernetes || len(decls[0].Stages) != 2 {
		t.Fatalf("%+v", decls)
	}
	b := decls[0].Stages[0].Job
	if b == nil || b.Image != "golang:1.25" || strings.Join(b.Command, " ") != "go build ./..." || strings.Join(b.Args, " ") != "-v" ||
		b.Requests["cpu"] != "500m" || b.Limits["memory"] != "1Gi" || b.Limits["ephemeral-storage"] != "2Gi" ||
		b.Labels["example.com/tier"] != "ci" || b.Annotations["pod-complete.stage.kwok.x-k8s.io/delay"] != "10s" ||
		b.BackoffLimit != 2 || b.ActiveDeadlineSeconds != 900 || b.TTLSecondsAfterFinished != 3600 {
		t.Errorf("the Build stage's Job: %+v", b)
	}
	r := decls[0].Stages[1].Job
	if r == nil || r.BackoffLimit != pipelines.DefaultJobBackoffLimit || r.ActiveDeadlineSeconds != pipelines.DefaultJobActiveDeadline ||
		r.TTLSecondsAfterFinished != pipelines.DefaultJobTTL {
		t.Errorf("the Release stage's defaults: %+v", r)
	}
}

func TestKubernetesStageBoundsAreEnforced(t *testing.T) {
	many := func(n int, f func(i int) string) string {
		out := ""
		for i := range n {
			if i > 0 {
				out += ", "
			}
			out += f(i)
		}
		return out
	}
	for _, tc := range []struct{ name, stage, field, says string }{
		{"argv", `{name: B, image: busybox, command: [` + many(65, func(int) string { return "x" }) + `]}`, "[0].stages[0].command", "at most 64"},
		{"arg", `{name: B, image: busybox, args: ["` + strings.Repeat("a", 4097) + `"]}`, "[0].stages[0].args[0]", "at most 4096"},
		{"labels", `{name: B, image: busybox, labels: {` + many(33, func(i int) string { return fmt.Sprintf("l%d: v", i) }) + `}}`, "[0].stages[0].labels", "at most 32"},
		{"annotation value", `{name: B, image: busybox, annotations: {a: "` + strings.Repeat("a", 4097) + `"}}`, "[0].stages[0].annotations.a", "at most 4096"},
		{"image", `{name: B, image: ` + strings.Repeat("a", 513) + `}`, "[0].stages[0].image", "at most 512"},
		{"deadline", `{name: B, image: busybox, activeDeadlineSeconds: 86401}`, "[0].stages[0].activeDeadlineSeconds", "out of range"},
	} {
		probs := pipelines.CheckAnnotation(`[{name: x, provider: kubernetes, stages: [`+tc.stage+`]}]`, nil)
		found := false
		for _, p := range probs {
			if p.Field == tc.field && strings.Contains(p.Message, tc.says) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: want %q: …%s, got %+v", tc.name, tc.field, tc.says, probs)
		}
	}
}

// A stage's bounds say what they count: an image reference and a stage name are bounded in
// characters, counted as characters (of two bytes each here); an argument and an annotation value
// in bytes (what Kubernetes stores), said in bytes.
func TestKubernetesStageBoundsSayWhatTheyCount(t *testing.T) {
	é := func(n int) string { return strings.Repeat("é", n) }
	problems := func(stage string) []pipelines.Problem {
		return pipelines.CheckAnnotation(`[{name: x, provider: kubernetes, stages: [`+stage+`]}]`, nil)
	}
	for _, tc := range []struct{ name, stage, field, message string }{
		{"arg", `{name: B, image: busybox, args: ["` + é(2049) + `"]}`, "[0].stages[0].args[0]", "has 4098 bytes; at most 4096"},
		{"annotation value", `{name: B, image: busybox, annotations: {a: "` + é(2049) + `"}}`, "[0].stages[0].annotations.a", "has 4098 bytes; at most 4096"},
		{"image", `{name: B, image: ` + é(513) + `}`, "[0].stages[0].image", "has 513 characters; at most 512"},
		{"stage name", `{name: ` + é(101) + `, image: busybox}`, "[0].stages[0]", "a stage name has at most 100 characters"},
	} {
		if probs := problems(tc.stage); !slices.ContainsFunc(probs, func(p pipelines.Problem) bool { return p.Field == tc.field && p.Message == tc.message }) {
			t.Errorf("%s: want %s: %s, got %+v", tc.name, tc.field, tc.message, probs)
		}
	}
	if probs := problems(`{name: ` + é(100) + `, image: busybox}`); len(probs) != 0 {
		t.Errorf("a stage name of 100 characters of 2 bytes: %+v; want none", probs)
	}
}

func TestTheDemoCatalogDeclaresAValidPipelinePerProvider(t *testing.T) {
	registerCheck()
	providers := map[string]bool{}
	names, err := fs.Glob(demo.FS(), "*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		data, err := fs.ReadFile(demo.FS(), name)
		if err != nil {
			t.Fatal(err)
		}
		res := backstage.Parse(name, data, func(target string) ([]byte, error) {
			return fs.ReadFile(demo.FS(), path.Clean(target))
		})
		for _, e := range res.Errors() {
			t.Errorf("%s", e.Error())
		}
		for _, d := range res.Documents {
			if d.Entity == nil {
				continue
			}
			decls, err := pipelines.Declarations(d.Entity.Metadata.Annotations)
			if err != nil {
				t.Errorf("%s: %v", d.Ref, err)
			}
			for _, decl := range decls {
				providers[decl.Provider] = true
			}
		}
	}
	for _, p := range []string{pipelines.ProviderGitHub, pipelines.ProviderGitLab, pipelines.ProviderKubernetes, pipelines.ProviderLocal} {
		if !providers[p] {
			t.Errorf("the demo catalog declares no %s pipeline", p)
		}
	}
}

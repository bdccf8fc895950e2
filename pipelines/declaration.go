package pipelines

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/gitref"
)

// The annotations a component declares its pipelines with. AnnotationPipelines holds the
// declarations (a YAML or JSON list, see Declaration); the repository of a GitHub pipeline is
// Backstage's own github.com/project-slug annotation, and the project of a GitLab pipeline is
// Backstage's gitlab.com/project-slug (or gitlab.com/project-id), so a catalog written for
// Backstage's GitHub Actions or GitLab plugin needs only the list added.
const (
	AnnotationPipelines   = "portside.dev/pipelines"
	AnnotationGitHubSlug  = "github.com/project-slug"
	AnnotationGitLabSlug  = "gitlab.com/project-slug"
	AnnotationGitLabID    = "gitlab.com/project-id"
	DispatchInput         = "portside_dispatch_id" // the workflow_dispatch input Portside correlates a run by
	defaultRef            = "main"
	maxPipelines          = 20
	maxParameters         = 50
	maxStages             = 50
	maxChoiceOptions      = 100
	maxDeclarationBytes   = 64 << 10
	maxParameterValueSize = 4096
)

// The providers a declaration may name.
const (
	ProviderGitHub = "github" // GitHub Actions (pipelines/github)
	ProviderGitLab = "gitlab" // GitLab CI (pipelines/gitlab)
	ProviderLocal  = "local"  // commands on the Portside host, for development only (pipelines/local)
	// ProviderKubernetes runs each stage as a batch/v1 Job (pipelines/kubejobs, in the companion).
	ProviderKubernetes = "kubernetes"
)

// providerAliases are names people reach for that mean a provider under another name: the
// message says which one rather than "unknown".
var providerAliases = map[string]string{"kubejobs": ProviderKubernetes, "k8s": ProviderKubernetes, "jobs": ProviderKubernetes}

// ParamType is the type of a pipeline parameter.
type ParamType string

// The parameter types.
const (
	ParamString  ParamType = "string"
	ParamBoolean ParamType = "boolean"
	ParamChoice  ParamType = "choice"
)

// Param is a typed input of a pipeline.
type Param struct {
	Name        string
	Type        ParamType
	Description string
	// Options are the allowed values of a choice.
	Options []string
	// Default is used when a trigger leaves the parameter out; "" with HasDefault false means none.
	Default    string
	HasDefault bool
	// Required parameters without a default must be given.
	Required bool
}

// StageDecl is a stage as declared: its name (a GitHub job's name; a GitLab job's name, or else a
// GitLab stage's, whose jobs it then gathers), for the local provider the command that runs it, and
// for the Kubernetes provider the Job that runs it.
type StageDecl struct {
	Name string
	Run  string
	// Job is what a Kubernetes pipeline's stage runs; nil for other providers.
	Job *JobStage `json:",omitempty"`
}

// Declaration is one pipeline of a component, as its catalog entry declares it.
type Declaration struct {
	Name     string
	Provider string
	// Repository is where the pipeline lives: "owner/name" for GitHub (from github.com/project-slug
	// unless the declaration names one); for GitLab the project's path (group/subgroup/name) or
	// numeric ID (from the declaration's project, else gitlab.com/project-slug, else
	// gitlab.com/project-id).
	Repository string
	// Workflow is the GitHub workflow file (in .github/workflows).
	Workflow string
	// Ref is the default branch, tag or SHA to run.
	Ref        string
	Parameters []Param
	Stages     []StageDecl
}

// StageNames are the declared stages' names, in order.
func (d Declaration) StageNames() []string {
	out := make([]string, len(d.Stages))
	for i, s := range d.Stages {
		out[i] = s.Name
	}
	return out
}

// Param finds a parameter by name.
func (d Declaration) Param(name string) (Param, bool) {
	for _, p := range d.Parameters {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

var (
	pipelineNameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
	paramNameRE    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]{0,99}$`)
	slugRE         = regexp.MustCompile(`^[A-Za-z0-9][-A-Za-z0-9_.]*/[-A-Za-z0-9_.]+$`)
	workflowRE     = regexp.MustCompile(`^[-A-Za-z0-9_.]+\.ya?ml$`)
	// A GitLab project path: a namespace (with subgroups) and the project, as GitLab allows them.
	gitlabPathRE = regexp.MustCompile(`^[A-Za-z0-9_.][-A-Za-z0-9_.]*(/[A-Za-z0-9_.][-A-Za-z0-9_.]*)+$`)
	gitlabIDRE   = regexp.MustCompile(`^[1-9][0-9]{0,18}$`)
)

// Declarations reads a component's pipeline declarations from its annotations. A component
// without the annotation has none; an invalid declaration gives an INVALID error that names the
// first problem (the catalog refuses such entities, so this is for entities stored before).
func Declarations(annotations map[string]string) ([]Declaration, error) {
	raw, ok := annotations[AnnotationPipelines]
	if !ok {
		return nil, nil
	}
	decls, problems := parseDeclarations(raw, annotations)
	if len(problems) > 0 {
		p := problems[0]
		return nil, errs.InvalidField("metadata.annotations["+AnnotationPipelines+"]"+p.Field, "%s", p.Message)
	}
	return decls, nil
}

// Problem is one thing wrong with a declaration annotation's value.
type Problem = backstage.AnnotationProblem

// CheckAnnotation validates the value of AnnotationPipelines; annotations are all of the
// component's (a GitHub pipeline takes its repository from github.com/project-slug). The catalog
// runs it on every document (wired in cmd/portside), so an invalid declaration is a catalog
// validation error with file, document, line and field.
func CheckAnnotation(value string, annotations map[string]string) []Problem {
	_, problems := parseDeclarations(value, annotations)
	return problems
}

// declParser collects the problems of one annotation value.
type declParser struct {
	problems []Problem
}

func (p *declParser) add(n *yaml.Node, field, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	p.problems = append(p.problems, Problem{Line: line, Field: field, Message: fmt.Sprintf(format, args...)})
}

// parseDeclarations parses the annotation's value: a YAML (or JSON) list of declarations.
func parseDeclarations(raw string, annotations map[string]string) ([]Declaration, []Problem) {
	p := &declParser{}
	if len(raw) > maxDeclarationBytes {
		p.add(nil, "", "the pipeline declarations are %d bytes; at most %d", len(raw), maxDeclarationBytes)
		return nil, p.problems
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(raw), &doc); err != nil {
		p.add(nil, "", "not a YAML or JSON list of pipelines: %s", strings.TrimPrefix(err.Error(), "yaml: "))
		return nil, p.problems
	}
	if len(doc.Content) == 0 {
		p.add(nil, "", "empty; expected a list of pipelines, e.g. [{name: build, provider: github, workflow: build.yaml, stages: [Build, Test]}]")
		return nil, p.problems
	}
	root := doc.Content[0]
	if root.Kind != yaml.SequenceNode {
		p.add(root, "", "expected a list of pipelines, got %s", nodeKind(root))
		return nil, p.problems
	}
	if len(root.Content) > maxPipelines {
		p.add(root, "", "declares %d pipelines; at most %d", len(root.Content), maxPipelines)
		return nil, p.problems
	}
	var out []Declaration
	seen := map[string]bool{}
	for i, n := range root.Content {
		field := "[" + strconv.Itoa(i) + "]"
		d, ok := p.declaration(field, n, annotations)
		if !ok {
			continue
		}
		if seen[d.Name] {
			p.add(n, field+".name", "pipeline %q is declared twice; names are unique within a component", d.Name)
			continue
		}
		seen[d.Name] = true
		out = append(out, d)
	}
	if len(p.problems) > 0 {
		return nil, p.problems
	}
	return out, nil
}

var declFields = []string{"name", "provider", "repository", "project", "workflow", "ref", "parameters", "stages"}

func (p *declParser) declaration(field string, n *yaml.Node, annotations map[string]string) (Declaration, bool) {
	var d Declaration
	if n.Kind != yaml.MappingNode {
		p.add(n, field, "expected a pipeline (a mapping with name, provider and stages), got %s", nodeKind(n))
		return d, false
	}
	before := len(p.problems)
	fields := p.mapping(field, n, declFields)
	d.Name = p.str(field+".name", n, fields["name"], true)
	if d.Name != "" && !pipelineNameRE.MatchString(d.Name) {
		p.add(fields["name"], field+".name", "%q is not a pipeline name; expected 1–63 characters of [a-z0-9-], starting and ending with a letter or digit", d.Name)
	}
	d.Provider = p.str(field+".provider", n, fields["provider"], true)
	switch {
	case d.Provider == "" || d.Provider == ProviderGitHub || d.Provider == ProviderGitLab || d.Provider == ProviderLocal || d.Provider == ProviderKubernetes:
	case providerAliases[d.Provider] != "":
		p.add(fields["provider"], field+".provider", "unknown provider %q; Kubernetes Jobs are provider %s", d.Provider, providerAliases[d.Provider])
	default:
		p.add(fields["provider"], field+".provider", "unknown provider %q; expected %s, %s, %s or %s", d.Provider, ProviderGitHub, ProviderGitLab, ProviderKubernetes, ProviderLocal)
	}
	d.Ref = p.str(field+".ref", n, fields["ref"], false)
	if d.Ref == "" {
		d.Ref = defaultRef
	} else if err := gitref.Check(field+".ref", d.Ref); err != nil {
		p.add(fields["ref"], field+".ref", "%s", strings.TrimPrefix(errs.PublicMessage(err), field+".ref: "))
	}
	d.Repository = p.str(field+".repository", n, fields["repository"], false)
	d.Workflow = p.str(field+".workflow", n, fields["workflow"], false)
	project := p.str(field+".project", n, fields["project"], false)
	if d.Provider != ProviderGitLab && fields["project"] != nil {
		p.add(fields["project"], field+".project", "only a GitLab pipeline names a project; a %s pipeline does not", orProvider(d.Provider))
	}
	if d.Provider == ProviderGitLab {
		p.gitlab(field, n, fields, annotations, project, &d)
	}
	if d.Provider == ProviderGitHub {
		if d.Repository == "" {
			d.Repository = annotations[AnnotationGitHubSlug]
			if d.Repository == "" {
				p.add(n, field+".repository", "a GitHub pipeline needs its repository: set the %s annotation (owner/name) or the pipeline's repository", AnnotationGitHubSlug)
			}
		}
		if d.Repository != "" && !slugRE.MatchString(d.Repository) {
			p.add(fields["repository"], field+".repository", "%q is not a GitHub repository; expected owner/name", d.Repository)
		}
		switch {
		case fields["workflow"] == nil:
			p.add(n, field+".workflow", "missing; a GitHub pipeline names its workflow file in .github/workflows, e.g. release.yaml")
		case d.Workflow != "" && !workflowRE.MatchString(d.Workflow):
			p.add(fields["workflow"], field+".workflow", "%q is not a workflow file name; expected a file name ending in .yml or .yaml (the file in .github/workflows)", d.Workflow)
		}
	}
	d.Parameters = p.parameters(field+".parameters", fields["parameters"])
	d.Stages = p.stages(field+".stages", n, fields["stages"], d.Provider)
	return d, len(p.problems) == before
}

// gitlab checks where a GitLab pipeline lives: the declaration's project, else Backstage's
// gitlab.com/project-slug, else gitlab.com/project-id. GitLab runs the project's .gitlab-ci.yml,
// so there is no workflow to name, and the project is not a GitHub repository.
func (p *declParser) gitlab(field string, n *yaml.Node, fields map[string]*yaml.Node, annotations map[string]string, project string, d *Declaration) {
	if fields["repository"] != nil {
		p.add(fields["repository"], field+".repository", "a GitLab pipeline names its project with project (or the %s annotation), not repository", AnnotationGitLabSlug)
	}
	if fields["workflow"] != nil {
		p.add(fields["workflow"], field+".workflow", "a GitLab pipeline runs the project's .gitlab-ci.yml; it names no workflow")
	}
	d.Repository = ""
	node, source := fields["project"], "the pipeline's project"
	switch {
	case project != "":
		d.Repository = project
	case fields["project"] != nil:
		return // reported by str
	case annotations[AnnotationGitLabSlug] != "":
		d.Repository, node, source = annotations[AnnotationGitLabSlug], n, "the "+AnnotationGitLabSlug+" annotation"
	case annotations[AnnotationGitLabID] != "":
		d.Repository, node, source = annotations[AnnotationGitLabID], n, "the "+AnnotationGitLabID+" annotation"
	default:
		p.add(n, field+".project", "a GitLab pipeline needs its project: set the %s annotation (group/name), the %s annotation (the numeric ID) or the pipeline's project", AnnotationGitLabSlug, AnnotationGitLabID)
		return
	}
	if !gitlabPathRE.MatchString(d.Repository) && !gitlabIDRE.MatchString(d.Repository) {
		p.add(node, field+".project", "%q (%s) is not a GitLab project; expected its path (group/subgroup/name) or its numeric ID", d.Repository, source)
	}
}

func orProvider(provider string) string {
	if provider == "" {
		return "<provider>"
	}
	return provider
}

var paramFields = []string{"name", "type", "description", "options", "default", "required"}

func (p *declParser) parameters(field string, n *yaml.Node) []Param {
	if n == nil {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.add(n, field, "expected a list of parameters, got %s", nodeKind(n))
		return nil
	}
	if len(n.Content) > maxParameters {
		p.add(n, field, "declares %d parameters; at most %d", len(n.Content), maxParameters)
		return nil
	}
	var out []Param
	seen := map[string]bool{}
	for i, item := range n.Content {
		f := field + "[" + strconv.Itoa(i) + "]"
		if item.Kind != yaml.MappingNode {
			p.add(item, f, "expected a parameter (a mapping with name and type), got %s", nodeKind(item))
			continue
		}
		fields := p.mapping(f, item, paramFields)
		prm := Param{Name: p.str(f+".name", item, fields["name"], true), Type: ParamType(p.str(f+".type", item, fields["type"], false)),
			Description: p.str(f+".description", item, fields["description"], false)}
		if prm.Type == "" {
			prm.Type = ParamString
		}
		switch {
		case prm.Name == "":
		case !paramNameRE.MatchString(prm.Name):
			p.add(fields["name"], f+".name", "%q is not a parameter name; expected a letter or _ then up to 99 of [A-Za-z0-9_-]", prm.Name)
		case prm.Name == DispatchInput:
			p.add(fields["name"], f+".name", "%q is Portside's own input (it finds the run a trigger started); choose another name", prm.Name)
		case seen[prm.Name]:
			p.add(fields["name"], f+".name", "parameter %q is declared twice", prm.Name)
		}
		seen[prm.Name] = true
		if r := fields["required"]; r != nil {
			if r.Kind != yaml.ScalarNode || r.Tag != "!!bool" {
				p.add(r, f+".required", "expected true or false, got %s", nodeKind(r))
			} else {
				prm.Required = r.Value == "true"
			}
		}
		switch prm.Type {
		case ParamString, ParamBoolean:
			if fields["options"] != nil {
				p.add(fields["options"], f+".options", "only a choice parameter has options (this one is a %s)", prm.Type)
			}
		case ParamChoice:
			prm.Options = p.options(f+".options", item, fields["options"])
		default:
			p.add(fields["type"], f+".type", "unknown parameter type %q; expected string, boolean or choice", prm.Type)
		}
		if dn := fields["default"]; dn != nil {
			if dn.Kind != yaml.ScalarNode || dn.Tag == "!!null" {
				p.add(dn, f+".default", "expected a %s, got %s", prm.Type, nodeKind(dn))
			} else {
				prm.Default, prm.HasDefault = dn.Value, true
				if v, err := checkValue(prm, dn.Value); err != nil {
					p.add(dn, f+".default", "%s", err)
				} else {
					prm.Default = v
				}
			}
		}
		out = append(out, prm)
	}
	return out
}

func (p *declParser) options(field string, parent, n *yaml.Node) []string {
	if n == nil {
		p.add(parent, field, "missing; a choice parameter lists its allowed values")
		return nil
	}
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.add(n, field, "expected a non-empty list of allowed values, got %s", nodeKind(n))
		return nil
	}
	if len(n.Content) > maxChoiceOptions {
		p.add(n, field, "lists %d values; at most %d", len(n.Content), maxChoiceOptions)
		return nil
	}
	var out []string
	for i, o := range n.Content {
		f := field + "[" + strconv.Itoa(i) + "]"
		switch {
		case o.Kind != yaml.ScalarNode || o.Tag == "!!null" || o.Value == "":
			p.add(o, f, "expected a non-empty value, got %s", nodeKind(o))
		case slices.Contains(out, o.Value):
			p.add(o, f, "%q is listed twice", o.Value)
		default:
			out = append(out, o.Value)
		}
	}
	return out
}

var stageFields = []string{"name", "run"}

// jobStageFields are a Kubernetes pipeline's stage fields (see JobStage).
var jobStageFields = []string{"name", "image", "command", "args", "resources", "labels", "annotations",
	"backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished"}

func (p *declParser) stages(field string, parent, n *yaml.Node, provider string) []StageDecl {
	if n == nil {
		p.add(parent, field, "missing; list the stages to show, in order, e.g. [Build, Test, Release]")
		return nil
	}
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		p.add(n, field, "expected a non-empty list of stages, got %s", nodeKind(n))
		return nil
	}
	if len(n.Content) > maxStages {
		p.add(n, field, "lists %d stages; at most %d", len(n.Content), maxStages)
		return nil
	}
	var out []StageDecl
	for i, item := range n.Content {
		f := field + "[" + strconv.Itoa(i) + "]"
		var s StageDecl
		switch item.Kind {
		case yaml.ScalarNode:
			s.Name = item.Value
			if s.Name == "" || item.Tag == "!!null" {
				p.add(item, f, "expected a stage name, got %s", nodeKind(item))
				continue
			}
		case yaml.MappingNode:
			known := stageFields
			if provider == ProviderKubernetes {
				known = jobStageFields
			}
			fields := p.mapping(f, item, known)
			s.Name = p.str(f+".name", item, fields["name"], true)
			s.Run = p.str(f+".run", item, fields["run"], false)
			if provider == ProviderKubernetes {
				s.Job = p.jobStage(f, item, fields)
			}
		default:
			p.add(item, f, "expected a stage name or {name, run}, got %s", nodeKind(item))
			continue
		}
		if provider == ProviderKubernetes && s.Job == nil && item.Kind == yaml.ScalarNode {
			p.add(item, f, "a kubernetes pipeline's stage says what its Job runs: {name: %s, image: <image>, command: [...]}", orQuote(s.Name))
		}
		if utf8.RuneCountInString(s.Name) > 100 {
			p.add(item, f, "a stage name has at most 100 characters")
		}
		if slices.ContainsFunc(out, func(o StageDecl) bool { return o.Name == s.Name }) {
			p.add(item, f, "stage %q is listed twice", s.Name)
		}
		switch {
		case provider == ProviderLocal && s.Run == "":
			p.add(item, f+".run", "missing; a local pipeline's stage says which command it runs: {name: %s, run: <command>}", orQuote(s.Name))
		case provider == ProviderGitLab && s.Run != "":
			p.add(item, f+".run", "only local pipelines run commands; a gitlab pipeline's stages are its jobs (or stages), named as in .gitlab-ci.yml")
		case provider != ProviderLocal && provider != "" && s.Run != "":
			p.add(item, f+".run", "only local pipelines run commands; a %s pipeline's stages are its jobs, named as in the workflow", provider)
		}
		out = append(out, s)
	}
	return out
}

func orQuote(s string) string {
	if s == "" {
		return "<name>"
	}
	return s
}

// mapping reads a mapping's keys, reporting unknown and repeated ones.
func (p *declParser) mapping(field string, n *yaml.Node, known []string) map[string]*yaml.Node {
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch {
		case !slices.Contains(known, k.Value):
			p.add(k, field+"."+k.Value, "unknown field; expected one of %s", strings.Join(known, ", "))
		case out[k.Value] != nil:
			p.add(k, field+"."+k.Value, "given twice")
		default:
			out[k.Value] = v
		}
	}
	return out
}

// str reads a string field (scalars of any YAML type are taken as written).
func (p *declParser) str(field string, parent, n *yaml.Node, required bool) string {
	switch {
	case n == nil && required:
		p.add(parent, field, "missing")
	case n == nil:
	case n.Kind != yaml.ScalarNode || n.Tag == "!!null":
		p.add(n, field, "expected a string, got %s", nodeKind(n))
	case required && n.Value == "":
		p.add(n, field, "must not be empty")
	default:
		return n.Value
	}
	return ""
}

func nodeKind(n *yaml.Node) string {
	switch {
	case n == nil:
		return "nothing"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.AliasNode:
		return "an alias"
	case n.Tag == "!!null":
		return "null"
	case n.Tag == "!!bool":
		return "a boolean"
	case n.Tag == "!!int" || n.Tag == "!!float":
		return "a number"
	default:
		return fmt.Sprintf("%q", n.Value)
	}
}

// checkValue checks one parameter value against its declaration and returns it in canonical form
// (booleans as "true"/"false").
func checkValue(p Param, v string) (string, error) {
	if len(v) > maxParameterValueSize {
		return "", fmt.Errorf("a value of %d bytes is too long; at most %d", len(v), maxParameterValueSize)
	}
	switch p.Type {
	case ParamBoolean:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return "", fmt.Errorf("%q is not a boolean; expected true or false", v)
		}
		return strconv.FormatBool(b), nil
	case ParamChoice:
		if !slices.Contains(p.Options, v) {
			return "", fmt.Errorf("%q is not one of the allowed values %s", v, strings.Join(quoteAll(p.Options), ", "))
		}
	}
	return v, nil
}

func quoteAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = strconv.Quote(s)
	}
	return out
}

// ResolveParameters checks the parameters of a trigger against a declaration and returns every
// declared parameter's value (defaults filled in). The error names the parameter and says what
// was allowed.
func (d Declaration) ResolveParameters(given map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(d.Parameters))
	for name := range given {
		if _, ok := d.Param(name); !ok {
			declared := make([]string, len(d.Parameters))
			for i, p := range d.Parameters {
				declared[i] = p.Name
			}
			allowed := "it declares none"
			if len(declared) > 0 {
				allowed = "it declares " + strings.Join(quoteAll(declared), ", ")
			}
			return nil, errs.InvalidField("parameters."+name, "pipeline %s has no parameter %q; %s", d.Name, name, allowed)
		}
	}
	for _, p := range d.Parameters {
		v, ok := given[p.Name]
		if !ok {
			switch {
			case p.HasDefault:
				out[p.Name] = p.Default
			case p.Required:
				return nil, errs.InvalidField("parameters."+p.Name, "required by pipeline %s (%s)", d.Name, describeParam(p))
			}
			continue
		}
		cv, err := checkValue(p, v)
		if err != nil {
			return nil, errs.InvalidField("parameters."+p.Name, "%s", err)
		}
		out[p.Name] = cv
	}
	return out, nil
}

func describeParam(p Param) string {
	if p.Type == ParamChoice {
		return "one of " + strings.Join(quoteAll(p.Options), ", ")
	}
	return "a " + string(p.Type)
}

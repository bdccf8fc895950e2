package backstage

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// errWant is an expected validation error: its field, its line and a part of its message.
type errWant struct {
	field string
	line  int
	msg   string
}

func assertErrors(t *testing.T, got []ValidationError, want []errWant) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%s", len(got), len(want), errorList(got))
	}
	for i, w := range want {
		g := got[i]
		if g.Field != w.field || g.Line != w.line || !strings.Contains(g.Message, w.msg) {
			t.Errorf("error %d = {field %q, line %d, %q}\nwant {field %q, line %d, message containing %q}",
				i, g.Field, g.Line, g.Message, w.field, w.line, w.msg)
		}
	}
}

func errorList(list []ValidationError) string {
	var b strings.Builder
	for _, e := range list {
		b.WriteString("  " + e.Error() + "\n")
	}
	return b.String()
}

// validateOne parses a one-document file and returns its errors.
func validateOne(t *testing.T, doc string) []ValidationError {
	t.Helper()
	res := Parse("catalog-info.yaml", []byte(doc), nil)
	if res.FileError != nil {
		t.Fatalf("file error: %v", res.FileError)
	}
	if len(res.Documents) != 1 {
		t.Fatalf("got %d documents, want 1", len(res.Documents))
	}
	d := res.Documents[0]
	if (d.Entity == nil) != (len(d.Errors) > 0) {
		t.Fatalf("entity %v with %d errors: an entity is set exactly when there are no errors", d.Entity != nil, len(d.Errors))
	}
	return d.Errors
}

// withMetadata is a valid Component whose metadata block is lines (indented by two); metadata's
// first line is line 4.
func withMetadata(lines string) string {
	return "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n" + lines +
		"spec: {type: service, lifecycle: production, owner: team-a}\n"
}

// withSpec is an entity of kind named "a" whose spec block is lines (indented by two); spec's
// first line is line 6.
func withSpec(kind, lines string) string {
	return "apiVersion: backstage.io/v1alpha1\nkind: " + kind + "\nmetadata:\n  name: a\nspec:\n" + lines
}

func TestValidateEnvelope(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []errWant
	}{
		{
			name: "a valid component has no errors",
			doc:  withMetadata("  name: a\n"),
		},
		{
			name: "apiVersion is required",
			doc:  "kind: Component\nmetadata: {name: a}\nspec: {type: service, lifecycle: production, owner: team-a}\n",
			want: []errWant{{"apiVersion", 1, "missing"}},
		},
		{
			name: "apiVersion must be a string",
			doc:  "apiVersion: 1\nkind: Component\nmetadata: {name: a}\nspec: {type: service, lifecycle: production, owner: team-a}\n",
			want: []errWant{{"apiVersion", 1, "expected a string such as \"backstage.io/v1alpha1\", got 1"}},
		},
		{
			name: "apiVersion must be a group and a version",
			doc:  "apiVersion: backstage.io/v1/x\nkind: Component\nmetadata: {name: a}\nspec: {type: service, lifecycle: production, owner: team-a}\n",
			want: []errWant{{"apiVersion", 1, `expected a group and version such as "backstage.io/v1alpha1", got "backstage.io/v1/x"`}},
		},
		{
			name: "apiVersion must be one the kind supports",
			doc:  "apiVersion: backstage.io/v2\nkind: Component\nmetadata: {name: a}\nspec: {type: service, lifecycle: production, owner: team-a}\n",
			want: []errWant{{"apiVersion", 1, `apiVersion "backstage.io/v2" is not supported for kind Component; use backstage.io/v1alpha1 or backstage.io/v1beta1`}},
		},
		{
			name: "apiVersion backstage.io/v1beta1 is accepted",
			doc:  "apiVersion: backstage.io/v1beta1\nkind: Component\nmetadata: {name: a}\nspec: {type: service, lifecycle: production, owner: team-a}\n",
		},
		{
			name: "kind is required",
			doc:  "apiVersion: backstage.io/v1alpha1\nmetadata: {name: a}\nspec: {}\n",
			want: []errWant{{"kind", 1, "missing; expected one of Component, API"}},
		},
		{
			name: "kind is a letter then letters and digits",
			doc:  "apiVersion: backstage.io/v1alpha1\nkind: my-kind\nmetadata: {name: a}\n",
			want: []errWant{{"kind", 2, `expected a kind such as "Component"`}},
		},
		{
			name: "kind must be a string",
			doc:  "apiVersion: backstage.io/v1alpha1\nkind: [Component]\nmetadata: {name: a}\n",
			want: []errWant{{"kind", 2, "got a list"}},
		},
		{
			name: "an unknown kind is named with its apiVersion and the supported kinds",
			doc:  "apiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\nmetadata: {name: a}\nspec: {}\n",
			want: []errWant{{"kind", 2, `"Template" (apiVersion scaffolder.backstage.io/v1beta3) is not a supported kind; the supported kinds are Component, API, System, Domain, Resource, Group, User and Location, with apiVersion backstage.io/v1alpha1 or backstage.io/v1beta1`}},
		},
		{
			name: "kinds are case-sensitive, as in Backstage",
			doc:  "apiVersion: backstage.io/v1alpha1\nkind: component\nmetadata: {name: a}\nspec: {type: service, lifecycle: production, owner: team-a}\n",
			want: []errWant{{"kind", 2, `kind "component" must be spelled "Component"`}},
		},
		{
			name: "only apiVersion, kind, metadata and spec may be at the top",
			doc:  withMetadata("  name: a\n") + "status: {}\nrelations: []\n",
			want: []errWant{
				{"status", 6, "unknown top-level field"},
				{"relations", 7, "unknown top-level field"},
			},
		},
		{
			name: "a built-in kind needs a spec",
			doc:  "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: a}\n",
			want: []errWant{{"spec", 1, "missing; a Component needs a spec with type, lifecycle and owner"}},
		},
		{
			name: "metadata is required",
			doc:  "apiVersion: backstage.io/v1alpha1\nkind: Component\nspec: {type: service, lifecycle: production, owner: team-a}\n",
			want: []errWant{{"metadata", 1, "missing"}},
		},
		{
			name: "metadata must be a mapping",
			doc:  "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: a\nspec: {type: service, lifecycle: production, owner: team-a}\n",
			want: []errWant{{"metadata", 3, `expected a mapping with at least a name, got "a"`}},
		},
		{
			name: "a document must be a mapping",
			doc:  "- apiVersion: backstage.io/v1alpha1\n",
			want: []errWant{{"", 1, "a catalog document must be a mapping with apiVersion, kind, metadata and spec, got a list"}},
		},
		{
			name: "a document that is a string is not an entity",
			doc:  "just some text\n",
			want: []errWant{{"", 1, `got a string`}}, // its content is not echoed: a file that is no catalog may hold a secret
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertErrors(t, validateOne(t, tt.doc), tt.want)
		})
	}
}

func TestValidateMetadata(t *testing.T) {
	long := strings.Repeat("a", 63)
	tooLong := strings.Repeat("a", 64)
	tests := []struct {
		name  string
		lines string // metadata block; its first line is line 4
		want  []errWant
	}{
		{name: "name is required", lines: "  title: A\n", want: []errWant{{"metadata.name", 4, "missing; every entity needs a name"}}},
		{name: "name may mix case, digits and [-_.]", lines: "  name: CircleciBuildsDumpV2_avro.gcs-1\n"},
		{name: "name may be one character", lines: "  name: a\n"},
		{name: "name may be 63 characters", lines: "  name: " + long + "\n"},
		{name: "name may not be 64 characters", lines: "  name: " + tooLong + "\n", want: []errWant{{"metadata.name", 4, "expected a name of 1–63 characters"}}},
		{name: "name may not start with a separator", lines: "  name: -a\n", want: []errWant{{"metadata.name", 4, `got "-a"`}}},
		{name: "name may not end with a separator", lines: "  name: a_\n", want: []errWant{{"metadata.name", 4, `got "a_"`}}},
		{name: "name may not hold spaces", lines: "  name: a b\n", want: []errWant{{"metadata.name", 4, `got "a b"`}}},
		{name: "name may not hold a slash", lines: "  name: a/b\n", want: []errWant{{"metadata.name", 4, `got "a/b"`}}},
		{name: "name must be a string", lines: "  name: 42\n", want: []errWant{{"metadata.name", 4, "expected a name (1–63 characters: runs of [a-zA-Z0-9] separated by one of [-_.]), got 42"}}},
		{name: "name may not be empty", lines: "  name: ''\n", want: []errWant{{"metadata.name", 4, "got an empty string"}}},
		{name: "namespace is a DNS label", lines: "  name: a\n  namespace: tracking-services\n"},
		{name: "namespace may repeat dashes, as Backstage's current rule allows", lines: "  name: a\n  namespace: a--b\n"},
		{name: "namespace may not have upper case", lines: "  name: a\n  namespace: Payments\n", want: []errWant{{"metadata.namespace", 5, `expected a namespace of 1–63 characters: runs of [a-z0-9] separated by [-], got "Payments"`}}},
		{name: "namespace may not hold an underscore", lines: "  name: a\n  namespace: a_b\n", want: []errWant{{"metadata.namespace", 5, `got "a_b"`}}},
		{name: "namespace may not end with a dash", lines: "  name: a\n  namespace: a-\n", want: []errWant{{"metadata.namespace", 5, `got "a-"`}}},
		{name: "namespace may not be empty", lines: "  name: a\n  namespace: ''\n", want: []errWant{{"metadata.namespace", 5, "got an empty string"}}},
		{name: "namespace may not be null", lines: "  name: a\n  namespace:\n", want: []errWant{{"metadata.namespace", 5, "got null"}}},
		{name: "namespace may be 63 characters", lines: "  name: a\n  namespace: " + long + "\n"},
		{name: "namespace may not be 64 characters", lines: "  name: a\n  namespace: " + tooLong + "\n", want: []errWant{{"metadata.namespace", 5, "expected a namespace"}}},
		{name: "title is a non-empty string", lines: "  name: a\n  title: ''\n", want: []errWant{{"metadata.title", 5, "expected a non-empty string, got an empty string"}}},
		{name: "title must be a string", lines: "  name: a\n  title: [x]\n", want: []errWant{{"metadata.title", 5, "got a list"}}},
		{name: "description may be empty", lines: "  name: a\n  description: ''\n"},
		{name: "description must be a string", lines: "  name: a\n  description: 12\n", want: []errWant{{"metadata.description", 5, "expected a string, got 12"}}},
		{name: "labels may have a prefixed key and an empty value", lines: "  name: a\n  labels:\n    example.com/custom: custom_label_value\n    tier: ''\n"},
		{name: "labels must be a mapping", lines: "  name: a\n  labels: [a]\n", want: []errWant{{"metadata.labels", 5, "expected a mapping of keys to strings, got a list"}}},
		{name: "label keys have at most one slash", lines: "  name: a\n  labels:\n    a/b/c: x\n", want: []errWant{{"metadata.labels[a/b/c]", 6, `label key "a/b/c" is not valid`}}},
		{name: "label key prefixes are lower-case DNS subdomains", lines: "  name: a\n  labels:\n    Example.com/x: y\n", want: []errWant{{"metadata.labels[Example.com/x]", 6, "optional DNS-subdomain prefix"}}},
		{name: "label key names follow the name rule", lines: "  name: a\n  labels:\n    example.com/-x: y\n", want: []errWant{{"metadata.labels[example.com/-x]", 6, "is not valid"}}},
		{name: "label values follow the name rule", lines: "  name: a\n  labels:\n    tier: gold tier\n", want: []errWant{{"metadata.labels[tier]", 6, `expected a label value of 1–63 characters: runs of [a-zA-Z0-9] separated by one of [-_.], or an empty string, got "gold tier"`}}},
		{name: "label values must be strings", lines: "  name: a\n  labels:\n    version: 2\n", want: []errWant{{"metadata.labels[version]", 6, `expected a string, got 2; quote it ("2") to keep it a string`}}},
		{name: "annotation values may be any string", lines: "  name: a\n  annotations:\n    backstage.io/techdocs-ref: 'dir:. with spaces, and: colons'\n"},
		{name: "annotation values must be strings", lines: "  name: a\n  annotations:\n    backstage.io/orphan: true\n", want: []errWant{{"metadata.annotations[backstage.io/orphan]", 6, `expected a string, got true; quote it ("true") to keep it a string`}}},
		{name: "annotation keys follow the label key rule", lines: "  name: a\n  annotations:\n    backstage.io/: x\n", want: []errWant{{"metadata.annotations[backstage.io/]", 6, `annotation key "backstage.io/" is not valid`}}},
		{name: "annotations must be a mapping", lines: "  name: a\n  annotations: x\n", want: []errWant{{"metadata.annotations", 5, `got "x"`}}},
		{name: "tags may use [a-z0-9:+#] and single dashes", lines: "  name: a\n  tags: [java, c++, c#, 'k8s:v1', front-end]\n"},
		{name: "tags may not have upper case", lines: "  name: a\n  tags: [java, Go]\n", want: []errWant{{"metadata.tags[1]", 5, `expected a tag of 1–63 characters: runs of [a-z0-9:+#] separated by [-], got "Go"`}}},
		{name: "tags may not hold an underscore", lines: "  name: a\n  tags: [tier_gold]\n", want: []errWant{{"metadata.tags[0]", 5, `got "tier_gold"`}}},
		{name: "tags may not repeat dashes", lines: "  name: a\n  tags: [a--b]\n", want: []errWant{{"metadata.tags[0]", 5, `got "a--b"`}}},
		{name: "tags may not be 64 characters", lines: "  name: a\n  tags: [" + tooLong + "]\n", want: []errWant{{"metadata.tags[0]", 5, "expected a tag of"}}},
		{name: "tags must be strings", lines: "  name: a\n  tags:\n    - java\n    - 42\n", want: []errWant{{"metadata.tags[1]", 7, "expected a tag (1–63 characters: runs of [a-z0-9:+#] separated by [-]), got 42"}}},
		{name: "tags must be a list", lines: "  name: a\n  tags: java\n", want: []errWant{{"metadata.tags", 5, `expected a list of tags, got "java"`}}},
		{name: "a link needs only a url", lines: "  name: a\n  links:\n    - url: https://example.com\n"},
		{name: "a link may have title, icon and type", lines: "  name: a\n  links:\n    - {url: 'xyz://custom:4444/path', title: Admin, icon: dashboard, type: admin-dashboard}\n"},
		{name: "a link needs a url", lines: "  name: a\n  links:\n    - title: Admin\n", want: []errWant{{"metadata.links[0].url", 6, "missing; every link needs an absolute URL"}}},
		{name: "a link url must be absolute", lines: "  name: a\n  links:\n    - url: example.com/x\n", want: []errWant{{"metadata.links[0].url", 6, `expected an absolute URL such as "https://example.com/dashboard", got "example.com/x"`}}},
		{name: "an http link url needs a host", lines: "  name: a\n  links:\n    - url: 'http://'\n", want: []errWant{{"metadata.links[0].url", 6, "expected an absolute URL"}}},
		{name: "a link title may not be blank", lines: "  name: a\n  links:\n    - {url: 'https://x.example', title: '  '}\n", want: []errWant{{"metadata.links[0].title", 6, "expected a non-empty string"}}},
		{name: "a link icon may not be empty", lines: "  name: a\n  links:\n    - {url: 'https://x.example', icon: ''}\n", want: []errWant{{"metadata.links[0].icon", 6, "expected a non-empty string, got an empty string"}}},
		{name: "a link type must be a string", lines: "  name: a\n  links:\n    - {url: 'https://x.example', type: 3}\n", want: []errWant{{"metadata.links[0].type", 6, "got 3"}}},
		{name: "a link is a mapping", lines: "  name: a\n  links:\n    - https://example.com\n", want: []errWant{{"metadata.links[0]", 6, "expected a link: a mapping with url"}}},
		{name: "links must be a list", lines: "  name: a\n  links: {url: 'https://x.example'}\n", want: []errWant{{"metadata.links", 5, "expected a list of links"}}},
		{name: "uid must be a non-empty string", lines: "  name: a\n  uid: ''\n", want: []errWant{{"metadata.uid", 5, "expected a non-empty string"}}},
		{name: "other metadata fields are allowed", lines: "  name: a\n  owner-notes: {any: [thing]}\n"},
		{
			name:  "every problem is reported, in line order",
			lines: "  name: -a\n  namespace: A\n  tags: [X]\n  labels: {k: ' '}\n",
			want: []errWant{
				{"metadata.name", 4, "expected a name"},
				{"metadata.namespace", 5, "expected a namespace"},
				{"metadata.tags[0]", 6, "expected a tag"},
				{"metadata.labels[k]", 7, "expected a label value"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertErrors(t, validateOne(t, withMetadata(tt.lines)), tt.want)
		})
	}
}

func TestValidateSpec(t *testing.T) {
	tests := []struct {
		name  string
		kind  string
		lines string // spec block; its first line is line 6
		want  []errWant
	}{
		{name: "a null spec is not a mapping", kind: "Component", want: []errWant{{"spec", 5, "expected a mapping, got null"}}},
		{name: "spec must be a mapping", kind: "Component", lines: "  - type\n", want: []errWant{{"spec", 6, "expected a mapping, got a list"}}},
		{
			name: "a Component needs type, lifecycle and owner", kind: "Component", lines: "  system: s\n",
			want: []errWant{
				{"spec.type", 6, `missing; expected a non-empty string such as "service"`},
				{"spec.lifecycle", 6, `missing; expected a non-empty string such as "production"`},
				{"spec.owner", 6, `missing; expected an entity reference such as "group:team-a"`},
			},
		},
		{name: "Component type must be a non-empty string", kind: "Component", lines: "  type: ''\n  lifecycle: production\n  owner: a\n", want: []errWant{{"spec.type", 6, "expected a non-empty string such as \"service\", got an empty string"}}},
		{name: "Component lifecycle must be a string", kind: "Component", lines: "  type: service\n  lifecycle: 1\n  owner: a\n", want: []errWant{{"spec.lifecycle", 7, "got 1"}}},
		{name: "owner must be a reference, not a number", kind: "Component", lines: "  type: service\n  lifecycle: production\n  owner: 42\n", want: []errWant{{"spec.owner", 8, `expected an entity reference such as "group:team-a", got 42`}}},
		{name: "owner must be a reference, not a list", kind: "Component", lines: "  type: service\n  lifecycle: production\n  owner: [a, b]\n", want: []errWant{{"spec.owner", 8, `expected an entity reference such as "group:team-a", got a list`}}},
		{name: "a reference may not have an empty name", kind: "Component", lines: "  type: service\n  lifecycle: production\n  owner: 'group:'\n", want: []errWant{{"spec.owner", 8, "has an empty name"}}},
		{name: "a reference may not have an empty namespace", kind: "Component", lines: "  type: service\n  lifecycle: production\n  owner: group:/a\n", want: []errWant{{"spec.owner", 8, "has an empty namespace"}}},
		{name: "a reference may not have an empty kind", kind: "Component", lines: "  type: service\n  lifecycle: production\n  owner: ':a'\n", want: []errWant{{"spec.owner", 8, "has an empty kind"}}},
		{name: "a reference has at most one namespace", kind: "Component", lines: "  type: service\n  lifecycle: production\n  owner: group:a/b/c\n", want: []errWant{{"spec.owner", 8, "is malformed"}}},
		{name: "a reference's kind holds no slash", kind: "Component", lines: "  type: service\n  lifecycle: production\n  owner: a/b:c\n", want: []errWant{{"spec.owner", 8, "is malformed"}}},
		{name: "a reference may be null only when the field is absent", kind: "Component", lines: "  type: service\n  lifecycle: production\n  owner: a\n  system:\n", want: []errWant{{"spec.system", 9, `expected an entity reference such as "system:payments", got null`}}},
		{name: "a reference's name is at most 63 bytes: no entity has a longer one", kind: "Component", lines: "  type: service\n  lifecycle: production\n  owner: group:default/" + strings.Repeat("n", 64) + "\n", want: []errWant{{"spec.owner", 8, "names a name of 64 bytes; a kind, namespace and name are each at most 63"}}},
		{name: "a reference's namespace is at most 63 bytes", kind: "Component", lines: "  type: service\n  lifecycle: production\n  owner: a\n  system: system:" + strings.Repeat("s", 3000) + "/b\n", want: []errWant{{"spec.system", 9, "names a namespace of 3000 bytes"}}},
		{name: "a listed reference's kind is at most 63 bytes", kind: "Component", lines: "  type: service\n  lifecycle: production\n  owner: a\n  dependsOn: [" + strings.Repeat("k", 70) + ":default/b]\n", want: []errWant{{"spec.dependsOn[0]", 9, "names a kind of 70 bytes"}}},
		{name: "a reference holds no control character", kind: "Component", lines: "  type: service\n  lifecycle: production\n  owner: \"group:team\\ta\"\n", want: []errWant{{"spec.owner", 8, `entity reference "group:team\ta" holds a control character`}}},
		{name: "a reference of 63-byte parts is accepted", kind: "Component", lines: "  type: service\n  lifecycle: production\n  owner: group:" + strings.Repeat("n", 63) + "/" + strings.Repeat("n", 63) + "\n"},
		{name: "a type is at most 253 bytes", kind: "Component", lines: "  type: " + strings.Repeat("t", 254) + "\n  lifecycle: production\n  owner: a\n", want: []errWant{{"spec.type", 6, `expected a word such as "service" of at most 253 bytes, got 254 bytes`}}},
		{name: "a lifecycle is at most 253 bytes", kind: "API", lines: "  type: openapi\n  lifecycle: " + strings.Repeat("l", 3000) + "\n  owner: a\n  definition: x\n", want: []errWant{{"spec.lifecycle", 7, "of at most 253 bytes, got 3000 bytes"}}},
		{name: "a type of 253 bytes is accepted", kind: "Resource", lines: "  type: " + strings.Repeat("t", 253) + "\n  owner: a\n"},
		{name: "providesApis must be a list", kind: "Component", lines: "  type: service\n  lifecycle: production\n  owner: a\n  providesApis: api:orders\n", want: []errWant{{"spec.providesApis", 9, `expected a list of entity references such as [api:orders], got "api:orders"`}}},
		{name: "each listed reference is checked", kind: "Component", lines: "  type: service\n  lifecycle: production\n  owner: a\n  consumesApis:\n    - orders\n    - {name: x}\n", want: []errWant{{"spec.consumesApis[1]", 11, "got a mapping"}}},
		{name: "dependsOn references must name their kind", kind: "Component", lines: "  type: service\n  lifecycle: production\n  owner: a\n  dependsOn: [orders-db]\n", want: []errWant{{"spec.dependsOn[0]", 9, `entity reference "orders-db" names no kind`}}},
		{name: "dependencyOf references must name their kind", kind: "Resource", lines: "  type: database\n  owner: a\n  dependencyOf: [orders]\n", want: []errWant{{"spec.dependencyOf[0]", 8, "names no kind"}}},
		{name: "dependencyOf may be a single reference, which Backstage accepts", kind: "Component", lines: "  type: service\n  lifecycle: production\n  owner: a\n  dependencyOf: component:b\n"},
		{name: "spec fields the kind does not define are kept, not checked", kind: "Component", lines: "  type: service\n  lifecycle: production\n  owner: a\n  replicas: 3\n  members: 42\n"},
		{
			name: "an API needs type, lifecycle, owner and definition", kind: "API", lines: "  system: s\n",
			want: []errWant{
				{"spec.type", 6, `such as "openapi"`},
				{"spec.lifecycle", 6, "missing"},
				{"spec.owner", 6, "missing"},
				{"spec.definition", 6, "missing; expected a non-empty string: the API's definition, e.g. {$text: ./openapi.yaml}"},
			},
		},
		{name: "an API definition must be a string", kind: "API", lines: "  type: openapi\n  lifecycle: production\n  owner: a\n  definition: {openapi: 3.0.0}\n", want: []errWant{{"spec.definition", 9, "got a mapping"}}},
		{name: "a System needs an owner", kind: "System", lines: "  type: product\n", want: []errWant{{"spec.owner", 6, "missing"}}},
		{name: "a System's domain is a reference", kind: "System", lines: "  owner: a\n  domain: [d]\n", want: []errWant{{"spec.domain", 7, `such as "domain:commerce", got a list`}}},
		{name: "a System's type is optional but a string", kind: "System", lines: "  owner: a\n  type: {}\n", want: []errWant{{"spec.type", 7, "got a mapping"}}},
		{name: "a Domain needs an owner", kind: "Domain", lines: "  subdomainOf: commerce\n", want: []errWant{{"spec.owner", 6, "missing"}}},
		{name: "a Domain's subdomainOf is a reference", kind: "Domain", lines: "  owner: a\n  subdomainOf: 1\n", want: []errWant{{"spec.subdomainOf", 7, "got 1"}}},
		{
			name: "a Resource needs type and owner", kind: "Resource", lines: "  system: s\n",
			want: []errWant{{"spec.type", 6, `such as "database"`}, {"spec.owner", 6, "missing"}},
		},
		{name: "a Resource's dependsOn must be a list", kind: "Resource", lines: "  type: database\n  owner: a\n  dependsOn: resource:x\n", want: []errWant{{"spec.dependsOn", 8, "expected a list of entity references"}}},
		{
			name: "a Group needs type and children", kind: "Group", lines: "  parent: org\n",
			want: []errWant{{"spec.type", 6, `such as "team"`}, {"spec.children", 6, "missing; expected a list of entity references such as [group:team-a]"}},
		},
		{name: "a Group's children may be empty", kind: "Group", lines: "  type: team\n  children: []\n"},
		{name: "a Group's children must be a list", kind: "Group", lines: "  type: team\n  children: b\n", want: []errWant{{"spec.children", 7, `got "b"`}}},
		{name: "a Group's members must be a list", kind: "Group", lines: "  type: team\n  children: []\n  members: {a: b}\n", want: []errWant{{"spec.members", 8, "got a mapping"}}},
		{name: "a Group's profile is a mapping", kind: "Group", lines: "  type: team\n  children: []\n  profile: Team A\n", want: []errWant{{"spec.profile", 8, "expected a mapping with displayName, email and picture"}}},
		{name: "profile fields are non-empty strings", kind: "Group", lines: "  type: team\n  children: []\n  profile:\n    displayName: A\n    email: ''\n", want: []errWant{{"spec.profile.email", 10, "expected a non-empty string"}}},
		{name: "a User needs memberOf", kind: "User", lines: "  profile: {displayName: A}\n", want: []errWant{{"spec.memberOf", 6, "missing; expected a list of entity references such as [group:team-a]"}}},
		{name: "a User's memberOf may be empty", kind: "User", lines: "  memberOf: []\n"},
		{name: "a User's memberOf must be a list", kind: "User", lines: "  memberOf: team-a\n", want: []errWant{{"spec.memberOf", 6, `got "team-a"`}}},
		{name: "a User's profile picture is a string", kind: "User", lines: "  memberOf: []\n  profile: {picture: 1}\n", want: []errWant{{"spec.profile.picture", 7, "got 1"}}},
		{name: "a Location needs neither target nor targets, as in Backstage", kind: "Location", lines: "  type: url\n"},
		{name: "a Location may have a target and targets", kind: "Location", lines: "  target: ./a.yaml\n  targets: [./b.yaml]\n  presence: optional\n"},
		{name: "a Location's presence is required or optional", kind: "Location", lines: "  target: ./a.yaml\n  presence: maybe\n", want: []errWant{{"spec.presence", 7, `expected one of "required", "optional", got "maybe"`}}},
		{name: "a Location's targets is a list", kind: "Location", lines: "  targets: ./a.yaml\n", want: []errWant{{"spec.targets", 6, `expected a list of strings such as ["./*/catalog-info.yaml"], got "./a.yaml"`}}},
		{name: "a Location's targets are non-empty strings", kind: "Location", lines: "  targets: [./a.yaml, '']\n", want: []errWant{{"spec.targets[1]", 6, "got an empty string"}}},
		{name: "a Location's target is a string", kind: "Location", lines: "  target: 5\n", want: []errWant{{"spec.target", 6, "got 5"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertErrors(t, validateOne(t, withSpec(tt.kind, tt.lines)), tt.want)
		})
	}
}

func TestReferencesAndRelations(t *testing.T) {
	ref := MustParseRef
	tests := []struct {
		name      string
		doc       string
		relations []Relation
		owner     string
		system    string
	}{
		{
			name:      "a bare name gets the field's default kind and the entity's namespace",
			doc:       withSpec("Component", "  type: service\n  lifecycle: production\n  owner: team-a\n"),
			relations: []Relation{{RelOwnedBy, ref("group:default/team-a")}},
			owner:     "group:default/team-a",
		},
		{
			name:      "kind:name overrides the default kind",
			doc:       withSpec("Component", "  type: service\n  lifecycle: production\n  owner: user:jdoe\n"),
			relations: []Relation{{RelOwnedBy, ref("user:default/jdoe")}},
			owner:     "user:default/jdoe",
		},
		{
			name:      "namespace/name overrides the namespace",
			doc:       withSpec("Component", "  type: service\n  lifecycle: production\n  owner: ops/team-b\n"),
			relations: []Relation{{RelOwnedBy, ref("group:ops/team-b")}},
			owner:     "group:ops/team-b",
		},
		{
			name:      "kind:namespace/name is taken as written, in lower case",
			doc:       withSpec("Component", "  type: service\n  lifecycle: production\n  owner: Group:Ops/Team-B\n"),
			relations: []Relation{{RelOwnedBy, ref("group:ops/team-b")}},
			owner:     "group:ops/team-b",
		},
		{
			name: "references default to the entity's own namespace",
			doc: "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: a, namespace: payments}\n" +
				"spec: {type: service, lifecycle: production, owner: team-a, system: billing, dependsOn: [resource:default/db]}\n",
			relations: []Relation{
				{RelDependsOn, ref("resource:default/db")},
				{RelOwnedBy, ref("group:payments/team-a")},
				{RelPartOf, ref("system:payments/billing")},
			},
			owner:  "group:payments/team-a",
			system: "system:payments/billing",
		},
		{
			name: "a Component declares every relation of its fields",
			doc: withSpec("Component", "  type: service\n  lifecycle: production\n  owner: team-a\n  system: shop\n"+
				"  subcomponentOf: platform\n  providesApis: [orders]\n  consumesApis: [stock]\n"+
				"  dependsOn: [resource:db, component:cache]\n  dependencyOf: [component:web]\n"),
			relations: []Relation{
				{RelConsumesAPI, ref("api:default/stock")},
				{RelDependencyOf, ref("component:default/web")},
				{RelDependsOn, ref("component:default/cache")},
				{RelDependsOn, ref("resource:default/db")},
				{RelOwnedBy, ref("group:default/team-a")},
				{RelPartOf, ref("component:default/platform")},
				{RelPartOf, ref("system:default/shop")},
				{RelProvidesAPI, ref("api:default/orders")},
			},
			owner:  "group:default/team-a",
			system: "system:default/shop",
		},
		{
			name: "the same target written three ways is one relation",
			doc: withSpec("Component", "  type: service\n  lifecycle: production\n  owner: team-a\n"+
				"  providesApis: [orders, api:orders, api:default/Orders]\n"),
			relations: []Relation{
				{RelOwnedBy, ref("group:default/team-a")},
				{RelProvidesAPI, ref("api:default/orders")},
			},
			owner: "group:default/team-a",
		},
		{
			name:      "an API is owned and part of a system",
			doc:       withSpec("API", "  type: openapi\n  lifecycle: production\n  owner: team-a\n  system: shop\n  definition: 'openapi: 3.0.0'\n"),
			relations: []Relation{{RelOwnedBy, ref("group:default/team-a")}, {RelPartOf, ref("system:default/shop")}},
			owner:     "group:default/team-a",
			system:    "system:default/shop",
		},
		{
			name:      "a System is part of a domain",
			doc:       withSpec("System", "  owner: team-a\n  domain: commerce\n"),
			relations: []Relation{{RelOwnedBy, ref("group:default/team-a")}, {RelPartOf, ref("domain:default/commerce")}},
			owner:     "group:default/team-a",
		},
		{
			name:      "a Domain is part of its parent domain",
			doc:       withSpec("Domain", "  owner: team-a\n  subdomainOf: commerce\n"),
			relations: []Relation{{RelOwnedBy, ref("group:default/team-a")}, {RelPartOf, ref("domain:default/commerce")}},
			owner:     "group:default/team-a",
		},
		{
			name: "a Resource depends, is depended on and is part of a system",
			doc:  withSpec("Resource", "  type: database\n  owner: team-a\n  system: shop\n  dependsOn: [resource:disk]\n  dependencyOf: component:web\n"),
			relations: []Relation{
				{RelDependencyOf, ref("component:default/web")},
				{RelDependsOn, ref("resource:default/disk")},
				{RelOwnedBy, ref("group:default/team-a")},
				{RelPartOf, ref("system:default/shop")},
			},
			owner:  "group:default/team-a",
			system: "system:default/shop",
		},
		{
			name: "a Group has a parent, children and members",
			doc:  withSpec("Group", "  type: team\n  parent: org\n  children: [team-b]\n  members: [jdoe, user:ops/ann]\n"),
			relations: []Relation{
				{RelChildOf, ref("group:default/org")},
				{RelHasMember, ref("user:default/jdoe")},
				{RelHasMember, ref("user:ops/ann")},
				{RelParentOf, ref("group:default/team-b")},
			},
		},
		{
			name:      "a User is a member of groups",
			doc:       withSpec("User", "  memberOf: [team-a, group:ops/admins]\n"),
			relations: []Relation{{RelMemberOf, ref("group:default/team-a")}, {RelMemberOf, ref("group:ops/admins")}},
		},
		{
			name:      "a Location declares no relations",
			doc:       withSpec("Location", "  targets: [./a.yaml]\n"),
			relations: nil,
		},
		{
			name: "references are not held to the entity-name rule, as in Backstage",
			doc: withSpec("API", "  type: openapi\n  lifecycle: production\n  owner: petstore@example.com\n"+
				"  definition: x\n"),
			relations: []Relation{{RelOwnedBy, Ref{Kind: "group", Namespace: "default", Name: "petstore@example.com"}}},
			owner:     "group:default/petstore@example.com",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Parse("catalog-info.yaml", []byte(tt.doc), nil)
			if errs := res.Errors(); len(errs) > 0 {
				t.Fatalf("unexpected errors:\n%s", errorList(errs))
			}
			e := res.Documents[0].Entity
			if diff := cmp.Diff(tt.relations, e.Relations); diff != "" {
				t.Errorf("relations (-want +got):\n%s", diff)
			}
			if got := e.Owner.String(); got != tt.owner {
				t.Errorf("Owner = %q, want %q", got, tt.owner)
			}
			if got := e.System.String(); got != tt.system {
				t.Errorf("System = %q, want %q", got, tt.system)
			}
		})
	}
}

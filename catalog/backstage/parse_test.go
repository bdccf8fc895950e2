package backstage

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/portside-dev/portside/errs"
)

// resolverOf is a Resolver over an in-memory directory.
func resolverOf(m map[string]string) Resolver {
	return func(target string) ([]byte, error) {
		if s, ok := m[target]; ok {
			return []byte(s), nil
		}
		return nil, errs.E(errs.NotFound, "%s does not exist", target)
	}
}

// parseOne parses a file that must hold exactly one document and no syntax error.
func parseOne(t *testing.T, src string, resolve Resolver) Document {
	t.Helper()
	res := Parse("catalog-info.yaml", []byte(src), resolve)
	if res.FileError != nil {
		t.Fatalf("file error: %v", res.FileError)
	}
	if len(res.Documents) != 1 {
		t.Fatalf("got %d documents, want 1", len(res.Documents))
	}
	return res.Documents[0]
}

func TestParseBuildsTheEntity(t *testing.T) {
	doc := parseOne(t, `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: artist-web
  namespace: music
  title: Artist web
  description: The place to be, for great artists
  labels:
    example.com/custom: custom_label_value
  annotations:
    example.com/service-discovery: artistweb
  tags: [java]
  links:
    - url: https://admin.example-org.com
      title: Admin Dashboard
      icon: dashboard
      type: admin-dashboard
  rating: {stars: 5, reviewed: true}
spec:
  type: website
  lifecycle: production
  owner: artist-relations-team
  system: public-websites
  replicas: 3
  ports: [8080, 8443]
  notes: ~
`, nil)
	want := Document{
		Index: 1,
		Line:  1,
		Ref:   MakeRef("component", "music", "artist-web"),
		Entity: &Entity{
			APIVersion: "backstage.io/v1alpha1",
			Kind:       KindComponent,
			Metadata: Metadata{
				Name:        "artist-web",
				Namespace:   "music",
				Title:       "Artist web",
				Description: "The place to be, for great artists",
				Labels:      map[string]string{"example.com/custom": "custom_label_value"},
				Annotations: map[string]string{"example.com/service-discovery": "artistweb"},
				Tags:        []string{"java"},
				Links:       []Link{{URL: "https://admin.example-org.com", Title: "Admin Dashboard", Icon: "dashboard", Type: "admin-dashboard"}},
				Extra:       map[string]any{"rating": map[string]any{"stars": 5.0, "reviewed": true}},
			},
			Spec: map[string]any{
				"type": "website", "lifecycle": "production", "owner": "artist-relations-team",
				"system": "public-websites", "replicas": 3.0, "ports": []any{8080.0, 8443.0}, "notes": nil,
			},
			Ref:       MakeRef("component", "music", "artist-web"),
			Type:      "website",
			Lifecycle: "production",
			Owner:     MakeRef("group", "music", "artist-relations-team"),
			System:    MakeRef("system", "music", "public-websites"),
			Relations: []Relation{
				{RelOwnedBy, MakeRef("group", "music", "artist-relations-team")},
				{RelPartOf, MakeRef("system", "music", "public-websites")},
			},
		},
	}
	if diff := cmp.Diff(want, doc, cmpopts.IgnoreUnexported(Entity{})); diff != "" {
		t.Errorf("document (-want +got):\n%s", diff)
	}
}

func TestParseDefaultsTheNamespace(t *testing.T) {
	doc := parseOne(t, withSpec("Group", "  type: team\n  children: []\n"), nil)
	if doc.Entity.Metadata.Namespace != "default" || doc.Ref != MakeRef("group", "default", "a") {
		t.Errorf("namespace %q, ref %v; want default", doc.Entity.Metadata.Namespace, doc.Ref)
	}
}

func TestParseEntitySurvivesJSONRoundTrip(t *testing.T) {
	doc := parseOne(t, `apiVersion: backstage.io/v1alpha1
kind: Resource
metadata:
  name: db
  labels: {tier: gold}
  extra: {nested: [1, 2.5, "x", null, true], big: 12345678901234567890}
spec:
  type: database
  owner: team-a
  sizes: {min: 0x10, max: 1e3, octal: 0o17}
  text: "<&>"
`, nil)
	if doc.Entity == nil {
		t.Fatalf("errors:\n%s", errorList(doc.Errors))
	}
	data, err := json.Marshal(doc.Entity)
	if err != nil {
		t.Fatal(err)
	}
	var back Entity
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(doc.Entity.Metadata, back.Metadata); diff != "" {
		t.Errorf("metadata changed (-parsed +round-tripped):\n%s", diff)
	}
	if diff := cmp.Diff(doc.Entity.Spec, back.Spec); diff != "" {
		t.Errorf("spec changed (-parsed +round-tripped):\n%s", diff)
	}
	if got := doc.Entity.Spec["sizes"]; !cmp.Equal(got, map[string]any{"min": 16.0, "max": 1000.0, "octal": 15.0}) {
		t.Errorf("sizes = %v", got)
	}
}

func TestParseReadsScalarsAsBackstageDoes(t *testing.T) {
	// Backstage reads YAML 1.2 (core schema): yes/no, dates and 1_000 stay strings, a quoted value
	// is always a string, merge keys are ordinary keys, and unknown tags keep the text.
	doc := parseOne(t, `apiVersion: backstage.io/v1alpha1
kind: Location
metadata: {name: a}
spec:
  yes: yes
  date: 2001-12-14
  underscores: 1_000
  quoted: "12"
  bool: TRUE
  tagged: !!str 12
  custom: !Ref other
  float: -.5
  int: -017
  "<<": {merged: false}
  empty:
`, nil)
	if doc.Entity == nil {
		t.Fatalf("errors:\n%s", errorList(doc.Errors))
	}
	want := map[string]any{
		"yes": "yes", "date": "2001-12-14", "underscores": "1_000", "quoted": "12", "bool": true,
		"tagged": "12", "custom": "other", "float": -0.5, "int": -17.0,
		"<<": map[string]any{"merged": false}, "empty": nil,
	}
	if diff := cmp.Diff(want, doc.Entity.Spec); diff != "" {
		t.Errorf("spec (-want +got):\n%s", diff)
	}
}

func TestParseRejectsValuesJSONCannotHold(t *testing.T) {
	doc := parseOne(t, withSpec("Location", "  limit: .inf\n  ratio: !!float nan\n"), nil)
	assertErrors(t, doc.Errors, []errWant{
		{"spec.limit", 6, "expected a finite number, got .inf"},
		{"spec.ratio", 7, "expected a finite number, got nan"},
	})
}

func TestParseRejectsDuplicateKeys(t *testing.T) {
	doc := parseOne(t, withSpec("Component", "  type: service\n  lifecycle: production\n  owner: a\n  type: website\n"), nil)
	assertErrors(t, doc.Errors, []errWant{{"spec.type", 9, `duplicate key "type" (first at line 6)`}})
	if doc.Ref != MakeRef("component", "default", "a") {
		t.Errorf("Ref = %v, want the identity even though the document is invalid", doc.Ref)
	}
}

func TestParseRejectsNonStringKeys(t *testing.T) {
	doc := parseOne(t, withSpec("Location", "  ? [a, b]\n  : c\n"), nil)
	assertErrors(t, doc.Errors, []errWant{{"spec", 6, "mapping keys must be strings, got a list"}})
}

func TestParseMultiDocumentFiles(t *testing.T) {
	src := `# a comment before the first document
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a}
spec: {type: team, children: []}
---
# a document with only a comment is skipped but counted
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: broken}
spec: {type: service, lifecycle: production}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: bad name}
spec: {type: service, lifecycle: production, owner: team-a}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: jdoe, namespace: ops}
spec: {memberOf: [default/team-a]}
---
`
	res := Parse("org.yaml", []byte(src), nil)
	if res.FileError != nil {
		t.Fatalf("file error: %v", res.FileError)
	}
	type summary struct {
		Index, Line int
		Ref         string
		Valid       bool
		Errors      int
	}
	var got []summary
	for _, d := range res.Documents {
		got = append(got, summary{d.Index, d.Line, d.Ref.String(), d.Entity != nil, len(d.Errors)})
	}
	want := []summary{
		{1, 2, "group:default/team-a", true, 0},
		{3, 9, "component:default/broken", false, 1},
		{4, 14, "", false, 1}, // the name is invalid, so the identity is unknown
		{5, 19, "user:ops/jdoe", true, 0},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("documents (-want +got):\n%s", diff)
	}
	e := res.Errors()
	if len(e) != 2 || e[0].Document != 3 || e[0].Field != "spec.owner" || e[0].Ref != "component:default/broken" ||
		e[1].Document != 4 || e[1].Field != "metadata.name" || e[1].Ref != "" {
		t.Errorf("errors:\n%s", errorList(e))
	}
	if rel := res.Documents[3].Entity.Relations; !cmp.Equal(rel, []Relation{{RelMemberOf, MustParseRef("group:default/team-a")}}) {
		t.Errorf("relations = %v", rel)
	}
}

func TestParseEmptyFiles(t *testing.T) {
	for _, src := range []string{"", "# nothing here\n", "---\n", "---\n---\n", "~\n", "null\n"} {
		res := Parse("empty.yaml", []byte(src), nil)
		if len(res.Documents) != 0 || res.FileError != nil {
			t.Errorf("Parse(%q) = %+v, want nothing", src, res)
		}
	}
}

func TestParseSyntaxErrorKeepsEarlierDocuments(t *testing.T) {
	src := `apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-b
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-c}
spec: {type: team, children: []}
`
	res := Parse("org.yaml", []byte(src), nil)
	if len(res.Documents) != 1 || res.Documents[0].Entity == nil {
		t.Fatalf("documents = %+v, want team-a only", res.Documents)
	}
	fe := res.FileError
	if fe == nil {
		t.Fatal("no file error")
	}
	// The error points at line 8, where the mapping that is never closed opens.
	if fe.Source != "org.yaml" || fe.Document != 2 || fe.Line != 8 || !strings.Contains(fe.Message, "YAML syntax error") || fe.Field != "" {
		t.Errorf("file error = %+v", *fe)
	}
	if e := res.Errors(); len(e) != 1 || e[0] != *fe {
		t.Errorf("Errors() = %v, want the file error", e)
	}
}

func TestParseSyntaxErrorLines(t *testing.T) {
	tests := []struct {
		name string
		src  string
		line int
	}{
		{"a value where a key was expected", "a: 1\nb: 2\nc: d: e\n", 3},
		{"an unclosed flow list, at its start", "a: 1\nb: 2\nc: [1, 2\nd: 1\n", 3},
		{"an item after a block list, at the list", "a: 1\nb:\n  - 1\n  x: 2\n", 3},
		{"an undefined tag handle", "a: 1\nb: 2\nc: !x!y 1\n", 3},
		{"an unterminated string", "a: 1\nb: 2\nc: \"abc\n", 3},
		{"a problem yaml.v3 gives no line for", "a: 1\nb: 2\nc: *nope\n", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fe := Parse("x.yaml", []byte(tt.src), nil).FileError
			if fe == nil || fe.Line != tt.line || fe.Document != 1 {
				t.Errorf("file error = %+v, want line %d of document 1", fe, tt.line)
			}
		})
	}
}

func TestParseSyntaxErrorOnTheFirstLine(t *testing.T) {
	res := Parse("x.yaml", []byte("\tkind: Component\n"), nil)
	if res.FileError == nil || res.FileError.Document != 1 || len(res.Documents) != 0 {
		t.Errorf("result = %+v", res)
	}
}

func TestParseAliases(t *testing.T) {
	t.Run("aliases within a document are expanded", func(t *testing.T) {
		doc := parseOne(t, "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: a}\n"+
			"spec:\n  targets: &t [./a.yaml, ./b.yaml]\n  copy: *t\n", nil)
		if doc.Entity == nil {
			t.Fatalf("errors:\n%s", errorList(doc.Errors))
		}
		if !cmp.Equal(doc.Entity.Spec["copy"], []any{"./a.yaml", "./b.yaml"}) {
			t.Errorf("copy = %v", doc.Entity.Spec["copy"])
		}
	})
	t.Run("an alias inside its own anchor is an error", func(t *testing.T) {
		doc := parseOne(t, withSpec("Location", "  loop: &l [1, *l]\n"), nil)
		assertErrors(t, doc.Errors, []errWant{{"spec.loop[1]", 6, "alias *l refers to a value that contains it"}})
	})
	t.Run("aliases may not expand a document beyond the limit", func(t *testing.T) {
		// Nine levels of nine aliases: 387 million values if expanded.
		var b strings.Builder
		b.WriteString("apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: a}\nspec:\n  l0: &l0 [x, x, x, x, x, x, x, x, x]\n")
		for i := 1; i <= 9; i++ {
			p := "*l" + string(rune('0'+i-1))
			b.WriteString("  l" + string(rune('0'+i)) + ": &l" + string(rune('0'+i)) + " [" + strings.Repeat(p+", ", 8) + p + "]\n")
		}
		doc := parseOne(t, b.String(), nil)
		if doc.Entity != nil || len(doc.Errors) != 1 || !strings.Contains(doc.Errors[0].Message, "YAML aliases expand this document to more than") {
			t.Errorf("errors:\n%s", errorList(doc.Errors))
		}
	})
}

func TestParseLimitsTheExpandedSizeOfADocument(t *testing.T) {
	big := strings.Repeat("x", 400_000)
	t.Run("an alias of a long string, repeated", func(t *testing.T) {
		src := withSpec("Location", "  s: &s "+big+"\n  copies: ["+strings.Repeat("*s, ", 99)+"*s]\n")
		doc := parseOne(t, src, nil)
		assertErrors(t, doc.Errors, []errWant{{"", 1, "the document is larger than 32 MiB once its aliases and placeholders are expanded"}})
		if doc.Ref != MustParseRef("location:default/a") {
			t.Errorf("Ref = %v, want the identity of the oversized document", doc.Ref)
		}
	})
	t.Run("an alias of a placeholder, repeated", func(t *testing.T) {
		src := withSpec("Location", "  p: &p {$text: ./big.txt}\n  copies: ["+strings.Repeat("*p, ", 99)+"*p]\n")
		doc := parseOne(t, src, resolverOf(map[string]string{"./big.txt": big}))
		assertErrors(t, doc.Errors, []errWant{{"", 1, "larger than 32 MiB"}})
	})
	t.Run("placeholders that read too much", func(t *testing.T) {
		var b strings.Builder
		for i := range 100 {
			fmt.Fprintf(&b, "  f%d: {$text: ./f%d.txt}\n", i, i)
		}
		doc := parseOne(t, withSpec("Location", b.String()), func(string) ([]byte, error) { return []byte(big), nil })
		if doc.Entity != nil || !strings.Contains(doc.Errors[0].Message, "the placeholders of this document read more than 32 MiB") {
			t.Errorf("errors:\n%s", errorList(doc.Errors))
		}
	})
	t.Run("a target named twice is read once", func(t *testing.T) {
		reads := 0
		resolve := func(string) ([]byte, error) { reads++; return []byte("x"), nil }
		doc := parseOne(t, withSpec("Location", "  a: {$text: ./x}\n  b: {$text: ./x}\n"), resolve)
		if doc.Entity == nil || reads != 1 {
			t.Errorf("reads = %d, errors:\n%s", reads, errorList(doc.Errors))
		}
	})
}

func TestPlaceholders(t *testing.T) {
	api := func(definition string) string {
		return withSpec("API", "  type: openapi\n  lifecycle: production\n  owner: team-a\n  definition:\n"+definition)
	}
	dir := resolverOf(map[string]string{
		"./openapi.yaml":  "openapi: 3.0.0\ninfo: {title: Orders}\n",
		"./spec.json":     `{"type": "openapi", "lifecycle": "production", "owner": "team-a", "definition": "x", "weight": 2}`,
		"./spec.yaml":     "type: grpc\nlifecycle: production\nowner: team-a\ndefinition: syntax = \"proto3\";\n",
		"./two.yaml":      "a: 1\n---\nb: 2\n",
		"./empty.yaml":    "",
		"./bad.json":      "{",
		"./bad.yaml":      "a: [",
		"./dup.yaml":      "a: 1\na: 2\n",
		"./latin1.txt":    "caf\xe9",
		"./metadata.yaml": "name: from-placeholder\ntags: [java]\n",
	})
	t.Run("$text embeds the file as a string", func(t *testing.T) {
		doc := parseOne(t, api("    $text: ./openapi.yaml\n"), dir)
		if doc.Entity == nil {
			t.Fatalf("errors:\n%s", errorList(doc.Errors))
		}
		if got := doc.Entity.Spec["definition"]; got != "openapi: 3.0.0\ninfo: {title: Orders}\n" {
			t.Errorf("definition = %q", got)
		}
	})
	t.Run("$text replaces bytes that are not UTF-8", func(t *testing.T) {
		doc := parseOne(t, api("    $text: ./latin1.txt\n"), dir)
		if got := doc.Entity.Spec["definition"]; got != "caf\uFFFD" {
			t.Errorf("definition = %q", got)
		}
	})
	t.Run("$json embeds the parsed value", func(t *testing.T) {
		doc := parseOne(t, withSpec("API", "  $json: ./spec.json\n"), dir)
		if doc.Entity == nil {
			t.Fatalf("errors:\n%s", errorList(doc.Errors))
		}
		if doc.Entity.Spec["weight"] != 2.0 || doc.Entity.Owner != MustParseRef("group:default/team-a") {
			t.Errorf("spec = %v", doc.Entity.Spec)
		}
	})
	t.Run("$yaml embeds the parsed value", func(t *testing.T) {
		doc := parseOne(t, withSpec("API", "  $yaml: ./spec.yaml\n"), dir)
		if doc.Entity == nil {
			t.Fatalf("errors:\n%s", errorList(doc.Errors))
		}
		if doc.Entity.Type != "grpc" || doc.Entity.Spec["definition"] != `syntax = "proto3";` {
			t.Errorf("spec = %v", doc.Entity.Spec)
		}
	})
	t.Run("placeholders work anywhere, including metadata", func(t *testing.T) {
		doc := parseOne(t, "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {$yaml: ./metadata.yaml}\nspec: {type: team, children: []}\n", dir)
		if doc.Entity == nil || doc.Ref != MustParseRef("group:default/from-placeholder") || len(doc.Entity.Metadata.Tags) != 1 {
			t.Errorf("document = %+v", doc)
		}
	})
	t.Run("placeholders in lists are substituted", func(t *testing.T) {
		doc := parseOne(t, withSpec("Location", "  notes:\n    - $text: ./openapi.yaml\n    - plain\n"), dir)
		if doc.Entity == nil || !cmp.Equal(doc.Entity.Spec["notes"], []any{"openapi: 3.0.0\ninfo: {title: Orders}\n", "plain"}) {
			t.Errorf("document = %+v", doc)
		}
	})
	t.Run("a placeholder target's own placeholders are not substituted", func(t *testing.T) {
		doc := parseOne(t, withSpec("Location", "  x: {$json: ./nested.json}\n"), resolverOf(map[string]string{"./nested.json": `{"$text": "./openapi.yaml"}`}))
		if doc.Entity == nil || !cmp.Equal(doc.Entity.Spec["x"], map[string]any{"$text": "./openapi.yaml"}) {
			t.Errorf("document = %+v", doc)
		}
	})

	tests := []struct {
		name    string
		doc     string
		resolve Resolver
		want    []errWant
	}{
		{
			name: "without a resolver a placeholder is an error",
			doc:  api("    $text: ./openapi.yaml\n"),
			want: []errWant{{"spec.definition", 10, `placeholder $text "./openapi.yaml" cannot be resolved: placeholders are not available for this source`}},
		},
		{
			name:    "a target that cannot be read is an error naming the field",
			doc:     api("    $text: ./missing.yaml\n"),
			resolve: dir,
			want:    []errWant{{"spec.definition", 10, `placeholder $text could not read "./missing.yaml": ./missing.yaml does not exist`}},
		},
		{
			name:    "a resolver's internal errors are not shown",
			doc:     api("    $text: ./x.yaml\n"),
			resolve: func(string) ([]byte, error) { return nil, errors.New("open /srv/secret/x.yaml: permission denied") },
			want:    []errWant{{"spec.definition", 10, `could not read "./x.yaml": internal error`}},
		},
		{
			name:    "$json must hold JSON",
			doc:     api("    $json: ./bad.json\n"),
			resolve: dir,
			want:    []errWant{{"spec.definition", 10, `placeholder $json could not parse "./bad.json" as JSON`}},
		},
		{
			name:    "$yaml must hold valid YAML",
			doc:     api("    $yaml: ./bad.yaml\n"),
			resolve: dir,
			want:    []errWant{{"spec.definition", 10, `placeholder $yaml could not parse "./bad.yaml"`}},
		},
		{
			name:    "$yaml must hold exactly one document",
			doc:     api("    $yaml: ./two.yaml\n"),
			resolve: dir,
			want:    []errWant{{"spec.definition", 10, `placeholder $yaml expects exactly one YAML document in "./two.yaml", found more than one`}},
		},
		{
			name:    "$yaml of an empty file is an error",
			doc:     api("    $yaml: ./empty.yaml\n"),
			resolve: dir,
			want:    []errWant{{"spec.definition", 10, "found no document"}},
		},
		{
			name:    "problems inside a $yaml target are reported at the placeholder",
			doc:     withSpec("Location", "  x:\n    $yaml: ./dup.yaml\n"),
			resolve: dir,
			want:    []errWant{{"spec.x.a", 7, `in "./dup.yaml" (placeholder $yaml): duplicate key "a"`}},
		},
		{
			name:    "a substituted value is validated like a written one",
			doc:     api("    $yaml: ./spec.yaml\n"),
			resolve: dir,
			want:    []errWant{{"spec.definition", 10, "expected a non-empty string: the API's definition, e.g. {$text: ./openapi.yaml}, got a mapping"}},
		},
		{
			name:    "a placeholder's argument must be a string",
			doc:     api("    $text: [./a, ./b]\n"),
			resolve: dir,
			want:    []errWant{{"spec.definition", 10, "placeholder $text expects a URL or a path relative to this file, got a list"}},
		},
		{
			name:    "a $-key next to other keys is left as written, as in Backstage",
			doc:     api("    $text: ./openapi.yaml\n    extra: 1\n"),
			resolve: dir,
			want:    []errWant{{"spec.definition", 10, "got a mapping with $text (a placeholder is $text, $json or $yaml, alone in its mapping)"}},
		},
		{
			name:    "an unknown $-key is left as written, as in Backstage",
			doc:     api("    $txt: ./openapi.yaml\n"),
			resolve: dir,
			want:    []errWant{{"spec.definition", 10, "got a mapping with $txt"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := parseOne(t, tt.doc, tt.resolve)
			assertErrors(t, doc.Errors, tt.want)
			if doc.Ref != MakeRef(doc.Ref.Kind, "default", "a") || doc.Ref.IsZero() {
				t.Errorf("Ref = %v, want the identity of the invalid document", doc.Ref)
			}
		})
	}
}

func TestValidationErrorString(t *testing.T) {
	tests := []struct {
		err  ValidationError
		want string
	}{
		{
			ValidationError{Source: "services/a/catalog-info.yaml", Document: 2, Line: 14, Field: "spec.owner", Message: "expected a non-empty string, got 42"},
			"services/a/catalog-info.yaml: document 2, line 14: spec.owner: expected a non-empty string, got 42",
		},
		{ValidationError{Source: "a.yaml", Document: 1, Message: "m"}, "a.yaml: document 1: m"},
		{ValidationError{Source: "a.yaml", Line: 3, Message: "m"}, "a.yaml: line 3: m"},
		{ValidationError{Source: "a.yaml", Message: "cannot read"}, "a.yaml: cannot read"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestParseResultErrorsPutTheFileErrorFirst(t *testing.T) {
	r := ParseResult{
		FileError: &ValidationError{Message: "file"},
		Documents: []Document{
			{Errors: []ValidationError{{Message: "a"}, {Message: "b"}}},
			{},
			{Errors: []ValidationError{{Message: "c"}}},
		},
	}
	var got []string
	for _, e := range r.Errors() {
		got = append(got, e.Message)
	}
	if diff := cmp.Diff([]string{"file", "a", "b", "c"}, got); diff != "" {
		t.Errorf("Errors() (-want +got):\n%s", diff)
	}
}

// TestBackstageExampleCatalog parses the example catalog in testdata/backstage, written in
// Backstage's documented format, by following its Location entities from the root file, as
// ingestion does.
func TestBackstageExampleCatalog(t *testing.T) {
	root := filepath.Join("testdata", "backstage")
	entities := map[string]*Entity{}
	queue := []string{"catalog-info.yaml"}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		data, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		dir := path.Dir(name)
		resolve := func(target string) ([]byte, error) {
			return os.ReadFile(filepath.Join(root, filepath.FromSlash(path.Join(dir, target))))
		}
		res := Parse(name, data, resolve)
		if e := res.Errors(); len(e) > 0 {
			t.Fatalf("%s has errors:\n%s", name, errorList(e))
		}
		for _, d := range res.Documents {
			ref := d.Entity.Ref.String()
			if entities[ref] != nil {
				t.Fatalf("%s defined twice", ref)
			}
			entities[ref] = d.Entity
			if d.Entity.Kind == KindLocation {
				for _, target := range d.Entity.Spec["targets"].([]any) {
					queue = append(queue, path.Join(dir, target.(string)))
				}
			}
		}
	}
	if len(entities) != 22 {
		t.Errorf("got %d entities, want 22", len(entities))
	}
	rel := func(from, typ string) []string {
		t.Helper()
		e := entities[from]
		if e == nil {
			t.Fatalf("no entity %s", from)
		}
		var out []string
		for _, r := range e.RelationsOfType(typ) {
			out = append(out, r.String())
		}
		return out
	}
	checks := []struct {
		from, typ string
		want      []string
	}{
		{"component:default/checkout-service", RelOwnedBy, []string{"group:default/team-checkout"}},
		{"component:default/checkout-service", RelPartOf, []string{"system:default/checkout"}},
		{"component:default/checkout-service", RelProvidesAPI, []string{"api:default/checkout-api"}},
		{"component:default/checkout-service", RelConsumesAPI, []string{"api:default/payments-api"}},
		{"component:default/checkout-service", RelDependsOn, []string{"component:default/payment-worker", "resource:default/orders-db"}},
		{"component:default/basket-pricing", RelPartOf, []string{"component:default/checkout-service"}},
		{"component:default/basket-pricing", RelOwnedBy, []string{"user:default/alice"}},
		{"resource:default/payments-queue", RelDependencyOf, []string{"component:default/payment-worker"}},
		{"system:default/payment-processing", RelPartOf, []string{"domain:default/payments"}},
		{"domain:default/payments", RelPartOf, []string{"domain:default/commerce"}},
		{"group:default/engineering", RelChildOf, []string{"group:default/acme"}},
		{"group:default/engineering", RelParentOf, []string{"group:default/platform", "group:default/team-checkout", "group:default/team-payments"}},
		{"group:default/team-checkout", RelHasMember, []string{"user:default/alice", "user:default/bob"}},
		{"user:default/bob", RelMemberOf, []string{"group:default/platform", "group:default/team-checkout"}},
	}
	for _, c := range checks {
		if diff := cmp.Diff(c.want, rel(c.from, c.typ), cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s %s (-want +got):\n%s", c.from, c.typ, diff)
		}
	}
	def, _ := entities["api:default/checkout-api"].Spec["definition"].(string)
	if !strings.HasPrefix(def, "openapi: 3.0.3\ninfo:\n  title: Checkout API") {
		t.Errorf("checkout-api definition = %q, want the sibling openapi.yaml", def)
	}
}

// PostgreSQL text cannot hold NUL characters, so a document with one must fail alone instead of
// failing the refresh of its whole location.
func TestStringsWithNULAreRejected(t *testing.T) {
	for _, doc := range []string{
		"apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: g, description: \"a\\0b\"}\nspec: {type: team, children: []}\n",
		"apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: g, labels: {\"k\\0\": v}}\nspec: {type: team, children: []}\n",
	} {
		res := Parse("nul.yaml", []byte(doc), nil)
		if len(res.Documents) != 1 || res.Documents[0].Entity != nil || !strings.Contains(fmt.Sprint(res.Errors()), "NUL") {
			t.Errorf("%q: want a NUL error, got %+v", doc, res.Errors())
		}
	}
}

// ParseWith keeps the first MaxErrors errors of a file and counts the rest; invalid documents with
// no identity beyond the bound are counted, not held, so a file of empty documents stays cheap.
func TestParseWithBoundsTheErrorsKept(t *testing.T) {
	const group = "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: team-a}\nspec: {type: team, children: []}\n"
	const named = "kind: Component\nmetadata: {name: broken}\n" // has an identity, and errors
	data := strings.Repeat("---\n{}\n", 5) + "---\n" + named + "---\n" + group
	tests := []struct {
		name                      string
		max                       int
		kept, omitted, unidentify int
		documents                 int
	}{
		{"no bound", 0, 5*3 + 2, 0, 0, 7},
		{"a bound above the errors", 100, 17, 0, 0, 7},
		{"a bound inside the second document", 4, 4, 13, 3, 4},
		{"a bound of one", 1, 1, 16, 4, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := ParseWith("catalog-info.yaml", []byte(data), nil, ParseOptions{MaxErrors: tt.max})
			kept := len(res.Errors())
			if kept != tt.kept || res.OmittedErrors != tt.omitted || res.Unidentified != tt.unidentify || len(res.Documents) != tt.documents {
				t.Errorf("kept %d, omitted %d, unidentified %d, documents %d; want %d, %d, %d, %d",
					kept, res.OmittedErrors, res.Unidentified, len(res.Documents), tt.kept, tt.omitted, tt.unidentify, tt.documents)
			}
			if res.ErrorCount() != 17 {
				t.Errorf("ErrorCount() = %d, want 17 whatever the bound", res.ErrorCount())
			}
			last := res.Documents[len(res.Documents)-1]
			if last.Entity == nil || last.Entity.Ref.String() != "group:default/team-a" {
				t.Errorf("the valid document after the errors: %+v", last)
			}
			var broken bool
			for _, d := range res.Documents {
				broken = broken || d.Ref.String() == "component:default/broken"
			}
			if !broken {
				t.Error("the invalid document with an identity was dropped; its last good version would be lost")
			}
		})
	}
}

// A %YAML 1.2 directive, which Backstage's YAML library reads, is read (yaml.v3 alone refuses
// it), before each document that has one, in files read whole and in files read as a stream;
// line numbers are those of the file. A directive of another major version is still refused.
func TestParseReadsYAML12Directives(t *testing.T) {
	src := `%YAML 1.2
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: directive-one}
spec: {type: service, lifecycle: production, owner: team-a}
...
%YAML   1.2   # a comment
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: after-dots}
spec: {type: service, lifecycle: production}
`
	for name, fast := range map[string]int{"read whole": fastPathBytes, "streamed": 0} {
		var docs []Document
		res, err := parseStream("dir.yaml", strings.NewReader(src), nil, ParseOptions{Workers: 1}, func(d Document) error {
			docs = append(docs, d)
			return nil
		}, fast)
		if err != nil || res.FileError != nil {
			t.Fatalf("%s: %v, %v", name, err, res.FileError)
		}
		if len(docs) != 2 || docs[0].Ref.String() != "component:default/directive-one" || docs[1].Ref.String() != "component:default/after-dots" {
			t.Fatalf("%s: documents %+v", name, docs)
		}
		if e := docs[1].Errors; len(e) != 1 || e[0].Field != "spec.owner" || e[0].Line != 13 {
			t.Errorf("%s: the second document's errors %+v, want spec.owner at line 13", name, e)
		}
	}
	res := Parse("two.yaml", []byte("%YAML 2.0\n---\nkind: Component\n"), nil)
	if res.FileError == nil {
		t.Error("a %YAML 2.0 directive was read")
	}
	for in, want := range map[string]string{
		"%YAML 1.2\n": "%YAML 1.1\n", "%YAML   1.2   # c": "%YAML   1.1   # c", "%YAML 1.1\n": "%YAML 1.1\n",
		"%TAG ! tag:x:\n": "%TAG ! tag:x:\n", "key: '%YAML 1.2'\n": "key: '%YAML 1.2'\n", "%YAML 2.0\n": "%YAML 2.0\n",
	} {
		if got := string(rewriteDirective([]byte(in))); got != want {
			t.Errorf("rewriteDirective(%q) = %q, want %q", in, got, want)
		}
	}
}

package backstage

import (
	"bytes"
	"cmp"
	"encoding/json"
	"slices"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/portside-dev/portside/errs"
)

// FuzzParse feeds Parse arbitrary catalog files, and arbitrary content behind every placeholder
// target, and checks the promises callers rely on: no panic, an entity exactly when a document
// has no errors, errors that say where they are, and entities that survive a JSON round trip.
// Seeds live here and in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	seeds := []struct{ file, target string }{
		{withSpec("Component", "  type: service\n  lifecycle: production\n  owner: team-a\n  system: shop\n  providesApis: [orders]\n"), ""},
		{withMetadata("  name: a\n  namespace: ops\n  labels: {a.b/c: d}\n  annotations: {x: 'y'}\n  tags: [go, c++]\n  links: [{url: 'https://x.example'}]\n"), ""},
		{withSpec("API", "  type: openapi\n  lifecycle: production\n  owner: team-a\n  definition: {$text: ./openapi.yaml}\n"), "openapi: 3.0.0\n"},
		{withSpec("Location", "  x: {$json: ./a.json}\n"), `{"a": [1, 2.5, "x", null, true, {"b": {}}]}`},
		{withSpec("Location", "  x: {$yaml: ./a.yaml}\n"), "a: &x [1, *x]\n"},
		{withSpec("Location", "  x: {$yaml: ./a.yaml}\n"), "a: 1\n---\nb: 2\n"},
		{"apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {$yaml: ./m.yaml}\nspec: {type: team, children: []}\n", "name: x\n"},
		{withSpec("Group", "  type: team\n  parent: org\n  children: [b]\n  members: [user:ops/ann]\n") + "---\n---\n" +
			withSpec("User", "  memberOf: [team-a]\n") + "---\nkind: Template\n---\n- a\n---\nb: [\n", ""},
		{"a: &a [*a, *a]\nb: &b [*a, *a]\n", ""},
		{"%YAML 1.1\n---\n!!map {? !!str a : !!int 1}\n", ""},
		{"apiVersion: 1\nkind: 2\nmetadata: 3\nspec: 4\n", ""},
		{"\xff\xfe\x00\x00", ""},
		{"key: .inf\n<<: {a: 1}\n? [x]\n: y\n", ""},
	}
	for _, s := range seeds {
		f.Add([]byte(s.file), []byte(s.target))
	}
	f.Fuzz(func(t *testing.T, file, target []byte) {
		resolve := func(name string) ([]byte, error) {
			if name == "./missing" {
				return nil, errs.E(errs.NotFound, "%s does not exist", name)
			}
			return target, nil
		}
		const source = "fuzz.yaml"
		res := Parse(source, file, resolve)
		// Read on one goroutine or validated on several, a file parses the same, with the same
		// bound on errors.
		if diff := gocmp.Diff(res, ParseWith(source, file, resolve, ParseOptions{Workers: 1}), cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("on one goroutine the file parses differently (-default +one):\n%s", diff)
		}
		if a, b := ParseWith(source, file, resolve, ParseOptions{Workers: 1, MaxErrors: 2}),
			ParseWith(source, file, resolve, ParseOptions{Workers: 3, MaxErrors: 2}); !gocmp.Equal(a, b, cmpopts.EquateEmpty()) {
			t.Fatalf("with MaxErrors 2, one goroutine and three parse differently:\n%s", gocmp.Diff(a, b, cmpopts.EquateEmpty()))
		}

		total, last := 0, 0
		for _, d := range res.Documents {
			if d.Index <= last {
				t.Fatalf("document index %d after %d", d.Index, last)
			}
			last = d.Index
			total += len(d.Errors)
			if (d.Entity == nil) == (len(d.Errors) == 0) {
				t.Fatalf("document %d: entity %v with %d errors", d.Index, d.Entity != nil, len(d.Errors))
			}
			for _, e := range d.Errors {
				if e.Source != source || e.Document != d.Index || e.Line < 0 || e.Message == "" {
					t.Fatalf("document %d: bad error %+v", d.Index, e)
				}
				if want := refOrEmpty(d.Ref); e.Ref != want {
					t.Fatalf("document %d: error ref %q, want %q", d.Index, e.Ref, want)
				}
			}
			if !slices.IsSortedFunc(d.Errors, func(a, b ValidationError) int { return cmp.Compare(a.Line, b.Line) }) {
				t.Fatalf("document %d: errors not in line order", d.Index)
			}
			if d.Entity != nil {
				checkFuzzedEntity(t, d)
			}
		}
		if fe := res.FileError; fe != nil {
			total++
			if fe.Source != source || fe.Document <= last || fe.Line < 0 || fe.Message == "" {
				t.Fatalf("bad file error %+v after document %d", *fe, last)
			}
		}
		if got := len(res.Errors()); got != total {
			t.Fatalf("Errors() has %d errors, documents hold %d", got, total)
		}
	})
}

func refOrEmpty(r Ref) string {
	if r.IsZero() {
		return ""
	}
	return r.String()
}

// checkFuzzedEntity checks what every valid entity promises.
func checkFuzzedEntity(t *testing.T, d Document) {
	t.Helper()
	e := d.Entity
	if e.Ref.IsZero() || e.Ref != d.Ref || e.Ref != MakeRef(e.Kind, e.Metadata.Namespace, e.Metadata.Name) {
		t.Fatalf("document %d: entity ref %v, document ref %v", d.Index, e.Ref, d.Ref)
	}
	if CanonicalKind(e.Kind) != e.Kind || !slices.Contains(APIVersions, e.APIVersion) {
		t.Fatalf("document %d: kind %q apiVersion %q", d.Index, e.Kind, e.APIVersion)
	}
	if !slices.IsSortedFunc(e.Relations, func(a, b Relation) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Target.String(), b.Target.String()))
	}) || len(slices.Compact(slices.Clone(e.Relations))) != len(e.Relations) {
		t.Fatalf("document %d: relations not sorted and unique: %v", d.Index, e.Relations)
	}
	for _, r := range e.Relations {
		if back, err := ParseRef(r.Target.String(), "", DefaultNamespace); err != nil || back != r.Target {
			t.Fatalf("document %d: relation target %v does not read back: %v", d.Index, r.Target, err)
		}
	}
	data, err := json.Marshal(e)
	if err != nil {
		t.Fatalf("document %d: entity does not encode: %v", d.Index, err)
	}
	if want, err := marshalReflect(e); err != nil || !bytes.Equal(data, want) {
		t.Fatalf("document %d: EncodeJSON wrote\n%s\nencoding/json writes\n%s (%v)", d.Index, data, want, err)
	}
	var back Entity
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatalf("document %d: entity does not decode: %v", d.Index, err)
	}
	if diff := gocmp.Diff(e.Metadata, back.Metadata, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("document %d: metadata changed in a JSON round trip:\n%s", d.Index, diff)
	}
	if diff := gocmp.Diff(e.Spec, back.Spec, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("document %d: spec changed in a JSON round trip:\n%s", d.Index, diff)
	}
}

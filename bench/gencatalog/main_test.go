package main

import (
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portside-dev/portside/catalog/backstage"
)

// generate runs the command as a user would and returns the output directory.
func generate(t *testing.T, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	var stderr bytes.Buffer
	if err := run(append([]string{"-out", dir}, args...), &stderr); err != nil {
		t.Fatalf("gencatalog %v: %v\n%s", args, err, stderr.String())
	}
	t.Logf("gencatalog %v:\n%s", args, stderr.String())
	return dir
}

// parseAll reads the catalog the way ingestion does: from catalog-info.yaml through the Location's
// targets, so a target that selects nothing or the wrong files fails the test.
func parseAll(t *testing.T, fsys fs.FS) (map[string]*backstage.Entity, []string) {
	t.Helper()
	byRef := map[string]*backstage.Entity{}
	var files []string
	queue := []string{"catalog-info.yaml"}
	seen := map[string]bool{"catalog-info.yaml": true}
	for len(queue) > 0 {
		file := queue[0]
		queue = queue[1:]
		files = append(files, file)
		data, err := fs.ReadFile(fsys, file)
		if err != nil {
			t.Fatal(err)
		}
		res := backstage.Parse(file, data, func(target string) ([]byte, error) {
			return fs.ReadFile(fsys, path.Join(path.Dir(file), target))
		})
		errs := res.Errors()
		for i, e := range errs {
			if i == 10 {
				t.Errorf("... and %d more errors in %s", len(errs)-10, file)
				break
			}
			t.Errorf("%v", e)
		}
		for _, doc := range res.Documents {
			e := doc.Entity
			if e == nil {
				continue
			}
			if _, dup := byRef[e.Ref.String()]; dup {
				t.Errorf("%s: %s is defined twice", file, e.Ref)
			}
			byRef[e.Ref.String()] = e
			if e.Kind != backstage.KindLocation {
				continue
			}
			targets, _ := e.Spec["targets"].([]any)
			for _, target := range targets {
				names, err := fs.Glob(fsys, path.Join(path.Dir(file), target.(string)))
				if err != nil || len(names) == 0 {
					t.Fatalf("%s: target %v selects no file (err %v)", e.Ref, target, err)
				}
				for _, n := range names {
					if !seen[n] {
						seen[n] = true
						queue = append(queue, n)
					}
				}
			}
		}
	}
	return byRef, files
}

func TestGeneratedCatalogIsValidAndClosed(t *testing.T) {
	const seed = 3
	dir := generate(t, "-scale", "0.01", "-seed", "3", "-shard-size", "40")
	byRef, files := parseAll(t, os.DirFS(dir))

	want := defaultCounts.scaled(0.01)
	counts := map[string]int{}
	relations := 0
	for ref, e := range byRef {
		counts[e.Kind]++
		relations += len(e.Relations)
		for _, r := range e.Relations {
			if byRef[r.Target.String()] == nil {
				t.Errorf("%s %s %s: no such entity", ref, r.Type, r.Target)
			}
		}
		if !e.Owner.IsZero() && byRef[e.Owner.String()] == nil {
			t.Errorf("%s: owner %s does not exist", ref, e.Owner)
		}
		if !e.System.IsZero() && byRef[e.System.String()] == nil {
			t.Errorf("%s: system %s does not exist", ref, e.System)
		}
	}
	for kind, n := range map[string]int{
		backstage.KindLocation: 1, backstage.KindComponent: want.components, backstage.KindAPI: want.apis,
		backstage.KindSystem: want.systems, backstage.KindDomain: want.domains, backstage.KindGroup: want.groups,
		backstage.KindUser: want.users, backstage.KindResource: want.resources,
	} {
		if counts[kind] != n {
			t.Errorf("%d entities of kind %s, want %d", counts[kind], kind, n)
		}
	}
	// The relation count the summary prints is the one the parser sees.
	if m := build(seed, want); relations != m.declared {
		t.Errorf("parsed entities declare %d relations, the generator counted %d", relations, m.declared)
	}
	if len(files) < 2 || !strings.HasPrefix(files[1], "shards/shard-") {
		t.Errorf("files read = %v, want catalog-info.yaml and the shards", files)
	}

	// queries.json names what exists, in the shape the load driver expects.
	raw, err := os.ReadFile(filepath.Join(dir, "queries.json"))
	if err != nil {
		t.Fatal(err)
	}
	var q queries
	if err := json.Unmarshal(raw, &q); err != nil {
		t.Fatal(err)
	}
	if len(q.Components) != min(200, want.components) || len(q.Owners) == 0 || len(q.SearchWords) == 0 {
		t.Errorf("queries: %d components, %d owners, %d search words", len(q.Components), len(q.Owners), len(q.SearchWords))
	}
	for _, ref := range q.Components {
		if e := byRef[ref]; e == nil || e.Kind != backstage.KindComponent {
			t.Errorf("queries: component %s does not exist", ref)
		}
	}
	owned := map[string]int{}
	var texts []string
	for _, e := range byRef {
		if e.Kind == backstage.KindComponent {
			owned[e.Owner.String()]++
			texts = append(texts, strings.ToLower(strings.Join([]string{e.Metadata.Name, e.Metadata.Title,
				e.Metadata.Description, strings.Join(e.Metadata.Tags, " ")}, " ")))
		}
	}
	for _, ref := range q.Owners {
		if owned[ref] == 0 {
			t.Errorf("queries: owner %s owns no component", ref)
		}
	}
	for _, w := range q.SearchWords {
		n := 0
		for _, text := range texts {
			if strings.Contains(text, w) {
				n++
			}
		}
		if n < 10 || n > 500 {
			t.Errorf("queries: search word %q matches %d components, want 10 to 500", w, n)
		}
	}
}

func TestSameSeedSameBytes(t *testing.T) {
	a := generate(t, "-scale", "0.01", "-seed", "42")
	b := generate(t, "-scale", "0.01", "-seed", "42")
	c := generate(t, "-scale", "0.01", "-seed", "43")
	filesA, filesB := readTree(t, a), readTree(t, b)
	if len(filesA) != len(filesB) {
		t.Fatalf("%d files, then %d", len(filesA), len(filesB))
	}
	for name, data := range filesA {
		if !bytes.Equal(data, filesB[name]) {
			t.Errorf("%s differs between two runs with the same seed", name)
		}
	}
	if bytes.Equal(filesA["shards/shard-0001.yaml"], readTree(t, c)["shards/shard-0001.yaml"]) {
		t.Errorf("seeds 42 and 43 gave the same first shard")
	}
}

func TestRerunReplacesShards(t *testing.T) {
	dir := generate(t, "-scale", "0.05")
	var stderr bytes.Buffer
	if err := run([]string{"-out", dir, "-scale", "0.01"}, &stderr); err != nil {
		t.Fatal(err)
	}
	fresh := generate(t, "-scale", "0.01")
	got, want := readTree(t, dir), readTree(t, fresh)
	if len(got) != len(want) {
		t.Errorf("a smaller run over a larger one left %d files, a fresh run writes %d", len(got), len(want))
	}
}

func TestDefaultSizeShape(t *testing.T) {
	m := build(1, defaultCounts)
	if m.declared < 120_000 || m.declared > 140_000 {
		t.Errorf("%d relations at default size, want about 130,000", m.declared)
	}
	if len(m.queries.Components) != 200 || len(m.queries.Owners) != 100 || len(m.queries.SearchWords) != 100 {
		t.Errorf("queries: %d components, %d owners, %d search words; want 200, 100, 100",
			len(m.queries.Components), len(m.queries.Owners), len(m.queries.SearchWords))
	}

	depth, roots := 0, 0
	for i, g := range m.groups {
		d := 1
		for p := g.parent; p >= 0; p = m.groups[p].parent {
			d++
		}
		depth = max(depth, d)
		if g.parent < 0 {
			roots++
		}
		if g.typ != "team" && len(g.children) == 0 {
			t.Errorf("group %d (%s) is a %s without children", i, g.name, g.typ)
		}
	}
	if depth != 4 || roots < 2 || roots > 5 {
		t.Errorf("group tree has %d roots and depth %d; want a few roots and depth 4", roots, depth)
	}
	for _, u := range m.users {
		if len(u.memberOf) < 1 || len(u.memberOf) > 3 {
			t.Errorf("user %s is a member of %d groups", u.name, len(u.memberOf))
		}
	}
	services, argo, subs := 0, 0, 0
	for _, c := range m.components {
		if n := len(c.dependsOn); n < 3 || n > 6 {
			t.Errorf("component %s depends on %d entities, want 3 to 6", c.name, n)
		}
		if n := len(c.consumesAPIs); n < 2 || n > 5 {
			t.Errorf("component %s consumes %d APIs, want 2 to 5", c.name, n)
		}
		if n := len(c.tags); n < 2 || n > 4 {
			t.Errorf("component %s has %d tags, want 2 to 4", c.name, n)
		}
		if c.typ == "service" {
			services++
		}
		if c.argoCD {
			argo++
		}
		if c.subcomponentOf >= 0 {
			subs++
		}
	}
	n := len(m.components)
	if services < n*55/100 || services > n*65/100 || argo < n*40/100 || argo > n*60/100 || subs == 0 || subs > n/10 {
		t.Errorf("of %d components: %d services, %d with argocd/app-name, %d subcomponents", n, services, argo, subs)
	}
	provided := make([]bool, len(m.apis))
	for _, c := range m.components {
		for _, a := range c.providesAPIs {
			provided[a] = true
		}
	}
	for i, ok := range provided {
		if !ok {
			t.Errorf("API %s has no provider", m.apis[i].name)
		}
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-out", t.TempDir(), "-scale", "0"},
		{"-out", t.TempDir(), "-shard-size", "0"},
		{"-out", t.TempDir(), "extra"},
		{"-out", t.TempDir(), "-openapi-paths", "0"},
	} {
		if err := run(args, io.Discard); err == nil {
			t.Errorf("gencatalog %q: no error", args)
		}
	}
}

// readTree returns every file under dir by slash path.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := fs.WalkDir(os.DirFS(dir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		out[p], err = fs.ReadFile(os.DirFS(dir), p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The shape of a large catalog: OpenAPI definitions of several kB inline, and every API
// and component in one file; still a valid, closed catalog read through its Location.
func TestLargeDefinitionsInOneFile(t *testing.T) {
	dir := generate(t, "-scale", "0.02", "-openapi-paths", "4", "-big-file", "-shard-size", "40")
	byRef, files := parseAll(t, os.DirFS(dir))
	want := defaultCounts.scaled(0.02)
	openapi := 0
	for _, e := range byRef {
		if def, _ := e.Spec["definition"].(string); e.Kind == backstage.KindAPI && e.Type == "openapi" {
			openapi++
			if len(def) < 3000 || !strings.Contains(def, "components:") {
				t.Errorf("%s: definition of %d bytes, want an OpenAPI document of several kB with components", e.Ref, len(def))
			}
		}
	}
	if openapi == 0 {
		t.Errorf("no OpenAPI definitions among %d entities", len(byRef))
	}
	perFile := map[string]int{}
	for name, data := range readTree(t, dir) {
		if n := bytes.Count(data, []byte("\nkind: API\n")) + bytes.Count(data, []byte("\nkind: Component\n")); n > 0 {
			perFile[name] = n
		}
	}
	if len(perFile) != 1 {
		t.Errorf("APIs and components are spread over %d files, want one: %v", len(perFile), perFile)
	}
	for file, n := range perFile {
		if n != want.apis+want.components {
			t.Errorf("%s holds %d APIs and components, want %d", file, n, want.apis+want.components)
		}
	}
	if len(files) < 3 {
		t.Errorf("files read = %v, want the Location, shards of the other kinds and the one file", files)
	}
}

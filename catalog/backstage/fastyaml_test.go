package backstage

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.yaml.in/yaml/v3"
)

// yamlv3Documents is what ParseStream reads from src without the fast path: yaml.v3's Decoder's
// documents, until the end or an error.
func yamlv3Documents(src []byte) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var docs []*yaml.Node
	for {
		doc, err := decodeDocument(dec)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return docs, err
		}
		docs = append(docs, doc)
	}
}

// nodeDiff describes the first difference between two node trees in any field but the comments,
// which nothing reads; "" when there is none.
func nodeDiff(path string, want, got *yaml.Node) string {
	if want == nil || got == nil {
		if want != got {
			return fmt.Sprintf("%s: want %v, got %v", path, want, got)
		}
		return ""
	}
	type fields struct {
		Kind          yaml.Kind
		Style         yaml.Style
		Tag, Value    string
		Anchor        string
		Alias         *yaml.Node
		Line, Column  int
		Content       int
		ContentIsNil  bool
		ShortTag      string
		IndicatedNull bool
	}
	f := func(n *yaml.Node) fields {
		return fields{n.Kind, n.Style, n.Tag, n.Value, n.Anchor, n.Alias, n.Line, n.Column, len(n.Content),
			n.Content == nil, n.ShortTag(), n.Kind == yaml.ScalarNode && isNullNode(n)}
	}
	if w, g := f(want), f(got); w != g {
		return fmt.Sprintf("%s: yaml.v3 %+v, fast path %+v", path, w, g)
	}
	for i := range want.Content {
		if d := nodeDiff(fmt.Sprintf("%s/%d", path, i), want.Content[i], got.Content[i]); d != "" {
			return d
		}
	}
	return ""
}

// checkFastYAML checks the fast path's promise on src: it declines, or it reads the documents
// yaml.v3 reads, node for node. It reports whether the fast path read src.
func checkFastYAML(t testing.TB, name string, src []byte) bool {
	t.Helper()
	docs, ok := parseFastYAML(src)
	if !ok {
		return false
	}
	want, err := yamlv3Documents(src)
	if err != nil {
		t.Fatalf("%s: the fast path read %q, which yaml.v3 rejects: %v", name, src, err)
	}
	if len(docs) != len(want) {
		t.Fatalf("%s: the fast path read %d documents of %q, yaml.v3 %d", name, len(docs), src, len(want))
	}
	for i := range want {
		if d := nodeDiff(fmt.Sprintf("document %d", i+1), want[i], docs[i]); d != "" {
			t.Fatalf("%s: the fast path reads %q differently:\n%s", name, src, d)
		}
	}
	return true
}

// fastYAMLCorpus is every YAML file of the repository (test data, the demo catalog, deployment
// files) and a sample of gencatalog's output (testdata/fastyaml).
func fastYAMLCorpus(t testing.TB) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if ext := filepath.Ext(path); !d.IsDir() && (ext == ".yaml" || ext == ".yml") {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			files[path] = data
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 20 {
		t.Fatalf("only %d YAML files found", len(files))
	}
	return files
}

// fastAccepted are files in the fast path's subset, one or more constructs each: the fast path
// must read them, as yaml.v3 does.
var fastAccepted = []string{
	"a: b\n",
	"a: b",
	"a: b\nc: d\n",
	"---\na: 1\n",
	"--- \na: 1\n",
	"--- # first\na: 1\n---\nb: 2\n--- # third\nc: 3\n",
	"a: 1\n---\nb: 2\n",
	"# comment\n\na: 1 # line comment\n# between\nb: 2\n\n\n# end\n",
	"  a: 1\n  b: 2\n",
	"a:\nb:\n",
	"a: # nothing\nb:   \n",
	"a:\n  b:\n    c: d\n  e: f\ng: h\n",
	"a:\n# comment\n  b: c\n",
	"- a\n- b\n",
	"-\n- \n- x\n",
	"- a: 1\n  b: 2\n- c: 3\n",
	"-   a: 1\n    b: 2\n",
	"-\n  a: 1\n-\n  - x\n",
	"a:\n- b\n- c\nd: e\n",
	"a:\n  - b\n  - c: 1\n    d: 2\n",
	"a:\n  - b:\n    - c\n    - d\n",
	"- a:\n  - b\n",
	"k: v\nlist:\n- x\n-\n- y: z\n  w:\n",
	"\"a\": 1\n'b': 2\n\"c d\" : 3\ne  : 4\n",
	"a: 'it''s'\nb: ''\nc: \"\"\nd: \"x\\\"y\\\\z\"\n",
	"a: \"\\0\\a\\b\\t\\n\\v\\f\\r\\e\\ \\'\\N\\_\\L\\P\"\n",
	"a: \"\\x41\\xe9\\u00e9\\u2603\\U0001F600\\U00000041\\U0010FFFF\"\n",
	"a: 'x\\ny'\n",
	"a: \"  spaced  \"\nb: '  too  '\n",
	"a: b c  d   \n",
	"a: b#c\nd: e #f\n",
	"a: b:c\nd: http://x.example/y?z=1\n",
	"a: -1\nb: -x\nc: .5\nd: 1e3\ne: 0x1F\nf: 0o17\ng: true\nh: False\ni: ~\nj: null\nk: yes\nl: 1_000\nm: .inf\nn: -.Inf\no: .nan\n",
	"<<: x\n1: a\ntrue: b\n~: c\n",
	"a: b[0]\nc: d{e}\nf: g,h\n",
	"tags: [a, b]\nempty: []\nspaced: [ a , 'b' , \"c\" ]\nnone: {}\nbare: [x]\n",
	"tags: [a b, c#, user:default/x, -1, 2.5, true, ~]\n",
	"- [a, b]\n- {}\n- []\n",
	"a: |\n  line 1\n  line 2\nb: c\n",
	"a: |-\n  x\n\n  y\n\n\nb: c\n",
	"a: |+\n  x\n\n\nb: c\n",
	"a: |+\n  x\n",
	"a: | # comment\n  x\n",
	"a: |\n\n  x\n    indented\n   \n  # not a comment\n  ---\nb: |\n    deep\n",
	"a: |\n  x\n      \n",
	"- |\n  a\n- |-\n  b\n",
	"a:\n  - |\n   x\n",
	"a: |\n  x\n---\nb: 1\n",
	"é: ü\n\"ö\": [ä, 'ß']\nx: \"日本\"\n",
	"a: \"b\" # comment\nc: 'd'  \n",
	"key with spaces: value with spaces\n",
	"a:\n  b: 1\n\n\n  c: 2\n",
	"-a: 1\n",
}

// fastDeclined are files outside the fast path's subset, one construct each: the fast path must
// leave them to yaml.v3, valid or not.
var fastDeclined = []string{
	"",
	"# only a comment\n",
	"---\n",
	"a: 1\n---\n",
	"---\n---\na: 1\n",
	"a: 1\n...\n",
	"%YAML 1.2\n---\na: 1\n",
	"--- a: 1\n",
	"--- a\n",
	"a\n",
	"\"a\"\n",
	"[a]\n",
	"{a: 1}\n",
	"a: >\n  folded\n",
	"a: |2\n  x\n",
	"a: |\nb: 1\n",
	"a: |\n",
	"a: |\n  x",
	"a: |\n\n    \n  x\n",
	"a: b\n  c\n",
	"a:\n  b\n",
	"a: 'b\n  c'\n",
	"a: \"b\n  c\"\n",
	"a: \"b\\\n  c\"\n",
	"a: \"\\/\"\n",
	"a: \"\\q\"\n",
	"a: \"\\ud800\"\n",
	"a: \"\\U80000000\"\n",
	"a: \"\\U00110000\"\n",
	"a: {b: 1}\n",
	"a: [b, [c]]\n",
	"a: [b, {c: 1}]\n",
	"a: [b: c]\n",
	"a: [b,]\n",
	"a: [b\n  , c]\n",
	"a: &x 1\nb: *x\n",
	"a: !!str 1\n",
	"a: !x 1\n",
	"? a\n: b\n",
	"a: @b\n",
	"a: `b`\n",
	"a:\tb\n",
	"a: \"\tb\"\n",
	"\ta: b\n",
	"a: b\r\nc: d\r\n",
	"\ufeffa: b\n",
	"a: \xff\n",
	"a: \x00\n",
	"a: \u0085\n",
	"a: b\u2028c\n",
	"- - a\n",
	"a: - b\n",
	"a: b: c\n",
	"a: 'b' c\n",
	"a: 'b'#c\n",
	"a: 1\n- b\n",
	"- a\nb: 1\n",
	"a:\n  - b\n  c: 1\n",
	"a:\n    b: 1\n  c: 2\n",
	"- a\n  - b\n",
	"a: 1\n b: 2\n",
	"  a: 1\nb: 2\n",
	": a\n",
	"a:b\n",
	"- -\n",
	"a: -\n",
	strings.Repeat("k", 1100) + ": v\n",
	strings.Repeat("- ", 300) + "x\n",
	deepMapping(300),
}

// deepMapping is a mapping nested depth deep.
func deepMapping(depth int) string {
	var b strings.Builder
	for i := range depth {
		b.WriteString(strings.Repeat(" ", i) + "a:\n")
	}
	return b.String()
}

// The fast path reads each construct of its subset as yaml.v3 does, and leaves every construct
// outside it to yaml.v3.
func TestFastYAMLReadsItsSubsetAsYAMLv3Does(t *testing.T) {
	for _, src := range fastAccepted {
		if !checkFastYAML(t, "accepted case", []byte(src)) {
			t.Errorf("the fast path declines %q, which is in its subset", src)
		}
	}
	for _, src := range fastDeclined {
		if docs, ok := parseFastYAML([]byte(src)); ok {
			t.Errorf("the fast path reads %q (%d documents); it should leave it to yaml.v3", src, len(docs))
		}
	}
}

// Over every YAML file of the repository and gencatalog's output, the fast path declines or reads
// what yaml.v3 reads; it reads the catalog files it is for.
func TestFastYAMLMatchesYAMLv3OnTheCorpus(t *testing.T) {
	read := 0
	for name, data := range fastYAMLCorpus(t) {
		if checkFastYAML(t, name, data) {
			read++
		} else if strings.Contains(name, "gencatalog") {
			t.Errorf("the fast path declines %s, gencatalog's output", name)
		}
	}
	t.Logf("the fast path read %d files of the corpus", read)
}

// FuzzFastYAMLMatchesYAMLv3 checks the fast path's promise on any file: it declines, or reads the
// documents yaml.v3 reads, node for node.
func FuzzFastYAMLMatchesYAMLv3(f *testing.F) {
	for _, src := range fastAccepted {
		f.Add([]byte(src))
	}
	for _, src := range fastDeclined {
		f.Add([]byte(src))
	}
	for _, data := range fastYAMLCorpus(f) {
		if len(data) < 4096 {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		checkFastYAML(t, "fuzzed", src)
		// Most arbitrary bytes are declined; lines assembled from the subset's pieces mostly are
		// not, and reach its corners.
		checkFastYAML(t, "assembled", assembleYAML(src))
	})
}

// yamlPieces are the contents of lines of the fast path's subset, and of lines near it.
var yamlPieces = []string{
	"a:", "b: c", "c: 1", "d: ~", "e: 'x y'", "f: \"q\\n\\u00e9\"", "g: [a, 'b', c:d]", "h: {}", "i: []",
	"j: |", "k: |-", "l: |+", "m: | # c", "- ", "-", "- x", "- y: z", "- [a]", "- |", "- 'q': r",
	"text", "  text", "# comment", "", " ", "---", "--- # c", "n: x #c", "o: x#c", "\"p\": 1",
	"'q' : 2", "r: -1", "s: true", "t: é", "u: a b  ", "<<: v", "w: 'it''s'", "x: [ ]", "y: \"\"",
	"- - a", "z: a: b", "? a", "..."}

// assembleYAML builds a file from choices: each pair of bytes chooses a line's indentation and
// its content.
func assembleYAML(choices []byte) []byte {
	var b []byte
	for i := 0; i+1 < len(choices); i += 2 {
		b = append(b, strings.Repeat(" ", int(choices[i]%7))...)
		b = append(b, yamlPieces[int(choices[i+1])%len(yamlPieces)]...)
		b = append(b, '\n')
	}
	return b
}

// Files assembled at random from the subset's pieces: the fast path reads them as yaml.v3 does,
// and reads many of them.
func TestFastYAMLMatchesYAMLv3OnAssembledFiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	read := 0
	const files = 20000
	for range files {
		choices := make([]byte, 2*(1+rng.IntN(12)))
		for i := range choices {
			choices[i] = byte(rng.IntN(256))
			if i%2 == 0 {
				choices[i] = byte(2 * rng.IntN(3)) // indentations of 0, 2 and 4, mostly
			}
		}
		if checkFastYAML(t, "assembled", assembleYAML(choices)) {
			read++
		}
	}
	if read < files/50 {
		t.Errorf("the fast path read %d of %d assembled files; the test reaches too little of it", read, files)
	}
	t.Logf("the fast path read %d of %d assembled files", read, files)
}

// parseBoth parses data with and without the fast path.
func parseBoth(t *testing.T, data []byte, opts ParseOptions) (fast, slow ParseResult) {
	t.Helper()
	parse := func(fastBytes int) ParseResult {
		var docs []Document
		res, err := parseStream("file.yaml", bytes.NewReader(data), fuzzResolve, opts, func(d Document) error {
			docs = append(docs, d)
			return nil
		}, fastBytes)
		if err != nil {
			t.Fatal(err)
		}
		res.Documents = docs
		return res
	}
	return parse(fastPathBytes), parse(0)
}

func fuzzResolve(target string) ([]byte, error) { return []byte("a: 1\n"), nil }

// A file parses the same with the fast path as without it: documents, their indexes, errors and
// entities, on one goroutine or several, with or without a bound on errors.
func TestParseIsTheSameWithAndWithoutTheFastPath(t *testing.T) {
	corpus := fastYAMLCorpus(t)
	for _, src := range append(fastAccepted, fastDeclined...) {
		corpus[fmt.Sprintf("case %q", src)] = []byte(src)
	}
	invalid := "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: x\nspec:\n  owner: 1\n  owner: [a]\n"
	corpus["invalid documents"] = []byte(strings.Repeat(invalid+"---\n", 5) + "a: |\n  x\n---\n- 1\n")
	fastRead := 0
	for name, data := range corpus {
		if _, ok := parseFastYAML(data); ok {
			fastRead++
		}
		for _, opts := range []ParseOptions{{Workers: 1}, {Workers: 4}, {Workers: 1, MaxErrors: 3}, {Workers: 3, MaxErrors: 3}} {
			fast, slow := parseBoth(t, data, opts)
			if d := gocmp.Diff(slow, fast, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("%s, %+v: parsed differently with the fast path (-without +with):\n%s", name, opts, d)
			}
		}
	}
	if fastRead < len(fastAccepted) {
		t.Errorf("the fast path read %d of the files; want at least the %d accepted cases", fastRead, len(fastAccepted))
	}
}

// A reader's failure is reported as before when the fast path might have read the file: after
// the documents read before it.
func TestParseStreamReportsAReadersFailureWithTheFastPath(t *testing.T) {
	cause := errors.New("too large")
	doc := "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-a\nspec:\n  type: team\n  children: []\n"
	for _, workers := range []int{1, 4} {
		var names []string
		in := &failingReader{data: doc + "---\n" + doc + "---\n" + doc[:40], err: cause}
		res, err := ParseStream("c.yaml", in, nil, ParseOptions{Workers: workers}, func(d Document) error {
			names = append(names, d.Entity.Metadata.Name)
			return nil
		})
		if !errors.Is(err, cause) || res.FileError != nil || len(names) > 2 {
			t.Errorf("workers %d: err %v, file error %v, %d documents; want the reader's error after at most 2", workers, err, res.FileError, len(names))
		}
	}
}

// fastShard is a shard as gencatalog writes them: the sample's shards, repeated to about 200 kB.
func fastShard(b *testing.B) []byte {
	var parts [][]byte
	for _, name := range []string{"gencatalog-shard-0002.yaml", "gencatalog-shard-0001.yaml"} {
		data, err := os.ReadFile(filepath.Join("testdata", "fastyaml", name))
		if err != nil {
			b.Fatal(err)
		}
		parts = append(parts, bytes.TrimSuffix(data, []byte("\n")))
	}
	one := bytes.Join(parts, []byte("\n---\n"))
	shard := one
	for len(shard) < 200_000 {
		shard = append(append(append([]byte(nil), shard...), "\n---\n"...), one...)
	}
	return append(shard, '\n')
}

// BenchmarkParseShard parses a gencatalog shard on one goroutine, as yaml.v3 alone read it and
// with the fast path.
func BenchmarkParseShard(b *testing.B) {
	shard := fastShard(b)
	if _, ok := parseFastYAML(shard); !ok {
		b.Fatal("the fast path declines the shard")
	}
	for _, bc := range []struct {
		name      string
		fastBytes int
	}{{"yamlv3", 0}, {"fast", fastPathBytes}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(shard)))
			b.ReportAllocs()
			for b.Loop() {
				n := 0
				_, err := parseStream("shard.yaml", bytes.NewReader(shard), nil, ParseOptions{Workers: 1}, func(d Document) error {
					n++
					return nil
				}, bc.fastBytes)
				if err != nil || n == 0 {
					b.Fatal(err, n)
				}
			}
		})
	}
}

// BenchmarkDecodeShard is the YAML part of BenchmarkParseShard: reading the shard into nodes.
func BenchmarkDecodeShard(b *testing.B) {
	shard := fastShard(b)
	b.Run("yamlv3", func(b *testing.B) {
		b.SetBytes(int64(len(shard)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := yamlv3Documents(shard); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fast", func(b *testing.B) {
		b.SetBytes(int64(len(shard)))
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := fastDocuments(shard); !ok {
				b.Fatal("declined")
			}
		}
	})
}

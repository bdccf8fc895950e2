package catalog_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/catalog/sources"
)

// manyFiles writes a location of n files of three components each, pulled in by a Location
// entity, with a duplicate and an invalid document on the way.
func manyFiles(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{t: t, dir: dir}
	f.write("catalog-info.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: shards}\nspec: {targets: [./shards/*.yaml]}\n")
	for i := range n {
		var docs []string
		for j := range 3 {
			docs = append(docs, component(fmt.Sprintf("c-%03d-%d", i, j)))
		}
		switch i {
		case 7:
			docs = append(docs, component("c-001-1")) // defined twice
		case 11:
			docs = append(docs, "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: Not Valid}\nspec: {type: service, owner: team-a, lifecycle: production}\n")
		}
		f.write(fmt.Sprintf("shards/%03d.yaml", i), strings.Join(docs, "---\n"))
	}
	return dir
}

func component(name string) string {
	return "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: " + name + "}\nspec: {type: service, owner: team-a, lifecycle: production}\n"
}

func openDir(t *testing.T, dir string) catalog.Snapshot {
	t.Helper()
	r := &sources.Files{}
	spec, err := r.Check(catalog.LocationSpec{Type: catalog.LocationFile, Target: filepath.Join(dir, "catalog-info.yaml")})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := r.Open(context.Background(), spec, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = snap.Close() })
	return snap
}

// A location's entities can be handed over a few files at a time (an apply on PostgreSQL writes
// them as they come): the pieces, in order, are what collecting it whole gives, with the same
// errors, and no piece holds the whole location.
func TestStreamedCollectionIsTheCollectionInPieces(t *testing.T) {
	dir := manyFiles(t, 120)
	whole, err := catalog.Collect(context.Background(), openDir(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	var pieces [][]string
	var streamed []string
	var bodies []string
	rest, err := catalog.CollectStream(context.Background(), openDir(t, dir), 0, func(es []*backstage.Entity, bs []string) error {
		refs := described(es)
		for i, e := range es {
			if bs[i] == "" {
				t.Errorf("%s came without its document", e.Ref)
			}
		}
		pieces = append(pieces, refs)
		streamed = append(streamed, refs...)
		bodies = append(bodies, bs...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := described(whole.Entities)
	if len(want) != 1+120*3 { // the Location entity and every component once
		t.Fatalf("collected %d entities, want %d", len(want), 1+120*3)
	}
	if d := cmp.Diff(want, streamed); d != "" {
		t.Errorf("streamed entities differ from the whole collection (-whole +streamed):\n%s", d)
	}
	if len(pieces) < 3 {
		t.Errorf("%d pieces: the location was handed over (nearly) whole", len(pieces))
	}
	for i, p := range pieces {
		if len(p) > len(want)/2 {
			t.Errorf("piece %d holds %d of %d entities", i, len(p), len(want))
		}
	}
	if rest.Entities != nil {
		t.Errorf("the streamed collection kept %d entities", len(rest.Entities))
	}
	if d := cmp.Diff(whole.Errors, rest.Errors); d != "" || whole.ErrorCount != rest.ErrorCount || whole.ErrorCount != 2 {
		t.Errorf("errors differ (%d, %d; want 2 each):\n%s", whole.ErrorCount, rest.ErrorCount, d)
	}
	if whole.Files != rest.Files || rest.Files != 121 {
		t.Errorf("files read: whole %d, streamed %d, want 121", whole.Files, rest.Files)
	}
}

// A failure of the receiver stops the collection at once and is returned as it is.
func TestStreamedCollectionStopsAtTheReceiversError(t *testing.T) {
	dir := manyFiles(t, 120)
	stop := errors.New("the database refused")
	calls := 0
	_, err := catalog.CollectStream(context.Background(), openDir(t, dir), 0, func([]*backstage.Entity, []string) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("got %v after %d calls, want the receiver's error after 1", err, calls)
	}
}

// pipeSnapshot is a location of one file whose content arrives through a pipe, as a large file
// does from disk: collection reads it as it is written.
type pipeSnapshot struct {
	name string
	r    io.ReadCloser
}

func (s *pipeSnapshot) Revision() string { return "" }
func (s *pipeSnapshot) Unchanged() bool  { return false }
func (s *pipeSnapshot) Sealed() bool     { return false }
func (s *pipeSnapshot) Files() []string  { return []string{s.name} }
func (s *pipeSnapshot) Close() error     { return nil }
func (s *pipeSnapshot) ReadFile(context.Context, string) ([]byte, error) {
	return nil, errors.New("read as a stream only")
}
func (s *pipeSnapshot) Resolve(_, target string) (string, error) { return target, nil }
func (s *pipeSnapshot) Glob(pattern string) ([]string, error)    { return []string{pattern}, nil }
func (s *pipeSnapshot) OpenFile(context.Context, string) (io.ReadCloser, error) {
	return s.r, nil
}

// A large file's documents reach the receiver while the file is still being read: an apply
// writes the first ones while the rest are parsed, instead of after the whole file.
func TestALargeFilesDocumentsAreHandedOverWhileItIsRead(t *testing.T) {
	const docs = 16 * catalog.StreamDocs
	pr, pw := io.Pipe()
	var written atomic.Int64 // documents the pipe has taken so far
	go func() {
		for i := range docs {
			if _, err := io.WriteString(pw, "---\n"+component(fmt.Sprintf("c-%05d", i))); err != nil {
				return
			}
			written.Add(1)
		}
		_ = pw.Close()
	}()
	defer pr.Close()
	var streamed []string
	writtenAtFirst := int64(-1)
	_, err := catalog.CollectStreamMidFile(context.Background(), &pipeSnapshot{name: "big.yaml", r: pr}, 0, func(es []*backstage.Entity, _ []string) error {
		if writtenAtFirst < 0 {
			writtenAtFirst = written.Load()
		}
		for _, e := range es {
			streamed = append(streamed, e.Metadata.Name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(streamed) != docs || streamed[0] != "c-00000" || streamed[docs-1] != fmt.Sprintf("c-%05d", docs-1) {
		t.Fatalf("streamed %d entities (first %q), want %d in the file's order", len(streamed), streamed[0], docs)
	}
	// The pipe takes a document only as the parser reads it, and the parser reads ahead of the
	// receiver by a bounded number of documents: far less than the file.
	if writtenAtFirst >= docs/2 {
		t.Errorf("the first entities were handed over once %d of %d documents had been read; want them while the file was still being read", writtenAtFirst, docs)
	}
}

// Handing a large file over while it is parsed gives the same entities, in the same order, and
// the same errors (a duplicate and an invalid document inside the large file) as collecting it whole.
func TestMidFileCollectionIsTheCollectionInPieces(t *testing.T) {
	dir := manyFiles(t, 20)
	var docs []string
	for i := range 3*catalog.StreamDocs + 17 {
		switch i {
		case 700:
			docs = append(docs, component("c-001-1")) // defined in a shard too
		case 1200:
			docs = append(docs, "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: Not Valid}\nspec: {type: service, owner: team-a, lifecycle: production}\n")
		default:
			docs = append(docs, component(fmt.Sprintf("big-%05d", i)))
		}
	}
	(&fixture{t: t, dir: dir}).write("shards/zz-big.yaml", strings.Join(docs, "---\n"))
	whole, err := catalog.Collect(context.Background(), openDir(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	var streamed []string
	pieces := 0
	rest, err := catalog.CollectStreamMidFile(context.Background(), openDir(t, dir), 0, func(es []*backstage.Entity, bs []string) error {
		pieces++
		streamed = append(streamed, described(es)...)
		for i, e := range es {
			if bs[i] == "" {
				t.Errorf("%s came without its document", e.Ref)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := described(whole.Entities)
	if d := cmp.Diff(want, streamed); d != "" {
		t.Errorf("streamed entities differ from the whole collection (-whole +streamed):\n%s", d)
	}
	if pieces < 4 {
		t.Errorf("%d pieces: the large file was not handed over in parts", pieces)
	}
	// A file taken in parts has its errors found part by part: the same errors, in the order an
	// apply reports them (by file, document and line).
	byPlace := func(a, b backstage.ValidationError) int {
		if c := strings.Compare(a.Source, b.Source); c != 0 {
			return c
		}
		if a.Document != b.Document {
			return a.Document - b.Document
		}
		return a.Line - b.Line
	}
	slices.SortStableFunc(whole.Errors, byPlace)
	slices.SortStableFunc(rest.Errors, byPlace)
	if d := cmp.Diff(whole.Errors, rest.Errors); d != "" || whole.ErrorCount != rest.ErrorCount || whole.ErrorCount != 4 {
		t.Errorf("errors differ (%d, %d; want 4 each):\n%s", whole.ErrorCount, rest.ErrorCount, d)
	}
	if whole.Files != rest.Files || rest.Files != 22 {
		t.Errorf("files read: whole %d, streamed %d, want 22", whole.Files, rest.Files)
	}
}

// described names each entity with the file it came from and its hash: what must be the same
// whichever way the files were collected.
func described(es []*backstage.Entity) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Ref.String() + " " + e.Source + " " + e.Hash
	}
	return out
}

// Collecting reads files in parallel and finds repeated entities after, yet lists the errors in
// file, document and line order, as an apply records them (catalog validate printed a repeat in
// document 3 after document 4's error).
func TestCollectedErrorsAreListedInFileOrder(t *testing.T) {
	dir := t.TempDir()
	f := &fixture{t: t, dir: dir}
	f.write("catalog-info.yaml", "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: shards}\nspec: {targets: [./shards/*.yaml]}\n")
	bad := func(name string) string {
		return "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: " + name + "}\nspec: {type: service, lifecycle: production}\n"
	}
	for i := range 40 {
		ok := component(fmt.Sprintf("ok-%02d", i))
		docs := []string{bad(fmt.Sprintf("late-%02d", i)), ok, ok, bad(fmt.Sprintf("later-%02d", i))} // the third repeats the second
		if i%3 == 0 {
			docs = append([]string{"kind: [broken\n"}, docs...) // a syntax error before them
		}
		f.write(fmt.Sprintf("shards/%02d.yaml", i), strings.Join(docs, "---\n"))
	}
	c, err := catalog.CollectWith(context.Background(), openDir(t, dir), 1000)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Errors) < 80 {
		t.Fatalf("%d errors, want at least 80", len(c.Errors))
	}
	inOrder := slices.IsSortedFunc(c.Errors, func(a, b backstage.ValidationError) int {
		if a.Source != b.Source {
			return strings.Compare(a.Source, b.Source)
		}
		if a.Document != b.Document {
			return a.Document - b.Document
		}
		return a.Line - b.Line
	})
	if !inOrder {
		var lines []string
		for _, e := range c.Errors[:10] {
			lines = append(lines, e.Error())
		}
		t.Errorf("errors are not in file order:\n%s", strings.Join(lines, "\n"))
	}
}

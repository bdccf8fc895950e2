package backstage

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// countingReader counts the bytes read from it (read by ParseStream's reading goroutine while
// the test looks).
type countingReader struct {
	r    io.Reader
	read atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read.Add(int64(n))
	return n, err
}

// A large file is parsed as it is read: each document is handed over once it is read and
// validated, long before the end of the file, and what is handed over is what Parse finds. (A
// file of up to fastPathBytes is read whole first, for the fast path: this one is made larger
// than a lowered bound.)
func TestParseStreamHandsOverEachDocumentAsItIsRead(t *testing.T) {
	var b strings.Builder
	for i := range 500 {
		fmt.Fprintf(&b, "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: c%d\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n", i)
	}
	b.WriteString("---\nkind: Component\nmetadata: {name: broken}\n")
	data := b.String()

	in := &countingReader{r: strings.NewReader(data)}
	var got []Document
	var readAtFirst int64
	res, err := parseStream("components.yaml", in, nil, ParseOptions{}, func(d Document) error {
		if len(got) == 0 {
			readAtFirst = in.read.Load()
		}
		got = append(got, d)
		return nil
	}, 1<<10)
	if err != nil {
		t.Fatal(err)
	}
	if readAtFirst == 0 || readAtFirst > int64(len(data)/10) {
		t.Errorf("the first document was handed over after %d of %d bytes were read; want it before the file is read", readAtFirst, len(data))
	}
	want := Parse("components.yaml", []byte(data), nil)
	if diff := cmp.Diff(want.Documents, got); diff != "" {
		t.Errorf("documents differ from Parse's (-Parse +ParseStream):\n%s", diff)
	}
	if len(res.Documents) != 0 || res.ErrorCount() != 0 {
		t.Errorf("the result keeps documents or errors: %d documents, %d errors", len(res.Documents), res.ErrorCount())
	}
	// Lines count from the start of the file, across documents: the broken document starts on
	// the file's last line but one.
	last, line := got[len(got)-1], strings.Count(data, "\n")-1
	if len(last.Errors) == 0 || last.Errors[0].Line != line || last.Errors[0].Document != 501 {
		t.Errorf("the broken last document's errors: %v; want them from document 501, line %d", last.Errors, line)
	}
}

// failingReader returns its data, then fails.
type failingReader struct {
	data string
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.data == "" {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

// A reader that fails (a file over its size bound, a broken connection) stops the parse with its
// own error, not a YAML syntax error of the file; the documents before it were handed over.
func TestParseStreamStopsWithTheReadersError(t *testing.T) {
	cause := errors.New("catalog-info.yaml is larger than 100 bytes")
	doc := "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-a\nspec:\n  type: team\n  children: []\n"
	in := &failingReader{data: doc + "---\n" + doc[:40], err: cause}
	n := 0
	res, err := ParseStream("catalog-info.yaml", in, nil, ParseOptions{}, func(Document) error { n++; return nil })
	if !errors.Is(err, cause) {
		t.Fatalf("ParseStream = %v; want the reader's error", err)
	}
	if res.FileError != nil {
		t.Errorf("a reader's failure is reported as the file's syntax error: %v", res.FileError)
	}
	if n > 1 {
		t.Errorf("%d documents handed over; want at most the complete first one", n)
	}
}

// When yield refuses a document, ParseStream stops at once with yield's error, on one goroutine
// or several, and leaves nothing running: the documents after it are not handed over.
func TestParseStreamStopsWhenYieldFails(t *testing.T) {
	var b strings.Builder
	for i := range 200 {
		fmt.Fprintf(&b, "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: c%d\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n", i)
	}
	refused := errors.New("no room for more")
	for _, workers := range []int{1, 4} {
		var seen []string
		_, err := ParseStream("c.yaml", strings.NewReader(b.String()), nil, ParseOptions{Workers: workers}, func(d Document) error {
			seen = append(seen, d.Entity.Metadata.Name)
			if len(seen) == 10 {
				return refused
			}
			return nil
		})
		if !errors.Is(err, refused) || len(seen) != 10 || seen[9] != "c9" {
			t.Errorf("workers %d: err %v after %d documents (last %q); want yield's error after the tenth, c9", workers, err, len(seen), seen[len(seen)-1])
		}
	}
}

// A syntax error stops the stream where it is, as on one goroutine: the documents before it are
// handed over in order, none after it, and the file error names the broken document.
func TestParseStreamStopsAtASyntaxErrorOnEveryWorkerCount(t *testing.T) {
	doc := "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: c%d\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"
	var b strings.Builder
	for i := range 50 {
		fmt.Fprintf(&b, doc, i)
	}
	b.WriteString("---\nmetadata: [unclosed\n")
	for i := 50; i < 60; i++ {
		fmt.Fprintf(&b, doc, i)
	}
	for _, workers := range []int{1, 2, 8} {
		res := ParseWith("c.yaml", []byte(b.String()), nil, ParseOptions{Workers: workers})
		if len(res.Documents) != 50 || res.Documents[49].Entity.Metadata.Name != "c49" || res.FileError == nil || res.FileError.Document != 51 {
			t.Errorf("workers %d: %d documents, file error %+v; want the 50 before the broken document 51 and its error", workers, len(res.Documents), res.FileError)
		}
	}
}

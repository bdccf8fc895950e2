package backstage

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/portside-dev/portside/errs"
)

// ValidationError is one problem with one document of a catalog file. It names the file, the
// document, the line and the field, so whoever wrote the file can find and fix it.
type ValidationError struct {
	Source   string // file path or URL the document came from
	Document int    // 1-based index of the YAML document in the file; 0 when about the whole file
	Line     int    // 1-based line of the offending YAML node (the value when present, else the mapping that lacks the field); 0 when unknown
	Field    string // dotted path such as "spec.owner", "metadata.tags[2]", "metadata.annotations[backstage.io/x]"; "" for document-level problems
	Ref      string // the entity's canonical ref when it could be determined
	Message  string // what was wrong and what was expected
}

// Error renders the problem on one line, e.g.
// `services/a/catalog-info.yaml: document 2, line 14: spec.owner: expected a non-empty string, got 42`.
func (e ValidationError) Error() string {
	var where []string
	if e.Document > 0 {
		where = append(where, "document "+strconv.Itoa(e.Document))
	}
	if e.Line > 0 {
		where = append(where, "line "+strconv.Itoa(e.Line))
	}
	parts := make([]string, 0, 4)
	if e.Source != "" {
		parts = append(parts, e.Source)
	}
	if len(where) > 0 {
		parts = append(parts, strings.Join(where, ", "))
	}
	if e.Field != "" {
		parts = append(parts, e.Field)
	}
	parts = append(parts, e.Message)
	return strings.Join(parts, ": ")
}

// Document is one YAML document of a catalog file, with the entity it defines or the reasons it
// defines none.
type Document struct {
	Index int // 1-based position in the file; empty documents count too, as in Backstage
	Line  int // line where the document's content starts
	// Ref is the entity's identity whenever kind, metadata.name and metadata.namespace are
	// readable, even if the document is otherwise invalid: ingestion uses it to keep the last good
	// version of that entity.
	Ref    Ref
	Entity *Entity // nil when the document has any error
	Errors []ValidationError
}

// ParseResult is what Parse found in one file.
type ParseResult struct {
	Documents []Document
	// FileError is set when the file could not be read to its end (a YAML syntax error); the
	// documents before it are still in Documents.
	FileError *ValidationError
	// OmittedErrors counts the errors found beyond ParseOptions.MaxErrors: counted, not kept.
	OmittedErrors int
	// Unidentified counts the invalid documents left out of Documents once MaxErrors was reached
	// because they have no identity (no readable kind and name): nothing in them can be kept or
	// reported, and holding them would let a file of empty documents grow without bound.
	Unidentified int
}

// ErrorCount is the number of errors found, kept or not.
func (r ParseResult) ErrorCount() int {
	n := r.OmittedErrors
	if r.FileError != nil {
		n++
	}
	for _, d := range r.Documents {
		n += len(d.Errors)
	}
	return n
}

// ParseOptions bound what Parse keeps of a file.
type ParseOptions struct {
	// MaxErrors is how many document errors the result keeps; the rest are counted in
	// OmittedErrors. 0 keeps every error. A file error (where reading stopped) is always kept.
	MaxErrors int
	// Workers is how many goroutines ParseStream validates documents on while it reads the next
	// ones; 0 is one per core (GOMAXPROCS), 1 does everything on the caller's goroutine.
	Workers int
}

// Errors returns every error of the file (FileError first, then per document), in order.
func (r ParseResult) Errors() []ValidationError {
	var out []ValidationError
	if r.FileError != nil {
		out = append(out, *r.FileError)
	}
	for _, d := range r.Documents {
		out = append(out, d.Errors...)
	}
	return out
}

// Resolver reads what a placeholder ($text, $json, $yaml) points at, relative to the document's
// source. A nil Resolver makes every placeholder an error.
type Resolver func(target string) ([]byte, error)

// Parse reads a multi-document catalog-info.yaml and validates each document the way Backstage's
// catalog does, collecting every problem rather than stopping at the first. It never panics.
func Parse(source string, data []byte, resolve Resolver) ParseResult {
	return ParseWith(source, data, resolve, ParseOptions{})
}

// ParseWith is Parse within the bounds of opts.
func ParseWith(source string, data []byte, resolve Resolver, opts ParseOptions) ParseResult {
	var docs []Document
	res, _ := ParseStream(source, bytes.NewReader(data), resolve, opts, func(d Document) error {
		docs = append(docs, d)
		return nil
	})
	res.Documents = docs
	return res
}

// ParseStream is ParseWith over a reader, document by document: each document is handed to yield
// as soon as it is read and validated, and none is kept, so a large file is never in memory whole
// (as text or parsed). (A file of up to fastPathBytes is: it is read whole first, for the fast
// path of fastyaml.go.) The result has everything but Documents. It returns an error, and stops,
// only when r fails (a file over its size bound, an I/O error) or yield does; the documents
// yielded until then were read before the failure.
func ParseStream(source string, r io.Reader, resolve Resolver, opts ParseOptions, yield func(Document) error) (ParseResult, error) {
	return parseStream(source, r, resolve, opts, yield, fastPathBytes)
}

// parseStream is ParseStream reading files of up to fastBytes bytes with the fast path.
func parseStream(source string, r io.Reader, resolve Resolver, opts ParseOptions, yield func(Document) error, fastBytes int) (ParseResult, error) {
	workers := opts.Workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	dec, in := openDocuments(r, fastBytes)
	if workers <= 1 {
		var s streamState
		for index := 1; ; index++ {
			node, stop := s.next(source, index, dec, in)
			if stop {
				return s.res, s.err
			}
			if node == nil {
				continue
			}
			if err := s.emit(parseDocument(source, index, node, resolve), opts, yield); err != nil {
				return s.res, err
			}
		}
	}
	return parseConcurrently(source, dec, in, resolve, opts, workers, yield)
}

// decodeFunc returns a file's next document, as decodeDocument does.
type decodeFunc func() (*yaml.Node, error)

// openDocuments returns a reader of r's documents, and the reader whose failure ends them. A file
// of at most fastBytes bytes is read whole and, when it is in the fast path's subset
// (fastyaml.go), parsed by it; any other file is decoded by yaml.v3 as it is read, from the bytes
// read so far and then the rest, as though nothing had been read.
func openDocuments(r io.Reader, fastBytes int) (decodeFunc, *readFailure) {
	head, err := io.ReadAll(io.LimitReader(r, int64(fastBytes)+1))
	if err == nil && len(head) <= fastBytes {
		if docs, ok := fastDocuments(head); ok {
			return func() (*yaml.Node, error) {
				if len(docs) == 0 {
					return nil, io.EOF
				}
				doc := docs[0]
				docs[0], docs = nil, docs[1:] // the document is the reader's now
				return doc, nil
			}, &readFailure{}
		}
	}
	rest := r
	if err != nil {
		// The reader failed: yaml.v3 meets the failure after what was read, as it would have.
		rest = errorReader{err}
	}
	in := &readFailure{r: &directiveReader{br: bufio.NewReader(io.MultiReader(bytes.NewReader(head), rest))}}
	dec := yaml.NewDecoder(in)
	return func() (*yaml.Node, error) { return decodeDocument(dec) }, in
}

// yaml.v3 reads YAML 1.1 documents and refuses a "%YAML 1.2" directive ("found incompatible YAML
// document"), which Backstage's YAML library (a 1.2 parser) accepts, and which this package reads
// as 1.2 anyway (scalars resolve by 1.2's core schema: see resolveScalar). So a %YAML directive
// naming another 1.x version is read as naming 1.1, on its own line: nothing else of the file,
// nor any line number, changes. A directive line starts at its line's first column, before a
// document's "---".

// rewriteDirective is line, or line with the version of its %YAML 1.x directive made 1.1.
func rewriteDirective(line []byte) []byte {
	rest, ok := bytes.CutPrefix(line, []byte("%YAML"))
	if !ok {
		return line
	}
	fields := bytes.Fields(rest)
	if len(fields) == 0 || !bytes.HasPrefix(fields[0], []byte("1.")) || bytes.Equal(fields[0], []byte("1.1")) {
		return line // none, or one yaml.v3 reads or refuses as it should (2.0)
	}
	at := len("%YAML") + bytes.Index(rest, fields[0])
	return slices.Concat(line[:at], []byte("1.1"), line[at+len(fields[0]):])
}

// directiveReader reads br with its %YAML directive lines rewritten (see above): what yaml.v3
// decodes, every file the fast path does not read (larger than it reads whole, or outside its
// subset, as a file with a directive is).
type directiveReader struct {
	br      *bufio.Reader
	pending []byte
	midLine bool // the next read goes on with a line longer than br's buffer
}

func (d *directiveReader) Read(p []byte) (int, error) {
	for len(d.pending) == 0 {
		line, err := d.br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			if !d.midLine {
				line = rewriteDirective(line)
			}
			d.pending, d.midLine = line, true
			break
		}
		if len(line) > 0 {
			if !d.midLine {
				line = rewriteDirective(line)
			}
			d.pending, d.midLine = line, false
		}
		if err != nil && len(d.pending) == 0 {
			return 0, err
		}
		if err != nil {
			break
		}
	}
	n := copy(p, d.pending)
	d.pending = d.pending[n:]
	return n, nil
}

// errorReader fails with err.
type errorReader struct{ err error }

func (e errorReader) Read([]byte) (int, error) { return 0, e.err }

// streamState is what ParseStream keeps while it reads: the result so far, the errors kept of
// MaxErrors, and the error that ended the stream.
type streamState struct {
	res  ParseResult
	kept int
	err  error
}

// next decodes the document at index. It returns its root node, nil for a null document (which
// Backstage skips silently: a trailing ---, a comment-only part), or stop when the stream ended:
// at its end, at a syntax error (res.FileError) or when the reader failed (err).
func (s *streamState) next(source string, index int, decode decodeFunc, in *readFailure) (node *yaml.Node, stop bool) {
	doc, err := decode()
	switch {
	case in.err != nil:
		s.err = in.err
		return nil, true
	case errors.Is(err, io.EOF):
		return nil, true
	case err != nil:
		fe := syntaxError(source, index, err)
		s.res.FileError = &fe
		return nil, true
	case len(doc.Content) == 0 || isNullNode(doc.Content[0]):
		return nil, false
	}
	return doc.Content[0], false
}

// emit applies MaxErrors to a parsed document and hands it to yield.
func (s *streamState) emit(d Document, opts ParseOptions, yield func(Document) error) error {
	if n := len(d.Errors); n > 0 && opts.MaxErrors > 0 {
		if room := max(opts.MaxErrors-s.kept, 0); n > room {
			s.res.OmittedErrors += n - room
			d.Errors = slices.Clip(d.Errors[:room])
			if room == 0 {
				d.Errors = nil
			}
		}
		s.kept += len(d.Errors)
		if d.Entity == nil && d.Ref.IsZero() && len(d.Errors) == 0 {
			s.res.Unidentified++
			return nil
		}
	}
	return yield(d)
}

// parseConcurrently is ParseStream on several goroutines: one reads and decodes the YAML (it must
// be read in order), workers turn the decoded documents into validated Documents (as much work
// again as the decoding), and the caller's goroutine hands them to yield in the file's order. A
// Backstage-sized file of 15 MB is one document stream, so its files cannot be spread over the
// cores as a catalog of many files is. At most a few documents per worker are in flight, so
// memory stays that of the sequential parse. Resolve is called by one worker at a time.
func parseConcurrently(source string, dec decodeFunc, in *readFailure, resolve Resolver, opts ParseOptions,
	workers int, yield func(Document) error) (ParseResult, error) {
	type item struct {
		index int
		node  *yaml.Node
		done  chan Document // the parsed document, from a worker
	}
	var s streamState
	var mu sync.Mutex
	serialResolve := resolve
	if resolve != nil {
		serialResolve = func(target string) ([]byte, error) {
			mu.Lock()
			defer mu.Unlock()
			return resolve(target)
		}
	}
	ordered := make(chan item, 4*workers) // bounds the documents in flight
	jobs := make(chan item)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the reader; s.res.FileError and s.err are its until ordered is closed
		defer wg.Done()
		defer close(jobs)
		defer close(ordered)
		for index := 1; ; index++ {
			node, end := s.next(source, index, dec, in)
			if end {
				return
			}
			if node == nil {
				continue
			}
			it := item{index: index, node: node, done: make(chan Document, 1)}
			select {
			case ordered <- it:
			case <-stop:
				return
			}
			select {
			case jobs <- it:
			case <-stop:
				return
			}
		}
	}()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range jobs {
				it.done <- parseDocument(source, it.index, it.node, serialResolve)
			}
		}()
	}
	var err error
	for it := range ordered {
		if err = s.emit(<-it.done, opts, yield); err != nil {
			close(stop)
			break
		}
	}
	wg.Wait() // every goroutine is gone before the result is read or returned
	if err != nil {
		return s.res, err
	}
	return s.res, s.err
}

// readFailure remembers the first error of its reader other than io.EOF: the YAML decoder would
// report it as a syntax error of the file, where it is the reader's (a size bound, I/O).
type readFailure struct {
	r   io.Reader
	err error
}

func (f *readFailure) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && f.err == nil {
		f.err = err
	}
	return n, err
}

// decodeDocument reads the next document. yaml.v3 still has inputs on which it panics instead of
// failing; such a file is reported as unreadable rather than taking the process down.
func decodeDocument(dec *yaml.Decoder) (doc *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			doc, err = nil, errors.New("yaml: the YAML parser could not read this file")
		}
	}()
	var n yaml.Node
	if err := dec.Decode(&n); err != nil {
		return nil, err
	}
	return &n, nil
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlParserProblems are the problems yaml.v3's parser (as opposed to its scanner) reports. For
// these it prints the 0-based line where the enclosing construct starts, one less than the line
// a reader counts.
var yamlParserProblems = []string{
	"did not find expected <stream-start>",
	"did not find expected <document start>",
	"found undefined tag handle",
	"did not find expected node content",
	"did not find expected '-' indicator",
	"did not find expected key",
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"found duplicate %YAML directive",
	"found incompatible YAML document",
	"found duplicate %TAG directive",
}

func syntaxError(source string, index int, err error) ValidationError {
	msg := err.Error()
	line := 0
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
		if slices.Contains(yamlParserProblems, msg) {
			line++
		}
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	return ValidationError{Source: source, Document: index, Line: line,
		Message: "YAML syntax error: " + msg + "; nothing after it in this file was read"}
}

// maxAliasExpansion bounds how many values YAML aliases may add to one document, so a small file
// cannot expand into billions of values (the "billion laughs" attack). Backstage's YAML library
// has a similar guard; real catalog files use aliases sparingly, if at all.
const maxAliasExpansion = 100_000

// maxDocumentSize bounds the size of one document once aliases and placeholders are expanded
// (roughly its size as JSON), so that an alias of a long string, or of a placeholder, cannot make
// an entity too large to store. A large embedded API definition is a few megabytes.
const maxDocumentSize = 32 << 20

// vkind is the JSON type of a value read from YAML.
type vkind uint8

const (
	vNull vkind = iota
	vBool
	vNumber
	vString
	vList
	vMap
	// vBroken marks a value whose problem was already reported, so later checks stay quiet about it.
	vBroken
)

// value is a YAML value converted to JSON types but still carrying its line, so validation can
// point at the offending node. Values reached through an alias are shared, never modified.
type value struct {
	kind  vkind
	line  int
	b     bool
	num   float64
	str   string   // the string, or the source text of a number
	items []*value // list items
	keys  []string // map keys in document order
	vals  []*value // map values, parallel to keys
}

// get returns the value of a map key, or nil.
func (v *value) get(key string) *value {
	if v == nil || v.kind != vMap {
		return nil
	}
	for i, k := range v.keys {
		if k == key {
			return v.vals[i]
		}
	}
	return nil
}

// plain returns the value as encoding/json would decode it (numbers are float64), so an entity
// survives a JSON round trip unchanged.
func (v *value) plain() any {
	switch v.kind {
	case vBool:
		return v.b
	case vNumber:
		return v.num
	case vString:
		return v.str
	case vList:
		out := make([]any, len(v.items))
		for i, it := range v.items {
			out[i] = it.plain()
		}
		return out
	case vMap:
		out := make(map[string]any, len(v.keys))
		for i, k := range v.keys {
			out[k] = v.vals[i].plain()
		}
		return out
	default:
		return nil
	}
}

// problems collects the errors of one document.
type problems struct {
	source string
	index  int
	list   []ValidationError
}

func (p *problems) add(field string, line int, format string, args ...any) {
	p.list = append(p.list, ValidationError{Source: p.source, Document: p.index, Line: line, Field: field,
		Message: fmt.Sprintf(format, args...)})
}

// converter turns a yaml.Node tree into values.
type converter struct {
	p *problems
	// line, when set, replaces every node's line: values read from a placeholder's target are
	// reported at the placeholder, the only place in the document the reader can see.
	line     int
	prefix   string // put before messages, to say which placeholder target they are about
	anchored map[*yaml.Node]anchoredValue
	active   map[*yaml.Node]bool // anchored nodes being converted, to catch an alias inside its own anchor
	expanded int                 // values added through aliases so far
	bombed   bool
	// shared is set once an alias made a value appear twice in the tree: until then the tree is
	// a tree, and what walks it need not remember what it has seen.
	shared bool
	slab   []value // where values are allocated, a few dozen at a time
}

// valueSlab is how many values a converter allocates at once: a third of a typical document's,
// so that little is allocated and not used.
const valueSlab = 16

// value returns a new value holding v. The values of a document are allocated together, not one
// by one: they live and die together (an entity keeps none of them, only their strings).
func (c *converter) value(v value) *value {
	if len(c.slab) == cap(c.slab) {
		c.slab = make([]value, 0, valueSlab)
	}
	c.slab = append(c.slab, v)
	return &c.slab[len(c.slab)-1]
}

type anchoredValue struct {
	v    *value
	size int
}

// newConverter returns a converter; its maps are made at the first anchor, which most documents
// do not have.
func newConverter(p *problems) *converter {
	return &converter{p: p}
}

func (c *converter) lineOf(n *yaml.Node) int {
	if c.line != 0 {
		return c.line
	}
	return n.Line
}

func (c *converter) fail(field string, n *yaml.Node, format string, args ...any) *value {
	c.p.add(field, c.lineOf(n), c.prefix+format, args...)
	return &value{kind: vBroken, line: c.lineOf(n)}
}

// fieldPath is where a node is in its document. It is made into a field name ("spec.owner",
// "metadata.tags[2]") only when a problem is reported there: most nodes have none, and naming
// every node as it was converted took a tenth of a parse.
type fieldPath struct {
	parent *fieldPath // nil for the root, named by name
	name   string     // the root's field name
	key    string     // the mapping key of this node, unless item
	index  int        // the list index of this node, when item
	item   bool
}

// String is the field name: the parent's, extended as joinField and indexField extend it.
func (p *fieldPath) String() string {
	if p.parent == nil {
		return p.name
	}
	if p.item {
		return indexField(p.parent.String(), p.index)
	}
	return joinField(p.parent.String(), p.key)
}

// convert returns the value of n and how many values it holds once aliases are expanded.
func (c *converter) convert(n *yaml.Node, at *fieldPath) (*value, int) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return &value{kind: vNull, line: c.lineOf(n)}, 1
		}
		return c.convert(n.Content[0], at)
	case yaml.AliasNode:
		return c.alias(n, at)
	}
	if n.Anchor != "" {
		if c.active == nil {
			c.active, c.anchored = map[*yaml.Node]bool{}, map[*yaml.Node]anchoredValue{}
		}
		c.active[n] = true
	}
	var v *value
	size := 1
	switch n.Kind {
	case yaml.ScalarNode:
		v = c.scalar(n, at)
	case yaml.SequenceNode:
		v = c.value(value{kind: vList, line: c.lineOf(n), items: make([]*value, 0, len(n.Content))})
		for i, item := range n.Content {
			iv, s := c.convert(item, &fieldPath{parent: at, index: i, item: true})
			v.items = append(v.items, iv)
			size += s
		}
	case yaml.MappingNode:
		pairs := len(n.Content) / 2
		v = c.value(value{kind: vMap, line: c.lineOf(n), keys: make([]string, 0, pairs), vals: make([]*value, 0, pairs)})
		// The first line of each key, to report a duplicate. A small mapping (nearly all of
		// them) finds a duplicate by scanning its keys instead of filling a map.
		var firstLine map[string]int
		if pairs > smallMapping {
			firstLine = make(map[string]int, pairs)
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			kn, vn := n.Content[i], n.Content[i+1]
			key, ok := c.key(kn, at)
			if !ok {
				continue
			}
			field := &fieldPath{parent: at, key: key}
			if l, dup := c.keyLine(n, i, key, v.keys, firstLine); dup {
				c.fail(field.String(), kn, "duplicate key %q (first at line %d); YAML keys must be unique", key, l)
				continue
			}
			if firstLine != nil {
				firstLine[key] = c.lineOf(kn)
			}
			child, s := c.convert(vn, field)
			v.keys = append(v.keys, key)
			v.vals = append(v.vals, child)
			size += s
		}
	default:
		v = c.fail(at.String(), n, "unreadable YAML node")
	}
	if n.Anchor != "" {
		delete(c.active, n)
		c.anchored[n] = anchoredValue{v: v, size: size}
	}
	return v, size
}

// smallMapping is the most keys a mapping may have for its duplicate keys to be found by
// scanning them.
const smallMapping = 16

// keyLine reports whether key, the key of mapping n at n.Content[i], was taken before (keys are
// the keys taken so far), and the line where it was first: from firstLine for a large mapping,
// else from the first earlier key node that reads as key.
func (c *converter) keyLine(n *yaml.Node, i int, key string, keys []string, firstLine map[string]int) (int, bool) {
	if firstLine != nil {
		l, dup := firstLine[key]
		return l, dup
	}
	if !slices.Contains(keys, key) {
		return 0, false
	}
	for j := 0; j < i; j += 2 {
		kn := n.Content[j]
		r := kn
		if r.Kind == yaml.AliasNode && r.Alias != nil {
			r = r.Alias
		}
		// A key node taken is a scalar whose value is the key (see key).
		if r.Kind == yaml.ScalarNode && r.Value == key {
			return c.lineOf(kn), true
		}
	}
	return 0, false // not reached: a key taken came from an earlier key node
}

func (c *converter) alias(n *yaml.Node, at *fieldPath) (*value, int) {
	target := n.Alias
	if c.bombed {
		return &value{kind: vBroken, line: c.lineOf(n)}, 1
	}
	if target == nil {
		return c.fail(at.String(), n, "alias *%s refers to no anchor", n.Value), 1
	}
	if c.active[target] {
		return c.fail(at.String(), n, "alias *%s refers to a value that contains it", n.Value), 1
	}
	a, ok := c.anchored[target]
	if !ok {
		v, size := c.convert(target, at)
		a = anchoredValue{v: v, size: size}
	}
	c.expanded += a.size
	if c.expanded > maxAliasExpansion {
		c.bombed = true
		return c.fail(at.String(), n, "YAML aliases expand this document to more than %d values; write the values out instead", maxAliasExpansion), 1
	}
	c.shared = true
	return a.v, a.size
}

// key returns a mapping key as a string. Backstage reads YAML with merge keys off, so "<<" is an
// ordinary key here too.
func (c *converter) key(n *yaml.Node, at *fieldPath) (string, bool) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.ScalarNode {
		c.fail(at.String(), n, "mapping keys must be strings, got %s", nodeKindName(n))
		return "", false
	}
	if strings.ContainsRune(n.Value, 0) {
		c.fail(at.String(), n, "a mapping key contains a NUL character")
		return "", false
	}
	return n.Value, true
}

func nodeKindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	default:
		return "a complex value"
	}
}

// scalar resolves a scalar as YAML 1.2's core schema does, which is what Backstage's YAML library
// uses: unquoted yes/no and dates stay strings, 0x and 0o numbers are numbers.
func (c *converter) scalar(n *yaml.Node, at *fieldPath) *value {
	v := c.value(value{line: c.lineOf(n), str: n.Value})
	tag := ""
	switch {
	case n.Style&yaml.TaggedStyle != 0:
		tag = n.ShortTag()
	case n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		tag = "!!str"
	default:
		tag = plainTag(n.Value)
	}
	switch tag {
	case "!!null":
		v.kind = vNull
	case "!!bool":
		b, ok := parseBool(n.Value)
		if !ok {
			return c.fail(at.String(), n, "cannot read %q as a boolean", n.Value)
		}
		v.kind, v.b = vBool, b
	case "!!int", "!!float":
		f, ok := parseNumber(n.Value)
		if !ok {
			return c.fail(at.String(), n, "cannot read %q as a number", n.Value)
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return c.fail(at.String(), n, "expected a finite number, got %s, which JSON cannot represent", n.Value)
		}
		v.kind, v.num = vNumber, f
	default:
		// !!str, and tags Backstage's YAML library does not know (!!binary, !!timestamp, custom
		// ones), which it keeps as strings.
		if strings.ContainsRune(n.Value, 0) {
			// PostgreSQL text cannot hold NUL; one such string would fail the whole refresh.
			return c.fail(at.String(), n, "contains a NUL character")
		}
		v.kind, v.str = vString, strings.ToValidUTF8(n.Value, "\uFFFD")
	}
	return v
}

// plainTag resolves an unquoted scalar by the core schema's patterns (see match.go).
func plainTag(s string) string {
	switch {
	case isCoreNull(s):
		return "!!null"
	case isCoreBool(s):
		return "!!bool"
	case isCoreInt(s):
		return "!!int"
	case isCoreFloat(s):
		return "!!float"
	default:
		return "!!str"
	}
}

// isNullNode reports whether a document's content is null, which Backstage skips.
func isNullNode(n *yaml.Node) bool {
	if n.Kind != yaml.ScalarNode {
		return false
	}
	if n.Style&yaml.TaggedStyle != 0 {
		return n.ShortTag() == "!!null"
	}
	return n.Style == 0 && plainTag(n.Value) == "!!null"
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "true", "yes", "on", "y":
		return true, true
	case "false", "no", "off", "n":
		return false, true
	}
	return false, false
}

// parseNumber reads a YAML number the way JavaScript would hold it: as a float64.
func parseNumber(s string) (float64, bool) {
	t := strings.ReplaceAll(s, "_", "")
	switch strings.ToLower(t) {
	case ".inf", "+.inf":
		return math.Inf(1), true
	case "-.inf":
		return math.Inf(-1), true
	case ".nan":
		return math.NaN(), true
	}
	neg := strings.HasPrefix(t, "-")
	digits := strings.TrimLeft(t, "+-")
	if len(t)-len(digits) > 1 {
		return 0, false
	}
	for _, p := range []struct {
		prefix string
		base   int
	}{{"0x", 16}, {"0o", 8}, {"0b", 2}} {
		if rest, ok := strings.CutPrefix(strings.ToLower(digits), p.prefix); ok {
			i, ok := new(big.Int).SetString(rest, p.base)
			if !ok {
				return 0, false
			}
			f, _ := new(big.Float).SetInt(i).Float64()
			if neg {
				f = -f
			}
			return f, true
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, false
	}
	return f, true
}

// joinField extends a field path: "spec" + "owner" is "spec.owner"; label and annotation keys
// and keys that are not simple words go in brackets, "metadata.annotations" + "backstage.io/x" is
// "metadata.annotations[backstage.io/x]".
func joinField(path, key string) string {
	if isSimpleKey(key) && path != "metadata.labels" && path != "metadata.annotations" {
		if path == "" {
			return key
		}
		return path + "." + key
	}
	return path + "[" + key + "]"
}

func indexField(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// placeholders are the substitutions Backstage performs on a document before validating it.
var placeholderKeys = []string{"$text", "$json", "$yaml"}

// substituter replaces placeholders ({$text: ./openapi.yaml}) by what they point at.
type substituter struct {
	p       *problems
	resolve Resolver
	// done are the values already walked, so aliased values are walked once; nil when the
	// document has no aliased values, each value then being walked once anyway.
	done map[*value]*value
	// substituted is set once a placeholder was replaced: the values read may share values
	// through aliases of their own.
	substituted bool
	read        map[string][]byte // targets already read, so a target named twice is read once
	bytes       int               // bytes read so far
}

func newSubstituter(p *problems, resolve Resolver) *substituter {
	return &substituter{p: p, resolve: resolve, done: map[*value]*value{}, read: map[string][]byte{}}
}

// walk returns v with every placeholder in it replaced. Like Backstage it looks at every mapping
// of the document; a mapping whose only key is $text, $json or $yaml is a placeholder, and a
// mapping that mixes $-keys with others, or uses another $-key, is left as written.
func (s *substituter) walk(v *value, path string) *value {
	if v.kind != vList && v.kind != vMap {
		return v
	}
	if s.done != nil {
		if r, ok := s.done[v]; ok {
			return r
		}
	}
	out := v
	switch v.kind {
	case vMap:
		if hasDollarKey(v) {
			if len(v.keys) == 1 && slices.Contains(placeholderKeys, v.keys[0]) {
				out = s.substitute(v, path)
			}
			break
		}
		for i, k := range v.keys {
			nv := s.walk(v.vals[i], joinField(path, k))
			if nv != v.vals[i] {
				if out == v {
					out = &value{kind: vMap, line: v.line, keys: v.keys, vals: slices.Clone(v.vals)}
				}
				out.vals[i] = nv
			}
		}
	case vList:
		for i, it := range v.items {
			nv := s.walk(it, indexField(path, i))
			if nv != it {
				if out == v {
					out = &value{kind: vList, line: v.line, items: slices.Clone(v.items)}
				}
				out.items[i] = nv
			}
		}
	}
	if s.done != nil {
		s.done[v] = out
	}
	return out
}

func hasDollarKey(v *value) bool {
	for _, k := range v.keys {
		if strings.HasPrefix(k, "$") {
			return true
		}
	}
	return false
}

func (s *substituter) substitute(v *value, path string) *value {
	s.substituted = true
	key, arg := v.keys[0], v.vals[0]
	broken := &value{kind: vBroken, line: v.line}
	if arg.kind == vBroken {
		return broken
	}
	if arg.kind != vString || arg.str == "" {
		s.p.add(path, v.line, "placeholder %s expects a URL or a path relative to this file, got %s", key, describe(arg))
		return broken
	}
	target := arg.str
	if s.resolve == nil {
		s.p.add(path, v.line, "placeholder %s %q cannot be resolved: placeholders are not available for this source", key, target)
		return broken
	}
	data, ok := s.read[target]
	if !ok && s.bytes > maxDocumentSize {
		return broken // already reported
	}
	if !ok {
		var err error
		if data, err = s.resolve(target); err != nil {
			s.p.add(path, v.line, "placeholder %s could not read %q: %s", key, target, errs.PublicMessage(err))
			return broken
		}
		s.read[target] = data
		s.bytes += len(data)
	}
	if !ok && s.bytes > maxDocumentSize {
		s.p.add(path, v.line, "placeholder %s %q: the placeholders of this document read more than %d MiB", key, target, maxDocumentSize>>20)
		return broken
	}
	switch key {
	case "$text":
		return &value{kind: vString, line: v.line, str: strings.ToValidUTF8(string(data), "\uFFFD")}
	case "$json":
		var x any
		if err := json.Unmarshal(data, &x); err != nil {
			s.p.add(path, v.line, "placeholder $json could not parse %q as JSON: %v", target, err)
			return broken
		}
		return fromJSON(x, v.line)
	default: // $yaml
		return s.yamlTarget(data, target, path, v.line)
	}
}

// yamlTarget reads the one YAML document a $yaml placeholder points at.
func (s *substituter) yamlTarget(data []byte, target, path string, line int) *value {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []*yaml.Node
	for len(docs) < 2 {
		doc, err := decodeDocument(dec)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			s.p.add(path, line, "placeholder $yaml could not parse %q: %s", target, strings.TrimPrefix(err.Error(), "yaml: "))
			return &value{kind: vBroken, line: line}
		}
		docs = append(docs, doc)
	}
	if len(docs) != 1 {
		what := "no document"
		if len(docs) > 1 {
			what = "more than one"
		}
		s.p.add(path, line, "placeholder $yaml expects exactly one YAML document in %q, found %s", target, what)
		return &value{kind: vBroken, line: line}
	}
	c := newConverter(s.p)
	c.line = line
	c.prefix = fmt.Sprintf("in %q (placeholder $yaml): ", target)
	v, _ := c.convert(docs[0], &fieldPath{name: path})
	return v
}

// expandedSize returns roughly how many bytes v takes as JSON once aliases are expanded, or more
// than limit. Shared values are measured once, so this is quick even for an alias bomb; memo may
// be nil when v shares no values, each then being measured once anyway.
func expandedSize(v *value, limit int, memo map[*value]int) int {
	if memo != nil {
		if n, ok := memo[v]; ok {
			return n
		}
	}
	n := 8
	switch v.kind {
	case vString:
		n += len(v.str)
	case vList:
		for _, it := range v.items {
			n += expandedSize(it, limit, memo)
			if n > limit {
				break
			}
		}
	case vMap:
		for i, k := range v.keys {
			n += len(k) + expandedSize(v.vals[i], limit, memo)
			if n > limit {
				break
			}
		}
	}
	n = min(n, limit+1)
	if memo != nil {
		memo[v] = n
	}
	return n
}

// fromJSON converts what encoding/json decoded into values, all reported at line.
func fromJSON(x any, line int) *value {
	switch t := x.(type) {
	case bool:
		return &value{kind: vBool, line: line, b: t}
	case float64:
		return &value{kind: vNumber, line: line, num: t, str: strconv.FormatFloat(t, 'g', -1, 64)}
	case string:
		return &value{kind: vString, line: line, str: t}
	case []any:
		v := &value{kind: vList, line: line, items: make([]*value, len(t))}
		for i, it := range t {
			v.items[i] = fromJSON(it, line)
		}
		return v
	case map[string]any:
		v := &value{kind: vMap, line: line}
		v.keys = make([]string, 0, len(t))
		for k := range t {
			v.keys = append(v.keys, k)
		}
		slices.Sort(v.keys)
		for _, k := range v.keys {
			v.vals = append(v.vals, fromJSON(t[k], line))
		}
		return v
	default:
		return &value{kind: vNull, line: line}
	}
}

// describe says what a value is, for "expected …, got …" messages.
func describe(v *value) string {
	switch v.kind {
	case vNull:
		return "null"
	case vBool:
		return strconv.FormatBool(v.b)
	case vNumber:
		return v.str
	case vString:
		if v.str == "" {
			return "an empty string"
		}
		s := v.str
		if r := []rune(s); len(r) > 60 {
			s = string(r[:60]) + "…"
		}
		return strconv.Quote(s)
	case vList:
		return "a list"
	case vMap:
		for _, k := range v.keys {
			if strings.HasPrefix(k, "$") {
				return fmt.Sprintf("a mapping with %s (a placeholder is $text, $json or $yaml, alone in its mapping)", k)
			}
		}
		return "a mapping"
	default:
		return "an invalid value"
	}
}

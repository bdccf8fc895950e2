package catalog

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/errs"
)

// maxFiles bounds the files one location may pull in through Location entities, so a cycle or a
// runaway glob cannot exhaust memory.
const maxFiles = 100_000

// Collected is a location's content, parsed and validated.
type Collected struct {
	// Entities are the valid entities, each with its Source and Hash set. Their Spec and the
	// metadata maps other than tags and annotations are released once encoded (the stored JSON
	// document carries them), so that a large ingest holds each document once.
	Entities []*backstage.Entity
	// bodies are the entities' JSON documents, index for index with Entities: made once, when
	// collection hashes them, and written as they are.
	bodies []string
	// Errors are the first problems found, file by file, at most the collection's error bound.
	Errors []backstage.ValidationError
	// ErrorCount counts every problem found, kept in Errors or not.
	ErrorCount int
	// maxErrors bounds Errors.
	maxErrors int
	// Files counts the catalog files read, including those Location entities named.
	Files int
	// keepRefs are entities whose new document is invalid: their last good version stays.
	keepRefs map[string]bool
	// keepSources are files that could not be read or parsed to the end: every entity they held
	// stays as it was.
	keepSources map[string]bool
	// read are the files parsed this time.
	read map[string]bool
	// incomplete is set when part of the location may not have been reached: a file that could
	// not be read or parsed to the end, an invalid document that may have been a Location, a
	// Location target that would not resolve. Entities from files not read this time then stay:
	// a typo in a Location entity must not remove the catalog it points to.
	incomplete bool
	// manifest lists everything that was read, so the next refresh can tell without parsing
	// whether anything changed.
	manifest manifest
}

// manifest records the inputs of a collection: the files the location selected, every file read
// (catalog files, placeholder targets, Location targets) with a digest of its content, and every
// glob a Location entity expanded with what it matched. Parsing is a pure function of these, so
// if all are as recorded, the result would be too.
type manifest struct {
	Files []string     `json:"files"`
	Reads []readRecord `json:"reads"`
	Globs []globRecord `json:"globs,omitempty"`
}

type readRecord struct {
	Name string `json:"name"`
	Sum  string `json:"sum"` // "" when the file could not be read
}

type globRecord struct {
	Pattern string   `json:"pattern"`
	Names   []string `json:"names"`
}

func digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// entityHash is digest(source + "\x00" + body), the hash an entity's stored row is compared by,
// without copying the body to make that string.
func entityHash(source string, body []byte) string {
	h := sha256.New()
	h.Write([]byte(source))
	h.Write([]byte{0})
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// hash identifies the whole content, for the location's revision when its reader has none.
func (m *manifest) hash() string {
	b, _ := json.Marshal(m)
	return digest(b)
}

// unchanged re-reads what the manifest lists and reports whether every input is as recorded.
// With beyondFiles, the location's selected files are known to be unchanged (an HTTP 304) and only
// what was read beyond them is checked.
func (m *manifest) unchanged(ctx context.Context, snap Snapshot, beyondFiles bool) bool {
	if !beyondFiles && (len(m.Reads) == 0 || !slices.Equal(m.Files, snap.Files())) {
		return false
	}
	for _, g := range m.Globs {
		names, err := snap.Glob(g.Pattern)
		if err != nil || !slices.Equal(names, g.Names) {
			return false
		}
	}
	for _, r := range m.Reads {
		if beyondFiles && slices.Contains(m.Files, r.Name) {
			continue
		}
		b, err := snap.ReadFile(ctx, r.Name)
		sum := ""
		if err == nil {
			sum = digest(b)
		}
		if sum != r.Sum {
			return false
		}
	}
	return true
}

// filePart is a run of a file's documents, in the file's order, each valid entity's JSON document
// beside it. A file's last part (done) also says how the file ended: the reads its placeholders
// made, a failure to read it to its end (err), and what its parse found beyond the documents.
type filePart struct {
	docs   []backstage.Document
	bodies []string // the JSON document of each valid entity, index for index with docs
	done   bool
	reads  []readRecord
	err    error
	result backstage.ParseResult // without Documents
}

// DefaultMaxLocationErrors is how many errors a location keeps when Options.MaxLocationErrors
// is 0. A location with more has the first ones kept and the rest counted: a file of a hundred
// thousand empty documents must not cost a row, and a response line, per document.
const DefaultMaxLocationErrors = 500

// addErrors keeps what room is left of list and counts all of it.
func (c *Collected) addErrors(list ...backstage.ValidationError) {
	c.ErrorCount += len(list)
	if room := c.maxErrors - len(c.Errors); room > 0 {
		c.Errors = append(c.Errors, list[:min(room, len(list))]...)
	}
}

// Collect reads every file of the snapshot, follows Location entities to the files they name, and
// parses and validates everything. Only a failure to read the location as a whole is an error;
// problems with single files and documents are recorded in the result. It writes nothing, so it
// also serves `portside catalog validate`. Files are parsed in parallel, wave by wave (the files
// of the location, then those its Location entities name, ...), and their results are taken in a
// fixed order, so the outcome does not depend on scheduling.
// At most DefaultMaxLocationErrors errors are kept; see CollectWith.
func Collect(ctx context.Context, snap Snapshot) (*Collected, error) {
	return CollectWith(ctx, snap, DefaultMaxLocationErrors)
}

// CollectWith is Collect keeping at most maxErrors errors (DefaultMaxLocationErrors when 0 or
// less); the others are counted in ErrorCount.
func CollectWith(ctx context.Context, snap Snapshot, maxErrors int) (*Collected, error) {
	var all []*backstage.Entity
	var allBodies []string
	c, err := collectStream(ctx, snap, maxErrors, false, 0, func(entities []*backstage.Entity, bodies []string) error {
		all, allBodies = append(all, entities...), append(allBodies, bodies...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	c.Entities, c.bodies = all, allBodies
	sortErrors(c.Errors) // found file by file, repeats after: listed in file order, as an apply lists them
	return c, nil
}

// streamDocs is how many documents of a file collection takes, and hands over, at a time while
// the file is still being parsed (collectStream with midFile): a catalog's one large file is then
// written as it is parsed, the parse of the next documents overlapping the writes of these, instead
// of parsed whole before its first row is written. Files of fewer documents are taken whole.
const streamDocs = 500

// partDocs is how many documents a file's parse hands to collection at a time, and partsAhead how
// many such parts it may have parsed before collection takes them: what bounds the parsed
// documents of one file in memory (partDocs*(partsAhead+1)), whatever its size. A part is as large
// as what collection takes at a time: every hand-over may wait for the other goroutine's thread to
// be scheduled, which on a loaded machine takes milliseconds, so the parts are few.
const (
	partDocs   = streamDocs
	partsAhead = 2
)

// partialFileError is a file that could not be read to its end (over the size bound, an I/O
// error) after some of its documents were handed over. A file that fails part-way yields nothing,
// so what was handed over must be undone: apply rolls its transaction back and collects again
// taking files whole (collectStream without midFile), which reads such a file to its end before
// taking anything of it.
type partialFileError struct {
	name string
	err  error
}

func (e *partialFileError) Error() string {
	return fmt.Sprintf("%s failed after part of it was taken: %v", e.name, e.err)
}
func (e *partialFileError) Unwrap() error { return e.err }

// collectStream is CollectWith handing the valid entities, with their JSON documents, to emit as
// they are parsed, a few files at a time and in the order Collect would list them, instead of
// keeping them: a catalog of a million entities is then never in memory whole. With midFile, the
// documents of a large file are taken and handed over streamDocs at a time while the rest of the
// file is parsed; should such a file then fail to be read to its end, collection stops with a
// *partialFileError. Without it, a file's documents are taken once it has been read whole. The
// files are parsed on workers goroutines (GOMAXPROCS when 0 or less). The Collected it returns has everything but Entities. An error from emit stops the collection and
// is returned as it is.
func collectStream(ctx context.Context, snap Snapshot, maxErrors int, midFile bool, workers int, emit func([]*backstage.Entity, []string) error) (*Collected, error) {
	if maxErrors <= 0 {
		maxErrors = DefaultMaxLocationErrors
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	c := &Collected{keepRefs: map[string]bool{}, keepSources: map[string]bool{}, read: map[string]bool{}, maxErrors: maxErrors}
	c.manifest.Files = slices.Clone(snap.Files())
	type item struct {
		name     string
		optional bool
		// from is where a Location named the file (its source, document, line, ref and field),
		// and target how: a file that cannot be read is reported there, where it can be fixed.
		from   *backstage.ValidationError
		target string
	}
	var wave, next []item
	seen := map[string]bool{}
	for _, f := range snap.Files() {
		seen[f] = true
		wave = append(wave, item{name: f})
	}
	// Where each ref was first defined, to report duplicates: the file name is shared with the
	// file's entities, so a million refs cost their keys and little more.
	type definition struct {
		source   string
		document int
	}
	byRef := map[string]definition{}
	// What has been taken and not yet handed to emit.
	var entities []*backstage.Entity
	var bodies []string
	flush := func() error {
		if len(entities) == 0 {
			return nil
		}
		err := emit(entities, bodies)
		entities, bodies = nil, nil
		return err
	}
	// take takes a run of a file's documents: their errors (after fileErr, the file's own), the
	// valid entities to hand over, and the targets of Location entities for the next wave.
	take := func(it item, docs []backstage.Document, docBodies []string, fileErr *backstage.ValidationError) error {
		if fileErr != nil {
			c.addErrors(*fileErr)
		}
		for _, doc := range docs {
			c.addErrors(doc.Errors...)
		}
		for j, doc := range docs {
			if doc.Entity == nil {
				switch {
				case doc.Ref.IsZero(): // no identity: whatever the file held before stays
					c.keepSources[it.name], c.incomplete = true, true
				case doc.Ref.Kind == "location":
					c.keepRefs[doc.Ref.String()], c.incomplete = true, true
				default:
					c.keepRefs[doc.Ref.String()] = true
				}
				continue
			}
			e := doc.Entity
			ref := e.Ref.String()
			if first, dup := byRef[ref]; dup {
				c.addErrors(backstage.ValidationError{Source: it.name, Document: doc.Index, Line: doc.Line, Ref: ref,
					Message: fmt.Sprintf("entity %s is defined twice; the first definition is in %s document %d", ref, first.source, first.document)})
				continue
			}
			byRef[ref] = definition{source: e.Source, document: doc.Index}
			entities = append(entities, e)
			bodies = append(bodies, docBodies[j])
			if e.Kind != backstage.KindLocation {
				release(e)
				continue
			}
			optional := e.SpecString("presence") == "optional"
			for _, t := range e.Targets {
				target := t.Target
				from := &backstage.ValidationError{Source: it.name, Document: doc.Index, Line: t.Line, Ref: ref, Field: t.Field}
				name, err := snap.Resolve(it.name, target)
				var matched []string
				if err == nil {
					matched, err = snap.Glob(name)
				}
				if err != nil {
					at := *from
					at.Message = fmt.Sprintf("target %q: %s", target, errs.PublicMessage(err))
					c.addErrors(at)
					c.incomplete = true
					continue
				}
				if name != target || len(matched) != 1 || matched[0] != name {
					c.manifest.Globs = append(c.manifest.Globs, globRecord{Pattern: name, Names: matched})
				}
				for _, n := range matched {
					if !seen[n] {
						seen[n] = true
						next = append(next, item{name: n, optional: optional, from: from, target: target})
					}
				}
			}
			release(e)
			if len(seen) > maxFiles {
				return errs.E(errs.Invalid, "location names more than %d files (through Location entities); narrow its targets", maxFiles)
			}
		}
		return nil
	}
	// The parses run under a context of their own, so that a collection that stops early stops
	// them too, and waits for them: no parse outlives the collection that started it.
	pctx, cancel := context.WithCancel(ctx)
	var cur, ahead *parsing
	defer func() {
		cancel()
		cur.wait()
		ahead.wait()
	}()
	// A chunk of files at a time, so parsed documents of only a few files are in memory at once;
	// the next chunk is parsed while this one is taken and emitted (written, in an apply).
	chunkSize := 4 * runtime.GOMAXPROCS(0)
	for len(wave) > 0 {
		if err := ctx.Err(); err != nil {
			return nil, errs.Wrap(errs.Unavailable, err, "refresh interrupted")
		}
		next = nil
		names := func(from int) []string {
			var out []string
			for _, w := range wave[from:min(from+chunkSize, len(wave))] {
				out = append(out, w.name)
			}
			return out
		}
		parseAhead := func(from int) {
			ahead = nil
			if from < len(wave) {
				ahead = parseFiles(pctx, snap, names(from), maxErrors, workers)
			}
		}
		parseAhead(0)
		for start := 0; start < len(wave); start += chunkSize {
			cur = ahead
			parseAhead(start + chunkSize)
			for k, parts := range cur.files {
				it := wave[start+k]
				var docs []backstage.Document
				var docBodies []string
				var last filePart
				taken := false // some of the file's documents were taken before it was read whole
				for !last.done {
					select {
					case last = <-parts:
					case <-ctx.Done():
						return nil, errs.Wrap(errs.Unavailable, ctx.Err(), "refresh interrupted")
					}
					docs, docBodies = append(docs, last.docs...), append(docBodies, last.bodies...)
					if midFile && !last.done && len(docs) >= streamDocs {
						if err := take(it, docs, docBodies, nil); err != nil {
							return nil, err
						}
						docs, docBodies, taken = nil, nil, true
						if err := flush(); err != nil {
							return nil, err
						}
					}
				}
				c.manifest.Reads = append(c.manifest.Reads, last.reads...)
				if last.err != nil {
					if taken {
						return nil, &partialFileError{name: it.name, err: last.err}
					}
					if it.optional && errs.Is(last.err, errs.NotFound) {
						continue // an optional target that is gone: its entities go too
					}
					switch {
					case it.optional:
					case it.from != nil:
						at := *it.from
						at.Message = fmt.Sprintf("target %q: cannot read: %s", it.target, errs.PublicMessage(last.err))
						c.addErrors(at)
					default:
						c.addErrors(backstage.ValidationError{Source: it.name, Message: "cannot read: " + errs.PublicMessage(last.err)})
					}
					c.keepSources[it.name], c.incomplete = true, true
					continue
				}
				c.Files++
				c.read[it.name] = true
				if last.result.FileError != nil || last.result.Unidentified > 0 {
					c.keepSources[it.name], c.incomplete = true, true
				}
				if err := take(it, docs, docBodies, last.result.FileError); err != nil {
					return nil, err
				}
				c.ErrorCount += last.result.OmittedErrors
			}
			cur.wait()
			cur = nil
			if err := flush(); err != nil {
				return nil, err
			}
		}
		wave = next
	}
	return c, nil
}

// parsing is the parse of a chunk of files under way: each file's parts arrive on its channel, in
// order, the last one done.
type parsing struct {
	files []chan filePart
	wg    sync.WaitGroup
}

// wait waits for the parse's goroutines to end (they end once every part is taken, or once the
// parse's context is cancelled).
func (p *parsing) wait() {
	if p != nil {
		p.wg.Wait()
	}
}

// parseFiles starts reading and parsing files on workers goroutines, in the order of names, each
// file's documents handed over in parts as they are parsed.
func parseFiles(ctx context.Context, snap Snapshot, names []string, maxErrors, workers int) *parsing {
	p := &parsing{files: make([]chan filePart, len(names))}
	next := make(chan int, len(names))
	for i := range names {
		p.files[i] = make(chan filePart, partsAhead)
		next <- i
	}
	close(next)
	// Files are started in order, so the first file not yet taken is always being parsed: a
	// worker waiting for room in a later file's channel never holds up the file being taken.
	for range min(workers, len(names)) {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for i := range next {
				if !parseFile(ctx, snap, names[i], maxErrors, workers, p.files[i]) {
					return
				}
			}
		}()
	}
	return p
}

// maxSourceBytes is the longest path or URL of a catalog file whose entities Portside keeps, in
// bytes: each entity records it, indexed with its location (entities_location), and a PostgreSQL
// B-tree entry holds at most 2,704 bytes, the location's id and the entry's header included. A
// file found deeper (a directory's nesting, a Location entity's target) is reported and not read.
// More than a registered target may be (maxTargetBytes), so that a location registered before
// that bound, whose files fit in the index, is read as it was.
const maxSourceBytes = 2600

// parseFile reads a file and parses it as it reads, document by document, handing the documents
// to out in parts (the last one done): each valid entity is encoded and hashed at once, and all
// but Location entities (whose targets collection follows) drop their parsed spec, so a large file
// is never in memory whole, neither as text nor parsed. A file that cannot be read to its end
// (over the size bound, an I/O error) ends with err set, and collection takes none of it that it
// has not taken already. The file's documents are validated on workers goroutines (see
// backstage.ParseStream). It reports false when ctx ended before the file was handed over.
func parseFile(ctx context.Context, snap Snapshot, name string, maxErrors, workers int, out chan<- filePart) bool {
	send := func(p filePart) bool {
		select {
		case out <- p:
			return true
		case <-ctx.Done():
			return false
		}
	}
	if len(name) > maxSourceBytes {
		return send(filePart{done: true, err: errs.E(errs.Invalid, "its name is %d bytes long; a catalog file's path or URL is at most %d", len(name), maxSourceBytes),
			reads: []readRecord{{Name: name}}})
	}
	f, err := openFile(ctx, snap, name)
	if err != nil {
		return send(filePart{done: true, err: err, reads: []readRecord{{Name: name}}})
	}
	defer f.Close()
	var placeholderReads []readRecord
	resolve := func(target string) ([]byte, error) {
		ref, err := snap.Resolve(name, target)
		if err != nil {
			return nil, err
		}
		b, err := snap.ReadFile(ctx, ref)
		r := readRecord{Name: ref}
		if err == nil {
			r.Sum = digest(b)
		}
		placeholderReads = append(placeholderReads, r)
		return b, err
	}
	sum := sha256.New()
	in := io.TeeReader(&readAhead{r: f}, sum)
	var part filePart
	res, err := backstage.ParseStream(name, in, resolve, backstage.ParseOptions{MaxErrors: maxErrors, Workers: workers}, func(doc backstage.Document) error {
		body := ""
		if e := doc.Entity; e != nil {
			e.Source, e.Document, e.Line = name, doc.Index, doc.Line
			b, err := e.EncodeJSON()
			if err != nil { // parsed documents hold only JSON values; this guards the invariant
				doc.Entity = nil
				doc.Errors = append(doc.Errors, backstage.ValidationError{Source: name, Document: doc.Index, Line: doc.Line,
					Ref: e.Ref.String(), Message: "cannot be stored as JSON: " + err.Error()})
			} else {
				e.Hash = entityHash(name, b)
				body = string(b)
				if e.Kind != backstage.KindLocation {
					release(e)
				}
			}
		}
		part.docs = append(part.docs, doc)
		part.bodies = append(part.bodies, body)
		if len(part.docs) >= partDocs {
			if !send(part) {
				return ctx.Err()
			}
			part = filePart{}
		}
		return nil
	})
	if ctx.Err() != nil {
		return false
	}
	if err == nil {
		// The parser stops at a syntax error; the digest is of the whole file, and the size bound
		// holds for all of it.
		_, err = io.Copy(io.Discard, in)
	}
	if err != nil {
		return send(filePart{done: true, err: err, reads: []readRecord{{Name: name}}})
	}
	// Documents are validated on several goroutines (backstage.ParseStream), so placeholders
	// resolve in no fixed order; sorted, the manifest and the revision hashed from it do not
	// depend on it.
	slices.SortStableFunc(placeholderReads, func(a, b readRecord) int { return strings.Compare(a.Name, b.Name) })
	part.done, part.result = true, res
	part.reads = append([]readRecord{{Name: name, Sum: hex.EncodeToString(sum.Sum(nil))}}, placeholderReads...)
	return send(part)
}

// readAheadSize is how much of a file readAhead reads at a time.
const readAheadSize = 64 << 10

// readAhead reads a file readAheadSize bytes at a time for a reader that asks for little at a time:
// the YAML decoder reads 512 bytes per call, which made reading the files of a large catalog a
// read system call (and a hash update) per 512 bytes. It answers each read as a file does, whole
// until the end, so the decoder sees the reads it saw before: a failure (the size bound) comes
// with the read that asks for bytes beyond it, io.EOF with a read of nothing.
type readAhead struct {
	r          io.Reader
	buf        []byte
	start, end int   // what buf holds that was not yet read
	err        error // the error that ended r, once the bytes before it are read
}

func (a *readAhead) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if a.start == a.end {
			if a.err != nil {
				break
			}
			a.fill()
			continue
		}
		c := copy(p[n:], a.buf[a.start:a.end])
		a.start += c
		n += c
	}
	switch {
	case n == len(p), n > 0 && errors.Is(a.err, io.EOF):
		return n, nil
	}
	return n, a.err
}

// fill reads the next bytes of r into buf, or the error that ends r.
func (a *readAhead) fill() {
	if a.buf == nil {
		a.buf = make([]byte, readAheadSize)
	}
	a.start, a.end = 0, 0
	for a.end == 0 && a.err == nil {
		a.end, a.err = a.r.Read(a.buf)
	}
}

// openFile opens a file of the snapshot for reading as a stream when the snapshot can (see
// FileOpener), else reads it whole.
func openFile(ctx context.Context, snap Snapshot, name string) (io.ReadCloser, error) {
	if o, ok := snap.(FileOpener); ok {
		return o.OpenFile(ctx, name)
	}
	b, err := snap.ReadFile(ctx, name)
	if err != nil {
		return nil, err
	}
	return io.NopCloser(bytes.NewReader(b)), nil
}

// release drops the parsed spec and the metadata maps that only the JSON body needs from now on,
// so that a large ingest holds each document once. Collection calls it once the entity is encoded.
func release(e *backstage.Entity) {
	e.Spec, e.Metadata.Extra, e.Metadata.Labels, e.Metadata.Links, e.Targets = nil, nil, nil, nil, nil
}

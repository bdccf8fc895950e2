package runbooks

import (
	"bytes"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"

	"github.com/portside-dev/portside/errs"
)

// Rendering: Markdown becomes HTML with goldmark (GitHub-flavoured: tables, task lists,
// strikethrough, autolinks; headings get IDs for deep links), and bluemonday is the sanitizer of
// record: every element goldmark writes with an attribute — links, images, heading IDs, code
// blocks' languages, list starts, table alignments, task checkboxes — goes through a bluemonday
// policy before anyone sees it, and only the elements and attributes that policy lists survive.
//
// bluemonday sees those tags, not the whole document (sanitizingRenderer): goldmark runs without
// its unsafe option, so it escapes every text (<, >, & and " become entities) and writes no
// author markup at all, only its own elements, and raw HTML (blocks and inline) is dropped here as
// bluemonday drops it (goldmark's "raw HTML omitted" comment included). What the author controls
// in goldmark's output is thus text, which cannot become markup, and attribute values, which
// bluemonday checks. Re-tokenizing the whole output cost as much as parsing it (issue 15);
// TestRenderingIsBluemondayOverTheWholeDocument and FuzzRenderingIsBluemondayOverTheWholeDocument
// hold the result to the same HTML, token for token, as bluemonday over goldmark's whole output.
//
// The policy is bluemonday's UGC policy, narrowed:
//   - links and images only with http, https (and mailto for links) URLs; no data: URIs at all,
//     not even for images: a runbook's images live somewhere they can be linked, and an inline
//     data: image is a way to smuggle content (SVG with script, tracking payloads) past review;
//   - every link gets rel="nofollow", and links to other sites also target="_blank" with
//     rel="noopener" (and noreferrer), so an opened page cannot reach back into the portal;
//   - no style attributes, no iframes, no forms; task-list checkboxes stay, disabled;
//   - an ordered list keeps the number it starts at (start), so a runbook's steps keep theirs.

var (
	mdOnce    sync.Once
	markdown  goldmark.Markdown
	sanitizer *bluemonday.Policy
)

// markdownOptions are goldmark's extensions and parser options, the same for the renderer and
// for the tests' reference (goldmark's own renderer, then bluemonday over its whole output).
func markdownOptions() []goldmark.Option {
	return []goldmark.Option{
		goldmark.WithExtensions(
			extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute)),
			extension.Strikethrough, extension.Linkify, extension.TaskList,
		),
		goldmark.WithParserOptions(append(deadlineParsers(), parser.WithAutoHeadingID())...),
	}
}

func renderer() (goldmark.Markdown, *bluemonday.Policy) {
	mdOnce.Do(func() {
		p := bluemonday.UGCPolicy()
		p.AllowURLSchemes("http", "https", "mailto")
		p.RequireParseableURLs(true)
		p.RequireNoFollowOnLinks(true)
		p.AddTargetBlankToFullyQualifiedLinks(true)
		p.RequireNoReferrerOnFullyQualifiedLinks(true)
		p.AllowElements("input")
		p.AllowAttrs("type").Matching(regexp.MustCompile(`^checkbox$`)).OnElements("input")
		p.AllowAttrs("checked", "disabled").Matching(regexp.MustCompile(`^(|checked|disabled)$`)).OnElements("input")
		p.AllowAttrs("align").Matching(regexp.MustCompile(`^(left|right|center)$`)).OnElements("th", "td")
		// An ordered list's first number ("2. Restart" after a code block): without it the steps
		// of a runbook are numbered from 1 again. goldmark writes at most nine digits.
		p.AllowAttrs("start").Matching(regexp.MustCompile(`^[0-9]{1,9}$`)).OnElements("ol")
		sanitizer = p
		markdown = goldmark.New(append(markdownOptions(), goldmark.WithRenderer(newSanitizingRenderer(p)))...)
	})
	return markdown, sanitizer
}

// RenderMarkdown turns a runbook's Markdown into HTML that is safe to put into a page: nothing
// in it runs script, loads a frame or styles the page.
// A rendering past RenderTime, tables of more than MaxTableCells cells or more than
// MaxHTMLBytes of HTML are refused (INVALID, naming markdown).
func RenderMarkdown(src string) (string, error) {
	return renderWithin(src, renderWorkers(len(src)), RenderTime)
}

// renderWithin is RenderMarkdown in n pieces within budget.
func renderWithin(src string, n int, budget time.Duration) (string, error) {
	if cells := tableCells([]byte(src)); cells > MaxTableCells {
		return "", errs.InvalidField("markdown", "has tables of %d cells together (columns times rows); at most %d", cells, MaxTableCells)
	}
	html, err := renderPiecesWith(src, n, parallel, time.Now().Add(budget))
	if _, slow := err.(tooSlowError); slow {
		return "", slowError(budget)
	}
	if err == nil && len(html) > MaxHTMLBytes {
		return "", errs.InvalidField("markdown", "renders to %d bytes of HTML; at most %d", len(html), MaxHTMLBytes)
	}
	return html, err
}

// A large runbook is parsed and rendered in pieces, in parallel (issue 15: the one-pass parse was
// most of a dense 100 KB runbook's time). The source is cut before lines that must start a new
// top-level block whatever came before (cutPoints), each piece is parsed and rendered on its own,
// and the HTML is joined in order. What is the whole document's is made whole again:
//   - link reference definitions: each piece records the labels it looked up; when one of them
//     resolves differently in the whole document's definitions (the first of a label wins), the
//     piece is parsed again with those definitions (pieceContext);
//   - heading IDs ("step", "step-1", …): pieces record the IDs goldmark asks for, and the calls
//     are replayed in document order on goldmark's own generator (recordedIDs);
//   - a cut that turns out to be inside a fenced code or HTML block (the cutting only reads
//     lines) is found in the piece before it, and the rest of the document is parsed in one piece.
//
// The result is the bytes of one pass over the whole document: TestPiecesAreTheOnePassRendering
// and FuzzPiecesAreTheOnePassRendering hold it to that. Small runbooks are one piece: below
// parallelMinBytes the goroutines cost more than they save.
const (
	parallelMinBytes = 16 << 10
	maxRenderWorkers = 4
)

func renderWorkers(size int) int {
	if size < parallelMinBytes {
		return 1
	}
	return min(runtime.GOMAXPROCS(0), maxRenderWorkers, size/(parallelMinBytes/2))
}

// piece is a run of the source parsed on its own.
type piece struct {
	src []byte
	doc ast.Node
	pc  *pieceContext
	buf *bytes.Buffer // the HTML
	err error
}

// outBuffers keeps the pieces' HTML buffers from one rendering to the next, those of up to
// maxPooledBuffer (about the HTML of the largest runbook, 256 KiB, in one piece, twice over).
var outBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledBuffer = 1 << 20

func renderPieces(src string, n int) (string, error) {
	return renderPiecesWith(src, n, parallel, time.Time{})
}

// renderPiecesWith is renderPieces with each step over the pieces run by each (parallel, or the
// benchmark's measuring one), each parse stopped past deadline (zero: none) with tooSlowError.
func renderPiecesWith(src string, n int, each func([]piece, func(*piece)), deadline time.Time) (string, error) {
	md, _ := renderer()
	sr := md.Renderer().(*sanitizingRenderer)
	p := md.Parser()
	source := []byte(src)
	cuts := cutPoints(source, n)
	pieces := make([]piece, len(cuts)+1)
	for i := range pieces {
		start, end := 0, len(source)
		if i > 0 {
			start = cuts[i-1]
		}
		if i < len(cuts) {
			end = cuts[i]
		}
		pieces[i].src = source[start:end:end]
	}
	each(pieces, func(pc *piece) { pc.parse(p, nil, deadline) })
	for i := range pieces {
		if pieces[i].err != nil {
			return "", pieces[i].err
		}
	}

	// A piece that ends inside a fenced code or HTML block: the next cut was not a block's
	// start. Everything from that piece on becomes one piece.
	for i := 0; i < len(pieces)-1; i++ {
		if pieces[i].openAtEnd() {
			start := len(source) - sum(pieces[i:])
			pieces = append(pieces[:i], piece{src: source[start:]})
			if pieces[i].parse(p, nil, deadline); pieces[i].err != nil {
				return "", pieces[i].err
			}
			break
		}
	}

	// The whole document's link reference definitions, the first of each label winning; pieces
	// that looked up a label and found something else are parsed again with them.
	if len(pieces) > 1 {
		defs := parser.NewContext()
		for i := range pieces {
			for _, ref := range pieces[i].pc.References() {
				defs.AddReference(ref)
			}
		}
		each(pieces, func(pc *piece) {
			if !pc.pc.resolvesAs(defs) {
				pc.parse(p, defs, deadline)
			}
		})
		for i := range pieces {
			if pieces[i].err != nil {
				return "", pieces[i].err
			}
		}
	}

	// Heading IDs, in document order on one generator, as one pass would ask for them.
	ids := parser.NewContext().IDs()
	for i := range pieces {
		pieces[i].pc.ids.replay(ids)
	}

	each(pieces, func(pc *piece) {
		pc.buf = outBuffers.Get().(*bytes.Buffer)
		pc.buf.Reset()
		pc.buf.Grow(len(pc.src) * 2) // HTML is up to about twice its Markdown
		pc.err = sr.render(&renderState{out: pc.buf, ids: pc.pc.ids.final}, pc.src, pc.doc)
	})
	defer func() {
		for i := range pieces {
			if pieces[i].buf.Cap() <= maxPooledBuffer {
				outBuffers.Put(pieces[i].buf)
			}
		}
	}()
	size := 0
	for i := range pieces {
		if pieces[i].err != nil {
			return "", pieces[i].err
		}
		size += pieces[i].buf.Len()
	}
	var sb strings.Builder
	sb.Grow(size)
	for i := range pieces {
		sb.Write(pieces[i].buf.Bytes())
	}
	return sb.String(), nil
}

func sum(pieces []piece) int {
	n := 0
	for i := range pieces {
		n += len(pieces[i].src)
	}
	return n
}

// parallel runs f on every piece, the last on this goroutine.
func parallel(pieces []piece, f func(*piece)) {
	if len(pieces) == 1 {
		f(&pieces[0])
		return
	}
	var wg sync.WaitGroup
	for i := range pieces[:len(pieces)-1] {
		wg.Go(func() { f(&pieces[i]) })
	}
	f(&pieces[len(pieces)-1])
	wg.Wait()
}

// parse parses the piece, with the whole document's link reference definitions when defs is
// not nil.
// A parse past deadline (unless zero) is stopped from inside goldmark (deadlineParsers): the
// piece then has an empty document and the error tooSlowError.
func (pc *piece) parse(p parser.Parser, defs parser.Context, deadline time.Time) {
	ids := &recordedIDs{}
	pc.pc = &pieceContext{Context: parser.NewContext(parser.WithIDs(ids)), ids: ids, deadline: deadline}
	if defs != nil {
		for _, ref := range defs.References() {
			pc.pc.AddReference(ref)
		}
	}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(tooSlow); !ok {
				panic(r)
			}
			pc.doc, pc.err = ast.NewDocument(), tooSlowError{}
		}
	}()
	pc.doc = p.Parse(text.NewReader(pc.src), parser.WithContext(pc.pc))
}

// tooSlowError is a piece's parse stopped past its deadline.
type tooSlowError struct{}

func (tooSlowError) Error() string { return "the rendering passed its deadline" }

// openAtEnd reports whether the piece ends inside a fenced code block or an HTML block (one that
// only its end marker closes): the blank line the piece ends with is then the block's line.
func (pc *piece) openAtEnd() bool {
	switch last := pc.doc.LastChild(); last.(type) {
	case *ast.FencedCodeBlock, *ast.HTMLBlock:
		lines := last.Lines()
		return lines.Len() > 0 && lines.At(lines.Len()-1).Stop >= len(pc.src)
	}
	return false
}

// pieceContext is a piece's parser context: it records the reference labels looked up.
type pieceContext struct {
	parser.Context
	ids      *recordedIDs
	lookups  []lookup
	deadline time.Time // zero: none
}

type lookup struct {
	label string
	ref   parser.Reference
	ok    bool
}

func (c *pieceContext) Reference(label string) (parser.Reference, bool) {
	ref, ok := c.Context.Reference(label)
	c.lookups = append(c.lookups, lookup{label, ref, ok})
	return ref, ok
}

// resolvesAs reports whether every label the piece looked up resolved as in defs.
func (c *pieceContext) resolvesAs(defs parser.Context) bool {
	for _, l := range c.lookups {
		ref, ok := defs.Reference(l.label)
		if ok != l.ok || ref != l.ref {
			return false
		}
	}
	return true
}

// recordedIDs stands for goldmark's ID generator in a piece: it records the calls and hands out
// placeholders, which the renderer replaces with the IDs the calls got when replayed in document
// order (renderState.ids). A placeholder starts with a NUL byte, which no generated ID holds.
type recordedIDs struct {
	calls []idCall
	final [][]byte
}

type idCall struct {
	value []byte
	kind  ast.NodeKind
	put   bool
}

const idPlaceholder = "\x00portside-id:"

func (r *recordedIDs) Generate(value []byte, kind ast.NodeKind) []byte {
	r.calls = append(r.calls, idCall{value: value, kind: kind})
	return strconv.AppendInt([]byte(idPlaceholder), int64(len(r.calls)-1), 10)
}

func (r *recordedIDs) Put(value []byte) {
	r.calls = append(r.calls, idCall{value: value, put: true})
}

func (r *recordedIDs) replay(ids parser.IDs) {
	r.final = make([][]byte, len(r.calls))
	for i, c := range r.calls {
		if c.put {
			ids.Put(c.value)
		} else {
			r.final[i] = ids.Generate(c.value, c.kind)
		}
	}
}

// placeholderID returns the call a placeholder ID stands for.
func placeholderID(v []byte) (int, bool) {
	rest, ok := bytes.CutPrefix(v, []byte(idPlaceholder))
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(string(rest))
	return i, err == nil
}

// cutPoints returns up to n-1 offsets, about equally far apart, at which the source can be cut
// into pieces parsed on their own: the start of a line that follows a blank line and begins (in
// its first column) with a letter or '#', outside fenced code blocks and the HTML blocks that only
// an end marker closes. Such a line cannot continue anything before it: the blank line closed
// paragraphs and block quotes, and a line that is not indented and is no list marker closes
// lists and indented code; only a fenced code or HTML block could still take it, which the
// cutting tracks at the top level (openAtEnd checks the parse).
func cutPoints(src []byte, n int) []int {
	if n <= 1 {
		return nil
	}
	cuts := make([]int, 0, min(n-1, 64))
	var (
		fence     byte // the fence's character, 0 outside one
		fenceLen  int
		htmlClose []byte // what closes the HTML block, nil outside one
		blank     bool   // the line before was blank
	)
	for at := 0; at < len(src); {
		end := bytes.IndexByte(src[at:], '\n')
		if end < 0 {
			end = len(src)
		} else {
			end += at + 1
		}
		line := src[at:end]
		switch {
		case fence != 0:
			if c, l, rest := fenceRun(line); c == fence && l >= fenceLen && isBlank(rest) {
				fence = 0
			}
		case htmlClose != nil:
			if containsFold(line, htmlClose) {
				htmlClose = nil
			}
		default:
			if blank && len(cuts) < n-1 && at >= len(src)/n*(len(cuts)+1) && (isLetter(line[0]) || line[0] == '#') {
				cuts = append(cuts, at)
			}
			if c, l, rest := fenceRun(line); c != 0 && (c == '~' || bytes.IndexByte(rest, '`') < 0) {
				fence, fenceLen = c, l
			} else if cl := htmlBlockClose(line); cl != nil && !containsFold(line, cl) {
				htmlClose = cl
			}
		}
		blank = isBlank(line)
		at = end
	}
	return cuts
}

// fenceRun returns a line's fence (3 or more backticks or tildes, indented at most 3 spaces):
// its character, its length and the rest of the line; 0 when it has none.
func fenceRun(line []byte) (byte, int, []byte) {
	i := 0
	for i < len(line) && i < 4 && line[i] == ' ' {
		i++
	}
	if i == 4 || i == len(line) || (line[i] != '`' && line[i] != '~') {
		return 0, 0, nil
	}
	c, j := line[i], i
	for j < len(line) && line[j] == c {
		j++
	}
	if j-i < 3 {
		return 0, 0, nil
	}
	return c, j - i, line[j:]
}

// htmlBlockClose returns what closes an HTML block that line starts (indented at most 3 spaces),
// for the kinds a blank line does not close (CommonMark's 1 to 5); nil for other lines.
func htmlBlockClose(line []byte) []byte {
	i := 0
	for i < len(line) && i < 4 && line[i] == ' ' {
		i++
	}
	if i == 4 || i == len(line) || line[i] != '<' {
		return nil
	}
	rest := line[i:]
	for _, tag := range [...]string{"script", "pre", "style", "textarea"} {
		if len(rest) > len(tag)+1 && strings.EqualFold(string(rest[1:len(tag)+1]), tag) {
			if c := rest[len(tag)+1]; c == ' ' || c == '\t' || c == '>' || c == '\r' || c == '\n' {
				return []byte("</" + tag + ">")
			}
		}
	}
	switch {
	case bytes.HasPrefix(rest, []byte("<!--")):
		return []byte("-->")
	case bytes.HasPrefix(rest, []byte("<?")):
		return []byte("?>")
	case bytes.HasPrefix(rest, []byte("<![CDATA[")):
		return []byte("]]>")
	case len(rest) > 2 && rest[1] == '!' && isLetter(rest[2]):
		return []byte(">")
	}
	return nil
}

func isLetter(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }

// isBlank reports whether a line is blank to the cutting: spaces and tabs only (stricter than
// CommonMark, which is on the safe side).
func isBlank(line []byte) bool {
	for _, c := range line {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}

func containsFold(s, sub []byte) bool {
	return bytes.Contains(bytes.ToLower(s), sub)
}

package runbooks

import (
	"bytes"
	"fmt"
	"io"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark/ast"
	gmrenderer "github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/renderer/html"
	"github.com/yuin/goldmark/util"
)

// sanitizingRenderer is goldmark's HTML renderer (with whatever node renderers the extensions
// add) with bluemonday applied to every tag that carries an attribute, and raw HTML dropped.
//
// What each node's renderer writes (text nodes, which only ever write escaped text and <br>,
// excepted) is looked at before the next one writes. If it holds a tag with attributes, all of it
// is replaced by what the policy makes of it; otherwise it is goldmark's fixed markup (<p>, <li>, <em>, </a> …), which the
// policy keeps as it is, and is written as it is. bluemonday drops only one element goldmark
// writes, and only when the policy leaves it no attribute: <a> without an acceptable href (and
// <img> without an acceptable src, which is one tag). A link's closing tag is then dropped too,
// as bluemonday would (it is written by the node's second visit, so the first one marks the
// node). Any other element dropped would leave a closing tag behind: that is an error, not output.
type sanitizingRenderer struct {
	policy *bluemonday.Policy
	config *gmrenderer.Config

	once  sync.Once
	funcs []gmrenderer.NodeRendererFunc
	// policed marks the kinds whose output the policy may have to see.
	policed []bool
}

// renderState is one rendering's (one piece's): bluemonday's verdicts on what it has seen so
// far. A runbook writes the same tags again and again (its checkboxes, its table alignments, the
// same dashboard link), and the policy's verdict on the same bytes is the same; one call costs a
// tokenizer (a 4 kB buffer) and its garbage, so each distinct piece is sanitized once.
type renderState struct {
	seen map[string][]byte
	// out is what the rendering wrote so far: node renderers write into it directly, and what
	// one of them wrote is replaced by the policy's version when it holds attributes.
	out *bytes.Buffer
	// ids are the heading IDs a piece's placeholders stand for (recordedIDs).
	ids [][]byte
	// pending are headings' start tags in out that the policy has yet to see (sanitizePending).
	pending []pendingTag
}

// pendingTag is where a tag is in renderState.out.
type pendingTag struct{ start, end int }

// outWriter is the goldmark writer (util.BufWriter) over a renderState's out: no buffer of its own,
// so what a node renderer wrote is in out as soon as it returns.
type outWriter struct{ *bytes.Buffer }

func (w outWriter) Available() int { return w.Cap() - w.Len() }
func (w outWriter) Buffered() int  { return 0 }
func (w outWriter) Flush() error   { return nil }

// maxRememberedPiece bounds what renderState keeps: tags, not code blocks.
const maxRememberedPiece = 512

func newSanitizingRenderer(p *bluemonday.Policy) *sanitizingRenderer {
	r := &sanitizingRenderer{policy: p, config: gmrenderer.NewConfig()}
	// goldmark's own HTML renderer, at the priority goldmark.DefaultRenderer gives it; the
	// extensions add theirs (AddOptions) when goldmark.New extends the Markdown.
	r.AddOptions(gmrenderer.WithNodeRenderers(util.Prioritized(html.NewRenderer(), 1000)))
	return r
}

var _ gmrenderer.Renderer = (*sanitizingRenderer)(nil)

func (r *sanitizingRenderer) AddOptions(opts ...gmrenderer.Option) {
	for _, o := range opts {
		o.SetConfig(r.config)
	}
}

// Register takes a node renderer's function for a kind; as in goldmark's renderer, the renderer
// registered last (the highest priority) wins.
func (r *sanitizingRenderer) Register(kind ast.NodeKind, f gmrenderer.NodeRendererFunc) {
	for int(kind) >= len(r.funcs) {
		r.funcs = append(r.funcs, nil)
	}
	r.funcs[kind] = f
}

// init collects the node renderers' functions the way goldmark's renderer does, then puts the
// policy around them.
func (r *sanitizingRenderer) init() {
	r.config.NodeRenderers.Sort()
	for i := len(r.config.NodeRenderers) - 1; i >= 0; i-- {
		v := r.config.NodeRenderers[i]
		nr := v.Value.(gmrenderer.NodeRenderer)
		if so, ok := v.Value.(gmrenderer.SetOptioner); ok {
			for name, value := range r.config.Options {
				so.SetOption(name, value)
			}
		}
		nr.RegisterFuncs(r)
	}
	for kind, f := range r.funcs {
		switch k := ast.NodeKind(kind); {
		case f == nil:
		case k == ast.KindRawHTML:
			r.funcs[kind] = dropRawHTML
		case k == ast.KindHTMLBlock:
			r.funcs[kind] = dropHTMLBlock
		case k == ast.KindText:
			// Escaped text and <br>: nothing for the policy. (ast.String is not here: it may
			// be written unescaped.)
		default:
			for len(r.policed) <= kind {
				r.policed = append(r.policed, false)
			}
			r.policed[kind] = true
		}
	}
}

// dropRawHTML drops inline raw HTML: goldmark (not unsafe) writes a comment in its place, which
// bluemonday drops.
func dropRawHTML(_ util.BufWriter, _ []byte, _ ast.Node, _ bool) (ast.WalkStatus, error) {
	return ast.WalkSkipChildren, nil
}

// dropHTMLBlock drops an HTML block, leaving the line breaks goldmark writes after its comments.
func dropHTMLBlock(w util.BufWriter, _ []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if entering || node.(*ast.HTMLBlock).HasClosure() {
		_ = w.WriteByte('\n')
	}
	return ast.WalkContinue, nil
}

// droppedLink marks a link whose <a> the policy dropped, so that its </a> goes too. The name
// cannot come from Markdown (attributes are not parsed) nor pass goldmark's attribute filters.
var droppedLink = []byte("\x00portside-dropped")

// sanitized renders node with f, then passes what it wrote through the policy if it holds a tag
// with attributes.
func (r *sanitizingRenderer) sanitized(st *renderState, f gmrenderer.NodeRendererFunc, source []byte, node ast.Node, entering bool) (ast.WalkStatus, error) {
	if !entering && node.Kind() == ast.KindLink {
		if _, dropped := node.Attribute(droppedLink); dropped {
			return ast.WalkContinue, nil
		}
	}
	start := st.out.Len()
	status, err := f(outWriter{st.out}, source, node, entering)
	if err != nil {
		return status, err
	}
	written := st.out.Bytes()[start:]
	if !hasAttributes(written) {
		return status, nil
	}
	clean, ok := st.seen[string(written)]
	if !ok && entering && node.Kind() == ast.KindHeading && oneTag(written) {
		st.pending = append(st.pending, pendingTag{start, st.out.Len()})
		return status, nil
	}
	if !ok {
		clean = r.policy.SanitizeBytes(written)
		if len(written) <= maxRememberedPiece {
			if st.seen == nil {
				st.seen = map[string][]byte{}
			}
			st.seen[string(written)] = clean
		}
	}
	if lost := startTags(written) - startTags(clean); lost > 0 {
		switch node.Kind() {
		case ast.KindLink: // its <a>, which the policy refused
			node.SetAttribute(droppedLink, true)
		case ast.KindImage, ast.KindAutoLink: // whole elements, closing tag included
		default:
			return status, fmt.Errorf("runbooks: the sanitizer dropped an element of a %s node: %q", node.Kind(), written)
		}
	}
	st.out.Truncate(start)
	st.out.Write(clean)
	return status, nil
}

// hasAttributes reports whether HTML goldmark wrote holds a start tag with attributes. In what it
// writes, < and > are tags' only: text and attribute values have them as entities.
func hasAttributes(b []byte) bool {
	for {
		i := bytes.IndexByte(b, '<')
		if i < 0 {
			return false
		}
		b = b[i+1:]
		end := bytes.IndexByte(b, '>')
		if end < 0 {
			return true // not goldmark's shape: let the policy judge it
		}
		if bytes.IndexAny(b[:end], " \t\n\r\f/=") >= 0 && b[0] != '/' {
			return true
		}
		b = b[end+1:]
	}
}

// startTags counts the start tags in HTML goldmark or bluemonday wrote.
func startTags(b []byte) int {
	n := 0
	for i := 0; i+1 < len(b); i++ {
		if b[i] == '<' && b[i+1] != '/' {
			n++
		}
	}
	return n
}

// Render writes node (and what it holds) as sanitized HTML, like goldmark's renderer.
func (r *sanitizingRenderer) Render(w io.Writer, source []byte, n ast.Node) error {
	st := &renderState{out: new(bytes.Buffer)}
	if err := r.render(st, source, n); err != nil {
		return err
	}
	_, err := w.Write(st.out.Bytes())
	return err
}

// render is Render into a rendering's state (renderPieces keeps one per piece).
func (r *sanitizingRenderer) render(st *renderState, source []byte, n ast.Node) error {
	r.once.Do(r.init)
	w := outWriter{st.out}
	err := ast.Walk(n, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		k := int(n.Kind())
		if k >= len(r.funcs) || r.funcs[k] == nil {
			return ast.WalkContinue, nil
		}
		if entering && n.Kind() == ast.KindHeading {
			if err := st.headingID(n); err != nil {
				return ast.WalkStop, err
			}
		}
		if k < len(r.policed) && r.policed[k] {
			return r.sanitized(st, r.funcs[k], source, n, entering)
		}
		return r.funcs[k](w, source, n, entering)
	})
	if err != nil {
		return err
	}
	return r.sanitizePending(st)
}

// sanitizePending passes the headings' start tags the policy has not seen yet through it, all in
// one call, and puts what it made of each in its place. Every heading's tag is different (its ID
// is), and one call costs a tokenizer (a 4 kB buffer and its clearing): a dense runbook has a
// heading every 600 bytes. The tags are one each and the policy keeps headings, so its output is
// as many tags, in order; if it is not, each tag goes through the policy on its own, as others do.
func (r *sanitizingRenderer) sanitizePending(st *renderState) error {
	if len(st.pending) == 0 {
		return nil
	}
	out := st.out.Bytes()
	var batch bytes.Buffer
	for _, p := range st.pending {
		batch.Write(out[p.start:p.end])
	}
	clean := make([][]byte, 0, len(st.pending))
	for rest := r.policy.SanitizeBytes(batch.Bytes()); len(rest) > 0; {
		end := bytes.IndexByte(rest[1:], '<') + 1
		if end == 0 {
			end = len(rest)
		}
		clean = append(clean, rest[:end])
		rest = rest[end:]
	}
	if !sameTags(out, st.pending, clean) {
		clean = clean[:0]
		for _, p := range st.pending {
			c := r.policy.SanitizeBytes(out[p.start:p.end])
			if startTags(c) != 1 {
				return fmt.Errorf("runbooks: the sanitizer dropped a heading: %q", out[p.start:p.end])
			}
			clean = append(clean, c)
		}
	}
	from := st.pending[0].start
	tail := bytes.Clone(out[from:])
	st.out.Truncate(from)
	at := from
	for i, p := range st.pending {
		st.out.Write(tail[at-from : p.start-from])
		st.out.Write(clean[i])
		at = p.end
	}
	st.out.Write(tail[at-from:])
	st.pending = st.pending[:0]
	return nil
}

// oneTag reports whether b is one tag and nothing else.
func oneTag(b []byte) bool {
	return len(b) > 1 && b[0] == '<' && b[len(b)-1] == '>' && bytes.Count(b, []byte("<")) == 1 && bytes.Count(b, []byte(">")) == 1
}

// sameTags reports whether clean is one start tag for each pending one, of the same element.
func sameTags(out []byte, pending []pendingTag, clean [][]byte) bool {
	if len(clean) != len(pending) {
		return false
	}
	for i, c := range clean {
		tag := out[pending[i].start:pending[i].end]
		name := tag[:bytes.IndexAny(tag, " \t\n\r\f/>")]
		if !oneTag(c) || !bytes.HasPrefix(c, name) || (c[len(name)] != ' ' && c[len(name)] != '>') {
			return false
		}
	}
	return true
}

var idAttribute = []byte("id")

// headingID gives a heading the ID its placeholder stands for.
func (st *renderState) headingID(n ast.Node) error {
	v, ok := n.Attribute(idAttribute)
	if !ok {
		return nil
	}
	b, _ := v.([]byte)
	i, ok := placeholderID(b)
	if !ok {
		return nil
	}
	if i >= len(st.ids) {
		return fmt.Errorf("runbooks: a heading's ID was not replayed: %q", b)
	}
	n.SetAttribute(idAttribute, st.ids[i])
	return nil
}

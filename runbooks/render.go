package runbooks

import (
	"bytes"
	"regexp"
	"runtime"
	"strings"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/text"
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
//   - no style attributes, no iframes, no forms; task-list checkboxes stay, disabled.

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
		goldmark.WithParserOptions(parser.WithAutoHeadingID()),
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
		sanitizer = p
		markdown = goldmark.New(append(markdownOptions(), goldmark.WithRenderer(newSanitizingRenderer(p)))...)
	})
	return markdown, sanitizer
}

// RenderMarkdown turns a runbook's Markdown into HTML that is safe to put into a page: nothing
// in it runs script, loads a frame or styles the page.
func RenderMarkdown(src string) (string, error) {
	return renderChunked(src, renderWorkers(len(src)))
}

// Rendering a large runbook is done in parallel after parsing: the document's top-level blocks
// (headings, paragraphs, lists, tables, code blocks) are cut into at most `workers` runs of about
// equal source size, and each run is rendered (and its tags sanitized) on its own, the results
// joined in order. Nothing in rendering depends on another top-level block: goldmark closes every
// element a top-level block opens, and the sanitizing renderer decides per tag.
// TestChunkedRenderingIsTheSinglePassRendering holds the pieces to the single pass's bytes.
//
// Parsing itself stays one pass (reference links and heading IDs are the whole document's).
// Small runbooks render in one piece: below parallelMinBytes the goroutines cost more than they
// save.
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

func renderChunked(src string, workers int) (string, error) {
	md, _ := renderer()
	sr := md.Renderer().(*sanitizingRenderer)
	source := []byte(src)
	doc := md.Parser().Parse(text.NewReader(source))
	runs := splitBlocks(doc, len(source), workers)
	out := make([]*bytes.Buffer, len(runs))
	errs := make([]error, len(runs))
	var wg sync.WaitGroup
	for i, run := range runs {
		render := func() {
			st := &renderState{}
			st.out.Grow(len(source) / len(runs) * 3 / 2) // HTML is about 1.3× its Markdown
			for n := run.first; n != run.end; n = n.NextSibling() {
				if err := sr.render(st, source, n); err != nil {
					errs[i] = err
					return
				}
			}
			out[i] = &st.out
		}
		if i == len(runs)-1 {
			render() // the last run on this goroutine
		} else {
			wg.Go(render)
		}
	}
	wg.Wait()
	size := 0
	for i := range out {
		if errs[i] != nil {
			return "", errs[i]
		}
		size += out[i].Len()
	}
	var sb strings.Builder
	sb.Grow(size)
	for i := range out {
		sb.Write(out[i].Bytes())
	}
	return sb.String(), nil
}

// blockRun is the top-level blocks from first up to (not including) end; end nil is the last.
type blockRun struct{ first, end ast.Node }

// splitBlocks cuts the document's top-level blocks into at most n runs of about equal source
// size (a block's size is where the next one starts in the source, less where it starts).
func splitBlocks(doc ast.Node, size, n int) []blockRun {
	first := doc.FirstChild()
	if n <= 1 || first == nil {
		return []blockRun{{first: first}}
	}
	runs := make([]blockRun, 0, n)
	start, target := first, size/n
	for c := first; c != nil; c = c.NextSibling() {
		next := c.NextSibling()
		if next == nil || len(runs) == n-1 {
			break
		}
		if at := sourceStart(next); at >= target*(len(runs)+1) {
			runs = append(runs, blockRun{first: start, end: next})
			start = next
		}
	}
	return append(runs, blockRun{first: start})
}

// sourceStart is where a block starts in the source: its first line, or its first child's for a
// container (a list, a quote); -1 when it has none.
func sourceStart(n ast.Node) int {
	for ; n != nil; n = n.FirstChild() {
		if n.Type() == ast.TypeBlock && n.Lines().Len() > 0 {
			return n.Lines().At(0).Start
		}
		if n.Type() != ast.TypeBlock {
			break
		}
	}
	return -1
}

package runbooks

import (
	"bytes"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/text"

	"golang.org/x/net/html"
)

// dangerousElements are elements that run script, load active content or restyle the page.
var dangerousElements = map[string]bool{"script": true, "iframe": true, "frame": true, "frameset": true, "object": true,
	"embed": true, "applet": true, "svg": true, "math": true, "style": true, "link": true, "meta": true, "base": true,
	"form": true, "button": true, "textarea": true, "select": true, "video": true, "audio": true, "source": true,
	"template": true, "noscript": true, "portal": true}

// urlAttributes are attributes a browser follows or loads.
var urlAttributes = map[string]bool{"href": true, "src": true, "action": true, "formaction": true, "xlink:href": true,
	"srcset": true, "poster": true, "background": true, "data": true, "cite": true, "longdesc": true}

// executable parses rendered HTML as a browser would and reports the first thing in it that could
// run script, load something active or restyle the page: a dangerous element, an event handler or
// style attribute, a URL attribute whose scheme (after the browser's entity decoding and
// whitespace stripping) is not http, https or mailto, or an input that is not a checkbox.
func executable(rendered string) string {
	z := html.NewTokenizer(strings.NewReader(rendered))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			if dangerousElements[tok.Data] {
				return "element <" + tok.Data + ">"
			}
			for _, a := range tok.Attr {
				key := strings.ToLower(a.Key)
				switch {
				case strings.HasPrefix(key, "on"):
					return "event handler " + key
				case key == "style":
					return "style attribute"
				case key == "srcdoc":
					return "srcdoc attribute"
				case tok.Data == "input" && key == "type" && a.Val != "checkbox":
					return "input of type " + a.Val
				case urlAttributes[key]:
					v := strings.Map(func(r rune) rune {
						if r <= ' ' || r == 0x7f {
							return -1 // browsers ignore whitespace and control characters in schemes
						}
						return r
					}, strings.ToLower(a.Val))
					if i := strings.IndexAny(v, ":/?#"); i >= 0 && v[i] == ':' {
						if scheme := v[:i]; scheme != "http" && scheme != "https" && scheme != "mailto" {
							return key + " with scheme " + scheme + ":"
						}
					}
				}
			}
		}
	}
}

// xssPayloads are Markdown and HTML that try to run script, load active content or restyle the
// page, in every form the rendering might let through.
var xssPayloads = map[string]string{
	"script tag":                    `<script>alert(1)</script>`,
	"script tag, mixed case":        `<ScRiPt src=//evil.example/x.js></sCrIpT>`,
	"script in a paragraph":         "Hello <script>alert(1)</script> world",
	"img onerror":                   `<img src=x onerror=alert(1)>`,
	"body onload":                   `<body onload=alert(1)>`,
	"div onmouseover":               `<div onmouseover="alert(1)">hover</div>`,
	"a javascript href":             `<a href="javascript:alert(1)">x</a>`,
	"a vbscript href":               `<a href="vbscript:msgbox(1)">x</a>`,
	"a data href":                   `<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>`,
	"a entity-encoded javascript":   `<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>`,
	"a hex-encoded javascript":      `<a href="&#x6A;avascript&#x3A;alert(1)">x</a>`,
	"a tab inside javascript":       "<a href=\"java\tscript:alert(1)\">x</a>",
	"svg with script":               `<svg><script>alert(1)</script></svg>`,
	"svg onload":                    `<svg onload=alert(1)>`,
	"svg use xlink":                 `<svg><use xlink:href="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+"/></svg>`,
	"iframe":                        `<iframe src="https://evil.example"></iframe>`,
	"iframe srcdoc":                 `<iframe srcdoc="<script>alert(1)</script>"></iframe>`,
	"object":                        `<object data="javascript:alert(1)"></object>`,
	"embed":                         `<embed src="javascript:alert(1)">`,
	"style attribute":               `<p style="background:url(javascript:alert(1))">x</p>`,
	"style element":                 `<style>body{background:url("javascript:alert(1)")}</style>`,
	"meta refresh":                  `<meta http-equiv="refresh" content="0;url=javascript:alert(1)">`,
	"form with action":              `<form action="javascript:alert(1)"><button>go</button></form>`,
	"math with href":                `<math><mtext><a href="javascript:alert(1)">x</a></mtext></math>`,
	"base href":                     `<base href="javascript:alert(1)//">`,
	"md link javascript":            `[click](javascript:alert(1))`,
	"md link javascript, spaced":    `[click]( javascript:alert(1) )`,
	"md link javascript, encoded":   `[click](&#106;avascript:alert(1))`,
	"md link javascript, percent":   `[click](javascript%3Aalert(1))`,
	"md link vbscript":              `[click](vbscript:msgbox(1))`,
	"md link data":                  `[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)`,
	"md link, angle brackets":       `[click](<javascript:alert(1)>)`,
	"md reference link":             "[click][1]\n\n[1]: javascript:alert(1)",
	"md image javascript":           `![x](javascript:alert(1))`,
	"md image data svg":             `![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)`,
	"md image data png":             `![x](data:image/png;base64,iVBORw0KGgo=)`,
	"md image vbscript":             `![x](vbscript:msgbox(1))`,
	"md image with onerror title":   `![x](https://example.com/a.png "\" onerror=\"alert(1))`,
	"md link title breaking out":    `[x](https://example.com "\"><script>alert(1)</script>")`,
	"autolink javascript":           `<javascript:alert(1)>`,
	"autolink data":                 `<data:text/html,<script>alert(1)</script>>`,
	"html in a table":               "| a | b |\n|---|---|\n| <script>alert(1)</script> | <img src=x onerror=alert(1)> |",
	"html in a heading":             `# <img src=x onerror=alert(1)>`,
	"html comment trick":            `<!--><script>alert(1)</script>-->`,
	"code span stays text":          "`<script>alert(1)</script>`",
	"fenced code stays text":        "```html\n<script>alert(1)</script>\n```",
	"unclosed attribute":            `<a href="https://ok.example" onclick="alert(1)`,
	"nested markdown in html":       `<a href="javascript:alert(1)">[x](https://ok.example)</a>`,
	"task list with handler":        `- [x] <span onclick=alert(1)>done</span>`,
	"input smuggled":                `<input type="image" src="x" onerror="alert(1)">`,
	"link to a javascript footnote": "Text[^1]\n\n[^1]: [x](javascript:alert(1))",
}

func TestRenderingLeavesNothingExecutable(t *testing.T) {
	for name, src := range xssPayloads {
		t.Run(name, func(t *testing.T) {
			out, err := RenderMarkdown(src)
			if err != nil {
				t.Fatal(err)
			}
			if what := executable(out); what != "" {
				t.Errorf("rendered %q to\n%s\nwhich still holds an %s", src, out, what)
			}
		})
	}
}

func TestRenderingKeepsGitHubFlavouredMarkdown(t *testing.T) {
	src := "# Restart the service\n\n" +
		"| step | command |\n|:---|---:|\n| 1 | `kubectl rollout restart` |\n\n" +
		"- [x] page the on-call\n- [ ] restart\n\n" +
		"See https://grafana.example.com/d/abc and [the wiki](https://wiki.example.com/x) or [local](/catalog).\n\n" +
		"~~old~~ ![graph](https://img.example.com/g.png)\n"
	out, err := RenderMarkdown(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`<h1 id="restart-the-service">Restart the service</h1>`,
		`<table>`, `<th align="left">step</th>`, `<td align="right"><code>kubectl rollout restart</code></td>`,
		`<input checked="" disabled="" type="checkbox"`, `<input disabled="" type="checkbox"`,
		`<a href="https://grafana.example.com/d/abc" rel="nofollow noreferrer noopener" target="_blank">https://grafana.example.com/d/abc</a>`,
		`<a href="https://wiki.example.com/x" rel="nofollow noreferrer noopener" target="_blank">the wiki</a>`,
		`<a href="/catalog" rel="nofollow">local</a>`,
		`<del>old</del>`, `<img src="https://img.example.com/g.png" alt="graph">`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("rendered HTML lacks %s:\n%s", want, out)
		}
	}
}

// No data: URI survives, not even an image's: the decision is that runbook images are linked.
func TestDataURIsAreDroppedEvenForImages(t *testing.T) {
	out, err := RenderMarkdown(`![dot](data:image/png;base64,iVBORw0KGgo=) <img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">`)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "data:") {
		t.Errorf("a data: URI survived: %s", out)
	}
}

// runbook100KB is a realistic runbook of about 100 KB: headings, lists, tables, code and links.
func runbook100KB() string {
	section := "## Step\n\nCheck the [dashboard](https://grafana.example.com/d/abc?var-app=payments) and run:\n\n" +
		"```sh\nkubectl -n payments rollout restart deployment/payments-api\n```\n\n" +
		"| signal | threshold | action |\n|---|---|---|\n| p99 latency | 500 ms | scale out |\n| errors | 1% | roll back |\n\n" +
		"- [ ] page the on-call\n- [x] open an incident <b>now</b>\n- read https://wiki.example.com/payments\n\n" +
		"Some *emphasis*, **strong** text and `code` in a paragraph that goes on for a while to look like prose.\n\n"
	var sb strings.Builder
	for sb.Len() < 100<<10 {
		sb.WriteString(section)
	}
	return sb.String()
}

// BenchmarkRender100KBRunbook is the target: rendering a 100 KB runbook in at most 10 ms.
func BenchmarkRender100KBRunbook(b *testing.B) {
	src := runbook100KB()
	if _, err := RenderMarkdown(src); err != nil {
		b.Fatal(err)
	}
	benchRender(b, src)
}

// benchRender renders src over and over, reporting the CPU time per render (cpu-ns/op: every
// core's, the parallel pieces' and the collector's included) beside wall time, since the machine
// may be shared.
func benchRender(b *testing.B, src string) {
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	cpu0, n := processCPU(), 0
	for b.Loop() {
		if _, err := RenderMarkdown(src); err != nil {
			b.Fatal(err)
		}
		n++
	}
	if n > 0 {
		b.ReportMetric(float64(processCPU()-cpu0)/float64(n), "cpu-ns/op")
	}
}

// processCPU is the user and system time the process has used, in nanoseconds.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// The checker above is what the XSS table rests on: it must see each kind of danger when it is
// there, or the table would pass on anything.
func TestTheExecutableCheckerSeesEveryDanger(t *testing.T) {
	for _, bad := range []string{
		`<script>x</script>`, `<p><svg></svg></p>`, `<img src="x" onerror="y">`, `<p style="color:red">x</p>`,
		`<a href="javascript:x">x</a>`, `<a href="&#106;avascript:x">x</a>`, "<a href=\"java\tscript:x\">x</a>",
		`<a href=" JAVASCRIPT:x">x</a>`, `<img src="data:image/png;base64,AA==">`, `<a href="vbscript:x">x</a>`,
		`<input type="text">`, `<iframe src="https://x.example"></iframe>`,
	} {
		if executable(bad) == "" {
			t.Errorf("the checker sees nothing wrong with %s", bad)
		}
	}
	for _, good := range []string{`<a href="https://x.example/a:b">x</a>`, `<a href="/catalog?x=a:b">x</a>`, `<a href="mailto:a@b.example">x</a>`,
		`<p>javascript:alert(1) onerror=x</p>`, `<input type="checkbox" disabled="">`} {
		if what := executable(good); what != "" {
			t.Errorf("the checker objects to %s: %s", good, what)
		}
	}
}

// BenchmarkRender100KBProseRunbook is a runbook of the same size that is mostly prose and code
// blocks, with a link or table now and then: what most runbooks look like. The dense one above
// (a link, a table and a task list every 600 bytes) is the worst case the target is held to.
func BenchmarkRender100KBProseRunbook(b *testing.B) {
	benchRender(b, proseRunbook100KB())
}

func proseRunbook100KB() string {
	para := "When the error rate of the payments API rises above one percent for five minutes, the on-call " +
		"engineer first checks whether a deployment is under way, then looks at the database connection pool, " +
		"and only then considers rolling back. Write down what you saw before you change anything.\n\n"
	section := "## Diagnose\n\n" + para + para + "```sh\nkubectl -n payments get pods -l app=payments-api\nkubectl -n payments logs deploy/payments-api --since=10m\n```\n\n" +
		para + "See [the dashboard](https://grafana.example.com/d/abc).\n\n"
	var sb strings.Builder
	for sb.Len() < 100<<10 {
		sb.WriteString(section)
	}
	return sb.String()
}

// payloadRunbook is raw HTML and payloads spread over blank lines, with every kind of block, so
// that they cross the pieces' cuts.
func payloadRunbook() string {
	var payloads strings.Builder
	for _, p := range []string{
		"<script>\nalert(1)\n\n</script>", "<!--\n\n<script>alert(1)</script>\n\n-->", "<div onclick=x>\n\n*md*\n\n</div>",
		"<style>\n\np{}\n\n</style>", "<svg>\n\n<script>alert(1)</script>\n\n</svg>", "- a\n\n  <script>x</script>\n\n- b\n\n  ```\n  code\n\n  more\n  ```",
		"> quote\n>\n> [x](javascript:alert(1))", "[ref]: javascript:alert(1)\n\n[link][ref] [ok][good]\n\n[good]: https://ok.example",
		"1. one\n\n2. two\n\n   | a | b |\n   |---|---|\n   | <img src=x onerror=y> | c |", "***\n\n# Title {#custom}\n\n---",
		"<a href=\"javascript:alert(1)\">\n\nx\n\n</a>", "<iframe src=https://evil.example>\n\n</iframe>",
	} {
		for range 40 {
			payloads.WriteString(p)
			payloads.WriteString("\n\nSome text https://x.example/a and ![i](data:image/png;base64,AA==).\n\n")
		}
	}
	return payloads.String()
}

func proseRunbook() string {
	return strings.Repeat("## Diagnose\n\nWhen it fails, see [the dashboard](https://grafana.example.com/d/abc) and run:\n\n"+
		"```sh\nkubectl get pods\n\nkubectl logs x\n```\n\n", 400)
}

// onePass is the sanitizing renderer over one parse of the whole document (goldmark's own
// context: its reference definitions and heading IDs): what the pieces are held to.
func onePass(t testing.TB, src string) string {
	md, _ := renderer()
	var out bytes.Buffer
	doc := md.Parser().Parse(text.NewReader([]byte(src)))
	if err := md.Renderer().Render(&out, []byte(src), doc); err != nil {
		t.Fatalf("rendering %q in one pass: %v", src, err)
	}
	return out.String()
}

// everyCut is a number of pieces that cuts the source wherever it can be cut.
const everyCut = 1 << 20

// pieceCases are Markdown whose blocks or definitions reach across the cuts.
var pieceCases = map[string]string{
	"reference defined at the end":  "[x][r] and [y]\n\nText [r] again.\n\nMore\n\n[r]: https://r.example \"t\"\n\n[y]: /y\n",
	"reference defined twice":       "A [r] link.\n\n[r]: https://first.example\n\nB [r] link.\n\n[r]: https://second.example\n\nC [r].\n",
	"reference in a list and quote": "- [a]\n\n  [a]: https://a.example\n\n> [b]: https://b.example\n\nText [a] [b] [c].\n\n- x\n\n  [c]: javascript:alert(1)\n",
	"reference label over lines":    "See [foo\nbar].\n\nMore.\n\n[Foo\n  BAR]: https://foo.example\n",
	"heading IDs across pieces":     strings.Repeat("# Step\n\nText.\n\n## Step 1\n\nText.\n\nStep\n====\n\n# \n\n#\n\n", 8),
	"lazy continuation":             "> quote\ncontinued lazily\n\nNext\n\n- item\nlazy too\n\nAfter\n",
	"nested lists over a cut":       "- a\n\n  - b\n\n    c\n\n- d\n\nText\n\n1. one\n\n   two\n\n2) x\n\nEnd\n",
	"loose and tight lists":         "- a\n- b\n\nText\n\n- c\n\n- d\n\n\nText\n",
	"fences with blank lines":       "```\ncode\n\nNot a cut\n\n# nor this\n```\n\nText\n\n~~~~ sh\n~~~\n\nStill code\n~~~~\n\nAfter\n\n   ```\n\nIndented fence\n   ```\n\nEnd\n",
	"unclosed fence":                "Text\n\n```\n\nAll code\n\n# to the end\n",
	"fence in a list item":          "- item\n\n  ```\n  code\n\nLeaves the list and the fence\n\n```\n\nInside a top-level fence\n\n```\n\nAfter\n",
	"HTML blocks":                   "<!--\n\nHidden\n\n-->\n\nText\n\n<script>\n\nx\n\n</script>\n\nText\n\n<?php\n\nY\n\n?>\n\nA\n\n<!DOCTYPE\n\nZ\n\n>\n\nB\n\n<![CDATA[\n\nW\n\n]]>\n\nC\n\n<div>\nd\n\nE\n\n<pre><code>\n\nF\n</code></pre>\n\nG\n",
	"unclosed HTML block":           "Text\n\n<style>\n\nP\n\nQ\n",
	"setext headings":               "Title\n=====\n\nSub\n---\n\nPara\n\n---\n\nAfter\n===\n",
	"indented code":                 "    code\n\n    more\n\nText\n\n\tTab code\n\nEnd\n",
	"tables":                        "| a | b |\n|---|:-:|\n| 1 | 2 |\n\nName | Value\n--- | ---\nx | y\n\nText\n",
	"footnote syntax":               "Text[^1].\n\n[^1]: A note.\n\nMore[^1].\n",
	"CRLF lines":                    "# A\r\n\r\nText [r]\r\n\r\nB\r\n\r\n[r]: https://r.example\r\n",
}

// Rendering in pieces gives exactly the bytes of one pass over the whole document, whatever the
// number of pieces, for the benchmarks' runbooks, raw HTML and payloads spread over blank lines,
// and blocks and definitions that reach across the cuts.
func TestPiecesAreTheOnePassRendering(t *testing.T) {
	docs := map[string]string{"dense": runbook100KB(), "prose": proseRunbook(), "payloads": payloadRunbook()}
	for name, src := range pieceCases {
		docs[name] = src
	}
	for name, src := range docs {
		want := onePass(t, src)
		for _, n := range []int{1, 2, 3, 4, 5, 6, 7, everyCut} {
			got, err := renderPieces(src, n)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("%s in %d pieces (cuts %v) differs from one pass:\n%s\nwant\n%s", name, n, cutPoints([]byte(src), n), got, want)
			}
			if what := executable(got); what != "" {
				t.Errorf("%s in %d pieces still holds an %s", name, n, what)
			}
		}
	}
	if n := len(cutPoints([]byte(runbook100KB()), 4)); n != 3 {
		t.Errorf("the dense runbook is cut in %d places, want 3", n)
	}
	if n := len(cutPoints([]byte(proseRunbook()), 4)); n != 3 {
		t.Errorf("the prose runbook is cut in %d places, want 3", n)
	}
}

// The cutting reads lines, not blocks: here it takes a fence in a list item for a top-level one
// and cuts inside the top-level fence that follows. The piece before the cut shows it (it ends
// inside a fenced code block), and the rest is parsed in one piece.
func TestACutInsideABlockIsFoundAndUndone(t *testing.T) {
	src := pieceCases["fence in a list item"]
	inside := strings.Index(src, "Inside")
	if !slices.Contains(cutPoints([]byte(src), everyCut), inside) {
		t.Fatalf("no cut before %q (cuts %v): the case no longer tests the check", src[inside:], cutPoints([]byte(src), everyCut))
	}
	got, err := renderPieces(src, everyCut)
	if err != nil {
		t.Fatal(err)
	}
	if want := onePass(t, src); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// The cutting skips lines that only look like a block's start: inside fenced code and HTML
// blocks, after a line that is not blank, and lines that start with a space, a list marker, a
// quote or markup.
func TestCutsAreAtTheStartOfATopLevelBlock(t *testing.T) {
	src := "Para\nLetters\n\n- List\n\n> Quote\n\n  Indented\n\n<div>\n\n```\n\nCode\n```\n\n<!--\n\nComment\n-->\n\n1. One\n\n# Heading\n\nText\n"
	var got []string
	for _, at := range cutPoints([]byte(src), everyCut) {
		line, _, _ := strings.Cut(src[at:], "\n")
		got = append(got, line)
	}
	if want := []string{"# Heading", "Text"}; !slices.Equal(got, want) {
		t.Errorf("cut before %q, want %q", got, want)
	}
}

// FuzzPiecesAreTheOnePassRendering holds any Markdown, cut wherever it can be, to one pass over
// the whole document, byte for byte. `go test ./runbooks/ -run '^$' -fuzz
// FuzzPiecesAreTheOnePassRendering` looks further.
func FuzzPiecesAreTheOnePassRendering(f *testing.F) {
	for _, cases := range []map[string]string{pieceCases, xssPayloads, renderingCases} {
		for _, src := range cases {
			f.Add(src)
		}
	}
	f.Add(payloadRunbook()[:4000])
	f.Fuzz(func(t *testing.T, src string) {
		want := onePass(t, src)
		for _, n := range []int{2, everyCut} {
			got, err := renderPieces(src, n)
			if err != nil {
				t.Fatalf("rendering %q in %d pieces: %v", src, n, err)
			}
			if got != want {
				t.Errorf("%q in %d pieces (cuts %v) gives\n%s\nbut one pass gives\n%s", src, n, cutPoints([]byte(src), n), got, want)
			}
		}
	})
}

// wholeDocumentSanitized is what bluemonday makes of goldmark's own rendering of the whole
// document: the reference the sanitizing renderer is held to.
func wholeDocumentSanitized(t testing.TB, src string) string {
	var whole bytes.Buffer
	if err := goldmark.New(markdownOptions()...).Convert([]byte(src), &whole); err != nil {
		t.Fatal(err)
	}
	_, p := renderer()
	return p.Sanitize(whole.String())
}

// canonical is HTML as a browser reads it: the tokens, with each text run (entities decoded) and
// each attribute value escaped one way, and the attributes in name order, so that two renderings
// compare equal exactly when they are the same elements, attributes and text.
func canonical(s string) string {
	var out, text strings.Builder
	flush := func() {
		out.WriteString(html.EscapeString(text.String()))
		text.Reset()
	}
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			flush()
			return out.String()
		}
		tok := z.Token()
		if tt == html.TextToken {
			text.WriteString(tok.Data)
			continue
		}
		flush()
		switch tt {
		case html.StartTagToken, html.SelfClosingTagToken:
			slices.SortFunc(tok.Attr, func(a, b html.Attribute) int { return strings.Compare(a.Key, b.Key) })
			out.WriteString("<" + tok.Data)
			for _, a := range tok.Attr {
				out.WriteString(" " + a.Key + `="` + html.EscapeString(a.Val) + `"`)
			}
			out.WriteString(">")
		case html.EndTagToken:
			out.WriteString("</" + tok.Data + ">")
		default:
			out.WriteString(tok.String()) // comments and doctypes: there should be none
		}
	}
}

// The renderer sanitizes only the tags goldmark writes with attributes (and drops raw HTML);
// what comes out is what bluemonday makes of goldmark's whole output, token for token, for every
// payload, every kind of block and the benchmarks' runbooks.
func TestRenderingIsBluemondayOverTheWholeDocument(t *testing.T) {
	docs := map[string]string{"dense": runbook100KB(), "prose": proseRunbook(), "payloads": payloadRunbook()}
	for name, src := range xssPayloads {
		docs["payload "+name] = src
	}
	for name, src := range renderingCases {
		docs[name] = src
	}
	for name, src := range docs {
		got, err := RenderMarkdown(src)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if want := wholeDocumentSanitized(t, src); canonical(got) != canonical(want) {
			t.Errorf("%s: rendered %q to\n%s\nbut bluemonday over the whole document gives\n%s", name, src, got, want)
		}
	}
}

// renderingCases are Markdown whose rendering writes every attribute goldmark knows, with values
// the policy keeps, changes and refuses.
var renderingCases = map[string]string{
	"heading IDs":            "# Plain\n\n## Ünïcödé heading\n\n### 123 !!! ???\n\n#### Same\n\n#### Same\n\n##### <b>x</b>\n\n###### `code`",
	"setext headings":        "Title\n=====\n\nSub\n---",
	"code languages":         "```sh\nx\n```\n\n```c++\ny\n```\n\n```\"><script>alert(1)</script>\nz\n```\n\n~~~ go {.x}\nw\n~~~\n\n    indented <b>",
	"ordered list starts":    "3. three\n4. four\n\n0. zero\n\n1) one\n\n123456789. big",
	"table alignments":       "| l | c | r | n |\n|:--|:-:|--:|---|\n| 1 | 2 | 3 | 4 |",
	"task lists":             "- [ ] open\n- [x] done\n- [X] done too\n  - [ ] nested",
	"link titles":            `[a](https://x.example "plain title") [b](https://x.example 'it''s') [c](https://x.example (paren <b>)) [d](/rel "t&amp;t")`,
	"image titles and alts":  `![alt *emph* **strong**](https://img.example/a.png "T") ![](https://img.example/b.png) ![a "q" <b>](/rel.png)`,
	"relative and odd URLs":  "[a](/x?y=1&z=2#f) [b](#frag) [c](//evil.example/x) [d](mailto:a@b.example) [e](ftp://x.example) [f](HTTPS://X.EXAMPLE) [g](<https://x.example/a b>) [h](https://x.example/%zz)",
	"autolinks":              "<https://x.example/a?b=c&d=e> <mailto:a@b.example> <a@b.example> www.example.com/x https://x.example/\"><b> ftp://x.example foo@bar.example",
	"entities and escapes":   "&copy; &amp; &lt;b&gt; &#x27; &#39; &quot; \\<b> \\* ' \" < > &nosuch;",
	"emphasis and breaks":    "*a* **b** ~~c~~ `d` line  \nbreak\\\nmore\n\n---\n\n> quote\n> > nested",
	"reference links":        "[x][r] [y][] [r]\n\n[r]: https://x.example \"title\"\n[y]: javascript:alert(1)",
	"links in links":         "[a [b](https://b.example) c](https://a.example) [![img](https://i.example/x.png)](https://l.example)",
	"raw HTML everywhere":    "<div>\n\n*x*\n\n</div>\n\na <span>b</span> <!-- c --> <?php d ?> <![CDATA[e]]> <!DOCTYPE html>\n\n<pre>\nkept?\n</pre>",
	"heading attribute text": "# Title {#custom .cls onclick=alert(1)}",
}

// FuzzRenderingIsBluemondayOverTheWholeDocument holds any Markdown to the same: the renderer's
// HTML is bluemonday's over goldmark's whole output, token for token, and holds nothing
// executable. Its seeds run with the tests; `go test ./runbooks/ -run '^$' -fuzz
// FuzzRenderingIsBluemondayOverTheWholeDocument` looks further.
func FuzzRenderingIsBluemondayOverTheWholeDocument(f *testing.F) {
	for _, src := range xssPayloads {
		f.Add(src)
	}
	for _, src := range renderingCases {
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src string) {
		got, err := RenderMarkdown(src)
		if err != nil {
			t.Fatalf("rendering %q: %v", src, err)
		}
		if want := wholeDocumentSanitized(t, src); canonical(got) != canonical(want) {
			t.Errorf("rendered %q to\n%s\nbut bluemonday over the whole document gives\n%s", src, got, want)
		}
		if what := executable(got); what != "" {
			t.Errorf("rendered %q to\n%s\nwhich still holds an %s", src, got, what)
		}
	})
}

// Every payload and case again inside each kind of container (a list item, a quote, a table
// cell, a heading, a link's text, emphasis, a nested list), where what goldmark writes around it
// differs: still bluemonday's rendering of the whole document, token for token.
func TestRenderingIsBluemondayOverTheWholeDocumentInContainers(t *testing.T) {
	contexts := []string{"- %s", "> %s", "| a | b |\n|:-|-:|\n| %s | x |", "# %s", "[%s](https://x.example/l)", "*%s* **x**",
		"1. x\n\n   - [ ] %s", "%s\n\n[ref]: https://x.example \"t\""}
	var fragments []string
	for _, src := range xssPayloads {
		fragments = append(fragments, src)
	}
	for _, src := range renderingCases {
		fragments = append(fragments, src)
	}
	for _, c := range contexts {
		for _, f := range fragments {
			src := strings.Replace(c, "%s", f, 1)
			got, err := RenderMarkdown(src)
			if err != nil {
				t.Fatalf("rendering %q: %v", src, err)
			}
			if want := wholeDocumentSanitized(t, src); canonical(got) != canonical(want) {
				t.Errorf("rendered %q to\n%s\nbut bluemonday over the whole document gives\n%s", src, got, want)
			}
			if what := executable(got); what != "" {
				t.Errorf("rendered %q to\n%s\nwhich still holds an %s", src, got, what)
			}
		}
	}
}

// Headings' start tags go through the policy together, and each comes out as the policy makes it
// on its own; when the policy does not give back one tag of the same element for each, every tag
// goes through it alone, and a tag it drops is an error, not output.
func TestHeadingTagsSanitizedTogetherAreSanitizedAlone(t *testing.T) {
	md, p := renderer()
	sr := md.Renderer().(*sanitizingRenderer)
	tags := []string{`<h2 id="step-1">`, `<h3 id="a b">`, `<h1 onclick="alert(1)" id="x">`, `<h4>`, `<h2 id="step-2" class="c">`}
	var want strings.Builder
	st := &renderState{out: new(bytes.Buffer)}
	for _, tag := range tags {
		st.out.WriteString("text<p>")
		want.WriteString("text<p>")
		start := st.out.Len()
		st.out.WriteString(tag)
		st.pending = append(st.pending, pendingTag{start, st.out.Len()})
		want.Write(p.SanitizeBytes([]byte(tag)))
	}
	st.out.WriteString("</h2>end")
	want.WriteString("</h2>end")
	if err := sr.sanitizePending(st); err != nil {
		t.Fatal(err)
	}
	if got := st.out.String(); got != want.String() {
		t.Errorf("got %s\nwant %s", got, want.String())
	}

	st = &renderState{out: bytes.NewBufferString(`<h2 id="a"><script src="x">`)}
	st.pending = []pendingTag{{0, 11}, {11, st.out.Len()}}
	if err := sr.sanitizePending(st); err == nil {
		t.Errorf("a tag the policy drops gave %s, want an error", st.out)
	}
}

// A runbook's steps keep their numbers: an ordered list that starts past 1 (steps after a code
// block, a list split by a note) keeps its start, which the policy allows on <ol> as a number only.
func TestAnOrderedListKeepsTheNumberItStartsAt(t *testing.T) {
	src := "1. Check the dashboard\n\n```\nkubectl get pods\n```\n\n2. Restart\n3. Verify\n\nThen:\n\n999999999. last\n"
	out, err := RenderMarkdown(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<ol>\n<li>Check the dashboard</li>", `<ol start="2">` + "\n<li>Restart</li>\n<li>Verify</li>", `<ol start="999999999">`} {
		if !strings.Contains(out, want) {
			t.Errorf("rendered HTML lacks %s:\n%s", want, out)
		}
	}
	// Only a number: a start attribute written any other way (raw HTML) is dropped with its tag.
	for _, src := range []string{`<ol start="javascript:alert(1)"><li>x</li></ol>`, "<ol start=\"2\" onclick=\"alert(1)\">\n<li>x</li>\n</ol>"} {
		out, err := RenderMarkdown(src)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out, "start") || strings.Contains(out, "onclick") {
			t.Errorf("raw HTML %q rendered to %q", src, out)
		}
	}
}

package runbooks

import (
	"bytes"
	"strings"
	"testing"

	"github.com/yuin/goldmark/ast"
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

func TestRenderingLeavesNothingExecutable(t *testing.T) {
	payloads := map[string]string{
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
	for name, src := range payloads {
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
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := RenderMarkdown(src); err != nil {
			b.Fatal(err)
		}
	}
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
	para := "When the error rate of the payments API rises above one percent for five minutes, the on-call " +
		"engineer first checks whether a deployment is under way, then looks at the database connection pool, " +
		"and only then considers rolling back. Write down what you saw before you change anything.\n\n"
	section := "## Diagnose\n\n" + para + para + "```sh\nkubectl -n payments get pods -l app=payments-api\nkubectl -n payments logs deploy/payments-api --since=10m\n```\n\n" +
		para + "See [the dashboard](https://grafana.example.com/d/abc).\n\n"
	var sb strings.Builder
	for sb.Len() < 100<<10 {
		sb.WriteString(section)
	}
	src := sb.String()
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := RenderMarkdown(src); err != nil {
			b.Fatal(err)
		}
	}
}

// Rendering a large runbook in parallel pieces gives exactly the bytes of one pass of goldmark and
// bluemonday over the whole document, whatever the number of pieces, for runbooks with every
// kind of block (and raw HTML and payloads spread over blank lines, across the cuts).
func TestChunkedRenderingIsTheSinglePassRendering(t *testing.T) {
	var payloads strings.Builder
	for _, p := range []string{
		"<script>\nalert(1)\n\n</script>", "<!--\n\n<script>alert(1)</script>\n\n-->", "<div onclick=x>\n\n*md*\n\n</div>",
		"<style>\n\np{}\n\n</style>", "<svg>\n\n<script>alert(1)</script>\n\n</svg>", "- a\n\n  <script>x</script>\n\n- b\n\n  ```\n  code\n\n  more\n  ```",
		"> quote\n>\n> [x](javascript:alert(1))", "[ref]: javascript:alert(1)\n\n[link][ref] [ok][good]\n\n[good]: https://ok.example",
		"1. one\n\n2. two\n\n   | a | b |\n   |---|---|\n   | <img src=x onerror=y> | c |", "***\n\n# Title {#custom}\n\n---",
		"<a href=\"javascript:alert(1)\">\n\nx\n\n</a>", "<iframe src=https://evil.example>\n\n</iframe>",
	} {
		for i := 0; i < 40; i++ {
			payloads.WriteString(p)
			payloads.WriteString("\n\nSome text https://x.example/a and ![i](data:image/png;base64,AA==).\n\n")
		}
	}
	prose := strings.Repeat("## Diagnose\n\nWhen it fails, see [the dashboard](https://grafana.example.com/d/abc) and run:\n\n"+
		"```sh\nkubectl get pods\n\nkubectl logs x\n```\n\n", 400)
	md, p := renderer()
	for name, src := range map[string]string{"dense": runbook100KB(), "prose": prose, "payloads": payloads.String()} {
		var whole bytes.Buffer
		if err := md.Convert([]byte(src), &whole); err != nil {
			t.Fatal(err)
		}
		want := p.SanitizeBytes(whole.Bytes())
		for workers := 1; workers <= 7; workers++ {
			got, err := renderChunked(src, workers)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("%s in %d pieces differs from one pass (%d bytes, want %d)", name, workers, len(got), len(want))
			}
			if what := executable(got); what != "" {
				t.Errorf("%s in %d pieces still holds an %s", name, workers, what)
			}
		}
	}
	if n := len(splitBlocks(mustParse(runbook100KB()), len(runbook100KB()), 4)); n != 4 {
		t.Errorf("the dense runbook is cut into %d pieces, want 4", n)
	}
}

func mustParse(src string) ast.Node {
	md, _ := renderer()
	return md.Parser().Parse(text.NewReader([]byte(src)))
}

package runbooks

import (
	"bytes"
	"regexp"
	"sync"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
)

// Rendering: Markdown becomes HTML with goldmark (GitHub-flavoured: tables, task lists,
// strikethrough, autolinks; headings get IDs for deep links), and that HTML goes through a
// bluemonday policy before anyone sees it. goldmark already leaves raw HTML out and empties
// dangerous link destinations, but the sanitizer is what the safety rests on: it keeps only the
// elements and attributes listed in its policy, whatever goldmark (or a later option) emits.
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

func renderer() (goldmark.Markdown, *bluemonday.Policy) {
	mdOnce.Do(func() {
		markdown = goldmark.New(
			goldmark.WithExtensions(
				extension.NewTable(extension.WithTableCellAlignMethod(extension.TableCellAlignAttribute)),
				extension.Strikethrough, extension.Linkify, extension.TaskList,
			),
			goldmark.WithParserOptions(parser.WithAutoHeadingID()),
		)
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
	})
	return markdown, sanitizer
}

// RenderMarkdown turns a runbook's Markdown into HTML that is safe to put into a page: nothing
// in it runs script, loads a frame or styles the page.
func RenderMarkdown(src string) (string, error) {
	md, p := renderer()
	var buf bytes.Buffer
	buf.Grow(len(src) + len(src)/4)
	if err := md.Convert([]byte(src), &buf); err != nil {
		return "", err
	}
	return p.SanitizeReader(&buf).String(), nil
}

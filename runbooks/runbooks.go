// Package runbooks is the runbooks and dashboards domain: runbooks kept in Portside (Markdown,
// versioned: every edit is a new immutable version, diffable) or kept elsewhere (a link), linked
// to catalog components and systems; the runbook and dashboard links catalog entries declare
// (metadata.links, the portside.dev/runbooks and portside.dev/dashboards annotations, Grafana's
// annotations), with per-component templating; and a background check of those links. The domain
// knows no transport; it reads the catalog and the rollouts through small interfaces.
//
// Alerts (Alertmanager) live in package alerts: it maps them to components by the
// alert-label-selector annotation and finds a rule's runbooks among the component's (EntityLinks,
// ForEntity) by their titles.
package runbooks

import (
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/text"
)

// Kind says where a runbook's content lives.
type Kind string

// The kinds.
const (
	// Markdown runbooks are kept (and versioned) in Portside.
	Markdown Kind = "MARKDOWN"
	// Link runbooks point to a document kept elsewhere (a wiki page, a Google doc).
	Link Kind = "LINK"
)

// Input bounds. A runbook is read during incidents; these keep one request's cost small.
const (
	MaxTitle   = 200
	MaxBody    = 256 << 10 // bytes of Markdown
	MaxURL     = 2048
	MaxMessage = 1000
	// MaxLinks bounds the entities one runbook is linked to, and the refs one request names.
	MaxLinks = 50
	// MaxPage bounds a page of runbooks or versions.
	MaxPage = 100
	// MaxQuery bounds a title or text search (bytes).
	MaxQuery = 200
)

// Runbook is a runbook's current state.
type Runbook struct {
	ID    int64
	Title string
	Kind  Kind
	// URL is where a LINK runbook's document is ("" for MARKDOWN).
	URL string
	// Markdown is a MARKDOWN runbook's current text ("" for LINK).
	Markdown string
	// Version is the number of the newest version (1 for a new runbook); an edit names it.
	Version int
	// Links are the canonical refs of the entities the runbook is linked to, sorted.
	Links     []string
	CreatedBy string
	CreatedAt time.Time
	UpdatedBy string
	UpdatedAt time.Time
}

// Version is one immutable version of a runbook: what it said after one edit, and who made it.
type Version struct {
	Runbook   int64
	Number    int
	Title     string
	URL       string
	Markdown  string
	Author    string
	Message   string
	CreatedAt time.Time
}

// checkTitle refuses an empty, too long or multi-line title, and one that does not read as what
// it says: control characters (a terminal's escapes, a tab) and bidirectional controls (which
// make a title read as other text) are refused, as in task titles and token names.
func checkTitle(field, title string) error {
	t := strings.TrimSpace(title)
	switch {
	case t == "":
		return errs.InvalidField(field, "is empty; give the runbook a title")
	case len(title) > MaxTitle:
		return errs.InvalidField(field, "has %d bytes; at most %d", len(title), MaxTitle)
	case strings.ContainsAny(title, "\r\n\u0085\u2028\u2029"):
		return errs.InvalidField(field, "spans several lines; a title is one line")
	}
	if err := text.Storable(field, title); err != nil {
		return err
	}
	return text.Name(field, title, MaxTitle)
}

// checkBody refuses Markdown over the size bound or not storable text.
func checkBody(field, body string) error {
	switch {
	case len(body) > MaxBody:
		return errs.InvalidField(field, "has %d bytes; at most %d (256 KiB)", len(body), MaxBody)
	}
	return text.Storable(field, body)
}

// checkURL refuses anything but an absolute http(s) URL of bounded length: a runbook link is
// opened by people in a browser during an incident, so javascript:, data: and relative URLs
// never get through.
func checkURL(field, raw string) error {
	if raw == "" {
		return errs.InvalidField(field, "is empty; a LINK runbook needs the URL of its document")
	}
	if len(raw) > MaxURL {
		return errs.InvalidField(field, "has %d bytes; at most %d", len(raw), MaxURL)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return errs.InvalidField(field, "%q is not an absolute http or https URL", clip(raw, 80))
	}
	return nil
}

func checkMessage(field, msg string) error {
	if len(msg) > MaxMessage {
		return errs.InvalidField(field, "has %d bytes; at most %d", len(msg), MaxMessage)
	}
	return text.Storable(field, msg)
}

// clip shortens s for a message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

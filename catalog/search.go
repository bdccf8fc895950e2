package catalog

import (
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/portside-dev/portside/catalog/backstage"
)

// Text search works on words: runs of letters and digits, lower case, accents removed ("Zürich"
// is "zurich"). Portside normalises entity text and query text with the same function and gives
// the databases the result, so SQLite's FTS5 and PostgreSQL's tsvector index the same words and a
// query finds the same entities on both.

// normalizeWords returns the words of s, in order.
func normalizeWords(s string) []string {
	var b strings.Builder
	for _, r := range norm.NFD.String(strings.ToLower(s)) {
		switch {
		case unicode.Is(unicode.Mn, r): // a combining accent, split off by NFD
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		default:
			b.WriteByte(' ')
		}
	}
	return strings.Fields(b.String())
}

// searchText is what the search index holds for an entity.
func searchText(e *backstage.Entity) string {
	parts := []string{e.Metadata.Name, e.Metadata.Title, e.Metadata.Description, strings.Join(e.Metadata.Tags, " ")}
	return strings.Join(normalizeWords(strings.Join(parts, " ")), " ")
}

// searchWords are the distinct words of a query, sorted.
func searchWords(text string) []string {
	words := normalizeWords(text)
	slices.Sort(words)
	return slices.Compact(words)
}

package catalog

import (
	"strings"

	"github.com/portside-dev/portside/catalog/backstage"
	"github.com/portside-dev/portside/internal/words"
)

// Text search works on words (package words: runs of letters and digits, lower case, accents
// removed). Portside normalises entity text and query text with the same functions and gives the
// databases the result, so SQLite's FTS5 and PostgreSQL's tsvector index the same words and a
// query finds the same entities on both; the runbook search does the same.

// normalizeWords returns the words of s, in order.
func normalizeWords(s string) []string { return words.Normalize(s) }

// searchText is what the search index holds for an entity: the words of its name, title, tags
// and description, in that order, as many as fit in maxSearchTextBytes (a search is by words,
// whatever their order: the description comes last so that it is what a bound cuts).
func searchText(e *backstage.Entity) string {
	return words.Bounded(words.Index(e.Metadata.Name, e.Metadata.Title, strings.Join(e.Metadata.Tags, " "), e.Metadata.Description), maxSearchTextBytes)
}

// maxSearchTextBytes bounds the text an entity is searched by. PostgreSQL's tsvector holds at
// most 1 MiB, and a document may be 32 MiB: an entity with a 1.4 MB description failed its whole
// location's refresh (string is too long for tsvector). A tsvector holds each distinct word once
// with its positions, about 8 bytes for every 4 of text at worst (short distinct words: the
// lexeme, its entry, a position, alignment), so 256 KiB of words stay well under the bound; only
// a description past 256 KiB loses its last words to search, on both databases alike.
const maxSearchTextBytes = 256 << 10

// searchWords are the distinct words of a query, sorted.
func searchWords(text string) []string { return words.Query(text) }

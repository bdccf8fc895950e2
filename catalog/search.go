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

// searchText is what the search index holds for an entity: the words of its name, title,
// description and tags, as many as fit in maxSearchTextBytes.
func searchText(e *backstage.Entity) string {
	return words.Bounded(words.Index(e.Metadata.Name, e.Metadata.Title, e.Metadata.Description, strings.Join(e.Metadata.Tags, " ")), maxSearchTextBytes)
}

// maxSearchTextBytes bounds the text an entity is searched by. PostgreSQL's tsvector holds at
// most 1 MiB, and a document may be 32 MiB: an entity with a 1.4 MB description failed its whole
// location's refresh (string is too long for tsvector). The tsvector of 256 KiB of words is at
// most about 2.75 times as long (distinct three-letter words: 3 bytes of lexeme, 8 of entry and
// position for every 4 of text), well under the bound; the name, title and tags come first, so
// only a description past 256 KiB loses its last words to search, on both databases alike.
const maxSearchTextBytes = 256 << 10

// searchWords are the distinct words of a query, sorted.
func searchWords(text string) []string { return words.Query(text) }

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

// searchText is what the search index holds for an entity.
func searchText(e *backstage.Entity) string {
	return words.Index(e.Metadata.Name, e.Metadata.Title, e.Metadata.Description, strings.Join(e.Metadata.Tags, " "))
}

// searchWords are the distinct words of a query, sorted.
func searchWords(text string) []string { return words.Query(text) }

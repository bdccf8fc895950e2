// Package words holds how Portside's text searches see text: as words, runs of letters and
// digits, lower case, accents removed ("Zürich" is "zurich"). The catalog's entity search and the
// runbook search index and query through the same functions, and give the databases the result,
// so SQLite's FTS5 and PostgreSQL's tsvector hold the same words and a query finds the same rows
// on both.
package words

import (
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Normalize returns the words of s, in order.
func Normalize(s string) []string {
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

// Index is the text a search index holds for parts: their words, space-separated.
func Index(parts ...string) string {
	n := 0
	for _, p := range parts {
		if !isASCII(p) {
			return strings.Join(Normalize(strings.Join(parts, " ")), " ")
		}
		n += len(p) + 1
	}
	// ASCII text (nearly every entity's) has no accents to remove, and its letters and digits
	// are [a-zA-Z0-9]: its words are found a byte at a time, for a fraction of the cost of
	// normalising it, with the same result.
	b := make([]byte, 0, n)
	for _, p := range parts {
		for i := 0; i < len(p); i++ {
			c := p[i]
			switch {
			case 'A' <= c && c <= 'Z':
				c += 'a' - 'A'
			case 'a' <= c && c <= 'z' || '0' <= c && c <= '9':
			default:
				c = ' '
			}
			if c == ' ' && (len(b) == 0 || b[len(b)-1] == ' ') {
				continue
			}
			b = append(b, c)
		}
		if len(b) > 0 && b[len(b)-1] != ' ' {
			b = append(b, ' ') // parts are joined by a space
		}
	}
	if len(b) > 0 && b[len(b)-1] == ' ' {
		b = b[:len(b)-1]
	}
	return string(b)
}

// Bounded is index text (Index's: words separated by one space) cut to its words that fit in
// max bytes, whole words only.
func Bounded(text string, max int) string {
	if len(text) <= max {
		return text
	}
	if cut := strings.LastIndexByte(text[:max+1], ' '); cut >= 0 {
		return text[:cut]
	}
	return "" // one word longer than max
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// Query returns the distinct words of a query, sorted.
func Query(text string) []string {
	words := Normalize(text)
	slices.Sort(words)
	return slices.Compact(words)
}

// FTS5Match is SQLite's full-text query of a search text: every word as a prefix, all of them;
// false when the text has no word.
func FTS5Match(text string) (string, bool) {
	words := Query(text)
	if len(words) == 0 {
		return "", false
	}
	terms := make([]string, len(words))
	for i, w := range words {
		terms[i] = `"` + w + `"*`
	}
	return strings.Join(terms, " "), true
}

// TSQuery is PostgreSQL's to_tsquery('simple', …) text of a search text: every word as a
// prefix, all of them; false when the text has no word.
func TSQuery(text string) (string, bool) {
	words := Query(text)
	if len(words) == 0 {
		return "", false
	}
	terms := make([]string, len(words))
	for i, w := range words {
		terms[i] = w + ":*"
	}
	return strings.Join(terms, " & "), true
}

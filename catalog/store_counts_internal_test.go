package catalog

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// An entity is counted once under each distinct prefix of its words, up to 32 characters (not
// bytes), whichever of its words share it and however often a word comes, but under none of more
// than three digits alone; a word PostgreSQL leaves out of the tsvector (2,047 bytes or more)
// gives none: each word's prefixes past what it shares with the word before it.
func TestAnEntityIsCountedOnceUnderEachPrefixOfItsWords(t *testing.T) {
	long := strings.Repeat("é", 40)
	for _, c := range []struct {
		text string
		want []string
	}{
		{"", nil},
		{"pay", []string{"p", "pa", "pay"}},
		{"payments pay paypal pay", []string{"p", "pa", "pay", "paym", "payme", "paymen", "payment", "payments", "payp", "paypa", "paypal"}},
		{"go api go", []string{"a", "ap", "api", "g", "go"}},
		{"日本語 日本", []string{"日", "日本", "日本語"}},
		{long, prefixesOf(long, 32)},
		{strings.Repeat("x", 2047) + " xy", []string{"x", "xy"}},
		{strings.Repeat("x", 2046), prefixesOf(strings.Repeat("x", 2046), 32)},
		{"2024 2024rc1 v2", []string{"2", "20", "202", "2024r", "2024rc", "2024rc1", "v", "v2"}},
		{"123456 1234 12 8080 123x", []string{"1", "12", "123", "123x", "8", "80", "808"}},
		{"00042 000 0", []string{"0", "00", "000"}},
		{strings.Repeat("7", 40) + " " + strings.Repeat("7", 2047), []string{"7", "77", "777"}},
		{"日本 123日本", []string{"1", "12", "123", "123日", "123日本", "日", "日本"}},
	} {
		var got []string
		seen := map[string]bool{}
		sortedWords(c.text, func(w string, shared int) {
			prefixesAfter(w, shared, func(p string) {
				if seen[p] {
					t.Errorf("%.40q: prefix %q given twice", c.text, p)
				}
				seen[p] = true
				got = append(got, p)
			})
		})
		if d := cmp.Diff(c.want, got); d != "" {
			t.Errorf("%.40q (-want +got):\n%s", c.text, d)
		}
	}
}

// prefixesOf lists the first n prefixes of w, by character.
func prefixesOf(w string, n int) []string {
	var out []string
	for i := range w {
		if i > 0 {
			out = append(out, w[:i])
		}
	}
	out = append(out, w)
	return out[:min(n, len(out))]
}

// A search word's matches are counted from the row of the word itself when it has at most 32
// characters and is not four digits or more alone; otherwise the row of a prefix of it bounds
// them.
func TestASearchWordIsCountedByItsCountedPrefix(t *testing.T) {
	long := strings.Repeat("é", 40)
	for _, c := range []struct {
		word, prefix string
		whole        bool
	}{
		{"pay", "pay", true},
		{"123", "123", true},
		{"1234", "123", false},
		{"00042", "000", false},
		{"1234x", "1234x", true},
		{"v2024", "v2024", true},
		{long, string([]rune(long)[:32]), false},
		{strings.Repeat("1", 40), "111", false},
		{strings.Repeat("1", 33) + "x", "111", false},
		{"2024rc", "2024rc", true},
	} {
		prefix, whole := countedPrefix(c.word)
		if prefix != c.prefix || whole != c.whole {
			t.Errorf("countedPrefix(%.12q) = %q, %v; want %q, %v", c.word, prefix, whole, c.prefix, c.whole)
		}
	}
}

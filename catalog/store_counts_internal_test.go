package catalog

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// An entity is counted once under each distinct prefix of its words, up to 32 characters (not
// bytes), whichever of its words share it and however often a word comes; a word PostgreSQL
// leaves out of the tsvector (2,047 bytes or more) gives none: each word's prefixes past what it
// shares with the word before it.
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

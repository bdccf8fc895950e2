package words

import (
	"slices"
	"strings"
	"testing"
)

func TestWordsAreLowerCaseRunsOfLettersAndDigitsWithoutAccents(t *testing.T) {
	for in, want := range map[string][]string{
		"Zürich payments-API v2": {"zurich", "payments", "api", "v2"},
		"  Crème brûlée; ÉTÉ!  ": {"creme", "brulee", "ete"},
		"kubectl -n x_y logs":    {"kubectl", "n", "x", "y", "logs"},
		"«»—…":                   nil,
	} {
		if got := Normalize(in); !slices.Equal(got, want) {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Index("Payments down", "Restart the *API*"); got != "payments down restart the api" {
		t.Errorf("Index = %q", got)
	}
}

func TestQueriesMatchEveryWordAsAPrefix(t *testing.T) {
	if m, ok := FTS5Match("Pay pay DOWN"); !ok || m != `"down"* "pay"*` {
		t.Errorf("FTS5Match = %q, %v", m, ok)
	}
	if q, ok := TSQuery("Pay pay DOWN"); !ok || q != "down:* & pay:*" {
		t.Errorf("TSQuery = %q, %v", q, ok)
	}
	if _, ok := FTS5Match(`"*" ()`); ok {
		t.Error("a text without words makes an FTS5 query")
	}
	if _, ok := TSQuery(`& | ! :*`); ok {
		t.Error("a text without words makes a tsquery")
	}
}

// Index has a path of its own for ASCII text; it finds the words Normalize finds.
func TestIndexOfASCIITextIsItsNormalizedWords(t *testing.T) {
	parts := []string{"", " ", "a", "Payments-API v2", "  x__y  ", "ÀB", "tab\there", "1.2.3", "--", "Z"}
	for _, a := range parts {
		for _, b := range parts {
			for _, c := range parts {
				want := strings.Join(Normalize(strings.Join([]string{a, b, c}, " ")), " ")
				if got := Index(a, b, c); got != want {
					t.Errorf("Index(%q, %q, %q) = %q, want %q", a, b, c, got, want)
				}
			}
		}
	}
	var all []byte
	for c := range 128 {
		all = append(all, byte(c))
	}
	if got, want := Index(string(all)), strings.Join(Normalize(string(all)), " "); got != want {
		t.Errorf("Index of every ASCII byte = %q, want %q", got, want)
	}
}

// Bounded keeps the whole words that fit: a cut never leaves part of a word, which a search
// would then find as a word of its own.
func TestBoundedTextKeepsWholeWords(t *testing.T) {
	for _, c := range []struct {
		text string
		max  int
		want string
	}{
		{"alpha beta gamma", 16, "alpha beta gamma"},
		{"alpha beta gamma", 15, "alpha beta"},
		{"alpha beta gamma", 10, "alpha beta"},
		{"alpha beta gamma", 9, "alpha"},
		{"alpha beta gamma", 4, ""},
		{"", 0, ""},
	} {
		if got := Bounded(c.text, c.max); got != c.want {
			t.Errorf("Bounded(%q, %d) = %q, want %q", c.text, c.max, got, c.want)
		}
	}
}

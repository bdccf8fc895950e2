package backstage

import (
	"regexp"
	"strings"
	"testing"
)

// matchers pairs each byte-level matcher with the regular expression it replaced: the oracle.
var matchers = []struct {
	name    string
	pattern *regexp.Regexp
	match   func(string) bool
}{
	{"null", regexp.MustCompile(`^(?:~|[Nn]ull|NULL)?$`), isCoreNull},
	{"bool", regexp.MustCompile(`^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$`), isCoreBool},
	{"int", regexp.MustCompile(`^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$`), isCoreInt},
	{"float", regexp.MustCompile(`^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$`), isCoreFloat},
	{"simple key", regexp.MustCompile(`^[A-Za-z0-9_$-]+$`), isSimpleKey},
	{"object name", regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`), isObjectName},
	{"dns label", regexp.MustCompile(`^[a-z0-9]+(?:-+[a-z0-9]+)*$`), isDNSLabel},
	{"kind", regexp.MustCompile(`^[a-zA-Z][a-z0-9A-Z]*$`), isKind},
	{"api version suffix", regexp.MustCompile(`^[a-z0-9A-Z]+$`), isAPIVersionSuffix},
	{"tag", regexp.MustCompile(`^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$`), isTag},
}

// matchSeeds are strings near the edges of the patterns.
var matchSeeds = []string{
	"", "~", "null", "Null", "NULL", "nUll", "true", "True", "TRUE", "tRue", "false", "False", "FALSE", "yes",
	"0", "-0", "+12", "007", "0o17", "0o8", "0o", "0x1F", "0xg", "0x", "0b1", "1_0", "-", "+", "--1",
	"1.5", ".5", "5.", ".", "1e3", "1E+3", "-1.5e-3", "1e", "1e+", ".e1", "1.e5", "+.inf", "-.Inf", ".INF", ".iNf",
	"+.nan", ".nan", ".NaN", ".NAN", "a", "A", "a-b", "a--b", "a_b", "a.b", "-a", "a-", "_a", "a.", "Ab9",
	"c++", "tag#1", "a:b", "a-+", "+-a", "Zürich", "é", "a\x00b", "\xff", "a\xffb", "x$y", "$text", "a/b", "Comp0nent", "9a",
}

func TestMatchersAgreeWithTheirPatterns(t *testing.T) {
	check := func(s string) {
		for _, m := range matchers {
			if got, want := m.match(s), m.pattern.MatchString(s); got != want {
				t.Errorf("%s(%q) = %v, the pattern says %v", m.name, s, got, want)
			}
		}
	}
	for _, s := range matchSeeds {
		check(s)
	}
	// Every string of up to four characters over the characters the patterns care about.
	alphabet := []byte("0178aefxoAEFnNt.-+_:#$~e\xc3")
	var walk func(prefix []byte)
	walk = func(prefix []byte) {
		check(string(prefix))
		if len(prefix) == 4 {
			return
		}
		for _, c := range alphabet {
			walk(append(prefix, c))
		}
	}
	walk(nil)
}

func FuzzMatchersAgreeWithTheirPatterns(f *testing.F) {
	for _, s := range matchSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, m := range matchers {
			if got, want := m.match(s), m.pattern.MatchString(s); got != want {
				t.Fatalf("%s(%q) = %v, the pattern says %v", m.name, s, got, want)
			}
		}
	})
}

func TestCompareRefStringsIsComparingTheirStrings(t *testing.T) {
	parts := []string{"", "a", "a-b", "a:b", "ab", "b", "a/b", "default", "z"}
	var refs []Ref
	for _, k := range parts {
		for _, ns := range parts {
			for _, n := range parts {
				refs = append(refs, Ref{Kind: k, Namespace: ns, Name: n})
			}
		}
	}
	for _, a := range refs {
		for _, b := range refs {
			if got, want := compareRefStrings(a, b), strings.Compare(a.String(), b.String()); got != want {
				t.Fatalf("compareRefStrings(%q, %q) = %d, want %d", a, b, got, want)
			}
		}
	}
}

package runbooks

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

func TestUnifiedDiffWritesWhatDiffUWrites(t *testing.T) {
	cases := []struct {
		name, from, to, want string
	}{
		{"equal texts", "a\nb\n", "a\nb\n", ""},
		{"both empty", "", "", ""},
		{"into an empty text", "", "a\nb\n", "--- x\n+++ y\n@@ -0,0 +1,2 @@\n+a\n+b\n"},
		{"all removed", "a\n", "", "--- x\n+++ y\n@@ -1 +0,0 @@\n-a\n"},
		{"one line changed in the middle", "1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\nfive\n6\n7\n8\n9\n",
			"--- x\n+++ y\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"},
		{"two changes far apart make two hunks", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n", "one\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\ntwelve\n",
			"--- x\n+++ y\n@@ -1,4 +1,4 @@\n-1\n+one\n 2\n 3\n 4\n@@ -9,4 +9,4 @@\n 9\n 10\n 11\n-12\n+twelve\n"},
		{"two changes six lines apart make one hunk", "1\n2\n3\n4\n5\n6\n7\n8\n", "one\n2\n3\n4\n5\n6\n7\neight\n",
			"--- x\n+++ y\n@@ -1,8 +1,8 @@\n-1\n+one\n 2\n 3\n 4\n 5\n 6\n 7\n-8\n+eight\n"},
		{"a missing final newline is marked", "a\nb", "a\nc",
			"--- x\n+++ y\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n"},
		{"adding the final newline", "a", "a\n", "--- x\n+++ y\n@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+a\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := UnifiedDiff("x", "y", c.from, c.to); got != c.want {
				t.Errorf("UnifiedDiff =\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}

// apply applies a unified diff written by UnifiedDiff to from, checking every context and
// removed line against it: the diff is right when it turns from into to.
func apply(t *testing.T, from, diff string) string {
	t.Helper()
	src := lines(from)
	var out []string
	pos := 0 // next line of src
	dl := strings.SplitAfter(diff, "\n")
	for i := 2; i < len(dl) && dl[i] != ""; i++ {
		h := dl[i]
		if !strings.HasPrefix(h, "@@ -") {
			t.Fatalf("line %d of the diff is not a hunk header: %q", i, h)
		}
		var startA int
		rng := strings.Fields(h)[1][1:]
		startA, _ = strconv.Atoi(strings.Split(rng, ",")[0])
		if strings.HasSuffix(rng, ",0") {
			startA++ // an empty range names the line before
		}
		for pos < startA-1 {
			out = append(out, src[pos])
			pos++
		}
		for i+1 < len(dl) && dl[i+1] != "" && !strings.HasPrefix(dl[i+1], "@@") {
			i++
			l := dl[i]
			text := l[1:]
			if i+1 < len(dl) && strings.HasPrefix(dl[i+1], `\ No newline`) {
				text = strings.TrimSuffix(text, "\n")
				i++
			}
			switch l[0] {
			case ' ', '-':
				if pos >= len(src) || src[pos] != text {
					t.Fatalf("the diff's line %q does not match line %d of the text (%q)", l, pos+1, src[min(pos, len(src)-1)])
				}
				if l[0] == ' ' {
					out = append(out, text)
				}
				pos++
			case '+':
				out = append(out, text)
			default:
				t.Fatalf("unexpected diff line %q", l)
			}
		}
	}
	out = append(out, src[pos:]...)
	return strings.Join(out, "")
}

// Random edits of random texts: applying the diff always gives the new text back.
func TestUnifiedDiffAppliesBackToTheNewText(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	word := func() string { return []string{"alpha", "beta", "gamma", "delta", "", "- item", "```"}[rng.IntN(7)] }
	for n := range 500 {
		var a []string
		for range rng.IntN(40) {
			a = append(a, word()+"\n")
		}
		b := append([]string(nil), a...)
		for range rng.IntN(6) {
			switch i := rng.IntN(len(b) + 1); rng.IntN(3) {
			case 0:
				b = append(b[:i], append([]string{fmt.Sprintf("new %d\n", rng.IntN(5))}, b[i:]...)...)
			case 1:
				if i < len(b) {
					b = append(b[:i], b[i+1:]...)
				}
			default:
				if i < len(b) {
					b[i] = word() + " changed\n"
				}
			}
		}
		from, to := strings.Join(a, ""), strings.Join(b, "")
		if rng.IntN(4) == 0 {
			to = strings.TrimSuffix(to, "\n")
		}
		d := UnifiedDiff("a", "b", from, to)
		if (d == "") != (from == to) {
			t.Fatalf("case %d: diff %q for %q → %q", n, d, from, to)
		}
		if d != "" {
			if got := apply(t, from, d); got != to {
				t.Fatalf("case %d: applying\n%s\nto %q gives %q, want %q", n, d, from, got, to)
			}
		}
	}
}

// A gap too large for the LCS table is shown as a replacement: still a correct diff.
func TestAHugeGapWithoutUniqueLinesIsAReplacement(t *testing.T) {
	a := strings.Repeat("x\ny\n", 800)
	b := strings.Repeat("y\nx\nx\n", 700)
	d := UnifiedDiff("a", "b", a, b)
	if got := apply(t, a, d); got != b {
		t.Fatal("the replacement diff does not apply")
	}
}

package runbooks

import (
	"fmt"
	"strings"
)

// The diff between two versions is a unified diff of their lines, as `diff -u` writes it.
//
// Why not a library: the one in go.sum (sergi/go-diff, a diff-match-patch port) diffs characters;
// its line mode has returned wrong diffs and panicked on large inputs in released versions
// (its issues #89, #140), and it writes no unified format. The diff here is the patience
// algorithm (lines unique to both sides anchor the match, the gaps between are diffed again)
// with a dynamic-programming LCS for gaps without unique lines, bounded in memory: a gap too
// large for the table is shown as a replacement, which is correct, if not minimal.

// op is one line of an edit script.
type op struct {
	kind byte // ' ' (both), '-' (only in a), '+' (only in b)
	line string
}

// maxLCSCells bounds the table of one LCS (4 MiB of int32).
const maxLCSCells = 1 << 20

// lines cuts text into lines keeping each "\n"; the last one lacks it when the text does.
func lines(text string) []string {
	if text == "" {
		return nil
	}
	out := strings.SplitAfter(text, "\n")
	if out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// diffLines returns an edit script turning a into b.
func diffLines(a, b []string) []op {
	var out []op
	patience(a, b, &out)
	return out
}

// patience appends the edit script of a → b to out.
func patience(a, b []string, out *[]op) {
	// Common prefix and suffix first: most edits touch a few lines of a long text.
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	for _, l := range a[:pre] {
		*out = append(*out, op{' ', l})
	}
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]
	switch {
	case len(ma) == 0:
		for _, l := range mb {
			*out = append(*out, op{'+', l})
		}
	case len(mb) == 0:
		for _, l := range ma {
			*out = append(*out, op{'-', l})
		}
	default:
		anchors := uniqueAnchors(ma, mb)
		if len(anchors) == 0 {
			lcs(ma, mb, out)
			break
		}
		ia, ib := 0, 0
		for _, an := range anchors {
			patience(ma[ia:an[0]], mb[ib:an[1]], out)
			*out = append(*out, op{' ', ma[an[0]]})
			ia, ib = an[0]+1, an[1]+1
		}
		patience(ma[ia:], mb[ib:], out)
	}
	for _, l := range a[len(a)-suf:] {
		*out = append(*out, op{' ', l})
	}
}

// uniqueAnchors pairs the lines that occur exactly once in a and once in b, and keeps the
// longest run of pairs in the same order on both sides (a longest increasing subsequence).
func uniqueAnchors(a, b []string) [][2]int {
	type seen struct{ na, nb, ia, ib int }
	count := make(map[string]*seen, len(a))
	for i, l := range a {
		s := count[l]
		if s == nil {
			s = &seen{}
			count[l] = s
		}
		s.na++
		s.ia = i
	}
	for i, l := range b {
		if s := count[l]; s != nil {
			s.nb++
			s.ib = i
		}
	}
	var pairs [][2]int
	for i, l := range a {
		if s := count[l]; s.na == 1 && s.nb == 1 {
			pairs = append(pairs, [2]int{i, s.ib})
		}
	}
	if len(pairs) == 0 {
		return nil
	}
	// Patience sorting: tails[k] is the index (in pairs) of the smallest b-end of a run of k+1.
	tails := []int{}
	prev := make([]int, len(pairs))
	for i, p := range pairs {
		lo, hi := 0, len(tails)
		for lo < hi {
			mid := (lo + hi) / 2
			if pairs[tails[mid]][1] < p[1] {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		prev[i] = -1
		if lo > 0 {
			prev[i] = tails[lo-1]
		}
		if lo == len(tails) {
			tails = append(tails, i)
		} else {
			tails[lo] = i
		}
	}
	run := make([][2]int, len(tails))
	for i, k := len(tails)-1, tails[len(tails)-1]; i >= 0; i, k = i-1, prev[k] {
		run[i] = pairs[k]
	}
	return run
}

// lcs appends a minimal edit script of a → b, or a plain replacement when the table would be
// larger than maxLCSCells.
func lcs(a, b []string, out *[]op) {
	n, m := len(a), len(b)
	if (n+1)*(m+1) > maxLCSCells {
		for _, l := range a {
			*out = append(*out, op{'-', l})
		}
		for _, l := range b {
			*out = append(*out, op{'+', l})
		}
		return
	}
	// t[i][j] is the LCS length of a[i:] and b[j:].
	w := m + 1
	t := make([]int32, (n+1)*w)
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				t[i*w+j] = t[(i+1)*w+j+1] + 1
			} else {
				t[i*w+j] = max(t[(i+1)*w+j], t[i*w+j+1])
			}
		}
	}
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case a[i] == b[j]:
			*out = append(*out, op{' ', a[i]})
			i, j = i+1, j+1
		case t[(i+1)*w+j] >= t[i*w+j+1]:
			*out = append(*out, op{'-', a[i]})
			i++
		default:
			*out = append(*out, op{'+', b[j]})
			j++
		}
	}
	for ; i < n; i++ {
		*out = append(*out, op{'-', a[i]})
	}
	for ; j < m; j++ {
		*out = append(*out, op{'+', b[j]})
	}
}

// contextLines is how many unchanged lines a hunk shows around a change, as diff -u does.
const contextLines = 3

// UnifiedDiff is the unified diff of two texts, headed by the names given for each; "" when
// they are equal. A last line without a newline is marked as diff -u marks it.
func UnifiedDiff(fromName, toName, from, to string) string {
	ops := diffLines(lines(from), lines(to))
	changed := false
	for _, o := range ops {
		if o.kind != ' ' {
			changed = true
			break
		}
	}
	if !changed {
		return ""
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "--- %s\n+++ %s\n", fromName, toName)
	// Line numbers (1-based) of the next line on each side, for every op.
	na, nb := make([]int, len(ops)+1), make([]int, len(ops)+1)
	na[0], nb[0] = 1, 1
	for i, o := range ops {
		na[i+1], nb[i+1] = na[i], nb[i]
		if o.kind != '+' {
			na[i+1]++
		}
		if o.kind != '-' {
			nb[i+1]++
		}
	}
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		// A hunk: from contextLines before this change to contextLines after the last change
		// that is at most 2*contextLines unchanged lines away from the one before it.
		start := max(0, i-contextLines)
		end := i
		for j := i; j < len(ops); j++ {
			if ops[j].kind != ' ' {
				end = j + 1
				continue
			}
			if j-end >= 2*contextLines {
				break
			}
		}
		stop := min(len(ops), end+contextLines)
		countA, countB := na[stop]-na[start], nb[stop]-nb[start]
		fmt.Fprintf(&sb, "@@ -%s +%s @@\n", hunkRange(na[start], countA), hunkRange(nb[start], countB))
		for _, o := range ops[start:stop] {
			sb.WriteByte(o.kind)
			sb.WriteString(o.line)
			if !strings.HasSuffix(o.line, "\n") {
				sb.WriteString("\n\\ No newline at end of file\n")
			}
		}
		i = stop
	}
	return sb.String()
}

// hunkRange writes a hunk's range as diff -u does: "start,count", "start" for one line, and the
// line before for an empty range.
func hunkRange(start, count int) string {
	switch count {
	case 0:
		return fmt.Sprintf("%d,0", start-1)
	case 1:
		return fmt.Sprintf("%d", start)
	default:
		return fmt.Sprintf("%d,%d", start, count)
	}
}

package rollouts

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// A revision is cut to MaxRevision bytes at a character's start, never inside one: a cut
// revision stays valid UTF-8, as PostgreSQL requires of text.
func TestARevisionIsCutAtACharacter(t *testing.T) {
	for _, c := range []struct {
		name, revision string
		want           int // bytes kept
	}{
		{"short", "4f2a9c1", 7},
		{"at the bound", strings.Repeat("a", MaxRevision), MaxRevision},
		{"ASCII past the bound", strings.Repeat("a", MaxRevision+1), MaxRevision},
		{"a two-byte character across the bound", strings.Repeat("a", MaxRevision-1) + "é" + "b", MaxRevision - 1},
		{"three-byte characters", strings.Repeat("€", 200), MaxRevision / 3 * 3},
	} {
		got := boundedRevision(c.revision)
		if len(got) != c.want || !utf8.ValidString(got) || !strings.HasPrefix(c.revision, got) {
			t.Errorf("%s: cut to %d bytes (valid UTF-8: %v), want %d", c.name, len(got), utf8.ValidString(got), c.want)
		}
	}
}

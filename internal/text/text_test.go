package text_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/text"
)

func TestTextPostgreSQLCannotStoreIsRefusedByField(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"pay\x00ments", "title: holds a NUL character (U+0000) at byte 3"},
		{"caf\xe9", "title: is not valid UTF-8"},
	} {
		err := text.Storable("title", tc.in)
		if errs.CodeOf(err) != errs.Invalid || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Storable(%q) = %v, want an Invalid error starting %q", tc.in, err, tc.want)
		}
	}
	for _, ok := range []string{"", "payments", "tab\tand\nline", "日本語 ✓ 🚀"} {
		if err := text.Storable("title", ok); err != nil {
			t.Errorf("Storable(%q) = %v, want nil", ok, err)
		}
	}
}

func TestCheckBoundsCharactersAndLines(t *testing.T) {
	if err := text.Check("title", "ééé", 3, true); err != nil {
		t.Errorf("three two-byte characters against 3: %v", err)
	}
	if err := text.Check("title", "éééé", 3, true); err == nil || !strings.Contains(err.Error(), "has 4 characters; at most 3") {
		t.Errorf("four characters against 3: %v", err)
	}
	if err := text.Check("title", "a\nb", 10, true); err == nil || !strings.Contains(err.Error(), "must be one line") {
		t.Errorf("a line break in one line: %v", err)
	}
	if err := text.Check("body", "a\nb", 10, false); err != nil {
		t.Errorf("a line break where lines are allowed: %v", err)
	}
	if err := text.Check("title", "a\x00", 10, false); err == nil || !strings.Contains(err.Error(), "NUL") {
		t.Errorf("a NUL: %v", err)
	}
}

// Length counts characters as people do, not bytes, and says so.
func TestLengthCountsCharacters(t *testing.T) {
	if err := text.Length("ref", "日本語", 3); err != nil {
		t.Errorf("three characters of three bytes against 3: %v", err)
	}
	err := text.Length("ref", "日本語!", 3)
	if errs.CodeOf(err) != errs.Invalid || errs.FieldOf(err) != "ref" || err.Error() != "ref: has 4 characters; at most 3" {
		t.Errorf("four characters against 3: %v; want INVALID %q", err, "ref: has 4 characters; at most 3")
	}
}

// A name is listed for people to read: what would hide or disguise it is refused, naming the field.
func TestANameIsVisibleTextOnOneLine(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"\u202e", 100, "name: holds a bidirectional control character (U+202E) at byte 0"},
		{"deploy\u202egnp.exe", 100, "name: holds a bidirectional control character (U+202E) at byte 6"},
		{"ci\u2066bot\u2069", 100, "name: holds a bidirectional control character (U+2066)"},
		{"ci\tbot", 100, "name: holds a control character (U+0009) at byte 2"},
		{"ci\x1b[31mbot", 100, "name: holds a control character (U+001B)"},
		{"ci\u0085bot", 100, "name: holds a control character (U+0085)"},
		{"   ", 100, "name: is blank"},
		{"\u200b\u00a0", 100, "name: is blank"},
		{"a\nb", 100, "name: must be one line"},
		{"xxxx", 3, "name: has 4 characters; at most 3"},
	} {
		err := text.Name("name", tc.in, tc.max)
		if errs.CodeOf(err) != errs.Invalid || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Name(%q) = %v, want an Invalid error starting %q", tc.in, err, tc.want)
		}
	}
	for _, ok := range []string{"ci-bot", "Déploiement nocturne", "日本語 ✓ 🚀", "עברית"} {
		if err := text.Name("name", ok, 100); err != nil {
			t.Errorf("Name(%q) = %v, want nil", ok, err)
		}
	}
}

func TestCleanKeepsWhatItCanAndCutsAtACharacter(t *testing.T) {
	if got := text.Clean("access\x00denied\xff", 100); got != "access\uFFFDdenied\uFFFD" {
		t.Errorf("Clean replaced to %q", got)
	}
	long := strings.Repeat("é", 100) // 200 bytes
	got := text.Clean(long, 51)
	if len(got) > 51 || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
		t.Errorf("Clean cut to %q (%d bytes), want at most 51 valid bytes ending in …", got, len(got))
	}
	if got := text.Clean("short", 51); got != "short" {
		t.Errorf("Clean changed short text to %q", got)
	}
}

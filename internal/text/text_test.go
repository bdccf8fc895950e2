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

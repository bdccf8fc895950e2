// Package text checks the text Portside is given to keep: what PostgreSQL can store, within the
// bounds of the field it is for, with errors that name the field.
package text

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/portside-dev/portside/errs"
)

// Storable refuses s, naming field, unless it is valid UTF-8 without a NUL character (U+0000):
// PostgreSQL's text holds neither (it fails the statement, "invalid byte sequence for encoding
// UTF8: 0x00"), where SQLite would keep them, so Portside refuses both on every database.
func Storable(field, s string) error {
	if !utf8.ValidString(s) {
		return errs.InvalidField(field, "is not valid UTF-8")
	}
	if i := strings.IndexByte(s, 0); i >= 0 {
		return errs.InvalidField(field, "holds a NUL character (U+0000) at byte %d; text cannot hold one", i)
	}
	return nil
}

// Check refuses s unless it is Storable, at most max characters long and, when oneLine, without
// a line break.
func Check(field, s string, max int, oneLine bool) error {
	if err := Storable(field, s); err != nil {
		return err
	}
	if err := Length(field, s, max); err != nil {
		return err
	}
	if oneLine && strings.ContainsAny(s, "\r\n") {
		return errs.InvalidField(field, "must be one line")
	}
	return nil
}

// Length refuses s, naming field, when it has more than max characters: characters as people
// count them (Unicode code points), not bytes, so that "é" counts one, as "e" does.
func Length(field, s string, max int) error {
	if n := utf8.RuneCountInString(s); n > max {
		return errs.InvalidField(field, "has %d characters; at most %d", n, max)
	}
	return nil
}

// Clean returns s as storable text for what Portside records of input it does not refuse (a
// message from a sign-in provider, say): invalid UTF-8 and NUL characters replaced by U+FFFD,
// cut to at most limit bytes at a character's start, with "…" when cut.
func Clean(s string, limit int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	if len(s) <= limit {
		return s
	}
	cut := limit - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:max(cut, 0)] + "…"
}

// Name refuses s unless it is a one-line name a person can read where it is listed (a token's
// name, a task's title): Check's rules, no control characters (tabs included), and no
// bidirectional controls (U+202E and its kin), which make a listed name read as another text
// ("Trojan Source"); and something visible besides spaces.
func Name(field, s string, max int) error {
	if err := Check(field, s, max, true); err != nil {
		return err
	}
	visible := false
	for i, r := range s {
		switch {
		case unicode.IsControl(r):
			return errs.InvalidField(field, "holds a control character (U+%04X) at byte %d", r, i)
		case IsBidiControl(r):
			return errs.InvalidField(field, "holds a bidirectional control character (U+%04X) at byte %d, which makes it read as other text", r, i)
		case !unicode.IsSpace(r) && !unicode.Is(unicode.Cf, r):
			visible = true
		}
	}
	if !visible {
		return errs.InvalidField(field, "is blank")
	}
	return nil
}

// IsBidiControl reports the characters that change the direction text is shown in (Unicode's
// Bidi_Control property): what Name refuses, and what a terminal's output escapes.
func IsBidiControl(r rune) bool {
	return r == 0x061C || r == 0x200E || r == 0x200F || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}

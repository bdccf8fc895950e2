package idcursor_test

import (
	"encoding/base64"
	"testing"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/idcursor"
)

func TestACursorDecodesToTheIDItWasWrittenFor(t *testing.T) {
	for _, id := range []int64{1, 2, 9, 10, 1 << 40} {
		c := idcursor.Encode("task", id)
		got, err := idcursor.Decode("task", c)
		if err != nil || got != id {
			t.Errorf("Decode(Encode(%d)) = %d, %v", id, got, err)
		}
	}
}

// One position has one cursor: other spellings of the same number, another list's cursor and
// the padded encoding are refused, naming the field.
func TestOnlyTheCursorsEncodeWritesAreRead(t *testing.T) {
	raw := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for name, c := range map[string]string{
		"a sign":         raw("task:+2"),
		"a leading zero": raw("task:02"),
		"a space":        raw("task: 2"),
		"zero":           raw("task:0"),
		"negative":       raw("task:-2"),
		"too large":      raw("task:9223372036854775808"),
		"another list":   raw("run:2"),
		"no number":      raw("task:"),
		"padded":         base64.URLEncoding.EncodeToString([]byte("task:22")),
		"not base64":     "task:2",
		"empty":          "",
	} {
		if id, err := idcursor.Decode("task", c); !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != "after" {
			t.Errorf("%s (%q): Decode = %d, %v; want INVALID naming after", name, c, id, err)
		}
	}
}

package errs

import (
	"errors"
	"testing"
)

// An error says its message, then its cause's words, once: a message that already ends with
// them (one that quotes its cause) is not followed by them again.
func TestAnErrorSaysItsCauseOnce(t *testing.T) {
	cause := errors.New("/srv/cat does not exist")
	for _, c := range []struct {
		err  *Error
		want string
	}{
		{&Error{Message: "location file:/srv/cat cannot be read", Err: cause}, "location file:/srv/cat cannot be read: /srv/cat does not exist"},
		{&Error{Message: "location file:/srv/cat cannot be read: /srv/cat does not exist", Err: cause}, "location file:/srv/cat cannot be read: /srv/cat does not exist"},
		{&Error{Err: cause}, "/srv/cat does not exist"},
		{E(Invalid, "bad %s", "input"), "bad input"},
		{InvalidField("text", "is empty"), "text: is empty"},
	} {
		if got := c.err.Error(); got != c.want {
			t.Errorf("Error() = %q, want %q", got, c.want)
		}
	}
	if !errors.Is(&Error{Message: "m: " + cause.Error(), Err: cause}, cause) {
		t.Error("the cause is not unwrapped")
	}
}

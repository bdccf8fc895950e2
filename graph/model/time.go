package model

import (
	"fmt"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/portside-dev/portside/errs"
)

// MarshalTime writes a Time as gqlgen does: RFC 3339 with nanoseconds.
func MarshalTime(t time.Time) graphql.Marshaler {
	return graphql.MarshalTime(t)
}

// UnmarshalTime reads a Time as gqlgen does (an RFC 3339 string), and refuses anything else as
// the request's mistake (INVALID, saying what a Time looks like): gqlgen's own error carried no
// code, so "yesterday" in a filter was answered as an internal error. The zero time
// (0001-01-01T00:00:00Z) is refused too: Go's zero Time is how Portside holds "no time", so it
// was taken as the argument left out (a meeting held then was recorded as held now), and a Time
// field answering it is null (a DORA window ending then was an internal error).
func UnmarshalTime(v any) (time.Time, error) {
	t, err := graphql.UnmarshalTime(v)
	if err != nil {
		return time.Time{}, errs.E(errs.Invalid, "%s is not a Time: write an RFC 3339 date and time with its offset, such as 2026-12-06T08:00:00Z (years 0000 to 9999)", describe(v))
	}
	if t.IsZero() {
		return time.Time{}, errs.E(errs.Invalid, "%s is the zero time, which stands for no time: give a time after 0001-01-01T00:00:00Z, or leave the argument out", describe(v))
	}
	return t, nil
}

// describe quotes what was given for a scalar, cut short.
func describe(v any) string {
	switch x := v.(type) {
	case string:
		if len(x) > 64 {
			x = x[:64] + "…"
		}
		return fmt.Sprintf("%q", x)
	case nil:
		return "null"
	default:
		return fmt.Sprintf("%T %v", v, v)
	}
}

package model

import (
	"testing"
	"time"

	"github.com/portside-dev/portside/errs"
)

// A Time is an RFC 3339 date and time; the zero time, however written, stands for no time and is
// refused, while the second after it is a time like any other.
func TestATimeIsRFC3339AndNeverTheZeroTime(t *testing.T) {
	for _, v := range []any{"0001-01-01T00:00:00Z", "0001-01-01T01:00:00+01:00", "yesterday", 5, nil} {
		if got, err := UnmarshalTime(v); !errs.Is(err, errs.Invalid) {
			t.Errorf("UnmarshalTime(%#v) = %v, %v; want INVALID", v, got, err)
		}
	}
	for v, want := range map[string]time.Time{
		"0001-01-01T00:00:01Z":      time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC),
		"2026-12-06T08:00:00+01:00": time.Date(2026, 12, 6, 7, 0, 0, 0, time.UTC),
	} {
		if got, err := UnmarshalTime(v); err != nil || !got.Equal(want) {
			t.Errorf("UnmarshalTime(%q) = %v, %v; want %v", v, got, err, want)
		}
	}
}

package model_test

import (
	"encoding/base64"
	"math"
	"testing"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/graph/model"
)

// raw is a global ID made by hand, for IDs that EncodeID would never make.
func raw(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestAGlobalIDDecodesToTheTypeAndKeyItWasMadeFrom(t *testing.T) {
	tests := []struct{ typename, key string }{
		{"Component", "component:default/payments-api"},
		{"LocationEntity", "location:default/root"},
		{"Location", "42"},
		{"Group", "group:team-a/sub:group"}, // only the first colon separates type from key
		{"User", "user:default/zoë"},
	}
	for _, tt := range tests {
		id := model.EncodeID(tt.typename, tt.key)
		typename, key, err := model.DecodeID(id)
		if err != nil || typename != tt.typename || key != tt.key {
			t.Errorf("DecodeID(EncodeID(%q, %q)) = %q, %q, %v; want them back", tt.typename, tt.key, typename, key, err)
		}
	}
}

func TestAGlobalIDIsOpaqueAndSafeInAURL(t *testing.T) {
	id := model.EncodeID("Component", "component:default/payments-api")
	for _, c := range id {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			t.Fatalf("ID %q holds %q; want only URL-safe base64 characters, no padding", id, c)
		}
	}
}

func TestAStringThatIsNotAGlobalIDIsInvalidInput(t *testing.T) {
	tests := []struct{ name, id string }{
		{"empty", ""},
		{"not base64", "not an id!"},
		{"padded standard base64", base64.StdEncoding.EncodeToString([]byte("Location:1"))},
		{"no colon", raw("Location1")},
		{"no type", raw(":1")},
		{"no key", raw("Location:")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			typename, key, err := model.DecodeID(tt.id)
			if !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != "id" {
				t.Fatalf("DecodeID(%q) = %q, %q, %v; want INVALID naming the field id", tt.id, typename, key, err)
			}
			if typename != "" || key != "" {
				t.Errorf("DecodeID(%q) returned %q, %q with its error; want nothing", tt.id, typename, key)
			}
		})
	}
}

func TestANumericIDReadsBackAsItsNumber(t *testing.T) {
	for _, n := range []int64{1, 7, 1 << 40, math.MaxInt64} {
		id := model.EncodeNumericID("Location", n)
		if got, err := model.NumericID("id", "Location", id); err != nil || got != n {
			t.Errorf("NumericID(EncodeNumericID(Location, %d)) = %d, %v; want %d", n, got, err, n)
		}
	}
	if a, b := model.EncodeNumericID("Location", 1), model.EncodeNumericID("Session", 1); a == b {
		t.Errorf("Location 1 and Session 1 share the ID %q; want one per type", a)
	}
}

// Every object has one ID: one that names another type, a key that is not a positive number, or
// another spelling of the number does not find it, and the error names the argument.
func TestANumericIDOfAnotherTypeOrShapeIsInvalidInput(t *testing.T) {
	tests := []struct{ name, id string }{
		{"another type's ID", model.EncodeNumericID("ApiToken", 3)},
		{"an entity's ID", model.EncodeID("Component", "component:default/x")},
		{"not a global ID", "3"},
		{"a key that is not a number", raw("Location:three")},
		{"zero", raw("Location:0")},
		{"a negative number", raw("Location:-3")},
		{"a number too large", raw("Location:9223372036854775808")},
		{"a leading zero", raw("Location:03")},
		{"a plus sign", raw("Location:+3")},
		{"a space", raw("Location: 3")},
		{"another base64 spelling of Location:3", "TG9jYXRpb246Mx"}, // the last character's unused bits set
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := model.NumericID("location", "Location", tt.id)
			if !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != "location" {
				t.Fatalf("NumericID(%q) = %d, %v; want INVALID naming the argument location", tt.id, n, err)
			}
			if n != 0 {
				t.Errorf("NumericID(%q) returned %d with its error; want 0", tt.id, n)
			}
		})
	}
}

// An ID with base64 padding, or in the standard alphabet, is another spelling of the ID the API
// issued and is refused as every other spelling is (one object, one ID); the message names the
// type with the article it is read with.
func TestAnIDSpelledOtherwiseIsRefusedNamingItsTypeAsRead(t *testing.T) {
	alert := model.EncodeNumericID("Alert", 7) // "Alert:7": 7 bytes, so padded base64 ends in "=="
	tests := []struct{ typename, id, want string }{
		{"Alert", alert + "==", `id: "` + alert + `==" is not the ID of an Alert`},
		{"Alert", base64.StdEncoding.EncodeToString([]byte("Alert:7")), `id: "QWxlcnQ6Nw==" is not the ID of an Alert`},
		{"ApiToken", base64.URLEncoding.EncodeToString([]byte("ApiToken:3")), `id: "QXBpVG9rZW46Mw==" is not the ID of an ApiToken`},
		{"AuditRecord", raw("AuditRecord:03"), `id: "` + raw("AuditRecord:03") + `" is not the ID of an AuditRecord`},
		{"Location", raw("Location:03"), `id: "` + raw("Location:03") + `" is not the ID of a Location`},
		{"Runbook", "x", `id: "x" is not the ID of a Runbook`},
	}
	for _, tt := range tests {
		n, err := model.NumericID("id", tt.typename, tt.id)
		if !errs.Is(err, errs.Invalid) || err.Error() != tt.want {
			t.Errorf("NumericID(%q) = %d, %v; want INVALID %q", tt.id, n, err, tt.want)
		}
	}
	if n, err := model.NumericID("id", "Alert", alert); err != nil || n != 7 {
		t.Errorf("the ID as issued: %d, %v; want 7", n, err)
	}
}

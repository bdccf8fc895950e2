// Package model holds the Go types behind Portside's GraphQL schema: wrappers around domain values
// that gqlgen binds to, global IDs, and the batching that keeps relation fields from issuing one
// query per row.
package model

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/portside-dev/portside/errs"
)

// EncodeID makes a global (Relay) ID from a type name and a key: opaque to clients, stable for us.
func EncodeID(typename, key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(typename + ":" + key))
}

// DecodeID splits a global ID into its type name and key.
func DecodeID(id string) (typename, key string, err error) {
	b, decErr := base64.RawURLEncoding.DecodeString(id)
	typename, key, ok := strings.Cut(string(b), ":")
	if decErr != nil || !ok || typename == "" || key == "" {
		return "", "", errs.InvalidField("id", "%q is not a Portside ID", id)
	}
	return typename, key, nil
}

// EncodeNumericID is the global ID of an object keyed by a number (Location, ApiToken, Session).
func EncodeNumericID(typename string, n int64) string {
	return EncodeID(typename, strconv.FormatInt(n, 10))
}

// NumericID reads the global ID of an object of type typename keyed by a number; the error names
// the argument and what was expected. Only the ID EncodeNumericID makes is accepted: another
// spelling of the same number ("03", "+3", other base64 bits, base64 with padding or in the
// standard alphabet) would give one object two IDs, and clients that key their caches by ID would
// hold it twice.
func NumericID(field, typename, id string) (int64, error) {
	if typ, key, err := DecodeID(id); err == nil && typ == typename {
		if n, err := strconv.ParseInt(key, 10, 64); err == nil && n > 0 && EncodeNumericID(typename, n) == id {
			return n, nil
		}
	}
	return 0, errs.InvalidField(field, "%q is not the ID of %s", id, WithArticle(typename))
}

// WithArticle puts the indefinite article before a type name or noun as it is read aloud: "an
// Alert", "an ApiToken", "an API", "a User", "a Location", "a pipeline run".
func WithArticle(name string) string {
	if name == "" {
		return name
	}
	an := false
	switch c := name[0] | 0x20; { // the first letter, lower case
	case len(name) > 1 && strings.ToUpper(name) == name && name[1] >= 'A' && name[1] <= 'Z':
		// An acronym is read letter by letter: "an API", "an SLO", "a URL".
		an = strings.IndexByte("AEFHILMNORSX", name[0]) >= 0
	case c == 'u':
		// "an Update", but "a User", "a Unit", "a Utility".
		lower := strings.ToLower(name)
		an = !strings.HasPrefix(lower, "us") && !strings.HasPrefix(lower, "uni") && !strings.HasPrefix(lower, "uti")
	default:
		an = strings.IndexByte("aeio", c) >= 0
	}
	if an {
		return "an " + name
	}
	return "a " + name
}

package backstage

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/portside-dev/portside/errs"
)

// DefaultNamespace is the namespace of an entity or reference that names none.
const DefaultNamespace = "default"

// Ref identifies an entity: kind, namespace and name, all lower case, because Backstage compares
// references case-insensitively. Its string form is "kind:namespace/name".
type Ref struct {
	Kind      string
	Namespace string
	Name      string
}

// String returns the canonical "kind:namespace/name" form.
func (r Ref) String() string {
	if r.IsZero() {
		return ""
	}
	return r.Kind + ":" + r.Namespace + "/" + r.Name
}

// IsZero reports whether r names nothing.
func (r Ref) IsZero() bool { return r == Ref{} }

// MakeRef builds a canonical Ref from its parts.
func MakeRef(kind, namespace, name string) Ref {
	if namespace == "" {
		namespace = DefaultNamespace
	}
	return Ref{Kind: strings.ToLower(kind), Namespace: strings.ToLower(namespace), Name: strings.ToLower(name)}
}

// ParseRef reads a reference in any form Backstage accepts: "name", "kind:name", "namespace/name" or
// "kind:namespace/name". defaultKind and defaultNamespace fill what the string leaves out; an empty
// defaultKind means the kind must be given. The result is canonical (lower case).
func ParseRef(s, defaultKind, defaultNamespace string) (Ref, error) {
	if r, ok := canonicalRef(s); ok {
		return r, nil
	}
	return parseRef(s, defaultKind, defaultNamespace)
}

// parseRef is ParseRef for any string, checked and lowered part by part.
func parseRef(s, defaultKind, defaultNamespace string) (Ref, error) {
	raw := s
	s = strings.TrimSpace(s)
	if s == "" {
		return Ref{}, errs.E(errs.Invalid, "entity reference is empty")
	}
	kind, rest, hasKind := strings.Cut(s, ":")
	if !hasKind {
		kind, rest = defaultKind, s
	}
	namespace, name, hasNS := strings.Cut(rest, "/")
	if !hasNS {
		namespace, name = defaultNamespace, rest
	}
	if namespace == "" && !hasNS {
		namespace = DefaultNamespace
	}
	switch {
	case kind == "" && !hasKind:
		return Ref{}, errs.E(errs.Invalid, "entity reference %q names no kind; write it as kind:[namespace/]name", raw)
	case kind == "":
		return Ref{}, errs.E(errs.Invalid, "entity reference %q has an empty kind", raw)
	case hasNS && namespace == "":
		return Ref{}, errs.E(errs.Invalid, "entity reference %q has an empty namespace", raw)
	case name == "":
		return Ref{}, errs.E(errs.Invalid, "entity reference %q has an empty name", raw)
	case strings.ContainsAny(name, ":/"):
		return Ref{}, errs.E(errs.Invalid, "entity reference %q is malformed; write it as kind:namespace/name", raw)
	case !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0:
		// No entity's name holds one, and PostgreSQL cannot even compare text holding a NUL.
		return Ref{}, errs.E(errs.Invalid, "entity reference %q holds a control character or bytes that are not UTF-8", raw)
	}
	return MakeRef(kind, namespace, name), nil
}

// canonicalRef reads s when it is written as Ref.String writes a reference, "kind:namespace/name"
// in lower case, printable ASCII only, each part non-empty and the name without ':' or '/': what
// ParseRef makes of it then is its three parts as they are. Every reference the catalog stores is
// so, and a page of 50 entities parses 150 of them (a twentieth of the server's work for an
// owner's page, every cache off, when each went through the checks below).
func canonicalRef(s string) (Ref, bool) {
	colon, slash := -1, -1
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c <= ' ' || c > '~' || 'A' <= c && c <= 'Z':
			return Ref{}, false
		case c == ':' && colon < 0:
			colon = i
		case c == '/' && colon >= 0 && slash < 0:
			slash = i
		case (c == ':' || c == '/') && slash >= 0:
			return Ref{}, false // in the name
		}
	}
	if colon < 1 || slash < colon+2 || slash == len(s)-1 {
		return Ref{}, false
	}
	return Ref{Kind: s[:colon], Namespace: s[colon+1 : slash], Name: s[slash+1:]}, true
}

// MustParseRef is ParseRef for references known to be well formed (tests, constants).
func MustParseRef(s string) Ref {
	r, err := ParseRef(s, "", DefaultNamespace)
	if err != nil {
		panic(fmt.Sprintf("backstage.MustParseRef(%q): %v", s, err))
	}
	return r
}

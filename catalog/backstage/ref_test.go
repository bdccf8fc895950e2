package backstage

import "testing"

// canonicalRefSeeds are references in and around the form Ref.String writes.
var canonicalRefSeeds = []string{
	"component:default/payments-api", "group:team-a/web", "k:n/x", "user:default/Jane", "component:default/a/b",
	"component:/x", ":default/x", "component:default/", "component:x", "x", "", " component:default/x",
	"component:default/x ", "a/b:c/d", "k:n:x/y", "k:n/x:y", "component:default/zürich", "component:default/a\tb",
	"component:default/~", "COMPONENT:default/x", "component:default//x", "component::default/x",
}

// FuzzCanonicalRefAgreesWithParseRef: where canonicalRef reads a string, what it reads is what the
// checked parse makes of it, whatever the defaults.
func FuzzCanonicalRefAgreesWithParseRef(f *testing.F) {
	for _, s := range canonicalRefSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := canonicalRef(s)
		if !ok {
			return
		}
		want, err := parseRef(s, "location", "elsewhere")
		if err != nil || got != want {
			t.Errorf("canonicalRef(%q) = %+v; parseRef: %+v, %v", s, got, want, err)
		}
		if got.String() != s {
			t.Errorf("canonicalRef(%q) = %+v, which writes %q", s, got, got.String())
		}
	})
}

// TestCanonicalRefReadsWhatRefStringWrites: every reference the catalog stores is read by the
// fast path, and the forms it leaves to the checked parse are those that need it.
func TestCanonicalRefReadsWhatRefStringWrites(t *testing.T) {
	for _, s := range []string{"component:default/payments-api", "group:team-a/web", "k:n/x", "a/b:c/d", "k:n:x/y"} {
		if _, ok := canonicalRef(s); !ok {
			t.Errorf("canonicalRef(%q): not read", s)
		}
	}
	for _, s := range []string{"user:default/Jane", "component:default/a/b", "component:/x", ":default/x", "component:default/",
		"component:x", "x", "", " component:default/x", "component:default/zürich", "component:default/a\tb", "k:n/x:y"} {
		if r, ok := canonicalRef(s); ok {
			t.Errorf("canonicalRef(%q) = %+v; want it left to the checked parse", s, r)
		}
	}
}

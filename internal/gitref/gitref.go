// Package gitref checks the names of branches and tags as git does (`git check-ref-format
// --branch`), so that a ref Portside accepts is one a git server or a CI engine can resolve and
// one that cannot be read as an option or a range ("main..x", "-x", "HEAD@{1}").
package gitref

import (
	"strings"

	"github.com/portside-dev/portside/errs"
)

// Check refuses a ref name git would refuse, naming field and the rule it breaks. A commit SHA
// passes (it is a valid name too).
func Check(field, ref string) error {
	bad := func(why string) error {
		return errs.InvalidField(field, "%q is not a branch, tag or commit: %s", clip(ref), why)
	}
	switch {
	case ref == "":
		return bad("it is empty")
	case ref == "@":
		return bad(`"@" alone is not a name`)
	case strings.HasPrefix(ref, "-"):
		return bad("it starts with -")
	case strings.HasPrefix(ref, "/") || strings.HasSuffix(ref, "/") || strings.Contains(ref, "//"):
		return bad("it starts or ends with / or holds //")
	case strings.HasSuffix(ref, "."):
		return bad("it ends with .")
	case strings.Contains(ref, ".."):
		return bad("it holds .. (a range)")
	case strings.Contains(ref, "@{"):
		return bad("it holds @{ (a reflog)")
	}
	for _, r := range ref {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(" ~^:?*[\\", r) {
			return bad("it holds " + describe(r))
		}
	}
	for _, part := range strings.Split(ref, "/") {
		if strings.HasPrefix(part, ".") || strings.HasSuffix(part, ".lock") {
			return bad("a part starts with . or ends with .lock")
		}
	}
	return nil
}

func describe(r rune) string {
	switch {
	case r == ' ':
		return "a space"
	case r < 0x20 || r == 0x7f:
		return "a control character"
	default:
		return string(r)
	}
}

func clip(s string) string {
	if len(s) > 64 {
		return strings.ToValidUTF8(s[:64], "") + "…"
	}
	return s
}

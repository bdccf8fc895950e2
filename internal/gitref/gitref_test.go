package gitref_test

import (
	"strings"
	"testing"

	"github.com/portside-dev/portside/errs"
	"github.com/portside-dev/portside/internal/gitref"
)

func TestNamesGitAcceptsPass(t *testing.T) {
	for _, ref := range []string{"main", "release/1.2", "v1.2.3", "feature/JIRA-12_x", "a@b", "users/me+x",
		"0123456789abcdef0123456789abcdef01234567", "refs/heads/main"} {
		if err := gitref.Check("ref", ref); err != nil {
			t.Errorf("Check(%q) = %v", ref, err)
		}
	}
}

// What `git check-ref-format --branch` refuses is refused, naming the field and the rule.
func TestNamesGitRefusesAreInvalid(t *testing.T) {
	for ref, why := range map[string]string{
		"":            "empty",
		"@":           `"@" alone`,
		"-x":          "starts with -",
		"main..x":     "..",
		"/main":       "starts or ends with /",
		"main/":       "starts or ends with /",
		"a//b":        "//",
		"main.":       "ends with .",
		"HEAD@{1}":    "@{",
		"a b":         "a space",
		"a\x00b":      "a control character",
		"a~1":         "~",
		"a^":          "^",
		"a:b":         ":",
		"a?":          "?",
		"a*":          "*",
		"a[b":         "[",
		`a\b`:         `\`,
		".hidden":     "starts with .",
		"x/.y":        "starts with .",
		"main.lock":   ".lock",
		"x/main.lock": ".lock",
	} {
		err := gitref.Check("ref", ref)
		if !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != "ref" {
			t.Errorf("Check(%q) = %v, want INVALID naming ref", ref, err)
			continue
		}
		if msg := errs.PublicMessage(err); !strings.Contains(msg, why) {
			t.Errorf("Check(%q) = %q, want it to say %q", ref, msg, why)
		}
	}
}

package pipelines_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portside-dev/portside/pipelines"
)

const digest = "sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"

func TestARunsOutputBecomesItsArtifact(t *testing.T) {
	for _, tc := range []struct {
		name, output string
		want         []pipelines.Artifact
	}{
		{"image and version", "image=ghcr.io/acme/checkout@" + digest + "\nversion=1.4.2\n",
			[]pipelines.Artifact{{Name: "image", Image: "ghcr.io/acme/checkout@" + digest, Version: "1.4.2"}}},
		{"other names and stray lines are ignored, spaces trimmed", "echo hello\ncache-hit=true\n  version = 2.0.0 \r\n",
			[]pipelines.Artifact{{Name: "image", Version: "2.0.0"}}},
		{"the last value wins, as in $GITHUB_OUTPUT", "version=1\nversion=2\n",
			[]pipelines.Artifact{{Name: "image", Version: "2"}}},
		{"nothing named gives no artifact", "tests=passed\n", []pipelines.Artifact{}},
		{"empty", "", []pipelines.Artifact{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, pipelines.ParseOutput(strings.NewReader(tc.output))); diff != "" {
				t.Errorf("ParseOutput(%q) (-want +got):\n%s", tc.output, diff)
			}
		})
	}
}

func TestARunsOutputIsReadOnlyUpToItsBound(t *testing.T) {
	// A version line past the bound is never read: the run pointed Portside at a log by mistake.
	out := strings.Repeat("x", pipelines.MaxOutputBytes) + "\nversion=9.9.9\n"
	if got := pipelines.ParseOutput(strings.NewReader(out)); len(got) != 0 {
		t.Errorf("read past %d bytes: %+v", pipelines.MaxOutputBytes, got)
	}
}

func TestPinnedImages(t *testing.T) {
	for ref, want := range map[string]bool{
		"ghcr.io/acme/checkout@" + digest:                  true,
		"registry.example:5000/team/app:1.2.3@" + digest:   true,
		"nginx@" + digest:                                  true,
		"ghcr.io/acme/checkout:1.4.2":                      false,
		"ghcr.io/acme/checkout@sha256:abc":                 false,
		"ghcr.io/acme/checkout@" + strings.ToUpper(digest): false,
		"": false,
	} {
		if got := pipelines.PinnedImage(ref); got != want {
			t.Errorf("PinnedImage(%q) = %v, want %v", ref, got, want)
		}
	}
}

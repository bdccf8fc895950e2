package pipelines

import (
	"bufio"
	"io"
	"regexp"
	"strings"
)

// OutputName is the name under which a run hands Portside what it produced, on every provider:
// the file $PORTSIDE_OUTPUT of a local run, the workflow artifact of a GitHub Actions run, the
// job artifact file of a GitLab CI pipeline, the termination message of a Kubernetes Job's
// container. Its content is the same everywhere: `image=<reference@sha256:digest>` and
// `version=<v>` lines, as GitHub's $GITHUB_OUTPUT takes name=value lines.
const OutputName = "portside-output"

// MaxOutputBytes bounds what is read of a run's output: two short lines are all it needs, and a
// run must not make Portside read a build log by mistake.
const MaxOutputBytes = 16 << 10

// digestRef is an image reference pinned by a SHA-256 digest, the only form a deploy request
// takes as immutable.
var digestRef = regexp.MustCompile(`^[a-z0-9]+(?:[._/-][a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?@sha256:[0-9a-f]{64}$`)

// PinnedImage reports whether ref names an image by its digest (registry/name[:tag]@sha256:hex).
func PinnedImage(ref string) bool { return digestRef.MatchString(ref) }

// ParseOutput reads a run's output (at most MaxOutputBytes of r) into its artifact: the image and
// the version it was released as. Unknown names and lines without "=" are ignored, so a workflow
// may reuse a file it writes for other steps; the last value of a name wins, as in
// $GITHUB_OUTPUT. An output naming neither gives no artifact.
func ParseOutput(r io.Reader) []Artifact {
	a := Artifact{Name: "image"}
	sc := bufio.NewScanner(io.LimitReader(r, MaxOutputBytes))
	sc.Buffer(make([]byte, 0, 1024), MaxOutputBytes)
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok {
			continue
		}
		switch v = strings.TrimSpace(v); strings.TrimSpace(k) {
		case "image":
			a.Image = v
		case "version":
			a.Version = v
		}
	}
	if a.Image == "" && a.Version == "" {
		return []Artifact{}
	}
	return []Artifact{a}
}

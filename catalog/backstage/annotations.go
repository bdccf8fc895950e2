package backstage

import (
	"strings"
	"sync"
)

// AnnotationProblem is one thing an AnnotationCheck found wrong in an annotation's value.
type AnnotationProblem struct {
	// Line is the 1-based line within the value (a multi-line value is a YAML block scalar); 0
	// means the annotation's own line.
	Line int
	// Field is the path inside the value ("[0].parameters[1].default"); it is appended to the
	// annotation's field ("metadata.annotations[key]").
	Field   string
	Message string
}

// AnnotationCheck validates the value of one annotation. annotations are all of the entity's, for
// a declaration that depends on a sibling (a pipeline needs the repository slug annotation).
type AnnotationCheck func(value string, annotations map[string]string) []AnnotationProblem

// annotationChecks are the checks other domains registered, by annotation key. They live here
// (not as a catalog import of those domains) so that the catalog stays a leaf the domains read.
var annotationChecks sync.Map // string → AnnotationCheck

// RegisterAnnotationCheck makes every catalog document validated from now on run check on the
// annotation key, so that a domain's declarations in annotations (pipelines, ...) fail validation
// like any other field, with file, document, line and field. Registering a key again replaces
// its check.
func RegisterAnnotationCheck(key string, check AnnotationCheck) {
	annotationChecks.Store(key, check)
}

// checkAnnotations runs the registered checks on a document's annotations; v is the annotations
// mapping as written, field its path.
func (c *docCheck) checkAnnotations(field string, v *value, annotations map[string]string) {
	if v == nil || v.kind != vMap {
		return
	}
	for i, k := range v.keys {
		fn, ok := annotationChecks.Load(k)
		val := v.vals[i]
		if !ok || val.kind != vString {
			continue
		}
		// A multi-line value is a literal block scalar, whose content starts on the line after
		// the one yaml reports (the "|"); a single-line value is all on that line.
		multi := strings.Contains(strings.TrimSuffix(val.str, "\n"), "\n")
		for _, pr := range fn.(AnnotationCheck)(val.str, annotations) {
			line := val.line
			if multi && pr.Line > 0 {
				line += pr.Line
			}
			c.p.add(field+"["+k+"]"+pr.Field, line, "%s", pr.Message)
		}
	}
}

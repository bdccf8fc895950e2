package main

import (
	"sync"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/pipelines"
)

var registerOnce sync.Once

// registerCatalogChecks makes catalog validation (catalog validate, ingestion) check the
// declarations other domains keep in annotations: pipelines' portside.dev/pipelines. The catalog
// does not import the domains; they meet here.
func registerCatalogChecks() {
	registerOnce.Do(func() {
		catalog.RegisterAnnotationCheck(pipelines.AnnotationPipelines, func(value string, annotations map[string]string) []catalog.AnnotationProblem {
			var out []catalog.AnnotationProblem
			for _, p := range pipelines.CheckAnnotation(value, annotations) {
				out = append(out, catalog.AnnotationProblem{Line: p.Line, Field: p.Field, Message: p.Message})
			}
			return out
		})
	})
}

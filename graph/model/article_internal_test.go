package model

import "testing"

// Messages name types and nouns with the article they are read with.
func TestWithArticleReadsAsSpoken(t *testing.T) {
	for in, want := range map[string]string{
		"Alert": "an Alert", "ApiToken": "an ApiToken", "AuditRecord": "an AuditRecord", "Entity": "an Entity",
		"API": "an API", "SLO": "an SLO", "URL": "a URL", "User": "a User", "Update": "an Update",
		"Location": "a Location", "Rollout": "a Rollout", "PipelineRun": "a PipelineRun",
		"pipeline run": "a pipeline run", "alert": "an alert", "": "",
	} {
		if got := WithArticle(in); got != want {
			t.Errorf("WithArticle(%q) = %q, want %q", in, got, want)
		}
	}
}

package jsonerr_test

import (
	"encoding/json"
	"testing"

	"github.com/portside-dev/portside/internal/jsonerr"
)

func TestADecodingErrorSaysWhatIsWrongInJSONsWords(t *testing.T) {
	var v struct {
		Run struct {
			ID int64 `json:"id"`
		} `json:"workflow_run"`
	}
	for doc, want := range map[string]string{
		`{"workflow_run":{"id":"42"}}`: "workflow_run.id is a string, not a whole number",
		`{"workflow_run":{"id":1.5}}`:  "workflow_run.id is a number 1.5, not a whole number",
		`[1,2]`:                        "the document is an array, not an object",
		`{"workflow_run":`:             "it is not JSON (at byte 16: unexpected end of JSON input)",
		`{"a" 1}`:                      "it is not JSON (at byte 6: invalid character '1' after object key)",
	} {
		err := json.Unmarshal([]byte(doc), &v)
		if got := jsonerr.Describe(err); got != want {
			t.Errorf("Describe(%s) = %q, want %q", doc, got, want)
		}
	}
}

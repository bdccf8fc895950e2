package graph_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The GraphQL endpoint writes the executor's JSON as it is (no second encoding): every answer is
// one compact JSON document whose Content-Length is known before the first byte is sent, the
// whole entities of a page (each spec a JSON scalar) included.
func TestAnswersAreCompactJSONWithTheirLength(t *testing.T) {
	e := newHTTPEnv(t)
	const whole = `{ entities(first: 6) { totalCount nodes { ref kind name title description tags spec } } }`
	for _, c := range []struct {
		name   string
		rec    func() *httptest.ResponseRecorder
		status int
		media  string
		errors int
	}{
		{"POST, whole entities", func() *httptest.ResponseRecorder { return e.post(t, whole, mediaGraphQLResponse) }, http.StatusOK, mediaGraphQLResponse, 0},
		{"GET, whole entities", func() *httptest.ResponseRecorder { return e.get(whole, mediaJSON) }, http.StatusOK, mediaJSON, 0},
		{"POST, a field error beside data", func() *httptest.ResponseRecorder {
			return e.post(t, `{ entity(ref: "not a ref!") { ref } entities(first: 1) { totalCount } }`, mediaJSON)
		}, http.StatusOK, mediaJSON, 1},
		{"POST, a request error", func() *httptest.ResponseRecorder {
			return e.post(t, `{ entities(first: 1) { nope } }`, mediaGraphQLResponse)
		}, http.StatusBadRequest, mediaGraphQLResponse, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := c.rec()
			if rec.Code != c.status || rec.Header().Get("Content-Type") != c.media {
				t.Fatalf("status %d, Content-Type %q; want %d, %q\n%s", rec.Code, rec.Header().Get("Content-Type"), c.status, c.media, rec.Body)
			}
			body := rec.Body.Bytes()
			var compact bytes.Buffer
			if err := json.Compact(&compact, body); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, body)
			}
			if diff := cmp.Diff(compact.String(), string(body)); diff != "" {
				t.Errorf("the answer is not compact JSON (-compacted +sent):\n%s", diff)
			}
			if got := decodeHTTP(t, rec); len(got.Errors) != c.errors {
				t.Errorf("%d errors, want %d: %s", len(got.Errors), c.errors, body)
			}
			if c.status == http.StatusOK {
				if cl := rec.Header().Get("Content-Length"); cl != strconv.Itoa(len(body)) {
					t.Errorf("Content-Length %q, body %d bytes", cl, len(body))
				}
			}
		})
	}
}

// A whole entity's spec arrives as the object it is in the catalog.
func TestWholeEntitySpecIsTheCatalogsObject(t *testing.T) {
	e := newHTTPEnv(t)
	rec := e.post(t, `{ entity(ref: "component:default/ledger") { spec } }`, mediaJSON)
	var got struct{ Entity struct{ Spec map[string]any } }
	decodeHTTP(t, rec).data(t, &got)
	want := map[string]any{"type": "service", "lifecycle": "production", "system": "payments"}
	for k, v := range want {
		if got.Entity.Spec[k] != v {
			t.Errorf("spec.%s = %v, want %v (spec %v)", k, got.Entity.Spec[k], v, got.Entity.Spec)
		}
	}
}

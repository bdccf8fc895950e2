package graph

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// writeResponse sends what json.Marshal of the response would (same members, same order), without
// encoding the data again, and without the newlines json.Encoder ends JSON scalars with.
func TestWriteResponseIsTheMarshalledResponse(t *testing.T) {
	for _, c := range []struct {
		name string
		resp graphql.Response
		want string
	}{
		{"data only", graphql.Response{Data: json.RawMessage(`{"a":1}`)}, `{"data":{"a":1}}`},
		{"no data", graphql.Response{Errors: gqlerror.List{{Message: "no"}}}, `{"errors":[{"message":"no"}],"data":null}`},
		{"errors, data and extensions", graphql.Response{
			Errors:     gqlerror.List{{Message: "half", Extensions: map[string]any{"code": "NOT_FOUND"}}},
			Data:       json.RawMessage(`{"a":null,"b":2}`),
			Extensions: map[string]any{"cost": 3},
		}, `{"errors":[{"message":"half","extensions":{"code":"NOT_FOUND"}}],"data":{"a":null,"b":2},"extensions":{"cost":3}}`},
		{"JSON scalars as json.Encoder ends them", graphql.Response{Data: json.RawMessage("{\"n\":[{\"spec\":{\"x\":\"a\\nb\"}\n},{\"spec\":{}\n}]}")},
			`{"data":{"n":[{"spec":{"x":"a\nb"}},{"spec":{}}]}}`},
		{"incremental delivery", graphql.Response{Data: json.RawMessage(`{"a":1}`), Label: "l", HasNext: new(bool)},
			`{"data":{"a":1},"label":"l","hasNext":false}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			writeResponse(rec, &c.resp)
			if got := rec.Body.String(); got != c.want {
				t.Errorf("wrote\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}

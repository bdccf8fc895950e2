package graph

import (
	"bytes"
	"encoding/json"
	"io"
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

// A query's data is rendered into a reused buffer and handed out as a copy of its own: the
// response cache keeps it while later queries render, and a large answer costs one allocation of
// its size rather than a dozen doublings of a new buffer.
func TestMarshalDataIsAnOwnCopyFromAReusedBuffer(t *testing.T) {
	page := func(fill byte) graphql.Marshaler {
		s := append(append([]byte{'"'}, bytes.Repeat([]byte{fill}, 77<<10)...), '"')
		return graphql.WriterFunc(func(w io.Writer) { _, _ = w.Write(s) })
	}
	first := marshalData(page('a'))
	second := marshalData(page('b'))
	if len(first) != 77<<10+2 || bytes.Count(first, []byte("a")) != 77<<10 {
		t.Fatalf("first answer changed after the second was rendered: %d bytes, %d of them 'a'", len(first), bytes.Count(first, []byte("a")))
	}
	if bytes.Count(second, []byte("b")) != 77<<10 {
		t.Fatalf("second answer: %d bytes", len(second))
	}
	if got := marshalData(graphql.WriterFunc(func(io.Writer) {})); got != nil {
		t.Errorf("nothing rendered gave %q, want nil", got)
	}
	// Allocation counts, not time: a new buffer doubling up to 77 kB allocates about 12 times.
	if raceEnabled {
		return
	}
	m := page('c')
	if n := testing.AllocsPerRun(50, func() { _ = marshalData(m) }); n > 2 {
		t.Errorf("rendering 77 kB of data allocates %.1f times, want at most 2", n)
	}
}

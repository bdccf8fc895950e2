package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http/httptest"
	"os"
	"path/filepath"
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

// A request refused before execution began has no data member at all (the GraphQL
// specification's response section), where an execution that nulled its root has "data": null.
func TestARequestErrorHasNoData(t *testing.T) {
	for _, c := range []struct {
		name string
		resp graphql.Response
		want string
	}{
		{"errors", graphql.Response{Errors: gqlerror.List{{Message: "no"}}}, `{"errors":[{"message":"no"}]}`},
		{"errors and extensions", graphql.Response{Errors: gqlerror.List{{Message: "no"}}, Extensions: map[string]any{"cost": 3}},
			`{"errors":[{"message":"no"}],"extensions":{"cost":3}}`},
		{"no error (never sent so)", graphql.Response{}, `{"data":null}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			writeRequestErrors(rec, &c.resp)
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
	ctx := context.Background()
	first := marshalData(ctx, page('a'))
	second := marshalData(ctx, page('b'))
	if len(first) != 77<<10+2 || bytes.Count(first, []byte("a")) != 77<<10 {
		t.Fatalf("first answer changed after the second was rendered: %d bytes, %d of them 'a'", len(first), bytes.Count(first, []byte("a")))
	}
	if bytes.Count(second, []byte("b")) != 77<<10 {
		t.Fatalf("second answer: %d bytes", len(second))
	}
	if got := marshalData(ctx, graphql.WriterFunc(func(io.Writer) {})); got != nil {
		t.Errorf("nothing rendered gave %q, want nil", got)
	}
	// Allocation counts, not time: a new buffer doubling up to 77 kB allocates about 12 times.
	if raceEnabled {
		return
	}
	m := page('c')
	if n := testing.AllocsPerRun(50, func() { _ = marshalData(ctx, m) }); n > 2 {
		t.Errorf("rendering 77 kB of data allocates %.1f times, want at most 2", n)
	}
}

// Over HTTP the data is rendered into the buffer the transport lends (no copy), once: a second
// rendering in the same operation (a deferred part) gets a copy of its own, and the lent buffer is
// reused for later requests once run has written the response.
func TestMarshalDataRendersIntoTheLentBufferOnce(t *testing.T) {
	lease := &dataLease{}
	ctx := context.WithValue(context.Background(), dataLeaseKey{}, lease)
	first := marshalData(ctx, graphql.WriterFunc(func(w io.Writer) { _, _ = io.WriteString(w, `{"a":1}`) }))
	if lease.buf == nil || string(first) != `{"a":1}` || &lease.buf.Bytes()[0] != &first[0] {
		t.Fatalf("first rendering %q is not the lent buffer's bytes", first)
	}
	second := marshalData(ctx, graphql.WriterFunc(func(w io.Writer) { _, _ = io.WriteString(w, `{"b":2}`) }))
	if string(second) != `{"b":2}` || string(first) != `{"a":1}` || &lease.buf.Bytes()[0] == &second[0] {
		t.Fatalf("second rendering %q (first now %q) shares the lent buffer", second, first)
	}
	if raceEnabled {
		return
	}
	m := graphql.WriterFunc(func(w io.Writer) { _, _ = w.Write(bytes.Repeat([]byte{'x'}, 77<<10)) })
	if n := testing.AllocsPerRun(50, func() {
		l := &dataLease{}
		_ = marshalData(context.WithValue(context.Background(), dataLeaseKey{}, l), m)
		releaseBuffer(l.buf)
	}); n > 3 {
		t.Errorf("rendering 77 kB of data into the lent buffer allocates %.1f times, want at most 3 (the lease and its context)", n)
	}
}

// mediaType reads every Content-Type and Accept part as mime.ParseMediaType does: the plain forms
// it recognises without parsing, and the rest (parameters, case, junk) through the parser.
func TestMediaTypeIsWhatParseMediaTypeSays(t *testing.T) {
	for _, s := range []string{
		"application/json", "application/graphql-response+json", "*/*", "application/*",
		"application/json; charset=utf-8", "Application/JSON", "application/graphql-response+json;q=0.9",
		"text/html", "", "application/json/x", "garbage", ";", "application/json;", " application/json",
	} {
		want, _, wantErr := mime.ParseMediaType(s)
		got, err := mediaType(s)
		if got != want || (err == nil) != (wantErr == nil) {
			t.Errorf("mediaType(%q) = %q, %v; mime.ParseMediaType: %q, %v", s, got, err, want, wantErr)
		}
	}
}

// negotiate follows the Accept header's q-values (RFC 9110 12.5.1): a type given q=0 is not
// acceptable, the most specific range sets a type's q-value, the higher q-value wins, and between
// equals application/graphql-response+json wins when the client named it.
func TestNegotiateFollowsQValues(t *testing.T) {
	const (
		gr   = "graphql-response+json"
		js   = "json"
		none = "406"
	)
	for _, c := range []struct{ accept, want string }{
		{"", js},
		{"*/*", js},
		{"application/*", js},
		{"application/json", js},
		{"application/graphql-response+json", gr},
		{"application/graphql-response+json, application/json", gr},
		{"application/json, application/graphql-response+json", gr},
		{"application/graphql-response+json, application/json;q=0.9", gr},
		{"application/graphql-response+json;q=0.9, application/json", js},
		{"application/graphql-response+json;q=0, application/json", js},
		{"application/graphql-response+json; q=0.0, */*", js},
		{"application/json;q=0", none},
		{"application/json;q=0, */*", gr},
		{"application/json;q=0, application/*;q=0.5", gr},
		{"application/graphql-response+json;q=0.5, */*", js},
		{"application/graphql-response+json, */*", gr},
		{"application/json, */*", js},
		{"*/*;q=0", none},
		{"text/html", none},
		{"text/html, application/xhtml+xml, */*;q=0.8", js},
		{"Application/GraphQL-Response+JSON", gr},
		{"application/json;q=2, application/graphql-response+json;q=0.1", gr}, // q=2 is no q-value
		{"application/json;q=x", none},
		{"garbage", none},
	} {
		gotGR, ok := negotiate(c.accept)
		got := map[bool]string{true: gr, false: js}[gotGR]
		if !ok {
			got = none
		}
		if got != c.want {
			t.Errorf("Accept %q: %s, want %s", c.accept, got, c.want)
		}
	}
}

// genpatch leaves out the input unmarshaler map gqlgen built for every operation; only
// graphql.UnmarshalInputFromContext reads it, so nothing in this package may call that.
func TestNothingReadsTheInputUnmarshalerMap(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	models, err := filepath.Glob("model/*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range append(files, models...) {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if f != "transport_internal_test.go" && bytes.Contains(src, []byte("UnmarshalInputFromContext")) {
			t.Errorf("%s calls graphql.UnmarshalInputFromContext, whose map graph/internal/genpatch leaves out of every operation: keep the map (genpatch) first", f)
		}
	}
}

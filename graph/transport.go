package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// postTransport and getTransport are gqlgen's POST and GET transports (transport.POST and
// transport.GET, same media types and status codes) with one difference: the response is written
// as the executor made it. gqlgen's transports pass the whole response through json.Marshal, which
// validates and compacts the data (a json.RawMessage) byte by byte a second time: two thirds of
// the CPU of a page of 50 whole entities already rendered (767 → 258 µs in BenchmarkWholeEntities),
// for bytes the executor had just written as JSON.
type postTransport struct{ vars *variableTypes }

// getTransport: see postTransport.
type getTransport struct{ vars *variableTypes }

var (
	_ graphql.Transport = postTransport{}
	_ graphql.Transport = getTransport{}
)

// Supports is transport.POST's: a POST of application/json that is not a WebSocket upgrade.
func (postTransport) Supports(r *http.Request) bool {
	if r.Header.Get("Upgrade") != "" {
		return false
	}
	mt, err := mediaType(r.Header.Get("Content-Type"))
	return err == nil && r.Method == http.MethodPost && mt == "application/json"
}

// Do runs the operation of a POST body.
func (t postTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	ctx := r.Context()
	graphQLResponse := setResponseContentType(w, r)
	start := graphql.Now()
	var params graphql.RawParams
	if p, ok := ctx.Value(postBodyKey{}).(*postBody); ok {
		// conformance read and decoded the body (as gqlgen would: numbers as json.Number).
		params.Query, params.OperationName, params.Variables, params.Extensions = p.Query, p.OperationName, p.Variables, p.Extensions
	} else {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			writeRequestErrors(w, exec.DispatchError(ctx, gqlerror.List{gqlerror.Errorf("could not read request body: %v", err)}))
			return
		}
		if err := decodeJSON(body, &params); err != nil {
			// conformance refuses such bodies first; the body is never quoted (it may hold a secret).
			w.WriteHeader(http.StatusBadRequest)
			writeRequestErrors(w, exec.DispatchError(ctx, gqlerror.List{gqlerror.Errorf("json request body could not be decoded: %v", err)}))
			return
		}
	}
	params.Headers = r.Header
	params.ReadTime = graphql.TraceTiming{Start: start, End: graphql.Now()}
	run(ctx, w, exec, t.vars, &params, graphQLResponse, false)
}

// Supports is transport.GET's: a GET that is not a WebSocket upgrade.
func (getTransport) Supports(r *http.Request) bool {
	return r.Header.Get("Upgrade") == "" && r.Method == http.MethodGet
}

// Do runs the query of a GET's URL parameters. conformance has refused a query string that is
// not URL encoding; variables and extensions must each be one JSON object (or absent).
func (t getTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	graphQLResponse := setResponseContentType(w, r)
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		writeRequestError(w, graphQLResponse, http.StatusBadRequest, "INVALID_QUERY_STRING",
			"the URL's query string could not be decoded ("+err.Error()+"): percent-encode query, operationName, variables and extensions")
		return
	}
	params := graphql.RawParams{
		Query:         query.Get("query"),
		OperationName: query.Get("operationName"),
		Headers:       r.Header,
	}
	params.ReadTime.Start = graphql.Now()
	for _, p := range []struct {
		name string
		into *map[string]any
	}{{"variables", &params.Variables}, {"extensions", &params.Extensions}} {
		v := query.Get(p.name)
		if v == "" {
			continue
		}
		if err := decodeJSON([]byte(v), p.into); err != nil {
			// Never quoted: variables may hold a secret.
			msg := "the " + p.name + " parameter must be a JSON object"
			if _, wrongType := errors.AsType[*json.UnmarshalTypeError](err); !wrongType {
				msg = "the " + p.name + " parameter " + jsonProblem(err) + "; it must be a JSON object"
			}
			writeRequestError(w, graphQLResponse, http.StatusBadRequest, "INVALID_JSON", msg)
			return
		}
	}
	params.ReadTime.End = graphql.Now()
	run(r.Context(), w, exec, t.vars, &params, graphQLResponse, true)
}

// run creates the operation, answers its request errors with the status of the response's media
// type (400 under application/graphql-response+json, 422 under application/json, which
// conformance turns into 200), and writes what the executor answers. A subscription is refused
// the same way (reason SUBSCRIPTION_OVER_HTTP), by POST and by GET: over plain HTTP it held its
// request and goroutines open with no time limit (graphql-timeout does not bound subscriptions)
// until its first event. Subscriptions are the WebSocket's (websocket.go).
func run(ctx context.Context, w http.ResponseWriter, exec graphql.GraphExecutor, vars *variableTypes, params *graphql.RawParams, graphQLResponse, queriesOnly bool) {
	oc, opErr := exec.CreateOperationContext(ctx, params)
	if opErr == nil && oc.Operation.Operation == ast.Subscription {
		err := gqlerror.Errorf("subscriptions are served over the WebSocket at /graphql (graphql-transport-ws), not over plain HTTP")
		errcode.Set(err, "SUBSCRIPTION_OVER_HTTP")
		opErr = gqlerror.List{err}
	}
	if opErr != nil {
		switch {
		case oc != nil && oc.Doc != nil && oc.Operation == nil:
			opErr = gqlerror.List{operationNotFound(oc.Doc, params.OperationName)}
		case oc != nil && oc.Operation != nil && oc.Variables == nil && vars != nil:
			// gqlparser refused the variables, in words of its own ("cannot use value 0 as
			// Int" for 5.5): said as variableTypes says it, where it sees the fault.
			if err := vars.checkAll(oc.Operation, params.Variables); err != nil {
				opErr = gqlerror.List{err}
			} else {
				nameVariables(opErr)
			}
		}
		status := http.StatusOK
		if errcode.GetErrorKind(opErr) == errcode.KindProtocol {
			status = http.StatusUnprocessableEntity
			if graphQLResponse {
				status = http.StatusBadRequest
			}
		}
		w.WriteHeader(status)
		writeRequestErrors(w, exec.DispatchError(graphql.WithOperationContext(ctx, oc), opErr))
		return
	}
	if queriesOnly && oc.Operation.Operation != ast.Query {
		// A mutation conformance could not see (an automatic persisted query's).
		refuseMutation(w, graphQLResponse)
		return
	}
	lease := &dataLease{}
	responses, ctx := exec.DispatchOperation(context.WithValue(ctx, dataLeaseKey{}, lease), oc)
	writeResponse(w, responses(ctx))
	if lease.buf != nil {
		releaseBuffer(lease.buf) // written: the data in it is no one's any more
	}
}

// nameVariables puts the variable, and the member, that gqlparser's refusals of variables are
// about into their messages, which said only "must be defined" or "unknown field": the error's
// path named it, which a client showing the message alone lost.
func nameVariables(list gqlerror.List) {
	for _, err := range list {
		if len(err.Path) < 2 || err.Path[0] != ast.PathName("variable") || strings.HasPrefix(err.Message, "variable ") {
			continue
		}
		name := "$"
		for i, p := range err.Path[1:] {
			switch p := p.(type) {
			case ast.PathName:
				if i > 0 {
					name += "."
				}
				name += string(p)
			case ast.PathIndex:
				name += fmt.Sprintf("[%d]", int(p))
			}
		}
		err.Message = "variable " + name + ": " + err.Message
	}
}

// operationNotFound says why a document has no operation to run for an operationName (gqlgen's
// own message, "operation  not found", named nothing when the name was left out).
func operationNotFound(doc *ast.QueryDocument, name string) *gqlerror.Error {
	names := make([]string, 0, min(len(doc.Operations), 10))
	for _, op := range doc.Operations {
		if len(names) == cap(names) {
			names = append(names, "...")
			break
		}
		names = append(names, op.Name)
	}
	var err *gqlerror.Error
	switch {
	case len(doc.Operations) == 0:
		err = gqlerror.Errorf("the document has no operation to run")
	case name == "":
		err = gqlerror.Errorf("operationName is required to choose among the document's %d operations (%s)", len(doc.Operations), strings.Join(names, ", "))
	default:
		if len(name) > 64 {
			name = name[:64] + "…"
		}
		err = gqlerror.Errorf("the document has no operation named %q; its operations are %s", name, strings.Join(names, ", "))
	}
	errcode.Set(err, errcode.ValidationFailed)
	return err
}

// setResponseContentType sets the media type gqlgen's transports answer for the request's Accept
// header and says whether it is application/graphql-response+json.
func setResponseContentType(w http.ResponseWriter, r *http.Request) bool {
	if prefersGraphQLResponse(r.Header.Get("Accept")) {
		w.Header().Set("Content-Type", "application/graphql-response+json")
		return true
	}
	w.Header().Set("Content-Type", "application/json")
	return false
}

// responseBuffers keeps the buffers responses are assembled in; one larger than maxPooledBuffer is
// left to the collector rather than kept for every later response.
var responseBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledBuffer = 1 << 20

// marshalData renders a query's data (graph/internal/genpatch routes the generated executor here).
// gqlgen rendered into a new bytes.Buffer, which for a page of 50 whole entities (~77 kB) doubled
// its way up through a dozen allocations, each zeroed and copied: a fifth of the page's CPU with
// every entity already rendered. Here the data is rendered into a reused buffer. Over HTTP the
// buffer is lent by the transport (see dataLease): run writes the response from it and takes it
// back, so the data is never copied. Elsewhere (the WebSocket, a deferred part) it is copied out
// once at its size, for whoever keeps the response.
func marshalData(ctx context.Context, data graphql.Marshaler) []byte {
	if l, ok := ctx.Value(dataLeaseKey{}).(*dataLease); ok && l.buf == nil {
		l.buf = responseBuffers.Get().(*bytes.Buffer)
		data.MarshalGQL(l.buf)
		if l.buf.Len() == 0 {
			return nil
		}
		return l.buf.Bytes()
	}
	buf := responseBuffers.Get().(*bytes.Buffer)
	defer releaseBuffer(buf)
	data.MarshalGQL(buf)
	if buf.Len() == 0 {
		return nil
	}
	return bytes.Clone(buf.Bytes())
}

// dataLease is a reused buffer lent to the executor for the data of the one response an HTTP
// request gets: nothing holds that data once writeResponse has written it (the response cache
// keeps the bytes written, not the executor's), so run takes the buffer back then.
type dataLease struct{ buf *bytes.Buffer }

type dataLeaseKey struct{}

func releaseBuffer(buf *bytes.Buffer) {
	if buf.Cap() <= maxPooledBuffer {
		buf.Reset()
		responseBuffers.Put(buf)
	}
}

// writeResponse writes resp as json.Marshal would (errors, data, extensions, in that order), with
// the data as the executor wrote it, in one Write with its Content-Length. The data is already
// JSON; the one thing removed from it is the newline json.Encoder ends each JSON scalar (an
// entity's spec) with: a raw newline byte can only be whitespace in valid JSON (inside a string it
// is escaped), so dropping every one keeps the document and makes it compact. Responses of
// incremental delivery (label, path, hasNext) go through json.Marshal as before.
func writeResponse(w http.ResponseWriter, resp *graphql.Response) {
	write(w, resp, true)
}

// writeRequestErrors writes the response of a request refused before execution began (a
// document that does not parse or validate, variables that do not coerce, no operation to run):
// its errors without a data member, as the GraphQL specification has it ("If an error was raised
// before execution begins, the data entry should not be present"), where gqlgen's response wrote
// "data": null, which reads as an execution that nulled its root.
func writeRequestErrors(w http.ResponseWriter, resp *graphql.Response) {
	write(w, resp, false)
}

// write is writeResponse, with the data member or (withData false, a request error) without it.
func write(w http.ResponseWriter, resp *graphql.Response, withData bool) {
	if resp == nil {
		return
	}
	if resp.Label != "" || resp.Path != nil || resp.HasNext != nil {
		b, err := json.Marshal(resp)
		if err != nil {
			panic(fmt.Errorf("graph: marshal response: %w", err))
		}
		_, _ = w.Write(b)
		return
	}
	buf := responseBuffers.Get().(*bytes.Buffer)
	defer releaseBuffer(buf)
	buf.Grow(len(resp.Data) + 64)
	buf.WriteByte('{')
	member := func(name string) { // each member after the first is preceded by a comma
		if buf.Len() > 1 {
			buf.WriteByte(',')
		}
		buf.WriteString(`"` + name + `":`)
	}
	if len(resp.Errors) > 0 {
		b, err := json.Marshal(resp.Errors)
		if err != nil {
			panic(fmt.Errorf("graph: marshal errors: %w", err))
		}
		member("errors")
		buf.Write(b)
	}
	if withData || len(resp.Errors) == 0 {
		member("data")
		if len(resp.Data) == 0 {
			buf.WriteString("null")
		}
		for data := []byte(resp.Data); len(data) > 0; {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				buf.Write(data)
				break
			}
			buf.Write(data[:i])
			data = data[i+1:]
		}
	}
	if len(resp.Extensions) > 0 {
		b, err := json.Marshal(resp.Extensions)
		if err != nil {
			panic(fmt.Errorf("graph: marshal extensions: %w", err))
		}
		member("extensions")
		buf.Write(b)
	}
	buf.WriteByte('}')
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	_, _ = w.Write(buf.Bytes())
}

package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/portside-dev/portside/runbooks"
	"github.com/portside-dev/portside/tasks"
)

// MaxBodyBytes is the default bound of a GraphQL request body (setting graphql-max-body-bytes).
// Real operations with their variables are a few kB, but the API takes texts up to a bound of
// their own, and the largest of them (a task import's table, tasks.MaxImportBytes; a runbook's
// Markdown, runbooks.MaxBody, is smaller) must reach it however its client writes it in JSON: at
// worst every byte of it as a six-byte escape (jsonEscapeMax), with maxOperationBytes besides.
// At 1 MiB, a table of 1 MiB that the CLI imports was refused over GraphQL once escaped.
const MaxBodyBytes = jsonEscapeMax*max(tasks.MaxImportBytes, runbooks.MaxBody) + maxOperationBytes

// jsonEscapeMax is the most bytes JSON writes one byte of a string as: a control character is
// \u0001 and the like in every encoder (and Go's writes <, > and & so too).
const jsonEscapeMax = 6

// maxOperationBytes is the room MaxBodyBytes leaves beside the largest text: for the document,
// the other variables and the JSON around them.
const maxOperationBytes = 64 << 10

// conformance closes the gaps between gqlgen's transports and the GraphQL-over-HTTP spec: it
// answers 415 to bodies that are not JSON or that come with a content encoding (gzip), 406 to
// clients that accept neither JSON media type (q-values respected, see negotiate), 400 to a GET
// whose query string is not URL encoding, and 405 (with Allow: POST) to mutations sent with GET,
// which gqlgen would answer with 406. It also refuses what gqlgen would take in whole before any
// limit of its own applies: bodies over maxBody (413, also when chunked: it stops reading at the
// bound), bodies that are not one JSON object and nothing after it (gqlgen answered those INTERNAL
// and logged the whole body), and documents whose size or nesting would cost the parser more than
// any real operation needs (see scanDocument). A request the response cache can answer is
// answered once its media types are checked and its body read (see responseCache.lookup); cache
// may be nil. Every answer says that no cache may keep it (Cache-Control: private, no-store): it
// is made for the caller the request authenticated, whose token or cookie a shared cache would
// not tell apart (the response cache is Portside's own, and keeps only what any caller may read).
func conformance(next http.Handler, maxBody int64, cache *responseCache) http.Handler {
	if maxBody <= 0 {
		maxBody = MaxBodyBytes
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			// A subscription's WebSocket: not an HTTP exchange the spec covers, and it outlives the
			// server's request timeouts, which would otherwise stay on the hijacked connection.
			// The transport's ping/pong takes over noticing dead peers.
			rc := http.NewResponseController(w)
			_ = rc.SetReadDeadline(time.Time{})
			_ = rc.SetWriteDeadline(time.Time{})
			next.ServeHTTP(w, r)
			return
		}
		// One slice for every answer (nothing writes to a header value in place), as the
		// response cache does for its hits' headers.
		w.Header()["Cache-Control"] = privateNoStore
		graphQLResponse, acceptable := negotiate(r.Header.Get("Accept"))
		if !acceptable {
			writeRequestError(w, false, http.StatusNotAcceptable, "NOT_ACCEPTABLE",
				"this endpoint answers application/graphql-response+json or application/json")
			return
		}
		switch r.Method {
		case http.MethodPost:
			if r.ContentLength > maxBody {
				writeTooLarge(w, graphQLResponse, maxBody)
				return
			}
			mt, err := mediaType(r.Header.Get("Content-Type"))
			if err != nil || mt != "application/json" {
				writeRequestError(w, graphQLResponse, http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE",
					"send the request as application/json")
				return
			}
			if encoded(r.Header) {
				// RFC 9110 15.5.16 and 12.5.3: a 415 for a content coding says which codings
				// would do (none), so that the client can tell it from a wrong media type.
				w.Header().Set("Accept-Encoding", "identity")
				writeRequestError(w, graphQLResponse, http.StatusUnsupportedMediaType, "UNSUPPORTED_CONTENT_ENCODING",
					"content encodings (Content-Encoding: gzip and the like) are not accepted: send the request body as plain application/json")
				return
			}
			// The body is read into a pooled buffer, after the response cache's key prefix: a hit
			// gives the buffer back, and the request allocated nothing for its body.
			buf := keyInputs.Get().(*[]byte)
			in := (*buf)[:0]
			if cache != nil {
				in = keyPrefix(in, r)
			}
			n := len(in)
			in, err = readBody(in, w, r, maxBody)
			if err != nil {
				if _, tooLarge := errors.AsType[*http.MaxBytesError](err); tooLarge {
					writeTooLarge(w, graphQLResponse, maxBody)
					return
				}
				writeRequestError(w, graphQLResponse, http.StatusBadRequest, "BODY_UNREADABLE", "the request body could not be read")
				return
			}
			body := in[n:]
			if cache != nil {
				ctx, served := cache.lookup(w, r, in)
				if served {
					putKeyInput(buf, in)
					return
				}
				r = r.WithContext(ctx)
			}
			// From here on the buffer is the request's (its body, and its key for the answer to
			// be kept): it is not given back to the pool.
			r.Body = io.NopCloser(bytes.NewReader(body))
			params, msg, reason := checkPostBody(body)
			if reason != "" {
				writeRequestError(w, graphQLResponse, http.StatusBadRequest, reason, msg)
				return
			}
			if err := scanDocument(params.Query); err != nil {
				writeDocumentError(w, r, err)
				return
			}
			// The decoded body goes along: postTransport runs it without decoding it again.
			r = r.WithContext(context.WithValue(r.Context(), postBodyKey{}, params))
		case http.MethodGet:
			if cache != nil {
				buf := keyInputs.Get().(*[]byte)
				in := append(keyPrefix((*buf)[:0], r), r.URL.RawQuery...)
				ctx, served := cache.lookup(w, r, in)
				if served {
					putKeyInput(buf, in)
					return
				}
				r = r.WithContext(ctx)
			}
			query, err := url.ParseQuery(r.URL.RawQuery)
			if err != nil {
				writeRequestError(w, graphQLResponse, http.StatusBadRequest, "INVALID_QUERY_STRING",
					"the URL's query string could not be decoded ("+err.Error()+"): percent-encode query, operationName, variables and extensions")
				return
			}
			if err := scanDocument(query.Get("query")); err != nil {
				writeDocumentError(w, r, err)
				return
			}
			// A subscription goes on to the transport, which refuses it as it does over POST.
			if operationType(query.Get("query"), query.Get("operationName")) == ast.Mutation {
				refuseMutation(w, graphQLResponse)
				return
			}
		}
		next.ServeHTTP(legacyJSONStatus{w}, r)
	})
}

// readBody appends r's body to b, bounded by maxBody (which conformance has checked a declared
// length against). A body of known length is read in one piece into b; one without (chunked) is
// read through http.MaxBytesReader, which stops at the bound whatever the transfer encoding
// (gqlgen answered a read cut by the bound as an internal error). A body shorter than its
// declared length is an error (io.ErrUnexpectedEOF), as it was for io.ReadAll.
func readBody(b []byte, w http.ResponseWriter, r *http.Request, maxBody int64) ([]byte, error) {
	if r.ContentLength > 0 && r.ContentLength <= maxBody { // 0 may be unknown (http.NewRequest's)
		n := len(b)
		b = slices.Grow(b, int(r.ContentLength))[:n+int(r.ContentLength)]
		_, err := io.ReadFull(r.Body, b[n:])
		return b, err
	}
	rest, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	return append(b, rest...), err
}

// legacyJSONStatus answers 200 where gqlgen answers 422 to a GraphQL request error (a parse or
// validation failure) in an application/json response: the spec wants 200 for every well-formed
// request under the legacy media type, and 4xx only under application/graphql-response+json.
type legacyJSONStatus struct{ http.ResponseWriter }

func (w legacyJSONStatus) WriteHeader(code int) {
	if code == http.StatusUnprocessableEntity && w.Header().Get("Content-Type") == "application/json" {
		code = http.StatusOK
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap gives http.ResponseController the writer underneath.
func (w legacyJSONStatus) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// operationType parses just enough of a GET query to see which operation it would run: the one
// named, or the only one. It is "" when it cannot tell (a syntax error, no operation by that
// name, several without a name): gqlgen says why.
func operationType(query, operationName string) ast.Operation {
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, maxDocumentTokens)
	if err != nil {
		return ""
	}
	if operationName == "" {
		if len(doc.Operations) != 1 {
			return ""
		}
		return doc.Operations[0].Operation
	}
	if op := doc.Operations.ForName(operationName); op != nil {
		return op.Operation
	}
	return ""
}

// refuseMutation answers a mutation sent with GET: 405, with Allow: POST (the spec).
func refuseMutation(w http.ResponseWriter, graphQLResponse bool) {
	w.Header().Set("Allow", "POST")
	writeRequestError(w, graphQLResponse, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "mutations must be sent with POST")
}

// RefuseMethod answers a request to the GraphQL endpoint with a method it does not serve (PUT,
// DELETE...): 405 as the router sets it (Allow names GET and POST), in the shape of the
// endpoint's other request errors, which is what a GraphQL client reads.
func RefuseMethod(w http.ResponseWriter, r *http.Request) {
	writeRequestError(w, prefersGraphQLResponse(r.Header.Get("Accept")), http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED",
		r.Method+" is not allowed on the GraphQL endpoint; send queries with GET or POST and mutations with POST")
}

// encoded says whether a request's body comes with a content coding (gzip, deflate, br ...),
// which the endpoint does not decode: read as JSON, a gzip body was "not valid JSON (at byte 1)".
func encoded(h http.Header) bool {
	for _, v := range h.Values("Content-Encoding") {
		for c := range strings.SplitSeq(v, ",") {
			if c = strings.TrimSpace(c); c != "" && !strings.EqualFold(c, "identity") {
				return true
			}
		}
	}
	return false
}

// privateNoStore is every answer's Cache-Control (see conformance).
var privateNoStore = []string{"private, no-store"}

func writeTooLarge(w http.ResponseWriter, graphQLResponse bool, maxBody int64) {
	writeRequestError(w, graphQLResponse, http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE",
		fmt.Sprintf("the request body is larger than %d bytes (setting graphql-max-body-bytes)", maxBody))
}

// postBody is the shape of a GraphQL-over-HTTP POST body, as gqlgen decodes it.
type postBody struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName"`
	Variables     map[string]any `json:"variables"`
	Extensions    map[string]any `json:"extensions"`
}

// postBodyKey carries a POST body's *postBody from conformance to postTransport.
type postBodyKey struct{}

// checkPostBody decodes a POST body, or says why the body is refused (reason non-empty): it must
// be one JSON object, with nothing but whitespace after it (a second object was silently ignored).
// The message never quotes the body: a secret sent by mistake must not reach a log or a proxy.
func checkPostBody(body []byte) (params *postBody, msg, reason string) {
	trimmed := bytes.TrimLeft(body, jsonSpace)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		return nil, "batched requests (a JSON array of operations) are not supported: send one operation per request", "BATCHING_NOT_SUPPORTED"
	}
	var p postBody
	if err := decodeJSON(body, &p); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return nil, fmt.Sprintf("the request body must be a JSON object with query (a string), operationName (a string), variables and extensions (objects); %s has the wrong type", typeErr.Field), "INVALID_JSON"
		}
		return nil, "the request body " + jsonProblem(err), "INVALID_JSON"
	}
	if len(trimmed) > 0 && trimmed[0] != '{' { // null: decoded as nothing at all
		return nil, "the request body must be a JSON object with query (a string), operationName (a string), variables and extensions (objects)", "INVALID_JSON"
	}
	return &p, "", ""
}

// jsonSpace is the whitespace JSON allows between tokens.
const jsonSpace = " \t\r\n"

// trailingDataError is one JSON value followed by more than whitespace.
type trailingDataError struct{ offset int64 }

func (e *trailingDataError) Error() string {
	return fmt.Sprintf("more than one JSON value (more follows at byte %d)", e.offset)
}

// decodeJSON decodes one JSON value of data into v as gqlgen would (numbers as json.Number), and
// refuses anything but whitespace after it: json.Decoder stops at the end of the first value.
func decodeJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	end := dec.InputOffset()
	if rest := bytes.TrimLeft(data[end:], jsonSpace); len(rest) > 0 {
		return &trailingDataError{offset: int64(len(data) - len(rest))}
	}
	return nil
}

// jsonProblem says what is wrong with JSON that decodeJSON refused, never quoting it.
func jsonProblem(err error) string {
	var syntaxErr *json.SyntaxError
	var trailing *trailingDataError
	switch {
	case errors.As(err, &trailing):
		return fmt.Sprintf("must be one JSON object with nothing after it; more follows at byte %d", trailing.offset)
	case errors.As(err, &syntaxErr):
		return fmt.Sprintf("is not valid JSON (at byte %d)", syntaxErr.Offset)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "is not valid JSON (it ends too soon)"
	}
	return "is not valid JSON"
}

// writeRequestError refuses a request before gqlgen sees it: INVALID with reason, as
// application/graphql-response+json when the client prefers it, else application/json.
func writeRequestError(w http.ResponseWriter, graphQLResponse bool, status int, reason, msg string) {
	if graphQLResponse {
		w.Header().Set("Content-Type", "application/graphql-response+json")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{
		"message": msg, "extensions": map[string]any{"code": "INVALID", "reason": reason},
	}}})
}

// mediaType is the media type of a Content-Type or of one part of an Accept header, as
// mime.ParseMediaType reads it (lower case, without parameters). The media types GraphQL clients
// send, written plainly, are recognised without parsing: ParseMediaType builds a map of parameters
// for every call, and each request asked it up to six times (Accept twice, Content-Type twice).
func mediaType(s string) (string, error) {
	switch s {
	case "application/json", "application/graphql-response+json", "*/*", "application/*":
		return s, nil
	}
	mt, _, err := mime.ParseMediaType(s)
	return mt, err
}

// prefersGraphQLResponse says whether an answer to a request with this Accept header is
// application/graphql-response+json (see negotiate).
func prefersGraphQLResponse(accept string) bool {
	graphQLResponse, _ := negotiate(accept)
	return graphQLResponse
}

// negotiate reads an Accept header (RFC 9110 12.5.1) for the two media types the endpoint
// answers: whether the client accepts either, and whether the answer is
// application/graphql-response+json. Each type takes the q-value of the most specific range that
// matches it (the type itself, then application/*, then */*); q=0 means not acceptable. The one
// with the higher q-value is the answer. Between equals, application/graphql-response+json when
// the client named it, else application/json (for */* and for no Accept header at all, as the
// spec asks of servers for clients that do not know the new type).
func negotiate(accept string) (graphQLResponse, acceptable bool) {
	switch strings.TrimSpace(accept) { // what clients send, without parsing
	case "", "application/json", "*/*", "application/*":
		return false, true
	case "application/graphql-response+json":
		return true, true
	}
	var gr, js preference
	for part := range strings.SplitSeq(accept, ",") {
		mt, q, ok := mediaRange(strings.TrimSpace(part))
		if !ok {
			continue
		}
		switch mt {
		case "application/graphql-response+json":
			gr.take(3, q)
		case "application/json":
			js.take(3, q)
		case "application/*":
			gr.take(2, q)
			js.take(2, q)
		case "*/*":
			gr.take(1, q)
			js.take(1, q)
		}
	}
	switch {
	case gr.q == 0 && js.q == 0:
		return false, false
	case gr.q != js.q:
		return gr.q > js.q, true
	}
	return gr.spec == 3, true
}

// preference is the q-value a media type takes from an Accept header, and how specific the range
// it came from is (0: none matched; 1: */*; 2: application/*; 3: the type itself).
type preference struct {
	q    float64
	spec int
}

// take keeps a matching range's q-value if the range is more specific than the one kept (of
// equally specific ones, which RFC 9110 does not rank, the higher q-value).
func (p *preference) take(spec int, q float64) {
	if spec > p.spec || spec == p.spec && q > p.q {
		p.spec, p.q = spec, q
	}
}

// mediaRange reads one part of an Accept header: its media range (as mediaType reads it) and its
// q-value (1 when absent). A part that does not parse, or whose q-value is not one, is skipped.
func mediaRange(part string) (mt string, q float64, ok bool) {
	if strings.IndexByte(part, ';') < 0 {
		mt, err := mediaType(part)
		return mt, 1, err == nil
	}
	mt, params, err := mime.ParseMediaType(part)
	if err != nil {
		return "", 0, false
	}
	q = 1
	if v, has := params["q"]; has {
		if q, err = strconv.ParseFloat(v, 64); err != nil || q < 0 || q > 1 || math.IsNaN(q) {
			return "", 0, false
		}
	}
	return mt, q, true
}

package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// MaxBodyBytes is the default bound of a GraphQL request body (setting graphql-max-body-bytes);
// real operations with their variables are a few kB.
const MaxBodyBytes = 1 << 20

// conformance closes the gaps between gqlgen's transports and the GraphQL-over-HTTP spec: it
// answers 415 to bodies that are not JSON, 406 to clients that accept neither JSON media type, and
// 405 (with Allow: POST) to mutations sent with GET, which gqlgen would answer with 406. It also
// refuses what gqlgen would take in whole before any limit of its own applies: bodies over
// maxBody (413, also when chunked: it stops reading at the bound), bodies that are not one JSON
// object (gqlgen answered those INTERNAL and logged the whole body), and documents whose size or
// nesting would cost the parser more than any real operation needs (see scanDocument). A request
// the response cache can answer is answered once its media types are checked and its body read
// (see responseCache.lookup); cache may be nil.
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
		if !acceptsJSON(r.Header.Get("Accept")) {
			writeRequestError(w, http.StatusNotAcceptable, "NOT_ACCEPTABLE",
				"this endpoint answers application/graphql-response+json or application/json")
			return
		}
		switch r.Method {
		case http.MethodPost:
			if r.ContentLength > maxBody {
				writeTooLarge(w, maxBody)
				return
			}
			mt, err := mediaType(r.Header.Get("Content-Type"))
			if err != nil || mt != "application/json" {
				writeRequestError(w, http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE",
					"send the request as application/json")
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
					writeTooLarge(w, maxBody)
					return
				}
				writeRequestError(w, http.StatusBadRequest, "BODY_UNREADABLE", "the request body could not be read")
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
				writeRequestError(w, http.StatusBadRequest, reason, msg)
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
			if err := scanDocument(r.URL.Query().Get("query")); err != nil {
				writeDocumentError(w, r, err)
				return
			}
			if isMutation(r.URL.Query().Get("query"), r.URL.Query().Get("operationName")) {
				w.Header().Set("Allow", "POST")
				writeRequestError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "mutations must be sent with POST")
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

func acceptsJSON(accept string) bool {
	if strings.TrimSpace(accept) == "" {
		return true
	}
	for part := range strings.SplitSeq(accept, ",") {
		mt, err := mediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "application/graphql-response+json", "application/json", "application/*", "*/*":
			return true
		}
	}
	return false
}

// isMutation parses just enough of a GET query to see which operation it would run.
func isMutation(query, operationName string) bool {
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: query}, maxDocumentTokens)
	if err != nil {
		return false // gqlgen reports the syntax error
	}
	for _, op := range doc.Operations {
		if (operationName == "" || op.Name == operationName) && op.Operation != ast.Query {
			return true
		}
	}
	return false
}

func writeTooLarge(w http.ResponseWriter, maxBody int64) {
	writeRequestError(w, http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE",
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

// checkPostBody decodes a POST body, or says why the body is refused (reason non-empty).
// The message never quotes the body: a secret sent by mistake must not reach a log or a proxy.
func checkPostBody(body []byte) (params *postBody, msg, reason string) {
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '[' {
		return nil, "batched requests (a JSON array of operations) are not supported: send one operation per request", "BATCHING_NOT_SUPPORTED"
	}
	var p postBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return nil, fmt.Sprintf("the request body must be a JSON object with query (a string), operationName (a string), variables and extensions (objects); %s has the wrong type", typeErr.Field), "INVALID_JSON"
		}
		var syntaxErr *json.SyntaxError
		if errors.As(err, &syntaxErr) {
			return nil, fmt.Sprintf("the request body is not valid JSON (at byte %d)", syntaxErr.Offset), "INVALID_JSON"
		}
		return nil, "the request body is not valid JSON", "INVALID_JSON"
	}
	return &p, "", ""
}

func writeRequestError(w http.ResponseWriter, status int, reason, msg string) {
	w.Header().Set("Content-Type", "application/json")
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

// prefersGraphQLResponse says which media type gqlgen's transports answer for an Accept header
// (the first one of the two named, with application/json for wildcards and for none).
func prefersGraphQLResponse(accept string) bool {
	if strings.TrimSpace(accept) == "" {
		return false
	}
	for part := range strings.SplitSeq(accept, ",") {
		mt, err := mediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch mt {
		case "*/*", "application/*", "application/json":
			return false
		case "application/graphql-response+json":
			return true
		}
	}
	return true
}

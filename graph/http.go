package graph

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// MaxBodyBytes bounds a GraphQL request body; real operations with their variables are a few kB.
const MaxBodyBytes = 1 << 20

// conformance closes the gaps between gqlgen's transports and the GraphQL-over-HTTP spec: it
// answers 415 to bodies that are not JSON, 406 to clients that accept neither JSON media type, and
// 405 (with Allow: POST) to mutations sent with GET, which gqlgen would answer with 406.
func conformance(next http.Handler) http.Handler {
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
			if r.ContentLength > MaxBodyBytes {
				writeRequestError(w, http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE",
					fmt.Sprintf("the request body is larger than %d bytes", MaxBodyBytes))
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
			mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if err != nil || mt != "application/json" {
				writeRequestError(w, http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE",
					"send the request as application/json")
				return
			}
		case http.MethodGet:
			if isMutation(r.URL.Query().Get("query"), r.URL.Query().Get("operationName")) {
				w.Header().Set("Allow", "POST")
				writeRequestError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "mutations must be sent with POST")
				return
			}
		}
		next.ServeHTTP(legacyJSONStatus{w}, r)
	})
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
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
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
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
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

func writeRequestError(w http.ResponseWriter, status int, reason, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{
		"message": msg, "extensions": map[string]any{"code": "INVALID", "reason": reason},
	}}})
}

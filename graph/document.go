package graph

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// The bounds of a GraphQL document, checked on its text before gqlgen parses it. Parsing is not
// linear in everything an attacker controls: a 400 kB document of nested list literals cost 55 s
// of CPU inside the parser before any other limit applied. Real operations stay far below both:
// GraphiQL's introspection query is about 300 tokens nested 9 deep.
const (
	// maxDocumentTokens bounds the tokens (names, numbers, strings, punctuation) of a document.
	maxDocumentTokens = 15000
	// maxDocumentNesting bounds how deeply (, [ and { nest in a document: selections (see also
	// graphql-max-depth), arguments and list and object literals together.
	maxDocumentNesting = 64
	// maxDocumentFragments and maxDocumentSpreads bound fragment definitions and spreads (...):
	// the validator looks each spread's fragment up in a list, so their product cost 14 s at
	// 1,400 fragments spreading the next one twice.
	maxDocumentFragments = 200
	maxDocumentSpreads   = 1000
)

// documentLimitError says which bound of the document's text was passed.
type documentLimitError struct {
	reason, msg string
}

func (e *documentLimitError) Error() string { return e.msg }

// scanDocument checks the text of a GraphQL document against maxDocumentTokens and
// maxDocumentNesting in one pass, without building anything. It only counts: whether the text is
// valid GraphQL is the parser's to say. Strings, block strings and comments are skipped whole.
func scanDocument(doc string) error {
	tokens, depth, fragments, spreads := 0, 0, 0, 0
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == 0xEF || c == 0xBB || c == 0xBF:
			continue // ignored tokens (commas too, in GraphQL), and the bytes of a byte order mark
		case c == '#':
			for i < len(doc) && doc[i] != '\n' && doc[i] != '\r' {
				i++
			}
			continue
		case c == '"':
			if len(doc) >= i+3 && doc[i:i+3] == `"""` {
				i += 3
				for i < len(doc) && !(len(doc) >= i+3 && doc[i:i+3] == `"""`) {
					if doc[i] == '\\' && len(doc) >= i+4 && doc[i+1:i+4] == `"""` {
						i += 3
					}
					i++
				}
				i += 2
			} else {
				for i++; i < len(doc) && doc[i] != '"' && doc[i] != '\n'; i++ {
					if doc[i] == '\\' {
						i++
					}
				}
			}
		case c == '(' || c == '[' || c == '{':
			depth++
			if depth > maxDocumentNesting {
				return &documentLimitError{"DOCUMENT_TOO_DEEP", fmt.Sprintf(
					"the document nests brackets more than %d deep (selections, arguments, lists and objects together); that is the limit", maxDocumentNesting)}
			}
		case c == ')' || c == ']' || c == '}':
			depth = max(depth-1, 0)
		case isNameByte(c):
			start := i
			for i+1 < len(doc) && isNameByte(doc[i+1]) {
				i++
			}
			switch word := doc[start : i+1]; {
			case strings.HasPrefix(word, "..."):
				if spreads++; spreads > maxDocumentSpreads {
					return &documentLimitError{"DOCUMENT_TOO_LARGE", fmt.Sprintf(
						"the document has more than %d fragment spreads (...); that is the limit", maxDocumentSpreads)}
				}
			case depth == 0 && word == "fragment":
				if fragments++; fragments > maxDocumentFragments {
					return &documentLimitError{"DOCUMENT_TOO_LARGE", fmt.Sprintf(
						"the document defines more than %d fragments; that is the limit", maxDocumentFragments)}
				}
			}
		}
		tokens++
		if tokens > maxDocumentTokens {
			return &documentLimitError{"DOCUMENT_TOO_LARGE", fmt.Sprintf(
				"the document has more than %d tokens; that is the limit", maxDocumentTokens)}
		}
	}
	return nil
}

// isNameByte covers the bytes of names and numbers (and of -, ., +, which only join them), so
// that a run of them counts as one token.
func isNameByte(c byte) bool {
	return c == '_' || c == '-' || c == '.' || c == '+' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// writeDocumentError refuses a document over a bound the way gqlgen refuses one that does not
// parse: 400 under application/graphql-response+json, 200 under application/json (the spec).
func writeDocumentError(w http.ResponseWriter, r *http.Request, err error) {
	e, ok := err.(*documentLimitError)
	if !ok {
		e = &documentLimitError{"GRAPHQL_PARSE_FAILED", err.Error()}
	}
	contentType, status := "application/json", http.StatusOK
	if prefersGraphQLResponse(r.Header.Get("Accept")) {
		contentType, status = "application/graphql-response+json", http.StatusBadRequest
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{
		"message": e.msg, "extensions": map[string]any{"code": "INVALID", "reason": e.reason},
	}}})
}

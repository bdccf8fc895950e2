// Package baseline is the bare net/http limit benchmarks compare Portside with: a handler that
// answers each recorded request body with its recorded answer and does nothing else. The load
// driver serves it on a socket and the server benchmarks call it in process, so both measure the
// same handler.
package baseline

import (
	"crypto/sha256"
	"io"
	"net/http"
)

// Answers maps a request body to the answer recorded for it.
type Answers map[[sha256.Size]byte][]byte

// Add records answer for body.
func (a Answers) Add(body, answer []byte) { a[sha256.Sum256(body)] = answer }

// Handler reads the body, looks its answer up by hash and writes it.
func Handler(answers Answers) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		a, ok := answers[sha256.Sum256(body)]
		if !ok {
			http.Error(w, "no recorded answer for this body", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/graphql-response+json")
		_, _ = w.Write(a)
	})
}

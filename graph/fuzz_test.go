package graph_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/sources"
	"github.com/portside-dev/portside/graph"
	"github.com/portside-dev/portside/store/storetest"
)

const fuzzMaxResponse = 256 << 10

// fuzzHandler is the real GraphQL handler over testdata/catalog, with the response cache on and
// tight budgets so that every input costs bounded time and memory, called by a read-only API
// token (mutations are refused by their guard and never reach the network or the disk).
func fuzzHandler(f *testing.F) http.Handler {
	st := storetest.SQLite(f)
	svc := catalog.NewService(st, catalog.Options{
		Readers: map[catalog.LocationType]catalog.Reader{catalog.LocationFile: &sources.Files{}},
		Logger:  slog.New(slog.DiscardHandler), CacheSize: 1000,
	})
	if _, err := svc.RegisterLocation(operator, catalog.LocationSpec{Type: catalog.LocationFile, Target: "testdata/catalog"}); err != nil {
		f.Fatal(err)
	}
	h := graph.NewHandler(&graph.Resolver{Catalog: svc}, graph.HandlerOptions{
		MaxDepth: 12, MaxComplexity: 5000, Logger: slog.New(slog.DiscardHandler), ResponseCacheSize: 100,
		Timeout: 2 * time.Second, MaxResponseBytes: fuzzMaxResponse, MaxBodyBytes: 64 << 10,
	})
	reader := &principal.Principal{Username: "fuzz", Kind: principal.KindToken, Client: principal.ClientAPI, Scopes: []string{"read"}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(principal.With(r.Context(), reader)))
	})
}

// FuzzGraphQLDocument sends documents (and, when raw is not empty, raw bodies) through the real
// handler. Whatever comes in, the answer is JSON with a 200, 400 or 413, never an internal error,
// never larger than the response cap. The seeds in testdata/fuzz/FuzzGraphQLDocument are the
// shapes of the probe that broke it: nested relation lists, nested list literals, batches,
// malformed bodies. `go test` runs them; `go test -fuzz FuzzGraphQLDocument ./graph` explores.
func FuzzGraphQLDocument(f *testing.F) {
	f.Add(`{ entity(ref: "component:ledger") { name ... on Component { dependsOn { name } } } }`, []byte(nil))
	h := fuzzHandler(f)
	f.Fuzz(func(t *testing.T, query string, raw []byte) {
		body := raw
		if len(body) == 0 {
			var err error
			if body, err = json.Marshal(map[string]string{"query": query}); err != nil {
				t.Skip("not encodable as JSON")
			}
		}
		rec := postBody(h, strings.NewReader(string(body)), -1, mediaGraphQLResponse)
		switch rec.Code {
		case http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body)
		}
		if rec.Body.Len() > fuzzMaxResponse+64<<10 {
			t.Fatalf("answered %d bytes, over the cap %d", rec.Body.Len(), fuzzMaxResponse)
		}
		var resp struct {
			Data   json.RawMessage `json:"data"`
			Errors []struct {
				Message    string         `json:"message"`
				Extensions map[string]any `json:"extensions"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatalf("answer is not JSON (%v): %s", err, rec.Body)
		}
		if resp.Data == nil && len(resp.Errors) == 0 {
			t.Fatalf("answer has neither data nor errors: %s", rec.Body)
		}
		for _, e := range resp.Errors {
			if e.Extensions["code"] == nil || e.Extensions["code"] == "INTERNAL" {
				t.Fatalf("error %+v for %q: every error has a code, and bad input is never internal", e, body)
			}
		}
	})
}

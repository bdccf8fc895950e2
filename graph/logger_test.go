package graph_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/graph"
	"github.com/portside-dev/portside/store/storetest"
)

// A handler built without a Logger logs to slog's default. It used to call the nil logger when
// an error needed logging: a subscription whose database closed under it took the whole process
// down (TestASocketRunsNoMutationsAndClosesWhenItsTokenIsRevokedElsewhere, under load).
func TestAHandlerWithoutALoggerStillAnswersAFailure(t *testing.T) {
	st := storetest.SQLite(t)
	svc := catalog.NewService(st, catalog.Options{Logger: slog.New(slog.DiscardHandler)})
	h := signedIn(graph.NewHandler(&graph.Resolver{Catalog: svc}, graph.HandlerOptions{MaxDepth: 12, MaxComplexity: 1000}))
	if err := st.Close(); err != nil { // every query now fails
		t.Fatal(err)
	}
	defer slog.SetDefault(slog.Default())
	var logged strings.Builder
	slog.SetDefault(slog.New(slog.NewTextHandler(&logged, nil)))

	req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query": "{ entities(first: 1) { totalCount } }"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Body)
	if !strings.Contains(string(body), `"errors"`) || !strings.Contains(string(body), `"code"`) {
		t.Errorf("answer %d %s; want an error with its code", rec.Code, body)
	}
	if logged.Len() == 0 {
		t.Error("nothing was logged to slog's default logger; want the failure recorded")
	}
}

package graph_test

import (
	"bytes"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/demo"
	"github.com/portside-dev/portside/catalog/sources"
	"github.com/portside-dev/portside/graph"
	"github.com/portside-dev/portside/store/storetest"
)

// operations records what the handler tells metrics.
type operations struct {
	mu   sync.Mutex
	seen []string
}

func (o *operations) GraphQLOperation(name, opType string, ok bool, _ time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	status := "ok"
	if !ok {
		status = "error"
	}
	o.seen = append(o.seen, opType+" "+name+" "+status)
}

// A repeated query is answered with the very bytes and headers of its first answer, counted in
// the metrics like any other, and made afresh once the catalog changes.
func TestARepeatedQueryIsReplayedByteForByteUntilTheCatalogChanges(t *testing.T) {
	st := storetest.SQLite(t)
	dir := t.TempDir()
	write := func(description string) {
		doc := "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: svc, description: " + description + "}\n" +
			"spec: {type: service, lifecycle: production, owner: team}\n"
		if err := os.WriteFile(filepath.Join(dir, "catalog-info.yaml"), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("first")
	svc := catalog.NewService(st, catalog.Options{
		Readers: map[catalog.LocationType]catalog.Reader{catalog.LocationFile: &sources.Files{},
			catalog.LocationEmbedded: sources.Embedded{FS: map[string]fs.FS{"demo": demo.FS()}}},
		CacheSize: 100, Logger: slog.New(slog.DiscardHandler),
	})
	res, err := svc.RegisterLocation(operator, catalog.LocationSpec{Type: catalog.LocationFile, Target: dir})
	if err != nil {
		t.Fatal(err)
	}
	obs := &operations{}
	h := signedIn(graph.NewHandler(&graph.Resolver{Catalog: svc}, graph.HandlerOptions{MaxDepth: 12, MaxComplexity: 1000,
		Logger: slog.New(slog.DiscardHandler), ResponseCacheSize: 100, Observer: obs}))
	post := func(accept, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewBufferString(body))
		req.Header.Set("Content-Type", "application/json")
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	const body = `{"query":"query Svc { entity(ref: \"component:svc\") { ref description } }","operationName":"Svc"}`
	for _, accept := range []string{"application/graphql-response+json", "application/json", ""} {
		first, again := post(accept, body), post(accept, body)
		if first.Code != http.StatusOK || !bytes.Contains(first.Body.Bytes(), []byte(`"first"`)) {
			t.Fatalf("Accept %q: first answer %d %s", accept, first.Code, first.Body)
		}
		if again.Code != first.Code || again.Header().Get("Content-Type") != first.Header().Get("Content-Type") ||
			!bytes.Equal(again.Body.Bytes(), first.Body.Bytes()) {
			t.Errorf("Accept %q: the repeat differs:\nfirst %d %s %s\nagain %d %s %s", accept,
				first.Code, first.Header().Get("Content-Type"), first.Body, again.Code, again.Header().Get("Content-Type"), again.Body)
		}
	}
	if got := post("application/graphql-response+json", body).Header().Get("Content-Type"); got != "application/graphql-response+json" {
		t.Errorf("a replay for Accept application/graphql-response+json has Content-Type %q", got)
	}
	if got := post("application/json", body).Header().Get("Content-Type"); got != "application/json" {
		t.Errorf("a replay for Accept application/json has Content-Type %q", got)
	}
	obs.mu.Lock()
	n := len(obs.seen)
	for _, s := range obs.seen {
		if s != "query Svc ok" {
			t.Errorf("metrics heard %q, want query Svc ok", s)
		}
	}
	obs.mu.Unlock()
	if n != 8 {
		t.Errorf("metrics heard %d operations, want all 8 requests", n)
	}

	write("second")
	if _, err := svc.Refresh(operator, res.Location.ID); err != nil {
		t.Fatal(err)
	}
	if got := post("application/json", body); !bytes.Contains(got.Body.Bytes(), []byte(`"second"`)) {
		t.Errorf("after the catalog changed: %s, want the new description", got.Body)
	}
}

// What the response cache does not keep (location state here) is never replayed.
func TestWhatTheResponseCacheDoesNotKeepIsNeverReplayed(t *testing.T) {
	st := storetest.SQLite(t)
	a := newAPIWith(t, st, 1000, 100).withDemo()
	h := signedIn(graph.NewHandler(&graph.Resolver{Catalog: a.svc}, graph.HandlerOptions{MaxDepth: 12, MaxComplexity: 100000,
		Logger: slog.New(slog.DiscardHandler), ResponseCacheSize: 100}))
	counter := storetest.CountStatements(st.Gorm())
	for i := 0; i < 3; i++ {
		req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewBufferString(`{"query":"{ locations { nodes { status } } }"}`))
		req.Header.Set("Content-Type", "application/json")
		counter.Reset()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if n := counter.Reset(); rec.Code != http.StatusOK || n == 0 {
			t.Errorf("locations, asked %d times: %d with %d statements; want it made afresh every time", i+1, rec.Code, n)
		}
	}
}

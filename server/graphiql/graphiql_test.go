package graphiql_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/portside-dev/portside/server/graphiql"
)

func get(t *testing.T, h http.HandlerFunc, target string, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h(rec, req)
	return rec
}

// The page must work offline: everything it loads comes from Portside, which its
// Content-Security-Policy enforces in the browser.
func TestThePageLoadsNothingFromOutsidePortside(t *testing.T) {
	h := graphiql.New()
	rec := get(t, h.Page, "/graphiql", nil)
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("GET /graphiql = %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	page := rec.Body.String()
	if strings.Contains(page, "//") && regexp.MustCompile(`(src|href)="(https?:)?//`).MatchString(page) {
		t.Errorf("the page loads something from another origin:\n%s", page)
	}
	csp := rec.Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "http") || strings.Contains(csp, "script-src 'self' 'unsafe") {
		t.Errorf("Content-Security-Policy %q allows more than Portside's own scripts", csp)
	}
	// GraphiQL's subscriptions use the WebSocket of the host it was served from, which 'self'
	// covers only in CSP level 3 browsers: the host is named, unless it could break the policy.
	if !strings.Contains(csp, "connect-src 'self' ws://example.com wss://example.com;") {
		t.Errorf("Content-Security-Policy %q does not allow the page's own WebSocket", csp)
	}
	odd := httptest.NewRequest(http.MethodGet, "/graphiql", nil)
	odd.Host = "example.com; script-src *"
	oddRec := httptest.NewRecorder()
	h.Page(oddRec, odd)
	if csp := oddRec.Header().Get("Content-Security-Policy"); strings.Contains(csp, "script-src *") || !strings.Contains(csp, "connect-src 'self';") {
		t.Errorf("a Host that is no host name got Content-Security-Policy %q", csp)
	}
	if strings.Contains(page, "<script>") {
		t.Errorf("the page has an inline script, which its policy refuses:\n%s", page)
	}

	refs := regexp.MustCompile(`(?:src|href)="(/graphiql/assets/[^"?]+)\?v=([0-9a-f]+)"`).FindAllStringSubmatch(page, -1)
	if len(refs) != 6 {
		t.Fatalf("the page references %d assets, want 6 (React, ReactDOM, GraphiQL's script and styles, Portside's script and styles):\n%s", len(refs), page)
	}
	for _, ref := range refs {
		rec := get(t, h.Asset, ref[1]+"?v="+ref[2], nil)
		if rec.Code != http.StatusOK || rec.Body.Len() < 100 {
			t.Errorf("GET %s = %d, %d bytes", ref[1], rec.Code, rec.Body.Len())
			continue
		}
		ct := rec.Header().Get("Content-Type")
		if strings.HasSuffix(ref[1], ".js") && !strings.Contains(ct, "javascript") ||
			strings.HasSuffix(ref[1], ".css") && !strings.HasPrefix(ct, "text/css") {
			t.Errorf("GET %s: Content-Type %q", ref[1], ct)
		}
		if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("GET %s with its content version: Cache-Control %q, want a long-lived immutable one", ref[1], cc)
		}
	}
}

// GraphiQL's script is stored gzipped: clients that accept gzip get those bytes, the others the
// same script decompressed.
func TestGzippedAssetsAreServedToEveryClient(t *testing.T) {
	h := graphiql.New()
	plain := get(t, h.Asset, "/graphiql/assets/graphiql.min.js", nil)
	if plain.Code != http.StatusOK || plain.Header().Get("Content-Encoding") != "" || !strings.Contains(plain.Body.String(), "createFetcher") {
		t.Fatalf("without Accept-Encoding: %d, encoding %q, %d bytes", plain.Code, plain.Header().Get("Content-Encoding"), plain.Body.Len())
	}
	if cc := plain.Header().Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("without a content version: Cache-Control %q, want no-cache", cc)
	}
	gz := get(t, h.Asset, "/graphiql/assets/graphiql.min.js", http.Header{"Accept-Encoding": {"br, gzip;q=0.8"}})
	if gz.Header().Get("Content-Encoding") != "gzip" || gz.Body.Len() >= plain.Body.Len() {
		t.Fatalf("with gzip: encoding %q, %d bytes (plain %d)", gz.Header().Get("Content-Encoding"), gz.Body.Len(), plain.Body.Len())
	}
	zr, err := gzip.NewReader(gz.Body)
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil || string(unzipped) != plain.Body.String() {
		t.Errorf("the gzipped answer does not decompress to the plain one (%v)", err)
	}
	if etag := gz.Header().Get("ETag"); etag == "" {
		t.Error("no ETag")
	} else if rec := get(t, h.Asset, "/graphiql/assets/graphiql.min.js", http.Header{"If-None-Match": {etag}}); rec.Code != http.StatusNotModified {
		t.Errorf("If-None-Match with the ETag = %d, want 304", rec.Code)
	}
}

func TestUnknownAssetsAreNotFound(t *testing.T) {
	h := graphiql.New()
	for _, target := range []string{"/graphiql/assets/", "/graphiql/assets/index.html", "/graphiql/assets/../graphiql.go", "/graphiql/assets/nope.js"} {
		if rec := get(t, h.Asset, target, nil); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", target, rec.Code)
		}
	}
}

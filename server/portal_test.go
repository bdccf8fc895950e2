package server_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/portside-dev/portside/metrics"
	"github.com/portside-dev/portside/server"
)

// builtPortal stands in for Vite's output, so these tests need no Node.
var builtPortal = fstest.MapFS{
	".gitkeep":                   {Data: []byte("placeholder")},
	"index.html":                 {Data: []byte(`<!doctype html><html><head><script type="module" src="/assets/index-Ab12.js"></script></head><body><div id="root"></div></body></html>`)},
	"favicon.svg":                {Data: []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)},
	"assets/index-Ab12.js":       {Data: []byte(`console.log("portal")`)},
	"assets/index-Cd34.css":      {Data: []byte(`body{margin:0}`)},
	"assets/CatalogPage-Ef56.js": {Data: []byte(`export{}`)},
}

// portalServer is a server with the given portal build; requests carry its API token when signedIn.
type portalServer struct {
	srv   *server.Server
	token string
}

func newPortalServer(t *testing.T, files fstest.MapFS) *portalServer {
	t.Helper()
	id, secret := tokenIdentity(t)
	srv := server.New(server.Options{
		Addr:            "127.0.0.1:0",
		GraphQL:         http.NotFoundHandler(),
		Metrics:         metrics.New(),
		ShutdownTimeout: time.Second,
		Identity:        id,
		Portal:          files,
	})
	return &portalServer{srv: srv, token: secret}
}

func (p *portalServer) get(t *testing.T, target string, signedIn bool) *httptest.ResponseRecorder {
	t.Helper()
	return p.do(t, http.MethodGet, target, signedIn)
}

func (p *portalServer) do(t *testing.T, method, target string, signedIn bool) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	req.Host = "portal.test:7007"
	if signedIn {
		req.Header.Set("Authorization", "Bearer "+p.token)
	}
	rec := httptest.NewRecorder()
	p.srv.Handler().ServeHTTP(rec, req)
	return rec
}

// Every client route answers index.html, revalidated on each visit (a new build must reach the
// browser at once), under a policy that lets the page run only Portside's own code and talk only
// to Portside.
func TestClientRoutesGetThePortalPageUnderAStrictPolicy(t *testing.T) {
	p := newPortalServer(t, builtPortal)
	for _, target := range []string{"/", "/catalog", "/catalog?q=pay&kind=Component", "/catalog/default/component/payments-api", "/locations", "/audit", "/graphiql-not", "/no/such/page"} {
		rec := p.get(t, target, true)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `<div id="root">`) {
			t.Errorf("GET %s = %d %q, want index.html", target, rec.Code, rec.Body.String())
			continue
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("GET %s: Content-Type %q", target, ct)
		}
		if cc := rec.Header().Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q, want no-cache", target, cc)
		}
		csp := rec.Header().Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self';", "style-src 'self';", "frame-ancestors 'none'",
			"connect-src 'self' ws://portal.test:7007 wss://portal.test:7007;", "base-uri 'none'", "object-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: Content-Security-Policy %q lacks %q", target, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "http") {
			t.Errorf("GET %s: Content-Security-Policy %q allows more than Portside's own code", target, csp)
		}
	}
}

// The root is open to a signed-out browser (after sign-out it lands in the portal, which offers
// to sign in); any deeper link goes through sign-in and comes back to where it pointed.
func TestSignedOutBrowsersLandOnTheRootOrSignInAndComeBack(t *testing.T) {
	p := newPortalServer(t, builtPortal)
	if rec := p.get(t, "/", false); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `<div id="root">`) {
		t.Fatalf("signed out, GET / = %d %q, want the portal", rec.Code, rec.Body.String())
	}
	rec := p.get(t, "/catalog/default/component/payments-api?tab=deployments", false)
	if rec.Code != http.StatusFound {
		t.Fatalf("signed out, a deep link = %d, want 302 to sign in", rec.Code)
	}
	loc, err := url.Parse(rec.Header().Get("Location"))
	if err != nil || loc.Path != "/auth/login" || loc.Query().Get("return_to") != "/catalog/default/component/payments-api?tab=deployments" {
		t.Errorf("signed out, a deep link redirects to %q, want /auth/login with the link as return_to", rec.Header().Get("Location"))
	}
}

// The server's own endpoints are never shadowed by the portal's page: a mistyped API URL must
// answer an error an API client understands, not HTML.
func TestThePortalNeverShadowsTheServersOwnPaths(t *testing.T) {
	p := newPortalServer(t, builtPortal)
	for _, target := range []string{"/graphql/x", "/graphiql/nope", "/audit/", "/audit/export/x", "/auth/nope", "/auth/", "/healthz/x", "/readyz/x", "/metrics/x", "/audit/nope", "/assets/", "/assets/missing-Zz99.js", "/assets/../index.html",
		"/api", "/api/catalog/entities", "/api/catalog/entities/by-name/component/default/x"} {
		rec := p.get(t, target, true)
		if rec.Code != http.StatusNotFound || strings.Contains(rec.Body.String(), `<div id="root">`) {
			t.Errorf("GET %s = %d %q, want a 404 that is not the portal", target, rec.Code, rec.Body.String())
		}
	}
	if rec := p.do(t, http.MethodPost, "/catalog", true); rec.Code != http.StatusNotFound || strings.Contains(rec.Body.String(), "root") {
		t.Errorf("POST /catalog = %d %q, want 404", rec.Code, rec.Body.String())
	}
}

// Built files carry their content hash in their name, so browsers may keep them for a year; they
// load before sign-in (they hold code, never data).
func TestHashedAssetsAreCachedForAYear(t *testing.T) {
	p := newPortalServer(t, builtPortal)
	for target, wantType := range map[string]string{
		"/assets/index-Ab12.js":       "javascript",
		"/assets/index-Cd34.css":      "text/css",
		"/assets/CatalogPage-Ef56.js": "javascript",
	} {
		rec := p.get(t, target, false)
		if rec.Code != http.StatusOK || rec.Body.String() != string(builtPortal[strings.TrimPrefix(target, "/")].Data) {
			t.Errorf("GET %s = %d %q", target, rec.Code, rec.Body.String())
			continue
		}
		if ct := rec.Header().Get("Content-Type"); !strings.Contains(ct, wantType) {
			t.Errorf("GET %s: Content-Type %q, want %s", target, ct, wantType)
		}
		if cc := rec.Header().Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("GET %s: Cache-Control %q", target, cc)
		}
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no X-Content-Type-Options: nosniff", target)
		}
	}
	rec := p.get(t, "/favicon.svg", false)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Header().Get("Content-Type"), "svg") || rec.Header().Get("Cache-Control") != "no-cache" {
		t.Errorf("GET /favicon.svg = %d %s %q, want the file, revalidated", rec.Code, rec.Header().Get("Content-Type"), rec.Header().Get("Cache-Control"))
	}
}

// A binary built without the portal (go build on a fresh clone, no Node) still starts and says
// how to build it, wherever the portal would be.
func TestWithoutABuildThePortalSaysHowToBuildIt(t *testing.T) {
	p := newPortalServer(t, fstest.MapFS{".gitkeep": {Data: []byte("placeholder")}})
	for _, target := range []string{"/", "/catalog"} {
		rec := p.get(t, target, true)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Portal not built: run <code>make portal</code>") {
			t.Errorf("GET %s = %d %q, want the not-built page", target, rec.Code, rec.Body.String())
		}
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("GET %s: Content-Security-Policy %q", target, csp)
		}
	}
	if rec := p.get(t, "/assets/index-Ab12.js", true); rec.Code != http.StatusNotFound {
		t.Errorf("GET an asset without a build = %d, want 404", rec.Code)
	}
}

// Browsers that accept gzip get the build's text files compressed (a first visit is mostly
// JavaScript); others get them as they are.
func TestAssetsAreGzippedForBrowsersThatAcceptIt(t *testing.T) {
	big := strings.Repeat("export const portal = 'portal';\n", 200)
	p := newPortalServer(t, fstest.MapFS{"index.html": {Data: []byte("<!doctype html>")}, "assets/big-Zz11.js": {Data: []byte(big)}})
	req := httptest.NewRequest(http.MethodGet, "/assets/big-Zz11.js", nil)
	req.Header.Set("Accept-Encoding", "gzip, deflate, br")
	rec := httptest.NewRecorder()
	p.srv.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Encoding") != "gzip" || rec.Body.Len() >= len(big)/4 {
		t.Fatalf("with gzip: %d, encoding %q, %d bytes of %d", rec.Code, rec.Header().Get("Content-Encoding"), rec.Body.Len(), len(big))
	}
	if !strings.Contains(rec.Header().Get("Vary"), "Accept-Encoding") {
		t.Errorf("Vary %q lacks Accept-Encoding", rec.Header().Get("Vary"))
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(zr); err != nil || string(got) != big {
		t.Errorf("the gzipped answer does not decompress to the file (%v)", err)
	}
	plain := p.get(t, "/assets/big-Zz11.js", false)
	if plain.Header().Get("Content-Encoding") != "" || plain.Body.String() != big {
		t.Errorf("without Accept-Encoding: encoding %q, %d bytes", plain.Header().Get("Content-Encoding"), plain.Body.Len())
	}
}

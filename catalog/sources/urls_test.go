package sources_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/portside-dev/portside/catalog"
	"github.com/portside-dev/portside/catalog/sources"
	"github.com/portside-dev/portside/errs"
)

// catalogServer serves a few files the way a git host's raw endpoint does: with ETags, answering
// If-None-Match with 304. It records the If-None-Match headers it receives.
type catalogServer struct {
	*httptest.Server
	mu          sync.Mutex
	ifNoneMatch []string // one per request to /team/catalog-info.yaml
	content     string
	etag        string
}

func newCatalogServer(t *testing.T) *catalogServer {
	cs := &catalogServer{content: "kind: Component\nmetadata: {name: checkout}\n", etag: `"v1"`}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /team/catalog-info.yaml", func(w http.ResponseWriter, r *http.Request) {
		cs.mu.Lock()
		cs.ifNoneMatch = append(cs.ifNoneMatch, r.Header.Get("If-None-Match"))
		content, etag := cs.content, cs.etag
		cs.mu.Unlock()
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		io.WriteString(w, content)
	})
	mux.HandleFunc("GET /team/openapi.yaml", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "openapi: 3.0.0\n")
	})
	mux.HandleFunc("GET /no-etag.yaml", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "kind: Group\n")
	})
	mux.HandleFunc("GET /broken.yaml", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "database on fire", http.StatusInternalServerError)
	})
	mux.HandleFunc("GET /huge.yaml", func(w http.ResponseWriter, r *http.Request) {
		chunk := strings.Repeat("#", 1<<16)
		for written := 0; written <= sources.DefaultMaxFileBytes; written += len(chunk) {
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
		}
	})
	cs.Server = httptest.NewServer(mux)
	t.Cleanup(cs.Close)
	return cs
}

func (cs *catalogServer) conditionalHeaders() []string {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return slices.Clone(cs.ifNoneMatch)
}

func openURL(t *testing.T, r *sources.URLs, target, since string) (catalog.Snapshot, error) {
	t.Helper()
	s, err := r.Open(context.Background(), catalog.LocationSpec{Type: catalog.LocationURL, Target: target}, since)
	if err == nil {
		t.Cleanup(func() { _ = s.Close() })
	}
	return s, err
}

func TestURLsOpenUsesTheETagAsRevision(t *testing.T) {
	cs := newCatalogServer(t)
	r := &sources.URLs{AllowLoopback: true}
	target := cs.URL + "/team/catalog-info.yaml"

	first, err := openURL(t, r, target, "")
	if err != nil {
		t.Fatal(err)
	}
	if first.Unchanged() {
		t.Error("the first read is Unchanged")
	}
	if got, want := first.Revision(), `etag:"v1"`; got != want {
		t.Errorf("Revision() = %q, want %q", got, want)
	}
	if !slices.Equal(first.Files(), []string{target}) {
		t.Errorf("Files() = %v, want [%s]", first.Files(), target)
	}
	b, err := first.ReadFile(context.Background(), target)
	if err != nil || string(b) != cs.content {
		t.Errorf("ReadFile = %q, %v; want %q", b, err, cs.content)
	}

	second, err := openURL(t, r, target, first.Revision())
	if err != nil {
		t.Fatal(err)
	}
	if !second.Unchanged() {
		t.Error("a read with the current ETag is not Unchanged")
	}
	if len(second.Files()) != 0 {
		t.Errorf("an unchanged snapshot lists files %v", second.Files())
	}
	if second.Revision() != first.Revision() {
		t.Errorf("unchanged Revision() = %q, want %q", second.Revision(), first.Revision())
	}
	if got, want := cs.conditionalHeaders(), []string{"", `"v1"`}; !slices.Equal(got, want) {
		t.Errorf("the server saw If-None-Match %q, want %q (none on the first request, the ETag on the second)", got, want)
	}

	// The file changes: the old ETag no longer matches, and the new content comes back.
	cs.mu.Lock()
	cs.content, cs.etag = "kind: Component\nmetadata: {name: checkout-v2}\n", `"v2"`
	cs.mu.Unlock()
	third, err := openURL(t, r, target, first.Revision())
	if err != nil {
		t.Fatal(err)
	}
	if third.Unchanged() || third.Revision() != `etag:"v2"` {
		t.Errorf("after a change: Unchanged() = %v, Revision() = %q; want false, etag:\"v2\"", third.Unchanged(), third.Revision())
	}
	if b, _ := third.ReadFile(context.Background(), target); !strings.Contains(string(b), "checkout-v2") {
		t.Errorf("after a change: ReadFile = %q, want the new content", b)
	}
}

func TestURLsOpenWithoutETagHasNoRevision(t *testing.T) {
	cs := newCatalogServer(t)
	s, err := openURL(t, &sources.URLs{AllowLoopback: true}, cs.URL+"/no-etag.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	if s.Revision() != "" || s.Unchanged() {
		t.Errorf("Revision() = %q, Unchanged() = %v; want \"\", false", s.Revision(), s.Unchanged())
	}
}

func TestURLsOpenMapsHTTPFailuresToCodes(t *testing.T) {
	cs := newCatalogServer(t)
	r := &sources.URLs{AllowLoopback: true}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	tests := []struct {
		name   string
		target string
		code   errs.Code
		msg    string
	}{
		{"404", cs.URL + "/missing.yaml", errs.NotFound, "404"},
		{"500", cs.URL + "/broken.yaml", errs.Unavailable, "500"},
		{"a server that is not there", closed.URL + "/catalog-info.yaml", errs.Unavailable, closed.URL},
		{"a file larger than DefaultMaxFileBytes", cs.URL + "/huge.yaml", errs.Invalid, "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := openURL(t, r, tt.target, "")
			if !errs.Is(err, tt.code) {
				t.Fatalf("Open(%s) = %v, want %s", tt.target, err, tt.code)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("message %q does not say %q", err, tt.msg)
			}
		})
	}
}

func TestURLsResolveAndReadRelativeFiles(t *testing.T) {
	cs := newCatalogServer(t)
	s, err := openURL(t, &sources.URLs{AllowLoopback: true}, cs.URL+"/team/catalog-info.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	base := cs.URL + "/team/catalog-info.yaml"
	tests := []struct {
		target string
		want   string // "" = refused
	}{
		{"openapi.yaml", cs.URL + "/team/openapi.yaml"},
		{"./openapi.yaml", cs.URL + "/team/openapi.yaml"},
		{"../no-etag.yaml", cs.URL + "/no-etag.yaml"},
		{"/no-etag.yaml", cs.URL + "/no-etag.yaml"},
		{"https://other.example.com/catalog-info.yaml", "https://other.example.com/catalog-info.yaml"},
		{"file:///etc/passwd", ""},
		{"ftp://example.com/catalog-info.yaml", ""},
		{"javascript:alert(1)", ""},
	}
	for _, tt := range tests {
		got, err := s.Resolve(base, tt.target)
		switch {
		case tt.want == "" && !errs.Is(err, errs.Invalid):
			t.Errorf("Resolve(%q) = %q, %v; want it refused", tt.target, got, err)
		case tt.want != "" && (err != nil || got != tt.want):
			t.Errorf("Resolve(%q) = %q, %v; want %q", tt.target, got, err, tt.want)
		}
	}

	name, err := s.Resolve(base, "openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if b, err := s.ReadFile(context.Background(), name); err != nil || string(b) != "openapi: 3.0.0\n" {
		t.Errorf("ReadFile(%s) = %q, %v", name, b, err)
	}
	if _, err := s.ReadFile(context.Background(), cs.URL+"/team/missing.yaml"); !errs.Is(err, errs.NotFound) {
		t.Errorf("ReadFile of a missing URL = %v, want %s", err, errs.NotFound)
	}
}

func TestURLsGlobRefusesPatterns(t *testing.T) {
	cs := newCatalogServer(t)
	s, err := openURL(t, &sources.URLs{AllowLoopback: true}, cs.URL+"/team/catalog-info.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, pattern := range []string{cs.URL + "/team/*.yaml", cs.URL + "/**/catalog-info.yaml", cs.URL + "/team/{a,b}.yaml"} {
		if got, err := s.Glob(pattern); !errs.Is(err, errs.Invalid) {
			t.Errorf("Glob(%s) = %v, %v; want it refused", pattern, got, err)
		}
	}
	plain := cs.URL + "/team/openapi.yaml?ref=main"
	if got, err := s.Glob(plain); err != nil || !slices.Equal(got, []string{plain}) {
		t.Errorf("Glob(%s) = %v, %v; a plain URL expands to itself", plain, got, err)
	}
}

func TestURLsCheckAcceptsOnlyAbsoluteHTTPURLs(t *testing.T) {
	r := &sources.URLs{}
	for _, ok := range []string{"https://git.example.com/raw/team/catalog-info.yaml", "http://127.0.0.1:8080/catalog-info.yaml"} {
		spec, err := r.Check(catalog.LocationSpec{Type: catalog.LocationURL, Target: ok})
		if err != nil || spec.Target != ok {
			t.Errorf("Check(%q) = %q, %v", ok, spec.Target, err)
		}
	}
	for _, bad := range []string{
		"",
		"catalog-info.yaml",
		"/srv/catalog-info.yaml",
		"example.com/catalog-info.yaml",
		"//example.com/catalog-info.yaml",
		"file:///etc/passwd",
		"ftp://example.com/catalog-info.yaml",
		"https:///catalog-info.yaml",
		"http://exa mple.com/x",
	} {
		_, err := r.Check(catalog.LocationSpec{Type: catalog.LocationURL, Target: bad})
		if !errs.Is(err, errs.Invalid) || errs.FieldOf(err) != "target" {
			t.Errorf("Check(%q) = %v, want %s on field target", bad, err, errs.Invalid)
		}
	}
}

func TestLocationURLsMustNotCarryCredentials(t *testing.T) {
	for _, target := range []string{"https://user:secret@example.com/catalog-info.yaml", "https://ghp_token@example.com/c.yaml"} {
		_, err := (&sources.URLs{}).Check(catalog.LocationSpec{Type: catalog.LocationURL, Target: target})
		if !errs.Is(err, errs.Invalid) || strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "ghp_token") {
			t.Errorf("url %s: want INVALID without echoing the secret, got %v", target, err)
		}
		_, err = (&sources.Git{}).Check(catalog.LocationSpec{Type: catalog.LocationGit, Target: strings.TrimSuffix(target, ".yaml") + ".git"})
		if !errs.Is(err, errs.Invalid) || strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "ghp_token") {
			t.Errorf("git %s: want INVALID without echoing the secret, got %v", target, err)
		}
	}
}

// Locations are read on behalf of whoever registered them: by default the server refuses to read
// its own loopback services (or a cloud metadata endpoint) for them.
func TestLoopbackAndLinkLocalAddressesAreRefusedByDefault(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("secret: from an internal service\n"))
	}))
	t.Cleanup(srv.Close)
	_, err := (&sources.URLs{}).Open(context.Background(), catalog.LocationSpec{Type: catalog.LocationURL, Target: srv.URL + "/x.yaml"}, "")
	if !errs.Is(err, errs.Forbidden) {
		t.Errorf("url on loopback: want FORBIDDEN, got %v", err)
	}
	if _, err := (&sources.URLs{AllowLoopback: true}).Open(context.Background(),
		catalog.LocationSpec{Type: catalog.LocationURL, Target: srv.URL + "/x.yaml"}, ""); err != nil {
		t.Errorf("url on loopback with AllowLoopback: %v", err)
	}
	_, err = (&sources.Git{CacheDir: t.TempDir()}).Open(context.Background(),
		catalog.LocationSpec{Type: catalog.LocationGit, Target: srv.URL + "/repo.git", Path: "catalog-info.yaml"}, "")
	if !errs.Is(err, errs.Forbidden) {
		t.Errorf("git on loopback: want FORBIDDEN, got %v", err)
	}
	_, err = (&sources.URLs{}).Open(context.Background(), catalog.LocationSpec{Type: catalog.LocationURL, Target: "http://169.254.169.254/latest/meta-data/"}, "")
	if !errs.Is(err, errs.Forbidden) {
		t.Errorf("cloud metadata address: want FORBIDDEN, got %v", err)
	}
}

// Package graphiql serves GraphiQL, the in-browser GraphQL IDE, from files embedded in the binary:
// Portside often runs behind a firewall or offline, where a page that loads its code from a CDN
// stays on "Loading…" forever. The page allows nothing outside Portside's own origin (its
// Content-Security-Policy), and its assets are cached for a year under URLs that change with
// their content.
package graphiql

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

// The assets: React 18.2.0 and GraphiQL 4.1.2 from the npm registry (see assets/LICENSES.txt),
// GraphiQL's two large files gzipped; index.html and portside-graphiql.* are Portside's own.
//
//go:embed assets
var files embed.FS

// CSP is the page's Content-Security-Policy for a request to host: scripts, styles and
// connections (the API and its WebSocket, ConnectSrc) only from Portside itself. GraphiQL's fonts
// and icons are data: URLs; its components add style elements at run time, hence 'unsafe-inline'
// for styles (never for scripts).
func CSP(host string) string {
	return "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
		"font-src 'self' data:; " + ConnectSrc(host) + "; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

// ConnectSrc is the connect-src directive of Portside's pages served to host: Portside itself,
// over HTTP and the subscriptions' WebSocket. 'self' covers ws:/wss: of the same host only in CSP
// level 3 browsers, hence the host spelled out (when it is one that cannot break the policy).
func ConnectSrc(host string) string {
	connect := "connect-src 'self'"
	if validHost(host) {
		connect += " ws://" + host + " wss://" + host
	}
	return connect
}

// validHost accepts what may stand in a Host header without breaking out of the policy.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for _, r := range h {
		if !(r == '.' || r == ':' || r == '-' || r == '[' || r == ']' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// AssetPrefix is where the assets are served.
const AssetPrefix = "/graphiql/assets/"

type asset struct {
	body        []byte // as stored: gzipped when gzipped is set
	gzipped     bool
	contentType string
	hash        string
}

// Handler serves the GraphiQL page and its assets.
type Handler struct {
	assets map[string]asset
	page   []byte
}

// New loads the embedded assets.
func New() *Handler {
	h := &Handler{assets: map[string]asset{}}
	entries, err := fs.ReadDir(files, "assets")
	if err != nil {
		panic(err) // embedded at build time: cannot fail
	}
	for _, e := range entries {
		name := e.Name()
		body, _ := files.ReadFile("assets/" + name)
		a := asset{body: body}
		if strings.HasSuffix(name, ".gz") {
			name, a.gzipped = strings.TrimSuffix(name, ".gz"), true
		}
		sum := sha256.Sum256(body)
		a.hash = hex.EncodeToString(sum[:8])
		a.contentType = mime.TypeByExtension(path.Ext(name))
		if a.contentType == "" {
			a.contentType = "text/plain; charset=utf-8"
		}
		h.assets[name] = a
	}
	tmpl := template.Must(template.New("index.html").Funcs(template.FuncMap{
		"hash": func(name string) (string, error) {
			a, ok := h.assets[name]
			if !ok {
				return "", fs.ErrNotExist
			}
			return a.hash, nil
		},
	}).Parse(string(h.assets["index.html"].body)))
	var page bytes.Buffer
	if err := tmpl.Execute(&page, nil); err != nil {
		panic("graphiql: index.html names an asset that is not embedded: " + err.Error())
	}
	h.page = page.Bytes()
	delete(h.assets, "index.html")
	return h
}

// Page serves the GraphiQL page.
func (h *Handler) Page(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", CSP(r.Host))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(h.page)
}

// Asset serves the asset named by the path under AssetPrefix, gzipped to clients that accept it.
func (h *Handler) Asset(w http.ResponseWriter, r *http.Request) {
	a, ok := h.assets[strings.TrimPrefix(r.URL.Path, AssetPrefix)]
	if !ok || r.URL.Path == AssetPrefix {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", a.contentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("ETag", `"`+a.hash+`"`)
	if r.URL.Query().Get("v") == a.hash {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	if a.gzipped {
		w.Header().Add("Vary", "Accept-Encoding")
	}
	if r.Header.Get("If-None-Match") == `"`+a.hash+`"` {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if !a.gzipped {
		_, _ = w.Write(a.body)
		return
	}
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(a.body)
		return
	}
	zr, err := gzip.NewReader(bytes.NewReader(a.body))
	if err != nil {
		http.Error(w, "graphiql: corrupt embedded asset", http.StatusInternalServerError)
		return
	}
	_, _ = io.Copy(w, zr)
}

func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") && strings.ReplaceAll(params, " ", "") != "q=0" {
			return true
		}
	}
	return false
}

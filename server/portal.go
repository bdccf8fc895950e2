package server

import (
	"bytes"
	"compress/gzip"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/portside-dev/portside/auth/principal"
	"github.com/portside-dev/portside/frontend"
	"github.com/portside-dev/portside/server/graphiql"
)

// notBuiltPage is what a browser gets where the portal would be when the binary was built without
// it (go build on a clone that never ran make portal): the API and GraphiQL still work.
const notBuiltPage = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Portside: portal not built</title></head>
<body style="font-family: sans-serif; max-width: 40rem; margin: 4rem auto; line-height: 1.5">
<h1>Portal not built: run <code>make portal</code></h1>
<p>This Portside binary was built without its web portal. Run <code>make portal</code> (it needs
Node.js and npm), then build or <code>go run</code> Portside again; <code>make run</code> does both.</p>
<p>The API works meanwhile: <a href="/graphiql">GraphiQL</a>.</p>
</body></html>
`

// serverPaths are the first path segments the server keeps for itself: a client route never
// shadows them, so a mistyped API or sign-in URL answers the server's 404, not the portal's page.
// /api serves nothing today and is kept all the same: a client that takes Portside for a REST
// backend (Backstage's catalog client asks /api/catalog/...) must get a JSON 404 it reads as one,
// not a 200 of HTML it fails to parse. /audit itself is the portal's audit page; below it
// (/audit/export) is the server's.
var serverPaths = map[string]bool{"graphql": true, "graphiql": true, "auth": true, "healthz": true, "readyz": true,
	"metrics": true, "assets": true, "webhooks": true, "api": true}

// portal serves the web portal: hashed assets under /assets/, other files at the root of the build
// (favicon), and index.html for every client route, which the portal's router resolves.
type portal struct {
	files fs.FS
	index []byte // nil when the portal is not built

	// gzipped holds each compressible asset compressed once, on first request: the build's
	// JavaScript is most of a first visit, and shrinks about four times.
	gzipped sync.Map // name -> []byte
}

func newPortal(files fs.FS) *portal {
	p := &portal{files: files}
	if files != nil && frontend.Built(files) {
		p.index, _ = fs.ReadFile(files, "index.html")
	}
	return p
}

// portalCSP is the portal's Content-Security-Policy: its scripts and styles come only from
// Portside (none inline), and it talks only to Portside, over HTTP and the subscriptions'
// WebSocket (graphiql.ConnectSrc). form-action is left open on purpose: signing out posts a form
// to /auth/logout, which redirects on to the identity provider's end-session page, another origin.
func portalCSP(host string) string {
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
		graphiql.ConnectSrc(host) + "; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
}

// isClientRoute reports whether a GET of urlPath should get the portal's page.
func isClientRoute(urlPath string) bool {
	first, _, below := strings.Cut(strings.TrimPrefix(urlPath, "/"), "/")
	return !serverPaths[first] && !(first == "audit" && below)
}

// page answers index.html. The root is open to everyone, so a signed-out browser (after sign-out,
// say) lands in the portal, which offers to sign in rather than sending it straight back to the
// identity provider; any deeper route sends a signed-out browser through sign-in and back to it.
func (p *portal) page(id *Identity) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.URL.Path != "/" && principal.From(c.Request.Context()) == nil {
			id.requirePage()(c)
			return
		}
		h := c.Writer.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-cache")
		h.Set("Referrer-Policy", "same-origin")
		if p.index == nil {
			// A static page: its one inline style is all it may use.
			h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
			c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(notBuiltPage))
			return
		}
		h.Set("Content-Security-Policy", portalCSP(c.Request.Host))
		c.Data(http.StatusOK, "text/html; charset=utf-8", p.index)
	}
}

// asset serves a built file. Files under assets/ are named after their content by the build, so
// browsers may keep them for a year; anything else (favicon) is revalidated. A missing file is a
// 404: a stale page asking for last build's chunk must fail loudly, not get HTML as JavaScript.
func (p *portal) asset(c *gin.Context) {
	name := strings.TrimPrefix(path.Clean(c.Request.URL.Path), "/")
	if p.files == nil || name == "" || name == "index.html" || strings.HasPrefix(name, ".") || !fs.ValidPath(name) {
		p.notFound(c)
		return
	}
	body, err := fs.ReadFile(p.files, name)
	if err != nil {
		p.notFound(c)
		return
	}
	h := c.Writer.Header()
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	h.Set("X-Content-Type-Options", "nosniff")
	if strings.HasPrefix(name, "assets/") {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	if compressible(ct) {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(c.GetHeader("Accept-Encoding")) {
			body = p.gzip(name, body)
			h.Set("Content-Encoding", "gzip")
		}
	}
	// No modification time: the embedded files have none, and the hashed names make one useless.
	http.ServeContent(c.Writer, c.Request, name, time.Time{}, bytes.NewReader(body))
}

func (p *portal) gzip(name string, body []byte) []byte {
	if z, ok := p.gzipped.Load(name); ok {
		return z.([]byte)
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // a valid level: cannot fail
	_, _ = zw.Write(body)
	_ = zw.Close()
	z, _ := p.gzipped.LoadOrStore(name, buf.Bytes())
	return z.([]byte)
}

func compressible(contentType string) bool {
	return strings.Contains(contentType, "javascript") || strings.HasPrefix(contentType, "text/") ||
		strings.Contains(contentType, "json") || strings.Contains(contentType, "svg")
}

// acceptsGzip reports whether an Accept-Encoding header accepts gzip (and does not refuse it with q=0).
func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") && strings.ReplaceAll(params, " ", "") != "q=0" {
			return true
		}
	}
	return false
}

func (p *portal) notFound(c *gin.Context) {
	c.JSON(http.StatusNotFound, gin.H{"error": gin.H{"code": "NOT_FOUND", "message": "no such file: " + c.Request.URL.Path}})
}

// rootFile reports whether urlPath names a file at the root of the build (favicon.svg): those are
// served as files, not as client routes.
func (p *portal) rootFile(urlPath string) bool {
	name := strings.TrimPrefix(urlPath, "/")
	if p.files == nil || name == "" || strings.Contains(name, "/") || name == "index.html" || strings.HasPrefix(name, ".") || !fs.ValidPath(name) {
		return false
	}
	st, err := fs.Stat(p.files, name)
	return err == nil && !st.IsDir()
}

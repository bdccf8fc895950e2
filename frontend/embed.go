// Package frontend holds the web portal (a React application in this folder, built by Vite) and
// embeds its built files, so that one binary serves API and portal from the same origin.
//
// A clone that never ran `make portal` has only dist/.gitkeep here: Go builds and tests still
// work without Node, and the server answers a page saying how to build the portal.
package frontend

import (
	"embed"
	"io/fs"
)

// all: keeps dist/.gitkeep, the one file a fresh clone has, so the pattern always matches.
//
//go:embed all:dist
var dist embed.FS

// Dist is the built portal: index.html at its root and hashed files under assets/. Without a
// build it holds no index.html (see Built).
func Dist() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // a constant, valid path: cannot fail
	}
	return sub
}

// Built reports whether fsys holds a built portal.
func Built(fsys fs.FS) bool {
	st, err := fs.Stat(fsys, "index.html")
	return err == nil && !st.IsDir()
}

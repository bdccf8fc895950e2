// Package demo holds the demo catalog built into the binary: a small but complete Backstage
// catalog of "Acme", a fictional online shop, so that a first start of Portside (serve --demo) has
// owners, systems, services, APIs and resources to browse, search and act on. It is also the
// fixture later features use for their own demos: the users alice (admin), bob (owner of the
// payments system) and carol (a viewer who owns nothing) are its login identities.
package demo

import (
	"embed"
	"io/fs"
)

// files is the catalog as written. The Location entity in catalog-info.yaml names every other
// file, so ingestion starts there; apis/ holds the API documents that $text placeholders read.
//
//go:embed *.yaml apis/*.yaml
var files embed.FS

// FS returns the demo catalog with catalog-info.yaml at its root.
func FS() fs.FS { return files }

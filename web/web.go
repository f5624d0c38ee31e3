// Package web holds the static pages: the shopper page (index.html, app.js,
// pow.js, style.css) and the operators' dashboard (admin.html, admin.css on
// top of style.css, and its ES modules, one per panel, in admin/). They are
// plain files embedded in the binary, served as they are, with no build
// step; all that is live comes over the WebSocket, so a CDN may cache them.
package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// FS returns the pages, rooted at the static folder.
func FS() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the folder is embedded above; it cannot be missing
	}
	return sub
}

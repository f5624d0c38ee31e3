// Package web holds the static pages: the shopper page (index.html, app.js
// and its helpers errors.js, attention.js, transport.js (the HTTP fallback),
// pow.js (proof of work, in a Worker), its languages in i18n/, style.css and
// noscript.css), the listing of sales (sales.html, sales.js) and the
// operators' dashboard (admin.html, admin.css on top of style.css, and its
// ES modules, one per panel, in admin/). They are plain files embedded in
// the binary, served as they are, with no build step; all that is live
// comes over the WebSocket (or its fallback), so a CDN may cache them.
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

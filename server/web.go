package server

import (
	"bytes"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// mountWeb serves the static pages and their assets from memory, gzipped
// when the client takes it, with long cache lifetimes for the content-named
// assets. They hold nothing live: everything live comes over the WebSocket,
// so a CDN may cache them; but for the shopper page's <noscript> part,
// which tells the sale's state to a browser that runs no script
// (webstate.go), and so is kept a few seconds only. The pages carry their
// Content-Security-Policy (headers.go).
func (s *Server) mountWeb(e *gin.Engine) error {
	notFound := func(c *gin.Context) {
		s.count(overHTTP, problem{http.StatusNotFound, "not_found"})
		c.JSON(http.StatusNotFound, errorBody{Error: errorDetail{Code: "not_found", Message: "no such page"}})
	}
	if s.deps.Web == nil {
		e.NoRoute(notFound)
		return nil
	}
	gz := newGzipper()
	table, err := buildAssets(s.deps.Web, gz)
	if err != nil {
		return err
	}
	if err := CheckShopURL(s.cfg.ShopURL); err != nil {
		return err
	}
	// The listing of sales is also at its short name (listing.go).
	if a, ok := table["/sales.html"]; ok {
		table["/sales"] = a
	}
	// "/" is index.html (buildAssets): one page, rewritten and gzipped once.
	if a, ok := table["/index.html"]; ok {
		page := gz.asset(withShopURL(a.body, s.cfg.ShopURL), ".html", pageCache)
		table["/"], table["/index.html"] = page, page
	}
	// The shopper's pages let Stripe.js in when Stripe takes the money
	// (a publishable key is configured); the dashboard never does.
	pages := pagePolicy(s.cfg.PublicURL, s.cfg.StripePublishableKey != "", s.cfg.ImageHosts...)
	dashboard := dashboardPolicy(s.cfg.PublicURL, s.cfg.ImageHosts...)
	e.NoRoute(func(c *gin.Context) {
		a, ok := table[c.Request.URL.Path]
		if !ok || (c.Request.Method != http.MethodGet && c.Request.Method != http.MethodHead) {
			notFound(c)
			return
		}
		h := c.Writer.Header()
		h.Set("Content-Type", a.contentType)
		h.Set("Cache-Control", a.cacheControl)
		h.Set("Vary", "Accept-Encoding")
		switch {
		case c.Request.URL.Path == "/admin.html" || c.Request.URL.Path == "/report.html":
			// The report page publishes the fairness report with the
			// dashboard's token: no site may frame it either.
			h.Set("Content-Security-Policy", dashboard)
			h.Set("X-Frame-Options", "DENY") // frame-ancestors, for browsers without CSP 2
		case strings.HasPrefix(a.contentType, "text/html"):
			h.Set("Content-Security-Policy", pages)
		}
		if isShopperPage(c.Request.URL.Path) && bytes.Contains(a.body, []byte(noscriptMark)) {
			// Told fresh, so kept briefly: the state changes under a cache;
			// and in the shopper's language, so a cache keeps one per language.
			h.Set("Cache-Control", noscriptCache)
			h.Set("Vary", "Accept-Encoding, Accept-Language")
			state := s.noscriptState(c.Request.Context(), c.Query("sale"), c.GetHeader("Accept-Language"))
			c.Data(http.StatusOK, a.contentType, bytes.Replace(a.body, []byte(noscriptMark), state, 1))
			return
		}
		body := a.body
		if a.gzipped != nil && strings.Contains(c.GetHeader("Accept-Encoding"), "gzip") {
			h.Set("Content-Encoding", "gzip")
			body = a.gzipped
		}
		c.Data(http.StatusOK, a.contentType, body)
	})
	return nil
}

// noscriptCache is how long the shopper page, with the sale's state in its
// <noscript>, may be kept: long enough to spare the servers a storm of
// reloads, short enough that the state is not stale.
const noscriptCache = "public, max-age=5"

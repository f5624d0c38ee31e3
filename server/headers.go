package server

import (
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
)

// secureHeaders are sent with every answer: no answer is to be sniffed as
// another type than it says (an error body as HTML, say), and no URL of
// Foyer's (a sale id, the dashboard's address) leaks to another site in a
// Referer.
func secureHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	c.Next()
}

// pagePolicy is the Content-Security-Policy of the pages: scripts, styles
// and everything else from Foyer's own origin only, no inline script or
// style, no plugins, and network connections to Foyer itself (and its public
// URL, where the checkout is posted, when that is another origin). The
// pages are written for it: every script and style is a file of
// web/static, and the favicon is an empty data: URL.
func pagePolicy(publicURL string) string {
	connect := "'self'"
	if u, err := url.Parse(publicURL); err == nil && u.Host != "" && (u.Scheme == "http" || u.Scheme == "https") {
		ws := "ws"
		if u.Scheme == "https" {
			ws = "wss"
		}
		connect += " " + u.Scheme + "://" + u.Host + " " + ws + "://" + u.Host
	}
	return strings.Join([]string{
		"default-src 'self'",
		"script-src 'self'",
		"style-src 'self'",
		"img-src 'self' data:",
		"connect-src " + connect,
		"object-src 'none'",
		"base-uri 'none'",
		"form-action 'self'",
	}, "; ")
}

// dashboardPolicy adds to pagePolicy that no site may frame the dashboard,
// where a click done for another site would pause or stop a sale.
func dashboardPolicy(publicURL string) string {
	return pagePolicy(publicURL) + "; frame-ancestors 'none'"
}

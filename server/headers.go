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
//
// With stripe (Stripe takes the money), it also lets in what Stripe.js and
// its Payment Element need, as Stripe's integration security guide lists
// them (docs.stripe.com/security/guide, "Content Security Policy"): its
// script from js.stripe.com, its frames (the Payment Element's fields, 3-D
// Secure pages) from js.stripe.com and hooks.stripe.com, and its calls to
// api.stripe.com. The guide's Google Maps entries, for Stripe's Address
// Element, are left out: the page does not use it. Nothing inline is let in
// either way.
//
// imageHosts (FOYER_IMAGE_HOSTS, checked by branding.CheckImageHosts) are
// let in as https://<host> for images only, where a sale's branding shows
// its logo and product image from (docs/branding.md): images from named
// hosts, not a proxy (which would make Foyer fetch any URL an operator
// names) nor https: at large (which would let the page beacon anywhere).
func pagePolicy(publicURL string, stripe bool, imageHosts ...string) string {
	connect := "'self'"
	if u, err := url.Parse(publicURL); err == nil && u.Host != "" && (u.Scheme == "http" || u.Scheme == "https") {
		ws := "ws"
		if u.Scheme == "https" {
			ws = "wss"
		}
		connect += " " + u.Scheme + "://" + u.Host + " " + ws + "://" + u.Host
	}
	script := "'self'"
	if stripe {
		script += " " + stripeScripts
		connect += " " + stripeConnects
	}
	directives := []string{
		"default-src 'self'",
		"script-src " + script,
		"style-src 'self'",
		"img-src " + imageSources(imageHosts),
		"connect-src " + connect,
		"object-src 'none'",
		"base-uri 'none'",
		"form-action 'self'",
		// The proof of work is solved in a worker running client/pow-worker.js (web/static, @foyer/client's bundle):
		// said outright, with the same sources as script-src, which is what
		// a policy without it falls back on (so Stripe.js loses nothing).
		"worker-src " + script,
	}
	if stripe {
		directives = append(directives, "frame-src "+stripeFrames)
	}
	return strings.Join(directives, "; ")
}

// imageSources are img-src's sources: Foyer's own, the data: favicon, and
// the image hosts over https.
func imageSources(hosts []string) string {
	src := "'self' data:"
	for _, h := range hosts {
		src += " https://" + h
	}
	return src
}

// Stripe.js's origins, by directive (pagePolicy).
const (
	stripeScripts  = "https://js.stripe.com https://*.js.stripe.com"
	stripeFrames   = "https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com"
	stripeConnects = "https://api.stripe.com"
)

// dashboardPolicy adds to pagePolicy that no site may frame the dashboard,
// where a click done for another site would pause or stop a sale. It never
// lets Stripe in: the dashboard takes no payment. It shows the images a
// branding names (imageHosts), as its preview does.
func dashboardPolicy(publicURL string, imageHosts ...string) string {
	return pagePolicy(publicURL, false, imageHosts...) + "; frame-ancestors 'none'"
}

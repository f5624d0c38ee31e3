package server

import (
	"strings"
	"testing"
)

// The shopper page's policy lets Stripe.js in (its script, its frames, its
// API) only when Stripe takes the money; with the test provider it stays
// Foyer's own, and the dashboard's never has Stripe's.
func TestThePagePolicyLetsStripeJSInOnlyWhenStripeTakesTheMoney(t *testing.T) {
	const publicURL = "https://foyer.example"
	own := "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self' https://foyer.example wss://foyer.example; object-src 'none'; base-uri 'none'; form-action 'self'; worker-src 'self'"
	withStripe := "default-src 'self'; script-src 'self' https://js.stripe.com https://*.js.stripe.com; style-src 'self'; " +
		"img-src 'self' data:; connect-src 'self' https://foyer.example wss://foyer.example https://api.stripe.com; " +
		"object-src 'none'; base-uri 'none'; form-action 'self'; worker-src 'self' https://js.stripe.com https://*.js.stripe.com; " +
		"frame-src https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com"
	if got := pagePolicy(publicURL, false); got != own {
		t.Errorf("with the test provider:\n got %s\nwant %s", got, own)
	}
	if got := pagePolicy(publicURL, true); got != withStripe {
		t.Errorf("with Stripe:\n got %s\nwant %s", got, withStripe)
	}
	if got := dashboardPolicy(publicURL); strings.Contains(got, "stripe") || got != own+"; frame-ancestors 'none'" {
		t.Errorf("the dashboard's policy %s; want the page's own and frame-ancestors 'none'", got)
	}
}

// Images a branding shows come from the hosts listed, over https, and only
// images do: scripts, styles and connections stay Foyer's own.
func TestThePagePolicyLetsImagesInFromTheListedHostsOnly(t *testing.T) {
	got := pagePolicy("https://foyer.example", false, "cdn.shop.example", "img.example:8443")
	if !strings.Contains(got, "; img-src 'self' data: https://cdn.shop.example https://img.example:8443;") {
		t.Errorf("policy %s; want img-src with the two hosts over https", got)
	}
	if strings.Count(got, "shop.example") != 1 || strings.Count(got, "img.example") != 1 {
		t.Errorf("policy %s; want the image hosts in img-src and nowhere else", got)
	}
	if d := dashboardPolicy("https://foyer.example", "cdn.shop.example"); !strings.Contains(d, "img-src 'self' data: https://cdn.shop.example;") {
		t.Errorf("the dashboard's policy %s; want the image host for its preview", d)
	}
}

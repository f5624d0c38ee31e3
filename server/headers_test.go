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

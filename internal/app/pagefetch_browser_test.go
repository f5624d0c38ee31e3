package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// pageFetch is one request the page made, as recordFetches keeps it.
type pageFetch struct {
	Call string `json:"call"` // method and path
	Body string `json:"body"`
}

// recordFetches keeps every request the page makes from now on, in order,
// for fetchesAfter to tell.
func recordFetches() chromedp.Action {
	return chromedp.Evaluate(`(() => {
		window.fetches = [];
		const pageFetch = window.fetch;
		window.fetch = (url, init) => {
			window.fetches.push({call: ((init && init.method) || 'GET') + ' ' + url,
				body: init && typeof init.body === 'string' ? init.body : ''});
			return pageFetch(url, init);
		};
		return true;
	})()`, nil)
}

// fetchesAfter are the requests the page made after the last whose call
// starts with first (all of them for ""), kept by recordFetches.
func fetchesAfter(ctx context.Context, t *testing.T, first string) []pageFetch {
	t.Helper()
	var all []pageFetch
	if err := chromedp.Run(ctx, chromedp.Evaluate(`window.fetches`, &all)); err != nil {
		t.Fatal(err)
	}
	for i := len(all) - 1; first != "" && i >= 0; i-- {
		if strings.HasPrefix(all[i].Call, first) {
			return all[i+1:]
		}
	}
	return all
}

package app_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The report page of an event shows a table of its products: for its
// operators with the revenue of each, in public without it; both pass
// axe-core.
func TestTheReportPageOfAnEventShowsItsProducts(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, eventBody(time.Minute))
	if status := sys.call(t, http.MethodPut, "/v1/admin/sales/"+saleID+"/fairness", sys.AdminToken,
		map[string]bool{"published": true}, nil); status != http.StatusOK {
		t.Fatalf("publish: %d", status)
	}
	b := newBrowser(t)
	ready := waitFor(`document.getElementById("report").dataset.state === "ready"`)
	var operator, operatorHead, public, publicHead string
	if err := chromedp.Run(b,
		chromedp.Navigate(sys.URL+"/report.html?sale="+saleID+"&view=public"),
		ready,
		chromedp.Text("#products-rows", &public),
		chromedp.Text("#products thead", &publicHead),
		accessible(t, "the public report of an event"),
		// The operator's report reads the dashboard's session.
		chromedp.Evaluate(`sessionStorage.setItem("foyer.admin", `+jsString(sys.AdminToken)+`)`, nil),
		chromedp.Navigate(sys.URL+"/report.html?sale="+saleID),
		ready,
		chromedp.Text("#products-rows", &operator),
		chromedp.Text("#products thead", &operatorHead),
		accessible(t, "the operator's report of an event"),
	); err != nil {
		var shown string
		_ = chromedp.Run(b, chromedp.Text("#status", &shown))
		t.Fatalf("the report page: %v (it says %q)", err, shown)
	}
	for _, name := range []string{"Red tee (TEE-RED)", "Blue tee (TEE-BLUE)", "Cap (CAP)"} {
		if !strings.Contains(operator, name) || !strings.Contains(public, name) {
			t.Errorf("a report does not list %q:\noperator: %q\npublic: %q", name, operator, public)
		}
	}
	if !strings.Contains(operatorHead, "Revenue") || strings.Contains(publicHead, "Revenue") {
		t.Errorf("headers: operator %q, public %q; want the revenue for operators alone", operatorHead, publicHead)
	}
}

// jsString is s as a JavaScript string literal.
func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

package app_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestEveryPageFitsAPhonesWidth opens each page at a phone's width (390 px,
// newBrowser's window) as its users see it: the dashboard with a sale
// selected, signed in with the admin token and as an operator with a long
// username, the operator's and the public report, the shopper page and the
// listing. None is wider than the screen: a page that scrolls sideways on a
// phone hides its edge (issue 23: the dashboard's top bar made it 490 px).
func TestEveryPageFitsAPhonesWidth(t *testing.T) {
	sys := startSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "PW-1", "name": "Phone fit", "stock": 10})
	// The longest name the top bar has to hold is an operator's: usernames
	// are often addresses.
	const operator = "olivia.hernandez@shop.example"
	sys.addOperator(t, operator, "operator")
	if status := sys.call(t, http.MethodPut, "/v1/admin/sales/"+saleID+"/fairness", sys.AdminToken,
		map[string]bool{"published": true}, nil); status != http.StatusOK {
		t.Fatalf("publish the fairness report: %d", status)
	}
	ctx := newBrowser(t)
	dashboard := func(who string) chromedp.Tasks {
		return chromedp.Tasks{
			chromedp.WaitVisible("#sale-" + saleID),
			chromedp.Click("#sale-" + saleID),
			chromedp.WaitVisible("#detail"),
			waitFor(`document.querySelector('#whoami').textContent === ` + jsString(who)),
			waitFor(`document.querySelector('#live').dataset.status === 'live'`),
		}
	}
	report := waitFor(`document.getElementById("report").dataset.state === "ready"`)
	if err := chromedp.Run(ctx,
		sys.signInWithToken(), dashboard("admin token · admin"),
		shoot("phone-width-dashboard-admin"), fitsThePhone(t, "the dashboard, signed in with the token"),
		// The operator's report reads the dashboard's session, kept in this tab.
		chromedp.Navigate(sys.URL+"/report.html?sale="+saleID), report,
		shoot("phone-width-report-operator"), fitsThePhone(t, "the operator's report"),
		chromedp.Navigate(sys.URL+"/report.html?sale="+saleID+"&view=public"), report,
		shoot("phone-width-report-public"), fitsThePhone(t, "the public report"),
		chromedp.Navigate(sys.URL+"/admin.html"),
		chromedp.WaitVisible("#signout"),
		chromedp.Click("#signout"),
		chromedp.WaitVisible("#username"),
		sys.signInAs(operator, operatorPassword), dashboard(operator+" · operator"),
		shoot("phone-width-dashboard-operator"), fitsThePhone(t, "the dashboard, signed in as an operator"),
		chromedp.Navigate(sys.URL+"/?sale="+saleID),
		waitFor(`!document.querySelector('#join').disabled`),
		shoot("phone-width-shopper"), fitsThePhone(t, "the shopper page"),
		chromedp.Navigate(sys.URL+"/sales"),
		waitFor(fmt.Sprintf(`document.querySelector('#live-list a.join-link[href="/?sale=%s"]') !== null`, saleID)),
		shoot("phone-width-listing"), fitsThePhone(t, "the listing"),
	); err != nil {
		t.Fatal(err)
	}
}

// fitsThePhone fails the test when the page is wider than the window, and
// names the elements that reach past its right edge, the innermost first
// (the likeliest cause). It uses t.Errorf, so one run measures every page.
func fitsThePhone(t *testing.T, page string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var width struct {
			Page, Window int
			Past         []string
		}
		if err := chromedp.Evaluate(pageWidthJS, &width).Do(ctx); err != nil {
			return fmt.Errorf("measure %s: %w", page, err)
		}
		if width.Page > width.Window {
			t.Errorf("%s is %d px wide on a %d px phone; past its edge: %s",
				page, width.Page, width.Window, strings.Join(width.Past, ", "))
		} else {
			t.Logf("%s is %d px wide on a %d px phone", page, width.Page, width.Window)
		}
		return nil
	})
}

// pageWidthJS measures the page against the window, and lists (at most
// eight of) the elements whose right edge is past the window's, leaving out
// those inside a box that scrolls or clips them (a table's wrapper): they do
// not widen the page.
const pageWidthJS = `(() => {
  const w = window.innerWidth;
  const clipped = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== 'visible') return true;
    }
    return false;
  };
  const past = [...document.body.querySelectorAll('*')]
    .filter((el) => el.getClientRects().length > 0 && el.getBoundingClientRect().right > w + 0.5 && !clipped(el))
    .reverse().slice(0, 8)
    .map((el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (el.classList.length ? '.' + [...el.classList].join('.') : '') +
      (el.id || !el.parentElement.closest('[id]') ? '' : ' in #' + el.parentElement.closest('[id]').id) +
      ' (' + Math.round(el.getBoundingClientRect().right) + ')');
  return {Page: document.documentElement.scrollWidth, Window: w, Past: past};
})()`

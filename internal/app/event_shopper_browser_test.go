package app_test

import (
	"context"
	"fmt"
	"image/color"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/foyerhq/foyer/internal/shopperclient"
)

// TestAShopperOfAnEventPicksAProductThatSellsOutUnderItThenAnotherAndPays
// drives the shopper page of an event of three products: it waits behind a
// rival (a Go shopper), is admitted, picks the cap, whose one unit the rival
// takes first, is told in the page's words that it sold out with its hold
// standing, picks two blue tees instead, pays, and reads a receipt naming
// them; back for a third blue tee, it is told the tee's limit of two.
// axe-core finds nothing at each state.
func TestAShopperOfAnEventPicksAProductThatSellsOutUnderItThenAnotherAndPays(t *testing.T) {
	sys := startNodes(t, 1, map[string]string{"FOYER_IMAGE_HOSTS": testImageHost})
	ctx := newBrowser(t)
	saleID := sys.createSale(t, map[string]any{
		"name": "Autumn drop", "starts_at": startsIn(0), "prequeue_seconds": 0, "outflow_per_second": stalled,
		"reservation_ttl_seconds": 120, "per_customer_orders": 3,
		"products": []map[string]any{
			{"sku": "TEE-RED", "name": "Red tee", "price_cents": 1500, "stock": 2, "per_shopper_limit": 1},
			{"sku": "TEE-BLUE", "name": "Blue tee", "list_price_cents": 2000, "discount_percent": 25, "stock": 3,
				"per_shopper_limit": 2, "description": "Blue.\nSoft.", "image_url": "https://" + testImageHost + "/blue.png"},
			{"sku": "CAP", "name": "Cap", "price_cents": 900, "stock": 1, "per_shopper_limit": 1},
		},
	})
	left := func(sku string) string {
		return `document.querySelector('#products li[data-sku="` + sku + `"] .product-left').dataset.value`
	}
	if err := chromedp.Run(ctx,
		servePictures(t, ctx, color.RGBA{R: 20, G: 60, B: 160, A: 255}),
		chromedp.Navigate(sys.URL+"/?sale="+saleID),
		waitFor(`!document.querySelector('#join').disabled`),
		waitFor(`!document.querySelector('#products-card').hidden && document.querySelectorAll('#products li').length === 3`),
		waitFor(left("CAP")+` === '1' && `+left("TEE-BLUE")+` === '3'`),
		// The tee's image, on a host the page's policy names, is shown; the
		// others have none.
		waitFor(`(() => { const img = document.querySelector('#products li[data-sku="TEE-BLUE"] img');
			return !!img && img.complete && img.naturalWidth > 0 && document.querySelectorAll('#products img').length === 1; })()`),
	); err != nil {
		t.Fatalf("the event's page: %v", err)
	}

	// The rival joins first, so the browser's shopper waits behind it.
	qctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rival, _ := connectNew(t, qctx, sys.URL, saleID)
	in := listen(rival)
	if _, err := in.wait(qctx, "welcome"); err != nil {
		t.Fatal(err)
	}
	if err := rival.Join(qctx); err != nil {
		t.Fatal(err)
	}
	if _, err := in.wait(qctx, "position"); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Run(ctx,
		chromedp.Click("#join"),
		waitFor(`Number(document.querySelector('#position').dataset.value) === 2`),
		shoot("event-1-waiting"), accessible(t, "an event's shopper waiting"),
	); err != nil {
		t.Fatal(err)
	}

	// Both let out; the browser's shopper picks the cap.
	sys.admin(t, http.MethodPut, "/v1/admin/sales/"+saleID+"/rate", map[string]any{"outflow_per_second": 100}, http.StatusOK)
	admitted, err := in.wait(qctx, "admitted")
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Run(ctx,
		chromedp.WaitVisible("#choice"),
		chromedp.Click(`#choice-list input[value="CAP"]`, chromedp.ByQuery),
		waitFor(`document.querySelector('#choice-list input[value="CAP"]').checked`),
		shoot("event-2-admitted"), accessible(t, "an event's shopper choosing"),
	); err != nil {
		t.Fatal(err)
	}

	// The rival takes the last cap first; the browser's Buy is refused, or
	// the push that the cap sold out comes before it: told alike.
	if _, err := shopperclient.New(sys.URL).CheckoutProduct(qctx, admitted.CheckoutURL, admitted.Token, "CAP", 1); err != nil {
		t.Fatalf("the rival's cap: %v", err)
	}
	var notice string
	runOnPage(t, ctx, "the cap sold out under the shopper",
		chromedp.Click("#buy"),
		waitFor(`document.querySelector('#choice-notice').textContent.includes('Cap just sold out')`),
		waitFor(`document.querySelector('#choice-list input[value="CAP"]').disabled`),
		chromedp.Text("#choice-notice", &notice),
		shoot("event-3-sold-out"), accessible(t, "an event's product sold out under the shopper"),
	)
	t.Logf("told: %s", notice)

	// Two blue tees instead, paid, and the receipt names them.
	var receipt shownReceipt
	runOnPage(t, ctx, "buying the blue tees",
		buyTwoBlueTees(),
		receipt.read(),
		shoot("event-4-receipt"), accessible(t, "an event's order paid"),
	)
	if receipt != twoBlueTees {
		t.Errorf("the receipt says %+v, want %+v", receipt, twoBlueTees)
	}
	var rows []struct {
		SKU      string `db:"sku"`
		Quantity int    `db:"quantity"`
	}
	if err := sys.DB.Select(&rows, `SELECT sku, quantity FROM orders WHERE sale_id = $1 ORDER BY sku`, saleID); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].SKU != "CAP" || rows[1].SKU != "TEE-BLUE" || rows[1].Quantity != 2 {
		t.Errorf("orders %+v, want the rival's cap and the browser's two blue tees", rows)
	}

	// The same shopper, back for one more blue tee: past its limit of two,
	// counting what it bought, and told so with its hold standing.
	runOnPage(t, ctx, "a third blue tee",
		chromedp.Navigate(sys.URL+"/?sale="+saleID),
		waitFor(`!document.querySelector('#join').disabled`),
		chromedp.Click("#join"),
		chromedp.WaitVisible("#choice"),
		chromedp.Click(`#choice-list input[value="TEE-BLUE"]`, chromedp.ByQuery),
		chromedp.Click("#buy"),
		waitFor(`document.querySelector('#choice-notice').textContent.includes('at most 2 of Blue tee')`),
		waitFor(`!document.querySelector('#buy').hidden && document.querySelector('#buy').getAttribute('aria-disabled') === 'false'`),
		shoot("event-5-over-limit"), accessible(t, "an event's product past its limit"),
	)
	if n := sys.count(t, `SELECT count(*) FROM orders WHERE sale_id = $1`, saleID); n != 2 {
		t.Errorf("%d orders after the refused third tee, want 2", n)
	}
}

// TestAnEventsShopperCheckedOutByTheShopIsOfferedTheShopNotAChoice drives
// the page of an event whose checkout is the shop's: the admitted shopper
// is sent to the shop, which asks what it sells; back on Foyer's page, the
// way on to the shop's checkout is offered at once, with no product to
// choose first.
func TestAnEventsShopperCheckedOutByTheShopIsOfferedTheShopNotAChoice(t *testing.T) {
	sys := startSystem(t)
	visits := make(chan struct{}, 4)
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/checkout" { // the browser's favicon
			http.NotFound(w, r)
			return
		}
		visits <- struct{}{}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>The shop's checkout</title><h1 id="shop-checkout">Pay</h1>`)
	}))
	t.Cleanup(shop.Close)
	body := eventBody(0)
	body["checkout"], body["checkout_url"] = "shop", shop.URL+"/checkout"
	saleID := sys.createSale(t, body)

	ctx := newBrowser(t)
	if err := chromedp.Run(ctx,
		chromedp.Navigate(sys.URL+"/?sale="+saleID),
		waitFor(`!document.querySelector('#join').disabled && document.querySelectorAll('#products li').length === 3`),
		chromedp.Click("#join"),
	); err != nil {
		t.Fatalf("joining: %v", err)
	}
	select {
	case <-visits:
	case <-time.After(30 * time.Second):
		t.Fatal("the admitted shopper never reached the shop's checkout")
	}
	runOnPage(t, ctx, "back on Foyer's page",
		// The shop's page loaded first: a navigation begun while the page's
		// own to the shop is still under way is aborted by it.
		chromedp.WaitVisible("#shop-checkout"),
		chromedp.Navigate(sys.URL+"/?sale="+saleID),
		waitFor(`!document.querySelector('#buy').hidden && document.querySelector('#buy').textContent === 'Continue to checkout'`),
		waitFor(`document.querySelector('#buy').getAttribute('aria-disabled') === 'false'`),
		waitFor(`document.querySelector('#choice').hidden && document.querySelector('#products-card').hidden`),
		accessible(t, "an event's shopper back from the shop's checkout"),
	)
}

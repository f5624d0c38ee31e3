package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// stripeJS is where the shopper page asks for Stripe.js; Stripe requires it
// be loaded from there.
const stripeJS = "https://js.stripe.com/v3/"

// stripeJSRequest is one request the browser sent for Stripe.js, and how it
// ended when it failed: the network's error, and why the browser itself
// blocked it if it did (csp, for one the page's policy refused).
type stripeJSRequest struct {
	id                    network.RequestID
	failed, blockedReason string
}

// watchStripeJS reports each request the browser sends for Stripe.js, and
// each such request's failure, from the DevTools protocol's network events.
func watchStripeJS(ctx context.Context) (sent, failed <-chan stripeJSRequest) {
	sentc, failedc := make(chan stripeJSRequest, 8), make(chan stripeJSRequest, 8)
	ours := map[network.RequestID]bool{} // read and written on the target's event goroutine only
	chromedp.ListenTarget(ctx, func(ev any) {
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			if e.Request.URL == stripeJS {
				ours[e.RequestID] = true
				sentc <- stripeJSRequest{id: e.RequestID}
			}
		case *network.EventLoadingFailed:
			if ours[e.RequestID] {
				failedc <- stripeJSRequest{id: e.RequestID, failed: e.ErrorText, blockedReason: string(e.BlockedReason)}
			}
		}
	})
	return sentc, failedc
}

// awaitStripeJS waits for the browser's next request for Stripe.js and its
// failure (this machine has no way to js.stripe.com), and checks that the
// network failed it, not the page's policy.
func awaitStripeJS(t *testing.T, sent, failed <-chan stripeJSRequest, which string) {
	t.Helper()
	var req stripeJSRequest
	select {
	case req = <-sent:
	case <-time.After(30 * time.Second):
		t.Fatalf("the page never asked for %s (%s)", stripeJS, which)
	}
	select {
	case f := <-failed:
		if f.id != req.id {
			t.Fatalf("a failure of another request for Stripe.js (%s)", which)
		}
		if f.blockedReason != "" {
			t.Errorf("the browser blocked Stripe.js itself (%s), as %q; want it let through to the network", which, f.blockedReason)
		}
		t.Logf("Stripe.js (%s): requested, failed by the network: %s", which, f.failed)
	case <-time.After(30 * time.Second):
		t.Fatalf("the request for Stripe.js never ended (%s)", which)
	}
}

// TestAShopperOfAStripeSaleIsOfferedThePaymentFormARetryWhenItCannotLoadAndThePaidOrder
// drives the shopper page in chromium through a sale whose payments Stripe
// takes (stripe-mock behind the worker). The shopper checks out on the
// page and is told pending_payment with the payment; the page asks for
// Stripe.js at js.stripe.com, which the page's policy lets through (the
// browser sends the request and no violation is reported) but which this
// machine cannot reach; the page says the form could not load and offers
// Retry, which asks for the script again. Stripe's signed webhook then
// says the payment succeeded: the page shows the order paid and the
// payment form gone. The Payment Element itself and confirmPayment need
// Stripe.js, which cannot load offline (docs/payments.md).
func TestAShopperOfAStripeSaleIsOfferedThePaymentFormARetryWhenItCannotLoadAndThePaidOrder(t *testing.T) {
	sys, calls := startStripeSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "STRIPE-PAGE", "name": "Paid on the page", "stock": 1,
		"price_cents": 1500, "currency": "EUR", "outflow_per_second": 100})
	ctx := newBrowser(t)
	sent, failed := watchStripeJS(ctx)
	if err := chromedp.Run(ctx, watchCSP(), joinAndBuyOnThePage(sys.URL+"/?sale="+saleID)); err != nil {
		t.Fatalf("joining and buying: %v", err)
	}
	wctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	awaitCharge(t, wctx, calls)
	awaitStripeJS(t, sent, failed, "on the order's pending_payment")
	if err := chromedp.Run(ctx,
		waitFor(`document.querySelector('#order-status').textContent.includes('Pay to confirm it')`),
		waitFor(`!document.querySelector('#pay').hidden && !document.querySelector('#pay-retry').hidden`),
	); err != nil {
		t.Fatalf("the page did not offer to retry the payment form: %v", err)
	}
	var message string
	var payHidden bool
	if err := chromedp.Run(ctx,
		chromedp.Text("#pay-message", &message),
		chromedp.Evaluate(`document.querySelector('#pay-button').hidden`, &payHidden),
		shoot("stripe-1-could-not-load"),
	); err != nil {
		t.Fatal(err)
	}
	if want := "The payment form could not load. Check your connection, then retry."; message != want || !payHidden {
		t.Errorf("the page shows %q, Pay hidden %v; want %q and no Pay button", message, payHidden, want)
	}

	if err := chromedp.Run(ctx, chromedp.Click("#pay-retry")); err != nil {
		t.Fatal(err)
	}
	awaitStripeJS(t, sent, failed, "on Retry")
	if err := chromedp.Run(ctx, waitFor(`!document.querySelector('#pay-retry').hidden`)); err != nil {
		t.Fatalf("after a retry that failed too, Retry is not offered again: %v", err)
	}

	orderID, reservation, status := sys.orderOf(t, saleID)
	if status != "pending_payment" {
		t.Fatalf("order %s before Stripe's webhook, want pending_payment", status)
	}
	meta := map[string]string{"order_id": strconv.FormatInt(orderID, 10), "sale_id": saleID, "reservation_id": reservation}
	if code, got := sys.postStripeEvent(t, testStripeWebhookSecret, "evt_page_paid", "payment_intent.succeeded", meta, time.Now()); code != http.StatusOK || got != "accepted" {
		t.Fatalf("succeeded: %d %s", code, got)
	}
	if err := chromedp.Run(ctx,
		waitFor(`document.querySelector('#order-status').textContent === 'Paid: order confirmed (#`+strconv.FormatInt(orderID, 10)+`)'`),
		waitFor(`document.querySelector('#pay').hidden`),
		shoot("stripe-2-paid"),
	); err != nil {
		t.Fatalf("the page did not show the order paid with the payment form gone: %v", err)
	}
	if got, err := cspViolations(ctx); err != nil || len(got) > 0 {
		t.Errorf("the shopper page's policy blocked %q (%v)", got, err)
	}
	select {
	case again := <-sent:
		t.Errorf("the page asked for Stripe.js unasked, after the order was paid (request %s)", again.id)
	default:
	}
}

// TestAShopperBackFromAPaymentsRedirectSeesItConfirmedNotTheFormAgain: a
// payment method that left the page (a bank's 3-D Secure page) comes back
// to the page's URL with the PaymentIntent, its client secret and
// redirect_status in the query. The page takes them out of the address bar,
// says the payment is being confirmed (the order, told again on arriving,
// is still pending_payment with its payment, and the form is not offered
// again), still says so when reloaded (the parameters gone), and shows the
// order paid when Stripe's webhook comes, forgetting the payment.
func TestAShopperBackFromAPaymentsRedirectSeesItConfirmedNotTheFormAgain(t *testing.T) {
	sys, calls := startStripeSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "STRIPE-BACK", "name": "Back from the bank", "stock": 1,
		"price_cents": 1500, "currency": "EUR", "outflow_per_second": 100})
	ctx := newBrowser(t)
	sent, failed := watchStripeJS(ctx)
	page := sys.URL + "/?sale=" + saleID
	if err := chromedp.Run(ctx, joinAndBuyOnThePage(page)); err != nil {
		t.Fatalf("joining and buying: %v", err)
	}
	wctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	awaitCharge(t, wctx, calls)
	awaitStripeJS(t, sent, failed, "on the order's pending_payment")

	// What Stripe appends to the return URL (the page's own) after the bank.
	back := url.Values{"payment_intent": {"pi_back"}, "payment_intent_client_secret": {"pi_back_secret_x"},
		"redirect_status": {"succeeded"}}
	var at string
	if err := chromedp.Run(ctx,
		chromedp.Navigate(page+"&"+back.Encode()),
		waitFor(`document.querySelector('#order-status').textContent.includes('Confirming your payment')`),
		chromedp.Location(&at),
	); err != nil {
		t.Fatalf("back from the redirect: %v", err)
	}
	if at != page {
		t.Errorf("the address bar is %s, want %s without Stripe's parameters", at, page)
	}
	orderID, reservation, _ := sys.orderOf(t, saleID)
	// The order is told on arriving (pending_payment, with its payment):
	// still confirming, and the form is not offered.
	if err := chromedp.Run(ctx,
		waitFor(`document.querySelector('#order-status').textContent === 'Order placed (#`+strconv.FormatInt(orderID, 10)+`). Confirming your payment…'`),
		shoot("stripe-3-back-confirming"),
	); err != nil {
		t.Fatalf("the page back from the redirect was not told its order: %v", err)
	}
	var formHidden bool
	if err := chromedp.Run(ctx, chromedp.Evaluate(`document.querySelector('#pay').hidden`, &formHidden)); err != nil || !formHidden {
		t.Errorf("the payment form is offered again after a redirect that succeeded (%v)", err)
	}
	// Reloaded before the webhook came, its address no longer says how the
	// redirect went: the page remembers the payment it sent, in this tab.
	if err := chromedp.Run(ctx,
		chromedp.Reload(),
		waitFor(`document.querySelector('#order-status').textContent === 'Order placed (#`+strconv.FormatInt(orderID, 10)+`). Confirming your payment…'`),
		chromedp.Evaluate(`document.querySelector('#pay').hidden`, &formHidden),
	); err != nil {
		t.Fatalf("the page reloaded while its payment is confirmed does not say so: %v", err)
	}
	if !formHidden {
		t.Errorf("the payment form is offered again to a page reloaded while its payment is confirmed")
	}
	meta := map[string]string{"order_id": strconv.FormatInt(orderID, 10), "sale_id": saleID, "reservation_id": reservation}
	if code, got := sys.postStripeEvent(t, testStripeWebhookSecret, "evt_back_paid", "payment_intent.succeeded", meta, time.Now()); code != http.StatusOK || got != "accepted" {
		t.Fatalf("succeeded: %d %s", code, got)
	}
	if err := chromedp.Run(ctx,
		waitFor(`document.querySelector('#order-status').textContent.startsWith('Paid')`),
	); err != nil {
		t.Fatalf("the page did not show the order paid: %v", err)
	}
	var remembered int
	if err := chromedp.Run(ctx, chromedp.Evaluate(`sessionStorage.length`, &remembered)); err != nil || remembered != 0 {
		t.Errorf("the tab still remembers %d payment(s) after the order was paid (%v)", remembered, err)
	}
	select {
	case again := <-sent:
		t.Errorf("the page back from a redirect that succeeded asked for Stripe.js (request %s)", again.id)
	default:
	}
}

// joinAndBuyOnThePage opens the shopper page, joins, and presses Buy once
// admitted.
func joinAndBuyOnThePage(page string) chromedp.Tasks {
	return chromedp.Tasks{
		chromedp.Navigate(page),
		waitFor(`!document.querySelector('#join').disabled`),
		chromedp.Click("#join"),
		chromedp.WaitVisible("#buy"),
		chromedp.Click("#buy"),
	}
}

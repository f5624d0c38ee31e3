package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/shopperclient"
	"github.com/foyerhq/foyer/internal/webhooks"
)

// eventOrder is one order of an event bought for a test: the shopper's
// inbox and the metadata Stripe's events carry for its PaymentIntent.
type eventOrder struct {
	in   *inbox
	meta map[string]string
}

// buyEventProduct has a new shopper of an event on Stripe check out
// quantity units of sku, and waits for its order's PaymentIntent.
func buyEventProduct(t *testing.T, ctx context.Context, sys *system, calls <-chan stripeCall, saleID, sku string, quantity int) eventOrder {
	t.Helper()
	admitted, conn := admitOne(t, ctx, sys, saleID)
	in := listen(conn) // before the checkout: its order messages are all read
	if _, err := shopperclient.New(sys.URL).CheckoutProduct(ctx, admitted.CheckoutURL, admitted.Token, sku, quantity); err != nil {
		t.Fatalf("checkout of %d %s: %v", quantity, sku, err)
	}
	awaitCharge(t, ctx, calls)
	var orderID int64
	if err := sys.DB.Get(&orderID, `SELECT id FROM orders WHERE reservation_id = $1`, admitted.ReservationID); err != nil {
		t.Fatalf("the order of %s: %v", admitted.ReservationID, err)
	}
	return eventOrder{in: in, meta: map[string]string{"order_id": strconv.FormatInt(orderID, 10), "sale_id": saleID,
		"reservation_id": admitted.ReservationID}}
}

// orderNewsUpTo returns the order messages the shopper was told up to the
// one with status last.
func orderNewsUpTo(t *testing.T, ctx context.Context, in *inbox, last string) []shopperclient.Message {
	t.Helper()
	var news []shopperclient.Message
	for {
		m, err := in.next(ctx, "order")
		if err != nil {
			t.Fatalf("waiting for the order's %s: %v", last, err)
		}
		news = append(news, m)
		if m.Status == last {
			return news
		}
	}
}

// TestAnEventsCancelledAndRefundedOrdersAreToldWithTheirProduct: two
// shoppers of an event on Stripe buy different products; both
// PaymentIntents are cancelled at Stripe, and one is paid after all, so
// refunded. Every order message each shopper is pushed (pending_payment,
// cancelled, refunded) names the product and units its own checkout bought,
// and the shop's order.created and order.cancelled name its sku and
// product_name. (There is no webhook of a refund: the order stays
// cancelled, and no order.paid is recorded for the late payment.)
func TestAnEventsCancelledAndRefundedOrdersAreToldWithTheirProduct(t *testing.T) {
	sys, calls := startStripeSystem(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	shop := newShopEndpoint(t)
	var ep createdEndpoint
	if status := sys.call(t, http.MethodPost, "/v1/admin/webhooks", sys.AdminToken, map[string]any{
		"url": shop.URL + "/foyer", "events": []string{"order.created", "order.paid", "order.cancelled"}}, &ep); status != http.StatusCreated {
		t.Fatalf("create endpoint: %d %+v", status, ep)
	}
	shop.mu.Lock()
	shop.secret = ep.Secret
	shop.mu.Unlock()

	saleID := sys.createSale(t, eventBody(0))
	red := buyEventProduct(t, ctx, sys, calls, saleID, "TEE-RED", 1)
	blue := buyEventProduct(t, ctx, sys, calls, saleID, "TEE-BLUE", 2)
	for _, o := range []eventOrder{red, blue} {
		if status, got := sys.postStripeEvent(t, testStripeWebhookSecret, "evt_canceled_"+o.meta["order_id"],
			"payment_intent.canceled", o.meta, time.Now()); status != http.StatusOK || got != "accepted" {
			t.Fatalf("canceled: %d %s", status, got)
		}
	}
	redNews := orderNewsUpTo(t, ctx, red.in, "cancelled")
	blueNews := orderNewsUpTo(t, ctx, blue.in, "cancelled")
	if status, got := sys.postStripeEvent(t, testStripeWebhookSecret, "evt_late", "payment_intent.succeeded", blue.meta,
		time.Now()); status != http.StatusOK || got != "accepted" {
		t.Fatalf("late success: %d %s", status, got)
	}
	if c := nextStripeCall(t, ctx, calls, "the refund"); c.path != "/v1/refunds" || c.status != http.StatusOK {
		t.Fatalf("sent %+v, want a refund answered 200", c)
	}
	blueNews = append(blueNews, orderNewsUpTo(t, ctx, blue.in, "refunded")...)

	for _, c := range []struct {
		news     []shopperclient.Message
		sku      string
		quantity int
	}{{redNews, "TEE-RED", 1}, {blueNews, "TEE-BLUE", 2}} {
		for _, m := range c.news {
			if m.SKU != c.sku || m.Quantity != c.quantity {
				t.Errorf("order message %s names %q × %d, want %s × %d", m.Raw, m.SKU, m.Quantity, c.sku, c.quantity)
			}
		}
	}

	want := map[string]string{
		"order.created " + red.meta["reservation_id"]:    "TEE-RED / Red tee × 1, 1500",
		"order.cancelled " + red.meta["reservation_id"]:  "TEE-RED / Red tee × 1, 1500",
		"order.created " + blue.meta["reservation_id"]:   "TEE-BLUE / Blue tee × 2, 3000",
		"order.cancelled " + blue.meta["reservation_id"]: "TEE-BLUE / Blue tee × 2, 3000",
	}
	got := map[string]string{}
	shop.await(t, ctx, "order.created and order.cancelled of both orders", func(evs []webhooks.Event) bool {
		clear(got)
		for _, e := range evs {
			var d webhooks.OrderData
			if err := json.Unmarshal(e.Data, &d); err != nil {
				t.Fatalf("%s data %s: %v", e.Type, e.Data, err)
			}
			got[e.Type+" "+d.ReservationID] = d.SKU + " / " + d.ProductName + " × " + strconv.Itoa(d.Quantity) + ", " +
				strconv.FormatInt(d.AmountCents, 10)
		}
		return len(got) >= len(want)
	})
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s names %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("the shop got %v, want %v", got, want)
	}
	// The refund was told after the settler had settled the late payment:
	// had it recorded an order.paid, it would be written by now.
	if n := sys.count(t, `SELECT count(*) FROM webhook_events WHERE sale_id = $1 AND type = 'order.paid'`, saleID); n != 0 {
		t.Errorf("%d order.paid recorded for orders that stayed cancelled", n)
	}
	var statuses []string
	if err := sys.DB.Select(&statuses, `SELECT sku || ' ' || status FROM orders WHERE sale_id = $1 ORDER BY sku`, saleID); err != nil {
		t.Fatal(err)
	}
	if s := strings.Join(statuses, ", "); s != "TEE-BLUE cancelled, TEE-RED cancelled" {
		t.Errorf("orders %s, want both cancelled", s)
	}
}

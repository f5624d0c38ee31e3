package app_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/shopperclient"
)

// pendingOrder waits for the shopper's order push pending_payment and
// returns it.
func pendingOrder(t *testing.T, ctx context.Context, in *inbox) shopperclient.Message {
	t.Helper()
	for {
		m, err := in.next(ctx, "order")
		if err != nil {
			t.Fatalf("waiting for order pending_payment: %v", err)
		}
		if m.Status == "pending_payment" {
			return m
		}
	}
}

// TestAPendingStripeOrderTellsItsShopperAloneHowToPayIt: the order push
// pending_payment carries what the shopper's page pays with (Stripe's
// publishable key and the PaymentIntent's client secret); another shopper
// of the sale is never told it (its first order push is its own order's);
// and the secret is nowhere in Postgres, as Stripe asks.
func TestAPendingStripeOrderTellsItsShopperAloneHowToPayIt(t *testing.T) {
	sys, calls := startStripeSystem(t)
	saleID := sys.createSale(t, map[string]any{"sku": "STRIPE-PAY", "name": "Pay here", "stock": 2, "price_cents": 1500,
		"currency": "EUR", "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	// The other shopper waits, admitted, while the first checks out.
	other, _ := connectNew(t, ctx, sys.URL, saleID)
	otherIn := listen(other)
	if _, err := otherIn.wait(ctx, "welcome"); err != nil {
		t.Fatal(err)
	}
	other.Join(ctx)
	otherAdmitted, err := otherIn.wait(ctx, "admitted")
	if err != nil {
		t.Fatal(err)
	}

	in := buyOne(t, ctx, sys, saleID)
	awaitCharge(t, ctx, calls)
	m := pendingOrder(t, ctx, in)
	p := m.Payment
	if p == nil || p.Provider != "stripe" || p.PublishableKey != testStripePublishableKey ||
		!strings.HasPrefix(p.ClientSecret, "pi_") || !strings.Contains(p.ClientSecret, "_secret_") {
		t.Fatalf("order push %s; want payment {provider stripe, publishable_key %s, client_secret pi_..._secret_...}",
			m.Raw, testStripePublishableKey)
	}
	if m.OrderID == 0 || m.ReservationID == "" {
		t.Errorf("order push %s lacks its order or reservation", m.Raw)
	}

	sys.checkout(t, saleID, otherAdmitted.Token)
	awaitCharge(t, ctx, calls)
	first, err := otherIn.next(ctx, "order")
	if err != nil {
		t.Fatal(err)
	}
	if first.ReservationID != otherAdmitted.ReservationID || first.Payment == nil {
		t.Errorf("the other shopper's first order push is %s; want its own order, with its own payment", first.Raw)
	}

	// No table of Postgres holds the secret, in any column.
	var tables []string
	if err := sys.DB.Select(&tables, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`); err != nil {
		t.Fatal(err)
	}
	for _, table := range tables {
		var n int
		if err := sys.DB.Get(&n, `SELECT count(*) FROM "`+table+`" AS r WHERE r::text LIKE '%' || $1 || '%'`,
			p.ClientSecret); err != nil {
			t.Fatalf("search %s: %v", table, err)
		}
		if n > 0 {
			t.Errorf("table %s holds the client secret in %d rows", table, n)
		}
	}
}

// TestAnOrderOfTheTestProviderCarriesNoPayment: the test provider pays by
// itself, so the page has nothing to pay with.
func TestAnOrderOfTheTestProviderCarriesNoPayment(t *testing.T) {
	sys := startNodes(t, 1, map[string]string{"FOYER_PAYMENT_OUTCOME": "never"})
	saleID := sys.createSale(t, map[string]any{"sku": "TEST-PAY", "name": "Test", "stock": 1, "outflow_per_second": 100})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m := pendingOrder(t, ctx, buyOne(t, ctx, sys, saleID))
	if m.Payment != nil || strings.Contains(string(m.Raw), `"payment":`) {
		t.Errorf("order push %s; want no payment", m.Raw)
	}
}

// TestTheShopperPageLetsStripeJSInWhenStripeTakesTheMoney: the shopper's
// page may load Stripe.js, frame its fields and call its API; the
// dashboard still may not. (With the test provider the page lets nothing
// of Stripe's in: TestEveryAnswerCarriesTheSecurityHeaders.)
func TestTheShopperPageLetsStripeJSInWhenStripeTakesTheMoney(t *testing.T) {
	sys, _ := startStripeSystem(t)
	policy := func(path string) string {
		t.Helper()
		resp, err := http.Get(sys.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.Header.Get("Content-Security-Policy")
	}
	page := policy("/")
	for _, want := range []string{"script-src 'self' https://js.stripe.com https://*.js.stripe.com;",
		"frame-src https://js.stripe.com https://*.js.stripe.com https://hooks.stripe.com", "https://api.stripe.com",
		"default-src 'self'", "object-src 'none'"} {
		if !strings.Contains(page, want) {
			t.Errorf("the shopper page's policy %q lacks %q", page, want)
		}
	}
	if strings.Contains(page, "unsafe-inline") || strings.Contains(page, "unsafe-eval") {
		t.Errorf("the shopper page's policy %q lets inline code in", page)
	}
	if admin := policy("/admin.html"); strings.Contains(admin, "stripe") {
		t.Errorf("the dashboard's policy %q lets Stripe in", admin)
	}
}

package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/foyerhq/foyer/checkout"
)

// paymentTally is one state of GET /v1/admin/sales/{id}/payments.
type paymentTally struct {
	Count       int64 `json:"count"`
	AmountCents int64 `json:"amount_cents"`
}

type paymentSummary struct {
	SaleID   string       `json:"sale_id"`
	Currency string       `json:"currency"`
	Paid     paymentTally `json:"paid"`
	Failed   paymentTally `json:"failed"`
	Pending  paymentTally `json:"pending"`
	Refunded paymentTally `json:"refunded"`
}

// fail reports a failed webhook for a reservation's order and waits until
// the worker has cancelled it.
func (s *system) fail(t *testing.T, ctx context.Context, saleID, reservation string) {
	t.Helper()
	s.settle(t, ctx, saleID, reservation, checkout.PaymentFailed, "cancelled")
}

func TestTheDashboardShowsASalesPaidFailedAndPendingPaymentsWithTheirAmounts(t *testing.T) {
	sys := startNodes(t, 1, map[string]string{"FOYER_PAYMENT_OUTCOME": "never"})
	qctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	saleID, bought := ordersSale(t, qctx, sys, 4) // 1250 USD each
	sys.pay(t, qctx, saleID, bought[0])
	sys.pay(t, qctx, saleID, bought[1])
	sys.fail(t, qctx, saleID, bought[2])

	var sum paymentSummary
	if status := sys.call(t, http.MethodGet, "/v1/admin/sales/"+saleID+"/payments", sys.AdminToken, nil, &sum); status != http.StatusOK {
		t.Fatalf("GET payments: %d", status)
	}
	want := paymentSummary{SaleID: saleID, Currency: "USD", Paid: paymentTally{2, 2500}, Failed: paymentTally{1, 1250},
		Pending: paymentTally{1, 1250}}
	if sum != want {
		t.Errorf("payments = %+v, want %+v (no refund made)", sum, want)
	}
	var refused struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if status := sys.call(t, http.MethodGet, "/v1/admin/sales/nope/payments", sys.AdminToken, nil, &refused); status != http.StatusNotFound || refused.Error.Code != "sale_not_found" {
		t.Errorf("an unknown sale's payments: %d %q, want 404 sale_not_found", status, refused.Error.Code)
	}
	if status := sys.call(t, http.MethodGet, "/v1/admin/sales/"+saleID+"/payments", "", nil, nil); status != http.StatusUnauthorized {
		t.Errorf("payments without the admin token: %d, want 401", status)
	}

	ctx := newBrowser(t)
	var line string
	if err := chromedp.Run(ctx,
		chromedp.Navigate(sys.URL+"/admin.html"),
		chromedp.WaitVisible("#token"),
		chromedp.SendKeys("#token", sys.AdminToken),
		chromedp.Click("#signin-submit"),
		chromedp.WaitVisible("#sale-"+saleID),
		chromedp.Click("#sale-"+saleID),
		waitFor(`document.getElementById("payments-summary").dataset.loaded === "`+saleID+`"`),
		chromedp.Text("#payments-summary", &line),
	); err != nil {
		t.Fatalf("reading the payments from the dashboard: %v", err)
	}
	for _, part := range []string{"paid 2 ($25.00)", "failed 1 ($12.50)", "pending 1 ($12.50)", "refunded 0 ($0.00)"} {
		if !strings.Contains(line, part) {
			t.Errorf("the dashboard's payments line %q has no %q", line, part)
		}
	}
}

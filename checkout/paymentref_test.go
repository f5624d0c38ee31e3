package checkout_test

import (
	"testing"
	"time"

	"github.com/foyerhq/foyer/checkout"
)

// TestFoyersOwnWebhookNeverNamesAPaymentToRefund: only a provider's own
// verified webhook (Stripe's) may name the payment the settler refunds.
func TestFoyersOwnWebhookNeverNamesAPaymentToRefund(t *testing.T) {
	secret := []byte("test-webhook-secret-of-at-least-32-bytes")
	body := []byte(`{"order_id":7,"sale_id":"s_1","reservation_id":"r_1","status":"paid","payment_ref":"pi_someone_elses"}`)
	now := time.Now()
	r, err := checkout.VerifyWebhook(secret, body, checkout.Sign(secret, body, now), now)
	if err != nil {
		t.Fatal(err)
	}
	if r.PaymentRef != "" || r.OrderID != 7 {
		t.Errorf("read %+v; want order 7 with no payment to refund", r)
	}
}

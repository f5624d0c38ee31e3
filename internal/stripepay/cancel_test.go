package stripepay_test

import (
	"net/http"
	"testing"

	"github.com/foyerhq/foyer/checkout"
)

func TestCancelPaymentCancelsThePaymentIntentByItsRefOnce(t *testing.T) {
	p, rec := newProvider(t)
	status, err := p.CancelPayment(t.Context(), "pi_timedout", 42)
	if err != nil {
		t.Fatal(err)
	}
	got := rec.all()
	if len(got) != 1 || got[0].method != http.MethodPost || got[0].path != "/v1/payment_intents/pi_timedout/cancel" ||
		got[0].idempotencyKey != "cancel-pi_timedout" || got[0].status != http.StatusOK {
		t.Fatalf("sent %+v; want POST /v1/payment_intents/pi_timedout/cancel keyed cancel-pi_timedout, answered 200", got)
	}
	if status != checkout.PaymentFailed {
		t.Errorf("status = %q, want %q: cancelled", status, checkout.PaymentFailed)
	}
}

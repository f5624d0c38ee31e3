package stripepay_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/stripepay"
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

// stripeRefusal answers every request as Stripe answers the cancel of a
// PaymentIntent that succeeded: 400 payment_intent_unexpected_state, the
// PaymentIntent in the error. stripe-mock is stateless and cannot be made to
// say it, so these are the bytes Stripe documents.
func stripeRefusal(t *testing.T, intentStatus string) *stripepay.Provider {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":{"type":"invalid_request_error","code":"payment_intent_unexpected_state",
			"message":"You cannot cancel this PaymentIntent because it has a status of ` + intentStatus + `.",
			"payment_intent":{"id":"pi_raced","object":"payment_intent","status":"` + intentStatus + `"}}}`))
	}))
	t.Cleanup(srv.Close)
	p, err := stripepay.New(stripepay.Config{SecretKey: "sk_test_foyer", APIBase: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A PaymentIntent that succeeded before the cancel reached Stripe is not
// cancelled: the answer is paid, so the settler pays the order instead.
func TestCancelPaymentOfAPaymentIntentThatSucceededAnswersPaid(t *testing.T) {
	for intent, want := range map[string]string{"succeeded": checkout.PaymentPaid, "processing": checkout.PaymentPending,
		"canceled": checkout.PaymentFailed} {
		status, err := stripeRefusal(t, intent).CancelPayment(t.Context(), "pi_raced", 42)
		if err != nil || status != want {
			t.Errorf("cancel of a %s PaymentIntent: %q, %v; want %q", intent, status, err, want)
		}
	}
}

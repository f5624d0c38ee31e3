package stripepay

import (
	"net/http"
	"testing"

	"github.com/stripe/stripe-go/v82"

	"github.com/foyerhq/foyer/checkout"
)

// Stripe refuses to cancel a PaymentIntent that succeeded, is processing or
// was cancelled already, and its error carries the PaymentIntent: the
// refusal is read as that state, so a payment that raced the sweeper's
// cancel pays its order instead. stripe-mock, which keeps no state, never
// refuses; this is the reading of Stripe's documented error alone.
func TestARefusedCancelIsReadAsThePaymentIntentsState(t *testing.T) {
	for intent, want := range map[stripe.PaymentIntentStatus]string{
		stripe.PaymentIntentStatusSucceeded:  checkout.PaymentPaid,
		stripe.PaymentIntentStatusProcessing: checkout.PaymentPending,
		stripe.PaymentIntentStatusCanceled:   checkout.PaymentFailed,
	} {
		se := &stripe.Error{HTTPStatusCode: http.StatusBadRequest, Code: "payment_intent_unexpected_state",
			PaymentIntent: &stripe.PaymentIntent{ID: "pi_raced", Status: intent}}
		if got := cancelRefusal(se); got != want {
			t.Errorf("a refused cancel of a %s PaymentIntent reads %q, want %q", intent, got, want)
		}
	}
	if got := cancelRefusal(&stripe.Error{HTTPStatusCode: http.StatusNotFound}); got != checkout.PaymentUnknown {
		t.Errorf("a cancel of a PaymentIntent Stripe does not know reads %q, want unknown", got)
	}
	if got := cancelRefusal(&stripe.Error{HTTPStatusCode: http.StatusBadRequest}); got != "" {
		t.Errorf("a refusal that names no PaymentIntent reads %q, want \"\" (read it again)", got)
	}
}

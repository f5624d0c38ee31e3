package stripepay

import (
	"testing"

	"github.com/stripe/stripe-go/v82"

	"github.com/foyerhq/foyer/checkout"
)

func TestEveryPaymentIntentStateMapsToAPaymentOutcome(t *testing.T) {
	for s, want := range map[stripe.PaymentIntentStatus]string{
		stripe.PaymentIntentStatusSucceeded:             checkout.PaymentPaid,
		stripe.PaymentIntentStatusCanceled:              checkout.PaymentFailed,
		stripe.PaymentIntentStatusProcessing:            checkout.PaymentPending,
		stripe.PaymentIntentStatusRequiresAction:        checkout.PaymentPending,
		stripe.PaymentIntentStatusRequiresCapture:       checkout.PaymentPending,
		stripe.PaymentIntentStatusRequiresConfirmation:  checkout.PaymentPending,
		stripe.PaymentIntentStatusRequiresPaymentMethod: checkout.PaymentPending,
		"a_state_from_the_future":                       checkout.PaymentUnknown,
	} {
		if got := statusOf(s); got != want {
			t.Errorf("statusOf(%s) = %q, want %q", s, got, want)
		}
	}
}

package stripepay_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/foyerhq/foyer/checkout"
)

// stripe-mock keeps no state: it answers every search with its fixture
// PaymentIntent, whatever was charged. What this proves is the request
// reconciliation sends (a search by the sale's metadata, a full page, the
// latest charge expanded, which Stripe's spec in stripe-mock accepts) and
// that its answer is read (id, amount, currency, status); which payment
// matches which order is decided against the stateful test provider
// (internal/reconcile's tests).
func TestPaymentsSearchesTheSalesPaymentIntentsByMetadataAndReadsThem(t *testing.T) {
	p, rec := newProvider(t)
	var got []checkout.ProviderPayment
	for pay, err := range p.Payments(t.Context(), "s_drop") {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, pay)
	}
	sent := rec.all()
	if len(sent) == 0 {
		t.Fatal("sent nothing")
	}
	s := sent[0]
	if s.method != http.MethodGet || s.path != "/v1/payment_intents/search" || s.status != http.StatusOK ||
		s.form.Get("query") != "metadata['sale_id']:'s_drop'" || s.form.Get("limit") != "100" ||
		s.form.Get("expand[0]") != "data.latest_charge" {
		t.Fatalf("sent %+v; want one search by metadata sale_id, 100 a page, latest charge expanded, answered 200", s)
	}
	if len(got) == 0 {
		t.Fatal("read no payment from stripe-mock's answer")
	}
	pay := got[0]
	if pay.ID == "" || pay.AmountCents <= 0 || pay.Currency == "" || pay.Currency != strings.ToUpper(pay.Currency) {
		t.Errorf("read %+v; want the fixture's id, amount and upper-case currency", pay)
	}
	// The fixture waits for a payment method: pending, never refunded.
	if pay.Status != checkout.PaymentPending || pay.Refunded {
		t.Errorf("status %q, refunded %v; want pending, not refunded", pay.Status, pay.Refunded)
	}
}

func TestASaleIdWithAQuoteCannotWidenTheSearch(t *testing.T) {
	p, rec := newProvider(t)
	for _, err := range p.Payments(t.Context(), "s' OR metadata['x']:'y") {
		if err != nil {
			t.Fatal(err)
		}
	}
	if q := rec.all()[0].form.Get("query"); q != `metadata['sale_id']:'s\' OR metadata[\'x\']:\'y'` {
		t.Errorf("query = %s; want every quote of the sale id escaped", q)
	}
}

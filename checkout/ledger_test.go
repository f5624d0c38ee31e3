package checkout_test

import (
	"errors"
	"log/slog"
	"testing"

	"github.com/foyerhq/foyer/checkout"
)

func TestTheTestProvidersLedgerKeepsOnePaymentPerReservationAndRefundsOnlyPaidOnes(t *testing.T) {
	p := &checkout.TestProvider{Outcome: "never", Ledger: true, Log: slog.New(slog.DiscardHandler)}
	t.Cleanup(p.Close)
	c := checkout.Charge{OrderID: 1, SaleID: "s1", ReservationID: "r1", AmountCents: 1500, Currency: "eur"}
	for range 2 { // a redelivered order
		if _, err := p.Charge(t.Context(), c); err != nil {
			t.Fatal(err)
		}
	}
	p.Put(checkout.ProviderPayment{ID: "tp_other", SaleID: "s2", Status: checkout.PaymentPaid})
	var got []checkout.ProviderPayment
	for pay := range p.Payments(t.Context(), "s1") {
		got = append(got, pay)
	}
	want := checkout.ProviderPayment{ID: "tp_r1", OrderID: 1, SaleID: "s1", ReservationID: "r1", AmountCents: 1500,
		Currency: "EUR", Status: checkout.PaymentPending}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("payments of s1 = %+v, want only %+v", got, want)
	}
	if err := p.RefundPayment(t.Context(), "tp_r1", 1); !errors.Is(err, checkout.ErrRefundRefused) {
		t.Errorf("refund of a pending payment: %v, want ErrRefundRefused", err)
	}
	if err := p.RefundPayment(t.Context(), "tp_nobody", 0); !errors.Is(err, checkout.ErrRefundRefused) {
		t.Errorf("refund of an unknown payment: %v, want ErrRefundRefused", err)
	}
	for range 2 { // refunding twice refunds once, and is no error
		if err := p.RefundPayment(t.Context(), "tp_other", 0); err != nil {
			t.Fatal(err)
		}
	}
	for pay := range p.Payments(t.Context(), "s2") {
		if !pay.Refunded {
			t.Errorf("%s not refunded", pay.ID)
		}
	}
}

func TestTheTestProviderKeepsNoLedgerUnlessAsked(t *testing.T) {
	p := &checkout.TestProvider{Outcome: "never", Log: slog.New(slog.DiscardHandler)}
	t.Cleanup(p.Close)
	if _, err := p.Charge(t.Context(), checkout.Charge{OrderID: 1, SaleID: "s1", ReservationID: "r1"}); err != nil {
		t.Fatal(err)
	}
	for pay := range p.Payments(t.Context(), "s1") {
		t.Errorf("listed %+v from a provider with no ledger", pay)
	}
}

package checkout

import (
	"context"
	"fmt"
	"iter"
	"strings"
)

// ProviderPayment is one payment as the provider that took it tells it:
// what reconciliation lays beside the sale's orders.
type ProviderPayment struct {
	// ID is the provider's id of the payment (a Stripe PaymentIntent).
	ID string
	// OrderID, SaleID and ReservationID are what the payment's metadata
	// says it pays for; OrderID is 0 when it names no order.
	OrderID       int64
	SaleID        string
	ReservationID string
	AmountCents   int64
	// Currency is upper-case, as Foyer's sales write it.
	Currency string
	// Status is PaymentPaid, PaymentFailed or PaymentPending.
	Status string
	// Refunded says the money was given back (in full or in part).
	Refunded bool
}

// The test provider's ledger: every charge it took (when its Ledger is
// set), kept so that it can be listed and refunded as a real provider's
// payments are; Put writes into it either way. It lives in the
// process that charges (the worker's memory): a test reads it from the
// provider it charged with, and `foyer reconcile --payments` cannot reach it
// from another process, which docs/payments.md says.

// record writes down a charge, once per reservation: a redelivered order
// charges with the same reservation, as Stripe's idempotency key makes it.
// The caller holds p.mu.
func (p *TestProvider) record(c Charge, status string) {
	id := TestPaymentRef(c.ReservationID)
	if _, ok := p.ledger[id]; ok {
		return
	}
	p.put(ProviderPayment{ID: id, OrderID: c.OrderID, SaleID: c.SaleID, ReservationID: c.ReservationID,
		AmountCents: c.AmountCents, Currency: strings.ToUpper(c.Currency), Status: status})
}

// put adds or replaces a payment of the ledger. The caller holds p.mu.
func (p *TestProvider) put(pay ProviderPayment) {
	if p.ledger == nil {
		p.ledger = map[string]*ProviderPayment{}
	}
	if _, ok := p.ledger[pay.ID]; !ok {
		p.order = append(p.order, pay.ID)
	}
	p.ledger[pay.ID] = &pay
}

// Put writes a payment into the ledger as if the provider had taken it
// outside Foyer's charge (by hand, through a lost order, with another
// amount): for tests of reconciliation. A payment of the same ID is
// replaced.
func (p *TestProvider) Put(pay ProviderPayment) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.put(pay)
}

// Payments lists the ledger's payments of a sale, in the order they were
// taken.
func (p *TestProvider) Payments(_ context.Context, saleID string) iter.Seq2[ProviderPayment, error] {
	p.mu.Lock()
	var out []ProviderPayment
	for _, id := range p.order {
		if pay := p.ledger[id]; pay.SaleID == saleID {
			out = append(out, *pay)
		}
	}
	p.mu.Unlock()
	return func(yield func(ProviderPayment, error) bool) {
		for _, pay := range out {
			if !yield(pay, nil) {
				return
			}
		}
	}
}

// RefundPayment refunds a paid payment of the ledger; refunding it again
// is done already. One the ledger has not, or not paid, is ErrRefundRefused,
// as Stripe refuses it.
func (p *TestProvider) RefundPayment(_ context.Context, ref string, orderID int64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	pay, ok := p.ledger[ref]
	if !ok || pay.Status != PaymentPaid {
		return fmt.Errorf("refund test payment %s of order %d: %w", ref, orderID, ErrRefundRefused)
	}
	pay.Refunded = true
	return nil
}

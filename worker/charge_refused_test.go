package worker_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/waitingroom"
	"github.com/foyerhq/foyer/worker"
)

// refusingProvider refuses every charge as a provider refuses an invalid
// one, and keeps what it was asked.
type refusingProvider struct {
	mu      sync.Mutex
	charges []checkout.Charge
}

func (p *refusingProvider) Charge(_ context.Context, c checkout.Charge) (checkout.Payment, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.charges = append(p.charges, c)
	return checkout.Payment{}, fmt.Errorf("amount below the minimum: %w", checkout.ErrChargeRefused)
}

func (p *refusingProvider) Status(context.Context, int64, string) (string, error) {
	return checkout.PaymentUnknown, nil
}

// TestAChargeTheProviderRefusesLeavesTheOrderToItsPaymentTimeout: the
// message is done with (no retry could charge it), the order waits for its
// payment timeout, which gives the unit back, and the provider was asked
// with the order's transaction id.
func TestAChargeTheProviderRefusesLeavesTheOrderToItsPaymentTimeout(t *testing.T) {
	db := newDB(t, 5)
	_, rdb := newWriter(t, db)
	provider := &refusingProvider{}
	w := worker.NewOrderWriter(db, waitingroom.NewRooms(rdb), provider, discard)
	c := confirmation(1)
	if err := w.Handle(messageOf(t, c)); err != nil {
		t.Fatalf("a refused charge failed its message: %v", err)
	}
	rows := orders(t, db)
	if len(rows) != 1 || rows[0].Status != worker.OrderPendingPayment {
		t.Fatalf("orders %+v; want one, pending its payment", rows)
	}
	want := checkout.Charge{OrderID: rows[0].ID, SaleID: saleID, ReservationID: c.ReservationID,
		AmountCents: c.PriceCents, TransactionID: c.Txn}
	if len(provider.charges) != 1 || provider.charges[0] != want {
		t.Errorf("charges %+v, want %+v", provider.charges, want)
	}
}

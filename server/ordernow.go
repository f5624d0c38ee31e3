package server

import (
	"context"
	"time"

	"github.com/foyerhq/foyer/internal/fanout"
	"github.com/foyerhq/foyer/internal/orders"
	"github.com/foyerhq/foyer/internal/wire"
)

// A shopper who checked out and comes back (a reloaded page, another tab,
// a resume) is told its order as it stands, not only that its checkout
// was confirmed.

// ReservationOrders finds the order of a confirmed reservation, for a tab
// that asks where it stands after checking out (internal/orders).
type ReservationOrders interface {
	OfReservation(ctx context.Context, saleID, reservationID string) (orders.ReservationOrder, bool, error)
}

// PaymentSecrets reads the kept client secret of a pending order's payment
// (checkout.PaymentSecrets), for a tab reloaded while paying;
// "": none kept.
type PaymentSecrets interface {
	Get(ctx context.Context, saleID, reservationID string) (string, error)
}

// orderLookupTimeout bounds the look-up of a reconnecting shopper's order:
// past it the tab is told "confirmed" and learns the outcome as it comes.
const orderLookupTimeout = 2 * time.Second

// orderNow reads the order of a confirmed reservation from the orders'
// store, for a tab that asks where it stands after checking out (arriving,
// or resuming): a page reloaded after its order was paid learns it, which
// Redis alone cannot tell, and one reloaded while paying on the page gets
// the payment's secret again. Only shoppers who checked out ask it, never the
// queue's hot path. (A shopper whose order was cancelled has no place any
// more: its unit went back and it may join again.) No row yet (the worker
// has not written it) or a store that cannot answer: the zero OrderNow,
// "confirmed", the outcome to follow.
func (ss *session) orderNow(ctx context.Context, reservationID string) fanout.OrderNow {
	if ss.s.deps.ReservationOrders == nil {
		return fanout.OrderNow{}
	}
	ctx, cancel := context.WithTimeout(ctx, orderLookupTimeout)
	defer cancel()
	o, ok, err := ss.s.deps.ReservationOrders.OfReservation(ctx, ss.saleID, reservationID)
	if err != nil {
		ss.s.deps.Log.Warn("read a reconnecting shopper's order; told confirmed", "sale", ss.saleID,
			"reservation", reservationID, "err", err)
		return fanout.OrderNow{}
	}
	if !ok {
		return fanout.OrderNow{}
	}
	now := fanout.OrderNow{ID: o.ID, Status: o.Status}
	if o.Status == wire.OrderPendingPayment && ss.s.cfg.StripePublishableKey != "" && ss.s.deps.PaymentSecrets != nil {
		// The shopper pays on the page itself: it is told the secret
		// again, so that a reload while paying does not end the payment.
		// None kept (or Redis out of reach): told pending without it.
		if now.PaymentSecret, err = ss.s.deps.PaymentSecrets.Get(ctx, ss.saleID, reservationID); err != nil {
			ss.s.deps.Log.Warn("read a reconnecting shopper's payment secret; told pending without it", "sale", ss.saleID,
				"reservation", reservationID, "err", err)
		}
	}
	return now
}

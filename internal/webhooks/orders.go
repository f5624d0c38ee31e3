package webhooks

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/foyerhq/foyer/internal/orderstream"
)

// Recorder records the events of orders in the order workers' own
// transactions (worker.OrderEvents): an event is committed with the change
// it tells of, or not at all, so none is lost and none invented.
type Recorder struct {
	now func() time.Time
}

// NewRecorder returns a recorder stamping events with the wall clock.
func NewRecorder() *Recorder { return &Recorder{now: time.Now} }

// The order statuses the workers write (worker.OrderPaid, OrderCancelled;
// copied: the transport links this package, and must not link the workers).
const (
	statusPaid      = "paid"
	statusCancelled = "cancelled"
)

// orderData is what an order's events tell of it: the order as the worker
// handed it over (it has every field already; reading the rows back cost
// a third of what recording did).
func orderData(o orderstream.Order) OrderData {
	return OrderData{OrderID: o.ID, ReservationID: o.ReservationID, TransactionID: o.TransactionID,
		ShopperID: o.ShopperID, CustomerID: o.CustomerID, SKU: o.SKU, ProductName: o.ProductName, Quantity: o.Quantity,
		AmountCents: o.PriceCents * int64(o.Quantity), Currency: o.Currency, Status: o.Status,
		ShopOrderRef: o.ShopOrderRef}
}

// OrdersWritten records order.created for each order just written, and,
// for one written already paid (a reservation the shop redeemed: it took
// the money), reservation.redeemed and order.paid after it.
func (r *Recorder) OrdersWritten(ctx context.Context, tx *sqlx.Tx, orders []orderstream.Order) error {
	now := r.now()
	var events []newEvent
	for _, o := range orders {
		data := orderData(o)
		types := []string{OrderCreated}
		if o.Status == statusPaid {
			types = append(types, ReservationRedeemed, OrderPaid)
		}
		for _, typ := range types {
			e, err := makeEvent(typ, o.SaleID, o.ReservationID, data, now, o.ReservationID)
			if err != nil {
				return err
			}
			events = append(events, e)
		}
	}
	return record(ctx, tx, events)
}

// OrdersSettled records order.paid or order.cancelled for each order whose
// payment was just settled.
func (r *Recorder) OrdersSettled(ctx context.Context, tx *sqlx.Tx, orders []orderstream.Order) error {
	now := r.now()
	var events []newEvent
	for _, o := range orders {
		data := orderData(o)
		var typ string
		switch o.Status {
		case statusPaid:
			typ = OrderPaid
		case statusCancelled:
			typ = OrderCancelled
		default:
			continue // not settled: nothing to tell
		}
		e, err := makeEvent(typ, o.SaleID, o.ReservationID, data, now, o.ReservationID)
		if err != nil {
			return err
		}
		events = append(events, e)
	}
	return record(ctx, tx, events)
}

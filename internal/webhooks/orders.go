package webhooks

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
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

// orderRow is an order as the recorder reads it. The row is read whole as
// JSON, so columns that later migrations add (customer_id, shop_order_ref)
// are picked up when they exist and cost nothing when they do not.
type orderRow struct {
	ID            int64   `json:"id"`
	SaleID        string  `json:"sale_id"`
	ReservationID string  `json:"reservation_id"`
	TransactionID string  `json:"transaction_id"`
	ShopperID     string  `json:"shopper_id"`
	CustomerID    *string `json:"customer_id"`
	Quantity      int     `json:"quantity"`
	PriceCents    int64   `json:"price_cents"`
	Status        string  `json:"status"`
	ShopOrderRef  *string `json:"shop_order_ref"`
	Currency      string  `json:"-"`
}

func (o orderRow) data() OrderData {
	d := OrderData{OrderID: o.ID, ReservationID: o.ReservationID, TransactionID: o.TransactionID,
		ShopperID: o.ShopperID, Quantity: o.Quantity, AmountCents: o.PriceCents * int64(o.Quantity),
		Currency: o.Currency, Status: o.Status}
	if o.CustomerID != nil {
		d.CustomerID = *o.CustomerID
	}
	if o.ShopOrderRef != nil {
		d.ShopOrderRef = *o.ShopOrderRef
	}
	return d
}

// readOrders reads the orders with ids in tx, so it sees the tx's writes.
func readOrders(ctx context.Context, tx *sqlx.Tx, ids []int64) ([]orderRow, error) {
	var rows []struct {
		Row      []byte `db:"row"`
		Currency string `db:"currency"`
	}
	if err := tx.SelectContext(ctx, &rows, `SELECT to_jsonb(o) AS row, s.currency FROM orders o
		JOIN sales s ON s.id = o.sale_id WHERE o.id = ANY($1) ORDER BY o.id`, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("read %d orders for their webhook events: %w", len(ids), err)
	}
	out := make([]orderRow, len(rows))
	for i, r := range rows {
		if err := json.Unmarshal(r.Row, &out[i]); err != nil {
			return nil, fmt.Errorf("decode order for its webhook events: %w", err)
		}
		out[i].Currency = r.Currency
	}
	return out, nil
}

// OrdersWritten records order.created for each order just written, and,
// for one written already paid (a reservation the shop redeemed: it took
// the money), reservation.redeemed and order.paid after it.
func (r *Recorder) OrdersWritten(ctx context.Context, tx *sqlx.Tx, orderIDs []int64) error {
	if len(orderIDs) == 0 {
		return nil
	}
	orders, err := readOrders(ctx, tx, orderIDs)
	if err != nil {
		return err
	}
	now := r.now()
	var events []newEvent
	for _, o := range orders {
		types := []string{OrderCreated}
		if o.Status == statusPaid {
			types = append(types, ReservationRedeemed, OrderPaid)
		}
		for _, typ := range types {
			e, err := makeEvent(typ, o.SaleID, o.ReservationID, o.data(), now, o.ReservationID)
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
func (r *Recorder) OrdersSettled(ctx context.Context, tx *sqlx.Tx, orderIDs []int64) error {
	if len(orderIDs) == 0 {
		return nil
	}
	orders, err := readOrders(ctx, tx, orderIDs)
	if err != nil {
		return err
	}
	now := r.now()
	var events []newEvent
	for _, o := range orders {
		var typ string
		switch o.Status {
		case statusPaid:
			typ = OrderPaid
		case statusCancelled:
			typ = OrderCancelled
		default:
			continue // not settled: nothing to tell
		}
		e, err := makeEvent(typ, o.SaleID, o.ReservationID, o.data(), now, o.ReservationID)
		if err != nil {
			return err
		}
		events = append(events, e)
	}
	return record(ctx, tx, events)
}

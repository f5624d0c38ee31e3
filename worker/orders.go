// Package worker writes confirmed reservations to Postgres as orders.
//
// Its promise: each confirmed reservation becomes exactly one order row, and
// a sale's sold count never passes its stock, whatever is redelivered,
// replayed or retried. The reservation id is unique in orders; the sold count
// is raised in the same transaction, guarded by "sold + n <= stock"; the
// message is acknowledged only after the commit.
package worker

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jmoiron/sqlx"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/waitingroom"
)

// ErrOversell means writing an order would take a sale's sold count past its
// stock. Redis should never let that happen; if it does, the message goes to
// the poison topic for an operator instead of becoming an order.
var ErrOversell = errors.New("order would oversell the sale")

// errPermanent marks a message that no retry can turn into an order.
var errPermanent = errors.New("permanent")

// isPermanent reports whether retrying the message is pointless, so it goes
// to the poison topic at once.
func isPermanent(err error) bool {
	return errors.Is(err, ErrOversell) || errors.Is(err, errPermanent)
}

// OrderNotifier tells shoppers what became of their orders.
type OrderNotifier interface {
	AnnounceOrders(ctx context.Context, saleID string, orders []waitingroom.OrderEvent) error
}

// PaymentProvider takes payment for orders; it answers later through the
// signed webhook.
type PaymentProvider interface {
	Charge(ctx context.Context, c checkout.Charge) error
}

// OrderWriter is the Watermill handler that writes orders.
type OrderWriter struct {
	db       *sqlx.DB
	notifier OrderNotifier
	payments PaymentProvider
	log      *slog.Logger
}

// NewOrderWriter returns a handler writing to db, asking payments for the
// money and telling notifier.
func NewOrderWriter(db *sqlx.DB, notifier OrderNotifier, payments PaymentProvider, log *slog.Logger) *OrderWriter {
	return &OrderWriter{db: db, notifier: notifier, payments: payments, log: log}
}

// The statuses of an order: written as pending payment, then paid, or
// cancelled (payment failed or timed out; its stock went back to the sale).
const (
	OrderPendingPayment = "pending_payment"
	OrderPaid           = "paid"
	OrderCancelled      = "cancelled"
)

// Handle writes the order of one confirmed reservation.
func (w *OrderWriter) Handle(msg *message.Message) error {
	var c checkout.ReservationConfirmed
	if err := json.Unmarshal(msg.Payload, &c); err != nil {
		return fmt.Errorf("decode message %s: %w: %w", msg.UUID, errPermanent, err)
	}
	ctx := msg.Context()
	id, status, err := w.write(ctx, c)
	if err != nil {
		return err
	}
	w.log.Info("order written", "sale", c.SaleID, "reservation", c.ReservationID, "order", id, "status", status, "txn", c.Txn)
	if status == OrderPendingPayment {
		// Asked again on a redelivery: providers charge an order once.
		charge := checkout.Charge{OrderID: id, SaleID: c.SaleID, ReservationID: c.ReservationID,
			AmountCents: c.PriceCents * int64(c.Quantity), Currency: c.Currency}
		if err := w.payments.Charge(ctx, charge); err != nil {
			return fmt.Errorf("charge order %d: %w", id, err)
		}
	}
	// The row is committed: a failed announcement only delays the shopper's
	// page, which also learns the status on reconnect. Retrying the whole
	// message would announce again, harmlessly, so let it.
	return w.notifier.AnnounceOrders(ctx, c.SaleID, []waitingroom.OrderEvent{{
		Shopper: c.ShopperID, Reservation: c.ReservationID, OrderID: id, Status: status,
	}})
}

const insertOrderSQL = `
INSERT INTO orders (sale_id, reservation_id, shopper_id, transaction_id, quantity, price_cents, status, confirmed_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (reservation_id) DO NOTHING
RETURNING id`

const raiseSoldSQL = `UPDATE sales SET sold = sold + $2 WHERE id = $1 AND sold + $2 <= stock`

// write inserts the order and raises the sale's sold count in one
// transaction, or finds the order a previous delivery wrote. It returns the
// order's id and status.
func (w *OrderWriter) write(ctx context.Context, c checkout.ReservationConfirmed) (int64, string, error) {
	tx, err := w.db.BeginTxx(ctx, nil)
	if err != nil {
		return 0, "", fmt.Errorf("begin order %s: %w", c.ReservationID, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit

	var id int64
	err = tx.GetContext(ctx, &id, insertOrderSQL, c.SaleID, c.ReservationID, c.ShopperID, c.Txn,
		c.Quantity, c.PriceCents, OrderPendingPayment, c.ConfirmedAt)
	if errors.Is(err, sql.ErrNoRows) {
		// Written by an earlier delivery of the same message.
		var found struct {
			ID     int64  `db:"id"`
			Status string `db:"status"`
		}
		err = tx.GetContext(ctx, &found, `SELECT id, status FROM orders WHERE reservation_id = $1`, c.ReservationID)
		if err != nil {
			return 0, "", fmt.Errorf("find order %s: %w", c.ReservationID, err)
		}
		return found.ID, found.Status, nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("insert order %s: %w", c.ReservationID, err)
	}
	res, err := tx.ExecContext(ctx, raiseSoldSQL, c.SaleID, c.Quantity)
	if err != nil {
		return 0, "", fmt.Errorf("raise sold of sale %s: %w", c.SaleID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return 0, "", fmt.Errorf("order %s of sale %s: %w", c.ReservationID, c.SaleID, ErrOversell)
	}
	if err := tx.Commit(); err != nil {
		return 0, "", fmt.Errorf("commit order %s: %w", c.ReservationID, err)
	}
	return id, OrderPendingPayment, nil
}

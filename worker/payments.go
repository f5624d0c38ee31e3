package worker

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/waitingroom"
)

// StockReturner gives the units of a cancelled order back to its sale.
type StockReturner interface {
	Return(ctx context.Context, saleID, reservationID string, quantity int) error
}

// PaymentSettler settles orders: paid when the provider says so; cancelled,
// with their stock given back, when it says the payment failed or when it
// has said nothing for too long.
type PaymentSettler struct {
	db       *sqlx.DB
	stock    StockReturner
	notifier OrderNotifier
	log      *slog.Logger
	// Timeout is how long an order may wait for its payment. Defaults to 10 minutes.
	Timeout time.Duration
}

// NewPaymentSettler returns a settler with the default timeout.
func NewPaymentSettler(db *sqlx.DB, stock StockReturner, notifier OrderNotifier, log *slog.Logger) *PaymentSettler {
	return &PaymentSettler{db: db, stock: stock, notifier: notifier, log: log, Timeout: 10 * time.Minute}
}

// Handle settles the payment results of one message: the paid ones first,
// in one transaction, then the failed ones one by one (each gives stock
// back). Settling is idempotent, so a message retried after a passing
// failure settles nothing twice. A failed payment no retry can settle (of
// an order nobody has) does not hold back the others in its message: the
// message goes to the poison topic for an operator once every other result
// is settled. A success for an unknown order changes nothing, as before.
func (p *PaymentSettler) Handle(msg *message.Message) error {
	results, err := checkout.DecodePaymentResults(msg.Payload)
	if err != nil {
		return fmt.Errorf("decode payment results %s: %w: %w", msg.UUID, errPermanent, err)
	}
	var paid []int64
	for _, r := range results {
		if r.Status == checkout.PaymentPaid {
			paid = append(paid, r.OrderID)
		}
	}
	if err := p.markPaid(msg.Context(), paid); err != nil {
		return err
	}
	var unsettled []error
	for _, r := range results {
		if r.Status == checkout.PaymentPaid {
			continue
		}
		err := p.cancel(msg.Context(), r.OrderID, "payment failed")
		if isPermanent(err) {
			unsettled = append(unsettled, err)
			continue
		}
		if err != nil {
			return err
		}
	}
	return errors.Join(unsettled...)
}

// settledOrder is what settling needs to know of an order.
type settledOrder struct {
	Txn           string `db:"transaction_id"`
	SaleID        string `db:"sale_id"`
	ReservationID string `db:"reservation_id"`
	ShopperID     string `db:"shopper_id"`
	Quantity      int    `db:"quantity"`
	Status        string `db:"status"`
}

// markPaid marks the orders paid that still wait for their payment, and
// tells their shoppers; an order paid already, or cancelled first, is left
// as it is: a late success changes nothing.
func (p *PaymentSettler) markPaid(ctx context.Context, orderIDs []int64) error {
	if len(orderIDs) == 0 {
		return nil
	}
	if _, err := p.db.ExecContext(ctx, `UPDATE orders SET status = 'paid'
		WHERE id = ANY($1) AND status = 'pending_payment'`, pq.Array(orderIDs)); err != nil {
		return fmt.Errorf("mark %d orders paid: %w", len(orderIDs), err)
	}
	// Every paid one is announced, not only those this call marked: a
	// delivery that failed after the commit is retried, and its shoppers
	// must still hear. Announcing twice is harmless.
	var orders []struct {
		ID int64 `db:"id"`
		settledOrder
	}
	err := p.db.SelectContext(ctx, &orders, `SELECT id, transaction_id, sale_id, reservation_id, shopper_id, quantity, status
		FROM orders WHERE id = ANY($1) AND status = 'paid'`, pq.Array(orderIDs))
	if err != nil {
		return fmt.Errorf("read %d paid orders: %w", len(orderIDs), err)
	}
	events := map[string][]waitingroom.OrderEvent{}
	for _, o := range orders {
		p.log.Info("order paid", "order", o.ID, "sale", o.SaleID, "txn", o.Txn)
		events[o.SaleID] = append(events[o.SaleID], waitingroom.OrderEvent{
			Shopper: o.ShopperID, Reservation: o.ReservationID, OrderID: o.ID, Status: OrderPaid})
	}
	for saleID, evs := range events {
		if err := p.notifier.AnnounceOrders(ctx, saleID, evs); err != nil {
			return err
		}
	}
	return nil
}

// cancel cancels a pending order and gives its stock back. Postgres first,
// then Redis: a crash between the two leaves the order cancelled and its
// units not yet back, and the redelivery (or the next timeout sweep) finds
// the order cancelled and gives them back, once, as refund.lua guarantees.
func (p *PaymentSettler) cancel(ctx context.Context, orderID int64, why string) error {
	tx, err := p.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin cancel of order %d: %w", orderID, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var o settledOrder
	err = tx.GetContext(ctx, &o, `UPDATE orders SET status = 'cancelled' WHERE id = $1 AND status = 'pending_payment'
		RETURNING transaction_id, sale_id, reservation_id, shopper_id, quantity, status`, orderID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if err := tx.GetContext(ctx, &o, `SELECT transaction_id, sale_id, reservation_id, shopper_id, quantity, status
			FROM orders WHERE id = $1`, orderID); err != nil {
			return fmt.Errorf("find order %d: %w: %w", orderID, errPermanent, err)
		}
		if o.Status != OrderCancelled {
			return nil // paid first: a late failure changes nothing
		}
	case err != nil:
		return fmt.Errorf("cancel order %d: %w", orderID, err)
	default:
		if _, err := tx.ExecContext(ctx, `UPDATE sales SET sold = sold - $2 WHERE id = $1`, o.SaleID, o.Quantity); err != nil {
			return fmt.Errorf("lower sold of sale %s: %w", o.SaleID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit cancel of order %d: %w", orderID, err)
	}
	if err := p.stock.Return(ctx, o.SaleID, o.ReservationID, o.Quantity); err != nil {
		return err
	}
	p.log.Info("order cancelled, stock returned", "order", orderID, "sale", o.SaleID, "why", why, "txn", o.Txn)
	return p.announce(ctx, orderID, o, OrderCancelled)
}

func (p *PaymentSettler) announce(ctx context.Context, orderID int64, o settledOrder, status string) error {
	return p.notifier.AnnounceOrders(ctx, o.SaleID, []waitingroom.OrderEvent{{
		Shopper: o.ShopperID, Reservation: o.ReservationID, OrderID: orderID, Status: status,
	}})
}

// SweepTimedOut cancels the orders that waited longer than Timeout for their
// payment, and returns how many it cancelled.
func (p *PaymentSettler) SweepTimedOut(ctx context.Context) (int, error) {
	var ids []int64
	err := p.db.SelectContext(ctx, &ids, `SELECT id FROM orders WHERE status = 'pending_payment'
		AND created_at < now() - make_interval(secs => $1) ORDER BY id LIMIT 500`, p.Timeout.Seconds())
	if err != nil {
		return 0, fmt.Errorf("find timed-out payments: %w", err)
	}
	for i, id := range ids {
		if err := p.cancel(ctx, id, "payment timed out"); err != nil {
			return i, err
		}
	}
	return len(ids), nil
}

// runSweeper sweeps every quarter of Timeout until ctx ends.
func (p *PaymentSettler) runSweeper(ctx context.Context) {
	t := time.NewTicker(max(p.Timeout/4, 100*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := p.SweepTimedOut(ctx); err != nil && ctx.Err() == nil {
				p.log.Warn("payment timeout sweep failed", "err", err)
			}
		}
	}
}

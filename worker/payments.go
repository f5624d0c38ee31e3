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
	"github.com/foyerhq/foyer/internal/clock"
	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/internal/pgtx"
	"github.com/foyerhq/foyer/waitingroom"
)

// StockReturner gives the units of a cancelled order back to its sale
// (waitingroom.Rooms does, once per reservation).
type StockReturner interface {
	Refund(ctx context.Context, saleID, reservationID string, quantity int) error
}

// ErrResultMismatch means a payment result names an order whose sale or
// reservation is not the result's: a webhook signed for one order and
// pointed at another, or a provider's bug. It changes nothing, and its
// message goes to the poison topic for an operator.
var ErrResultMismatch = errors.New("payment result does not match its order")

// PaymentSettler settles orders: paid when the provider says so; cancelled,
// with their stock given back, when it says the payment failed or when it
// has said nothing for too long and, asked, does not say it was paid.
type PaymentSettler struct {
	db       *sqlx.DB
	stock    StockReturner
	notifier OrderNotifier
	payments PaymentProvider
	log      *slog.Logger
	// Timeout is how long an order may wait for its payment before the
	// provider is asked about it. Defaults to 10 minutes.
	Timeout time.Duration
	// Events records the orders settled; nil records nothing.
	Events OrderEvents
	// Refunds gives back a payment that succeeded after its order was
	// cancelled (refunds.go); nil refunds nothing: such a payment is left
	// for an operator.
	Refunds LateRefunder
	// Cancels cancels at the provider the payment of an order the sweeper
	// cancels for want of an answer, so the shopper can no longer pay it;
	// nil cancels none (a late payment is then refunded).
	Cancels PaymentCanceller
	metrics *metrics // set by New; nil counts nothing
}

// PaymentCanceller cancels an order's payment at the provider by its ref
// (stripepay.Provider does) and says what the payment is now:
// checkout.PaymentFailed once cancelled, checkout.PaymentPaid when it was
// paid meanwhile (and so not cancelled), checkout.PaymentPending when it
// cannot be cancelled yet, checkout.PaymentUnknown when the provider does
// not know it.
type PaymentCanceller interface {
	CancelPayment(ctx context.Context, ref string, orderID int64) (string, error)
}

// NewPaymentSettler returns a settler with the default timeout that asks
// payments about the orders whose answer is late.
func NewPaymentSettler(db *sqlx.DB, stock StockReturner, notifier OrderNotifier, payments PaymentProvider, log *slog.Logger) *PaymentSettler {
	return &PaymentSettler{db: db, stock: stock, notifier: notifier, payments: payments, log: log, Timeout: 10 * time.Minute}
}

// Handle settles the payment results of one message: the paid ones first,
// in one transaction, then the failed ones one by one (each gives stock
// back). Settling is idempotent, so a message retried after a passing
// failure settles nothing twice. A failed payment no retry can settle (of
// an order nobody has) does not hold back the others in its message: the
// message goes to the poison topic for an operator once every other result
// is settled. A success for an unknown order changes nothing, as before. A
// result whose sale or reservation is not its order's (ErrResultMismatch)
// settles nothing, and goes the way of an unsettled failure.
func (p *PaymentSettler) Handle(msg *message.Message) error {
	results, err := orderstream.DecodePaymentResults(msg.Payload)
	if err != nil {
		return fmt.Errorf("decode payment results %s: %w: %w", msg.UUID, errPermanent, err)
	}
	results, unsettled, err := p.matching(msg.Context(), results)
	if err != nil {
		return err
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
	refused, err := p.refundLate(msg.Context(), results)
	if err != nil {
		return err
	}
	unsettled = append(unsettled, refused...)
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

// matching splits results into those that may be applied (their order's
// sale and reservation are theirs, or their order is unknown, which
// settling deals with) and the errors of those that may not. An order's
// sale and reservation never change once written, so checking before the
// update is enough.
func (p *PaymentSettler) matching(ctx context.Context, results []orderstream.PaymentResult) ([]orderstream.PaymentResult, []error, error) {
	ids := make([]int64, len(results))
	for i, r := range results {
		ids[i] = r.OrderID
	}
	var rows []struct {
		ID            int64  `db:"id"`
		SaleID        string `db:"sale_id"`
		ReservationID string `db:"reservation_id"`
	}
	if err := p.db.SelectContext(ctx, &rows, `SELECT id, sale_id, reservation_id FROM orders WHERE id = ANY($1)`,
		pq.Array(ids)); err != nil {
		return nil, nil, fmt.Errorf("read the orders of %d payment results: %w", len(ids), err)
	}
	type owner struct{ sale, reservation string }
	owners := make(map[int64]owner, len(rows))
	for _, o := range rows {
		owners[o.ID] = owner{o.SaleID, o.ReservationID}
	}
	var ok []orderstream.PaymentResult
	var refused []error
	for _, r := range results {
		o, known := owners[r.OrderID]
		if known && (o.sale != r.SaleID || o.reservation != r.ReservationID) {
			p.log.Warn("payment result does not match its order; ignored", "order", r.OrderID,
				"sale", o.sale, "reservation", o.reservation, "result_sale", r.SaleID,
				"result_reservation", r.ReservationID, "status", r.Status)
			refused = append(refused, fmt.Errorf("order %d (sale %s, reservation %s) got a result for sale %s, reservation %s: %w: %w",
				r.OrderID, o.sale, o.reservation, r.SaleID, r.ReservationID, errPermanent, ErrResultMismatch))
			continue
		}
		ok = append(ok, r)
	}
	return ok, refused, nil
}

// settledOrder is what settling needs to know of an order.
type settledOrder struct {
	Txn           string `db:"transaction_id"`
	SaleID        string `db:"sale_id"`
	ReservationID string `db:"reservation_id"`
	ShopperID     string `db:"shopper_id"`
	Quantity      int    `db:"quantity"`
	Status        string `db:"status"`
	// EventSKU is the product of an event's order (eventSKUColumn), told
	// with its news; "" for a single-product sale's, or where not read.
	EventSKU string `db:"event_sku"`
}

// paidOrder is an order markPaid announces paid.
type paidOrder struct {
	ID int64 `db:"id"`
	settledOrder
}

// eventSKUColumn reads, with an order o, the sku of the event product it
// bought: "" for a single-product sale's order, whose sku (its sale's own)
// has no row in sale_products, so that its news stays as it was.
const eventSKUColumn = `coalesce((SELECT sp.sku FROM sale_products sp WHERE sp.sale_id = o.sale_id AND sp.sku = o.sku), '') AS event_sku`

// settledColumns is what an UPDATE of orders o FROM sales s returns of
// each order it settled: the order as the events recorded with it tell it.
const settledColumns = `o.id, o.sale_id, o.reservation_id, o.transaction_id, o.shopper_id,
	coalesce(o.customer_id, '') AS customer_id, o.quantity, o.price_cents, s.currency, o.status,
	coalesce(o.shop_order_ref, '') AS shop_order_ref, coalesce(o.sku, s.sku, '') AS sku,
	coalesce((SELECT sp.name FROM sale_products sp WHERE sp.sale_id = o.sale_id AND sp.sku = o.sku), s.name) AS product_name`

// markPaid marks the orders paid that still wait for their payment, and
// tells their shoppers; an order paid already, or cancelled first, is left
// as it is: a late success changes nothing.
func (p *PaymentSettler) markPaid(ctx context.Context, orderIDs []int64) error {
	if len(orderIDs) == 0 {
		return nil
	}
	start := time.Now()
	var marked []struct {
		orderstream.Order
		EventSKU string `db:"event_sku"`
	}
	if err := pgtx.InTx(ctx, p.db, func(tx *sqlx.Tx) error {
		if err := tx.SelectContext(ctx, &marked, `UPDATE orders o SET status = 'paid' FROM sales s
			WHERE s.id = o.sale_id AND o.id = ANY($1) AND o.status = 'pending_payment'
			RETURNING `+settledColumns+`, `+eventSKUColumn, pq.Array(orderIDs)); err != nil {
			return err
		}
		if p.Events == nil || len(marked) == 0 {
			return nil
		}
		settled := make([]orderstream.Order, len(marked))
		for i, m := range marked {
			settled[i] = m.Order
		}
		return p.Events.OrdersSettled(ctx, tx, settled)
	}); err != nil {
		return fmt.Errorf("mark %d orders paid: %w", len(orderIDs), err)
	}
	p.metrics.timed("mark_paid", start)
	p.metrics.ordersSettled(OrderPaid, len(marked))
	// Every paid one is announced, not only those this call marked: a
	// delivery that failed after the commit is retried, and its shoppers
	// must still hear. Announcing twice is harmless. When this call marked
	// them all (nearly always), what it marked is what to announce; else
	// the paid ones are read again.
	var orders []paidOrder
	if len(marked) == len(orderIDs) {
		for _, m := range marked {
			orders = append(orders, paidOrder{m.ID, settledOrder{Txn: m.TransactionID, SaleID: m.SaleID,
				ReservationID: m.ReservationID, ShopperID: m.ShopperID, Quantity: m.Quantity, Status: m.Status, EventSKU: m.EventSKU}})
		}
	} else if err := p.db.SelectContext(ctx, &orders, `SELECT id, transaction_id, sale_id, reservation_id, shopper_id, quantity, status,
		`+eventSKUColumn+` FROM orders o WHERE id = ANY($1) AND status = 'paid'`, pq.Array(orderIDs)); err != nil {
		return fmt.Errorf("read %d paid orders: %w", len(orderIDs), err)
	}
	events := map[string][]waitingroom.OrderEvent{}
	for _, o := range orders {
		p.log.Info("order paid", "order", o.ID, "sale", o.SaleID, "shopper", o.ShopperID, "reservation", o.ReservationID, "txn", o.Txn)
		events[o.SaleID] = append(events[o.SaleID], waitingroom.OrderEvent{
			Shopper: o.ShopperID, Reservation: o.ReservationID, OrderID: o.ID, Status: OrderPaid,
			SKU: o.EventSKU, Quantity: eventQuantity(o.EventSKU, o.Quantity)})
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
	start, cancelledNow := time.Now(), 0
	tx, err := p.db.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin cancel of order %d: %w", orderID, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	var o settledOrder
	var cancelled struct {
		orderstream.Order
		EventSKU string `db:"event_sku"`
	}
	err = tx.GetContext(ctx, &cancelled, `UPDATE orders o SET status = 'cancelled' FROM sales s
		WHERE s.id = o.sale_id AND o.id = $1 AND o.status = 'pending_payment' RETURNING `+settledColumns+`, `+eventSKUColumn, orderID)
	o = settledOrder{Txn: cancelled.TransactionID, SaleID: cancelled.SaleID, ReservationID: cancelled.ReservationID,
		ShopperID: cancelled.ShopperID, Quantity: cancelled.Quantity, Status: cancelled.Status, EventSKU: cancelled.EventSKU}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if err := tx.GetContext(ctx, &o, `SELECT transaction_id, sale_id, reservation_id, shopper_id, quantity, status,
			`+eventSKUColumn+` FROM orders o WHERE id = $1`, orderID); err != nil {
			return fmt.Errorf("find order %d: %w: %w", orderID, errPermanent, err)
		}
		if o.Status != OrderCancelled {
			return nil // paid first: a late failure changes nothing
		}
	case err != nil:
		return fmt.Errorf("cancel order %d: %w", orderID, err)
	default:
		cancelledNow = 1
		if _, err := tx.ExecContext(ctx, `UPDATE sales SET sold = sold - $2 WHERE id = $1`, o.SaleID, o.Quantity); err != nil {
			return fmt.Errorf("lower sold of sale %s: %w", o.SaleID, err)
		}
		// An event's order gives its units back to its product too (no
		// row: a single-product sale's, nothing to do).
		if _, err := tx.ExecContext(ctx, `UPDATE sale_products p SET sold = p.sold - o.quantity FROM orders o
			WHERE o.id = $1 AND p.sale_id = o.sale_id AND p.sku = o.sku`, orderID); err != nil {
			return fmt.Errorf("lower sold of product of sale %s: %w", o.SaleID, err)
		}
		if p.Events != nil {
			if err := p.Events.OrdersSettled(ctx, tx, []orderstream.Order{cancelled.Order}); err != nil {
				return err
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit cancel of order %d: %w", orderID, err)
	}
	p.metrics.timed("cancel", start)
	p.metrics.ordersSettled(OrderCancelled, cancelledNow)
	if err := p.stock.Refund(ctx, o.SaleID, o.ReservationID, o.Quantity); err != nil {
		return err
	}
	p.log.Info("order cancelled, stock returned", "order", orderID, "sale", o.SaleID, "shopper", o.ShopperID,
		"reservation", o.ReservationID, "why", why, "txn", o.Txn)
	return p.announce(ctx, orderID, o, OrderCancelled)
}

func (p *PaymentSettler) announce(ctx context.Context, orderID int64, o settledOrder, status string) error {
	return p.notifier.AnnounceOrders(ctx, o.SaleID, []waitingroom.OrderEvent{{
		Shopper: o.ShopperID, Reservation: o.ReservationID, OrderID: orderID, Status: status,
		SKU: o.EventSKU, Quantity: eventQuantity(o.EventSKU, o.Quantity),
	}})
}

// eventQuantity is the units an order's news tells: an event's order's
// (sku), none for a single-product sale's, whose news stays as it was.
func eventQuantity(sku string, quantity int) int {
	if sku == "" {
		return 0
	}
	return quantity
}

// SweepTimedOut settles the orders that waited longer than Timeout for
// their payment, and returns how many it settled. It asks the provider
// first, so a payment whose webhook was lost is not cancelled: paid makes
// the order paid, failed cancels it, pending cancels it too: its unit is
// held for nobody. With Cancels, a pending payment that has a ref is
// cancelled at the provider first (cancelAtProvider), so the shopper cannot
// pay it any more; without, a payment that still succeeds later is a late
// success, which changes nothing but a refund (refunds.go).
//
// Unknown is not an answer: a provider that never heard of an order it was
// asked to charge has lost track (asked through another account, or its
// record not yet written), and cancelling then could cancel a paid order.
// It counts as a provider that cannot be asked: the order gets one more
// Timeout, and only then is it cancelled all the same, with a warning, since
// holding its unit for ever is worse for every other shopper.
func (p *PaymentSettler) SweepTimedOut(ctx context.Context) (int, error) {
	var late []struct {
		ID         int64  `db:"id"`
		PaymentRef string `db:"payment_ref"`
		VeryLate   bool   `db:"very_late"`
	}
	err := p.db.SelectContext(ctx, &late, `SELECT id, coalesce(payment_ref, '') AS payment_ref, created_at < now() - make_interval(secs => $1::float8 * 2) AS very_late
		FROM orders WHERE status = 'pending_payment'
		AND created_at < now() - make_interval(secs => $1) ORDER BY id LIMIT 500`, p.Timeout.Seconds())
	if err != nil {
		return 0, fmt.Errorf("find timed-out payments: %w", err)
	}
	settled := 0
	for _, o := range late {
		status, err := p.payments.Status(ctx, o.ID, o.PaymentRef)
		if err != nil && ctx.Err() != nil {
			return settled, ctx.Err()
		}
		if err != nil || status == checkout.PaymentUnknown {
			if !o.VeryLate {
				p.log.Warn("the payment provider cannot say what became of a late order; asked again next sweep",
					"order", o.ID, "status", status, "err", err)
				continue
			}
			p.log.Warn("the payment provider still cannot say what became of an order after twice its timeout; cancelling it",
				"order", o.ID, "status", status, "err", err)
			status = checkout.PaymentUnknown
		}
		if status == checkout.PaymentPending && o.PaymentRef != "" && p.Cancels != nil {
			status, err = p.cancelAtProvider(ctx, o.ID, o.PaymentRef, o.VeryLate)
			if err != nil {
				return settled, err
			}
			if status == "" {
				continue // asked again next sweep
			}
		}
		switch status {
		case checkout.PaymentPaid:
			p.log.Warn("payment paid at the provider, its webhook never came: order paid", "order", o.ID)
			err = p.markPaid(ctx, []int64{o.ID})
		case checkout.PaymentFailed:
			err = p.cancel(ctx, o.ID, "payment failed (provider's status)")
		default:
			err = p.cancel(ctx, o.ID, "payment timed out ("+status+" at the provider)")
		}
		if err != nil {
			return settled, err
		}
		settled++
	}
	return settled, nil
}

// cancelAtProvider cancels the payment of an order about to be cancelled
// for want of an answer, and answers the status to settle it by: paid when
// the payment succeeded meanwhile (a paid order is never cancelled), failed
// once it is cancelled, or "" to leave the order for the next sweep when
// the provider could not cancel it (unreachable, or the payment is being
// processed) and the order is not yet twice its timeout late. Past that
// the order is cancelled all the same, as for a provider that cannot say:
// a payment that still succeeds is a late success, refunded.
func (p *PaymentSettler) cancelAtProvider(ctx context.Context, orderID int64, ref string, veryLate bool) (string, error) {
	status, err := p.Cancels.CancelPayment(ctx, ref, orderID)
	if err != nil && ctx.Err() != nil {
		return "", ctx.Err()
	}
	if err == nil && status != checkout.PaymentPending {
		if status == checkout.PaymentUnknown {
			status = checkout.PaymentFailed // no such payment: nobody can pay it
		}
		return status, nil
	}
	if !veryLate {
		p.log.Warn("could not cancel a late order's payment at the provider; asked again next sweep",
			"order", orderID, "payment", ref, "status", status, "err", err)
		return "", nil
	}
	p.log.Warn("still could not cancel an order's payment after twice its timeout; cancelling the order",
		"order", orderID, "payment", ref, "status", status, "err", err)
	return checkout.PaymentPending, nil
}

// runSweeper sweeps every quarter of Timeout until ctx ends.
func (p *PaymentSettler) runSweeper(ctx context.Context) {
	clock.Every(ctx, max(p.Timeout/4, 100*time.Millisecond), func(ctx context.Context) {
		if _, err := p.SweepTimedOut(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("payment timeout sweep failed", "err", err)
		}
	})
}

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
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/internal/wire"
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
// signed webhook. Charge returns the provider's own id of the payment (a
// Stripe PaymentIntent's), which the worker stores with the order as its
// payment_ref ("": none), and the client secret the shopper's page pays
// with ("": none), which the worker hands to the shopper's tabs in the
// order's announcement and nowhere else. Status says what it decided about an order's
// payment (checkout.PaymentPaid, PaymentFailed, PaymentPending or
// PaymentUnknown), found by that ref, or by the order when ref is "": the
// settler asks it before cancelling an order whose webhook never came, so a
// payment that succeeded is not cancelled for a lost webhook.
type PaymentProvider interface {
	Charge(ctx context.Context, c checkout.Charge) (checkout.Payment, error)
	Status(ctx context.Context, orderID int64, ref string) (string, error)
}

// OrderEvents records what became of orders in the transaction that made
// it so (internal/webhooks does, for the shop's webhooks): an event commits
// with its change or not at all. OrdersWritten is given the orders a
// transaction inserted, OrdersSettled those it marked paid or cancelled,
// each as the transaction left it: the recorder need not read them back.
type OrderEvents interface {
	OrdersWritten(ctx context.Context, tx *sqlx.Tx, orders []orderstream.Order) error
	OrdersSettled(ctx context.Context, tx *sqlx.Tx, orders []orderstream.Order) error
}

// PaymentSecrets keeps the client secrets of pending orders, by sale and
// reservation, for their shoppers' reconnecting tabs
// (checkout.PaymentSecrets, in Redis).
type PaymentSecrets interface {
	Keep(ctx context.Context, saleID string, secrets map[string]string) error
}

// OrderWriter is the Watermill handler that writes orders.
type OrderWriter struct {
	db       *sqlx.DB
	notifier OrderNotifier
	payments PaymentProvider
	log      *slog.Logger
	// Events records the orders written; nil records nothing.
	Events  OrderEvents
	metrics *metrics // set by New; nil counts nothing
	// Secrets keeps the client secrets a provider's charges answer, so a
	// page reloaded while paying can pay still. Defaults to nil: none kept
	// (such a page is told pending_payment without the secret).
	Secrets PaymentSecrets
}

// NewOrderWriter returns a handler writing to db, asking payments for the
// money and telling notifier.
func NewOrderWriter(db *sqlx.DB, notifier OrderNotifier, payments PaymentProvider, log *slog.Logger) *OrderWriter {
	return &OrderWriter{db: db, notifier: notifier, payments: payments, log: log}
}

// The statuses of an order: written as pending payment, then paid, or
// cancelled (payment failed or timed out; its stock went back to the sale).
const (
	OrderPendingPayment = wire.OrderPendingPayment
	OrderPaid           = wire.OrderPaid
	OrderCancelled      = wire.OrderCancelled
)

// Handle writes the orders of the confirmations one message carries (one,
// or a gateway's batch) in one transaction, asks for their payment, and
// tells their shoppers.
func (w *OrderWriter) Handle(msg *message.Message) error {
	batch, err := orderstream.DecodeConfirmations(msg.Payload)
	if err != nil {
		return fmt.Errorf("message %s: %w: %w", msg.UUID, errPermanent, err)
	}
	ctx := msg.Context()
	written, err := w.write(ctx, batch)
	if err != nil {
		return err
	}
	events := map[string][]waitingroom.OrderEvent{}
	refs := map[int64]string{}
	for i, c := range batch {
		o := written[i]
		w.metrics.ordersHandled(o.Status)
		w.log.Info("order written", "sale", c.SaleID, "shopper", c.ShopperID, "reservation", c.ReservationID, "order", o.ID,
			"status", o.Status, "txn", c.Txn)
		secret := ""
		if o.Status == OrderPendingPayment {
			// Asked again on a redelivery: providers charge an order once,
			// and answer the same payment (and secret) again.
			charge := checkout.Charge{OrderID: o.ID, SaleID: c.SaleID, ReservationID: c.ReservationID,
				AmountCents: c.PriceCents * int64(c.Quantity), Currency: c.Currency, TransactionID: c.Txn}
			payment, err := w.payments.Charge(ctx, charge)
			if payment.Ref != "" {
				refs[o.ID] = payment.Ref
			}
			secret = payment.ClientSecret
			if errors.Is(err, checkout.ErrChargeRefused) {
				// No retry can charge it: its payment times out, and the
				// unit goes back, without holding up the batch's others.
				w.log.Warn("payment provider refused the charge; the order is cancelled when its payment times out",
					"order", o.ID, "sale", c.SaleID, "err", err, "txn", c.Txn)
			} else if err != nil {
				return fmt.Errorf("charge order %d: %w", o.ID, err)
			}
		}
		events[c.SaleID] = append(events[c.SaleID], waitingroom.OrderEvent{
			Shopper: c.ShopperID, Reservation: c.ReservationID, OrderID: o.ID, Status: o.Status, PaymentSecret: secret,
			SKU: c.SKU, Quantity: eventQuantity(c.SKU, c.Quantity)})
	}
	if err := w.storePaymentRefs(ctx, refs); err != nil {
		return err
	}
	w.keepSecrets(ctx, events)
	// The rows are committed: a failed announcement only delays the
	// shoppers' pages, which also learn the status on reconnect. Retrying the
	// whole message would announce again, harmlessly, so let it.
	for saleID, evs := range events {
		if err := w.notifier.AnnounceOrders(ctx, saleID, evs); err != nil {
			return err
		}
	}
	return nil
}

// keepSecrets keeps the payment secrets of the orders about to be
// announced. A failure is logged (without the secrets) and let go: the
// tabs open now are told the secret all the same; only a page reloaded
// while paying misses it, which retrying the whole message (charging and
// announcing again) would not be worth.
func (w *OrderWriter) keepSecrets(ctx context.Context, events map[string][]waitingroom.OrderEvent) {
	if w.Secrets == nil {
		return
	}
	for saleID, evs := range events {
		secrets := map[string]string{}
		for _, e := range evs {
			if e.PaymentSecret != "" {
				secrets[e.Reservation] = e.PaymentSecret
			}
		}
		if err := w.Secrets.Keep(ctx, saleID, secrets); err != nil {
			w.log.Warn("payment secrets not kept; a page reloaded while paying cannot pay", "sale", saleID,
				"orders", len(secrets), "err", err)
		}
	}
}

// writtenOrder is an order row as the batch found or made it.
type writtenOrder struct {
	ReservationID string `db:"reservation_id"`
	ID            int64  `db:"id"`
	Status        string `db:"status"`
	// SKU and ProductName are read back from an inserted row alone, for
	// its events; an order found written before has none here.
	SKU         sql.NullString `db:"sku"`
	ProductName sql.NullString `db:"product_name"`
}

// insertOrdersSQL writes a batch in one statement; rows an earlier delivery
// wrote are skipped by the unique reservation id. An empty shop order
// reference or customer id is stored as NULL; an empty sku (a
// single-product sale's confirmation) is the sale's own.
const insertOrdersSQL = `
INSERT INTO orders (sale_id, reservation_id, shopper_id, transaction_id, quantity, price_cents, status, confirmed_at,
                    shop_order_ref, customer_id, sku)
SELECT b.s, r, sh, t, q, p, st, c, NULLIF(ref, ''), NULLIF(cu, ''), COALESCE(NULLIF(b.sku, ''), sales.sku)
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::bigint[], $7::text[], $8::timestamptz[],
            $9::text[], $10::text[], $11::text[]) AS b(s, r, sh, t, q, p, st, c, ref, cu, sku)
     LEFT JOIN sales ON sales.id = b.s
ON CONFLICT (reservation_id) DO NOTHING
RETURNING reservation_id, id, status, sku, ` + productNameOfOrder

// productNameOfOrder is, in a statement on orders, the name of the order's
// product, for its webhooks: an event's product's (by sale_products'
// primary key), a single-product sale's own name.
const productNameOfOrder = `(SELECT COALESCE(sp.name, s.name) FROM sales s
	LEFT JOIN sale_products sp ON sp.sale_id = s.id AND sp.sku = orders.sku WHERE s.id = orders.sale_id) AS product_name`

const raiseSoldSQL = `UPDATE sales SET sold = sold + $2 WHERE id = $1 AND sold + $2 <= stock`

// raiseProductSoldSQL is raiseSoldSQL for one product of an event: each
// product's sold count is guarded by its own stock (docs/products.md).
const raiseProductSoldSQL = `UPDATE sale_products SET sold = sold + $3 WHERE sale_id = $1 AND sku = $2 AND sold + $3 <= stock`

// writtenOrders gives the orders inserted, in the batch's order, from what
// the batch said of them and what the insert returned.
func writtenOrders(batch []orderstream.ReservationConfirmed, inserted []writtenOrder, quantities []int64) []orderstream.Order {
	byReservation := make(map[string]writtenOrder, len(inserted))
	for _, o := range inserted {
		byReservation[o.ReservationID] = o
	}
	out := make([]orderstream.Order, 0, len(inserted))
	for i, c := range batch {
		o, ok := byReservation[c.ReservationID]
		if !ok {
			continue // written by an earlier delivery, its events with it
		}
		delete(byReservation, c.ReservationID) // a reservation twice in one batch is one order
		out = append(out, orderstream.Order{ID: o.ID, SaleID: c.SaleID, ReservationID: c.ReservationID,
			TransactionID: c.Txn, ShopperID: c.ShopperID, CustomerID: c.CustomerID, Quantity: int(quantities[i]),
			PriceCents: c.PriceCents, Currency: c.Currency, Status: o.Status, ShopOrderRef: c.ShopOrderRef,
			SKU: o.SKU.String, ProductName: o.ProductName.String})
	}
	return out
}

// write inserts the batch's orders and raises each sale's sold count in one
// transaction, and finds the orders earlier deliveries wrote. It returns the
// orders in the batch's order.
func (w *OrderWriter) write(ctx context.Context, batch []orderstream.ReservationConfirmed) ([]writtenOrder, error) {
	n := len(batch)
	sales, ids, shoppers, txns := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	quantities, prices := make([]int64, n), make([]int64, n)
	statuses, at := make([]string, n), make([]time.Time, n)
	refs, customers, skus := make([]string, n), make([]string, n), make([]string, n)
	for i, c := range batch {
		skus[i] = c.SKU
		sales[i], ids[i], shoppers[i], txns[i] = c.SaleID, c.ReservationID, c.ShopperID, c.Txn
		quantities[i], prices[i] = int64(max(c.Quantity, 1)), c.PriceCents
		statuses[i], at[i] = OrderPendingPayment, c.ConfirmedAt
		if c.Redeemed() {
			// The shop took the money before it redeemed: paid, and
			// never charged (Handle charges pending orders only).
			statuses[i] = OrderPaid
		}
		refs[i], customers[i] = c.ShopOrderRef, c.CustomerID
	}
	defer w.metrics.timed("write_orders", time.Now())
	tx, err := w.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin %d orders: %w", n, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit

	var inserted []writtenOrder
	err = tx.SelectContext(ctx, &inserted, insertOrdersSQL, pq.Array(sales), pq.Array(ids), pq.Array(shoppers),
		pq.Array(txns), pq.Array(quantities), pq.Array(prices), pq.Array(statuses), pq.Array(at),
		pq.Array(refs), pq.Array(customers), pq.Array(skus))
	if err != nil {
		return nil, fmt.Errorf("insert %d orders: %w", n, err)
	}
	fresh := make(map[string]bool, len(inserted))
	for _, o := range inserted {
		fresh[o.ReservationID] = true
	}
	raise := map[string]int64{}
	type product struct{ sale, sku string }
	raiseProduct := map[product]int64{}
	for i, c := range batch {
		if fresh[c.ReservationID] {
			raise[c.SaleID] += quantities[i]
			if c.SKU != "" {
				raiseProduct[product{c.SaleID, c.SKU}] += quantities[i]
			}
		}
	}
	for p, q := range raiseProduct {
		res, err := tx.ExecContext(ctx, raiseProductSoldSQL, p.sale, p.sku, q)
		if err != nil {
			return nil, fmt.Errorf("raise sold of product %s of sale %s: %w", p.sku, p.sale, err)
		}
		if rows, _ := res.RowsAffected(); rows != 1 {
			return nil, fmt.Errorf("%d units of product %s of sale %s: %w", q, p.sku, p.sale, ErrOversell)
		}
	}
	for saleID, q := range raise {
		res, err := tx.ExecContext(ctx, raiseSoldSQL, saleID, q)
		if err != nil {
			return nil, fmt.Errorf("raise sold of sale %s: %w", saleID, err)
		}
		if rows, _ := res.RowsAffected(); rows != 1 {
			return nil, fmt.Errorf("%d units of sale %s: %w", q, saleID, ErrOversell)
		}
	}
	if w.Events != nil && len(inserted) > 0 {
		if err := w.Events.OrdersWritten(ctx, tx, writtenOrders(batch, inserted, quantities)); err != nil {
			return nil, err
		}
	}
	var all []writtenOrder
	if len(inserted) == n {
		all = inserted
	} else if err := tx.SelectContext(ctx, &all, `SELECT reservation_id, id, status FROM orders
		WHERE reservation_id = ANY($1)`, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("find %d orders: %w", n, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit %d orders: %w", n, err)
	}
	byID := make(map[string]writtenOrder, len(all))
	for _, o := range all {
		byID[o.ReservationID] = o
	}
	out := make([]writtenOrder, n)
	for i, c := range batch {
		o, ok := byID[c.ReservationID]
		if !ok {
			return nil, fmt.Errorf("order %s vanished: %w", c.ReservationID, errPermanent)
		}
		out[i] = o
	}
	return out, nil
}

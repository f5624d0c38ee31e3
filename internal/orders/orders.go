// Package orders reads a sale's orders for the shop's back office: a page at
// a time for the admin API, or every one as a stream for the CSV download.
// It only reads; the order workers (package worker) write the rows. It
// promises keyset pagination: a page starts after the last order of the one
// before, by id, so orders written while an operator pages through appear
// once or not at all, never twice, and no order is skipped that was there
// when the walk began.
package orders

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/foyerhq/foyer/internal/paging"
	"github.com/foyerhq/foyer/internal/wire"
)

// ErrBadQuery means a filter, limit or cursor could not be understood:
// nothing was read.
var ErrBadQuery = errors.New("bad orders query")

// Statuses are the statuses an order row can have, as the order workers
// write them.
var Statuses = []string{wire.OrderPendingPayment, wire.OrderPaid, wire.OrderCancelled}

// Limits of a page. DefaultLimit is what a request without limit gets;
// MaxLimit bounds what one request may ask for (the CSV download has no
// bound: it streams).
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// Order is one order as the shop sees it.
type Order struct {
	ID            int64  `db:"id" json:"-"`
	ReservationID string `db:"reservation_id" json:"reservation_id"`
	TransactionID string `db:"transaction_id" json:"transaction_id"`
	// CustomerID is the shop's own customer id of a shopper signed in with
	// the shop's identity token, and the shopper id of an anonymous one.
	CustomerID  string    `db:"customer_id" json:"customer_id"`
	Quantity    int       `db:"quantity" json:"quantity"`
	AmountCents int64     `db:"amount_cents" json:"amount_cents"` // unit price × quantity
	Currency    string    `db:"currency" json:"currency"`
	Status      string    `db:"status" json:"status"`
	ConfirmedAt time.Time `db:"confirmed_at" json:"confirmed_at"`
	CreatedAt   time.Time `db:"created_at" json:"created_at"`
	// ShopOrderRef is the shop's own order reference, given when the shop
	// redeems the reservation; null for Foyer's checkout.
	ShopOrderRef *string `db:"shop_order_ref" json:"shop_order_ref"`
	// SKU is the product the order bought: an event's product, or the
	// sale's own sku (an order written before events has none stored: its
	// sale's is its).
	SKU string `db:"sku" json:"sku"`
	// ProductName is that product's name: the event's product's, or a
	// single-product sale's name.
	ProductName string `db:"product_name" json:"product_name"`
	// PaymentRef is the payment provider's id of the order's payment (a
	// Stripe PaymentIntent's, pi_...), to find it in the provider's
	// dashboard; null for an order redeemed by the shop, or not charged.
	PaymentRef *string `db:"payment_ref" json:"payment_ref"`
}

// Query says which orders to read. The zero Query reads every status from
// the start, DefaultLimit at a time.
type Query struct {
	Statuses []string // empty: every status
	Limit    int
	After    int64 // the id of the last order already read; 0: from the start
}

// ParseQuery reads a query from the admin API's parameters: status (a comma
// list of Statuses), limit (1..MaxLimit) and cursor (from a previous page).
// Anything else it cannot read is ErrBadQuery.
func ParseQuery(status, limit, cursor string) (Query, error) {
	q, err := paging.Rules{Statuses: Statuses, DefaultLimit: DefaultLimit, MaxLimit: MaxLimit, Bad: ErrBadQuery}.
		Parse(status, limit, cursor)
	if err != nil {
		return Query{}, err
	}
	return Query{Statuses: q.Statuses, Limit: q.Limit, After: q.Cursor}, nil
}

// Page is one page of orders, and the cursor of the next (nil: no more).
type Page struct {
	Orders     []Order `json:"orders"`
	NextCursor *string `json:"next_cursor"`
}

// Reader reads orders from Postgres.
type Reader struct{ db *sqlx.DB }

// NewReader reads orders from db.
func NewReader(db *sqlx.DB) *Reader { return &Reader{db: db} }

// selectOrdersSQL reads a sale's orders after an id, by id, with the sale's
// currency; $3 is the statuses wanted (empty: all) and $4 the most rows
// (NULL: no bound). The index orders_sale_id_id (migration 00008) serves it
// without a sort. customer_id is the shop's own customer id when the shopper
// signed in with the shop's identity token, its shopper id otherwise;
// shop_order_ref is set for a reservation the shop redeemed, payment_ref
// for one Foyer charged. An event's order's product name is its row of
// sale_products (by its primary key); a single-product sale's is the sale's.
const selectOrdersSQL = `
SELECT o.id, o.reservation_id, o.transaction_id, COALESCE(o.customer_id, o.shopper_id) AS customer_id, o.quantity,
       o.price_cents * o.quantity AS amount_cents, s.currency, o.status, o.confirmed_at, o.created_at,
       o.shop_order_ref, o.payment_ref, COALESCE(o.sku, s.sku) AS sku, COALESCE(sp.name, s.name) AS product_name
FROM orders o JOIN sales s ON s.id = o.sale_id
     LEFT JOIN sale_products sp ON sp.sale_id = o.sale_id AND sp.sku = o.sku
WHERE o.sale_id = $1 AND o.id > $2 AND (cardinality($3::text[]) = 0 OR o.status = ANY($3))
ORDER BY o.id
LIMIT $4`

// Page reads one page of a sale's orders. It reads one row more than asked
// to learn whether another page follows.
func (r *Reader) Page(ctx context.Context, saleID string, q Query) (Page, error) {
	limit := q.Limit
	if limit < 1 {
		limit = DefaultLimit
	}
	var rows []Order
	if err := r.db.SelectContext(ctx, &rows, selectOrdersSQL,
		saleID, q.After, pq.Array(q.statuses()), limit+1); err != nil {
		return Page{}, fmt.Errorf("read orders of %s: %w", saleID, err)
	}
	p := Page{Orders: rows}
	if len(rows) > limit {
		p.Orders = rows[:limit]
		next := paging.EncodeCursor(p.Orders[limit-1].ID)
		p.NextCursor = &next
	}
	if p.Orders == nil {
		p.Orders = []Order{} // a JSON list, never null
	}
	return p, nil
}

// Each calls fn with every order of the sale that q's statuses match, in
// order, as the rows arrive: memory stays bounded however many there are.
// An error from fn stops the walk and is returned.
func (r *Reader) Each(ctx context.Context, saleID string, q Query, fn func(Order) error) error {
	rows, err := r.db.QueryxContext(ctx, selectOrdersSQL, saleID, q.After, pq.Array(q.statuses()), nil)
	if err != nil {
		return fmt.Errorf("read orders of %s: %w", saleID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var o Order
		if err := rows.StructScan(&o); err != nil {
			return fmt.Errorf("read an order of %s: %w", saleID, err)
		}
		if err := fn(o); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read orders of %s: %w", saleID, err)
	}
	return nil
}

func (q Query) statuses() []string {
	if q.Statuses == nil {
		return []string{}
	}
	return q.Statuses
}

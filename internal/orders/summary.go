package orders

import (
	"context"
	"fmt"

	"github.com/foyerhq/foyer/internal/wire"
)

// Tally is how many orders, and how much money, one state holds.
type Tally struct {
	Count       int64 `json:"count" db:"count"`
	AmountCents int64 `json:"amount_cents" db:"amount_cents"`
}

// PaymentSummary is where a sale's payments stand, from its orders: paid,
// failed (the order cancelled: its payment failed or timed out, its unit
// back in the sale), pending (waiting for the provider); and refunded, from
// the refunds Foyer made (migration 00017): payments that succeeded after
// their order was cancelled (those orders are counted in failed too) and
// those `foyer reconcile --payments --repair` refunded, with the money given
// back.
type PaymentSummary struct {
	SaleID   string `json:"sale_id"`
	Currency string `json:"currency"`
	Paid     Tally  `json:"paid"`
	Failed   Tally  `json:"failed"`
	Pending  Tally  `json:"pending"`
	Refunded Tally  `json:"refunded"`
}

// PaymentSummary counts a sale's orders by status in one pass of the
// orders_sale_id index. The caller checks the sale exists.
func (r *Reader) PaymentSummary(ctx context.Context, saleID string) (PaymentSummary, error) {
	var rows []struct {
		Status string `db:"status"`
		Tally
	}
	if err := r.db.SelectContext(ctx, &rows, `SELECT status, count(*) AS count,
		sum(price_cents * quantity) AS amount_cents FROM orders WHERE sale_id = $1 GROUP BY status`,
		saleID); err != nil {
		return PaymentSummary{}, fmt.Errorf("sum the payments of sale %s: %w", saleID, err)
	}
	sum := PaymentSummary{SaleID: saleID}
	if err := r.db.GetContext(ctx, &sum.Currency, `SELECT currency FROM sales WHERE id = $1`, saleID); err != nil {
		return PaymentSummary{}, fmt.Errorf("read the currency of sale %s: %w", saleID, err)
	}
	if err := r.db.GetContext(ctx, &sum.Refunded, `SELECT count(*) AS count, coalesce(sum(amount_cents), 0) AS amount_cents
		FROM refunds WHERE sale_id = $1`, saleID); err != nil {
		return PaymentSummary{}, fmt.Errorf("sum the refunds of sale %s: %w", saleID, err)
	}
	for _, row := range rows {
		switch row.Status {
		case wire.OrderPaid:
			sum.Paid = row.Tally
		case wire.OrderCancelled:
			sum.Failed = row.Tally
		case wire.OrderPendingPayment:
			sum.Pending = row.Tally
		}
	}
	return sum, nil
}

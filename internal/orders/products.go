package orders

import (
	"context"
	"fmt"

	"github.com/foyerhq/foyer/internal/wire"
)

// ProductFigures are one product of an event as its orders left it, for the
// post-sale report (docs/reports.md): its stock, the units its orders not
// cancelled hold (sale_products.sold, which the order worker raises with
// each order and a cancellation lowers), what is left of it, and the
// money its paid orders brought.
type ProductFigures struct {
	SKU          string `json:"sku" db:"sku"`
	Name         string `json:"name" db:"name"`
	Stock        int64  `json:"stock" db:"stock"`
	Sold         int64  `json:"sold" db:"sold"`
	Left         int64  `json:"left" db:"left"`
	RevenueCents int64  `json:"revenue_cents" db:"revenue_cents"`
}

// ProductFigures reads an event's products in the event's order, each with
// its paid orders summed in the same query; none for a single-product sale.
// A product's orders are found by the orders_sale_id index, as the
// payment summary's are: a report reads them once, never on a hot path.
func (r *Reader) ProductFigures(ctx context.Context, saleID string) ([]ProductFigures, error) {
	var out []ProductFigures
	if err := r.db.SelectContext(ctx, &out, `SELECT sp.sku, sp.name, sp.stock, sp.sold, sp.stock - sp.sold AS left,
		COALESCE((SELECT sum(o.price_cents * o.quantity) FROM orders o WHERE o.sale_id = sp.sale_id
			AND o.sku = sp.sku AND o.status = $2), 0) AS revenue_cents
		FROM sale_products sp WHERE sp.sale_id = $1 ORDER BY sp.position`, saleID, wire.OrderPaid); err != nil {
		return nil, fmt.Errorf("sum the products of sale %s: %w", saleID, err)
	}
	return out, nil
}

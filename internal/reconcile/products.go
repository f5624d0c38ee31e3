package reconcile

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/waitingroom"
)

// An event's products each have three counts of what sold
// (docs/products.md): its sold in Redis (confirm.lua raises it, refund.lua
// lowers it), sale_products.sold (the order worker raises it with the
// order), and the quantities of its orders not cancelled. Reconcile lays
// them side by side per product, beside the pool's checks, so a product
// that could sell again what Postgres holds as sold is named.

// pgProduct is what Postgres says of one product of an event.
type pgProduct struct {
	SKU       string `db:"sku"`
	Stock     int64  `db:"stock"`
	Sold      int64  `db:"sold"`
	OrderSold int64  `db:"order_sold"` // quantities of the product's orders not cancelled
}

// pgProducts reads an event's products in their order; none for a
// single-product sale.
func (r *Reconciler) pgProducts(ctx context.Context, saleID string) ([]pgProduct, error) {
	var out []pgProduct
	err := r.db.SelectContext(ctx, &out, `SELECT sp.sku, sp.stock, sp.sold,
		COALESCE((SELECT sum(quantity) FROM orders o WHERE o.sale_id = sp.sale_id AND o.sku = sp.sku
			AND o.status <> 'cancelled'), 0) AS order_sold
		FROM sale_products sp WHERE sp.sale_id = $1 ORDER BY sp.position`, saleID)
	if err != nil {
		return nil, fmt.Errorf("read products of sale %s: %w", saleID, err)
	}
	return out, nil
}

// redisProduct is what Redis says of one product of an event.
type redisProduct struct {
	stock, left, sold int64
}

// readProducts queues, in the caller's transaction, the read of each
// product's counts; the returned func decodes them once it has run.
func readProducts(ctx context.Context, p redis.Pipeliner, saleID string, products []pgProduct) func() []redisProduct {
	if len(products) == 0 {
		return func() []redisProduct { return nil }
	}
	fields := make([]string, 0, 3*len(products))
	for _, pr := range products {
		fields = append(fields, waitingroom.ProductCountFields(pr.SKU)...)
	}
	cmd := p.HMGet(ctx, waitingroom.Keys(saleID).Meta, fields...)
	return func() []redisProduct {
		v := cmd.Val()
		num := func(i int) int64 {
			if i >= len(v) {
				return 0
			}
			s, _ := v[i].(string)
			n, _ := strconv.ParseInt(s, 10, 64)
			return n
		}
		out := make([]redisProduct, len(products))
		for i := range products {
			out[i] = redisProduct{stock: num(3 * i), left: num(3*i + 1), sold: num(3*i + 2)}
		}
		return out
	}
}

// productChecks compares each product's counts; inFlight confirmations may
// be sold in Redis and not yet in Postgres, as for the pool.
func productChecks(pg []pgProduct, rs []redisProduct, inFlight int64) []Check {
	itoa := func(n int64) string { return strconv.FormatInt(n, 10) }
	var checks []Check
	for i, p := range pg {
		r := rs[i]
		name := "product " + p.SKU
		checks = append(checks,
			Check{What: name + " stock", Redis: itoa(r.stock), Postgres: itoa(p.Stock), OK: r.stock == p.Stock},
			Check{What: name + " left + sold = stock", Redis: itoa(r.left + r.sold), Postgres: itoa(p.Stock),
				OK: r.left >= 0 && r.left+r.sold == r.stock, Note: "every unit of the product counted once in redis"},
			Check{What: name + " sale_products.sold = orders' quantities", Redis: "-",
				Postgres: fmt.Sprintf("%d / %d", p.Sold, p.OrderSold), OK: p.Sold == p.OrderSold, Note: "postgres against itself"},
			Check{What: name + " sold", Redis: itoa(r.sold), Postgres: itoa(p.Sold),
				OK:   r.sold == p.Sold || r.sold > p.Sold && r.sold-p.Sold <= inFlight,
				Note: fmt.Sprintf("%d confirmations in flight", inFlight)},
		)
	}
	return checks
}

package waitingroom

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// An event's products are kept in sale_products, one row each, in the order
// the operator gave them (migrations/00023_sale_products.sql).

const insertProductsSQL = `
INSERT INTO sale_products (sale_id, position, sku, name, price_cents, list_price_cents, discount_percent,
                           discount_amount_cents, stock, per_shopper_limit, image_url, description)
SELECT $1, position - 1, sku, name, price, list, pct, amount, stock, lim, image, descr
FROM unnest($2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::int[], $7::bigint[], $8::int[], $9::int[],
            $10::text[], $11::text[]) WITH ORDINALITY
     AS p(sku, name, price, list, pct, amount, stock, lim, image, descr, position)`

// insertProducts stores an event's products inside tx, one statement for
// all of them; a single-product sale stores nothing.
func insertProducts(ctx context.Context, tx *sqlx.Tx, saleID string, products []Product) error {
	if len(products) == 0 {
		return nil
	}
	n := len(products)
	skus, names, images, descs := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	prices, lists, amounts := make([]int64, n), make([]int64, n), make([]int64, n)
	pcts, stocks, limits := make([]int64, n), make([]int64, n), make([]int64, n)
	for i, pr := range products {
		skus[i], names[i], images[i], descs[i] = pr.SKU, pr.Name, pr.ImageURL, pr.Description
		prices[i], lists[i], amounts[i] = pr.PriceCents, pr.ListPriceCents, pr.DiscountAmountCents
		pcts[i], stocks[i], limits[i] = int64(pr.DiscountPercent), int64(pr.Stock), int64(pr.PerShopperLimit)
	}
	_, err := tx.ExecContext(ctx, insertProductsSQL, saleID, pq.Array(skus), pq.Array(names), pq.Array(prices),
		pq.Array(lists), pq.Array(pcts), pq.Array(amounts), pq.Array(stocks), pq.Array(limits),
		pq.Array(images), pq.Array(descs))
	if err != nil {
		return fmt.Errorf("insert %d products of sale %s: %w", n, saleID, err)
	}
	return nil
}

// productRow is a sale_products row with its sale.
type productRow struct {
	SaleID string `db:"sale_id"`
	Product
}

const selectProductsSQL = `SELECT sale_id, sku, name, price_cents, list_price_cents, discount_percent,
       discount_amount_cents, stock, per_shopper_limit, image_url, description
FROM sale_products WHERE sale_id = ANY($1) ORDER BY sale_id, position`

// withProducts gives the events among plans their products, one query for
// all of them.
func withProducts(ctx context.Context, q sqlx.QueryerContext, plans []Plan) error {
	if len(plans) == 0 {
		return nil
	}
	ids := make([]string, len(plans))
	for i := range plans {
		ids[i] = plans[i].ID
	}
	var rows []productRow
	if err := sqlx.SelectContext(ctx, q, &rows, selectProductsSQL, pq.Array(ids)); err != nil {
		return fmt.Errorf("read products of %d sales: %w", len(plans), err)
	}
	bySale := make(map[string][]Product)
	for _, r := range rows {
		bySale[r.SaleID] = append(bySale[r.SaleID], r.Product)
	}
	for i := range plans {
		plans[i].Products = bySale[plans[i].ID]
	}
	return nil
}

// withProductsOf is withProducts of one plan.
func withProductsOf(ctx context.Context, q sqlx.QueryerContext, p *Plan) error {
	one := []Plan{*p}
	if err := withProducts(ctx, q, one); err != nil {
		return err
	}
	p.Products = one[0].Products
	return nil
}

// addProductStock records units added to one of an event's products, and
// to the event's pool, inside tx; ErrInvalidSale when the product would
// pass maxStock.
func addProductStock(ctx context.Context, tx *sqlx.Tx, saleID, sku string, add int) error {
	res, err := tx.ExecContext(ctx, `UPDATE sale_products SET stock = stock + $3::integer
		WHERE sale_id = $1 AND sku = $2 AND stock + $3::integer <= $4`, saleID, sku, add, maxStock)
	if err != nil {
		return fmt.Errorf("add stock to product %s of sale %s: %w", sku, saleID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("%w: product %s would hold more than %d units", ErrInvalidSale, sku, maxStock)
	}
	return nil
}

package catalog

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/foyerhq/foyer/internal/auditlog"
	"github.com/foyerhq/foyer/internal/paging"
	"github.com/foyerhq/foyer/internal/pgtx"
)

// Store keeps the catalog in Postgres (table products).
type Store struct {
	db *sqlx.DB
}

// New returns the catalog kept in db.
func New(db *sqlx.DB) *Store { return &Store{db: db} }

// Imported is what an import did.
type Imported struct {
	Created int `json:"created"`
	Updated int `json:"updated"`
}

// upsertSQL writes every product of an import in one statement; a SKU
// already there is updated in place, keeping its id (its place in the
// list). xmax is 0 on a row this statement inserted.
const upsertSQL = `
INSERT INTO products (sku, name, list_price_cents, currency, image_url, description)
SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[])
ON CONFLICT (sku) DO UPDATE SET name = EXCLUDED.name, list_price_cents = EXCLUDED.list_price_cents,
    currency = EXCLUDED.currency, image_url = EXCLUDED.image_url, description = EXCLUDED.description,
    updated_at = now()
RETURNING xmax = 0`

// Import upserts products by SKU and records the import in the audit log,
// in one transaction: all of it lands, or none. ps must come from ParseCSV
// or ParseJSON, which check every row; they are checked again here, so a
// caller that skipped them cannot store a product out of bounds.
func (s *Store) Import(ctx context.Context, ps []Product, actor string) (Imported, error) {
	if err := check(ps, 1); err != nil {
		return Imported{}, err
	}
	cols := make([][]string, 5)
	prices := make([]int64, len(ps))
	for i, p := range ps {
		for c, v := range []string{p.SKU, p.Name, p.Currency, p.ImageURL, p.Description} {
			cols[c] = append(cols[c], v)
		}
		prices[i] = p.ListPriceCents
	}
	var done Imported
	err := pgtx.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var inserted []bool
		if err := tx.SelectContext(ctx, &inserted, upsertSQL, pq.Array(cols[0]), pq.Array(cols[1]),
			pq.Array(prices), pq.Array(cols[2]), pq.Array(cols[3]), pq.Array(cols[4])); err != nil {
			return fmt.Errorf("upsert %d products: %w", len(ps), err)
		}
		for _, created := range inserted {
			if created {
				done.Created++
			} else {
				done.Updated++
			}
		}
		if err := auditlog.AppendJSON(ctx, tx, "", "catalog_import", actor, done); err != nil {
			return fmt.Errorf("audit the catalog import: %w", err)
		}
		return nil
	})
	if err != nil {
		return Imported{}, fmt.Errorf("import catalog: %w", err)
	}
	return done, nil
}

// Page sizes of the list.
const (
	DefaultLimit = 100
	MaxLimit     = 500
)

// Page is one page of the list, in the order products were first imported.
type Page struct {
	Products []Product `json:"products"`
	// Next is the cursor of the next page; "" on the last.
	Next string `json:"next_cursor,omitempty"`
}

// List reads one page of products from limit and cursor as a client sent
// them (internal/paging); what cannot be read is ErrBadQuery.
func (s *Store) List(ctx context.Context, limit, cursor string) (Page, error) {
	q, err := paging.Rules{DefaultLimit: DefaultLimit, MaxLimit: MaxLimit, Bad: ErrBadQuery}.Parse("", limit, cursor)
	if err != nil {
		return Page{}, err
	}
	var rows []Product
	err = s.db.SelectContext(ctx, &rows, `SELECT id, sku, name, list_price_cents, currency, image_url, description,
		updated_at FROM products WHERE id > $1 ORDER BY id LIMIT $2`, q.Cursor, q.Limit+1)
	if err != nil {
		return Page{}, fmt.Errorf("list products: %w", err)
	}
	page := Page{Products: rows}
	if len(rows) > q.Limit {
		page.Products = rows[:q.Limit]
		page.Next = paging.EncodeCursor(rows[q.Limit-1].ID)
	}
	if page.Products == nil {
		page.Products = []Product{}
	}
	return page, nil
}

// Get returns the product with sku, or ErrNotFound.
func (s *Store) Get(ctx context.Context, sku string) (Product, error) {
	var p Product
	err := s.db.GetContext(ctx, &p, `SELECT id, sku, name, list_price_cents, currency, image_url, description,
		updated_at FROM products WHERE sku = $1`, sku)
	if errors.Is(err, sql.ErrNoRows) {
		return Product{}, fmt.Errorf("%w: no product has sku %q", ErrNotFound, sku)
	}
	if err != nil {
		return Product{}, fmt.Errorf("get product %q: %w", sku, err)
	}
	return p, nil
}

// Delete removes the product with sku, audited, or fails with ErrNotFound.
// Sales made from it keep their copy.
func (s *Store) Delete(ctx context.Context, sku, actor string) error {
	err := pgtx.InTx(ctx, s.db, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM products WHERE sku = $1`, sku)
		if err != nil {
			return fmt.Errorf("delete product %q: %w", sku, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return cmp.Or(err, fmt.Errorf("%w: no product has sku %q", ErrNotFound, sku))
		}
		if err := auditlog.AppendJSON(ctx, tx, "", "product_deleted", actor, map[string]string{"sku": sku}); err != nil {
			return fmt.Errorf("audit the deletion of product %q: %w", sku, err)
		}
		return nil
	})
	return err
}

package waitingroom

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/foyerhq/foyer/internal/auditlog"
)

// Catalog keeps sale plans in Postgres, their system of record.
type Catalog struct {
	db *sqlx.DB
}

// NewCatalog returns a catalog over db.
func NewCatalog(db *sqlx.DB) *Catalog { return &Catalog{db: db} }

const insertSaleSQL = `
INSERT INTO sales (id, sku, name, price_cents, currency, stock, starts_at, ends_at,
                   outflow_per_second, reservation_ttl_seconds, prequeue_seconds, per_shopper_limit, pow_difficulty,
                   identity, checkout, checkout_url, per_customer_units, per_customer_orders,
                   eligibility, idempotency_key, request_fingerprint,
                   list_price_cents, discount_percent, discount_amount_cents)
VALUES (:id, :sku, :name, :price_cents, :currency, :stock, :starts_at, :ends_at,
        :outflow_per_second, :reservation_ttl_seconds, :prequeue_seconds, :per_shopper_limit, :pow_difficulty,
        COALESCE(NULLIF(:identity, ''), 'off'), COALESCE(NULLIF(:checkout, ''), 'foyer'), :checkout_url,
        :per_customer_units, GREATEST(:per_customer_orders, 1),
        COALESCE(NULLIF(:eligibility, ''), 'everyone'), NULLIF(:idempotency_key, ''), :request_fingerprint,
        :list_price_cents, :discount_percent, :discount_amount_cents)
ON CONFLICT (idempotency_key) DO NOTHING`

// Create stores a new plan. It runs inside tx so that the caller can undo it
// when the sale's hot state cannot be loaded into Redis. created is false,
// and nothing stored, when a sale with the plan's idempotency key exists.
func (c *Catalog) Create(ctx context.Context, tx *sqlx.Tx, p *Plan) (created bool, err error) {
	res, err := tx.NamedExecContext(ctx, insertSaleSQL, p)
	if err != nil {
		return false, fmt.Errorf("insert sale %s: %w", p.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("insert sale %s: %w", p.ID, err)
	}
	if n != 1 {
		return false, nil
	}
	return true, insertProducts(ctx, tx, p.ID, p.Products)
}

// byIdempotencyKey returns the plan created with this Idempotency-Key, with
// its fingerprint, or nil when there is none.
func (c *Catalog) byIdempotencyKey(ctx context.Context, key string) (*Plan, error) {
	var p Plan
	err := c.db.GetContext(ctx, &p, `SELECT `+saleColumns+`, idempotency_key, request_fingerprint
		FROM sales WHERE idempotency_key = $1`, key)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find sale by idempotency key: %w", err)
	}
	return &p, withProductsOf(ctx, c.db, &p)
}

// Begin starts the transaction Create runs in.
func (c *Catalog) Begin(ctx context.Context) (*sqlx.Tx, error) {
	return c.db.BeginTxx(ctx, nil)
}

const saleColumns = `id, sku, name, price_cents, currency, stock, starts_at, ends_at,
       outflow_per_second, reservation_ttl_seconds, prequeue_seconds, per_shopper_limit, pow_difficulty, identity,
       checkout, checkout_url, per_customer_units, per_customer_orders, eligibility,
       list_price_cents, discount_percent, discount_amount_cents`

const selectSaleSQL = `SELECT ` + saleColumns + ` FROM sales`

// Get returns the plan of one sale, or ErrSaleNotFound.
func (c *Catalog) Get(ctx context.Context, id string) (*Plan, error) {
	var p Plan
	err := c.db.GetContext(ctx, &p, selectSaleSQL+` WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("get sale %s: %w", id, ErrSaleNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get sale %s: %w", id, err)
	}
	return &p, withProductsOf(ctx, c.db, &p)
}

// Current lists the plans of sales that have not ended by now, for loading
// into Redis when a node starts.
func (c *Catalog) Current(ctx context.Context, now time.Time) ([]Plan, error) {
	var plans []Plan
	if err := c.db.SelectContext(ctx, &plans, selectSaleSQL+` WHERE ends_at > $1 ORDER BY starts_at`, now); err != nil {
		return nil, fmt.Errorf("list current sales: %w", err)
	}
	return plans, withProducts(ctx, c.db, plans)
}

// List returns every plan, newest first.
func (c *Catalog) List(ctx context.Context) ([]Plan, error) {
	var plans []Plan
	if err := c.db.SelectContext(ctx, &plans, selectSaleSQL+` ORDER BY created_at DESC`); err != nil {
		return nil, fmt.Errorf("list sales: %w", err)
	}
	return plans, withProducts(ctx, c.db, plans)
}

// lock serialises operator actions on one sale until tx ends, and reads its
// plan, or fails with ErrSaleNotFound. An action holds it while it calls
// Redis, so what it takes must stall the sale's orders as little as can be:
//
//   - Between actions, a transaction-level advisory lock on the sale's id.
//     Orders never take it, so a pause or a message stalls no order.
//   - rowLock adds FOR NO KEY UPDATE on the sale's row, for an action that
//     changes the plan. Not FOR UPDATE, which would also block the key-share
//     lock every INSERT INTO orders takes through its foreign key. It does
//     make the workers' "sold + n <= stock" update wait, as that update
//     takes the same lock, which is what lets it read added stock once
//     committed.
func (c *Catalog) lock(ctx context.Context, tx *sqlx.Tx, id string, rowLock bool) (*Plan, error) {
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "foyer sale actions "+id); err != nil {
		return nil, fmt.Errorf("lock sale %s: %w", id, err)
	}
	q := selectSaleSQL + ` WHERE id = $1`
	if rowLock {
		q += ` FOR NO KEY UPDATE`
	}
	var p Plan
	err := tx.GetContext(ctx, &p, q, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("lock sale %s: %w", id, ErrSaleNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("lock sale %s: %w", id, err)
	}
	return &p, withProductsOf(ctx, tx, &p)
}

// changePlan locks the sale (lock) and records a changed rate, added stock or
// a new proof-of-work difficulty in its plan, inside tx. It refuses stock
// that would pass maxStock with ErrInvalidSale; other actions only lock.
func (c *Catalog) changePlan(ctx context.Context, tx *sqlx.Tx, saleID string, ctl Control) error {
	p, err := c.lock(ctx, tx, saleID, ctl.Action == ActionRate || ctl.Action == ActionAddStock || ctl.Action == ActionPow)
	if err != nil {
		return err
	}
	var q string
	switch ctl.Action {
	case ActionRate:
		q = `UPDATE sales SET outflow_per_second = $2 WHERE id = $1`
	case ActionAddStock:
		if p.Stock+int(ctl.Value) > maxStock {
			return fmt.Errorf("%w: stock would be %d, above the most a sale may have, %d",
				ErrInvalidSale, p.Stock+int(ctl.Value), maxStock)
		}
		if err := p.stockProduct(ctl.Product); err != nil {
			return fmt.Errorf("add stock to sale %s: %w", saleID, err)
		}
		if p.IsEvent() {
			if err := addProductStock(ctx, tx, saleID, ctl.Product, int(ctl.Value)); err != nil {
				return err
			}
		}
		q = `UPDATE sales SET stock = stock + $2::integer WHERE id = $1`
	case ActionPow:
		q = `UPDATE sales SET pow_difficulty = $2::integer WHERE id = $1`
	default:
		return nil
	}
	if _, err := tx.ExecContext(ctx, q, saleID, ctl.Value); err != nil {
		return fmt.Errorf("%s sale %s: %w", ctl.Action, saleID, err)
	}
	return nil
}

// recordIn appends one admin action to the audit log inside tx, so that it
// lands with the change it records or not at all, and returns its id.
func (c *Catalog) recordIn(ctx context.Context, tx *sqlx.Tx, saleID, action, actor string, detail []byte) (int64, error) {
	id, err := auditlog.Append(ctx, tx, saleID, action, actor, detail)
	if err != nil {
		return 0, fmt.Errorf("audit %s of sale %s: %w", action, saleID, err)
	}
	return id, nil
}

// audit appends one admin action to the audit log.
func (c *Catalog) audit(ctx context.Context, saleID, action, actor string, detail []byte) error {
	if _, err := auditlog.Append(ctx, c.db, saleID, action, actor, detail); err != nil {
		return fmt.Errorf("audit %s of sale %s: %w", action, saleID, err)
	}
	return nil
}

package waitingroom

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Catalog keeps sale plans in Postgres, their system of record.
type Catalog struct {
	db *sqlx.DB
}

// NewCatalog returns a catalog over db.
func NewCatalog(db *sqlx.DB) *Catalog { return &Catalog{db: db} }

const insertSaleSQL = `
INSERT INTO sales (id, sku, name, price_cents, currency, stock, starts_at, ends_at,
                   outflow_per_second, reservation_ttl_seconds, prequeue_seconds, per_shopper_limit, pow_difficulty)
VALUES (:id, :sku, :name, :price_cents, :currency, :stock, :starts_at, :ends_at,
        :outflow_per_second, :reservation_ttl_seconds, :prequeue_seconds, :per_shopper_limit, :pow_difficulty)`

// Create stores a new plan. It runs inside tx so that the caller can undo it
// when the sale's hot state cannot be loaded into Redis.
func (c *Catalog) Create(ctx context.Context, tx *sqlx.Tx, p *Plan) error {
	if _, err := tx.NamedExecContext(ctx, insertSaleSQL, p); err != nil {
		return fmt.Errorf("insert sale %s: %w", p.ID, err)
	}
	return nil
}

// Begin starts the transaction Create runs in.
func (c *Catalog) Begin(ctx context.Context) (*sqlx.Tx, error) {
	return c.db.BeginTxx(ctx, nil)
}

const selectSaleSQL = `
SELECT id, sku, name, price_cents, currency, stock, starts_at, ends_at,
       outflow_per_second, reservation_ttl_seconds, prequeue_seconds, per_shopper_limit, pow_difficulty
FROM sales`

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
	return &p, nil
}

// Current lists the plans of sales that have not ended by now, for loading
// into Redis when a node starts.
func (c *Catalog) Current(ctx context.Context, now time.Time) ([]Plan, error) {
	var plans []Plan
	if err := c.db.SelectContext(ctx, &plans, selectSaleSQL+` WHERE ends_at > $1 ORDER BY starts_at`, now); err != nil {
		return nil, fmt.Errorf("list current sales: %w", err)
	}
	return plans, nil
}

// List returns every plan, newest first.
func (c *Catalog) List(ctx context.Context) ([]Plan, error) {
	var plans []Plan
	if err := c.db.SelectContext(ctx, &plans, selectSaleSQL+` ORDER BY created_at DESC`); err != nil {
		return nil, fmt.Errorf("list sales: %w", err)
	}
	return plans, nil
}

// applyPlanChange records a changed rate, added stock or a new proof-of-work
// difficulty in the plan.
func (c *Catalog) applyPlanChange(ctx context.Context, saleID string, ctl Control) error {
	var q string
	switch ctl.Action {
	case ActionRate:
		q = `UPDATE sales SET outflow_per_second = $2 WHERE id = $1`
	case ActionAddStock:
		q = `UPDATE sales SET stock = stock + $2::integer WHERE id = $1`
	case ActionPow:
		q = `UPDATE sales SET pow_difficulty = $2::integer WHERE id = $1`
	default:
		return nil
	}
	if _, err := c.db.ExecContext(ctx, q, saleID, ctl.Value); err != nil {
		return fmt.Errorf("%s sale %s: %w", ctl.Action, saleID, err)
	}
	return nil
}

// audit appends one admin action to the audit log.
func (c *Catalog) audit(ctx context.Context, saleID, action, actor string, detail []byte) error {
	_, err := c.db.ExecContext(ctx,
		`INSERT INTO admin_actions (sale_id, action, detail, actor) VALUES ($1, $2, $3, $4)`,
		saleID, action, detail, actor)
	if err != nil {
		return fmt.Errorf("audit %s of sale %s: %w", action, saleID, err)
	}
	return nil
}

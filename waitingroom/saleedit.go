package waitingroom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
)

// An operator changes the plan of a sale until it opens (docs/admin-api.md,
// "Changing a sale"). Once open, shoppers have been admitted on its terms,
// so nothing of the plan changes through an edit any more; the controls
// (rate, stock, proof of work, messages) still apply.

// ErrSaleOpened refuses an edit or a deletion of a sale that has opened.
var ErrSaleOpened = errors.New("the sale has opened")

// PlanChange is an edit of a sale's plan: each field set replaces the
// plan's, the others stay. Identity, checkout, eligibility and proof of
// work are not here: they decide who may join and how, and have their own
// controls or stay as created.
type PlanChange struct {
	SKU                   *string    `json:"sku"`
	Name                  *string    `json:"name"`
	PriceCents            *int64     `json:"price_cents"`
	Currency              *string    `json:"currency"`
	Stock                 *int       `json:"stock"`
	StartsAt              *time.Time `json:"starts_at"`
	EndsAt                *time.Time `json:"ends_at"`
	PrequeueSeconds       *int       `json:"prequeue_seconds"`
	OutflowPerSecond      *float64   `json:"outflow_per_second"`
	ReservationTTLSeconds *int       `json:"reservation_ttl_seconds"`
	PerShopperLimit       *int       `json:"per_shopper_limit"`
	PerCustomerUnits      *int       `json:"per_customer_units"`
	PerCustomerOrders     *int       `json:"per_customer_orders"`
	// ListPriceCents and Discount change the discount (discount.go):
	// Discount {} removes it, and the list price becomes the price.
	ListPriceCents *int64           `json:"list_price_cents"`
	Discount       *DiscountRequest `json:"discount"`
	// Products replaces an event's products, whole (product.go); with them,
	// sku, price_cents and stock are not sent (the event derives them).
	Products *[]Product `json:"products"`
}

// empty reports whether the change sets no field.
func (c PlanChange) empty() bool { return c == PlanChange{} }

// applyTo returns p with the change made.
func (c PlanChange) applyTo(p Plan) (Plan, error) {
	hadDiscount := !p.DiscountOf().None()
	set := func(dst any, src any) {
		if s := reflect.ValueOf(src); !s.IsNil() {
			reflect.ValueOf(dst).Elem().Set(s.Elem())
		}
	}
	set(&p.SKU, c.SKU)
	set(&p.Name, c.Name)
	set(&p.PriceCents, c.PriceCents)
	set(&p.Currency, c.Currency)
	set(&p.Stock, c.Stock)
	set(&p.StartsAt, c.StartsAt)
	set(&p.EndsAt, c.EndsAt)
	set(&p.PrequeueSeconds, c.PrequeueSeconds)
	set(&p.OutflowPerSecond, c.OutflowPerSecond)
	set(&p.ReservationTTLSeconds, c.ReservationTTLSeconds)
	set(&p.PerShopperLimit, c.PerShopperLimit)
	set(&p.PerCustomerUnits, c.PerCustomerUnits)
	set(&p.PerCustomerOrders, c.PerCustomerOrders)
	// In UTC and to the microsecond, as Postgres keeps them (Create).
	p.StartsAt, p.EndsAt = p.StartsAt.UTC().Truncate(time.Microsecond), p.EndsAt.UTC().Truncate(time.Microsecond)
	if err := c.applyDiscount(&p, hadDiscount); err != nil {
		return Plan{}, err
	}
	return p, c.applyProducts(&p)
}

// applyProducts makes the change's products the plan's: the event's stock
// and price follow them. An event's sku, price and stock are its
// products', so a change of them alone is refused; products [] makes the
// event a single-product sale again, whose sku, price and stock must come
// with it.
func (c PlanChange) applyProducts(p *Plan) error {
	ownFields := c.SKU != nil || c.PriceCents != nil || c.Stock != nil || c.ListPriceCents != nil || c.Discount != nil
	switch {
	case c.Products == nil && p.IsEvent() && ownFields:
		return fmt.Errorf("%w: an event's sku, price and stock are its products': change products instead", ErrInvalidSale)
	case c.Products == nil:
		return nil
	case len(*c.Products) == 0:
		p.Products = nil
		return nil
	case ownFields:
		return fmt.Errorf("%w: with products, sku, price_cents, list_price_cents, discount and stock are not sent: "+
			"each product carries its own", ErrInvalidSale)
	}
	limit := p.PerShopperLimit
	p.PerShopperLimit = 0
	if c.PerShopperLimit != nil {
		p.PerShopperLimit = limit
	}
	products := append([]Product(nil), *c.Products...)
	for i, pr := range products {
		// A discount's price is derived, as at creation, unless sent.
		if d := (Discount{Percent: pr.DiscountPercent, AmountCents: pr.DiscountAmountCents}); !d.None() && pr.PriceCents == 0 {
			products[i].SetDiscount(pr.ListPriceCents, d)
		}
	}
	p.SetProducts(products)
	return nil
}

// applyDiscount makes the change's list price and discount, re-deriving the
// price. A discount added to a sale without one comes off its price (as
// changed); a price_cents sent beside a discount in effect stays as sent,
// for Validate to refuse unless it is the derived one.
func (c PlanChange) applyDiscount(p *Plan, hadDiscount bool) error {
	if c.Discount == nil && c.ListPriceCents == nil && (!hadDiscount || c.PriceCents != nil) {
		return nil
	}
	d, list := p.DiscountOf(), p.ListPriceCents
	if c.Discount != nil {
		var err error
		if d, err = c.Discount.Discount(); err != nil {
			return err
		}
	}
	if c.ListPriceCents != nil {
		list = *c.ListPriceCents
	}
	if d.None() {
		if c.ListPriceCents != nil {
			p.ListPriceCents = list // refused by Validate unless 0: no list price without a discount
		} else {
			p.ListPriceCents = 0
			if c.PriceCents == nil && list != 0 {
				p.PriceCents = list // the discount removed: the list price is the price
			}
		}
		p.DiscountPercent, p.DiscountAmountCents = 0, 0
		return nil
	}
	if list == 0 {
		list = p.PriceCents
	}
	price := p.PriceCents
	p.SetDiscount(list, d)
	if hadDiscount && c.PriceCents != nil {
		p.PriceCents = price
	}
	return nil
}

// Edit changes the plan of a sale that has not opened, in Postgres and in
// Redis, records it in the audit log with what it was and became, and tells
// the sale's shoppers (an event "plan"): all of it, or, when refused, none.
//
// It runs as Control does: a Postgres transaction locks the sale's row,
// writes the new plan and the audit row; edit.lua then checks, in Redis,
// that the sale has not opened and changes its copy in the same step, so an
// edit racing the admitter's tick that opens the sale lands before the
// opening or is refused after it (ErrSaleOpened), never half. Only then does
// the transaction commit; a refusal rolls it back. Should the commit fail
// after Redis took the edit, it is rolled forward in a fresh transaction.
// Should Redis not answer, Postgres is rolled back and the call fails: the
// edit sets values, not increments, so sending it again makes both agree.
func (o *Operator) Edit(ctx context.Context, saleID string, change PlanChange, actor string) (*Plan, error) {
	if why := textProblem(actor, maxActorLen); why != "" {
		return nil, fmt.Errorf("%w: actor %s", ErrInvalidSale, why)
	}
	if change.empty() {
		return nil, fmt.Errorf("%w: the edit changes nothing: send at least one field", ErrInvalidSale)
	}
	pgctx, cancel := o.detached(ctx)
	defer cancel()
	tx, err := o.catalog.Begin(pgctx)
	if err != nil {
		return nil, fmt.Errorf("edit sale %s: %w", saleID, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	before, err := o.catalog.lock(ctx, tx, saleID, true)
	if err != nil {
		return nil, err
	}
	// Read first, to refuse an open sale before judging the change: the
	// answer that matters is that nothing may change. edit.lua checks again,
	// atomically, and has the last word.
	if state, err := o.rooms.rdb.HGet(ctx, Keys(saleID).Meta, "state").Result(); err == nil && !notOpened(State(state)) {
		return nil, fmt.Errorf("edit sale %s: %w: it is %s", saleID, ErrSaleOpened, state)
	}
	after, err := change.applyTo(*before)
	if err != nil {
		return nil, err
	}
	if err := after.ValidateAt(o.now()); err != nil {
		return nil, err
	}
	detail := planDiff(*before, after)
	if err := o.catalog.update(ctx, tx, &after); err != nil {
		return nil, err
	}
	auditID, err := o.catalog.recordIn(ctx, tx, saleID, "edit", actor, detail)
	if err != nil {
		return nil, err
	}
	k := Keys(saleID)
	args, err := editArgs(&after)
	if err != nil {
		return nil, err
	}
	// On the detached context: a client that goes away must not leave the
	// script's outcome unknown to us.
	err = runOnce(pgctx, o.rooms.rdb, editScript, []string{k.Meta, k.Events}, args...).Err()
	if err != nil {
		if refusedByEdit(err) {
			return nil, fmt.Errorf("edit sale %s: %w", saleID, editError(err))
		}
		return nil, fmt.Errorf("edit sale %s: redis did not say whether it took the edit; postgres kept the plan "+
			"as it was (send the edit again: it is the same twice): %v", saleID, err) // %v: "nothing was done" would be wrong
	}
	if err := tx.Commit(); err != nil {
		tx.Rollback() //nolint:errcheck // it holds the lock editForward takes
		fresh, cancel := o.detached(ctx)
		defer cancel()
		if err := o.editForward(fresh, &after, actor, detail, auditID); err != nil {
			return nil, err
		}
	}
	return &after, nil
}

// notOpened reports whether a sale in state s has not opened: its plan may change.
func notOpened(s State) bool { return s == StateScheduled || s == StatePrequeue }

// editArgs are the ARGV of edit.lua: the plan's fields as Load writes them,
// an event's products included ("products" "" for a single-product sale,
// which takes an event's back out).
func editArgs(p *Plan) ([]any, error) {
	products, err := productLoadArgs(p)
	if err != nil {
		return nil, err
	}
	if products == nil {
		products = []any{metaProducts, ""}
	}
	return append([]any{EventsMaxLen,
		"name", p.Name, "sku", p.SKU, "price_cents", p.PriceCents, "list_price_cents", p.ListPriceCents,
		"currency", p.Currency, "stock", p.Stock,
		"starts_at_ms", p.StartsAt.UnixMilli(), "ends_at_ms", p.EndsAt.UnixMilli(),
		"prequeue_at_ms", p.PrequeueAt().UnixMilli(), "rate", strconv.FormatFloat(p.OutflowPerSecond, 'f', -1, 64),
		"ttl_ms", p.ReservationTTL().Milliseconds(), "limit", max(p.PerShopperLimit, 1),
		"per_customer_units", p.PerCustomerUnits, "per_customer_orders", p.PerCustomerOrdersOf(),
	}, products...), nil
}

// refusedByEdit reports whether err is edit.lua or delete.lua refusing,
// which they do before they change anything.
func refusedByEdit(err error) bool {
	switch replyCode(err) {
	case "NO_SALE", "SALE_OPENED", "BAD_STATE":
		return true
	}
	return false
}

// editError is the domain error of a refusal by edit.lua or delete.lua.
func editError(err error) error {
	if replyCode(err) == "SALE_OPENED" {
		return fmt.Errorf("%w: %s", ErrSaleOpened, replyMessage(err))
	}
	return scriptError(err)
}

// editForward records in Postgres an edit Redis has taken, after the first
// commit failed; auditID exists only if that commit landed after all.
func (o *Operator) editForward(ctx context.Context, after *Plan, actor string, detail []byte, auditID int64) error {
	notRecorded := func(err error) error {
		// %v, not %w: the edit took effect in Redis; "unavailable, nothing
		// was done" would be wrong.
		return fmt.Errorf("edit sale %s took effect but could not be recorded in postgres (send it again): %v",
			after.ID, err)
	}
	tx, err := o.catalog.Begin(ctx)
	if err != nil {
		return notRecorded(err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := o.catalog.lock(ctx, tx, after.ID, true); err != nil {
		return notRecorded(err)
	}
	var landed bool
	if err := tx.GetContext(ctx, &landed, `SELECT EXISTS (SELECT 1 FROM admin_actions WHERE id = $1)`, auditID); err != nil {
		return notRecorded(err)
	}
	if landed {
		return nil
	}
	if err := o.catalog.update(ctx, tx, after); err != nil {
		return notRecorded(err)
	}
	if _, err := o.catalog.recordIn(ctx, tx, after.ID, "edit", actor, detail); err != nil {
		return notRecorded(err)
	}
	if err := tx.Commit(); err != nil {
		return notRecorded(err)
	}
	return nil
}

const updateSaleSQL = `
UPDATE sales SET sku = :sku, name = :name, price_cents = :price_cents, currency = :currency, stock = :stock,
       starts_at = :starts_at, ends_at = :ends_at, prequeue_seconds = :prequeue_seconds,
       outflow_per_second = :outflow_per_second, reservation_ttl_seconds = :reservation_ttl_seconds,
       per_shopper_limit = :per_shopper_limit, per_customer_units = :per_customer_units,
       per_customer_orders = GREATEST(:per_customer_orders, 1), list_price_cents = :list_price_cents,
       discount_percent = :discount_percent, discount_amount_cents = :discount_amount_cents
WHERE id = :id`

// update writes an edited plan inside tx, which holds the sale's row lock;
// an event's products are written anew (nothing is sold before the opening).
func (c *Catalog) update(ctx context.Context, tx *sqlx.Tx, p *Plan) error {
	if _, err := tx.NamedExecContext(ctx, updateSaleSQL, p); err != nil {
		return fmt.Errorf("update sale %s: %w", p.ID, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM sale_products WHERE sale_id = $1`, p.ID); err != nil {
		return fmt.Errorf("replace products of sale %s: %w", p.ID, err)
	}
	return insertProducts(ctx, tx, p.ID, p.Products)
}

// planDiff is the audit log's detail of an edit: each field that changed,
// with what it was and what it became.
func planDiff(before, after Plan) []byte {
	var b, a map[string]any
	bb, _ := json.Marshal(before)
	ab, _ := json.Marshal(after)
	_ = json.Unmarshal(bb, &b)
	_ = json.Unmarshal(ab, &a)
	was, is := map[string]any{}, map[string]any{}
	for k, v := range a {
		if !reflect.DeepEqual(b[k], v) {
			was[k], is[k] = b[k], v
		}
	}
	out, _ := json.Marshal(map[string]any{"before": was, "after": is})
	return out
}

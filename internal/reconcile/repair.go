package reconcile

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/waitingroom"
)

// orderRow is an order as repair needs it.
type orderRow struct {
	ReservationID string         `db:"reservation_id"`
	ShopperID     string         `db:"shopper_id"`
	Txn           string         `db:"transaction_id"`
	Quantity      int64          `db:"quantity"`
	CustomerID    sql.NullString `db:"customer_id"`
	OrderRef      sql.NullString `db:"shop_order_ref"`
	// SKU and PriceCents name an event's order's product and its price;
	// a single-product sale's orders need neither here.
	SKU        sql.NullString `db:"sku"`
	PriceCents int64          `db:"price_cents"`
}

// InvitationsRestorer puts an invited sale's invitee list, groups and
// invite codes back in Redis from Postgres (waitingroom's Operator does).
type InvitationsRestorer interface {
	RestoreInvitations(ctx context.Context, saleID string) error
}

// Repair rebuilds the sale's hot state in Redis from Postgres: the plan (if
// Redis lost the sale), an invited sale's invitations (when r.Invitations
// is set), the sold count, a confirmed reservation for every order, so a
// replayed token is still refused, and what each shopper bought across the
// sale (units and orders) with its customer id, so the per-customer limit
// holds again: a shopper with nothing left to buy is not admitted again, one
// with more to buy may queue. Holds still in Redis are kept; a queue Redis
// lost cannot be rebuilt (its shoppers join again). Run it with the sale's
// orders settled (nothing in flight), or in-flight confirmations count
// twice, and a shopper's count misses its in-flight order.
func (r *Reconciler) Repair(ctx context.Context, saleID string) error {
	plan, err := waitingroom.NewCatalog(r.db).Get(ctx, saleID)
	if err != nil {
		return err
	}
	// Before the plan, as a gateway start does: no join finds the sale
	// without its lists.
	if r.Invitations != nil {
		if err := r.Invitations.RestoreInvitations(ctx, saleID); err != nil {
			return err
		}
	}
	if err := waitingroom.NewRooms(r.rdb).Load(ctx, plan); err != nil {
		return err
	}
	var orders []orderRow
	err = r.db.SelectContext(ctx, &orders, `SELECT reservation_id, shopper_id, transaction_id, quantity,
		customer_id, shop_order_ref, sku, price_cents FROM orders WHERE sale_id = $1 AND status <> 'cancelled' ORDER BY id`, saleID)
	if err != nil {
		return fmt.Errorf("read orders of sale %s: %w", saleID, err)
	}
	var sold int64
	bought := map[string]*[2]int64{} // shopper -> units, orders
	// An event's products: units sold of each, and by each shopper, so no
	// product is sold past its stock after the repair (docs/products.md).
	productSold, productBought := map[string]int64{}, map[string]int64{}
	for _, o := range orders {
		sold += o.Quantity
		if plan.IsEvent() && o.SKU.Valid {
			productSold[o.SKU.String] += o.Quantity
			productBought[waitingroom.BoughtOfProduct(o.ShopperID, o.SKU.String)] += o.Quantity
		}
		if bought[o.ShopperID] == nil {
			bought[o.ShopperID] = new([2]int64)
		}
		bought[o.ShopperID][0] += o.Quantity
		bought[o.ShopperID][1]++
	}
	k := waitingroom.Keys(saleID)
	var records, named *redis.MapStringStringCmd
	_, err = r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		records, named = p.HGetAll(ctx, k.Res), p.HGetAll(ctx, k.Shoppers)
		return nil
	})
	if err != nil {
		return fmt.Errorf("read reservations of sale %s: %w", saleID, err)
	}
	// A shopper that may buy no more is named to its order's reservation
	// below: a hold it had meanwhile is then named by nobody, never released
	// by the tick nor confirmed, so its unit goes back now rather than stay
	// held. An entry that names an order is no hold either, whatever Redis
	// kept of its record.
	except := map[string]bool{}
	for _, o := range orders {
		b := bought[o.ShopperID]
		except[o.ShopperID] = except[o.ShopperID] || boughtAll(plan, b[0], b[1]) ||
			named.Val()[o.ShopperID] == o.ReservationID
	}
	held := heldReservations(named.Val(), records.Val(), except)
	available := max(int64(plan.Stock)-sold-held, 0)
	now := time.Now().UnixMilli()
	_, err = r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, k.Meta, "stock", plan.Stock, "sold", sold, "held", held, "available", available)
		for _, pr := range plan.Products {
			p.HSet(ctx, k.Meta, waitingroom.ProductCounts(pr.SKU, int64(pr.Stock), productSold[pr.SKU])...)
		}
		// The counts are Postgres's whole: a count Redis kept for an order
		// Postgres cancelled goes with it.
		p.Del(ctx, k.Bought)
		for shopper, b := range bought {
			p.HSet(ctx, k.Bought, shopper, b[0], shopper+":orders", b[1])
		}
		for field, n := range productBought {
			p.HSet(ctx, k.Bought, field, n)
		}
		for _, o := range orders {
			// counted: the order is in the counts above, so a refund of it
			// takes it off them (refund.lua).
			rec := map[string]any{"reservation": o.ReservationID, "shopper": o.ShopperID,
				"txn": o.Txn, "status": "confirmed", "quantity": o.Quantity, "confirmed_at": now, "counted": true}
			if o.CustomerID.Valid {
				rec["customer"] = o.CustomerID.String
				p.HSet(ctx, k.Customers, o.ShopperID, o.CustomerID.String)
			}
			if o.OrderRef.Valid {
				rec["order_ref"] = o.OrderRef.String
			}
			if plan.IsEvent() && o.SKU.Valid {
				// A refund gives the units back to the product (refund.lua).
				rec["sku"], rec["price_cents"] = o.SKU.String, o.PriceCents
			}
			body, _ := json.Marshal(rec)
			p.HSet(ctx, k.Res, o.ReservationID, body)
			// As confirm.lua leaves it: the entry names the shopper's last
			// order while it may buy no more (a join gives that back), and
			// is gone while it may (a join is a new place).
			if b := bought[o.ShopperID]; boughtAll(plan, b[0], b[1]) {
				p.HSet(ctx, k.Shoppers, o.ShopperID, o.ReservationID)
			} else if named.Val()[o.ShopperID] == o.ReservationID {
				p.HDel(ctx, k.Shoppers, o.ShopperID)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("rebuild sale %s in redis: %w", saleID, err)
	}
	if available == 0 && held == 0 {
		state, _ := r.rdb.HGet(ctx, k.Meta, "state").Result()
		if state != string(waitingroom.StateEnded) {
			r.rdb.HSet(ctx, k.Meta, "state", string(waitingroom.StateSoldOut))
		}
	}
	return nil
}

// boughtAll reports whether a shopper that bought units in orders may buy
// no more in the sale, by its per-customer limits (confirm.lua's rule).
func boughtAll(plan *waitingroom.Plan, units, orders int64) bool {
	return orders >= int64(plan.PerCustomerOrdersOf()) ||
		(plan.PerCustomerUnits > 0 && units >= int64(plan.PerCustomerUnits))
}

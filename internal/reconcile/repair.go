package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/waitingroom"
)

// orderRow is an order as repair needs it.
type orderRow struct {
	ReservationID string `db:"reservation_id"`
	ShopperID     string `db:"shopper_id"`
	Txn           string `db:"transaction_id"`
	Quantity      int64  `db:"quantity"`
}

// Repair rebuilds the sale's hot state in Redis from Postgres: the plan (if
// Redis lost the sale), the sold count, and a confirmed reservation for
// every order, so a replayed token is still refused and the shopper is not
// admitted again. Holds still in Redis are kept; a queue Redis lost cannot
// be rebuilt (its shoppers join again). Run it with the sale's orders
// settled (nothing in flight), or in-flight confirmations count twice.
func (r *Reconciler) Repair(ctx context.Context, saleID string) error {
	plan, err := waitingroom.NewCatalog(r.db).Get(ctx, saleID)
	if err != nil {
		return err
	}
	if err := waitingroom.NewRooms(r.rdb).Load(ctx, plan); err != nil {
		return err
	}
	var orders []orderRow
	err = r.db.SelectContext(ctx, &orders, `SELECT reservation_id, shopper_id, transaction_id, quantity
		FROM orders WHERE sale_id = $1 AND status <> 'cancelled'`, saleID)
	if err != nil {
		return fmt.Errorf("read orders of sale %s: %w", saleID, err)
	}
	var sold int64
	for _, o := range orders {
		sold += o.Quantity
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
	// A shopper with an order is named to its order's reservation below: a
	// hold it had meanwhile is then named by nobody, never released by the
	// tick nor confirmed, so its unit goes back now rather than stay held.
	ordered := map[string]bool{}
	for _, o := range orders {
		ordered[o.ShopperID] = true
	}
	held := heldReservations(named.Val(), records.Val(), ordered)
	available := max(int64(plan.Stock)-sold-held, 0)
	now := time.Now().UnixMilli()
	_, err = r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, k.Meta, "stock", plan.Stock, "sold", sold, "held", held, "available", available)
		for _, o := range orders {
			body, _ := json.Marshal(map[string]any{"reservation": o.ReservationID, "shopper": o.ShopperID,
				"txn": o.Txn, "status": "confirmed", "quantity": o.Quantity, "confirmed_at": now})
			p.HSet(ctx, k.Res, o.ReservationID, body)
			p.HSet(ctx, k.Shoppers, o.ShopperID, o.ReservationID)
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

// Package reconcile compares a sale's hot state in Redis, the order streams
// and Postgres, and can rebuild the Redis side from Postgres, the system of
// record. It is what `foyer reconcile SALE [--repair]` runs.
package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/jmoiron/sqlx"
	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/waitingroom"
)

// Check is one comparison of the report.
type Check struct {
	What     string
	Redis    string
	Postgres string
	OK       bool
	Note     string
}

// Report is the outcome of reconciling one sale.
type Report struct {
	SaleID   string
	Checks   []Check
	InFlight int64 // confirmations published or queued but not yet orders
}

// Consistent reports whether every check passed.
func (r Report) Consistent() bool {
	for _, c := range r.Checks {
		if !c.OK {
			return false
		}
	}
	return true
}

// Print writes the report as a table.
func (r Report) Print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "sale %s\t\t\t\t\n", r.SaleID)
	fmt.Fprintln(tw, "check\tredis\tpostgres\tverdict\tnote")
	for _, c := range r.Checks {
		verdict := "ok"
		if !c.OK {
			verdict = "DIFFERENT"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.What, c.Redis, c.Postgres, verdict, c.Note)
	}
	tw.Flush()
	if r.Consistent() {
		fmt.Fprintln(w, "no difference")
	} else {
		fmt.Fprintln(w, "differences found: run with --repair to rebuild the sale's Redis state from Postgres")
	}
}

// ErrNoSale means neither Redis nor Postgres knows the sale.
var ErrNoSale = errors.New("no such sale in Postgres")

// Reconciler reads both sides.
type Reconciler struct {
	rdb redis.UniversalClient
	db  *sqlx.DB
	// Invitations puts an invited sale's lists and codes back as Repair
	// rebuilds it; nil leaves them as Redis has them.
	Invitations InvitationsRestorer
}

// New returns a reconciler over rdb and db.
func New(rdb redis.UniversalClient, db *sqlx.DB) *Reconciler { return &Reconciler{rdb: rdb, db: db} }

// pgSide is what Postgres says of a sale.
type pgSide struct {
	Stock     int64 `db:"stock"`
	Sold      int64 `db:"sold"`
	OrderSold int64 `db:"order_sold"` // quantities of orders not cancelled
	Orders    int64 `db:"orders"`
	Pending   int64 `db:"pending"`
}

func (r *Reconciler) postgres(ctx context.Context, saleID string) (pgSide, map[string]bool, error) {
	var p pgSide
	err := r.db.GetContext(ctx, &p, `SELECT s.stock, s.sold,
		COALESCE((SELECT sum(quantity) FROM orders o WHERE o.sale_id = s.id AND o.status <> 'cancelled'), 0) AS order_sold,
		(SELECT count(*) FROM orders o WHERE o.sale_id = s.id AND o.status <> 'cancelled') AS orders,
		(SELECT count(*) FROM orders o WHERE o.sale_id = s.id AND o.status = 'pending_payment') AS pending
		FROM sales s WHERE s.id = $1`, saleID)
	if err != nil {
		return pgSide{}, nil, fmt.Errorf("read sale %s from postgres: %w", saleID, ErrNoSale)
	}
	var ids []string
	if err := r.db.SelectContext(ctx, &ids, `SELECT reservation_id FROM orders WHERE sale_id = $1 AND status <> 'cancelled'`, saleID); err != nil {
		return pgSide{}, nil, fmt.Errorf("read orders of sale %s: %w", saleID, err)
	}
	set := make(map[string]bool, len(ids))
	for _, id := range ids {
		set[id] = true
	}
	return p, set, nil
}

// redisSide is what Redis says of a sale.
type redisSide struct {
	exists                 bool
	products               []redisProduct // an event's, in the order of Postgres's
	stock, available, held int64
	sold                   int64
	outbox                 int64
	confirmed              map[string]int64 // reservation id -> quantity, confirmed reservations
	heldRes                int64            // reservations still held, lapsed or not
}

func (r *Reconciler) redis(ctx context.Context, saleID string, products []pgProduct) (redisSide, error) {
	k := waitingroom.Keys(saleID)
	// One transaction, so no admission or confirmation falls between the
	// counters and the reservations they count.
	var meta, res, named *redis.MapStringStringCmd
	var outbox *redis.IntCmd
	var readProductsBack func() []redisProduct
	_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		meta, outbox = p.HGetAll(ctx, k.Meta), p.ZCard(ctx, k.Outbox)
		res, named = p.HGetAll(ctx, k.Res), p.HGetAll(ctx, k.Shoppers)
		readProductsBack = readProducts(ctx, p, saleID, products)
		return nil
	})
	if err != nil {
		return redisSide{}, fmt.Errorf("read sale %s from redis: %w", saleID, err)
	}
	num := func(f string) int64 { n, _ := strconv.ParseInt(meta.Val()[f], 10, 64); return n }
	s := redisSide{exists: len(meta.Val()) > 0, stock: num("stock"), available: num("available"), held: num("held"),
		sold: num("sold"), outbox: outbox.Val(), confirmed: map[string]int64{},
		heldRes: heldReservations(named.Val(), res.Val(), nil), products: readProductsBack()}
	for id, raw := range res.Val() {
		var v struct {
			Status   string `json:"status"`
			Quantity int64  `json:"quantity"`
		}
		if json.Unmarshal([]byte(raw), &v) != nil {
			continue
		}
		if v.Status == "confirmed" {
			s.confirmed[id] = max(v.Quantity, 1)
		}
	}
	return s, nil
}

// Run compares the sale's two sides.
func (r *Reconciler) Run(ctx context.Context, saleID string) (Report, error) {
	pg, orders, err := r.postgres(ctx, saleID)
	if err != nil {
		return Report{}, err
	}
	products, err := r.pgProducts(ctx, saleID)
	if err != nil {
		return Report{}, err
	}
	rs, err := r.redis(ctx, saleID, products)
	if err != nil {
		return Report{}, err
	}
	// Every partition's backlog, not only the sale's: after the partition
	// count changed, its confirmations may wait in another one.
	backlog, err := orderstream.Backlog(ctx, r.rdb, orderstream.Orders)
	if err != nil {
		return Report{}, err
	}
	rep := Report{SaleID: saleID, InFlight: rs.outbox + backlog}
	add := func(what, redisV, pgV string, ok bool, note string) {
		rep.Checks = append(rep.Checks, Check{What: what, Redis: redisV, Postgres: pgV, OK: ok, Note: note})
	}
	itoa := func(n int64) string { return strconv.FormatInt(n, 10) }
	add("sale in redis", strconv.FormatBool(rs.exists), "true", rs.exists, "")
	add("stock", itoa(rs.stock), itoa(pg.Stock), rs.stock == pg.Stock, "")
	add("available + held + sold = stock", itoa(rs.available+rs.held+rs.sold), itoa(pg.Stock),
		rs.available+rs.held+rs.sold == rs.stock, "every unit counted once in redis")
	add("held = held reservations", fmt.Sprintf("%d / %d", rs.held, rs.heldRes), "-", rs.held == rs.heldRes, "")
	add("sales.sold = orders' quantities", "-", fmt.Sprintf("%d / %d", pg.Sold, pg.OrderSold), pg.Sold == pg.OrderSold,
		"postgres against itself")
	var confirmedQty int64
	missing := 0
	for id, q := range rs.confirmed {
		confirmedQty += q
		if !orders[id] {
			missing++
		}
	}
	add("sold", itoa(rs.sold), itoa(pg.Sold), rs.sold == pg.Sold || rs.sold-pg.Sold <= rep.InFlight && rs.sold > pg.Sold,
		fmt.Sprintf("%d confirmations in flight", rep.InFlight))
	add("confirmed reservations without an order", itoa(int64(missing)), "-",
		int64(missing) <= rep.InFlight, "in flight ones are on their way")
	extra := 0
	for id := range orders {
		if _, ok := rs.confirmed[id]; !ok {
			extra++
		}
	}
	add("orders without a confirmed reservation", "-", itoa(int64(extra)), extra == 0, "")
	add("redis sold = confirmed reservations", itoa(rs.sold), "-", rs.sold == confirmedQty,
		fmt.Sprintf("%d units in %d confirmed reservations", confirmedQty, len(rs.confirmed)))
	rep.Checks = append(rep.Checks, productChecks(products, rs.products, rep.InFlight)...)
	return rep, nil
}

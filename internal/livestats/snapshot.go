// Package livestats is what the operators' dashboard shows: every sale's
// stock, queue and funnel, the shoppers each gateway holds, and how the
// order streams are doing. It only reads, a few round trips per sale
// whatever the number of shoppers, so a dashboard may ask every second.
package livestats

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jmoiron/sqlx"
	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/waitingroom"
)

// SaleSnapshot is one sale as the operators' dashboard shows it.
type SaleSnapshot struct {
	ID      string            `json:"id"`
	Name    string            `json:"name"`
	State   waitingroom.State `json:"state"`
	Stock   StockSnapshot     `json:"stock"`
	Waiting int64             `json:"waiting"`
	Funnel  Funnel            `json:"funnel"`
	Orders  int64             `json:"orders"` // rows in Postgres, not cancelled
	// Products are an event's products' units, in the event's order;
	// absent for a single-product sale, whose push is as it was.
	Products []ProductSnapshot `json:"products,omitempty"`
}

// ProductSnapshot is one product of an event: its units, as Redis counts
// them (docs/products.md). A hold is of the event, so a product has none.
type ProductSnapshot struct {
	SKU   string `json:"sku"`
	Stock int64  `json:"stock"`
	Left  int64  `json:"left"`
	Sold  int64  `json:"sold"`
}

// StockSnapshot is a sale's units.
type StockSnapshot struct {
	Total int64 `json:"total"`
	Left  int64 `json:"left"`
	Held  int64 `json:"held"`
	Sold  int64 `json:"sold"`
}

// Funnel counts shoppers at each step of a sale.
type Funnel struct {
	Joined     int64 `json:"joined"`
	Admitted   int64 `json:"admitted"`
	CheckedOut int64 `json:"checked_out"`
	Paid       int64 `json:"paid"`
}

// NodeSnapshot is one gateway node's shoppers.
type NodeSnapshot struct {
	ID          string `json:"id"`
	Connections int64  `json:"connections"`
}

// Snapshot is everything the dashboard shows at one moment.
type Snapshot struct {
	Sales    []SaleSnapshot `json:"sales"`
	Nodes    []NodeSnapshot `json:"nodes"`
	Pipeline PipelineStatus `json:"pipeline"`
	// Warnings are what the node serving the dashboard knows is wrong with
	// the setup, in words for the operator (a Redis that could lose
	// checkouts); the gateway adds them, Snapshot leaves them empty.
	Warnings []string `json:"warnings,omitempty"`
}

// Reader reads the numbers from Redis, Postgres and the order streams.
type Reader struct {
	rdb redis.UniversalClient
	db  *sqlx.DB
}

// New returns a reader of rdb and db.
func New(rdb redis.UniversalClient, db *sqlx.DB) *Reader { return &Reader{rdb: rdb, db: db} }

type orderCounts struct {
	SaleID string `db:"sale_id"`
	Orders int64  `db:"orders"`
	Paid   int64  `db:"paid"`
}

// Snapshot reads every sale's counters: a few Redis round trips per sale and
// one Postgres query, whatever the number of shoppers.
func (r *Reader) Snapshot(ctx context.Context) (Snapshot, error) {
	plans, err := waitingroom.NewCatalog(r.db).List(ctx)
	if err != nil {
		return Snapshot{}, err
	}
	var counts []orderCounts
	if err := r.db.SelectContext(ctx, &counts, `SELECT sale_id,
		count(*) FILTER (WHERE status <> 'cancelled') AS orders, count(*) FILTER (WHERE status = 'paid') AS paid
		FROM orders GROUP BY sale_id`); err != nil {
		return Snapshot{}, fmt.Errorf("count orders: %w", err)
	}
	bySale := map[string]orderCounts{}
	for _, c := range counts {
		bySale[c.SaleID] = c
	}
	snap := Snapshot{Sales: []SaleSnapshot{}, Nodes: []NodeSnapshot{}}
	nodes := map[string]int64{}
	for _, p := range plans {
		s, err := r.saleSnapshot(ctx, p, nodes)
		if err != nil {
			return Snapshot{}, err
		}
		s.Funnel.Paid, s.Orders = bySale[p.ID].Paid, bySale[p.ID].Orders
		snap.Sales = append(snap.Sales, s)
	}
	for id, n := range nodes {
		snap.Nodes = append(snap.Nodes, NodeSnapshot{ID: id, Connections: n})
	}
	if snap.Pipeline, err = r.Pipeline(ctx); err != nil {
		return Snapshot{}, err
	}
	return snap, nil
}

func (r *Reader) saleSnapshot(ctx context.Context, plan waitingroom.Plan, nodes map[string]int64) (SaleSnapshot, error) {
	id := plan.ID
	k := waitingroom.Keys(id)
	// An event's products' counts are fields of the same meta hash: the
	// same read, a few more fields, whatever the number waiting.
	fields := []string{"state", "stock", "available", "held", "sold", "seq", "preseq", "seed", "admitted"}
	pool := len(fields)
	for _, pr := range plan.Products {
		fields = append(fields, waitingroom.ProductCountFields(pr.SKU)...)
	}
	var meta *redis.SliceCmd
	var queue, pre *redis.IntCmd
	var members *redis.StringSliceCmd
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		meta = p.HMGet(ctx, k.Meta, fields...)
		queue, pre = p.ZCard(ctx, k.Queue), p.ZCard(ctx, k.Pre)
		members = p.SMembers(ctx, k.Nodes)
		return nil
	})
	if err != nil {
		return SaleSnapshot{}, fmt.Errorf("read sale %s: %w", id, err)
	}
	v := meta.Val()
	str := func(i int) string { s, _ := v[i].(string); return s }
	num := func(i int) int64 { n, _ := strconv.ParseInt(str(i), 10, 64); return n }
	joined := num(5)
	if str(7) == "" { // not drawn yet: prequeue joiners have no ticket
		joined += num(6)
	}
	s := SaleSnapshot{ID: id, Name: plan.Name, State: waitingroom.State(str(0)),
		Stock:   StockSnapshot{Total: num(1), Left: num(2), Held: num(3), Sold: num(4)},
		Waiting: queue.Val() + pre.Val(),
		Funnel:  Funnel{Joined: joined, Admitted: num(8), CheckedOut: num(4)},
	}
	for i, pr := range plan.Products {
		at := pool + 3*i
		s.Products = append(s.Products, ProductSnapshot{SKU: pr.SKU, Stock: num(at), Left: num(at + 1), Sold: num(at + 2)})
	}
	for _, node := range members.Val() {
		n, err := r.rdb.SCard(ctx, k.Conns(node)).Result()
		if err != nil {
			return SaleSnapshot{}, fmt.Errorf("count shoppers of node %s: %w", node, err)
		}
		nodes[node] += n
	}
	return s, nil
}

package app_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/internal/shopperclient"
)

// Many sales at once, through two gateways: their confirmations and payment
// results spread over the stream partitions, the one worker reads them all,
// and each sale sells exactly its stock, every order paid once, with nothing
// left in any partition.
func TestManySalesAtOnceSpreadOverThePartitionsAndEachSellsExactlyItsStock(t *testing.T) {
	const sales, stock, shoppers = 12, 5, 8
	sys := startNodes(t, 2, map[string]string{"FOYER_STREAM_PARTITIONS": "8"})
	if n, err := orderstream.Highest(t.Context(), sys.Redis); err != nil || n != 8 {
		t.Fatalf("the partitions announced: %d, %v; want the gateways' 8, before any sale", n, err)
	}
	var ids []string
	for i := range sales {
		ids = append(ids, sys.createSale(t, map[string]any{
			"sku": fmt.Sprintf("SPREAD-%d", i), "name": "Spread", "price_cents": 1000, "stock": stock,
			"starts_at": startsIn(time.Minute), "outflow_per_second": 200, "reservation_ttl_seconds": 60,
		}))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	outcomes := make([][]outcome, sales)
	var wg sync.WaitGroup
	for s, id := range ids {
		outcomes[s] = make([]outcome, shoppers)
		for i := range shoppers {
			client := shopperclient.New(sys.URLs[(s+i)%len(sys.URLs)])
			wg.Go(func() { outcomes[s][i] = shop(ctx, client, id) })
		}
	}
	sys.startOncePrequeued(t, ctx, shoppers, ids...)
	wg.Wait()

	partitions, _ := orderstream.NewPartitions(8)
	used := map[int]bool{}
	for s, id := range ids {
		used[partitions.Of(id)] = true
		var paid int
		for _, o := range outcomes[s] {
			if o.err != nil {
				t.Fatal(o.err)
			}
			if o.ordered {
				paid++
			}
		}
		var rows, paidRows, sold int
		if err := sys.DB.Get(&rows, `SELECT count(*) FROM orders WHERE sale_id = $1`, id); err != nil {
			t.Fatal(err)
		}
		if err := sys.DB.Get(&paidRows, `SELECT count(*) FROM orders WHERE sale_id = $1 AND status = 'paid'`, id); err != nil {
			t.Fatal(err)
		}
		if err := sys.DB.Get(&sold, `SELECT sold FROM sales WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		if paid != stock || rows != stock || paidRows != stock || sold != stock {
			t.Errorf("sale %s (partition %d): %d shoppers paid, %d orders, %d paid, sold %d; want %d each",
				id, partitions.Of(id), paid, rows, paidRows, sold, stock)
		}
	}
	if len(used) < 4 {
		t.Errorf("%d sales used only %d of 8 partitions", sales, len(used))
	}
	// A shopper hears "paid" after the worker's commit, and the message is
	// acknowledged just after: the backlog over every partition empties.
	var status struct {
		Orders   int64 `json:"orders_backlog"`
		Payments int64 `json:"payments_backlog"`
		Poison   int64 `json:"poison_messages"`
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if code := sys.call(t, http.MethodGet, "/v1/admin/pipeline", sys.AdminToken, nil, &status); code != http.StatusOK {
			t.Fatalf("pipeline: %d", code)
		}
		if status.Orders == 0 && status.Payments == 0 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("pipeline %+v; want both backlogs empty", status)
		case <-tick.C:
		}
	}
	if status.Poison != 0 {
		t.Errorf("%d poison messages, want none", status.Poison)
	}
	for _, s := range []orderstream.Stream{orderstream.Orders, orderstream.Payments} {
		if n, _ := sys.Redis.XLen(t.Context(), s.Legacy()).Result(); n != 0 {
			t.Errorf("%s holds %d messages: gateways publish to partitions only", s.Legacy(), n)
		}
	}
}

// The partition count recorded in Redis, lowered by hand (or lost with
// Redis) while a gateway publishes to more, is announced again by the
// gateway within its period (10 s), so workers go back to reading every
// partition it publishes to.
func TestAGatewayAnnouncesItsPartitionsAgainWhenTheRecordFalls(t *testing.T) {
	sys := startNodes(t, 1, map[string]string{"FOYER_STREAM_PARTITIONS": "16"})
	if err := sys.Redis.Set(t.Context(), "foyer.streams.partitions", 2, 0).Err(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		n, err := orderstream.Highest(ctx, sys.Redis)
		if err == nil && n == 16 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the record is %d (%v) 30 s after it was lowered; want the gateway's 16 again", n, err)
		case <-tick.C:
		}
	}
}

package worker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jmoiron/sqlx"
	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/internal/testenv"
	"github.com/foyerhq/foyer/waitingroom"
	"github.com/foyerhq/foyer/worker"
)

// benchConfirmation is the i-th confirmation of a benchmark sale.
func benchConfirmation(sale string, i int) orderstream.ReservationConfirmed {
	return orderstream.ReservationConfirmed{SaleID: sale, ReservationID: fmt.Sprintf("%s-r%06d", sale, i),
		ShopperID: fmt.Sprintf("v%06d", i), Txn: fmt.Sprintf("t%06d", i), Quantity: 1, PriceCents: 1999,
		Currency: "EUR", ConfirmedAt: time.Now().UTC()}
}

func benchSale(b *testing.B, db *sqlx.DB, sale string, stock int) {
	b.Helper()
	_, err := db.Exec(`INSERT INTO sales (id, sku, name, price_cents, stock, starts_at, ends_at, outflow_per_second,
		reservation_ttl_seconds) VALUES ($1, 'B', 'Bench', 1999, $2, now(), now() + interval '1 hour', 10, 60)`, sale, stock)
	if err != nil {
		b.Fatal(err)
	}
}

// waitRows polls until the sale has n order rows.
func waitRows(b *testing.B, db *sqlx.DB, sale string, n int) {
	b.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(5 * time.Minute)
	for range tick.C {
		var got int
		db.Get(&got, `SELECT count(*) FROM orders WHERE sale_id = $1`, sale)
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d orders after 5 minutes", got, n)
		}
	}
}

// pipeline publishes n confirmations, perMessage to a message, to a running
// worker and returns how long until they are all order rows.
func pipeline(b *testing.B, db *sqlx.DB, rdb *redis.Client, sale string, n, perMessage int) time.Duration {
	b.Helper()
	pub, err := orderstream.NewPublisher(rdb, discard)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	for i := 0; i < n; i += perMessage {
		batch := orderstream.ConfirmationBatch{}
		for j := i; j < min(i+perMessage, n); j++ {
			batch.Confirmations = append(batch.Confirmations, benchConfirmation(sale, j))
		}
		payload, _ := json.Marshal(batch)
		topic := partitions.Topic(orderstream.Orders, sale)
		if err := pub.Publish(topic, message.NewMessage(fmt.Sprintf("%s-m%06d", sale, i), payload)); err != nil {
			b.Fatal(err)
		}
	}
	waitRows(b, db, sale, n)
	return time.Since(start)
}

// rawCeiling reads n confirmations straight off a stream with XREADGROUP
// (1,000 per call) and writes them with COPY: the ceiling of this stack.
func rawCeiling(b *testing.B, db *sqlx.DB, rdb *redis.Client, sale string, n int) time.Duration {
	b.Helper()
	ctx := context.Background()
	stream := "bench.raw." + sale
	for i := 0; i < n; i += 1000 {
		_, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for j := i; j < min(i+1000, n); j++ {
				payload, _ := json.Marshal(benchConfirmation(sale, j))
				p.XAdd(ctx, &redis.XAddArgs{Stream: stream, Values: []any{"payload", payload}})
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	rdb.XGroupCreate(ctx, stream, "raw", "0")
	start := time.Now()
	for read := 0; read < n; {
		streams, err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "raw", Consumer: "c", Streams: []string{stream, ">"}, Count: 1000}).Result()
		if err != nil {
			b.Fatal(err)
		}
		tx, _ := db.Begin()
		stmt, err := tx.Prepare(`COPY orders (sale_id, reservation_id, shopper_id, transaction_id,
			quantity, price_cents, status, confirmed_at) FROM STDIN`)
		if err != nil {
			b.Fatal(err)
		}
		var ids []string
		for _, m := range streams[0].Messages {
			var c orderstream.ReservationConfirmed
			json.Unmarshal([]byte(m.Values["payload"].(string)), &c)
			if _, err := stmt.Exec(c.SaleID, c.ReservationID, c.ShopperID, c.Txn, c.Quantity, c.PriceCents, "pending_payment", c.ConfirmedAt); err != nil {
				b.Fatal(err)
			}
			ids = append(ids, m.ID)
		}
		if _, err := stmt.Exec(); err != nil {
			b.Fatal(err)
		}
		stmt.Close()
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		rdb.XAck(ctx, stream, "raw", ids...)
		read += len(ids)
	}
	return time.Since(start)
}

// BenchmarkOrderPipeline measures confirmed reservations per second from
// publish to committed order row, through Watermill and the worker, next to
// the ceiling of raw XREADGROUP plus COPY of the same rows, in the same run:
// one confirmation per message (the stream's one-per-round-trip limit), and
// the gateway's full batches of 500.
func BenchmarkOrderPipeline(b *testing.B) {
	const n = 20000
	ctx := context.Background()
	r := testenv.NewRedis(b)
	rdb, subClient := testenv.RedisClient(b, r), testenv.RedisClient(b, r)
	db, err := sqlx.Open("postgres", testenv.NewDatabase(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	rooms := waitingroom.NewRooms(rdb)
	writer := worker.NewOrderWriter(db, rooms, noAnswer, discard)
	settler := worker.NewPaymentSettler(db, rooms, rooms, noAnswer, discard)
	wk, err := worker.New(rdb, subClient, writer, settler, worker.Config{Consumer: "bench", Partitions: partitions}, discard)
	if err != nil {
		b.Fatal(err)
	}
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { wk.Run(wctx); close(done) }()
	b.Cleanup(func() { stop(); <-done })
	<-wk.Running()

	var single, batched, raw, onePartition, spread time.Duration
	for run := 0; b.Loop(); run++ {
		sales := [3]string{fmt.Sprintf("single%d", run), fmt.Sprintf("batched%d", run), fmt.Sprintf("raw%d", run)}
		for _, s := range sales {
			benchSale(b, db, s, n)
		}
		single = pipeline(b, db, rdb, sales[0], n/4, 1)
		batched = pipeline(b, db, rdb, sales[1], n, 500)
		raw = rawCeiling(b, db, rdb, sales[2], n)
		onePartition = manySales(b, db, rdb, fmt.Sprintf("one%d", run), n, mustPartitions(1))
		spread = manySales(b, db, rdb, fmt.Sprintf("spread%d", run), n, partitions)
	}
	perSecond := func(count int, d time.Duration) float64 { return float64(count) / d.Seconds() }
	b.ReportMetric(perSecond(n/4, single), "single-orders/s")
	b.ReportMetric(perSecond(n, batched), "batched-orders/s")
	b.ReportMetric(perSecond(n, raw), "raw-copy-orders/s")
	b.ReportMetric(perSecond(n, batched)/perSecond(n, raw), "batched/raw")
	b.ReportMetric(perSecond(n, onePartition), "1-partition-orders/s")
	b.ReportMetric(perSecond(n, spread), "8-partitions-orders/s")
	b.ReportMetric(onePartition.Seconds()/spread.Seconds(), "8-partitions/1-partition")
}

// manySales publishes n confirmations of one sale per partition of parts
// (sales named prefix and a number, picked so that each falls in another
// partition of the default count) in the messages a gateway's batch of 500
// makes when its sales spread over the default partitions (about 60 a
// message), and returns how long until they are all order rows. With one
// partition every message is on one stream, read one after the other; with
// more, the worker reads and writes them side by side.
func manySales(b *testing.B, db *sqlx.DB, rdb *redis.Client, prefix string, n int, parts orderstream.Partitions) time.Duration {
	b.Helper()
	var sales []string
	taken := map[int]bool{}
	for i := 0; len(sales) < partitions.Count(); i++ {
		id := fmt.Sprintf("%s-%d", prefix, i)
		if p := partitions.Of(id); !taken[p] {
			taken[p] = true
			sales = append(sales, id)
		}
	}
	per := n / len(sales)
	var cs []orderstream.ReservationConfirmed
	for _, s := range sales {
		benchSale(b, db, s, per)
		for i := range per {
			cs = append(cs, benchConfirmation(s, i))
		}
	}
	pub, err := orderstream.NewPublisher(rdb, discard)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	publishAsGateways(b, pub, parts, 500/partitions.Count(), cs)
	for _, s := range sales {
		waitRows(b, db, s, per)
	}
	return time.Since(start)
}

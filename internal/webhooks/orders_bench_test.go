package webhooks_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jmoiron/sqlx"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/internal/testenv"
	"github.com/foyerhq/foyer/internal/webhooks"
	"github.com/foyerhq/foyer/waitingroom"
	"github.com/foyerhq/foyer/worker"
)

// The size of the order benchmark: a sale's worth of confirmations, in
// messages of a gateway's batch under load (its batcher sends up to 500,
// or whatever came within 5ms).
const (
	benchOrders     = 20000
	benchPerMessage = 100
)

// BenchmarkOrderWritesWithWebhookEvents measures what recording webhook
// events costs the order writer: the same writer writes benchOrders
// confirmations, benchPerMessage to a message, with the event recorder on
// (one endpoint subscribed to every type, so each order's order.created
// also makes its delivery row, in the same statement) and with Events nil.
// Each side writes a sale of its own, and the side that goes first
// alternates from one iteration to the next, so a noisy machine, or tables
// that grow, weigh on both alike. The payment provider never answers, so
// charging costs next to nothing and no settlement runs meanwhile.
func BenchmarkOrderWritesWithWebhookEvents(b *testing.B) {
	db, err := sqlx.Open("postgres", testenv.NewDatabase(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	rooms := waitingroom.NewRooms(testenv.RedisClient(b, testenv.NewRedis(b)))
	s := webhooks.NewStore(db)
	s.AllowPrivate = true
	if _, err := s.Create(b.Context(), webhooks.NewEndpoint{URL: "http://127.0.0.1:9/hooks", Events: webhooks.EventTypes}, "bench"); err != nil {
		b.Fatal(err)
	}
	never := &checkout.TestProvider{Outcome: "never", Log: discard}
	b.Cleanup(func() { never.Close() })
	plain := worker.NewOrderWriter(db, rooms, never, discard)
	recording := worker.NewOrderWriter(db, rooms, never, discard)
	recording.Events = webhooks.NewRecorder()

	// A sale written before the clock runs, and the tables analysed, as
	// autovacuum has them on a database that has seen orders: on a table
	// never analysed the planner reads the recorder's orders back with a
	// sequential scan, a cost that grows with the table and that no live
	// database pays for long.
	benchOrderSale(b, db, "s_warmup")
	writeAll(b, recording, confirmationMessages(b, "s_warmup"))
	if _, err := db.Exec(`ANALYZE orders, webhook_events, webhook_deliveries`); err != nil {
		b.Fatal(err)
	}

	var withEvents, without time.Duration
	run := 0
	for b.Loop() {
		b.StopTimer()
		run++
		sides := []struct {
			writer *worker.OrderWriter
			took   *time.Duration
			sale   string
		}{
			{recording, &withEvents, fmt.Sprintf("s_events%d", run)},
			{plain, &without, fmt.Sprintf("s_plain%d", run)},
		}
		if run%2 == 0 {
			sides[0], sides[1] = sides[1], sides[0]
		}
		for _, side := range sides {
			benchOrderSale(b, db, side.sale)
			msgs := confirmationMessages(b, side.sale)
			b.StartTimer()
			*side.took += writeAll(b, side.writer, msgs)
			b.StopTimer()
		}
		b.StartTimer()
	}
	b.StopTimer()
	if got := countRows(b, db, `SELECT count(*) FROM webhook_deliveries`); got != (run+1)*benchOrders {
		b.Fatalf("%d deliveries made, want %d: the recorder did not run as measured", got, (run+1)*benchOrders)
	}
	reportRatio(b, "orders/s", float64(run*benchOrders), withEvents, without)
}

// benchOrderSale makes a sale with stock for every order of the benchmark.
func benchOrderSale(b *testing.B, db *sqlx.DB, sale string) {
	b.Helper()
	if _, err := db.Exec(`INSERT INTO sales (id, sku, name, price_cents, stock, starts_at, ends_at,
		outflow_per_second, reservation_ttl_seconds)
		VALUES ($1, 'B', 'Bench', 1999, $2, now(), now() + interval '1 hour', 10, 60)`, sale, benchOrders); err != nil {
		b.Fatal(err)
	}
}

// confirmationMessages encodes a sale's confirmations as the gateway's
// batcher does, before the clock runs.
func confirmationMessages(b *testing.B, sale string) []*message.Message {
	b.Helper()
	var msgs []*message.Message
	for i := 0; i < benchOrders; i += benchPerMessage {
		var batch []orderstream.ReservationConfirmed
		for j := i; j < min(i+benchPerMessage, benchOrders); j++ {
			batch = append(batch, orderstream.ReservationConfirmed{SaleID: sale,
				ReservationID: fmt.Sprintf("%s-r%06d", sale, j), ShopperID: fmt.Sprintf("v%06d", j),
				Txn: fmt.Sprintf("%s-t%06d", sale, j), Quantity: 1, PriceCents: 1999, Currency: "EUR",
				ConfirmedAt: time.Now().UTC()})
		}
		msg, err := orderstream.ConfirmationBatchMessage(batch)
		if err != nil {
			b.Fatal(err)
		}
		msgs = append(msgs, msg)
	}
	return msgs
}

// writeAll hands the writer every batch, as the worker's router does one
// message after another, and gives how long that took.
func writeAll(b *testing.B, w *worker.OrderWriter, msgs []*message.Message) time.Duration {
	b.Helper()
	start := time.Now()
	for _, msg := range msgs {
		if err := w.Handle(msg); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start)
}

// reportRatio reports Foyer's rate and the baseline's, both counted over
// the same count, and Foyer's as a share of the baseline's.
func reportRatio(b *testing.B, unit string, count float64, foyer, bare time.Duration) {
	b.Helper()
	foyerRate, bareRate := count/foyer.Seconds(), count/bare.Seconds()
	b.ReportMetric(foyerRate, unit)
	b.ReportMetric(bareRate, "baseline-"+unit)
	b.ReportMetric(foyerRate/bareRate, "ratio")
}

func countRows(b *testing.B, db *sqlx.DB, query string, args ...any) int {
	b.Helper()
	var n int
	if err := db.Get(&n, query, args...); err != nil {
		b.Fatal(err)
	}
	return n
}

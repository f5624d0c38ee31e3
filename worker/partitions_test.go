package worker_test

import (
	"context"
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

// partitions are the stream partitions the tests' gateways publish to.
var partitions = mustPartitions(orderstream.DefaultPartitions)

func mustPartitions(n int) orderstream.Partitions {
	p, err := orderstream.NewPartitions(n)
	if err != nil {
		panic(err)
	}
	return p
}

// addSales adds sales of stock units each to db.
func addSales(t *testing.T, db *sqlx.DB, stock int, ids ...string) {
	t.Helper()
	for _, id := range ids {
		_, err := db.ExecContext(t.Context(), `INSERT INTO sales (id, sku, name, price_cents, stock, starts_at, ends_at,
			outflow_per_second, reservation_ttl_seconds)
			VALUES ($1, 'SKU-1', 'Test sale', 1999, $2, now() - interval '1 minute', now() + interval '1 hour', 10, 60)`, id, stock)
		if err != nil {
			t.Fatal(err)
		}
	}
}

// saleConfirmation is the i-th confirmed reservation of sale.
func saleConfirmation(sale string, i int) orderstream.ReservationConfirmed {
	c := confirmation(i)
	c.SaleID, c.ReservationID = sale, fmt.Sprintf("r_%s_%03d", sale, i)
	return c
}

// publishAsGateways publishes confirmations as the gateways' batchers do:
// in messages of up to perMessage, each to its sale's partition.
func publishAsGateways(t testing.TB, pub message.Publisher, parts orderstream.Partitions, perMessage int, cs []orderstream.ReservationConfirmed) {
	t.Helper()
	byTopic := map[string][]orderstream.ReservationConfirmed{}
	for _, c := range cs {
		topic := parts.Topic(orderstream.Orders, c.SaleID)
		byTopic[topic] = append(byTopic[topic], c)
	}
	for topic, all := range byTopic {
		for i := 0; i < len(all); i += perMessage {
			msg, err := orderstream.ConfirmationBatchMessage(all[i:min(i+perMessage, len(all))])
			if err != nil {
				t.Fatal(err)
			}
			if err := pub.Publish(topic, msg); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// startWorker starts an order worker with cfg on its own subscriber client
// of r and returns a function that stops it and waits until it has.
func startWorker(t *testing.T, db *sqlx.DB, r *redis.Client, subClient *redis.Client, cfg worker.Config) (stop func()) {
	t.Helper()
	rooms := waitingroom.NewRooms(r)
	writer := worker.NewOrderWriter(db, rooms, noAnswer, discard)
	settler := worker.NewPaymentSettler(db, rooms, rooms, noAnswer, discard)
	wk, err := worker.New(r, subClient, writer, settler, cfg, discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	ran := make(chan error, 1)
	go func() { ran <- wk.Run(ctx) }()
	select {
	case <-wk.Running():
	case err := <-ran:
		cancel()
		t.Fatalf("the worker stopped before it ran: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the worker did not start within 10s")
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-ran; err != nil {
			t.Errorf("worker Run: %v", err)
		}
	}
	t.Cleanup(stop)
	return stop
}

// ordersBySale counts each sale's order rows and each reservation's.
func ordersBySale(t *testing.T, db *sqlx.DB) (bySale map[string]int, byReservation map[string]int) {
	t.Helper()
	bySale, byReservation = map[string]int{}, map[string]int{}
	for _, o := range orders(t, db) {
		bySale[o.SaleID]++
		byReservation[o.ReservationID]++
	}
	return bySale, byReservation
}

// wantEveryConfirmationOneOrderAndNoOversell checks that each confirmation
// is exactly one order row, that each sale's sold count is its rows and no
// more than its stock, and that nothing waits in the streams or poisoned.
func wantEveryConfirmationOneOrderAndNoOversell(t *testing.T, db *sqlx.DB, rdb *redis.Client, cs []orderstream.ReservationConfirmed) {
	t.Helper()
	eventually(t, 30*time.Second, func() (bool, string) {
		backlog, err := orderstream.Backlog(t.Context(), rdb, orderstream.Orders)
		rows := len(orders(t, db))
		return err == nil && backlog == 0 && rows >= len(cs), fmt.Sprintf("%d of %d orders, backlog %d (%v)", rows, len(cs), backlog, err)
	})
	bySale, byReservation := ordersBySale(t, db)
	for _, c := range cs {
		if byReservation[c.ReservationID] != 1 {
			t.Errorf("reservation %s has %d orders, want 1", c.ReservationID, byReservation[c.ReservationID])
		}
	}
	if len(byReservation) != len(cs) {
		t.Errorf("%d reservations have orders, want %d", len(byReservation), len(cs))
	}
	var over []string
	if err := db.SelectContext(t.Context(), &over, `SELECT s.id FROM sales s
		WHERE s.sold > s.stock OR s.sold <> (SELECT coalesce(sum(quantity), 0) FROM orders o WHERE o.sale_id = s.id)`); err != nil {
		t.Fatal(err)
	}
	if len(over) != 0 {
		t.Errorf("sales sold past their stock or apart from their orders: %v (orders by sale %v)", over, bySale)
	}
	if n, err := rdb.XLen(t.Context(), orderstream.PoisonTopic).Result(); err != nil || n != 0 {
		t.Errorf("poison topic holds %d messages (%v), want none", n, err)
	}
}

// Many sales' orders land on every partition, one worker reads them all,
// and each confirmation, the duplicates a relay publishes included, becomes
// exactly one order.
func TestOrdersOfManySalesSpreadOverEveryPartitionAndEachBecomesOneOrder(t *testing.T) {
	const sales, perSale = 40, 5
	db := newDB(t, 1)
	r := testenv.NewRedis(t)
	rdb := testenv.RedisClient(t, r)
	var ids []string
	var cs []orderstream.ReservationConfirmed
	for s := range sales {
		id := fmt.Sprintf("s_spread_%02d", s)
		ids = append(ids, id)
		for i := range perSale {
			cs = append(cs, saleConfirmation(id, i))
		}
	}
	addSales(t, db, perSale, ids...)
	if _, err := orderstream.Announce(t.Context(), rdb, partitions); err != nil {
		t.Fatal(err)
	}
	startWorker(t, db, rdb, testenv.RedisClient(t, r), worker.Config{Consumer: "w1", Partitions: partitions})

	pub, err := orderstream.NewPublisher(rdb, discard)
	if err != nil {
		t.Fatal(err)
	}
	publishAsGateways(t, pub, partitions, 3, cs)
	// The outbox relay publishes a confirmation again when it cannot tell
	// it went out: one of every sale's, alone.
	for _, id := range ids {
		msg := messageOf(t, saleConfirmation(id, 0))
		if err := pub.Publish(partitions.Topic(orderstream.Orders, id), msg); err != nil {
			t.Fatal(err)
		}
	}
	for p := range partitions.Count() {
		if n, err := rdb.XLen(t.Context(), orderstream.Orders.Partition(p)).Result(); err != nil || n == 0 {
			t.Errorf("partition %d holds %d messages (%v): the sales did not spread over every partition", p, n, err)
		}
	}
	wantEveryConfirmationOneOrderAndNoOversell(t, db, rdb, cs)
	if n, _ := rdb.XLen(t.Context(), orderstream.Orders.Legacy()).Result(); n != 0 {
		t.Errorf("the single stream of before holds %d messages; gateways now publish to partitions only", n)
	}
}

// A worker stopped while the partitions hold confirmations, and started
// again, writes each once: what it had taken and not acknowledged is
// claimed again, what came meanwhile is read, and no sale sells past its
// stock, though more confirmations than its stock are published for one.
func TestNothingIsLostOrSoldTwiceAcrossAWorkerRestart(t *testing.T) {
	const sales, perSale = 16, 10
	db := newDB(t, 1)
	r := testenv.NewRedis(t)
	rdb := testenv.RedisClient(t, r)
	var ids []string
	var first, second []orderstream.ReservationConfirmed
	for s := range sales {
		id := fmt.Sprintf("s_restart_%02d", s)
		ids = append(ids, id)
		for i := range perSale {
			if i < perSale/2 {
				first = append(first, saleConfirmation(id, i))
			} else {
				second = append(second, saleConfirmation(id, i))
			}
		}
	}
	addSales(t, db, perSale, ids...)
	pub, err := orderstream.NewPublisher(rdb, discard)
	if err != nil {
		t.Fatal(err)
	}
	// A short claim time, so the restarted worker takes back at once what it
	// had in hand when it stopped.
	cfg := worker.Config{Consumer: "w1", Partitions: partitions, ClaimIdle: time.Second}
	stop := startWorker(t, db, rdb, testenv.RedisClient(t, r), cfg)
	publishAsGateways(t, pub, partitions, 1, first)
	eventually(t, 20*time.Second, func() (bool, string) {
		n := len(orders(t, db))
		return n > 0, fmt.Sprintf("%d orders", n)
	})
	stop()
	publishAsGateways(t, pub, partitions, 1, second)
	startWorker(t, db, rdb, testenv.RedisClient(t, r), cfg)
	wantEveryConfirmationOneOrderAndNoOversell(t, db, rdb, append(first, second...))

	// One more past a sale's stock is refused and written by nobody.
	extra := saleConfirmation(ids[0], perSale)
	publishAsGateways(t, pub, partitions, 1, []orderstream.ReservationConfirmed{extra})
	eventually(t, 20*time.Second, func() (bool, string) {
		n, _ := rdb.XLen(t.Context(), orderstream.PoisonTopic).Result()
		return n == 1, fmt.Sprintf("%d poison messages", n)
	})
	if _, byReservation := ordersBySale(t, db); byReservation[extra.ReservationID] != 0 {
		t.Errorf("the confirmation past the stock became an order")
	}
}

// A worker of this version drains what gateways of the version before
// partitions publish to the single streams, during an upgrade: the
// confirmations become orders, and a payment result settles its order.
func TestAWorkerDrainsTheSingleStreamsOfTheVersionBeforePartitions(t *testing.T) {
	db := newDB(t, 5)
	r := testenv.NewRedis(t)
	rdb := testenv.RedisClient(t, r)
	startWorker(t, db, rdb, testenv.RedisClient(t, r), worker.Config{Consumer: "w1", Partitions: partitions})
	pub, err := orderstream.NewPublisher(rdb, discard)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := pub.Publish(orderstream.Orders.Legacy(), messageOf(t, confirmation(i))); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 20*time.Second, func() (bool, string) {
		n := len(orders(t, db))
		return n == 3, fmt.Sprintf("%d orders", n)
	})
	o := orders(t, db)[0]
	paid := orderstream.PaymentResult{OrderID: o.ID, SaleID: o.SaleID, ReservationID: o.ReservationID, Status: "paid"}
	msg, err := orderstream.PaymentResultsMessage([]orderstream.PaymentResult{paid})
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Publish(orderstream.Payments.Legacy(), msg); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, func() (bool, string) {
		status := orders(t, db)[0].Status
		return status == worker.OrderPaid, "order " + status
	})
	// A message is acknowledged after its rows commit, so the backlog may
	// still hold it for a moment after the order reads paid.
	for _, s := range []orderstream.Stream{orderstream.Orders, orderstream.Payments} {
		eventually(t, 20*time.Second, func() (bool, string) {
			n, err := orderstream.Backlog(t.Context(), rdb, s)
			return err == nil && n == 0, fmt.Sprintf("backlog %d (%v), want the single stream drained", n, err)
		})
	}
}

// A gateway started with more partitions announces them before it
// publishes; a running worker set for fewer reads the new ones too, from
// their first message, and a worker started later with fewer still reads
// every partition up to the highest count announced: lowering the count
// strands nothing.
func TestAWorkerReadsEveryPartitionUpToTheHighestCountAnnounced(t *testing.T) {
	db := newDB(t, 1)
	r := testenv.NewRedis(t)
	rdb := testenv.RedisClient(t, r)
	two, eight := mustPartitions(2), mustPartitions(8)
	if _, err := orderstream.Announce(t.Context(), rdb, two); err != nil {
		t.Fatal(err)
	}
	// Sales whose partition of eight is past the first two.
	var high []string
	for i := 0; len(high) < 2; i++ {
		if id := fmt.Sprintf("s_high_%d", i); eight.Of(id) >= two.Count() {
			high = append(high, id)
		}
	}
	addSales(t, db, 5, high...)
	cfg := worker.Config{Consumer: "w1", Partitions: two, PartitionsPoll: 50 * time.Millisecond}
	stop := startWorker(t, db, rdb, testenv.RedisClient(t, r), cfg)
	pub, err := orderstream.NewPublisher(rdb, discard)
	if err != nil {
		t.Fatal(err)
	}
	// A message on a partition no worker reads yet, and nobody announced
	// (a gateway that published before announcing would do this): it
	// waits in its stream, and is read once the count is announced.
	early := saleConfirmation(high[0], 0)
	publishAsGateways(t, pub, eight, 1, []orderstream.ReservationConfirmed{early})
	if highest, err := orderstream.Announce(t.Context(), rdb, eight); err != nil || highest != 8 {
		t.Fatalf("Announce(8) = %d, %v", highest, err)
	}
	later := saleConfirmation(high[1], 0)
	publishAsGateways(t, pub, eight, 1, []orderstream.ReservationConfirmed{later})
	wantEveryConfirmationOneOrderAndNoOversell(t, db, rdb, []orderstream.ReservationConfirmed{early, later})

	// The gateways go back to two partitions: the record stays at eight,
	// and a worker set for one reads all eight.
	stop()
	if highest, err := orderstream.Announce(t.Context(), rdb, two); err != nil || highest != 8 {
		t.Fatalf("Announce(2) after 8 = %d, %v; want the record to stay at 8", highest, err)
	}
	stranded := saleConfirmation(high[0], 1)
	publishAsGateways(t, pub, eight, 1, []orderstream.ReservationConfirmed{stranded})
	// A read the stopped worker had in flight may take the message as it
	// stops: another worker claims it back after ClaimIdle.
	cfg.Partitions, cfg.Consumer, cfg.ClaimIdle = mustPartitions(1), "w2", time.Second
	startWorker(t, db, rdb, testenv.RedisClient(t, r), cfg)
	wantEveryConfirmationOneOrderAndNoOversell(t, db, rdb, []orderstream.ReservationConfirmed{early, later, stranded})
}

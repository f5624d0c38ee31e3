package worker_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/internal/testenv"
	"github.com/foyerhq/foyer/waitingroom"
	"github.com/foyerhq/foyer/worker"
)

// runWorker starts an order worker on the Redis at rdb's server and returns
// once it consumes. It stops when the test ends.
func runWorker(t *testing.T, db *sqlx.DB, rdb, subClient *redis.Client, w *worker.OrderWriter) {
	t.Helper()
	settler := worker.NewPaymentSettler(db, waitingroom.NewRooms(rdb), waitingroom.NewRooms(rdb), noAnswer, discard)
	wk, err := worker.New(rdb, subClient, w, settler, worker.Config{Consumer: "w1", Partitions: partitions}, discard)
	if err != nil {
		t.Fatal(err)
	}
	var runErr error
	stopped := make(chan struct{})
	// t.Context ends before the cleanups run, which then wait for the worker.
	go func() {
		defer close(stopped)
		runErr = wk.Run(t.Context())
	}()
	t.Cleanup(func() {
		<-stopped
		if runErr != nil {
			t.Errorf("worker Run: %v", runErr)
		}
	})
	select {
	case <-wk.Running():
	case <-stopped:
		t.Fatalf("the worker stopped before it ran: %v", runErr)
	case <-time.After(10 * time.Second):
		t.Fatal("the worker did not start within 10s")
	}
}

// eventually polls cond until it holds or the deadline passes: the worker
// acknowledges and commits on its own goroutines, which tell nobody.
func eventually(t *testing.T, within time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		ok, state := cond()
		if ok {
			return
		}
		select {
		case <-deadline.C:
			t.Fatalf("not so after %v: %s", within, state)
		case <-tick.C:
		}
	}
}

func TestTheWorkerTurnsEveryPublishedConfirmationIntoExactlyOneOrder(t *testing.T) {
	const distinct, duplicates = 50, 10
	db := newDB(t, 60) // more than distinct, so a double count would show rather than be refused
	r := testenv.NewRedis(t)
	rdb, subClient := testenv.RedisClient(t, r), testenv.RedisClient(t, r)
	runWorker(t, db, rdb, subClient, worker.NewOrderWriter(db, waitingroom.NewRooms(rdb), noAnswer, discard))

	pub, err := orderstream.NewPublisher(rdb, discard)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []*message.Message
	for i := range distinct {
		msgs = append(msgs, messageOf(t, confirmation(i)))
	}
	for i := range duplicates {
		msgs = append(msgs, messageOf(t, confirmation(i*5))) // redelivered, or published again by the outbox relay
	}
	if err := pub.Publish(partitions.Topic(orderstream.Orders, saleID), msgs...); err != nil {
		t.Fatal(err)
	}
	last, err := rdb.XRevRangeN(t.Context(), partitions.Topic(orderstream.Orders, saleID), "+", "-", 1).Result()
	if err != nil || len(last) != 1 {
		t.Fatalf("last entry of %s: %v, %v", partitions.Topic(orderstream.Orders, saleID), last, err)
	}

	// Every message, duplicates included, delivered and acknowledged.
	eventually(t, 20*time.Second, func() (bool, string) {
		groups, err := rdb.XInfoGroups(t.Context(), partitions.Topic(orderstream.Orders, saleID)).Result()
		if err != nil || len(groups) != 1 {
			return false, fmt.Sprintf("consumer groups %+v, %v", groups, err)
		}
		g := groups[0]
		return g.Name == orderstream.ConsumerGroup && g.LastDeliveredID == last[0].ID && g.Pending == 0,
			fmt.Sprintf("group %+v, last entry %s", g, last[0].ID)
	})

	rows := orders(t, db)
	if len(rows) != distinct {
		t.Errorf("%d order rows, want %d", len(rows), distinct)
	}
	seen := map[string]bool{}
	for _, o := range rows {
		if seen[o.ReservationID] {
			t.Errorf("two orders for reservation %s", o.ReservationID)
		}
		seen[o.ReservationID] = true
	}
	for i := range distinct {
		if id := confirmation(i).ReservationID; !seen[id] {
			t.Errorf("no order for reservation %s", id)
		}
	}
	if n := sold(t, db); n != distinct {
		t.Errorf("sold = %d, want %d", n, distinct)
	}
	if n, err := rdb.XLen(t.Context(), orderstream.PoisonTopic).Result(); err != nil || n != 0 {
		t.Errorf("poison topic holds %d messages (%v), want none", n, err)
	}
	// Each shopper hears of its order, with the order's id.
	announced := map[string]int64{}
	for _, e := range orderEvents(t, rdb) {
		announced[e.Reservation] = e.OrderID
	}
	for _, o := range rows {
		if announced[o.ReservationID] != o.ID {
			t.Errorf("reservation %s: announced order %d, want %d", o.ReservationID, announced[o.ReservationID], o.ID)
		}
	}
}

package worker_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"
	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/internal/testenv"
	"github.com/foyerhq/foyer/waitingroom"
	"github.com/foyerhq/foyer/worker"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// discard keeps the code under test from logging after its test has ended.
var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

const saleID = "s_orders"

// newDB returns a fresh database holding one sale of stock units.
func newDB(t *testing.T, stock int) *sqlx.DB {
	t.Helper()
	db, err := sqlx.Open("postgres", testenv.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	_, err = db.ExecContext(t.Context(), `INSERT INTO sales (id, sku, name, price_cents, stock, starts_at, ends_at,
		outflow_per_second, reservation_ttl_seconds)
		VALUES ($1, 'SKU-1', 'Test sale', 1999, $2, now() - interval '1 minute', now() + interval '1 hour', 10, 60)`,
		saleID, stock)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// confirmation returns the i-th confirmed reservation of the sale.
func confirmation(i int) orderstream.ReservationConfirmed {
	return orderstream.ReservationConfirmed{
		SaleID: saleID, ReservationID: fmt.Sprintf("r_%03d", i), ShopperID: fmt.Sprintf("shopper-%03d", i),
		Txn: fmt.Sprintf("txn-%03d", i), Quantity: 1, PriceCents: 1999,
		ConfirmedAt: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC).Add(time.Duration(i) * time.Second),
	}
}

// messageOf builds the message checkout publishes for c.
func messageOf(t *testing.T, c orderstream.ReservationConfirmed) *message.Message {
	t.Helper()
	payload, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	msg := message.NewMessage(c.ReservationID, payload)
	msg.Metadata.Set(orderstream.TxnMetadataKey, c.Txn)
	return msg
}

// order is a row of the orders table.
type order struct {
	ID            int64     `db:"id"`
	SaleID        string    `db:"sale_id"`
	ReservationID string    `db:"reservation_id"`
	ShopperID     string    `db:"shopper_id"`
	TransactionID string    `db:"transaction_id"`
	Quantity      int       `db:"quantity"`
	PriceCents    int64     `db:"price_cents"`
	Status        string    `db:"status"`
	ConfirmedAt   time.Time `db:"confirmed_at"`
}

func orders(t *testing.T, db *sqlx.DB) []order {
	t.Helper()
	var rows []order
	err := db.SelectContext(t.Context(), &rows, `SELECT id, sale_id, reservation_id, shopper_id, transaction_id,
		quantity, price_cents, status, confirmed_at FROM orders ORDER BY reservation_id`)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func sold(t *testing.T, db *sqlx.DB) int {
	t.Helper()
	var n int
	if err := db.GetContext(t.Context(), &n, `SELECT sold FROM sales WHERE id = $1`, saleID); err != nil {
		t.Fatal(err)
	}
	return n
}

// orderEvents returns the order events on the sale's event stream.
func orderEvents(t *testing.T, rdb *redis.Client) []waitingroom.OrderEvent {
	t.Helper()
	entries, err := rdb.XRange(t.Context(), waitingroom.Keys(saleID).Events, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var events []waitingroom.OrderEvent
	for _, e := range entries {
		event, err := waitingroom.DecodeEvent(e)
		if err != nil {
			t.Fatalf("event %s: %v", e.ID, err)
		}
		events = append(events, event.OrderNews()...)
	}
	return events
}

// newWriter returns an order writer on db that announces through the real
// waiting rooms on a fresh Redis.
func newWriter(t *testing.T, db *sqlx.DB) (*worker.OrderWriter, *redis.Client) {
	t.Helper()
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	return worker.NewOrderWriter(db, waitingroom.NewRooms(rdb), noAnswer, discard), rdb
}

func TestHandlingTheSameMessageTwiceWritesOneOrder(t *testing.T) {
	db := newDB(t, 5)
	w, rdb := newWriter(t, db)
	c := confirmation(1)

	for delivery := 1; delivery <= 2; delivery++ {
		if err := w.Handle(messageOf(t, c)); err != nil {
			t.Fatalf("delivery %d: %v", delivery, err)
		}
	}

	rows := orders(t, db)
	if len(rows) != 1 {
		t.Fatalf("%d order rows, want 1", len(rows))
	}
	got := rows[0]
	want := order{ID: got.ID, SaleID: saleID, ReservationID: c.ReservationID, ShopperID: c.ShopperID,
		TransactionID: c.Txn, Quantity: 1, PriceCents: c.PriceCents, Status: worker.OrderPendingPayment,
		ConfirmedAt: got.ConfirmedAt}
	if got != want {
		t.Errorf("order = %+v\nwant    %+v", got, want)
	}
	if !got.ConfirmedAt.Equal(c.ConfirmedAt) {
		t.Errorf("confirmed_at = %v, want %v", got.ConfirmedAt, c.ConfirmedAt)
	}
	if n := sold(t, db); n != 1 {
		t.Errorf("sold = %d, want 1", n)
	}
	// Each delivery announces, with the one order's id.
	events := orderEvents(t, rdb)
	if len(events) != 2 {
		t.Fatalf("%d order events, want one per delivery: %+v", len(events), events)
	}
	for _, e := range events {
		wantEvent := waitingroom.OrderEvent{Shopper: c.ShopperID, Reservation: c.ReservationID, OrderID: got.ID,
			Status: worker.OrderPendingPayment}
		if e != wantEvent {
			t.Errorf("event = %+v, want %+v", e, wantEvent)
		}
	}
}

func TestAnOrderPastTheStockIsRefusedAsOversellAndWritesNothing(t *testing.T) {
	db := newDB(t, 1)
	w, rdb := newWriter(t, db)
	if err := w.Handle(messageOf(t, confirmation(1))); err != nil {
		t.Fatalf("the order within stock: %v", err)
	}

	err := w.Handle(messageOf(t, confirmation(2)))
	if !errors.Is(err, worker.ErrOversell) {
		t.Fatalf("Handle = %v, want ErrOversell", err)
	}
	rows := orders(t, db)
	if len(rows) != 1 || rows[0].ReservationID != confirmation(1).ReservationID {
		t.Errorf("orders = %+v, want only the first", rows)
	}
	if n := sold(t, db); n != 1 {
		t.Errorf("sold = %d, want 1", n)
	}
	if events := orderEvents(t, rdb); len(events) != 1 {
		t.Errorf("order events = %+v, want only the first order's", events)
	}
}

func TestAMessageThatCannotBecomeAnOrderIsAnErrorAndWritesNothing(t *testing.T) {
	tests := []struct {
		name string
		msg  func(t *testing.T) *message.Message
	}{
		{"not JSON", func(*testing.T) *message.Message {
			return message.NewMessage("r_bad", []byte("not json"))
		}},
		{"for an unknown sale", func(t *testing.T) *message.Message {
			c := confirmation(1)
			c.SaleID = "s_nosuchsale"
			return messageOf(t, c)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := newDB(t, 5)
			w, rdb := newWriter(t, db)
			if err := w.Handle(tt.msg(t)); err == nil {
				t.Fatal("Handle succeeded")
			}
			if rows := orders(t, db); len(rows) != 0 {
				t.Errorf("orders = %+v, want none", rows)
			}
			if n := sold(t, db); n != 0 {
				t.Errorf("sold = %d, want 0", n)
			}
			if events := orderEvents(t, rdb); len(events) != 0 {
				t.Errorf("order events = %+v, want none", events)
			}
		})
	}
}

// Two workers may hold the same message at once: one claimed it from the
// other, which was slow rather than dead.
func TestConcurrentDeliveriesOfOneReservationWriteOneOrder(t *testing.T) {
	const deliveries = 10
	db := newDB(t, 5)
	w, _ := newWriter(t, db)
	c := confirmation(1)

	errs := make([]error, deliveries)
	var wg sync.WaitGroup
	for i := range deliveries {
		wg.Go(func() { errs[i] = w.Handle(messageOf(t, c)) })
	}
	wg.Wait()

	for i, err := range errs {
		if err != nil {
			t.Errorf("delivery %d: %v", i, err)
		}
	}
	if rows := orders(t, db); len(rows) != 1 {
		t.Errorf("%d order rows, want 1", len(rows))
	}
	if n := sold(t, db); n != 1 {
		t.Errorf("sold = %d, want 1", n)
	}
}

func TestConcurrentOrdersNeverPassTheStock(t *testing.T) {
	const stock, reservations = 5, 12
	db := newDB(t, stock)
	w, _ := newWriter(t, db)

	errs := make([]error, reservations)
	var wg sync.WaitGroup
	for i := range reservations {
		wg.Go(func() { errs[i] = w.Handle(messageOf(t, confirmation(i))) })
	}
	wg.Wait()

	var written, oversold int
	for i, err := range errs {
		switch {
		case err == nil:
			written++
		case errors.Is(err, worker.ErrOversell):
			oversold++
		default:
			t.Errorf("reservation %d: %v", i, err)
		}
	}
	if written != stock || oversold != reservations-stock {
		t.Errorf("%d written and %d refused as oversell, want %d and %d", written, oversold, stock, reservations-stock)
	}
	if rows := orders(t, db); len(rows) != stock {
		t.Errorf("%d order rows, want %d", len(rows), stock)
	}
	if n := sold(t, db); n != stock {
		t.Errorf("sold = %d, want %d", n, stock)
	}
}

// The row is committed before the announcement, so an announcement that
// fails makes the message come back, and the redelivery announces the order
// it finds instead of writing a second one.
func TestAnOrderWhoseAnnouncementFailedIsAnnouncedOnRedelivery(t *testing.T) {
	db := newDB(t, 5)
	r := testenv.NewRedis(t)
	// A client that gives up at once while Redis is down, not after retries.
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr, MaxRetries: -1, DialerRetries: 1})
	t.Cleanup(func() { rdb.Close() })
	w := worker.NewOrderWriter(db, waitingroom.NewRooms(rdb), noAnswer, discard)
	c := confirmation(1)

	if err := r.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := w.Handle(messageOf(t, c)); err == nil {
		t.Fatal("Handle succeeded with Redis down; the message would be acknowledged unannounced")
	}
	if err := r.Restart(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := w.Handle(messageOf(t, c)); err != nil {
		t.Fatalf("redelivery: %v", err)
	}

	rows := orders(t, db)
	if len(rows) != 1 {
		t.Fatalf("%d order rows, want 1", len(rows))
	}
	if n := sold(t, db); n != 1 {
		t.Errorf("sold = %d, want 1", n)
	}
	events := orderEvents(t, rdb)
	if len(events) != 1 || events[0].OrderID != rows[0].ID {
		t.Errorf("order events = %+v, want one for order %d", events, rows[0].ID)
	}
}

// noAnswer is the built-in test payment provider set to never answer: the
// orders stay pending payment, which is what these tests look at.
var noAnswer = &checkout.TestProvider{Outcome: "never", Log: discard}

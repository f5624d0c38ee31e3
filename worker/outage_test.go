package worker_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/internal/testenv"
	"github.com/foyerhq/foyer/waitingroom"
	"github.com/foyerhq/foyer/worker"
)

// TestAPostgresOutageHoldsConfirmationsUntilItIsBack cuts the worker off
// from its database for longer than a few retries last, and expects the
// confirmation to wait in its stream, not on the poison topic, and to become
// its order once the database is back.
func TestAPostgresOutageHoldsConfirmationsUntilItIsBack(t *testing.T) {
	db := newDB(t, 10)
	var name string
	if err := db.Get(&name, `SELECT current_database()`); err != nil {
		t.Fatal(err)
	}
	admin, err := sqlx.Open("postgres", testenv.Postgres(t).URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	r := testenv.NewRedis(t)
	rdb, subClient := testenv.RedisClient(t, r), testenv.RedisClient(t, r)
	runWorker(t, db, rdb, subClient, worker.NewOrderWriter(db, waitingroom.NewRooms(rdb), noAnswer, discard))

	// The outage: the database refuses connections and loses those it had.
	setAllowConnections := func(allow bool) {
		t.Helper()
		if _, err := admin.Exec(fmt.Sprintf(`ALTER DATABASE %q ALLOW_CONNECTIONS %t`, name, allow)); err != nil {
			t.Fatal(err)
		}
	}
	setAllowConnections(false)
	defer setAllowConnections(true)
	if _, err := admin.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, name); err != nil {
		t.Fatal(err)
	}
	pub, err := orderstream.NewPublisher(rdb, discard)
	if err != nil {
		t.Fatal(err)
	}
	if err := pub.Publish(partitions.Topic(orderstream.Orders, saleID), messageOf(t, confirmation(1))); err != nil {
		t.Fatal(err)
	}
	// Held for longer than the retries of a first version (about 3 s),
	// after which it parked the message on the poison topic.
	time.Sleep(5 * time.Second)
	if n, err := rdb.XLen(t.Context(), orderstream.PoisonTopic).Result(); err != nil || n != 0 {
		t.Fatalf("during the outage the poison topic holds %d messages (%v), want none", n, err)
	}
	setAllowConnections(true)
	eventually(t, 30*time.Second, func() (bool, string) {
		rows := orders(t, db)
		return len(rows) == 1, fmt.Sprintf("%d order rows", len(rows))
	})
	if n, err := rdb.XLen(t.Context(), orderstream.PoisonTopic).Result(); err != nil || n != 0 {
		t.Errorf("the poison topic holds %d messages (%v), want none", n, err)
	}
}

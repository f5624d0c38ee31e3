package webhooks_test

import (
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/internal/testenv"
	"github.com/foyerhq/foyer/internal/webhooks"
	"github.com/foyerhq/foyer/waitingroom"
)

// announce appends an entry to the sale's event stream, as the sale's
// scripts do.
func announce(t *testing.T, rdb *redis.Client, kind, data string) {
	t.Helper()
	if err := rdb.XAdd(t.Context(), &redis.XAddArgs{Stream: waitingroom.Keys(saleID).Events,
		Values: []any{"type", kind, "data", data}}).Err(); err != nil {
		t.Fatal(err)
	}
}

func eventTypes(t *testing.T, s *sqlx.DB) []string {
	t.Helper()
	var types []string
	if err := s.Select(&types, `SELECT type FROM webhook_events ORDER BY seq`); err != nil {
		t.Fatal(err)
	}
	return types
}

// A sale that was there before webhooks is told from where its stream was
// when first seen; what follows is told once, however often, and by
// however many workers, the stream is read.
func TestASalesStreamIsToldFromTheCursorOnceEach(t *testing.T) {
	db := newDB(t)
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	rooms := waitingroom.NewRooms(rdb)
	if err := rdb.HSet(t.Context(), waitingroom.Keys(saleID).Meta, "mark", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO webhook_sale_cursors (sale_id, last_id) VALUES ($1, '$')`, saleID); err != nil {
		t.Fatal(err)
	}
	announce(t, rdb, waitingroom.EventState, `{"state":"open"}`) // before: not told
	one, two := webhooks.NewTail(db, rooms, discard), webhooks.NewTail(db, rooms, discard)
	if err := one.Once(t.Context()); err != nil {
		t.Fatal(err)
	}
	if types := eventTypes(t, db); len(types) != 0 {
		t.Fatalf("told %v from before the cursor", types)
	}
	announce(t, rdb, waitingroom.EventGone, `{"ticket":3}`) // not told
	announce(t, rdb, waitingroom.EventExpired, `{"released":[{"shopper":"sh_1","reservation":"r_1"}]}`)
	announce(t, rdb, waitingroom.EventExpired, `{"released":[{"shopper":"sh_2","reservation":"r_2"}],"reason":"released"}`)
	announce(t, rdb, waitingroom.EventState, `{"state":"sold_out"}`)
	for range 2 {
		for _, tail := range []*webhooks.Tail{one, two} {
			if err := tail.Once(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := []string{webhooks.ReservationReleased, webhooks.ReservationReleased, webhooks.SaleStateChanged, webhooks.SaleSoldOut}
	if types := eventTypes(t, db); !equal(types, want) {
		t.Errorf("told %v, want %v", types, want)
	}
	var reasons []string
	if err := db.Select(&reasons, `SELECT body::jsonb->'data'->>'reason' FROM webhook_events
		WHERE type = 'reservation.released' ORDER BY seq`); err != nil {
		t.Fatal(err)
	}
	if !equal(reasons, []string{"expired", "released"}) {
		t.Errorf("release reasons %v", reasons)
	}
}

// A sale made after webhooks came is told from its stream's start.
func TestANewSalesStreamIsToldFromItsStart(t *testing.T) {
	db := newDB(t)
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	announce(t, rdb, waitingroom.EventState, `{"state":"open"}`)
	if err := webhooks.NewTail(db, waitingroom.NewRooms(rdb), discard).Once(t.Context()); err != nil {
		t.Fatal(err)
	}
	if types := eventTypes(t, db); !equal(types, []string{webhooks.SaleStateChanged}) {
		t.Errorf("told %v", types)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

package webhooks_test

import (
	"encoding/json"
	"testing"

	"github.com/foyerhq/foyer/internal/livestats"
	"github.com/foyerhq/foyer/internal/testenv"
	"github.com/foyerhq/foyer/internal/webhooks"
	"github.com/foyerhq/foyer/waitingroom"
)

// A worker down while a busy sale's stream was trimmed past its cursor
// cannot tell what was trimmed; it tells the sale's state as it stands
// (marked resync) ahead of what follows the gap, and leaves one audit row
// saying which span was lost. Trimming only what was already read loses
// nothing and says nothing.
func TestAStreamTrimmedPastTheCursorTellsTheSalesStateAgainAndAuditsTheGap(t *testing.T) {
	db := newDB(t)
	rdb := testenv.RedisClient(t, testenv.NewRedis(t))
	rooms := waitingroom.NewRooms(rdb)
	stream := waitingroom.Keys(saleID).Events
	if err := rdb.HSet(t.Context(), waitingroom.Keys(saleID).Meta, "mark", 0, "state", "open").Err(); err != nil {
		t.Fatal(err)
	}
	one, two := webhooks.NewTail(db, rooms, discard), webhooks.NewTail(db, rooms, discard)
	once := func() {
		t.Helper()
		for _, tail := range []*webhooks.Tail{one, two} {
			if err := tail.Once(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
	}
	trim := func(keep int64) {
		t.Helper()
		if err := rdb.XTrimMaxLen(t.Context(), stream, keep).Err(); err != nil {
			t.Fatal(err)
		}
	}
	announce(t, rdb, waitingroom.EventState, `{"state":"open"}`)
	announce(t, rdb, waitingroom.EventExpired, `{"released":[{"shopper":"sh_0","reservation":"r_0"}]}`)
	once()
	trim(1) // the open entry, already read
	once()
	want := []string{webhooks.SaleStateChanged, webhooks.ReservationReleased}
	if types := eventTypes(t, db); !equal(types, want) {
		t.Fatalf("after trimming what was read: told %v, want %v", types, want)
	}
	if n := count(t, db, `SELECT count(*) FROM admin_actions WHERE action = $1`, webhooks.ActionEventsLost); n != 0 {
		t.Fatalf("%d gaps audited when none was lost", n)
	}
	var cursor string
	if err := db.Get(&cursor, `SELECT last_id FROM webhook_sale_cursors WHERE sale_id = $1`, saleID); err != nil {
		t.Fatal(err)
	}

	// The worker is down: releases and the sale selling out are trimmed off.
	announce(t, rdb, waitingroom.EventExpired, `{"released":[{"shopper":"sh_1","reservation":"r_1"}]}`)
	announce(t, rdb, waitingroom.EventState, `{"state":"sold_out"}`)
	announce(t, rdb, waitingroom.EventExpired, `{"released":[{"shopper":"sh_2","reservation":"r_2"}]}`)
	if err := rdb.HSet(t.Context(), waitingroom.Keys(saleID).Meta, "state", "sold_out").Err(); err != nil {
		t.Fatal(err)
	}
	trim(1)
	kept, err := rdb.XRange(t.Context(), stream, "-", "+").Result()
	if err != nil || len(kept) != 1 {
		t.Fatalf("stream after trim: %v, %v", kept, err)
	}
	once()
	once()
	want = append(want, webhooks.SaleStateChanged, webhooks.SaleSoldOut, webhooks.ReservationReleased)
	if types := eventTypes(t, db); !equal(types, want) {
		t.Fatalf("after the gap: told %v, want %v", types, want)
	}
	var bodies []string
	if err := db.Select(&bodies, `SELECT body FROM webhook_events WHERE type IN ('sale.state_changed', 'sale.sold_out')
		ORDER BY seq OFFSET 1`); err != nil {
		t.Fatal(err)
	}
	for _, b := range bodies {
		var e webhooks.Event
		var data webhooks.SaleStateData
		if err := json.Unmarshal([]byte(b), &e); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(e.Data, &data); err != nil {
			t.Fatal(err)
		}
		if data.State != "sold_out" || !data.Resync {
			t.Errorf("told %s with %+v, want the sale's state sold_out marked resync", e.Type, data)
		}
	}
	var detail []byte
	if err := db.Get(&detail, `SELECT detail FROM admin_actions WHERE action = $1 AND sale_id = $2`,
		webhooks.ActionEventsLost, saleID); err != nil {
		t.Fatalf("the gap is not in the audit log once: %v", err)
	}
	var span struct {
		After     string `json:"after"`
		FirstKept string `json:"first_kept"`
	}
	if err := json.Unmarshal(detail, &span); err != nil {
		t.Fatal(err)
	}
	if span.After != cursor || span.FirstKept != kept[0].ID {
		t.Errorf("audited span %+v, want after %s up to %s", span, cursor, kept[0].ID)
	}
	// Operators see it counted in the pipeline status.
	st, err := livestats.New(rdb, db).Pipeline(t.Context())
	if err != nil || st.WebhookEventGaps != 1 {
		t.Errorf("pipeline status counts %d gaps (%v), want 1", st.WebhookEventGaps, err)
	}
}

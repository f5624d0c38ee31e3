package webhooks_test

import (
	"errors"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/webhooks"
)

// Asking again and again to redeliver an event never queues it more than
// once per endpoint: while one delivery of it is pending, a redeliver
// answers that one, adds no row and writes no audit row.
func TestARedeliverOfAnEventAlreadyPendingAnswersThatDeliveryAndAddsNone(t *testing.T) {
	db := newDB(t)
	s, rec := newStore(db), webhooks.NewRecorder()
	c := register(t, s, newReceiver(t, nil), webhooks.OrderCreated)
	writeOrders(t, db, rec, 1, 1, "pending_payment") // no dispatcher: it stays pending
	var first int64
	if err := db.Get(&first, `SELECT id FROM webhook_deliveries`); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		d, err := s.Redeliver(t.Context(), c.ID, first, "test")
		if err != nil {
			t.Fatal(err)
		}
		if d.ID != first || d.Status != webhooks.StatusPending {
			t.Fatalf("redeliver of a pending delivery gave %+v, want delivery %d", d, first)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM webhook_deliveries`); n != 1 {
		t.Errorf("%d deliveries after 5 redelivers of a pending one, want 1", n)
	}
	if n := count(t, db, `SELECT count(*) FROM admin_actions WHERE action = 'webhook_redelivered'`); n != 0 {
		t.Errorf("%d audit rows for redelivers that changed nothing", n)
	}

	// Once it is delivered, a redeliver makes one new delivery; asking
	// again (of the old one or the new) answers that new one.
	if _, err := db.Exec(`UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now()`); err != nil {
		t.Fatal(err)
	}
	again, err := s.Redeliver(t.Context(), c.ID, first, "test")
	if err != nil || again.ID == first {
		t.Fatalf("redeliver of a delivered one: %+v, %v", again, err)
	}
	for _, of := range []int64{first, again.ID} {
		if d, err := s.Redeliver(t.Context(), c.ID, of, "test"); err != nil || d.ID != again.ID {
			t.Errorf("redeliver of %d gave %+v (%v), want the pending %d", of, d, err, again.ID)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM webhook_deliveries`); n != 2 {
		t.Errorf("%d deliveries, want 2", n)
	}
	if n := count(t, db, `SELECT count(*) FROM admin_actions WHERE action = 'webhook_redelivered'`); n != 1 {
		t.Errorf("%d audit rows, want 1", n)
	}
}

// A replay over the bound is refused having written at most one delivery
// past it (the sequence, which no rollback winds back, shows how many were
// written), not one per matching event.
func TestAReplayOverTheBoundIsRefusedHavingWrittenNoMoreThanOnePastIt(t *testing.T) {
	db := newDB(t)
	s := newStore(db)
	c := register(t, s, newReceiver(t, nil), webhooks.OrderCreated)
	since := time.Now().Add(-time.Hour)
	if _, err := db.Exec(`INSERT INTO webhook_events (id, type, sale_id, ordering_key, body)
		SELECT 'evt_' || n, 'order.created', $1, 'r_' || n, '{}' FROM generate_series(1, $2) n`,
		saleID, 3*webhooks.MaxReplay); err != nil {
		t.Fatal(err)
	}
	before := count(t, db, `SELECT nextval('webhook_deliveries_id_seq')`)
	if _, err := s.Replay(t.Context(), c.ID, since, "test"); !errors.Is(err, webhooks.ErrBadRequest) {
		t.Fatalf("replay of %d events: %v, want ErrBadRequest", 3*webhooks.MaxReplay, err)
	}
	after := count(t, db, `SELECT nextval('webhook_deliveries_id_seq')`)
	if written := after - before - 1; written > webhooks.MaxReplay+1 {
		t.Errorf("the refused replay wrote %d deliveries before rolling back, want at most %d", written, webhooks.MaxReplay+1)
	}
	if n := count(t, db, `SELECT count(*) FROM webhook_deliveries`); n != 0 {
		t.Errorf("%d deliveries left by a refused replay", n)
	}
	if n := count(t, db, `SELECT count(*) FROM admin_actions WHERE action = 'webhook_replayed'`); n != 0 {
		t.Errorf("%d audit rows for a refused replay", n)
	}
}

// A replay cannot reach further back than what is kept.
func TestAReplaySinceBeforeTheRetentionIsRefused(t *testing.T) {
	db := newDB(t)
	s := newStore(db)
	s.Retention = 48 * time.Hour
	c := register(t, s, newReceiver(t, nil), webhooks.OrderCreated)
	if _, err := s.Replay(t.Context(), c.ID, time.Now().Add(-72*time.Hour), "test"); !errors.Is(err, webhooks.ErrBadRequest) {
		t.Errorf("replay since 3 days ago with 2 days kept: %v, want ErrBadRequest", err)
	}
	if _, err := s.Replay(t.Context(), c.ID, time.Now().Add(-24*time.Hour), "test"); err != nil {
		t.Errorf("replay since a day ago with 2 days kept: %v", err)
	}
}

// Pruning deletes, in batches, the delivered and dead deliveries older
// than the retention and the events that old no delivery names; a pending
// delivery and its event stay, however old, and so does all that is recent.
func TestPruningDeletesOnlyFinishedDeliveriesAndUnnamedEventsOlderThanTheRetention(t *testing.T) {
	db := newDB(t)
	s := newStore(db)
	c := register(t, s, newReceiver(t, nil), webhooks.OrderCreated)
	const old = 2500 // more than one batch
	if _, err := db.Exec(`INSERT INTO webhook_events (id, type, sale_id, ordering_key, body, created_at)
		SELECT 'evt_old_' || n, 'order.created', $1, 'r_' || n, '{}', now() - interval '40 days'
		FROM generate_series(1, $2) n`, saleID, old); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO webhook_deliveries (endpoint_id, event_seq, ordering_key, status, created_at)
		SELECT $1, seq, ordering_key, CASE WHEN seq % 2 = 0 THEN 'delivered' ELSE 'dead' END, created_at
		FROM webhook_events ORDER BY seq`, c.ID); err != nil {
		t.Fatal(err)
	}
	// One old event still pending (redelivered), and one recent delivered.
	if _, err := db.Exec(`INSERT INTO webhook_deliveries (endpoint_id, event_seq, ordering_key)
		SELECT $1, max(seq), 'r_pending' FROM webhook_events`, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`WITH ev AS (INSERT INTO webhook_events (id, type, sale_id, ordering_key, body)
		VALUES ('evt_new', 'order.created', $1, 'r_new', '{}') RETURNING seq)
		INSERT INTO webhook_deliveries (endpoint_id, event_seq, ordering_key, status)
		SELECT $2, seq, 'r_new', 'delivered' FROM ev`, saleID, c.ID); err != nil {
		t.Fatal(err)
	}
	d := webhooks.NewDispatcher(db, webhooks.Config{Retention: 30 * 24 * time.Hour}, discard)
	deliveries, events, err := d.Prune(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if deliveries != old || events != old-1 {
		t.Errorf("pruned %d deliveries and %d events, want %d and %d", deliveries, events, old, old-1)
	}
	var left []string
	if err := db.Select(&left, `SELECT ev.id || ' ' || d.status FROM webhook_deliveries d
		JOIN webhook_events ev ON ev.seq = d.event_seq ORDER BY d.id`); err != nil {
		t.Fatal(err)
	}
	want := []string{"evt_old_2500 pending", "evt_new delivered"}
	if !equal(left, want) {
		t.Errorf("left %v, want %v", left, want)
	}
	if n := count(t, db, `SELECT count(*) FROM webhook_events`); n != 2 {
		t.Errorf("%d events left, want 2", n)
	}
}

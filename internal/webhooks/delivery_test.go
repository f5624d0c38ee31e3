package webhooks_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/webhooks"
)

func TestEveryDeliveryIsSignedSoTheShopCanVerifyIt(t *testing.T) {
	db := newDB(t)
	s, rec := newStore(db), webhooks.NewRecorder()
	r := newReceiver(t, nil)
	register(t, s, r)
	runDispatcher(t, db, fast)

	ids := writeOrders(t, db, rec, 1, 1, "pending_payment")
	settle(t, db, rec, ids, "paid")
	r.awaitAccepted(t, 2)
	got := r.accepted()
	if got[0].Type != webhooks.OrderCreated || got[1].Type != webhooks.OrderPaid {
		t.Fatalf("got %s then %s, want order.created then order.paid", got[0].Type, got[1].Type)
	}
	for _, g := range got {
		if !g.SignatureOK {
			t.Errorf("%s: its signature does not verify with the endpoint's secret", g.Type)
		}
		if g.ID != g.Event.ID || g.Type != g.Event.Type || g.Event.SaleID != saleID || g.Event.CreatedAt.IsZero() {
			t.Errorf("headers (%s, %s) and body %+v disagree", g.ID, g.Type, g.Event)
		}
	}
	var data webhooks.OrderData
	if err := json.Unmarshal(got[1].Event.Data, &data); err != nil {
		t.Fatal(err)
	}
	want := webhooks.OrderData{OrderID: ids[0], ReservationID: "r_001", TransactionID: "txn-001", ShopperID: "shopper-001",
		Quantity: 1, AmountCents: 1999, Currency: "EUR", Status: "paid"}
	if data != want {
		t.Errorf("order.paid data %+v, want %+v", data, want)
	}
}

func TestAnOrderWrittenPaidTellsCreatedRedeemedAndPaidInThatOrder(t *testing.T) {
	db := newDB(t)
	s, rec := newStore(db), webhooks.NewRecorder()
	r := newReceiver(t, nil)
	register(t, s, r)
	runDispatcher(t, db, fast)

	writeOrders(t, db, rec, 1, 1, "paid") // as a redeemed reservation is written
	r.awaitAccepted(t, 3)
	var types []string
	for _, g := range r.accepted() {
		types = append(types, g.Type)
	}
	if want := []string{webhooks.OrderCreated, webhooks.ReservationRedeemed, webhooks.OrderPaid}; !slices.Equal(types, want) {
		t.Errorf("got %v, want %v", types, want)
	}
}

// Recording the same happening twice (a redelivered stream message, a
// settlement retried) records one event, and delivers it once.
func TestTheSameOrderRecordedTwiceIsOneEvent(t *testing.T) {
	db := newDB(t)
	s, rec := newStore(db), webhooks.NewRecorder()
	r := newReceiver(t, nil)
	register(t, s, r)
	ids := writeOrders(t, db, rec, 1, 3, "paid")
	tx := db.MustBeginTx(t.Context(), nil)
	if err := rec.OrdersWritten(t.Context(), tx, ordersOf(t, tx, ids)); err != nil {
		t.Fatal(err)
	}
	if err := rec.OrdersSettled(t.Context(), tx, ordersOf(t, tx, ids)); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, `SELECT count(*) FROM webhook_events`); n != 9 {
		t.Errorf("%d events for 3 orders recorded twice, want 9", n)
	}
	if n := count(t, db, `SELECT count(*) FROM webhook_deliveries`); n != 9 {
		t.Errorf("%d deliveries, want 9", n)
	}
}

// The endpoint fails the first attempt of every third event: every event
// still arrives, accepted once, and each order's events in order.
func TestEachOrdersEventsArriveInOrderWhileTheEndpointFailsEveryThirdFirstAttempt(t *testing.T) {
	db := newDB(t)
	s, rec := newStore(db), webhooks.NewRecorder()
	seen := map[string]bool{}
	r := newReceiver(t, func(_ int, e webhooks.Event) int {
		if seen[e.ID] {
			return http.StatusOK
		}
		seen[e.ID] = true
		if len(seen)%3 == 0 {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	})
	register(t, s, r)
	runDispatcher(t, db, fast)

	const orders = 20
	ids := writeOrders(t, db, rec, 1, orders, "pending_payment")
	settle(t, db, rec, ids[:orders/2], "paid")
	settle(t, db, rec, ids[orders/2:], "cancelled")
	r.awaitAccepted(t, 2*orders)
	assertOncePerEventInOrder(t, r, 2*orders)
	if failed := len(r.all()) - len(r.accepted()); failed < orders*2/3-1 {
		t.Errorf("only %d first attempts failed: the test did not test", failed)
	}
}

// assertOncePerEventInOrder checks that want distinct events were accepted,
// each once, and that each reservation's came in the order they were
// recorded (created, then paid or cancelled).
func assertOncePerEventInOrder(t *testing.T, r *receiver, want int) {
	t.Helper()
	times := map[string]int{}
	byReservation := map[string][]string{}
	for _, g := range r.accepted() {
		times[g.ID]++
		var d webhooks.OrderData
		if err := json.Unmarshal(g.Event.Data, &d); err != nil {
			t.Fatal(err)
		}
		byReservation[d.ReservationID] = append(byReservation[d.ReservationID], g.Type)
	}
	if len(times) != want {
		t.Errorf("%d distinct events accepted, want %d", len(times), want)
	}
	for id, n := range times {
		if n != 1 {
			t.Errorf("event %s accepted %d times", id, n)
		}
	}
	for res, types := range byReservation {
		if len(types) != 2 || types[0] != webhooks.OrderCreated {
			t.Errorf("reservation %s: events came as %v, want order.created first", res, types)
		}
	}
}

func TestAnEndpointDownForAWhileGetsEverythingOnceItIsBack(t *testing.T) {
	db := newDB(t)
	s, rec := newStore(db), webhooks.NewRecorder()
	var down atomic.Bool
	down.Store(true)
	r := newReceiver(t, func(int, webhooks.Event) int {
		if down.Load() {
			return http.StatusServiceUnavailable
		}
		return http.StatusOK
	})
	register(t, s, r)
	runDispatcher(t, db, fast)

	ids := writeOrders(t, db, rec, 1, 10, "pending_payment")
	settle(t, db, rec, ids, "paid")
	// Down until the first event of every order has failed at least twice.
	eventually(t, 10*time.Second, func() (bool, string) {
		n := count(t, db, `SELECT count(DISTINCT ordering_key) FROM webhook_deliveries WHERE attempts >= 2`)
		return n == 10, fmt.Sprintf("%d orders' first events failed twice", n)
	})
	down.Store(false)
	r.awaitAccepted(t, 20)
	assertOncePerEventInOrder(t, r, 20)
}

// A slow endpoint (its answer held back) and a dead one (always 500) do not
// hold up a healthy one: the healthy one gets every event while the slow
// one has answered none.
func TestASlowOrDeadEndpointDoesNotDelayAnother(t *testing.T) {
	db := newDB(t)
	s, rec := newStore(db), webhooks.NewRecorder()
	release := make(chan struct{})
	slow := newReceiver(t, func(int, webhooks.Event) int { <-release; return http.StatusOK })
	t.Cleanup(func() { close(release) }) // before the slow server closes: cleanups run last first
	dead := newReceiver(t, func(int, webhooks.Event) int { return http.StatusInternalServerError })
	healthy := newReceiver(t, nil)
	register(t, s, slow)
	register(t, s, dead)
	register(t, s, healthy)
	runDispatcher(t, db, fast)

	ids := writeOrders(t, db, rec, 1, 5, "pending_payment")
	settle(t, db, rec, ids, "paid")
	healthy.awaitAccepted(t, 10)
	assertOncePerEventInOrder(t, healthy, 10)
	if n := len(slow.accepted()); n != 0 {
		t.Errorf("the slow endpoint answered %d, want none yet", n)
	}
	if n := len(dead.accepted()); n != 0 {
		t.Errorf("the dead endpoint accepted %d", n)
	}
}

func TestADeliveryThatFailsPastMaxAgeIsDeadAndTheNextOfItsOrderGoesOn(t *testing.T) {
	db := newDB(t)
	s, rec := newStore(db), webhooks.NewRecorder()
	r := newReceiver(t, func(_ int, e webhooks.Event) int {
		if e.Type == webhooks.OrderCreated {
			return http.StatusBadGateway
		}
		return http.StatusOK
	})
	c := register(t, s, r)
	cfg := fast
	cfg.MaxAge = 300 * time.Millisecond
	runDispatcher(t, db, cfg)

	ids := writeOrders(t, db, rec, 1, 1, "pending_payment")
	settle(t, db, rec, ids, "paid")
	r.awaitAccepted(t, 1)
	if got := r.accepted()[0].Type; got != webhooks.OrderPaid {
		t.Errorf("accepted %s, want order.paid (after order.created died)", got)
	}
	page, err := s.Log(t.Context(), c.ID, webhooks.LogQuery{Statuses: []string{webhooks.StatusDead}})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Deliveries) != 1 {
		t.Fatalf("%d dead deliveries, want 1", len(page.Deliveries))
	}
	d := page.Deliveries[0]
	if d.EventType != webhooks.OrderCreated || d.Attempts < 1 || d.NextAttemptAt != nil ||
		d.LastStatusCode == nil || *d.LastStatusCode != http.StatusBadGateway || d.LastError == nil {
		t.Errorf("the dead delivery reads %+v", d)
	}
}

// Two dispatchers (two worker processes) over one database share the
// deliveries: none is sent twice, and each order's still come in order.
func TestTwoDispatchersNeverSendTheSameDeliveryTwice(t *testing.T) {
	db := newDB(t)
	s, rec := newStore(db), webhooks.NewRecorder()
	r := newReceiver(t, nil)
	register(t, s, r)
	runDispatcher(t, db, fast)
	runDispatcher(t, db, fast)

	const orders = 30
	ids := writeOrders(t, db, rec, 1, orders, "pending_payment")
	settle(t, db, rec, ids, "paid")
	r.awaitAccepted(t, 2*orders)
	eventually(t, 5*time.Second, func() (bool, string) {
		n := count(t, db, `SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'`)
		return n == 2*orders, fmt.Sprintf("%d delivered", n)
	})
	if n := len(r.all()); n != 2*orders {
		t.Errorf("%d requests for %d deliveries", n, 2*orders)
	}
	assertOncePerEventInOrder(t, r, 2*orders)
}

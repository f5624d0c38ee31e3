package checkout_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/internal/orderstream"
	"github.com/foyerhq/foyer/waitingroom"
)

func TestCheckoutMovesTheUnitFromHeldToSoldAndPublishesTheOrder(t *testing.T) {
	s := openSale(t, 3)
	admitted := s.admit(t, "alice", "bob")
	alice := admitted[0]
	if got := s.counters(t); got != (counters{Available: 1, Held: 2, Sold: 0, State: "open"}) {
		t.Fatalf("before checkout: %+v", got)
	}

	from := time.Now()
	receipt, err := s.service.Checkout(t.Context(), saleID, s.token(t, alice), 1)
	if err != nil {
		t.Fatalf("Checkout: %v", err)
	}
	to := time.Now()

	// The times are Redis's, from the same machine's clock here: the
	// confirmation falls within the call, after the admission.
	if receipt != (checkout.Receipt{ReservationID: alice.ID, Status: "confirmed", Quantity: 1, Shopper: alice.Shopper,
		AdmittedAt: alice.AdmittedAt(), ConfirmedAt: receipt.ConfirmedAt}) ||
		receipt.ConfirmedAt.Before(from.Truncate(time.Millisecond)) || receipt.ConfirmedAt.After(to) {
		t.Errorf("receipt = %+v; want alice's reservation confirmed between %v and %v", receipt, from, to)
	}
	if got := s.counters(t); got != (counters{Available: 1, Held: 1, Sold: 1, State: "open"}) {
		t.Errorf("after checkout: %+v; want one unit moved from held to sold", got)
	}
	r, err := s.rooms.Reservation(t.Context(), saleID, alice.Shopper, alice.ID)
	if err != nil || r.Status != "confirmed" || r.Txn != "txn-alice" || r.Ticket != alice.Ticket {
		t.Errorf("reservation = %+v, %v; want it confirmed, with alice's ticket and transaction", r, err)
	}
	if ids := s.outbox(t); len(ids) != 0 {
		t.Errorf("outbox = %v; want it empty once published", ids)
	}
	published := s.published(t)
	if len(published) != 1 {
		t.Fatalf("%d messages on %s, want 1", len(published), partitions.Topic(orderstream.Orders, saleID))
	}
	wantDelivery(t, published[0], alice, from, to)
}

// Holds lapse a batch at a time: when alice's and bob's batch lapses after
// alice paid, the admitter's tick releases bob's unit and leaves alice's sold.
func TestWhenABatchLapsesOnlyItsUnpaidHoldsGoBack(t *testing.T) {
	s := openSale(t, 3)
	admitted := s.admit(t, "alice", "bob")
	if _, err := s.service.Checkout(t.Context(), saleID, s.token(t, admitted[0]), 1); err != nil {
		t.Fatal(err)
	}
	view, err := s.rooms.View(t.Context(), saleID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.rdb.ZAdd(t.Context(), s.keys.Holds, redis.Z{Score: 1, Member: batchOf(t, admitted[0].ID)}).Err(); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	ran := make(chan error, 1)
	go func() { ran <- s.admitter.Run(ctx) }()
	var released []waitingroom.Released
	for last := view.LastID; len(released) == 0; {
		events, err := s.rooms.Events(t.Context(), saleID, last, 10*time.Second, 100)
		if err != nil || len(events) == 0 {
			t.Fatalf("no expiry announced within 10 s (err %v)", err)
		}
		for _, e := range events {
			released = append(released, e.Released...)
			last = e.ID
		}
	}
	stop()
	<-ran
	if len(released) != 1 || released[0] != (waitingroom.Released{Shopper: "bob", Reservation: admitted[1].ID}) {
		t.Errorf("released %+v, want bob's hold alone", released)
	}
	if got := s.counters(t); got != (counters{Available: 2, Held: 0, Sold: 1, State: "open"}) {
		t.Errorf("after the lapse: %+v; want alice's unit sold and bob's back", got)
	}
	if r, err := s.rooms.Reservation(t.Context(), saleID, "alice", admitted[0].ID); err != nil || r.Status != "confirmed" {
		t.Errorf("alice's reservation = %+v, %v; want it still confirmed", r, err)
	}
}

func TestASecondCheckoutWithTheSameTokenIsRefusedAndChangesNothing(t *testing.T) {
	s := openSale(t, 3)
	alice := s.admit(t, "alice")[0]
	token := s.token(t, alice)
	if _, err := s.service.Checkout(t.Context(), saleID, token, 1); err != nil {
		t.Fatalf("first Checkout: %v", err)
	}
	before := s.counters(t)

	_, err := s.service.Checkout(t.Context(), saleID, token, 1)
	if !errors.Is(err, checkout.ErrTokenReused) {
		t.Fatalf("second Checkout = %v, want ErrTokenReused", err)
	}
	if after := s.counters(t); after != before {
		t.Errorf("counters moved from %+v to %+v", before, after)
	}
	if n := len(s.published(t)); n != 1 {
		t.Errorf("%d messages published, want the first checkout's alone", n)
	}
}

// Confirming is one script: however many requests race with one token, one
// confirms.
func TestConcurrentCheckoutsWithOneTokenConfirmOnce(t *testing.T) {
	const racers = 20
	s := openSale(t, 3)
	token := s.token(t, s.admit(t, "alice")[0])

	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() { _, errs[i] = s.service.Checkout(t.Context(), saleID, token, 1) })
	}
	wg.Wait()

	var confirmed int
	for _, err := range errs {
		switch {
		case err == nil:
			confirmed++
		case !errors.Is(err, checkout.ErrTokenReused):
			t.Errorf("Checkout = %v, want success or ErrTokenReused", err)
		}
	}
	if confirmed != 1 {
		t.Errorf("%d checkouts confirmed, want 1", confirmed)
	}
	if got := s.counters(t); got != (counters{Available: 2, Held: 0, Sold: 1, State: "open"}) {
		t.Errorf("counters = %+v; want one unit sold", got)
	}
	if n := len(s.published(t)); n != 1 {
		t.Errorf("%d messages published, want 1", n)
	}
}

func TestConfirmingTheLastUnitSellsTheSaleOut(t *testing.T) {
	s := openSale(t, 2)
	admitted := s.admit(t, "alice", "bob")

	if _, err := s.service.Checkout(t.Context(), saleID, s.token(t, admitted[0]), 1); err != nil {
		t.Fatal(err)
	}
	if got := s.counters(t); got.State != "open" {
		t.Fatalf("state = %q with one unit still held, want open", got.State)
	}
	if _, err := s.service.Checkout(t.Context(), saleID, s.token(t, admitted[1]), 1); err != nil {
		t.Fatal(err)
	}
	if got := s.counters(t); got != (counters{Available: 0, Held: 0, Sold: 2, State: "sold_out"}) {
		t.Fatalf("after the last checkout: %+v; want sold_out", got)
	}

	// Shoppers still waiting hear it once, on the sale's event stream.
	entries, err := s.rdb.XRange(t.Context(), s.keys.Events, "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var soldOut int
	for _, e := range entries {
		if e.Values["type"] != waitingroom.EventState {
			continue
		}
		var body struct{ State string }
		if err := json.Unmarshal([]byte(e.Values["data"].(string)), &body); err != nil {
			t.Fatal(err)
		}
		if body.State == "sold_out" {
			soldOut++
		}
	}
	if soldOut != 1 {
		t.Errorf("%d sold_out events on the stream, want 1", soldOut)
	}
}

// A valid token is not enough: the reservation it names must still be held,
// by the token's shopper.
func TestCheckoutRefusesAReservationThatIsNotHeldByTheShopper(t *testing.T) {
	tests := []struct {
		name string
		// spoil changes the reservation in Redis, or the one the token is
		// issued for, before checkout.
		spoil func(t *testing.T, s *sale, r *waitingroom.Reservation)
		want  error
	}{
		{"its hold lapsed before the admitter released it", func(t *testing.T, s *sale, r *waitingroom.Reservation) {
			lapsed := fmt.Sprintf("%d %d", time.Now().Add(-time.Second).UnixMilli(), r.AdmittedAtMs)
			if err := s.rdb.HSet(t.Context(), s.keys.Batches, batchOf(t, r.ID), lapsed).Err(); err != nil {
				t.Fatal(err)
			}
		}, checkout.ErrReservationExpired},
		{"the admitter released it", func(t *testing.T, s *sale, r *waitingroom.Reservation) {
			// As tick.lua releases a hold: the shopper no longer names it.
			if err := s.rdb.HDel(t.Context(), s.keys.Shoppers, r.Shopper).Err(); err != nil {
				t.Fatal(err)
			}
		}, checkout.ErrReservationExpired},
		{"its batch let another ticket out", func(t *testing.T, _ *sale, r *waitingroom.Reservation) {
			r.ID = waitingroom.ReservationID(batchOf(t, r.ID), r.Ticket+1)
		}, checkout.ErrUnknownReservation},
		{"it belongs to another shopper", func(_ *testing.T, _ *sale, r *waitingroom.Reservation) {
			r.Shopper = "mallory"
		}, checkout.ErrUnknownReservation},
		{"it does not exist", func(_ *testing.T, _ *sale, r *waitingroom.Reservation) {
			r.ID = "r_NOSUCHRESERVATION"
		}, checkout.ErrUnknownReservation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openSale(t, 3)
			r := s.admit(t, "alice")[0]
			tt.spoil(t, s, &r)
			before := s.counters(t)

			_, err := s.service.Checkout(t.Context(), saleID, s.token(t, r), 1)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Checkout = %v, want %v", err, tt.want)
			}
			if after := s.counters(t); after != before {
				t.Errorf("counters moved from %+v to %+v", before, after)
			}
			if ids := s.outbox(t); len(ids) != 0 {
				t.Errorf("outbox = %v, want nothing", ids)
			}
			if n := len(s.published(t)); n != 0 {
				t.Errorf("%d messages published, want none", n)
			}
		})
	}
}

func TestCheckoutRefusesATokenOfAnotherSaleBeforeTouchingRedis(t *testing.T) {
	s := openSale(t, 3)
	r := s.admit(t, "alice")[0]
	before := s.counters(t)

	_, err := s.service.Checkout(t.Context(), "s_other", s.token(t, r), 1)
	if !errors.Is(err, checkout.ErrTokenWrongSale) {
		t.Fatalf("Checkout = %v, want ErrTokenWrongSale", err)
	}
	if after := s.counters(t); after != before {
		t.Errorf("counters moved from %+v to %+v", before, after)
	}
}

// batchOf is the nonce of the admission that made the reservation.
func batchOf(t *testing.T, id string) string {
	t.Helper()
	nonce, _, ok := waitingroom.ParseReservationID(id)
	if !ok {
		t.Fatalf("reservation id %q names no batch", id)
	}
	return nonce
}

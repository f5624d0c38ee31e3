package checkout_test

import (
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/foyerhq/foyer/checkout"
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
	r, err := s.rooms.Reservation(t.Context(), saleID, alice.ID)
	if err != nil || r.Status != "confirmed" {
		t.Errorf("reservation = %+v, %v; want it confirmed", r, err)
	}
	if err := s.rdb.ZScore(t.Context(), s.keys.Holds, alice.ID).Err(); !errors.Is(err, redis.Nil) {
		t.Errorf("the confirmed reservation is still among the holds (ZSCORE: %v), so it could expire", err)
	}
	if ids := s.outbox(t); len(ids) != 0 {
		t.Errorf("outbox = %v; want it empty once published", ids)
	}
	published := s.published(t)
	if len(published) != 1 {
		t.Fatalf("%d messages on %s, want 1", len(published), checkout.OrdersTopic)
	}
	wantDelivery(t, published[0], alice, from, to)
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
			rewrite(t, s, r.ID, func(stored map[string]any) {
				stored["expires_at"] = time.Now().Add(-time.Second).UnixMilli()
			})
		}, checkout.ErrReservationExpired},
		{"the admitter released it", func(t *testing.T, s *sale, r *waitingroom.Reservation) {
			rewrite(t, s, r.ID, func(stored map[string]any) { stored["status"] = "expired" })
		}, checkout.ErrReservationExpired},
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

// rewrite changes the JSON of a stored reservation, as time or the admitter would.
func rewrite(t *testing.T, s *sale, id string, change func(map[string]any)) {
	t.Helper()
	raw, err := s.rdb.HGet(t.Context(), s.keys.Res, id).Bytes()
	if err != nil {
		t.Fatal(err)
	}
	var stored map[string]any
	if err := json.Unmarshal(raw, &stored); err != nil {
		t.Fatal(err)
	}
	change(stored)
	if raw, err = json.Marshal(stored); err != nil {
		t.Fatal(err)
	}
	if err := s.rdb.HSet(t.Context(), s.keys.Res, id, raw).Err(); err != nil {
		t.Fatal(err)
	}
	if exp, ok := stored["expires_at"].(int64); ok {
		if err := s.rdb.ZAdd(t.Context(), s.keys.Holds, redis.Z{Score: float64(exp), Member: id}).Err(); err != nil {
			t.Fatal(err)
		}
	}
}

package waitingroom

import (
	"errors"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestAReservationTheShopperDoesNotHoldIsUnknownNotAnInternalError(t *testing.T) {
	rdb, rooms, saleID := openSale(t, 2)
	join(t, rooms, saleID, "alice", "bob")
	a := NewAdmitter(rdb, "node-a", quietLog())
	admitted, err := a.Admit(t.Context(), saleID, lead(t, a, saleID), 1)
	if err != nil || len(admitted) != 1 {
		t.Fatalf("admit alice: %v (%d admitted)", err, len(admitted))
	}
	alices := admitted[0].ID
	if _, err := rooms.Reservation(t.Context(), saleID, "alice", alices); err != nil {
		t.Fatalf("alice's own reservation: %v", err)
	}
	for _, c := range []struct{ name, shopper, id string }{
		{"a mangled id", "alice", "not-a-reservation"},
		{"a well-formed id never issued", "alice", "r_nonce_7"},
		{"another shopper's id", "bob", alices},
	} {
		_, err := rooms.Reservation(t.Context(), saleID, c.shopper, c.id)
		if !errors.Is(err, ErrReservationUnknown) {
			t.Errorf("%s: err = %v, want ErrReservationUnknown", c.name, err)
		}
		if errors.Is(err, redis.Nil) {
			t.Errorf("%s: the error still wraps redis.Nil, which callers cannot tell from a missing key", c.name)
		}
	}
}

package waitingroom

import (
	"cmp"
	"context"
	"errors"
	"strings"
	"testing"
)

// The shop's customer id of a customer's join is recorded by join.lua
// itself, with the place: once a second round trip, whose failure cost the
// order its customer id. A join refused records nothing.
func TestACustomersJoinRecordsItsCustomerIDWithItsPlaceAndARefusedOneRecordsNothing(t *testing.T) {
	rdb, rooms, presence, saleID, _ := invitedSale(t)
	ctx := context.Background()
	customers := Keys(saleID).Customers
	if _, err := rooms.JoinWith(ctx, saleID, "c_alice", "t_alice", Pass{Customer: "=alice@shop"}); err != nil {
		t.Fatalf("a listed customer: %v", err)
	}
	if got := rdb.HGet(ctx, customers, "c_alice").Val(); got != "=alice@shop" {
		t.Errorf("the listed customer's join recorded customer %q, want =alice@shop", got)
	}
	// The one-round-trip arrival (pipelined with the status and the arrival)
	// records it too.
	a, err := presence.ArriveAndJoinWith(ctx, saleID, "c_carol", "t_carol", true, Pass{Customer: "carol", Groups: []string{"members"}})
	if err != nil || a.JoinErr != nil {
		t.Fatalf("a member arriving and joining: %v, %v", err, a.JoinErr)
	}
	if got := rdb.HGet(ctx, customers, "c_carol").Val(); got != "carol" {
		t.Errorf("the arrival's join recorded customer %q, want carol", got)
	}

	for name, join := range map[string]func() error{
		"not eligible": func() error {
			_, err := rooms.JoinWith(ctx, saleID, "c_bob", "t_bob", Pass{Customer: "bob"})
			return err
		},
		"not eligible, arriving": func() error {
			a, err := presence.ArriveAndJoinWith(ctx, saleID, "c_bob", "t_bob", true, Pass{Customer: "bob"})
			return cmp.Or(err, a.JoinErr)
		},
		"a customer id of 129": func() error {
			_, err := rooms.JoinWith(ctx, saleID, "c_bob", "t_bob", Pass{Customer: strings.Repeat("b", MaxCustomerIDLen+1)})
			return err
		},
	} {
		err := join()
		if !errors.Is(err, ErrNotEligible) && !errors.Is(err, ErrInvalidShopper) {
			t.Errorf("%s: %v, want refused", name, err)
		}
		if rdb.HExists(ctx, customers, "c_bob").Val() {
			t.Errorf("%s: a refused join recorded its customer", name)
		}
	}
}

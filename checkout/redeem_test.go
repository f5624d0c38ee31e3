package checkout_test

import (
	"errors"
	"testing"

	"github.com/foyerhq/foyer/checkout"
	"github.com/foyerhq/foyer/waitingroom"
)

func TestARedeemWhosePublishFailsIsRelayedWithTheShopsOrderRefAndCustomer(t *testing.T) {
	s := openSale(t, 3)
	if err := s.rdb.HSet(t.Context(), s.keys.Meta, "checkout", string(waitingroom.CheckoutShop)).Err(); err != nil {
		t.Fatal(err)
	}
	alice := s.admit(t, "alice")[0]
	// As alice's join would have recorded her as the shop's customer cust-1.
	if err := s.rdb.HSet(t.Context(), s.keys.Customers, "alice", "cust-1").Err(); err != nil {
		t.Fatal(err)
	}
	s.publisher.failNext(1)
	r, err := s.service.Redeem(t.Context(), saleID, alice.ID, s.token(t, alice), "order-9", "")
	if err != nil || r.OrderRef != "order-9" || r.Quantity != 1 || r.Replayed || r.ShopperID != "alice" {
		t.Fatalf("Redeem = %+v, %v; want order-9, 1 unit, alice, not replayed", r, err)
	}
	relay := checkout.NewOutboxRelay(s.service)
	relay.Age = 0
	if n, err := relay.RelayOnce(t.Context()); n != 1 || err != nil {
		t.Fatalf("RelayOnce = %d, %v; want 1", n, err)
	}
	published := s.published(t)
	if len(published) != 1 {
		t.Fatalf("%d messages published, want 1", len(published))
	}
	if p := published[0].Payload; p.ShopOrderRef != "order-9" || p.CustomerID != "cust-1" || !p.Redeemed() {
		t.Errorf("relayed %+v, want the shop's order-9 and customer cust-1", p)
	}
}

func TestARedeemOfAnotherReservationsTokenOrOfAFoyerSaleChangesNothing(t *testing.T) {
	s := openSale(t, 3)
	admitted := s.admit(t, "alice", "bob")
	before := s.counters(t)
	if _, err := s.service.Redeem(t.Context(), saleID, admitted[1].ID, s.token(t, admitted[0]), "order-1", ""); !errors.Is(err, checkout.ErrReservationMismatch) {
		t.Errorf("Redeem of bob's reservation with alice's token = %v, want ErrReservationMismatch", err)
	}
	if _, err := s.service.Redeem(t.Context(), saleID, admitted[0].ID, s.token(t, admitted[0]), "order-1", ""); !errors.Is(err, checkout.ErrCheckoutNotShop) {
		t.Errorf("Redeem in a sale checked out by Foyer = %v, want ErrCheckoutNotShop", err)
	}
	if err := s.service.Release(t.Context(), saleID, admitted[0].ID, s.token(t, admitted[0])); !errors.Is(err, checkout.ErrCheckoutNotShop) {
		t.Errorf("Release in a sale checked out by Foyer = %v, want ErrCheckoutNotShop", err)
	}
	if err := s.service.Release(t.Context(), saleID, admitted[1].ID, s.token(t, admitted[0])); !errors.Is(err, checkout.ErrReservationMismatch) {
		t.Errorf("Release of bob's reservation with alice's token = %v, want ErrReservationMismatch", err)
	}
	if after := s.counters(t); after != before {
		t.Errorf("counters %+v -> %+v; want unchanged", before, after)
	}
	if ids := s.outbox(t); len(ids) != 0 {
		t.Errorf("outbox = %v, want empty", ids)
	}
}

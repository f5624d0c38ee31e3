package waitingroom

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/testenv"
)

// A shopper of a shop checkout sale leaves Foyer's page for the shop's
// checkout (its socket closes) on purpose: the grace period must not take
// its hold while the shop takes the money, or the shop's redeem would find
// the unit gone and the customer would have paid for nothing. The hold
// lapses at its expiry, as every hold does; in a sale Foyer checks out, a
// holder away past the grace still gives its unit back.
func TestAShopSalesHolderWhoLeftForTheShopsCheckoutKeepsTheHoldUntilItLapses(t *testing.T) {
	for _, shop := range []bool{true, false} {
		rdb := testenv.RedisClient(t, testenv.NewRedis(t))
		rooms := NewRooms(rdb)
		ctx := context.Background()
		p := validPlan()
		p.ID, p.Stock = "s_hold", 1
		if shop {
			p.Checkout, p.CheckoutURL = CheckoutShop, "https://shop.example/checkout"
		}
		p.StartsAt, p.EndsAt = time.Now().Add(-time.Minute), time.Now().Add(time.Hour)
		if err := rooms.Load(ctx, &p); err != nil {
			t.Fatal(err)
		}
		join(t, rooms, p.ID, "c_alice")
		pres := NewPresence(rdb, "n1")
		rdb.Set(ctx, nodeAlive("n1"), 1, time.Minute)
		if err := pres.Arrive(ctx, p.ID, "c_alice"); err != nil {
			t.Fatal(err)
		}
		a := NewAdmitter(rdb, "n1", quietLog())
		fence := lead(t, a, p.ID)
		admitted, err := a.Admit(ctx, p.ID, fence, 1)
		if err != nil || len(admitted) != 1 {
			t.Fatalf("admit: %v %v", admitted, err)
		}
		if err := pres.Depart(ctx, p.ID, "c_alice"); err != nil { // to the shop's page
			t.Fatal(err)
		}
		a.Grace = 0
		if err := a.runSale(ctx, p.ID, a.sales[p.ID], time.Now()); err != nil {
			t.Fatal(err)
		}
		st, err := rooms.Status(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if shop && st.Held != 1 {
			t.Errorf("shop checkout: %d held after the grace, want the hold kept until it lapses", st.Held)
		}
		if !shop && st.Held != 0 {
			t.Errorf("Foyer's checkout: %d held after the grace, want the away holder's unit back", st.Held)
		}
		if !shop {
			continue
		}
		if _, err := rooms.Redeem(ctx, p.ID, "c_alice", admitted[0].ID, "k", "order-1", ""); err != nil {
			t.Errorf("the shop's redeem after its customer left Foyer's page: %v", err)
		}
		if _, err := rooms.Redeem(ctx, p.ID, "c_alice", admitted[0].ID, "k2", "order-2", ""); !errors.Is(err, ErrReservationConfirmed) {
			t.Errorf("a second redeem: %v, want ErrReservationConfirmed", err)
		}
	}
}

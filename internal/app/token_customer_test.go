package app_test

import (
	"context"
	"testing"
	"time"
)

// A shop's checkout sees whose reservation it is before it takes money:
// the reservation token of a customer's session names the shop's own
// customer id (cid), on every tab and every node alike; an anonymous
// shopper's names none.
func TestACustomersReservationTokenNamesTheShopsCustomer(t *testing.T) {
	sys := startNodes(t, 1, withIdentitySecret())
	saleID := shopSale(t, sys, "C-1", 5, map[string]any{"identity": "optional"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admitted, _, _ := customerAdmitted(t, ctx, sys, saleID, "cust-42")
	if c := claimsOf(t, sys, saleID, admitted.Token); c.Customer != "cust-42" || c.Subject == "cust-42" {
		t.Errorf("a customer's token: cid %q, sub %q; want cid cust-42 and sub Foyer's shopper id", c.Customer, c.Subject)
	}
	anonymous, _ := admitOne(t, ctx, sys, saleID)
	if c := claimsOf(t, sys, saleID, anonymous.Token); c.Customer != "" {
		t.Errorf("an anonymous shopper's token names customer %q, want none", c.Customer)
	}
}

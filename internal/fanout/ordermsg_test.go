package fanout

import (
	"testing"

	"github.com/foyerhq/foyer/waitingroom"
)

// TestAnEventsOrderPushNamesItsProductAndASingleProductSalesIsAsItWas: a
// page reloaded after an event's checkout had only the order push to go by,
// and it did not say what was bought, so the receipt named the event. Both
// roads of the push (the workers' news, and the answer to a tab asking where
// it stands) now tell an event's sku and units; a single-product sale's
// frames are the bytes they were.
func TestAnEventsOrderPushNamesItsProductAndASingleProductSalesIsAsItWas(t *testing.T) {
	const (
		event  = `{"type":"order","reservation_id":"r_1","order_id":7,"status":"paid","sku":"TEE-M","quantity":2}`
		single = `{"type":"order","reservation_id":"r_1","order_id":7,"status":"paid"}`
	)
	for _, tc := range []struct {
		name     string
		sku      string
		quantity int
		want     string
	}{
		{"an event's order", "TEE-M", 2, event},
		{"a single-product sale's order", "", 3, single},
	} {
		t.Run(tc.name+" told by the workers' news", func(t *testing.T) {
			r := bareRoom(t)
			tab := r.heldTab("v_1", connAdmitted)
			tab.reservation = "r_1"
			r.apply(waitingroom.Event{Type: waitingroom.EventOrders, Orders: []waitingroom.OrderEvent{{
				Shopper: "v_1", Reservation: "r_1", OrderID: 7, Status: "paid", SKU: tc.sku, Quantity: tc.quantity}}})
			if len(tab.queue) != 1 || string(tab.queue[0]) != tc.want {
				t.Errorf("the tab was told %q, want %s", tab.queue, tc.want)
			}
		})
		t.Run(tc.name+" told to a reloaded page", func(t *testing.T) {
			r := bareRoom(t)
			tab := r.heldTab("v_1", connIdle)
			res := waitingroom.Reservation{ID: "r_1", Shopper: "v_1", Status: "confirmed", SKU: tc.sku, Quantity: tc.quantity}
			r.Reservation("v_1", res, tab, r.Asking(tab), OrderNow{ID: 7, Status: "paid"})
			if len(tab.queue) != 1 || string(tab.queue[0]) != tc.want {
				t.Errorf("the tab was told %q, want %s", tab.queue, tc.want)
			}
		})
	}
}

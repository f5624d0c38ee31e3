package fanout

import (
	"time"

	"github.com/foyerhq/foyer/internal/wire"
	"github.com/foyerhq/foyer/waitingroom"
)

// The room's work that needs Redis or a signature: the draw's tickets, and
// the reservation tokens of admitted shoppers. Each is done in three steps:
// what is needed is copied under r.mu, the I/O or signing is done without
// it, and the result is applied under r.mu again, checking the state anew.
// A lock held across a round trip or thousands of signatures would stall
// every joiner of the sale, and through the hub every socket of the node.

// admitted applies an admitted event: the mark moves, and each admitted
// shopper's tabs get the reservation token, signed once per shopper.
func (r *Room) admitted(e waitingroom.Event) {
	r.mu.Lock()
	// A prequeue shopper drawn to the first places may be admitted before
	// the draw's end tells this node its ticket: its tabs are told the
	// place they had first, so that no shopper is admitted without ever
	// having seen a position.
	for _, res := range e.Admitted {
		for _, c := range r.shoppers[res.Shopper] {
			if c.status == connPrequeue {
				r.pushPosition(c, r.positions.Of(res.Ticket))
			}
		}
	}
	r.positions.Admitted(e.Mark)
	r.flow.Admitted(time.Now(), len(e.Admitted))
	var toTell []waitingroom.Reservation
	var customers []string
	for _, res := range e.Admitted {
		if r.untold(res) {
			toTell = append(toTell, res)
			customers = append(customers, r.customerOf(res.Shopper))
		}
	}
	r.mu.Unlock()
	if len(toTell) == 0 {
		return
	}
	msgs := make([][]byte, len(toTell))
	for i, res := range toTell {
		msgs[i] = r.admittedMsg(res, customers[i])
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, res := range toTell {
		for _, c := range r.shoppers[res.Shopper] {
			r.admit(c, res, msgs[i], false)
		}
	}
}

// untold reports whether one of the shopper's tabs has not been told the
// reservation yet. r.mu is held.
func (r *Room) untold(res waitingroom.Reservation) bool {
	for _, c := range r.shoppers[res.Shopper] {
		if c.reservation != res.ID {
			return true
		}
	}
	return false
}

// customerOf is the shop's customer id of the shopper's tabs on this node,
// or "" for an anonymous shopper. r.mu is held.
func (r *Room) customerOf(shopper string) string {
	for _, c := range r.shoppers[shopper] {
		if c.customer != "" {
			return c.customer
		}
	}
	return ""
}

// admittedMsg signs a reservation's token (naming the shop's customer, if
// any) and encodes the admitted message, or returns nil (logged) when the
// token cannot be signed. Never under r.mu.
func (r *Room) admittedMsg(res waitingroom.Reservation, customer string) []byte {
	token, err := r.h.tokens.IssueFor(r.id, res, customer)
	if err != nil {
		r.h.log.Error("issue reservation token", "sale", r.id, "reservation", res.ID, "err", err)
		return nil
	}
	checkoutURL, checkout := r.h.checkoutBase+"/v1/sales/"+r.id+"/checkout", wire.CheckoutFoyer
	if r.shop != nil {
		checkoutURL, checkout = shopCheckoutURL(r.shop, token, r.id), wire.CheckoutShop
	}
	return encode(AdmittedMsg{
		Type: wire.MsgAdmitted, ReservationID: res.ID, Token: token, AdmittedAt: res.AdmittedAt().UTC(), ExpiresAt: res.ExpiresAt().UTC(),
		CheckoutURL: checkoutURL, Checkout: checkout,
	})
}

// admit hands a connection its admitted message msg, once per reservation
// unless again (the tab asked where it stands: every join and resume is
// answered). A nil msg (no token could be signed) tells nothing. r.mu is
// held.
func (r *Room) admit(c *Conn, res waitingroom.Reservation, msg []byte, again bool) {
	if msg == nil || (c.reservation == res.ID && !again) {
		return
	}
	// Out of the queue: a place it takes again later is a new one, shown
	// as it is, not held to the last it was shown here (as Left does).
	c.status, c.reservation, c.ticket, c.lastPos, c.lastETA = connAdmitted, res.ID, 0, 0, nil
	c.Enqueue(msg)
}

// OrderNow is a confirmed reservation's order as the orders' store had it
// when a tab asked where it stands: its id and status (pending_payment,
// paid, cancelled, refunded), and, for a pending one the page pays itself,
// the secret it pays with (kept for reloaded pages; "": none). The zero
// value: no order written yet, or the store could not say; the tab is told
// "confirmed", the outcome to follow.
type OrderNow struct {
	ID            int64
	Status        string
	PaymentSecret string
}

// Reservation tells a shopper's tabs about a reservation found on joining;
// asking, the tab that asked, is told it again if it knew it as it asked
// (knew, from Asking): a tab told it since has had its answer. A confirmed
// reservation is told as its order stands (order), so that a page
// reloaded after its order was paid learns it.
func (r *Room) Reservation(shopper string, res waitingroom.Reservation, asking *Conn, knew string, order OrderNow) {
	var admitted []byte
	if res.Status == "held" {
		r.mu.Lock()
		customer := r.customerOf(shopper)
		r.mu.Unlock()
		admitted = r.admittedMsg(res, customer) // signed outside the lock
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.shoppers[shopper] {
		switch res.Status {
		case "held":
			r.admit(c, res, admitted, c == asking && knew == res.ID)
		case "confirmed":
			told := c.status == connOrdered && c.reservation == res.ID
			if again := c == asking && knew == res.ID; !told || again {
				msg := r.orderNowMsg(res, order)
				c.tellOrder(res.ID, msg.Status, encode(msg), again)
			}
		}
	}
}

// orderNowMsg is the order message of a confirmed reservation whose order
// stands as order says: "confirmed" when the store could not say. A
// pending order carries its payment when its secret was kept; an event's
// order, the product and units its reservation's record says it bought.
func (r *Room) orderNowMsg(res waitingroom.Reservation, order OrderNow) OrderMsg {
	msg := OrderMsg{Type: wire.MsgOrder, ReservationID: res.ID, Status: wire.OrderConfirmed}
	if order.Status != "" {
		msg.OrderID, msg.Status = order.ID, order.Status
		msg.Payment = r.h.orderPayment(order.Status, order.PaymentSecret)
	}
	msg.SKU, msg.Quantity = eventProduct(res.SKU, res.Quantity)
	return msg
}

// eventProduct is an event's order's product and units as an order message
// tells them: none for a single-product sale's (no sku), so that its
// frames stay as they were.
func eventProduct(sku string, quantity int) (string, int) {
	if sku == "" {
		return "", 0
	}
	return sku, max(quantity, 1)
}

// placeDrawn gives the node's prequeue shoppers the tickets the draw gave
// them, and their first positions. It reads the tickets from Redis, a round
// trip per thousand of this node's shoppers, without holding r.mu.
func (r *Room) placeDrawn() {
	r.mu.Lock()
	r.drawn = true // from now on a prequeue joiner looks its drawn place up itself
	var shoppers []string
	for shopper, tabs := range r.shoppers {
		for _, c := range tabs {
			if c.status == connPrequeue {
				shoppers = append(shoppers, shopper)
				break
			}
		}
	}
	r.mu.Unlock()
	if len(shoppers) == 0 {
		return
	}
	if hook := r.h.hooks.ReadingTickets; hook != nil {
		hook(r.id)
	}
	tickets, err := r.h.feed.Tickets(r.ctx, r.id, shoppers)
	if err != nil {
		r.h.log.Error("read drawn tickets", "sale", r.id, "err", err)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, shopper := range shoppers {
		ticket, ok := tickets[shopper]
		for _, c := range r.shoppers[shopper] {
			if c.status != connPrequeue {
				continue // admitted, flagged or gone meanwhile: told already
			}
			c.status = connIdle
			if ok {
				c.status, c.ticket = connWaiting, ticket
				r.pushPosition(c, r.positions.Of(ticket))
			}
		}
	}
}

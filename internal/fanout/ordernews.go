package fanout

import "github.com/foyerhq/foyer/internal/wire"

// News of a reservation's order reaches a tab by two roads: the order
// events the worker announces, and the answer to a tab that asks where it
// stands (the order read from the orders' store, which may be older than an
// event told meanwhile). Each is told only to the tabs it is about, and
// never over newer news.

// orderRank orders an order's statuses as they follow one another: news
// of a lower rank than a tab was told is older, and not told over it.
func orderRank(status string) int {
	switch status {
	case wire.OrderConfirmed:
		return 1
	case wire.OrderPendingPayment:
		return 2
	case wire.OrderPaid, wire.OrderCancelled:
		return 3
	case wire.OrderRefunded:
		return 4
	}
	return 0
}

// unitWentBack reports whether an order's status gave its unit back to the
// sale: the shopper may join again, so its tabs are idle, not ordered.
func unitWentBack(status string) bool {
	return status == wire.OrderCancelled || status == wire.OrderRefunded
}

// orderTold is the latest news of a reservation's order told to a tab
// (its orderRank and its message): older news coming late is not told over
// it, and a tab asking again is told the latest.
type orderTold struct {
	reservation string
	rank        int
	msg         []byte
}

// about reports whether a tab is told news of its shopper's orders: not
// while it is queued again (after an order was cancelled), when news of an
// earlier order (a late refund) would have its page leave the queue. r.mu is
// held.
func (c *Conn) about() bool {
	return c.status != connWaiting && c.status != connPrequeue
}

// tellOrder tells a tab news of a reservation's order with msg, unless it
// was told newer news of it; asking, it is told the latest it has (a tab
// asking is always answered). News of another reservation than the tab's (a
// customer may make several orders) is told, and leaves the tab as it
// stands on its own. r.mu is held.
func (c *Conn) tellOrder(reservation, status string, msg []byte, asking bool) {
	if c.reservation != "" && c.reservation != reservation {
		c.Enqueue(msg)
		return
	}
	rank := orderRank(status)
	if o := c.order; o != nil && o.reservation == reservation && rank < o.rank {
		if asking {
			c.Enqueue(o.msg)
		}
		return
	}
	if c.order == nil {
		c.order = &orderTold{}
	}
	c.reservation, *c.order = reservation, orderTold{reservation: reservation, rank: rank, msg: msg}
	c.status = connOrdered
	if unitWentBack(status) {
		c.status = connIdle
	}
	c.Enqueue(msg)
}

// CheckedOut answers a tab whose checkout over its own socket confirmed its
// reservation (or was the one that had: a checkout sent again) with the
// order message, "confirmed", told as to a tab asking: one that knows newer
// news of the order is told that instead. Units beyond one are said even in
// a single-product sale, as the HTTP checkout's answer says them.
func (r *Room) CheckedOut(c *Conn, reservation, sku string, quantity int) {
	sku, units := eventProduct(sku, quantity)
	if units == 0 && quantity > 1 {
		units = quantity
	}
	msg := encode(OrderMsg{Type: wire.MsgOrder, ReservationID: reservation, Status: wire.OrderConfirmed, SKU: sku, Quantity: units})
	r.mu.Lock()
	defer r.mu.Unlock()
	c.tellOrder(reservation, wire.OrderConfirmed, msg, true)
}

package fanout

import (
	"time"

	"github.com/foyerhq/foyer/internal/clock"
	"github.com/foyerhq/foyer/internal/wire"
	"github.com/foyerhq/foyer/waitingroom"
)

// A room follows its sale's event stream: each event is applied as it
// comes, in order, and told to the shoppers it concerns. The events that
// need the queue or a signature are admitting.go's.

// eventBlock is how long one read of the event stream waits for news; it also
// bounds how long a stopped room's reader lingers.
const eventBlock = time.Second

// follow applies the sale's events as they come, until the room stops.
func (r *Room) follow() {
	for r.ctx.Err() == nil {
		started := time.Now()
		events, err := r.h.feed.Events(r.ctx, r.id, r.lastID, eventBlock, 1000)
		if err != nil {
			if r.ctx.Err() == nil {
				r.readFailed(started, "read sale events", err)
				_ = clock.Sleep(r.ctx, time.Second) // the loop ends if the room stopped
			}
			continue
		}
		r.readSucceeded()
		if len(events) == 0 {
			continue
		}
		for _, e := range events {
			r.applyEvent(e)
		}
		r.lastID = events[len(events)-1].ID // follow's own: no lock
	}
}

// applyEvent applies one event. The two that need Redis or signing (the
// draw's tickets, the admitted shoppers' tokens) do that work between two
// short holds of r.mu, never under it: a room's lock guards memory only, so
// one sale's draw of thousands of shoppers delays no one else. Events are
// applied one after the other, so a shopper drawn and then admitted is told
// its position before its admission.
func (r *Room) applyEvent(e waitingroom.Event) {
	switch e.Type {
	case waitingroom.EventAdmitted:
		r.admitted(e)
	case waitingroom.EventDrawn:
		r.placeDrawn()
	default:
		r.mu.Lock()
		r.apply(e)
		r.mu.Unlock()
	}
}

// apply tells the room's shoppers what an event means for them, for the
// events that need nothing but memory. r.mu is held.
func (r *Room) apply(e waitingroom.Event) {
	switch e.Type {
	case waitingroom.EventGone:
		r.positions.Gone(e.Ticket)
		r.flow.Gone(time.Now(), 1)
	case waitingroom.EventRate:
		r.rate = e.Rate
		r.epoch++
	case waitingroom.EventPow:
		r.difficulty = e.PowDifficulty
	case waitingroom.EventExpired:
		for _, rel := range e.Released {
			msg := encode(ExpiredMsg{Type: wire.MsgExpired, ReservationID: rel.Reservation})
			for _, c := range r.shoppers[rel.Shopper] {
				if c.reservation == rel.Reservation {
					c.status, c.reservation = connIdle, ""
					c.Enqueue(msg)
				}
			}
		}
	case waitingroom.EventState:
		if e.SeedHash != "" {
			r.seedHash = e.SeedHash
		}
		r.setState(e.State, e.SeedHash, e.Seed)
		if e.Deleted {
			// An operator deleted the sale before it opened: its data is
			// gone, so the shoppers are told it ended and let go, as for a
			// sale that does not exist, rather than told of an outage when
			// the next read of its status finds nothing.
			for c := range r.conns {
				c.CloseAfterSent(wire.CloseSaleNotFound, "the sale was deleted")
			}
		}
	case waitingroom.EventStock:
		stock := r.stock
		stock.Type, stock.Total, stock.Left = wire.MsgStock, e.Stock, e.Available
		stock.AllHeld = stock.Left == 0 && stock.Held > 0
		if e.Product != "" {
			stock.Products = withProductLeft(stock.Products, e.Product, e.ProductLeft)
		}
		// Told at once, not at the next tick: an operator added stock.
		r.setStock(stock)
		for c := range r.conns {
			if !c.holdsUnit() {
				r.tellStock(c)
			}
		}
	case waitingroom.EventMessage:
		text := e.Message // "" when cleared: said, so that pages hide the old one
		r.broadcast(encode(StateMsg{Type: wire.MsgState, State: r.state, Message: &text}))
	case waitingroom.EventPlan: // an operator's edit before the opening: countdowns move
		if p := e.Plan; p != nil {
			r.startsAt, r.rate = time.UnixMilli(p.StartsAtMs), p.Rate
			r.epoch++
			// With the message shown, so that a page never takes the push for
			// one that cleared it.
			r.broadcast(encode(StateMsg{Type: wire.MsgState, State: r.state, Message: &p.Message, Sale: &SaleNews{
				Name: p.Name, PriceCents: p.PriceCents, ListPriceCents: p.ListPriceCents, Currency: p.Currency, StartsAt: time.UnixMilli(p.StartsAtMs).UTC(),
				EndsAt: time.UnixMilli(p.EndsAtMs).UTC(), PrequeueAt: time.UnixMilli(p.PrequeueAtMs).UTC(),
				PerShopperLimit: p.PerShopperLimit, Products: p.Products,
			}}))
		}
	case waitingroom.EventOrder, waitingroom.EventOrders:
		for _, o := range e.OrderNews() {
			tabs := r.shoppers[o.Shopper]
			if len(tabs) == 0 {
				continue // another node's shopper: nothing to encode
			}
			sku, quantity := eventProduct(o.SKU, o.Quantity)
			msg := encode(OrderMsg{Type: wire.MsgOrder, ReservationID: o.Reservation, OrderID: o.OrderID, Status: o.Status,
				SKU: sku, Quantity: quantity, Payment: r.h.orderPayment(o.Status, o.PaymentSecret)})
			for _, c := range tabs {
				if c.about() {
					c.tellOrder(o.Reservation, o.Status, msg, false)
				}
			}
		}
	case waitingroom.EventRequeued: // an operator's rule sent a flagged shopper to the back (signals.go)
		r.requeued(e.Shopper, e.Ticket, 0, nil)
	case waitingroom.EventRemoved: // an operator's rule took a flagged shopper out
		r.flagged(e.Shopper, nil)
	}
}

// setState tells everyone a new state, and the waiting that it is sold out.
// seedHash and seed go with the prequeue's opening and the draw.
func (r *Room) setState(s waitingroom.State, seedHash, seed string) {
	if s == r.state {
		return
	}
	was := r.state
	r.state = s
	r.epoch++
	if was == waitingroom.StateSoldOut {
		// Stock was added: those still in the queue are waiting again.
		for c := range r.conns {
			if c.status == connIdle && c.ticket > r.positions.Mark() {
				c.status = connWaiting
			}
		}
	}
	msg := encode(StateMsg{Type: wire.MsgState, State: s, SeedHash: seedHash, Seed: seed})
	if s == waitingroom.StateOpen {
		r.openedAt = r.ticks + 1
	}
	for c := range r.conns {
		c.told = s
		if s == waitingroom.StateOpen && c.status == connWaiting {
			r.tellOpened(c, msg)
		} else {
			c.Enqueue(msg)
		}
	}
	if s == waitingroom.StateSoldOut {
		msg := encode(SoldOutMsg{Type: wire.MsgSoldOut})
		for c := range r.conns {
			if c.status == connWaiting || c.status == connIdle {
				c.status = connIdle
				c.Enqueue(msg)
			}
		}
	}
}

// tellOpened tells a waiting tab that the sale opened (resumed, or stock
// came back), msg, and in the same write its position with the fall the
// operator's rate makes it expect (fall.go's expectedPace), the stock going
// with it as at a tick (tellCounters): its page counts from now. Told the
// state alone, it was told its position a second later, when the queue was
// seen to move: every waiting tab written twice in a second, the moment the
// sale's first admissions were written too (docs/performance.md, issue 21).
// r.mu is held.
func (r *Room) tellOpened(c *Conn, msg []byte) {
	pos := r.positions.Of(c.ticket)
	if pos <= 0 || (c.lastPos > 0 && pos > c.lastPos) || r.fallOf(pos) == nil {
		c.Enqueue(msg)
		return
	}
	c.Gather()
	c.Enqueue(msg)
	r.tellStock(c)
	c.Enqueue(r.positionMsg(c, pos))
	c.Send()
}

// orderPayment is what the shopper's page pays a pending order with: the
// Stripe account's publishable key and the order's client secret. Nil for
// an order the page has nothing to pay for: settled, one the test provider
// pays by itself (no secret), or on a node without Stripe's key.
func (h *Hub) orderPayment(status, secret string) *OrderPayment {
	if status != wire.OrderPendingPayment || secret == "" || h.stripeKey == "" {
		return nil
	}
	return &OrderPayment{Provider: wire.PaymentStripe, PublishableKey: h.stripeKey, ClientSecret: secret}
}

package fanout

import (
	"time"

	"github.com/foyerhq/foyer/internal/wire"
	"github.com/foyerhq/foyer/waitingroom"
)

// A room pushes what changed once a second: it reads the sale's counters
// in one round trip, whatever the number of shoppers, and tells each what
// moved.

// pushEvery is how often a sale room pushes positions and stock: at most
// once a second per shopper, as the protocol promises.
const pushEvery = time.Second

// pushLoop reads the sale's counters once a tick, one Redis round trip
// whatever the number of shoppers, and pushes what changed.
func (r *Room) pushLoop() {
	t := time.NewTicker(pushEvery)
	defer t.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return
		case now := <-t.C:
			if !r.tick(now) {
				return
			}
		}
	}
}

// tick is one beat of pushLoop; it reports false once the room is retired.
func (r *Room) tick(now time.Time) bool {
	if r.h.retire(r, now) {
		return false
	}
	st, err := r.h.feed.Status(r.ctx, r.id)
	if err != nil {
		if r.ctx.Err() == nil {
			r.readFailed(now, "read sale status", err)
		}
		return true
	}
	r.readSucceeded()
	r.push(st)
	return true
}

func (r *Room) push(st waitingroom.Status) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.waiting = st.Waiting
	r.rate, r.startsAt = st.Rate, st.StartsAt
	stock := StockMsg{Type: wire.MsgStock, Total: st.Stock, Left: st.Available, Held: st.Held, Sold: st.Sold,
		AllHeld: st.Available == 0 && st.Held > 0}
	if stock != r.stock {
		// Every connection is told the stock, and the waiting their
		// positions after it: gathered, each connection's messages of the
		// tick leave in one write.
		for c := range r.conns {
			c.Gather()
		}
		defer func() {
			for c := range r.conns {
				c.Send()
			}
		}()
		r.stock = stock
		r.broadcast(encode(stock))
	}
	r.setState(st.State, st.SeedHash, st.Seed)
	for c := range r.conns {
		if c.told != r.state {
			r.retell(c)
		}
		if c.status == connWaiting {
			r.pushPosition(c, r.positions.Of(c.ticket))
		}
	}
}

// retell tells a connection the sale's state, which changed between the
// status its welcome was made from and its coming into the room: the room
// tells changes, not states, so it would never hear it otherwise. A new
// shopper joins before it comes into the room, so it may be waiting in a
// sale that has sold out meanwhile. r.mu is held.
func (r *Room) retell(c *Conn) {
	c.told = r.state
	c.Enqueue(encode(StateMsg{Type: wire.MsgState, State: r.state, SeedHash: r.seedHash}))
	if r.state == waitingroom.StateSoldOut && c.status == connWaiting {
		c.status = connIdle
		c.Enqueue(encode(SoldOutMsg{Type: wire.MsgSoldOut}))
	}
}

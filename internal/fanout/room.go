package fanout

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/foyerhq/foyer/internal/clock"
	"github.com/foyerhq/foyer/internal/wire"
	"github.com/foyerhq/foyer/waitingroom"
)

// eventBlock is how long one read of the event stream waits for news; it also
// bounds how long a stopped room's reader lingers.
const eventBlock = time.Second

// Room is one sale as this node follows it: the node's shoppers of the
// sale, and the positions model fed by the sale's event stream.
type Room struct {
	h      *Hub
	id     string
	lastID string // the last event applied
	stop   context.CancelFunc
	ctx    context.Context

	// members and emptySince (unix ns) mirror len(conns) and when it last
	// fell to 0, for the hub's retire, which reads them without r.mu: the
	// hub's lock never waits on a room's. Written under r.mu.
	members    atomic.Int64
	emptySince atomic.Int64
	// entering counts sockets that found the room and are registering:
	// raised under the hub's lock, so retire (under it too) cannot stop a
	// room being entered.
	entering atomic.Int64

	mu         sync.Mutex
	closing    bool // the node drains: the room takes no one more
	conns      map[*Conn]struct{}
	shoppers   map[string][]*Conn
	positions  *waitingroom.Positions
	stock      StockMsg
	state      waitingroom.State
	waiting    int64
	flow       Outflow   // the measured pace, for estimates
	rate       float64   // the operator's outflow rate
	startsAt   time.Time // when the queue starts to move
	epoch      int       // raised when the state or the rate changes: estimates may rise then
	seedHash   string    // the draw's commitment, told to prequeue joiners
	drawn      bool      // the prequeue draw has happened
	difficulty int       // the proof of work asked of joiners; 0 is off
	outage     outage    // whether the sale's data has been out of reach, and since when (outage.go)
}

func newSaleRoom(h *Hub, v waitingroom.View, st waitingroom.Status) *Room {
	ctx, stop := context.WithCancel(h.ctx)
	r := &Room{
		h: h, id: st.SaleID, lastID: v.LastID, ctx: ctx, stop: stop,
		state: st.State, rate: st.Rate, startsAt: st.StartsAt, waiting: st.Waiting,
		seedHash: st.SeedHash, drawn: st.Seed != "" && !st.Drawing, difficulty: v.PowDifficulty,
		conns: map[*Conn]struct{}{}, shoppers: map[string][]*Conn{},
		positions: waitingroom.NewPositions(v),
	}
	r.emptySince.Store(time.Now().UnixNano())
	return r
}

// register puts a connection in the room, unless the node drains; the
// status st its socket read on arriving freshens the count of waiting
// shoppers the room tells (pushLoop reads it only once a second).
func (r *Room) register(c *Conn, st waitingroom.Status) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closing {
		return false
	}
	r.conns[c] = struct{}{}
	r.shoppers[c.shopper] = append(r.shoppers[c.shopper], c)
	r.members.Store(int64(len(r.conns)))
	r.waiting = max(r.waiting, st.Waiting)
	return true
}

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
	case waitingroom.EventStock:
		stock := r.stock
		stock.Type, stock.Total, stock.Left = wire.MsgStock, e.Stock, e.Available
		stock.AllHeld = stock.Left == 0 && stock.Held > 0
		if stock != r.stock {
			r.stock = stock
			r.broadcast(encode(stock))
		}
	case waitingroom.EventMessage:
		r.broadcast(encode(StateMsg{Type: wire.MsgState, State: r.state, Message: e.Message}))
	case waitingroom.EventOrder:
		o := e.Order
		msg := encode(OrderMsg{Type: wire.MsgOrder, ReservationID: o.Reservation, OrderID: o.OrderID, Status: o.Status})
		for _, c := range r.shoppers[o.Shopper] {
			c.status = connOrdered
			c.Enqueue(msg)
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
	r.broadcast(encode(StateMsg{Type: wire.MsgState, State: s, SeedHash: seedHash, Seed: seed}))
	for c := range r.conns {
		c.told = s
	}
	if was == waitingroom.StateSoldOut {
		// Stock was added: those still in the queue are waiting again.
		for c := range r.conns {
			if c.status == connIdle && c.ticket > r.positions.Mark() {
				c.status = connWaiting
			}
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

// Place records where a shopper stands after joining, on every tab it has
// open on this node, and pushes the position at once; asking, the tab whose
// join or resume this answers, is told its position even when it is not
// lower than the last one it was shown (every join and resume is answered).
// It reports false when the shopper was admitted meanwhile and the asking
// tab, or a tab the admitted event did not tell (one that came into the
// room after it: a new shopper joins before it enters the room), is to be
// told the reservation. The caller looks the reservation up.
func (r *Room) Place(shopper string, ticket, position int64, asking *Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ticket <= r.positions.Mark() {
		// Admitted meanwhile: the admitted event has told the tabs that
		// were in the room.
		for _, c := range r.shoppers[shopper] {
			if c == asking || (c.status != connAdmitted && c.status != connOrdered) {
				return false
			}
		}
		return true
	}
	for _, c := range r.shoppers[shopper] {
		if c.status == connAdmitted || c.status == connOrdered {
			continue
		}
		c.status, c.ticket = connWaiting, ticket
		if c == asking {
			r.answerPosition(c, position)
		} else {
			r.pushPosition(c, position)
		}
	}
	return true
}

// Prequeued records that a shopper joined the prequeue and tells its tabs
// so. It reports false when the draw has already happened: the caller must
// look the shopper's drawn place up instead.
func (r *Room) Prequeued(shopper string, ticket int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.drawn {
		return false
	}
	msg := encode(PrequeueMsg{Type: wire.MsgPrequeue, Ticket: ticket, SeedHash: r.seedHash, StartsAt: r.startsAt.UTC()})
	for _, c := range r.shoppers[shopper] {
		if c.status == connIdle || c.status == connPrequeue {
			c.status = connPrequeue
			c.Enqueue(msg)
		}
	}
	return true
}

// PowDifficulty is the proof of work the sale asks of joiners now. It comes
// from the view the room started from, read together with the event
// stream's position, then from the stream's pow events, so no change is
// missed or applied out of order.
func (r *Room) PowDifficulty() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.difficulty
}

// Left marks a shopper's tabs as out of the queue, and tells them so: the
// asking tab always, as the answer to its leave, and the others that were
// waiting.
func (r *Room) Left(shopper string, asking *Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	msg := encode(LeftMsg{Type: wire.MsgLeft})
	for _, c := range r.shoppers[shopper] {
		waiting := c.status == connWaiting || c.status == connPrequeue
		if waiting {
			c.status, c.ticket, c.lastPos, c.lastETA = connIdle, 0, 0, nil
		}
		if waiting || c == asking {
			c.Enqueue(msg)
		}
	}
}

// Remove takes a closed connection out of the room. It reports whether it
// was the shopper's last connection on this node.
func (r *Room) Remove(c *Conn) (last bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.conns, c)
	tabs := r.shoppers[c.shopper]
	for i, t := range tabs {
		if t == c {
			tabs = append(tabs[:i], tabs[i+1:]...)
			break
		}
	}
	if len(tabs) == 0 {
		delete(r.shoppers, c.shopper)
	} else {
		r.shoppers[c.shopper] = tabs
	}
	r.members.Store(int64(len(r.conns)))
	if len(r.conns) == 0 {
		r.emptySince.Store(time.Now().UnixNano())
	}
	return len(tabs) == 0
}

// pushPosition sends a position if it is lower than the last one sent: a
// position shown to a shopper never rises. r.mu is held.
func (r *Room) pushPosition(c *Conn, pos int64) {
	if pos <= 0 || (c.lastPos > 0 && pos >= c.lastPos) {
		return
	}
	r.sendPosition(c, pos)
}

// answerPosition answers a tab that asked where it stands (join, resume):
// always, with pos, or with the last position it was shown when pos is not
// lower. Repeating a position is fine; showing a higher one is not. r.mu is
// held.
func (r *Room) answerPosition(c *Conn, pos int64) {
	if c.lastPos > 0 && (pos <= 0 || pos > c.lastPos) {
		pos = c.lastPos
	}
	if pos <= 0 {
		return
	}
	r.sendPosition(c, pos)
}

// sendPosition sends pos and records it as the last shown. r.mu is held.
func (r *Room) sendPosition(c *Conn, pos int64) {
	c.lastPos = pos
	c.Enqueue(encode(PositionMsg{Type: wire.MsgPosition, Position: pos, Ahead: pos - 1, Waiting: max(r.waiting, pos),
		ETA: r.estimate(c, pos-1)}))
}

// estimate is a shopper's ETA. While nothing changed (same state, same
// rate) it never rises: a shopper must not see the wait grow for no reason.
// r.mu is held.
func (r *Room) estimate(c *Conn, ahead int64) *ETA {
	var e *ETA
	now := time.Now()
	switch {
	case r.stock.AllHeld:
		// Nothing moves until a hold lapses or is bought: no estimate
		// (docs/protocol.md), not a zero one.
	case r.state == waitingroom.StateOpen:
		e = r.flow.Estimate(now, ahead, r.rate, 0)
	case r.state == waitingroom.StateScheduled:
		e = r.flow.Estimate(now, ahead, r.rate, max(0, r.startsAt.Sub(now)))
	}
	if e != nil && c.lastETA != nil && c.etaEpoch == r.epoch {
		e.Min, e.Max = min(e.Min, c.lastETA.Min), min(e.Max, c.lastETA.Max)
	}
	c.lastETA, c.etaEpoch = e, r.epoch
	return e
}

func (r *Room) broadcast(msg []byte) {
	for c := range r.conns {
		c.Enqueue(msg)
	}
}

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

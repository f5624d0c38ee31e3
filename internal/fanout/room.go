package fanout

import (
	"context"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/foyerhq/foyer/waitingroom"
)

// Room is one sale as this node follows it: the node's shoppers of the
// sale, and the positions model fed by the sale's event stream. Its state is
// all here; what it does with it is in events.go (the sale's events),
// admitting.go (those that need the queue or a signature), places.go (where
// each shopper stands), push.go (the beat of counters), outage.go (reads that
// fail) and signals.go (operators' rules on flagged shoppers).
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
	idle       idleWheel // the connections by their idle deadline (idle.go)
	positions  *waitingroom.Positions
	stock      StockMsg
	stockMsg   []byte          // stock, encoded once for every connection told it
	stockVer   uint32          // raised at each change of stock: a connection's stockSeen is one of these
	flagVer    uint32          // the stockVer at which whether any is left, or all held, last changed
	ticks      uint32          // the push loop's beats so far: a connection's shownAt counts in tenths of these
	tickedAt   time.Time       // when the last tick's messages were made (sentAt)
	marks      [fallRing]int64 // the admitted mark at each of the last ticks (fall.go)
	pace       int64           // the pace told with positions at the last tick, 0 for none
	moving     int             // how many ticks in a row the mark has moved, fallTicks+1 at most
	openedAt   uint32          // the tick after the one before the sale last turned open (fall.go's expectedPace)
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
	// shop is the shop's checkout page of a shop sale, nil for Foyer's
	// checkout; set at the start and never changed, so read without r.mu.
	shop *url.URL
}

func newRoom(h *Hub, v waitingroom.View, st waitingroom.Status) *Room {
	ctx, stop := context.WithCancel(h.ctx)
	r := &Room{
		h: h, id: st.SaleID, lastID: v.LastID, ctx: ctx, stop: stop,
		state: st.State, rate: st.Rate, startsAt: st.StartsAt, waiting: st.Waiting,
		seedHash: st.SeedHash, drawn: st.Seed != "" && !st.Drawing, difficulty: v.PowDifficulty,
		conns: map[*Conn]struct{}{}, shoppers: map[string][]*Conn{},
		positions: waitingroom.NewPositions(v),
	}
	// The counters as the room starts: its first tick tells only what
	// changed since, as every later one does.
	r.setStock(stockOf(st))
	shop, err := shopCheckout(st)
	if err != nil {
		// Plan.Validate let no such URL in; Foyer's own checkout still
		// takes the shopper's token rather than sending them nowhere.
		h.log.Error("parse the shop's checkout url", "sale", st.SaleID, "err", err)
	}
	r.shop = shop
	r.idle.swept = int64(time.Since(h.writers.epoch) / idleSweepEvery)
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
	r.idle.add(c, idleSecond(c))
	// Its welcome told it the counters its socket read: the next change
	// is news to it, or the room's now if they are not those.
	c.stockSeen = r.stockVer
	if !sameStock(stockOf(st), r.stock) {
		c.stockSeen--
	}
	r.shoppers[c.shopper] = append(r.shoppers[c.shopper], c)
	r.members.Store(int64(len(r.conns)))
	r.waiting = max(r.waiting, st.Waiting)
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

// Remove takes a closed connection out of the room. It reports whether it
// was the shopper's last connection on this node.
func (r *Room) Remove(c *Conn) (last bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.conns, c)
	r.idle.remove(c)
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

// broadcast sends msg, encoded once, to every connection in the room.
func (r *Room) broadcast(msg []byte) {
	for c := range r.conns {
		c.Enqueue(msg)
	}
}

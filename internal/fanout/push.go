package fanout

import (
	"slices"
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

// nearFront is how many places from the front a shopper is told each fall
// of its position (each tick); behind it, a fall of a hundredth of the
// position, or farBackTicks ticks, make a push.
const nearFront = 1000

// farBackTicks is the longest a falling position far back goes untold:
// five ticks, five seconds.
const farBackTicks = 5

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
	r.ticks++
	r.tickedAt = time.Now()
	r.waiting = st.Waiting
	r.rate, r.startsAt = st.Rate, st.StartsAt
	r.setStock(stockOf(st))
	r.setState(st.State, st.SeedHash, st.Seed)
	r.measureFall(r.positions.Mark())
	for c := range r.conns {
		if c.told != r.state {
			r.retell(c)
		}
		r.tellCounters(c)
	}
}

// tellCounters tells one connection, at a tick, the counters that changed
// for it in a way that matters (docs/protocol.md, "What a push tells"): to
// a tab not in the queue, the stock; to a waiting one, its position when
// what it shows drifted from it, the stock going with it. A tab holding a
// unit or an order is told no counters. Whatever the tick queues on a
// connection leaves in one write (Gather, Send). r.mu is held.
func (r *Room) tellCounters(c *Conn) {
	switch c.status {
	case connAdmitted, connOrdered:
		// Its unit is held or bought: the stock is not its to watch
		// (the page hides it), and sold out reaches it as a state.
		return
	case connWaiting:
		pos := r.positions.Of(c.ticket)
		if r.positionMatters(c, pos) {
			c.Gather()
			r.tellStock(c)
			c.enqueuePush(r.positionMsg(c, pos))
			c.Send()
			return
		}
		// The position stands (paused, all held) or moves too little to
		// tell: the stock alone, when whether any is left changed, or
		// when it changed at all and the last was told farBackTicks ago
		// (its own clock: the position's must not restart with it). A
		// position that falls is told within farBackTicks of the last,
		// the stock with it: told alone too, on a clock of its own, the
		// stock was most of a moving sale's writes to the waiting.
		falling := pos > 0 && pos < c.lastPos
		if c.stockSeen != r.stockVer && (c.stockSeen < r.flagVer || (r.ticks-c.stockAt >= farBackTicks && !falling)) {
			r.tellStock(c)
		}
	default:
		r.tellStock(c)
	}
}

// positionMatters reports whether a waiting tab's position pos is to be
// told at this tick. A tab counting its position down (fall.go) is told
// when its count would pass pos by more than half a second of its pace at
// the next tick (the queue slowed or stopped: a slower pace, or none), when
// it stands above pos by more than two seconds of its pace, or a second of
// it and a twentieth, or at its beat while pos fell (onItsBeat): between,
// the count moves what it shows each second. (It starts a second behind,
// and a second and a half let an admitter's jitter of a quarter of the
// rate write every waiting tab again: docs/performance.md, issue 21.) A
// tab not counting is told each fall near the front; far back, a fall of a
// hundredth of the position last shown, or at its beat, since a figure of
// five digits that moved in its last two is not news. A position told
// never rises. r.mu is held.
func (r *Room) positionMatters(c *Conn, pos int64) bool {
	if pos <= 0 || (c.lastPos > 0 && pos > c.lastPos) {
		return false
	}
	if c.lastPos == 0 {
		return true
	}
	since := r.ticks*tenthsPerTick - c.shownAt
	due := pos < c.lastPos && (since >= farBackTicks*tenthsPerTick || r.onItsBeat(c))
	if pace := r.toldPace(c); pace > 0 {
		shown, next := counted(c.lastPos, pace, since), counted(c.lastPos, pace, since+tenthsPerTick)
		return 2*(pos-next) > pace || shown-pos-pace > max(pace, shown/20) || due
	}
	if pos == c.lastPos {
		return false
	}
	return c.lastPos <= nearFront || c.lastPos-pos >= c.lastPos/100 || due
}

// onItsBeat reports whether this tick is the tab's beat of farBackTicks,
// one of farBackTicks phases given by its ticket. A crowd told its first
// counted position at the same tick (the queue began to move) would be told
// again all at the same tick too, every farBackTicks: its writes in one
// second, and the admissions queued behind them. Told at its beat, at most
// farBackTicks after the last, a fifth of the crowd is told each tick.
// r.mu is held.
func (r *Room) onItsBeat(c *Conn) bool {
	return (r.ticks+uint32(c.ticket))%farBackTicks == 0
}

// stockOf is the stock message of a sale's counters, with an event's
// products' left.
func stockOf(st waitingroom.Status) StockMsg {
	m := StockMsg{Type: wire.MsgStock, Total: st.Stock, Left: st.Available, Held: st.Held, Sold: st.Sold,
		AllHeld: st.Available == 0 && st.Held > 0}
	if st.Products != nil {
		m.Products = make([]ProductLeft, len(st.Products))
		for i, p := range st.Products {
			m.Products[i] = ProductLeft{SKU: p.SKU, Left: p.Left}
		}
	}
	return m
}

// sameStock reports whether two stock messages say the same.
func sameStock(a, b StockMsg) bool {
	return a.Type == b.Type && a.Total == b.Total && a.Left == b.Left && a.Held == b.Held && a.Sold == b.Sold &&
		a.AllHeld == b.AllHeld && slices.Equal(a.Products, b.Products)
}

// setStock records the sale's counters as a tick or an event read them;
// a change is encoded once, for every connection it is told to. r.mu is
// held.
func (r *Room) setStock(stock StockMsg) {
	if sameStock(stock, r.stock) {
		return
	}
	r.stockVer++
	if (stock.Left == 0) != (r.stock.Left == 0) || stock.AllHeld != r.stock.AllHeld {
		r.flagVer = r.stockVer
	}
	r.stock = stock
	r.stockMsg = encode(stock)
}

// tellStock tells a connection the counters, unless it was told these
// already. r.mu is held.
func (r *Room) tellStock(c *Conn) {
	if c.stockSeen == r.stockVer || r.stockMsg == nil {
		return
	}
	c.stockSeen, c.stockAt = r.stockVer, r.ticks
	c.enqueuePush(r.stockMsg)
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

// withProductLeft is an event's products' left with one product's changed:
// a copy, since the room's last stock message shares its slice.
func withProductLeft(products []ProductLeft, sku string, left int64) []ProductLeft {
	out := slices.Clone(products)
	for i := range out {
		if out[i].SKU == sku {
			out[i].Left = left
		}
	}
	return out
}

package fanout

import (
	"context"
	"time"

	"github.com/foyerhq/foyer/internal/wire"
)

// A client that sends nothing for its idle timeout (a message, a ping) is
// taken for dead and closed (wire.CloseIdle). Each room keeps its
// connections in a coarse timing wheel, by the second their idle deadline
// falls in, and the hub sweeps every room once a second: the sweep visits
// only the connections whose second has come, so its work grows with the
// connections due, not with the number waiting. A connection heard from
// since it was placed is not closed when its second comes: it is placed
// again at its new deadline's second, so each connection is visited about
// once per idle timeout, as the timer each one had before fired once per
// timeout. That timer (112 bytes and a 16-byte closure, per held shopper)
// was the largest part a shopper kept of its own (docs/performance.md,
// "Issue 21's levers, sixth session").
//
// Precision: a connection silent for its idle timeout is closed at the
// first sweep after its deadline rounded up to the second, so between the
// timeout and the timeout plus two seconds (the rounding, then the sweep's
// beat). Before it is in a room (the moment its socket opens) it is not
// watched.

// idleSweepEvery is the beat of the idle sweep: the wheel's slots are
// seconds.
const idleSweepEvery = time.Second

// idleSlots is how many seconds one turn of the wheel spans. A deadline
// further off than a turn shares a slot with nearer ones: its connection
// is visited once a turn, found not due and placed again, until it is.
const idleSlots = 64

// idleWheel is a room's connections by the second their idle deadline
// falls in, counted from the writers' epoch (the clock of Conn.heardAt).
// Each slot is a list linked through the connections themselves
// (Conn.idleNext, idlePrev), so placing one allocates nothing. Guarded by
// the room's mutex.
type idleWheel struct {
	slots [idleSlots]*Conn
	swept int64 // the last second swept
}

// idleSecond is the second c's idle deadline falls in, rounded up: the
// sweep of that second finds it due unless it has been heard from since.
func idleSecond(c *Conn) int64 {
	deadline := time.Duration(c.heardAt.Load()) + c.idleFor
	return int64((deadline + time.Second - 1) / time.Second)
}

// add places c at second sec, or at the next sweep's when sec is past.
func (w *idleWheel) add(c *Conn, sec int64) {
	sec = max(sec, w.swept+1)
	i := sec % idleSlots
	c.idleSlot = uint8(i) + 1
	c.idlePrev, c.idleNext = nil, w.slots[i]
	if c.idleNext != nil {
		c.idleNext.idlePrev = c
	}
	w.slots[i] = c
}

// remove takes c out of the wheel; one not in it is left alone.
func (w *idleWheel) remove(c *Conn) {
	if c.idleSlot == 0 {
		return
	}
	if c.idlePrev != nil {
		c.idlePrev.idleNext = c.idleNext
	} else {
		w.slots[c.idleSlot-1] = c.idleNext
	}
	if c.idleNext != nil {
		c.idleNext.idlePrev = c.idlePrev
	}
	c.idlePrev, c.idleNext, c.idleSlot = nil, nil, 0
}

// sweep closes the connections due by now (a time since the writers'
// epoch) that have been silent for their idle timeout, and places the
// others again at their new deadline. Seconds missed since the last sweep
// are swept too, a turn of the wheel at most. Closing does not wait (Conn.Close):
// the room's lock is held.
func (w *idleWheel) sweep(now time.Duration) {
	upTo := int64(now / time.Second)
	for sec := max(w.swept+1, upTo-idleSlots+1); sec <= upTo; sec++ {
		i := sec % idleSlots
		c := w.slots[i]
		w.slots[i] = nil
		w.swept = sec // placed again from here on, a connection goes after sec
		for c != nil {
			next := c.idleNext
			c.idlePrev, c.idleNext, c.idleSlot = nil, nil, 0
			if now-time.Duration(c.heardAt.Load()) >= c.idleFor {
				c.Close(wire.CloseIdle, "idle: nothing received")
			} else {
				w.add(c, idleSecond(c))
			}
			c = next
		}
	}
	w.swept = max(w.swept, upTo)
}

// sweepIdle sweeps every room's idle wheel once a second until ctx ends.
// Run owns it.
func (h *Hub) sweepIdle(ctx context.Context) {
	t := time.NewTicker(idleSweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for _, r := range h.rooms() {
				r.sweepIdle(time.Since(h.writers.epoch))
			}
		}
	}
}

// sweepIdle closes the room's connections silent for their idle timeout
// by now, a time since the writers' epoch.
func (r *Room) sweepIdle(now time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.idle.sweep(now)
}

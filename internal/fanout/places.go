package fanout

import (
	"time"

	"github.com/foyerhq/foyer/internal/wire"
	"github.com/foyerhq/foyer/waitingroom"
)

// Where a shopper stands, as its tabs are told it: a place, the prequeue,
// or out of the queue. A position shown to a shopper never rises, and an
// estimate never grows while nothing changed.

// Place records where a shopper stands after joining, on every tab it has
// open on this node, and pushes the position at once; asking, the tab whose
// join or resume this answers, is told its position even when it is not
// lower than the last one it was shown (every join and resume is answered).
// It reports false when the shopper was admitted meanwhile and the asking
// tab, or a tab the admitted event did not tell (one that came into the
// room after it: a new shopper joins before it enters the room), is to be
// told the reservation. The caller looks the reservation up. knew is what
// the asking tab knew as it asked (Asking): a tab told its reservation since
// has had its answer.
func (r *Room) Place(shopper string, ticket, position int64, asking *Conn, knew string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ticket <= r.positions.Mark() {
		// Admitted meanwhile: the admitted event has told the tabs that
		// were in the room.
		for _, c := range r.shoppers[shopper] {
			told := c.holdsUnit()
			if !told || (c == asking && c.reservation == knew) {
				return false
			}
		}
		return true
	}
	for _, c := range r.shoppers[shopper] {
		if c.holdsUnit() {
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

// Asking notes what a tab knows as it asks where it stands (a join, a
// resume, its arrival): the reservation it was told, if any. Its answer is
// given with it (Place, Reservation): the shopper may be let out while the
// question is on its way to Redis, and the admitted message the tab is told
// meanwhile is then its answer; a second one, with a second token for the
// same hold, would have a client check out twice.
func (r *Room) Asking(c *Conn) (knew string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return c.reservation
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
func (r *Room) sendPosition(c *Conn, pos int64) { c.Enqueue(r.positionMsg(c, pos)) }

// positionMsg is the message of pos, recorded as the last shown. r.mu is
// held.
func (r *Room) positionMsg(c *Conn, pos int64) []byte {
	fall := r.fallOf(pos)
	c.lastPos, c.shownAt, c.pace = pos, r.sentAt(), 0
	if fall != nil {
		c.pace = int32(fall.PerSecond) // fallOf keeps it within an int32
	}
	return encode(PositionMsg{Type: wire.MsgPosition, Position: pos, Ahead: pos - 1, Waiting: max(r.waiting, pos),
		ETA: r.estimate(c, pos-1), Fall: fall})
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
	if e != nil && c.lastETA != nil && c.etaEpoch == int32(r.epoch) {
		e.Min, e.Max = min(e.Min, c.lastETA.Min), min(e.Max, c.lastETA.Max)
	}
	c.lastETA, c.etaEpoch = e, int32(r.epoch)
	return e
}

package fanout

import (
	"time"

	"github.com/foyerhq/foyer/waitingroom"
)

// What the room does for the signals of automation the transport records
// (server/signals.go, docs/defence.md): an operator's rule on flagged
// shoppers may send one to the back of the queue or take it out, as its join
// is answered (Requeued, Flagged) or as the sale's event says so.

// StartTime is when the sale starts, as the room last read it.
func (r *Room) StartTime() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.startsAt
}

// lock runs f with r.mu held.
func (r *Room) lock(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f()
}

// Requeued moves a shopper's tabs to the new ticket an operator's rule gave
// it behind everyone, at position (0: computed from the room's model); joining
// is the tab whose join caused it.
func (r *Room) Requeued(shopper string, ticket, position int64, joining *Conn) {
	r.lock(func() { r.requeued(shopper, ticket, position, joining) })
}

// Flagged tells a shopper's tabs that an operator's rule took the shopper
// out of the queue; joining is the tab whose join caused it.
func (r *Room) Flagged(shopper string, joining *Conn) {
	r.lock(func() { r.flagged(shopper, joining) })
}

// requeued moves a shopper's waiting tabs (and also, when not nil, the tab
// whose join caused it) to the new ticket an operator's rule gave it behind
// everyone. Its position rises this once, so the last one shown is
// forgotten and the new one pushed; position 0 computes it from the room's
// model. A tab already on the ticket is left alone. r.mu is held.
func (r *Room) requeued(shopper string, ticket, position int64, joining *Conn) {
	if ticket <= r.positions.Mark() {
		return // admitted meanwhile: the admitted event tells the shopper
	}
	if position <= 0 {
		position = r.positions.Of(ticket)
	}
	for _, c := range r.shoppers[shopper] {
		if c.ticket == ticket || (c.status != connWaiting && c != joining) {
			continue
		}
		c.status, c.ticket, c.lastPos, c.lastETA = connWaiting, ticket, 0, nil
		r.pushPosition(c, position)
	}
}

// flagged tells a shopper's tabs in the queue or the prequeue (and also,
// when not nil, the tab whose join caused it) that an operator's rule took
// the shopper out, with the error flagged, as the transport encodes it
// (Config.EncodeError). r.mu is held.
func (r *Room) flagged(shopper string, joining *Conn) {
	msg := r.h.encodeError(waitingroom.ErrFlagged)
	for _, c := range r.shoppers[shopper] {
		if c.status != connWaiting && c.status != connPrequeue && c != joining {
			continue
		}
		c.status, c.ticket, c.lastPos = connIdle, 0, 0
		c.Enqueue(msg)
	}
}

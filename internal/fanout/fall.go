package fanout

import (
	"math"
	"time"

	"github.com/foyerhq/foyer/waitingroom"
)

// A queue that moves steadily is counted down by the client between
// pushes: a position message carries the pace the room measured, and the
// page shows the position falling each second at that pace. The room then
// writes to a tab only when the count drifted from the truth, not every
// second: at a thousand admissions a second every position changes every
// second, and one write per waiting connection per second was most of a
// gateway's work in a moving sale (docs/performance.md, issue 21).
//
// The count runs a second behind the truth, as a per-second push did at
// worst: it starts a second after the message, at a share of the pace
// measured. A queue that slows or stops is then told before the count
// passes the truth (one tick ahead), so the figure shown neither runs
// ahead of the queue nor has to rise back to it.

// Fall is how a client counts a position down until the next position
// message: s seconds after the message came it shows
//
//	max(Floor, position - floor(PerSecond * max(0, s - 1)))
//
// and never more than it showed before, unless the new message's position
// is above the last message's (a move to the back of the queue).
type Fall struct {
	PerSecond int64 `json:"per_second"` // places a second, at least 1
	Floor     int64 `json:"floor"`      // the count stops here until the next message
}

// fallRing is how many ticks of marks a room keeps: more than fallTicks.
const fallRing = 8

// fallTicks is how many ticks the pace is measured over, at most: long
// enough to smooth the admitter's batches, short enough to follow an
// operator's change.
const fallTicks = 5

// fallShare is the share of the measured pace a client is told: its count
// lags the truth a little rather than passes it.
const fallShare = 0.95

// fallFloorTicks is how many seconds of the told pace the count may run
// before it stops and waits: the next message is due before then.
const fallFloorTicks = farBackTicks

// tenthsPerTick: a message's time is kept in tenths of the room's ticks
// (Conn.shownAt). A message made between two ticks (a join's answer, the
// positions told with a resumption) is counted by the client from when it
// came, not from the tick before: reckoned from that tick, the room would
// think its count up to a second ahead of what the page shows, and tell it
// again at the next tick for nothing.
const tenthsPerTick = 10

// measureFall records the admitted mark at this tick and the pace to tell
// this tick's position messages, 0 for none: the queue must be open with
// units to let out and have moved at the last tick. The first tick of a
// run of movement saw part of a second of it (the queue began to move
// somewhere in it): the pace is then the operator's rate when the sale was
// opened since the tick before (expectedPace), or fallShare of that part;
// later, fallShare of the fall over the whole ticks of the run, fallTicks
// at most. r.mu is held.
func (r *Room) measureFall(mark int64) {
	r.marks[r.ticks%fallRing] = mark
	if r.ticks > 1 && mark > r.marks[(r.ticks-1)%fallRing] {
		r.moving = min(r.moving+1, fallTicks+1)
	} else {
		r.moving = 0
	}
	r.pace = 0
	switch {
	case !r.counting() || r.moving == 0:
	case r.moving == 1 && r.openedAt == r.ticks:
		r.pace = r.expectedPace()
	default:
		n := uint32(max(1, r.moving-1))
		r.pace = int64(fallShare * float64(mark-r.marks[(r.ticks-n)%fallRing]) / float64(n))
	}
}

// counting reports whether the queue is one a client may count down: open,
// with units to let out. r.mu is held.
func (r *Room) counting() bool {
	return r.state == waitingroom.StateOpen && !r.stock.AllHeld
}

// expectedPace is the pace told before the queue has been seen to move,
// from the sale's opening or resumption to the first tick of movement:
// fallShare of the operator's rate, or of the units left when fewer. A
// queue that moves slower is told again at the next tick (positionMatters),
// as one that stops is. r.mu is held.
func (r *Room) expectedPace() int64 {
	return int64(fallShare * min(r.rate, float64(r.stock.Left)))
}

// fallOf is the count told with a position pos now, nil for none: the pace
// of the last tick, or between the opening and the next tick the expected
// one, so that a resumed sale's waiting tabs are told their position and
// its fall with the state, in one write, not again a second later as the
// queue begins to move. r.mu is held.
func (r *Room) fallOf(pos int64) *Fall {
	pace := r.pace
	if pace < 1 && r.openedAt == r.ticks+1 && r.counting() {
		pace = r.expectedPace()
	}
	if pace < 1 || pos <= 1 {
		return nil
	}
	pace = min(pace, math.MaxInt32) // as Conn.pace keeps it: told as reckoned
	return &Fall{PerSecond: pace, Floor: fallFloor(pos, pace)}
}

// fallFloor is where the count of pos at pace stops.
func fallFloor(pos, pace int64) int64 { return max(1, pos-pace*fallFloorTicks) }

// counted is the position a count told at pos and pace shows t tenths of a
// tick after its message (Fall).
func counted(pos, pace int64, t uint32) int64 {
	return max(fallFloor(pos, pace), pos-pace*max(0, int64(t)-tenthsPerTick)/tenthsPerTick)
}

// toldPace is the pace a waiting tab counts its position down at, 0 when it
// does not count. r.mu is held.
func (r *Room) toldPace(c *Conn) int64 {
	if c.lastPos <= 1 {
		return 0
	}
	return int64(c.pace)
}

// sentAt is now in tenths of the room's ticks, as Conn.shownAt keeps it:
// the tick's, and the tenths since it began, rounded down, nine at most. A
// message counted from a little before it came makes the room's reckoning
// of the count run a little ahead of the page's, never behind it: the
// count is told again before the page's passes the truth. r.mu is held.
func (r *Room) sentAt() uint32 {
	since := uint32(0)
	if !r.tickedAt.IsZero() {
		since = uint32(min(tenthsPerTick-1, max(0, time.Since(r.tickedAt)*tenthsPerTick/pushEvery)))
	}
	return r.ticks*tenthsPerTick + since
}

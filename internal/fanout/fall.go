package fanout

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

// fallRing is how many ticks of marks and told paces a room keeps: more than
// farBackTicks, the longest a counting tab goes untold, and fallTicks.
const fallRing = 8

// fallTicks is how many ticks the pace is measured over, at most: long
// enough to smooth the admitter's batches, short enough to follow an
// operator's change. A queue that began moving is counted from its first
// tick of movement, measured over the ticks it has moved.
const fallTicks = 5

// fallShare is the share of the measured pace a client is told: its count
// lags the truth a little rather than passes it.
const fallShare = 0.95

// fallFloorTicks is how many seconds of the told pace the count may run
// before it stops and waits: the next message is due before then.
const fallFloorTicks = farBackTicks

// measureFall records the admitted mark at this tick and the pace to tell
// this tick's position messages, 0 for none: the queue must be open with
// units to let out and have moved at the last tick; the pace is fallShare
// of its fall over the ticks it has moved in a row, fallTicks at most.
// r.mu is held.
func (r *Room) measureFall(mark int64, counting bool) {
	r.marks[r.ticks%fallRing] = mark
	if r.ticks > 1 && mark > r.marks[(r.ticks-1)%fallRing] {
		r.moving = min(r.moving+1, fallTicks)
	} else {
		r.moving = 0
	}
	pace := int64(0)
	if counting && r.moving >= 1 {
		n := uint32(r.moving)
		pace = int64(fallShare * float64(mark-r.marks[(r.ticks-n)%fallRing]) / float64(n))
	}
	r.paces[r.ticks%fallRing] = pace
}

// fallOf is the count told with a position pos at this tick, nil for none.
// r.mu is held.
func (r *Room) fallOf(pos int64) *Fall {
	pace := r.paces[r.ticks%fallRing]
	if pace < 1 || pos <= 1 {
		return nil
	}
	return &Fall{PerSecond: pace, Floor: fallFloor(pos, pace)}
}

// fallFloor is where the count of pos at pace stops.
func fallFloor(pos, pace int64) int64 { return max(1, pos-pace*fallFloorTicks) }

// counted is the position a count told at pos and pace shows ticks seconds
// later (Fall).
func counted(pos, pace int64, ticks uint32) int64 {
	return max(fallFloor(pos, pace), pos-pace*max(0, int64(ticks)-1))
}

// toldPace is the pace a waiting tab counts its position down at, 0 when it
// does not count. r.mu is held.
func (r *Room) toldPace(c *Conn) int64 {
	if r.ticks-c.shownAt >= fallRing || c.lastPos <= 0 {
		return 0 // too old to know (a counting tab is told every farBackTicks)
	}
	pace := r.paces[c.shownAt%fallRing]
	if pace < 1 || c.lastPos <= 1 {
		return 0
	}
	return pace
}

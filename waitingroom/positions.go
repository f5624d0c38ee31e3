package waitingroom

import "sort"

// Positions computes positions in a sale's queue from what every node learns
// on the event stream, so no node asks Redis for a rank per shopper per tick.
//
// Tickets come from one counter, one per place, so every ticket below a
// shopper's is either still waiting ahead of it, or has left: at or below the
// admitted mark (admission takes the lowest tickets first), or recorded as gone
// above the mark. Hence position = ticket - mark - (gone tickets below it).
// Mark only rises and gone only grows until the mark passes it, so a position
// computed this way never rises.
type Positions struct {
	mark int64
	gone []int64 // sorted, all above mark
}

// NewPositions starts from a view read from Redis.
func NewPositions(v View) *Positions {
	p := &Positions{mark: v.Mark}
	for _, t := range v.Gone {
		p.Gone(t)
	}
	return p
}

// Mark is the highest ticket admitted so far.
func (p *Positions) Mark() int64 { return p.mark }

// Admitted moves the mark up to the last admitted ticket.
func (p *Positions) Admitted(mark int64) {
	if mark <= p.mark {
		return
	}
	p.mark = mark
	cut := sort.Search(len(p.gone), func(i int) bool { return p.gone[i] > mark })
	p.gone = p.gone[cut:]
}

// Gone records a ticket that left the queue without being admitted.
func (p *Positions) Gone(ticket int64) {
	if ticket <= p.mark {
		return
	}
	i := sort.Search(len(p.gone), func(i int) bool { return p.gone[i] >= ticket })
	if i < len(p.gone) && p.gone[i] == ticket {
		return
	}
	p.gone = append(p.gone, 0)
	copy(p.gone[i+1:], p.gone[i:])
	p.gone[i] = ticket
}

// Of returns the position of a waiting ticket: 1 at the head of the queue.
// It returns 0 for a ticket at or below the mark, which is no longer waiting.
func (p *Positions) Of(ticket int64) int64 {
	if ticket <= p.mark {
		return 0
	}
	below := sort.Search(len(p.gone), func(i int) bool { return p.gone[i] >= ticket })
	return ticket - p.mark - int64(below)
}

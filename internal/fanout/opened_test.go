package fanout

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/foyerhq/foyer/internal/wire"
	"github.com/foyerhq/foyer/waitingroom"
)

// betweenTicks applies a state event to the room as if it came at tenth
// of a tick after the last tick (fall.go's sentAt reads the room's clock).
func (r *Room) betweenTicks(s waitingroom.State, tenth int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tickedAt = time.Now().Add(-time.Duration(tenth)*pushEvery/tenthsPerTick - pushEvery/(4*tenthsPerTick))
	r.apply(waitingroom.Event{Type: waitingroom.EventState, State: s})
}

// tickState is a tick of the push loop that reads the sale in state s,
// let out to mark, at the operator's rate.
func (r *Room) tickState(s waitingroom.State, mark int64, rate float64) {
	r.positions.Admitted(mark)
	r.push(waitingroom.Status{State: s, Stock: 1_000_000, Available: 1_000_000 - mark, Waiting: 100_000, Rate: rate})
}

// TestAResumedSaleTellsItsWaitingTheirPlaceAndPaceWithTheState: when a
// paused sale resumes, each waiting tab is told the state and, in the
// same write, its position with the fall the operator's rate makes it
// expect; a second later the queue moves as told, and the crowd is not
// written again but at each tab's beat, the stock going with the position.
// Before, the state went alone, and the first tick of movement wrote every
// waiting tab again.
func TestAResumedSaleTellsItsWaitingTheirPlaceAndPaceWithTheState(t *testing.T) {
	const crowd, rate = 5_000, 200
	r := bareRoom(t)
	tabs := make([]*Conn, crowd)
	for i := range tabs {
		tabs[i] = r.toldTab(fmt.Sprintf("v_%d", i), connWaiting)
		tabs[i].ticket = int64(i + 1)
	}
	r.tickState(waitingroom.StatePaused, 0, rate)
	r.tickState(waitingroom.StatePaused, 0, rate)
	for _, c := range tabs {
		c.queue = nil
	}
	r.betweenTicks(waitingroom.StateOpen, 7)
	for _, c := range tabs {
		got := types(t, c.queue)
		if c.ticket == 1 { // next: nothing to count
			if len(got) != 1 || got[0] != wire.MsgState {
				t.Fatalf("the head of the queue was told %v at the resumption, want the state", got)
			}
		} else if len(got) != 2 || got[0] != wire.MsgState || got[1] != wire.MsgPosition {
			t.Fatalf("ticket %d was told %v at the resumption, want the state and its position", c.ticket, got)
		}
		if c.ticket > 1 && c.pace != int32(fallShare*rate) {
			t.Fatalf("ticket %d was told a pace of %d, want %d", c.ticket, c.pace, int32(fallShare*rate))
		}
		c.queue = nil
	}
	// The admitter lets out from the resumption: three tenths of a
	// second by the next tick, then the rate.
	mark := int64(rate * 3 / 10)
	for tick := 1; tick <= 12; tick++ {
		for _, c := range tabs[:min(mark, crowd)] {
			c.status = connAdmitted // as its admission's event tells the room
		}
		r.tickState(waitingroom.StateOpen, mark, rate)
		written := 0
		for _, c := range tabs {
			if len(c.queue) > 0 {
				written++
			}
			c.queue = nil
		}
		if most := crowd/farBackTicks + crowd/50; written > most {
			t.Errorf("tick %d after the resumption: %d of %d tabs written, want at most %d (their beats)", tick, written, crowd, most)
		}
		mark += rate
	}
}

// TestACountThroughPausesAndResumesNeverRunsAheadOfTheQueue: an operator
// pauses and resumes between ticks, at any tenth of one, at a rate the
// queue may not keep (stock let out slower, the admitter away): the
// counting page keeps within pageBounds.
func TestACountThroughPausesAndResumesNeverRunsAheadOfTheQueue(t *testing.T) {
	for seed := range uint64(60) {
		rng := rand.New(rand.NewPCG(seed, 11))
		r := bareRoom(t)
		c := r.toldTab("v_page", connWaiting)
		c.ticket = 60_000
		page := &countingPage{}
		state, mark, bounds := waitingroom.StateOpen, int64(0), &pageBounds{seed: seed}
		rate := float64(1 + rng.IntN(2_000)) // the operator's
		moves := int64(rate)                 // the queue's, a second
		check := func(at int) { bounds.check(t, page, r.positions.Of(c.ticket), at) }
		for tick := 1; tick <= 200 && r.positions.Of(c.ticket) > 0; tick++ {
			r.tickState(state, mark, rate)
			page.take(t, c, tick)
			check(tick * tenthsPerTick)
			tenth := rng.IntN(tenthsPerTick)
			switch rng.IntN(10) {
			case 0:
				if state == waitingroom.StateOpen {
					mark += moves * int64(tenth) / tenthsPerTick
					state = waitingroom.StatePaused
					r.positions.Admitted(mark)
					r.betweenTicks(state, tenth)
					page.takeAt(t, c, tick*tenthsPerTick+tenth)
					check(tick*tenthsPerTick + tenth)
					continue
				}
			case 1:
				if state == waitingroom.StatePaused {
					state = waitingroom.StateOpen
					r.betweenTicks(state, tenth)
					page.takeAt(t, c, tick*tenthsPerTick+tenth)
					check(tick*tenthsPerTick + tenth)
					mark += moves * int64(tenthsPerTick-tenth) / tenthsPerTick
					continue
				}
			case 2:
				rate = float64(1 + rng.IntN(3_000)) // the operator's change
			case 3:
				moves = int64(rng.IntN(int(rate) + 1)) // slower than told: stock, the admitter
			case 4:
				moves = int64(rate)
			}
			if state == waitingroom.StateOpen {
				mark += moves
			}
		}
	}
}

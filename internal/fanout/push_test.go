package fanout

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/foyerhq/foyer/internal/wire"
	"github.com/foyerhq/foyer/waitingroom"
)

// tick beats a room once with a sale open at stock total, left units left
// and held held, its mark at mark (the last ticket admitted).
func (r *Room) tickAt(mark, total, left, held int64) {
	r.positions.Admitted(mark)
	r.push(waitingroom.Status{State: waitingroom.StateOpen, Stock: total, Available: left, Held: held,
		Sold: total - left - held, Waiting: 100_000})
}

// toldTab is a held tab that was told the room's state as it came in.
func (r *Room) toldTab(shopper string, status connStatus) *Conn {
	c := r.heldTab(shopper, status)
	c.told = r.state
	return c
}

// drain empties a tab's queue and returns the types it held.
func drain(t *testing.T, c *Conn) []string {
	t.Helper()
	got := types(t, c.queue)
	c.queue = nil
	return got
}

// positionOf is the position the last position message of a tab's queue
// told, 0 for none.
func positionOf(t *testing.T, msgs [][]byte) int64 {
	t.Helper()
	var pos int64
	for _, m := range msgs {
		var v struct {
			Type     string
			Position int64
		}
		if err := json.Unmarshal(m, &v); err != nil {
			t.Fatal(err)
		}
		if v.Type == wire.MsgPosition {
			pos = v.Position
		}
	}
	return pos
}

// TestATabHoldingAUnitIsToldNoCountersAndIsToldThemAgainOnceItHasNone: a
// tab admitted or ordered was written the stock every second of a moving
// sale, half the pushes of the bench's sale, for a figure its page does not
// show; it is told the counters again when its unit went back (idle), at
// the next tick, even if they did not change since.
func TestATabHoldingAUnitIsToldNoCountersAndIsToldThemAgainOnceItHasNone(t *testing.T) {
	r := bareRoom(t)
	idle := r.toldTab("v_idle", connIdle)
	admitted := r.toldTab("v_adm", connAdmitted)
	ordered := r.toldTab("v_ord", connOrdered)

	r.tickAt(0, 100, 90, 5)
	r.tickAt(0, 100, 80, 10)
	if got := drain(t, idle); !slices.Equal(got, []string{wire.MsgStock, wire.MsgStock}) {
		t.Errorf("an idle tab was told %v over two changes, want the stock twice", got)
	}
	if len(admitted.queue)+len(ordered.queue) != 0 {
		t.Errorf("tabs holding a unit were told %v and %v", types(t, admitted.queue), types(t, ordered.queue))
	}

	admitted.status = connIdle // its hold lapsed
	r.tickAt(0, 100, 80, 10)   // nothing changed
	if got := drain(t, admitted); !slices.Equal(got, []string{wire.MsgStock}) {
		t.Errorf("a tab whose hold lapsed was told %v, want the stock as it stands", got)
	}
	if got := drain(t, idle); len(got) != 0 {
		t.Errorf("an idle tab was told %v of counters that did not change", got)
	}
}

// TestAPositionFarBackIsToldWhenItFallsAHundredthOrAfterFiveTicks: a tab
// not counting its position down (its last position came while the queue
// stood) is told each fall near the front; far back a fall of less than a
// hundredth waits, at most farBackTicks (to its beat), and the stock
// waits with it, and a fall of a hundredth is told at once.
func TestAPositionFarBackIsToldWhenItFallsAHundredthOrAfterFiveTicks(t *testing.T) {
	r := bareRoom(t)
	near := r.toldTab("v_near", connWaiting)
	near.ticket = 1_000
	far := r.toldTab("v_far", connWaiting)
	far.ticket = 49_999 // its beat (onItsBeat) is the room's sixth tick: farBackTicks after its first

	r.tickAt(0, 100_000, 100_000, 0)
	if positionOf(t, near.queue) != 1_000 || positionOf(t, far.queue) != 49_999 {
		t.Fatalf("first tick: near told %d, far told %d; want their places", positionOf(t, near.queue), positionOf(t, far.queue))
	}
	drain(t, near)
	drain(t, far)

	mark, left := int64(0), int64(100_000)
	for i := 1; i < farBackTicks; i++ {
		mark, left = mark+100, left-100 // far back falls by a fifth of a hundredth a tick
		r.tickAt(mark, 100_000, left, 0)
		if i == 1 {
			if got := positionOf(t, near.queue); got != 1_000-mark {
				t.Errorf("tick %d: the tab near the front was told %d, want %d", i, got, 1_000-mark)
			}
		}
		drain(t, near)
		if got := drain(t, far); len(got) != 0 {
			t.Errorf("tick %d: a tab far back was told %v of a fall of %d", i, got, mark)
		}
	}
	mark, left = mark+100, left-100
	r.tickAt(mark, 100_000, left, 0)
	if got := types(t, far.queue); !slices.Equal(got, []string{wire.MsgStock, wire.MsgPosition}) || positionOf(t, far.queue) != 49_999-mark {
		t.Errorf("after %d ticks far back was told %v, position %d; want stock and position %d", farBackTicks, got, positionOf(t, far.queue), 49_999-mark)
	}
	drain(t, far)

	r.tickAt(mark, 100_000, left, 0) // the queue stands: the count stops
	if got := positionOf(t, far.queue); got != 49_999-mark {
		t.Fatalf("a counting tab was told %d as the queue stood, want %d again", got, 49_999-mark)
	}
	drain(t, far)
	mark, left = mark+600, left-600 // more than a hundredth of 49,500 in one tick
	r.tickAt(mark, 100_000, left, 0)
	if got := positionOf(t, far.queue); got != 49_999-mark {
		t.Errorf("a fall of a hundredth far back was told %d, want %d at once", got, 49_999-mark)
	}
}

// TestAWaitingTabIsToldAtOnceWhenEveryUnitLeftIsHeld: a position that
// stands (nothing is let out while every unit is held) is no reason to
// hold back the stock that says why, which the page shows the waiting.
func TestAWaitingTabIsToldAtOnceWhenEveryUnitLeftIsHeld(t *testing.T) {
	r := bareRoom(t)
	far := r.toldTab("v_far", connWaiting)
	far.ticket = 50_000
	r.tickAt(0, 100, 10, 90)
	drain(t, far)

	r.tickAt(0, 100, 5, 95) // held moves, the position stands: waits
	if got := drain(t, far); len(got) != 0 {
		t.Errorf("a standing tab far back was told %v of held stock moving", got)
	}
	r.tickAt(0, 100, 0, 100)
	if got := drain(t, far); !slices.Equal(got, []string{wire.MsgStock}) {
		t.Errorf("when every unit left became held a waiting tab was told %v, want the stock at once", got)
	}
}

// TestATicksPushesAreToldApartFromNews: a write of the tick's counters and
// position alone is labelled a push in a profile, one with anything else
// in it (an admission, an order, an answer) news; the bench's pushes' share
// reads the labels.
func TestATicksPushesAreToldApartFromNews(t *testing.T) {
	r := bareRoom(t)
	tab := r.toldTab("v_w", connWaiting)
	tab.ticket = 10
	r.tickAt(0, 100, 100, 0)
	if len(tab.queue) != 2 || tab.news != 0 {
		t.Errorf("a tick queued %v with %d news, want the stock and position, no news", types(t, tab.queue), tab.news)
	}
	tab.Enqueue([]byte(`{"type":"admitted"}`))
	if tab.news != 1 {
		t.Errorf("an admission queued after the tick counts %d news, want 1", tab.news)
	}
}

// TestATabThatJoinsAgainAfterItsHoldLapsedIsShownItsNewPlace: a tab shown
// #1, then admitted, whose hold lapsed, joins again at the back; it kept
// the #1 it was shown before, so its new place was answered as #1 and no
// fall below it was ever pushed (a review found it).
func TestATabThatJoinsAgainAfterItsHoldLapsedIsShownItsNewPlace(t *testing.T) {
	r := bareRoom(t)
	tab := r.toldTab("v_again", connWaiting)
	tab.ticket = 1
	r.Place("v_again", 1, 1, tab, "")
	drain(t, tab)
	r.admit(tab, waitingroom.Reservation{ID: "r_1", Shopper: "v_again", Ticket: 1}, []byte(`{"type":"admitted"}`), false)
	r.positions.Admitted(1)
	r.apply(waitingroom.Event{Type: waitingroom.EventExpired, Released: []waitingroom.Released{{Shopper: "v_again", Reservation: "r_1"}}})
	drain(t, tab)

	r.Place("v_again", 296, 295, tab, "")
	if got := positionOf(t, tab.queue); got != 295 {
		t.Errorf("joining again at 295 was answered %d", got)
	}
}

// TestAFallingPositionFarBackIsToldWithinFiveTicksWhileTheStockFlips: a
// tab far back told the stock alone (every unit held, then one left, then
// held again) must still be told its falling position within farBackTicks;
// the stock's clock restarted the position's (a review found it).
func TestAFallingPositionFarBackIsToldWithinFiveTicksWhileTheStockFlips(t *testing.T) {
	r := bareRoom(t)
	far := r.toldTab("v_far", connWaiting)
	far.ticket = 50_000
	r.tickAt(0, 100, 0, 100)
	drain(t, far)
	var mark int64
	for tick := 1; tick <= farBackTicks; tick++ {
		mark++ // a hold lapsed and the next shopper was let in: one place a tick
		left := int64(tick % 2)
		r.tickAt(mark, 100, left, 100-left)
		if positionOf(t, far.queue) != 0 {
			return // told within the ticks
		}
		drain(t, far)
	}
	t.Errorf("a position falling far back went untold for %d ticks while the stock flipped", farBackTicks)
}

// TestATabWhoseWelcomeToldOtherCountersIsToldTheRoomsAtTheNextTick: the
// welcome's counters were read before the tab came in; when the room has
// heard a change since, the next tick tells it, even if the counters do not
// change again.
func TestATabWhoseWelcomeToldOtherCountersIsToldTheRoomsAtTheNextTick(t *testing.T) {
	r := bareRoom(t)
	r.tickAt(0, 100, 0, 100)
	tab := &Conn{shopper: "v_late", status: connIdle, held: true, metrics: r.h.metrics, told: r.state}
	r.register(tab, waitingroom.Status{State: waitingroom.StateOpen, Stock: 100, Available: 1, Held: 99})
	r.tickAt(0, 100, 0, 100)
	if got := drain(t, tab); !slices.Equal(got, []string{wire.MsgStock}) {
		t.Errorf("a tab welcomed with other counters than the room's was told %v, want the stock", got)
	}
}

// TestACountingTabIsToldTheStockWithItsPositionNotAlone: in a moving sale
// the stock changes each tick; a waiting tab whose position falls is told
// it with its position, at least every farBackTicks, and never alone on a
// clock of its own, which wrote it between two of its positions for a
// figure the next would carry. The stock's flags (all held, none left)
// still go at once.
func TestACountingTabIsToldTheStockWithItsPositionNotAlone(t *testing.T) {
	r := bareRoom(t)
	c := r.toldTab("v_far", connWaiting)
	c.ticket = 50_000
	var mark int64
	lastStock := 0
	for tick := 1; tick <= 40; tick++ {
		r.tickAt(mark, 100_000, 100_000-mark, 0)
		got := drain(t, c)
		if slices.Contains(got, wire.MsgStock) {
			if !slices.Contains(got, wire.MsgPosition) && tick > 1 {
				t.Fatalf("tick %d: the stock was told alone to a tab whose position falls: %v", tick, got)
			}
			if tick-lastStock > farBackTicks {
				t.Fatalf("tick %d: the stock went untold for %d ticks", tick, tick-lastStock)
			}
			lastStock = tick
		}
		mark += 1_000
	}
	r.tickAt(mark, 100_000, 0, 100_000-mark)
	if got := drain(t, c); !slices.Contains(got, wire.MsgStock) {
		t.Errorf("every unit held, a counting tab was told %v, want the stock at once", got)
	}
}

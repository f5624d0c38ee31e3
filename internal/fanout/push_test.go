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

// TestAPositionFarBackIsToldWhenItFallsAHundredthOrAfterFiveTicks: near
// the front every fall is told at once; far back a fall of less than a
// hundredth waits, at most farBackTicks, and the stock waits with it.
func TestAPositionFarBackIsToldWhenItFallsAHundredthOrAfterFiveTicks(t *testing.T) {
	r := bareRoom(t)
	near := r.toldTab("v_near", connWaiting)
	near.ticket = 1_000
	far := r.toldTab("v_far", connWaiting)
	far.ticket = 50_000

	r.tickAt(0, 100_000, 100_000, 0)
	if positionOf(t, near.queue) != 1_000 || positionOf(t, far.queue) != 50_000 {
		t.Fatalf("first tick: near told %d, far told %d; want their places", positionOf(t, near.queue), positionOf(t, far.queue))
	}
	drain(t, near)
	drain(t, far)

	mark, left := int64(0), int64(100_000)
	for i := 1; i < farBackTicks; i++ {
		mark, left = mark+100, left-100 // far back falls by a fifth of a hundredth a tick
		r.tickAt(mark, 100_000, left, 0)
		if got := positionOf(t, near.queue); got != 1_000-mark {
			t.Errorf("tick %d: the tab near the front was told %d, want %d", i, got, 1_000-mark)
		}
		drain(t, near)
		if got := drain(t, far); len(got) != 0 {
			t.Errorf("tick %d: a tab far back was told %v of a fall of %d", i, got, mark)
		}
	}
	mark, left = mark+100, left-100
	r.tickAt(mark, 100_000, left, 0)
	if got := types(t, far.queue); !slices.Equal(got, []string{wire.MsgStock, wire.MsgPosition}) || positionOf(t, far.queue) != 50_000-mark {
		t.Errorf("after %d ticks far back was told %v, position %d; want stock and position %d", farBackTicks, got, positionOf(t, far.queue), 50_000-mark)
	}
	drain(t, far)

	mark, left = mark+600, left-600 // more than a hundredth of 49,500 in one tick
	r.tickAt(mark, 100_000, left, 0)
	if got := positionOf(t, far.queue); got != 50_000-mark {
		t.Errorf("a fall of a hundredth far back was told %d, want %d at once", got, 50_000-mark)
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

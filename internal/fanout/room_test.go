package fanout

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/foyerhq/foyer/internal/wire"
	"github.com/foyerhq/foyer/waitingroom"
)

// TestPlacingAShopperAdmittedBeforeItsTabCameInAsksForItsReservation: a new
// shopper joins before its connection enters the room, so the admitted
// event can come between the two and tell none of its tabs. place must say
// so, for the caller to look the reservation up; a tab the event did tell
// needs nothing more.
func TestPlacingAShopperAdmittedBeforeItsTabCameInAsksForItsReservation(t *testing.T) {
	r := &Room{shoppers: map[string][]*Conn{}, positions: waitingroom.NewPositions(waitingroom.View{Mark: 5})}
	late := &Conn{shopper: "late", status: connIdle}
	r.shoppers["late"] = []*Conn{late}
	if r.Place("late", 3, 1, nil, "") {
		t.Error("a tab that missed its admission was taken for told")
	}
	told := &Conn{shopper: "told", status: connAdmitted, reservation: "r_x_3"}
	r.shoppers["told"] = []*Conn{told}
	if !r.Place("told", 3, 1, nil, "") {
		t.Error("a tab the admitted event told asks for its reservation again")
	}
	if told.status != connAdmitted || late.status != connIdle {
		t.Error("placing a ticket already admitted changed a tab")
	}
}

// TestARoomRetellsTheStateToATabThatCameInAfterItChanged: the room tells
// changes, so a tab whose welcome was made from a status read just before
// the sale sold out would go on waiting in a sold-out sale. The next push
// tells it the state and that it lost out; a tab that heard the change is
// told nothing again.
func TestARoomRetellsTheStateToATabThatCameInAfterItChanged(t *testing.T) {
	r := &Room{conns: map[*Conn]struct{}{}, shoppers: map[string][]*Conn{},
		positions: waitingroom.NewPositions(waitingroom.View{}), state: waitingroom.StateSoldOut}
	late := &Conn{shopper: "late", status: connWaiting, ticket: 7, told: waitingroom.StateOpen, scheduled: true}
	heard := &Conn{shopper: "heard", status: connIdle, told: waitingroom.StateSoldOut, scheduled: true}
	for _, c := range []*Conn{late, heard} {
		r.conns[c] = struct{}{}
		r.shoppers[c.shopper] = []*Conn{c}
	}
	r.stock = StockMsg{Type: wire.MsgStock, Total: 10, Sold: 10}
	r.push(waitingroom.Status{State: waitingroom.StateSoldOut, Stock: 10, Sold: 10})

	if got := types(t, late.queue); !slices.Equal(got, []string{wire.MsgState, wire.MsgSoldOut}) {
		t.Errorf("the late tab was told %v, want the state then sold_out", got)
	}
	if late.status != connIdle || late.told != waitingroom.StateSoldOut {
		t.Errorf("the late tab is %v, told %s", late.status, late.told)
	}
	if len(heard.queue) != 0 {
		t.Errorf("a tab that heard the change was told %v again", types(t, heard.queue))
	}
}

func types(t *testing.T, msgs [][]byte) []string {
	t.Helper()
	var out []string
	for _, m := range msgs {
		var v struct{ Type string }
		if err := json.Unmarshal(m, &v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v.Type)
	}
	return out
}

// TestATabToldItsReservationWhileItsJoinWasAnsweredIsNotToldItTwice: a join
// reaches the queue, and before its answer is shown the admitter lets the
// shopper out and the admitted event tells the tab. The join's answer is
// that message: telling it again (a second token for the same hold) made a
// client check out twice and be refused token_reused (seen in CI). A tab
// that knew the reservation before it asked is answered with it again.
func TestATabToldItsReservationWhileItsJoinWasAnsweredIsNotToldItTwice(t *testing.T) {
	r := bareRoom(t)
	tab := r.heldTab("v_race", connIdle)
	knew := r.Asking(tab)
	res := waitingroom.Reservation{ID: "r_bare_1", Shopper: "v_race", Ticket: 1, Status: "held"}
	r.admitted(waitingroom.Event{Type: waitingroom.EventAdmitted, Mark: 1, Admitted: []waitingroom.Reservation{res}})
	if got := types(t, tab.queue); !slices.Equal(got, []string{wire.MsgAdmitted}) {
		t.Fatalf("the admitted event told the tab %v", got)
	}
	if !r.Place("v_race", 1, 1, tab, knew) {
		t.Error("placing the join's ticket asks for a reservation the tab was told since it asked")
	}
	r.Reservation("v_race", res, tab, knew, OrderNow{})
	if got := types(t, tab.queue); len(got) != 1 {
		t.Errorf("the tab was told %v: its join's answer twice", got)
	}

	// It asks again (a resume): it knew the reservation, so it is answered.
	knew = r.Asking(tab)
	if r.Place("v_race", 1, 1, tab, knew) {
		t.Error("a tab asking where it stands was taken for answered")
	}
	r.Reservation("v_race", res, tab, knew, OrderNow{})
	if got := types(t, tab.queue); !slices.Equal(got, []string{wire.MsgAdmitted, wire.MsgAdmitted}) {
		t.Errorf("a resume was answered with %v after the first admitted, want admitted again", got[1:])
	}
}
